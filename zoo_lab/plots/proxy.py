"""Figures for NN proxies: landscapes (true / proxy / error), error vs n, discrepancy vs error, optimizer curves."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from zoo_lab._util.grids import slice_points
from zoo_lab._util.validate import check_columns
from zoo_lab.plots._style import add_median_band, base_layout, color_for, label

__all__ = ["landscape_grid", "landscape_figure", "error_vs_n_figure", "discrepancy_error_figure",
           "optimizer_curves_figure", "argmin_figure"]


def _check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    check_columns("df", df, cols)


def landscape_grid(f, proxy, resolution: int = 80, axes=(0, 1), center=None):
    """True values, proxy values and the grid on a 2-D slice of ``f``'s box: (x, y, Z_true, Z_proxy).

    The slice spans ``axes`` and fixes every other coordinate at ``center``
    (default ``f.x_opt``, else the box centre); in 2-D it is the whole landscape.
    """
    x, y, P = slice_points(f.bounds, resolution, axes, f.x_opt if center is None else center)
    shape = (len(y), len(x))
    return x, y, f(P).reshape(shape), np.asarray(proxy(P), dtype=float).reshape(shape)


def landscape_figure(f, proxy, X=None, resolution: int = 80, axes=(0, 1),
                     title: str | None = None) -> go.Figure:
    """Three heatmaps side by side: the true function, the proxy and |proxy - true|, training points on top."""
    x, y, Zt, Zp = landscape_grid(f, proxy, resolution, axes)
    lo, hi = float(min(Zt.min(), Zp.min())), float(max(Zt.max(), Zp.max()))
    fig = make_subplots(rows=1, cols=3, subplot_titles=("true f", "proxy", "|proxy − f|"),
                        horizontal_spacing=0.11)
    # one colour bar per map, just right of its own subplot (never on top of the next one)
    bar = dict(len=0.85, thickness=10, xpad=2, tickformat=".3~g")
    for col, (z, scale, extra, name) in enumerate(
            ((Zt, "Viridis", dict(zmin=lo, zmax=hi), "true"),
             (Zp, "Viridis", dict(zmin=lo, zmax=hi), "proxy"),
             (np.abs(Zp - Zt), "Reds", {}, "error")), start=1):
        x_end = fig.layout[f"xaxis{'' if col == 1 else col}"].domain[1]
        fig.add_trace(go.Heatmap(x=x, y=y, z=z, colorscale=scale, name=name,
                                 colorbar=dict(bar, x=x_end + 0.005, xanchor="left"), **extra),
                      row=1, col=col)
    i, j = axes
    pts = np.empty((0, 2)) if X is None else np.asarray(X, dtype=float)[:, [i, j]]
    fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name="training points",
                             marker=dict(size=4, color="white", line=dict(width=0.5, color="black"))),
                  row=1, col=2)
    for c in (1, 2, 3):
        fig.update_xaxes(title_text=f"x{i + 1}", row=1, col=c)
        fig.update_yaxes(title_text=f"x{j + 1}" if c == 1 else None, row=1, col=c)
    return base_layout(fig, title, height=360, width=None, showlegend=False)


def error_vs_n_figure(df: pd.DataFrame, value: str = "rmse", row: str = "function", col: str = "dim",
                      color: str = "scheme", title: str | None = None) -> go.Figure:
    """``value`` against n on log-log axes: median and min-max band over seeds, one line per ``color``."""
    _check_columns(df, ["n", value, row, col, color])
    rows, cols = sorted(df[row].unique()), sorted(df[col].unique())
    fig = make_subplots(rows=len(rows), cols=len(cols), shared_xaxes=True,
                        subplot_titles=[f"{r}, {'d' if col == 'dim' else label(col)} = {c}"
                                        for r in rows for c in cols],
                        vertical_spacing=0.25 / max(len(rows), 1), horizontal_spacing=0.06)
    for a, rv in enumerate(rows, start=1):
        for b, cv in enumerate(cols, start=1):
            sub = df[(df[row] == rv) & (df[col] == cv)]
            for k, (key, g) in enumerate(sub.groupby(color, sort=False)):
                s = g.groupby("n")[value].agg(["median", "min", "max"]).reset_index()
                add_median_band(fig, s, "n", color_for(str(key), k), str(key), a, b, a == 1 and b == 1)
            fig.update_xaxes(type="log", row=a, col=b, title_text=label("n") if a == len(rows) else None)
            fig.update_yaxes(type="log", row=a, col=b, title_text=label(value) if b == 1 else None)
    return base_layout(fig, title, height=260 * len(rows) + 80, width=max(520, 330 * len(cols)))


def discrepancy_error_figure(df: pd.DataFrame, x: str = "discrepancy", y: str = "rmse",
                             by=("function", "dim", "n"), title: str | None = None) -> go.Figure:
    """Scatter of ``x`` against ``y``, each divided by its group median, coloured by scheme, with pooled Spearman rho.

    Normalising within (function, dim, n) removes the trivial "more points,
    both smaller" trend, so what is left is the effect of the design itself.
    """
    _check_columns(df, [x, y, "scheme", *by])
    rel = df.copy()
    med = rel.groupby(list(by))[[x, y]].transform("median")
    rel["x_rel"], rel["y_rel"] = rel[x] / med[x], rel[y] / med[y]
    fig = go.Figure()
    for k, (scheme, g) in enumerate(rel.groupby("scheme", sort=False)):
        text = [f"{r.function}, d = {r.dim}, n = {r.n}, seed {r.seed}" if {"function", "seed"} <= set(g)
                else "" for r in g.itertuples()]
        fig.add_trace(go.Scatter(x=g["x_rel"], y=g["y_rel"], mode="markers", name=str(scheme),
                                 text=text, marker=dict(color=color_for(str(scheme), k), size=6,
                                                        opacity=0.7)))
    rho, p = stats.spearmanr(rel["x_rel"], rel["y_rel"], nan_policy="omit")
    head = f"Spearman rho = {rho:.2f} (p = {p:.2g}, {len(rel)} fits)"
    fig.update_xaxes(type="log", title_text=f"{label(x)} / group median")
    fig.update_yaxes(type="log", title_text=f"{label(y)} / group median")
    return base_layout(fig, f"{title} — {head}" if title else head, height=460, width=640)


def optimizer_curves_figure(histories: dict, y: str = "monitor_rmse", title: str | None = None,
                            log_x: bool = True) -> go.Figure:
    """Two panels: ``y`` against wall time and against passes over the data, one line per named history.

    ``histories`` maps a label to a ``FitHistory`` or its DataFrame (``to_frame()``);
    several histories with the same label prefix "name/seed" share a colour.
    """
    if not histories:
        raise ValueError("histories: need at least one named history")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("vs wall time", "vs passes over the data"))
    colors: dict[str, str] = {}
    for name, h in histories.items():
        h = h if isinstance(h, pd.DataFrame) else h.to_frame()
        _check_columns(h, ["time", "passes", y])
        group = str(name).split("/")[0]
        first = group not in colors
        colors.setdefault(group, color_for(group, len(colors)))
        for c, x in ((1, "time"), (2, "passes")):
            fig.add_trace(go.Scatter(x=h[x], y=h[y], mode="lines", name=group, legendgroup=group,
                                     line=dict(color=colors[group], width=1.5),
                                     showlegend=first and c == 1, hovertext=str(name)),
                          row=1, col=c)
    for c, x_title in ((1, "wall time (s)"), (2, "passes (gradient evaluations of the full set)")):
        fig.update_xaxes(type="log" if log_x else "linear", title_text=x_title, row=1, col=c)
        fig.update_yaxes(type="log", title_text=label(y) if c == 1 else None, row=1, col=c)
    return base_layout(fig, title, height=420, width=1000)


def argmin_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Where the proxy's minimiser lands as d grows: relative distance to x* and true regret, boxes per dim."""
    _check_columns(df, ["dim", "argmin_dist_rel", "regret", "function"])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("‖x̂ − x*‖ / box diagonal",
                                                        "regret f(x̂) − f*"))
    for k, (name, g) in enumerate(df.groupby("function", sort=True)):
        for c, v in ((1, "argmin_dist_rel"), (2, "regret")):
            fig.add_trace(go.Box(x=g["dim"].astype(str), y=g[v].clip(lower=1e-12), name=str(name),
                                 legendgroup=str(name), marker_color=color_for(str(name), k + 4),
                                 showlegend=c == 1, boxpoints="all", jitter=0.4), row=1, col=c)
        fig.update_yaxes(type="log")
    fig.update_layout(boxmode="group")
    fig.update_xaxes(title_text="dimension d")
    return base_layout(fig, title, height=420, width=1000)
