"""Recency, frequency and monetary features per customer (:func:`rfm`).

Policies (see the README's "Data policies"):

- **spend** nets returns: it is the sum of all amounts, negative ones included;
- **orders** count purchases, rows with ``amount >= 0``: distinct order ids when the frame has an
  ``order_id`` column (rows without an id count one each), otherwise rows; returns never count;
- a customer's first and last purchase are taken over purchase rows; a customer with returns
  only in the window falls back to those rows' dates;
- ``as_of`` defaults to the last date in the data, never today; rows after ``as_of`` are ignored.

The aggregates run on integer customer codes (:mod:`tierlab._kernels.groupby`); a Parquet path
is read column by column (:mod:`tierlab._kernels.parquet`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from tierlab._kernels import groupby
from tierlab._kernels.parquet import read_rows_before
from tierlab.calendar import DAY_NS, day_month_offsets, epoch_days
from tierlab.frames import check_transactions, observation_date

__all__ = ["rfm"]


# long through its docstring; the body is one pass of ten per-customer aggregates
def rfm(tx: pd.DataFrame | str | os.PathLike[str], as_of: Any = None) -> pd.DataFrame:
    """Recency, frequency and monetary features per customer at an observation date.

    Parameters
    ----------
    tx : DataFrame or path
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``[, ``order_id``]),
        or the path of a Parquet file holding them (e.g. written with
        ``load_transactions(...).transactions.to_parquet(...)``). A file is read column by
        column straight into integer codes, days and amounts — the fast, low-memory way for
        10M+ rows; it must be clean (a missing value raises a DataError naming the column and
        row).
    as_of : date-like, optional
        Observation date; rows after it are ignored. Defaults to the last date in ``tx``.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), with ``recency_days``, ``frequency`` (orders),
        ``monetary_total`` (net spend), ``monetary_mean`` (net spend per order, NaN without
        orders), ``first_purchase``, ``last_purchase``, ``tenure_days``, ``active_months``
        (distinct calendar months with a purchase), ``returns`` (count of negative rows) and
        ``return_amount`` (their sum, ≤ 0).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2025-01-05", "2025-03-01", "2025-02-10"]),
    ...                    "amount": [100.0, -20.0, 50.0]})
    >>> rfm(tx, as_of="2025-03-31")[["recency_days", "frequency", "monetary_total"]]
                 recency_days  frequency  monetary_total
    customer_id
    a                      85          1            80.0
    b                      49          1            50.0
    """
    if isinstance(tx, str | os.PathLike):
        as_of, keep, codes, ids, amount, day, order_id = read_rows_before(tx, "rfm", as_of)
    else:
        check_transactions(tx, "rfm")
        as_of = observation_date(tx, as_of)
        # int32 codes: the loader's cached ones, without an 8-byte copy per row
        keep, codes, ids, amount, day = groupby.rows_before(tx, as_of + pd.Timedelta(days=1),
                                                            compact=True)
        order_id = tx.get("order_id")
    n = len(ids)
    purchase = amount >= 0
    all_purchase = bool(purchase.all())

    frequency = groupby.order_counts(purchase, order_id, codes, n, keep=keep)
    total = groupby.sums(codes, amount, n)
    returns: np.ndarray
    return_amount: np.ndarray
    if all_purchase:
        returns = np.zeros(n, dtype=np.int64)
        return_amount = np.zeros(n)
    else:
        ret = ~purchase
        returns = groupby.counts(codes[ret], n)
        return_amount = groupby.sums(codes[ret], amount[ret], n)

    # purchase dates, falling back to any row for return-only customers
    first, last = groupby.min_max(codes, day, n)
    if not all_purchase:
        first_p, last_p = groupby.min_max(codes[purchase], day[purchase], n)
        first = np.where(first_p == groupby.BIG, first, first_p)
        last = np.where(last_p == -groupby.BIG, last, last_p)

    month, _ = day_month_offsets(day, inplace=True)  # day is not needed any more
    del day
    n_months = int(month.max()) + 1 if month.size else 1
    if all_purchase:
        active = groupby.distinct_counts(codes, month, n, n_months)
    else:
        active = groupby.distinct_counts(codes[purchase], month[purchase], n, n_months)
    del month, codes, purchase, amount

    as_of_day = epoch_days(np.array([as_of.to_datetime64()]))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(frequency > 0, total / np.maximum(frequency, 1), np.nan)
    return pd.DataFrame(
        {
            "recency_days": (as_of_day - last).astype(np.int64),
            "frequency": frequency.astype(np.int64),
            "monetary_total": total,
            "monetary_mean": mean,
            "first_purchase": (first * DAY_NS).view("datetime64[ns]"),
            "last_purchase": (last * DAY_NS).view("datetime64[ns]"),
            "tenure_days": (as_of_day - first).astype(np.int64),
            "active_months": active.astype(np.int64),
            "returns": returns.astype(np.int64),
            "return_amount": return_amount + 0.0,
        },
        index=pd.Index(ids, name="customer_id"),
        copy=False,  # the arrays are rfm's own: no second, consolidated copy at the peak
    )
