"""Checks for notebooks 01-03: designs, finite differences, estimator variance, coupling cost."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zoo_lab import sampling
from zoo_lab.teaching._result import Result, _crashed, _fmt
from zoo_lab.zo import estimators

# ----------------------------------------------------------------------------- sampling (01)

__all__ = ["check_lhs_strata", "check_lhs_sampler", "check_discrepancy_ordering", "check_mc_error_slope", "check_central_difference", "relative_mse_theory", "check_variance_prediction", "check_variance_measurement", "hybrid_step_rows", "check_hybrid_rows"]


def _strata_problem(X: np.ndarray, bounds: np.ndarray) -> str | None:
    """None when every axis has exactly one point per stratum, else what is wrong."""
    n, d = X.shape
    lo, hi = bounds[:, 0], bounds[:, 1]
    if np.any(X < lo) or np.any(X > hi):
        return "some points lie outside the box"
    U = (X - lo) / (hi - lo)
    strata = np.minimum(np.floor(U * n).astype(int), n - 1)
    for j in range(d):
        counts = np.bincount(strata[:, j], minlength=n)
        if np.any(counts != 1):
            empty, crowded = int(np.sum(counts == 0)), int(np.sum(counts > 1))
            return f"axis {j}: {empty} empty strata and {crowded} strata with more than one point"
    return None


def check_lhs_strata(X, bounds=None) -> Result:
    """Check a design is a Latin hypercube: on every axis, one point in each of the n strata."""
    name, expected = "Latin hypercube strata", "exactly one point in each of the n strata, on every axis"
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(X) == 0:
        return Result(name, False, "an array of shape (n, d)", f"shape {X.shape}",
                      "return one row per point and one column per dimension")
    bounds = np.tile([0.0, 1.0], (X.shape[1], 1)) if bounds is None else np.asarray(bounds, float)
    problem = _strata_problem(X, bounds)
    if problem is None:
        return Result(name, True, expected, f"{len(X)} points in d = {X.shape[1]}: every stratum once")
    return Result(name, False, expected, problem,
                  "for each axis use a random permutation of 0..n-1 as the stratum of each point, "
                  "then add a uniform offset in [0, 1) and divide by n")


def check_lhs_sampler(fn: Callable[..., Any]) -> Result:
    """Check a learner's ``fn(n, d, rng) -> (n, d)`` Latin hypercube sampler in the unit cube."""
    name = "your Latin hypercube sampler"
    expected = "(n, d) arrays in [0, 1)^d with one point per stratum on every axis, random per seed"
    try:
        for n, d in ((1, 1), (7, 3), (32, 2), (50, 5)):
            X = np.asarray(fn(n, d, np.random.default_rng(n + d)), dtype=float)
            if X.shape != (n, d):
                return Result(name, False, f"shape ({n}, {d}) for n={n}, d={d}", f"shape {X.shape}",
                              "rows are points, columns are dimensions")
            problem = _strata_problem(X, np.tile([0.0, 1.0], (d, 1)))
            if problem is not None:
                return Result(name, False, expected, f"n={n}, d={d}: {problem}",
                              "use rng.permutation(n) per axis and (perm + rng.random(n)) / n")
        A = np.asarray(fn(16, 2, np.random.default_rng(1)))
        B = np.asarray(fn(16, 2, np.random.default_rng(2)))
    except Exception as exc:  # learner code: report, never raise
        return _crashed(name, expected, exc)
    if np.array_equal(A, B):
        return Result(name, False, expected, "the same design for two different generators",
                      "draw the permutations and offsets from the rng argument")
    return Result(name, True, expected, "correct for n in (1, 7, 32, 50), d in (1, 2, 3, 5)")


def _median_discrepancy(scheme: str, d: int, n: int, seeds: int) -> float:
    b = np.tile([0.0, 1.0], (d, 1))
    return float(np.median([sampling.discrepancy(sampling.sample(scheme, n, b, seed=s), b)
                            for s in range(seeds)]))


def check_discrepancy_ordering(order: Sequence[str], d: int = 2, n: int = 256,
                               seeds: int = 10) -> Result:
    """Check a predicted ordering of the schemes, lowest median discrepancy first, by measuring it."""
    name = f"discrepancy ordering, d = {d}, n = {n}"
    truth = _discrepancy_ordering(d, n, seeds)
    expected = " < ".join(truth)
    order = [str(s).lower() for s in (order or [])]
    if sorted(order) != sorted(truth):
        return Result(name, False, f"an ordering of all of {', '.join(sampling.SCHEMES)}",
                      repr(order), "list every scheme exactly once, lowest discrepancy first")
    if order == truth:
        return Result(name, True, expected, " < ".join(order))
    hint = ("uniform random points have the largest discrepancy (clusters and holes)"
            if order[-1] != "uniform" else
            "LHS only balances the 1-D projections; Sobol and Halton balance every box")
    return Result(name, False, expected, " < ".join(order), hint)


def _discrepancy_ordering(d: int = 2, n: int = 256, seeds: int = 10) -> list[str]:
    """The schemes sorted by measured median squared centered L2 discrepancy."""
    return sorted(sampling.SCHEMES, key=lambda s: _median_discrepancy(s, d, n, seeds))


# (centre, low, high): measured in d = 4 (tests/test_teaching.py); Sobol's range excludes -1,
# the n^{-1} rate of unscrambled QMC, because scrambling adds the √n of a variance for smooth f
_SLOPES = {"uniform": (-0.5, -0.6, -0.4), "lhs": (-0.5, -1.1, -0.4),
           "sobol": (-1.5, -2.0, -1.2), "halton": (-1.0, -1.6, -0.8)}


def check_mc_error_slope(pred: float, scheme: str = "uniform") -> Result:
    """Check a predicted log-log slope of |sample mean - integral| vs n for a smooth integrand."""
    name = f"error slope of the sample mean, {scheme}"
    if scheme not in _SLOPES:
        raise ValueError(f"scheme: unknown {scheme!r}; allowed: {', '.join(_SLOPES)}")
    centre, lo, hi = _SLOPES[scheme]
    expected = f"about {centre:g} (accepted range [{lo:g}, {hi:g}])"
    try:
        p = float(pred)
    except (TypeError, ValueError):
        return Result(name, False, expected, repr(pred), "give the slope as a number, e.g. -0.7")
    if lo <= p <= hi:
        return Result(name, True, expected, f"{p:g}")
    hint = ("the error falls as n grows, so the slope is negative" if p > 0 else
            "Monte Carlo error is a standard deviation: it falls like n^(-1/2)"
            if scheme == "uniform" else
            "-1 is the rate of plain (unscrambled) QMC; for a smooth integrand scrambling makes the "
            "error a random variable whose standard deviation falls faster still"
            if scheme == "sobol" and abs(p + 1) < 0.15 else
            "for smooth integrands scrambled low-discrepancy points beat n^(-1/2) clearly")
    return Result(name, False, expected, f"{p:g}", hint,
                  "Owen (1997): scrambled Sobol on smooth f has error about n^(-3/2) (up to logs)"
                  if scheme == "sobol" else "")


# ----------------------------------------------------------------------------- estimators (02)


def _test_function(c: np.ndarray) -> Callable[[np.ndarray], float]:
    """f(x) = Σ cᵢxᵢ³ + ½(Σ xᵢ)²: coupled coordinates, central difference known exactly."""
    def f(x) -> float:
        x = np.asarray(x, dtype=float)
        return float(np.sum(c * x**3) + 0.5 * np.sum(x) ** 2)
    return f


def check_central_difference(fn: Callable[..., Any]) -> Result:
    """Check a learner's ``fn(f, x, mu) -> (d,)`` coordinate central-difference gradient.

    ``f`` takes one point of shape (d,) and returns a float. Tested on
    f(x) = Σ cᵢxᵢ³, whose central difference is exactly 3cᵢxᵢ² + cᵢμ²
    (a forward difference would add 3cᵢxᵢμ).
    """
    name = "your central-difference gradient"
    expected = "[f(x + μeᵢ) − f(x − μeᵢ)] / (2μ) for every coordinate i"
    rng = np.random.default_rng(7)
    try:
        for d in (1, 3, 6):
            c, x, mu = rng.uniform(0.5, 2.0, d), rng.uniform(-1.0, 1.0, d), 1e-2
            got = np.asarray(fn(_test_function(c), x.copy(), mu), dtype=float)
            central = 3 * c * x**2 + c * mu**2 + np.sum(x)
            if got.shape != (d,):
                return Result(name, False, f"shape ({d},)", f"shape {got.shape}",
                              "return one partial derivative per coordinate")
            if np.allclose(got, central, rtol=1e-6, atol=1e-9):
                continue
            forward = central + 3 * c * x * mu + mu / 2
            if np.allclose(got, forward, rtol=1e-6, atol=1e-9):
                hint = "that is the forward difference; step both ways: f(x + μeᵢ) − f(x − μeᵢ)"
            elif np.allclose(got, 2 * central, rtol=1e-6):
                hint = "twice too large: divide by 2μ (the two points are 2μ apart)"
            elif np.allclose(got, central / 2, rtol=1e-6):
                hint = "half the right value: divide by 2μ, not 4μ"
            elif np.allclose(got, -central, rtol=1e-6):
                hint = "the sign is flipped: f(x + μeᵢ) comes first"
            else:
                hint = "perturb one coordinate at a time with a copy of x (x.copy()); do not change x in place"
            return Result(name, False, f"{_fmt(central)} for f = Σ cᵢxᵢ³ + ½(Σ xᵢ)² at d = {d}",
                          _fmt(got), hint)
    except Exception as exc:  # learner code: report, never raise
        return _crashed(name, expected, exc)
    return Result(name, True, expected, "exact on cubic test functions with coupled coordinates, d = 1, 3, 6")


def relative_mse_theory(estimator: str, d: int, q: int) -> float:
    """E‖ĝ − ∇f‖² / ‖∇f‖² of a forward estimator on a linear f (see ``zoo_lab.zo.estimators``)."""
    if d < 1 or q < 1:
        raise ValueError(f"d, q: need positive integers, got d={d}, q={q}")
    if estimator == "gaussian":
        return (d + 1) / q
    if estimator in ("sphere", "rademacher"):
        return (d - 1) / q
    if estimator in ("coordinate", "orthogonal"):
        if q > d:
            raise ValueError(f"q: {estimator} uses at most d = {d} directions, got {q}")
        return (d - q) / q
    raise ValueError(f"estimator: unknown {estimator!r}; allowed: gaussian, sphere, rademacher, "
                     "coordinate, orthogonal")


def check_variance_prediction(pred: float, d: int, q: int, estimator: str = "gaussian") -> Result:
    """Check a predicted relative MSE E‖ĝ − g‖²/‖g‖² against theory ((d+1)/q gaussian, (d−1)/q sphere)."""
    name = f"predicted relative MSE, {estimator}, d = {d}, q = {q}"
    theory = relative_mse_theory(estimator, d, q)
    expected = f"{theory:.4g}"
    try:
        p = float(pred)
    except (TypeError, ValueError):
        return Result(name, False, expected, repr(pred), "give a number, e.g. 10.2")
    near = {(d + 1) / q: "(d + 1)/q is the Gaussian value", (d - 1) / q: "(d − 1)/q is the sphere value",
            d / q: "d/q is close, but the exact value has d ± 1", 1 / q: "1/q forgets the dimension"}
    # accept only a value closer to the law than to every other law (d/q is 2 % off at d = 50)
    rivals = [v for v in near if not np.isclose(v, theory, rtol=1e-12)]
    if np.isclose(p, theory, rtol=0.01) and all(abs(p - theory) < abs(p - v) for v in rivals):
        return Result(name, True, expected, f"{p:.4g}")
    close = [v for v in rivals if np.isclose(p, v, rtol=0.01)]
    hint = (near[min(close, key=lambda v: abs(p - v))] if close else
            "each direction adds noise in all d coordinates; averaging q directions divides it by q")
    return Result(name, False, expected, f"{p:.4g}", hint,
                  "E‖u‖⁴ = d(d + 2) for u ~ N(0, I): work out E‖(uᵀg)u − g‖² for one direction"
                  if estimator == "gaussian" else "")


def _relative_errors(estimator: str, d: int, q: int, n_trials: int, seed: int) -> np.ndarray:
    """Per-trial ‖ĝ − g‖²/‖g‖² on a random linear function (forward differences, exact for linear)."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(d)
    est = estimators.make(estimator, q=q, mu=1.0)
    x = np.zeros(d)
    out = np.empty(n_trials)
    for t in range(n_trials):
        ghat, _ = est.gradient(lambda X: X @ g, x, seed=int(rng.integers(2**31)))
        out[t] = np.sum((np.asarray(ghat) - g) ** 2) / np.sum(g**2)
    return out


def _measure_relative_mse(estimator: str, d: int, q: int, n_trials: int = 2000,
                          seed: int = 0) -> float:
    """Reference measurement: mean relative squared error over ``n_trials`` estimates."""
    return float(np.mean(_relative_errors(estimator, d, q, n_trials, seed)))


def check_variance_measurement(measured: float, d: int, q: int, estimator: str = "gaussian",
                               n_trials: int = 2000) -> Result:
    """Check a measured relative MSE against theory, within 4 standard errors for ``n_trials``."""
    name = f"measured relative MSE, {estimator}, d = {d}, q = {q}, {n_trials} trials"
    theory = relative_mse_theory(estimator, d, q)
    sd = float(np.std(_relative_errors(estimator, d, q, 4000, seed=12345)))
    tol = 4 * sd / np.sqrt(max(n_trials, 1))
    expected = f"{theory:.4g} ± {tol:.2g} (4 standard errors for {n_trials} trials)"
    try:
        m = float(measured)
    except (TypeError, ValueError):
        return Result(name, False, expected, repr(measured), "give the mean as a number")
    if abs(m - theory) <= tol:
        return Result(name, True, expected, f"{m:.4g}")
    if np.isclose(m, np.sqrt(theory), rtol=0.1):
        hint = "that looks like a norm, not its square: average ‖ĝ − g‖², not ‖ĝ − g‖"
    elif m < theory / 2 and np.isclose(m * d, theory, rtol=0.2):
        hint = "divide by ‖g‖² (the squared norm), not by the number of coordinates"
    else:
        hint = "use a fresh seed per trial and divide the squared error by ‖g‖²"
    return Result(name, False, expected, f"{m:.4g}", hint)


# ----------------------------------------------------------------------------- coupling (03)


def hybrid_step_rows(n: int, q: int) -> int:
    """Solver rows of one hybrid-ZO step with forward differences: n forward rows, q more per rod."""
    if int(n) != n or int(q) != q or n < 1 or q < 1:
        raise ValueError(f"n, q: need positive integers, got n={n!r}, q={q!r}")
    return int(n) * (int(q) + 1)


def check_hybrid_rows(got, n: int, q: int) -> Result:
    """Check the number of solver rows of one hybrid step (n rods, q directions, forward)."""
    name = f"solver rows of one hybrid step, n = {n} rods, q = {q}, forward differences"
    want = hybrid_step_rows(n, q)
    expected = f"{want}"
    try:
        g = float(got)
    except (TypeError, ValueError):
        return Result(name, False, expected, repr(got), "give a whole number of solver rows")
    if g == want:
        return Result(name, True, expected, f"{g:g}")
    hints = {n * q: "the forward pass runs F(z) once per rod too, and the backward pass reuses it",
             q + 1: "that is the cost of one rod: every rod in the batch pays it",
             q: "that is the backward cost of one rod: add its forward row and multiply by n rods",
             2 * n * q: "2q rows per rod is the central difference; here the differences are forward",
             n * (2 * q + 1): "2q rows per rod is the central difference; here the differences are forward"}
    return Result(name, False, expected, f"{g:g}",
                  hints.get(int(g) if g.is_integer() else -1,
                            "count the forward pass (one row per rod) plus q perturbed rows per rod"))
