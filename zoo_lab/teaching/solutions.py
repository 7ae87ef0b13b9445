"""Reference solutions that fill exercise cells for instructors and headless runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zoo_lab.teaching.checks_results import (
    best_scheme,
    catch_up_labels,
    closer_to_optimum,
    cv_relative_mse,
    optimistic_share,
)
from zoo_lab.teaching.checks_sampling_gradients import (
    _SLOPES,
    _discrepancy_ordering,
    _measure_relative_mse,
    hybrid_step_rows,
    relative_mse_theory,
)
from zoo_lab.teaching.exercises import _EXERCISES, exercise_names, solution_source
from zoo_lab.teaching.generic import _quiz_answer

# ----------------------------------------------------------------------------- solutions

__all__ = ["solution", "show_solution", "SOLUTIONS"]


def _lhs(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Reference Latin hypercube in [0, 1)^d: a permutation of the strata per axis plus jitter."""
    perms = np.column_stack([rng.permutation(n) for _ in range(d)])
    return (perms + rng.random((n, d))) / n


def _central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, mu: float) -> np.ndarray:
    """Reference coordinate central difference: 2d evaluations of f."""
    x = np.asarray(x, dtype=float)
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = mu
        g[i] = (f(x + e) - f(x - e)) / (2 * mu)
    return g


SOLUTIONS: dict[str, Callable[[], Any]] = {
    "lhs": lambda: _lhs,
    "central_difference": lambda: _central_difference,
    "relative_mse": lambda: relative_mse_theory,
    "measure_relative_mse": lambda: _measure_relative_mse,
    "discrepancy_ordering": lambda: _discrepancy_ordering(),
    "mc_error_slope": lambda: {s: v[0] for s, v in _SLOPES.items()},
    "hybrid_step_rows": lambda: hybrid_step_rows,
    "exact_vjp_estimator": lambda: _quiz_answer("exact_vjp_estimator"),
    "coupling_follows_program": lambda: _quiz_answer("coupling_follows_program"),
    "catch_up_labels": lambda: catch_up_labels,
    "mean_predictor_nrmse": lambda: _quiz_answer("mean_predictor_nrmse"),
    "best_scheme": lambda: best_scheme,
    "closer_to_optimum": lambda: closer_to_optimum,
    "optimistic_share": lambda: optimistic_share,
    "cv_exact_proxy": lambda: _quiz_answer("cv_exact_proxy"),
    "cv_relative_mse": lambda: cv_relative_mse,
    "cheapest_perfect_proxy": lambda: _quiz_answer("cheapest_perfect_proxy"),
}


def _names() -> str:
    return ", ".join(sorted([*SOLUTIONS, *exercise_names()]))


def solution(name: str) -> Any:
    """The reference answer of an exercise (a function or a value), for instructors and tests.

    ``name`` is a key of :data:`SOLUTIONS` or of a registered coding exercise ("03.vjp_row").
    """
    if name in _EXERCISES:
        return _EXERCISES[name].reference
    if name not in SOLUTIONS:
        raise ValueError(f"name: unknown exercise {name!r}; allowed: {_names()}")
    return SOLUTIONS[name]()


def show_solution(name: str) -> None:
    """Print the reference solution of exercise ``name``: its source code, or its value (instructor mode)."""
    if name in _EXERCISES:
        print(f"# reference solution of {name}\n{solution_source(name)}")
        return
    value = solution(name)
    if callable(value):
        import inspect

        print(f"# reference solution of {name}\n{inspect.getsource(value)}")
    else:
        print(f"# reference answer of {name}: {value!r}")
