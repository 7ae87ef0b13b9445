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

import math
from collections.abc import Callable

import numpy as np
import torch

from zoo_lab._util.seeding import torch_generator
from zoo_lab._util.validate import check_choice, check_float, check_int
from zoo_lab.surrogate.train import Clock, Data, FitHistory, train_adam, train_lbfgs

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


class _Scaled(torch.nn.Module):
    """The proxy's output divided by ``s``, as (m, k) rows (the trainer squeezes k = 1 to (m,))."""

    def __init__(self, proxy: torch.nn.Module, s: float) -> None:
        super().__init__()
        self.proxy, self.s = proxy, s

    def forward(self, x):
        return (self.proxy(x) / self.s).reshape(len(x), -1)

    def loss(self, data: Data) -> float:
        return float(torch.mean((self(data.U).squeeze(-1) - data.Y) ** 2))


class OnlineProxy(torch.nn.Module):
    """A proxy refit from the :class:`QueryLog` every ``refit_every`` new real rows (warm start).

    ``steps`` L-BFGS iterations per refit (``optimizer="lbfgs"``) or Adam steps
    (``optimizer="adam"``, rate ``lr``) on the mean squared error scaled by the variance of
    the logged outputs, with the surrogate trainer (:mod:`zoo_lab.surrogate.train`).
    Counters: ``n_refits``, ``rows_at_refit`` (rows used by each refit).
    """

    def __init__(self, proxy: torch.nn.Module, log: QueryLog | None = None, refit_every: int = 50,
                 steps: int = 30, optimizer: str = "lbfgs", lr: float = 1e-3,
                 window: int | None = None, min_rows: int = 4) -> None:
        super().__init__()
        if not isinstance(proxy, torch.nn.Module) or not list(proxy.parameters()):
            raise TypeError(f"proxy: expected a torch.nn.Module with parameters to refit, got "
                            f"{type(proxy).__name__}")
        for name, value in (("refit_every", refit_every), ("steps", steps), ("min_rows", min_rows)):
            check_int(name, value, 1)
        if window is not None:
            check_int("window", window, 1)
        check_choice("optimizer", optimizer, ("lbfgs", "adam"))
        lr = check_float("lr", lr, 0.0, strict=True)
        self.proxy = proxy
        self.log = log if log is not None else QueryLog()
        self.refit_every, self.steps, self.optimizer, self.lr = refit_every, steps, optimizer, lr
        self.window, self.min_rows = window, min_rows
        self.n_refits = 0
        self.rows_at_refit: list[int] = []
        self.loss_history: list[tuple[float, float]] = []  # (before, after) per refit
        self.fit_histories: list[FitHistory] = []  # the trainer's curve of each refit
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
        """Train the proxy further from its current weights on the logged rows (warm start).

        Runs the surrogate trainer of :mod:`zoo_lab.surrogate.train` (full-batch L-BFGS with
        a strong Wolfe search, or full-batch Adam keeping the best weights) on the MSE scaled
        by the variance of the logged outputs; each refit's curve is in ``fit_histories``.
        """
        X, Y = self.log.data(self.window)
        p0 = next(self.proxy.parameters())
        Xt = torch.as_tensor(X, dtype=p0.dtype, device=p0.device)
        Yt = torch.as_tensor(Y, dtype=p0.dtype, device=p0.device)
        var = float(Yt.var()) if Yt.numel() > 1 else 0.0
        s = math.sqrt(var) if var > 0 else 1.0
        net = _Scaled(self.proxy, s)
        data = Data(U=Xt, Y=(Yt / s).reshape(len(Yt), -1).squeeze(-1), U_val=None, Y_val=None,
                    U_mon=None, y_mon=None, y_mean=0.0, y_std=1.0)
        was_training = self.proxy.training
        self.proxy.train()
        with torch.no_grad():
            before = net.loss(data)
        history, clock = FitHistory(), Clock(p0.device)
        if self.optimizer == "lbfgs":
            train_lbfgs(net, data, history, clock, max_iter=self.steps)
        else:
            gen = torch_generator(self.n_refits)
            train_adam(net, data, history, clock, epochs=self.steps, lr=self.lr,
                       batch_size=len(X), patience=self.steps, generator=gen)
        for p in self.proxy.parameters():
            p.grad = None
        self.proxy.train(was_training)
        with torch.no_grad():
            after = net.loss(data)
        self.fit_histories.append(history)
        self.loss_history.append((before, after))
        self.n_refits += 1
        self.rows_at_refit.append(len(X))
        self._rows_seen_at_fit = self.log.n_rows
