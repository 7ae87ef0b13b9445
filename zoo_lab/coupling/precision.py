"""How many significant digits a program's outputs carry, and whether that is enough for a step μ.

A program that prints its results (a ``Command``, an awk or C program with ``%g``)
hands back decimal numbers rounded to a few digits. The shortest ``repr`` of such a
float has just those digits, while a value computed in float64 needs 15-17. With d
digits a value y is known to about ``0.5 * 10**(e - d + 1)`` (e its decimal exponent),
and a finite difference with step μ divides that rounding by μ: with 6 digits and
μ = 1e-6 the rounding is as large as the difference itself.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["significant_digits", "rounding_ratio"]

_SAMPLE = 256


def _digits(v: float) -> int:
    mant = repr(float(v)).split("e")[0].lstrip("-").replace(".", "")
    return max(1, len(mant.strip("0")))


def significant_digits(values) -> int:
    """Most significant digits among (a sample of) the finite non-zero values: 17 for float64 results."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    flat = flat[np.isfinite(flat) & (flat != 0)][:_SAMPLE]
    return max((_digits(v) for v in flat), default=17)


def rounding_ratio(base, perturbed, digits: int) -> float:
    """Rounding error of ``digits``-digit values relative to the median difference ``perturbed - base``.

    ``base`` (out,) and ``perturbed`` (k, out); returns 0 when no difference is non-zero.
    """
    base = np.asarray(base, dtype=np.float64)
    perturbed = np.asarray(perturbed, dtype=np.float64)
    diff = np.abs(perturbed - base[None])
    diff = diff[np.isfinite(diff) & (diff > 0)]
    if diff.size == 0:
        return 0.0
    scale = np.max(np.abs(np.concatenate([base.ravel(), perturbed.ravel()])))
    if not np.isfinite(scale) or scale == 0:
        return 0.0
    resolution = 0.5 * 10.0 ** (math.floor(math.log10(scale)) - digits + 1)
    return float(resolution / np.median(diff))
