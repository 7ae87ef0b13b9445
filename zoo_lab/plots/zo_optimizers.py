"""Figures for ZO optimizers vs derivative-free baselines: best gap against the number of queries."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from zoo_lab._util.validate import check_columns
from zoo_lab.plots._style import base_layout, color_for, rgba

__all__ = ["zo_convergence_figure", "gap_at_budgets"]


def gap_at_budgets(df: pd.DataFrame, grid: np.ndarray, by: str = "method") -> pd.DataFrame:
    """Per ``by`` group and budget b of ``grid``: median and quartiles over seeds of the best gap within b."""
    check_columns("df", df, [by, "seed", "n_evals", "gap"])  # a zo_convergence table
    rows = []
    for key, g in df.groupby(by, sort=False):
        per_seed = []
        for _, s in g.groupby("seed"):
            s = s.sort_values("n_evals")
            idx = np.searchsorted(s["n_evals"].to_numpy(), grid, side="right") - 1
            gaps = np.where(idx >= 0, s["gap"].to_numpy()[np.clip(idx, 0, None)], np.nan)
            per_seed.append(gaps)
        a = np.vstack(per_seed)
        with warnings.catch_warnings():  # a budget below a seed's first batch is NaN, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            q25, med, q75 = np.nanquantile(a, [0.25, 0.5, 0.75], axis=0)
        rows += [{by: key, "n_evals": int(b), "median": m, "q25": lo, "q75": hi}
                 for b, m, lo, hi in zip(grid, med, q25, q75, strict=True)]
    return pd.DataFrame(rows)


def zo_convergence_figure(df: pd.DataFrame, by: str = "method", title: str | None = None,
                          n_grid: int = 60) -> go.Figure:
    """Median best f − f* over seeds against queries (log-log), with the interquartile band."""
    lo = max(1, int(df["n_evals"].min()))
    grid = np.unique(np.geomspace(lo, int(df["n_evals"].max()), n_grid).astype(int))
    s = gap_at_budgets(df, grid, by)
    floor = 1e-16  # a gap of exactly 0 cannot be drawn on log axes
    fig = go.Figure()
    for k, (key, g) in enumerate(s.groupby(by, sort=False)):
        color = color_for(str(key), k)
        hidden = dict(legendgroup=str(key), hoverinfo="skip", showlegend=False)
        fig.add_trace(go.Scatter(x=g["n_evals"], y=g["q75"].clip(lower=floor), mode="lines",
                                 line=dict(width=0), **hidden))
        fig.add_trace(go.Scatter(x=g["n_evals"], y=g["q25"].clip(lower=floor), mode="lines",
                                 line=dict(width=0), fill="tonexty", fillcolor=rgba(color), **hidden))
        fig.add_trace(go.Scatter(x=g["n_evals"], y=g["median"].clip(lower=floor), mode="lines",
                                 name=str(key), line=dict(color=color), legendgroup=str(key)))
    fig.update_xaxes(type="log", title_text="function evaluations (queries)")
    fig.update_yaxes(type="log", title_text="best f − f* so far (noise-free)")
    return base_layout(fig, title, height=420, width=820)
