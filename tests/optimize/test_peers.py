"""Our PSO and GA against pymoo, pyswarms, pycma and scipy at the same evaluation budget.

Quality criterion (5D, budget 3000 evaluations, population 40, seeds 0-3; runs
are seeded, so the test is deterministic): for each problem,

    median error(ours) <= 3 * median error(peer) + atol

with error = f(x_best) - f*, comparing our PSO with pymoo's and pyswarms' PSO,
our GA with pymoo's GA, and the better of our two with CMA-ES and differential
evolution. ``atol`` is the precision both sides count as "solved": 1e-4 for the
PSO comparisons and 1e-3 for the GA (a GA at 3000 evaluations reaches ~1e-5 on
sphere, pymoo's included). Seen while writing this: on sphere, pymoo's adaptive
PSO converges further than our fixed constriction PSO (median 7e-9 vs 5e-6 at
3000 evaluations), so "same quality" on the unimodal problems means "both below
1e-4", not "as precise". A peer that is not installed is skipped.
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

import zoo_lab as zl
from zoo_lab.optimize import peers

BUDGET, POP, SEEDS, DIM = 3000, 40, range(4), 5
FUNCTIONS = ("sphere", "rastrigin", "levy")


def _installed(peer: str) -> bool:
    return importlib.util.find_spec(peers._PACKAGES[peer]) is not None


def _need(peer: str) -> None:
    if not _installed(peer):
        pytest.skip(f"{peer}: package {peers._PACKAGES[peer]!r} is not installed (dev extra)")


@pytest.fixture(scope="module")
def errors():
    """Median final error per (function, optimizer) over the seeds; peers run lazily."""
    cache: dict = {}

    def get(function: str, name: str) -> float:
        key = (function, name)
        if key not in cache:
            f = zl.functions.get(function, DIM)
            out = []
            for s in SEEDS:
                if name == "pso":
                    r = zl.optimize.pso(f, f.bounds, n_particles=POP, max_evals=BUDGET, iters=10**6, seed=s)
                elif name == "ga":
                    r = zl.optimize.ga(f, f.bounds, pop_size=POP, max_evals=BUDGET, generations=10**6, seed=s)
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        pop = None if name == "cmaes" else POP
                        r = zl.optimize.run_peer(name, f, f.bounds, BUDGET, pop_size=pop, seed=s)
                assert r.n_evals == BUDGET, (name, r.n_evals)
                out.append(r.fun - f.f_opt)
            cache[key] = float(np.median(out))
        return cache[key]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(
    "ours, peer, atol",
    [("pso", "pymoo_pso", 1e-4), ("pso", "pyswarms_pso", 1e-4), ("ga", "pymoo_ga", 1e-3),
     ("best", "cmaes", 1e-4), ("best", "scipy_de", 1e-4)],
)
def test_same_quality_at_equal_budget(errors, function, ours, peer, atol):
    _need(peer)
    theirs = errors(function, peer)
    mine = min(errors(function, "pso"), errors(function, "ga")) if ours == "best" else errors(function, ours)
    print(f"{function}: {ours} median error {mine:.3g} vs {peer} {theirs:.3g}")
    assert mine <= 3 * theirs + atol, f"{function}: {ours} median error {mine:.3g} vs {peer} {theirs:.3g}"


@pytest.mark.parametrize("peer", peers.PEERS)
def test_adapter_contract(peer):
    """Budget capped exactly, batched calls, best point consistent, seeds reproduce, global RNG untouched."""
    _need(peer)
    f = zl.functions.get("ackley", 3)
    calls = []

    def fun(X):
        calls.append(len(X))
        assert isinstance(X, np.ndarray) and X.ndim == 2
        assert np.all(X >= f.lower) and np.all(X <= f.upper)
        return f(X)

    state = np.random.get_state()[1].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = zl.optimize.run_peer(peer, fun, f.bounds, max_evals=333, seed=5)
        b = zl.optimize.run_peer(peer, f, f.bounds, max_evals=333, seed=5)
    assert np.array_equal(np.random.get_state()[1], state), "the adapter changed numpy's global RNG"
    assert a.n_evals == 333 == sum(calls) and a.n_calls == len(calls)
    assert max(calls) > 1  # populations, not single points
    assert a.fun == pytest.approx(float(f(a.x)), abs=0) and a.fun == b.fun
    assert np.array_equal(a.x, b.x) and a.method == peer
    assert list(a.history["n_evals"]) == list(np.cumsum(calls))


def test_errors_and_missing_package(monkeypatch):
    f = zl.functions.get("sphere", 2)
    with pytest.raises(ValueError, match="name.*allowed"):
        zl.optimize.run_peer("nelder_mead", f, f.bounds, 100)
    with pytest.raises(ValueError, match="max_evals"):
        zl.optimize.run_peer("scipy_de", f, f.bounds, 0)
    with pytest.raises(TypeError, match="fun"):
        zl.optimize.run_peer("scipy_de", None, f.bounds, 100)

    real = importlib.import_module

    def fake(name, *a, **k):
        if name.split(".")[0] == "pymoo":
            raise ImportError("No module named 'pymoo'")
        return real(name, *a, **k)

    monkeypatch.setattr(peers.importlib, "import_module", fake)
    with pytest.raises(ImportError, match=r"pymoo_ga needs the package 'pymoo'.*\[dev\]"):
        zl.optimize.pymoo_ga(f, f.bounds, 100)
