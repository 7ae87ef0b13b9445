"""Peer optimizers users know, run on the same problem and evaluation budget as ours.

Each adapter takes ``(fun, bounds, max_evals, pop_size, seed)``, hands the peer
whole populations (one batched call of ``fun`` per generation, numpy arrays) and
returns a :class:`~zoo_lab.optimize.result.OptimizeResult` whose ``x``/``fun``
are the best point ever evaluated and whose ``history`` has one row per call.

The budget is a hard cap: a call that would pass ``max_evals`` evaluates only
the rows that fit (the rest get ``+inf`` and are never passed to ``fun``) and the
run ends there, so ``n_evals <= max_evals`` for every peer (``==`` unless the peer
stops early on its own). The peers come from the ``dev`` extra (pymoo, cma,
pyswarms) or scipy and are imported only when an adapter runs.

Peers and their settings (library defaults unless stated):

* ``pymoo_ga`` — pymoo ``GA`` (tournament, SBX, polynomial mutation, (mu+lambda)
  survival, duplicate elimination) [1]_;
* ``pymoo_pso`` — pymoo ``PSO`` (adaptive w/c1/c2, velocity clamp 0.2) [1]_;
* ``pyswarms_pso`` — pyswarms ``GlobalBestPSO`` with the Clerc-Kennedy constriction
  values w = 0.7298, c1 = c2 = 1.49618 and bounds [2]_; pyswarms draws from the
  global ``numpy.random`` state, so the adapter seeds it and restores it afterwards;
* ``cmaes`` — pycma ``CMAEvolutionStrategy`` in the unit cube (sigma0 = 0.3 of the
  box, random start, bounds handled by pycma, restarts while budget is left) [3]_;
  its normal draws come from the adapter's own Generator;
* ``ipop_cmaes`` — the same with IPOP restarts: the population doubles at every
  restart (Auger & Hansen 2005) [5]_; it is the CMA-ES baseline of
  ``benchmarks/bench_quality.py``;
* ``scipy_de`` — ``scipy.optimize.differential_evolution`` (best1bin, vectorized,
  ``polish=False``, ``tol=0`` so it spends the budget) [4]_.

References
----------
.. [1] J. Blank, K. Deb, "pymoo: Multi-objective optimization in Python", IEEE Access 8, 2020.
.. [2] L. J. V. Miranda, "PySwarms: a research toolkit for particle swarm optimization
   in Python", JOSS 3(21), 2018.
.. [3] N. Hansen, "The CMA evolution strategy: a tutorial", arXiv:1604.00772, 2016.
.. [4] R. Storn, K. Price, "Differential evolution - a simple and efficient heuristic
   for global optimization over continuous spaces", J. Global Optim. 11, 1997.
.. [5] A. Auger, N. Hansen, "A restart CMA evolution strategy with increasing
   population size", IEEE CEC 2005.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable

import numpy as np

from zoo_lab._util.counting import BudgetSpent, CountingObjective
from zoo_lab._util.validate import check_choice, check_int
from zoo_lab.optimize.result import OptimizeResult
from zoo_lab.sampling import check_bounds

__all__ = ["PEERS", "run_peer", "pymoo_ga", "pymoo_pso", "pyswarms_pso", "cmaes", "ipop_cmaes",
           "scipy_de"]

PEERS: tuple[str, ...] = ("pymoo_ga", "pymoo_pso", "pyswarms_pso", "cmaes", "ipop_cmaes",
                          "scipy_de")
_PACKAGES = {"pymoo_ga": "pymoo", "pymoo_pso": "pymoo", "pyswarms_pso": "pyswarms",
             "cmaes": "cma", "ipop_cmaes": "cma", "scipy_de": "scipy"}


def _require(module: str, peer: str):
    """Import ``module`` or raise an ImportError that says how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{peer} needs the package {module.split('.')[0]!r}, which is not installed; "
            "install zoo_lab's dev extra: pip install -e '.[dev]'"
        ) from exc


def _result(rec: CountingObjective, method: str, settings: dict) -> OptimizeResult:
    """The best point ever evaluated, as an :class:`OptimizeResult` with one history row per call."""
    n = len(rec.hist_best)
    return OptimizeResult(
        x=rec.best_x, fun=rec.best_f, n_evals=rec.n_evals,
        history={"iter": np.arange(n), "n_evals": np.array(rec.hist_evals, dtype=np.int64),
                 "best_fun": np.array(rec.hist_best)},
        n_iter=n, message=f"{method}: {rec.n_calls} calls, {rec.n_evals} evaluations",
        n_calls=rec.n_calls, method=method, settings=settings,
    )


class _Recorder(CountingObjective):
    """The shared counter (capped at ``max_evals``, tracking the best) fed numpy rows by any peer."""

    def __init__(self, fun: Callable, max_evals: int) -> None:
        super().__init__(lambda X: np.asarray(fun(X), dtype=float).reshape(-1), max_evals,
                         track=True)

    def __call__(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return super().__call__(X[None, :] if X.ndim == 1 else X)


def _setup(fun, bounds, max_evals, pop_size, seed, peer):
    """Validate the common arguments; return (recorder, bounds, d, pop, int seed)."""
    if not callable(fun):
        raise TypeError(f"fun: expected a callable (n, d) -> (n,), got {type(fun).__name__}")
    b = check_bounds(bounds)
    max_evals = check_int("max_evals", max_evals, 1)
    pop = check_int("pop_size", pop_size, 2)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**31 - 1))
    seed = check_int("seed", seed, 0)
    _require(_PACKAGES[peer], peer)
    return _Recorder(fun, max_evals), b, b.shape[0], pop, seed


def _settings(**kw) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in kw.items()}


def pymoo_ga(fun: Callable, bounds, max_evals: int, pop_size: int = 60,
             seed: int | np.random.Generator = 0) -> OptimizeResult:
    """pymoo's single-objective GA (library defaults) on ``fun`` for ``max_evals`` evaluations."""
    rec, b, d, pop, seed = _setup(fun, bounds, max_evals, pop_size, seed, "pymoo_ga")
    from pymoo.algorithms.soo.nonconvex.ga import GA

    _run_pymoo(rec, b, GA(pop_size=pop), seed)
    return _result(rec, "pymoo_ga", _settings(pop_size=pop, max_evals=max_evals, seed=seed))


def pymoo_pso(fun: Callable, bounds, max_evals: int, pop_size: int = 40,
              seed: int | np.random.Generator = 0) -> OptimizeResult:
    """pymoo's PSO (library defaults, adaptive coefficients) on ``fun`` for ``max_evals`` evaluations."""
    rec, b, d, pop, seed = _setup(fun, bounds, max_evals, pop_size, seed, "pymoo_pso")
    from pymoo.algorithms.soo.nonconvex.pso import PSO

    _run_pymoo(rec, b, PSO(pop_size=pop), seed)
    return _result(rec, "pymoo_pso", _settings(pop_size=pop, max_evals=max_evals, seed=seed))


def _run_pymoo(rec: _Recorder, b: np.ndarray, algorithm, seed: int) -> None:
    """Run a pymoo algorithm on a vectorized Problem wrapping the recorder."""
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    class _P(Problem):
        def __init__(self) -> None:
            super().__init__(n_var=b.shape[0], n_obj=1, xl=b[:, 0], xu=b[:, 1])

        def _evaluate(self, X, out, *args, **kwargs):
            out["F"] = rec(X)[:, None]

    try:
        minimize(_P(), algorithm, ("n_evals", rec.max_evals), seed=seed, verbose=False)
    except BudgetSpent:
        pass


def pyswarms_pso(fun: Callable, bounds, max_evals: int, pop_size: int = 40,
                 seed: int | np.random.Generator = 0, w: float = 0.7298, c1: float = 1.49618,
                 c2: float = 1.49618) -> OptimizeResult:
    """pyswarms' GlobalBestPSO (constriction values, bounded) for ``max_evals`` evaluations."""
    rec, b, d, pop, seed = _setup(fun, bounds, max_evals, pop_size, seed, "pyswarms_pso")
    import logging

    import pyswarms

    iters = -(-rec.max_evals // pop)
    state = np.random.get_state()
    level = logging.getLogger("pyswarms").level
    try:
        np.random.seed(seed)
        logging.getLogger("pyswarms").setLevel(logging.ERROR)
        opt = pyswarms.single.GlobalBestPSO(
            n_particles=pop, dimensions=d, options={"w": w, "c1": c1, "c2": c2},
            bounds=(b[:, 0], b[:, 1]),
        )
        opt.optimize(rec, iters=iters, verbose=False)
    except BudgetSpent:
        pass
    finally:
        np.random.set_state(state)
        logging.getLogger("pyswarms").setLevel(level)
    return _result(rec, "pyswarms_pso", _settings(pop_size=pop, max_evals=max_evals, seed=seed,
                                                w=w, c1=c1, c2=c2))


def cmaes(fun: Callable, bounds, max_evals: int, pop_size: int | None = None,
          seed: int | np.random.Generator = 0, sigma0: float = 0.3,
          restarts: bool = True, incpopsize: int = 1, _name: str = "cmaes") -> OptimizeResult:
    """pycma's CMA-ES in the unit cube (random start, bounded, restarts) for ``max_evals`` evaluations.

    ``pop_size=None`` keeps pycma's default 4 + floor(3 ln d); each restart
    multiplies the population by ``incpopsize`` (2: IPOP, see :func:`ipop_cmaes`).
    """
    d_ = check_bounds(bounds).shape[0]
    pop_size = 4 + int(3 * math.log(d_)) if pop_size is None else pop_size
    incpopsize = check_int("incpopsize", incpopsize, 1)
    rec, b, d, pop, seed = _setup(fun, bounds, max_evals, pop_size, seed, _name)
    import cma

    rng = np.random.default_rng(seed)
    lo, span = b[:, 0], b[:, 1] - b[:, 0]
    opts = {"bounds": [0.0, 1.0], "popsize": pop, "seed": np.nan, "verbose": -9,
            "verb_disp": 0, "verb_log": 0, "randn": lambda *shape: rng.standard_normal(shape)}
    n_runs = 0
    try:
        while True:
            n_runs += 1
            es = cma.CMAEvolutionStrategy(rng.random(d), sigma0, opts)
            while not es.stop():
                U = np.asarray(es.ask())
                es.tell(list(U), rec(lo + span * U).tolist())
            if not restarts:
                break
            opts["popsize"] *= incpopsize
    except BudgetSpent:
        pass
    return _result(rec, _name, _settings(pop_size=pop, max_evals=max_evals, seed=seed,
                                       sigma0=sigma0, runs=n_runs, incpopsize=incpopsize,
                                       last_pop_size=opts["popsize"]))


def ipop_cmaes(fun: Callable, bounds, max_evals: int, pop_size: int | None = None,
               seed: int | np.random.Generator = 0, sigma0: float = 0.3) -> OptimizeResult:
    """IPOP CMA-ES (pycma; restarts double the population) for ``max_evals`` evaluations."""
    return cmaes(fun, bounds, max_evals, pop_size, seed, sigma0, restarts=True, incpopsize=2,
                 _name="ipop_cmaes")


def scipy_de(fun: Callable, bounds, max_evals: int, pop_size: int = 40,
             seed: int | np.random.Generator = 0) -> OptimizeResult:
    """scipy's differential_evolution (best1bin, vectorized, no polish) for ``max_evals`` evaluations.

    scipy sizes its population as ``popsize * d``; ``popsize = ceil(pop_size / d)``.
    """
    rec, b, d, pop, seed = _setup(fun, bounds, max_evals, pop_size, seed, "scipy_de")
    from scipy.optimize import differential_evolution

    mult = max(1, -(-pop // d))
    total = max(5, mult * d)
    maxiter = max(1, -(-rec.max_evals // total))
    try:
        differential_evolution(
            lambda XT: rec(XT.T), b, popsize=mult, maxiter=maxiter, rng=np.random.default_rng(seed),
            vectorized=True, updating="deferred", polish=False, tol=0.0, atol=0.0,
        )
    except BudgetSpent:
        pass
    return _result(rec, "scipy_de", _settings(pop_size=total, max_evals=max_evals, seed=seed))


_ADAPTERS = {"pymoo_ga": pymoo_ga, "pymoo_pso": pymoo_pso, "pyswarms_pso": pyswarms_pso,
             "cmaes": cmaes, "ipop_cmaes": ipop_cmaes, "scipy_de": scipy_de}


def run_peer(name: str, fun: Callable, bounds, max_evals: int, pop_size: int | None = None,
             seed: int | np.random.Generator = 0, **options) -> OptimizeResult:
    """Run the peer optimizer ``name`` (one of :data:`PEERS`) on ``fun`` for ``max_evals`` evaluations."""
    check_choice("name", name, PEERS)
    kw = {} if pop_size is None else {"pop_size": pop_size}
    return _ADAPTERS[name](fun, bounds, max_evals, seed=seed, **kw, **options)
