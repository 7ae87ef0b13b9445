"""The capstone panel of notebook 09: misfit against solver runs for the methods of the course."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from zoo_lab._util.validate import renamed
from zoo_lab.plots._style import base_layout, color_for, major_log_ticks, trace_named
from zoo_lab.studies.capstone import capstone_task
from zoo_lab.studies.zo_optimizers import ZOProblem, zo_convergence
from zoo_lab.widgets._panel import assemble, float_log_slider, int_slider, status_line, wire

__all__ = ["capstone_explorer", "update_capstone_figure", "CAPSTONE_METHODS"]

CAPSTONE_METHODS: tuple[str, ...] = ("nelder_mead", "cmaes", "zo_adam", "zo_signsgd")
_LR = {"zo_adam": 0.05, "zo_signsgd": 0.02}


def _empty_figure() -> go.Figure:
    fig = go.Figure([go.Scatter(x=[], y=[], mode="lines", name=m, line=dict(color=color_for(m, k)))
                     for k, m in enumerate(CAPSTONE_METHODS)])
    fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name="noise floor σ²",
                             line=dict(color="#999", dash="dot")))
    fig.update_xaxes(title_text="solver runs")
    fig.update_yaxes(type="log", title_text="best misfit so far")
    return base_layout(fig, None, height=420, width=760)


@renamed(budget="max_evals")
def update_capstone_figure(fig: go.Figure, zones: int, max_evals: int, noise: float, seed: int = 0) -> str:
    """Run every method of :data:`CAPSTONE_METHODS` on one fresh task; redraw misfit against runs."""
    task = capstone_task(int(zones), int(max_evals), float(noise), seed=int(seed))
    rod, obs, b = task.rod, task.observed, task.bounds

    def misfit(X):
        return np.mean((rod(np.clip(X, b[:, 0], b[:, 1])) - obs) ** 2, axis=1)

    p = ZOProblem("heat", misfit, b, 0.0, b.mean(1), np.full(task.zones, np.nan))
    df = zo_convergence(p, methods=CAPSTONE_METHODS, max_evals=int(max_evals), seeds=[int(seed)], q=4,
                        mu=1e-3, lr=_LR)
    parts = []
    with fig.batch_update():
        for m in CAPSTONE_METHODS:
            g = df[df["method"] == m]
            trace = trace_named(fig, m)
            trace.x, trace.y = g["n_evals"], np.maximum(g["gap"], 1e-16)
            parts.append(f"{m}: {g['gap'].min():.2g}")
        floor = trace_named(fig, "noise floor σ²")
        floor.x, floor.y = [1, int(max_evals)], [max(noise**2, 1e-16)] * 2
        fig.layout.title.text = f"heat rod, {zones} zones, {max_evals} runs, reading noise σ = {noise:g}"
        major_log_ticks(fig)
    return f"best misfit (noise floor {noise**2:.1g}): " + "; ".join(parts)


@renamed(budget="max_evals")
def capstone_explorer(zones: int = 4, max_evals: int = 200, noise: float = 1e-3) -> W.VBox:
    """A panel: the course's derivative-free and ZO methods on the calibration task, as budget and noise change."""
    fig = go.FigureWidget(_empty_figure())
    controls = dict(zones=int_slider(zones, 2, 8, "zones"),
                    max_evals=int_slider(max_evals, 40, 600, "solver runs", step=20),
                    noise=float_log_slider(noise, -5, -1, "reading noise σ"))
    status = status_line()
    refresh = wire(controls, lambda **v: update_capstone_figure(fig, **v), status)
    return assemble([W.HBox(list(controls.values()))], status, fig, controls, refresh)
