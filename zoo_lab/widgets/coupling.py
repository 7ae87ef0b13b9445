"""The coupling panel of notebook 03: how good is BlackBox's ZO gradient through the heat solver?

The reference VJP is a central difference along every axis with a tiny step (accurate
to about 1e-10 here); notebook 03 checks estimates against the exact torch twin instead.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch

from zoo_lab.coupling.blackbox import BlackBox
from zoo_lab.plots._style import trace_named
from zoo_lab.plots.coupling import vjp_scatter
from zoo_lab.problems import heat
from zoo_lab.widgets._panel import (
    assemble,
    dropdown,
    float_log_slider,
    int_slider,
    status_line,
    wire,
)
from zoo_lab.zo import estimators

__all__ = ["coupling_explorer", "update_coupling_figure"]

_ROD = heat.HeatRod(n_cells=32, n_steps=40, t_final=0.5, n_snapshots=4)


def _reference_vjp(Z: np.ndarray, V: np.ndarray) -> np.ndarray:
    """vᵀJ by central differences of the numpy solver along each axis (error O(μ²) ~ 1e-10).

    The torch twin gives the same numbers (tests check it) but costs seconds on a busy CPU;
    2d solver rows per rod keep the panel quick.
    """
    h = 1e-5
    d = Z.shape[1]
    E = np.eye(d) * h
    P = np.concatenate([Z[:, None, :] + E, Z[:, None, :] - E], axis=1).reshape(-1, d)
    Y = _ROD(P).reshape(len(Z), 2 * d, -1)
    J = (Y[:, :d] - Y[:, d:]) / (2 * h)  # (n, d, out)
    return np.einsum("ndo,no->nd", J, V)


def update_coupling_figure(fig: go.Figure, estimator: str, q: int, mu: float, difference: str,
                           rows: int, seed: int, _cache: dict | None = None) -> str:
    """Redraw the scatter of ZO vs exact VJP entries for ``rows`` random rods; return a summary."""
    rng = np.random.default_rng(1000 + seed)
    Z = rng.uniform(_ROD.bounds[:, 0], _ROD.bounds[:, 1], size=(rows, _ROD.in_dim))
    V = rng.standard_normal((rows, _ROD.out_dim))
    key = (rows, seed)
    if _cache is not None and key in _cache:
        exact = _cache[key]
    else:
        exact = _reference_vjp(Z, V)
        if _cache is not None:
            _cache[key] = exact
    note = ""
    if estimator in ("coordinate", "orthogonal") and q > _ROD.in_dim:
        q, note = _ROD.in_dim, f" (q capped at d = {_ROD.in_dim} for {estimator})"
    est = estimators.make(estimator, q=q, mu=mu, difference=difference)
    box = BlackBox(_ROD, _ROD.in_dim, _ROD.out_dim, estimator=est, seed=seed, name=_ROD.name)
    g, cost = box.vjp(torch.as_tensor(Z), torch.as_tensor(V))
    g = g.numpy()
    cos = float(np.sum(g * exact) / (np.linalg.norm(g) * np.linalg.norm(exact)))
    new = vjp_scatter(g, exact, reference="")
    with fig.batch_update():
        zo, line = trace_named(fig, "ZO estimate"), trace_named(fig, "exact")
        zo.x, zo.y = exact.ravel(), g.ravel()
        ref = trace_named(new, "exact")
        line.x, line.y = ref.x, ref.y
        fig.layout.xaxis.range, fig.layout.yaxis.range = new.layout.xaxis.range, new.layout.yaxis.range
        fig.layout.title.text = f"{estimator}, q = {q}, μ = {mu:.1e}, {difference}"
    return (f"cosine to the reference VJP <b>{cos:.3f}</b>; backward cost <b>{cost}</b> "
            f"solver rows for {rows} rods ({cost // rows} per rod){note}")


def coupling_explorer(estimator: str = "gaussian", q: int = 8, mu: float = 1e-3,
                      difference: str = "forward", rows: int = 8, seed: int = 0) -> W.VBox:
    """A panel comparing BlackBox's ZO vector-Jacobian product with the torch twin's exact one."""
    cache: dict = {}
    fig = go.FigureWidget(vjp_scatter(np.zeros(1), np.zeros(1),
                                      reference="reference (central differences, h = 1e-5)"))
    controls = dict(
        estimator=dropdown(estimators.NAMES, estimator, "estimator"),
        q=int_slider(q, 1, 64, "q"),
        mu=float_log_slider(mu, -8, -1, "μ (≤ 0.1: larger steps leave the solver's domain)"),
        difference=dropdown(estimators.DIFFERENCES, difference, "difference"),
        rows=int_slider(rows, 1, 32, "rods in batch"),
        seed=int_slider(seed, 0, 20, "seed"),
    )
    status = status_line()
    refresh = wire(controls, lambda **v: update_coupling_figure(fig, _cache=cache, **v), status)
    rows_ = [W.HBox([controls["estimator"], controls["difference"], controls["q"]]),
             W.HBox([controls["mu"], controls["rows"], controls["seed"]])]
    return assemble(rows_, status, fig, controls, refresh)
