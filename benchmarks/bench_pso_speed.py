"""PSO's default now vs the default of an earlier commit: time per iteration, same machine, same run.

Issue 16 asked for a new PSO default "without losing speed". This benchmark answers
that against the code itself, not against a configuration of today's code: it
extracts ``zoo_lab`` at ``--ref`` (default ``7be2962``, the last commit whose default
was the global-best swarm with absorbing walls) with ``git archive`` into a temporary
folder, then alternates worker processes, one on that tree and one on this
checkout, ``--rounds`` times. Each worker times ``pso(fun, bounds, n_particles=n,
iters=ITERS, seed=s)`` with every other argument at its default, for

* ``zero``: an objective returning zeros (the optimizer's own cost per iteration);
* ``rastrigin``: the batched 10-D rastrigin (written out here, so both trees run
  the same function);
* ``MLP proxy``: a 10-64-64-1 tanh MLP in float32 (seeded weights), as in
  ``bench_optimizers.py``.

Figures are the minimum over seeds and rounds (the least disturbed run; this
machine is shared), in microseconds per iteration. ``speed now / then`` above 1
means today's default is faster.

Run: .venv/bin/python benchmarks/bench_pso_speed.py [--ref 7be2962] [--rounds 6] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "pso_speed.md"
ITERS, SEEDS, SIZES, DIM = 300, 5, (40, 100), 10


def worker() -> None:
    """Time the default PSO of whichever ``zoo_lab`` is on the path; print JSON."""
    import numpy as np
    import torch

    from zoo_lab.optimize import swarm

    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(DIM, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                              torch.nn.Tanh(), torch.nn.Linear(64, 1)).eval()

    def zero(X):
        return np.zeros(X.shape[0])

    def rastrigin(X):
        return 10.0 * X.shape[1] + (X * X - 10.0 * np.cos(2 * np.pi * X)).sum(1)

    def proxy(X):
        with torch.no_grad():
            return net(torch.from_numpy(np.asarray(X, dtype=np.float32)))[:, 0].double().numpy()

    bounds = np.array([[-5.12, 5.12]] * DIM)
    out = {}
    for n in SIZES:
        for name, fun in (("zero", zero), ("rastrigin", rastrigin), ("MLP proxy", proxy)):
            swarm.pso(fun, bounds, n_particles=n, iters=20, seed=0)  # warm-up
            runs = [_timed(swarm.pso, fun, bounds, n, s) for s in range(SEEDS)]
            out[f"{name}|{n}"] = [min(r[0] for r in runs) / ITERS * 1e6,
                                  min(r[0] - r[1] for r in runs) / ITERS * 1e6]
    print(json.dumps(out))


def _timed(pso, fun, bounds, n: int, seed: int) -> tuple[float, float]:
    """(wall seconds of one run, seconds of it inside ``fun``)."""
    inside = [0.0]

    def timed_fun(X):
        t = time.perf_counter()
        y = fun(X)
        inside[0] += time.perf_counter() - t
        return y

    t0 = time.perf_counter()
    pso(timed_fun, bounds, n_particles=n, iters=ITERS, seed=seed)
    return time.perf_counter() - t0, inside[0]


def _run(tree: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, __file__, "--worker"], env=env, capture_output=True,
                         text=True, check=True, cwd=tree)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", default="7be2962")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker()
        return
    sha = subprocess.run(["git", "rev-parse", "--short", args.ref], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "zoo_lab"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip())
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp)
        archive = subprocess.run(["git", "archive", sha, "zoo_lab"], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        then, now = [], []
        for r in range(args.rounds):  # alternate, so a busy spell hits both trees alike
            then.append(_run(old))
            now.append(_run(ROOT))
            print(f"round {r + 1}/{args.rounds} done", flush=True)
    keys = list(now[0])
    t = {k: [min(x[k][i] for x in then) for i in (0, 1)] for k in keys}
    n = {k: [min(x[k][i] for x in now) for i in (0, 1)] for k in keys}
    here = f"{head}{' + uncommitted changes' if dirty else ''}"
    lines = [
        "# PSO default: now vs an earlier commit",
        "",
        f"`pso(fun, bounds, n_particles=n, iters={ITERS}, seed=s)`, every other argument at its default, "
        f"{DIM}-D; minimum over {SEEDS} seeds x {args.rounds} alternating rounds, µs per iteration. "
        f"Then: `{sha}` (default: global best, absorbing walls). Now: `{here}` (default: expanding "
        f"neighbourhood, periodic walls). Host: {platform.machine()}, {os.cpu_count()} cores, one "
        f"thread. Measured {time.strftime('%Y-%m-%d %H:%M')} by `benchmarks/bench_pso_speed.py`.",
        "",
        "Whole run: wall time per iteration. Optimizer's own: the same, less the time inside the "
        "objective (each figure the least over runs). The objective's share can differ between the "
        "two because the swarms visit different points (rastrigin's cosine and the MLP's tanh do not "
        "cost the same everywhere); the optimizer's own time is what the default's code costs.",
        "",
        "| objective | particles | whole run then | whole run now | speed now / then "
        "| own then | own now | own speed now / then |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for k in keys:
        name, size = k.split("|")
        (ta, to), (na, no) = t[k], n[k]
        lines.append(f"| {name} | {size} | {ta:.1f} | {na:.1f} | {ta / na:.2f} | {to:.1f} | {no:.1f} "
                     f"| {to / no:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
