"""Tables for notebooks: chosen columns, readable names, 3 significant figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from zoo_lab._util.validate import check_int
from zoo_lab.plots._style import label

__all__ = ["round_frame", "round_table", "sig_figs"]


def sig_figs(value, digits: int = 3) -> str:
    """``value`` written with ``digits`` significant figures: 0.0123, 1.50, 12300, 1.23e-07.

    Plain decimals from 1e-3 up to 1e6; scientific notation outside, where zeros would
    hide the figures that matter.
    """
    digits = check_int("digits", digits, minimum=1)
    v = float(value)
    if not math.isfinite(v):
        return "" if math.isnan(v) else str(v)
    if v == 0:
        return "0"
    e = math.floor(math.log10(abs(float(f"{v:.{digits - 1}e}"))))  # exponent after rounding
    if -3 <= e < 6:
        decimals = max(0, digits - 1 - e)
        return f"{round(v, digits - 1 - e):.{decimals}f}"
    return f"{v:.{digits - 1}e}"


def round_frame(df: pd.DataFrame, columns=None, digits: int = 3) -> pd.DataFrame:
    """``df`` with only ``columns`` (default all), floats rounded to ``digits`` significant figures.

    Columns and index levels get readable names (:data:`~zoo_lab.plots._style.LABELS`);
    integers stay integers.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
    digits = check_int("digits", digits, minimum=1)
    cols = list(df.columns) if columns is None else list(columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"columns: {missing} not in the frame; it has {list(df.columns)}")
    out = df[cols].copy()
    for c in cols:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: float(f"{v:.{digits - 1}e}") if np.isfinite(v) else v)
    if isinstance(out.columns, pd.MultiIndex):  # a pivot over several keys: its headers are values
        out.columns = out.columns.set_names([None if n is None else label(n) for n in out.columns.names])
    else:
        names = [label(c) for c in cols]
        if len(set(names)) < len(names):
            raise ValueError(f"columns: {cols} give the same readable name twice ({names}); choose fewer")
        out.columns = names
        out.columns.name = None if df.columns.name is None else label(df.columns.name)
    out.index.names = [None if n is None else label(n) for n in out.index.names]
    return out


def round_table(df: pd.DataFrame, columns=None, digits: int = 3) -> Styler:
    """:func:`round_frame` for display: every float shown with ``digits`` significant figures.

    A plain frame would print a column of 0.0123 and 12300 as 0.0123 and 12300.0000; the
    styled table writes each number as :func:`sig_figs` does. ``.data`` is the rounded frame.
    """
    out = round_frame(df, columns, digits)
    floats = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
    style = out.style.format(lambda v: sig_figs(v, digits), subset=floats)
    if pd.api.types.is_float_dtype(out.index):
        style = style.format_index(lambda v: sig_figs(v, digits), axis=0)
    return style
