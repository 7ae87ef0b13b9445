"""The estimator panel of notebook 02: estimator, dimension, q, μ, difference, dtype."""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go

from zoo_lab.plots._style import major_log_ticks, trace_named
from zoo_lab.plots.estimators import explorer_figure
from zoo_lab.studies.estimators import fd_error_vs_mu, relative_mse_vs_q
from zoo_lab.widgets._panel import (
    assemble,
    dropdown,
    float_log_slider,
    int_slider,
    status_line,
    wire,
)
from zoo_lab.zo import estimators

__all__ = ["estimator_explorer", "estimator_explorer_data", "update_estimator_figure"]


_CACHE_SIZE = 64


def _cached(cache: dict | None, key: tuple, make):
    """``make()``, kept in ``cache`` under ``key`` (oldest entry dropped when full)."""
    if cache is None:
        return make()
    if key not in cache:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = make()
    return cache[key]


def estimator_explorer_data(estimator: str, dim: int, q: int, mu: float, difference: str,
                            dtype: str = "float64", reps: int = 60, seed: int = 0,
                            _cache: dict | None = None):
    """The two tables behind the panel: (relative MSE vs q on a linear f, FD error vs μ).

    With ``_cache`` (a dict) each table is kept per the settings it depends on, so a
    control that changes only one of them (dtype, a power-of-two q) recomputes only that one.
    """
    est = estimators.make(estimator, q=q, mu=mu, difference=difference, dtype=dtype)
    if estimator in ("orthogonal", "coordinate") and q > dim:
        raise ValueError(f"q: {estimator} uses at most d={dim} directions, got q={q}")
    qs = sorted({2**k for k in range(7)} | {q})
    if estimator in ("orthogonal", "coordinate"):
        qs = [k for k in qs if k <= dim]
    mse = _cached(_cache, ("mse", estimator, dim, tuple(qs), mu, difference, reps, seed),
                  lambda: relative_mse_vs_q(names=(estimator,), dims=(dim,), qs=qs, reps=reps,
                                            mu=mu, difference=difference, seed=seed))
    fd = _cached(_cache, ("fd", estimator, dim, q, difference, dtype, reps, seed),  # μ-free
                 lambda: fd_error_vs_mu(est, dim, reps=max(4, reps // 10), seed=seed))
    return mse, fd


def update_estimator_figure(fig: go.Figure, estimator: str, dim: int, q: int, mu: float,
                            difference: str, dtype: str = "float64", reps: int = 60,
                            seed: int = 0, _cache: dict | None = None) -> str:
    """Redraw ``fig`` (made by :func:`explorer_figure`) in place; return an HTML summary."""
    mse, fd = estimator_explorer_data(estimator, dim, q, mu, difference, dtype, reps, seed, _cache)
    cur = mse[mse.q == q]
    fresh = explorer_figure(mse, fd, q, mu)
    with fig.batch_update():
        for new in fresh.data:
            old = trace_named(fig, new.name)
            old.x, old.y = new.x, new.y
        fig.layout.title.text = f"{estimator} ({difference}, {dtype}), d = {dim}, q = {q}, μ = {mu:.1e}"
        major_log_ticks(fig)  # the decades spanned change with the setting
    est = estimators.make(estimator, q=q, mu=mu, difference=difference, dtype=dtype)
    measured, law = float(cur.rel_mse.iloc[0]), float(cur.theory.iloc[0])
    return (f"relative MSE at q={q}: measured <b>{measured:.3g}</b>, law <b>{law:.3g}</b>; "
            f"{est.n_evals(dim)} queries per estimate")


def estimator_explorer(estimator: str = "gaussian", dim: int = 16, q: int = 4, mu: float = 1e-4,
                       difference: str = "forward") -> W.VBox:
    """A panel to explore one ZO estimator: its sampling error vs q and its FD error vs μ."""
    mse, fd = estimator_explorer_data(estimator, dim, q, mu, difference)
    fig = go.FigureWidget(explorer_figure(mse, fd, q, mu))
    controls = dict(
        estimator=dropdown(estimators.NAMES, estimator, "estimator"),
        dim=int_slider(dim, 1, 128, "dimension d"),
        q=int_slider(q, 1, 64, "directions q"),
        mu=float_log_slider(mu, -12, 0, "step μ"),
        difference=dropdown(estimators.DIFFERENCES, difference, "difference"),
        dtype=dropdown(("float64", "float32"), "float64", "dtype"),
    )
    status = status_line()
    cache: dict = {}
    refresh = wire(controls, lambda **v: update_estimator_figure(fig, _cache=cache, **v), status)
    rows = [W.HBox([controls["estimator"], controls["difference"], controls["dtype"]]),
            W.HBox([controls["dim"], controls["q"], controls["mu"]])]
    return assemble(rows, status, fig, controls, refresh)
