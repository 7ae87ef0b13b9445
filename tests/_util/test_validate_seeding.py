"""The shared validation and seeding module: one wording, one seed path, no silent coercion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import zoo_lab as zl
from zoo_lab._util.seeding import rng_from, seed_int, torch_generator
from zoo_lab._util.validate import (
    check_bool,
    check_bounds,
    check_choice,
    check_float,
    check_int,
    check_size,
)


@given(st.integers(-10**6, 10**6), st.integers(-100, 100))
def test_check_int_accepts_exactly_the_ints_in_range(v, lo):
    if v >= lo:
        assert check_int("n", v, lo) == v
    else:
        with pytest.raises(ValueError, match=f"n: expected an int >= {lo}, got {v}"):
            check_int("n", v, lo)


@pytest.mark.parametrize("bad", [True, 2.0, "3", None, np.float64(1.0)])
def test_check_int_refuses_non_ints_naming_type(bad):
    with pytest.raises(TypeError, match=f"k: expected an int >= 1, got {type(bad).__name__}"):
        check_int("k", bad, 1)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_check_float_open_interval(v):
    ok = np.isfinite(v) and 0 < v < 1
    if ok:
        assert check_float("p", v, 0.0, 1.0, strict=True, strict_max=True) == v
    else:
        with pytest.raises(ValueError, match=r"p: expected a finite number in \(0, 1\)"):
            check_float("p", v, 0.0, 1.0, strict=True, strict_max=True)


@pytest.mark.parametrize("bad", [True, "0.5", [0.5], None])
def test_check_float_refuses_non_numbers(bad):
    with pytest.raises(TypeError, match="mu: expected a finite number"):
        check_float("mu", bad, 0.0)


def test_check_choice_bool_and_size():
    assert check_choice("scheme", "lhs", ("lhs", "sobol")) == "lhs"
    with pytest.raises(ValueError, match="scheme: got 'LHS'; allowed: lhs, sobol"):
        check_choice("scheme", "LHS", ("lhs", "sobol"))
    with pytest.raises(ValueError, match="allowed: lhs"):
        check_choice("scheme", ["unhashable"], ("lhs",))
    assert check_bool("scramble", np.bool_(True)) is True
    with pytest.raises(TypeError, match="scramble: expected True or False, got str 'no'"):
        check_bool("scramble", "no")
    with pytest.raises(ValueError, match="n: this design would hold 1e\\+12 elements"):
        check_size("n", 10**12, "design")
    with pytest.raises(ValueError, match="axis 0 has lo=1.0 >= hi=0.0"):
        check_bounds([[1.0, 0.0]])


@given(st.integers(0, 2**32))
def test_same_int_seed_same_numbers_and_generators_pass_through(seed):
    assert np.array_equal(rng_from(seed).random(4), rng_from(seed).random(4))
    g = np.random.default_rng(seed)
    assert rng_from(g) is g
    assert seed_int(seed) == seed
    assert torch.equal(torch.rand(3, generator=torch_generator(seed)),
                       torch.rand(3, generator=torch_generator(seed)))


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (1.0, TypeError), ("0", TypeError),
                                      (True, TypeError), ([0], TypeError)])
def test_bad_seeds_are_refused_everywhere_the_same_way(bad, exc):
    f = zl.functions.get("sphere", 2)
    calls = [
        lambda: rng_from(bad),
        lambda: zl.sampling.sample("lhs", 8, f.bounds, seed=bad),
        lambda: zl.estimators.make("gaussian", q=2).gradient(f, np.zeros(2), seed=bad),
        lambda: zl.proxy.fit(np.random.rand(32, 2), np.zeros(32), seed=bad),
    ]
    for call in calls:
        with pytest.raises(exc, match="seed: expected an int >= 0, a numpy Generator or None"):
            call()


@pytest.mark.parametrize("hidden, exc, match", [
    ("64", TypeError, "hidden: expected a sequence of layer widths"),
    ((2.7,), TypeError, r"hidden\[0\]: expected an int >= 1, got float 2.7"),
    ((64, 0), ValueError, r"hidden\[1\]: expected an int >= 1, got 0"),
    (64, TypeError, "hidden: expected a sequence"),
])
def test_proxy_hidden_is_not_coerced(hidden, exc, match):
    with pytest.raises(exc, match=match):
        zl.proxy.fit(np.random.rand(32, 2), np.zeros(32), hidden=hidden)


def test_sampling_refuses_coercions_and_huge_sizes():
    b = np.tile([0.0, 1.0], (2, 1))
    with pytest.raises(TypeError, match="scramble: expected True or False, got str 'no'"):
        zl.sampling.sample("sobol", 8, b, scramble="no")
    with pytest.raises(ValueError, match="n: this design would hold"):
        zl.sampling.sample("uniform", 10**12, b)
    X = zl.sampling.sample("lhs", 8, b, seed=0)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="X: row 3 is not finite"):
        zl.sampling.discrepancy(X, b)


def test_a_step_below_the_dtype_resolution_warns():
    f = zl.functions.get("sphere", 3)
    x = np.full(3, 2.0, dtype=np.float32)
    est = zl.estimators.make("gaussian", q=4, mu=1e-9, dtype="float32")
    with pytest.warns(RuntimeWarning, match="mu=1e-09 is below the float32 resolution"):
        g, _ = est.gradient(f, x, seed=0)
    assert np.all(g == 0)  # what the warning is about: the step vanished in float32
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        zl.estimators.make("gaussian", q=4, mu=1e-3, dtype="float32").gradient(f, x, seed=0)
        zl.estimators.make("gaussian", q=4, mu=1e-9).gradient(f, x.astype(float), seed=0)


def test_an_all_nonfinite_run_warns():
    b = np.tile([-1.0, 1.0], (2, 1))
    with pytest.warns(RuntimeWarning, match="every one of the .* evaluations was non-finite"):
        res = zl.optimize.pso(lambda X: np.full(len(X), np.nan), b, n_particles=10, max_evals=50,
                              seed=0)
    assert res.n_evals == 50


@pytest.mark.parametrize("call", [
    lambda b: zl.optimize.pso(lambda X: X[:, 0], b, n_particles=10**9, seed=0),
    lambda b: zl.optimize.ga(lambda X: X[:, 0], b, pop_size=10**9, seed=0),
])
def test_huge_populations_are_refused_up_front(call):
    with pytest.raises(ValueError, match="would hold .* elements"):
        call(np.tile([-1.0, 1.0], (4, 1)))
