"""The ZO-optimizers panel of notebook 08: one ZO method against Nelder-Mead and CMA-ES."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from zoo_lab._util.validate import renamed
from zoo_lab.plots._style import base_layout, color_for, major_log_ticks, trace_named
from zoo_lab.studies.zo_optimizers import ZO_OPTIMIZERS, zo_convergence
from zoo_lab.widgets._panel import (
    assemble,
    dropdown,
    float_log_slider,
    int_slider,
    status_line,
    wire,
)

__all__ = ["zo_optimizer_explorer", "update_zo_optimizer_figure", "ZO_PANEL_FUNCTIONS"]

ZO_PANEL_FUNCTIONS: tuple[str, ...] = ("sphere", "rosenbrock", "ackley", "zakharov", "rastrigin")
_LINES = ("zo method", "nelder_mead", "cmaes")
_LR = {"zo_sgd": 0.02, "zo_adam": 0.1, "zo_signsgd": 0.05}  # fraction of the box width per step


def _empty_figure() -> go.Figure:
    # meta keeps each line's role: the "zo method" line's legend name becomes the method's
    fig = go.Figure([go.Scatter(x=[], y=[], mode="lines", name=name, meta=name,
                                line=dict(color=color_for(name, k)))
                     for k, name in enumerate(_LINES)])
    fig.update_xaxes(type="log", title_text="function evaluations (queries)")
    fig.update_yaxes(type="log", title_text="best f − f* so far (noise-free)")
    return base_layout(fig, None, height=420, width=760)


@renamed(budget="max_evals")
def update_zo_optimizer_figure(fig: go.Figure, function: str, method: str, dim: int, q: int,
                               noise: float, max_evals: int = 1500, seed: int = 0) -> str:
    """Rerun ``method`` (step = a fixed fraction of the box), Nelder-Mead and CMA-ES; redraw the three curves."""
    if function not in ZO_PANEL_FUNCTIONS:
        raise ValueError(f"function: got {function!r}; allowed: {', '.join(ZO_PANEL_FUNCTIONS)}")
    if method not in ZO_OPTIMIZERS:
        raise ValueError(f"method: got {method!r}; allowed: {', '.join(ZO_OPTIMIZERS)}")
    from zoo_lab.studies.zo_optimizers import zo_problem

    p = zo_problem(function, dim)
    width = float(np.mean(p.bounds[:, 1] - p.bounds[:, 0]))
    df = zo_convergence(p, methods=(method, "nelder_mead", "cmaes"), max_evals=max_evals, seeds=[seed], q=q,
                        lr={method: _LR[method] * width / (10 if method == "zo_sgd" else 1)},
                        noise=noise)
    parts = []
    with fig.batch_update():
        for role, name in zip(_LINES, (method, "nelder_mead", "cmaes"), strict=True):
            g, trace = df[df["method"] == name], trace_named(fig, role)
            trace.x, trace.y, trace.name = g["n_evals"], np.maximum(g["gap"], 1e-16), name
            parts.append(f"{name}: {g['gap'].iloc[-1]:.3g}")
        fig.layout.title.text = f"{function}, d = {dim}, q = {q}, noise σ = {noise:g}"
        major_log_ticks(fig)
    return f"best f − f* after {max_evals} queries: " + "; ".join(parts)


def zo_optimizer_explorer(function: str = "sphere", method: str = "zo_adam", dim: int = 10,
                          q: int = 10, noise: float = 1e-3) -> W.VBox:
    """A panel: a ZO optimizer against Nelder-Mead and CMA-ES as dimension, q and noise change."""
    fig = go.FigureWidget(_empty_figure())
    controls = dict(
        function=dropdown(ZO_PANEL_FUNCTIONS, function, "function"),
        method=dropdown(ZO_OPTIMIZERS, method, "ZO method"),
        dim=int_slider(dim, 2, 50, "dimension d"),
        q=int_slider(q, 1, 40, "q"),
        noise=float_log_slider(noise, -6, 1, "noise σ"),
    )
    status = status_line()
    refresh = wire(controls, lambda **v: update_zo_optimizer_figure(fig, **v), status)
    rows = [W.HBox([controls["function"], controls["method"]]),
            W.HBox([controls["dim"], controls["q"], controls["noise"]])]
    return assemble(rows, status, fig, controls, refresh)
