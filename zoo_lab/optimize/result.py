"""The one result record of every optimizer run in :mod:`zoo_lab.optimize` (ZO, PSO, GA, peers).

Conventions shared by all of them:

* ``x`` / ``fun``: the best point evaluated and its value (never "the last iterate");
  a ZO run also keeps its final iterate in ``x_last`` (and ``fun_last``);
* ``n_evals``: function evaluations (rows) spent; ``n_calls``: batched calls;
* ``history``: one row per recorded iteration, columns ``iter``, ``n_evals``
  (cumulative) and ``best_fun`` (best value so far), plus optimizer-specific columns
  (ZO: ``current_fun``, the value at the iterate); :meth:`OptimizeResult.to_frame`
  gives it as a tidy pandas DataFrame with the run's ``method`` as a column.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OptimizeResult", "HISTORY_COLUMNS"]

HISTORY_COLUMNS: tuple[str, ...] = ("iter", "n_evals", "best_fun")


class _History(dict):
    """History columns (a dict of equal-length arrays); ``"fun"`` is a deprecated alias."""

    def __missing__(self, key):
        if key == "fun":  # the old name: best value (PSO/GA/peers), iterate value (ZO)
            new = "current_fun" if "current_fun" in self else "best_fun"
            warnings.warn(f"history['fun'] is deprecated; use history[{new!r}]",
                          DeprecationWarning, stacklevel=2)
            return self[new]
        raise KeyError(key)


@dataclass(repr=False)
class OptimizeResult:
    """Outcome of one optimizer run: best point and value, evaluations spent and a history.

    ``trajectory`` is the population per generation ``(n_iter, pop, d)`` when a
    population optimizer recorded it; ``settings`` holds the run's options.
    """

    x: Any
    fun: float
    n_evals: int
    history: dict[str, np.ndarray] = field(default_factory=dict)
    n_iter: int = 0
    message: str = ""
    n_calls: int = 0
    method: str = ""
    trajectory: np.ndarray | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    x_last: Any = None
    fun_last: float | None = None

    def __post_init__(self) -> None:
        if self.n_evals and not np.isfinite(self.fun):  # fun is the best: every value was NaN/inf
            warnings.warn(f"{self.method or 'optimizer'}: every one of the {self.n_evals} evaluations "
                          f"was non-finite (best value {self.fun}); check the objective",
                          RuntimeWarning, stacklevel=3)
        h = _History((k, np.asarray(v)) for k, v in dict(self.history).items())
        lengths = {k: len(v) for k, v in h.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"history: every column needs the same length, got {lengths}")
        missing = [c for c in HISTORY_COLUMNS if c not in h]
        if h and missing:
            raise ValueError(f"history: missing columns {missing}; every optimizer records "
                             f"{', '.join(HISTORY_COLUMNS)}")
        self.history = h

    def to_frame(self):
        """The history as a tidy pandas DataFrame: one row per recorded iteration, plus ``method``."""
        import pandas as pd

        df = pd.DataFrame(dict(self.history))
        if self.method:
            df.insert(0, "method", self.method)
        return df

    def history_frame(self):
        """Deprecated name of :meth:`to_frame` (without the ``method`` column)."""
        warnings.warn("OptimizeResult.history_frame() is deprecated; use .to_frame()",
                      DeprecationWarning, stacklevel=2)
        import pandas as pd

        return pd.DataFrame(dict(self.history))

    def __repr__(self) -> str:
        rows = len(next(iter(self.history.values()))) if self.history else 0
        return (
            f"OptimizeResult(method={self.method!r}, fun={self.fun:.6g}, n_evals={self.n_evals}, "
            f"n_iter={self.n_iter}, history={rows} rows, message={self.message!r})"
        )


def __getattr__(name: str):
    if name == "PopulationResult":  # one result type now; the old subclass name still resolves
        warnings.warn("PopulationResult is deprecated; use OptimizeResult", DeprecationWarning,
                      stacklevel=2)
        return OptimizeResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
