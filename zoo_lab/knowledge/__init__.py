"""zoo_lab.knowledge: scientific knowledge sources, each a plain program for :class:`zoo_lab.BlackBox`.

A program maps a float64 array (m, in_dim) to (m, out_dim); every one is a picklable
module-level object (a frozen dataclass with ``__call__``), so it runs in a process
pool or a Dask worker. Each source module exposes ``program`` (a default instance)
and ``NAME``, ``IN_DIM``, ``OUT_DIM``, ``BOUNDS``, ``DESCRIPTION``.

- :mod:`~zoo_lab.knowledge.heat`: 1D heat rod, zone conductivities -> sensor temperatures
  (Crank–Nicolson finite volumes), plus a torch twin used only as a gradient oracle.
- :mod:`~zoo_lab.knowledge.materials`: ASE EMT energy per atom / pressure of fcc Cu–Au vs (c, a).
- :mod:`~zoo_lab.knowledge.combustion`: Cantera gri30 adiabatic flame temperature of
  methane/air vs phi (and T0).
- :mod:`~zoo_lab.knowledge.command`: any external program as a subprocess (argument list,
  timeout, stdin/stdout or files), with a shipped example program.

ASE and Cantera are imported only when their programs first run.
"""

from zoo_lab.knowledge import combustion, command, heat, materials
from zoo_lab.knowledge.combustion import FlameTemperature
from zoo_lab.knowledge.command import Command, CommandError, example_command
from zoo_lab.knowledge.heat import HeatRod, InverseProblem, inverse_problem, torch_twin
from zoo_lab.knowledge.materials import AlloyEMT, equilibrium_lattice_constant

SOURCES = {"heat": heat, "materials": materials, "combustion": combustion}

__all__ = [
    "SOURCES",
    "AlloyEMT",
    "Command",
    "CommandError",
    "FlameTemperature",
    "HeatRod",
    "InverseProblem",
    "combustion",
    "command",
    "equilibrium_lattice_constant",
    "example_command",
    "heat",
    "inverse_problem",
    "materials",
    "torch_twin",
]
