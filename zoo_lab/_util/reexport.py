"""Re-export the public names of every submodule of a package (used by the topic packages)."""

from __future__ import annotations

import importlib
import pkgutil
import sys


def reexport_submodules(package: str, namespace: dict) -> list[str]:
    """Import each non-private submodule of ``package`` and copy its ``__all__`` into ``namespace``."""
    names: list[str] = []
    for info in sorted(pkgutil.iter_modules(sys.modules[package].__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for name in getattr(module, "__all__", ()):
            if name in namespace and namespace[name] is not getattr(module, name):
                raise ImportError(f"{package}: {name!r} is defined by two submodules")
            namespace[name] = getattr(module, name)
            names.append(name)
    return names
