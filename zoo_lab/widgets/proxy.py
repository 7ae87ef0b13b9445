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
from zoo_lab.plots._style import trace_named
from zoo_lab.plots.proxy import landscape_figure, landscape_grid
from zoo_lab.problems import functions
from zoo_lab.surrogate import proxy
from zoo_lab.widgets._panel import assemble, dropdown, int_slider, status_line, wire

__all__ = ["proxy_explorer", "update_proxy_figure", "PROXY_FUNCTIONS"]

PROXY_FUNCTIONS: tuple[str, ...] = ("rastrigin", "ackley", "rosenbrock", "styblinski_tang",
                                    "sphere", "levy", "griewank")
_N_CHOICES = (16, 32, 64, 128, 256, 512, 1024)
# Panel budgets: small nets and short runs keep every setting near or under a second on a
# shared 2-core CPU; the notebook's own studies use the full budgets of proxy.fit.
_PANEL_FIT = {
    "lbfgs": dict(hidden=(32, 32), max_iter=150),
    "adam": dict(hidden=(32, 32), epochs=150, patience=40),
    "adam_then_lbfgs": dict(hidden=(32, 32), epochs=40, patience=15, max_iter=80),
}
_ADAM_BATCHES = 4  # mini-batches per epoch: batch size grows with n, so cost stays flat
_CACHE_SIZE = 32


def _fit_options(optimizer: str, n: int) -> dict:
    opts = dict(_PANEL_FIT[optimizer])
    if "epochs" in opts:
        opts["batch_size"] = max(32, -(-n // _ADAM_BATCHES))
    return opts


def update_proxy_figure(fig: go.Figure, function: str, dim: int, n: int, scheme: str,
                        optimizer: str, seed: int = 0, resolution: int = 60,
                        fit_options: dict | None = None, _cache: dict | None = None) -> str:
    """Refit the proxy and redraw ``fig`` (made by :func:`landscape_figure`) in place; return a summary.

    With ``_cache`` (a dict) each setting is fitted once; going back to it redraws at once.
    """
    if function not in PROXY_FUNCTIONS:
        raise ValueError(f"function: got {function!r}; allowed: {', '.join(PROXY_FUNCTIONS)}")
    if optimizer not in proxy.OPTIMIZERS:
        raise ValueError(f"optimizer: got {optimizer!r}; allowed: {', '.join(proxy.OPTIMIZERS)}")
    key = (function, int(dim), int(n), scheme, optimizer, int(seed), int(resolution),
           repr(sorted((fit_options or {}).items())))
    if _cache is not None and key in _cache:
        X, grid, text = _cache[key]
    else:
        f = functions.get(function, int(dim))
        X = sampling.sample(scheme, int(n), f.bounds, seed=int(seed), sobol_n="round_up")
        p = proxy.fit(X, f(X), bounds=f.bounds, optimizer=optimizer, seed=int(seed),
                      **(fit_options or _fit_options(optimizer, len(X))))
        m = proxy.evaluate(p, f, n_test=1024, seed=12345, n_starts=0)
        grid = landscape_grid(f, p, resolution)
        text = (f"test RMSE <b>{m['rmse']:.3g}</b> (std-normalised {m['nrmse']:.3g}), "
                f"R² <b>{m['r2']:.3f}</b>, Spearman {m['spearman']:.3f}, "
                f"fit {p.settings['fit_time']:.2f} s over {len(p.history)} steps")
        if _cache is not None:
            if len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = (X, grid, text)
    x, y, Zt, Zp = grid
    lo, hi = float(min(Zt.min(), Zp.min())), float(max(Zt.max(), Zp.max()))
    with fig.batch_update():
        true, prox, err, pts = (trace_named(fig, k) for k in ("true", "proxy", "error",
                                                              "training points"))
        for tr, z in ((true, Zt), (prox, Zp), (err, np.abs(Zp - Zt))):
            tr.x, tr.y, tr.z = x, y, z
        true.zmin = prox.zmin = lo
        true.zmax = prox.zmax = hi
        pts.x, pts.y = X[:, 0], X[:, 1]
        where = "" if int(dim) == 2 else " (slice through x* on x1, x2)"
        fig.layout.title.text = f"{function} {int(dim)}D, {scheme} n = {len(X)}, {optimizer}{where}"
    return text


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
    cache: dict = {}

    def cost(function, dim, n, scheme, optimizer, seed) -> float:
        if (function, int(dim), int(n), scheme, optimizer, int(seed), 60, "[]") in cache:
            return 0.0
        return (2.0 if optimizer == "adam_then_lbfgs" else 1.0) * (1.0 + n / 256)

    refresh = wire(controls, lambda **v: update_proxy_figure(fig, _cache=cache, **v), status,
                   cost=cost)
    rows = [W.HBox([controls["function"], controls["dim"], controls["n"]]),
            W.HBox([controls["scheme"], controls["optimizer"], controls["seed"]])]
    return assemble(rows, status, fig, controls, refresh)
