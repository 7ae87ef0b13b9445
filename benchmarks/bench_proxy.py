"""Proxy fitting vs scikit-learn's MLPRegressor: fit time and test RMSE side by side, as ratios.

Same architecture (2 x 64 tanh), same data (a Sobol design of n points, inputs
mapped to [-1, 1]^d and targets standardised for *both* libraries, so only the
training differs), same iteration cap, no weight penalty (sklearn ``alpha=0``).
Both run on one CPU thread (torch ``threads=1``, BLAS limited with
threadpoolctl) so the comparison is not decided by thread contention. Test
RMSE is on 4096 uniform random points, in the function's own units. Each
library keeps its own stopping rule (sklearn: L-BFGS-B ``gtol=tol=1e-4``, Adam
``n_iter_no_change=10``; ours: see ``zoo_lab.surrogate.proxy.fit``). With a GPU, our
L-BFGS is also timed on CUDA. Our fit time is the training clock of
``zoo_lab.surrogate.proxy.fit``, which excludes the monitor: the test RMSE is tracked
after every step (not timed) to report the time at which our fit first reaches
sklearn's final test RMSE ("never" if it does not).

Run: .venv/bin/python benchmarks/bench_proxy.py [--function styblinski_tang] [--n 1024]
     [--max-iter 2000] [--dims 2 4 10] [--out benchmarks/results/proxy.md]
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

import zoo_lab as zl


def _rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def sklearn_fit(U, z, Ut, solver: str, max_iter: int, seed: int) -> tuple[np.ndarray, float, int]:
    """Fit MLPRegressor on scaled data on one BLAS thread; (scaled test prediction, seconds, iterations)."""
    reg = MLPRegressor(hidden_layer_sizes=(64, 64), activation="tanh", solver=solver, alpha=0.0,
                       max_iter=max_iter, random_state=seed)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        reg.fit(U, z)
        dt = time.perf_counter() - t0
    return reg.predict(Ut), dt, int(reg.n_iter_)


def ours_fit(X, y, bounds, optimizer: str, max_iter: int, seed: int, **kw):
    """Fit a zoo_lab proxy; (proxy, training seconds without the monitor's cost, steps)."""
    p = zl.proxy.fit(X, y, bounds=bounds, optimizer=optimizer, max_iter=max_iter, epochs=max_iter,
                     seed=seed, **kw)
    return p, p.settings["fit_time"], len(p.history)


def time_to_reach(p, target: float) -> float:
    """Training seconds until the monitored test RMSE first drops to ``target`` (NaN: never)."""
    h = p.history.to_frame()
    hit = h[h["monitor_rmse"] <= target]
    return float(hit["time"].iloc[0]) if len(hit) else float("nan")


def run(function: str, dims, n: int, max_iter: int, seed: int) -> list[dict]:
    """All rows of the comparison for one function."""
    rows = []
    for d in dims:
        f = zl.functions.get(function, d)
        b = f.bounds
        X = zl.sampling.sample("sobol", n, b, seed=seed, sobol_n="round_up")
        Xt = zl.sampling.sample("uniform", 4096, b, seed=seed + 1)
        y, yt = f(X), f(Xt)
        U, Ut = 2 * (X - b[:, 0]) / (b[:, 1] - b[:, 0]) - 1, 2 * (Xt - b[:, 0]) / (b[:, 1] - b[:, 0]) - 1
        m, s = y.mean(), y.std()
        ref = {}
        for solver in ("lbfgs", "adam"):
            pred, dt, it = sklearn_fit(U, (y - m) / s, Ut, solver, max_iter, seed)
            ref[solver] = (dt, _rmse(pred * s + m, yt))
            rows.append(dict(d=d, method=f"sklearn {solver}", time=dt, rmse=ref[solver][1], steps=it,
                             ref=solver, reach=dt))
        cases = [("lbfgs", "zoo_lab lbfgs (float32)", dict(dtype="float32")),
                 ("lbfgs", "zoo_lab lbfgs (float64)", dict(dtype="float64")),
                 ("adam", "zoo_lab adam (float32)", dict(dtype="float32"))]
        if torch.cuda.is_available():
            cases += [("lbfgs", "zoo_lab lbfgs (CUDA float32)", dict(dtype="float32", device="cuda")),
                      ("lbfgs", "zoo_lab lbfgs (CUDA float64)", dict(dtype="float64", device="cuda"))]
        for opt, label, kw in cases:
            if kw.get("device") == "cuda":  # warm-up: CUDA context and kernels
                ours_fit(X, y, b, opt, 5, seed, **kw)
            p, dt, it = ours_fit(X, y, b, opt, max_iter, seed, monitor=(Xt, yt), **kw)
            rows.append(dict(d=d, method=label, time=dt, rmse=_rmse(p(Xt), yt), steps=it, ref=opt,
                             reach=time_to_reach(p, ref[opt][1])))
        for r in rows:
            if r["d"] == d:
                t_ref, e_ref = ref[r["ref"]]
                r["time_ratio"], r["rmse_ratio"] = r["time"] / t_ref, r["rmse"] / e_ref
                r["reach_ratio"] = r["reach"] / t_ref
        print(f"d={d} done", flush=True)
    return rows


def table(rows: list[dict], header: str) -> str:
    """Markdown table of the rows (ratios against sklearn with the same solver family)."""
    lines = [header, "",
             "| d | method | fit time (s) | time / sklearn | test RMSE | RMSE / sklearn | steps "
             "| time to sklearn's RMSE (s) | ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        reach = "never" if np.isnan(r["reach"]) else f"{r['reach']:.2f}"
        rr = "–" if np.isnan(r["reach"]) else f"{r['reach_ratio']:.2f}"
        lines.append(f"| {r['d']} | {r['method']} | {r['time']:.2f} | {r['time_ratio']:.2f} | "
                     f"{r['rmse']:.4g} | {r['rmse_ratio']:.2f} | {r['steps']} | {reach} | {rr} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--function", default="styblinski_tang")
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--max-iter", type=int, default=2000)
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 4, 10])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "proxy.md"))
    args = ap.parse_args()
    rows = run(args.function, args.dims, args.n, args.max_iter, args.seed)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    header = (f"### Proxy fit: zoo_lab vs scikit-learn MLPRegressor\n\n"
              f"{args.function}, n = {args.n} Sobol points, 2x64 tanh, up to {args.max_iter} "
              f"iterations/epochs, test RMSE on 4096 uniform points; ratios are against sklearn "
              f"with the same solver family. CPU: one thread each ({platform.processor() or 'cpu'}, "
              f"torch {torch.__version__}); GPU: {gpu}.")
    text = table(rows, header)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
