"""Per-customer features and the customer × period panel.

Everything here works on the canonical transactions frame produced by
:func:`tierlab.load_transactions` (``customer_id``, ``timestamp``, ``amount`` and optionally
``order_id``, ``quantity``) and is vectorized over customers: customer ids are factorized once
and every aggregate is a ``numpy.bincount``, a ``numpy.minimum.at``-style scatter or a distinct
count over (customer, period) cells; rows are never sorted (see "fast internals" below).

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

import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierlab._kernels.arrowkeys import factorize_strings as _arrow_factorize
from tierlab._kernels.arrowkeys import in_id_order, merge_hashed
from tierlab._kernels.parquet import CanonicalParquet
from tierlab.errors import DataError, did_you_mean

__all__ = [
    "rfm",
    "period_panel",
    "btyd_summary",
    "monthly_arrays",
    "MonthlyArrays",
    "period_end",
    "FREQS",
]

#: The arrays :func:`monthly_arrays` can build (its ``fields``).
_ARRAY_FIELDS = ("spend", "orders", "quantity", "last_day")
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


def _check_tx(tx: pd.DataFrame, func: str, *, allow_empty: bool = True) -> None:
    """Raise a DataError naming ``func`` unless ``tx`` is a canonical transactions frame."""
    if not isinstance(tx, pd.DataFrame):
        raise DataError(f"{func}: expected a transactions DataFrame, got {type(tx).__name__}")
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in tx.columns]
    if missing:
        raise DataError(
            f"{func}: the transactions frame lacks column {missing[0]!r}"
            f"{did_you_mean(missing[0], tx.columns)}; it has {list(tx.columns)}. Load files "
            "with tierlab.load_transactions, which maps your headers to customer_id, timestamp "
            "and amount."
        )
    if not pd.api.types.is_datetime64_any_dtype(tx["timestamp"]):
        raise DataError(
            f"{func}: column 'timestamp' must be datetime64, got {tx['timestamp'].dtype}; "
            "load the file with tierlab.load_transactions or convert with pd.to_datetime"
        )
    if not pd.api.types.is_numeric_dtype(tx["amount"]):
        raise DataError(f"{func}: column 'amount' must be numeric, got {tx['amount'].dtype}")
    if not allow_empty and len(tx) == 0:
        raise DataError(f"{func}: the transactions frame is empty")


def as_day(value, name: str, *, error: type[Exception] = DataError) -> pd.Timestamp:
    """``value`` as a midnight Timestamp; ``error`` names ``name`` when it is not a date."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise error(f"{name}={value!r} is not a date: {exc}") from None
    if ts is pd.NaT:
        raise error(f"{name} is missing: give a date such as '2025-06-30'")
    return ts.normalize()


def _as_of(tx: pd.DataFrame, as_of) -> pd.Timestamp:
    if as_of is None:
        if len(tx) == 0:
            raise DataError("no transactions: cannot default as_of to the last date in the data")
        return pd.Timestamp(tx["timestamp"].max()).normalize()
    return as_day(as_of, "as_of")


def _days(ts: pd.Series | np.ndarray) -> np.ndarray:
    """Whole days since the epoch (int64) of a datetime64 column."""
    values = np.asarray(ts, dtype="datetime64[ns]").view("int64")
    return np.floor_divide(values, _DAY)


def _months(ts: pd.Series | np.ndarray) -> np.ndarray:
    """Month number (year * 12 + month - 1) of a datetime64 column."""
    m = np.asarray(ts, dtype="datetime64[ns]").astype("datetime64[M]").astype("int64")
    return m + 1970 * 12


# --------------------------------------------------------------------------- fast internals
# Every aggregate below runs on integer customer codes: ids are factorized once (hashing the
# Arrow string buffers directly when the column is Arrow-backed), then sums are np.bincount,
# first/last dates np.minimum.at / np.maximum.at, and distinct counts a flag or bit array over
# (customer, value) cells, falling back to hashing when that array would be large. No sort of
# the rows is needed anywhere. tests/test_fastpath.py checks each helper against the plain
# pandas computation it replaces.

_BIG = np.iinfo(np.int64).max
#: Dense (customer, value) flag arrays are used up to max(rows × this, 2**24) cells …
_FLAG_CELLS_PER_ROW = 4
#: … bit arrays up to max(rows × this, 2**24) bytes; beyond that, distinct pairs are hashed.
_BIT_BYTES_PER_ROW = 16
#: Rows per block where per-row temporaries are built in blocks.
_BLOCK = 1 << 20
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _arrow_strings(s: pd.Series):
    """The Arrow (large_)string ChunkedArray behind ``s``, or None for other storage."""
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        pass
    elif isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        if not (pa.types.is_string(dtype.pyarrow_dtype)
                or pa.types.is_large_string(dtype.pyarrow_dtype)):
            return None
    else:
        return None
    arr = s.array.__arrow_array__()
    if not hasattr(arr, "chunks"):
        import pyarrow as pa

        arr = pa.chunked_array([arr])
    return arr


_LAST_FACTORIZED: list = [None, None]  # weak reference to an Arrow id column, its codes


def _arrow_factorize_cached(arr):
    """:func:`_arrow_factorize`, remembering the last column it saw.

    A pipeline asks for the same id column several times (``period_panel``, then the tier
    engine); Arrow arrays are immutable and pandas replaces, never edits, the array behind a
    column, so the same array object means the same ids. The reference is weak (nothing is kept
    alive) and the cached codes are read-only.
    """
    ref, cached = _LAST_FACTORIZED
    if ref is not None and ref() is arr:
        return cached
    res = _arrow_factorize(arr, workers=2)
    if res is not None:
        for part in res:
            if isinstance(part, np.ndarray):
                part.flags.writeable = False
        _LAST_FACTORIZED[:] = [weakref.ref(arr), res]
    return res


def _factorize(s, keep: np.ndarray | None = None, *, sort: bool = True, cache: bool = True,
               workers: int = 1) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(s[keep], sort=sort)``: intp codes and the unique values as an Index.

    ``s`` is a Series or an Arrow string ChunkedArray (read straight from a file; its ids come
    back as ``str``). ``keep`` (a boolean mask) restricts the rows; the codes returned are for
    those rows only. ``cache=False`` skips the one-entry cache, for columns used only once;
    ``workers=2`` then hashes a large column on two threads.
    """
    codes = None
    if isinstance(s, pd.Series):
        arr, dtype = _arrow_strings(s), s.dtype
    else:
        arr, dtype = s, "str"
    if arr is not None:
        res = _arrow_factorize_cached(arr) if cache else _arrow_factorize(arr, workers=workers)
        if res is not None:
            codes, ids = _from_hashed(res, dtype, sort=sort)
            del res
    if codes is None:
        codes, ids = pd.factorize(s if isinstance(s, pd.Series) else s.to_pandas(), sort=sort)
        ids = pd.Index(ids)
    return _restrict(np.asarray(codes, dtype=np.intp), ids, keep)


def _from_hashed(res, dtype, *, sort: bool = True) -> tuple[np.ndarray, pd.Index]:
    """Codes and ids from a ``factorize_strings`` result, renumbered in id order if *sort*."""
    codes, uniques = in_id_order(res) if sort or res[2] is None else res[:2]
    return np.asarray(codes, dtype=np.intp), pd.Index(pd.array(uniques, dtype=dtype))


def _restrict(codes: np.ndarray, ids: pd.Index,
              keep: np.ndarray | None) -> tuple[np.ndarray, pd.Index]:
    """Codes of the rows in ``keep``, renumbered over the ids those rows use."""
    if keep is None:
        return codes, ids
    codes = codes[keep]
    missing = codes < 0  # missing values (code -1) stay -1
    has_missing = bool(missing.any())
    present = np.bincount(codes[~missing] if has_missing else codes, minlength=len(ids)) > 0
    if not present.all():
        remap = np.cumsum(present, dtype=np.intp) - 1
        codes = np.where(missing, -1, remap[codes]) if has_missing else remap[codes]
        ids = ids[present]
    return codes, ids


def _min_max(codes: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group minimum and maximum of integer ``values``, as int64 (``±_BIG`` if empty)."""
    info = np.iinfo(values.dtype)
    lo = np.full(n, info.max, dtype=values.dtype)
    hi = np.full(n, info.min, dtype=values.dtype)
    np.minimum.at(lo, codes, values)
    np.maximum.at(hi, codes, values)
    empty = hi < lo
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    lo[empty], hi[empty] = _BIG, -_BIG
    return lo, hi


def _days32(ts: pd.Series | np.ndarray) -> np.ndarray:
    """:func:`_days` as int32 (any datetime64[ns] fits), without an int64 temporary."""
    values = np.asarray(ts, dtype="datetime64[ns]").view("int64")
    out = np.empty(values.shape, dtype=np.int32)
    np.floor_divide(values, _DAY, out=out, casting="unsafe")
    return out


def _distinct_counts(codes: np.ndarray, values: np.ndarray, n: int, n_values: int) -> np.ndarray:
    """Per group, the number of distinct ``values`` (ints in ``0 .. n_values-1``).

    Sets a flag (or a bit) per (group, value) cell and counts them per group; the rows are
    taken in blocks so that the cell numbers of only one block exist at a time. When the cell
    array would be large, distinct (group, value) pairs are found by hashing instead.
    """
    rows = len(codes)
    cells = n * n_values
    if rows == 0:
        return np.zeros(n, dtype=np.int64)
    if cells <= max(rows * _FLAG_CELLS_PER_ROW, 1 << 24):
        flags = np.zeros(cells, dtype=bool)
        for i in range(0, rows, _BLOCK):  # blocks of rows, to bound the temporaries
            flags[codes[i:i + _BLOCK] * n_values + values[i:i + _BLOCK]] = True
        return np.count_nonzero(flags.reshape(n, n_values), axis=1).astype(np.int64)
    stride = -(-n_values // 8)  # bytes per group
    if n * stride <= max(rows * _BIT_BYTES_PER_ROW, 1 << 24):
        bits = np.zeros(n * stride, dtype=np.uint8)
        one = np.uint8(1)
        for i in range(0, rows, _BLOCK):
            pos = codes[i:i + _BLOCK] * (stride * 8) + values[i:i + _BLOCK]
            np.bitwise_or.at(bits, pos >> 3, np.left_shift(one, (pos & 7).astype(np.uint8)))
        bits = bits.reshape(n, stride)
        out = np.empty(n, dtype=np.int64)
        step = max(1, _BLOCK // stride)
        for g in range(0, n, step):  # blocks of groups: popcount without a full-size copy
            block = bits[g:g + step]
            count = np.bitwise_count(block) if hasattr(np, "bitwise_count") else _POPCOUNT[block]
            out[g:g + step] = count.sum(axis=1, dtype=np.int64)
        return out
    key = codes.astype(np.int64) * n_values + values
    first = ~pd.Series(key).duplicated().to_numpy()
    return np.bincount(codes[first], minlength=n)


def _keep_before(tx: pd.DataFrame, end: pd.Timestamp) -> np.ndarray | None:
    """Mask of rows before ``end`` (exclusive), or None when every row is."""
    ts = tx["timestamp"]
    if len(ts) == 0 or ts.max() < end:
        return None
    return ts.to_numpy() < end.to_datetime64()


def _rows_before(tx: pd.DataFrame, stop: pd.Timestamp | None):
    """Rows before ``stop`` (all when None): (mask or None, customer codes, ids, amounts, days)."""
    keep = None if stop is None else _keep_before(tx, stop)
    codes, ids = _factorize(tx["customer_id"], keep)
    amount = tx["amount"].to_numpy(dtype="float64")
    day = _days32(tx["timestamp"])
    if keep is not None:
        amount, day = amount[keep], day[keep]
    return keep, codes, ids, amount, day


def _parquet_rows_before(path, func: str, as_of):
    """What :func:`_rows_before` gives, read from a canonical Parquet file column by column.

    Returns ``(as_of, keep, codes, ids, amounts, days, order_id or None)``; see
    :class:`tierlab._kernels.parquet.CanonicalParquet` for the reading and its errors.
    """
    import pyarrow as pa

    f = CanonicalParquet(path, func)
    # text ids are read and hashed in two parts: the first row groups on a second thread, the
    # rest on this one once it has read the dates and amounts (Arrow and NumPy release the
    # GIL); freed read buffers go back to the OS at once
    split = int(np.searchsorted(f.starts, 0.6 * f.rows))
    with _system_memory_pool(), ThreadPoolExecutor(max_workers=1) as pool:
        first_ids = (pool.submit(f.hash_ids, range(split), own_reader=True) if f.text_ids
                     else None)
        day = f.days()
        if as_of is None:
            if f.rows == 0:
                raise DataError(
                    "no transactions: cannot default as_of to the last date in the data")
            as_of = pd.Timestamp(int(day.max()), unit="D")
        else:
            as_of = as_day(as_of, "as_of")
        stop = _days(np.array([as_of.to_datetime64()]))[0] + 1
        keep = None if f.rows == 0 or day.max() < stop else day < stop
        if keep is not None:
            day = day[keep]
        amount = f.amounts()
        if keep is not None:
            amount = amount[keep]
        hashed = None
        if f.text_ids:
            rest = f.hash_ids(range(split, len(f.sizes)))
            hashed = merge_hashed([first_ids.result(), rest])
            # the strings and hash tables are gone: give their memory back before computing
            pa.system_memory_pool().release_unused()
        if hashed is not None:
            codes, uniques = _from_hashed(hashed, "str")
        elif f.text_ids:  # ids the fast path does not take (NUL bytes, very long)
            codes, uniques = _factorize(f.ids(), cache=False)
        else:
            codes, uniques = _factorize(pd.Series(f.ids().to_numpy()), cache=False)
        del hashed
        codes, uniques = _restrict(codes, uniques, keep)
        order_id = f.order_ids()
    return as_of, keep, codes, uniques, amount, day, order_id


@contextmanager
def _system_memory_pool():
    """Make Arrow allocate from the system allocator for the duration of the block."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _day_months(day: np.ndarray, *, inplace: bool = False) -> tuple[np.ndarray, int]:
    """Month number (``year * 12 + month - 1``) of each day, as an offset from the first one.

    Returns ``(offsets int32, first month number)``; built through a per-day lookup table.
    With ``inplace`` (int32 ``day`` only) the offsets overwrite ``day``.
    """
    if day.size == 0:
        return np.zeros(0, dtype=np.int32), 0
    d0, d1 = int(day.min()), int(day.max())
    months = (np.arange(d0, d1 + 1).astype("datetime64[D]").astype("datetime64[M]")
              .astype(np.int64) + 1970 * 12)
    lut = (months - months[0]).astype(np.int32)
    if inplace and day.dtype == np.int32:
        for i in range(0, day.size, _BLOCK):  # blocks of rows: no full-size temporary
            day[i:i + _BLOCK] = lut[day[i:i + _BLOCK] - np.int32(d0)]
        return day, int(months[0])
    return lut[day - np.asarray(d0, dtype=day.dtype)], int(months[0])


def _order_counts(purchase: np.ndarray, order_id, group: np.ndarray, n_groups: int, *,
                  keep: np.ndarray | None = None, bins: np.ndarray | None = None,
                  n_bins: int | None = None) -> np.ndarray:
    """Orders per group: distinct order ids among purchase rows (rows without id count one).

    ``purchase`` and ``group`` describe the rows kept by ``keep`` (all rows when None); the
    ``order_id`` column is the full one. With ``bins`` (a coarser grouping, one per kept row),
    each group's count is added to its bin instead: ``n_bins`` totals.
    """
    out_group, n_out = (group, n_groups) if bins is None else (bins, n_bins)
    if order_id is None:
        if purchase.all():
            return np.bincount(out_group, minlength=n_out)
        return np.bincount(out_group[purchase], minlength=n_out)
    if not isinstance(order_id, pd.Series):
        order_id = pd.Series(np.asarray(order_id, dtype=object))
    ocode, oids = _factorize(order_id.reset_index(drop=True), keep, sort=False)
    has_id = purchase & (ocode >= 0)
    no_id = purchase & (ocode < 0)
    n_o = max(len(oids), 1)
    if n_groups * n_o < 2**62:
        key = group[has_id].astype(np.int64) * n_o + ocode[has_id]
        first = ~pd.Series(key).duplicated().to_numpy()
    else:  # pragma: no cover - needs > 2**62 (group, order) cells
        first = ~pd.DataFrame({"g": group[has_id], "o": ocode[has_id]}).duplicated().to_numpy()
    return (np.bincount(out_group[has_id][first], minlength=n_out)
            + np.bincount(out_group[no_id], minlength=n_out))


def rfm(tx: pd.DataFrame | str | os.PathLike, as_of=None) -> pd.DataFrame:
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
        as_of, keep, codes, ids, amount, day, order_id = _parquet_rows_before(tx, "rfm", as_of)
    else:
        _check_tx(tx, "rfm")
        as_of = _as_of(tx, as_of)
        keep, codes, ids, amount, day = _rows_before(tx, as_of + pd.Timedelta(days=1))
        order_id = tx.get("order_id")
    n = len(ids)
    purchase = amount >= 0
    all_purchase = bool(purchase.all())

    frequency = _order_counts(purchase, order_id, codes, n, keep=keep)
    total = np.bincount(codes, weights=amount, minlength=n)
    if all_purchase:
        returns = np.zeros(n, dtype=np.int64)
        return_amount = np.zeros(n)
    else:
        ret = ~purchase
        returns = np.bincount(codes[ret], minlength=n)
        return_amount = np.bincount(codes[ret], weights=amount[ret], minlength=n)

    # purchase dates, falling back to any row for return-only customers
    first, last = _min_max(codes, day, n)
    if not all_purchase:
        first_p, last_p = _min_max(codes[purchase], day[purchase], n)
        first = np.where(first_p == _BIG, first, first_p)
        last = np.where(last_p == -_BIG, last, last_p)

    month, _ = _day_months(day, inplace=True)  # day is not needed any more
    del day
    n_months = int(month.max()) + 1 if month.size else 1
    if all_purchase:
        active = _distinct_counts(codes, month, n, n_months)
    else:
        active = _distinct_counts(codes[purchase], month[purchase], n, n_months)
    del month, codes, purchase, amount

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


def _month_bounds(tx_months: np.ndarray, start, end) -> tuple[int, int]:
    lo = int(tx_months.min()) if start is None else _months(
        np.array([pd.Timestamp(start).to_datetime64()]))[0]
    hi = int(tx_months.max()) if end is None else _months(
        np.array([pd.Timestamp(end).to_datetime64()]))[0]
    if hi < lo:
        raise DataError(f"end ({end}) is before start ({start})")
    return int(lo), int(hi)


def monthly_arrays(tx: pd.DataFrame, start=None, end=None, *, dtype="float64",
                   fields=None) -> MonthlyArrays:
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
    _check_tx(tx, "monthly_arrays")
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
    spend = orders = quantity = last = None
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
        orders = _order_counts(sel, order_id, cell, size, keep=cols.keep)

    if "last_day" in wanted:
        # last purchase day per cell, then the running maximum along the months
        last = np.full(size, -1, dtype=np.int64)
        dated = purchase if cols.inside is None else purchase & (col < n_m)
        if not dated.all():
            cell, day = cell[dated], day[dated]
        for i in range(0, len(cell), _BLOCK):  # int64 blocks keep ufunc.at on its fast path
            np.maximum.at(last, cell[i:i + _BLOCK], day[i:i + _BLOCK].astype(np.int64))
        last = last.reshape(n_m, n)
        np.maximum.accumulate(last, axis=0, out=last)
        last = last.T
    del cell, day

    def shaped(a):
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


def _month_columns(tx: pd.DataFrame, start, end, func: str) -> _MonthColumns:
    if len(tx) == 0:
        raise DataError("no transactions to build a panel from")
    stop = (None if end is None else
            pd.Timestamp(end).normalize() + pd.offsets.MonthEnd(0) + pd.Timedelta(days=1))
    keep, codes, ids, amount, day = _rows_before(tx, stop)
    n = len(ids)
    if day.size == 0:
        raise DataError(f"{func}: no transactions up to end={end}")
    month_off, month0 = _day_months(day)
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
    first_any, _ = _min_max(codes, day, n)
    if all_purchase:
        first_day = first_any
    else:
        first_p, _ = _min_max(codes[purchase], day[purchase], n)
        first_day = np.where(first_p == _BIG, first_any, first_p)
    # the first month with any row, as a column (months are monotone in days)
    first_month = (first_any.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
                   + 1970 * 12 - lo)
    return _MonthColumns(keep, codes, ids, n, lo, n_m, col, inside, before_start, amount,
                         purchase, all_purchase, day, first_day, np.clip(first_month, 0, None))


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
    _check_tx(tx, "period_panel")
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
        orders = _order_counts(purchase, order_id, month_cell, n * n_m, keep=keep,
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
    keep = _keep_before(tx, as_of + pd.Timedelta(days=1))
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
    codes, ids = _factorize(tx["customer_id"], sel)
    n = len(ids)
    if sel is not None:
        amount = amount[sel]
    first, last = _min_max(codes, period, n)  # relative to base
    periods = _distinct_counts(codes, period, n, int(last.max()) + 1)
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
    day = _days32(ts)
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
