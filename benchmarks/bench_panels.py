"""Update latency of every "Try it" panel over the WHOLE range of every control (p50/p95 per control).

Discovers every ``zl.widgets.*_explorer`` and builds it with its defaults. For each
control it visits values spread over the control's full range (every dropdown option;
``--points`` values from min to max of a slider, both ends included), one control at a
time with the others at their defaults, and times ``control.value = v`` (observer ->
update -> FigureWidget ``batch_update``, the learner's path; code changes run
synchronously, so the time is the whole update). Each value is visited once from a
different previous value, so per-setting caches only help where a learner would be
helped too (a control moved back to the default). No peer library exists for this,
so milliseconds are reported against the teaching targets: p95 <= 1 s for every
update, <= 150 ms for a cheap panel.

Run: .venv/bin/python benchmarks/bench_panels.py [--points 5] [--only NAME] [--append]
Writes benchmarks/results/panels.md (with the machine's load average: this CPU is shared).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import ipywidgets as W
import numpy as np
import torch

import zoo_lab as zl

CHEAP_P95_MS = 150.0
TARGET_P95_MS = 1000.0
RESULTS = Path(__file__).resolve().parent / "results" / "panels.md"


def explorers() -> list[str]:
    """Names of every panel factory ``zl.widgets.*_explorer``."""
    return sorted(n for n in dir(zl.widgets) if n.endswith("_explorer")
                  and callable(getattr(zl.widgets, n)))


def sweep_values(control: W.ValueWidget, points: int) -> list:
    """Values over the control's whole range: every option (dropdown, selection slider), or ``points`` from min to max."""
    if isinstance(control, W.Dropdown | W.ToggleButtons | W.RadioButtons | W.SelectionSlider):
        return list(control._options_values)
    if isinstance(control, W.Checkbox | W.ToggleButton):
        return [not control.value, control.value]
    if isinstance(control, W.FloatLogSlider):
        return [float(control.base ** e) for e in np.linspace(control.min, control.max, points)]
    if isinstance(control, W.IntSlider):
        raw = np.linspace(control.min, control.max, points)
        snapped = control.min + np.round((raw - control.min) / control.step) * control.step
        return sorted({int(min(v, control.max)) for v in snapped})
    if isinstance(control, W.FloatSlider):
        return [float(v) for v in np.linspace(control.min, control.max, points)]
    raise TypeError(f"control: no sweep for {type(control).__name__}")


def measure(name: str, points: int, skip: tuple[str, ...] = ()) -> list[dict]:
    """Build one panel with its defaults; time every control over its range (one row per control).

    ``skip`` holds ``"control=value"`` entries not to visit (reported in the table).
    """
    t0 = time.perf_counter()
    panel = getattr(zl.widgets, name)()
    build_ms = 1e3 * (time.perf_counter() - t0)
    rows = []
    for key, control in panel.controls.items():
        default = control.value
        times, errors, worst_value = [], 0, None
        skipped = [v for v in sweep_values(control, points) if f"{key}={v}" in skip]
        for v in sweep_values(control, points):
            if v == control.value or v in skipped:
                continue
            t0 = time.perf_counter()
            control.value = v
            ms = 1e3 * (time.perf_counter() - t0)
            if "color:#b00" in panel.status.value:
                errors += 1
            if not times or ms > max(times):
                worst_value = v
            times.append(ms)
        if control.value != default:
            control.value = default
        t = np.asarray(times) if times else np.array([np.nan])
        rows.append(dict(panel=name, control=key, build_ms=build_ms, n=len(times),
                         p50=float(np.percentile(t, 50)), p95=float(np.percentile(t, 95)),
                         max=float(t.max()), worst=worst_value, errors=errors, skipped=skipped))
        print(f"  {name}.{key}: p50 {rows[-1]['p50']:.0f} ms, p95 {rows[-1]['p95']:.0f} ms "
              f"(worst at {worst_value!r})", flush=True)
    return rows


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def table(rows: list[dict]) -> str:
    """The results as a markdown table, one row per (panel, control)."""
    lines = ["| panel | control | values | p50 ms | p95 ms | max ms | slowest at | errors shown | verdict "
             "| not visited |", "|---|---|---:|---:|---:|---:|---|---:|---|---|"]
    for r in rows:
        verdict = ("not measured" if not r["n"] else "cheap (<= 150 ms)" if r["p95"] <= CHEAP_P95_MS else
                   "ok (<= 1 s)" if r["p95"] <= TARGET_P95_MS else "OVER 1 s")
        lines.append(f"| {r['panel']} | {r['control']} | {r['n']} | {r['p50']:.0f} | {r['p95']:.0f} | "
                     f"{r['max']:.0f} | {_fmt(r['worst'])} | {r['errors']} | {verdict} | "
                     f"{', '.join(map(str, r.get('skipped', []))) or '–'} |")
    return "\n".join(lines)


def _load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def main(argv=None) -> int:
    """Measure every panel, print the table and save it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=5, help="values per slider, ends included (default 5)")
    ap.add_argument("--only", action="append", help="panel name(s) to measure")
    ap.add_argument("--skip", action="append", default=[],
                    help="'control=value' not to visit (e.g. a setting the panel announces as slow)")
    ap.add_argument("--append", action="store_true", help="add rows to the saved table")
    ap.add_argument("--no-save", action="store_true", help="print only")
    args = ap.parse_args(argv)
    names = args.only or explorers()
    torch.set_num_threads(1)  # as the panels' fits do; more threads only fight on a shared CPU
    load_before = _load()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            print(f"measuring {name} ...", flush=True)
            rows.extend(measure(name, args.points, tuple(args.skip)))
    env = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
           f"torch {torch.__version__} (1 thread), CUDA {'yes' if torch.cuda.is_available() else 'no'}; "
           f"{time.strftime('%Y-%m-%d %H:%M')}; load average (1, 5, 15 min) {load_before} before, "
           f"{_load()} after (a load above the core count means other work shared the CPU and "
           "inflated these times)")
    run = (f"## {', '.join(names)}\n\n{env}\n\nSliders at {args.points} values from min to max, "
           "every dropdown option, one control at a time (others at their defaults).\n\n"
           f"{table(rows)}\n")
    head = "# Panel update latency over the full range of every control\n\n"
    if args.append and RESULTS.exists():
        old = RESULTS.read_text(encoding="utf-8")
        body = old.split("\nTargets:", 1)[0].removeprefix(head).rstrip() + "\n\n"
    else:
        body = ""
    text = (f"{head}{body}{run}\nTargets: p95 <= {TARGET_P95_MS:.0f} ms for every update, <= "
            f"{CHEAP_P95_MS:.0f} ms for a cheap panel. Updates from the browser run in a worker "
            "thread; the figure is greyed with a live \"computing… N s\" until the latest choice "
            "is drawn (`zoo_lab.widgets._panel`).\n")
    print(text)
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
        print(f"saved {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
