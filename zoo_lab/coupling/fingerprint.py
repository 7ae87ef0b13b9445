"""A stable fingerprint of a program's configuration: what an evaluation cache is keyed on.

Two programs share cached values only when their fingerprints are equal. The identity
that goes into the digest is, in order of preference:

* ``program.fingerprint()`` when the program defines it (a JSON-able dict);
* a dataclass instance: its type and every field (``HeatRod``, ``FlameTemperature``,
  ``AlloyEMT``, ``Command``: argv, env, mode, in/out dims...). A field declared with
  ``metadata={"fingerprint": False}`` (a timeout) is left out. A class attribute
  ``fingerprint_libraries = ("cantera",)`` adds those packages' installed versions;
* ``functools.partial``: the function's identity and the bound arguments;
* a bound method: the method's name and its object's identity;
* a module-level function or class instance with plain attributes: its import path
  (and attributes).

Lambdas, closures (``<locals>`` in the name) and objects holding unhashable state have
no stable identity: :func:`identity` returns None and a cache needs an explicit
``name=`` for them. The cache cannot see inside a program's code: pass ``version=``
(any string or int) and change it when the program's code changes.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import inspect
import json
import types
from pathlib import PurePath

import numpy as np

__all__ = ["identity", "fingerprint", "differences"]


class _Unstable(Exception):
    """A value with no stable, serialisable identity."""


def _plain(v):
    """JSON-able stand-in for a configuration value; raises _Unstable for anything else."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 2**53:
            return int(v)  # T0=700 and T0=700.0 are the same configuration
        return repr(v)  # exact: 0.1 and 0.1000000000000001 differ
    if isinstance(v, np.generic):
        return _plain(v.item())
    if isinstance(v, PurePath):
        return str(v)
    if isinstance(v, np.ndarray):
        data = np.ascontiguousarray(v)
        return {"ndarray": str(data.dtype), "shape": list(data.shape),
                "sha256": hashlib.sha256(data.tobytes()).hexdigest()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
    found = identity(v)
    if found is None:
        raise _Unstable(repr(v))
    return found


def _path(obj) -> str | None:
    """``module:qualname`` of a function or class, None for lambdas and closures."""
    module = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None)
    if not module or not qual or "<lambda>" in qual or "<locals>" in qual:
        return None
    return f"{module}:{qual}"


def _libraries(obj) -> dict:
    """Installed versions of the packages a program names in ``fingerprint_libraries``."""
    out = {}
    for lib in getattr(obj, "fingerprint_libraries", ()):
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = None
    return out


def identity(program) -> dict | None:
    """A JSON-able description of what ``program`` computes, or None when it has no stable identity."""
    try:
        custom = getattr(program, "fingerprint", None)
        if callable(custom) and not isinstance(program, type):
            return {"type": _path(type(program)), "custom": _plain(custom())}
        if dataclasses.is_dataclass(program) and not isinstance(program, type):
            fields = {f.name: _plain(getattr(program, f.name)) for f in dataclasses.fields(program)
                      if f.metadata.get("fingerprint", True)}
            out = {"type": _path(type(program)), "fields": fields}
            if out["type"] is None:
                return None
            libs = _libraries(program)
            if libs:
                out["libraries"] = libs
            return out
        if isinstance(program, functools.partial):
            func = identity(program.func)
            if func is None:
                return None
            return {"partial": func, "args": _plain(list(program.args)),
                    "kwargs": _plain(dict(program.keywords))}
        if isinstance(program, types.MethodType):
            owner = identity(program.__self__)
            return None if owner is None else {"method": program.__func__.__name__, "self": owner}
        if inspect.isroutine(program) or isinstance(program, type):
            path = _path(program)
            return None if path is None else {"function": path}
        path = _path(type(program))
        if path is None:
            return None
        state = getattr(program, "__dict__", None)
        return {"type": path, "state": _plain(dict(state)) if state else {}}
    except _Unstable:
        return None


def fingerprint(ident: dict, name: str, in_dim: int, out_dim: int, version=None) -> str:
    """Hex digest (16 characters) of a program identity plus its name, widths and ``version``."""
    doc = {"identity": ident, "name": name, "in_dim": int(in_dim), "out_dim": int(out_dim),
           "version": None if version is None else str(version)}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def differences(old, new, prefix: str = "") -> list[str]:
    """Human-readable list of the entries that differ between two identity documents."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            out += differences(old.get(k), new.get(k), f"{prefix}{'.' if prefix else ''}{k}")
        return out
    return [] if old == new else [f"{prefix or 'value'}: {old!r} -> {new!r}"]
