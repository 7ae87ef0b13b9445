"""Exercise self-checks for the notebooks: specific feedback, never an exception.

Every ``check_*`` returns a :class:`Result` (truthy when passed) that shows, in
Jupyter, what was expected, what the learner got and a hint. A learner's code
that raises (``NotImplementedError`` in a fresh exercise cell, a typo) becomes a
failed Result with the error message, so a notebook always runs to the end.

Instructors and headless runs use :func:`solution` to fill in reference answers:
exercise cells do ``if SMOKE or SOLUTIONS: my_fn = zl.teaching.solution("lhs")``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zoo_lab import estimators, sampling

__all__ = [
    "Result",
    "check_value",
    "check_choice",
    "check_lhs_strata",
    "check_lhs_sampler",
    "check_discrepancy_ordering",
    "check_mc_error_slope",
    "check_central_difference",
    "check_variance_prediction",
    "check_variance_measurement",
    "relative_mse_theory",
    "hybrid_step_rows",
    "check_hybrid_rows",
    "catch_up_labels",
    "check_catch_up",
    "best_scheme",
    "check_best_scheme",
    "closer_to_optimum",
    "check_closer_to_optimum",
    "optimistic_share",
    "check_optimistic_share",
    "cv_relative_mse",
    "check_cv_prediction",
    "QUIZZES",
    "check_quiz",
    "solution",
    "SOLUTIONS",
]


@dataclass(frozen=True)
class Result:
    """The outcome of one check: passed or not, expected vs got, and a hint."""

    name: str
    passed: bool
    expected: str
    got: str
    hint: str = ""

    def __bool__(self) -> bool:
        """True when the check passed."""
        return self.passed

    @property
    def answered(self) -> bool:
        """False while the learner has given nothing yet (the expected answer stays hidden)."""
        return self.got not in ("None", "nan", "", "not implemented yet")

    def _expected_shown(self) -> str:
        # revealing the answer before a first attempt would spoil the exercise
        return self.expected if self.answered else "(shown after your first answer)"

    def __str__(self) -> str:
        """Plain-text feedback (terminals, logs)."""
        mark = "PASSED" if self.passed else "NOT YET"
        lines = [f"[{mark}] {self.name}", f"  expected: {self._expected_shown()}",
                 f"  got:      {self.got}"]
        if self.hint and not self.passed:
            lines.append(f"  hint:     {self.hint}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """A coloured feedback box for Jupyter."""
        ok = self.passed
        color, bg, mark = ("#1a7f37", "#eef9f0", "&#10004; passed") if ok else (
            "#b35900", "#fff6ea", "&#10008; not yet")
        rows = [("expected", self._expected_shown()), ("got", self.got)]
        if self.hint and not ok:
            rows.append(("hint", self.hint))
        body = "".join(
            f"<tr><td style='padding:2px 8px;color:#555;vertical-align:top'>{k}</td>"
            f"<td style='padding:2px 8px'>{html.escape(v)}</td></tr>" for k, v in rows)
        return (f"<div style='border-left:4px solid {color};background:{bg};padding:6px 10px;"
                f"margin:4px 0'><b style='color:{color}'>{mark}</b> · {html.escape(self.name)}"
                f"<table style='margin-top:4px'>{body}</table></div>")


def _crashed(name: str, expected: str, exc: BaseException) -> Result:
    """A failed Result for learner code that raised."""
    if isinstance(exc, NotImplementedError):
        return Result(name, False, expected, "not implemented yet",
                      "replace `raise NotImplementedError` with your code, then run the cell again")
    return Result(name, False, expected, f"your code raised {type(exc).__name__}: {exc}",
                  "read the error message; try your function on a tiny input first")


def _fmt(a: Any) -> str:
    """Short printable form of a number or array."""
    return np.array2string(np.asarray(a, dtype=float), precision=4, threshold=8) \
        if np.ndim(a) else f"{float(a):.4g}"


# ----------------------------------------------------------------------------- generic


def check_value(got, expected: float, *, name: str, rtol: float = 0.05, atol: float = 0.0,
                hint: str = "") -> Result:
    """Check a number (or array) against ``expected`` within ``rtol``/``atol``: for quick exercises."""
    want = f"{_fmt(expected)} (relative tolerance {rtol:g})"
    try:
        g = np.asarray(got, dtype=float)
        ok = g.shape == np.shape(expected) and bool(np.allclose(g, expected, rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        return Result(name, False, want, repr(got), hint or "give a number")
    return Result(name, ok, want, _fmt(g) if g.ndim else f"{float(g):.4g}",
                  hint or "compare your number with the formula in the text above")


def check_choice(got, expected, *, name: str, options=None, hints: dict | None = None) -> Result:
    """Check a multiple-choice answer; ``hints`` maps each wrong option to its own hint."""
    want = f"{expected!r}" + (f" (one of {list(options)!r})" if options is not None else "")
    if options is not None and got not in list(options):
        return Result(name, False, want, repr(got), f"pick one of {list(options)!r}")
    if got == expected:
        return Result(name, True, want, repr(got))
    return Result(name, False, want, repr(got),
                  (hints or {}).get(got, "re-read the section above and try another option"))


# ----------------------------------------------------------------------------- sampling (01)


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


_SLOPES = {"uniform": (-0.5, -0.6, -0.4), "lhs": (-0.5, -1.1, -0.4),
           "sobol": (-1.5, -1.6, -0.9), "halton": (-1.0, -1.6, -0.8)}


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
            "for smooth integrands scrambled low-discrepancy points beat n^(-1/2) clearly")
    return Result(name, False, expected, f"{p:g}", hint)


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
    """E‖ĝ − ∇f‖² / ‖∇f‖² of a forward estimator on a linear f (see ``zoo_lab.estimators``)."""
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
    if np.isclose(p, theory, rtol=0.02):
        return Result(name, True, expected, f"{p:.4g}")
    near = {(d + 1) / q: "(d + 1)/q is the Gaussian value", (d - 1) / q: "(d − 1)/q is the sphere value",
            d / q: "d/q is close, but the exact value has d ± 1", 1 / q: "1/q forgets the dimension"}
    hint = next((h for v, h in near.items() if np.isclose(p, v, rtol=0.02)),
                "each direction adds noise in all d coordinates; averaging q directions divides it by q")
    return Result(name, False, expected, f"{p:.4g}", hint)


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


# ----------------------------------------------------------------------------- low data (04)


def _medians(df: pd.DataFrame, n: int) -> tuple[float, float]:
    g = df[df["n_labels"] == n].groupby("mode")["test_rmse"].median()
    return float(g["data"]), float(g["coupled"])


def catch_up_labels(df: pd.DataFrame, within: float = 0.1):
    """Fewest labels from which on data-only's median test RMSE is within ``within`` of coupled's.

    ``df`` is one problem's ``zl.studies.low_data_study`` table. "From which on" means at that
    label count and every larger one; returns ``"never"`` when even the largest count misses.
    """
    ns = sorted(int(n) for n in df["n_labels"].unique())
    if not ns or not {"data", "coupled"} <= set(df["mode"]):
        raise ValueError("df: needs rows of both modes 'data' and 'coupled' (a low_data_study table)")
    answer = "never"
    for n in reversed(ns):
        d, c = _medians(df, n)
        if d > (1 + within) * c:
            break
        answer = n
    return answer


def check_catch_up(got, df: pd.DataFrame, within: float = 0.1) -> Result:
    """Check the label count at which data-only catches up with coupling, read from ``df``."""
    name = f"labels at which data-only catches up (within {within:.0%} of coupled)"
    ns = sorted(int(n) for n in df["n_labels"].unique())
    options = [*ns, "never"]
    want = catch_up_labels(df, within)
    expected = f"{want!r} (one of {options!r})"
    if got not in options:
        return Result(name, False, expected, repr(got), f"pick one of {options!r}")
    if got == want:
        return Result(name, True, expected, repr(got))
    if got == "never" or (want != "never" and got > want):
        d, c = _medians(df, want)
        hint = f"look at n = {want}: data-only median {d:.3g} vs coupled {c:.3g}"
    else:
        bad = next(n for n in reversed(ns) if _medians(df, n)[0] > (1 + within) * _medians(df, n)[1])
        d, c = _medians(df, bad)
        hint = (f"at n = {bad} data-only is still behind: median {d:.3g} vs coupled {c:.3g} "
                "(it must keep up at every larger n too)")
    return Result(name, False, expected, repr(got), hint)


# ----------------------------------------------------------------------------- proxies (05)


def _scheme_medians(df: pd.DataFrame, value: str) -> pd.Series:
    return df[df["n"] == df["n"].min()].groupby("scheme")[value].median().sort_values()


def best_scheme(df: pd.DataFrame, value: str = "nrmse") -> str:
    """The scheme with the lowest median ``value`` at the smallest n of a ``proxy_grid`` table."""
    if df.empty or not {"n", "scheme", value} <= set(df.columns):
        raise ValueError(f"df: needs columns n, scheme and {value!r} (a proxy_grid table)")
    return str(_scheme_medians(df, value).index[0])


def check_best_scheme(got, df: pd.DataFrame, value: str = "nrmse") -> Result:
    """Check which scheme has the lowest median ``value`` at the smallest n, read from ``df``."""
    med = _scheme_medians(df, value)
    name = f"lowest median {value} at n = {int(df['n'].min())}"
    want = best_scheme(df, value)
    expected = f"{want!r} (one of {list(med.index)!r})"
    if got not in list(med.index):
        return Result(name, False, expected, repr(got), f"pick one of {list(med.index)!r}")
    if got == want:
        return Result(name, True, expected, repr(got))
    return Result(name, False, expected, repr(got),
                  f"median {value} of {got!r} is {med[got]:.3g}, {want!r} has {med[want]:.3g}: "
                  "filter df to the smallest n, group by scheme, take the median")


# ----------------------------------------------------------------------------- stability (06)


def _dist_medians(df: pd.DataFrame) -> pd.Series:
    if not {"on", "dist_to_opt"} <= set(df.columns) or not {"proxy", "true"} <= set(df["on"]):
        raise ValueError("df: needs proxy and true runs with a dist_to_opt column (a stability table)")
    return df.groupby("on")["dist_to_opt"].median()


def closer_to_optimum(df: pd.DataFrame) -> str:
    """``"proxy"`` or ``"true"``: whose returned points lie closer to x* (median over runs)."""
    med = _dist_medians(df)
    return "proxy" if med["proxy"] < med["true"] else "true"


def check_closer_to_optimum(got, df: pd.DataFrame) -> Result:
    """Check whether runs on the proxy or on the true function end closer to x*, read from ``df``."""
    med = _dist_medians(df)
    name = "closer to x*: runs on the proxy or on the true function (median distance)"
    want = closer_to_optimum(df)
    expected = f"{want!r} (one of ['proxy', 'true'])"
    if got not in ("proxy", "true"):
        return Result(name, False, expected, repr(got), "pick 'proxy' or 'true'")
    if got == want:
        return Result(name, True, expected, repr(got))
    return Result(name, False, expected, repr(got),
                  f"median distance to x*: proxy runs {med['proxy']:.3g}, true runs {med['true']:.3g}")


def optimistic_share(df: pd.DataFrame) -> float:
    """Fraction of proxy runs whose proxy value at the returned point is below the true one."""
    proxy = df[df["on"] == "proxy"]
    if proxy.empty or "proxy_gap" not in proxy:
        raise ValueError("df: needs proxy runs with a proxy_gap column (a stability table)")
    return float((proxy["proxy_gap"] < 0).mean())


def check_optimistic_share(got, df: pd.DataFrame) -> Result:
    """Check the fraction of proxy runs with a negative proxy gap, read from ``df`` (± 0.01)."""
    name = "share of proxy runs where the proxy is optimistic (proxy_gap < 0)"
    want = optimistic_share(df)
    expected = f"{want:.3f} (a fraction in [0, 1], ± 0.01)"
    try:
        g = float(got)
    except (TypeError, ValueError):
        return Result(name, False, expected, repr(got), "give a fraction, e.g. 0.25")
    if abs(g - want) <= 0.01:
        return Result(name, True, expected, f"{g:.3f}")
    gaps = df[df["on"] == "proxy"]["proxy_gap"]
    if abs(g - float((gaps > 0).mean())) <= 0.01 or abs(g - float((gaps >= 0).mean())) <= 0.01:
        hint = "that is the share of pessimistic runs: optimistic means proxy_gap < 0"
    elif abs(g / 100 - want) <= 0.01:
        hint = "give a fraction between 0 and 1, not a percentage"
    elif abs(g - float((df["proxy_gap"] < 0).mean())) <= 0.01:
        hint = "count the proxy runs only (df['on'] == 'proxy'): true runs have no proxy gap"
    else:
        hint = "take the proxy runs, then the mean of (proxy_gap < 0)"
    return Result(name, False, expected, f"{g:.3f}", hint)


# ----------------------------------------------------------------------------- guided ZO (07)


def cv_relative_mse(d: int, q: int, rho: float) -> float:
    """Control variate with q Gaussian forward directions, locally linear f:
    E‖ĝ − ∇f‖²/‖∇f‖² = ((d+1)/q)·ρ², ρ = ‖∇(f − p)‖/‖∇f‖ (plain ZO: (d+1)/q)."""
    for arg, v in (("d", d), ("q", q)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{arg}: expected an int >= 1, got {v!r}")
    if not (np.isfinite(rho) and rho >= 0):
        raise ValueError(f"rho: expected a finite float >= 0, got {rho!r}")
    return (d + 1) / q * float(rho) ** 2


def check_cv_prediction(pred, d: int, q: int, rho: float) -> Result:
    """Check a predicted control-variate relative MSE against ((d+1)/q)·ρ² (5 %)."""
    want = cv_relative_mse(d, q, rho)
    name = f"control-variate relative MSE, d={d}, q={q}, ρ={rho:g}"
    try:
        g = float(pred)
    except (TypeError, ValueError):
        return Result(name, False, f"{want:.4g}", repr(pred), "give a number")
    if np.isclose(g, want, rtol=0.05):
        return Result(name, True, f"{want:.4g}", f"{g:.4g}")
    plain = (d + 1) / q
    if np.isclose(g, plain, rtol=0.05):
        hint = "that is plain Gaussian ZO's error: the control variate multiplies it by ρ²"
    elif np.isclose(g, plain * rho, rtol=0.05):
        hint = "the error is a squared norm: ρ enters squared"
    else:
        hint = "plain Gaussian ZO has (d+1)/q; the control variate estimates the residual, ρ times smaller"
    return Result(name, False, f"{want:.4g}", f"{g:.4g}", hint)


# ----------------------------------------------------------------------------- quizzes

# Concept questions of the notebooks, answered by their text: answers stay out of the cells.
QUIZZES: dict[str, dict[str, Any]] = {
    "exact_vjp_estimator": dict(
        name="exact VJP up to O(μ²) with 2d solver rows per rod",
        options=("gaussian forward", "gaussian central", "sphere central", "coordinate forward",
                 "coordinate central"),
        answer="coordinate central",
        hints={"gaussian forward": "random directions leave sampling error at any μ; forward costs q + 1 rows",
               "gaussian central": "random directions leave sampling error however small μ is",
               "sphere central": "random directions leave sampling error however small μ is",
               "coordinate forward": "forward differences have an O(μ) error and cost d + 1 rows"}),
    "coupling_follows_program": dict(
        name="coupling makes the network agree with the program, not with experiment",
        options=(True, False), answer=True,
        hints={False: "the knowledge loss compares with what F computes: if F is biased, so is the network"}),
    "mean_predictor_nrmse": dict(
        name="nrmse of a proxy that always predicts the mean of f", answer=1.0, rtol=0.05,
        hint="nrmse = RMSE / std(f), and predicting the mean leaves an RMSE of std(f)"),
    "cv_exact_proxy": dict(
        name="control_variate with proxy p = f exactly returns",
        options=("the true gradient (to rounding)", "the true gradient plus ZO noise",
                 "the plain Gaussian ZO estimate", "zero"),
        answer="the true gradient (to rounding)",
        hints={"the true gradient plus ZO noise": "the ZO part estimates ∇(f − p); what is f − p here?",
               "the plain Gaussian ZO estimate": "that is what a proxy p = 0 gives",
               "zero": "the ZO residual is zero, but ∇p is added back"}),
    "cheapest_perfect_proxy": dict(
        name="fewest real rows to a target when the proxy is exact",
        options=("gaussian", "coordinate", "proxy_only", "control_variate", "guided_es",
                 "prior_guided"),
        answer="proxy_only",
        hints={"control_variate": "exact, but it still pays q + 1 real rows per step for the correction",
               "prior_guided": "it still pays q + 2 real rows per step to check the prior",
               "guided_es": "it still pays its q real rows per step",
               "gaussian": "it ignores the proxy", "coordinate": "it ignores the proxy"}),
}


def check_quiz(name: str, got) -> Result:
    """Check the answer to the concept question ``name`` of :data:`QUIZZES`."""
    if name not in QUIZZES:
        raise ValueError(f"name: unknown quiz {name!r}; allowed: {', '.join(sorted(QUIZZES))}")
    qz = QUIZZES[name]
    if "options" in qz:
        return check_choice(got, qz["answer"], name=qz["name"], options=qz["options"],
                            hints=qz.get("hints"))
    return check_value(got, qz["answer"], name=qz["name"], rtol=qz["rtol"], hint=qz["hint"])


# ----------------------------------------------------------------------------- solutions


def _lhs(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Reference Latin hypercube in [0, 1)^d: a permutation of the strata per axis plus jitter."""
    perms = np.column_stack([rng.permutation(n) for _ in range(d)])
    return (perms + rng.random((n, d))) / n


def _central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, mu: float) -> np.ndarray:
    """Reference coordinate central difference: 2d evaluations of f."""
    x = np.asarray(x, dtype=float)
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = mu
        g[i] = (f(x + e) - f(x - e)) / (2 * mu)
    return g


SOLUTIONS: dict[str, Callable[[], Any]] = {
    "lhs": lambda: _lhs,
    "central_difference": lambda: _central_difference,
    "relative_mse": lambda: relative_mse_theory,
    "measure_relative_mse": lambda: _measure_relative_mse,
    "discrepancy_ordering": lambda: _discrepancy_ordering(),
    "mc_error_slope": lambda: {s: v[0] for s, v in _SLOPES.items()},
    "hybrid_step_rows": lambda: hybrid_step_rows,
    "exact_vjp_estimator": lambda: QUIZZES["exact_vjp_estimator"]["answer"],
    "coupling_follows_program": lambda: QUIZZES["coupling_follows_program"]["answer"],
    "catch_up_labels": lambda: catch_up_labels,
    "mean_predictor_nrmse": lambda: QUIZZES["mean_predictor_nrmse"]["answer"],
    "best_scheme": lambda: best_scheme,
    "closer_to_optimum": lambda: closer_to_optimum,
    "optimistic_share": lambda: optimistic_share,
    "cv_exact_proxy": lambda: QUIZZES["cv_exact_proxy"]["answer"],
    "cv_relative_mse": lambda: cv_relative_mse,
    "cheapest_perfect_proxy": lambda: QUIZZES["cheapest_perfect_proxy"]["answer"],
}


def solution(name: str) -> Any:
    """The reference answer of an exercise (a function or a value), for instructors and smoke runs."""
    if name not in SOLUTIONS:
        raise ValueError(f"name: unknown exercise {name!r}; allowed: {', '.join(sorted(SOLUTIONS))}")
    return SOLUTIONS[name]()
