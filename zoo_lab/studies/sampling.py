"""Sweeps over sampling designs: discrepancy and spacing against n, d and scheme."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zoo_lab import sampling
from zoo_lab.studies.engine import grid, sweep

__all__ = ["discrepancy_vs_n", "integration_error", "loglog_slopes"]


def discrepancy_vs_n(schemes=sampling.SCHEMES, dims=(2, 4, 10), ns=(16, 32, 64, 128, 256),
                     seeds=range(5), method: str = "CD", progress: bool = False,
                     **options) -> pd.DataFrame:
    """Discrepancy and minimum distance of each design: one row per (scheme, dim, n, seed).

    Designs live in the unit cube. ``options`` go to :func:`zoo_lab.sampling.sample`
    (e.g. ``sobol_n="round_up"``; by default Sobol keeps the requested n).
    """
    options.setdefault("sobol_n", "warn")
    settings = grid(scheme=schemes, dim=dims, n=ns, seed=seeds)
    return sweep(_design_row, [dict(g, method=method, options=options) for g in settings],
                 progress=progress, desc="designs")


def _design_row(scheme: str, dim: int, n: int, seed: int, method: str, options: dict) -> dict:
    bounds = np.tile([0.0, 1.0], (dim, 1))
    X = sampling.sample(scheme, n, bounds, seed=seed, **options)
    return dict(scheme=scheme, dim=dim, n=len(X), seed=seed, pow2=bool(len(X) & (len(X) - 1) == 0),
                discrepancy=sampling.discrepancy(X, bounds, method=method),
                min_distance=sampling.min_distance(X) if len(X) > 1 else np.nan)


def _genz_product(U: np.ndarray) -> np.ndarray:
    """prod_i (1 + (u_i - 1/2) / i): smooth, integral exactly 1 over the unit cube."""
    i = np.arange(1, U.shape[1] + 1)
    return np.prod(1.0 + (U - 0.5) / i, axis=1)


def integration_error(schemes=sampling.SCHEMES, dim: int = 4, ns=(16, 64, 256, 1024),
                      seeds=range(10), progress: bool = False) -> pd.DataFrame:
    """Error of the sample mean of a smooth product function (exact integral 1), per design.

    One row per (scheme, n, seed) with the signed and absolute error. With the
    same n, a lower-discrepancy design gives a smaller error (Koksma-Hlawka).
    """
    return sweep(_integration_row, grid(scheme=schemes, dim=dim, n=ns, seed=seeds),
                 progress=progress, desc="integrals")


def _integration_row(scheme: str, dim: int, n: int, seed: int) -> dict:
    U = sampling.unit_sample(scheme, n, dim, seed=seed, sobol_n="round_up")
    err = float(_genz_product(U).mean() - 1.0)
    return dict(scheme=scheme, dim=dim, n=len(U), seed=seed, error=err, abs_error=abs(err))


def loglog_slopes(df: pd.DataFrame, value: str, by=("scheme",), x: str = "n") -> pd.DataFrame:
    """Least-squares slope of log(median value) against log(x), per group."""
    out = []
    for key, g in df.groupby(list(by)):
        m = g.groupby(x)[value].median()
        m = m[m > 0]
        if len(m) < 2:
            continue
        slope = float(np.polyfit(np.log(m.index.to_numpy(float)), np.log(m.to_numpy()), 1)[0])
        out.append({**dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                    "slope": slope})
    return pd.DataFrame(out)
