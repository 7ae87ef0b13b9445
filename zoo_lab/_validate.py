"""Argument checks shared across modules: one wording for every "expected an int" error."""

from __future__ import annotations

import numbers


def check_int(name: str, value, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``; else TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)
