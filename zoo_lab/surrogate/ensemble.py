"""Batched ensembles: K independent MLPs held as stacked weights, trained with one ``torch.bmm`` per layer.

Small networks leave a CPU core mostly idle per step (Python and dispatch overhead
dominate), so fitting K of them at once costs far less than K fits: each layer is one
batched matrix product ``(K, n, a) @ (K, a, b)``. The members stay independent: the
loss is the *sum* of the members' own mean losses, so member k's gradient depends on
member k only, and Adam (element-wise) updates every member exactly as it would alone.
L-BFGS is not separable this way (its line search would couple the members), so only
full-batch Adam is offered. Will move to ``zoo_lab/surrogate/``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = ["MLPEnsemble", "train_ensemble_adam", "fit_proxies_adam"]


class MLPEnsemble(torch.nn.Module):
    """K MLPs with equal layer widths: weights ``(K, fan_in, fan_out)``, biases ``(K, 1, fan_out)``."""

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                 activation: Callable[[], torch.nn.Module] = torch.nn.Tanh) -> None:
        super().__init__()
        if len(weights) != len(biases) or not weights:
            raise ValueError(f"weights, biases: need equal non-zero lengths, got {len(weights)}, "
                             f"{len(biases)}")
        k = weights[0].shape[0]
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            if w.ndim != 3 or w.shape[0] != k or b.shape != (k, 1, w.shape[2]):
                raise ValueError(f"weights[{i}], biases[{i}]: expected (K, a, b) and (K, 1, b) with "
                                 f"K={k}, got {tuple(w.shape)} and {tuple(b.shape)}")
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(w.detach().clone()) for w in weights])
        self.biases = torch.nn.ParameterList([torch.nn.Parameter(b.detach().clone()) for b in biases])
        self.act = activation()
        self._activation = activation

    @classmethod
    def from_nets(cls, nets: Sequence[torch.nn.Sequential],
                  activation: Callable[[], torch.nn.Module] = torch.nn.Tanh) -> MLPEnsemble:
        """Stack the Linear layers of equally shaped ``nets`` (Linear, act, …, Linear) into one ensemble."""
        if not nets:
            raise ValueError("nets: need at least one network")
        layers = [[m for m in net if isinstance(m, torch.nn.Linear)] for net in nets]
        shapes = [[tuple(m.weight.shape) for m in ls] for ls in layers]
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"nets: all members need the same layer shapes, got {shapes}")
        weights = [torch.stack([ls[i].weight.T for ls in layers]) for i in range(len(layers[0]))]
        biases = [torch.stack([ls[i].bias[None, :] for ls in layers]) for i in range(len(layers[0]))]
        return cls(weights, biases, activation)

    @property
    def n_members(self) -> int:
        """K, the number of member networks."""
        return self.weights[0].shape[0]

    def forward(self, U: torch.Tensor) -> torch.Tensor:
        """Member outputs ``(K, n)`` for inputs ``(n, d)`` (shared) or ``(K, n, d)`` (one set per member)."""
        h = U.expand(self.n_members, *U.shape) if U.ndim == 2 else U
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)  # b + h @ w, one batched product for all members
            if i < last:
                h = self.act(h)
        return h.squeeze(-1)

    def member(self, k: int) -> torch.nn.Sequential:
        """Member ``k`` as a plain ``torch.nn.Sequential`` (Linear, act, …, Linear), detached copy."""
        if not 0 <= k < self.n_members:
            raise ValueError(f"k: expected a member index in [0, {self.n_members}), got {k}")
        layers: list[torch.nn.Module] = []
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            lin = torch.nn.Linear(w.shape[1], w.shape[2], dtype=w.dtype)
            with torch.no_grad():
                lin.weight.copy_(w[k].T)
                lin.bias.copy_(b[k, 0])
            layers.append(lin)
            if i < last:
                layers.append(self._activation())
        return torch.nn.Sequential(*layers)


def train_ensemble_adam(ens: MLPEnsemble, U: torch.Tensor, Y: torch.Tensor, *, epochs: int,
                        lr: float = 3e-3) -> torch.Tensor:
    """Full-batch Adam on every member at once; return each member's final training MSE ``(K,)``.

    ``U`` is ``(n, d)`` (all members see the same data) or ``(K, n, d)``; ``Y`` is ``(n,)``
    or ``(K, n)``. One forward and one backward per step serve all K members.
    """
    if not (isinstance(epochs, int) and epochs >= 1):
        raise ValueError(f"epochs: expected an int >= 1, got {epochs!r}")
    if not (isinstance(lr, int | float) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr: expected a finite number > 0, got {lr!r}")
    Yk = Y.expand(ens.n_members, *Y.shape) if Y.ndim == 1 else Y
    opt = torch.optim.Adam(ens.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad(set_to_none=True)
        per_member = torch.mean((ens(U) - Yk) ** 2, dim=1)
        per_member.sum().backward()  # sum: member k's gradient is its own loss's gradient
        opt.step()
    with torch.no_grad():
        final = torch.mean((ens(U) - Yk) ** 2, dim=1)
    if not torch.isfinite(final).all():
        raise RuntimeError(f"train_ensemble_adam: diverged (final losses {final.tolist()}); lower lr={lr}")
    return final


def fit_proxies_adam(data: Sequence[tuple], bounds, seeds: Sequence[int], hidden=(32, 32),
                     epochs: int = 300, lr: float = 1e-2, dtype: str = "float32") -> list:
    """Fit one :class:`zoo_lab.surrogate.proxy.Proxy` per ``(X, y)`` in ``data`` at once (full-batch Adam).

    Member k starts from exactly the initial network ``proxy.fit(..., seed=seeds[k])`` would
    use and sees its own scaled inputs and standardised targets; the K fits share every
    forward and backward pass. Unlike ``proxy.fit(optimizer="adam")`` there are no
    mini-batches, validation split or early stopping: a fixed number of full-batch steps.
    All designs need the same number of points. Returns the K fitted proxies (eval mode).
    """
    import time

    from zoo_lab.surrogate import proxy as proxy_mod

    if len(data) != len(seeds) or not data:
        raise ValueError(f"data, seeds: need the same non-zero length, got {len(data)}, {len(seeds)}")
    sizes = {len(X) for X, _ in data}
    if len(sizes) != 1:
        raise ValueError(f"data: every design needs the same number of points, got sizes {sorted(sizes)}")
    t0 = time.perf_counter()
    proxies, U, Y = [], [], []
    for (X, y), seed in zip(data, seeds, strict=True):
        y = np.asarray(y, dtype=float)
        std = float(y.std()) or 1.0
        p = proxy_mod.Proxy(bounds, hidden, "tanh", float(y.mean()), std, dtype, int(seed))
        tdt = p.lo.dtype
        U.append(p.scale(torch.as_tensor(np.asarray(X, dtype=float), dtype=tdt)))
        Y.append(torch.as_tensor((y - y.mean()) / std, dtype=tdt))
        proxies.append(p)
    ens = MLPEnsemble.from_nets([p.net for p in proxies])
    train_ensemble_adam(ens, torch.stack(U), torch.stack(Y), epochs=epochs, lr=lr)
    elapsed = time.perf_counter() - t0
    for k, p in enumerate(proxies):
        p.net.load_state_dict(ens.member(k).state_dict())
        p.settings.update(optimizer="adam_full_batch_ensemble", epochs=epochs, lr=lr,
                          n=len(data[k][0]), ensemble_size=len(data), fit_time=elapsed / len(data))
    return [p.eval() for p in proxies]
