"""PSO and GA: they solve easy problems, reproduce from seeds, batch one call per generation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo_lab as zl
from zoo_lab._util.counting import CountingObjective
from zoo_lab.optimize._population import _Backend
from zoo_lab.optimize.genetic import _polynomial_mutation, _sbx
from zoo_lab.optimize.result import OptimizeResult

OPTIMIZERS = {"pso": zl.optimize.pso, "ga": zl.optimize.ga}
POP = {"pso": "n_particles", "ga": "pop_size"}
GENS = {"pso": "iters", "ga": "generations"}


def Counting(f):
    """The shared counter, keeping a numpy copy of every batch."""
    return CountingObjective(f, keep_batches=True)


def run(name, f, **kw):
    return OPTIMIZERS[name](f, f.bounds, **kw)


# defaults (pop 40 / 60, 200 generations); the thresholds hold with a margin of
# 10^4 (PSO) and 20x (GA) over the worst of 8 seeds observed while writing them.
@pytest.mark.parametrize("function", ["sphere", "levy"])
@pytest.mark.parametrize("name", ["pso", "ga"])
def test_solves_5d_reliably(name, function):
    f = zl.functions.get(function, 5)
    tol_f, tol_x = (1e-8, 1e-4) if name == "pso" else (1e-3, 0.05)
    for seed in range(5):
        res = run(name, f, seed=seed)
        assert res.fun - f.f_opt < tol_f, (seed, res.fun)
        assert np.abs(res.x - f.x_opt).max() < tol_x, (seed, res.x)
        assert res.fun == pytest.approx(float(f(res.x)), abs=1e-12)


def test_ring_topology_solves_sphere():
    f = zl.functions.get("sphere", 5)
    for seed in range(3):
        assert zl.optimize.pso(f, f.bounds, topology="ring", seed=seed).fun < 1e-6


@pytest.mark.parametrize("name", ["pso", "ga"])
def test_same_seed_same_run_bit_for_bit(name):
    f = zl.functions.get("rastrigin", 4)
    a = run(name, f, seed=3, record_trajectory=True)
    b = run(name, f, seed=3, record_trajectory=True)
    assert np.array_equal(a.x, b.x) and a.fun == b.fun
    assert np.array_equal(a.history["best_fun"], b.history["best_fun"])
    assert np.array_equal(a.trajectory, b.trajectory)
    c = run(name, f, seed=np.random.default_rng(7))
    d = run(name, f, seed=np.random.default_rng(7))
    assert np.array_equal(c.history["best_fun"], d.history["best_fun"])


@pytest.mark.parametrize("name", ["pso", "ga"])
def test_different_seeds_differ(name):
    f = zl.functions.get("rastrigin", 4)
    a = run(name, f, seed=0, record_trajectory=True)
    b = run(name, f, seed=1, record_trajectory=True)
    assert not np.array_equal(a.trajectory[0], b.trajectory[0])
    assert not np.array_equal(a.x, b.x)


@pytest.mark.parametrize("name", ["pso", "ga"])
def test_one_batched_call_per_generation_and_exact_evals(name):
    f = zl.functions.get("ackley", 3)
    g = Counting(f)
    res = OPTIMIZERS[name](g, f.bounds, **{POP[name]: 17, GENS[name]: 23}, seed=0)
    assert len(g.batches) == 23 == res.n_calls == res.n_iter
    assert all(b.shape == (17, 3) for b in g.batches)
    assert res.n_evals == 17 * 23 == sum(len(b) for b in g.batches)
    assert list(res.history["n_evals"]) == [17 * (i + 1) for i in range(23)]
    assert np.all(np.diff(res.history["best_fun"]) <= 0)
    allx = np.concatenate(g.batches)
    assert np.all(allx >= f.lower) and np.all(allx <= f.upper)
    # the reported best is the best value ever evaluated
    assert res.fun == pytest.approx(float(f(allx).min()), abs=0)
    assert type(res) is OptimizeResult and zl.optimize.OptimizeResult is OptimizeResult
    frame = res.to_frame()
    assert list(frame.columns) == ["method", "iter", "n_evals", "best_fun"]
    assert (frame["method"] == name).all() and len(frame) == res.n_iter
    with pytest.warns(DeprecationWarning, match="PopulationResult"):
        from zoo_lab.optimize.swarm import PopulationResult
    assert PopulationResult is OptimizeResult
    with pytest.warns(DeprecationWarning, match="best_fun"):
        assert np.array_equal(res.history["fun"], res.history["best_fun"])


@pytest.mark.parametrize("name", ["pso", "ga"])
def test_max_evals_truncates_the_last_batch(name):
    f = zl.functions.get("sphere", 2)
    g = Counting(f)
    res = OPTIMIZERS[name](g, f.bounds, **{POP[name]: 10}, max_evals=95, seed=0)
    assert res.n_evals == 95 == sum(len(b) for b in g.batches)
    assert [len(b) for b in g.batches] == [10] * 9 + [5]
    assert res.history["n_evals"][-1] == 95
    # max_evals within pop * generations: max_evals binds
    res2 = OPTIMIZERS[name](f, f.bounds, **{POP[name]: 10, GENS[name]: 20}, max_evals=95, seed=0)
    assert res2.n_evals == 95
    # a budget above pop * generations is an error, not a silent cap
    with pytest.raises(ValueError, match=rf"max_evals: 1000000 .*{GENS[name]}=5 \(50 evaluations"):
        OPTIMIZERS[name](f, f.bounds, **{POP[name]: 10, GENS[name]: 5}, max_evals=10**6, seed=0)


@settings(max_examples=10, deadline=None)
@given(budget=st.integers(2_000, 30_000), pop=st.integers(5, 60), name=st.sampled_from(["pso", "ga"]))
def test_max_evals_alone_spends_exactly_the_budget(budget, pop, name):
    # issue 16: max_evals=20000 used to stop at 200 generations (8,000 / 12,000 evaluations)
    f = zl.functions.get("rastrigin", 3)
    g = Counting(f)
    res = OPTIMIZERS[name](g, f.bounds, **{POP[name]: pop}, max_evals=budget, seed=1)
    spent = sum(len(b) for b in g.batches)
    assert spent == res.n_evals == budget
    assert all(len(b) == pop for b in g.batches[:-1]) and 0 < len(g.batches[-1]) <= pop
    assert res.n_iter == len(g.batches) == -(-budget // pop)
    assert res.history["n_evals"][-1] == budget


@settings(max_examples=15, deadline=None)
@given(
    d=st.integers(1, 6),
    pop=st.integers(3, 12),
    gens=st.integers(1, 8),
    lo=st.floats(-100, 100),
    width=st.floats(1e-3, 50),
    seed=st.integers(0, 2**32),
)
def test_points_stay_in_bounds_and_budget_is_exact(d, pop, gens, lo, width, seed):
    bounds = np.tile([lo, lo + width], (d, 1))
    for name in ("pso", "ga"):
        g = Counting(lambda X: np.sin(X).sum(1) + (X**2).sum(1))
        res = OPTIMIZERS[name](g, bounds, **{POP[name]: pop, GENS[name]: gens}, seed=seed)
        allx = np.concatenate(g.batches)
        assert np.all(allx >= bounds[:, 0]) and np.all(allx <= bounds[:, 1])
        assert res.n_evals == pop * gens == len(allx)
        assert np.all(res.x >= bounds[:, 0]) and np.all(res.x <= bounds[:, 1])


@pytest.mark.parametrize("name", ["pso", "ga"])
def test_torch_backend(name):
    f = zl.functions.get("levy", 3)
    seen = []

    def fun(X):
        seen.append(type(X))
        return f(X)

    a = OPTIMIZERS[name](fun, f.bounds, seed=1, backend="torch")
    b = OPTIMIZERS[name](f, f.bounds, seed=1, backend="torch")
    assert set(seen) == {torch.Tensor}
    assert np.array_equal(a.x, b.x) and isinstance(a.x, np.ndarray)
    assert a.fun < 1e-2
    if torch.cuda.is_available():
        c = OPTIMIZERS[name](f, f.bounds, seed=1, device="cuda")
        assert c.fun < 1e-2 and isinstance(c.x, np.ndarray)


def test_nan_values_never_win():
    f = zl.functions.get("sphere", 2)

    def fun(X):
        y = f(X)
        y[X[:, 0] < 0] = np.nan
        return y

    for opt in OPTIMIZERS.values():
        res = opt(fun, f.bounds, seed=0)
        assert np.isfinite(res.fun) and res.x[0] >= 0


def test_sbx_children_stay_in_bounds_and_keep_the_mean():
    be = _Backend("numpy", None, None, 0)
    lo, hi = np.full(4, -1.0), np.full(4, 1.0)
    p1, p2 = be.rand(500, 4) * 2 - 1, be.rand(500, 4) * 2 - 1
    c1, c2 = _sbx(be, p1, p2, lo, hi, 15.0, 1.0)
    assert np.all((c1 >= lo) & (c1 <= hi) & (c2 >= lo) & (c2 <= hi))
    assert not np.allclose(c1, p1)
    # far from the walls bounded SBX is the original, mean-preserving SBX
    far = np.full(4, 1e3)
    c1, c2 = _sbx(be, p1, p2, -far, far, 15.0, 1.0)
    assert np.allclose(c1 + c2, p1 + p2, atol=1e-12)
    m = _polynomial_mutation(be, p1, lo, hi, 20.0, 0.25)
    changed = m != p1
    assert 0.15 < changed.mean() < 0.35  # 2000 coins at p = 0.25: sd 0.01
    assert np.all((m >= lo) & (m <= hi))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bounds=[[1.0, 0.0]]), "bounds"),
        (dict(bounds=[1.0, 2.0]), "bounds"),
        (dict(bounds=[[0.0, np.inf]]), "bounds"),
        (dict(seed=-1), "seed"),
        (dict(max_evals=3), "max_evals"),
        (dict(max_evals=0), "max_evals"),
        (dict(backend="jax"), "backend"),
        (dict(device="cuda", backend="numpy"), "device"),
    ],
)
@pytest.mark.parametrize("name", ["pso", "ga"])
def test_errors_common(name, kwargs, match):
    f = zl.functions.get("sphere", 1)
    kw = dict(bounds=f.bounds, seed=0)
    kw.update(kwargs)
    with pytest.raises(ValueError, match=match):
        OPTIMIZERS[name](f, **kw)


def test_errors_specific():
    f = zl.functions.get("sphere", 2)
    b = f.bounds
    with pytest.raises(ValueError, match="n_particles"):
        zl.optimize.pso(f, b, n_particles=1)
    with pytest.raises(TypeError, match="iters"):
        zl.optimize.pso(f, b, iters=2.5)
    with pytest.raises(ValueError, match="iters"):
        zl.optimize.pso(f, b, iters=0)
    with pytest.raises(ValueError, match="topology: got 'star'; allowed: global, ring"):
        zl.optimize.pso(f, b, topology="star")
    with pytest.raises(ValueError, match="v_max"):
        zl.optimize.pso(f, b, v_max=0)
    with pytest.raises(ValueError, match="generations"):
        zl.optimize.ga(f, b, generations=0)
    with pytest.raises(ValueError, match="tournament"):
        zl.optimize.ga(f, b, pop_size=4, tournament=5)
    with pytest.raises(ValueError, match="elitism"):
        zl.optimize.ga(f, b, pop_size=4, elitism=4)
    with pytest.raises(ValueError, match="p_crossover"):
        zl.optimize.ga(f, b, p_crossover=1.5)
    with pytest.raises(TypeError, match="fun"):
        zl.optimize.ga("sphere", b)
    with pytest.raises(ValueError, match=r"fun: must map .* shape \(n,\)"):
        zl.optimize.pso(lambda X: X, b)
    with pytest.raises(RuntimeError, match="iteration 0") as info:
        zl.optimize.ga(lambda X: 1 / 0, b)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_pso_default_swarm_size_keeps_200_iterations_on_small_budgets():
    f = zl.functions.get("ackley", 2)
    small = zl.optimize.pso(f, f.bounds, max_evals=4000, seed=0)  # 2000 d at d = 2
    assert small.settings["n_particles"] == 20 and small.n_iter == 200 and small.n_evals == 4000
    big = zl.optimize.pso(f, f.bounds, max_evals=20000, seed=0)
    assert big.settings["n_particles"] == 40 and big.n_evals == 20000
    by_iters = zl.optimize.pso(f, f.bounds, iters=30, seed=0)  # iters given: the fixed 40
    assert by_iters.settings["n_particles"] == 40 and by_iters.n_evals == 40 * 30
    both = zl.optimize.pso(f, f.bounds, max_evals=400, iters=10, seed=0)
    assert both.settings["n_particles"] == 40 and both.n_evals == 400
    # an explicit size wins
    assert zl.optimize.pso(f, f.bounds, n_particles=40, max_evals=4000, seed=0).n_iter == 100


@settings(max_examples=25, deadline=None)
@given(st.integers(10, 20000))
def test_pso_default_swarm_size_rule(max_evals):
    f = zl.functions.get("sphere", 2)
    r = zl.optimize.pso(f, f.bounds, max_evals=max_evals, seed=0)
    n = r.settings["n_particles"]
    assert n == min(40, max(10, max_evals // 200)) and r.n_evals == max_evals
    assert r.n_iter >= min(200, max_evals // n)
