"""Coding exercises of notebooks 01-04: reference implementations, fixed test cases, known mistakes.

Each reference is registered with :func:`~zoo_lab.teaching.exercises.coding_exercise` and
checked in the notebook by ``zl.teaching.check_code(key, my_fn)``. The ``mistakes`` are the
wrong laws a learner is likely to write; each test case is chosen so that they all fail.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zoo_lab.teaching.exercises import coding_exercise

__all__: list[str] = []  # everything here is reached through check_code / solution


# ----------------------------------------------------------------------------- 01 sampling


def _designs() -> list[tuple]:
    rng = np.random.default_rng(101)
    return [(rng.random((n, d)),) for n, d in ((8, 1), (32, 3), (100, 4), (17, 6))]


def _integrand_sum(X):
    d = X.shape[1]
    return abs(np.mean(1 + np.sum((X - 0.5) / np.arange(1, d + 1), axis=1)) - 1.0)


def _integrand_over_d(X):
    d = X.shape[1]
    return abs(np.mean(np.prod(1 + (X - 0.5) / d, axis=1)) - 1.0)


def _integrand_signed(X):
    d = X.shape[1]
    return np.mean(np.prod(1 + (X - 0.5) / np.arange(1, d + 1), axis=1)) - 1.0


@coding_exercise(
    "01.abs_error", title="absolute error of the sample mean", stub="my_abs_error",
    cases=_designs, rtol=1e-9,
    hint="g(u) = ∏ᵢ (1 + (uᵢ − ½)/i) with i = 1..d (column j has i = j + 1); average g over the "
         "rows, subtract the exact integral 1, take the absolute value",
    more_hint="np.arange(1, d + 1) gives the divisors; np.prod(..., axis=1) multiplies along each row",
    mistakes={_integrand_sum: "that is a sum over coordinates; g is a product ∏ᵢ (1 + (uᵢ − ½)/i)",
              _integrand_over_d: "each coordinate i has its own weight 1/i, not 1/d",
              _integrand_signed: "the error is an absolute value: |mean − 1|"})
def _abs_error(X: np.ndarray) -> float:
    """|mean of g over the rows of X − 1| for g(u) = ∏ᵢ (1 + (uᵢ − ½)/i), whose integral is 1."""
    X = np.asarray(X, dtype=float)
    weights = 1.0 / np.arange(1, X.shape[1] + 1)
    g = np.prod(1.0 + (X - 0.5) * weights, axis=1)
    return float(abs(g.mean() - 1.0))


# ----------------------------------------------------------------------------- 02 estimators


def _cubic(X):
    """A batched test function (m, d) -> (m,) with coupled coordinates (forward ≠ central)."""
    X = np.atleast_2d(X)
    return np.sum(X**3, axis=1) + 0.5 * np.sum(X, axis=1) ** 2 + X[:, 0]


def _estimator_cases() -> list[tuple]:
    rng = np.random.default_rng(202)
    return [(_cubic, rng.uniform(-1, 1, d), rng.standard_normal((q, d)), 0.05)
            for d, q in ((1, 1), (3, 4), (5, 7), (8, 3))]


def _gauss_sum(f, x, U, mu):
    return len(U) * _gaussian_estimate(f, x, U, mu)


def _gauss_sphere_scale(f, x, U, mu):
    return len(x) * _gaussian_estimate(f, x, U, mu)


def _gauss_central(f, x, U, mu):
    diffs = (f(x + mu * U) - f(x - mu * U)) / (2 * mu)
    return diffs @ U / len(U)


def _gauss_no_mu(f, x, U, mu):
    return mu * _gaussian_estimate(f, x, U, mu)


@coding_exercise(
    "02.gaussian_estimate", title="Gaussian forward-difference ZO gradient", stub="my_gaussian_estimate",
    cases=_estimator_cases, rtol=1e-8,
    hint="ĝ = (1/(qμ)) Σᵢ [f(x + μuᵢ) − f(x)] uᵢ with the rows uᵢ of U: one batched call f(x + mu * U)",
    more_hint="diffs = (f(x + mu * U) - f(x[None, :])) / mu has shape (q,); then diffs @ U / q",
    mistakes={_gauss_sum: "you summed the q terms: average them (divide by q)",
              _gauss_sphere_scale: "the factor d belongs to the sphere estimator; Gaussian directions need none",
              _gauss_central: "that is the central difference; this exercise is the forward one, f(x + μu) − f(x)",
              _gauss_no_mu: "divide the difference by μ"})
def _gaussian_estimate(f: Callable, x: np.ndarray, U: np.ndarray, mu: float) -> np.ndarray:
    """(1/(qμ)) Σᵢ [f(x + μuᵢ) − f(x)] uᵢ for the q directions in the rows of U; f is batched."""
    x, U = np.asarray(x, dtype=float), np.asarray(U, dtype=float)
    diffs = (f(x + mu * U) - f(x[None, :])) / mu  # q perturbed points in one call
    return diffs @ U / len(U)


# ----------------------------------------------------------------------------- 03 coupling


def _toy_program(Z):
    """A smooth program R^3 -> R^2, batched (m, 3) -> (m, 2)."""
    Z = np.atleast_2d(Z)
    return np.column_stack([np.sin(Z[:, 0]) * Z[:, 1] + Z[:, 2] ** 2, np.exp(0.3 * Z[:, 1]) - Z[:, 0] * Z[:, 2]])


def _vjp_cases() -> list[tuple]:
    rng = np.random.default_rng(303)
    return [(_toy_program, rng.uniform(-1, 1, 3), rng.standard_normal(2), rng.standard_normal((q, 3)), 1e-3)
            for q in (1, 4, 9)]


def _vjp_no_v(program, z, v, U, mu):
    return _vjp_row(program, z, np.ones_like(v), U, mu)


def _vjp_sum(program, z, v, U, mu):
    return len(U) * _vjp_row(program, z, v, U, mu)


def _vjp_no_mu(program, z, v, U, mu):
    return mu * _vjp_row(program, z, v, U, mu)


@coding_exercise(
    "03.vjp_row", title="one row's ZO estimate of vᵀJ", stub="my_vjp_row",
    cases=_vjp_cases, rtol=1e-8,
    hint="vᵀJ is the gradient of the scalar z ↦ v·F(z): (1/(qμ)) Σᵢ [v·F(z + μuᵢ) − v·F(z)] uᵢ",
    more_hint="Y = program(z + mu * U) has shape (q, p); (Y - program(z[None, :])) @ v / mu has shape (q,); "
              "then @ U / q",
    mistakes={_vjp_no_v: "weight the outputs with v: the scalar is v·F(z), not the sum of the outputs",
              _vjp_sum: "average the q terms (divide by q)",
              _vjp_no_mu: "divide the difference by μ"})
def _vjp_row(program: Callable, z: np.ndarray, v: np.ndarray, U: np.ndarray, mu: float) -> np.ndarray:
    """ZO estimate of vᵀJ_F(z) with the q Gaussian directions in the rows of U: q + 1 program rows."""
    z, v, U = (np.asarray(a, dtype=float) for a in (z, v, U))
    Y = np.asarray(program(np.vstack([z[None, :], z + mu * U])), dtype=float)  # one batch of q + 1 rows
    diffs = (Y[1:] - Y[0]) @ v / mu
    return diffs @ U / len(U)


def _chain_cases() -> list[tuple]:
    rng = np.random.default_rng(304)
    return [(rng.standard_normal((n, m)), rng.standard_normal((n, d))) for n, m, d in ((1, 2, 3), (5, 4, 2), (16, 6, 4))]


def _chain_mean(S, G):
    return G.T @ S / len(S)


@coding_exercise(
    "03.weight_grad", title="the hybrid chain rule for a linear layer", stub="my_weight_grad",
    cases=_chain_cases, rtol=1e-9,
    hint="for z = W s, ∂L/∂W = Σ over rods of (∂L/∂z)(s)ᵀ: the rows of G times the rows of S, summed",
    more_hint="G.T @ S has shape (d, m), the shape of W",
    mistakes={_chain_mean: "L sums over rods here, so the gradients add up: do not divide by n"})
def _weight_grad(S: np.ndarray, G: np.ndarray) -> np.ndarray:
    """∂L/∂W for z_k = W s_k (W of shape (d, m)) given the rows G[k] = ∂L/∂z_k (the ZO VJPs)."""
    return np.asarray(G, dtype=float).T @ np.asarray(S, dtype=float)


# ----------------------------------------------------------------------------- 04 low data


def _data_cases() -> list[tuple]:
    rng = np.random.default_rng(404)
    return [(rng.uniform(0.5, 1.0, n), rng.uniform(0.5, 1.0, n), 0.5) for n in (1, 4, 9)] + \
        [(rng.uniform(3.5, 4.0, 6), rng.uniform(3.5, 4.0, 6), 0.25)]


def _data_no_scale(pred, y, dy):
    return float(np.mean((pred - y) ** 2))


def _data_abs(pred, y, dy):
    return float(np.mean(np.abs(pred - y) / dy))


def _data_sum(pred, y, dy):
    return float(np.sum(((pred - y) / dy) ** 2))


@coding_exercise(
    "04.data_loss", title="the scaled data loss", stub="my_data_loss",
    cases=_data_cases, rtol=1e-9,
    hint="L_data = (1/n) Σᵢ ((g(xᵢ) − yᵢ)/Δy)²: the mean of squared errors in units of Δy",
    mistakes={_data_no_scale: "divide the errors by Δy (the width of the output range) before squaring",
              _data_abs: "square the scaled errors",
              _data_sum: "take the mean over the n labels, not the sum"})
def _data_loss(pred: np.ndarray, y: np.ndarray, dy: float) -> float:
    """(1/n) Σᵢ ((predᵢ − yᵢ)/Δy)²: the data loss of notebook 04 (Δy = width of the output range)."""
    return float(np.mean(((np.asarray(pred, float) - np.asarray(y, float)) / dy) ** 2))


def _toy_flame(phi):
    """A stand-in for T_ad(φ) on the lean side (K), batched (m, 1) -> (m, 1): no Cantera needed."""
    phi = np.asarray(phi, dtype=float)
    return 300.0 + 2000.0 * phi - 250.0 * phi**2


def _knowledge_cases() -> list[tuple]:
    rng = np.random.default_rng(405)
    return [(_toy_flame, rng.uniform(0.5, 1.0, m), rng.uniform(1400.0, 2100.0, m), 100.0)
            for m in (1, 4, 8)] + [(_toy_flame, np.array([0.6, 0.9]), np.array([1500.0, 1900.0]), 50.0)]


def _knowledge_no_square(program, phi, T, t_scale):
    return float(np.mean(np.abs(program(phi[:, None])[:, 0] - T) / t_scale))


def _knowledge_no_scale(program, phi, T, t_scale):
    return float(np.mean((program(phi[:, None])[:, 0] - T) ** 2))


def _knowledge_sum(program, phi, T, t_scale):
    return float(np.sum(((program(phi[:, None])[:, 0] - T) / t_scale) ** 2))


@coding_exercise(
    "04.knowledge_loss", title="the combustion knowledge loss", stub="my_knowledge_loss",
    cases=_knowledge_cases, rtol=1e-9,
    hint="run the program on the predicted mixtures: (1/m) Σⱼ ((T_ad(φⱼ) − Tⱼ)/t_scale)²",
    more_hint="the program takes a column: program(phi[:, None]) has shape (m, 1); take [:, 0]",
    mistakes={_knowledge_no_square: "square the scaled mismatch",
              _knowledge_no_scale: "divide the mismatch by t_scale (100 K) before squaring",
              _knowledge_sum: "take the mean over the m unlabelled conditions"})
def _knowledge_loss(program: Callable, phi: np.ndarray, T: np.ndarray, t_scale: float) -> float:
    """(1/m) Σⱼ ((T_ad(φⱼ) − Tⱼ)/t_scale)²: what the program says about the predicted φ."""
    T_ad = np.asarray(program(np.asarray(phi, dtype=float)[:, None]), dtype=float)[:, 0]
    return float(np.mean(((T_ad - np.asarray(T, float)) / t_scale) ** 2))
