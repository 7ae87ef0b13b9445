"""The one protocol every problem follows: benchmark functions and real programs alike.

A problem has a ``name``, an input box ``bounds`` (in_dim, 2), sizes ``in_dim`` and
``out_dim``, and a **batched** call: an (m, in_dim) array in, m results out (shape (m,)
for a scalar benchmark function, (m, out_dim) for a program). Where the optimum is
known it carries ``x_opt`` and ``f_opt`` (benchmark functions, after BoTorch's test
functions); :func:`optimum` reads them and returns ``(None, None)`` otherwise.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Problem", "check_problem", "optimum"]


@runtime_checkable
class Problem(Protocol):
    """A batched problem: ``problem(X)`` with X of shape (m, in_dim)."""

    name: str

    @property
    def bounds(self) -> np.ndarray: ...

    @property
    def in_dim(self) -> int: ...

    @property
    def out_dim(self) -> int: ...

    def __call__(self, X): ...


def optimum(problem) -> tuple[np.ndarray | None, float | None]:
    """``(x_opt, f_opt)`` of ``problem`` where known, else ``(None, None)``."""
    return getattr(problem, "x_opt", None), getattr(problem, "f_opt", None)


def check_problem(problem) -> Problem:
    """Return ``problem`` if it follows :class:`Problem` with consistent sizes; else TypeError/ValueError."""
    if not isinstance(problem, Problem):
        missing = [a for a in ("name", "bounds", "in_dim", "out_dim", "__call__")
                   if not hasattr(problem, a)]
        raise TypeError(f"problem: {type(problem).__name__} is not a zoo_lab Problem; "
                        f"missing {', '.join(missing)}")
    b = np.asarray(problem.bounds)
    if b.shape != (problem.in_dim, 2):
        raise ValueError(f"problem: {problem.name} has bounds of shape {b.shape}, "
                         f"expected ({problem.in_dim}, 2)")
    return problem
