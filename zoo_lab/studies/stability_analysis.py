"""Summaries of stability results: medians and IQRs per cell, variance split by seed source."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from zoo_lab._util.validate import check_columns

__all__ = ["variance_split", "summarize_stability", "history_long"]


def variance_split(df: pd.DataFrame, value: str = "dist_to_opt",
                   sources: Sequence[str] = ("sampling_seed", "init_seed", "seed"),
                   by: Sequence[str] = ()) -> pd.DataFrame:
    """Share of the variance of ``value`` explained by each seed source (main effects) and the rest.

    For a balanced full factorial, SS_source = sum over its levels of
    n_level (mean_level - grand mean)^2; "interactions" is the remainder of the
    total sum of squares. One row per (group of ``by``, source) with ``ss`` and ``share``.
    """
    sources, by = list(sources), list(by)
    check_columns("df", df, [value, *sources, *by])
    out = []
    for key, sub in (df.groupby(by, sort=True) if by else [((), df)]):
        key = key if isinstance(key, tuple) else (key,)
        v = sub[value].to_numpy(dtype=float)
        grand = v.mean()
        total = float(((v - grand) ** 2).sum())
        counts = sub.groupby(sources).size()
        balanced = counts.nunique() == 1 and len(counts) == math.prod(sub[s].nunique() for s in sources)
        rest = total
        for s in sources:
            g = sub.groupby(s)[value]
            ss = float((g.size() * (g.mean() - grand) ** 2).sum())
            rest -= ss
            out.append(dict(zip(by, key, strict=True), source=s, ss=ss, balanced=balanced))
        out.append(dict(zip(by, key, strict=True), source="interactions", ss=max(rest, 0.0),
                        balanced=balanced))
        for r in out[-len(sources) - 1:]:
            r["share"] = r["ss"] / total if total > 0 else math.nan
    return pd.DataFrame(out)


def _q(p: float):
    def f(s):
        return float(np.nanquantile(s, p))
    f.__name__ = f"q{int(p * 100)}"
    return f


def summarize_stability(df: pd.DataFrame, by: Sequence[str] = ("function", "dim", "scheme",
                                                                 "optimizer", "on")) -> pd.DataFrame:
    """Median and IQR of the true value and distance to x*, basin-hit rate, proxy gap, per group."""
    by = [c for c in by if c in df.columns]
    g = df.groupby(by, sort=True)
    out = g.agg(
        runs=("seed", "size"),
        error_median=("error", "median"), error_q25=("error", _q(0.25)),
        error_q75=("error", _q(0.75)),
        dist_median=("dist_to_opt", "median"), dist_q25=("dist_to_opt", _q(0.25)),
        dist_q75=("dist_to_opt", _q(0.75)),
        basin_hit_rate=("basin_hit", "mean"), gap_median=("proxy_gap", "median"),
        plateau_rate=("plateau", "mean"), proxy_nrmse_median=("proxy_test_nrmse", "median"),
    ).reset_index()
    out["error_iqr"] = out["error_q75"] - out["error_q25"]
    out["dist_iqr"] = out["dist_q75"] - out["dist_q25"]
    return out


def history_long(df: pd.DataFrame, by: Sequence[str] = ("optimizer", "on")) -> pd.DataFrame:
    """One row per recorded generation of every run (for :func:`zoo_lab.plots.ecdf_runtime_figure`)."""
    keys = [c for c in (*by, "seed", "sampling_seed", "init_seed") if c in df.columns]
    parts = [pd.DataFrame({**{k: r[k] for k in keys}, "n_evals": r["history_evals"],
                           "error": r["history_error"]}) for _, r in df.iterrows()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*keys, "n_evals", "error"])
