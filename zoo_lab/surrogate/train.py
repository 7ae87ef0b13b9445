"""Training loops behind :func:`zoo_lab.surrogate.proxy.fit`: full-batch L-BFGS, mini-batch Adam, and their history.

Private module: the public entry point is :func:`zoo_lab.surrogate.proxy.fit`. Every loop
works on already scaled tensors (inputs in [-1, 1], standardised targets) and
records one :class:`FitHistory` row per Adam epoch or per L-BFGS iteration.
Time spent on diagnostics (validation and monitor losses) is excluded from the
recorded wall time, so curves compare the optimisers, not the bookkeeping.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

__all__ = ["FitHistory", "Clock", "train_adam", "train_lbfgs"]


@dataclass
class FitHistory:
    """Loss curve of a fit: one entry per Adam epoch or L-BFGS iteration (lists of equal length).

    ``loss``/``val_loss`` are mean squared errors on standardised targets;
    ``monitor_rmse`` is the RMSE in the target's own units on the monitor set
    passed to ``fit`` (NaN without one). ``passes`` counts full passes over the
    training data (gradient evaluations), ``time`` is wall time in seconds.
    """

    phase: list[str] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    passes: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    monitor_rmse: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    def append(self, **row) -> None:
        """Add one row; every field must be given."""
        for name in self.__dataclass_fields__:
            getattr(self, name).append(row[name])

    def __len__(self) -> int:
        return len(self.step)

    def to_dict(self) -> dict[str, list]:
        """The history as a dict of lists (JSON-serialisable)."""
        return asdict(self)

    def to_frame(self):
        """The history as a pandas DataFrame, one row per epoch/iteration."""
        import pandas as pd

        return pd.DataFrame(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> FitHistory:
        """Rebuild a history from :meth:`to_dict` output."""
        return cls(**{k: list(data.get(k, [])) for k in cls.__dataclass_fields__})


class Clock:
    """A stopwatch that can be paused while diagnostics run (CUDA-synchronised)."""

    def __init__(self, device: torch.device, offset: float = 0.0) -> None:
        self.cuda = device.type == "cuda"
        self.elapsed = offset
        self._t0: float | None = None

    def _sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def start(self) -> None:
        """Resume timing."""
        self._sync()
        self._t0 = time.perf_counter()

    def pause(self) -> float:
        """Stop timing and return the total elapsed seconds."""
        self._sync()
        if self._t0 is not None:
            self.elapsed += time.perf_counter() - self._t0
            self._t0 = None
        return self.elapsed


@dataclass
class Data:
    """Scaled training, validation and monitor tensors plus the target scale."""

    U: torch.Tensor
    Y: torch.Tensor
    U_val: torch.Tensor | None
    Y_val: torch.Tensor | None
    U_mon: torch.Tensor | None
    y_mon: torch.Tensor | None  # unscaled targets of the monitor set
    y_mean: float
    y_std: float


def _diagnostics(net: torch.nn.Module, data: Data) -> tuple[float, float]:
    """Validation MSE (standardised) and monitor RMSE (original units); NaN where absent."""
    val = mon = math.nan
    with torch.no_grad():
        if data.U_val is not None:
            val = float(torch.mean((net(data.U_val).squeeze(-1) - data.Y_val) ** 2))
        if data.U_mon is not None:
            pred = net(data.U_mon).squeeze(-1) * data.y_std + data.y_mean
            mon = float(torch.sqrt(torch.mean((pred - data.y_mon) ** 2)))
    return val, mon


def train_adam(net: torch.nn.Module, data: Data, history: FitHistory, clock: Clock, *,
               epochs: int, lr: float, batch_size: int, patience: int,
               generator: torch.Generator, phase: str = "adam") -> None:
    """Mini-batch Adam with a reduce-on-plateau schedule and early stopping; keeps the best weights.

    The watched loss is the validation MSE when there is a validation split,
    otherwise the epoch's mean training loss. Training stops after ``patience``
    epochs without a 1e-4 relative improvement; the learning rate halves after
    ``max(patience // 3, 1)`` such epochs.
    """
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, factor=0.5, patience=max(patience // 3, 1), threshold=1e-4)
    n = data.U.shape[0]
    bs = min(batch_size, n)
    best, best_state, wait = math.inf, None, 0
    passes0 = history.passes[-1] if history.passes else 0.0
    for epoch in range(1, epochs + 1):
        clock.start()
        perm = torch.randperm(n, generator=generator).to(data.U.device)
        total = torch.zeros((), dtype=data.U.dtype, device=data.U.device)
        for k in range(0, n, bs):
            idx = perm[k:k + bs]
            opt.zero_grad(set_to_none=True)
            loss = torch.mean((net(data.U[idx]).squeeze(-1) - data.Y[idx]) ** 2)
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
        train_loss = float(total) / n
        elapsed = clock.pause()
        val, mon = _diagnostics(net, data)
        watched = val if data.U_val is not None else train_loss
        history.append(phase=phase, step=epoch, passes=passes0 + epoch, time=elapsed,
                       loss=train_loss, val_loss=val, monitor_rmse=mon,
                       lr=opt.param_groups[0]["lr"])
        if not math.isfinite(watched):
            raise RuntimeError(f"fit: Adam diverged at epoch {epoch} (loss {watched}); lower lr={lr}")
        sched.step(watched)
        if watched < best * (1 - 1e-4):
            best, best_state, wait = watched, copy.deepcopy(net.state_dict()), 0
        else:
            wait += 1
            if wait >= patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)


def train_lbfgs(net: torch.nn.Module, data: Data, history: FitHistory, clock: Clock, *,
                max_iter: int, lr: float = 1.0, history_size: int = 10,
                tolerance_grad: float = 1e-9, tolerance_change: float = 1e-12,
                phase: str = "lbfgs") -> None:
    """Full-batch L-BFGS with a strong Wolfe line search (``torch.optim.LBFGS``), one call.

    Every loss evaluation is recorded; afterwards the evaluations are grouped by
    iteration and the lowest one kept, which is the point the strong Wolfe
    search accepts (it always returns the lowest point it evaluated).
    """
    params = list(net.parameters())
    opt = torch.optim.LBFGS(params, lr=lr, max_iter=max_iter, max_eval=int(max_iter * 2.5) + 10,
                            history_size=history_size, tolerance_grad=tolerance_grad,
                            tolerance_change=tolerance_change, line_search_fn="strong_wolfe")
    state = opt.state[params[0]]
    evals: list[tuple[int, float, float, float, float]] = []
    U, Y = data.U, data.Y

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=False)
        loss = torch.mean((net(U).squeeze(-1) - Y) ** 2)
        loss.backward()
        value = float(loss.detach())
        elapsed = clock.pause()
        val, mon = _diagnostics(net, data)
        evals.append((state.get("n_iter", 0), value, elapsed, val, mon))
        clock.start()
        return loss

    clock.start()
    opt.step(closure)
    clock.pause()
    _record_iterations(evals, history, phase, lr)
    if not math.isfinite(history.loss[-1]):
        raise RuntimeError("fit: L-BFGS produced a non-finite loss; check the data scale")


def _record_iterations(evals, history: FitHistory, phase: str, lr: float) -> None:
    """Collapse per-evaluation records into one history row per L-BFGS iteration."""
    passes0 = history.passes[-1] if history.passes else 0.0
    by_iter: dict[int, tuple[int, tuple]] = {}
    for count, rec in enumerate(evals, start=1):
        it = rec[0]
        if it not in by_iter or rec[1] <= by_iter[it][1][1]:
            by_iter[it] = (count, rec)
    last_time = {rec[0]: (count, rec[2]) for count, rec in enumerate(evals, start=1)}
    for it in sorted(by_iter):
        _, (_, loss, _, val, mon) = by_iter[it]
        count, t = last_time[it]
        history.append(phase=phase, step=it, passes=passes0 + count, time=t, loss=loss,
                       val_loss=val, monitor_rmse=mon, lr=lr)


def make_net(dim: int, hidden: tuple[int, ...], activation: Callable[[], torch.nn.Module],
             generator: torch.Generator, dtype: torch.dtype, gain: float) -> torch.nn.Sequential:
    """An MLP with Glorot-uniform weights (scaled by ``gain``) and zero biases, drawn from ``generator`` only."""
    layers: list[torch.nn.Module] = []
    widths = (dim, *hidden)
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [torch.nn.utils.skip_init(torch.nn.Linear, a, b, dtype=dtype), activation()]
    layers.append(torch.nn.utils.skip_init(torch.nn.Linear, widths[-1], 1, dtype=dtype))
    with torch.no_grad():
        for m in layers:
            if isinstance(m, torch.nn.Linear):
                g = gain if m.out_features > 1 else 1.0
                torch.nn.init.xavier_uniform_(m.weight, gain=g, generator=generator)
                m.bias.zero_()
    return torch.nn.Sequential(*layers)
