"""widgets._panel: one update at a time, latest choice wins, stale figures greyed; hand-outs."""

from __future__ import annotations

import asyncio
import json
import queue
import time

import ipywidgets as W
import plotly.graph_objects as go
import pytest

from zoo_lab.widgets._panel import (
    HANDOUT_ENV,
    PLOTLY_MIME,
    STALE_CLASS,
    assemble,
    int_slider,
    status_line,
    wire,
)


def _slow_wiring(delay_s: float = 0.0, slow_ms: float = 0.0):
    slider = int_slider(0, 0, 100, "v")
    status = status_line()
    calls: list[int] = []

    def update(v: int) -> str:
        calls.append(v)
        time.sleep(delay_s)
        return f"v = {v}"

    refresh = wire({"v": slider}, update, status, slow_ms=slow_ms, debounce_s=0.01)
    return slider, status, calls, refresh


def test_without_event_loop_every_change_updates_at_once():
    slider, status, calls, _ = _slow_wiring()
    for v in (1, 2, 3):
        slider.value = v
    assert calls == [0, 1, 2, 3]
    assert status.value.startswith("v = 3")


def test_in_a_running_loop_slow_changes_coalesce_to_the_latest():
    import threading

    async def scenario() -> tuple[list[int], str, str]:
        slider = int_slider(0, 0, 100, "v")
        status = status_line()
        calls: list[int] = []
        gate = threading.Event()

        def update(v: int) -> str:
            calls.append(v)
            if v == 1:  # hold the worker busy until the next two moves have arrived
                gate.wait(10)
            return f"v = {v}"

        refresh = wire({"v": slider}, update, status, slow_ms=0.0, debounce_s=0.01)
        slider.set_state({"value": 1})
        for _ in range(500):
            if 1 in calls:
                break
            await asyncio.sleep(0.01)
        slider.set_state({"value": 2})  # two moves while the worker computes v = 1
        slider.set_state({"value": 3})
        shown = status.value
        gate.set()
        assert refresh.wait(10)
        refresh()  # the plain refresh path stays synchronous
        return calls, shown, status.value

    calls, shown, final = asyncio.run(scenario())
    assert "computing" in shown
    assert calls == [0, 1, 3, 3]  # v = 2 was outdated before it could start: dropped
    assert final.startswith("v = 3")


def test_fast_updates_and_code_changes_stay_synchronous_in_a_loop():
    async def scenario() -> tuple[list[int], list[int]]:
        slider, _status, fast_calls, _ = _slow_wiring(slow_ms=1e6)
        slider.set_state({"value": 5})
        slider, status, slow_calls, _ = _slow_wiring()
        slider.value = 7  # a cell setting a control: the next line must see the result
        assert status.value.startswith("v = 7")
        return fast_calls, slow_calls

    assert asyncio.run(scenario()) == ([0, 5], [0, 7])


def test_handout_mode_adds_a_static_figure(monkeypatch):
    fig = go.FigureWidget(go.Figure(go.Scatter(x=[0, 1], y=[1, 0])))
    box = assemble([], status_line(), fig, {}, None)
    monkeypatch.delenv(HANDOUT_ENV, raising=False)
    assert PLOTLY_MIME not in box._repr_mimebundle_()
    monkeypatch.setenv(HANDOUT_ENV, "1")
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert list(bundle[PLOTLY_MIME]["data"][0]["x"]) == [0, 1]
    assert "plotly-graph-div" in bundle["text/html"] and "cdn" not in bundle["text/html"]
    assert isinstance(box, W.VBox) and box.figure is fig


def _panel_with_worker(delay_s: float, fail_on: int | None = None, tick_s: float = 0.5,
                       estimate=None):
    """A panel whose update sleeps ``delay_s`` and records (value, start, end) of every call."""
    slider = int_slider(0, 0, 100, "v")
    status = status_line()
    fig = go.FigureWidget(go.Figure(go.Scatter(x=[0], y=[0])))
    calls: list[tuple[int, float, float]] = []

    def update(v: int) -> str:
        t0 = time.perf_counter()
        time.sleep(delay_s)
        if v == fail_on:
            calls.append((v, t0, time.perf_counter()))
            raise ValueError(f"v: {v} is not allowed")
        fig.data[0].y = [v]
        calls.append((v, t0, time.perf_counter()))
        return f"v = {v}"

    wiring = wire({"v": slider}, update, status, slow_ms=0.0, debounce_s=0.02, tick_s=tick_s,
                  estimate=estimate)
    panel = assemble([slider], status, fig, {"v": slider}, wiring)
    return slider, panel, calls


def test_rapid_browser_changes_end_on_the_last_choice_one_update_at_a_time():
    async def scenario():
        slider, panel, calls = _panel_with_worker(0.15)
        greyed = []
        for v in (1, 2, 3, 4, 5):  # five picks while the first ones compute
            slider.set_state({"value": v})
            greyed.append(STALE_CLASS in panel.figure_box._dom_classes)
            await asyncio.sleep(0.005)
        computing = panel.status.value
        assert panel.refresh.wait(10)
        return slider, panel, calls, greyed, computing

    slider, panel, calls, greyed, computing = asyncio.run(scenario())
    values = [v for v, _, _ in calls]
    assert values[0] == 0 and values[-1] == 5, values
    assert len(values) < 6, f"outdated requests were not dropped: {values}"
    assert values == sorted(values), f"an older choice was drawn after a newer one: {values}"
    for (_, _, end), (_, start, _) in zip(calls[:-1], calls[1:], strict=True):  # one at a time
        assert start >= end
    assert all(greyed) and "computing" in computing
    assert list(panel.figure.data[0].y) == [5] and panel.status.value.startswith("v = 5")
    assert STALE_CLASS not in panel.figure_box._dom_classes and not panel.refresh.stale


def test_status_counts_seconds_live_and_shows_the_estimate():
    async def scenario():
        slider, panel, _ = _panel_with_worker(0.5, tick_s=0.05, estimate=lambda v: 2.0 * v)
        seen = []
        panel.status.observe(lambda ch: seen.append(ch["new"]), names="value")
        slider.set_state({"value": 3})
        assert panel.refresh.wait(10)
        return seen

    seen = asyncio.run(scenario())
    ticks = [s for s in seen if "computing" in s]
    assert len(set(ticks)) >= 3, ticks  # the counter moved while the update ran
    assert all("this setting takes ~6 s" in s for s in ticks)
    assert seen[-1].startswith("v = 3")


def test_an_error_leaves_the_figure_greyed_until_a_good_setting_is_drawn():
    slider, panel, _ = _panel_with_worker(0.0, fail_on=13)
    slider.value = 13
    assert STALE_CLASS in panel.figure_box._dom_classes
    assert "not allowed" in panel.status.value and "previous setting" in panel.status.value
    assert list(panel.figure.data[0].y) == [0]
    slider.value = 14
    assert STALE_CLASS not in panel.figure_box._dom_classes
    assert list(panel.figure.data[0].y) == [14]


def test_a_visible_but_undrawn_figure_is_reattached():
    _slider, panel, _ = _panel_with_worker(0.0)
    changes = []
    panel.figure_box.observe(lambda ch: changes.append(len(ch["new"])), names="children")
    panel.visibility._handle(panel.visibility, {"event": "visible", "drawn": True}, [])
    assert changes == []
    panel.visibility._handle(panel.visibility, {"event": "visible", "drawn": False}, [])
    assert changes == [0, 1] and panel.figure_box.children == (panel.figure,)
    assert panel.visibility.reports == 2


@pytest.mark.slow
def test_kernel_coalesces_comm_updates_of_a_slow_panel():
    """In a real ipykernel, three slider messages to a 0.4 s update run it once, on the latest value."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        code = (
            "import time\n"
            "from zoo_lab.widgets._panel import int_slider, status_line, wire\n"
            "s = int_slider(0, 0, 100, 'v'); st = status_line(); calls = []\n"
            "def upd(v):\n    calls.append(v); time.sleep(0.4); return str(v)\n"
            "r = wire({'v': s}, upd, st, debounce_s=0.05)\n"
            "print(s.model_id)"
        )
        model_id = _execute(kc, code).strip()
        for v in (10, 20, 30):
            msg = kc.session.msg("comm_msg", {"comm_id": model_id, "data": {
                "method": "update", "state": {"value": v}, "buffer_paths": []}})
            kc.shell_channel.send(msg)
        time.sleep(0.2)
        out = _execute(kc, "time.sleep(1.0)\nprint(calls, st.value[:40])")
        calls = json.loads(out.split("]")[0] + "]")
        assert calls[0] == 0 and calls[-1] == 30, out
        assert len(calls) <= 3, f"changes were not coalesced: {out}"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _execute(kc, code: str, timeout: float = 60.0) -> str:
    """Run code in the kernel; return its stdout (bounded wait)."""
    msg_id = kc.execute(code)
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise RuntimeError("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)
    raise TimeoutError(f"kernel did not finish within {timeout} s")


def test_measured_cost_rate_announces_a_slow_setting_before_it_runs():
    slider = int_slider(1, 1, 100, "v")
    status = status_line()

    def update(v: int) -> str:
        time.sleep(0.05 * v)
        return f"v = {v}"

    wiring = wire({"v": slider}, update, status, cost=lambda v: float(v))
    assert 0.04 <= wiring.s_per_unit <= 0.5  # seconds per unit, measured on the first update
    seen = []
    status.observe(lambda ch: seen.append(ch["new"]), names="value")
    guess = wiring.expected_s({"v": 30})
    slider.value = 30
    assert guess >= 1.0 and f"this setting takes ~{guess:.0f} s" in seen[0]
    assert seen[-1].startswith("v = 30")
