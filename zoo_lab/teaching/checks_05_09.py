"""Coding exercises of notebooks 05-08: reference implementations, fixed test cases, known mistakes.

Each exercise is registered with :func:`zoo_lab.teaching.exercises.coding_exercise` and
checked in its notebook with ``zl.teaching.check_code(KEY, my_fn)``. The ``mistakes`` are
the wrong laws a learner is likely to write; the tolerances are tight enough that each
of them fails (``tests/test_teaching_05_09.py`` checks that).
"""

from __future__ import annotations

import numpy as np

from zoo_lab.teaching.exercises import coding_exercise

__all__: list[str] = []

# ----------------------------------------------------------------------------- 05 proxies


def _nrmse_cases():
    rng = np.random.default_rng(5)
    out = []
    for n, shift in ((50, 3.0), (200, -10.0), (7, 0.5)):
        y = shift + rng.standard_normal(n) * rng.uniform(0.5, 4.0)
        out.append((y + rng.standard_normal(n) * 0.3, y))
    return out


def _nrmse_mse(pred, y):
    return np.mean((pred - y) ** 2) / np.var(y)


def _nrmse_mean(pred, y):
    return np.sqrt(np.mean((pred - y) ** 2)) / abs(np.mean(y))


def _nrmse_raw(pred, y):
    return np.sqrt(np.mean((pred - y) ** 2))


@coding_exercise("05.nrmse", title="the normalised test error nrmse", stub="my_nrmse",
                 cases=_nrmse_cases, rtol=1e-6,
                 hint="the root of the mean squared error, divided by the standard deviation of y",
                 more_hint="np.sqrt(np.mean((pred - y) ** 2)) / np.std(y)",
                 mistakes={_nrmse_mse: "that is the squared ratio: take the square root of the MSE "
                                       "and divide by std(y), not by var(y)",
                           _nrmse_mean: "divide by the standard deviation of y, not by its mean",
                           _nrmse_raw: "that is the plain RMSE: divide it by std(y)"})
def _nrmse(pred, y):
    """Reference: RMSE(pred, y) / std(y); 1 means no better than predicting the mean."""
    pred, y = np.asarray(pred, dtype=float), np.asarray(y, dtype=float)
    return float(np.sqrt(np.mean((pred - y) ** 2)) / np.std(y))


def _slope_cases():
    rng = np.random.default_rng(6)
    out = []
    for alpha, c in ((0.5, 2.0), (1.0, 0.3), (0.25, 10.0)):
        n = np.array([16, 32, 64, 128, 256, 512], dtype=float)
        out.append((n, c * n ** (-alpha) * np.exp(0.05 * rng.standard_normal(n.size))))
    return out


def _slope_signed(n, err):
    return np.polyfit(np.log(n), np.log(err), 1)[0]


def _slope_linear(n, err):
    return -np.polyfit(n, err, 1)[0]


@coding_exercise("05.loglog_slope", title="the rate α in error ∝ n^(−α)", stub="my_rate",
                 cases=_slope_cases, rtol=1e-6,
                 hint="fit a straight line to log(err) against log(n); α is minus its slope",
                 more_hint="-np.polyfit(np.log(n), np.log(err), 1)[0]",
                 mistakes={_slope_signed: "the sign: the error falls, so the slope is negative and α = −slope",
                           _slope_linear: "fit on log-log axes: a power law is a straight line there"})
def _loglog_slope(n, err):
    """Reference: least-squares slope of log(err) on log(n), negated."""
    return float(-np.polyfit(np.log(np.asarray(n, float)), np.log(np.asarray(err, float)), 1)[0])


# ----------------------------------------------------------------------------- 06 optimizers


def _pso_cases():
    rng = np.random.default_rng(7)
    out = []
    for n, d in ((5, 2), (3, 4), (1, 1)):
        v, x, pb = (rng.standard_normal((n, d)) for _ in range(3))
        gb = rng.standard_normal(d)
        r1, r2 = rng.random((n, d)), rng.random((n, d))
        out.append((v, x, pb, gb, r1, r2, 0.7298, 1.49618, 1.2))
    return out


def _pso_flipped(v, x, pbest, gbest, r1, r2, w, c1, c2):
    return w * v + c1 * r1 * (x - pbest) + c2 * r2 * (x - gbest)


def _pso_no_inertia(v, x, pbest, gbest, r1, r2, w, c1, c2):
    return v + c1 * r1 * (pbest - x) + c2 * r2 * (gbest - x)


def _pso_swapped(v, x, pbest, gbest, r1, r2, w, c1, c2):
    return w * v + c1 * r2 * (pbest - x) + c2 * r1 * (gbest - x)


def _pso_position(v, x, pbest, gbest, r1, r2, w, c1, c2):
    return x + w * v + c1 * r1 * (pbest - x) + c2 * r2 * (gbest - x)


@coding_exercise("06.pso_velocity", title="the PSO velocity update", stub="my_velocity",
                 cases=_pso_cases, rtol=1e-9,
                 hint="inertia w·v, plus a pull towards the particle's best, plus a pull towards the swarm's best",
                 more_hint="w * v + c1 * r1 * (pbest - x) + c2 * r2 * (gbest - x)",
                 mistakes={_pso_flipped: "the pulls point away from the bests: use (pbest − x), not (x − pbest)",
                           _pso_no_inertia: "the old velocity is damped by the inertia weight w",
                           _pso_swapped: "r1 goes with the personal best and r2 with the global best",
                           _pso_position: "return the new velocity, not the new position x + v"})
def _pso_velocity(v, x, pbest, gbest, r1, r2, w, c1, c2):
    """Reference: v ← w v + c1 r1 (p_best − x) + c2 r2 (g_best − x), per particle and component."""
    return w * v + c1 * r1 * (pbest - x) + c2 * r2 * (gbest - x)


def _share_cases():
    rng = np.random.default_rng(8)
    out = []
    for levels, reps, effect in ((3, 9, 2.0), (4, 4, 0.3), (2, 10, 1.0)):
        lab = np.repeat(np.arange(levels), reps)
        rng.shuffle(lab)
        out.append((effect * rng.standard_normal(levels)[lab] + rng.standard_normal(lab.size), lab))
    return out


def _share_within(values, levels):
    return 1.0 - _main_effect_share(values, levels)


def _share_unweighted(values, levels):
    v, lab = np.asarray(values, float), np.asarray(levels)
    means = np.array([v[lab == g].mean() for g in np.unique(lab)])
    return np.var(means) / np.var(v) / len(means)


@coding_exercise("06.main_effect_share", title="the share of variance of one seed source",
                 stub="my_share", cases=_share_cases, rtol=1e-6,
                 hint="sum over the levels of (size of the level) x (level mean − overall mean)², "
                      "divided by the total sum of squares",
                 more_hint="m = v.mean(); sum(len(g) * (g.mean() - m)**2 for each level's values g) "
                           "/ ((v - m)**2).sum()",
                 mistakes={_share_within: "that is the within-level share (1 − the main effect)",
                           _share_unweighted: "weight each level's squared deviation by its number of runs"})
def _main_effect_share(values, levels):
    """Reference: SS_between / SS_total of ``values`` grouped by ``levels`` (a balanced design)."""
    v, lab = np.asarray(values, dtype=float), np.asarray(levels)
    m = v.mean()
    ss_between = sum(np.sum(lab == g) * (v[lab == g].mean() - m) ** 2 for g in np.unique(lab))
    return float(ss_between / np.sum((v - m) ** 2))


# ----------------------------------------------------------------------------- 07 guided ZO


class _Quadratic:
    """f(x) = ½ xᵀA x + bᵀx, batched; the proxy is the same form with perturbed A, b."""

    def __init__(self, A, b):
        self.A, self.b = A, b

    def __call__(self, X):
        X = np.atleast_2d(X)
        return 0.5 * np.einsum("ij,jk,ik->i", X, self.A, X) + X @ self.b

    def grad(self, x):
        return self.A @ x + self.b

    def __repr__(self) -> str:
        return f"quadratic(d={len(self.b)})"


def _cv_cases():
    rng = np.random.default_rng(9)
    out = []
    for d, q in ((3, 2), (5, 4), (8, 8)):
        M = rng.standard_normal((d, d))
        A = M @ M.T / d + np.eye(d)
        b = rng.standard_normal(d)
        f = _Quadratic(A, b)
        p = _Quadratic(A + 0.2 * np.diag(rng.random(d)), b + 0.3 * rng.standard_normal(d))
        out.append((f, p, p.grad, rng.standard_normal(d), rng.standard_normal((q, d)), 1e-3))
    return out


def _cv_no_grad(f, p, grad_p, x, U, mu):
    return _cv_estimate(f, p, grad_p, x, U, mu) - grad_p(x)


def _cv_plain(f, p, grad_p, x, U, mu):
    r = f(x[None] + mu * U) - f(x[None])
    return grad_p(x) + (r[:, None] * U).sum(0) / (len(U) * mu)


def _cv_no_q(f, p, grad_p, x, U, mu):
    return grad_p(x) + (_cv_estimate(f, p, grad_p, x, U, mu) - grad_p(x)) * len(U)


@coding_exercise("07.cv_estimate", title="the control-variate ZO gradient", stub="my_cv_estimate",
                 cases=_cv_cases, rtol=1e-7, atol=1e-10,
                 hint="run plain Gaussian ZO on the residual r = f − p, then add the proxy's exact gradient",
                 more_hint="r(X) = f(X) − p(X); ĝ = ∇p(x) + Σᵢ [r(x + μuᵢ) − r(x)] uᵢ / (q μ)",
                 mistakes={_cv_no_grad: "add ∇p(x) back: the ZO part estimates only ∇(f − p)",
                           _cv_plain: "the ZO part must see f − p, not f (else ∇p is counted twice)",
                           _cv_no_q: "average over the q directions: divide the sum by q μ"})
def _cv_estimate(f, p, grad_p, x, U, mu):
    """Reference: ∇p(x) + (1/(qμ)) Σᵢ [(f − p)(x + μuᵢ) − (f − p)(x)] uᵢ with the rows of U."""
    x, U = np.asarray(x, float), np.asarray(U, float)
    pts = np.vstack([x[None], x[None] + mu * U])  # one batched call of f (and of p)
    r = f(pts) - p(pts)
    return grad_p(x) + ((r[1:] - r[0])[:, None] * U).sum(0) / (len(U) * mu)


def _ges_cases():
    rng = np.random.default_rng(10)
    out = []
    for d, alpha in ((4, 0.5), (10, 0.2), (3, 1.0), (6, 0.0)):
        u = rng.standard_normal(d)
        out.append((rng.standard_normal(d), u / np.linalg.norm(u), alpha))
    return out


def _ges_no_d(grad_f, u, alpha):
    return _guided_es_mean(grad_f, u, alpha) / len(grad_f)


def _ges_unbiased(grad_f, u, alpha):
    return np.asarray(grad_f, float)


@coding_exercise("07.guided_es_mean", title="the mean of guided ES with a fixed guide",
                 stub="my_ges_mean", cases=_ges_cases, rtol=1e-9,
                 hint="E ĝ = d Σ ∇f with Σ = (α/d) I + (1 − α) u uᵀ: write out the two terms",
                 more_hint="α ∇f + d (1 − α) (u · ∇f) u",
                 mistakes={_ges_no_d: "the estimator scales by d: the mean is d Σ ∇f, not Σ ∇f",
                           _ges_unbiased: "guided ES is not unbiased: for α < 1 it leans towards u"})
def _guided_es_mean(grad_f, u, alpha):
    """Reference: d Σ ∇f = α ∇f + d (1 − α)(uᵀ∇f) u for a unit guide u (the bias of a fixed guide)."""
    g, u = np.asarray(grad_f, float), np.asarray(u, float)
    return alpha * g + len(g) * (1 - alpha) * (u @ g) * u


# ----------------------------------------------------------------------------- 08 ZO optimizers


def _adam_cases():
    rng = np.random.default_rng(11)
    out = []
    for d, k in ((3, 0), (5, 4), (2, 50)):
        out.append((rng.standard_normal(d), 0.1 * rng.standard_normal(d), 0.05 * rng.random(d), k,
                    0.9, 0.999, 1e-8))
    return out


def _adam_no_correction(g, m, v, k, b1, b2, eps):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return np.concatenate([m / (np.sqrt(v) + eps), m, v])


def _adam_sign(g, m, v, k, b1, b2, eps):
    out = _zo_adam_step(g, m, v, k, b1, b2, eps)
    out[: len(g)] = np.sign(g)
    return out


@coding_exercise("08.adam_step", title="one ZO-Adam step", stub="my_adam_step", cases=_adam_cases,
                 rtol=1e-7,
                 hint="update both moments, correct their bias by 1 − βᵏ⁺¹, then step m̂ / (√v̂ + ε); "
                      "return np.concatenate([step, m_new, v_new])",
                 more_hint="m = b1 m + (1 − b1) g; v = b2 v + (1 − b2) g²; "
                           "m̂ = m / (1 − b1**(k + 1)); v̂ = v / (1 − b2**(k + 1))",
                 mistakes={_adam_no_correction: "correct the moments' bias: divide by 1 − β^(k+1) (k counts from 0)",
                           _adam_sign: "that is ZO-signSGD's step; Adam divides by √v̂"})
def _zo_adam_step(g, m, v, k, b1, b2, eps):
    """Reference: Adam's moments fed with a ZO gradient; returns [step, m_new, v_new] concatenated."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1 ** (k + 1)), v / (1 - b2 ** (k + 1))
    return np.concatenate([m_hat / (np.sqrt(v_hat) + eps), m, v])


def _steps_cases():
    return [(1000, 10, False), (1000, 10, True), (57, 4, False), (12, 5, True), (500, 1, False)]


def _steps_naive(max_evals, q, central):
    return max_evals // (2 * q if central else q + 1)


def _steps_no_x(max_evals, q, central):
    return (max_evals - 1) // (2 * q if central else q + 1)


@coding_exercise("08.steps_for_budget", title="ZO steps that fit in a budget", stub="my_steps",
                 cases=_steps_cases,
                 hint="one step costs q + 1 rows (forward) or 2q + 1 (central: the 2q ± points plus "
                      "f(x) for the history), and the final point is evaluated once more",
                 more_hint="(budget − 1) // cost with cost = q + 1 forward, 2q + 1 central",
                 mistakes={_steps_naive: "keep one row for the final evaluation of the last point",
                           _steps_no_x: "central steps also evaluate f(x) itself: 2q + 1 rows"})
def _steps_for_budget(max_evals, q, central):
    """Reference: steps of :func:`zoo_lab.optimize.zo_sgd` within ``max_evals`` rows (q directions)."""
    cost = 2 * q + 1 if central else q + 1
    return (max_evals - 1) // cost
