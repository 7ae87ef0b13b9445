"""Adiabatic flame temperature of methane/air from Cantera's chemical equilibrium (gri30).

Cantera: Goodwin, Speth, Moffat, Weber, https://www.cantera.org (v3.2). Mechanism:
GRI-Mech 3.0, Smith et al., http://combustion.berkeley.edu/gri-mech/ (gri30.yaml
ships with Cantera). Air is O2:N2 = 1:3.76 by mole.

Program: row ``(phi,)`` or ``(phi, T0)`` — equivalence ratio and initial
temperature [K] at constant pressure (1 atm by default) — to ``T_ad`` [K], the
temperature after ``gas.equilibrate("HP")`` (constant enthalpy and pressure).
The ``ct.Solution`` is created once per process and kept in a module-level
cache, so the program object itself holds only strings and floats and pickles
cheaply into process-pool or Dask workers.

T_ad peaks slightly rich of stoichiometric (phi ≈ 1.03–1.04 at 300 K): on the
rich side dissociation is lower and the products' heat capacity smaller, which
outweighs the missing oxygen for a little while. Hence phi -> T_ad is one-to-one
only on each side of the peak (use phi in [0.5, 1.0] to invert it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

__all__ = [
    "BOUNDS",
    "DESCRIPTION",
    "IN_DIM",
    "NAME",
    "OUT_DIM",
    "FlameTemperature",
    "program",
    "program_phi_t0",
]

ONE_ATM = 101325.0
_GAS_CACHE: dict = {}


def _gas(mechanism: str):
    """Per-process cached Cantera Solution for ``mechanism``."""
    if mechanism not in _GAS_CACHE:
        import cantera as ct

        _GAS_CACHE[mechanism] = ct.Solution(mechanism)
    return _GAS_CACHE[mechanism]


@dataclass(frozen=True)
class FlameTemperature:
    """Equilibrium (HP) adiabatic flame temperature [K] of fuel/air vs phi (and T0)."""

    with_t0: bool = False
    T0: float = 300.0
    pressure: float = ONE_ATM
    fuel: str = "CH4"
    oxidizer: str = "O2:1.0, N2:3.76"
    mechanism: str = "gri30.yaml"
    phi_bounds: tuple[float, float] = (0.5, 1.5)
    t0_bounds: tuple[float, float] = (300.0, 800.0)
    name: str = "methane_air_tad"
    # a cache fingerprint includes every field above and Cantera's version (zoo_lab.coupling.fingerprint)
    fingerprint_libraries: ClassVar[tuple[str, ...]] = ("cantera",)

    def __post_init__(self) -> None:
        for arg in ("phi_bounds", "t0_bounds"):
            lo, hi = (float(v) for v in getattr(self, arg))
            if not 0 < lo < hi:
                raise ValueError(f"{arg}={getattr(self, arg)!r}: allowed is 0 < low < high")
            object.__setattr__(self, arg, (lo, hi))
        if not (self.T0 > 0 and self.pressure > 0):
            raise ValueError(f"T0={self.T0!r}, pressure={self.pressure!r}: allowed is > 0")

    @property
    def in_dim(self) -> int:
        """1 (phi) or 2 (phi, T0)."""
        return 2 if self.with_t0 else 1

    @property
    def out_dim(self) -> int:
        """1: T_ad [K]."""
        return 1

    @property
    def bounds(self) -> np.ndarray:
        """(in_dim, 2): phi range, then T0 range [K] when with_t0."""
        rows = [self.phi_bounds] + ([self.t0_bounds] if self.with_t0 else [])
        return np.array(rows, dtype=float)

    @property
    def description(self) -> str:
        """One-line summary."""
        inputs = "(phi, T0 [K])" if self.with_t0 else f"phi (T0 = {self.T0:g} K)"
        return (
            f"Cantera {self.mechanism} equilibrium adiabatic flame temperature [K] of "
            f"{self.fuel}/air at {self.pressure / ONE_ATM:g} atm vs {inputs}"
        )

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """(m, in_dim) rows -> (m, 1) adiabatic flame temperature [K]."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1 and X.shape[0] == self.in_dim:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.in_dim:
            allowed = "(phi, T0)" if self.with_t0 else "(phi,)"
            raise ValueError(f"X.shape={X.shape}: allowed is (m, {self.in_dim}) rows {allowed}")
        gas = _gas(self.mechanism)
        out = np.empty((X.shape[0], 1))
        for r, row in enumerate(X):
            phi = row[0]
            T0 = row[1] if self.with_t0 else self.T0
            if not (np.isfinite(phi) and phi > 0):
                raise ValueError(f"X[{r}, 0]: phi={phi!r}: allowed is a finite phi > 0")
            if not (np.isfinite(T0) and 200.0 <= T0 <= 3000.0):
                raise ValueError(f"X[{r}, 1]: T0={T0!r}: allowed is 200 <= T0 <= 3000 K")
            gas.TP = T0, self.pressure
            gas.set_equivalence_ratio(phi, self.fuel, self.oxidizer)
            gas.equilibrate("HP")
            out[r, 0] = gas.T
        return out


program = FlameTemperature()
program_phi_t0 = FlameTemperature(with_t0=True, name="methane_air_tad_phi_t0")
NAME = program.name
IN_DIM = program.in_dim
OUT_DIM = program.out_dim
BOUNDS = program.bounds
DESCRIPTION = program.description
