"""The result record shared by every optimizer in :mod:`zoo_lab.optimize` (ZO, PSO, GA)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OptimizeResult"]


@dataclass
class OptimizeResult:
    """Outcome of one optimizer run: final point, its value, queries spent and a history.

    ``history`` is a dict of equal-length 1-D numpy arrays, one row per recorded
    iteration, so ``pandas.DataFrame(res.history)`` (or :meth:`history_frame`) is tidy.
    Every optimizer records at least ``"iter"``, ``"n_evals"`` (cumulative function
    evaluations when the row was recorded) and ``"fun"`` (objective of the current
    iterate, or the best of a population); others may add columns.
    """

    x: Any
    fun: float
    n_evals: int
    history: dict[str, np.ndarray] = field(default_factory=dict)
    n_iter: int = 0
    message: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.history, dict):  # a subclass may keep its own history layout
            return
        self.history = {k: np.asarray(v) for k, v in self.history.items()}
        lengths = {k: len(v) for k, v in self.history.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"history: every column needs the same length, got {lengths}")

    def history_frame(self):
        """The history as a pandas DataFrame (one row per recorded iteration)."""
        import pandas as pd

        return pd.DataFrame(self.history)

    def __repr__(self) -> str:
        h = self.history
        rows = len(next(iter(h.values()))) if isinstance(h, dict) and h else len(h)
        return (
            f"OptimizeResult(fun={self.fun:.6g}, n_evals={self.n_evals}, n_iter={self.n_iter}, "
            f"history={rows} rows, message={self.message!r})"
        )
