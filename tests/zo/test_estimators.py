"""ZO gradient estimators against their theory (zoo_lab.zo.estimators).

Statistical tolerances. A Monte Carlo mean over R independent estimates has standard
error SE = s/√R (s: sample standard deviation); by the CLT, |mean − truth| > 5·SE has
probability about 6e-7 for a correct estimator. Every statistical check below is
"within 5 standard errors", with R chosen so that 5·SE is well below the gap a wrong
formula would produce (e.g. (d+1)/q vs d/q or (d−1)/q); the seeds are fixed, so the
tests are deterministic, and the tolerance says how unlucky a correct run could be.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _helpers import Counting
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo_lab as zl
from zoo_lab.zo.estimators import make

EPS64 = np.finfo(np.float64).eps
RANDOM = ("gaussian", "sphere", "rademacher", "orthogonal")


def linear(a):
    return lambda X: X @ a


def quadratic(A, b):
    return lambda X: 0.5 * np.einsum("ni,ij,nj->n", X, A, X) + X @ b


def spd(d, rng):
    M = rng.standard_normal((d, d))
    return M @ M.T / d + np.eye(d)


def rel_errors(est, f, x, grad, R, seed):
    rng = np.random.default_rng(seed)
    G = np.array([est.gradient(f, x, rng)[0] for _ in range(R)])
    return G, np.sum((G - grad) ** 2, axis=1) / np.sum(grad**2)


# -- the (d+1)/q and (d-1)/q laws ----------------------------------------------------------
@pytest.mark.parametrize(
    "name, d, q, law, R",
    [
        ("gaussian", 3, 1, lambda d, q: (d + 1) / q, 30000),
        ("gaussian", 10, 4, lambda d, q: (d + 1) / q, 30000),
        ("sphere", 3, 1, lambda d, q: (d - 1) / q, 8000),
        ("sphere", 10, 4, lambda d, q: (d - 1) / q, 8000),
        ("rademacher", 6, 2, lambda d, q: (d - 1) / q, 8000),
        ("orthogonal", 10, 4, lambda d, q: (d - q) / q, 4000),
        ("coordinate", 10, 4, lambda d, q: (d - q) / q, 4000),
    ],
)
@pytest.mark.parametrize("difference", ["forward", "central"])
def test_relative_mse_on_linear_matches_law(name, d, q, law, R, difference):
    # E‖ĝ − a‖²/‖a‖² for f = a·x does not depend on μ (finite differences of a linear f
    # are exact), so μ = 0.37 also checks that the step is divided out, not multiplied in.
    # The candidate laws ((d+1)/q, d/q, (d−1)/q, ...) differ by multiples of 1/q, so R is
    # chosen per case (Gaussian errors have heavier tails) to make 5·SE < 1/(2q): then a
    # wrong law would also sit more than 5·SE from the measured mean.
    rng = np.random.default_rng(1)
    a = rng.standard_normal(d)
    est = make(name, q=q, mu=0.37, difference=difference)
    _, e = rel_errors(est, linear(a), rng.standard_normal(d), a, R=R, seed=2)
    se = e.std(ddof=1) / np.sqrt(len(e))
    assert 5 * se < 0.5 / q
    assert abs(e.mean() - law(d, q)) < 5 * se, (e.mean(), law(d, q), se)
    assert est.theory_relative_mse(d) == pytest.approx(law(d, q))


@pytest.mark.parametrize("name", ["orthogonal", "coordinate"])
def test_full_frame_is_exact_on_linear(name):
    d = 7
    a = np.arange(1.0, d + 1)
    g, n = make(name, mu=0.5).gradient(linear(a), np.zeros(d), seed=3)
    np.testing.assert_allclose(g, a, rtol=1e-12)
    assert n == d + 1


# -- quadratics: coordinate-central exact, random directions unbiased ----------------------
@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 8), seed=st.integers(0, 2**16), mu=st.floats(1e-3, 1.0))
def test_coordinate_central_is_exact_on_quadratics(d, seed, mu):
    rng = np.random.default_rng(seed)
    A, b, x = spd(d, rng), rng.standard_normal(d), rng.standard_normal(d)
    f = quadratic(A, b)
    est = make("coordinate", mu=mu, difference="central")
    g, n = est.gradient(f, x, seed=0)
    grad = A @ x + b
    # [f(x+μe) − f(x−μe)]/(2μ) = ∂ⱼf exactly for a quadratic; only rounding is left:
    # each f value carries ~ d·ε·F (F: largest |term|), divided by 2μ, plus the rounding
    # of x ± μ (ε·|x|·‖A‖). 64 covers the constants.
    F = np.abs(A).sum() * (np.abs(x).max() + mu) ** 2 + np.abs(b).sum() * (np.abs(x).max() + mu)
    tol = 64 * EPS64 * (d * F / mu + np.abs(A).sum() * np.abs(x).max())
    assert np.max(np.abs(g - grad)) <= tol
    assert n == 2 * d


def test_coordinate_forward_bias_is_half_mu_diag():
    rng = np.random.default_rng(4)
    d, mu = 5, 0.1
    A, b, x = spd(d, rng), rng.standard_normal(d), rng.standard_normal(d)
    g, _ = make("coordinate", mu=mu).gradient(quadratic(A, b), x, seed=0)
    np.testing.assert_allclose(g - (A @ x + b), mu / 2 * np.diag(A), rtol=1e-8)


def _mean_within_5se(G, grad):
    se = G.std(axis=0, ddof=1) / np.sqrt(len(G))
    return np.all(np.abs(G.mean(axis=0) - grad) < 5 * se), se


@pytest.mark.parametrize("name", RANDOM)
def test_forward_random_directions_are_unbiased_on_quadratics(name):
    # E[(uᵀAu)u] = 0 for symmetric direction laws, so E ĝ = ∇f exactly even at μ = 0.5.
    # Per component: |mean − ∂ⱼf| < 5·SEⱼ (Bonferroni over d = 4 keeps the false-alarm
    # rate below 3e-6).
    rng = np.random.default_rng(5)
    d = 4
    A, b, x = spd(d, rng), rng.standard_normal(d), rng.standard_normal(d)
    est = make(name, q=2, mu=0.5)
    G, _ = rel_errors(est, quadratic(A, b), x, A @ x + b, R=6000, seed=6)
    ok, _ = _mean_within_5se(G, A @ x + b)
    assert ok


def test_unbiasedness_check_detects_a_biased_estimator():
    # Control for the test above: forward coordinate differences on 2 of 4 random axes
    # have bias (μ/2)·diag(A) per axis; at μ = 0.5 this is many standard errors away.
    rng = np.random.default_rng(5)
    d = 4
    A, b, x = spd(d, rng), rng.standard_normal(d), rng.standard_normal(d)
    est = make("coordinate", q=2, mu=0.5)
    G, _ = rel_errors(est, quadratic(A, b), x, A @ x + b, R=6000, seed=6)
    ok, se = _mean_within_5se(G, A @ x + b)
    assert not ok
    np.testing.assert_array_less(np.abs(G.mean(0) - (A @ x + b + 0.25 * np.diag(A))), 5 * se)


# -- SPSA scaling --------------------------------------------------------------------------
@pytest.mark.parametrize("mu", [1e-3, 0.25, 40.0])
@pytest.mark.parametrize("difference", ["forward", "central"])
def test_spsa_divides_by_the_perturbation(mu, difference):
    # In d = 1, Δ = ±1 and SPSA is [f(x+μΔ) − f(x−μΔ)]/(2μΔ) = a exactly for f = a·x.
    # Multiplying by μΔ instead gives a·μ², which is off by a factor 1e-6, 1/16 or 1600.
    a = np.array([2.5])
    est = make("rademacher", q=3, mu=mu, difference=difference)
    for seed in range(5):
        g, _ = est.gradient(linear(a), np.array([0.3]), seed=seed)
        np.testing.assert_allclose(g, a, rtol=1e-9)


def test_spsa_mean_matches_gradient_in_higher_dimension():
    rng = np.random.default_rng(7)
    d = 6
    A, b, x = spd(d, rng), rng.standard_normal(d), rng.standard_normal(d)
    G, _ = rel_errors(make("rademacher", q=1, mu=3.0, difference="central"),
                      quadratic(A, b), x, A @ x + b, R=4000, seed=8)
    assert _mean_within_5se(G, A @ x + b)[0]


# -- cost: one batched call, exact n_evals --------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(zl.estimators.NAMES), difference=st.sampled_from(["forward", "central"]),
       d=st.integers(1, 9), q=st.integers(1, 9), antithetic=st.booleans())
def test_one_batched_call_and_exact_n_evals(name, difference, d, q, antithetic):
    antithetic = antithetic and difference == "forward"
    q = 2 * q if antithetic else q
    k = q // 2 if antithetic else q
    if name in ("orthogonal", "coordinate") and k > d:
        q, k = (2 * d, d) if antithetic else (d, d)
    est = make(name, q=q, mu=1e-3, difference=difference, antithetic=antithetic)
    f = Counting(lambda X: np.sin(X).sum(1))
    _, n = est.gradient(f, np.linspace(0, 1, d), seed=0)
    expected = 2 * k if (difference == "central" or antithetic) else k + 1
    assert f.calls == 1
    assert f.rows == n == expected == est.n_evals(d)


def test_default_q_is_one_or_all_axes():
    assert make("gaussian").n_evals(5) == 2
    assert make("coordinate").n_evals(5) == 6
    assert make("orthogonal", difference="central").n_evals(5) == 10


def test_antithetic_forward_equals_central_with_half_the_directions():
    f = lambda X: np.exp(X).sum(1) + X[:, 0] ** 3  # noqa: E731
    x = np.array([0.1, -0.4, 0.7])
    g1, n1 = make("gaussian", q=6, mu=0.1, antithetic=True).gradient(f, x, seed=9)
    g2, n2 = make("gaussian", q=3, mu=0.1, difference="central").gradient(f, x, seed=9)
    np.testing.assert_allclose(g1, g2, rtol=1e-13)
    assert n1 == n2 == 6


# -- reproducibility, backends, dtypes ------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(zl.estimators.NAMES), seed=st.integers(0, 2**31))
def test_seed_reproduces_and_backends_agree(name, seed):
    est = make(name, q=2, mu=1e-2)
    f = lambda X: (X**2).sum(1) + X[:, 0]  # noqa: E731
    x = np.array([0.5, -1.0, 2.0])
    g1, _ = est.gradient(f, x, seed=seed)
    g2, _ = est.gradient(f, x, seed=np.random.default_rng(seed))
    gt, _ = est.gradient(f, torch.as_tensor(x), seed=seed)
    np.testing.assert_array_equal(g1, g2)
    assert isinstance(gt, torch.Tensor) and gt.dtype == torch.float64
    np.testing.assert_allclose(gt.numpy(), g1, rtol=1e-12, atol=1e-12)


def test_different_seeds_give_different_directions():
    est = make("gaussian", q=2)
    assert not np.array_equal(est.directions(4, seed=0), est.directions(4, seed=1))
    np.testing.assert_array_equal(est.directions(4, seed=0), est.query(np.zeros(4), 0).directions)


def test_float32_on_request_and_values_cast():
    est = make("gaussian", q=4, mu=1e-2, dtype="float32")
    g, _ = est.gradient(lambda X: np.asarray(X, np.float64).sum(1), np.ones(3), seed=0)
    assert g.dtype == np.float32
    q = est.query(np.ones(3), 0)
    assert q.points.dtype == np.float32
    gt, _ = make("sphere", dtype=torch.float32).gradient(lambda X: X.sum(1), torch.ones(3), 0)
    assert gt.dtype == torch.float32


def test_fun_may_return_the_other_backend():
    est = make("coordinate", mu=1e-3, difference="central")
    g, _ = est.gradient(lambda X: torch.as_tensor(X).sum(1), np.ones(3), 0)
    assert isinstance(g, np.ndarray)
    g, _ = est.gradient(lambda X: X.numpy().sum(1), torch.ones(3, dtype=torch.float64), 0)
    assert isinstance(g, torch.Tensor)
    np.testing.assert_allclose(g.numpy(), 1.0, rtol=1e-9)


def test_combine_gives_jacobian_and_vjp():
    B = np.arange(6.0).reshape(2, 3)
    est = make("coordinate", mu=1e-2)
    query = est.query(np.array([0.3, 0.1, -0.2]), 0)
    values = query.points @ B.T  # (m, 2)
    J = est.combine(values, query)
    np.testing.assert_allclose(J, B, atol=1e-12)
    v = np.array([1.5, -2.0])
    np.testing.assert_allclose(est.combine(values @ v, query), v @ J, atol=1e-12)
    est = make("gaussian", q=3, mu=1e-2)
    query = est.query(np.zeros(3), 1)
    vals = query.points @ B.T
    np.testing.assert_allclose(est.combine(vals @ v, query), v @ est.combine(vals, query), atol=1e-12)


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("q", [0, -3])
def test_q_below_one(q):
    with pytest.raises(ValueError, match=r"q: .*>= 1.*got"):
        make("gaussian", q=q)


def test_q_type_and_range_errors():
    with pytest.raises(TypeError, match="q: expected an int"):
        make("gaussian", q=2.5)
    with pytest.raises(ValueError, match="q: orthogonal uses at most d=3"):
        make("orthogonal", q=4).gradient(lambda X: X.sum(1), np.zeros(3))
    with pytest.raises(ValueError, match="q: antithetic sampling needs an even q"):
        make("sphere", q=3, antithetic=True)


@pytest.mark.parametrize("mu", [0.0, -1e-3, float("nan"), float("inf")])
def test_mu_must_be_positive(mu):
    with pytest.raises(ValueError, match=r"mu: expected a finite number > 0"):
        make("sphere", q=1, mu=mu)


def test_unknown_name_lists_known():
    with pytest.raises(ValueError, match="unknown estimator 'gauss'") as info:
        make("gauss", q=1)
    for name in ("gaussian", "sphere", "coordinate", "rademacher", "orthogonal"):
        assert name in str(info.value)


def test_bad_difference_and_dtype():
    with pytest.raises(ValueError, match="difference: got 'backward'; allowed: forward, central"):
        make("gaussian", difference="backward")
    with pytest.raises(ValueError, match="dtype"):
        make("gaussian", dtype="float16")


@pytest.mark.parametrize("x", [np.zeros((2, 3)), np.zeros(0), np.float64(1.0)])
def test_wrong_x_shape(x):
    with pytest.raises(ValueError, match=r"x: expected one point of shape \(d,\)"):
        make("gaussian").gradient(lambda X: X.sum(1), x)


def test_non_finite_x():
    with pytest.raises(ValueError, match="x: every coordinate must be finite"):
        make("gaussian").gradient(lambda X: X.sum(1), np.array([0.0, np.nan]))


@pytest.mark.parametrize("out", [lambda X: X, lambda X: X.sum(), lambda X: X.sum(1)[:-1]])
def test_fun_wrong_shape(out):
    with pytest.raises(ValueError, match=r"fun: returned shape .* for a batch of 3 points; expected \(3,\)"):
        make("gaussian", q=2).gradient(out, np.zeros(2), seed=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fun_non_finite_names_the_point(bad):
    def f(X):
        y = X.sum(1)
        y[2] = bad
        return y

    est = make("coordinate", mu=0.5)
    with pytest.raises(ValueError, match=r"non-finite value .* at row 2 of 4, point \[1\.  1\.5 1\. \]"):
        est.gradient(f, np.ones(3), seed=0)
    with pytest.raises(ValueError, match="at row 2 of 4"):
        est.gradient(lambda X: torch.as_tensor(f(X)), np.ones(3), seed=0)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fast_checks_keep_the_errors_and_accept_huge_finite_values(backend):
    # the per-estimate checks use one sum (NaN/inf propagate); a sum that overflows on finite
    # values must fall back to the elementwise check, not reject them
    conv = (lambda a: torch.as_tensor(a)) if backend == "torch" else np.asarray
    est = make("gaussian", q=3, mu=1e-3)
    big = conv(np.array([1e308, 1e308]))
    g, n = est.gradient(lambda X: X[:, 0] * 0 + 1e308, big, seed=0)  # values sum to inf too
    assert n == 4 and np.all(np.isfinite(np.asarray(g)))
    with pytest.raises(ValueError, match="x: every coordinate must be finite"):
        est.gradient(lambda X: X.sum(1), conv(np.array([0.0, np.inf])), seed=0)

    def nan_row(X):
        y = X.sum(1)
        y[1] = float("nan")
        return y

    with pytest.raises(ValueError, match="at row 1 of 4"):
        est.gradient(nan_row, conv(np.zeros(2)), seed=0)


def test_seed_errors():
    with pytest.raises(TypeError, match="seed: expected"):
        make("gaussian").gradient(lambda X: X.sum(1), np.zeros(2), seed="zero")
