"""Contract: every optimizer (PSO, GA, the ZO optimizers, the peer adapters) passes the same checks.

One result type; ``fun`` is the best value found and equals f(x); ``x`` lies in the
box; ``n_evals`` counts every row the objective saw and never exceeds ``max_evals``
by more than one population; the history has the shared columns with a best value
that never increases and ends at ``fun``; the same seed gives the same run.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import zoo_lab as zl
from zoo_lab._util.counting import CountingObjective
from zoo_lab.optimize import OptimizeResult
from zoo_lab.optimize.result import HISTORY_COLUMNS

F = zl.functions.get("rastrigin", 3)
MAX_EVALS = 600


def _zo(name):
    fn = getattr(zl.optimize, name)
    est = zl.estimators.make("gaussian", q=4, mu=1e-4)
    return lambda f, seed: fn(f, np.full(3, 2.0), est, lr=1e-3, max_evals=MAX_EVALS,
                              bounds=F.bounds, seed=seed), est.n_evals(3)


def _runner(name):
    if name == "pso":
        return lambda f, seed: zl.optimize.pso(f, F.bounds, n_particles=20, max_evals=MAX_EVALS,
                                               seed=seed), 20
    if name == "ga":
        return lambda f, seed: zl.optimize.ga(f, F.bounds, pop_size=20, max_evals=MAX_EVALS,
                                              seed=seed), 20
    if name.startswith("zo_"):
        return _zo(name)
    peer = getattr(zl.optimize, name)
    return lambda f, seed: peer(f, F.bounds, MAX_EVALS, seed=seed), 0


_PEER_MODULES = {"pymoo_ga": "pymoo", "pymoo_pso": "pymoo", "pyswarms_pso": "pyswarms",
                 "cmaes": "cma", "ipop_cmaes": "cma", "scipy_de": "scipy"}
NAMES = ["pso", "ga", "zo_sgd", "zo_adam", "zo_signsgd", *_PEER_MODULES]


@pytest.fixture(params=NAMES)
def optimizer(request):
    module = _PEER_MODULES.get(request.param)
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{request.param}: {module} is not installed")
    return request.param


def test_result_obeys_the_shared_conventions(optimizer):
    run, slack = _runner(optimizer)
    f = CountingObjective(F)
    res = run(f, 0)
    assert isinstance(res, OptimizeResult)
    x = np.asarray(res.x, dtype=float)
    assert np.all(F.bounds[:, 0] <= x) and np.all(x <= F.bounds[:, 1])
    assert res.fun == pytest.approx(float(F(x[None, :])[0]), rel=1e-9, abs=1e-12)
    assert res.n_evals == f.n_evals  # every row the objective saw, and nothing else
    assert MAX_EVALS - max(slack, 1) * 2 <= res.n_evals <= MAX_EVALS + slack
    frame = res.to_frame()
    assert set(HISTORY_COLUMNS) <= set(frame.columns) and len(frame) >= 1
    best = frame["best_fun"].to_numpy()
    assert np.all(np.diff(best) <= 0) and best[-1] == pytest.approx(res.fun)
    assert np.all(np.diff(frame["n_evals"].to_numpy()) >= 0)
    assert frame["n_evals"].iloc[-1] <= res.n_evals


def test_same_seed_same_run(optimizer):
    run, _ = _runner(optimizer)
    a, b = run(F, 3), run(F, 3)
    np.testing.assert_array_equal(np.asarray(a.x), np.asarray(b.x))
    assert a.fun == b.fun and a.n_evals == b.n_evals
