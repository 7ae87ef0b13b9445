"""Sampling designs: shapes, bounds, seeds, LHS strata, Sobol balance, discrepancy, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo_lab import sampling as S


def _box(d, lo=-2.0, hi=3.0):
    return np.tile([lo, hi], (d, 1))


@settings(max_examples=40, deadline=None)
@given(scheme=st.sampled_from(S.SCHEMES), n=st.integers(1, 300), d=st.integers(1, 12),
       seed=st.integers(0, 2**32 - 1))
def test_shape_bounds_and_seed(scheme, n, d, seed):
    b = np.column_stack([np.linspace(-5, 0, d), np.linspace(1, 7, d)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", S.SobolBalanceWarning)
        X = S.sample(scheme, n, b, seed=seed)
        Y = S.sample(scheme, n, b, seed=seed)
    assert X.shape == (n, d)
    assert np.all(X >= b[:, 0]) and np.all(X <= b[:, 1])
    np.testing.assert_array_equal(X, Y)


@pytest.mark.parametrize("scheme", S.SCHEMES)
def test_different_seeds_differ(scheme):
    assert not np.array_equal(S.sample(scheme, 64, _box(3), seed=1), S.sample(scheme, 64, _box(3), seed=2))


@pytest.mark.parametrize("scheme", S.SCHEMES)
def test_generator_seed_accepted(scheme):
    X = S.sample(scheme, 32, _box(2), seed=np.random.default_rng(5))
    Y = S.sample(scheme, 32, _box(2), seed=np.random.default_rng(5))
    np.testing.assert_array_equal(X, Y)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 200), d=st.integers(1, 8), seed=st.integers(0, 10_000),
       optimization=st.sampled_from([None, "random-cd"]))
def test_lhs_one_point_per_stratum_on_every_axis(n, d, seed, optimization):
    b = _box(d)
    X = S.sample("lhs", n, b, seed=seed, optimization=optimization)
    U = (X - b[:, 0]) / (b[:, 1] - b[:, 0])
    for j in range(d):
        counts = np.bincount(np.floor(U[:, j] * n).astype(int), minlength=n)
        assert counts.tolist() == [1] * n


@pytest.mark.parametrize("m", [4, 6, 8])
def test_sobol_balanced_at_powers_of_two(m):
    """Every dyadic interval of length 2^-k on each axis holds exactly n 2^-k points (k <= m)."""
    n = 2**m
    U = S.unit_sample("sobol", n, 4, seed=3)
    for j in range(4):
        for k in range(1, m + 1):
            counts = np.bincount(np.floor(U[:, j] * 2**k).astype(int), minlength=2**k)
            assert np.all(counts == n // 2**k)
    # in 2-D, the first two axes form a (0, m, 2)-net: every 2^-a x 2^-(m-a) box holds one point
    for a in range(m + 1):
        cells = np.floor(U[:, 0] * 2**a).astype(int) * 2 ** (m - a) + np.floor(U[:, 1] * 2 ** (m - a)).astype(int)
        assert np.bincount(cells, minlength=n).tolist() == [1] * n


def test_discrepancy_ordering_d5_n256():
    """On average over seeds: sobol < lhs < uniform (centered L2, d = 5, n = 256)."""
    b = _box(5)
    mean = {s: np.mean([S.discrepancy(S.sample(s, 256, b, seed=k), b) for k in range(10)])
            for s in ("uniform", "lhs", "sobol")}
    assert mean["sobol"] < mean["lhs"] < mean["uniform"]
    # and by a clear margin, not a coin flip
    assert mean["lhs"] < 0.6 * mean["uniform"] and mean["sobol"] < 0.5 * mean["lhs"]


def test_discrepancy_is_scale_free():
    U = S.unit_sample("lhs", 50, 3, seed=0)
    b = np.array([[-1.0, 1.0], [0.0, 10.0], [5.0, 6.0]])
    X = b[:, 0] + U * (b[:, 1] - b[:, 0])
    assert S.discrepancy(X, b) == pytest.approx(S.discrepancy(U, np.tile([0.0, 1.0], (3, 1))))


def test_min_distance():
    X = np.array([[0.0, 0.0], [0.3, 0.4], [1.0, 1.0]])
    assert S.min_distance(X) == pytest.approx(0.5)
    assert S.min_distance(X * 2, bounds=[[0, 2], [0, 2]]) == pytest.approx(0.5)


def test_sobol_policies():
    b = _box(2)
    assert S.sample("sobol", 100, b, seed=0, sobol_n="round_up").shape == (128, 2)
    with pytest.raises(ValueError, match="n: Sobol points are balanced only at powers of two; got n=100"):
        S.sample("sobol", 100, b, seed=0, sobol_n="strict")
    assert S.sample("sobol", 128, b, seed=0, sobol_n="strict").shape == (128, 2)


def test_sobol_warns_once_with_reason(monkeypatch):
    monkeypatch.setattr(S.designs, "_warned_sobol", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        S.sample("sobol", 100, _box(2), seed=0)
        S.sample("sobol", 60, _box(2), seed=0)
    ours = [w for w in caught if issubclass(w.category, S.SobolBalanceWarning)]
    assert len(ours) == 1 and "balance" in str(ours[0].message)
    assert not [w for w in caught if "balance properties" in str(w.message)]  # scipy's own is muted


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(scheme="sobel", n=8, bounds=_box(2)), ValueError, "scheme: got 'sobel'; allowed: uniform, lhs"),
        (dict(scheme="lhs", n=0, bounds=_box(2)), ValueError, "n: expected an int >= 1, got 0"),
        (dict(scheme="lhs", n=2.5, bounds=_box(2)), TypeError, "n: expected an int"),
        (dict(scheme="lhs", n=8, bounds=[[1.0, 1.0]]), ValueError, "axis 0 has lo=1.0 >= hi=1.0"),
        (dict(scheme="lhs", n=8, bounds=[[0.0, 1.0], [3.0, 2.0]]), ValueError, "axis 1 has lo=3.0"),
        (dict(scheme="lhs", n=8, bounds=np.zeros((0, 2))), ValueError, "d >= 1"),
        (dict(scheme="lhs", n=8, bounds=[0.0, 1.0]), ValueError, r"shape \(d, 2\)"),
        (dict(scheme="lhs", n=8, bounds=[[0.0, np.inf]]), ValueError, "finite"),
        (dict(scheme="sobol", n=8, bounds=_box(2), optimization="random-cd"), ValueError,
         "only applies to scheme='lhs'"),
        (dict(scheme="lhs", n=8, bounds=_box(2), optimization="best"), ValueError, "optimization: got 'best'"),
        (dict(scheme="sobol", n=8, bounds=_box(2), sobol_n="up"), ValueError, "sobol_n: got 'up'"),
    ],
)
def test_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        S.sample(**kwargs)


def test_discrepancy_errors():
    with pytest.raises(ValueError, match="method: got 'XX'"):
        S.discrepancy(np.zeros((4, 2)), _box(2), method="XX")
    with pytest.raises(ValueError, match="inside bounds"):
        S.discrepancy(np.full((4, 2), 9.0), _box(2))
    with pytest.raises(ValueError, match=r"X: expected shape \(n, 2\)"):
        S.discrepancy(np.zeros((4, 3)), _box(2))
    with pytest.raises(ValueError, match="n >= 2"):
        S.min_distance(np.zeros((1, 2)))
