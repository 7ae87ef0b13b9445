"""zoo_lab.problems: everything zoo_lab optimizes, fits or couples, behind one :class:`Problem` protocol.

The checked registry of benchmark functions (:mod:`.functions`: bounds, x*, f*, batched
numpy/torch) and the real scientific programs with no gradients (below); every one has a
``name``, ``bounds``, ``in_dim``, ``out_dim`` and a batched call (:mod:`.protocol`).
The bottom layer beside :mod:`zoo_lab.sampling`: it imports only :mod:`zoo_lab._util`.

Real programs (the "knowledge sources" of the coupling notebooks), each a plain program
for :class:`zoo_lab.BlackBox`:

A program maps a float64 array (m, in_dim) to (m, out_dim); every one is a picklable
module-level object (a frozen dataclass with ``__call__``), so it runs in a process
pool or a Dask worker. Each source module exposes ``program`` (a default instance)
and ``NAME``, ``IN_DIM``, ``OUT_DIM``, ``BOUNDS``, ``DESCRIPTION``.

- :mod:`~zoo_lab.problems.heat`: 1D heat rod, zone conductivities -> sensor temperatures
  (Crank–Nicolson finite volumes), plus a torch twin used only as a gradient oracle.
- :mod:`~zoo_lab.problems.materials`: ASE EMT energy per atom / pressure of fcc Cu–Au vs (c, a).
- :mod:`~zoo_lab.problems.combustion`: Cantera gri30 adiabatic flame temperature of
  methane/air vs phi (and T0).
- :mod:`~zoo_lab.problems.command`: any external program as a subprocess (argument list,
  timeout, stdin/stdout or files), with a shipped example program.

ASE and Cantera are imported only when their programs first run.
"""

from zoo_lab.problems import combustion, command, functions, heat, materials
from zoo_lab.problems.combustion import FlameTemperature
from zoo_lab.problems.command import Command, CommandError, example_command
from zoo_lab.problems.heat import HeatRod, InverseProblem, inverse_problem, torch_twin
from zoo_lab.problems.materials import AlloyEMT, equilibrium_lattice_constant
from zoo_lab.problems.protocol import Problem, check_problem, optimum

SOURCES = {"heat": heat, "materials": materials, "combustion": combustion}

__all__ = [
    "SOURCES",
    "Problem",
    "check_problem",
    "functions",
    "optimum",
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
