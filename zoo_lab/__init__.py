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
# the short public names of DESIGN.md, kept for good: zl.functions.get(...), zl.proxy.fit(...)
_SHORT = {
    "functions": "zoo_lab.problems.functions",
    "estimators": "zoo_lab.zo.estimators",
    "proxy": "zoo_lab.surrogate.proxy",
    "knowledge": "zoo_lab.problems",
    "guided": "zoo_lab.zo.guided",
    "online": "zoo_lab.coupling.online",
    "blackbox": "zoo_lab.coupling.blackbox",
    "evaluation": "zoo_lab.coupling.evaluation",
}

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
