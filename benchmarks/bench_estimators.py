"""Overhead of one ZO estimate over the raw batched evaluation of the same points.

For q = 1 … 1024 directions (gaussian, forward: q + 1 points) on a cheap function
f(X) = Σ X², the time of ``est.gradient(f, x, rng)`` is divided by the time of one call
``f(P)`` on a precomputed (q + 1, d) batch. A ratio of 1 means the estimate costs what its
evaluations cost; the excess is direction sampling, building the points, the checks and
the combination. numpy and torch on CPU, and torch on CUDA when available. The time of
drawing the q×d Gaussian directions alone (numpy Generator, as the estimator does) is
reported too: on a function this cheap it dominates the estimate.

Run: ``.venv/bin/python benchmarks/bench_estimators.py [--d 100] [--quick]``; the markdown
table is printed and saved to ``benchmarks/results/estimators.md``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from zoo_lab.zo.estimators import make

OUT = Path(__file__).resolve().parent / "results" / "estimators.md"


def _time(fn, sync, min_time: float = 0.05, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean time per call, each over at least ``min_time`` s."""
    fn()
    sync()
    n = 1
    while True:  # calibrate the loop length
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        if time.perf_counter() - t0 >= min_time / 5:
            break
        n *= 2
    n = max(1, int(n * min_time / max(time.perf_counter() - t0, 1e-9) * 1.0))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        out.append((time.perf_counter() - t0) / n)
    return float(np.median(out))


def bench(backend: str, device: str, d: int, qs) -> list[dict]:
    """One row per q: time of an estimate, of the raw evaluation, and their ratio."""
    if backend == "numpy":
        x = np.random.default_rng(0).standard_normal(d)

        def fun(X):
            return (X * X).sum(axis=1)

        def sync():
            return None
    else:
        x = torch.as_tensor(np.random.default_rng(0).standard_normal(d), device=device)

        def fun(X):
            return (X * X).sum(dim=1)

        def sync():
            return torch.cuda.synchronize() if device == "cuda" else None
    rows = []
    for q in qs:
        est = make("gaussian", q=q, mu=1e-4)
        rng = np.random.default_rng(1)
        points = est.query(x, rng).points
        t_eval = _time(lambda points=points: fun(points), sync)
        t_est = _time(lambda est=est, rng=rng: est.gradient(fun, x, rng), sync)
        t_draw = _time(lambda q=q, rng=rng: rng.standard_normal((q, d)), sync)
        rows.append(dict(backend=backend, device=device, q=q, t_eval_us=1e6 * t_eval,
                         t_est_us=1e6 * t_est, t_draw_us=1e6 * t_draw, ratio=t_est / t_eval,
                         ratio_no_draw=(t_est - t_draw) / t_eval))
    return rows


def table(rows: list[dict], d: int) -> str:
    """Markdown table of the measurements."""
    lines = [f"One gaussian forward estimate (q + 1 points, d = {d}) vs one batched call of f(X) = ΣX² "
             "on the same points.", "",
             "| backend | device | q | raw eval (µs) | estimate (µs) | ratio | "
             "drawing the directions (µs) | ratio without the draw |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['device']} | {r['q']} | {r['t_eval_us']:.1f} | "
                     f"{r['t_est_us']:.1f} | {r['ratio']:.2f} | {r['t_draw_us']:.1f} | "
                     f"{r['ratio_no_draw']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and write the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="q = 1, 16, 256 only")
    args = ap.parse_args()
    qs = (1, 16, 256) if args.quick else tuple(2**k for k in range(11))
    torch.set_num_threads(1)
    rows = bench("numpy", "cpu", args.d, qs) + bench("torch", "cpu", args.d, qs)
    if torch.cuda.is_available():
        rows += bench("torch", "cuda", args.d, qs)
    env = (f"{platform.processor() or platform.machine()}, numpy {np.__version__}, "
           f"torch {torch.__version__}, torch threads 1"
           + (f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""))
    md = table(rows, args.d) + f"\n\nMachine: {env}.\n"
    print(md)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(md)


if __name__ == "__main__":
    main()
