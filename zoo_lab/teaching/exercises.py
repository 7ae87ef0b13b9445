"""Coding exercises: a learner's function is run on fixed cases and compared with a reference.

A coding exercise is registered once, next to its reference implementation::

    @coding_exercise("03.vjp_row", title="one row's ZO vᵀJ", stub="my_vjp_row",
                     cases=_vjp_cases, hint="...", mistakes={_forgot_mu: "divide by μ"})
    def _vjp_row(program, z, v, U, mu): ...

and checked in the notebook with ``zl.teaching.check_code("03.vjp_row", my_vjp_row)``.
``cases()`` returns a list of argument tuples (deterministic: no fresh randomness, so the
learner's function and the reference see the same inputs). A case passes when the learner's
output has the reference's shape and is ``np.allclose`` to it (``rtol``/``atol``), or when
``compare(got, want)`` says so. ``mistakes`` maps known wrong implementations (the wrong
law, a missing factor) to the hint they deserve: when the learner's output matches one,
that hint is given instead of the generic one.
"""

from __future__ import annotations

import copy
import inspect
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo_lab.teaching._result import Result, _crashed, _fmt

__all__ = ["coding_exercise", "check_code", "exercise_names", "solution_source"]


@dataclass(frozen=True)
class _Exercise:
    key: str
    title: str
    reference: Callable[..., Any]
    cases: Callable[[], Sequence[tuple]]
    hint: str
    more_hint: str = ""
    stub: str = ""
    rtol: float = 1e-6
    atol: float = 1e-9
    compare: Callable[[Any, Any], bool] | None = None
    describe: Callable[..., str] | None = None
    mistakes: dict[Callable[..., Any], str] = field(default_factory=dict)


_EXERCISES: dict[str, _Exercise] = {}


def coding_exercise(key: str, *, title: str, cases: Callable[[], Sequence[tuple]], hint: str,
                    more_hint: str = "", stub: str = "", rtol: float = 1e-6, atol: float = 1e-9,
                    compare: Callable[[Any, Any], bool] | None = None,
                    describe: Callable[..., str] | None = None,
                    mistakes: dict[Callable[..., Any], str] | None = None):
    """Decorator: register the function below as the reference of coding exercise ``key``."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"key: expected a non-empty string like '03.vjp_row', got {key!r}")

    def register(reference: Callable[..., Any]) -> Callable[..., Any]:
        if key in _EXERCISES and _EXERCISES[key].reference is not reference:
            raise ValueError(f"key: coding exercise {key!r} is registered twice")
        _EXERCISES[key] = _Exercise(key, title, reference, cases, hint, more_hint, stub, rtol, atol,
                                    compare, describe, dict(mistakes or {}))
        return reference

    return register


def _get(key: str) -> _Exercise:
    if key not in _EXERCISES:
        raise ValueError(f"key: unknown coding exercise {key!r}; allowed: {', '.join(sorted(_EXERCISES))}")
    return _EXERCISES[key]


def exercise_names() -> list[str]:
    """The keys of all registered coding exercises, sorted."""
    return sorted(_EXERCISES)


def _as_array(x: Any) -> np.ndarray:
    """A learner's output as a float array (torch tensors are detached and moved to the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _same(ex: _Exercise, got: Any, want: Any) -> bool:
    if ex.compare is not None:
        return bool(ex.compare(got, want))
    try:
        g, w = _as_array(got), _as_array(want)
    except (TypeError, ValueError):
        return False
    return g.shape == w.shape and bool(np.allclose(g, w, rtol=ex.rtol, atol=ex.atol))


def _matches(ex: _Exercise, got: Any, wrong: Callable[..., Any], args: tuple) -> bool:
    """True when the learner's output equals what the known mistake ``wrong`` gives on ``args``."""
    try:
        return _same(ex, got, wrong(*copy.deepcopy(args)))
    except Exception:  # a mistake model that cannot run on this case simply does not match
        return False


def _changed_inputs(before: tuple, after: tuple) -> bool:
    """True when the learner's function wrote into one of its array arguments."""
    return any(isinstance(b, np.ndarray) and not np.array_equal(b, a, equal_nan=True)
               for b, a in zip(before, after, strict=True))


def _show(x: Any) -> str:
    try:
        return _fmt(_as_array(x))
    except (TypeError, ValueError):
        return repr(x)[:200]


def check_code(key: str, fn: Callable[..., Any]) -> Result:
    """Check a learner's function against the reference of coding exercise ``key``, case by case."""
    ex = _get(key)
    name = f"{ex.title} ({key})"
    expected = "the reference output on every test case"
    if not callable(fn):
        return Result(name, False, expected, repr(fn)[:200],
                      f"give the function itself ({ex.stub or 'my_fn'}, without calling it)")
    cases = list(ex.cases())
    for i, args in enumerate(cases):
        where = ex.describe(*args) if ex.describe else f"test case {i + 1} of {len(cases)}"
        want = ex.reference(*copy.deepcopy(args))
        mine = copy.deepcopy(args)
        try:
            got = fn(*mine)
        except Exception as exc:  # learner code: report, never raise
            return _crashed(name, expected, exc)
        if _changed_inputs(args, mine):
            return Result(name, False, f"{_show(want)} on {where}", "your function changed its input",
                          "work on a copy (x.copy()); do not write into the arrays you are given")
        if _same(ex, got, want):
            continue
        hint = next((h for wrong, h in ex.mistakes.items() if _matches(ex, got, wrong, args)), ex.hint)
        try:
            shape_bad = _as_array(got).shape != _as_array(want).shape
        except (TypeError, ValueError):
            shape_bad = True
        if shape_bad and ex.compare is None:
            hint = f"the reference returns shape {_as_array(want).shape}; " + hint
        return Result(name, False, f"{_show(want)} on {where}", f"{_show(got)} on {where}",
                      hint, ex.more_hint)
    return Result(name, True, expected, f"matches the reference on all {len(cases)} test cases")


def solution_source(key: str) -> str:
    """The source code of the reference solution of coding exercise ``key`` (decorator removed)."""
    ex = _get(key)
    src = textwrap.dedent(inspect.getsource(ex.reference))
    lines = src.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
    body = "\n".join(lines[start:])
    if ex.stub:  # show it under the name the learner's stub has
        body = body.replace(f"def {ex.reference.__name__}(", f"def {ex.stub}(", 1)
    return body + "\n"
