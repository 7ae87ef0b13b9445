"""The optimizer-stability panel of notebook 06: function, dimension, sample count, scheme, optimizer.

Each update fits one proxy and runs the chosen optimizer with the same seed on the
true function and on the proxy (:func:`zoo_lab.studies.stability_case`). The figure
shows both landscapes side by side with the population paths. In d > 2 the
landscapes are the 2-D slice through x* along (x1, x2) and the paths are projected
onto it, so the picture is exact only in 2-D.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from zoo_lab import sampling
from zoo_lab._util.grids import slice_values
from zoo_lab._util.validate import renamed
from zoo_lab.plots._style import trace_named
from zoo_lab.plots.stability import _path_xy, paths_figure
from zoo_lab.studies.optimizer_stability import CASE_OPTIMIZERS, stability_case
from zoo_lab.widgets._panel import assemble, dropdown, int_slider, status_line, wire

__all__ = ["stability_explorer", "update_stability_figure", "STABILITY_FUNCTIONS"]

STABILITY_FUNCTIONS: tuple[str, ...] = ("rastrigin", "ackley", "rosenbrock", "styblinski_tang",
                                        "sphere", "levy")
_N_CHOICES = (32, 64, 128, 256, 512, 1024, 2048)
_TRACE_NAMES = ("landscape", "paths", "start", "end", "x* (true)", "returned x")  # in each subplot
_PANEL_PROXY = dict(hidden=(32, 32), max_iter=300)


def _slice(fun, bounds: np.ndarray, x_opt: np.ndarray, n: int):
    """Grid values of ``fun`` on the (x1, x2) plane through x* (all other coordinates at x*)."""
    return slice_values(fun, bounds, n, (0, 1), x_opt)


def _empty_figure() -> go.FigureWidget:
    """The panel's figure with its fixed trace layout (filled by the first update)."""
    b = np.array([[0.0, 1.0], [0.0, 1.0]])
    t = np.zeros((2, 1, 2))
    fig = paths_figure(lambda X: X[:, 0] * 0, lambda X: X[:, 0] * 0, t, t, b, x_opt=[0.5, 0.5],
                       found=([0.5, 0.5], [0.5, 0.5]), n_grid=2)
    return go.FigureWidget(fig)


@renamed(budget="max_evals")
def update_stability_figure(fig: go.FigureWidget, function: str, dim: int, n_samples: int,
                            scheme: str, optimizer: str, seed: int = 0, max_evals: int = 2000,
                            n_grid: int = 60, max_particles: int = 20,
                            proxy_options: dict | None = None, _cache: dict | None = None) -> str:
    """Refit the proxy, rerun both optimizations and redraw ``fig`` in place; return a summary line."""
    if function not in STABILITY_FUNCTIONS:
        raise ValueError(f"function: got {function!r}; allowed: {', '.join(STABILITY_FUNCTIONS)}")
    case = stability_case(function, int(dim), scheme, int(n_samples), optimizer, int(seed),
                          max_evals=int(max_evals), proxy_options=proxy_options or _PANEL_PROXY,
                          proxy_cache=_cache)
    b, x_opt = case["bounds"], case["x_opt"]
    rows = case["rows"].set_index("on")
    with fig.batch_update():
        for col, (fun, run) in enumerate(((case["function"], case["run_true"]),
                                          (case["proxy"], case["run_proxy"]))):
            contour, paths, start, end, star, found = (
                trace_named(fig, name, "x" if col == 0 else "x2") for name in _TRACE_NAMES)
            contour.x, contour.y, contour.z = _slice(fun, b, x_opt, n_grid)
            traj = run.trajectory
            paths.x, paths.y = _path_xy(traj, max_particles)
            start.x, start.y = traj[0, :, 0], traj[0, :, 1]
            end.x, end.y = traj[-1, :, 0], traj[-1, :, 1]
            star.x, star.y = [x_opt[0]], [x_opt[1]]
            found.x, found.y = [run.x[0]], [run.x[1]]
            axis = "" if col == 0 else "2"
            fig.layout[f"xaxis{axis}"].range = list(b[0])
            fig.layout[f"yaxis{axis}"].range = list(b[1])
        where = "" if dim == 2 else " (slice through x* on x1, x2; paths projected)"
        fig.layout.title.text = (f"{optimizer.upper()} on {function} {dim}D, {scheme} n = "
                                 f"{len(case['X_train'])}{where}")
    t, p = rows.loc["true"], rows.loc["proxy"]
    return (f"true run: error <b>{t['error']:.3g}</b>, |x − x*| {t['dist_to_opt']:.3g} · "
            f"proxy run: true error <b>{p['error']:.3g}</b>, |x − x*| {p['dist_to_opt']:.3g}, "
            f"proxy gap {p['proxy_gap']:.3g}, basin {'hit' if p['basin_hit'] else 'missed'} · "
            f"proxy test NRMSE {case['proxy_test_nrmse']:.2f}")


@renamed(budget="max_evals")
def stability_explorer(function: str = "rastrigin", dim: int = 2, n_samples: int = 256,
                       scheme: str = "lhs", optimizer: str = "pso", seed: int = 0,
                       max_evals: int = 2000) -> W.VBox:
    """A panel: where does PSO/GA land on the proxy vs the true function, for one seed?"""
    if function not in STABILITY_FUNCTIONS:
        raise ValueError(f"function: got {function!r}; allowed: {', '.join(STABILITY_FUNCTIONS)}")
    if scheme not in sampling.SCHEMES:
        raise ValueError(f"scheme: got {scheme!r}; allowed: {', '.join(sampling.SCHEMES)}")
    if optimizer not in CASE_OPTIMIZERS:
        raise ValueError(f"optimizer: got {optimizer!r}; allowed: {', '.join(CASE_OPTIMIZERS)}")
    fig = _empty_figure()
    controls = dict(
        function=dropdown(STABILITY_FUNCTIONS, function, "function"),
        dim=int_slider(dim, 2, 10, "dimension d"),
        n_samples=dropdown(sorted(set(_N_CHOICES) | {n_samples}), n_samples, "training points"),
        scheme=dropdown(sampling.SCHEMES, scheme, "scheme"),
        optimizer=dropdown(CASE_OPTIMIZERS, optimizer, "optimizer"),
        seed=int_slider(seed, 0, 20, "seed"),
        max_evals=int_slider(max_evals, 500, 10000, "evaluations", step=500),
    )
    status = status_line()
    cache: dict = {}  # fitted proxies per setting: optimizer and budget changes never refit

    def cost(function, dim, n_samples, scheme, optimizer, seed, max_evals) -> float:
        fitted = any(k[:5] == (function, int(dim), scheme, int(n_samples), int(seed)) for k in cache)
        return max_evals / 2000 + (0.0 if fitted else 1.0 + n_samples / 512)

    refresh = wire(controls, lambda **v: update_stability_figure(fig, _cache=cache, **v), status,
                   cost=cost)
    rows = [W.HBox([controls["function"], controls["dim"], controls["n_samples"]]),
            W.HBox([controls["scheme"], controls["optimizer"], controls["seed"], controls["max_evals"]])]
    return assemble(rows, status, fig, controls, refresh)
