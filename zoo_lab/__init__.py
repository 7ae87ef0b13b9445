"""zoo_lab: a study package for zeroth-order optimization in scientific machine learning.

Import as ``import zoo_lab as zl``; subsystems load on first use so that
``import zoo_lab`` stays fast in a notebook's first cell. The layers, lowest first
(a layer imports only from layers below it; ``tests/test_architecture.py`` enforces it):

- ``_util``: validation, seeding, threads, counting
- ``problems``, ``sampling``: benchmark functions and real programs; designs of experiments
- ``zo``, ``surrogate``: ZO gradient estimators; NN proxies
- ``coupling``, ``optimize``: programs inside torch training (BlackBox); PSO, GA, ZO optimizers
- ``studies``: sweeps over settings and seeds, tidy frames
- ``plots``, then ``widgets``, ``teaching``, ``cli``

See docs/architecture.md.
"""

from __future__ import annotations

import importlib

from zoo_lab._util import aliases as _aliases

__version__ = "0.2.0"

_SUBSYSTEMS = (
    "problems",
    "sampling",
    "zo",
    "surrogate",
    "coupling",
    "optimize",
    "studies",
    "plots",
    "widgets",
    "teaching",
    "cli",
)
# the short public names of DESIGN.md, kept for good: zl.functions.get(...), zl.proxy.fit(...);
# each is the new home of the old module of that name (one map: _util/aliases.MOVED)
_SHORT = {name: _aliases.MOVED[f"zoo_lab.{name}"] for name in (
    "functions", "estimators", "proxy", "knowledge", "guided", "online", "blackbox", "evaluation")}

_aliases.install()


def __getattr__(name: str):
    if name in _SUBSYSTEMS:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _SHORT:
        return importlib.import_module(_SHORT[name])
    if name == "BlackBox":
        return importlib.import_module(f"{__name__}.coupling.blackbox").BlackBox
    raise AttributeError(f"module 'zoo_lab' has no attribute {name!r}")


def __dir__():
    return sorted((*globals(), *_SUBSYSTEMS, *_SHORT, "BlackBox"))
