"""Figures for optimizer stability on proxies: COCO-style ECDFs, swarm paths, variance split.

The two ECDF views follow the COCO platform [1]_:

* **fixed budget** — the empirical CDF over seeds of the final true error
  ``f(x_found) - f*``: the curve at ``e`` is the fraction of runs whose error is
  at most ``e`` (further left and higher is better);
* **fixed target** — the runtime ECDF: for each run and each target precision
  ``t`` the number of evaluations until the true error first drops to ``t``
  (never: not counted); the curve at ``b`` is the fraction of (run, target)
  pairs reached within ``b`` evaluations [2]_.

References
----------
.. [1] N. Hansen, A. Auger, R. Ros, O. Mersmann, T. Tušar, D. Brockhoff, "COCO: a
   platform for comparing continuous optimizers in a black-box setting",
   Optim. Methods Softw. 36(1), 2021.
.. [2] N. Hansen, A. Auger, D. Brockhoff, T. Tušar, "Anytime performance assessment
   in blackbox optimization benchmarking", IEEE TEC 26(6), 2022.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from zoo_lab._util.grids import slice_values
from zoo_lab._util.validate import check_columns
from zoo_lab.plots._style import COLORS, base_layout, label
from zoo_lab.sampling import check_bounds

__all__ = [
    "ecdf_error_figure",
    "ecdf_runtime_figure",
    "evals_to_targets",
    "paths_figure",
    "variance_split_figure",
    "DEFAULT_TARGETS",
]

DEFAULT_TARGETS: tuple[float, ...] = (10.0, 1.0, 1e-1, 1e-2, 1e-3)


def _check_columns(df: pd.DataFrame, cols: Sequence[str], arg: str = "df") -> None:
    check_columns(arg, df, cols)


def _groups(df: pd.DataFrame, by: Sequence[str]):
    """(label, sub-frame) per group of ``by`` (one group when ``by`` is empty)."""
    if not by:
        yield "all", df
        return
    for key, sub in df.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        yield " · ".join(str(k) for k in key), sub


def ecdf_error_figure(df: pd.DataFrame, error: str = "error", by: Sequence[str] = ("optimizer", "on"),
                      floor: float = 1e-12, title: str | None = None) -> go.Figure:
    """Fixed-budget ECDF over seeds of the final true error, one step curve per group of ``by``.

    Errors below ``floor`` are drawn at ``floor`` (the x axis is logarithmic).
    """
    by = list(by)
    _check_columns(df, [error, *by])
    fig = go.Figure()
    for k, (group, sub) in enumerate(_groups(df, by)):
        e = np.sort(np.maximum(sub[error].to_numpy(dtype=float), floor))
        frac = np.arange(1, len(e) + 1) / len(e)
        fig.add_trace(go.Scatter(x=np.r_[e[0], e], y=np.r_[0.0, frac], mode="lines",
                                 line=dict(shape="hv", color=COLORS[k % len(COLORS)]), name=group,
                                 hovertemplate="f − f* ≤ %{x:.3g}: %{y:.0%} of runs"))
    fig.update_xaxes(type="log", title_text="final true error f(x) − f*  (fixed budget)")
    fig.update_yaxes(range=[0, 1.02], title_text="fraction of runs (seeds)")
    return base_layout(fig, title or "ECDF of the final true error over seeds", height=420)


def evals_to_targets(n_evals, error, targets: Sequence[float] = DEFAULT_TARGETS) -> np.ndarray:
    """Evaluations until ``error`` (best-so-far true error per recorded step) first reaches each target (inf: never)."""
    n_evals = np.asarray(n_evals, dtype=float)
    best = np.minimum.accumulate(np.asarray(error, dtype=float))
    out = np.full(len(targets), np.inf)
    for i, t in enumerate(targets):
        hit = np.flatnonzero(best <= t)
        if hit.size:
            out[i] = n_evals[hit[0]]
    return out


def ecdf_runtime_figure(history: pd.DataFrame, targets: Sequence[float] = DEFAULT_TARGETS,
                        by: Sequence[str] = ("optimizer", "on"), run: Sequence[str] = ("seed",),
                        title: str | None = None) -> go.Figure:
    """Fixed-target runtime ECDF: fraction of (run, target) pairs reached within a budget, per group.

    ``history`` is long: one row per recorded generation with ``n_evals`` and
    ``error`` (true error of the point the run would return at that moment)
    plus the ``by`` and ``run`` columns identifying each run.
    """
    by, run = list(by), list(run)
    _check_columns(history, ["n_evals", "error", *by, *run], "history")
    targets = [float(t) for t in targets]
    if not targets:
        raise ValueError("targets: need at least one target precision")
    fig = go.Figure()
    budget = float(history["n_evals"].max())
    for k, (group, sub) in enumerate(_groups(history, by)):
        times = []
        for _, r in sub.groupby(run, sort=True):
            r = r.sort_values("n_evals")
            times.append(evals_to_targets(r["n_evals"], r["error"], targets))
        t = np.concatenate(times)
        reached = np.sort(t[np.isfinite(t)])
        frac = np.arange(1, len(reached) + 1) / len(t)
        x = np.r_[reached[:1] if len(reached) else [budget], reached, budget]
        y = np.r_[0.0, frac, frac[-1] if len(frac) else 0.0]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=group,
                                 line=dict(shape="hv", color=COLORS[k % len(COLORS)]),
                                 hovertemplate="%{y:.0%} of (run, target) pairs by %{x:.0f} evals"))
    fig.update_xaxes(type="log", title_text="evaluations (fixed target)")
    fig.update_yaxes(range=[0, 1.02], title_text="fraction of (run, target) pairs")
    tl = ", ".join(f"{t:g}" for t in targets)
    return base_layout(fig, title or f"Runtime ECDF, targets f − f* ≤ {{{tl}}}", height=420)


def _path_xy(traj: np.ndarray, max_particles: int, axes=(0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """All particle paths as one polyline with NaN breaks (one trace, fast to draw and update)."""
    t = traj[:, :max_particles, :]
    pad = np.full((1, t.shape[1]), np.nan)
    xs = np.concatenate([t[:, :, axes[0]], pad]).T.ravel()
    ys = np.concatenate([t[:, :, axes[1]], pad]).T.ravel()
    return xs, ys


def _add_paths(fig, traj: np.ndarray, col: int, max_particles: int, color: str) -> None:
    px, py = _path_xy(traj, max_particles)
    fig.add_trace(go.Scatter(x=px, y=py, mode="lines", line=dict(width=1, color=color),
                             opacity=0.45, name="paths", showlegend=col == 1, hoverinfo="skip"),
                  row=1, col=col)
    fig.add_trace(go.Scatter(x=traj[0, :, 0], y=traj[0, :, 1], mode="markers", name="start",
                             marker=dict(size=5, color="white", line=dict(width=1, color=color)),
                             showlegend=col == 1), row=1, col=col)
    fig.add_trace(go.Scatter(x=traj[-1, :, 0], y=traj[-1, :, 1], mode="markers", name="end",
                             marker=dict(size=6, color=color), showlegend=col == 1), row=1, col=col)


def paths_figure(true_fun: Callable, proxy: Callable, traj_true: np.ndarray, traj_proxy: np.ndarray,
                 bounds, x_opt=None, found: tuple | None = None, n_grid: int = 80,
                 max_particles: int = 25, log_z: bool = False, title: str | None = None) -> go.Figure:
    """2-D population paths: the run on the true landscape (left) and on the proxy (right).

    ``traj_*`` are trajectories ``(n_iter, pop, 2)`` (``record_trajectory=True``);
    ``found`` is an optional pair of returned points ``(x_true_run, x_proxy_run)``.
    ``log_z`` colours by log10(f - min + 1e-12).
    """
    b = check_bounds(bounds)
    if b.shape[0] != 2:
        raise ValueError(f"bounds: paths are drawn in 2-D only, got d={b.shape[0]}")
    trajs = []
    for name, t in (("traj_true", traj_true), ("traj_proxy", traj_proxy)):
        t = np.asarray(t, dtype=float)
        if t.ndim != 3 or t.shape[2] != 2:
            raise ValueError(f"{name}: expected shape (n_iter, pop, 2), got {t.shape}")
        trajs.append(t)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=("run on the true function", "run on the proxy"))
    for col, (fun, t) in enumerate(zip((true_fun, proxy), trajs, strict=True), start=1):
        xs, ys, Z = slice_values(fun, b, n_grid)
        if log_z:
            Z = np.log10(Z - Z.min() + 1e-12)
        # one colour bar per map (the two landscapes have their own ranges), beside its map
        x_end = fig.layout[f"xaxis{'' if col == 1 else col}"].domain[1]
        fig.add_trace(go.Contour(x=xs, y=ys, z=Z, colorscale="Viridis", ncontours=25, name="landscape",
                                 line=dict(width=0.3),
                                 colorbar=dict(title=("log f" if log_z else "f") if col == 1 else
                                               ("log proxy" if log_z else "proxy"),
                                               x=x_end + 0.005, xanchor="left", thickness=10,
                                               len=0.85)), row=1, col=col)
        _add_paths(fig, t, col, max_particles, "#d62728")
        if x_opt is not None:
            fig.add_trace(go.Scatter(x=[x_opt[0]], y=[x_opt[1]], mode="markers", name="x* (true)",
                                     marker=dict(symbol="star", size=14, color="gold",
                                                 line=dict(width=1, color="black")),
                                     showlegend=col == 1), row=1, col=col)
        if found is not None:
            p = np.asarray(found[col - 1], dtype=float)
            fig.add_trace(go.Scatter(x=[p[0]], y=[p[1]], mode="markers", name="returned x",
                                     marker=dict(symbol="x", size=12, color="white",
                                                 line=dict(width=2, color="black")),
                                     showlegend=col == 1), row=1, col=col)
        fig.update_xaxes(range=list(b[0]), title_text="x1", row=1, col=col)
        fig.update_yaxes(range=list(b[1]), title_text="x2", row=1, col=col)
    return base_layout(fig, title or "Population paths: true landscape vs proxy", height=460,
                       width=None, legend=dict(orientation="h", yanchor="top", y=-0.15, x=0))


def variance_split_figure(split: pd.DataFrame, value: str = "share", source: str = "source",
                          by: str | None = None, title: str | None = None) -> go.Figure:
    """Stacked bars of the variance share by seed source (sampling, network init, optimizer, ...)."""
    _check_columns(split, [value, source] + ([by] if by else []), "split")
    fig = go.Figure()
    xs = split[by].astype(str) if by else pd.Series(["all"] * len(split), index=split.index)
    for k, (src, sub) in enumerate(split.groupby(source, sort=False)):
        fig.add_trace(go.Bar(x=xs.loc[sub.index], y=sub[value], name=str(src),
                             marker_color=COLORS[k % len(COLORS)]))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="share of variance", range=[0, 1.02])
    if by:
        fig.update_xaxes(title_text=label(by))
    return base_layout(fig, title or "Where the seed-to-seed variance comes from", height=400)
