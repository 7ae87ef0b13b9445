"""Zeroth-order optimizers: ZO-SGD, ZO-Adam and ZO-signSGD on top of :mod:`zoo_lab.zo.estimators`.

Each iteration spends one batched call: the estimator's points, plus x itself when the
estimate does not evaluate f(x) (central/antithetic), so that the history always holds
f(x_k) at the exact number of evaluations spent. Bounds are handled by projection
(clipping) after each step; the estimator's probe points may leave the box by μ.

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
from collections.abc import Callable

import numpy as np

from zoo_lab.optimize.result import OptimizeResult
from zoo_lab.sampling import check_bounds
from zoo_lab.zo.directions import as_point, is_torch, rng_from, torch
from zoo_lab.zo.estimators import Estimator, evaluate_batch, make

__all__ = ["zo_sgd", "zo_adam", "zo_signsgd"]


def zo_sgd(fun, x0, estimator: Estimator | str = "gaussian", lr: float | Callable = 1e-2,
           *, iters: int = 1000, budget: int | None = None, bounds=None,
           f_target: float | None = None, seed=None, callback: Callable | None = None,
           ) -> OptimizeResult:
    """ZO-SGD: x ← Π(x − ηₖ ĝ(x)) with ĝ from ``estimator`` (Ghadimi & Lan 2013).

    ``fun`` maps (m, d) to (m,); ``lr`` is a float or a schedule ``k -> ηₖ``; the run
    stops after ``iters`` steps, before the next step would exceed ``budget`` evaluations,
    or once f(xₖ) <= ``f_target``. ``callback(k, x, f)`` is called after every evaluation.
    """
    return _run(fun, x0, estimator, lr, _Sgd(), iters, budget, bounds, f_target, seed, callback)


def zo_adam(fun, x0, estimator: Estimator | str = "gaussian", lr: float | Callable = 1e-2,
            *, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, iters: int = 1000,
            budget: int | None = None, bounds=None, f_target: float | None = None, seed=None,
            callback: Callable | None = None) -> OptimizeResult:
    """ZO-Adam: Adam's moment estimates fed with ZO gradients (ZO-AdaMM, Chen et al. 2019)."""
    b1, b2 = betas
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"betas: expected two floats in [0, 1), got {betas!r}")
    if not eps > 0:
        raise ValueError(f"eps: expected a float > 0, got {eps!r}")
    rule = _Adam(float(b1), float(b2), float(eps))
    return _run(fun, x0, estimator, lr, rule, iters, budget, bounds, f_target, seed, callback)


def zo_signsgd(fun, x0, estimator: Estimator | str = "gaussian", lr: float | Callable = 1e-2,
               *, iters: int = 1000, budget: int | None = None, bounds=None,
               f_target: float | None = None, seed=None, callback: Callable | None = None,
               ) -> OptimizeResult:
    """ZO-signSGD: x ← Π(x − ηₖ sign(ĝ(x))) (Liu et al. 2019)."""
    return _run(fun, x0, estimator, lr, _Sign(), iters, budget, bounds, f_target, seed, callback)


class _Sgd:
    def step(self, g, k):
        return g


class _Sign:
    def step(self, g, k):
        return torch.sign(g) if is_torch(g) else np.sign(g)


class _Adam:
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


def _run(fun, x0, estimator, lr, rule, iters, budget, bounds, f_target, seed, callback):
    est = make(estimator) if isinstance(estimator, str) else estimator
    if not isinstance(est, Estimator):
        raise TypeError(f"estimator: expected an Estimator or a name, got {estimator!r}")
    if not callable(fun):
        raise TypeError(f"fun: expected a callable (m, d) -> (m,), got {type(fun).__name__}")
    sched = _schedule(lr)
    iters = _check_count("iters", iters, allow_none=False)
    budget = _check_count("budget", budget, allow_none=True)
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
    if budget is not None and budget < cost + 1:
        raise ValueError(f"budget: one step of {est!r} in d={d} needs {cost + 1} evaluations, got {budget}")

    hist_iter, hist_evals, hist_fun = [], [], []
    n, k, fx, message = 0, 0, None, f"reached iters={iters}"
    for k in range(iters):  # noqa: B007 (k is used after the loop)
        if budget is not None and n + cost + 1 > budget:
            message = f"budget: next step would exceed {budget} evaluations"
            break
        query = est.query(x, rng)
        if est.central:  # add x itself to the same batched call, for the history
            points = torch.cat([x[None], query.points]) if is_torch(x) else np.vstack([x, query.points])
            values = evaluate_batch(fun, points)
            fx, values = float(values[0]), values[1:]
        else:
            values = evaluate_batch(fun, query.points)
            fx = float(values[0])
        n += cost
        _record(hist_iter, hist_evals, hist_fun, k, n, fx, callback, x)
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
    else:
        k = iters
    if fx is None:  # the last step moved x: evaluate it once
        fx = float(evaluate_batch(fun, x[None])[0])
        n += 1
        _record(hist_iter, hist_evals, hist_fun, k, n, fx, callback, x)
    history = {"iter": np.array(hist_iter), "n_evals": np.array(hist_evals), "fun": np.array(hist_fun)}
    return OptimizeResult(x=x, fun=fx, n_evals=n, history=history, n_iter=k, message=message)


def _record(hi, he, hf, k, n, fx, callback, x):
    hi.append(k)
    he.append(n)
    hf.append(fx)
    if callback is not None:
        callback(k, x, fx)


def _like(a: np.ndarray, x):
    return torch.as_tensor(a, dtype=x.dtype, device=x.device) if is_torch(x) else a.astype(x.dtype)


def _clip(x, lo, hi):
    return torch.clamp(x, lo, hi) if is_torch(x) else np.clip(x, lo, hi)
