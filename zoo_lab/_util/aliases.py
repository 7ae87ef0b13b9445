"""Old module paths of the flat layout, kept importable for one release (issue 11 moved them).

``import zoo_lab.estimators`` still works and returns :mod:`zoo_lab.zo.estimators`, with a
DeprecationWarning that names the new path. The short public names of DESIGN.md
(``zl.functions``, ``zl.estimators``, ``zl.proxy``, ...) are attributes of ``zoo_lab``
and do not warn; only the dotted import of an old path does.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MOVED", "install"]

# old dotted path -> new one
MOVED: dict[str, str] = {
    "zoo_lab.functions": "zoo_lab.problems.functions",
    "zoo_lab.knowledge": "zoo_lab.problems",
    "zoo_lab.knowledge.heat": "zoo_lab.problems.heat",
    "zoo_lab.knowledge.materials": "zoo_lab.problems.materials",
    "zoo_lab.knowledge.combustion": "zoo_lab.problems.combustion",
    "zoo_lab.knowledge.command": "zoo_lab.problems.command",
    "zoo_lab.knowledge.examples": "zoo_lab.problems.examples",
    "zoo_lab.estimators": "zoo_lab.zo.estimators",
    "zoo_lab.guided": "zoo_lab.zo.guided",
    "zoo_lab.guided_blackbox": "zoo_lab.coupling",
    "zoo_lab.proxy": "zoo_lab.surrogate.proxy",
    "zoo_lab.blackbox": "zoo_lab.coupling.blackbox",
    "zoo_lab.evaluation": "zoo_lab.coupling.evaluation",
    "zoo_lab.online": "zoo_lab.coupling.online",
    "zoo_lab._validate": "zoo_lab._util.validate",
    "zoo_lab._reexport": "zoo_lab._util.reexport",
    "zoo_lab._directions": "zoo_lab.zo.directions",
    "zoo_lab._proxy_train": "zoo_lab.surrogate.train",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module):
        pass  # the target module is already executed


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
