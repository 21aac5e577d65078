"""Shared inputs of the evaluation metrics: an assignment as ordered tiers, a window of days."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from tierlab.errors import DataError

__all__ = ["DateLike", "as_tiers", "between"]

#: A day as the evaluation functions accept it (``"2025-06-30"``, a date, a Timestamp).
DateLike = str | dt.date | np.datetime64

_DAY = pd.Timedelta(days=1)


def as_tiers(assignment: object, what: str = "assignment") -> pd.Series:
    """An assignment as a Series with string customer ids and an ordered categorical dtype.

    A non-categorical Series gets its sorted distinct values as the tier order.
    """
    if isinstance(assignment, pd.DataFrame):
        if "tier" in assignment.columns:
            assignment = assignment["tier"]
        else:
            raise DataError(f"{what}: expected a Series customer_id → tier (e.g. "
                            "hist.current['tier']), got a DataFrame without a 'tier' column")
    if not isinstance(assignment, pd.Series):
        raise DataError(f"{what}: expected a Series customer_id → tier, got "
                        f"{type(assignment).__name__}")
    s = assignment.copy()
    s.index = pd.Index(s.index.astype(str), name="customer_id")
    if s.index.duplicated().any():
        dup = s.index[s.index.duplicated()][:3].tolist()
        raise DataError(f"{what}: customer ids must be unique, found duplicates such as {dup}")
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not s.dtype.ordered:
            s = s.astype(pd.CategoricalDtype(s.cat.categories, ordered=True))
    else:
        s = s.astype(pd.CategoricalDtype(sorted(s.dropna().unique()), ordered=True))
    return s.rename("tier")


def between(tx: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
             ) -> pd.DataFrame:
    """Rows on the days ``start`` … ``end`` (both included; None = open)."""
    ts = tx["timestamp"].to_numpy()
    keep = np.ones(len(tx), dtype=bool)
    if start is not None:
        keep &= ts >= start.to_datetime64()
    if end is not None:
        keep &= ts < (end + _DAY).to_datetime64()
    return tx if keep.all() else tx.loc[keep]
