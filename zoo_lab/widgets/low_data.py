"""The low-data panel of notebook 04: a few labels, with and without a knowledge program."""

from __future__ import annotations

import ipywidgets as W
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


def update_low_data_figure(fig: go.Figure, problem: str, n_labels: int, lam: float, steps: int,
                           seed: int, _problems: dict | None = None) -> str:
    """Train data-only and coupled networks for one setting; redraw truth, fits and labels in place."""
    if problem not in _PROBLEMS:
        raise ValueError(f"problem: got {problem!r}; allowed: {', '.join(_PROBLEMS)}")
    cache = {} if _problems is None else _problems
    if problem not in cache:  # building a problem labels a grid once; keep it between updates
        cache[problem] = _PROBLEMS[problem]()
    prob = cache[problem]
    runs = {m: study.train_low_data(prob, n_labels, m, seed=seed, steps=steps, lam=lam, curve=True)
            for m in study.MODES}
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
    refresh = wire(controls, lambda **v: update_low_data_figure(fig, _problems=problems, **v), status)
    rows = [W.HBox([controls["problem"], controls["n_labels"], controls["lam"]]),
            W.HBox([controls["steps"], controls["seed"]])]
    return assemble(rows, status, fig, controls, refresh)
