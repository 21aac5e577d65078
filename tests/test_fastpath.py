"""The fast internals of tierlab.features.core against the simple implementation they replaced.

The ``ref_*`` functions below are the straightforward versions (pandas factorize on the whole
column, groupby min/max, np.unique of (customer, month) pairs, a dense panel folded into
periods); the public functions must give the same frames on random data, including returns,
order ids, quantities, windows (as_of / start / end), odd ids and every branch of the distinct
counting (flags, bits, hashing) and of the id factorization (Arrow keys, fallbacks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tierlab.features.core as F
from tierlab.errors import DataError
from tierlab.features.core import (
    _DAY,
    FREQS,
    MonthlyArrays,
    _as_of,
    _check_tx,
    _days,
    _freq_key,
    _months,
    btyd_summary,
    monthly_arrays,
    period_end,
    period_panel,
    rfm,
)

# --------------------------------------------------------------------------- reference code
# (the implementation before the fast path, kept verbatim)


def _ref_window(tx: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    end = as_of + pd.Timedelta(days=1)
    ts = tx["timestamp"]
    if ts.max() < end:
        return tx
    return tx.loc[ts.to_numpy() < end.to_datetime64()]


def _ref_order_counts(purchase: np.ndarray, order_id, group: np.ndarray,
                      n_groups: int) -> np.ndarray:
    if order_id is None:
        return np.bincount(group[purchase], minlength=n_groups)
    oid = pd.Series(np.asarray(order_id, dtype=object)[purchase])
    g = group[purchase]
    has_id = oid.notna().to_numpy()
    pairs = pd.DataFrame({"g": g[has_id], "o": oid[has_id].to_numpy()}).drop_duplicates()
    return (np.bincount(pairs["g"].to_numpy(), minlength=n_groups)
            + np.bincount(g[~has_id], minlength=n_groups))


def ref_rfm(tx: pd.DataFrame, as_of=None) -> pd.DataFrame:
    _check_tx(tx, "rfm")
    as_of = _as_of(tx, as_of)
    tx = _ref_window(tx, as_of)
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    amount = tx["amount"].to_numpy(dtype="float64")
    day = _days(tx["timestamp"])
    purchase = amount >= 0

    frequency = _ref_order_counts(purchase, tx.get("order_id"), codes, n)
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


def _ref_month_bounds(tx_months: np.ndarray, start, end) -> tuple[int, int]:
    lo = int(tx_months.min()) if start is None else _months(
        np.array([pd.Timestamp(start).to_datetime64()]))[0]
    hi = int(tx_months.max()) if end is None else _months(
        np.array([pd.Timestamp(end).to_datetime64()]))[0]
    if hi < lo:
        raise DataError(f"end ({end}) is before start ({start})")
    return int(lo), int(hi)


def ref_monthly_arrays(tx: pd.DataFrame, start=None, end=None, *, dtype="float64") -> MonthlyArrays:
    _check_tx(tx, "monthly_arrays")
    if len(tx) == 0:
        raise DataError("no transactions to build a panel from")
    if end is not None:
        tx = _ref_window(tx, pd.Timestamp(end).normalize() + pd.offsets.MonthEnd(0))
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    month = _months(tx["timestamp"])
    lo, hi = _ref_month_bounds(month, start, end)
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
    orders = _ref_order_counts(sel, tx.get("order_id"), cell, size)

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


def ref_period_panel(tx: pd.DataFrame, freq: str = "M", start=None, end=None, *,
                     fill: bool = False) -> pd.DataFrame:
    key = _freq_key(freq)
    arr = ref_monthly_arrays(tx, start, end)
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


def ref_btyd_summary(tx: pd.DataFrame, *, as_of=None, time_unit: str = "D",
                     time_scaler: float = 1.0) -> pd.DataFrame:
    _check_tx(tx, "btyd_summary")
    as_of = _as_of(tx, as_of)
    tx = _ref_window(tx, as_of)
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


# --------------------------------------------------------------------------- random data
ALPHABET = list("abcXYZ019_-") + ["é", "ü", "客", "户", " "]


def random_ids(rng: np.random.Generator, n: int, kind: str) -> list[str]:
    if kind == "fixed":
        return [f"C{i:07d}" for i in rng.permutation(n)]
    if kind == "digits":  # leading zeros must stay
        return [f"{i:0{rng.integers(1, 6)}d}" for i in rng.integers(0, 500, n)]
    if kind == "long":  # 9..40 bytes: wider keys and the pd.factorize fallback
        return ["".join(rng.choice(ALPHABET, rng.integers(9, 30))) + "é" * rng.integers(0, 5)
                for _ in range(n)]
    # mixed lengths 0..8 and non-ASCII (multi-byte UTF-8)
    return ["".join(rng.choice(ALPHABET, rng.integers(0, 5))) for _ in range(n)]


def random_tx(seed: int, *, n_rows: int = 3000, n_customers: int = 300, kind: str = "mixed",
              returns: bool = True, order_id: bool = False, quantity: bool = False,
              days: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = random_ids(rng, n_customers, kind)
    weights = rng.pareto(1.3, len(pool)) + 1
    cust = rng.choice(len(pool), n_rows, p=weights / weights.sum())
    secs = rng.integers(0, days * 86_400, n_rows)
    amount = np.round(rng.lognormal(3, 1, n_rows), 2)
    if returns:
        amount[rng.random(n_rows) < 0.08] *= -1
        amount[rng.random(n_rows) < 0.01] = 0.0
    tx = pd.DataFrame({
        "customer_id": pd.array([pool[i] for i in cust], dtype="str"),
        "timestamp": pd.Timestamp("2023-02-11") + pd.to_timedelta(secs, unit="s"),
        "amount": amount,
    })
    if order_id:
        oid = np.array([f"o{v}" for v in rng.integers(0, n_rows // 2, n_rows)], dtype=object)
        oid[rng.random(n_rows) < 0.1] = None
        tx["order_id"] = pd.array(oid, dtype="str")
    if quantity:
        q = rng.integers(1, 5, n_rows).astype(float)
        q[rng.random(n_rows) < 0.05] = np.nan
        tx["quantity"] = q
    return tx


def assert_same(fast: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Equal frames: exact for everything but float sums, which may differ in the last bits."""
    pd.testing.assert_frame_equal(fast, ref, check_exact=False, rtol=1e-12, atol=1e-9)
    for c in fast.columns:
        if fast[c].dtype.kind in "iMmbO" or str(fast[c].dtype) == "str":
            pd.testing.assert_series_equal(fast[c], ref[c], check_exact=True)


CASES = [
    dict(seed=1),
    dict(seed=2, kind="fixed", returns=False),
    dict(seed=3, kind="digits", order_id=True, quantity=True),
    dict(seed=4, kind="long", order_id=True),
    dict(seed=5, n_rows=400, n_customers=30, days=60),
    dict(seed=6, kind="fixed", order_id=True, quantity=True, n_rows=6000, n_customers=2000),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_rfm_equals_reference(case):
    tx = random_tx(**case)
    assert_same(rfm(tx), ref_rfm(tx))
    as_of = tx["timestamp"].quantile(0.6)
    assert_same(rfm(tx, as_of=as_of), ref_rfm(tx, as_of=as_of))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_btyd_summary_equals_reference(case):
    tx = random_tx(**case)
    assert_same(btyd_summary(tx), ref_btyd_summary(tx))
    cut = tx["timestamp"].quantile(0.5)
    for unit, scaler in (("D", 1.0), ("W", 1.0), ("M", 2.0), ("h", 24.0)):
        assert_same(btyd_summary(tx, as_of=cut, time_unit=unit, time_scaler=scaler),
                    ref_btyd_summary(tx, as_of=cut, time_unit=unit, time_scaler=scaler))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_monthly_arrays_equal_reference(case):
    tx = random_tx(**case)
    lo, hi = tx["timestamp"].quantile([0.3, 0.7])
    for start, end in ((None, None), (lo, None), (None, hi), (lo, hi)):
        fast, ref = monthly_arrays(tx, start, end), ref_monthly_arrays(tx, start, end)
        pd.testing.assert_index_equal(fast.customer_ids, ref.customer_ids, exact=True)
        for name in ("months", "last_day", "first_day", "first_month"):
            np.testing.assert_array_equal(getattr(fast, name), getattr(ref, name), err_msg=name)
            assert getattr(fast, name).dtype == getattr(ref, name).dtype, name
        for name in ("spend", "orders", "quantity"):
            np.testing.assert_allclose(getattr(fast, name), getattr(ref, name), rtol=1e-12,
                                       atol=1e-9, err_msg=name)
            assert getattr(fast, name).dtype == getattr(ref, name).dtype, name


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
@pytest.mark.parametrize("freq", ["M", "Q", "H", "Y"])
def test_period_panel_equals_reference(case, freq):
    tx = random_tx(**case)
    lo, hi = tx["timestamp"].quantile([0.25, 0.8])
    for start, end, fill in ((None, None, False), (None, None, True), (lo, hi, False),
                             (lo, None, True)):
        assert_same(period_panel(tx, freq, start, end, fill=fill),
                    ref_period_panel(tx, freq, start, end, fill=fill))


@pytest.mark.parametrize("branch", ["bits", "hash", "blocks"])
def test_distinct_count_branches_agree(monkeypatch, branch):
    tx = random_tx(7, order_id=True, n_rows=5000, n_customers=500)
    if branch == "bits":  # no flag arrays: (customer, value) cells as bits
        monkeypatch.setattr(F, "_FLAG_CELLS_PER_ROW", 0)
        monkeypatch.setattr(F, "_distinct_counts", _with_min_cells(F._distinct_counts, "bits"))
    elif branch == "hash":
        monkeypatch.setattr(F, "_distinct_counts", _with_min_cells(F._distinct_counts, "hash"))
    else:
        monkeypatch.setattr(F, "_BLOCK", 7)  # many tiny row blocks
    assert_same(rfm(tx), ref_rfm(tx))
    assert_same(btyd_summary(tx), ref_btyd_summary(tx))
    assert_same(period_panel(tx, "Q"), ref_period_panel(tx, "Q"))


def _with_min_cells(func, branch):
    """Force a branch of _distinct_counts by shrinking its size limits for one call."""
    def wrapped(codes, values, n, n_values):
        flag, bits = F._FLAG_CELLS_PER_ROW, F._BIT_BYTES_PER_ROW
        small = 1 << 24
        try:
            F._FLAG_CELLS_PER_ROW = 0
            F._BIT_BYTES_PER_ROW = 0 if branch == "hash" else bits
            # the 2**24 floor would still pick flags on small data: scale n_values up instead
            floor = small * 8 if branch == "hash" else small
            scale = floor // max(n * n_values, 1) + 1
            return func(codes, values * scale, n, n_values * scale)
        finally:
            F._FLAG_CELLS_PER_ROW, F._BIT_BYTES_PER_ROW = flag, bits
    return wrapped


def test_distinct_counts_each_branch_directly(monkeypatch):
    rng = np.random.default_rng(11)
    n, n_values = 50, 40
    codes = rng.integers(0, n, 2000).astype(np.intp)
    values = rng.integers(0, n_values, 2000)
    expected = (pd.DataFrame({"c": codes, "v": values}).drop_duplicates()
                .groupby("c").size().reindex(range(n), fill_value=0).to_numpy())
    np.testing.assert_array_equal(F._distinct_counts(codes, values, n, n_values), expected)
    monkeypatch.setattr(F, "_BLOCK", 64)
    big = 1 << 25  # past the 2**24 floor: bits, then hashing
    np.testing.assert_array_equal(F._distinct_counts(codes, values * (big // 40), n, big),
                                  expected)
    monkeypatch.setattr(F, "_BIT_BYTES_PER_ROW", 0)
    np.testing.assert_array_equal(F._distinct_counts(codes, values * (big * 8 // 40), n,
                                                     big * 8), expected)


@pytest.mark.parametrize("kind", ["fixed", "digits", "long", "mixed"])
def test_factorize_matches_pandas(kind):
    rng = np.random.default_rng(5)
    ids = random_ids(rng, 400, kind)
    values = [ids[i] for i in rng.integers(0, len(ids), 3000)]
    for s in (pd.Series(values, dtype="str"),
              pd.Series(values, dtype=pd.ArrowDtype(__import__("pyarrow").string())),
              pd.Series(np.array(values, dtype=object), dtype=object)):
        codes, uniques = F._factorize(s)
        ref_codes, ref_uniques = pd.factorize(s, sort=True)
        np.testing.assert_array_equal(codes, ref_codes)
        pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)
        keep = rng.random(len(s)) < 0.3
        codes, uniques = F._factorize(s, keep)
        ref_codes, ref_uniques = pd.factorize(s[keep], sort=True)
        np.testing.assert_array_equal(codes, ref_codes)
        pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)
        codes, uniques = F._factorize(s, sort=False)
        ref_codes, ref_uniques = pd.factorize(s, sort=False)
        np.testing.assert_array_equal(codes, ref_codes)
        pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)


def test_factorize_odd_values_fall_back_and_agree():
    odd = [
        ["a\x00b", "a", "a\x00b", ""],  # NUL bytes: cannot be zero-padded keys
        ["x" * 40, "x" * 39, "y", "x" * 40],  # longer than the widest key
        ["", "", "b", ""],  # empty strings
        ["b", None, "a", "b"],  # missing values
    ]
    for values in odd:
        s = pd.Series(values, dtype="str")
        codes, uniques = F._factorize(s)
        ref_codes, ref_uniques = pd.factorize(s, sort=True)
        np.testing.assert_array_equal(codes, ref_codes)
        pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)


def test_chunked_arrow_column_and_empty_frame():
    tx = pd.concat([random_tx(8, n_rows=500), random_tx(9, n_rows=700)], ignore_index=True)
    assert tx["customer_id"].array.__arrow_array__().num_chunks >= 1
    assert_same(rfm(tx), ref_rfm(tx))
    with pytest.raises(DataError, match="no transactions"):
        monthly_arrays(tx.iloc[:0])


def test_public_results_do_not_depend_on_row_order():
    tx = random_tx(10, order_id=True, quantity=True)
    shuffled = tx.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert_same(rfm(shuffled), rfm(tx))
    assert_same(btyd_summary(shuffled), btyd_summary(tx))
    assert_same(period_panel(shuffled, "Q"), period_panel(tx, "Q"))


def test_monthly_arrays_fields_builds_only_what_is_asked():
    tx = random_tx(12, order_id=True, quantity=True)
    full = monthly_arrays(tx)
    for fields in (["spend"], ["orders", "last_day"], ["quantity"], []):
        part = monthly_arrays(tx, fields=fields)
        for name in ("spend", "orders", "quantity", "last_day"):
            if name in fields:
                np.testing.assert_array_equal(getattr(part, name), getattr(full, name))
            else:
                assert getattr(part, name) is None
        np.testing.assert_array_equal(part.first_day, full.first_day)
        np.testing.assert_array_equal(part.first_month, full.first_month)
    with pytest.raises(DataError, match="unknown field"):
        monthly_arrays(tx, fields=["spend", "recency"])


# --------------------------------------------------------------------------- rfm(path)
# rfm reads a canonical Parquet file column by column; it must give what the reference gives
# on the same rows as a DataFrame, whatever the file's layout.


def _write(tx: pd.DataFrame, path, **kwargs) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(tx, preserve_index=False), path, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_rfm_of_a_parquet_file_equals_reference(case, tmp_path):
    tx = random_tx(**case)
    path = tmp_path / "tx.parquet"
    _write(tx, path, row_group_size=700)  # several row groups
    assert_same(rfm(path), ref_rfm(tx))
    assert_same(rfm(str(path)), ref_rfm(tx))
    as_of = tx["timestamp"].quantile(0.6)
    assert_same(rfm(path, as_of=as_of), ref_rfm(tx, as_of=as_of))


@pytest.mark.parametrize("layout", ["ms", "s", "date", "dictionary", "integer ids",
                                    "integer amounts", "decimal amounts", "tz"])
def test_rfm_of_a_parquet_file_reads_other_column_types(layout, tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    tx = random_tx(seed=11, n_rows=900, n_customers=80)
    ref_tx = tx.copy()
    table = pa.Table.from_pandas(tx, preserve_index=False)
    ts = table.column("timestamp")
    if layout in ("ms", "s"):
        table = table.set_column(1, "timestamp", ts.cast(pa.timestamp(layout)))
        ref_tx["timestamp"] = tx["timestamp"].dt.floor("1" + layout)
    elif layout == "date":
        table = table.set_column(1, "timestamp", ts.cast(pa.date32()))
        ref_tx["timestamp"] = tx["timestamp"].dt.normalize()
    elif layout == "tz":  # instants: days are taken in UTC, as for a tz-aware frame
        table = table.set_column(1, "timestamp", ts.cast(pa.timestamp("ns", tz="UTC")))
    elif layout == "dictionary":
        table = table.set_column(0, "customer_id", table.column(0).dictionary_encode())
    elif layout == "integer ids":
        ref_tx["customer_id"] = pd.factorize(tx["customer_id"])[0] * 7 + 100
        table = table.set_column(0, "customer_id", pa.array(ref_tx["customer_id"].to_numpy()))
    elif layout == "integer amounts":
        ref_tx["amount"] = np.round(tx["amount"]).astype("int64")
        table = table.set_column(2, "amount", pa.array(ref_tx["amount"].to_numpy()))
    elif layout == "decimal amounts":
        values = [decimal.Decimal(f"{v:.2f}") for v in tx["amount"]]
        table = table.set_column(2, "amount", pa.array(values, type=pa.decimal128(12, 2)))
    path = tmp_path / "tx.parquet"
    pq.write_table(table, path, row_group_size=250)
    assert_same(rfm(path), ref_rfm(ref_tx))


def test_rfm_of_a_parquet_file_names_the_problem(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tx = random_tx(seed=12, n_rows=50, n_customers=10)
    with pytest.raises(DataError, match="file not found"):
        rfm(tmp_path / "nope.parquet")
    with pytest.raises(DataError, match="folder"):
        rfm(tmp_path)
    csv = tmp_path / "tx.csv"
    tx.to_csv(csv, index=False)
    with pytest.raises(DataError, match="not a Parquet file.*load_transactions"):
        rfm(csv)
    path = tmp_path / "tx.parquet"
    _write(tx.rename(columns={"amount": "amout"}), path)
    with pytest.raises(DataError, match="lacks column 'amount'.*did you mean 'amout'"):
        rfm(path)
    _write(tx.assign(timestamp=tx["timestamp"].astype(str)), path)
    with pytest.raises(DataError, match="column 'timestamp' holds text, not timestamps"):
        rfm(path)
    ids = tx["customer_id"].astype(object)
    ids.iloc[23] = None
    _write(tx.assign(customer_id=ids), path, row_group_size=10)
    with pytest.raises(DataError, match="'customer_id' has a missing value in data row 24"):
        rfm(path)
    amount = tx["amount"].copy()
    amount.iloc[7] = np.nan
    _write(tx.assign(amount=amount), path)
    with pytest.raises(DataError, match="'amount' has a missing value in data row 8"):
        rfm(path)
    pq.write_table(pa.table({"customer_id": pa.array([], pa.string()),
                             "timestamp": pa.array([], pa.timestamp("ns")),
                             "amount": pa.array([], pa.float64())}), path)
    with pytest.raises(DataError, match="no transactions"):
        rfm(path)
    assert len(rfm(path, as_of="2025-01-31")) == 0
