"""Every figure builder of zoo_lab.plots, called on small frames with the columns its study makes.

``CASES`` maps a builder's name to a function returning ``(figure, raw column names)``; the
polish tests walk it, and a test checks that no public builder is missing from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import zoo_lab as zl

_RNG = np.random.default_rng(7)
_SCHEMES = ("lhs", "sobol")
_BOX3 = [[0.0, 1.0]] * 3


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def _band(value: str = "discrepancy") -> pd.DataFrame:
    return _frame([dict(dim=d, scheme=s, n=n, seed=k, **{value: float(_RNG.uniform(1e-4, 1e-1))})
                   for d in (2, 4) for s in _SCHEMES for n in (16, 64, 256) for k in range(3)])


def _proxy_grid() -> pd.DataFrame:
    return _frame([dict(function=f, dim=d, scheme=s, n=n, seed=k, rmse=float(_RNG.uniform(0.01, 5)),
                        discrepancy=float(_RNG.uniform(1e-4, 1e-2)))
                   for f in ("rastrigin", "sphere") for d in (2, 4) for s in _SCHEMES for n in (32, 128)
                   for k in range(2)])


def _designs():
    X = zl.sampling.sample("lhs", 16, _BOX3, seed=0)
    return zl.plots.design_figure(X, _BOX3, axes=(2, 0)), []


def _designs_grid():
    ds = {s: zl.sampling.sample(s, 16, _BOX3, seed=0) for s in _SCHEMES}
    return zl.plots.designs_grid(ds, _BOX3, axes=(1, 2)), []


def _design_matrix():
    return zl.plots.design_matrix(zl.sampling.sample("sobol", 16, _BOX3, seed=0), _BOX3), []


def _discrepancy():
    df = _band()
    return zl.plots.discrepancy_figure(df), list(df.columns)


def _median_band():
    df = _band("abs_error")
    return zl.plots.median_band_figure(df, x="n", y="abs_error", group="scheme", facet="dim"), list(df.columns)


def _landscape():
    f = zl.functions.get("sphere", 4)
    return zl.plots.landscape_figure(f, lambda P: f(P) * 1.1, X=np.zeros((2, 4)), resolution=8,
                                     axes=(2, 3)), []


def _error_vs_n():
    df = _proxy_grid()
    return zl.plots.error_vs_n_figure(df), list(df.columns)


def _discrepancy_error():
    df = _proxy_grid()
    return zl.plots.discrepancy_error_figure(df), list(df.columns)


def _optimizer_curves():
    h = _frame([dict(time=0.01 * (k + 1), passes=k + 1, monitor_rmse=1.0 / (k + 1)) for k in range(20)])
    return zl.plots.optimizer_curves_figure({"adam/0": h, "lbfgs/0": h.assign(time=h.time * 3)}), list(h.columns)


def _argmin():
    df = _frame([dict(function=f, dim=d, seed=k, argmin_dist_rel=float(_RNG.uniform(1e-3, 0.5)),
                      regret=float(_RNG.uniform(1e-6, 10)))
                 for f in ("rastrigin", "ackley") for d in (2, 10) for k in range(3)])
    return zl.plots.argmin_figure(df), list(df.columns)


def _ecdf_error():
    df = _frame([dict(optimizer=o, on=on, seed=k, error=float(10 ** _RNG.uniform(-6, 1)))
                 for o in ("pso", "ga") for on in ("true", "proxy") for k in range(5)])
    return zl.plots.ecdf_error_figure(df), list(df.columns)


def _ecdf_runtime():
    df = _frame([dict(optimizer=o, on="proxy", seed=k, n_evals=40 * (g + 1), error=10.0 ** (1 - g) * (k + 1))
                 for o in ("pso", "ga") for k in range(3) for g in range(6)])
    return zl.plots.ecdf_runtime_figure(df), list(df.columns)


def _paths():
    t = _RNG.uniform(0, 1, size=(4, 5, 2))
    return zl.plots.paths_figure(lambda X: X[:, 0] ** 2, lambda X: X[:, 1], t, t, [[0, 1], [0, 1]],
                                 x_opt=[0.5, 0.5], found=(t[-1, 0], t[-1, 1]), n_grid=6), []


def _variance_split():
    df = _frame([dict(optimizer=o, source=s, share=v)
                 for o in ("pso", "ga") for s, v in (("sampling", 0.5), ("network init", 0.3), ("optimizer", 0.2))])
    return zl.plots.variance_split_figure(df, by="optimizer"), list(df.columns)


def _fd_error():
    df = _frame([dict(difference=d, dtype=t, h=h, error=abs(np.log10(h) + 6) * 1e-3 + 1e-9, h_opt=1e-6,
                      eps=2e-16) for d in ("forward", "central") for t in ("float64", "float32")
                 for h in np.logspace(-10, -1, 6)])
    return zl.plots.fd_error_figure(df), list(df.columns)


def _relative_mse():
    df = _frame([dict(estimator=e, d=d, q=q, rel_mse=(d + 1) / q, se=0.01, theory=(d + 1) / q)
                 for e in ("gaussian", "sphere") for d in (4, 16) for q in (1, 4, 16)])
    return zl.plots.relative_mse_figure(df), list(df.columns)


def _bias():
    df = _frame([dict(label=lab, mu=mu, rel_bias=mu * 0.5, se=1e-4, theory=mu * 0.5)
                 for lab in ("gaussian", "coordinate (central)") for mu in (1e-4, 1e-3, 1e-2)])
    return zl.plots.bias_figure(df), list(df.columns)


def _unbiasedness():
    df = _frame([dict(estimator=e, R=r, rel_error_of_mean=1 / np.sqrt(r), theory_unbiased=1 / np.sqrt(r))
                 for e in ("gaussian", "sphere") for r in (1, 10, 100)])
    return zl.plots.unbiasedness_figure(df), list(df.columns)


def _estimator_cosine():
    df = _frame([dict(estimator=e, d=d, q_over_d=r, cosine=1 / np.sqrt(1 + 1 / r), reference=1.0)
                 for e in ("gaussian", "sphere") for d in (4, 16) for r in (0.25, 1.0, 4.0)])
    return zl.plots.estimator_cosine_figure(df), list(df.columns)


def _zo_iterations():
    df = _frame([dict(method=m, d=d, seed=k, iterations=d * 10 + k) for m in ("zo_sgd", "zo_adam")
                 for d in (2, 8, 32) for k in range(2)])
    return zl.plots.zo_iterations_figure(df, slope=1.0), list(df.columns)


def _budget():
    df = _frame([dict(q=q, seed=k, rel_f=0.1 * q / (k + 1), steps=100 // q) for q in (1, 4, 16) for k in range(3)])
    return zl.plots.budget_figure(df), list(df.columns)


def _explorer():
    mse = _frame([dict(q=q, rel_mse=17 / q, theory=17 / q) for q in (1, 2, 4, 8)])
    fd = _frame([dict(mu=mu, fd_error=abs(np.log10(mu) + 5) * 1e-3 + 1e-8) for mu in np.logspace(-10, 0, 6)])
    return zl.plots.explorer_figure(mse, fd, 4, 1e-4), list(mse.columns) + list(fd.columns)


def _guided_queries():
    df = _frame([dict(problem=p, dim=d, method=m, seed=k, queries=np.nan if k == 0 else 100.0 * (k + 1),
                      n_evals=1000, reached=k > 0)
                 for p in ("zakharov",) for d in (4, 10) for m in ("gaussian", "control_variate") for k in range(3)])
    return zl.plots.guided_queries_figure(df), list(df.columns)


def _guided_error():
    df = _frame([dict(method=m, seed=k, rel_error=float(_RNG.uniform(0.1, 2)), cosine=0.5, n_evals=n)
                 for m, n in (("gaussian", 11), ("control_variate", 11), ("proxy_only", 0.5)) for k in range(4)])
    return zl.plots.guided_error_figure(df), list(df.columns)


def _guided_variance():
    return zl.plots.guided_variance_figure([0.01, 0.1, 1.0], [0.001, 0.1, 9.0], d=10, k=10), []


def _training_curves():
    df = _frame([dict(method=m, seed=k, step=s, queries=(s + 1) * 9, loss=1.0 / (s + 1 + k), seconds=0.1)
                 for m in ("zo", "exact") for k in range(2) for s in range(10)])
    return zl.plots.training_curves(df), list(df.columns)


def _coupling_cosine():
    df = _frame([dict(q=q, seed=k, cosine=1 / np.sqrt(1 + 5 / q)) for q in (1, 4, 16) for k in range(3)])
    return zl.plots.cosine_figure(df, d=4), list(df.columns)


def _vjp_scatter():
    return zl.plots.vjp_scatter(_RNG.normal(size=8), _RNG.normal(size=8)), []


def _low_data():
    df = _frame([dict(mode=m, n_labels=n, seed=k, test_rmse=1.0 / n + 0.01 * k)
                 for m in ("data only", "coupled") for n in (4, 16, 64) for k in range(3)])
    return zl.plots.low_data_figure(df), list(df.columns)


def _curve():
    return zl.plots.curve_figure([0, 1, 2], [1, 2, 0], x_title="time t", y_title="temperature"), []


def _fit():
    x = np.linspace(0, 1, 5)
    return zl.plots.fit_figure(x, x**2, {"coupled": (x, x**2 + 0.1)}, x_lab=x[:2], y_lab=x[:2] ** 2), []


def _zo_convergence():
    df = _frame([dict(method=m, seed=k, n_evals=10 * (g + 1), gap=10.0 ** (-g / 2) * (k + 1))
                 for m in ("zo_adam", "cmaes") for k in range(3) for g in range(12)])
    return zl.plots.zo_convergence_figure(df), list(df.columns)


CASES = {
    "design_figure": _designs, "designs_grid": _designs_grid, "design_matrix": _design_matrix,
    "discrepancy_figure": _discrepancy, "median_band_figure": _median_band,
    "landscape_figure": _landscape, "error_vs_n_figure": _error_vs_n,
    "discrepancy_error_figure": _discrepancy_error, "optimizer_curves_figure": _optimizer_curves,
    "argmin_figure": _argmin, "ecdf_error_figure": _ecdf_error, "ecdf_runtime_figure": _ecdf_runtime,
    "paths_figure": _paths, "variance_split_figure": _variance_split, "fd_error_figure": _fd_error,
    "relative_mse_figure": _relative_mse, "bias_figure": _bias, "unbiasedness_figure": _unbiasedness,
    "estimator_cosine_figure": _estimator_cosine, "zo_iterations_figure": _zo_iterations,
    "budget_figure": _budget, "explorer_figure": _explorer, "guided_queries_figure": _guided_queries,
    "guided_error_figure": _guided_error, "guided_variance_figure": _guided_variance,
    "training_curves": _training_curves, "cosine_figure": _coupling_cosine, "vjp_scatter": _vjp_scatter,
    "low_data_figure": _low_data, "curve_figure": _curve, "fit_figure": _fit,
    "zo_convergence_figure": _zo_convergence,
}
