"""Parallel efficiency of BlackBox: serial vs 2 processes vs Dask (2 workers), two kinds of program.

1. A 20 ms-per-row program (cost grows with rows). One training step = forward on a
   batch of 64 rows + backward with q random directions (forward differences reuse F(z),
   so 64 * q more rows): 64 * (q + 1) program rows. Efficiency = ideal time (total
   program time / workers) / measured.
2. A per-batch-cost program (one vectorised solve per call: 50 ms + 0.05 ms per row):
   splitting a batch across workers makes every worker pay the 50 ms; ``split_batches=False``
   sends each batch whole. Speed-up = serial step time / measured (median of 3 steps).

Run: .venv/bin/python benchmarks/bench_blackbox.py [--q 4] [--batch 64]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

import zoo_lab as zl

ROW_SECONDS = 0.020
CALL_SECONDS, CALL_ROW_SECONDS = 0.050, 0.00005


def sleepy_program(X):
    """A stand-in for an expensive solver: 20 ms per row, then a cheap smooth answer."""
    time.sleep(ROW_SECONDS * len(X))
    return np.sin(X).sum(axis=1, keepdims=True)


def batch_program(X):
    """A stand-in for one vectorised solve per call: 50 ms whatever the rows, plus a little per row."""
    time.sleep(CALL_SECONDS + CALL_ROW_SECONDS * len(X))
    return np.sin(X).sum(axis=1, keepdims=True)


def one_step(box, z) -> tuple[float, float, int]:
    """(warm-up seconds, step seconds, program rows of the step)."""
    t0 = time.perf_counter()
    box.evaluate(np.full((2, 3), 7.0))  # workers import zoo_lab once; timed separately
    warm = time.perf_counter() - t0
    before = box.n_queries
    z = z.clone().requires_grad_(True)
    t0 = time.perf_counter()
    box(z).sum().backward()
    return warm, time.perf_counter() - t0, box.n_queries - before


def median_step(box, z, reps: int = 3) -> tuple[float, int]:
    """(median step seconds over ``reps`` steps after a warm-up, program calls per step)."""
    box.evaluate(np.full((2, 3), 7.0))
    times, calls = [], box.n_calls
    for _ in range(reps):
        zz = z.clone().requires_grad_(True)
        t0 = time.perf_counter()
        box(zz).sum().backward()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), (box.n_calls - calls) // reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--q", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    est = zl.estimators.make("gaussian", q=args.q, mu=1e-3)
    z = torch.randn(args.batch, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    rows = args.batch * (args.q + 1)
    program_time = rows * ROW_SECONDS
    results, batch_rows = [], []

    def box(program, executor=None, **kw):
        return zl.BlackBox(program, 3, 1, estimator=est, executor=executor, seed=0, **kw)

    results.append(("serial", 1, *one_step(box(sleepy_program), z)))
    batch_rows.append(("serial", *median_step(box(batch_program), z)))

    with ProcessPoolExecutor(2) as pool:
        results.append(("2 processes", 2, *one_step(box(sleepy_program, pool), z)))
        batch_rows.append(("2 processes, batches split", *median_step(box(batch_program, pool), z)))
        batch_rows.append(("2 processes, split_batches=False",
                           *median_step(box(batch_program, pool, split_batches=False), z)))

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        ex = client.get_executor()
        results.append(("Dask LocalCluster, 2 workers", 2, *one_step(box(sleepy_program, ex), z)))
        batch_rows.append(("Dask, 2 workers, batches split", *median_step(box(batch_program, ex), z)))
        batch_rows.append(("Dask, 2 workers, split_batches=False",
                           *median_step(box(batch_program, ex, split_batches=False), z)))

    lines = [
        f"BlackBox step: batch {args.batch}, q = {args.q}, {rows} program rows x "
        f"{ROW_SECONDS * 1e3:.0f} ms = {program_time:.2f} s of program time",
        "",
        "| executor | workers | program rows | wall time (s) | ideal (s) | efficiency | first-call warm-up (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, workers, warm, t, n in results:
        ideal = n * ROW_SECONDS / workers
        lines.append(f"| {name} | {workers} | {n} | {t:.2f} | {ideal:.2f} | {ideal / t:.1%} "
                     f"| {warm:.2f} |")
    lines += ["", "Warm-up: one 2-row call before the step (workers import zoo_lab and the "
              "program once); it is not part of the step time.", "",
              f"Per-batch-cost program ({CALL_SECONDS * 1e3:.0f} ms per call + "
              f"{CALL_ROW_SECONDS * 1e3:.2f} ms per row), same step, median of 3 steps:", "",
              "| executor | program calls per step | step time (s) | speed-up vs serial |",
              "|---|---|---|---|"]
    serial_t = batch_rows[0][1]
    for name, t, calls in batch_rows:
        lines.append(f"| {name} | {calls} | {t:.3f} | {serial_t / t:.2f}x |")
    over = {name: (t - serial_t) / calls * 1e3 for name, t, calls in batch_rows
            if "split_batches=False" in name}
    lines += ["", "split_batches=False sends each batch whole (2 calls per step instead of 4), "
              "but every call still pays the executor's per-task overhead over serial: "
              + ", ".join(f"{name.split(',')[0]} {ms:+.0f} ms per call" for name, ms in over.items())
              + ". For a per-batch-cost program that need not run elsewhere, serial (no executor) "
              "is the fastest; the whole-batch option only removes the cost of splitting."]
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).parent / "results" / "blackbox.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
