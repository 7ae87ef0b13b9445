"""The low-data panel of notebook 04: a few labels, with and without a knowledge program."""

from __future__ import annotations

import dataclasses

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from zoo_lab.plots.low_data import fit_figure
from zoo_lab.studies import low_data as study
from zoo_lab.widgets._panel import (
    assemble,
    dropdown,
    float_log_slider,
    int_slider,
    status_line,
    wire,
)

__all__ = ["low_data_explorer", "update_low_data_figure"]

_PROBLEMS = {"combustion (Cantera)": study.combustion_problem, "materials (ASE EMT)": study.materials_problem}
# Relative cost of one coupled Adam step (program runs) per problem; ASE EMT is far slower than
# Cantera's equilibrium, so a materials setting announces "this setting takes ~N s" first.
_STEP_COST = {"combustion (Cantera)": 1.0, "materials (ASE EMT)": 12.0}
_CACHE_SIZE = 32


def _memo_labels(label):
    """``label`` with every x it has seen remembered (test grid and LHS labels repeat across updates)."""
    seen: dict[float, float] = {}

    def memo(x):
        x = np.asarray(x, dtype=float)
        new = [v for v in np.unique(x.ravel()) if float(v) not in seen]
        if new:
            for v, y in zip(new, np.asarray(label(np.asarray(new)), dtype=float).ravel(), strict=True):
                seen[float(v)] = float(y)
        return np.vectorize(lambda v: seen[float(v)], otypes=[float])(x)

    return memo


def _problem(problem: str, cache: dict):
    """The named problem, built once per panel (building one labels a grid) with memoised labels."""
    if problem not in cache:
        prob = _PROBLEMS[problem]()
        cache[problem] = dataclasses.replace(prob, label=_memo_labels(prob.label))
    return cache[problem]


def update_low_data_figure(fig: go.Figure, problem: str, n_labels: int, lam: float, steps: int,
                           seed: int, _problems: dict | None = None) -> str:
    """Train data-only and coupled networks for one setting; redraw truth, fits and labels in place."""
    if problem not in _PROBLEMS:
        raise ValueError(f"problem: got {problem!r}; allowed: {', '.join(_PROBLEMS)}")
    cache = {} if _problems is None else _problems
    prob = _problem(problem, cache)
    key = ("runs", problem, int(n_labels), float(lam), int(steps), int(seed))
    runs = cache.get(key)
    if runs is None:
        runs = {m: study.train_low_data(prob, int(n_labels), m, seed=int(seed), steps=int(steps),
                                        lam=lam, curve=True) for m in study.MODES}
        if sum(1 for k in cache if isinstance(k, tuple)) >= _CACHE_SIZE:
            cache.pop(next(k for k in cache if isinstance(k, tuple)))
        cache[key] = runs
    d = runs["data"]
    new = fit_figure(d["x_test"], d["y_test"], {m: (r["x_test"], r["pred"]) for m, r in runs.items()},
                     d["x_labels"], d["y_labels"], prob.x_name, prob.y_name)
    with fig.batch_update():
        for old, tr in zip(fig.data, new.data, strict=True):
            old.x, old.y, old.name = tr.x, tr.y, tr.name
        fig.layout.xaxis.title.text, fig.layout.yaxis.title.text = prob.x_name, prob.y_name
        fig.layout.title.text = f"{problem}: {n_labels} labels"
    return (f"test RMSE data-only <b>{runs['data']['test_rmse']:.3g}</b>, coupled "
            f"<b>{runs['coupled']['test_rmse']:.3g}</b> ({runs['coupled']['program_queries']} "
            "program runs)")


def low_data_explorer(problem: str = "combustion (Cantera)", n_labels: int = 3, lam: float = 1.0,
                      steps: int = 150, seed: int = 0) -> W.VBox:
    """A panel: pick the problem, the number of labels, the knowledge weight; see both fits."""
    fig = go.FigureWidget(fit_figure([0], [0], {m: ([0], [0]) for m in study.MODES}))
    problems: dict = {}
    controls = dict(
        problem=dropdown(_PROBLEMS, problem, "problem"),
        n_labels=int_slider(n_labels, 1, 32, "labels n"),
        lam=float_log_slider(lam, -3, 2, "λ (knowledge weight)"),
        steps=int_slider(steps, 20, 400, "Adam steps", step=20),
        seed=int_slider(seed, 0, 10, "seed"),
    )
    status = status_line()

    def cost(problem, n_labels, lam, steps, seed) -> float:
        if ("runs", problem, int(n_labels), float(lam), int(steps), int(seed)) in problems:
            return 0.0
        return steps * (1.0 + _STEP_COST[problem]) + (200.0 * _STEP_COST[problem]
                                                        if problem not in problems else 0.0)

    refresh = wire(controls, lambda **v: update_low_data_figure(fig, _problems=problems, **v), status,
                   cost=cost)
    rows = [W.HBox([controls["problem"], controls["n_labels"], controls["lam"]]),
            W.HBox([controls["steps"], controls["seed"]])]
    return assemble(rows, status, fig, controls, refresh)
