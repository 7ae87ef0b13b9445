"""Checks computed from a notebook's own results (notebooks 04-07), so they hold for any run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zoo_lab._util.validate import check_float, check_int
from zoo_lab.teaching._result import Result

# ----------------------------------------------------------------------------- low data (04)

__all__ = ["catch_up_labels", "check_catch_up", "best_scheme", "check_best_scheme", "closer_to_optimum", "check_closer_to_optimum", "optimistic_share", "check_optimistic_share", "cv_relative_mse", "check_cv_prediction"]


def _medians(df: pd.DataFrame, n: int) -> tuple[float, float]:
    g = df[df["n_labels"] == n].groupby("mode")["test_rmse"].median()
    return float(g["data"]), float(g["coupled"])


def catch_up_labels(df: pd.DataFrame, within: float = 0.1):
    """Fewest labels from which on data-only's median test RMSE is within ``within`` of coupled's.

    ``df`` is one problem's ``zl.studies.low_data_study`` table. "From which on" means at that
    label count and every larger one; returns ``"never"`` when even the largest count misses.
    """
    ns = sorted(int(n) for n in df["n_labels"].unique())
    if not ns or not {"data", "coupled"} <= set(df["mode"]):
        raise ValueError("df: needs rows of both modes 'data' and 'coupled' (a low_data_study table)")
    answer = "never"
    for n in reversed(ns):
        d, c = _medians(df, n)
        if d > (1 + within) * c:
            break
        answer = n
    return answer


def check_catch_up(got, df: pd.DataFrame, within: float = 0.1) -> Result:
    """Check the label count at which data-only catches up with coupling, read from ``df``."""
    name = f"labels at which data-only catches up (within {within:.0%} of coupled)"
    ns = sorted(int(n) for n in df["n_labels"].unique())
    options = [*ns, "never"]
    want = catch_up_labels(df, within)
    expected = f"{want!r} (one of {options!r})"
    if got not in options:
        return Result(name, False, expected, repr(got), f"pick one of {options!r}")
    if got == want:
        return Result(name, True, expected, repr(got))
    if got == "never" or (want != "never" and got > want):
        d, c = _medians(df, want)
        hint = f"look at n = {want}: data-only median {d:.3g} vs coupled {c:.3g}"
    else:
        bad = next(n for n in reversed(ns) if _medians(df, n)[0] > (1 + within) * _medians(df, n)[1])
        d, c = _medians(df, bad)
        hint = (f"at n = {bad} data-only is still behind: median {d:.3g} vs coupled {c:.3g} "
                "(it must keep up at every larger n too)")
    return Result(name, False, expected, repr(got), hint)


# ----------------------------------------------------------------------------- proxies (05)


def _scheme_medians(df: pd.DataFrame, value: str) -> pd.Series:
    return df[df["n"] == df["n"].min()].groupby("scheme")[value].median().sort_values()


def best_scheme(df: pd.DataFrame, value: str = "nrmse") -> str:
    """The scheme with the lowest median ``value`` at the smallest n of a ``proxy_grid`` table."""
    if df.empty or not {"n", "scheme", value} <= set(df.columns):
        raise ValueError(f"df: needs columns n, scheme and {value!r} (a proxy_grid table)")
    return str(_scheme_medians(df, value).index[0])


def check_best_scheme(got, df: pd.DataFrame, value: str = "nrmse") -> Result:
    """Check which scheme has the lowest median ``value`` at the smallest n, read from ``df``."""
    med = _scheme_medians(df, value)
    name = f"lowest median {value} at n = {int(df['n'].min())}"
    want = best_scheme(df, value)
    expected = f"{want!r} (one of {list(med.index)!r})"
    if got not in list(med.index):
        return Result(name, False, expected, repr(got), f"pick one of {list(med.index)!r}")
    if got == want:
        return Result(name, True, expected, repr(got))
    return Result(name, False, expected, repr(got),
                  f"median {value} of {got!r} is {med[got]:.3g}, {want!r} has {med[want]:.3g}: "
                  "filter df to the smallest n, group by scheme, take the median")


# ----------------------------------------------------------------------------- stability (06)


def _dist_medians(df: pd.DataFrame) -> pd.Series:
    if not {"on", "dist_to_opt"} <= set(df.columns) or not {"proxy", "true"} <= set(df["on"]):
        raise ValueError("df: needs proxy and true runs with a dist_to_opt column (a stability table)")
    return df.groupby("on")["dist_to_opt"].median()


def closer_to_optimum(df: pd.DataFrame) -> str:
    """``"proxy"`` or ``"true"``: whose returned points lie closer to x* (median over runs)."""
    med = _dist_medians(df)
    return "proxy" if med["proxy"] < med["true"] else "true"


def check_closer_to_optimum(got, df: pd.DataFrame) -> Result:
    """Check whether runs on the proxy or on the true function end closer to x*, read from ``df``."""
    med = _dist_medians(df)
    name = "closer to x*: runs on the proxy or on the true function (median distance)"
    want = closer_to_optimum(df)
    expected = f"{want!r} (one of ['proxy', 'true'])"
    if got not in ("proxy", "true"):
        return Result(name, False, expected, repr(got), "pick 'proxy' or 'true'")
    if got == want:
        return Result(name, True, expected, repr(got))
    return Result(name, False, expected, repr(got),
                  f"median distance to x*: proxy runs {med['proxy']:.3g}, true runs {med['true']:.3g}")


def optimistic_share(df: pd.DataFrame) -> float:
    """Fraction of proxy runs whose proxy value at the returned point is below the true one."""
    proxy = df[df["on"] == "proxy"]
    if proxy.empty or "proxy_gap" not in proxy:
        raise ValueError("df: needs proxy runs with a proxy_gap column (a stability table)")
    return float((proxy["proxy_gap"] < 0).mean())


def check_optimistic_share(got, df: pd.DataFrame) -> Result:
    """Check the fraction of proxy runs with a negative proxy gap, read from ``df`` (± 0.01)."""
    name = "share of proxy runs where the proxy is optimistic (proxy_gap < 0)"
    want = optimistic_share(df)
    expected = f"{want:.3f} (a fraction in [0, 1], ± 0.01)"
    try:
        g = float(got)
    except (TypeError, ValueError):
        return Result(name, False, expected, repr(got), "give a fraction, e.g. 0.25")
    if abs(g - want) <= 0.01:
        return Result(name, True, expected, f"{g:.3f}")
    gaps = df[df["on"] == "proxy"]["proxy_gap"]
    if abs(g - float((gaps > 0).mean())) <= 0.01 or abs(g - float((gaps >= 0).mean())) <= 0.01:
        hint = "that is the share of pessimistic runs: optimistic means proxy_gap < 0"
    elif abs(g / 100 - want) <= 0.01:
        hint = "give a fraction between 0 and 1, not a percentage"
    elif abs(g - float((df["proxy_gap"] < 0).mean())) <= 0.01:
        hint = "count the proxy runs only (df['on'] == 'proxy'): true runs have no proxy gap"
    else:
        hint = "take the proxy runs, then the mean of (proxy_gap < 0)"
    return Result(name, False, expected, f"{g:.3f}", hint)


# ----------------------------------------------------------------------------- guided ZO (07)


def cv_relative_mse(d: int, q: int, rho: float) -> float:
    """Control variate with q Gaussian forward directions, locally linear f:
    E‖ĝ − ∇f‖²/‖∇f‖² = ((d+1)/q)·ρ², ρ = ‖∇(f − p)‖/‖∇f‖ (plain ZO: (d+1)/q)."""
    d, q = check_int("d", d, 1), check_int("q", q, 1)
    rho = check_float("rho", rho, 0.0)
    return (d + 1) / q * float(rho) ** 2


def check_cv_prediction(pred, d: int, q: int, rho: float) -> Result:
    """Check a predicted control-variate relative MSE against ((d+1)/q)·ρ² (5 %)."""
    want = cv_relative_mse(d, q, rho)
    name = f"control-variate relative MSE, d={d}, q={q}, ρ={rho:g}"
    try:
        g = float(pred)
    except (TypeError, ValueError):
        return Result(name, False, f"{want:.4g}", repr(pred), "give a number")
    if np.isclose(g, want, rtol=0.05):
        return Result(name, True, f"{want:.4g}", f"{g:.4g}")
    plain = (d + 1) / q
    if np.isclose(g, plain, rtol=0.05):
        hint = "that is plain Gaussian ZO's error: the control variate multiplies it by ρ²"
    elif np.isclose(g, plain * rho, rtol=0.05):
        hint = "the error is a squared norm: ρ enters squared"
    else:
        hint = "plain Gaussian ZO has (d+1)/q; the control variate estimates the residual, ρ times smaller"
    return Result(name, False, f"{want:.4g}", f"{g:.4g}", hint)
