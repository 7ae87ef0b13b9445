"""Wiring shared by every panel: controls -> one plain update function -> figure + status line.

What every panel gets from here:

* **one update at a time**: changes made in the browser inside a running kernel are
  computed by one worker thread per panel, so the kernel keeps receiving messages;
  while it works, newer requests replace older ones (outdated ones are dropped, never
  drawn), and the worker finishes on the latest control values;
* **a figure that never lies**: while the figure does not show the current choice it is
  greyed (CSS class ``zoo-lab-stale``) and the status line counts "computing… N s" live;
  after an error the figure stays greyed and the status says it shows the previous setting;
* **late first draw**: a figure whose view was created off-screen (Run All) and never drew
  is re-attached, so it draws, when the panel scrolls into view (:class:`VisibilityWatch`);
* **hand-outs**: with ``ZOO_LAB_HANDOUT=1`` in the environment (set by ``zoo-lab run``),
  a panel's output also carries a static copy of its figure, because a live
  ``FigureWidget`` cannot be shown in an HTML file without a widget manager from a CDN.

Changes made by code (``control.value = v`` in a cell, tests, scripts) update
synchronously, so the next line sees the new figure.
"""

from __future__ import annotations

import asyncio
import html
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as W
import traitlets

HANDOUT_ENV = "ZOO_LAB_HANDOUT"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
SLOW_MS = 200.0
STALE_CLASS = "zoo-lab-stale"
PANEL_CLASS = "zoo-lab-panel"
# Greying is pure CSS on the figure's box, so marking stale costs one small message.
_STYLE = (f"<style>.{STALE_CLASS} {{opacity: 0.4; filter: grayscale(1); transition: opacity .15s;}}"
          ".zoo-lab-figure {max-width: 100%; overflow: hidden;}</style>")


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
    line = W.HTML(value="", layout=W.Layout(min_height="1.6em"))
    line.add_class("zoo-lab-status")
    return line


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread (a Jupyter kernel's), or None (plain Python, tests)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _seconds(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1e3:.1f} s"


class Wiring:
    """The update machinery of one panel (made by :func:`wire`); calling it refreshes now."""

    def __init__(self, controls: dict[str, W.ValueWidget], update: Callable[..., str | None],
                 status: W.HTML, slow_ms: float, debounce_s: float, tick_s: float,
                 estimate: Callable[..., float | None] | None,
                 cost: Callable[..., float] | None = None) -> None:
        self.controls, self.update, self.status = controls, update, status
        self.slow_ms, self.debounce_s, self.tick_s, self.estimate = slow_ms, debounce_s, tick_s, estimate
        self.cost = cost
        self.s_per_unit: float | None = None  # measured seconds per unit of ``cost``
        self.last_ms = 0.0
        self.requested = 0  # generation of the latest request
        self.drawn: int | None = None  # generation whose figure is shown (None: error / never)
        self.stale_view: W.DOMWidget | None = None  # the box greyed while stale (set by assemble)
        self._run_lock = threading.Lock()  # one update at a time, worker or synchronous
        self._state_lock = threading.Lock()
        self.finished = 0  # generation of the last update that ended (drawn or failed)
        self._worker: threading.Thread | None = None
        self._busy_since = 0.0

    # ------------------------------------------------------------------ state shown
    def _set_stale(self, stale: bool) -> None:
        view = self.stale_view
        if view is None:
            return
        if stale and STALE_CLASS not in view._dom_classes:
            view.add_class(STALE_CLASS)
        elif not stale and STALE_CLASS in view._dom_classes:
            view.remove_class(STALE_CLASS)

    @property
    def stale(self) -> bool:
        """True while the figure does not show the latest requested control values."""
        return self.drawn != self.requested

    def expected_s(self, values: dict) -> float | None:
        """Expected seconds of an update at ``values``: ``estimate``, or ``cost`` x measured rate."""
        try:
            if self.estimate is not None:
                return self.estimate(**values)
            if self.cost is not None and self.s_per_unit is not None:
                return self.cost(**values) * self.s_per_unit
        except (ValueError, TypeError, KeyError):
            return None
        return None

    def _computing_text(self, elapsed_s: float) -> str:
        guess = self.expected_s({k: c.value for k, c in self.controls.items()})
        hint = (f"; this setting takes ~{guess:.0f} s" if guess is not None and guess >= 1.0 else
                f"; last update took {_seconds(self.last_ms)}" if self.last_ms else "")
        return (f"<span style='color:#b60'>computing… {elapsed_s:.1f} s{hint}</span>")

    # ------------------------------------------------------------------ running
    def _run(self, gen: int) -> None:
        """Compute the current control values (request ``gen``) and show result or error."""
        values = {k: c.value for k, c in self.controls.items()}
        units = None
        if self.cost is not None:
            try:
                units = float(self.cost(**values))  # before the update fills any cache
            except (ValueError, TypeError, KeyError):
                units = None
        t0 = time.perf_counter()
        try:
            text = self.update(**values) or ""
        except (ValueError, TypeError, RuntimeError) as exc:
            with self._state_lock:  # the ticker writes the status under this lock too
                self.last_ms = 1e3 * (time.perf_counter() - t0)
                self.drawn, self.finished = None, gen
                self._set_stale(True)
                self.status.value = (f"<span style='color:#b00'>{html.escape(str(exc))}</span> "
                                     "<span style='color:#888'>(the greyed figure shows the "
                                     "previous setting)</span>")
            return
        with self._state_lock:
            self.last_ms = 1e3 * (time.perf_counter() - t0)
            if units is not None and units > 0:  # learn this machine's speed, smoothed
                rate = self.last_ms / 1e3 / units
                self.s_per_unit = rate if self.s_per_unit is None else 0.5 * (self.s_per_unit + rate)
            self.drawn, self.finished = gen, gen
            if gen == self.requested:  # else a newer request is pending: stay greyed for it
                self._set_stale(False)
                self.status.value = f"{text} <span style='color:#888'>({_seconds(self.last_ms)})</span>"

    def __call__(self, _change=None) -> None:
        """Recompute now, in this thread, with the current control values (tests call this)."""
        with self._state_lock:
            self.requested += 1
            gen = self.requested
        with self._run_lock:
            with self._state_lock:
                if gen != self.requested:  # a newer request came in while waiting for the lock
                    return
            self._run(gen)

    def _work(self) -> None:
        """Worker thread: run the latest request until no newer one is pending, then exit."""
        try:
            while True:
                time.sleep(self.debounce_s)  # let a burst of changes settle
                with self._state_lock:
                    gen = self.requested
                    if self.finished == gen:  # a synchronous refresh already did it
                        self._worker = None  # decided under the lock, so no request is orphaned
                        return
                with self._run_lock:
                    try:
                        self._run(gen)
                    except Exception as exc:  # noqa: BLE001 - a thread's error has nowhere else to go
                        with self._state_lock:
                            self.drawn, self.finished = None, gen
                            self._set_stale(True)
                            self.status.value = (f"<span style='color:#b00'>{type(exc).__name__}: "
                                                 f"{html.escape(str(exc))}</span>")
                with self._state_lock:
                    if self.requested == gen:
                        self._worker = None
                        return
        finally:
            with self._state_lock:  # never leave a dead worker registered: the panel would freeze
                if self._worker is threading.current_thread():
                    self._worker = None

    def _tick(self) -> None:
        """Ticker thread: refresh "computing… N s" while a request is unfinished."""
        while True:
            time.sleep(self.tick_s)
            with self._state_lock:
                if self._worker is None or self.finished == self.requested:
                    return
                self.status.value = self._computing_text(time.perf_counter() - self._busy_since)

    def on_change(self, _change=None) -> None:
        """A control changed: update synchronously, or hand the request to the worker thread."""
        from_frontend = any(getattr(c, "_property_lock", None) for c in self.controls.values())
        in_kernel = _running_loop() is not None
        with self._state_lock:
            worker_alive = self._worker is not None
        if not (from_frontend and in_kernel) and not worker_alive:
            guess = self.expected_s({k: c.value for k, c in self.controls.items()})
            if self.last_ms > self.slow_ms or (guess or 0.0) * 1e3 > self.slow_ms:  # say so first
                self._set_stale(True)
                self.status.value = self._computing_text(0.0)
            self()
            return
        guess = self.expected_s({k: c.value for k, c in self.controls.items()})
        if self.last_ms <= self.slow_ms and (guess or 0.0) * 1e3 <= self.slow_ms and not worker_alive:
            self()  # cheap: run at once
            return
        with self._state_lock:
            self.requested += 1
            start = self._worker is None
            if start:
                self._worker = threading.Thread(target=self._work, daemon=True,
                                                name="zoo-lab-panel-update")
                self._busy_since = time.perf_counter()
            self._set_stale(True)
            self.status.value = self._computing_text(time.perf_counter() - self._busy_since)
        if start:
            self._worker.start()
            threading.Thread(target=self._tick, daemon=True, name="zoo-lab-panel-tick").start()

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no worker runs (for tests and scripts); True if it finished in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._state_lock:
                if self._worker is None:
                    return True
            time.sleep(0.01)
        return False


def wire(controls: dict[str, W.ValueWidget], update: Callable[..., str | None],
         status: W.HTML, *, slow_ms: float = SLOW_MS, debounce_s: float = 0.05,
         tick_s: float = 0.5, estimate: Callable[..., float | None] | None = None,
         cost: Callable[..., float] | None = None) -> Wiring:
    """Call ``update(**values)`` now and whenever a control changes; show its text or error in ``status``.

    ``update`` is the panel's plain update function with the figure already
    bound; it returns a short HTML summary. Errors (ValueError, TypeError,
    RuntimeError) are shown in the status line instead of disappearing into the
    kernel log. Browser changes inside a kernel that are slow (the last update took
    more than ``slow_ms``) run in one worker thread; a burst is settled over
    ``debounce_s`` and only the latest values are computed. ``estimate(**values)``
    may return the expected seconds of a setting, shown as "this setting takes ~N s";
    or ``cost(**values)`` its relative work (0 when cached), scaled by the seconds per
    unit measured on this machine's earlier updates. Returns the :class:`Wiring`; calling it recomputes synchronously.
    """
    wiring = Wiring(controls, update, status, slow_ms, debounce_s, tick_s, estimate, cost)
    for c in controls.values():
        c.observe(wiring.on_change, names="value")
    wiring()
    return wiring


def dropdown(options, value, description: str) -> W.Dropdown:
    """A labelled dropdown."""
    return W.Dropdown(options=list(options), value=value, description=description,
                      style={"description_width": "initial"})


def axis_dropdown(dim: int, value: int, description: str) -> W.Dropdown:
    """A dropdown of axes labelled x1 … xd (1-based, as in titles) whose values are 0-based indices."""
    return W.Dropdown(options=axis_options(dim), value=value, description=description,
                      style={"description_width": "initial"})


def axis_options(dim: int) -> list[tuple[str, int]]:
    """Dropdown options ``("x1", 0) … ("xd", d - 1)``."""
    return [(f"x{k + 1}", k) for k in range(int(dim))]


def int_slider(value: int, lo: int, hi: int, description: str, step: int = 1) -> W.IntSlider:
    """A labelled integer slider that updates on release (continuous_update=False)."""
    return W.IntSlider(value=value, min=lo, max=hi, step=step, description=description,
                       continuous_update=False, style={"description_width": "initial"})


def selection_slider(options, value, description: str, labels=None) -> W.SelectionSlider:
    """A labelled slider over fixed values (e.g. recorded settings), at the option nearest ``value``.

    Nearest is on a log scale when both are positive (λ decades, label counts), else absolute.
    """
    opts = list(options)
    near = min(opts, key=lambda o: abs(math.log10(o / value)) if value > 0 and o > 0 else abs(o - value))
    shown = list(zip(labels, opts, strict=True)) if labels else [(str(o), o) for o in opts]
    return W.SelectionSlider(options=shown, value=near, description=description,
                             continuous_update=False, style={"description_width": "initial"})


def float_log_slider(value: float, lo_exp: float, hi_exp: float, description: str) -> W.FloatLogSlider:
    """A labelled log-scale slider (base 10) that updates on release."""
    return W.FloatLogSlider(value=value, base=10, min=lo_exp, max=hi_exp, step=0.25,
                            description=description, continuous_update=False,
                            readout_format=".1e", style={"description_width": "initial"})


class VisibilityWatch(anywidget.AnyWidget):
    """An invisible marker that tells the kernel when its panel scrolls into view.

    The browser reports whether the panel's plotly figure has drawn; a figure whose view
    was created off-screen and never drew (seen after Run All) is re-attached then.
    """

    _esm = """
    function render({ model, el }) {
      el.style.height = "1px";
      let timer = null, tries = 0, inView = false;
      const drawn = () => {
        const panel = el.closest(".zoo-lab-panel");
        const gd = panel && panel.querySelector(".js-plotly-plot");
        const svg = gd && gd.querySelector(".main-svg");
        // drawn = laid out at a real size (a view created off-screen can be 0 px wide or blank)
        return !!(gd && gd._fullLayout && svg && gd.clientWidth > 50 &&
                  svg.getBoundingClientRect().width > 50 && gd.querySelector(".trace, .hm"));
      };
      // Give a fresh view time to draw: report "not drawn" only after three failed checks
      // over ~5 s in view (a view still loading must not be replaced), "drawn" at once.
      const check = () => {
        timer = null;
        if (!inView) return;  // off-screen content may be unlaid-out: judge only in view
        if (drawn()) { model.send({ event: "visible", drawn: true }); io.disconnect(); return; }
        tries += 1;
        if (tries % 3 === 0) model.send({ event: "visible", drawn: false });
        if (tries < 9) timer = setTimeout(check, 2000);
      };
      const io = new IntersectionObserver((entries) => {
        inView = entries.some((e) => e.isIntersecting);
        if (inView && timer === null) timer = setTimeout(check, 1000);
      });
      io.observe(el);
      return () => { io.disconnect(); if (timer !== null) clearTimeout(timer); };
    }
    export default { render };
    """
    reports = traitlets.Int(0).tag(sync=False)  # how many "visible" messages arrived

    def __init__(self, on_undrawn: Callable[[], None]) -> None:
        super().__init__()
        self._on_undrawn = on_undrawn
        self.on_msg(self._handle)

    def _handle(self, _widget, content, _buffers) -> None:
        """A message from the browser: re-attach the figure if it is visible but not drawn."""
        if isinstance(content, dict) and content.get("event") == "visible":
            self.reports += 1
            if not content.get("drawn", True):
                self._on_undrawn()


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
    ``.figure``, ``.figure_box`` (greyed while stale), ``.status`` and ``.refresh``.
    """
    figure_box = W.Box([fig], layout=W.Layout(width="100%", max_width="100%"))
    figure_box.add_class("zoo-lab-figure")

    def reattach() -> None:  # a fresh view of the same model draws from the current state
        figure_box.children = ()
        figure_box.children = (fig,)

    watch = VisibilityWatch(reattach)
    box = Panel([W.HTML(_STYLE), *rows, status, figure_box, watch])
    box.add_class(PANEL_CLASS)
    box.controls, box.figure, box.status, box.refresh = controls, fig, status, refresh
    box.figure_box, box.visibility = figure_box, watch
    if isinstance(refresh, Wiring):
        refresh.stale_view = figure_box
        refresh._set_stale(refresh.stale)
    return box
