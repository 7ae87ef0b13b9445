"""Energy per atom (or pressure) of an fcc Cu–Au alloy supercell from ASE's EMT calculator.

Effective medium theory: Jacobsen, Stoltze, Nørskov, Surf. Sci. 366, 394 (1996),
as implemented in ASE (Larsen et al., J. Phys.: Condens. Matter 29, 273002, 2017).

Program: input row ``(c, a)`` — composition ``c`` = fraction of Au, lattice
constant ``a`` [Å] — to energy per atom [eV] (``quantity="energy"``) or
pressure [GPa] (``quantity="pressure"``). The supercell is ``repeat³`` cubic fcc
cells (32 atoms by default), atoms on ideal sites, no relaxation. Au goes on
the first ``n`` sites of one fixed random permutation (``seed``), so the
configurations are nested and the program is deterministic. A supercell holds
only whole atoms, so for ``c·N`` between two integers the result is linearly
interpolated between the two neighbouring configurations: continuous in ``c``.

Why Cu–Au: both EMT elements; a 12 % lattice mismatch (EMT: 3.590 Å for Cu,
4.056 Å for Au) gives a wide range of lattice constants and a visible bowing
away from Vegard's law, so learning composition -> lattice constant is not a
two-point linear fit (Cu–Ni, 3 % apart, would be nearly linear).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from zoo_lab._util.validate import check_choice, check_int

__all__ = [
    "BOUNDS",
    "DESCRIPTION",
    "IN_DIM",
    "NAME",
    "OUT_DIM",
    "AlloyEMT",
    "EMT_ELEMENTS",
    "equilibrium_lattice_constant",
    "pressure_program",
    "program",
]

EMT_ELEMENTS = ("Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt")
QUANTITIES = ("energy", "pressure")
_ATOMS_CACHE: dict = {}


@dataclass(frozen=True)
class AlloyEMT:
    """EMT energy per atom [eV] (or pressure [GPa]) of an fcc host–solute supercell at (c, a)."""

    host: str = "Cu"
    solute: str = "Au"
    repeat: int = 2
    seed: int = 0
    quantity: str = "energy"
    a_bounds: tuple[float, float] = (3.4, 4.3)
    name: str = "cu_au_emt"

    def __post_init__(self) -> None:
        for arg in ("host", "solute"):
            check_choice(arg, getattr(self, arg), EMT_ELEMENTS)
        check_choice("quantity", self.quantity, QUANTITIES)
        check_int("repeat", self.repeat, 1)
        lo, hi = (float(v) for v in self.a_bounds)
        if not 0 < lo < hi:
            raise ValueError(f"a_bounds={self.a_bounds!r}: allowed is 0 < low < high [Å]")
        object.__setattr__(self, "a_bounds", (lo, hi))

    in_dim: ClassVar[int] = 2
    out_dim: ClassVar[int] = 1
    # a cache fingerprint includes every field and ASE's version (zoo_lab.coupling.fingerprint)
    fingerprint_libraries: ClassVar[tuple[str, ...]] = ("ase",)

    @property
    def n_atoms(self) -> int:
        """Atoms in the supercell (4 · repeat³)."""
        return 4 * self.repeat**3

    @property
    def bounds(self) -> np.ndarray:
        """(2, 2): c in [0, 1], a in a_bounds [Å]."""
        return np.array([[0.0, 1.0], list(self.a_bounds)])

    @property
    def description(self) -> str:
        """One-line summary."""
        unit = "eV/atom" if self.quantity == "energy" else "GPa"
        return (
            f"EMT {self.quantity} [{unit}] of fcc {self.host}(1-c){self.solute}(c), "
            f"{self.n_atoms}-atom supercell, vs (c, a [Å])"
        )

    def _atoms(self, n_solute: int):
        """Cached unit-lattice (a = 1) supercell with ``n_solute`` solute atoms and an EMT calculator."""
        key = (self.host, self.solute, self.repeat, self.seed, n_solute)
        if key not in _ATOMS_CACHE:
            from ase.build import bulk

            atoms = bulk(self.host, "fcc", a=1.0, cubic=True).repeat(self.repeat)
            order = np.random.default_rng(self.seed).permutation(len(atoms))
            symbols = atoms.get_chemical_symbols()
            for i in order[:n_solute]:
                symbols[i] = self.solute
            atoms.set_chemical_symbols(symbols)
            _ATOMS_CACHE[key] = atoms
        return _ATOMS_CACHE[key]

    def _single(self, n_solute: int, a: float) -> float:
        from ase.calculators.emt import EMT
        from ase.units import GPa

        atoms = self._atoms(n_solute).copy()
        atoms.set_cell(atoms.cell * a, scale_atoms=True)
        atoms.calc = EMT()
        if self.quantity == "energy":
            return atoms.get_potential_energy() / len(atoms)
        return -np.trace(atoms.get_stress(voigt=False)) / 3.0 / GPa

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """(m, 2) rows (c, a) -> (m, 1) energy per atom [eV] or pressure [GPa]."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1 and X.shape[0] == 2:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != 2:
            raise ValueError(f"X.shape={X.shape}: allowed is (m, 2) rows (c, a)")
        out = np.empty((X.shape[0], 1))
        N = self.n_atoms
        for r, (c, a) in enumerate(X):
            if not (np.isfinite(c) and 0.0 <= c <= 1.0):
                raise ValueError(f"X[{r}, 0]: c={c!r}: allowed is 0 <= c <= 1")
            if not (np.isfinite(a) and a > 0):
                raise ValueError(f"X[{r}, 1]: a={a!r}: allowed is a > 0 [Å]")
            x = c * N
            lo = min(int(np.floor(x)), N - 1)
            w = x - lo
            value = self._single(lo, a)
            if w > 0:
                value = (1.0 - w) * value + w * self._single(lo + 1, a)
            out[r, 0] = value
        return out


def equilibrium_lattice_constant(
    c: float | np.ndarray, alloy: AlloyEMT | None = None, xatol: float = 1e-6
) -> float | np.ndarray:
    """Lattice constant [Å] minimising the EMT energy per atom at composition c (bounded Brent)."""
    from scipy.optimize import minimize_scalar

    alloy = alloy or program
    if alloy.quantity != "energy":
        raise ValueError(f"alloy.quantity={alloy.quantity!r}: allowed is 'energy'")
    cs = np.atleast_1d(np.asarray(c, dtype=float))
    result = np.empty(cs.shape)
    for i, ci in enumerate(cs.ravel()):
        res = minimize_scalar(
            lambda a, ci=ci: float(alloy(np.array([[ci, a]]))[0, 0]),
            bounds=alloy.a_bounds,
            method="bounded",
            options={"xatol": xatol},
        )
        result.flat[i] = res.x
    return float(result[0]) if np.ndim(c) == 0 else result


program = AlloyEMT()
pressure_program = AlloyEMT(quantity="pressure", name="cu_au_emt_pressure")
NAME = program.name
IN_DIM = program.in_dim
OUT_DIM = program.out_dim
BOUNDS = program.bounds
DESCRIPTION = program.description
