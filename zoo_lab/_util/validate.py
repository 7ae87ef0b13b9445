"""Argument checks shared by every module: one wording for "argument, value, what is allowed".

Every public function of zoo_lab checks its int, float, choice and bounds arguments
here, so a bad value always gets the same kind of message::

    n: expected an int >= 1, got 0
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Iterable

import numpy as np

__all__ = [
    "MAX_ELEMENTS",
    "check_bool",
    "check_bounds",
    "check_choice",
    "check_columns",
    "check_float",
    "check_int",
    "check_size",
    "renamed",
]

# Refuse allocations above this many float64 elements up front (8 GiB) with a clear error
# instead of a numpy MemoryError deep in a call (or a machine that swaps).
MAX_ELEMENTS = 2**30


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in [minimum, maximum]; else TypeError/ValueError naming it."""
    allowed = _range_text("an int", minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected {allowed}, got {type(value).__name__} {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name}: expected {allowed}, got {value}")
    return int(value)


def check_float(
    name: str,
    value,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    strict: bool = False,
    strict_max: bool = False,
) -> float:
    """Return ``value`` as a finite float in [minimum, maximum] (open at an end when ``strict``/``strict_max``)."""
    allowed = _range_text("a finite number", minimum, maximum, strict, strict_max)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected {allowed}, got {type(value).__name__} {value!r}")
    v = float(value)
    low_bad = minimum is not None and (v <= minimum if strict else v < minimum)
    high_bad = maximum is not None and (v >= maximum if strict_max else v > maximum)
    if not math.isfinite(v) or low_bad or high_bad:
        raise ValueError(f"{name}: expected {allowed}, got {value!r}")
    return v


def check_bool(name: str, value) -> bool:
    """Return ``value`` if it is a bool (numpy bools included); else TypeError naming it."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{name}: expected True or False, got {type(value).__name__} {value!r}")


def check_choice(name: str, value, allowed: Iterable):
    """Return ``value`` if it is one of ``allowed``; else ValueError listing the choices."""
    allowed = tuple(allowed)
    try:
        ok = value in allowed
    except TypeError:  # unhashable or incomparable values are simply not allowed
        ok = False
    if not ok:
        shown = ", ".join(a if isinstance(a, str) else repr(a) for a in allowed)
        raise ValueError(f"{name}: got {value!r}; allowed: {shown}")
    return value


def check_columns(name: str, df, columns: Iterable[str]) -> None:
    """Refuse a DataFrame ``df`` that lacks any of ``columns``, naming the missing ones and those it has."""
    if not hasattr(df, "columns"):
        raise TypeError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing columns {missing}; has {list(df.columns)}")


def check_size(name: str, n_elements: int, what: str = "array") -> None:
    """Refuse a request that would allocate more than :data:`MAX_ELEMENTS` elements."""
    if n_elements > MAX_ELEMENTS:
        gib = n_elements * 8 / 2**30
        raise ValueError(
            f"{name}: this {what} would hold {n_elements:.3g} elements (~{gib:.3g} GiB as float64), "
            f"above the limit of {MAX_ELEMENTS:.3g} elements; use a smaller value"
        )


def check_bounds(bounds) -> np.ndarray:
    """Validate ``bounds`` as a float array of shape (d, 2) with lo < hi; return it."""
    try:
        b = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"bounds: expected an array-like of shape (d, 2), got {bounds!r}") from exc
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] < 1:
        raise ValueError(f"bounds: expected shape (d, 2) with d >= 1, got shape {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"bounds: all entries must be finite, got {b.tolist()}")
    bad = np.flatnonzero(b[:, 0] >= b[:, 1])
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"bounds: need lo < hi on every axis; axis {i} has lo={b[i, 0]} >= hi={b[i, 1]}"
        )
    return b


def _range_text(kind: str, minimum, maximum, strict: bool = False, strict_max: bool = False) -> str:
    minimum, maximum = (f"{v:g}" if isinstance(v, float) else v for v in (minimum, maximum))
    if minimum is not None and maximum is not None:
        return f"{kind} in {'(' if strict else '['}{minimum}, {maximum}{')' if strict_max else ']'}"
    if minimum is not None:
        return f"{kind} {'>' if strict else '>='} {minimum}"
    if maximum is not None:
        return f"{kind} {'<' if strict_max else '<='} {maximum}"
    return kind


def renamed(**old_to_new: str):
    """Decorator: accept the old keyword names for one release, with a DeprecationWarning.

    ``@renamed(budget="max_evals")`` lets ``f(budget=100)`` mean ``f(max_evals=100)``.
    """
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{fn.__name__}: got both {old}= (deprecated) and {new}=")
                    warnings.warn(f"{fn.__name__}: {old}= is deprecated; use {new}=",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)
        return inner
    return wrap
