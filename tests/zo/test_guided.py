"""Proxy-guided ZO estimators (zoo_lab.zo.guided) and the online proxy refit (zoo_lab.coupling.online)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo_lab as zl
import zoo_lab.zo.guided as G
from zoo_lab.coupling.online import OnlineProxy
from zoo_lab.problems import heat

D = 12


def _quadratic(d: int, seed: int = 0):
    """f(x) = ½ xᵀAx + bᵀx with A SPD, as a function usable by numpy and torch."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, d))
    A, b = M @ M.T / d + np.eye(d), rng.standard_normal(d)

    def f(X):
        if torch.is_tensor(X):
            At, bt = torch.as_tensor(A, dtype=X.dtype), torch.as_tensor(b, dtype=X.dtype)
            return 0.5 * ((X @ At) * X).sum(1) + X @ bt
        return 0.5 * np.einsum("ij,jk,ik->i", X, A, X) + X @ b

    return f, A, b


def _linear(w: np.ndarray):
    def f(X):
        return X @ torch.as_tensor(w, dtype=X.dtype) if torch.is_tensor(X) else X @ w
    return f


@pytest.mark.parametrize("name", G.GUIDED)
def test_exact_proxy_control_variate_exact_others_finite(name):
    f = zl.functions.get("rosenbrock", D)
    x = np.full(D, 0.3)
    xt = torch.tensor(x, requires_grad=True)
    f(xt[None]).sum().backward()
    g_true = xt.grad.numpy()
    est = zl.estimators.make(name, q=4, mu=1e-6, proxy=f)
    g, n = est.gradient(f, x, seed=0)
    assert n == est.n_evals(D)
    if name == "control_variate":  # residual f - p = 0 up to rounding: the proxy gradient survives
        # numpy and torch round f differently by ~ε|f|; each residual difference is ≤ 2ε|f|/μ
        fx = abs(float(f(x[None])[0]))
        bound = 4 * np.finfo(float).eps * fx / 1e-6 * np.sqrt(D) * 4 * 3  # × ‖u‖ ≲ 3√d, q = 4
        np.testing.assert_allclose(g, g_true, rtol=0, atol=bound)
    elif name == "prior_guided":  # the prior is exact: λ = 1 and ĝ = (vᵀ∇f) v up to O(μ)
        np.testing.assert_allclose(g, g_true, rtol=1e-4)


def test_control_variate_unbiased_on_quadratic():
    """With a quadratic f and a (wrong) quadratic proxy the residual is quadratic: Gaussian forward
    differences are exactly unbiased for it (odd moments of u vanish), for any μ."""
    f, A, b = _quadratic(D, 0)
    p, _, _ = _quadratic(D, 1)
    x = np.linspace(-1, 1, D)
    g_true = A @ x + b
    est = zl.estimators.make("control_variate", q=3, mu=0.5, proxy=p)
    n = 4000
    G_ = np.stack([est.gradient(f, x, seed=s)[0] for s in range(n)])
    mean, se = G_.mean(0), G_.std(0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(mean - g_true) < 4.5 * se), np.max(np.abs(mean - g_true) / se)


def test_control_variate_error_scales_with_residual():
    """E‖ĝ − ∇f‖² = ((d+1)/k)‖∇r‖² for linear f and proxy (Gaussian, forward): halve ∇r, quarter error."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal(D)
    f = _linear(w)
    x = np.zeros(D)
    errs = []
    for eps in (0.4, 0.2):
        p = _linear(w + eps * rng.standard_normal(D))
        est = zl.estimators.make("control_variate", q=4, mu=1e-3, proxy=p)
        errs.append(np.mean([np.sum((est.gradient(f, x, seed=s)[0] - w) ** 2) for s in range(600)]))
    plain = zl.estimators.make("gaussian", q=4, mu=1e-3)
    e_plain = np.mean([np.sum((plain.gradient(f, x, seed=s)[0] - w) ** 2) for s in range(600)])
    assert errs[0] < 0.2 * e_plain  # ‖∇r‖ ≈ 0.4‖∇f‖: error ≈ 0.16 of plain ZO
    assert 2.0 < errs[0] / errs[1] < 8.0  # ratio 4 in expectation


def _rel_mse(make_est, f, x, g, seeds):
    return np.mean([np.sum((make_est(s).gradient(f, x, seed=s)[0] - g) ** 2) for s in seeds]) / (g @ g)


def test_useless_proxy_guided_es_within_theory_factor():
    """A guide uncorrelated with ∇f: guided_es (α = ½, k_s = 1, n pairs) has relative MSE
    (1−α)²(d−1) + [d(1+(1−α)²) + α(2−α)]/n (derived in zoo_lab.zo.guided), plain antithetic
    Gaussian (d+1)/n. We check the measured ratio stays within 1.25 × the theoretical ratio."""
    d, q, n_seeds = 20, 8, 1500
    w = np.random.default_rng(0).standard_normal(d)
    f, x = _linear(w), np.zeros(d)

    def guided(s):
        guide = np.random.default_rng(10_000 + s).standard_normal(d)
        return zl.estimators.make("guided_es", q=q, mu=1e-3, proxy=_linear(guide), alpha=0.5)

    e_guided = _rel_mse(guided, f, x, w, range(n_seeds))
    plain = zl.estimators.make("gaussian", q=q, mu=1e-3, antithetic=True)
    e_plain = _rel_mse(lambda s: plain, f, x, w, range(n_seeds))
    theory_g = G.guided_es_theory_relative_mse(d, q // 2, 0.5)
    theory_p = (d + 1) / (q // 2)
    assert e_plain == pytest.approx(theory_p, rel=0.2)
    assert e_guided == pytest.approx(theory_g, rel=0.25)
    assert e_guided / e_plain <= 1.25 * theory_g / theory_p  # = 2.15 here: the stated factor


def test_useless_proxy_prior_guided_not_worse_than_plain():
    """A useless prior gives λ ≈ 0: ĝ is the b*-shrunk sphere estimate on v⊥, relative MSE
    ≈ 1 − q/(d+q−2) < 1, while plain sphere with the same q+2 rows has (d−1)/(q+1) > 1 for q < d−2.
    Stated factor: prior_guided's error ≤ 1.0 × plain ZO's (we allow noise in λ̂ up to 0.3)."""
    d, q, n_seeds = 20, 6, 600
    w = np.random.default_rng(1).standard_normal(d)
    f, x = _linear(w), np.zeros(d)

    def prior(s):
        guide = np.random.default_rng(20_000 + s).standard_normal(d)
        return zl.estimators.make("prior_guided", q=q, mu=1e-3, proxy=_linear(guide))

    e_prior = _rel_mse(prior, f, x, w, range(n_seeds))
    plain = zl.estimators.make("sphere", q=q + 1, mu=1e-3)
    e_plain = _rel_mse(lambda s: plain, f, x, w, range(n_seeds))
    assert e_prior <= e_plain
    assert e_prior == pytest.approx(1 - q / (d + q - 2), abs=0.3)


def test_prgf_lambda_limits():
    assert G.prgf_lambda(0.0, 100, 10) == 0.0
    assert G.prgf_lambda(1.0, 100, 10) == 1.0
    lams = [G.prgf_lambda(a2, 100, 10) for a2 in np.linspace(0.02, 0.2, 10)]
    assert all(0 <= a <= b <= 1 for a, b in zip(lams[:-1], lams[1:], strict=True))


@pytest.mark.parametrize("name", G.GUIDED)
@pytest.mark.parametrize("difference", ["forward", "central"])
def test_n_evals_honest_and_seeds_reproduce(name, difference):
    f = zl.functions.get("rastrigin", 6)
    calls = []

    def counted(X):
        calls.append(len(X))
        return f(X)

    est = zl.estimators.make(name, q=4, mu=1e-4, difference=difference, proxy=f)
    x = np.full(6, 0.2)
    g1, n = est.gradient(counted, x, seed=7)
    est2 = zl.estimators.make(name, q=4, mu=1e-4, difference=difference, proxy=f)
    g2, _ = est2.gradient(counted, x, seed=7)
    assert calls == [n, n] and n == est.n_evals(6)
    np.testing.assert_array_equal(g1, g2)
    q = est.query(x, seed=7)
    assert q.n_proxy_evals >= 1


def test_errors():
    f = zl.functions.get("sphere", 4)
    x = np.ones(4)
    with pytest.raises(TypeError, match="proxy"):
        zl.estimators.make("control_variate", q=2)
    with pytest.raises(TypeError, match="proxy"):
        zl.estimators.make("guided_es", q=2, proxy=3.0)
    with pytest.raises(TypeError, match="numpy"):  # a numpy proxy has no autograd
        zl.estimators.make("control_variate", q=2, proxy=lambda X: np.sum(np.asarray(X) ** 2, 1)
                           ).gradient(f, x)
    with pytest.raises(TypeError, match="grad_fn"):
        zl.estimators.make("prior_guided", q=2, proxy=lambda X: f(X).detach()).gradient(f, x)
    with pytest.raises(ValueError, match=r"proxy: returned shape \(1, 2\)"):
        zl.estimators.make("guided_es", q=2, proxy=lambda X: X[:, :2]).gradient(f, x)
    with pytest.raises(ValueError, match="alpha"):
        zl.estimators.make("guided_es", q=2, proxy=f, alpha=1.5)
    with pytest.raises(ValueError, match="base"):
        zl.estimators.make("control_variate", q=2, proxy=f, base="guided_es")
    with pytest.raises(ValueError, match="q"):
        zl.estimators.make("guided_es", q=3, proxy=f)
    assert "control_variate" not in zl.estimators.NAMES  # NAMES stays the no-argument estimators


def _rod():
    return heat.HeatRod(n_cells=16, n_steps=12, t_final=0.5, n_snapshots=3)


@pytest.mark.parametrize("name", G.GUIDED)
def test_blackbox_vector_program_uses_proxy_vjp(name):
    rod = _rod()
    twin = lambda K: heat.torch_twin(K, rod)  # noqa: E731 (an exact proxy of the program)
    rng = np.random.default_rng(0)
    Z = torch.as_tensor(rng.uniform(0.3, 1.8, (3, rod.in_dim)))
    V = torch.as_tensor(rng.standard_normal((3, rod.out_dim)))
    exact = torch.autograd.functional.vjp(twin, Z, V)[1]
    est = zl.estimators.make(name, q=2, mu=1e-6, proxy=twin)
    box = zl.BlackBox(rod, rod.in_dim, rod.out_dim, estimator=est, seed=0)
    z = Z.clone().requires_grad_(True)
    y = box(z)
    before = box.n_queries
    (y * V).sum().backward()
    skip = 0 if est.central else 1
    assert box.n_queries - before == 3 * (est.n_evals(rod.in_dim) - skip)
    assert box.n_proxy_evals > 0
    if name != "guided_es":  # exact proxy: exact VJP (prior: λ = 1)
        torch.testing.assert_close(z.grad, exact, rtol=1e-4, atol=1e-7)


def test_guidedblackbox_is_a_deprecated_name_of_blackbox():
    with pytest.warns(DeprecationWarning, match="use BlackBox"):
        cls = zl.coupling.GuidedBlackBox
    assert cls is zl.BlackBox


def test_blackbox_proxy_wrong_output_shape():
    rod = _rod()
    est = zl.estimators.make("control_variate", q=2, proxy=lambda K: heat.torch_twin(K, rod)[:, :2])
    box = zl.BlackBox(rod, rod.in_dim, rod.out_dim, estimator=est, seed=0)
    z = torch.full((1, rod.in_dim), 1.0, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match=f"expected \\(1, {rod.out_dim}\\)"):
        box(z).sum().backward()


def _small_mlp(d: int, out: int = 1):
    gen = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(d, 16, dtype=torch.float64), torch.nn.Tanh(),
                              torch.nn.Linear(16, out, dtype=torch.float64))
    with torch.no_grad():  # seeded init without the global RNG
        for p in net.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen, dtype=torch.float64))

    class Scalar(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, X):
            return self.net(X).squeeze(-1) if out == 1 else self.net(X)

    return Scalar()


def test_online_refit_uses_logged_queries_optimizer():
    f = zl.functions.get("sphere", 5)
    online = OnlineProxy(_small_mlp(5), refit_every=20, steps=5)
    est = zl.estimators.make("control_variate", q=4, mu=1e-4, proxy=online)
    res = zl.optimize.zo_sgd(online.wrap(f), np.full(5, 1.0), est, lr=0.05, max_evals=100, seed=0)
    assert online.log.n_rows == res.n_evals  # every real row was logged
    assert online.n_refits == res.n_evals // 20 or online.n_refits == (res.n_evals - 1) // 20
    # each refit trained on exactly the rows logged so far, a multiple-of-5 step after the last
    assert online.rows_at_refit == sorted(online.rows_at_refit)
    assert all(r >= 20 * (i + 1) for i, r in enumerate(online.rows_at_refit))
    X, Y = online.log.data()
    np.testing.assert_allclose(Y, f(X))
    assert all(after <= before for before, after in online.loss_history)


def test_online_refit_blackbox_counts_and_improves():
    rod = _rod()
    online = OnlineProxy(_small_mlp(rod.in_dim, rod.out_dim), refit_every=30, steps=10)
    est = zl.estimators.make("control_variate", q=2, mu=1e-4, proxy=online)
    box = zl.BlackBox(rod, rod.in_dim, rod.out_dim, estimator=est, seed=0)
    online.attach(box)
    z = torch.full((4, rod.in_dim), 1.0, dtype=torch.float64, requires_grad=True)
    for _ in range(5):
        box(z).sum().backward()
    assert online.log.n_rows == box.n_queries  # forward rows + backward rows, all logged
    assert online.n_refits == len(online.rows_at_refit) >= 1
    assert online.rows_at_refit[-1] <= box.n_queries
    assert online.loss_history[-1][1] < online.loss_history[0][0]
    with pytest.raises(ValueError, match="already attached"):
        online.attach(box)


def test_proxy_only_counts_one_row():
    f = zl.functions.get("sphere", 3)
    est = G.ProxyOnly(proxy=f)
    g, n = est.gradient(f, np.ones(3))
    assert n == 1
    np.testing.assert_allclose(g, 2 * np.ones(3))


def test_study_plots_and_panel_update():
    from zoo_lab.plots.guided import guided_error_figure, guided_queries_figure
    from zoo_lab.studies.guided import (
        guided_gradient_error,
        guided_queries_to_target,
        guided_summary,
    )
    from zoo_lab.widgets.guided import guided_explorer, update_guided_figure

    df = guided_queries_to_target(["sphere"], [4], proxy="exact", max_evals=300, lr=0.2, seeds=range(2))
    assert set(df["method"]) == set(zl.studies.GUIDED_METHODS) and len(df) == 12
    s = guided_summary(df)
    assert (s.loc[s["method"] == "gaussian", "ratio_median"] == 1.0).all()
    assert (df.loc[df["reached"], "queries"] <= df.loc[df["reached"], "n_evals"]).all()
    assert len(guided_queries_figure(df).data) >= 6
    err = guided_gradient_error("sphere", 4, proxy="exact", n_points=2, seeds=range(2))
    cv = err[err["method"] == "control_variate"]["rel_error"]
    assert cv.max() < 1e-6  # exact proxy: exact gradient
    guided_error_figure(err)
    panel = guided_explorer(dim=3, n_train=32, q=4)
    assert "rows to reach" in panel.status.value
    before = list(panel.figure.data[2].y)
    text = update_guided_figure(panel.figure, "prior_guided", 3, 32, 4, max_evals=200)
    assert "prior_guided" in text and panel.figure.data[2].name == "prior_guided"
    assert list(panel.figure.data[2].y) != before
    with pytest.raises(ValueError, match="estimator"):
        update_guided_figure(panel.figure, "gaussian", 3, 32, 4)


def test_vjp_cosine_coarse_twin_guides_blackbox():
    df = zl.studies.guided_vjp_cosine(methods=("gaussian", "control_variate"), q=2, rows=2,
                                      seeds=range(2))
    med = df.groupby("method")["cosine"].median()
    assert med["control_variate"] > 0.9 and med["control_variate"] > med["gaussian"]
    assert (df["queries_per_rod"] == 2).all()  # forward: F(z) reused, q rows per rod


def test_residual_ratio():
    f = zl.functions.get("sphere", 3)
    assert G.residual_ratio(f, f, np.ones(3)) == 0.0
    # ∇f = (2, 2, 2), ∇p = (1, 1, 1): ρ = ‖(1, 1, 1)‖ / ‖(2, 2, 2)‖ = 1/2
    assert G.residual_ratio(f, lambda X: X.sum(1), np.ones(3)) == pytest.approx(0.5)


def test_materials_problem_rows_proxies_and_guided_run():
    """Materials: f* = 0 at the EMT equilibrium, queries count EMT rows (d per objective row),
    the Vegard proxy is biased by the alloy's bowing (a few 0.01 Å) and guides a run."""
    S = zl.studies
    prob = S.guided_problem("materials", 2)
    a_eq = prob.info["a_eq"]
    assert prob.rows_per_eval == 2 and prob.f_opt == 0.0
    assert abs(prob.fun(a_eq[None])[0]) < 1e-12
    assert np.all(prob.fun(np.array([a_eq + 0.01, a_eq - 0.01])) > 0)
    px = S.guided_proxy(prob, "shifted")
    a_v = px.a_v.numpy()
    assert px.program_rows == 10
    assert np.all((a_eq - a_v > 0.01) & (a_eq - a_v < 0.06))  # Cu-Au bows above Vegard's law
    with pytest.raises(ValueError, match="exact"):
        S.guided_proxy(prob, "exact")
    nn = S.guided_proxy(prob, "nn", n_train=32, hidden=(8, 8))  # an MLP of E(c, a) on 32 EMT rows
    a = torch.tensor(a_eq[None], requires_grad=True)
    nn(a).sum().backward()
    assert nn.program_rows == 32 and a.grad.shape == (1, 2) and torch.isfinite(a.grad).all()
    with pytest.raises(TypeError, match="numpy only"):
        prob.fun(torch.as_tensor(a_eq[None]))
    with pytest.raises(ValueError, match="dim"):
        S.guided_problem("materials", 0)
    df = S.guided_queries_to_target(["materials"], [2], methods=("gaussian", "control_variate"),
                                    q=2, lr=0.01, max_evals=60, target=0.5, seeds=[0])
    assert set(df["proxy_rows"]) == {10}
    assert (df["n_evals"] % 2 == 0).all() and (df["n_evals"] <= 60).all()
    assert df["reached"].all() and (df["queries"] % 2 == 0).all()


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("out_dim", [1, 3])
def test_online_refit_runs_the_surrogate_trainer(optimizer, out_dim):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (64, 4))
    W = rng.standard_normal((4, out_dim))
    Y = np.tanh(X @ W) if out_dim > 1 else np.tanh(X @ W)[:, 0]
    online = OnlineProxy(_small_mlp(4, out_dim), refit_every=64, steps=40, optimizer=optimizer,
                         lr=1e-2)
    online.observe(X, Y)
    assert online.n_refits == 1 and len(online.fit_histories) == 1
    hist = online.fit_histories[0]
    assert len(hist) >= 1 and set(hist.phase) == {optimizer}
    before, after = online.loss_history[0]
    assert after < 0.5 * before  # a real fit, on the variance-scaled MSE
    with torch.no_grad():
        pred = online(torch.as_tensor(X)).numpy().reshape(Y.shape)
    assert np.mean((pred - Y) ** 2) / np.var(Y, ddof=1) == pytest.approx(after, rel=1e-6)


def test_online_proxy_refuses_bad_lr():
    with pytest.raises(ValueError, match="lr: expected a finite number > 0, got -0.1"):
        OnlineProxy(_small_mlp(2), lr=-0.1)
