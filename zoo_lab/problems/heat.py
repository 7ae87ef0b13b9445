"""1D transient heat conduction on a rod: zone conductivities -> sensor temperatures.

Physics (dimensionless, ρc = 1, rod length 1)::

    ∂u/∂t = ∂/∂x (k(x) ∂u/∂x),   0 < x < 1,  0 < t ≤ t_final
    u(0, t) = 1 (heater),  u(1, t) = 0,  u(x, 0) = 0

``k(x)`` is piecewise constant in ``n_zones`` equal zones; the program's input
row is those zone conductivities. Output row: temperatures at the sensors
(linear interpolation between grid nodes) at ``n_snapshots`` equally spaced
times ending at ``t_final``, ordered snapshot-major.

Scheme: conservative finite volumes on a uniform grid (face conductivity = the
zone containing the face midpoint) and the θ-method in time, Crank–Nicolson
(θ = 1/2) by default, with ``n_startup`` backward-Euler steps first to damp the
Crank–Nicolson oscillations from the discontinuous start (Rannacher, Numer.
Math. 43, 1984). Each step solves one tridiagonal system per row; the m rows
are stacked into one block-tridiagonal system, factorised once with LAPACK
``dgttrf`` and re-solved every step with ``dgttrs``. Unconditionally stable.

:func:`torch_twin` is the same discretisation in torch (dense batched LU
instead of the tridiagonal solver) so that autograd gives exact gradients; it
is a gradient **oracle** for comparisons only, never the program itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import lapack

from zoo_lab._util.seeding import rng_from
from zoo_lab._util.validate import check_int

__all__ = [
    "BOUNDS",
    "DESCRIPTION",
    "IN_DIM",
    "NAME",
    "OUT_DIM",
    "HeatRod",
    "InverseProblem",
    "inverse_problem",
    "program",
    "torch_twin",
]


@dataclass(frozen=True)
class HeatRod:
    """Heated rod with piecewise-constant conductivity; call it on (m, n_zones) conductivities."""

    n_zones: int = 4
    n_cells: int = 64
    t_final: float = 0.3
    n_steps: int = 120
    n_snapshots: int = 3
    sensors: tuple[float, ...] = (0.125, 0.375, 0.625, 0.875)
    theta: float = 0.5
    n_startup: int = 2
    k_bounds: tuple[float, float] = (0.2, 2.0)
    name: str = "heat_rod"

    def __post_init__(self) -> None:
        for arg in ("n_zones", "n_cells", "n_steps", "n_snapshots"):
            check_int(arg, getattr(self, arg), 1)
        if self.n_cells < 2 * self.n_zones:
            raise ValueError(
                f"n_cells={self.n_cells!r}: allowed is >= 2 * n_zones = {2 * self.n_zones}"
            )
        if self.n_steps % self.n_snapshots:
            raise ValueError(
                f"n_snapshots={self.n_snapshots!r}: allowed is a divisor of n_steps={self.n_steps}"
            )
        if not 0 <= self.n_startup <= self.n_steps:
            raise ValueError(f"n_startup={self.n_startup!r}: allowed is 0..n_steps={self.n_steps}")
        if not 0.5 <= self.theta <= 1.0:
            raise ValueError(f"theta={self.theta!r}: allowed is 0.5 <= theta <= 1 (stable schemes)")
        if not self.t_final > 0:
            raise ValueError(f"t_final={self.t_final!r}: allowed is a positive float")
        s = tuple(float(v) for v in self.sensors)
        if not s or not all(0.0 <= v <= 1.0 for v in s):
            raise ValueError(
                f"sensors={self.sensors!r}: allowed is a non-empty tuple of x in [0, 1]"
            )
        lo, hi = (float(v) for v in self.k_bounds)
        if not 0 < lo < hi:
            raise ValueError(f"k_bounds={self.k_bounds!r}: allowed is 0 < low < high")
        object.__setattr__(self, "sensors", s)
        object.__setattr__(self, "k_bounds", (lo, hi))

    # --- metadata -----------------------------------------------------------------
    @property
    def in_dim(self) -> int:
        """Number of conductivity zones."""
        return self.n_zones

    @property
    def out_dim(self) -> int:
        """Sensors × snapshots."""
        return len(self.sensors) * self.n_snapshots

    @property
    def bounds(self) -> np.ndarray:
        """(n_zones, 2) box of allowed conductivities."""
        return np.tile(np.asarray(self.k_bounds, dtype=float), (self.n_zones, 1))

    @property
    def times(self) -> np.ndarray:
        """Snapshot times (n_snapshots,)."""
        return self.t_final * np.arange(1, self.n_snapshots + 1) / self.n_snapshots

    @property
    def description(self) -> str:
        """One-line summary for tables and plots."""
        return (
            f"1D heat rod, {self.n_zones} conductivity zones -> {len(self.sensors)} sensors "
            f"x {self.n_snapshots} times (Crank-Nicolson FV, {self.n_cells} cells)"
        )

    # --- discretisation pieces shared with the torch twin -----------------------------
    def face_zones(self) -> np.ndarray:
        """Zone index of each of the n_cells faces between grid nodes."""
        mid = (np.arange(self.n_cells) + 0.5) / self.n_cells
        return np.minimum((mid * self.n_zones).astype(int), self.n_zones - 1)

    def sensor_weights(self) -> np.ndarray:
        """(n_sensors, n_cells + 1) linear-interpolation weights from nodes to sensors."""
        n = self.n_cells
        W = np.zeros((len(self.sensors), n + 1))
        for j, s in enumerate(self.sensors):
            i = min(int(np.floor(s * n)), n - 1)
            w = s * n - i
            W[j, i] += 1.0 - w
            W[j, i + 1] += w
        return W

    def step_plan(self) -> list[tuple[float, bool]]:
        """(θ, snapshot?) for each time step."""
        every = self.n_steps // self.n_snapshots
        return [
            (1.0 if s < self.n_startup else self.theta, (s + 1) % every == 0)
            for s in range(self.n_steps)
        ]

    def check_input(self, X: np.ndarray) -> np.ndarray:
        """Validate (m, n_zones) conductivities; return a float64 copy."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1 and X.shape[0] == self.n_zones:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_zones:
            raise ValueError(f"X.shape={X.shape}: allowed is (m, {self.n_zones})")
        if not np.all(np.isfinite(X)) or np.any(X <= 0):
            bad = int(np.argmax(~np.isfinite(X).all(1) | (X <= 0).any(1)))
            raise ValueError(f"X[{bad}]={X[bad]}: conductivities must be finite and > 0")
        return X

    # --- the program -----------------------------------------------------------------
    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Sensor temperatures (m, out_dim) for conductivities X (m, n_zones)."""
        X = self.check_input(X)
        m, n = X.shape[0], self.n_cells
        h, dt = 1.0 / n, self.t_final / self.n_steps
        kf = X[:, self.face_zones()]  # (m, n) face conductivities
        ni = n - 1  # interior unknowns per row
        factors = {}
        for theta in {th for th, _ in self.step_plan()}:
            c = theta * dt / h**2
            d = (1.0 + c * (kf[:, :-1] + kf[:, 1:])).ravel()
            off = -c * kf[:, 1:-1]  # (m, ni - 1) couplings inside a row
            off = np.concatenate([off, np.zeros((m, 1))], axis=1).ravel()[:-1]
            dl, dd, du, du2, ipiv, info = lapack.dgttrf(off, d, off.copy())
            if info != 0:
                raise np.linalg.LinAlgError(f"dgttrf failed with info={info}")
            factors[theta] = (dl, dd, du, du2, ipiv)
        U = np.zeros((m, n + 1))
        U[:, 0] = 1.0
        W = self.sensor_weights()
        out = []
        for theta, snap in self.step_plan():
            AU = np.diff(kf * np.diff(U, axis=1), axis=1) / h**2  # (m, ni), boundaries included
            rhs = U[:, 1:-1] + (1.0 - theta) * dt * AU
            rhs[:, 0] += theta * dt * kf[:, 0] * U[:, 0] / h**2
            rhs[:, -1] += theta * dt * kf[:, -1] * U[:, -1] / h**2
            sol, info = lapack.dgttrs(*factors[theta], rhs.reshape(m * ni, 1))
            if info != 0:
                raise np.linalg.LinAlgError(f"dgttrs failed with info={info}")
            U[:, 1:-1] = sol.reshape(m, ni)
            if snap:
                out.append(U @ W.T)
        return np.concatenate(out, axis=1)


def torch_twin(K, rod: HeatRod | None = None):
    """The same θ-scheme as :class:`HeatRod` in torch (differentiable); gradient oracle only.

    ``K``: torch tensor (m, n_zones) of conductivities; returns (m, out_dim) in K's dtype/device.
    """
    import torch

    rod = rod or DEFAULT
    if not isinstance(K, torch.Tensor):
        raise TypeError(f"K is {type(K).__name__}: allowed is a torch.Tensor (m, {rod.n_zones})")
    if K.ndim != 2 or K.shape[1] != rod.n_zones:
        raise ValueError(f"K.shape={tuple(K.shape)}: allowed is (m, {rod.n_zones})")
    m, n = K.shape[0], rod.n_cells
    h, dt = 1.0 / n, rod.t_final / rod.n_steps
    kw = dict(dtype=K.dtype, device=K.device)
    kf = K[:, torch.as_tensor(rod.face_zones(), device=K.device)]
    lus = {}
    for theta in {th for th, _ in rod.step_plan()}:
        c = theta * dt / h**2
        M = torch.diag_embed(1.0 + c * (kf[:, :-1] + kf[:, 1:]))
        M = (
            M
            + torch.diag_embed(-c * kf[:, 1:-1], offset=1)
            + torch.diag_embed(-c * kf[:, 1:-1], offset=-1)
        )
        lus[theta] = torch.linalg.lu_factor(M)
    U = torch.zeros(m, n + 1, **kw)
    U[:, 0] = 1.0
    W = torch.as_tensor(rod.sensor_weights(), **kw)
    out = []
    for theta, snap in rod.step_plan():
        AU = torch.diff(kf * torch.diff(U, dim=1), dim=1) / h**2
        rhs = U[:, 1:-1] + (1.0 - theta) * dt * AU
        bc = torch.zeros_like(rhs)
        bc[:, 0] = theta * dt * kf[:, 0] * U[:, 0] / h**2
        bc[:, -1] = theta * dt * kf[:, -1] * U[:, -1] / h**2
        sol = torch.linalg.lu_solve(*lus[theta], (rhs + bc).unsqueeze(-1)).squeeze(-1)
        U = torch.cat([U[:, :1], sol, U[:, -1:]], dim=1)
        if snap:
            out.append(U @ W.T)
    return torch.cat(out, dim=1)


@dataclass(frozen=True)
class InverseProblem:
    """Recover zone conductivities from sensor readings of a :class:`HeatRod`."""

    rod: HeatRod
    k_true: np.ndarray
    readings: np.ndarray
    noise: float
    clean: np.ndarray = field(repr=False)

    @property
    def bounds(self) -> np.ndarray:
        """(n_zones, 2) search box."""
        return self.rod.bounds

    # the Problem protocol: the misfit is the objective
    name = property(lambda self: f"{self.rod.name}_inverse")
    in_dim = property(lambda self: self.rod.in_dim)
    out_dim = property(lambda self: 1)
    x_opt = property(lambda self: self.k_true if self.noise == 0 else None)
    f_opt = property(lambda self: 0.0 if self.noise == 0 else None)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """The misfit (m,) at conductivities X (m, n_zones)."""
        return self.misfit(X)

    def misfit(self, X: np.ndarray) -> np.ndarray:
        """Mean squared difference between predicted and measured readings, shape (m,)."""
        return np.mean((self.rod(X) - self.readings) ** 2, axis=1)


def inverse_problem(
    rod: HeatRod | None = None,
    k_true: np.ndarray | None = None,
    noise: float = 0.0,
    seed: int | np.random.Generator = 0,
) -> InverseProblem:
    """Make an inverse heat-conduction instance: true k, (noisy) readings, bounds.

    ``k_true`` defaults to a fixed profile for 4 zones, otherwise a uniform draw inside
    the middle 80 % of ``k_bounds``; ``noise`` is the std of additive Gaussian noise.
    """
    rod = rod or DEFAULT
    rng = rng_from(seed)
    if k_true is None:
        if rod.n_zones == 4 and rod.k_bounds == (0.2, 2.0):
            k_true = np.array([0.5, 1.5, 0.8, 1.2])
        else:
            lo, hi = rod.k_bounds
            k_true = rng.uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo), rod.n_zones)
    k_true = np.asarray(k_true, dtype=float)
    if k_true.shape != (rod.n_zones,):
        raise ValueError(f"k_true.shape={k_true.shape}: allowed is ({rod.n_zones},)")
    if not float(noise) >= 0:
        raise ValueError(f"noise={noise!r}: allowed is a float >= 0")
    clean = rod(k_true[None, :])[0]
    readings = clean + float(noise) * rng.standard_normal(clean.shape)
    return InverseProblem(rod, k_true, readings, float(noise), clean)


DEFAULT = HeatRod()
program = DEFAULT
NAME = DEFAULT.name
IN_DIM = DEFAULT.in_dim
OUT_DIM = DEFAULT.out_dim
BOUNDS = DEFAULT.bounds
DESCRIPTION = DEFAULT.description
