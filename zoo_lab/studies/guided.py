"""Queries to a target: plain ZO vs proxy-only first order vs proxy-guided ZO (notebook 07).

Every method runs ZO-Adam (the same rule and learning rate for all, so only the gradient
estimate differs; Adam's per-coordinate normalisation also removes the estimators'
different scales) from the same start, and we count **real-function rows** until
f(x) − f* ≤ ``target`` · (f(x₀) − f*). Proxies are torch-differentiable:

* ``"exact"``: the function itself (an upper bound on what guidance can give);
* ``"shifted"``: p(x) = f(x − δ), a deliberately biased proxy whose minimiser is off by
  δ (``shift`` × box width, random signs): right shape, wrong place;
* ``"nn"``: an MLP fitted with :func:`zoo_lab.surrogate.proxy.fit` on ``n_train`` Sobol points.

The heat problem (``problem="heat"``) recovers zone conductivities from sensor readings
(:mod:`zoo_lab.problems.heat`); its proxy is the torch twin on a **coarser grid**, a
physically biased low-fidelity model.

The materials problem (``problem="materials"``, :mod:`zoo_lab.problems.materials`) finds the
equilibrium lattice constants a₁…a_d of d Cu–Au compositions at once by minimising
f(a) = (1/d) Σᵢ [E(cᵢ, aᵢ) − E_min(cᵢ)] (EMT energy per atom, eV; f* = 0). One objective row
costs d EMT rows, so its queries, budget and ``proxy_rows`` count **EMT rows**. Its proxies:
``"shifted"`` is Vegard's law with harmonic wells, fitted on 10 EMT rows around the handbook
lattice constants of Cu and Au (biased by the alloy's bowing, ≈ 0.03 Å); ``"nn"`` is an MLP
of E(c, a) fitted on ``n_train`` Sobol (c, a) rows. There is no torch EMT, so no ``"exact"``.

Size: ~410 lines: the guided problems (incl. materials) and the sweeps over them are one study.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from zoo_lab import optimize, sampling
from zoo_lab._util.seeding import rng_from
from zoo_lab._util.threads import torch_threads
from zoo_lab._util.validate import check_choice, renamed
from zoo_lab.problems import functions, heat
from zoo_lab.studies.engine import grid, sweep
from zoo_lab.zo import estimators
from zoo_lab.zo import guided as _guided

__all__ = ["GUIDED_METHODS", "GUIDED_PROXIES", "GuidedProblem", "guided_problem",
           "guided_proxy", "guided_run", "guided_queries_to_target", "guided_gradient_error",
           "guided_summary", "guided_cv_variance", "guided_vjp_cosine"]

GUIDED_METHODS: tuple[str, ...] = ("gaussian", "coordinate", "proxy_only", "control_variate",
                                   "guided_es", "prior_guided")
GUIDED_PROXIES: tuple[str, ...] = ("exact", "shifted", "nn")


@dataclass
class GuidedProblem:
    """An objective (m, d) -> (m,) with its box, f* and a torch version for 'exact' proxies."""

    name: str
    fun: object
    bounds: np.ndarray
    f_opt: float
    dim: int
    low_fidelity: object = None  # a built-in biased proxy (heat: coarse twin)
    rows_per_eval: int = 1  # program rows per objective row (materials: one EMT row per composition)
    start: object = None  # seed -> x0 (default: the middle half of the box)
    info: dict | None = None  # problem-specific data (materials: compositions, a_eq, E_min)

    # the Problem protocol (zoo_lab.problems.Problem): sizes and a batched call
    in_dim = property(lambda self: self.dim)
    out_dim = property(lambda self: 1)

    def __call__(self, X):
        return self.fun(X)


def guided_problem(problem: str, dim: int = 10) -> GuidedProblem:
    """A benchmark function by name (any dim), ``"heat"`` (dim = number of zones) or
    ``"materials"`` (dim = number of Cu–Au compositions, 1–16)."""
    if problem == "materials":
        return _materials_problem(int(dim))
    if problem == "heat":
        rod = heat.HeatRod(n_zones=dim, n_cells=max(32, 4 * dim), n_steps=30, t_final=0.3,
                           n_snapshots=3)
        inv = heat.inverse_problem(rod, seed=0)
        coarse = heat.HeatRod(n_zones=dim, n_cells=2 * dim if dim >= 8 else 16, n_steps=6,
                              t_final=0.3, n_snapshots=3)
        readings = torch.as_tensor(inv.readings)

        def low(K):
            return ((heat.torch_twin(K, coarse) - readings.to(K)) ** 2).mean(1)

        def fine_torch(K):
            return ((heat.torch_twin(K, rod) - readings.to(K)) ** 2).mean(1)

        def fun(X):
            if torch.is_tensor(X):
                return fine_torch(X)
            return inv.misfit(np.clip(X, 1e-3, None))

        return GuidedProblem("heat", fun, rod.bounds, 0.0, dim, low)
    if problem not in functions.names():
        raise ValueError(f"problem: got {problem!r}; allowed: heat, materials, "
                         f"{', '.join(functions.names())}")
    f = functions.get(problem, dim)
    return GuidedProblem(problem, f, f.bounds, float(f.f_opt), dim)


def guided_proxy(prob: GuidedProblem, kind: str = "shifted", *, shift: float = 0.05,
                 n_train: int = 128, hidden=(32, 32), seed=0):
    """A torch-differentiable proxy of ``prob``: see the module docstring for ``kind``.

    For the heat problem, ``"shifted"`` means the coarse-grid twin (its natural bias).
    """
    check_choice("kind", kind, GUIDED_PROXIES)
    if prob.name == "materials":
        return _materials_proxy(prob, kind, n_train=n_train, hidden=hidden, seed=seed)
    if kind == "exact":
        return prob.fun
    if kind == "shifted":
        if prob.low_fidelity is not None:
            return prob.low_fidelity
        rng = rng_from(seed)
        delta = shift * (prob.bounds[:, 1] - prob.bounds[:, 0]) * rng.choice([-1.0, 1.0], prob.dim)
        fun = prob.fun

        def shifted(X):
            return fun(X - torch.as_tensor(delta, dtype=X.dtype, device=X.device))

        return shifted
    X = sampling.sample("sobol", n=n_train, bounds=prob.bounds, seed=seed)
    y = np.asarray(prob.fun(X), dtype=float)
    from zoo_lab.surrogate import proxy as _proxy  # a heavier import, only when needed

    return _proxy.fit(X, y, bounds=prob.bounds, hidden=hidden, max_iter=300, seed=seed,
                      dtype="float64")


def _estimator(method: str, proxy, q: int, mu: float, d: int, alpha: float):
    check_choice("method", method, GUIDED_METHODS)
    if method == "gaussian":
        return estimators.make("gaussian", q=q, mu=mu)
    if method == "coordinate":
        return estimators.make("coordinate", q=d, mu=mu)
    if method == "proxy_only":
        return _guided.ProxyOnly(proxy=proxy)
    if method == "guided_es":
        return estimators.make("guided_es", q=q + (q % 2), mu=mu, proxy=proxy, alpha=alpha)
    if method == "prior_guided":
        return estimators.make("prior_guided", q=max(q - 1, 1), mu=mu, proxy=proxy)
    return estimators.make(method, q=q, mu=mu, proxy=proxy)


def _start(prob: GuidedProblem, seed) -> np.ndarray:
    """A start drawn in the middle half of the box (away from the optimum for most functions)."""
    if prob.start is not None:
        return prob.start(seed)
    rng = rng_from(seed)
    lo, hi = prob.bounds[:, 0], prob.bounds[:, 1]
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    return mid + half * rng.uniform(0.25, 0.5, prob.dim) * rng.choice([-1.0, 1.0], prob.dim)


@renamed(budget="max_evals")
def guided_run(prob: GuidedProblem, method: str, proxy=None, *, q: int = 10, mu: float = 1e-4,
               lr: float = 0.05, max_evals: int = 2000, target: float = 1e-2, alpha: float = 0.5,
               seed=0):
    """One ZO-Adam run of ``method``; returns (OptimizeResult, queries to target or NaN, f₀).

    ``max_evals`` and the returned queries count program rows: objective rows × ``prob.rows_per_eval``
    (``res.n_evals`` and ``res.history`` stay in objective rows).
    """
    x0 = _start(prob, seed)
    f0 = float(np.asarray(prob.fun(x0[None]))[0])
    f_target = prob.f_opt + target * (f0 - prob.f_opt)
    est = _estimator(method, proxy, q, mu, prob.dim, alpha)
    k = prob.rows_per_eval
    res = optimize.zo_adam(prob.fun, x0, est, lr=lr, max_evals=max_evals // k, iters=max_evals,
                           bounds=prob.bounds, f_target=f_target, seed=seed)
    hit = res.history["current_fun"] <= f_target
    queries = float(k * res.history["n_evals"][np.argmax(hit)]) if hit.any() else np.nan
    return res, queries, f0


@renamed(budget="max_evals")
def guided_queries_to_target(problems=("sphere",), dims=(10,), methods=GUIDED_METHODS,
                             proxy: str = "shifted", *, shift: float = 0.05, n_train: int = 128,
                             q: int = 10, mu: float = 1e-4, lr: float = 0.05, max_evals: int = 2000,
                             target: float = 1e-2, alpha: float = 0.5, seeds=range(5),
                             progress: bool = False) -> pd.DataFrame:
    """Tidy table: one row per (problem, dim, method, seed) with real queries to the target.

    ``queries`` is NaN when the budget ran out first; ``f_gap`` = (f − f*)/(f₀ − f*) at the end.
    ``queries``, ``n_evals`` and ``max_evals`` count program rows (materials: EMT rows);
    ``proxy_rows`` are the program rows paid once to build the proxy (not in ``queries``).
    The proxy is built once per (problem, dim, seed) and shared by the guided methods.
    """
    common = dict(methods=list(methods), proxy=proxy, shift=shift, n_train=n_train, q=q, mu=mu,
                  lr=lr, max_evals=max_evals, target=target, alpha=alpha)
    settings = [dict(g, **common) for g in grid(problem=problems, dim=dims, seed=seeds)]
    with torch_threads(1):
        return sweep(_queries_rows, settings, progress=progress, desc="queries to target")


def _queries_rows(problem: str, dim: int, seed: int, methods, proxy: str, shift: float,
                  n_train: int, q: int, mu: float, lr: float, max_evals: int, target: float,
                  alpha: float) -> list[dict]:
    """One (problem, dim, seed): build its proxy once, run every method on it."""
    prob = guided_problem(problem, dim)
    prox = guided_proxy(prob, proxy, shift=shift, n_train=n_train, seed=seed)
    rows = []
    for m in methods:
        res, queries, f0 = guided_run(prob, m, prox, q=q, mu=mu, lr=lr, max_evals=max_evals,
                                      target=target, alpha=alpha, seed=seed)
        gap = (res.fun - prob.f_opt) / (f0 - prob.f_opt) if f0 != prob.f_opt else 0.0
        rows.append(dict(problem=problem, dim=dim, method=m, proxy=proxy, seed=int(seed),
                         queries=queries, reached=bool(np.isfinite(queries)),
                         f_gap=float(gap), n_evals=int(res.n_evals * prob.rows_per_eval),
                         q=q, proxy_rows=int(getattr(prox, "program_rows", 0))))
    return rows


def guided_summary(df: pd.DataFrame, baseline: str = "gaussian") -> pd.DataFrame:
    """Median and IQR of queries to target per (problem, dim, method), and the median ratio to
    ``baseline`` over seeds (unreached runs count as the budget: the ratio is then a bound)."""
    cap = df.assign(q_cap=df["queries"].fillna(df["n_evals"]))
    base = cap[cap["method"] == baseline].set_index(["problem", "dim", "seed"])["q_cap"]
    cap = cap.join(base.rename("q_base"), on=["problem", "dim", "seed"])
    cap["ratio"] = cap["q_cap"] / cap["q_base"]
    g = cap.groupby(["problem", "dim", "method"], sort=False)
    out = g.agg(reached=("reached", "mean"), median=("q_cap", "median"),
                q25=("q_cap", lambda s: s.quantile(0.25)), q75=("q_cap", lambda s: s.quantile(0.75)),
                ratio_median=("ratio", "median"),
                ratio_q25=("ratio", lambda s: s.quantile(0.25)),
                ratio_q75=("ratio", lambda s: s.quantile(0.75)),
                f_gap_median=("f_gap", "median"))
    return out.reset_index()


def guided_gradient_error(problem: str = "rosenbrock", dim: int = 10, methods=GUIDED_METHODS,
                          proxy: str = "nn", *, n_train: int = 128, q: int = 10, mu: float = 1e-4,
                          n_points: int = 8, seeds=range(10)) -> pd.DataFrame:
    """Relative error ‖ĝ − ∇f‖/‖∇f‖ and cosine of each method's gradient at random points.

    One row per (method, point, seed), with the real rows each estimate cost.
    """
    prob = guided_problem(problem, dim)
    prox = guided_proxy(prob, proxy, n_train=n_train, seed=0)
    X = sampling.sample("uniform", n=n_points, bounds=prob.bounds, seed=123)
    rows = []
    with torch_threads(1):
        for i, x in enumerate(X):
            xt = torch.tensor(x, requires_grad=True)
            prob.fun(xt[None]).sum().backward()
            g_true = xt.grad.numpy()
            for m in methods:
                est = _estimator(m, prox, q, mu, dim, 0.5)
                for s in seeds:
                    g, n = est.gradient(prob.fun, x, seed=int(s))
                    g = np.asarray(g)
                    err = np.linalg.norm(g - g_true) / np.linalg.norm(g_true)
                    cos = float(g @ g_true / (np.linalg.norm(g) * np.linalg.norm(g_true) + 1e-300))
                    rows.append(dict(problem=problem, dim=dim, method=m, proxy=proxy, point=i,
                                     seed=int(s), rel_error=float(err), cosine=cos, n_evals=n))
    return pd.DataFrame(rows)


def guided_cv_variance(dim: int = 20, q: int = 5, rhos=(0.03, 0.1, 0.3, 1.0, 2.0),
                       seeds=range(200), seed: int = 0) -> pd.DataFrame:
    """Control-variate MSE against ρ = ‖∇(f − p)‖/‖∇f‖ on a linear f with a linear proxy.

    p has gradient ∇f + ρ‖∇f‖·e (e a random unit vector); Gaussian forward differences, q
    directions. Theory: E‖ĝ − ∇f‖²/‖∇f‖² = ((d+1)/q) ρ², against (d+1)/q for plain ZO.
    One row per ρ: measured mean relative MSE, its standard error and the theory.
    """
    rng = rng_from(seed)
    w = rng.standard_normal(dim)
    e = rng.standard_normal(dim)
    e /= np.linalg.norm(e)
    x = np.zeros(dim)

    def f(X):
        return X @ torch.as_tensor(w, dtype=X.dtype) if torch.is_tensor(X) else X @ w

    rows = []
    for rho in rhos:
        wp = torch.as_tensor(w + rho * np.linalg.norm(w) * e)
        est = estimators.make("control_variate", q=q, mu=1e-3, proxy=lambda X, wp=wp: X @ wp.to(X))
        err = np.array([np.sum((np.asarray(est.gradient(f, x, seed=int(s))[0]) - w) ** 2)
                        for s in seeds]) / (w @ w)
        rows.append(dict(rho=float(rho), rel_mse=float(err.mean()),
                         se=float(err.std(ddof=1) / np.sqrt(len(err))),
                         theory=(dim + 1) / q * rho**2, plain=(dim + 1) / q))
    return pd.DataFrame(rows)


def guided_vjp_cosine(methods=("gaussian", "control_variate", "prior_guided", "guided_es"),
                      q: int = 4, rows: int = 8, seeds=range(10), mu: float = 1e-4) -> pd.DataFrame:
    """Cosine of the VJP through the heat solver (:class:`zoo_lab.BlackBox` with a guided estimator) to the exact one.

    The proxy of the *vector-valued* program is the coarse-grid torch twin (same sensors and
    snapshots, fewer cells and steps); guided rows use its VJP vᵢᵀJ_p(zᵢ). One row per
    (method, seed) with the cosine over all rows × zones and the solver rows of that backward.
    """
    from zoo_lab.coupling.blackbox import BlackBox

    rod = heat.HeatRod(n_cells=32, n_steps=30, t_final=0.3, n_snapshots=3)
    coarse = heat.HeatRod(n_cells=16, n_steps=6, t_final=0.3, n_snapshots=3)
    rng = np.random.default_rng(1234)
    Z = torch.as_tensor(rng.uniform(rod.bounds[:, 0], rod.bounds[:, 1], (rows, rod.in_dim)))
    V = torch.as_tensor(rng.standard_normal((rows, rod.out_dim)))
    out = []
    with torch_threads(1):
        exact = torch.autograd.functional.vjp(lambda K: heat.torch_twin(K, rod), Z, V)[1].reshape(-1)
        for m in methods:
            for s in seeds:
                if m in ("gaussian", "coordinate"):
                    est = estimators.make(m, q=min(q, rod.in_dim) if m == "coordinate" else q, mu=mu)
                else:
                    est = estimators.make(m, q=q + (q % 2) if m == "guided_es" else q, mu=mu,
                                          proxy=lambda K: heat.torch_twin(K, coarse))
                box = BlackBox(rod, rod.in_dim, rod.out_dim, estimator=est, seed=int(s))
                g, cost = box.vjp(Z, V)
                g = g.reshape(-1)
                cos = float(g @ exact / (g.norm() * exact.norm()))
                out.append(dict(method=m, seed=int(s), q=q, cosine=cos, queries_per_rod=cost / rows))
    return pd.DataFrame(out)


# -- materials: lattice constants of several Cu–Au compositions at once ---------------------
HANDBOOK_A = {"Cu": 3.615, "Au": 4.078}  # experimental lattice constants [Å] (room temperature)


def _materials_compositions(dim: int, n_atoms: int) -> np.ndarray:
    """d compositions spread over (0, 1), on whole-atom counts (one EMT call per row, no mixing)."""
    return np.round(n_atoms * (np.arange(dim) + 0.5) / dim) / n_atoms


@functools.lru_cache(maxsize=8)
def _materials_problem(dim: int) -> GuidedProblem:
    from zoo_lab.problems import materials as M

    if not 1 <= dim <= 16:
        raise ValueError(f"dim: got {dim!r}; allowed for materials: 1 to 16 compositions")
    alloy = M.AlloyEMT()
    c = _materials_compositions(dim, alloy.n_atoms)
    # the answer key (Brent per composition; its EMT rows are not counted: it only grades runs)
    a_eq = np.atleast_1d(M.equilibrium_lattice_constant(c, alloy=alloy, xatol=1e-7))
    e_min = alloy(np.column_stack([c, a_eq]))[:, 0]

    def fun(A):
        if torch.is_tensor(A):
            raise TypeError("materials: the EMT program is numpy only (no torch twin); guided "
                            "methods need a proxy from guided_proxy(prob, 'shifted' or 'nn')")
        A = np.asarray(A, dtype=float)
        E = alloy(np.column_stack([np.tile(c, len(A)), A.ravel()]))[:, 0].reshape(A.shape)
        return (E - e_min).mean(1)

    def start(seed):
        rng = rng_from(seed)
        return a_eq + rng.uniform(0.08, 0.15, dim) * rng.choice([-1.0, 1.0], dim)

    bounds = np.tile(np.array(alloy.a_bounds), (dim, 1))
    return GuidedProblem("materials", fun, bounds, 0.0, dim, rows_per_eval=dim, start=start,
                         info=dict(alloy=alloy, c=c, a_eq=a_eq, e_min=e_min))


class _VegardProxy(torch.nn.Module):
    """p(a) = (1/d) Σᵢ ½ κ(cᵢ)(aᵢ − a_V(cᵢ))²: Vegard's law with harmonic wells (torch)."""

    def __init__(self, c, a_vegard, kappa, program_rows: int):
        super().__init__()
        self.register_buffer("a_v", torch.as_tensor(a_vegard, dtype=torch.float64))
        self.register_buffer("kappa", torch.as_tensor(kappa, dtype=torch.float64))
        self.c, self.program_rows = np.asarray(c), int(program_rows)

    def forward(self, A):
        return (0.5 * self.kappa * (A - self.a_v) ** 2).mean(1)


class _EnergyNetProxy(torch.nn.Module):
    """p(a) = (1/d) Σᵢ Ê(cᵢ, aᵢ) with Ê an MLP of the EMT energy fitted on (c, a) rows."""

    def __init__(self, net, c, program_rows: int):
        super().__init__()
        self.net = net
        self.register_buffer("c", torch.as_tensor(c, dtype=torch.float64))
        self.program_rows = int(program_rows)

    def forward(self, A):
        rows = torch.stack([self.c.expand_as(A), A], dim=-1).reshape(-1, 2)
        return self.net(rows).reshape(A.shape).mean(1)


def _materials_proxy(prob: GuidedProblem, kind: str, *, n_train: int, hidden, seed):
    alloy, c = prob.info["alloy"], prob.info["c"]
    if kind == "exact":
        raise ValueError("kind: 'exact' is not available for materials (EMT has no torch twin); "
                         "allowed: shifted (Vegard + harmonic wells), nn")
    if kind == "shifted":
        a0, kappa = [], []
        for el, cc in ((alloy.host, 0.0), (alloy.solute, 1.0)):
            a = HANDBOOK_A[el] + np.linspace(-0.1, 0.1, 5)
            p2, p1, _ = np.polyfit(a, alloy(np.column_stack([np.full(5, cc), a]))[:, 0], 2)
            a0.append(-p1 / (2 * p2))
            kappa.append(2 * p2)
        return _VegardProxy(c, (1 - c) * a0[0] + c * a0[1], (1 - c) * kappa[0] + c * kappa[1],
                            program_rows=10)
    from zoo_lab.surrogate import proxy as _proxy

    X = sampling.sample("sobol", n=n_train, bounds=alloy.bounds, seed=seed)
    net = _proxy.fit(X, alloy(X)[:, 0], bounds=alloy.bounds, hidden=hidden, max_iter=300,
                     seed=seed, dtype="float64")
    return _EnergyNetProxy(net, c, program_rows=n_train)


