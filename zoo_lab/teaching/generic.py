"""Generic checks (a number, a choice) and the concept quizzes."""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo_lab.teaching._result import Result, _fmt

# ----------------------------------------------------------------------------- generic

__all__ = ["check_value", "check_choice", "check_quiz", "QUIZZES", "smoke_banner"]


class _Banner:
    """A visible warning box (HTML in Jupyter, one line in text)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"*** {self.text} ***"

    def _repr_html_(self) -> str:
        import html

        return ("<div style='border:2px solid #b30000;background:#fff0f0;color:#b30000;padding:6px 10px;"
                f"margin:4px 0;font-weight:bold'>{html.escape(self.text)}</div>")


def smoke_banner(smoke: bool, what: str = "") -> _Banner | None:
    """A "SMOKE: numbers are not results" banner when ``smoke`` is true (nothing otherwise)."""
    if not smoke:
        return None
    return _Banner("SMOKE: numbers are not results" + (f" ({what})" if what else "")
                   + ". Run with SMOKE = False for the sizes the text describes.")


def check_value(got, expected: float, *, name: str, rtol: float = 0.05, atol: float = 0.0,
                hint: str = "") -> Result:
    """Check a number (or array) against ``expected`` within ``rtol``/``atol``: for quick exercises."""
    want = f"{_fmt(expected)} (relative tolerance {rtol:g})"
    try:
        g = np.asarray(got, dtype=float)
        ok = g.shape == np.shape(expected) and bool(np.allclose(g, expected, rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        return Result(name, False, want, repr(got), hint or "give a number")
    return Result(name, ok, want, _fmt(g) if g.ndim else f"{float(g):.4g}",
                  hint or "compare your number with the formula in the text above")


def check_choice(got, expected, *, name: str, options=None, hints: dict | None = None) -> Result:
    """Check a multiple-choice answer; ``hints`` maps each wrong option to its own hint."""
    want = f"{expected!r}" + (f" (one of {list(options)!r})" if options is not None else "")
    if options is not None and got not in list(options):
        return Result(name, False, want, repr(got), f"pick one of {list(options)!r}")
    if got == expected:
        return Result(name, True, want, repr(got))
    return Result(name, False, want, repr(got),
                  (hints or {}).get(got, "re-read the section above and try another option"))


# ----------------------------------------------------------------------------- quizzes

# Concept questions of the notebooks, answered by their text. The public dict holds the
# question, its options and hints; the answers live in _ANSWERS (reached by
# solution), so tab completion on QUIZZES does not spoil them. Not a secret: the source is open.
QUIZZES: dict[str, dict[str, Any]] = {
    "exact_vjp_estimator": dict(
        name="exact VJP up to O(μ²) with 2d solver rows per rod",
        options=("gaussian forward", "gaussian central", "sphere central", "coordinate forward",
                 "coordinate central"),
        hints={"gaussian forward": "random directions leave sampling error at any μ; forward costs q + 1 rows",
               "gaussian central": "random directions leave sampling error however small μ is",
               "sphere central": "random directions leave sampling error however small μ is",
               "coordinate forward": "forward differences have an O(μ) error and cost d + 1 rows"}),
    "coupling_follows_program": dict(
        name="coupling makes the network agree with the program, not with experiment",
        options=(True, False),
        hints={False: "the knowledge loss compares with what F computes: if F is biased, so is the network"}),
    "mean_predictor_nrmse": dict(
        name="nrmse of a proxy that always predicts the mean of f", rtol=0.05,
        hint="nrmse = RMSE / std(f), and predicting the mean leaves an RMSE of std(f)"),
    "cv_exact_proxy": dict(
        name="control_variate with proxy p = f exactly returns",
        options=("the true gradient (to rounding)", "the true gradient plus ZO noise",
                 "the plain Gaussian ZO estimate", "zero"),
        hints={"the true gradient plus ZO noise": "the ZO part estimates ∇(f − p); what is f − p here?",
               "the plain Gaussian ZO estimate": "that is what a proxy p = 0 gives",
               "zero": "the ZO residual is zero, but ∇p is added back"}),
    "cheapest_perfect_proxy": dict(
        name="fewest real rows to a target when the proxy is exact",
        options=("gaussian", "coordinate", "proxy_only", "control_variate", "guided_es",
                 "prior_guided"),
        hints={"control_variate": "exact, but it still pays q + 1 real rows per step for the correction",
               "prior_guided": "it still pays q + 2 real rows per step to check the prior",
               "guided_es": "it still pays its q real rows per step",
               "gaussian": "it ignores the proxy", "coordinate": "it ignores the proxy"}),
}


_ANSWERS: dict[str, Any] = {
    "exact_vjp_estimator": "coordinate central",
    "coupling_follows_program": True,
    "mean_predictor_nrmse": 1.0,
    "cv_exact_proxy": "the true gradient (to rounding)",
    "cheapest_perfect_proxy": "proxy_only",
}


def _quiz_answer(name: str) -> Any:
    """The reference answer of the concept question ``name`` (for instructors and tests)."""
    if name not in _ANSWERS:
        raise ValueError(f"name: unknown quiz {name!r}; allowed: {', '.join(sorted(_ANSWERS))}")
    return _ANSWERS[name]


def check_quiz(name: str, got) -> Result:
    """Check the answer to the concept question ``name`` of :data:`QUIZZES`."""
    if name not in QUIZZES:
        raise ValueError(f"name: unknown quiz {name!r}; allowed: {', '.join(sorted(QUIZZES))}")
    qz = QUIZZES[name]
    if "options" in qz:
        return check_choice(got, _ANSWERS[name], name=qz["name"], options=qz["options"],
                            hints=qz.get("hints"))
    return check_value(got, _ANSWERS[name], name=qz["name"], rtol=qz["rtol"], hint=qz["hint"])
