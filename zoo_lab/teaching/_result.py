"""The feedback object every check returns, and shared formatting helpers.

A wrong answer is counted per exercise (by the Result's ``name``) for the running kernel:
the first :data:`REVEAL_AFTER` wrong attempts show hints only, the next one shows the
expected answer too. Blank answers (``None``, ``[]``, an unfinished stub) are not attempts.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Result", "REVEAL_AFTER", "reset_attempts"]

# wrong attempts that show hints only; the expected answer appears from attempt REVEAL_AFTER + 1 on
REVEAL_AFTER = 2
_BLANK = ("None", "nan", "", "[]", "()", "not implemented yet")
_WRONG_ATTEMPTS: dict[str, int] = {}


def reset_attempts(name: str | None = None) -> None:
    """Forget the wrong attempts of exercise ``name`` (all exercises when None)."""
    if name is None:
        _WRONG_ATTEMPTS.clear()
    else:
        _WRONG_ATTEMPTS.pop(name, None)


@dataclass(frozen=True)
class Result:
    """The outcome of one check: passed or not, expected vs got, and a hint.

    ``more_hint`` (optional) is a second, more explicit hint shown from the second wrong
    attempt on. ``attempt`` is set on creation: the how-many-th wrong answer this is (0 when
    passed or blank).
    """

    name: str
    passed: bool
    expected: str
    got: str
    hint: str = ""
    more_hint: str = ""
    attempt: int = field(default=0, init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.passed and self.answered:
            _WRONG_ATTEMPTS[self.name] = _WRONG_ATTEMPTS.get(self.name, 0) + 1
            object.__setattr__(self, "attempt", _WRONG_ATTEMPTS[self.name])

    def __bool__(self) -> bool:
        """True when the check passed."""
        return self.passed

    @property
    def answered(self) -> bool:
        """False while the learner has given nothing yet (blank answers are not attempts)."""
        return self.got not in _BLANK

    @property
    def revealed(self) -> bool:
        """True when the expected answer may be shown: passed, or after REVEAL_AFTER wrong attempts."""
        return self.passed or self.attempt > REVEAL_AFTER

    def _expected_shown(self) -> str:
        # showing the answer before the learner has tried (twice) would spoil the exercise
        if self.revealed:
            return self.expected
        if not self.answered:
            return "(hidden: give an answer first)"
        left = REVEAL_AFTER + 1 - self.attempt
        return f"(hidden: shown after {left} more wrong attempt{'s' if left > 1 else ''}; read the hint)"

    def _hints(self) -> list[str]:
        if self.passed:
            return []
        shown = [self.hint] if self.hint else []
        if self.more_hint and self.attempt >= 2:
            shown.append(self.more_hint)
        return shown

    def __str__(self) -> str:
        """Plain-text feedback (terminals, logs)."""
        mark = "PASSED" if self.passed else "NOT YET"
        lines = [f"[{mark}] {self.name}", f"  expected: {self._expected_shown()}",
                 f"  got:      {self.got}"]
        lines += [f"  hint:     {h}" for h in self._hints()]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """A coloured feedback box for Jupyter."""
        ok = self.passed
        color, bg, mark = ("#1a7f37", "#eef9f0", "&#10004; passed") if ok else (
            "#b35900", "#fff6ea", "&#10008; not yet")
        if not ok and self.attempt:
            mark += f" (attempt {self.attempt})"
        rows = [("expected", self._expected_shown()), ("got", self.got)]
        rows += [("hint", h) for h in self._hints()]
        body = "".join(
            f"<tr><td style='padding:2px 8px;color:#555;vertical-align:top'>{k}</td>"
            f"<td style='padding:2px 8px'>{html.escape(v)}</td></tr>" for k, v in rows)
        return (f"<div style='border-left:4px solid {color};background:{bg};padding:6px 10px;"
                f"margin:4px 0'><b style='color:{color}'>{mark}</b> · {html.escape(self.name)}"
                f"<table style='margin-top:4px'>{body}</table></div>")


def _crashed(name: str, expected: str, exc: BaseException) -> Result:
    """A failed Result for learner code that raised."""
    if isinstance(exc, NotImplementedError):
        return Result(name, False, expected, "not implemented yet",
                      "replace `raise NotImplementedError` with your code, then run the cell again")
    return Result(name, False, expected, f"your code raised {type(exc).__name__}: {exc}",
                  "read the error message; try your function on a tiny input first")


def _fmt(a: Any) -> str:
    """Short printable form of a number or array."""
    return np.array2string(np.asarray(a, dtype=float), precision=4, threshold=8) \
        if np.ndim(a) else f"{float(a):.4g}"
