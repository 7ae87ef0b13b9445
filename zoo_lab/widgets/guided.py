"""The proxy-guided ZO panel of notebook 07: does a proxy of a given quality save real queries?"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from zoo_lab._util.validate import renamed
from zoo_lab.plots._style import base_layout, color_for, major_log_ticks, trace_named
from zoo_lab.studies.guided import guided_problem, guided_proxy, guided_run
from zoo_lab.widgets._panel import assemble, dropdown, int_slider, status_line, wire

__all__ = ["guided_explorer", "update_guided_figure", "GUIDED_PANEL_ESTIMATORS"]

GUIDED_PANEL_ESTIMATORS: tuple[str, ...] = ("control_variate", "guided_es", "prior_guided")
_LINES = ("plain gaussian", "proxy only", "guided")


def _empty_figure() -> go.Figure:
    # meta keeps each line's role: the "guided" line's legend name becomes the estimator's
    fig = go.Figure([go.Scatter(x=[], y=[], mode="lines", name=name, meta=name,
                                line=dict(color=color_for(name, k), width=2 + (k == 2)))
                     for k, name in enumerate(_LINES)])
    fig.add_hline(y=1.0, line=dict(color="#999", dash="dot"))
    fig.update_xaxes(title_text="real-function rows evaluated")
    fig.update_yaxes(type="log", title_text="(f − f*) / (f₀ − f*)")
    return base_layout(fig, None, height=420, width=760)


@renamed(budget="max_evals")
def update_guided_figure(fig: go.Figure, estimator: str, dim: int, n_train: int, q: int,
                         seed: int = 0, function: str = "zakharov", max_evals: int = 1500,
                         lr: float = 0.05, target: float = 0.1,
                         _cache: dict | None = None) -> str:
    """Rerun plain Gaussian ZO, proxy-only and ``estimator`` (NN proxy on ``n_train`` Sobol points)."""
    if estimator not in GUIDED_PANEL_ESTIMATORS:
        raise ValueError(f"estimator: got {estimator!r}; allowed: {', '.join(GUIDED_PANEL_ESTIMATORS)}")
    prob = guided_problem(function, dim)
    key = (function, dim, n_train, seed)
    if _cache is not None and key in _cache:
        prox = _cache[key]
    else:
        prox = guided_proxy(prob, "nn", n_train=n_train, seed=seed, hidden=(32, 32))
        if _cache is not None:
            _cache[key] = prox
    lines, summary = [], []
    for method in ("gaussian", "proxy_only", estimator):
        res, queries, f0 = guided_run(prob, method, prox, q=q, lr=lr, max_evals=max_evals, target=target,
                                      seed=seed)
        gap = (res.history["current_fun"] - prob.f_opt) / (f0 - prob.f_opt)
        lines.append((res.history["n_evals"], np.maximum(gap, 1e-12)))
        summary.append(f"{method}: " + (f"<b>{queries:.0f}</b>" if np.isfinite(queries) else "missed"))
    with fig.batch_update():
        for role, (x, y) in zip(_LINES, lines, strict=True):
            trace = trace_named(fig, role)
            trace.x, trace.y = x, y
        trace_named(fig, "guided").name = estimator
        major_log_ticks(fig)  # the decades spanned change with the setting
        fig.layout.title.text = (f"{function}, d = {dim}, q = {q}, NN proxy from {n_train} points "
                                 f"(+{n_train} real rows to train it)")
    return f"rows to reach {target:g} of the start gap: " + "; ".join(summary)


def guided_explorer(estimator: str = "control_variate", dim: int = 10, n_train: int = 128,
                    q: int = 10, function: str = "zakharov") -> W.VBox:
    """A panel: ZO-Adam with a guided estimator vs plain ZO vs proxy-only, as proxy quality varies."""
    cache: dict = {}
    fig = go.FigureWidget(_empty_figure())
    controls = dict(
        estimator=dropdown(GUIDED_PANEL_ESTIMATORS, estimator, "estimator"),
        dim=int_slider(dim, 2, 30, "dimension d"),
        n_train=int_slider(n_train, 16, 1024, "proxy training points", step=16),
        q=int_slider(q, 2, 40, "q", step=2),
    )
    status = status_line()

    def cost(estimator, dim, n_train, q) -> float:  # proxy training dominates; runs are ~fixed
        trained = (function, dim, n_train, 0) in cache
        return 1.0 + (0.0 if trained else n_train / 64 * max(dim, 2) / 10)

    refresh = wire(controls, lambda **v: update_guided_figure(fig, function=function, _cache=cache, **v),
                   status, cost=cost)
    rows = [W.HBox([controls["estimator"], controls["dim"]]),
            W.HBox([controls["n_train"], controls["q"]])]
    return assemble(rows, status, fig, controls, refresh)
