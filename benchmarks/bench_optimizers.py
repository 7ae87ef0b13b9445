"""Speed of our batched PSO and GA vs pymoo, pyswarms and IPOP CMA-ES: evaluations/s and overhead per generation.

Equal population (100) and budget (population x generations) in 10D, on a cheap
batched true function (rastrigin) and on an NN proxy (a 10-64-64-1 tanh MLP, random
weights: only its cost matters here). Ours runs on numpy and on torch (CPU, and
CUDA when available); the peers are numpy-only libraries. For each run:

* evals/s = evaluations / wall time of the whole run;
* overhead = (wall time - time inside the objective) / generations, i.e. the
  optimizer's own time per generation, evaluations excluded;
* ratios compare ours with a peer measured in the same process, same target.

"bare loop" is the ceiling: the objective called on a fresh random population
each generation and nothing else. Each figure is the median of ``--repeats`` runs.

Run: .venv/bin/python benchmarks/bench_optimizers.py [--gens 200] [--repeats 3] [--out PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import zoo_lab as zl

DIM, POP = 10, 100
RESULTS = Path(__file__).resolve().parent / "results" / "optimizers.md"


class Timed:
    """Wrap an objective; accumulate the wall time spent inside it (device synchronised)."""

    def __init__(self, fun: Callable, cuda: bool = False) -> None:
        self.fun, self.cuda, self.seconds, self.calls = fun, cuda, 0.0, 0

    def __call__(self, X):
        t0 = time.perf_counter()
        y = self.fun(X)
        if self.cuda:
            torch.cuda.synchronize()
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return y


def make_mlp(device: str) -> torch.nn.Module:
    """A small tanh MLP 10-64-64-1 in float32 (seeded weights)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(DIM, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                              torch.nn.Tanh(), torch.nn.Linear(64, 1)).to(device)
    return net.eval()


def targets(device: str) -> dict[str, tuple[Callable, Callable]]:
    """name -> (numpy objective on the CPU, torch objective on ``device``)."""
    f = zl.functions.get("rastrigin", DIM)
    net_cpu, net = make_mlp("cpu"), make_mlp(device)

    def proxy_np(X):
        with torch.no_grad():
            return net_cpu(torch.from_numpy(np.asarray(X, dtype=np.float32)))[:, 0].double().numpy()

    def proxy_t(X):
        with torch.no_grad():
            return net(X.float())[:, 0]

    return {"rastrigin (true)": (f, f), "MLP proxy": (proxy_np, proxy_t)}


def run_ours(kind: str, fun, bounds, gens: int, backend: str, device: str):
    """One run of our PSO or GA; returns (wall s, n_evals, generations, best value)."""
    kw = dict(backend=backend, device=device if backend == "torch" else None, seed=0)
    t0 = time.perf_counter()
    if kind == "pso":
        r = zl.optimize.pso(fun, bounds, n_particles=POP, iters=gens, **kw)
    elif kind == "pso_gbest":  # the previous default: global best, absorbing walls
        r = zl.optimize.pso(fun, bounds, n_particles=POP, iters=gens, topology="global", walls="absorb", **kw)
    else:
        r = zl.optimize.ga(fun, bounds, pop_size=POP, generations=gens, **kw)
    return time.perf_counter() - t0, r.n_evals, r.n_iter, r.fun


def run_ipop(fun, bounds, gens: int):
    """One run of IPOP CMA-ES (pycma through zoo_lab.optimize.peers) with the same budget, population 100."""
    t0 = time.perf_counter()
    r = zl.optimize.peers.ipop_cmaes(fun, bounds, max_evals=POP * gens, pop_size=POP, seed=0)
    return time.perf_counter() - t0, r.n_evals, r.n_calls, r.fun


def run_pymoo(kind: str, fun, bounds, gens: int):
    """One run of pymoo's PSO or GA (library defaults, population 100)."""
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.algorithms.soo.nonconvex.pso import PSO
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    class P(Problem):
        def __init__(self):
            super().__init__(n_var=DIM, n_obj=1, xl=bounds[:, 0], xu=bounds[:, 1])

        def _evaluate(self, X, out, *a, **k):
            out["F"] = fun(X)[:, None]

    alg = PSO(pop_size=POP) if kind == "pso" else GA(pop_size=POP)
    t0 = time.perf_counter()
    res = minimize(P(), alg, ("n_gen", gens), seed=0, verbose=False)
    return time.perf_counter() - t0, res.algorithm.evaluator.n_eval, gens, float(res.F[0])


def run_pyswarms(fun, bounds, gens: int):
    """One run of pyswarms' GlobalBestPSO (constriction values, bounded)."""
    import logging

    import pyswarms

    logging.getLogger("pyswarms").setLevel(logging.ERROR)
    np.random.seed(0)  # pyswarms draws from the global numpy state
    opt = pyswarms.single.GlobalBestPSO(
        n_particles=POP, dimensions=DIM, options={"w": 0.7298, "c1": 1.49618, "c2": 1.49618},
        bounds=(bounds[:, 0], bounds[:, 1]))
    t0 = time.perf_counter()
    cost, _ = opt.optimize(fun, iters=gens, verbose=False)
    return time.perf_counter() - t0, POP * gens, gens, float(cost)


def run_bare(fun, bounds, gens: int, backend: str, device: str):
    """The ceiling: evaluate a fresh random population each generation, nothing else."""
    lo, hi = bounds[:, 0], bounds[:, 1]
    if backend == "numpy":
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        for _ in range(gens):
            fun(lo + (hi - lo) * rng.random((POP, DIM)))
    else:
        lo_t = torch.as_tensor(lo, device=device)
        span = torch.as_tensor(hi - lo, device=device)
        g = torch.Generator(device=device).manual_seed(0)
        t0 = time.perf_counter()
        for _ in range(gens):
            fun(lo_t + span * torch.rand(POP, DIM, generator=g, device=device, dtype=torch.float64))
    return time.perf_counter() - t0, POP * gens, gens, math.nan  # no search: no best value


def measure(runner: Callable[[Callable], tuple], fun, repeats: int, cuda: bool) -> dict:
    """Median over ``repeats`` runs of evals/s and overhead per generation (µs)."""
    rows = []
    runner(Timed(fun, cuda))  # warm-up: imports, caches, CUDA context
    for _ in range(repeats):
        t = Timed(fun, cuda)
        wall, n_evals, gens, best = runner(t)
        rows.append((wall, n_evals, gens, t.seconds, float(best)))
    wall, n_evals, gens, inside, best = sorted(rows)[len(rows) // 2]
    return dict(evals_s=n_evals / wall, overhead_us=(wall - inside) / gens * 1e6,
                eval_share=inside / wall, n_evals=n_evals, best=best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gens", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)  # population 100 is too small to gain from threads; keep runs comparable
    bounds = zl.functions.get("rastrigin", DIM).bounds
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    have = {m: importlib.util.find_spec(m) is not None for m in ("pymoo", "pyswarms", "cma")}
    results: list[tuple[str, str, str, dict]] = []
    for dev in devices:
        for tname, (f_np, f_t) in targets(dev).items():
            cuda = dev == "cuda"
            plan: list[tuple[str, str, Callable, Callable]] = []
            if dev == "cpu":
                plan += [("bare loop", "numpy", lambda t: run_bare(t, bounds, args.gens, "numpy", "cpu"), f_np),
                         ("zoo_lab PSO", "numpy", lambda t: run_ours("pso", t, bounds, args.gens, "numpy", "cpu"), f_np),
                         ("zoo_lab PSO (global, absorb)", "numpy",
                          lambda t: run_ours("pso_gbest", t, bounds, args.gens, "numpy", "cpu"), f_np),
                         ("zoo_lab GA", "numpy", lambda t: run_ours("ga", t, bounds, args.gens, "numpy", "cpu"), f_np)]
                if have["pyswarms"] and not args.no_peers:
                    plan.append(("pyswarms PSO", "numpy", lambda t: run_pyswarms(t, bounds, args.gens), f_np))
                if have["pymoo"] and not args.no_peers:
                    plan += [("pymoo PSO", "numpy", lambda t: run_pymoo("pso", t, bounds, args.gens), f_np),
                             ("pymoo GA", "numpy", lambda t: run_pymoo("ga", t, bounds, args.gens), f_np)]
                if have["cma"] and not args.no_peers:
                    plan.append(("IPOP CMA-ES", "numpy", lambda t: run_ipop(t, bounds, args.gens), f_np))
            plan += [("bare loop", "torch", lambda t, d=dev: run_bare(t, bounds, args.gens, "torch", d), f_t),
                     ("zoo_lab PSO", "torch", lambda t, d=dev: run_ours("pso", t, bounds, args.gens, "torch", d), f_t),
                     ("zoo_lab GA", "torch", lambda t, d=dev: run_ours("ga", t, bounds, args.gens, "torch", d), f_t)]
            for name, backend, runner, fun in plan:
                m = measure(runner, fun, args.repeats, cuda)
                results.append((tname, f"{backend}/{dev}", name, m))
                print(f"{tname:18s} {backend}/{dev:5s} {name:13s} {m['evals_s']:12.4g} evals/s "
                      f"{m['overhead_us']:10.1f} µs/gen overhead", flush=True)
    text = report(results, args, have)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"saved {args.out}")


def report(results, args, have) -> str:
    """Markdown: the measurements, then ours-vs-peer ratios from the same run."""
    lines = [
        "# Optimizer speed: zoo_lab PSO/GA vs pymoo and pyswarms",
        "",
        f"Population {POP}, {DIM}D, {args.gens} generations ({POP * args.gens} evaluations), "
        f"median of {args.repeats} runs after a warm-up; torch threads = 1. "
        f"Host: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no CUDA")
        + f". Measured {time.strftime('%Y-%m-%d %H:%M')} by `benchmarks/bench_optimizers.py`.",
        "",
        "Quality column: best value found in the run (the median-time run; seed 0, one run, so a rough "
        "check that the speed is not bought with a worse search; `benchmarks/bench_quality.py` compares quality "
        "properly). IPOP CMA-ES is a baseline: its generations are its batched calls (population doubles on "
        "restart).",
        "",
        "| target | backend/device | optimizer | evals/s | overhead µs/gen (evals excluded) | time in objective "
        "| best f |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for tname, bd, name, m in results:
        best = "—" if math.isnan(m["best"]) else f"{m['best']:.3g}"
        lines.append(f"| {tname} | {bd} | {name} | {m['evals_s']:.3g} | {m['overhead_us']:.0f} | "
                     f"{100 * m['eval_share']:.0f}% | {best} |")
    lines += ["", "Ratios of evaluations per second (ours / peer, numpy/cpu, same run):", "",
              "| target | comparison | ratio | target in issue 6 |", "| --- | --- | ---: | --- |"]
    get = {(t, bd, n): m for t, bd, n, m in results}
    pairs = [("zoo_lab PSO", "pyswarms PSO", ">= 1"), ("zoo_lab PSO", "pymoo PSO", ">= 20"),
             ("zoo_lab GA", "pymoo GA", ">= 10"), ("zoo_lab PSO", "IPOP CMA-ES", "(baseline)"),
             ("zoo_lab PSO", "zoo_lab PSO (global, absorb)", "(the previous default)"),
             ("zoo_lab PSO", "bare loop", "(ceiling)"),
             ("zoo_lab GA", "bare loop", "(ceiling)")]
    for tname in dict.fromkeys(t for t, *_ in results):
        for ours, peer, goal in pairs:
            a, b = get.get((tname, "numpy/cpu", ours)), get.get((tname, "numpy/cpu", peer))
            if a and b:
                lines.append(f"| {tname} | {ours} / {peer} | {a['evals_s'] / b['evals_s']:.2f} | {goal} |")
    missing = [m for m, ok in have.items() if not ok]
    if missing or args.no_peers:
        lines += ["", f"Peers not measured: {', '.join(missing) or 'disabled with --no-peers'}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
