"""Proxy accuracy across functions, dimensions, sampling schemes, sample counts and seeds.

Each grid cell draws a design with :func:`zoo_lab.sampling.sample`, fits a
proxy with :func:`zoo_lab.surrogate.proxy.fit` and scores it with
:func:`zoo_lab.surrogate.proxy.evaluate` on one shared test set per (function, dim). The
design and the network share the cell's seed, so a row is reproducible on its
own and the table does not depend on which executor ran it.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor

import numpy as np
import pandas as pd
from scipy import stats

from zoo_lab import sampling
from zoo_lab._util.validate import check_choice, check_columns
from zoo_lab.problems import functions as _functions
from zoo_lab.studies.engine import grid, sweep
from zoo_lab.surrogate import proxy

__all__ = ["proxy_grid", "fit_one", "rank_correlation", "TIMING_COLUMNS"]

TIMING_COLUMNS: tuple[str, ...] = ("fit_time", "eval_time")


def fit_one(function: str, dim: int, scheme: str, n: int, seed: int, optimizer: str = "lbfgs",
            n_test: int = 2048, test_seed: int = 12345, n_starts: int = 4,
            **fit_options) -> dict:
    """Sample, fit and evaluate one proxy; return one tidy row (settings, metrics, discrepancy, times)."""
    f = _functions.get(function, dim)
    X = sampling.sample(scheme, n, f.bounds, seed=seed, sobol_n="round_up")
    y = f(X)
    t0 = time.perf_counter()
    p = proxy.fit(X, y, bounds=f.bounds, optimizer=optimizer, seed=seed, **fit_options)
    fit_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = proxy.evaluate(p, f, n_test=n_test, seed=test_seed, n_starts=n_starts)
    eval_time = time.perf_counter() - t0
    m.pop("x_hat", None)
    h = p.history
    return dict(function=function, dim=dim, scheme=scheme, n=len(X), n_requested=n, seed=seed,
                optimizer=optimizer, discrepancy=sampling.discrepancy(X, f.bounds),
                steps=len(h), passes=h.passes[-1] if len(h) else 0, train_loss=h.loss[-1],
                **m, fit_time=fit_time, eval_time=eval_time)


def _check_list(name: str, values) -> list:
    vals = [values] if isinstance(values, str | int) else list(values)
    if not vals:
        raise ValueError(f"{name}: expected a non-empty list, got {values!r}")
    return vals


def proxy_grid(functions=("rastrigin",), dims=(2,), schemes=sampling.SCHEMES, n_samples=(64, 256),
               seeds=range(3), optimizer: str = "lbfgs", executor: Executor | None = None,
               progress: bool = True, n_test: int = 2048, test_seed: int = 12345,
               n_starts: int = 4, checkpoint=None, **fit_options) -> pd.DataFrame:
    """Fit one proxy per (function, dim, scheme, n, seed) and return a tidy DataFrame, one row per fit.

    Columns: the settings, ``discrepancy`` of the training design, the metrics
    of :func:`zoo_lab.surrogate.proxy.evaluate` (on ``n_test`` points drawn with
    ``test_seed``), ``steps``/``passes``/``train_loss`` and ``fit_time``/``eval_time``.
    ``executor`` (any ``concurrent.futures.Executor``, e.g. a process pool or
    ``dask.distributed.Client.get_executor()``) spreads the fits; rows come back
    in grid order and, timings aside, equal a serial run. Sobol sizes are
    rounded up to powers of two (``n`` holds the size used). ``fit_options``
    go to :func:`zoo_lab.surrogate.proxy.fit`. ``checkpoint`` (a folder) keeps finished
    fits so a stopped grid resumes (:func:`zoo_lab.studies.engine.sweep`).
    """
    schemes = _check_list("schemes", schemes)
    settings = grid(function=_check_list("functions", functions), dim=_check_list("dims", dims),
                    scheme=schemes, n=_check_list("n_samples", n_samples),
                    seed=_check_list("seeds", seeds))
    for scheme in schemes:
        check_choice("schemes", scheme, sampling.SCHEMES)
    check_choice("optimizer", optimizer, proxy.OPTIMIZERS)
    for fn, d in {(g["function"], g["dim"]) for g in settings}:
        _check_function(fn, d)
    kw = dict(optimizer=optimizer, n_test=n_test, test_seed=test_seed, n_starts=n_starts, **fit_options)
    return sweep(fit_one, [dict(g, **kw) for g in settings], executor=executor, progress=progress,
                 checkpoint=checkpoint, desc=f"proxy fits ({optimizer})")


def _check_function(name: str, dim: int) -> None:
    """Fail early (before any fit) on an unknown function or unsupported dimension."""
    _functions.get(name, int(dim) if isinstance(dim, np.integer) else dim)


def rank_correlation(df: pd.DataFrame, x: str = "discrepancy", y: str = "rmse",
                     by=("function", "dim", "n")) -> pd.DataFrame:
    """Spearman correlation of ``x`` and ``y`` within each group ``by`` (plus a pooled row).

    Within a group (same function, dimension and n) only the design varies, so a
    positive rho means "lower discrepancy, lower error". The pooled row ranks
    the values after dividing each by its group median.
    """
    check_columns("df", df, [x, y, *by])
    out = []
    for key, g in df.groupby(list(by)):
        if len(g) < 3 or g[x].nunique() < 2 or g[y].nunique() < 2:
            continue
        rho, pval = stats.spearmanr(g[x], g[y])
        out.append({**dict(zip(by, key, strict=True)), "rho": float(rho), "p_value": float(pval),
                    "count": len(g)})
    rel = df.copy()
    med = rel.groupby(list(by))[[x, y]].transform("median")
    rel[x], rel[y] = rel[x] / med[x], rel[y] / med[y]
    rho, pval = stats.spearmanr(rel[x], rel[y], nan_policy="omit")
    out.append({**{k: "pooled" for k in by}, "rho": float(rho), "p_value": float(pval),
                "count": len(rel)})
    return pd.DataFrame(out)
