"""ZO optimizers against derivative-free baselines: error against the number of queries.

:func:`zo_convergence` runs ZO-SGD, ZO-Adam and ZO-signSGD (``zoo_lab.optimize``) and the
baselines a user would compare them with, Nelder-Mead (scipy) and CMA-ES (pycma through
:mod:`zoo_lab.optimize.peers`), on one problem with one budget of function evaluations,
and returns the best *clean* value found so far after every batch of queries. Problems
are registry functions or the heat-rod inverse problem of notebook 03
(:func:`zo_problem`); ``noise`` adds Gaussian noise of that standard deviation to every
value the optimizers see, while the reported gap is measured on the noise-free function
(those measurements are not counted as queries). Step-size and μ schedules are
``"constant"`` or ``"inv_sqrt"`` (value / √(k + 1) at step k).

References
----------
.. [1] S. Ghadimi, G. Lan (2013), SIAM J. Optim. 23(4) (ZO-SGD and its μ, step rules).
.. [2] X. Chen et al. (2019), ZO-AdaMM, NeurIPS. .. [3] S. Liu et al. (2019), signSGD via
   zeroth-order oracle, ICLR. .. [4] J. A. Nelder, R. Mead (1965), Comput. J. 7(4).
.. [5] N. Hansen (2016), The CMA evolution strategy: a tutorial, arXiv 1604.00772.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zoo_lab._util.validate import check_choice, check_float, check_int, renamed
from zoo_lab.optimize import peers, zo
from zoo_lab.problems import functions, heat
from zoo_lab.zo import estimators

__all__ = ["ZO_OPTIMIZERS", "ZO_BASELINES", "SCHEDULES", "ZOProblem", "zo_problem", "zo_convergence",
           "zo_summary"]

ZO_OPTIMIZERS: tuple[str, ...] = ("zo_sgd", "zo_adam", "zo_signsgd")
ZO_BASELINES: tuple[str, ...] = ("nelder_mead", "cmaes")
SCHEDULES: tuple[str, ...] = ("constant", "inv_sqrt")
_RUNNERS = {"zo_sgd": zo.zo_sgd, "zo_adam": zo.zo_adam, "zo_signsgd": zo.zo_signsgd}


@dataclass(frozen=True)
class ZOProblem:
    """A clean objective (m, d) -> (m,) with its box, minimum value and start point."""

    name: str
    fun: Callable
    bounds: np.ndarray
    f_opt: float
    x0: np.ndarray
    x_opt: np.ndarray

    @property
    def dim(self) -> int:
        """Number of variables."""
        return self.bounds.shape[0]


def zo_problem(name: str, dim: int = 10) -> ZOProblem:
    """A registry function (start: 60 % of the way from x* to the upper corner) or ``"heat"``.

    ``"heat"``: recover ``dim`` zone conductivities of a :class:`zoo_lab.problems.heat.HeatRod`
    from its noise-free sensor readings (misfit = mean squared reading error, f* = 0),
    starting from the middle of the box.
    """
    if name == "heat":
        rod = heat.HeatRod(n_zones=dim, n_cells=max(32, 4 * dim), n_steps=30, t_final=0.3)
        inv = heat.inverse_problem(rod, seed=0)
        b = np.asarray(rod.bounds, dtype=float)
        return ZOProblem("heat", lambda X: inv.misfit(np.clip(X, b[:, 0], b[:, 1])), b, 0.0,
                         b.mean(1), inv.k_true.copy())
    if name not in functions.names():
        raise ValueError(f"name: got {name!r}; allowed: heat, {', '.join(functions.names())}")
    f = functions.get(name, dim)
    b = np.asarray(f.bounds, dtype=float)
    x0 = f.x_opt + 0.6 * (b[:, 1] - f.x_opt)
    return ZOProblem(name, f, b, float(f.f_opt), x0, np.asarray(f.x_opt, dtype=float))


class _Recorder:
    """Objective seen by an optimizer: adds noise, counts rows, logs the best clean value."""

    def __init__(self, problem: ZOProblem, noise: float, rng: np.random.Generator, max_evals: int):
        self.p, self.noise, self.rng, self.max_evals = problem, float(noise), rng, max_evals
        self.n, self.best = 0, np.inf
        self.evals: list[int] = []
        self.gaps: list[float] = []

    def __call__(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        clean = np.asarray(self.p.fun(X), dtype=float)
        self.n += len(X)
        self.best = min(self.best, float(np.min(clean)))
        self.evals.append(self.n)
        self.gaps.append(self.best - self.p.f_opt)
        if self.noise > 0:
            return clean + self.noise * self.rng.standard_normal(clean.shape)
        return clean

    def scalar(self, x) -> float:
        """One point, for scipy; past the budget it raises so Nelder-Mead stops exactly there."""
        if self.n >= self.max_evals:
            raise _Spent
        return float(self(np.asarray(x)[None])[0])


class _Spent(Exception):
    pass


def _schedule(kind: str, value: float) -> Callable[[int], float]:
    if kind == "constant":
        return lambda k: value
    return lambda k: value / np.sqrt(k + 1.0)


def _run_one(problem: ZOProblem, method: str, max_evals: int, seed: int, q: int, mu: float, lr: float,
             lr_schedule: str, mu_schedule: str, noise: float, difference: str) -> _Recorder:
    rng = np.random.default_rng([seed, 7])
    rec = _Recorder(problem, noise, rng, max_evals)
    if method == "nelder_mead":
        from scipy.optimize import minimize

        x0 = problem.x0 + 0.0
        try:
            minimize(rec.scalar, x0, method="Nelder-Mead", bounds=problem.bounds,
                     options=dict(maxfev=max_evals, xatol=1e-12, fatol=1e-14))
        except _Spent:
            pass
        return rec
    if method == "cmaes":
        peers.cmaes(rec, problem.bounds, max_evals=max_evals, seed=seed)
        return rec
    est = estimators.make("gaussian", q=q, mu=mu, difference=difference)
    mus = _schedule(mu_schedule, mu)

    def next_mu(k, x, f):  # combine() reads μ from its query, so this changes the *next* step only
        est.mu = float(mus(k + 1))

    _RUNNERS[method](rec, problem.x0 + 0.0, est, lr=_schedule(lr_schedule, lr), iters=10 * max_evals,
                     max_evals=max_evals, bounds=problem.bounds, seed=seed, callback=next_mu)
    return rec


@renamed(budget="max_evals")
def zo_convergence(problem: str | ZOProblem = "sphere", dim: int = 10,
                   methods: Sequence[str] = ZO_OPTIMIZERS + ZO_BASELINES, *, max_evals: int = 2000,
                   seeds: Sequence[int] = range(5), q: int = 10, mu: float = 1e-3,
                   lr: float | dict = 0.05, lr_schedule: str = "constant",
                   mu_schedule: str = "constant", noise: float = 0.0,
                   difference: str = "forward") -> pd.DataFrame:
    """Best clean f − f* after each batch of queries, one row per (method, seed, batch).

    ``lr`` is one step size for every ZO method or a dict method -> step size (the
    baselines take none). Columns: problem, dim, method, seed, n_evals, gap, and the
    settings (q, mu, lr, lr_schedule, mu_schedule, noise, budget).
    """
    p = problem if isinstance(problem, ZOProblem) else zo_problem(problem, dim)
    allowed = ZO_OPTIMIZERS + ZO_BASELINES
    bad = [m for m in methods if m not in allowed]
    if bad or not methods:
        raise ValueError(f"methods: got {list(methods)!r}; allowed: {', '.join(allowed)}")
    check_choice("lr_schedule", lr_schedule, SCHEDULES)
    check_choice("mu_schedule", mu_schedule, SCHEDULES)
    max_evals = check_int("max_evals", max_evals, 2 * q + 2)  # two estimates at least
    noise = check_float("noise", noise, 0.0)  # standard deviation
    rows = []
    for method, seed in itertools.product(methods, seeds):
        step = lr.get(method, np.nan) if isinstance(lr, dict) else lr
        if method in ZO_OPTIMIZERS and not (isinstance(step, int | float) and step > 0):
            raise ValueError(f"lr: expected a float > 0 for {method}, got {step!r}")
        rec = _run_one(p, method, int(max_evals), int(seed), q, mu, float(step), lr_schedule,
                       mu_schedule, float(noise), difference)
        for n, g in zip(rec.evals, rec.gaps, strict=True):
            rows.append(dict(problem=p.name, dim=p.dim, method=method, seed=int(seed), n_evals=n,
                             gap=g, q=q, mu=mu, lr=step, lr_schedule=lr_schedule,
                             mu_schedule=mu_schedule, noise=float(noise), max_evals=int(max_evals)))
    return pd.DataFrame(rows)


def zo_summary(df: pd.DataFrame, at: Sequence[int] | None = None) -> pd.DataFrame:
    """Median and quartiles over seeds of the best gap reached within each of the budgets ``at``."""
    at = sorted(at) if at is not None else [int(df["max_evals"].max())]
    out = []
    for (method, *_), g in df.groupby(["method", "problem", "dim", "noise"], sort=False):
        for b in at:
            best = g[g["n_evals"] <= b].groupby("seed")["gap"].min()
            out.append(dict(method=method, max_evals=b, gap_median=best.median(),
                            gap_q25=best.quantile(0.25), gap_q75=best.quantile(0.75), seeds=len(best)))
    return pd.DataFrame(out)
