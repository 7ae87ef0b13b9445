"""The feedback object every check returns, and shared formatting helpers."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Result"]


@dataclass(frozen=True)
class Result:
    """The outcome of one check: passed or not, expected vs got, and a hint."""

    name: str
    passed: bool
    expected: str
    got: str
    hint: str = ""

    def __bool__(self) -> bool:
        """True when the check passed."""
        return self.passed

    @property
    def answered(self) -> bool:
        """False while the learner has given nothing yet (the expected answer stays hidden)."""
        return self.got not in ("None", "nan", "", "not implemented yet")

    def _expected_shown(self) -> str:
        # revealing the answer before a first attempt would spoil the exercise
        return self.expected if self.answered else "(shown after your first answer)"

    def __str__(self) -> str:
        """Plain-text feedback (terminals, logs)."""
        mark = "PASSED" if self.passed else "NOT YET"
        lines = [f"[{mark}] {self.name}", f"  expected: {self._expected_shown()}",
                 f"  got:      {self.got}"]
        if self.hint and not self.passed:
            lines.append(f"  hint:     {self.hint}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """A coloured feedback box for Jupyter."""
        ok = self.passed
        color, bg, mark = ("#1a7f37", "#eef9f0", "&#10004; passed") if ok else (
            "#b35900", "#fff6ea", "&#10008; not yet")
        rows = [("expected", self._expected_shown()), ("got", self.got)]
        if self.hint and not ok:
            rows.append(("hint", self.hint))
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
