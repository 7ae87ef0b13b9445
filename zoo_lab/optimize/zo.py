"""Zeroth-order optimizers: ZO-SGD, ZO-Adam and ZO-signSGD on top of :mod:`zoo_lab.zo.estimators`.

Each iteration spends one batched call: the estimator's points, plus x itself when the
estimate does not evaluate f(x) (central/antithetic), so that the history always holds
f(x_k) at the exact number of evaluations spent. Bounds are handled by projection
(clipping) after each step; the estimator's probe points may leave the box by μ.

Budget: ``max_evals`` (``budget`` is its deprecated name) and/or ``iters``; the run
stops at whichever comes first (before a step that would pass ``max_evals``). With
``max_evals`` alone there is no step limit; with neither, ``iters = 1000``. The
result's ``x``/``fun`` are the best iterate evaluated; ``x_last``/``fun_last`` the
final one (they differ when the last steps did not improve, e.g. signSGD's
oscillation or Adam's overshoot).

References
----------
.. [1] S. Ghadimi, G. Lan, "Stochastic first- and zeroth-order methods for nonconvex
   stochastic programming", SIAM J. Optim. 23(4), 2013 (ZO-SGD).
.. [2] Y. Nesterov, V. Spokoiny, "Random gradient-free minimization of convex functions",
   Found. Comput. Math. 17, 2017 (step size 1/(4(d+4)L) for Gaussian directions).
.. [3] X. Chen et al., "ZO-AdaMM: zeroth-order adaptive momentum method for black-box
   optimization", NeurIPS 2019.
.. [4] S. Liu et al., "signSGD via zeroth-order oracle", ICLR 2019 (ZO-signSGD).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from zoo_lab._util.counting import CountingObjective
from zoo_lab.optimize.result import OptimizeResult
from zoo_lab.sampling import check_bounds
from zoo_lab.zo.directions import as_point, is_torch, rng_from, torch
from zoo_lab.zo.estimators import Estimator, evaluate_batch, make

__all__ = ["zo_sgd", "zo_adam", "zo_signsgd"]


def zo_sgd(fun, x0, estimator: Estimator | str = "gaussian", lr: float | Callable = 1e-2,
           *, iters: int | None = None, max_evals: int | None = None, bounds=None,
           f_target: float | None = None, seed=None, callback: Callable | None = None,
           budget: int | None = None) -> OptimizeResult:
    """ZO-SGD: x ← Π(x − ηₖ ĝ(x)) with ĝ from ``estimator`` (Ghadimi & Lan 2013).

    ``fun`` maps (m, d) to (m,); ``lr`` is a float or a schedule ``k -> ηₖ``; the run
    stops after ``iters`` steps, before the next step would exceed ``max_evals`` evaluations,
    or once f(xₖ) <= ``f_target``. ``callback(k, x, f)`` is called after every evaluation.
    """
    max_evals = _budget_alias(max_evals, budget)
    return _run(fun, x0, estimator, lr, _Sgd(), iters, max_evals, bounds, f_target, seed, callback)


def zo_adam(fun, x0, estimator: Estimator | str = "gaussian", lr: float | Callable = 1e-2,
            *, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
            iters: int | None = None, max_evals: int | None = None, bounds=None,
            f_target: float | None = None, seed=None, callback: Callable | None = None,
            budget: int | None = None) -> OptimizeResult:
    """ZO-Adam: Adam's moment estimates fed with ZO gradients (ZO-AdaMM, Chen et al. 2019)."""
    max_evals = _budget_alias(max_evals, budget)
    b1, b2 = betas
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"betas: expected two floats in [0, 1), got {betas!r}")
    if not eps > 0:
        raise ValueError(f"eps: expected a float > 0, got {eps!r}")
    rule = _Adam(float(b1), float(b2), float(eps))
    return _run(fun, x0, estimator, lr, rule, iters, max_evals, bounds, f_target, seed, callback)


def zo_signsgd(fun, x0, estimator: Estimator | str = "gaussian", lr: float | Callable = 1e-2,
               *, iters: int | None = None, max_evals: int | None = None, bounds=None,
               f_target: float | None = None, seed=None, callback: Callable | None = None,
               budget: int | None = None) -> OptimizeResult:
    """ZO-signSGD: x ← Π(x − ηₖ sign(ĝ(x))) (Liu et al. 2019)."""
    max_evals = _budget_alias(max_evals, budget)
    return _run(fun, x0, estimator, lr, _Sign(), iters, max_evals, bounds, f_target, seed, callback)


def _budget_alias(max_evals, budget):
    """``budget=`` is the deprecated name of ``max_evals=``."""
    if budget is None:
        return max_evals
    if max_evals is not None:
        raise TypeError("max_evals: given twice (max_evals= and its deprecated alias budget=)")
    warnings.warn("budget= is deprecated; use max_evals=", DeprecationWarning, stacklevel=3)
    return budget


class _Sgd:
    name = "zo_sgd"

    def step(self, g, k):
        return g


class _Sign:
    name = "zo_signsgd"

    def step(self, g, k):
        return torch.sign(g) if is_torch(g) else np.sign(g)


class _Adam:
    name = "zo_adam"

    def __init__(self, b1: float, b2: float, eps: float):
        self.b1, self.b2, self.eps = b1, b2, eps
        self.m = self.v = None

    def step(self, g, k):
        if self.m is None:
            self.m, self.v = g * 0, g * 0
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        m_hat = self.m / (1 - self.b1 ** (k + 1))
        v_hat = self.v / (1 - self.b2 ** (k + 1))
        root = torch.sqrt(v_hat) if is_torch(v_hat) else np.sqrt(v_hat)
        return m_hat / (root + self.eps)


def _schedule(lr) -> Callable[[int], float]:
    if callable(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating):
        raise TypeError(f"lr: expected a float > 0 or a callable k -> float, got {lr!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: expected a finite float > 0, got {lr}")
    return lambda k: float(lr)


def _check_count(name: str, value, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name}: expected an int >= 1{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def _run(fun, x0, estimator, lr, rule, iters, max_evals, bounds, f_target, seed, callback):
    est = make(estimator) if isinstance(estimator, str) else estimator
    if not isinstance(est, Estimator):
        raise TypeError(f"estimator: expected an Estimator or a name, got {estimator!r}")
    if not callable(fun):
        raise TypeError(f"fun: expected a callable (m, d) -> (m,), got {type(fun).__name__}")
    sched = _schedule(lr)
    max_evals = _check_count("max_evals", max_evals, allow_none=True)
    iters = _check_count("iters", iters, allow_none=True)
    if iters is None:
        iters = 1000 if max_evals is None else math.inf
    x = as_point(x0, est.dtype)
    d = x.shape[0]
    lo = hi = None
    if bounds is not None:
        b = check_bounds(bounds)
        if b.shape[0] != d:
            raise ValueError(f"bounds: expected shape ({d}, 2) to match x0, got {b.shape}")
        lo = _like(b[:, 0], x)
        hi = _like(b[:, 1], x)
        x = _clip(x, lo, hi)
    rng = rng_from(seed)
    cost = est.n_evals(d) + (1 if est.central else 0)
    if max_evals is not None and max_evals < cost + 1:
        raise ValueError(f"max_evals: one step of {est!r} in d={d} needs {cost + 1} evaluations, "
                         f"got {max_evals}")
    obj = CountingObjective(fun)  # the shared counter: n_evals = rows passed to fun
    best = _Best()
    rows: list[tuple[int, int, float, float]] = []
    k, fx, message = 0, None, f"reached iters={iters}"
    while k < iters:
        if max_evals is not None and obj.n_evals + cost + 1 > max_evals:
            message = f"max_evals: next step would exceed {max_evals} evaluations"
            break
        query = est.query(x, rng)
        if est.central:  # add x itself to the same batched call, for the history
            points = torch.cat([x[None], query.points]) if is_torch(x) else np.vstack([x, query.points])
            values = evaluate_batch(obj, points)
            fx, values = float(values[0]), values[1:]
        else:
            values = evaluate_batch(obj, query.points)
            fx = float(values[0])
        best.see(x, fx)
        _record(rows, k, obj.n_evals, fx, best.f, callback, x)
        if f_target is not None and fx <= f_target:
            message = f"f_target: f(x) = {fx:.6g} <= {f_target:g}"
            break
        g = est.combine(values, query)
        eta = float(sched(k))
        if not (math.isfinite(eta) and eta > 0):
            raise ValueError(f"lr: the schedule returned {eta!r} at step {k}; expected a float > 0")
        x = x - eta * rule.step(g, k)
        if lo is not None:
            x = _clip(x, lo, hi)
        fx = None
        k += 1
    if fx is None:  # the last step moved x: evaluate it once
        fx = float(evaluate_batch(obj, x[None])[0])
        best.see(x, fx)
        _record(rows, k, obj.n_evals, fx, best.f, callback, x)
    it, ne, cur, bf = (np.array(c) for c in zip(*rows, strict=True))
    history = {"iter": it, "n_evals": ne, "best_fun": bf, "current_fun": cur}
    return OptimizeResult(x=best.x, fun=best.f, n_evals=obj.n_evals, history=history, n_iter=k,
                          message=message, n_calls=obj.n_calls, method=rule.name, x_last=x,
                          fun_last=fx, settings=dict(estimator=repr(est), iters=iters,
                                                     max_evals=max_evals, f_target=f_target))


class _Best:
    """The best iterate seen so far (ties keep the earlier one)."""

    def __init__(self) -> None:
        self.x, self.f = None, math.inf

    def see(self, x, f: float) -> None:
        if f < self.f or self.x is None:
            self.x, self.f = x, f


def _record(rows, k, n, fx, best_f, callback, x):
    rows.append((k, n, fx, best_f))
    if callback is not None:
        callback(k, x, fx)


def _like(a: np.ndarray, x):
    return torch.as_tensor(a, dtype=x.dtype, device=x.device) if is_torch(x) else a.astype(x.dtype)


def _clip(x, lo, hi):
    return torch.clamp(x, lo, hi) if is_torch(x) else np.clip(x, lo, hi)
