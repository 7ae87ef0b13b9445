"""Figures for ZO gradient estimators and ZO-SGD (notebook 02): measured points on theory lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from zoo_lab._util.validate import check_columns
from zoo_lab.plots._style import COLORS, base_layout

__all__ = [
    "estimator_color",
    "fd_error_figure",
    "relative_mse_figure",
    "bias_figure",
    "unbiasedness_figure",
    "estimator_cosine_figure",
    "zo_iterations_figure",
    "budget_figure",
    "explorer_figure",
]

_ORDER = ("gaussian", "sphere", "coordinate", "rademacher", "orthogonal")


def estimator_color(name: str, i: int = 0) -> str:
    """A stable colour per estimator name (palette index otherwise)."""
    key = name.split(" ")[0]
    return COLORS[_ORDER.index(key) if key in _ORDER else i % len(COLORS)]


def _need(df: pd.DataFrame, cols) -> None:
    check_columns("df", df, cols)


def fd_error_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Error of coordinate differences vs h (log-log), one panel per dtype, with h* marked.

    ``df`` from :func:`zoo_lab.studies.fd_error_vs_h`.
    """
    _need(df, ["difference", "dtype", "h", "error", "h_opt", "eps"])
    dtypes = list(dict.fromkeys(df.dtype))
    fig = make_subplots(rows=1, cols=len(dtypes), subplot_titles=dtypes, shared_yaxes=True)
    for c, dt in enumerate(dtypes, start=1):
        for k, (diff, g) in enumerate(df[df.dtype == dt].groupby("difference", sort=False)):
            color = COLORS[k]
            fig.add_trace(go.Scatter(x=g.h, y=g.error, mode="lines+markers", name=diff,
                                     line=dict(color=color), marker=dict(size=5),
                                     legendgroup=diff, showlegend=c == 1), row=1, col=c)
            h_opt = float(g.h_opt.iloc[0])
            fig.add_vline(x=h_opt, line=dict(color=color, dash="dot"), row=1, col=c,
                          annotation_text=f"h* {h_opt:.0e}", annotation_position="top")
        fig.update_xaxes(type="log", title_text="step h", row=1, col=c)
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="relative error ‖ĝ − ∇f‖/‖∇f‖", row=1, col=1)
    return base_layout(fig, title, height=420, width=max(520, 460 * len(dtypes)))


def relative_mse_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Relative MSE vs q (log-log), one panel per estimator, colour per d: points ± 2 SE on theory lines.

    ``df`` from :func:`zoo_lab.studies.relative_mse_vs_q`.
    """
    _need(df, ["estimator", "d", "q", "rel_mse", "se", "theory"])
    names = list(dict.fromkeys(df.estimator))
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, shared_yaxes=True)
    dims = sorted(df.d.unique())
    for c, name in enumerate(names, start=1):
        for k, d in enumerate(dims):
            g = df[(df.estimator == name) & (df.d == d)].sort_values("q")
            g = g[g.theory > 0]
            if g.empty:
                continue
            color = COLORS[k % len(COLORS)]
            fig.add_trace(go.Scatter(x=g.q, y=g.theory, mode="lines", line=dict(color=color, dash="dash"),
                                     name=f"theory d={d}", legendgroup=f"d{d}", showlegend=False),
                          row=1, col=c)
            fig.add_trace(go.Scatter(x=g.q, y=g.rel_mse, mode="markers", name=f"d = {d}",
                                     marker=dict(color=color, size=8), legendgroup=f"d{d}",
                                     error_y=dict(type="data", array=2 * g.se, visible=True),
                                     showlegend=c == 1), row=1, col=c)
        fig.update_xaxes(type="log", title_text="directions q", row=1, col=c)
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="E‖ĝ − ∇f‖² / ‖∇f‖²", row=1, col=1)
    return base_layout(fig, title or "points: measured (±2 SE); dashed: theory law",
                       height=420, width=max(520, 330 * len(names)))


def bias_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Relative bias vs μ (log-log): measured points (±2 SE) and exact theory lines.

    ``df`` from :func:`zoo_lab.studies.bias_vs_mu`.
    """
    _need(df, ["label", "mu", "rel_bias", "se", "theory"])
    fig = go.Figure()
    for k, (label, g) in enumerate(df.groupby("label", sort=False)):
        color = COLORS[5] if label == "coordinate (central)" else estimator_color(label, k)
        fig.add_trace(go.Scatter(x=g.mu, y=g.theory, mode="lines", line=dict(color=color, dash="dash"),
                                 legendgroup=label, showlegend=False, name=f"{label} theory"))
        fig.add_trace(go.Scatter(x=g.mu, y=g.rel_bias, mode="markers", name=label, legendgroup=label,
                                 marker=dict(color=color, size=8),
                                 error_y=dict(type="data", array=2 * g.se, visible=True)))
    fig.update_xaxes(type="log", title_text="step μ")
    fig.update_yaxes(type="log", title_text="‖E ĝ − ∇f‖ / ‖∇f‖")
    return base_layout(fig, title or "bias on Σ exp(xᵢ): points measured, dashed exact",
                       height=450, width=720)


def unbiasedness_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Error of the mean of R estimates vs R (log-log), with the unbiased √(MSE/R) lines."""
    _need(df, ["estimator", "R", "rel_error_of_mean", "theory_unbiased"])
    fig = go.Figure()
    for k, (name, g) in enumerate(df.groupby("estimator", sort=False)):
        color = estimator_color(name, k)
        fig.add_trace(go.Scatter(x=g.R, y=g.theory_unbiased, mode="lines", legendgroup=name,
                                 line=dict(color=color, dash="dash"), showlegend=False))
        fig.add_trace(go.Scatter(x=g.R, y=g.rel_error_of_mean, mode="lines+markers", name=name,
                                 legendgroup=name, line=dict(color=color)))
    fig.update_xaxes(type="log", title_text="number of estimates averaged R")
    fig.update_yaxes(type="log", title_text="‖mean ĝ − ∇f‖ / ‖∇f‖")
    return base_layout(fig, title or "dashed: √(MSE/R), what an unbiased estimator gives",
                       height=420, width=680)


def estimator_cosine_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Mean cosine similarity to ∇f vs q/d (log x), colour per estimator, symbol per d."""
    _need(df, ["estimator", "d", "q_over_d", "cosine", "reference"])
    fig = go.Figure()
    symbols = ("circle", "square", "diamond", "triangle-up", "x")
    dims = sorted(df.d.unique())
    for k, (name, g) in enumerate(df.groupby("estimator", sort=False)):
        for j, d in enumerate(dims):
            h = g[g.d == d].sort_values("q_over_d")
            fig.add_trace(go.Scatter(x=h.q_over_d, y=h.cosine, mode="lines+markers",
                                     name=f"{name}, d={d}", legendgroup=name,
                                     line=dict(color=estimator_color(name, k), width=1),
                                     marker=dict(symbol=symbols[j % len(symbols)], size=7)))
    r = np.logspace(np.log10(df.q_over_d.min()), np.log10(df.q_over_d.max()), 50)
    fig.add_trace(go.Scatter(x=r, y=1 / np.sqrt(1 + 1 / r), mode="lines", name="1/√(1 + d/q)",
                             line=dict(color="black", dash="dash")))
    fig.update_xaxes(type="log", title_text="q / d")
    fig.update_yaxes(title_text="mean cos(ĝ, ∇f)", range=[0, 1.05])
    return base_layout(fig, title, height=450, width=760)


def zo_iterations_figure(df: pd.DataFrame, slope: float | None = None,
                         title: str | None = None) -> go.Figure:
    """Iterations to tolerance vs d (log-log) for each method: seeds as points, median as line."""
    _need(df, ["method", "d", "iterations"])
    fig = go.Figure()
    for k, (method, g) in enumerate(df.groupby("method", sort=False)):
        color = COLORS[k]
        fig.add_trace(go.Scatter(x=g.d, y=g.iterations, mode="markers", marker=dict(color=color, size=6,
                                 opacity=0.5), legendgroup=method, showlegend=False))
        m = g.groupby("d").iterations.median()
        fig.add_trace(go.Scatter(x=m.index, y=m.values, mode="lines+markers", name=method,
                                 line=dict(color=color), legendgroup=method))
    fig.update_xaxes(type="log", title_text="dimension d")
    fig.update_yaxes(type="log", title_text="iterations to f ≤ tol·f(x₀)")
    t = title or (f"ZO-SGD log-log slope {slope:.2f}" if slope is not None else None)
    return base_layout(fig, t, height=420, width=640)


def budget_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Final f/f₀ vs q at a fixed query budget: seeds as points, median as line (log-log)."""
    _need(df, ["q", "rel_f"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=df.q, y=df.rel_f, mode="markers", name="seeds",
                             marker=dict(color=COLORS[0], opacity=0.4)))
    m = df.groupby("q").rel_f.median()
    fig.add_trace(go.Scatter(x=m.index, y=m.values, mode="lines+markers", name="median",
                             line=dict(color=COLORS[0])))
    fig.update_xaxes(type="log", title_text="directions per step q")
    fig.update_yaxes(type="log", title_text="f(x_final) / f(x₀)")
    return base_layout(fig, title, height=420, width=640)


def explorer_figure(mse: pd.DataFrame, fd: pd.DataFrame, q: int, mu: float,
                    title: str | None = None) -> go.Figure:
    """Two panels for the explorer: sampling error vs q, finite-difference error vs μ.

    Traces are named (the widget updates them in place by name): "linear-f law", "measured",
    "current q", "FD error", "current μ".
    """
    _need(mse, ["q", "rel_mse", "theory"])
    _need(fd, ["mu", "fd_error"])
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "sampling error: E‖ĝ − ∇f‖²/‖∇f‖² vs q", "finite-difference error vs μ (same directions)"))
    fig.add_trace(go.Scatter(x=mse.q, y=mse.theory, mode="lines", name="linear-f law",
                             line=dict(color="black", dash="dash")), row=1, col=1)
    fig.add_trace(go.Scatter(x=mse.q, y=mse.rel_mse, mode="markers", name="measured",
                             marker=dict(color=COLORS[0], size=8)), row=1, col=1)
    cur = mse[mse.q == q]
    fig.add_trace(go.Scatter(x=cur.q, y=cur.rel_mse, mode="markers", name="current q",
                             marker=dict(color=COLORS[3], size=14, symbol="circle-open",
                                         line=dict(width=3))), row=1, col=1)
    fig.add_trace(go.Scatter(x=fd.mu, y=fd.fd_error, mode="lines+markers", name="FD error",
                             line=dict(color=COLORS[1])), row=1, col=2)
    y = float(np.interp(np.log(mu), np.log(fd.mu), fd.fd_error))
    fig.add_trace(go.Scatter(x=[mu], y=[y], mode="markers", name="current μ",
                             marker=dict(color=COLORS[3], size=14, symbol="circle-open",
                                         line=dict(width=3))), row=1, col=2)
    fig.update_xaxes(type="log", title_text="directions q", row=1, col=1)
    fig.update_xaxes(type="log", title_text="step μ", row=1, col=2)
    fig.update_yaxes(type="log")
    return base_layout(fig, title, height=420, width=980)
