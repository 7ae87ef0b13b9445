"""Points on a 2-D slice of a box: the grid behind every landscape figure and panel."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zoo_lab._util.validate import check_bounds, check_int

__all__ = ["slice_points", "slice_values"]


def slice_points(bounds, n: int, axes=(0, 1), center=None):
    """``(xs, ys, P)``: an n x n grid over ``axes`` of the box, every other coordinate at ``center``.

    ``P`` has shape (n*n, d) in row-major order of (y, x), so ``f(P).reshape(n, n)`` is a
    heatmap with ``xs`` along its columns. ``center`` defaults to the box centre.
    """
    b = check_bounds(bounds)
    n = check_int("n", n, 2)
    d = b.shape[0]
    i, j = axes
    if not (0 <= i < d and 0 <= j < d and i != j):
        raise ValueError(f"axes: need two distinct indices in [0, {d}), got {axes}")
    c = b.mean(axis=1) if center is None else np.asarray(center, dtype=float)
    if c.shape != (d,):
        raise ValueError(f"center: expected shape ({d},), got {c.shape}")
    xs, ys = np.linspace(b[i, 0], b[i, 1], n), np.linspace(b[j, 0], b[j, 1], n)
    XX, YY = np.meshgrid(xs, ys)
    P = np.tile(c, (n * n, 1))
    P[:, i], P[:, j] = XX.ravel(), YY.ravel()
    return xs, ys, P


def slice_values(fun: Callable, bounds, n: int, axes=(0, 1), center=None):
    """``(xs, ys, Z)``: ``fun`` on the slice of :func:`slice_points`, Z of shape (n, n), one batched call."""
    xs, ys, P = slice_points(bounds, n, axes, center)
    return xs, ys, np.asarray(fun(P), dtype=float).reshape(len(ys), len(xs))
