"""ZO optimizers (zoo_lab.optimize.zo): convergence on quadratics, exact equivalences, accounting."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _helpers import Counting
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo_lab as zl
from zoo_lab.optimize import OptimizeResult, zo_adam, zo_sgd, zo_signsgd
from zoo_lab.zo.estimators import make


def diag_quadratic(lam, c=None):
    lam = np.asarray(lam, float)
    c = np.zeros_like(lam) if c is None else np.asarray(c, float)
    return lambda X: 0.5 * ((X - c) ** 2 * lam).sum(1)


@pytest.mark.parametrize("seed", range(4))
def test_zo_sgd_converges_at_the_nesterov_spokoiny_rate(seed):
    # Nesterov & Spokoiny (2017), Thm 8: Gaussian forward ZO-SGD with step 1/(4(d+4)L) on a
    # τ-strongly convex, L-smooth f gives E‖x_N − x*‖² <= δ_μ + (1 − τ/(8(d+4)L))^N ‖x_0 − x*‖²
    # with δ_μ = O(μ² d² L/τ) (about 1e-9 here). By Markov's inequality a single run exceeds
    # 100× that bound with probability <= 1%; f − f* <= (L/2)‖x − x*‖².
    d, L, tau, mu, N = 5, 4.0, 1.0, 1e-6, 4000
    lam = np.linspace(tau, L, d)
    x0 = np.ones(d)
    res = zo_sgd(diag_quadratic(lam), x0, make("gaussian", q=1, mu=mu), lr=1 / (4 * (d + 4) * L),
                 iters=N, seed=seed)
    bound = 1e-9 + (1 - tau / (8 * (d + 4) * L)) ** N * np.sum(x0**2)
    assert np.sum(res.x**2) <= 100 * bound
    assert res.fun <= 100 * L / 2 * bound
    assert res.n_iter == N and res.n_evals == 2 * N + 1


def test_zo_sgd_with_exact_estimator_is_gradient_descent():
    # coordinate-central differences are exact on quadratics, so ZO-SGD must reproduce GD
    rng = np.random.default_rng(0)
    d = 4
    M = rng.standard_normal((d, d))
    A = M @ M.T / d + np.eye(d)
    b = rng.standard_normal(d)
    f = lambda X: 0.5 * np.einsum("ni,ij,nj->n", X, A, X) + X @ b  # noqa: E731
    x = x0 = rng.standard_normal(d)
    eta = 0.1
    for _ in range(50):
        x = x - eta * (A @ x + b)
    res = zo_sgd(f, x0, make("coordinate", mu=1e-3, difference="central"), lr=eta, iters=50)
    np.testing.assert_allclose(res.x, x, atol=1e-9)


def test_zo_adam_with_exact_estimator_matches_torch_adam():
    lam = np.array([1.0, 3.0, 10.0])
    x0 = np.array([1.0, -2.0, 0.5])
    xt = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.Adam([xt], lr=0.05, betas=(0.8, 0.99), eps=1e-8)
    for _ in range(40):
        opt.zero_grad()
        (0.5 * (xt**2 * torch.as_tensor(lam)).sum()).backward()
        opt.step()
    res = zo_adam(diag_quadratic(lam), x0, make("coordinate", mu=1e-3, difference="central"),
                  lr=0.05, betas=(0.8, 0.99), iters=40)
    np.testing.assert_allclose(res.x, xt.detach().numpy(), atol=1e-8)


def test_zo_signsgd_with_exact_estimator_is_sign_descent():
    lam = np.array([1.0, 2.0, 5.0])
    x = x0 = np.array([1.03, -0.71, 0.52])
    for _ in range(10):
        x = x - 0.05 * np.sign(lam * x)
    res = zo_signsgd(diag_quadratic(lam), x0, make("coordinate", mu=1e-4, difference="central"),
                     lr=0.05, iters=10)
    np.testing.assert_allclose(res.x, x, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(budget=st.integers(10, 200), name=st.sampled_from(["gaussian", "coordinate"]),
       difference=st.sampled_from(["forward", "central"]), q=st.integers(1, 3))
def test_budget_and_history_count_every_evaluation(budget, name, difference, q):
    est = make(name, q=q, mu=1e-3, difference=difference)
    cost = est.n_evals(3) + (difference == "central")
    if budget < cost + 1:
        with pytest.raises(ValueError, match="max_evals"):
            zo_sgd(diag_quadratic([1, 2, 3]), np.ones(3), est, max_evals=budget)
        return
    f = Counting(diag_quadratic([1, 2, 3]))
    res = zo_sgd(f, np.ones(3), est, lr=0.01, max_evals=budget, seed=1)  # no step limit
    assert res.n_evals == f.rows <= budget
    assert budget - res.n_evals < cost + 1  # it stopped only when the next step did not fit
    assert f.calls == res.n_calls == res.n_iter + 1  # one batched call per step, plus the final point
    h = res.to_frame()
    assert list(h.columns) == ["method", "iter", "n_evals", "best_fun", "current_fun"]
    assert h.n_evals.iloc[-1] == res.n_evals and np.all(np.diff(h.n_evals) > 0)
    # fun / x: the best iterate; fun_last / x_last: the final one
    assert res.fun == h.best_fun.iloc[-1] == h.current_fun.min()
    assert res.fun == pytest.approx(float(f.f(res.x[None])[0]))
    assert h.current_fun.iloc[-1] == res.fun_last == pytest.approx(float(f.f(res.x_last[None])[0]))
    assert np.all(np.diff(h.best_fun) <= 0)


def test_budget_is_a_deprecated_alias_of_max_evals():
    f = diag_quadratic([1, 2, 3])
    with pytest.warns(DeprecationWarning, match="max_evals"):
        old = zo_sgd(f, np.ones(3), "gaussian", lr=0.01, budget=60, seed=2)
    new = zo_sgd(f, np.ones(3), "gaussian", lr=0.01, max_evals=60, seed=2)
    assert old.n_evals == new.n_evals and old.fun == new.fun
    with pytest.raises(TypeError, match="max_evals"):
        zo_sgd(f, np.ones(3), "gaussian", max_evals=60, budget=60)
    with pytest.warns(DeprecationWarning, match="current_fun"):
        assert np.array_equal(new.history["fun"], new.history["current_fun"])


def test_f_target_stops_early():
    res = zo_sgd(diag_quadratic([1.0, 1.0]), np.ones(2), make("coordinate", mu=1e-4,
                 difference="central"), lr=0.5, iters=100, f_target=1e-6)
    assert res.fun <= 1e-6 and res.n_iter < 100 and "f_target" in res.message


def test_bounds_project_onto_the_box():
    c = np.array([2.0, -3.0, 0.2])
    bounds = np.array([[-1.0, 1.0]] * 3)
    seen = []
    res = zo_sgd(diag_quadratic([1, 1, 1], c), np.zeros(3), make("coordinate", mu=1e-4,
                 difference="central"), lr=0.5, iters=60, bounds=bounds,
                 callback=lambda k, x, f: seen.append(x.copy()))
    assert all(np.all((s >= -1) & (s <= 1)) for s in seen)
    np.testing.assert_allclose(res.x, np.clip(c, -1, 1), atol=1e-9)


def test_torch_in_torch_out_and_schedule():
    res = zo_adam(lambda X: (X**2).sum(1), torch.ones(4), "sphere", lr=lambda k: 0.1 / (1 + k),
                  iters=20, seed=0)
    assert isinstance(res.x, torch.Tensor) and res.x.dtype == torch.float64
    assert isinstance(res, OptimizeResult) and zl.optimize.OptimizeResult is OptimizeResult


def test_same_seed_same_run():
    f = diag_quadratic([1, 2, 3])
    r1 = zo_sgd(f, np.ones(3), "gaussian", lr=0.02, iters=30, seed=5)
    r2 = zo_sgd(f, np.ones(3), "gaussian", lr=0.02, iters=30, seed=5)
    np.testing.assert_array_equal(r1.x, r2.x)
    np.testing.assert_array_equal(r1.history["current_fun"], r2.history["current_fun"])


def test_argument_errors():
    f = diag_quadratic([1, 1])
    with pytest.raises(ValueError, match="lr: expected a finite float > 0"):
        zo_sgd(f, np.ones(2), lr=0.0)
    with pytest.raises(ValueError, match="lr: the schedule returned"):
        zo_sgd(f, np.ones(2), lr=lambda k: -1.0, iters=2)
    with pytest.raises(TypeError, match="estimator: expected an Estimator"):
        zo_sgd(f, np.ones(2), estimator=3)
    with pytest.raises(ValueError, match=r"bounds: expected shape \(2, 2\)"):
        zo_sgd(f, np.ones(2), bounds=[[0, 1]] * 3)
    with pytest.raises(ValueError, match="iters: expected an int >= 1"):
        zo_sgd(f, np.ones(2), iters=0)
    with pytest.raises(ValueError, match="betas"):
        zo_adam(f, np.ones(2), betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="unknown estimator"):
        zo_signsgd(f, np.ones(2), estimator="nope")
