"""The capstone of notebook 09: its two coding exercises and the instructor's rubric.

``09.misfit`` is the calibration loss; ``09.calibrate`` is open-ended: any method that,
within the task's budget of solver runs, returns conductivities within 5 % (relative,
Euclidean) of the reference calibration on two fresh rods passes. The reference
(Nelder-Mead from the middle of the box, stopped by the budget) is within 2 % of the truth
on 9 of the rods seeded 0-9 with 200 runs; on rod 6 it stops at a wall of the box (a local
minimum), so it is a good method, not an infallible one. The best point of a space-filling
design of the whole budget does not pass.
:func:`show_rubric` prints the marking rubric (instructor mode only).
"""

from __future__ import annotations

import numpy as np

from zoo_lab.studies.capstone import (
    BudgetExhausted,
    CalibrationTask,
    capstone_baseline,
    capstone_task,
)
from zoo_lab.teaching.exercises import coding_exercise

__all__ = ["show_rubric", "RUBRIC_POINTS"]

CALIBRATE_RTOL = 0.05


def _misfit_cases():
    rng = np.random.default_rng(12)
    return [(rng.standard_normal((m, r)), rng.standard_normal(r)) for m, r in ((1, 12), (5, 12), (3, 7))]


def _misfit_sum(predicted, observed):
    return np.sum((np.atleast_2d(predicted) - observed) ** 2, axis=1)


def _misfit_abs(predicted, observed):
    return np.mean(np.abs(np.atleast_2d(predicted) - observed), axis=1)


def _misfit_scalar(predicted, observed):
    return np.full(len(np.atleast_2d(predicted)), np.mean((np.atleast_2d(predicted) - observed) ** 2))


@coding_exercise("09.misfit", title="the calibration misfit", stub="my_misfit", cases=_misfit_cases,
                 rtol=1e-9,
                 hint="one number per row: the mean over the readings of the squared difference",
                 more_hint="np.mean((predicted - observed) ** 2, axis=1)",
                 mistakes={_misfit_sum: "average over the readings (np.mean), do not sum: the scale "
                                        "then does not depend on the number of sensors",
                           _misfit_abs: "square the differences: least squares is what the noise model asks for",
                           _misfit_scalar: "average along axis=1 only: one misfit per candidate row"})
def _misfit(predicted, observed):
    """Reference: mean squared difference per row between predicted (m, r) and observed (r,) readings."""
    return np.mean((np.atleast_2d(np.asarray(predicted, float)) - np.asarray(observed, float)) ** 2, axis=1)


def _calibrate_cases():
    return [(capstone_task(4, 200, 1e-3, seed=s),) for s in (2, 3)]


def _close(got, want) -> bool:
    try:
        g, w = np.asarray(got, dtype=float).reshape(-1), np.asarray(want, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return False
    return g.shape == w.shape and bool(np.linalg.norm(g - w) <= CALIBRATE_RTOL * np.linalg.norm(w))


def _calibrate_middle(task):
    return task.bounds.mean(axis=1)


def _calibrate_design(task):
    return capstone_baseline(task)


@coding_exercise("09.calibrate", title="calibrate the heat rod within the budget", stub="my_calibrate",
                 cases=_calibrate_cases, compare=_close,
                 describe=lambda task: f"a fresh task ({task.zones} zones, {task.max_evals} runs)",
                 hint="within 5 % of the reference calibration: run an optimizer on the misfit of "
                      "task.run(K) against task.observed, and stop before task.runs_left reaches 0",
                 more_hint="Nelder-Mead from the middle of the box reaches about 1 % with 200 runs; "
                           "ZO-Adam or CMA-ES work too if you watch the budget",
                 mistakes={_calibrate_middle: "that is the middle of the box: no run was used",
                           _calibrate_design: "a space-filling design alone is too coarse in 4D: "
                                              "refine around its best point, or optimize"})
def _calibrate(task: CalibrationTask):
    """Reference: Nelder-Mead on the misfit from the middle of the box; the best point seen within the budget."""
    from scipy.optimize import minimize

    best = {"f": np.inf, "x": task.bounds.mean(axis=1)}

    def misfit(k):
        if task.runs_left < 1:
            raise BudgetExhausted("budget spent")
        f = float(np.mean((task.run(k[None])[0] - task.observed) ** 2))
        if f < best["f"]:
            best.update(f=f, x=np.array(k, dtype=float))
        return f

    try:
        minimize(misfit, best["x"], method="Nelder-Mead", bounds=task.bounds,
                 options=dict(maxfev=task.runs_left, xatol=1e-6, fatol=1e-14))
    except BudgetExhausted:
        pass
    return best["x"]


RUBRIC_POINTS: dict[str, tuple[int, str]] = {
    "accuracy": (30, "relative error of k̂ (capstone_score): 30 below 2 %, 20 below 5 %, 10 below "
                     "the design baseline's error, 0 otherwise"),
    "max_evals": (15, "every solver run goes through task.run and the budget is never exceeded "
                   "(no BudgetExhausted escapes); unused runs are fine"),
    "choice": (20, "the method is justified from the course: dimension and smoothness (08: "
                   "Nelder-Mead/CMA-ES in low d), noise (08: μ against σ), cost per run, whether a "
                   "proxy or a coarse model pays (05-07)"),
    "evidence": (20, "the claim is checked: several seeds or starts, the noise floor of the misfit "
                     "(σ² for Gaussian reading noise) compared with the final misfit, a baseline beaten"),
    "honesty": (15, "numbers come from the run (no hand-typed results), limits are stated (one "
                    "task, one noise level), smoke numbers are not presented as results"),
}


def show_rubric() -> None:
    """Print the capstone's marking rubric (100 points); notebooks call it only when SOLUTIONS is True."""
    total = sum(p for p, _ in RUBRIC_POINTS.values())
    lines = [f"Capstone rubric ({total} points)"]
    lines += [f"  {name:9s} {pts:3d}  {text}" for name, (pts, text) in RUBRIC_POINTS.items()]
    print("\n".join(lines))
