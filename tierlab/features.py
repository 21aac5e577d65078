"""Per-customer features and the customer × period panel.

Everything here works on the canonical transactions frame produced by
:func:`tierlab.load_transactions` (``customer_id``, ``timestamp``, ``amount`` and optionally
``order_id``, ``quantity``) and is vectorized over customers: customer ids are factorized once
and every aggregate is a ``numpy.bincount`` or a sorted group reduction.

Policies (see the README's "Data policies"):

- **spend** nets returns: it is the sum of all amounts, negative ones included;
- **orders** count purchases, rows with ``amount >= 0``: distinct order ids when the frame has an
  ``order_id`` column (rows without an id count one each), otherwise rows; returns never count;
- **quantity** sums the quantity of purchase rows (returned units are not subtracted, since
  exports disagree on the sign of a return's quantity);
- a customer's first and last purchase are taken over purchase rows; a customer with returns
  only in the window falls back to those rows' dates;
- ``as_of`` defaults to the last date in the data, never today; rows after ``as_of`` are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierlab.errors import DataError

__all__ = [
    "rfm",
    "period_panel",
    "btyd_summary",
    "monthly_arrays",
    "MonthlyArrays",
    "period_end",
    "FREQS",
]

#: Review/period frequencies: canonical key → months per period.
FREQS: dict[str, int] = {"M": 1, "Q": 3, "H": 6, "Y": 12}
_FREQ_ALIASES = {
    "m": "M", "month": "M", "monthly": "M", "me": "M",
    "q": "Q", "quarter": "Q", "quarterly": "Q", "qe": "Q",
    "h": "H", "half-year": "H", "half-yearly": "H", "halfyear": "H", "6m": "H",
    "y": "Y", "a": "Y", "year": "Y", "yearly": "Y", "annual": "Y", "ye": "Y",
}
_DAY = np.int64(86_400_000_000_000)


def _freq_key(freq: str) -> str:
    key = _FREQ_ALIASES.get(str(freq).strip().lower())
    if key is None:
        raise DataError(
            f"unknown period frequency {freq!r}: use one of 'M' (month), 'Q' (quarter), "
            "'H' (half-year) or 'Y' (year)"
        )
    return key


def _check_tx(tx: pd.DataFrame, func: str) -> None:
    if not isinstance(tx, pd.DataFrame):
        raise DataError(f"{func}: expected a transactions DataFrame, got {type(tx).__name__}")
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in tx.columns]
    if missing:
        raise DataError(
            f"{func}: the transactions frame lacks column(s) {missing}; it has "
            f"{list(tx.columns)}. Load files with tierlab.load_transactions, which maps your "
            "headers to customer_id, timestamp and amount."
        )
    if not pd.api.types.is_datetime64_any_dtype(tx["timestamp"]):
        raise DataError(
            f"{func}: column 'timestamp' must be datetime64, got {tx['timestamp'].dtype}; "
            "load the file with tierlab.load_transactions or convert with pd.to_datetime"
        )
    if not pd.api.types.is_numeric_dtype(tx["amount"]):
        raise DataError(f"{func}: column 'amount' must be numeric, got {tx['amount'].dtype}")


def _as_of(tx: pd.DataFrame, as_of) -> pd.Timestamp:
    if as_of is None:
        if len(tx) == 0:
            raise DataError("no transactions: cannot default as_of to the last date in the data")
        return pd.Timestamp(tx["timestamp"].max()).normalize()
    try:
        return pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError) as exc:
        raise DataError(f"as_of={as_of!r} is not a date: {exc}") from None


def _days(ts: pd.Series | np.ndarray) -> np.ndarray:
    """Whole days since the epoch (int64) of a datetime64 column."""
    values = np.asarray(ts, dtype="datetime64[ns]").view("int64")
    return np.floor_divide(values, _DAY)


def _months(ts: pd.Series | np.ndarray) -> np.ndarray:
    """Month number (year * 12 + month - 1) of a datetime64 column."""
    m = np.asarray(ts, dtype="datetime64[ns]").astype("datetime64[M]").astype("int64")
    return m + 1970 * 12


def _window(tx: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    end = as_of + pd.Timedelta(days=1)
    ts = tx["timestamp"]
    if ts.max() < end:
        return tx
    return tx.loc[ts.to_numpy() < end.to_datetime64()]


def _order_counts(purchase: np.ndarray, order_id, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Orders per group: distinct order ids among purchase rows (rows without id count one)."""
    if order_id is None:
        return np.bincount(group[purchase], minlength=n_groups)
    oid = pd.Series(np.asarray(order_id, dtype=object)[purchase])
    g = group[purchase]
    has_id = oid.notna().to_numpy()
    pairs = pd.DataFrame({"g": g[has_id], "o": oid[has_id].to_numpy()}).drop_duplicates()
    return (np.bincount(pairs["g"].to_numpy(), minlength=n_groups)
            + np.bincount(g[~has_id], minlength=n_groups))


def rfm(tx: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """Recency, frequency and monetary features per customer at an observation date.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``[, ``order_id``]).
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
    _check_tx(tx, "rfm")
    as_of = _as_of(tx, as_of)
    tx = _window(tx, as_of)
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    amount = tx["amount"].to_numpy(dtype="float64")
    day = _days(tx["timestamp"])
    purchase = amount >= 0

    frequency = _order_counts(purchase, tx.get("order_id"), codes, n)
    total = np.bincount(codes, weights=amount, minlength=n)
    returns = np.bincount(codes[~purchase], minlength=n)
    return_amount = np.bincount(codes[~purchase], weights=amount[~purchase], minlength=n)

    big = np.iinfo(np.int64).max
    # purchase dates, falling back to any row for return-only customers
    first_p = pd.Series(np.where(purchase, day, big)).groupby(codes).min().to_numpy()
    last_p = pd.Series(np.where(purchase, day, -big)).groupby(codes).max().to_numpy()
    first_any = pd.Series(day).groupby(codes).min().to_numpy()
    last_any = pd.Series(day).groupby(codes).max().to_numpy()
    first = np.where(first_p == big, first_any, first_p)
    last = np.where(last_p == -big, last_any, last_p)

    month = _months(tx["timestamp"])
    pairs = np.unique(codes[purchase].astype(np.int64) * 100_000 + (month[purchase] - month.min()))
    active = np.bincount((pairs // 100_000).astype(np.intp), minlength=n)

    as_of_day = _days(np.array([as_of.to_datetime64()]))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(frequency > 0, total / np.maximum(frequency, 1), np.nan)
    out = pd.DataFrame(
        {
            "recency_days": (as_of_day - last).astype(np.int64),
            "frequency": frequency.astype(np.int64),
            "monetary_total": total,
            "monetary_mean": mean,
            "first_purchase": (first * _DAY).view("datetime64[ns]"),
            "last_purchase": (last * _DAY).view("datetime64[ns]"),
            "tenure_days": (as_of_day - first).astype(np.int64),
            "active_months": active.astype(np.int64),
            "returns": returns.astype(np.int64),
            "return_amount": return_amount + 0.0,
        },
        index=pd.Index(ids, name="customer_id"),
    )
    return out


def period_end(periods: np.ndarray | pd.Series, freq: str = "M") -> pd.DatetimeIndex:
    """Last day of the period (of length ``freq``) that contains each month number."""
    step = FREQS[_freq_key(freq)]
    months = np.asarray(periods, dtype=np.int64)
    last_month = (months // step) * step + step - 1 - 1970 * 12
    return pd.DatetimeIndex(
        (last_month + 1).astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D")
    ).astype("datetime64[ns]")


@dataclass(frozen=True)
class MonthlyArrays:
    """Dense customer × month arrays: the form the tier engine runs on.

    Attributes
    ----------
    customer_ids : Index
        Sorted customer ids (row labels).
    months : ndarray
        Month numbers (``year * 12 + month - 1``), one per column, consecutive.
    spend, orders, quantity : ndarray
        ``(customers, months)`` float arrays (net spend, purchase orders, purchased units).
    last_day : ndarray
        ``(customers, months)`` int64: the last purchase day (days since epoch) up to and
        including that month, ``-1`` before the first purchase.
    first_day : ndarray
        Per customer, the day of the first purchase (days since epoch).
    first_month : ndarray
        Per customer, the column index of the first month with a purchase.
    """

    customer_ids: pd.Index
    months: np.ndarray
    spend: np.ndarray
    orders: np.ndarray
    quantity: np.ndarray
    last_day: np.ndarray
    first_day: np.ndarray
    first_month: np.ndarray

    @property
    def month_ends(self) -> pd.DatetimeIndex:
        return period_end(self.months, "M")


def _month_bounds(tx_months: np.ndarray, start, end) -> tuple[int, int]:
    lo = int(tx_months.min()) if start is None else _months(
        np.array([pd.Timestamp(start).to_datetime64()]))[0]
    hi = int(tx_months.max()) if end is None else _months(
        np.array([pd.Timestamp(end).to_datetime64()]))[0]
    if hi < lo:
        raise DataError(f"end ({end}) is before start ({start})")
    return int(lo), int(hi)


def monthly_arrays(tx: pd.DataFrame, start=None, end=None, *, dtype="float64") -> MonthlyArrays:
    """Dense customer × month arrays of spend, orders and quantity.

    Customers are the ones with any row up to ``end``; months run from the month of ``start``
    (default: the first month in the data) to the month of ``end`` (default: the last).
    Rows outside the span are ignored (rows before ``start`` still set first purchase and
    recency).
    """
    _check_tx(tx, "monthly_arrays")
    if len(tx) == 0:
        raise DataError("no transactions to build a panel from")
    if end is not None:
        tx = _window(tx, pd.Timestamp(end).normalize() + pd.offsets.MonthEnd(0))
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    month = _months(tx["timestamp"])
    lo, hi = _month_bounds(month, start, end)
    n_m = hi - lo + 1
    amount = tx["amount"].to_numpy(dtype="float64")
    purchase = amount >= 0
    day = _days(tx["timestamp"])

    col = month - lo
    inside = (col >= 0) & (col < n_m)
    cell = codes.astype(np.int64) * n_m + np.clip(col, 0, n_m - 1)
    size = n * n_m
    spend = np.bincount(cell[inside], weights=amount[inside], minlength=size)
    qty_col = tx.get("quantity")
    if qty_col is not None:
        q = np.nan_to_num(qty_col.to_numpy(dtype="float64"), nan=0.0)
        sel = inside & purchase
        quantity = np.bincount(cell[sel], weights=q[sel], minlength=size)
    else:
        quantity = np.zeros(size)
    sel = inside & purchase
    orders = _order_counts(sel, tx.get("order_id"), cell, size)

    # last purchase day per cell (purchase rows; before start folds into the first column)
    pcell = codes.astype(np.int64) * n_m + np.clip(col, 0, n_m - 1)
    last = np.full(size, -1, dtype=np.int64)
    keep = purchase & (col < n_m)
    np.maximum.at(last, pcell[keep], day[keep])
    last = np.maximum.accumulate(last.reshape(n, n_m), axis=1)

    first_day = pd.Series(np.where(purchase, day, np.iinfo(np.int64).max)).groupby(codes).min()
    first_day = first_day.to_numpy()
    any_first = pd.Series(day).groupby(codes).min().to_numpy()
    first_day = np.where(first_day == np.iinfo(np.int64).max, any_first, first_day)
    first_m = pd.Series(month).groupby(codes).min().to_numpy() - lo
    return MonthlyArrays(
        customer_ids=pd.Index(ids, name="customer_id"),
        months=np.arange(lo, hi + 1, dtype=np.int64),
        spend=spend.reshape(n, n_m).astype(dtype, copy=False),
        orders=orders.reshape(n, n_m).astype(dtype, copy=False),
        quantity=quantity.reshape(n, n_m).astype(dtype, copy=False),
        last_day=last,
        first_day=first_day,
        first_month=np.clip(first_m, 0, None),
    )


def period_panel(tx: pd.DataFrame, freq: str = "M", start=None, end=None, *,
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
    key = _freq_key(freq)
    arr = monthly_arrays(tx, start, end)
    step = FREQS[key]
    n, n_m = arr.spend.shape
    months = arr.months
    pidx = months // step - months[0] // step  # period column per month
    n_p = int(pidx[-1]) + 1

    def fold(a: np.ndarray) -> np.ndarray:
        if step == 1:
            return a
        out = np.zeros((n, n_p))
        np.add.at(out.T, pidx, a.T)  # loop-free over customers: adds whole month columns
        return out

    spend, orders, qty = fold(arr.spend), fold(arr.orders), fold(arr.quantity)
    first_p = pidx[arr.first_month]
    active = (orders > 0) | (spend != 0) | (qty != 0)
    if fill:
        mask = np.arange(n_p)[None, :] >= first_p[:, None]
    else:
        mask = active
    rows, cols = np.nonzero(mask)
    period_months = months[0] // step * step + np.arange(n_p) * step
    ends = period_end(period_months, key)
    return pd.DataFrame(
        {
            "customer_id": arr.customer_ids.to_numpy()[rows],
            "period": ends[cols],
            "spend": spend[rows, cols],
            "orders": orders[rows, cols].astype(np.int64),
            "quantity": qty[rows, cols],
        }
    )


def btyd_summary(tx: pd.DataFrame, *, as_of=None, time_unit: str = "D",
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
    _check_tx(tx, "btyd_summary")
    as_of = _as_of(tx, as_of)
    tx = _window(tx, as_of)
    tx = tx.loc[tx["amount"].to_numpy() >= 0]
    if len(tx) == 0:
        raise DataError("btyd_summary: no purchases (amount >= 0) up to as_of")
    try:
        per = tx["timestamp"].dt.to_period(time_unit)
        as_of_per = pd.Timestamp(as_of).to_period(time_unit)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"time_unit={time_unit!r} is not a pandas period frequency: {exc}"
        ) from None
    ordinal = per.array.asi8 if hasattr(per.array, "asi8") else per.to_numpy().astype(np.int64)
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    daily = (
        pd.DataFrame({"c": codes, "p": ordinal, "a": tx["amount"].to_numpy(dtype="float64")})
        .groupby(["c", "p"], sort=True)["a"].sum()
        .reset_index()
    )
    c = daily["c"].to_numpy()
    p = daily["p"].to_numpy()
    a = daily["a"].to_numpy()
    periods = np.bincount(c, minlength=n)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, c, p)
    np.maximum.at(last, c, p)
    is_first = np.r_[True, c[1:] != c[:-1]]  # sorted by (c, p): first row of each customer
    repeat_spend = np.bincount(c[~is_first], weights=a[~is_first], minlength=n)
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
