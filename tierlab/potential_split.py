"""Calibration/holdout split: what was known at a cutoff, and what happened afterwards.

:func:`calibration_holdout` gives per-customer calibration features (the BTYD summary and RFM
columns at the cutoff) and holdout outcomes; :func:`window_outcomes` counts purchases and net
spend in any window of days. Everything is vectorized over customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tierlab.calendar import as_day
from tierlab.errors import ArgumentError, DataError
from tierlab.features import btyd_summary, rfm
from tierlab.frames import check_transactions

__all__ = [
    "CALIBRATION_COLUMNS",
    "HOLDOUT_COLUMNS",
    "calibration_features",
    "calibration_holdout",
    "periods_between",
    "window_outcomes",
]

#: Calibration features produced by :func:`calibration_holdout`.
CALIBRATION_COLUMNS: tuple[str, ...] = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "monetary_total",
    "frequency_orders",
    "recency_days",
    "tenure_days",
    "active_months",
    "returns",
)
#: Holdout outcomes produced by :func:`calibration_holdout`.
HOLDOUT_COLUMNS: tuple[str, ...] = (
    "holdout_purchases",
    "holdout_spend",
    "holdout_bought",
    "duration_holdout",
)

_DAY = pd.Timedelta(days=1)


def periods_between(start: pd.Timestamp, end: pd.Timestamp, time_unit: str) -> float:
    """Length of (start, end] in ``time_unit`` periods, measured as btyd_summary measures T."""
    try:
        return float(end.to_period(time_unit).ordinal - start.to_period(time_unit).ordinal)
    except (ValueError, TypeError) as exc:
        raise ArgumentError(
            f"time_unit={time_unit!r} is not a pandas period frequency: {exc}"
        ) from None


def calibration_features(tx: pd.DataFrame, cutoff: pd.Timestamp, time_unit: str,
                          func: str) -> pd.DataFrame:
    """BTYD summary plus RFM columns at ``cutoff`` for customers with a purchase by then."""
    first_day = tx["timestamp"].min().normalize()
    if cutoff < first_day:
        raise DataError(
            f"{func}: no transactions on or before the cutoff {cutoff.date()} (the data start on "
            f"{first_day.date()}); choose a later cutoff"
        )
    try:
        summary = btyd_summary(tx, as_of=cutoff, time_unit=time_unit)
    except DataError as exc:
        raise DataError(f"{func}: {exc}") from None
    feats = rfm(tx, as_of=cutoff)
    feats = feats.rename(columns={"frequency": "frequency_orders"})
    rfm_cols = [c for c in CALIBRATION_COLUMNS if c in feats.columns]
    out = summary.join(feats[rfm_cols], how="inner")
    return out.loc[:, list(CALIBRATION_COLUMNS)]


def window_outcomes(tx: pd.DataFrame, ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp,
                     time_unit: str) -> pd.DataFrame:
    """Purchase periods and net spend in the days (start, end] for the customers ``ids``."""
    ts = tx["timestamp"].to_numpy()
    inside = (ts >= (start + _DAY).to_datetime64()) & (ts < (end + _DAY).to_datetime64())
    win = tx.loc[inside]
    codes = ids.get_indexer(pd.Index(win["customer_id"]))
    known = codes >= 0
    codes = codes[known]
    amount = win["amount"].to_numpy(dtype="float64")[known]
    n = len(ids)
    spend = np.bincount(codes, weights=amount, minlength=n)
    buy = amount >= 0
    if buy.any():
        ordinal = win["timestamp"].dt.to_period(time_unit).array.asi8[known][buy]
        pairs = pd.DataFrame({"c": codes[buy], "p": ordinal}).drop_duplicates()
        purchases = np.bincount(pairs["c"].to_numpy(), minlength=n)
    else:
        purchases = np.zeros(n, dtype=np.int64)
    return pd.DataFrame(
        {"purchases": purchases.astype(np.int64), "spend": spend + 0.0}, index=ids
    )


def calibration_holdout(tx: pd.DataFrame, cutoff, end=None, *,
                        time_unit: str = "D") -> pd.DataFrame:
    """Split transactions at ``cutoff`` into calibration features and holdout outcomes.

    Calibration uses every row on or before the cutoff day; the holdout is the days after the
    cutoff up to and including ``end``. Dates are whole days (a row at 18:00 on the cutoff day
    belongs to calibration).

    Customers whose first purchase comes after the cutoff are **excluded**: nothing was known
    about them at the cutoff, so there is nothing to predict from. Customers with only returns
    (negative amounts) up to the cutoff are excluded too (they have no purchase to start from).

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount`` …).
    cutoff : date-like
        Last day of the calibration period.
    end : date-like, optional
        Last day of the holdout period; defaults to the last date in ``tx``.
    time_unit : str
        Period of the BTYD summary (``"D"`` days by default, ``"W"`` weeks …); ``frequency``,
        ``recency``, ``T`` and ``holdout_purchases`` count in this unit.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted) with the calibration columns
        ``frequency``, ``recency``, ``T``, ``monetary_value`` (see
        :func:`tierlab.features.btyd_summary`), ``monetary_total``, ``frequency_orders`` (orders,
        rfm's ``frequency``), ``recency_days``, ``tenure_days``, ``active_months``, ``returns``
        (see :func:`tierlab.features.rfm`), and the holdout outcomes ``holdout_purchases``
        (distinct purchase periods — days by default — with a row ``amount >= 0``),
        ``holdout_spend`` (net, returns included), ``holdout_bought`` (bool) and
        ``duration_holdout`` (days from the cutoff to ``end``).

    Raises
    ------
    DataError
        If there is no purchase on or before the cutoff.
    ArgumentError
        If ``end`` is not after ``cutoff``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"],
    ...                    "timestamp": pd.to_datetime(["2025-01-01", "2025-01-11", "2025-02-05",
    ...                                                 "2025-01-20", "2025-02-01"]),
    ...                    "amount": [10.0, 20.0, 40.0, 5.0, 8.0]})
    >>> ch = calibration_holdout(tx, "2025-01-31", "2025-02-28")
    >>> ch[["frequency", "recency", "T", "holdout_purchases", "holdout_spend"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency     T  holdout_purchases  holdout_spend
    customer_id
    a                  1.0     10.0  30.0                  1           40.0
    b                  0.0      0.0  11.0                  0            0.0
    """
    check_transactions(tx, "calibration_holdout", allow_empty=False)
    cutoff = as_day(cutoff, "cutoff", error=ArgumentError)
    end = (tx["timestamp"].max().normalize() if end is None
           else as_day(end, "end", error=ArgumentError))
    if end <= cutoff:
        raise ArgumentError(
            f"calibration_holdout: end ({end.date()}) must be after cutoff ({cutoff.date()}); "
            "the holdout is the days after the cutoff up to end"
        )
    periods_between(cutoff, end, time_unit)  # validates time_unit with a clear message
    cal = calibration_features(tx, cutoff, time_unit, "calibration_holdout")
    hold = window_outcomes(tx, cal.index, cutoff, end, time_unit)
    out = cal.copy()
    out["holdout_purchases"] = hold["purchases"]
    out["holdout_spend"] = hold["spend"]
    out["holdout_bought"] = hold["purchases"] > 0
    out["duration_holdout"] = np.int64((end - cutoff).days)
    return out
