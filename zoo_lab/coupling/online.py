"""Queries are never wasted: log every real-program row and refit the proxy (warm start) as they come.

An :class:`OnlineProxy` wraps a proxy (a :class:`zoo_lab.surrogate.proxy.Proxy` or any torch module)
and a :class:`QueryLog`. Every row the real program evaluates, through a ZO optimizer
(``fun = online.wrap(fun)``) or a :class:`zoo_lab.BlackBox` (``online.attach(box)``), is
appended to the log; after every ``refit_every`` new rows the proxy is trained further
from its current weights on all logged rows (or the last ``window``). Guided estimators
built with ``proxy=online`` then use the refreshed proxy at their next estimate.

The log is in memory: the SQLite :class:`zoo_lab.coupling.evaluation.EvaluationCache` keys rows on
a digest of the input, so inputs cannot be read back from it for refitting; a BlackBox
with a cache still saves every evaluation there, and the log keeps (X, Y) in the open.

References
----------
.. [1] N. Maheswaranathan et al., "Guided evolutionary strategies", ICML 2019 (surrogate
   gradients from a model refit along the way).
.. [2] D. R. Jones, M. Schonlau, W. J. Welch, "Efficient global optimization of expensive
   black-box functions", J. Global Optim. 13, 1998 (refit the surrogate on every new sample).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = ["QueryLog", "OnlineProxy"]


def _numpy(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy().astype(np.float64)
    return np.asarray(a, dtype=np.float64)


class QueryLog:
    """An append-only in-memory log of real-program rows: inputs X (n, d) and outputs Y (n,) or (n, out)."""

    def __init__(self) -> None:
        self._X: list[np.ndarray] = []
        self._Y: list[np.ndarray] = []
        self.n_rows = 0
        self.n_calls = 0

    def append(self, X, Y) -> None:
        """Add one batch; rows with a non-finite output (failed runs) are skipped."""
        X, Y = _numpy(X), _numpy(Y)
        if X.ndim != 2 or Y.shape[:1] != X.shape[:1]:
            raise ValueError(f"Y: expected {X.shape[0]} rows to match X {X.shape}, got {Y.shape}")
        ok = np.isfinite(Y.reshape(len(Y), -1)).all(axis=1)
        self._X.append(X[ok])
        self._Y.append(Y[ok])
        self.n_rows += int(ok.sum())
        self.n_calls += 1

    def data(self, window: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All logged rows (or the last ``window``) as (X, Y)."""
        if not self._X:
            raise ValueError("log: no rows logged yet")
        X, Y = np.concatenate(self._X), np.concatenate(self._Y)
        return (X, Y) if window is None else (X[-window:], Y[-window:])

    def __len__(self) -> int:
        return self.n_rows


class _LoggingEvaluator:
    """Stands in for a BlackBox's Evaluator: same call and counters, every result observed."""

    def __init__(self, evaluator, online: OnlineProxy) -> None:
        self._evaluator, self._online = evaluator, online

    def __call__(self, X):
        Y = self._evaluator(X)
        self._online.observe(X, Y)
        return Y

    def __getattr__(self, name):
        return getattr(self._evaluator, name)


class OnlineProxy(torch.nn.Module):
    """A proxy refit from the :class:`QueryLog` every ``refit_every`` new real rows (warm start).

    ``steps`` L-BFGS iterations per refit (``optimizer="lbfgs"``) or Adam steps
    (``optimizer="adam"``, rate ``lr``) on the mean squared error scaled by the variance of
    the logged outputs. Counters: ``n_refits``, ``rows_at_refit`` (rows used by each refit).
    """

    def __init__(self, proxy: torch.nn.Module, log: QueryLog | None = None, refit_every: int = 50,
                 steps: int = 30, optimizer: str = "lbfgs", lr: float = 1e-3,
                 window: int | None = None, min_rows: int = 4) -> None:
        super().__init__()
        if not isinstance(proxy, torch.nn.Module) or not list(proxy.parameters()):
            raise TypeError(f"proxy: expected a torch.nn.Module with parameters to refit, got "
                            f"{type(proxy).__name__}")
        for name, value in (("refit_every", refit_every), ("steps", steps), ("min_rows", min_rows)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {value!r}")
        if window is not None and (not isinstance(window, int) or window < 1):
            raise ValueError(f"window: expected None or an int >= 1, got {window!r}")
        if optimizer not in ("lbfgs", "adam"):
            raise ValueError(f"optimizer: got {optimizer!r}; allowed: lbfgs, adam")
        self.proxy = proxy
        self.log = log if log is not None else QueryLog()
        self.refit_every, self.steps, self.optimizer, self.lr = refit_every, steps, optimizer, lr
        self.window, self.min_rows = window, min_rows
        self.n_refits = 0
        self.rows_at_refit: list[int] = []
        self.loss_history: list[tuple[float, float]] = []  # (before, after) per refit
        self._rows_seen_at_fit = 0

    def forward(self, x):
        """The current proxy's prediction (torch in -> torch out, differentiable)."""
        return self.proxy(x)

    # -- logging ------------------------------------------------------------------------
    def observe(self, X, Y) -> None:
        """Log a batch of real rows; refit when ``refit_every`` rows arrived since the last fit."""
        self.log.append(X, Y)
        if (self.log.n_rows - self._rows_seen_at_fit >= self.refit_every
                and self.log.n_rows >= self.min_rows):
            self.refit()

    def wrap(self, fun: Callable) -> Callable:
        """``fun`` (m, d) -> (m,) that logs every batch it evaluates (for ZO optimizers)."""
        def logged(X):
            Y = fun(X)
            self.observe(X, Y)
            return Y
        logged.__name__ = getattr(fun, "__name__", "fun")
        return logged

    def attach(self, box) -> None:
        """Log every program batch a :class:`zoo_lab.BlackBox` runs (forward and backward)."""
        if isinstance(box.evaluator, _LoggingEvaluator):
            raise ValueError("box: already attached to an OnlineProxy")
        box.evaluator = _LoggingEvaluator(box.evaluator, self)

    # -- refitting ----------------------------------------------------------------------
    def refit(self) -> None:
        """Train the proxy further from its current weights on the logged rows (warm start)."""
        X, Y = self.log.data(self.window)
        p0 = next(self.proxy.parameters())
        Xt = torch.as_tensor(X, dtype=p0.dtype, device=p0.device)
        Yt = torch.as_tensor(Y, dtype=p0.dtype, device=p0.device)
        scale = float(Yt.var()) if Yt.numel() > 1 and float(Yt.var()) > 0 else 1.0
        params = [p for p in self.proxy.parameters() if p.requires_grad]
        was_training = self.proxy.training
        self.proxy.train()

        def loss_fn():
            return torch.mean((self.proxy(Xt).reshape(Yt.shape) - Yt) ** 2) / scale

        with torch.no_grad():
            before = float(loss_fn())
        if self.optimizer == "lbfgs":
            opt = torch.optim.LBFGS(params, max_iter=self.steps, line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                loss = loss_fn()
                loss.backward()
                return loss
            opt.step(closure)
        else:
            opt = torch.optim.Adam(params, lr=self.lr)
            for _ in range(self.steps):
                opt.zero_grad()
                loss = loss_fn()
                loss.backward()
                opt.step()
        for p in params:
            p.grad = None
        self.proxy.train(was_training)
        with torch.no_grad():
            after = float(loss_fn())
        self.loss_history.append((before, after))
        self.n_refits += 1
        self.rows_at_refit.append(len(X))
        self._rows_seen_at_fit = self.log.n_rows
