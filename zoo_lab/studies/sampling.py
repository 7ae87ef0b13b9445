"""Sweeps over sampling designs: discrepancy and spacing against n, d and scheme."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from zoo_lab import sampling

__all__ = ["discrepancy_vs_n"]


def discrepancy_vs_n(schemes=sampling.SCHEMES, dims=(2, 4, 10), ns=(16, 32, 64, 128, 256),
                     seeds=range(5), method: str = "CD", progress: bool = False,
                     **options) -> pd.DataFrame:
    """Discrepancy and minimum distance of each design: one row per (scheme, dim, n, seed).

    Designs live in the unit cube. ``options`` go to :func:`zoo_lab.sampling.sample`
    (e.g. ``sobol_n="round_up"``; by default Sobol keeps the requested n).
    """
    rows = []
    grid = list(itertools.product(schemes, dims, ns, seeds))
    if not grid:
        raise ValueError("schemes, dims, ns, seeds: every one must be non-empty")
    options.setdefault("sobol_n", "warn")
    for scheme, d, n, seed in tqdm(grid, disable=not progress, desc="designs"):
        bounds = np.tile([0.0, 1.0], (d, 1))
        X = sampling.sample(scheme, n, bounds, seed=seed, **options)
        rows.append(dict(scheme=scheme, dim=d, n=len(X), seed=seed,
                         pow2=bool(len(X) & (len(X) - 1) == 0),
                         discrepancy=sampling.discrepancy(X, bounds, method=method),
                         min_distance=sampling.min_distance(X) if len(X) > 1 else np.nan))
    return pd.DataFrame(rows)
