"""Figures for proxy-guided ZO: queries to target per method, gradient error, variance vs residual."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from zoo_lab._util.validate import check_columns
from zoo_lab.plots._style import base_layout, color_for

__all__ = ["guided_queries_figure", "guided_error_figure", "guided_variance_figure"]


def guided_queries_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Real queries to the target per method (box over seeds), one group per (problem, dim).

    ``df`` is :func:`zoo_lab.studies.guided_queries_to_target`'s table; runs that missed the
    target are drawn at their full budget (hollow markers) so losses stay visible.
    """
    check_columns("df", df, ["problem", "dim", "method", "queries", "n_evals", "reached"])
    d = df.assign(group=df["problem"] + " d=" + df["dim"].astype(str),
                  shown=df["queries"].fillna(df["n_evals"]))
    fig = go.Figure()
    for k, (method, g) in enumerate(d.groupby("method", sort=False)):
        color = color_for(method, k)
        fig.add_trace(go.Box(x=g["group"], y=g["shown"], name=method, marker_color=color,
                             boxpoints=False, legendgroup=method))
        miss = g[~g["reached"]]
        if len(miss):
            fig.add_trace(go.Scatter(x=miss["group"], y=miss["shown"], mode="markers",
                                     marker=dict(symbol="circle-open", color=color, size=8),
                                     name=f"{method}: target missed", legendgroup=method,
                                     showlegend=False, hovertext="budget ran out"))
    fig.update_layout(boxmode="group")
    fig.update_yaxes(type="log", title_text="real-function rows to reach the target")
    return base_layout(fig, title, height=440, width=980)


def guided_error_figure(df: pd.DataFrame, y: str = "rel_error", title: str | None = None) -> go.Figure:
    """Gradient-estimate error (or cosine) per method against the real rows one estimate costs."""
    if y not in df.columns:
        raise ValueError(f"y: column {y!r} not in df; allowed: rel_error, cosine")
    s = df.groupby("method", sort=False).agg(med=(y, "median"), lo=(y, lambda v: v.quantile(0.25)),
                                             hi=(y, lambda v: v.quantile(0.75)),
                                             rows=("n_evals", "median"))
    fig = go.Figure()
    for k, (method, r) in enumerate(s.iterrows()):
        fig.add_trace(go.Scatter(x=[r["rows"]], y=[r["med"]], mode="markers+text", name=method,
                                 text=[method], textposition="top center",
                                 marker=dict(size=11, color=color_for(method, k)),
                                 error_y=dict(type="data", symmetric=False, array=[r["hi"] - r["med"]],
                                              arrayminus=[r["med"] - r["lo"]])))
    fig.update_xaxes(type="log", title_text="real rows per estimate")
    fig.update_yaxes(type="log" if y == "rel_error" else "linear",
                     title_text="‖ĝ − ∇f‖ / ‖∇f‖" if y == "rel_error" else "cosine(ĝ, ∇f)")
    return base_layout(fig, title, height=420, width=640, showlegend=False)


def guided_variance_figure(ratios, measured, d: int, k: int, title: str | None = None) -> go.Figure:
    """Control-variate MSE against ‖∇r‖/‖∇f‖ with the line ((d+1)/k)(‖∇r‖/‖∇f‖)² (Gaussian)."""
    ratios, measured = np.asarray(ratios, float), np.asarray(measured, float)
    grid = np.geomspace(max(ratios.min(), 1e-3), ratios.max(), 100)
    fig = go.Figure([
        go.Scatter(x=ratios, y=measured, mode="markers", name="measured (mean over seeds)"),
        go.Scatter(x=grid, y=(d + 1) / k * grid**2, mode="lines", name="((d+1)/k)·ρ²",
                   line=dict(dash="dash", color="#444")),
        go.Scatter(x=grid, y=np.full_like(grid, (d + 1) / k), mode="lines",
                   name="plain Gaussian ZO (d+1)/k", line=dict(dash="dot", color="#b00")),
    ])
    fig.update_xaxes(type="log", title_text="ρ = ‖∇(f − p)‖ / ‖∇f‖ (residual vs function)")
    fig.update_yaxes(type="log", title_text="E‖ĝ − ∇f‖² / ‖∇f‖²")
    return base_layout(fig, title, height=420, width=640)
