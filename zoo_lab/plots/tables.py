"""Tables for notebooks: chosen columns, readable names, 3 significant figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zoo_lab.plots._style import label

__all__ = ["round_table"]


def round_table(df: pd.DataFrame, columns=None, digits: int = 3) -> pd.DataFrame:
    """``df`` with only ``columns`` (default all), numbers rounded to ``digits`` significant figures.

    Columns get readable names (:data:`LABELS`); integers stay integers.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
    cols = list(df.columns) if columns is None else list(columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"columns: {missing} not in the frame; it has {list(df.columns)}")
    if not (isinstance(digits, int) and digits >= 1):
        raise ValueError(f"digits: expected an int >= 1, got {digits!r}")
    out = df[cols].copy()
    for c in cols:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: float(f"{v:.{digits}g}") if np.isfinite(v) else v)
    return out.rename(columns={c: label(c) for c in cols})
