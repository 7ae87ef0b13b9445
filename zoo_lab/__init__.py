"""zoo_lab: a study package for zeroth-order optimization in scientific machine learning.

Import as ``import zoo_lab as zl``; submodules are loaded on first use so that
``import zoo_lab`` stays fast in a notebook's first cell.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "functions",
    "sampling",
    "estimators",
    "guided",
    "guided_blackbox",
    "online",
    "blackbox",
    "evaluation",
    "knowledge",
    "proxy",
    "optimize",
    "studies",
    "plots",
    "widgets",
    "teaching",
    "cli",
)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "BlackBox":
        return importlib.import_module(f"{__name__}.blackbox").BlackBox
    raise AttributeError(f"module 'zoo_lab' has no attribute {name!r}")


def __dir__():
    return sorted((*globals(), *_SUBMODULES, "BlackBox"))
