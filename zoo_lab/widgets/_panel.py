"""Wiring shared by every panel: controls -> one plain update function -> figure + status line.

Two behaviours every panel gets from here:

* **slow updates** (the last one took more than ``slow_ms``): the status line says
  "computing…" before the work starts, and inside a running kernel rapid changes are
  coalesced, so only the latest control values are computed (no queue of stale work);
* **hand-outs**: with ``ZOO_LAB_HANDOUT=1`` in the environment (set by ``zoo-lab run``),
  a panel's output also carries a static copy of its figure, because a live
  ``FigureWidget`` cannot be shown in an HTML file without a widget manager from a CDN.
"""

from __future__ import annotations

import asyncio
import html
import os
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W

HANDOUT_ENV = "ZOO_LAB_HANDOUT"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
SLOW_MS = 200.0


def handout_mode() -> bool:
    """True when rendering a hand-out (``ZOO_LAB_HANDOUT=1``): panels add a static figure."""
    return os.environ.get(HANDOUT_ENV, "").strip().lower() in ("1", "true", "yes")


def static_figure_bundle(fig) -> dict[str, Any]:
    """The plotly mime bundle of a static ``go.Figure`` copy of ``fig`` (no plotly.js inside)."""
    import plotly.graph_objects as go

    static = go.Figure(fig)
    html_div = static.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False)
    return {PLOTLY_MIME: static.to_plotly_json(), "text/html": html_div}


def status_line() -> W.HTML:
    """An HTML line under a panel's figure for numbers, timings and error messages."""
    return W.HTML(value="", layout=W.Layout(min_height="1.6em"))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread (a Jupyter kernel's), or None (plain Python, tests)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def wire(controls: dict[str, W.ValueWidget], update: Callable[..., str | None],
         status: W.HTML, *, slow_ms: float = SLOW_MS,
         debounce_s: float = 0.05) -> Callable[[], None]:
    """Call ``update(**values)`` now and whenever a control changes; show its text or error in ``status``.

    ``update`` is the panel's plain update function with the figure already
    bound; it returns a short HTML summary. Errors are shown to the learner
    in the status line instead of disappearing into the kernel log.
    Once an update has taken more than ``slow_ms``, later changes first show
    "computing…" and, when they come from the browser inside a running kernel, are
    coalesced over ``debounce_s`` so that only the latest values are computed.
    Changes made by code (``control.value = v`` in a cell, tests, scripts) always
    update synchronously, so the next line sees the new figure.
    Returns the refresh function (tests call it directly; it always runs now).
    """
    state = {"last_ms": 0.0, "pending": None}

    def refresh(_change=None) -> None:
        values = {k: c.value for k, c in controls.items()}
        t0 = time.perf_counter()
        try:
            text = update(**values) or ""
        except (ValueError, TypeError, RuntimeError) as exc:
            status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return
        finally:
            state["last_ms"] = 1e3 * (time.perf_counter() - t0)
        status.value = f"{text} <span style='color:#888'>({state['last_ms']:.0f} ms)</span>"

    def run_pending() -> None:
        state["pending"] = None
        refresh()

    def from_frontend() -> bool:  # ipywidgets locks a property while applying a browser update
        return any(getattr(c, "_property_lock", None) for c in controls.values())

    def on_change(_change=None) -> None:
        if state["last_ms"] <= slow_ms:
            refresh()
            return
        status.value = ("<span style='color:#b60'>computing… (last update took "
                        f"{state['last_ms']:.0f} ms)</span>")
        loop = _running_loop()
        if loop is None or not from_frontend():  # code setting .value sees the result at once
            refresh()
        elif state["pending"] is None:  # coalesce: one scheduled run reads the latest values
            state["pending"] = loop.call_later(debounce_s, run_pending)

    for c in controls.values():
        c.observe(on_change, names="value")
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


class Panel(W.VBox):
    """A panel's box: a VBox whose output also carries a static figure copy in hand-out mode."""

    def _repr_mimebundle_(self, **kwargs) -> dict[str, Any] | None:
        """The widget view; plus the figure as a static plotly bundle when rendering a hand-out."""
        data = super()._repr_mimebundle_(**kwargs)
        fig = getattr(self, "figure", None)
        if data is not None and handout_mode() and hasattr(fig, "to_plotly_json"):
            data = {**data, **static_figure_bundle(fig)}
        return data


def assemble(rows: list, status: W.HTML, fig, controls: dict, refresh=None) -> W.VBox:
    """Stack control rows, status line and figure; keep handles for tests and power users.

    The returned box (a :class:`Panel`) carries ``.controls`` (name -> widget),
    ``.figure``, ``.status`` and ``.refresh``.
    """
    box = Panel([*rows, status, fig])
    box.controls, box.figure, box.status, box.refresh = controls, fig, status, refresh
    return box
