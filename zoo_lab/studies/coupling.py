"""ZO coupling studies: train a network through a program three ways; VJP quality against q.

The inverse heat problem of notebook 03: a network ``g_θ`` maps sensor readings
``s`` to zone conductivities ``k``; the loss is measured *through the solver*,

    L(θ) = mean_i ‖F(g_θ(s_i)) − s_i‖² / ‖s‖²_mean

so no conductivity labels are needed, only the program ``F``. Three ways to get
``∂L/∂θ``:

* ``first_order``: ``F`` replaced by its differentiable torch twin (an oracle most
  scientific codes do not have);
* ``hybrid_zo``: ``F`` wrapped in :class:`zoo_lab.BlackBox`: ZO through the program's
  few inputs, backpropagation through the network (the hybrid chain rule);
* ``full_zo``: the whole loss treated as a black box of the network weights
  (ZO in weight space, dimension = number of weights).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from zoo_lab._util.seeding import rng_from
from zoo_lab._util.validate import check_choice, check_int
from zoo_lab.coupling.blackbox import BlackBox
from zoo_lab.problems import heat
from zoo_lab.studies._nets import seeded_init_
from zoo_lab.zo import estimators

__all__ = ["METHODS", "CouplingRun", "heat_data", "InverseNet", "train_inverse_heat",
           "vjp_cosine", "flat_params", "set_flat_params"]

METHODS = ("first_order", "hybrid_zo", "full_zo")


def heat_data(n: int, rod: heat.HeatRod | None = None, seed=0, noise: float = 0.0):
    """``n`` random rods: conductivities (n, zones) uniform in the bounds and their readings (n, out)."""
    n = check_int("n", n, 1)
    rod = rod or heat.DEFAULT
    rng = rng_from(seed)
    K = rng.uniform(rod.bounds[:, 0], rod.bounds[:, 1], size=(n, rod.in_dim))
    S = rod(K)
    return K, S + noise * rng.standard_normal(S.shape)


class InverseNet(torch.nn.Module):
    """Readings -> conductivities inside the rod's bounds (a sigmoid maps onto the box)."""

    def __init__(self, n_in: int, bounds: np.ndarray, hidden: int = 32, seed: int = 0,
                 s_mean=None, s_std=None):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(n_in, hidden, dtype=torch.float64),
                                        torch.nn.Tanh(),
                                        torch.nn.Linear(hidden, bounds.shape[0], dtype=torch.float64))
        seeded_init_(self.body, seed)
        b = torch.as_tensor(bounds, dtype=torch.float64)
        self.register_buffer("lo", b[:, 0])
        self.register_buffer("span", b[:, 1] - b[:, 0])
        self.register_buffer("s_mean", torch.as_tensor(0.0 if s_mean is None else s_mean))
        self.register_buffer("s_std", torch.as_tensor(1.0 if s_std is None else s_std))

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        """Conductivities (n, zones) for readings (n, n_in)."""
        return self.lo + self.span * torch.sigmoid(self.body((s - self.s_mean) / self.s_std))


def flat_params(net: torch.nn.Module) -> np.ndarray:
    """All trainable weights of ``net`` as one float64 vector."""
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy().astype(np.float64)


def set_flat_params(net: torch.nn.Module, theta) -> None:
    """Write a flat weight vector back into ``net`` (inverse of :func:`flat_params`)."""
    with torch.no_grad():
        for p, value in zip(net.parameters(), _unflatten(np.asarray(theta), net), strict=True):
            p.copy_(value)


@dataclass
class CouplingRun:
    """One training run: per-step history (loss, program queries, test error, time) and the net."""

    method: str
    history: pd.DataFrame
    net: InverseNet
    n_params: int


def train_inverse_heat(method: str, n_train: int = 32, steps: int = 200, q: int = 10,
                       mu: float = 1e-3, lr: float = 0.02, hidden: int = 32, seed: int = 0,
                       estimator: str = "gaussian", n_test: int = 64,
                       rod: heat.HeatRod | None = None, progress: bool = False) -> CouplingRun:
    """Train an :class:`InverseNet` by ``method`` (one of :data:`METHODS`) with Adam; full batch.

    The history counts program evaluations: the torch twin's rows for ``first_order``
    (one per training row per step), BlackBox queries for ``hybrid_zo``, and every
    perturbed network's solver rows for ``full_zo``.
    """
    check_choice("method", method, METHODS)
    rod = rod or heat.DEFAULT
    K_tr, S_tr = heat_data(n_train, rod, seed=seed)
    K_te, S_te = heat_data(n_test, rod, seed=seed + 10_000)
    s = torch.as_tensor(S_tr)
    scale = float((S_tr**2).mean())
    net = InverseNet(S_tr.shape[1], rod.bounds, hidden, seed, S_tr.mean(0), S_tr.std(0) + 1e-12)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    est = estimators.make(estimator, q=q, mu=mu)
    box = BlackBox(rod, rod.in_dim, rod.out_dim, estimator=est, name=rod.name, seed=seed)
    rng = rng_from(seed)
    queries, rows, t0 = 0, [], time.perf_counter()

    def test_error() -> float:
        with torch.no_grad():
            return float(np.sqrt(np.mean((net(torch.as_tensor(S_te)).numpy() - K_te) ** 2)))

    for step in tqdm(range(steps + 1), disable=not progress, desc=method):
        opt.zero_grad()
        if method == "first_order":
            loss = ((heat.torch_twin(net(s), rod) - s) ** 2).mean() / scale
            loss.backward()
            queries += n_train
        elif method == "hybrid_zo":
            before = box.n_queries
            loss = ((box(net(s)) - s) ** 2).mean() / scale
            loss.backward()
            queries += box.n_queries - before
        else:
            theta = flat_params(net)
            loss_val, g, n = _full_zo_step(net, rod, S_tr, scale, theta, est, rng)
            set_flat_params(net, theta)
            for p, gp in zip(net.parameters(), _unflatten(g, net), strict=True):
                p.grad = gp
            loss = torch.tensor(loss_val)
            queries += n
        rows.append(dict(method=method, step=step, loss=float(loss.detach()), queries=queries,
                         test_k_rmse=test_error(), seconds=time.perf_counter() - t0))
        if step < steps:
            opt.step()
    n_params = sum(p.numel() for p in net.parameters())
    return CouplingRun(method, pd.DataFrame(rows), net, n_params)


def _unflatten(g: np.ndarray, net) -> list[torch.Tensor]:
    out, i = [], 0
    for p in net.parameters():
        out.append(torch.as_tensor(g[i:i + p.numel()], dtype=p.dtype).reshape(p.shape))
        i += p.numel()
    return out


def _full_zo_step(net, rod, S, scale, theta, est, rng):
    """ZO gradient of the loss in weight space: every perturbed net's rows in one solver call."""
    s = torch.as_tensor(S)

    def loss_of(thetas: np.ndarray) -> np.ndarray:
        ks = []
        for th in thetas:
            set_flat_params(net, th)
            with torch.no_grad():
                ks.append(net(s).numpy())
        pred = rod(np.concatenate(ks)).reshape(len(thetas), len(S), -1)
        return ((pred - S) ** 2).mean(axis=(1, 2)) / scale

    g, n_rows, f0 = est.estimate(loss_of, theta, seed=int(rng.integers(2**63 - 1)))
    if f0 is None:  # central differences: the loss at theta costs one more pass
        f0 = float(loss_of(theta[None])[0])
        n_rows += 1
    return f0, np.asarray(g), n_rows * len(S)


def vjp_cosine(program, twin, Z, V, qs=(1, 2, 4, 8, 16, 32), seeds=range(20),
               estimator: str = "gaussian", mu: float = 1e-4,
               difference: str = "forward") -> pd.DataFrame:
    """Cosine between BlackBox's ZO vector-Jacobian product and the twin's exact one, per (q, seed).

    ``Z`` (n, in_dim) inputs, ``V`` (n, out_dim) output cotangents; the cosine is over all
    n x in_dim entries. Rows: q, seed, cosine, queries (program rows of that backward).
    """
    Z = torch.as_tensor(np.asarray(Z), dtype=torch.float64)
    V = torch.as_tensor(np.asarray(V), dtype=torch.float64)
    exact = torch.autograd.functional.vjp(twin, Z, V)[1].reshape(-1)
    rows = []
    for q in qs:
        est = estimators.make(estimator, q=q, mu=mu, difference=difference)
        for seed in seeds:
            box = BlackBox(program, Z.shape[1], V.shape[1], estimator=est, seed=seed)
            g, cost = box.vjp(Z, V)
            g = g.reshape(-1)
            cos = float(g @ exact / (g.norm() * exact.norm()))
            rows.append(dict(q=q, seed=seed, cosine=cos, queries=cost, estimator=estimator))
    return pd.DataFrame(rows)
