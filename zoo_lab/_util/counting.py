"""One counting wrapper for batched objectives: rows, calls, an optional hard budget, the best row.

Every optimizer (ZO, PSO, GA, the peer adapters) and every study that counts
evaluations wraps its objective in :class:`CountingObjective`, so "evaluations"
means the same thing everywhere: rows of ``(n, d)`` batches passed to ``fun``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["CountingObjective", "BudgetSpent"]


class BudgetSpent(Exception):
    """Raised by :class:`CountingObjective` when called after ``max_evals`` rows were spent."""


def _to_numpy(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


class CountingObjective:
    """Wrap a batched ``fun`` ((n, d) -> (n,)): count rows and calls, optionally cap and track the best.

    * ``n_evals`` / ``n_calls``: rows evaluated / batched calls;
    * ``max_evals``: hard cap; a batch that would pass it is truncated to the rows
      that fit (the rest get ``+inf`` and never reach ``fun``); a call after the cap
      raises :class:`BudgetSpent`;
    * ``track=True``: keep the best row (``best_x``, ``best_f``; NaN counts as +inf)
      and, per call, the cumulative ``n_evals`` and best value (``hist_evals``,
      ``hist_best``); this converts values to numpy, so the PSO/GA hot loops (which
      may run on a GPU) use ``track=False``;
    * ``keep_batches=True``: keep a numpy copy of every batch (tests).

    Subclasses may override :meth:`improved`, called with each new best row.
    """

    def __init__(self, fun: Callable, max_evals: int | None = None, *, track: bool = False,
                 keep_batches: bool = False) -> None:
        if not callable(fun):
            raise TypeError(f"fun: expected a callable (n, d) -> (n,), got {type(fun).__name__}")
        self.fun, self.max_evals, self.track = fun, max_evals, track
        self.n_evals = self.n_calls = 0
        self.best_x, self.best_f = None, math.inf
        self.hist_evals: list[int] = []
        self.hist_best: list[float] = []
        self.batches: list[np.ndarray] | None = [] if keep_batches else None

    @property
    def rows(self) -> int:
        """Alias of ``n_evals`` (rows evaluated)."""
        return self.n_evals

    @property
    def calls(self) -> int:
        """Alias of ``n_calls``."""
        return self.n_calls

    def improved(self, x: np.ndarray, f: float) -> None:
        """Hook: a new best row ``x`` with value ``f`` was seen (tracking only)."""

    def __call__(self, X):
        n = X.shape[0]
        m = n
        if self.max_evals is not None:
            left = self.max_evals - self.n_evals
            if left <= 0:
                raise BudgetSpent(f"max_evals={self.max_evals} evaluations spent")
            m = min(left, n)
        Xm = X if m == n else X[:m]
        if self.batches is not None:
            self.batches.append(_to_numpy(Xm).copy())
        y = self.fun(Xm)
        self.n_evals += m
        self.n_calls += 1
        if not self.track and m == n:
            return y
        y = _to_numpy(y).astype(float).reshape(-1)
        if y.shape != (m,):
            raise ValueError(f"fun: must map an (n, d) batch to shape (n,); got {y.shape} for n={m}")
        y = np.where(np.isnan(y), np.inf, y)
        if self.track:
            k = int(np.argmin(y))
            if y[k] < self.best_f:
                self.best_f, self.best_x = float(y[k]), _to_numpy(Xm[k]).copy()
                self.improved(self.best_x, self.best_f)
            self.hist_evals.append(self.n_evals)
            self.hist_best.append(self.best_f)
        return y if m == n else np.concatenate([y, np.full(n - m, np.inf)])
