"""The proxy-fitting panel of notebook 05: function, dimension, sample count, scheme, optimizer.

Each update draws a design, fits one proxy and redraws true / proxy / error
heatmaps. In d > 2 the heatmaps are the 2-D slice through x* along (x1, x2)
and the training points are projected onto it, so the picture is exact only in 2-D;
the metrics in the status line are over the whole box.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from zoo_lab import sampling
from zoo_lab.plots.proxy import landscape_figure, landscape_grid
from zoo_lab.problems import functions
from zoo_lab.surrogate import proxy
from zoo_lab.widgets._panel import assemble, dropdown, int_slider, status_line, wire

__all__ = ["proxy_explorer", "update_proxy_figure", "PROXY_FUNCTIONS"]

PROXY_FUNCTIONS: tuple[str, ...] = ("rastrigin", "ackley", "rosenbrock", "styblinski_tang",
                                    "sphere", "levy", "griewank")
_N_CHOICES = (16, 32, 64, 128, 256, 512, 1024)
_PANEL_FIT = dict(hidden=(64, 64), max_iter=300, epochs=300)


def update_proxy_figure(fig: go.Figure, function: str, dim: int, n: int, scheme: str,
                        optimizer: str, seed: int = 0, resolution: int = 60,
                        fit_options: dict | None = None) -> str:
    """Refit the proxy and redraw ``fig`` (made by :func:`landscape_figure`) in place; return a summary."""
    if function not in PROXY_FUNCTIONS:
        raise ValueError(f"function: got {function!r}; allowed: {', '.join(PROXY_FUNCTIONS)}")
    if optimizer not in proxy.OPTIMIZERS:
        raise ValueError(f"optimizer: got {optimizer!r}; allowed: {', '.join(proxy.OPTIMIZERS)}")
    f = functions.get(function, int(dim))
    X = sampling.sample(scheme, int(n), f.bounds, seed=int(seed), sobol_n="round_up")
    p = proxy.fit(X, f(X), bounds=f.bounds, optimizer=optimizer, seed=int(seed),
                  **(fit_options or _PANEL_FIT))
    m = proxy.evaluate(p, f, n_test=1024, seed=12345, n_starts=0)
    x, y, Zt, Zp = landscape_grid(f, p, resolution)
    lo, hi = float(min(Zt.min(), Zp.min())), float(max(Zt.max(), Zp.max()))
    with fig.batch_update():
        true, prox, err, pts = fig.data[:4]
        for tr, z in ((true, Zt), (prox, Zp), (err, np.abs(Zp - Zt))):
            tr.x, tr.y, tr.z = x, y, z
        true.zmin = prox.zmin = lo
        true.zmax = prox.zmax = hi
        pts.x, pts.y = X[:, 0], X[:, 1]
        where = "" if f.dim == 2 else " (slice through x* on x1, x2)"
        fig.layout.title.text = f"{function} {f.dim}D, {scheme} n = {len(X)}, {optimizer}{where}"
    return (f"test RMSE <b>{m['rmse']:.3g}</b> (std-normalised {m['nrmse']:.3g}), "
            f"R² <b>{m['r2']:.3f}</b>, Spearman {m['spearman']:.3f}, "
            f"fit {p.settings['fit_time']:.2f} s over {len(p.history)} steps")


def proxy_explorer(function: str = "rastrigin", dim: int = 2, n: int = 256, scheme: str = "sobol",
                   optimizer: str = "lbfgs", seed: int = 0) -> W.VBox:
    """A panel to fit a proxy interactively: pick function, dimension, n, scheme, optimizer and seed."""
    if function not in PROXY_FUNCTIONS:
        raise ValueError(f"function: got {function!r}; allowed: {', '.join(PROXY_FUNCTIONS)}")
    if scheme not in sampling.SCHEMES:
        raise ValueError(f"scheme: unknown {scheme!r}; allowed: {', '.join(sampling.SCHEMES)}")
    f0 = functions.get("sphere", 2)
    fig = go.FigureWidget(landscape_figure(f0, lambda P: P[:, 0] * 0.0, X=np.zeros((1, 2)),
                                           resolution=2))
    controls = dict(
        function=dropdown(PROXY_FUNCTIONS, function, "function"),
        dim=int_slider(dim, 2, 10, "dimension d"),
        n=dropdown(sorted(set(_N_CHOICES) | {n}), n, "samples n"),
        scheme=dropdown(sampling.SCHEMES, scheme, "scheme"),
        optimizer=dropdown(proxy.OPTIMIZERS, optimizer, "optimizer"),
        seed=int_slider(seed, 0, 20, "seed"),
    )
    status = status_line()
    refresh = wire(controls, lambda **v: update_proxy_figure(fig, **v), status)
    rows = [W.HBox([controls["function"], controls["dim"], controls["n"]]),
            W.HBox([controls["scheme"], controls["optimizer"], controls["seed"]])]
    return assemble(rows, status, fig, controls, refresh)
