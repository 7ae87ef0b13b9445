"""The sampling-design panel of notebook 01: scheme, dimension, sample count, seed."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from zoo_lab import sampling
from zoo_lab.plots._style import color_for, trace_named
from zoo_lab.plots.sampling import design_figure
from zoo_lab.widgets._panel import (
    assemble,
    axis_dropdown,
    axis_options,
    dropdown,
    int_slider,
    status_line,
    wire,
)

__all__ = ["sampling_explorer", "update_sampling_figure"]

_N_CHOICES = (8, 16, 32, 50, 64, 100, 128, 256, 512, 1024)


_MAX_STRATA_N = 128  # above this the n x n strata grid is a grey wash, not a picture
_CACHE_SIZE = 64


def _design(scheme: str, dim: int, n: int, seed: int, cache: dict | None):
    """The design and its two numbers for one setting, from ``cache`` when seen before."""
    key = (scheme, int(dim), int(n), int(seed))
    if cache is not None and key in cache:
        return cache[key]
    bounds = np.tile([0.0, 1.0], (dim, 1))
    X = sampling.sample(scheme, n, bounds, seed=seed, sobol_n="round_up")
    cd = sampling.discrepancy(X, bounds)
    md = sampling.min_distance(X) if len(X) > 1 else float("nan")
    if cache is not None:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = (X, cd, md)
    return X, cd, md


def _strata_xy(m: int) -> tuple[list, list]:
    """The m x m strata lines of the unit square as one None-separated polyline (one trace)."""
    xs: list = []
    ys: list = []
    for k in range(1, m):
        xs += [k / m, k / m, None, 0.0, 1.0, None]
        ys += [0.0, 1.0, None, k / m, k / m, None]
    return xs, ys


def update_sampling_figure(fig: go.Figure, scheme: str, dim: int, n: int, seed: int,
                           x_axis: int = 0, y_axis: int = 1, grid: bool = False,
                           _cache: dict | None = None) -> str:
    """Redraw ``fig`` (made by :func:`design_figure`) in place for a new design; return a summary.

    The design lives in the unit cube ``[0, 1]^dim``; ``x_axis``/``y_axis``
    pick the two coordinates shown (0-based; labelled x1 … xd). With ``_cache`` (a dict)
    designs are kept per setting, so changing only the axes or the strata never resamples.
    """
    if not 0 <= x_axis < dim or not 0 <= y_axis < dim or x_axis == y_axis:
        raise ValueError(f"x_axis, y_axis: need two distinct axes among x1 … x{dim} (0-based "
                         f"indices in [0, {dim})), got {x_axis}, {y_axis}")
    X, cd, md = _design(scheme, dim, n, seed, _cache)
    color = color_for(scheme)
    names = [t.name for t in fig.data]
    if "strata" not in names:  # a figure from design_figure: add the (empty) strata trace once
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name="strata", hoverinfo="skip",
                                 line=dict(width=0.5, color="#ccc")))
    show_strata = grid and len(X) <= _MAX_STRATA_N
    with fig.batch_update():
        pts, rug_x, rug_y = (trace_named(fig, k) for k in ("points", "x-projection", "y-projection"))
        pts.x, pts.y = X[:, x_axis], X[:, y_axis]
        rug_x.x, rug_x.y = X[:, x_axis], np.full(len(X), -0.03)
        rug_y.x, rug_y.y = np.full(len(X), -0.03), X[:, y_axis]
        for t in (pts, rug_x, rug_y):
            t.marker.color = color
        strata = trace_named(fig, "strata")
        strata.x, strata.y = _strata_xy(len(X)) if show_strata else ([], [])
        fig.layout.shapes = ()
        fig.layout.xaxis.title.text = f"x{x_axis + 1}"
        fig.layout.yaxis.title.text = f"x{y_axis + 1}"
        fig.layout.title.text = f"{scheme}, d = {dim}, n = {len(X)}"
    note = "" if len(X) == n else f" (Sobol rounded up from {n} to the power of two {len(X)})"
    if grid and not show_strata:
        note += f"; strata drawn for n ≤ {_MAX_STRATA_N} only (finer grids hide the points)"
    return f"centered L2 discrepancy <b>{cd:.3g}</b>, min distance <b>{md:.3g}</b>{note}"


def sampling_explorer(scheme: str = "sobol", dim: int = 2, n: int = 64, seed: int = 0) -> W.VBox:
    """A panel to compare designs: pick scheme, dimension, n, seed and the two axes shown."""
    if scheme not in sampling.SCHEMES:
        raise ValueError(f"scheme: unknown {scheme!r}; allowed: {', '.join(sampling.SCHEMES)}")
    bounds = np.tile([0.0, 1.0], (dim, 1))
    fig = go.FigureWidget(design_figure(sampling.sample(scheme, n, bounds, seed=seed,
                                                        sobol_n="round_up"), bounds))
    controls = dict(
        scheme=dropdown(sampling.SCHEMES, scheme, "scheme"),
        dim=int_slider(dim, 2, 10, "dimension d"),
        n=dropdown(sorted(set(_N_CHOICES) | {n}), n, "points n"),
        seed=int_slider(seed, 0, 20, "seed"),
        x_axis=axis_dropdown(dim, 0, "x axis"),
        y_axis=axis_dropdown(dim, 1, "y axis"),
        grid=W.Checkbox(value=False, description=f"show n x n strata (n ≤ {_MAX_STRATA_N})"),
    )

    def on_dim(change) -> None:  # keep the axis choices valid for the new dimension
        d = change["new"]
        for key, default in (("x_axis", 0), ("y_axis", 1)):
            c = controls[key]
            keep = c.value if c.value < d else default
            c.options, c.value = axis_options(d), keep

    def swap(other: str):  # choosing the axis already on the other side swaps the two
        def handler(change) -> None:
            if controls[other].value == change["new"]:
                controls[other].value = change["old"]
        return handler

    controls["dim"].observe(on_dim, names="value")
    controls["x_axis"].observe(swap("y_axis"), names="value")
    controls["y_axis"].observe(swap("x_axis"), names="value")
    status = status_line()
    cache: dict = {}
    refresh = wire(controls, lambda **v: update_sampling_figure(fig, _cache=cache, **v), status)
    rows = [W.HBox([controls["scheme"], controls["dim"], controls["n"]]),
            W.HBox([controls["seed"], controls["x_axis"], controls["y_axis"], controls["grid"]])]
    return assemble(rows, status, fig, controls, refresh)
