"""Optimizer stability on NN proxies vs the true function: paired runs, seed factorial, replication.

The question (arXiv 2301.07102): when PSO or a GA optimizes an NN proxy instead
of the true function, where does it land, and how much does that vary from seed
to seed? :func:`stability` fits proxies on sampled training sets, runs the
optimizers on them and, with the *same optimizer seeds*, on the true function, so
every proxy run has a paired true run. Three seed sources are kept apart:

* ``sampling_seed`` — draws the training design;
* ``init_seed`` — initialises (and orders the training of) the network;
* ``seed`` — the optimizer's seed.

Default mode (``factorial=False``): replicate ``s`` uses sampling, init and
optimizer seed ``s`` (every replicate independent). Factorial mode runs every
combination of ``sampling_seeds x init_seeds x seeds``; :func:`variance_split`
then splits the variance of a metric by source (main effects of a balanced
design; the rest is interactions). Each seed source is mapped to its own random
stream through ``numpy.random.SeedSequence((seed, source))``, so equal integers
in different sources never share random numbers.

:mod:`zoo_lab.studies.replication` runs the reference paper's protocol on the same engine.

References
----------
.. [1] "On Using Deep Learning Proxies as Forward Models in Deep Learning Problems",
   arXiv 2301.07102, 2023 (protocol, and the numbers in :data:`PAPER_2301_07102`).
.. [2] N. Hansen et al., "COCO: a platform for comparing continuous optimizers in a
   black-box setting", Optim. Methods Softw. 36(1), 2021 (targets, runtime ECDFs).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zoo_lab import sampling
from zoo_lab._util.counting import CountingObjective
from zoo_lab._util.seeding import rng_from
from zoo_lab._util.threads import torch_threads
from zoo_lab._util.validate import check_choice, check_int, renamed
from zoo_lab.problems import functions
from zoo_lab.studies.engine import run_tasks

__all__ = [
    "stability",
    "stability_grid",
    "stability_case",
    "STABILITY_OPTIMIZERS",
    "CASE_OPTIMIZERS",
]

STABILITY_OPTIMIZERS: tuple[str, ...] = ("pso", "ga", "ipop_cmaes")  # IPOP CMA-ES: the baseline
# optimizers whose runs record a trajectory (stability_case and the panel draw the paths)
CASE_OPTIMIZERS: tuple[str, ...] = ("pso", "ga")
_SOURCES = {"sampling": 0, "init": 1, "optimizer": 2, "test": 3}

@dataclass(frozen=True)
class _Problem:
    """A true objective with its box and optimum (possibly re-boxed or rescaled)."""

    name: str
    dim: int
    bounds: np.ndarray
    x_opt: np.ndarray
    f_opt: float
    scale: float = 1.0
    # the Problem protocol (zoo_lab.problems.Problem)
    in_dim = property(lambda self: self.dim)
    out_dim = property(lambda self: 1)

    def __call__(self, X):
        return functions.get(self.name, self.dim)(X) / self.scale


def _problem(name: str, dim: int, bounds=None, scale: float = 1.0) -> _Problem:
    f = functions.get(name, dim)
    if f.x_opt is None or not math.isfinite(f.f_opt):
        raise ValueError(f"function: {name!r} in {dim}D has no known optimum; pick another")
    b = f.bounds if bounds is None else sampling.check_bounds(bounds)
    if np.any(f.x_opt < b[:, 0]) or np.any(f.x_opt > b[:, 1]):
        raise ValueError(f"bounds: x* of {name} lies outside {b.tolist()}")
    return _Problem(name, dim, b, f.x_opt, f.f_opt / scale, scale)


def _seed(seed: int, source: str) -> int:
    """An independent integer seed for one seed source (SeedSequence spawning)."""
    return int(np.random.SeedSequence((int(seed), _SOURCES[source])).generate_state(1)[0])


def _check_seeds(name: str, seeds) -> list[int]:
    """Seeds as ints >= 0 (at least one); a non-integer such as 2.7 is refused, not truncated."""
    try:
        items = list(seeds)
    except TypeError as exc:
        raise TypeError(f"{name}: expected an iterable of ints, got {seeds!r}") from exc
    if not items:
        raise ValueError(f"{name}: need at least one seed, got {seeds!r}")
    return [check_int(f"{name}[{i}]", s, 0) for i, s in enumerate(items)]


class _Tracker(CountingObjective):
    """The shared counter; after each call it records the true error of the best point so far."""

    def __init__(self, fun: Callable, problem: _Problem) -> None:
        super().__init__(fun, track=True)
        self.problem, self.err = problem, math.inf
        self.errors: list[float] = []

    def improved(self, x: np.ndarray, f: float) -> None:
        self.err = float(self.problem(x[None, :])[0]) - self.problem.f_opt

    def __call__(self, X):
        y = super().__call__(X)
        self.errors.append(self.err)
        return y


def _run_optimizer(name: str, fun: Callable, bounds: np.ndarray, max_evals: int, pop: int, seed: int,
                   options: dict):
    from zoo_lab import optimize

    if name == "pso":
        return optimize.pso(fun, bounds, n_particles=pop, max_evals=max_evals, seed=seed, **options)
    if name == "ipop_cmaes":  # pop None: pycma's default first population, doubled on each restart
        return optimize.peers.ipop_cmaes(fun, bounds, max_evals=max_evals, pop_size=pop, seed=seed, **options)
    return optimize.ga(fun, bounds, pop_size=pop, max_evals=max_evals, seed=seed, **options)


def _basin_hit(problem: _Problem, x: np.ndarray) -> tuple[bool, float]:
    """Polish ``x`` with L-BFGS-B on the true function; a hit if it reaches f* (tolerance 1e-3 (1 + |f*|))."""
    from scipy.optimize import minimize

    res = minimize(lambda z: float(problem(z[None, :])[0]), x, method="L-BFGS-B",
                   bounds=problem.bounds, options=dict(maxiter=200))
    fp = float(res.fun)
    return bool(fp - problem.f_opt <= 1e-3 * (1.0 + abs(problem.f_opt))), fp


def _plateau(proxy: Callable, x: np.ndarray, bounds: np.ndarray, f0: float) -> bool:
    """True if the proxy is flat around ``x``: 2d axis steps of 1e-3 of the box change it by < 1e-9 (1 + |f|)."""
    h = 1e-3 * (bounds[:, 1] - bounds[:, 0])
    d = len(x)
    P = np.clip(np.r_[x + np.diag(h), x - np.diag(h)], bounds[:, 0], bounds[:, 1]).reshape(2 * d, d)
    v = np.asarray(proxy(P), dtype=float)
    return bool(np.all(np.abs(v - f0) <= 1e-9 * (1.0 + abs(f0))))


def _one_run(problem: _Problem, on: str, objective: Callable, proxy, optimizer: str, max_evals: int,
             pop: int, seed: int, options: dict, keep: list | None = None) -> dict:
    """One optimizer run; the returned point judged on the true function and the proxy.

    ``keep``, if given, receives the optimizer's result object.
    """
    tr = _Tracker(objective, problem)
    res = _run_optimizer(optimizer, tr, problem.bounds, max_evals, pop, _seed(seed, "optimizer"), options)
    if keep is not None:
        keep.append(res)
    x = np.asarray(res.x, dtype=float)
    f_true = float(problem(x[None, :])[0])
    f_proxy = float(proxy(x[None, :])[0]) if proxy is not None else math.nan
    hit, f_pol = _basin_hit(problem, x)
    return dict(
        on=on, optimizer=optimizer, seed=seed, x=x, f_true_at_x=f_true, f_proxy_at_x=f_proxy,
        error=f_true - problem.f_opt, dist_to_opt=float(np.linalg.norm(x - problem.x_opt)),
        basin_hit=hit, f_polished=f_pol, proxy_gap=f_proxy - f_true,
        plateau=_plateau(proxy, x, problem.bounds, f_proxy) if proxy is not None else False,
        n_evals=int(res.n_evals), objective_at_x=float(res.fun),
        history_evals=np.asarray(tr.hist_evals), history_error=np.asarray(tr.errors),
    )


def _design(problem: _Problem, scheme: str, n: int, seed: int) -> np.ndarray:
    """Training inputs: a sampling scheme on the box, or 'gaussian' N(x*, (half-width/3)^2)."""
    if scheme == "gaussian":
        rng = rng_from(seed)
        half = (problem.bounds[:, 1] - problem.bounds[:, 0]) / 2
        return problem.x_opt + rng.standard_normal((n, problem.dim)) * half / 3
    return sampling.sample(scheme, n, problem.bounds, seed=seed, sobol_n="round_up")


def _proxy_task(spec: dict) -> list[dict]:
    """Worker: sample, fit one proxy, measure its test error, run every optimizer seed on it."""
    with torch_threads(1):
        return _proxy_task_body(spec)


def _proxy_task_body(spec: dict) -> list[dict]:
    from zoo_lab.surrogate import proxy as proxy_mod

    p = _problem(spec["function"], spec["dim"], spec["bounds"], spec["scale"])
    X = _design(p, spec["scheme"], spec["n_samples"], _seed(spec["sampling_seed"], "sampling"))
    y = p(X)
    opts = dict(spec["proxy_options"])
    net = proxy_mod.fit(X, y, bounds=p.bounds, seed=_seed(spec["init_seed"], "init") % 2**31, **opts)
    Xt = sampling.sample("uniform", spec["n_test"], p.bounds, seed=_seed(spec["test_seed"], "test"))
    yt = p(Xt)
    rmse = float(np.sqrt(np.mean((net(Xt) - yt) ** 2)))
    common = dict(sampling_seed=spec["sampling_seed"], init_seed=spec["init_seed"],
                  n_train=len(X), proxy_test_rmse=rmse, proxy_test_nrmse=rmse / float(np.std(yt)),
                  proxy_fit_time=float(net.settings.get("fit_time", math.nan)))
    rows = []
    for optimizer in spec["optimizers"]:
        for s in spec["seeds"]:
            r = _one_run(p, "proxy", net, net, optimizer, spec["max_evals"], spec["pop"][optimizer], s,
                         spec["optimizer_options"].get(optimizer, {}))
            rows.append({**spec["labels"], **common, **r, "pop_size": spec["pop"][optimizer],
                         "settings": spec["settings"][optimizer]})
    return rows


def _true_task(spec: dict) -> list[dict]:
    """Worker: the paired runs of every optimizer seed on the true function."""
    p = _problem(spec["function"], spec["dim"], spec["bounds"], spec["scale"])
    rows = []
    for optimizer in spec["optimizers"]:
        for s in spec["seeds"]:
            r = _one_run(p, "true", p, None, optimizer, spec["max_evals"], spec["pop"][optimizer], s,
                         spec["optimizer_options"].get(optimizer, {}))
            rows.append(dict(spec["labels"], sampling_seed=-1, init_seed=-1, n_train=0,
                             proxy_test_rmse=math.nan, proxy_test_nrmse=math.nan,
                             proxy_fit_time=math.nan, **r, pop_size=spec["pop"][optimizer],
                             settings=spec["settings"][optimizer]))
    return rows


def _plan(function: str, dim: int, scheme: str, n_samples: int, optimizer, seeds, max_evals: int,
          pop_size, optimizer_options, proxy_options, factorial: bool, sampling_seeds, init_seeds,
          bounds, scale: float, n_test: int, labels: dict | None = None) -> list:
    """Validate one setting and return its tasks: one per proxy, plus the paired true runs."""
    problem = _problem(function, dim, bounds, scale)
    check_choice("scheme", scheme, (*sampling.SCHEMES, "gaussian"))
    optimizers = [optimizer] if isinstance(optimizer, str) else list(optimizer)
    bad = [o for o in optimizers if o not in STABILITY_OPTIMIZERS]
    if bad or not optimizers:
        raise ValueError(f"optimizer: got {optimizer!r}; allowed: {', '.join(STABILITY_OPTIMIZERS)}")
    n_samples = check_int("n_samples", n_samples, 8)
    max_evals = check_int("max_evals", max_evals, 10)
    seeds = _check_seeds("seeds", seeds)
    pops = {"pso": 40, "ga": 60, "ipop_cmaes": None}
    if isinstance(pop_size, dict):
        pops.update(pop_size)
    elif pop_size is not None:
        pops = {o: int(pop_size) for o in pops}
    for o in optimizers:
        if pops[o] is not None and max_evals < pops[o]:
            raise ValueError(f"max_evals: {max_evals} is below the {o} population {pops[o]}")
    popts = dict(hidden=(64, 64), activation="tanh", optimizer="lbfgs", max_iter=500)
    popts.update(proxy_options or {})
    oopts = {o: dict((optimizer_options or {}).get(o, {})) for o in optimizers}
    if factorial:
        s_seeds = _check_seeds("sampling_seeds", sampling_seeds if sampling_seeds is not None else seeds)
        i_seeds = _check_seeds("init_seeds", init_seeds if init_seeds is not None else seeds)
        groups = [(ss, si, seeds) for ss, si in itertools.product(s_seeds, i_seeds)]
    else:
        if sampling_seeds is not None or init_seeds is not None:
            raise ValueError("sampling_seeds, init_seeds: only used with factorial=True")
        groups = [(s, s, [s]) for s in seeds]
    lab = dict(function=function, dim=int(dim), scheme=scheme, n_samples=int(n_samples),
               max_evals=int(max_evals), factorial=bool(factorial))
    settings = {o: json.dumps(dict(lab, proxy=popts, optimizer_options=oopts[o], pop_size=pops[o],
                                   bounds=problem.bounds.tolist(), scale=scale), default=str)
                for o in optimizers}
    lab.update(labels or {})
    base = dict(function=function, dim=int(dim), bounds=problem.bounds.tolist(), scale=scale,
                max_evals=int(max_evals), pop=pops, optimizers=optimizers, optimizer_options=oopts,
                labels=lab, settings=settings)
    tasks = [(_proxy_task, dict(base, scheme=scheme, n_samples=int(n_samples), sampling_seed=ss,
                                init_seed=si, seeds=list(os_), proxy_options=popts, n_test=n_test,
                                test_seed=0))
             for ss, si, os_ in groups]
    tasks.append((_true_task, dict(base, seeds=seeds)))
    return tasks


_FIRST = ["function", "dim", "scheme", "n_samples", "optimizer", "on", "seed", "sampling_seed",
          "init_seed"]


def _frame(rows: list[dict]) -> pd.DataFrame:
    """Rows to a DataFrame with the identifying columns first, in a stable order."""
    df = pd.DataFrame(rows)
    df = df[_FIRST + [c for c in df.columns if c not in _FIRST]]
    keys = [c for c in ("function", "dim", "dataset", "scheme", "n_samples", "optimizer", "on",
                        "sampling_seed", "init_seed", "seed") if c in df.columns]
    return df.sort_values(keys, ignore_index=True, kind="stable")


@renamed(budget="max_evals")
def stability(function: str = "rastrigin", dim: int = 2, scheme: str = "lhs", n_samples: int = 256,
              optimizer: str | Sequence[str] = "pso", seeds: Iterable[int] = range(15), *,
              max_evals: int = 4000, pop_size: int | dict | None = None,
              optimizer_options: dict | None = None, proxy_options: dict | None = None,
              factorial: bool = False, sampling_seeds: Iterable[int] | None = None,
              init_seeds: Iterable[int] | None = None, bounds=None, scale: float = 1.0,
              n_test: int = 2048, executor=None, progress: bool = False,
              checkpoint: str | Path | None = None) -> pd.DataFrame:
    """Optimizer runs on a fitted proxy and, paired by optimizer seed, on the true function.

    One row per (on, optimizer, seed[, sampling_seed, init_seed]) with columns
    ``seed, x, f_true_at_x, f_proxy_at_x, error, dist_to_opt, basin_hit, proxy_gap,
    plateau, n_evals, proxy_test_rmse, ...`` and the settings. ``on`` is ``"proxy"``
    or ``"true"``. ``scheme`` is a :data:`zoo_lab.sampling.SCHEMES` name or
    ``"gaussian"`` (N(x*, (half-width/3)^2), the reference paper's third set).
    ``max_evals`` is the evaluation budget of every run (equal for PSO, GA and the IPOP CMA-ES baseline);
    ``pop_size`` defaults to 40 (PSO), 60 (GA) and pycma's own (IPOP CMA-ES). ``proxy_options`` go to
    :func:`zoo_lab.surrogate.proxy.fit` (default: tanh (64, 64), L-BFGS, 500 iterations).
    ``bounds``/``scale`` re-box the function and divide it by ``scale``.
    ``executor`` (a ``concurrent.futures`` executor) runs one proxy per task;
    ``checkpoint`` is a folder where finished tasks are stored so a stopped study
    resumes where it was.
    """
    tasks = _plan(function, dim, scheme, n_samples, optimizer, seeds, max_evals, pop_size,
                  optimizer_options, proxy_options, factorial, sampling_seeds, init_seeds, bounds,
                  scale, n_test)
    return _frame(run_tasks(tasks, executor=executor, progress=progress, checkpoint=checkpoint,
                             desc=f"{function} {dim}D {scheme}"))


@renamed(budget="max_evals")
def stability_grid(functions_: Sequence[str], dims: Sequence[int], schemes: Sequence[str],
                   n_samples: int, optimizer: str | Sequence[str] = ("pso", "ga"),
                   seeds: Iterable[int] = range(15), *, max_evals: int = 4000,
                   pop_size: int | dict | None = None, optimizer_options: dict | None = None,
                   proxy_options: dict | None = None, n_test: int = 2048, executor=None,
                   progress: bool = False, checkpoint: str | Path | None = None) -> pd.DataFrame:
    """:func:`stability` (independent replicates) over functions x dims x schemes, all tasks on one executor."""
    seeds = list(seeds)
    tasks = []
    for name, d, sch in itertools.product(functions_, dims, schemes):
        tasks += _plan(name, d, sch, n_samples, optimizer, seeds, max_evals, pop_size,
                       optimizer_options, proxy_options, False, None, None, None, 1.0, n_test)
    if not tasks:
        raise ValueError("functions_, dims, schemes: every one must be non-empty")
    return _frame(run_tasks(tasks, executor=executor, progress=progress, checkpoint=checkpoint,
                             desc="stability grid"))


@renamed(budget="max_evals")
def stability_case(function: str = "rastrigin", dim: int = 2, scheme: str = "lhs",
                   n_samples: int = 256, optimizer: str = "pso", seed: int = 0, max_evals: int = 2000,
                   pop_size: int | None = None, proxy_options: dict | None = None,
                   optimizer_options: dict | None = None, proxy_cache: dict | None = None) -> dict:
    """One case in full, for figures and panels: the proxy, and both runs with their trajectories.

    ``proxy_cache`` (a dict, e.g. a panel's) keeps each fitted proxy per (function, dim,
    scheme, n_samples, seed, proxy options), so changing only the optimizer or the budget
    never refits.

    Uses the same seed streams as :func:`stability` (replicate ``seed``). Returns a
    dict with ``function`` (the true objective), ``bounds``, ``x_opt``, ``f_opt``,
    ``proxy``, ``X_train``, ``proxy_test_nrmse``, ``run_true`` and ``run_proxy``
    (:class:`~zoo_lab.optimize.result.OptimizeResult` with ``trajectory``) and
    ``rows`` (the two judged rows, as in :func:`stability`).
    """
    check_choice("optimizer", optimizer, CASE_OPTIMIZERS)  # IPOP CMA-ES records no trajectory
    check_choice("scheme", scheme, (*sampling.SCHEMES, "gaussian"))
    from zoo_lab.surrogate import proxy as proxy_mod

    with torch_threads(1):
        p = _problem(function, dim)
        X = _design(p, scheme, int(n_samples), _seed(seed, "sampling"))
        popts = dict(hidden=(64, 64), activation="tanh", optimizer="lbfgs", max_iter=500)
        popts.update(proxy_options or {})
        key = (function, int(dim), scheme, int(n_samples), int(seed), repr(sorted(popts.items())))
        if proxy_cache is not None and key in proxy_cache:
            net, nrmse = proxy_cache[key]
        else:
            net = proxy_mod.fit(X, p(X), bounds=p.bounds, seed=_seed(seed, "init") % 2**31, **popts)
            Xt = sampling.sample("uniform", 2048, p.bounds, seed=_seed(0, "test"))
            yt = p(Xt)
            nrmse = float(np.sqrt(np.mean((net(Xt) - yt) ** 2)) / np.std(yt))
            if proxy_cache is not None:
                proxy_cache[key] = (net, nrmse)
        pop = pop_size or {"pso": 40, "ga": 60}[optimizer]
        opts = dict(optimizer_options or {}, record_trajectory=True)
        runs, rows = {}, []
        for on, objective in (("true", p), ("proxy", net)):
            keep: list = []
            rows.append(_one_run(p, on, objective, net if on == "proxy" else None, optimizer, max_evals,
                                 pop, seed, opts, keep))
            runs[on] = keep[0]
        return dict(function=p, bounds=p.bounds, x_opt=p.x_opt, f_opt=p.f_opt, proxy=net, X_train=X,
                    proxy_test_nrmse=nrmse, run_true=runs["true"], run_proxy=runs["proxy"],
                    rows=pd.DataFrame(rows))
