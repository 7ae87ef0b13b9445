"""Quality of a design: discrepancy and the smallest pairwise distance, in the unit cube."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import qmc

from zoo_lab._util.validate import check_bounds, check_choice

__all__ = ["discrepancy", "min_distance", "to_unit"]

_DISCREPANCY_METHODS = ("CD", "WD", "MD", "L2-star")


def to_unit(X, bounds) -> np.ndarray:
    """Map points in ``bounds`` to the unit cube (inverse of :func:`sample`'s scaling)."""
    b = check_bounds(bounds)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != b.shape[0]:
        raise ValueError(f"X: expected shape (n, {b.shape[0]}), got {X.shape}")
    return (X - b[:, 0]) / (b[:, 1] - b[:, 0])


def discrepancy(X, bounds, method: str = "CD") -> float:
    """Discrepancy of design ``X`` after mapping ``bounds`` to the unit cube (lower: more uniform).

    ``method`` is one of ``"CD"`` (centered L2, default), ``"WD"`` (wrap-around),
    ``"MD"`` (mixture) or ``"L2-star"``; see :func:`scipy.stats.qmc.discrepancy`.
    """
    check_choice("method", method, _DISCREPANCY_METHODS)
    U = to_unit(X, bounds)
    if not np.all(np.isfinite(U)):
        bad = int(np.flatnonzero(~np.isfinite(U).all(axis=1))[0])
        raise ValueError(f"X: row {bad} is not finite ({np.asarray(X)[bad].tolist()}); "
                         "discrepancy needs finite points")
    if np.any(U < 0) or np.any(U > 1):
        raise ValueError("X: every point must lie inside bounds to measure its discrepancy")
    return float(qmc.discrepancy(U, method=method))


def min_distance(X, bounds=None) -> float:
    """Smallest pairwise Euclidean distance in ``X`` (in the unit cube when ``bounds`` is given)."""
    U = np.asarray(X, dtype=float) if bounds is None else to_unit(X, bounds)
    if U.ndim != 2 or U.shape[0] < 2:
        raise ValueError(f"X: need shape (n, d) with n >= 2, got {U.shape}")
    return float(pdist(U).min())
