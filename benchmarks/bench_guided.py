"""Real-program queries to a target: proxy-guided ZO vs plain ZO (ratio, median and IQR over seeds).

Every method runs ZO-Adam with the same learning rate from the same start; a run counts the
real-function rows until f − f* ≤ target · (f₀ − f*). Most proxies are deliberately biased:
benchmark functions get p(x) = f(x − δ) (minimiser shifted by 5 % of the box per
coordinate), the heat inverse problem gets the torch twin on a coarse grid; one row uses the
exact function (the ceiling) and one an NN proxy fitted on 128 points. The materials row finds the
EMT equilibrium lattice constants of 2 Cu–Au compositions at once (queries in EMT rows, q = 2);
its proxy is Vegard's law with harmonic wells fitted on 10 EMT rows (biased by the bowing). The ratio is
queries(method) / queries(gaussian) per seed; a run that misses the target counts its whole
budget, so its ratio is a lower bound on the true one (the reached column says how often).

Run: ``.venv/bin/python benchmarks/bench_guided.py [--seeds 10]`` -> benchmarks/results/guided.md;
``--only materials`` reruns one problem and replaces its rows in the existing results file.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from zoo_lab.studies.guided import guided_queries_to_target, guided_summary

PROBLEMS = [  # (problem, dim, proxy, lr, budget, target)
    ("sphere", 10, "shifted", 0.1, 3000, 1e-2),
    ("sphere", 50, "shifted", 0.1, 4000, 1e-2),
    ("sphere", 100, "shifted", 0.1, 6000, 1e-2),
    ("sphere", 50, "exact", 0.1, 4000, 1e-2),  # the ceiling: what a perfect proxy gives
    ("rosenbrock", 10, "shifted", 0.02, 3000, 5e-2),
    ("zakharov", 10, "nn", 0.05, 2000, 1e-1),  # NN proxy on 128 Sobol points (+128 rows, not counted)
    ("heat", 4, "shifted", 0.03, 600, 5e-2),
    ("materials", 2, "shifted", 0.01, 300, 3e-3),  # EMT rows; Vegard proxy (10 EMT rows, not counted)
]
Q_FOR = {"materials": 2}  # q per problem where it differs from --q (EMT rows are expensive)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--q", type=int, default=10)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "guided.md"))
    ap.add_argument("--only", default=None, help="rerun one problem, replacing its rows in --out")
    args = ap.parse_args()
    problems = [p for p in PROBLEMS if args.only in (None, p[0])]
    if not problems:
        raise SystemExit(f"--only: got {args.only!r}; allowed: {', '.join(p[0] for p in PROBLEMS)}")
    lines = ["# Proxy-guided ZO: real queries to a target", "",
             f"`benchmarks/bench_guided.py --seeds {args.seeds}`; q = {args.q} (prior_guided q−1 random "
             "directions + the prior; coordinate uses all d axes); ZO-Adam, same lr per problem; "
             "proxies: shifted = f(x − δ), δ = 5 % of the box (heat: coarse-grid twin); exact = f itself; "
             "nn = MLP fitted on 128 Sobol points (those 128 real rows are paid once, not counted below).",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
             f"load average {os.getloadavg()[0]:.1f} at start.", "",
             "ratio = queries(method) / queries(gaussian) per seed: median [IQR]. Missed runs count "
             "their whole budget (then the ratio is a bound). < 1: guidance saves queries.", "",
             "| problem | d | proxy | target | method | reached | queries median [IQR] | ratio to gaussian |",
             "|---|---|---|---|---|---|---|---|"]
    t0 = time.perf_counter()
    new = []
    for problem, dim, proxy, lr, max_evals, target in problems:
        t = time.perf_counter()
        df = guided_queries_to_target([problem], [dim], proxy=proxy, lr=lr, max_evals=max_evals,
                                      target=target, q=Q_FOR.get(problem, args.q),
                                      seeds=range(args.seeds), n_train=128)
        s = guided_summary(df)
        for r in s.itertuples():
            new.append(f"| {problem} | {dim} | {proxy} | {target:g} | {r.method} | {r.reached:.0%} | "
                         f"{r.median:.0f} [{r.q25:.0f}, {r.q75:.0f}] | "
                         f"{r.ratio_median:.2f} [{r.ratio_q25:.2f}, {r.ratio_q75:.2f}] |")
        print(f"{problem} d={dim} {proxy}: {time.perf_counter() - t:.1f} s", flush=True)
    took = time.perf_counter() - t0
    if args.only is not None and Path(args.out).exists():
        old = Path(args.out).read_text().splitlines()
        keep = [x for x in old if not x.startswith(f"| {args.only} |")]
        end = max(i for i, x in enumerate(keep) if x.startswith("|")) + 1
        note = (f"Rows for {args.only}: `--only {args.only} --seeds {args.seeds}`, {took:.0f} s, "
                f"load average {os.getloadavg()[0]:.1f}.")
        lines = keep[:end] + new + keep[end:] + [note]
    else:
        lines += new + ["", f"Total time {took:.0f} s."]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
