"""Overhead of one ZO estimate over the raw batched evaluation of the same points.

For q = 1 … 1024 directions (and q = 20) (gaussian, forward: q + 1 points) on a cheap
function f(X) = Σ X², the time of ``est.gradient(f, x, rng)`` is compared with

* one call ``f(P)`` on a precomputed (q + 1, d) batch ("raw eval"), and
* the same estimate written plainly, without zoo_lab ("plain"): draw the q×d Gaussian
  directions with the numpy Generator, fill the points, one call of f, combine
  ``((f(x+μU) − f(x)) / (qμ)) @ U``. "ratio vs plain" is the fixed cost zoo_lab adds
  (its checks, the Query record, the method calls); issue 16 asks <= 1.2 at q = 20.
  The plain torch code uses torch calls; zoo_lab works on CPU tensors through numpy
  views, so there it can beat plain (ratio < 1).

Times are process CPU time (``time.process_time``), the minimum over 30 repeats in
which the four timings take turns, so that other jobs on a shared machine count
as little as possible and alike for all four. numpy and torch on CPU, and torch
on CUDA when available (there wall time, synchronised).

Run: ``.venv/bin/python benchmarks/bench_estimators.py [--d 100] [--quick]``; the markdown
table is printed and saved to ``benchmarks/results/estimators.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from zoo_lab.zo.estimators import make

OUT = Path(__file__).resolve().parent / "results" / "estimators.md"


def _time(fns, sync, min_time: float = 0.01, repeats: int = 30, clock=time.process_time) -> list[float]:
    """Per function: the minimum over ``repeats`` of the mean time per call.

    The functions are timed in turn within each repeat (interleaved), so a change in the
    machine's load hits all of them alike; each loop runs at least ``min_time`` s.
    """
    loops = []
    for fn in fns:
        fn()
        sync()
        n = 1
        while True:  # calibrate the loop length
            t0 = clock()
            for _ in range(n):
                fn()
            sync()
            if clock() - t0 >= min_time / 5:
                break
            n *= 2
        loops.append(max(1, int(n * min_time / max(clock() - t0, 1e-9))))
    out = [[] for _ in fns]
    for _ in range(repeats):
        for fn, n, times in zip(fns, loops, out, strict=True):
            t0 = clock()
            for _ in range(n):
                fn()
            sync()
            times.append((clock() - t0) / n)
    return [float(np.min(t)) for t in out]


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
    clock = time.perf_counter if device == "cuda" else time.process_time
    rows = []
    for q in qs:
        est = make("gaussian", q=q, mu=1e-4)
        rng = np.random.default_rng(1)
        points = est.query(x, rng).points
        plain = _plain(fun, x, q, 1e-4, rng)
        t_eval, t_est, t_plain, t_draw = _time(
            [lambda points=points: fun(points), lambda est=est, rng=rng: est.gradient(fun, x, rng),
             plain, lambda q=q, rng=rng: rng.standard_normal((q, d))], sync, clock=clock)
        rows.append(dict(backend=backend, device=device, q=q, t_eval_us=1e6 * t_eval,
                         t_est_us=1e6 * t_est, t_plain_us=1e6 * t_plain, t_draw_us=1e6 * t_draw,
                         ratio=t_est / t_eval, ratio_plain=t_est / t_plain))
    return rows


def _plain(fun, x, q: int, mu: float, rng: np.random.Generator):
    """The forward Gaussian estimate without zoo_lab: draw, fill the points, evaluate, combine."""
    d = x.shape[0]
    if isinstance(x, np.ndarray):
        def plain():
            U = rng.standard_normal((q, d))
            P = np.empty((q + 1, d))
            P[0] = x
            np.multiply(U, mu, out=P[1:])
            P[1:] += x
            y = fun(P)
            return ((y[1:] - y[0]) * (1 / (q * mu))) @ U
    else:
        def plain():
            U = torch.from_numpy(rng.standard_normal((q, d))).to(device=x.device, dtype=x.dtype)
            P = torch.empty((q + 1, d), dtype=x.dtype, device=x.device)
            P[0] = x
            torch.mul(U, mu, out=P[1:])
            P[1:] += x
            y = fun(P)
            return ((y[1:] - y[0]) * (1 / (q * mu))) @ U
    return plain


def table(rows: list[dict], d: int) -> str:
    """Markdown table of the measurements."""
    lines = [f"One gaussian forward estimate (q + 1 points, d = {d}) vs one batched call of f(X) = ΣX² "
             "on the same points.", "",
             "| backend | device | q | raw eval (µs) | drawing the directions (µs) | "
             "plain draw + evaluate + combine (µs) | zoo_lab estimate (µs) | ratio vs raw eval | "
             "ratio vs plain |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['device']} | {r['q']} | {r['t_eval_us']:.1f} | "
                     f"{r['t_draw_us']:.1f} | {r['t_plain_us']:.1f} | {r['t_est_us']:.1f} | "
                     f"{r['ratio']:.2f} | {r['ratio_plain']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and write the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="q = 1, 16, 256 only")
    args = ap.parse_args()
    qs = (1, 20, 256) if args.quick else tuple(sorted({20, *(2**k for k in range(11))}))
    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    rows = bench("numpy", "cpu", args.d, qs) + bench("torch", "cpu", args.d, qs)
    if torch.cuda.is_available():
        rows += bench("torch", "cuda", args.d, qs)
    # CPU times shield the numbers from other jobs only in part: say how busy the machine was
    load = f"load average (1 min) {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end, {os.cpu_count()} CPUs"
    env = (f"{platform.processor() or platform.machine()}, numpy {np.__version__}, "
           f"torch {torch.__version__}, torch threads 1, CPU times (process_time; min of 30 interleaved repeats)"
           + (f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""))
    note = ("torch on CPU: the plain code uses torch calls, while zoo_lab fills the points and "
            "combines through numpy views of the same tensors (each small torch call costs µs of "
            "dispatch), so its ratio vs plain can fall below 1.")
    md = table(rows, args.d) + f"\n\n{note}\n\nMachine: {env}; {load}.\n"
    print(md)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(md)


if __name__ == "__main__":
    main()
