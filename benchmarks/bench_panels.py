"""Update latency of every "Try it" panel (p50/p95 at default sizes): is a slider move instant?

Discovers every ``zl.widgets.*_explorer``, builds it with its defaults, then times
(1) ``panel.refresh()`` (the panel's plain update path, same values) and
(2) moving the ``seed`` control to a new value (the path a learner triggers: observer ->
update -> FigureWidget ``batch_update``), N times each. No peer library exists for this,
so absolute milliseconds are reported against the teaching targets: p95 < 150 ms for a
cheap panel; above 200 ms the panel shows "computing…" first (``widgets._panel.wire``).

Run: .venv/bin/python benchmarks/bench_panels.py [--n 30] [--budget-s 40] [--only NAME]
Writes benchmarks/results/panels.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import zoo_lab as zl

CHEAP_P95_MS = 150.0
SLOW_MS = 200.0
RESULTS = Path(__file__).resolve().parent / "results" / "panels.md"


def explorers() -> list[str]:
    """Names of every panel factory ``zl.widgets.*_explorer``."""
    return sorted(n for n in dir(zl.widgets) if n.endswith("_explorer")
                  and callable(getattr(zl.widgets, n)))


def _time_calls(fn, n: int, budget_s: float) -> np.ndarray:
    """Milliseconds of up to ``n`` calls of ``fn`` (at least 5, stopping once ``budget_s`` is spent)."""
    out = []
    t_end = time.perf_counter() + budget_s
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append(1e3 * (time.perf_counter() - t0))
        if i >= 4 and time.perf_counter() > t_end:
            break
    return np.asarray(out)


def _seed_mover(panel):
    """A function that moves the panel's seed control to a new value, or None without one."""
    seed = panel.controls.get("seed")
    if seed is None:
        return None
    lo, hi = getattr(seed, "min", 0), getattr(seed, "max", seed.value + 50)
    start = seed.value

    def move(i: int) -> None:
        seed.value = lo + (start - lo + 1 + i) % (hi - lo + 1)

    return move


def measure(name: str, n: int, budget_s: float) -> dict:
    """Build one panel with its defaults and time its updates."""
    t0 = time.perf_counter()
    panel = getattr(zl.widgets, name)()
    build_ms = 1e3 * (time.perf_counter() - t0)
    if getattr(panel, "refresh", None) is None:
        raise RuntimeError(f"{name}: panel has no .refresh (build it with widgets._panel.assemble)")
    refresh = _time_calls(lambda _i: panel.refresh(), n, budget_s)
    mover = _seed_mover(panel)
    seed = _time_calls(mover, n, budget_s) if mover else np.array([])
    status_ok = "color:#b00" not in panel.status.value
    worst = np.percentile(seed if len(seed) else refresh, 95)
    row = dict(panel=name, build_ms=build_ms, n=len(refresh), status_ok=status_ok,
               refresh_p50=np.percentile(refresh, 50), refresh_p95=np.percentile(refresh, 95),
               seed_p50=np.percentile(seed, 50) if len(seed) else float("nan"),
               seed_p95=np.percentile(seed, 95) if len(seed) else float("nan"))
    row["verdict"] = ("cheap" if worst < CHEAP_P95_MS else
                      "not cheap (< 200 ms)" if worst <= SLOW_MS else
                      "slow: shows computing…, changes coalesced")
    return row


def table(rows: list[dict]) -> str:
    """The results as a markdown table."""
    head = ("| panel | first draw ms | refresh p50 ms | refresh p95 ms | seed move p50 ms "
            "| seed move p95 ms | calls | status | verdict |\n|---|---:|---:|---:|---:|---:|---:|---|---|")
    lines = [head]

    def ms(v: float) -> str:
        return "–" if np.isnan(v) else f"{v:.1f}"  # – : the panel has no seed control

    for r in rows:
        lines.append(f"| {r['panel']} | {r['build_ms']:.0f} | {ms(r['refresh_p50'])} | "
                     f"{ms(r['refresh_p95'])} | {ms(r['seed_p50'])} | {ms(r['seed_p95'])} | "
                     f"{r['n']} | {'ok' if r['status_ok'] else 'ERROR'} | {r['verdict']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Measure every panel, print the table and save it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="updates timed per path (default 30)")
    ap.add_argument("--budget-s", type=float, default=40.0, help="time cap per path per panel")
    ap.add_argument("--only", action="append", help="panel name(s) to measure")
    ap.add_argument("--no-save", action="store_true", help="print only")
    args = ap.parse_args(argv)
    names = args.only or explorers()
    rows = []
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            print(f"measuring {name} ...", flush=True)
            rows.append(measure(name, args.n, args.budget_s))
    env = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
           f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
           f"CUDA {'yes' if torch.cuda.is_available() else 'no'}; {time.strftime('%Y-%m-%d %H:%M')}; "
           f"1-min load average {load_before:.1f} before, "
           f"{os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan'):.1f} after "
           "(a load above the core count means other work shared the CPU)")
    text = (f"# Panel update latency (default sizes)\n\n{env}\n\n{table(rows)}\n\n"
            f"Targets: p95 < {CHEAP_P95_MS:.0f} ms for a cheap panel; above {SLOW_MS:.0f} ms the "
            "status line shows \"computing…\" before the work and rapid changes are coalesced "
            "in a kernel (`zoo_lab.widgets._panel.wire`). \"refresh\" recomputes with the same "
            "values; \"seed move\" sets the seed control (observer -> update -> figure), the path "
            "a learner's slider takes.\n")
    print(text)
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
        print(f"saved {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
