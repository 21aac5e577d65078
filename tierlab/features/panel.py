"""The customer × period panel (:func:`period_panel`) and the dense monthly arrays behind it.

:func:`monthly_arrays` gives the customer × month arrays the tier engine runs on;
:func:`period_panel` the long frame of spend, orders and quantity per customer and period.
Both read the transactions once into per-row month columns (:class:`_MonthColumns`) and
aggregate with ``numpy.bincount`` over (customer, month) cells.

**quantity** sums the quantity of purchase rows (returned units are not subtracted, since
exports disagree on the sign of a return's quantity); spend and orders follow :func:`rfm`'s
policies (:mod:`tierlab.features.rfm`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tierlab._kernels import groupby
from tierlab.calendar import FREQS, day_month_offsets, freq_key, month_numbers, period_end
from tierlab.errors import DataError
from tierlab.frames import check_transactions

__all__ = ["period_panel", "monthly_arrays", "MonthlyArrays"]

#: The arrays :func:`monthly_arrays` can build (its ``fields``).
_ARRAY_FIELDS = ("spend", "orders", "quantity", "last_day")


@dataclass(frozen=True)
class MonthlyArrays:
    """Dense customer × month arrays: the form the tier engine runs on.

    The arrays are stored column-major (Fortran order): one month of every customer is
    contiguous, which is what each review reads.

    Attributes
    ----------
    customer_ids : Index
        Sorted customer ids (row labels).
    months : ndarray
        Month numbers (``year * 12 + month - 1``), one per column, consecutive.
    spend, orders, quantity : ndarray or None
        ``(customers, months)`` float arrays (net spend, purchase orders, purchased units);
        None when not requested (``monthly_arrays(fields=...)``).
    last_day : ndarray or None
        ``(customers, months)`` int64: the last purchase day (days since epoch) up to and
        including that month, ``-1`` before the first purchase; None when not requested.
    first_day : ndarray
        Per customer, the day of the first purchase (days since epoch).
    first_month : ndarray
        Per customer, the column index of the first month with a purchase.
    """

    customer_ids: pd.Index
    months: np.ndarray
    spend: np.ndarray | None
    orders: np.ndarray | None
    quantity: np.ndarray | None
    last_day: np.ndarray | None
    first_day: np.ndarray
    first_month: np.ndarray

    @property
    def month_ends(self) -> pd.DatetimeIndex:
        return period_end(self.months, "M")


def _month_bounds(tx_months: np.ndarray, start: Any, end: Any) -> tuple[int, int]:
    lo = int(tx_months.min()) if start is None else month_numbers(
        np.array([pd.Timestamp(start).to_datetime64()]))[0]
    hi = int(tx_months.max()) if end is None else month_numbers(
        np.array([pd.Timestamp(end).to_datetime64()]))[0]
    if hi < lo:
        raise DataError(f"end ({end}) is before start ({start})")
    return int(lo), int(hi)


# one pass per array over the same cells; the arrays share the cell numbers, hence one function
def monthly_arrays(tx: pd.DataFrame, start: Any = None, end: Any = None, *,
                   dtype: Any = "float64", fields: Iterable[str] | None = None) -> MonthlyArrays:
    """Dense customer × month arrays of spend, orders and quantity.

    Customers are the ones with any row up to ``end``; months run from the month of ``start``
    (default: the first month in the data) to the month of ``end`` (default: the last).
    Rows outside the span are ignored (rows before ``start`` still set first purchase and
    recency).

    ``fields`` (optional) names the arrays to build among ``"spend"``, ``"orders"``,
    ``"quantity"`` and ``"last_day"``; the others are ``None``. Each is a (customers × months)
    array, 8 bytes a cell (288 MB for 1M customers over 36 months), so a caller that needs only
    spend saves three of them.
    """
    check_transactions(tx, "monthly_arrays")
    wanted = set(_ARRAY_FIELDS if fields is None else fields)
    if not wanted <= set(_ARRAY_FIELDS):
        raise DataError(f"monthly_arrays: unknown field(s) {sorted(wanted - set(_ARRAY_FIELDS))}; "
                        f"choose from {list(_ARRAY_FIELDS)}")
    cols = _month_columns(tx, start, end, "monthly_arrays")
    codes, n, n_m, col, inside = cols.codes, cols.n, cols.n_months, cols.col, cols.inside
    amount, purchase, day = cols.amount, cols.purchase, cols.day
    size = n * n_m
    # rows before start fold into the first column (they set first purchase and recency);
    # rows after end cannot occur (the data is cut at end), but are masked all the same
    # month-major cells: each month's column is contiguous (see shaped below)
    cell = (np.clip(col, 0, n_m - 1) if cols.inside is not None else col).astype(np.int64)
    cell *= n
    cell += codes
    spend: np.ndarray | None = None
    orders: np.ndarray | None = None
    quantity: np.ndarray | None = None
    last: np.ndarray | None = None
    if "spend" in wanted:
        spend = np.bincount(cell if inside is None else cell[inside], weights=amount
                            if inside is None else amount[inside], minlength=size)
    sel = purchase if inside is None else purchase & inside
    qty_col = tx.get("quantity")
    if "quantity" not in wanted:
        pass
    elif qty_col is not None:
        q = np.nan_to_num(qty_col.to_numpy(dtype="float64"), nan=0.0)
        if cols.keep is not None:
            q = q[cols.keep]
        quantity = np.bincount(cell[sel], weights=q[sel], minlength=size)
        del q
    else:
        quantity = np.zeros(size)
    order_id = tx.get("order_id")
    if "orders" not in wanted:
        pass
    elif order_id is None:  # straight to float: no int64 copy of the whole panel
        orders = np.bincount(cell[sel], weights=np.ones(int(np.count_nonzero(sel))),
                             minlength=size)
    else:
        orders = groupby.order_counts(sel, order_id, cell, size, keep=cols.keep)

    if "last_day" in wanted:
        # last purchase day per cell, then the running maximum along the months
        last_flat: np.ndarray = np.full(size, -1, dtype=np.int64)
        dated = purchase if cols.inside is None else purchase & (col < n_m)
        if not dated.all():
            cell, day = cell[dated], day[dated]
        for i in range(0, len(cell), groupby.BLOCK):  # int64 blocks keep ufunc.at on its fast path
            np.maximum.at(last_flat, cell[i:i + groupby.BLOCK],
                          day[i:i + groupby.BLOCK].astype(np.int64))
        by_month = last_flat.reshape(n_m, n)
        np.maximum.accumulate(by_month, axis=0, out=by_month)
        last = by_month.T
    del cell, day

    def shaped(a: np.ndarray | None) -> np.ndarray | None:
        # customers × months in column-major order: a review reads whole month columns, which
        # are contiguous this way (row-major, a column read touches a cache line per customer)
        return None if a is None else a.reshape(n_m, n).T.astype(dtype, copy=False)

    return MonthlyArrays(
        customer_ids=pd.Index(cols.ids, name="customer_id"),
        months=np.arange(cols.lo, cols.lo + n_m, dtype=np.int64),
        spend=shaped(spend),
        orders=shaped(orders),
        quantity=shaped(quantity),
        last_day=last,
        first_day=cols.first_day,
        first_month=cols.first_month,
    )


@dataclass
class _MonthColumns:
    """Per-row month columns shared by :func:`monthly_arrays` and :func:`period_panel`."""

    keep: np.ndarray | None  # rows used (None: all)
    codes: np.ndarray  # customer code per kept row
    ids: pd.Index
    n: int
    lo: int  # month number of the first column
    n_months: int
    col: np.ndarray  # month column per kept row (< 0 before start)
    inside: np.ndarray | None  # rows inside the span (None: all)
    before_start: bool
    amount: np.ndarray
    purchase: np.ndarray
    all_purchase: bool
    day: np.ndarray
    first_day: np.ndarray  # per customer
    first_month: np.ndarray  # per customer, column of the first month with any row (≥ 0)


def _month_columns(tx: pd.DataFrame, start: Any, end: Any, func: str) -> _MonthColumns:
    if len(tx) == 0:
        raise DataError("no transactions to build a panel from")
    stop = (None if end is None else
            pd.Timestamp(end).normalize() + pd.offsets.MonthEnd(0) + pd.Timedelta(days=1))
    keep, codes, ids, amount, day = groupby.rows_before(tx, stop)
    n = len(ids)
    if day.size == 0:
        raise DataError(f"{func}: no transactions up to end={end}")
    month_off, month0 = day_month_offsets(day)
    last_month = month0 + int(month_off.max())
    lo, hi = _month_bounds(np.array([month0, last_month]), start, end)
    n_m = hi - lo + 1
    col = month_off if month0 == lo else month_off + np.int32(month0 - lo)
    before_start = lo > month0
    after_end = hi < last_month
    inside = None
    if before_start or after_end:
        inside = (col >= 0) & (col < n_m)
    purchase = amount >= 0
    all_purchase = bool(purchase.all())
    first_any, _ = groupby.min_max(codes, day, n)
    if all_purchase:
        first_day = first_any
    else:
        first_p, _ = groupby.min_max(codes[purchase], day[purchase], n)
        first_day = np.where(first_p == groupby.BIG, first_any, first_p)
    # the first month with any row, as a column (months are monotone in days)
    first_month = (first_any.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
                   + 1970 * 12 - lo)
    return _MonthColumns(keep, codes, ids, n, lo, n_m, col, inside, before_start, amount,
                         purchase, all_purchase, day, first_day, np.clip(first_month, 0, None))


# long only through its docstring (parameters and an example); the body is ~55 lines
def period_panel(tx: pd.DataFrame, freq: str = "M", start: Any = None, end: Any = None, *,
                 fill: bool = False) -> pd.DataFrame:
    """Spend, orders and quantity per customer per period.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions.
    freq : {"M", "Q", "H", "Y"}
        Period length: month, quarter, half-year or year (aliases such as ``"monthly"``,
        ``"quarterly"``, ``"half-yearly"``, ``"yearly"`` work too).
    start, end : date-like, optional
        First and last period (the periods containing these dates). Default: the data's span.
    fill : bool
        If true, every customer gets a row for every period from their first purchase period
        to the last period, with zeros where they bought nothing; otherwise only periods with
        activity are listed.

    Returns
    -------
    DataFrame
        Columns ``customer_id``, ``period`` (the period's last day), ``spend`` (net),
        ``orders``, ``quantity``, sorted by customer then period.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2025-01-05", "2025-03-01", "2025-02-10"]),
    ...                    "amount": [100.0, -20.0, 50.0]})
    >>> period_panel(tx, freq="Q")
      customer_id     period  spend  orders  quantity
    0           a 2025-03-31   80.0       1       0.0
    1           b 2025-03-31   50.0       1       0.0
    """
    key = freq_key(freq)
    check_transactions(tx, "period_panel")
    cols = _month_columns(tx, start, end, "period_panel")
    step = FREQS[key]
    n, lo, n_m = cols.n, cols.lo, cols.n_months
    p0 = lo // step
    n_p = (lo + n_m - 1) // step - p0 + 1
    # period column per kept row, and per customer the period of their first month
    pcol = cols.col if step == 1 else (cols.col + lo) // step - p0
    first_p = (cols.first_month + lo) // step - p0
    inside = cols.inside
    rows_in = slice(None) if inside is None else inside
    cell = cols.codes * n_p + np.maximum(pcol, 0)
    cell_in = cell[rows_in]
    if fill:
        mask = np.arange(n_p)[None, :] >= first_p[:, None]
    else:
        mask = np.zeros((n, n_p), dtype=bool)
        mask.ravel()[cell_in] = True
    flat = np.flatnonzero(mask)
    del mask
    k = len(flat)
    slot = np.full(n * n_p, -1, dtype=np.int32 if k < 2**31 else np.int64)
    slot[flat] = np.arange(k, dtype=slot.dtype)
    row_slot = slot[cell_in].astype(np.intp)
    del slot, cell_in
    amount = cols.amount[rows_in]
    purchase = cols.purchase[rows_in]
    spend = np.bincount(row_slot, weights=amount, minlength=k)
    qty_col = tx.get("quantity")
    qty: np.ndarray
    if qty_col is not None:
        q = np.nan_to_num(qty_col.to_numpy(dtype="float64"), nan=0.0)
        if cols.keep is not None:
            q = q[cols.keep]
        q = q[rows_in]
        qty = np.bincount(row_slot[purchase], weights=q[purchase], minlength=k)
    else:
        qty = np.zeros(k)
    order_id = tx.get("order_id")
    if order_id is None:
        orders = np.bincount(row_slot[purchase], minlength=k)
    else:
        # distinct orders per customer-month, added up over the months of the period
        keep = cols.keep
        if inside is not None:
            keep = inside if keep is None else _expand(keep, inside)
        month_cell = cols.codes[rows_in] * n_m + cols.col[rows_in]
        orders = groupby.order_counts(purchase, order_id, month_cell, n * n_m, keep=keep,
                               bins=row_slot, n_bins=k)
    if not fill:
        active = (orders > 0) | (spend != 0) | (qty != 0)
        if not active.all():
            flat, spend, orders, qty = flat[active], spend[active], orders[active], qty[active]
    rows, cols_ = np.divmod(flat, n_p)
    period_months = p0 * step + np.arange(n_p) * step
    ends = period_end(period_months, key)
    ids = cols.ids
    cid = (ids.array.take(rows) if isinstance(ids.dtype, pd.StringDtype)
           else ids.to_numpy()[rows])
    return pd.DataFrame(
        {
            "customer_id": cid,
            "period": ends[cols_],
            "spend": spend,
            "orders": orders.astype(np.int64),
            "quantity": qty,
        }
    )


def _expand(keep: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The full-length mask of rows kept by ``keep`` and then by ``inner`` (on kept rows)."""
    out = np.zeros(len(keep), dtype=bool)
    out[np.flatnonzero(keep)[inner]] = True
    return out
