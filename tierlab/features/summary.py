"""The frequency / recency / T / monetary summary of buy-till-you-die models (:func:`btyd_summary`).

Timestamps are cut to periods of a pandas frequency through a per-day lookup table, and the
counts run on integer customer codes (:mod:`tierlab._kernels.groupby`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tierlab._kernels import groupby
from tierlab._kernels.factorize import factorize
from tierlab.calendar import DAY_NS, epoch_days32
from tierlab.errors import DataError
from tierlab.frames import check_transactions, observation_date

__all__ = ["btyd_summary"]

_DAY = np.int64(DAY_NS)


# long through its docstring; the body is ~35 lines
def btyd_summary(tx: pd.DataFrame, *, as_of: Any = None, time_unit: str = "D",
                 time_scaler: float = 1.0) -> pd.DataFrame:
    """Frequency / recency / T / monetary summary for buy-till-you-die models.

    The definitions are those of lifetimes' ``summary_data_from_transaction_data`` and
    pymc-marketing's ``rfm_summary``: timestamps are cut to periods of ``time_unit``;
    ``frequency`` is the number of *repeat* purchase periods (distinct periods − 1),
    ``recency`` the time between the first and the last purchase period, ``T`` the time between
    the first purchase period and ``as_of``, both divided by ``time_scaler``, and
    ``monetary_value`` the mean spend per repeat purchase period (0 when ``frequency`` is 0).
    These models describe purchasing, so only rows with ``amount >= 0`` are used here (returns
    count in :func:`rfm`'s ``monetary_total``).

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions.
    as_of : date-like, optional
        End of the observation period; defaults to the last date in the data.
    time_unit : str
        A pandas period frequency, ``"D"`` (days, default), ``"W"``, ``"M"``…
    time_scaler : float
        Divides recency and T (e.g. 7 to express days in weeks).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` with ``frequency``, ``recency``, ``T``, ``monetary_value``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2025-01-01", "2025-01-01",
    ...                                                 "2025-01-11", "2025-01-05"]),
    ...                    "amount": [10.0, 5.0, 30.0, 7.0]})
    >>> btyd_summary(tx, as_of="2025-01-31")
                 frequency  recency     T  monetary_value
    customer_id
    a                  1.0     10.0  30.0            30.0
    b                  0.0      0.0  26.0             0.0
    """
    check_transactions(tx, "btyd_summary")
    as_of = observation_date(tx, as_of)
    keep = groupby.keep_before(tx, as_of + pd.Timedelta(days=1))
    amount = tx["amount"].to_numpy(dtype="float64")
    purchase = amount >= 0
    if keep is not None:
        purchase &= keep
    if not purchase.any():
        raise DataError("btyd_summary: no purchases (amount >= 0) up to as_of")
    sel = None if purchase.all() else purchase
    try:
        as_of_per = pd.Timestamp(as_of).to_period(time_unit)
        period, base = _period_ordinals(tx["timestamp"], sel, time_unit)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"time_unit={time_unit!r} is not a pandas period frequency: {exc}"
        ) from None
    codes, ids = factorize(tx["customer_id"], sel)
    n = len(ids)
    if sel is not None:
        amount = amount[sel]
    first, last = groupby.min_max(codes, period, n)  # relative to base
    periods = groupby.distinct_counts(codes, period, n, int(last.max()) + 1)
    # spend in periods after each customer's first one
    later = period != first.astype(period.dtype)[codes]
    del period
    repeat_spend = np.bincount(codes, weights=np.where(later, amount, 0.0), minlength=n)
    first, last = first + base, last + base
    frequency = periods - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0)
    return pd.DataFrame(
        {
            "frequency": frequency.astype(float),
            "recency": (last - first) / float(time_scaler),
            "T": (as_of_per.ordinal - first) / float(time_scaler),
            "monetary_value": monetary,
        },
        index=pd.Index(ids, name="customer_id"),
    )


def _period_ordinals(ts: pd.Series, sel: np.ndarray | None,
                     time_unit: str) -> tuple[np.ndarray, int]:
    """Period ordinal (pandas ``Period.ordinal``) of each selected timestamp, minus a base.

    Returns ``(ordinal - base, base)``. Periods of a day or longer depend on the date only:
    they are computed once per distinct day through a lookup table. Shorter ones (hours…) go
    through ``Series.dt.to_period``.
    """
    day = epoch_days32(ts)
    if sel is not None:
        day = day[sel]
    d0, d1 = int(day.min()), int(day.max())
    starts = np.arange(d0, d1 + 1, dtype=np.int64) * _DAY
    at_start = pd.DatetimeIndex(starts.view("datetime64[ns]")).to_period(time_unit).asi8
    at_end = pd.DatetimeIndex((starts + (_DAY - 1)).view("datetime64[ns]")).to_period(
        time_unit).asi8
    if np.array_equal(at_start, at_end):
        base = int(at_start.min())
        lut = at_start - base
        if lut.max() < 2**31:
            lut = lut.astype(np.int32)
        return lut[day - np.int32(d0)], base
    del day
    sub = ts if sel is None else ts[sel]
    per = sub.dt.to_period(time_unit)
    ordinal = per.array.asi8 if hasattr(per.array, "asi8") else per.to_numpy().astype(np.int64)
    base = int(ordinal.min())
    return ordinal - base, base
