"""Studies of ZO gradient estimators and ZO-SGD (notebook 02): tidy DataFrames with theory columns.

The smooth test function is f(x) = Σᵢ exp(xᵢ): every derivative is eˣ, and the expectation
of every estimator on it has a closed form, so measured biases have exact theory lines.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from zoo_lab._util.seeding import rng_from
from zoo_lab._util.validate import renamed
from zoo_lab.optimize.zo import zo_sgd
from zoo_lab.zo.estimators import Estimator, make

__all__ = [
    "exp_sum",
    "fit_loglog_slope",
    "fd_error_vs_h",
    "fd_summary",
    "relative_mse_vs_q",
    "bias_vs_mu",
    "exp_sum_relative_bias",
    "unbiasedness_vs_reps",
    "cosine_vs_q",
    "estimator_costs",
    "fd_error_vs_mu",
    "zo_iterations_vs_d",
    "budget_tradeoff",
]

_AT_MOST_D = ("orthogonal", "coordinate")


def exp_sum(X):
    """f(x) = Σᵢ exp(xᵢ), batched over rows, computed in the dtype of ``X`` (numpy)."""
    return np.exp(X).sum(axis=1)


def fit_loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x (positive finite points only)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def _limit(query, grad: np.ndarray) -> np.ndarray:
    """The μ → 0 limit of an estimate with the same directions: (s/k) Σ (∇f·uᵢ) uᵢ (float64)."""
    if query.axes is not None:
        g = np.zeros_like(grad)
        g[query.axes] = query.scale * grad[query.axes]
        return g
    U = np.asarray(query.directions, dtype=np.float64)
    return query.scale * ((U @ grad) @ U)


# -- finite differences vs h -----------------------------------------------------------------
def fd_error_vs_h(hs=None, d: int = 2, differences=("forward", "central"),
                  dtypes=("float64", "float32"), n_points: int = 8, seed: int = 0) -> pd.DataFrame:
    """Relative error of coordinate differences of Σ exp(xᵢ) against the step h.

    The error is averaged over ``n_points`` base points x ~ U[0.25, 0.75]^d (rounding errors
    are erratic from point to point). One row per (difference, dtype, h), with the
    theoretical best step h* = 2√(ε|f|/|f''|) (forward) or (3ε|f|/|f'''|)^(1/3) (central).
    """
    hs = np.logspace(-14, 0, 57) if hs is None else np.asarray(hs, float)
    X = rng_from(seed).uniform(0.25, 0.75, (n_points, d))
    ratio = float(np.mean(np.exp(X).sum(1, keepdims=True) / np.exp(X)))  # |f| / |f''|
    rows = []
    for diff, dt in itertools.product(differences, dtypes):
        eps = float(np.finfo(dt).eps)
        h_opt = 2 * math.sqrt(eps * ratio) if diff == "forward" else (3 * eps * ratio) ** (1 / 3)
        for h in hs:
            est = make("coordinate", mu=float(h), difference=diff, dtype=dt)
            errs = [np.linalg.norm(np.asarray(est.gradient(exp_sum, x)[0], np.float64) - np.exp(x))
                    / np.linalg.norm(np.exp(x)) for x in X]
            rows.append(dict(difference=diff, dtype=dt, h=float(h), error=float(np.mean(errs)),
                             eps=eps, h_opt=h_opt))
    return pd.DataFrame(rows)


def fd_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per (difference, dtype): truncation slope (h in [5h*, 0.3]), rounding slope (h < h*/10),
    the measured best h and the theoretical h*, √ε and ε^(1/3)."""
    out = []
    for (diff, dt), g in df.groupby(["difference", "dtype"], sort=False):
        h_opt, eps = float(g.h_opt.iloc[0]), float(g.eps.iloc[0])
        trunc = g[(g.h >= 5 * h_opt) & (g.h <= 0.3)]
        rnd = g[(g.h <= h_opt / 10) & (g.error < 0.5)]
        out.append(dict(difference=diff, dtype=dt,
                        truncation_slope=fit_loglog_slope(trunc.h, trunc.error),
                        rounding_slope=fit_loglog_slope(rnd.h, rnd.error),
                        best_h=float(g.h.iloc[int(np.argmin(g.error.to_numpy()))]),
                        best_error=float(g.error.min()), h_opt_theory=h_opt,
                        sqrt_eps=math.sqrt(eps), cbrt_eps=eps ** (1 / 3)))
    return pd.DataFrame(out)


# -- variance: the (d+1)/q and (d-1)/q laws ------------------------------------------------
def _valid(name: str, q: int, d: int) -> bool:
    return not (name in _AT_MOST_D and q > d)


def relative_mse_vs_q(names=("gaussian", "sphere"), dims=(4, 16, 64), qs=(1, 2, 4, 8, 16, 32),
                      reps: int = 400, mu: float = 1e-3, difference: str = "forward",
                      seed: int = 0, progress: bool = False) -> pd.DataFrame:
    """Relative MSE E‖ĝ − a‖²/‖a‖² on a linear f = a·x, measured over ``reps`` estimates.

    One row per (estimator, d, q) with the measured value, its standard error and the
    theory law of :meth:`Estimator.theory_relative_mse`.
    """
    rng = rng_from(seed)
    rows = []
    grid = [(n, d, q) for n, d, q in itertools.product(names, dims, qs) if _valid(n, q, d)]
    for name, d, q in tqdm(grid, disable=not progress, desc="mse"):
        a = rng.standard_normal(d)
        x = rng.standard_normal(d)
        est = make(name, q=q, mu=mu, difference=difference)
        G = np.array([est.gradient(lambda X, a=a: X @ a, x, rng)[0] for _ in range(reps)])
        e = np.sum((G - a) ** 2, axis=1) / (a @ a)
        rows.append(dict(estimator=name, d=d, q=q, rel_mse=float(e.mean()),
                         se=float(e.std(ddof=1) / math.sqrt(reps)),
                         theory=est.theory_relative_mse(d), n_evals=est.n_evals(d)))
    return pd.DataFrame(rows)


# -- bias vs mu on Σ exp(x) ----------------------------------------------------------------
def exp_sum_relative_bias(name: str, difference: str, mu: float, d: int) -> float:
    """Exact ‖E ĝ − ∇f‖/‖∇f‖ for f = Σ exp(xᵢ) (any x): closed forms per estimator.

    Random directions: E[forward] = E[central] (u and −u are equally likely), giving
    e^{μ²/2} − 1 (gaussian), sinh(μ)/μ − 1 (rademacher, coordinate central) and a sphere
    moment series (sphere, orthogonal: each row is uniform on the sphere);
    coordinate forward: (e^μ − 1)/μ − 1.
    """
    if name == "gaussian":
        return math.expm1(mu**2 / 2)
    if name == "rademacher" or (name == "coordinate" and difference == "central"):
        return math.sinh(mu) / mu - 1
    if name == "coordinate":
        return math.expm1(mu) / mu - 1
    if name in ("sphere", "orthogonal"):
        # (d/μ) E[t sinh(μt)] − 1 with t a coordinate of a uniform unit vector:
        # E[t^{2m}] = Π_{i<m} (2i+1)/(d+2i)
        total, moment, k = 0.0, 1.0, 0
        while True:
            m = k + 1
            moment *= (2 * m - 1) / (d + 2 * m - 2)
            term = mu ** (2 * k) / math.factorial(2 * k + 1) * moment * d
            total += term
            k += 1
            if abs(term) < 1e-17 * max(total, 1e-300) or k > 60:
                return total - 1
    raise ValueError(f"name: no closed-form bias for estimator {name!r}")


def bias_vs_mu(names=("gaussian", "sphere", "rademacher", "coordinate"), mus=None, d: int = 4,
               q: int = 4, reps: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Relative bias ‖E ĝ − ∇f‖/‖∇f‖ on Σ exp(xᵢ) against μ, measured and exact.

    The mean is taken over differences to the μ → 0 limit with the *same directions*
    (common random numbers), which removes the sampling noise of the linear part; random
    directions use central differences (same expectation as forward). Coordinate estimates
    are deterministic (all d axes), in both forward and central form.
    """
    mus = np.logspace(-2.5, 0, 11) if mus is None else np.asarray(mus, float)
    rng = rng_from(seed)
    x = rng.uniform(-0.5, 0.5, d)
    grad = np.exp(x)
    rows = []
    for name in names:
        diffs = ("forward", "central") if name == "coordinate" else ("central",)
        for diff, mu in itertools.product(diffs, mus):
            est = make(name, q=None if name == "coordinate" else q, mu=float(mu), difference=diff)
            n_rep = 1 if name == "coordinate" else reps
            D = np.empty((n_rep, d))
            for r in range(n_rep):
                query = est.query(x, rng)
                D[r] = est.combine(exp_sum(query.points), query) - _limit(query, grad)
            mean = D.mean(axis=0)
            se = float(np.linalg.norm(D.std(axis=0, ddof=1)) / math.sqrt(n_rep)) if n_rep > 1 else 0.0
            label = f"{name} ({diff})" if name == "coordinate" else f"{name} (fwd = central)"
            rows.append(dict(estimator=name, difference=diff, label=label, mu=float(mu),
                             rel_bias=float(np.linalg.norm(mean) / np.linalg.norm(grad)),
                             se=se / float(np.linalg.norm(grad)),
                             theory=exp_sum_relative_bias(name, diff, float(mu), d)))
    return pd.DataFrame(rows)


def unbiasedness_vs_reps(names=("gaussian", "sphere", "coordinate"), d: int = 8, q: int = 2,
                         mu: float = 0.3, reps=(10, 30, 100, 300, 1000, 3000),
                         seed: int = 0) -> pd.DataFrame:
    """Error of the mean of R forward estimates on a quadratic against R.

    Unbiased estimators follow √(MSE/R); a biased one (coordinate forward on q < d
    random axes: bias (μ/2)·diag(A)) flattens at its bias.
    """
    rng = rng_from(seed)
    M = rng.standard_normal((d, d))
    A = M @ M.T / d + np.eye(d)
    b, x = rng.standard_normal(d), rng.standard_normal(d)
    grad = A @ x + b

    def f(X):
        return 0.5 * np.einsum("ni,ij,nj->n", X, A, X) + X @ b

    rows = []
    R_max = int(max(reps))
    for name in names:
        est = make(name, q=q, mu=mu)
        G = np.array([est.gradient(f, x, rng)[0] for _ in range(R_max)])
        mse = float(np.mean(np.sum((G - grad) ** 2, axis=1)))
        for R in reps:
            err = np.linalg.norm(G[:R].mean(axis=0) - grad) / np.linalg.norm(grad)
            rows.append(dict(estimator=name, R=int(R), rel_error_of_mean=float(err),
                             theory_unbiased=math.sqrt(mse / R) / float(np.linalg.norm(grad))))
    return pd.DataFrame(rows)


# -- cosine and cost ------------------------------------------------------------------------
def cosine_vs_q(names=("gaussian", "sphere", "rademacher", "orthogonal", "coordinate"),
                dims=(8, 32), qs=(1, 2, 4, 8, 16, 32), reps: int = 100, mu: float = 1e-4,
                seed: int = 0) -> pd.DataFrame:
    """Mean cosine similarity of ĝ with ∇f on Σ exp(xᵢ), against q/d; one row per (estimator, d, q).

    The reference column is the large-d approximation 1/√(1 + d/q) (E‖ĝ‖² ≈ (1 + d/q)‖∇f‖²).
    """
    rng = rng_from(seed)
    rows = []
    for name, d, q in itertools.product(names, dims, qs):
        if not _valid(name, q, d):
            continue
        x = rng.uniform(-1, 1, d)
        grad = np.exp(x)
        est = make(name, q=q, mu=mu)
        c = [float(g @ grad / (np.linalg.norm(g) * np.linalg.norm(grad) + 1e-300))
             for g in (est.gradient(exp_sum, x, rng)[0] for _ in range(reps))]
        rows.append(dict(estimator=name, d=d, q=q, q_over_d=q / d, cosine=float(np.mean(c)),
                         cosine_se=float(np.std(c, ddof=1) / math.sqrt(reps)),
                         reference=1 / math.sqrt(1 + d / q), n_evals=est.n_evals(d)))
    return pd.DataFrame(rows)


def estimator_costs(d: int, q: int) -> pd.DataFrame:
    """Queries per estimate for every estimator and difference in dimension ``d`` with ``q`` directions."""
    from zoo_lab.zo.estimators import NAMES

    rows = []
    for name, diff in itertools.product(NAMES, ("forward", "central")):
        qq = None if name == "coordinate" else min(q, d) if name == "orthogonal" else q
        est = make(name, q=qq, difference=diff)
        rows.append(dict(estimator=name, difference=diff, directions=est.n_directions(d),
                         n_evals=est.n_evals(d)))
    return pd.DataFrame(rows)


def fd_error_vs_mu(est: Estimator, d: int, mus=None, reps: int = 20, seed: int = 0) -> pd.DataFrame:
    """Finite-difference error of ``est`` alone: ‖ĝ_μ − ĝ₀‖/‖∇f‖ with the same directions, vs μ.

    ĝ₀ is the exact-arithmetic μ → 0 limit; this isolates truncation (large μ) and
    rounding (small μ) from the sampling error. Uses Σ exp(xᵢ); ``est``'s μ is ignored.
    """
    mus = np.logspace(-12, 0, 25) if mus is None else np.asarray(mus, float)
    rng = rng_from(seed)
    x = rng.uniform(-0.5, 0.5, d)
    grad = np.exp(x)
    rows = []
    for mu in mus:
        e = make(est.name, q=est.q, mu=float(mu), difference=est.difference, dtype=est.dtype,
                 **({"antithetic": True} if est.antithetic else {}))
        errs = []
        for _ in range(reps):
            query = e.query(x, rng)
            g = np.asarray(e.combine(exp_sum(query.points), query), np.float64)
            errs.append(np.linalg.norm(g - _limit(query, grad)) / np.linalg.norm(grad))
        rows.append(dict(mu=float(mu), fd_error=float(np.mean(errs))))
    return pd.DataFrame(rows)


# -- ZO-SGD ---------------------------------------------------------------------------------
def _quadratic(d: int, kappa: float):
    lam = np.linspace(1.0, kappa, d)
    return lam, (lambda X: 0.5 * (X**2 * lam).sum(axis=1))


def zo_iterations_vs_d(dims=(8, 16, 32, 64, 128), tol: float = 1e-3, kappa: float = 4.0,
                       seeds=range(3), mu: float = 1e-6, progress: bool = False) -> pd.DataFrame:
    """Iterations and queries to reach f ≤ tol·f(x₀) on ½Σλᵢxᵢ² (λ in [1, κ]): GD vs ZO-SGD.

    GD uses η = 1/L; ZO-SGD (gaussian, q = 1, forward) uses η = 1/((d+2)L), the step that
    maximises the expected decrease since E‖ĝ‖² = (d+2)‖∇f‖² on a quadratic as μ → 0.
    """
    rows = []
    for d in tqdm(list(dims), disable=not progress, desc="dims"):
        lam, f = _quadratic(d, kappa)
        x0 = np.ones(d)
        f0 = float(f(x0[None])[0])
        x, k = x0.copy(), 0
        while 0.5 * np.sum(lam * x**2) > tol * f0:
            x, k = x - (lam * x) / kappa, k + 1
        rows.append(dict(method="GD (exact gradient)", d=d, seed=0, iterations=k, n_evals=k))
        for s in seeds:
            res = zo_sgd(f, x0, make("gaussian", q=1, mu=mu), lr=1 / ((d + 2) * kappa),
                         iters=200 * (d + 2) * int(kappa) * 10, f_target=tol * f0, seed=s)
            rows.append(dict(method="ZO-SGD (gaussian, q=1)", d=d, seed=s, iterations=res.n_iter,
                             n_evals=res.n_evals))
    return pd.DataFrame(rows)


@renamed(budget="max_evals")
def budget_tradeoff(qs=(1, 2, 4, 8, 16, 32), d: int = 32, max_evals: int = 800,
                    kappa: float = 4.0, seeds=range(5), mu: float = 1e-6) -> pd.DataFrame:
    """Final f/f₀ at a fixed query budget for ZO-SGD with q directions per step (forward).

    Each q gets its own best step η_q = 1/(L(1 + (d+1)/q)), from E‖ĝ‖² = (1 + (d+1)/q)‖∇f‖².
    The expected decrease per query is ∝ q/((q+d+1)(q+1)): largest near q ≈ √d.
    """
    lam, f = _quadratic(d, kappa)
    x0 = np.ones(d)
    f0 = float(f(x0[None])[0])
    rows = []
    for q, s in itertools.product(qs, seeds):
        eta = 1 / (kappa * (1 + (d + 1) / q))
        res = zo_sgd(f, x0, make("gaussian", q=q, mu=mu), lr=eta, max_evals=max_evals, seed=s)
        # the final iterate's value (res.fun is the best iterate's)
        rows.append(dict(q=q, seed=s, steps=res.n_iter, n_evals=res.n_evals, rel_f=res.fun_last / f0,
                         rate_per_query=q / ((q + d + 1) * (q + 1))))
    return pd.DataFrame(rows)
