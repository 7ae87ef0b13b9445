"""Run any zoo_lab optimizer on a COCO benchmark suite (``cocoex``) and write data ``cocopp`` reads.

COCO (Hansen et al. 2021) logs every evaluation through an observer; this module
turns a ``cocoex`` problem into the batched ``(n, d) -> (n,)`` objective our
optimizers expect (the rows of one batch are passed to the observed problem one by
one, in order, which is what COCO's logger needs), spends ``budget_multiplier * d``
evaluations per problem (``max_evals``), optionally stops once COCO's final target
is hit, and writes the standard ``exdata/<folder>`` layout::

    from zoo_lab.optimize import coco, pso
    out = coco.run_coco(pso, "bbob", "function_indices:1-24 dimensions:2,10 instance_indices:1-15",
                         budget_multiplier=1000, result_folder="zoo_pso")
    import cocopp; cocopp.main(str(out.folder))        # ECDFs, tables, HTML in ppdata/

``coco-experiment`` (``cocoex``) and ``cocopp`` are in the ``dev`` extra; they are
imported only when a function here runs.

References
----------
.. [1] N. Hansen, A. Auger, R. Ros, O. Mersmann, T. Tusar, D. Brockhoff, "COCO: a
   platform for comparing continuous optimizers in a black-box setting",
   Optim. Methods Softw. 36(1), 2021.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zoo_lab._util.counting import BudgetSpent, CountingObjective
from zoo_lab._util.validate import check_int

__all__ = ["CocoRun", "run_coco", "coco_objective", "coco_available"]


def coco_available() -> tuple[bool, str]:
    """(True, "") if ``cocoex`` imports, else (False, the reason) for a clean skip."""
    try:
        importlib.import_module("cocoex")
    except ImportError as exc:
        return False, (f"cocoex is not installed ({exc}); install the dev extra: "
                       "pip install -e '.[dev]' (package coco-experiment)")
    return True, ""


def _cocoex():
    ok, why = coco_available()
    if not ok:
        raise ImportError(why)
    return importlib.import_module("cocoex")


class _TargetHit(Exception):
    """Raised inside a run once COCO reports its final target hit (``stop_at_target``)."""


def coco_objective(problem, stop_at_target: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """A batched objective ``(n, d) -> (n,)`` over a (possibly observed) cocoex problem.

    Rows are evaluated one by one, in order, so the observer logs each evaluation. With
    ``stop_at_target`` the call after COCO's final target was hit raises (the run ends).
    """

    def fun(X) -> np.ndarray:
        if stop_at_target and problem.final_target_hit:
            raise _TargetHit
        X = np.asarray(X, dtype=float)
        return np.array([problem(row) for row in X], dtype=float)

    return fun


@dataclass
class CocoRun:
    """What :func:`run_coco` did: one row per problem, and the folder ``cocopp`` reads."""

    folder: Path
    table: pd.DataFrame = field(repr=False)


def run_coco(optimizer: Callable, suite_name: str = "bbob", suite_options: str = "", *,
              budget_multiplier: int = 100, result_folder: str = "zoo_lab",
              algorithm_name: str | None = None, stop_at_target: bool = True, seed: int = 0,
              **options) -> CocoRun:
    """Run ``optimizer(fun, bounds, max_evals=..., seed=..., **options)`` on every problem of a suite.

    ``optimizer`` is any zoo_lab optimizer with that signature (``pso``, ``ga``, a
    peer from :func:`zoo_lab.optimize.run_peer` via ``functools.partial``); each
    problem gets ``budget_multiplier * d`` evaluations and the seed ``seed + index``.
    Data go to ``exdata/<result_folder>`` below the working directory (COCO's
    observer always writes there; an existing folder gets a numbered sibling, as in
    COCO); ``cocopp.main(str(run.folder))`` post-processes them.
    """
    if not callable(optimizer):
        raise TypeError(f"optimizer: expected a callable, got {type(optimizer).__name__}")
    mult = check_int("budget_multiplier", budget_multiplier, 1)
    seed = check_int("seed", seed, 0)
    if not isinstance(result_folder, str) or not result_folder or "/" in result_folder:
        raise ValueError(f"result_folder: expected a plain folder name, got {result_folder!r}")
    ex = _cocoex()
    name = algorithm_name or getattr(optimizer, "__name__", "zoo_lab")
    suite = ex.Suite(suite_name, "", suite_options)
    observer = ex.Observer(suite_name, f"result_folder: {result_folder} algorithm_name: {name}")
    rows = []
    for index, problem in enumerate(suite):
        problem.observe_with(observer)
        d = problem.dimension
        bounds = np.column_stack([problem.lower_bounds, problem.upper_bounds])
        counter = CountingObjective(coco_objective(problem, stop_at_target))
        t0 = time.perf_counter()
        status = "budget"
        try:
            optimizer(counter, bounds, max_evals=mult * d, seed=seed + index, **options)
        except (_TargetHit, BudgetSpent):
            status = "target" if problem.final_target_hit else "budget"
        except RuntimeError as exc:  # PSO/GA name the batch that failed and chain the cause
            if not isinstance(exc.__cause__, _TargetHit):
                raise
            status = "target"
        rows.append(dict(problem=problem.id, function=problem.id_function,
                         instance=problem.id_instance, dim=d, evaluations=int(problem.evaluations),
                         best_f=float(problem.best_observed_fvalue1),
                         target_hit=bool(problem.final_target_hit), stopped_by=status,
                         seconds=time.perf_counter() - t0))
        problem.free()
    folder = Path(observer.result_folder).resolve()
    return CocoRun(folder=folder, table=pd.DataFrame(rows))
