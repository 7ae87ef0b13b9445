"""The low-data panel of notebook 04: a few labels, with and without a knowledge program.

Every Adam step of a coupled fit runs the program (Cantera) on the unlabelled rows, so a
live fit takes seconds. The combustion runs are therefore recorded once by
``zoo-lab record low_data_panel`` (test predictions every 20 steps) and the panel draws
them from ``notebooks/results/low_data_panel.csv``; its controls are selection sliders
over the recorded values. Without that file, and for the materials problem, the panel
trains live and announces "this setting takes ~N s" first.
"""

from __future__ import annotations

import dataclasses

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from zoo_lab.plots._style import trace_named
from zoo_lab.plots.low_data import fit_figure
from zoo_lab.studies import low_data as study
from zoo_lab.studies import records
from zoo_lab.widgets._panel import (
    assemble,
    dropdown,
    float_log_slider,
    int_slider,
    selection_slider,
    status_line,
    wire,
)

__all__ = ["low_data_explorer", "update_low_data_figure", "RecordedRuns", "recorded_runs"]

COMBUSTION = "combustion (Cantera)"
_PROBLEMS = {COMBUSTION: study.combustion_problem, "materials (ASE EMT)": study.materials_problem}
# Relative cost of one coupled Adam step (program runs) per problem; ASE EMT is far slower than
# Cantera's equilibrium, so a materials setting announces "this setting takes ~N s" first.
_STEP_COST = {COMBUSTION: 1.0, "materials (ASE EMT)": 12.0}
_CACHE_SIZE = 32
RECORD = "low_data_panel"


@dataclasses.dataclass(frozen=True)
class RecordedRuns:
    """The recorded combustion runs: (mode, n, lam, seed, step) -> test predictions, RMSE, queries."""

    runs: dict
    ns: tuple[int, ...]
    lams: tuple[float, ...]
    seeds: tuple[int, ...]
    steps: tuple[int, ...]
    n_test: int
    recorded: str

    def get(self, mode: str, n_labels: int, lam: float, seed: int, step: int) -> dict:
        """One recorded snapshot; a data-only run is stored once, at ``lam = 0``."""
        key = (mode, int(n_labels), 0.0 if mode == "data" else float(lam), int(seed), int(step))
        if key not in self.runs:
            raise ValueError(f"setting: {key} is not in the {RECORD} record; recorded n {self.ns}, "
                             f"lam {self.lams}, seeds {self.seeds}, steps {self.steps[0]}..{self.steps[-1]}")
        return self.runs[key]


def recorded_runs(folder=None) -> RecordedRuns | None:
    """The ``low_data_panel`` record indexed for the panel, or None when it is not stored."""
    try:
        df, info = records.load_record(RECORD, folder), records.record_info(RECORD, folder)
    except FileNotFoundError:
        return None
    pred_cols = sorted((c for c in df.columns if c.startswith("pred_")), key=lambda c: int(c[5:]))
    preds = df[pred_cols].to_numpy(float)
    keys = zip(df["mode"], df["n_labels"].astype(int), df["lam"].astype(float), df["seed"].astype(int),
               df["step"].astype(int), strict=True)
    runs = {k: dict(pred=preds[i], test_rmse=float(r), program_queries=int(q))
            for i, (k, r, q) in enumerate(zip(keys, df["test_rmse"], df["program_queries"], strict=True))}
    coupled = df[df["mode"] == "coupled"]
    def levels(col, frame=df, kind=int):  # plain Python values: they label the sliders
        return tuple(sorted(kind(v) for v in frame[col].unique()))

    return RecordedRuns(runs, levels("n_labels"), levels("lam", coupled, float), levels("seed"),
                        levels("step"), len(pred_cols), str(info.get("recorded", "?")))


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


def _from_record(prob, rec: RecordedRuns, n_labels, lam, steps, seed) -> dict:
    """Both runs of one setting as the panel draws them, read from the record (no training)."""
    x_test = np.linspace(*prob.x_bounds, rec.n_test)
    y_test = prob.labels(x_test)
    x_lab, y_lab = study.labelled_points(prob, int(n_labels), int(seed))
    runs = {}
    for m in study.MODES:
        snap = rec.get(m, n_labels, lam, seed, steps)
        runs[m] = dict(snap, x_test=x_test, y_test=y_test, x_labels=x_lab, y_labels=y_lab)
    return runs


def _live(prob, problem, n_labels, lam, steps, seed, cache) -> dict:
    """Both runs of one setting trained now (cached per setting)."""
    key = ("runs", problem, int(n_labels), float(lam), int(steps), int(seed))
    runs = cache.get(key)
    if runs is None:
        runs = {m: study.train_low_data(prob, int(n_labels), m, seed=int(seed), steps=int(steps),
                                        lam=lam, curve=True) for m in study.MODES}
        if sum(1 for k in cache if isinstance(k, tuple)) >= _CACHE_SIZE:
            cache.pop(next(k for k in cache if isinstance(k, tuple)))
        cache[key] = runs
    return runs


def update_low_data_figure(fig: go.Figure, problem: str, n_labels: int, lam: float, steps: int,
                           seed: int, _problems: dict | None = None,
                           _record: RecordedRuns | None = None) -> str:
    """Draw data-only and coupled fits for one setting (recorded combustion runs, else trained live)."""
    if problem not in _PROBLEMS:
        raise ValueError(f"problem: got {problem!r}; allowed: {', '.join(_PROBLEMS)}")
    cache = {} if _problems is None else _problems
    prob = _problem(problem, cache)
    recorded = _record is not None and problem == COMBUSTION
    runs = (_from_record(prob, _record, n_labels, lam, steps, seed) if recorded
            else _live(prob, problem, n_labels, lam, steps, seed, cache))
    d = runs["data"]
    with fig.batch_update():
        trace_named(fig, "truth").update(x=d["x_test"], y=d["y_test"])
        for m, r in runs.items():
            trace_named(fig, m).update(x=r["x_test"], y=r["pred"])
        trace_named(fig, "labels").update(x=d["x_labels"], y=d["y_labels"])
        fig.layout.xaxis.title.text, fig.layout.yaxis.title.text = prob.x_name, prob.y_name
        fig.layout.title.text = f"{problem}: {n_labels} labels"
    return (f"test RMSE data-only <b>{runs['data']['test_rmse']:.3g}</b>, coupled "
            f"<b>{runs['coupled']['test_rmse']:.3g}</b> ({runs['coupled']['program_queries']} "
            f"program runs{', recorded' if recorded else ''})")


def low_data_explorer(problem: str = COMBUSTION, n_labels: int = 3, lam: float = 1.0,
                      steps: int = 160, seed: int = 0, record_folder=None) -> W.VBox:
    """A panel: pick the problem, the number of labels, the knowledge weight; see both fits.

    With the ``low_data_panel`` record stored (in ``record_folder``, default notebooks/results)
    the controls move over its recorded values and combustion settings are drawn from it.
    """
    fig = go.FigureWidget(fit_figure([0], [0], {m: ([0], [0]) for m in study.MODES}))
    problems: dict = {}
    rec = recorded_runs(record_folder)
    if rec is None:
        controls = dict(
            problem=dropdown(_PROBLEMS, problem, "problem"),
            n_labels=int_slider(n_labels, 1, 32, "labels n"),
            lam=float_log_slider(lam, -3, 2, "λ (knowledge weight)"),
            steps=int_slider(steps, 20, 400, "Adam steps", step=20),
            seed=int_slider(seed, 0, 10, "seed"),
        )
        note = W.HTML("")
    else:
        controls = dict(
            problem=dropdown(_PROBLEMS, problem, "problem"),
            n_labels=selection_slider(rec.ns, n_labels, "labels n"),
            lam=selection_slider(rec.lams, lam, "λ (knowledge weight)", [f"{v:.0e}" for v in rec.lams]),
            steps=selection_slider(rec.steps, steps, "Adam steps"),
            seed=selection_slider(rec.seeds, seed, "seed"),
        )
        note = W.HTML(f"<small>Combustion runs recorded by <code>zoo-lab record {RECORD}</code> on "
                      f"{rec.recorded} (these settings only); materials (ASE EMT) is trained live.</small>")
        _problem(COMBUSTION, problems)  # build it now (Cantera on a grid) so no update pays for it

    def cost(problem, n_labels, lam, steps, seed) -> float:
        if rec is not None and problem == COMBUSTION:
            return 0.0
        if ("runs", problem, int(n_labels), float(lam), int(steps), int(seed)) in problems:
            return 0.0
        return steps * (1.0 + _STEP_COST[problem]) + (200.0 * _STEP_COST[problem]
                                                        if problem not in problems else 0.0)

    status = status_line()
    refresh = wire(controls, lambda **v: update_low_data_figure(fig, _problems=problems, _record=rec, **v),
                   status, cost=cost)
    rows = [W.HBox([controls["problem"], controls["n_labels"], controls["lam"]]),
            W.HBox([controls["steps"], controls["seed"]]), note]
    return assemble(rows, status, fig, controls, refresh)
