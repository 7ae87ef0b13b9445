"""Solution quality of our PSO and GA vs pymoo, pyswarms and IPOP CMA-ES at equal evaluation budgets.

Every optimizer gets exactly ``2000 * d`` evaluations of the same batched function
(rastrigin, ackley, rosenbrock, levy, styblinski_tang at d = 2, 10, 30) and its own
integer seed. Per cell (function, d, optimizer) over seeds:

* median and IQR (75th - 25th percentile) of the final error f(x_best) - f*;
* success rate: share of seeds with error <= ``--target`` (default 1e-3);
* rank: optimizers ranked by median error within each (function, d) cell (ties
  share the mean rank); "mean rank" averages it over the five functions.

Rows: ``zoo_pso`` (defaults: expanding neighbourhood, periodic walls),
``zoo_pso_ring`` (fixed ring, periodic walls), ``zoo_pso_gbest`` (the previous
defaults: global best, absorbing walls, 40 particles), ``zoo_ga`` (defaults),
``pymoo_ga``, ``pymoo_pso``, ``pyswarms_pso`` (constriction coefficients, its
defaults otherwise) and ``ipop_cmaes`` (pycma with IPOP restarts), all through
:mod:`zoo_lab.optimize`. Populations: PSO by its default rule (20 particles at d = 2, 40 at d = 10 and 30; 40 for zoo_pso_gbest), GA 60, CMA-ES pycma's default.

Runs are appended to ``--csv`` as they finish (seed by seed, so an interrupted
run still gives every cell its first seeds); ``--report`` only rebuilds the
markdown from the CSV. Run (long: nice it):

    nice .venv/bin/python benchmarks/bench_quality.py [--seeds 15] [--seeds-30 5]
    .venv/bin/python benchmarks/bench_quality.py --report
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

# one BLAS thread: pycma's 30x30 eigh took 21 ms with threads fighting over 2 shared cores
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pandas as pd  # noqa: E402

import zoo_lab as zl  # noqa: E402

FUNCTIONS = ("rastrigin", "ackley", "rosenbrock", "levy", "styblinski_tang")
DIMS = (2, 10, 30)
OPTIMIZERS = ("zoo_pso", "zoo_pso_ring", "zoo_pso_gbest", "zoo_ga", "pymoo_ga", "pymoo_pso", "pyswarms_pso",
              "ipop_cmaes")
HERE = Path(__file__).resolve().parent / "results"
CSV, MD = HERE / "quality_runs.csv", HERE / "quality.md"


def run_one(opt: str, f, d: int, seed: int) -> tuple[float, int, float]:
    """One run of ``opt`` on ``f`` with 2000 d evaluations: (error, n_evals, wall s)."""
    budget = 2000 * d
    t0 = time.perf_counter()
    if opt == "zoo_pso":
        r = zl.optimize.pso(f, f.bounds, max_evals=budget, seed=seed)
    elif opt == "zoo_pso_ring":
        r = zl.optimize.pso(f, f.bounds, max_evals=budget, seed=seed, topology="ring")
    elif opt == "zoo_pso_gbest":
        r = zl.optimize.pso(f, f.bounds, max_evals=budget, seed=seed, topology="global",
                            walls="absorb", n_particles=40)
    elif opt == "zoo_ga":
        r = zl.optimize.ga(f, f.bounds, max_evals=budget, seed=seed)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = zl.optimize.run_peer(opt, f, f.bounds, max_evals=budget, seed=seed)
    return float(r.fun - f.f_opt), int(r.n_evals), time.perf_counter() - t0


def measure(seeds: int, seeds_30: int, csv: Path) -> None:
    """Run every (seed, d, function, optimizer) not yet in ``csv``; append each run."""
    done = set()
    if csv.exists():
        old = pd.read_csv(csv)
        done = set(zip(old["optimizer"], old["function"], old["dim"], old["seed"], strict=True))
    for seed in range(seeds):
        for d in DIMS:
            if d == 30 and seed >= seeds_30:
                continue
            for name in FUNCTIONS:
                f = zl.functions.get(name, d)
                for opt in OPTIMIZERS:
                    if (opt, name, d, seed) in done:
                        continue
                    err, n, wall = run_one(opt, f, d, seed)
                    row = pd.DataFrame([dict(optimizer=opt, function=name, dim=d, seed=seed,
                                             error=err, n_evals=n, wall_s=wall)])
                    row.to_csv(csv, mode="a", header=not csv.exists(), index=False)
            print(f"seed {seed} d={d} done ({time.strftime('%H:%M:%S')})", flush=True)


def tables(df: pd.DataFrame, target: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-cell statistics and the mean rank per (optimizer, d)."""
    g = df.groupby(["dim", "function", "optimizer"])["error"]
    cell = pd.DataFrame({
        "median": g.median(),
        "iqr": g.quantile(0.75) - g.quantile(0.25),
        "success": g.apply(lambda e: float((e <= target).mean())),
        "seeds": g.size(),
    }).reset_index()
    cell["rank"] = cell.groupby(["dim", "function"])["median"].rank(method="average")
    rank = cell.pivot_table(index="optimizer", columns="dim", values="rank", aggfunc="mean")
    rank["all"] = cell.groupby("optimizer")["rank"].mean()
    succ = cell.pivot_table(index="optimizer", columns="dim", values="success", aggfunc="mean")
    summary = rank.add_prefix("rank d=").join(succ.add_prefix("success d="))
    return cell, summary.sort_values("rank d=all")


def _md(df: pd.DataFrame, fmt: str = ".3g") -> str:
    """A DataFrame (index included) as a markdown table, without the tabulate package."""
    def cell(v) -> str:
        return format(v, fmt) if isinstance(v, float) else str(v)

    head = [str(df.index.name or "")] + [str(c) for c in df.columns]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, r in df.iterrows():
        rows.append("| " + " | ".join([str(i)] + [cell(v) for v in r]) + " |")
    return "\n".join(rows)


def _pso_duel(cell: pd.DataFrame) -> list[str]:
    """Markdown rows: zoo_pso vs the better PSO peer in each (function, d) cell."""
    med = cell.set_index(["dim", "function", "optimizer"])["median"]
    out = ["| d | function | zoo_pso | best PSO peer | its median | verdict |",
           "|---:|---|---:|---|---:|---|"]
    for d, name in sorted({(d, f) for d, f, _ in med.index}):
        peers = {p: med.get((d, name, p)) for p in ("pymoo_pso", "pyswarms_pso")}
        peers = {p: v for p, v in peers.items() if v is not None}
        if not peers or (d, name, "zoo_pso") not in med.index:
            continue
        best = min(peers, key=peers.get)
        ours, theirs = med[(d, name, "zoo_pso")], peers[best]
        verdict = "win" if ours < theirs else "tie" if ours <= 3 * theirs + 1e-8 else "loss"
        out.append(f"| {d} | {name} | {ours:.3g} | {best} | {theirs:.3g} | {verdict} |")
    return out


def report(csv: Path, md: Path, target: float) -> str:
    """Write the markdown report from the runs in ``csv``."""
    df = pd.read_csv(csv)
    # an interrupted run leaves its last seed incomplete: keep only seeds with every cell done
    n_cells = len(FUNCTIONS) * len(OPTIMIZERS)
    size = df.groupby(["dim", "seed"])["error"].transform("size")
    dropped = int((size < n_cells).sum())
    df = df[size == n_cells]
    bad = df[df["n_evals"] != 2000 * df["dim"]]
    cell, summary = tables(df, target)
    speed = df.groupby(["dim", "optimizer"])["wall_s"].median().unstack("dim")
    seeds = df.groupby("dim")["seed"].nunique()
    lines = [
        "# Solution quality at equal budgets (benchmarks/bench_quality.py)",
        "",
        f"Budget 2000·d evaluations per run; error = f(x_best) − f*; success: error ≤ {target:g}; "
        "rank by median error within each (function, d), mean over the five functions.",
        "Seeds per dimension: " + ", ".join(f"d={d}: {n}" for d, n in seeds.items())
        + f" (seeds 0..n−1). Runs whose n_evals ≠ 2000·d: {len(bad)}; runs of incomplete seeds "
        f"left out: {dropped}.",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with "
        "other jobs (run niced), so wall times are indicative only.",
        "",
        "## Mean rank and success rate",
        "",
        _md(summary, ".2f"),
        "",
        "## Per cell: median [IQR] of the error, success rate",
        "",
    ]
    for d in sorted(cell["dim"].unique()):
        sub = cell[cell["dim"] == d].copy()
        sub["cell"] = [f"{m:.3g} [{q:.2g}] {s:.0%}" for m, q, s in
                       zip(sub["median"], sub["iqr"], sub["success"], strict=True)]
        tab = sub.pivot(index="optimizer", columns="function", values="cell")
        lines += [f"### d = {d}", "", _md(tab), ""]
    lines += ["## zoo_pso against the best PSO peer, per function", "",
              "Per (function, d): the PSO peer (pymoo_pso, pyswarms_pso) with the lower median error, "
              "and whether zoo_pso's median is lower (win), within 3x + 1e-8 (tie) or higher (loss).",
              ""]
    lines += _pso_duel(cell) + [""]
    lines += ["## Median wall time per run (s)", "", _md(speed), ""]
    text = "\n".join(lines)
    md.write_text(text)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=15, help="seeds at d = 2 and 10")
    ap.add_argument("--seeds-30", type=int, default=5, help="seeds at d = 30")
    ap.add_argument("--target", type=float, default=1e-3)
    ap.add_argument("--csv", type=Path, default=CSV)
    ap.add_argument("--out", type=Path, default=MD)
    ap.add_argument("--report", action="store_true", help="only rebuild the markdown")
    a = ap.parse_args()
    if not a.report:
        measure(a.seeds, a.seeds_30, a.csv)
    print(report(a.csv, a.out, a.target))


if __name__ == "__main__":
    main()
