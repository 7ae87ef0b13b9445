"""Figures for designs of experiments: point sets, 1-D projections, discrepancy curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from zoo_lab._util.validate import check_columns
from zoo_lab.plots._style import (
    add_median_band,
    base_layout,
    color_for,
    facet_grid,
    init_notebook,
    label,
)
from zoo_lab.sampling import check_bounds

__all__ = ["design_figure", "designs_grid", "design_matrix", "discrepancy_figure", "median_band_figure",
           "init_notebook"]


def _check_axes(axes, d: int) -> tuple[int, int]:
    i, j = axes
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise ValueError(f"axes: need two distinct indices in [0, {d}), got {axes}")
    return int(i), int(j)


def design_figure(X, bounds, axes=(0, 1), title: str | None = None, color: str | None = None,
                  grid: int | None = None) -> go.Figure:
    """One design projected on two axes, with its 1-D projections drawn as rugs on the edges.

    ``grid`` draws an n-by-n stratum grid (useful to see LHS: one point per row and column).
    """
    b = check_bounds(bounds)
    X = np.asarray(X, dtype=float)
    fig = go.Figure()
    base_layout(fig, title, width=520, height=520, showlegend=False)
    _add_design(fig, X, b, _check_axes(axes, b.shape[0]), color or color_for("", 0), grid)
    return fig


def _add_design(fig, X, b, axes, color, grid, row=None, col=None):
    i, j = axes
    kw = {} if row is None else dict(row=row, col=col)
    fig.add_trace(go.Scatter(x=X[:, i], y=X[:, j], mode="markers",
                             marker=dict(size=5, color=color), name="points"), **kw)
    # rugs: the 1-D projections a learner should look at for LHS vs uniform
    span = b[:, 1] - b[:, 0]
    yr = np.full(len(X), b[j, 0] - 0.03 * span[j])
    xr = np.full(len(X), b[i, 0] - 0.03 * span[i])
    fig.add_trace(go.Scatter(x=X[:, i], y=yr, mode="markers", name="x-projection",
                             marker=dict(symbol="line-ns-open", size=8, color=color)), **kw)
    fig.add_trace(go.Scatter(x=xr, y=X[:, j], mode="markers", name="y-projection",
                             marker=dict(symbol="line-ew-open", size=8, color=color)), **kw)
    if grid:
        for k in range(1, grid):
            fig.add_vline(x=b[i, 0] + k * span[i] / grid, line=dict(width=0.5, color="#ccc"), **kw)
            fig.add_hline(y=b[j, 0] + k * span[j] / grid, line=dict(width=0.5, color="#ccc"), **kw)
    fig.update_xaxes(range=[b[i, 0] - 0.06 * span[i], b[i, 1]], title_text=f"x{i + 1}", **kw)
    fig.update_yaxes(range=[b[j, 0] - 0.06 * span[j], b[j, 1]], title_text=f"x{j + 1}", **kw)


def designs_grid(designs: dict, bounds, axes=(0, 1), title: str | None = None,
                 grid: int | None = None) -> go.Figure:
    """Several named designs side by side (e.g. one per scheme), same axes and bounds."""
    if not designs:
        raise ValueError("designs: need at least one named design")
    b = check_bounds(bounds)
    ax = _check_axes(axes, b.shape[0])
    names = list(designs)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.05)
    for k, name in enumerate(names):
        _add_design(fig, np.asarray(designs[name], float), b, ax, color_for(name, k), grid, 1, k + 1)
    return base_layout(fig, title, height=380, width=300 * len(names) + 80, showlegend=False)


def design_matrix(X, bounds, title: str | None = None, max_dims: int = 6) -> go.Figure:
    """Scatter matrix of every pair of the first ``max_dims`` coordinates of a design."""
    b = check_bounds(bounds)
    X = np.asarray(X, dtype=float)
    k = min(b.shape[0], max_dims)
    dims = [dict(label=f"x{i + 1}", values=X[:, i]) for i in range(k)]
    fig = go.Figure(go.Splom(dimensions=dims, showupperhalf=False, diagonal_visible=False,
                             marker=dict(size=3)))
    return base_layout(fig, title, height=150 * k + 100, width=150 * k + 100)


def discrepancy_figure(df: pd.DataFrame, title: str | None = None, value: str = "discrepancy",
                       facet: str = "dim") -> go.Figure:
    """Median (line) and min-max band (over seeds) of ``value`` against n, one panel per ``facet``, log-log.

    ``df`` needs columns ``scheme``, ``n``, ``facet`` and ``value`` (as made by
    :func:`zoo_lab.studies.discrepancy_vs_n`).
    """
    return median_band_figure(df, x="n", y=value, group="scheme", facet=facet, title=title)


def median_band_figure(df: pd.DataFrame, x: str, y: str, group: str, facet: str | None = None,
                       title: str | None = None, log_x: bool = True, log_y: bool = True) -> go.Figure:
    """Median of ``y`` against ``x`` per ``group`` with a min-max band over the other rows (seeds).

    One panel per value of ``facet`` (if given); log axes by default.
    """
    check_columns("df", df, [x, y, group] + ([facet] if facet else []))
    facets = sorted(df[facet].unique()) if facet else [None]
    n_rows, n_cols = facet_grid(len(facets))  # wrap facets to rows so the figure fits the column
    fig = make_subplots(rows=n_rows, cols=n_cols, vertical_spacing=0.3 / n_rows,
                        subplot_titles=[f"{_facet_name(facet)} = {v}" for v in facets] if facet else None)
    for k_f, fv in enumerate(facets):
        r, c = divmod(k_f, n_cols)
        r, c = r + 1, c + 1
        sub = df if facet is None else df[df[facet] == fv]
        for k, (name, g) in enumerate(sub.groupby(group, sort=False)):
            s = g.groupby(x)[y].agg(["median", "min", "max"]).reset_index()
            add_median_band(fig, s, x, color_for(str(name), k), str(name), r, c, k_f == 0)
        fig.update_xaxes(type="log" if log_x else "linear", row=r, col=c,
                         title_text=label(x) if r == n_rows or k_f + n_cols >= len(facets) else None)
        fig.update_yaxes(type="log" if log_y else "linear", row=r, col=c,
                         title_text=label(y) if c == 1 else None)
    return base_layout(fig, title, height=320 * n_rows + 80, width=max(520, 300 * n_cols + 80))


def _facet_name(facet: str) -> str:
    """Short facet title: ``dim`` reads as ``d``."""
    return {"dim": "d", "n_samples": "n"}.get(facet, label(facet))
