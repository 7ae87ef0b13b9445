"""Wiring shared by every panel: controls -> one plain update function -> figure + status line."""

from __future__ import annotations

import html
import time
from collections.abc import Callable

import ipywidgets as W


def status_line() -> W.HTML:
    """An HTML line under a panel's figure for numbers, timings and error messages."""
    return W.HTML(value="", layout=W.Layout(min_height="1.6em"))


def wire(controls: dict[str, W.ValueWidget], update: Callable[..., str | None],
         status: W.HTML) -> Callable[[], None]:
    """Call ``update(**values)`` now and whenever a control changes; show its text or error in ``status``.

    ``update`` is the panel's plain update function with the figure already
    bound; it returns a short HTML summary. Errors are shown to the learner
    in the status line instead of disappearing into the kernel log.
    Returns the refresh function (tests call it directly).
    """

    def refresh(_change=None) -> None:
        values = {k: c.value for k, c in controls.items()}
        t0 = time.perf_counter()
        try:
            text = update(**values) or ""
        except (ValueError, TypeError, RuntimeError) as exc:
            status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return
        ms = 1e3 * (time.perf_counter() - t0)
        status.value = f"{text} <span style='color:#888'>({ms:.0f} ms)</span>"

    for c in controls.values():
        c.observe(refresh, names="value")
    refresh()
    return refresh


def dropdown(options, value, description: str) -> W.Dropdown:
    """A labelled dropdown."""
    return W.Dropdown(options=list(options), value=value, description=description,
                      style={"description_width": "initial"})


def int_slider(value: int, lo: int, hi: int, description: str, step: int = 1) -> W.IntSlider:
    """A labelled integer slider that updates on release (continuous_update=False)."""
    return W.IntSlider(value=value, min=lo, max=hi, step=step, description=description,
                       continuous_update=False, style={"description_width": "initial"})


def float_log_slider(value: float, lo_exp: float, hi_exp: float, description: str) -> W.FloatLogSlider:
    """A labelled log-scale slider (base 10) that updates on release."""
    return W.FloatLogSlider(value=value, base=10, min=lo_exp, max=hi_exp, step=0.25,
                            description=description, continuous_update=False,
                            readout_format=".1e", style={"description_width": "initial"})


def assemble(rows: list, status: W.HTML, fig, controls: dict, refresh=None) -> W.VBox:
    """Stack control rows, status line and figure; keep handles for tests and power users.

    The returned box carries ``.controls`` (name -> widget), ``.figure``,
    ``.status`` and ``.refresh``.
    """
    box = W.VBox([*rows, status, fig])
    box.controls, box.figure, box.status, box.refresh = controls, fig, status, refresh
    return box
