"""Figures for ZO coupling: training curves per method, VJP cosine against q, VJP scatter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from zoo_lab._util.validate import check_columns
from zoo_lab.plots._style import base_layout, color_for, label

__all__ = ["training_curves", "cosine_figure", "vjp_scatter"]


def training_curves(df: pd.DataFrame, y: str = "loss", title: str | None = None) -> go.Figure:
    """``y`` against step (left) and against program queries (right), one line per method (log y).

    ``df`` holds the concatenated ``history`` frames of :func:`zoo_lab.studies.train_inverse_heat`
    (columns method, step, queries, ``y``; an optional ``seed`` column gives median and range).
    """
    check_columns("df", df, ["method", "step", "queries", y])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("against optimizer steps", "against program queries"))
    for k, (method, g) in enumerate(df.groupby("method", sort=False)):
        s = g.groupby("step").agg(med=(y, "median"), lo=(y, "min"), hi=(y, "max"), queries=("queries", "median"))
        color = color_for(method, k)
        for col, x in ((1, s.index.to_numpy()), (2, s["queries"].to_numpy())):
            fig.add_trace(go.Scatter(x=x, y=s["med"], name=method, mode="lines", legendgroup=method,
                                     line=dict(color=color), showlegend=col == 1), row=1, col=col)
            if "seed" in g and g["seed"].nunique() > 1:
                fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]),
                                         y=np.concatenate([s["hi"], s["lo"][::-1]]), fill="toself",
                                         line=dict(width=0), fillcolor=color, opacity=0.15,
                                         hoverinfo="skip", showlegend=False, legendgroup=method),
                              row=1, col=col)
    fig.update_yaxes(type="log", title_text=label(y), row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_xaxes(title_text=label("step"), row=1, col=1)
    fig.update_xaxes(title_text="program rows evaluated", type="log", row=1, col=2)
    return base_layout(fig, title, height=420, width=980)


def cosine_figure(df: pd.DataFrame, d: int, title: str | None = None) -> go.Figure:
    """Cosine of ZO vs exact VJP against q (median, IQR over seeds) with the approximation 1/√(1 + (d+1)/q).

    The approximation follows from E‖ĝ‖² = ‖g‖²(1 + (d+1)/q) and E[ĝ·g] = ‖g‖² for
    Gaussian directions on a locally linear program.
    """
    s = df.groupby("q")["cosine"].describe()
    qs = s.index.to_numpy(float)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=qs, y=s["50%"], mode="markers+lines", name="measured (median)",
                             error_y=dict(type="data", symmetric=False, array=s["75%"] - s["50%"],
                                          arrayminus=s["50%"] - s["25%"])))
    grid = np.geomspace(qs.min(), qs.max(), 100)
    fig.add_trace(go.Scatter(x=grid, y=1 / np.sqrt(1 + (d + 1) / grid), mode="lines",
                             name="1/√(1 + (d+1)/q)", line=dict(dash="dash", color="#444")))
    fig.update_xaxes(type="log", title_text="q (directions per estimate)")
    fig.update_yaxes(title_text="cosine(ZO VJP, exact VJP)", range=[0, 1.02])
    return base_layout(fig, title, height=400, width=620)


def vjp_scatter(estimate, exact, title: str | None = None,
                reference: str = "exact (torch twin)") -> go.Figure:
    """Estimated against exact VJP entries, with the diagonal y = x; ``reference`` labels the x axis."""
    e, x = np.ravel(estimate), np.ravel(exact)
    lim = float(max(np.abs(e).max(), np.abs(x).max(), 1e-12)) * 1.1
    fig = go.Figure([
        go.Scatter(x=[-lim, lim], y=[-lim, lim], mode="lines", name="exact", line=dict(color="#999", dash="dash")),
        go.Scatter(x=x, y=e, mode="markers", name="ZO estimate", marker=dict(size=7)),
    ])
    fig.update_xaxes(title_text=reference, range=[-lim, lim])
    fig.update_yaxes(title_text="ZO estimate (BlackBox)", range=[-lim, lim])
    return base_layout(fig, title, height=420, width=460)
