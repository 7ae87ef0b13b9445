"""The capstone of notebook 09: calibrate the heat rod's conductivities with a fixed budget of runs.

:func:`capstone_task` builds a :class:`CalibrationTask`: noisy sensor readings of a
:class:`zoo_lab.problems.heat.HeatRod` with hidden true conductivities, and a ``run``
method that is the only way to call the solver; it counts rows and refuses to go past
the budget. :func:`capstone_score` judges an answer against the hidden truth, and
:func:`capstone_baseline` is the bar to beat: the best point of a space-filling design
that spends the whole budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zoo_lab import sampling
from zoo_lab._util.seeding import rng_from
from zoo_lab._util.validate import check_float, check_int, renamed
from zoo_lab.problems import heat

__all__ = ["CalibrationTask", "BudgetExhausted", "capstone_task", "capstone_score", "capstone_baseline"]


class BudgetExhausted(RuntimeError):
    """Raised by :meth:`CalibrationTask.run` when a call would exceed the budget of solver runs."""


@dataclass
class CalibrationTask:
    """Observed readings, the search box and a budget-counting solver; the truth stays inside."""

    rod: heat.HeatRod
    observed: np.ndarray
    max_evals: int
    noise: float
    _k_true: np.ndarray = field(repr=False)
    runs_used: int = 0

    @property
    def budget(self) -> int:
        """Deprecated name of ``max_evals`` (the solver runs allowed)."""
        import warnings

        warnings.warn("CalibrationTask.budget is deprecated; use .max_evals", DeprecationWarning,
                      stacklevel=2)
        return self.max_evals

    @property
    def bounds(self) -> np.ndarray:
        """(zones, 2) box of admissible conductivities."""
        return np.asarray(self.rod.bounds, dtype=float)

    @property
    def zones(self) -> int:
        """Number of conductivities to recover."""
        return self.rod.n_zones

    @property
    def runs_left(self) -> int:
        """Solver rows still allowed."""
        return self.max_evals - self.runs_used

    def run(self, K) -> np.ndarray:
        """Run the solver on conductivities K (m, zones) -> readings (m, n_readings); counts m rows."""
        K = np.atleast_2d(np.asarray(K, dtype=float))
        if K.ndim != 2 or K.shape[1] != self.zones:
            raise ValueError(f"K: expected shape (m, {self.zones}), got {np.shape(K)}")
        if self.runs_used + len(K) > self.max_evals:
            raise BudgetExhausted(f"budget: {len(K)} more runs would exceed {self.max_evals} "
                                  f"({self.runs_used} used); return your best estimate")
        self.runs_used += len(K)
        return self.rod(np.clip(K, self.bounds[:, 0], self.bounds[:, 1]))


@renamed(budget="max_evals")
def capstone_task(zones: int = 4, max_evals: int = 200, noise: float = 1e-3, seed: int = 0) -> CalibrationTask:
    """A fresh task: a small heat rod, noisy readings (std ``noise``), ``max_evals`` solver runs."""
    zones, max_evals = check_int("zones", zones, 1), check_int("max_evals", max_evals, 1)
    noise = check_float("noise", noise, 0.0)
    rng_from(seed)  # the seed is checked like every other
    rod = heat.HeatRod(n_zones=int(zones), n_cells=max(32, 4 * int(zones)), n_steps=30, t_final=0.3)
    lo, hi = rod.k_bounds
    rng = np.random.default_rng([seed, 9])
    k_true = rng.uniform(lo + 0.15 * (hi - lo), hi - 0.15 * (hi - lo), rod.n_zones)
    clean = rod(k_true[None])[0]
    observed = clean + float(noise) * rng.standard_normal(clean.shape)
    return CalibrationTask(rod, observed, int(max_evals), float(noise), k_true)


def capstone_score(task: CalibrationTask, k_hat) -> dict:
    """Relative error ‖k̂ − k_true‖ / ‖k_true‖, worst zone's relative error and runs used."""
    k_hat = np.asarray(k_hat, dtype=float).reshape(-1)
    if k_hat.shape != (task.zones,):
        raise ValueError(f"k_hat: expected shape ({task.zones},), got {k_hat.shape}")
    rel = np.abs(k_hat - task._k_true) / task._k_true
    return dict(rel_error=float(np.linalg.norm(k_hat - task._k_true) / np.linalg.norm(task._k_true)),
                worst_zone=float(rel.max()), runs_used=task.runs_used, max_evals=task.max_evals)


def capstone_baseline(task: CalibrationTask, scheme: str = "lhs", seed: int = 0) -> np.ndarray:
    """Spend the remaining budget on one space-filling design and return its best point (no model, no steps)."""
    n = task.runs_left
    if n < 1:
        raise ValueError("task: no runs left for the baseline")
    X = sampling.sample(scheme, n, task.bounds, seed=seed)
    misfit = np.mean((task.run(X) - task.observed) ** 2, axis=1)
    return X[int(np.argmin(misfit))]
