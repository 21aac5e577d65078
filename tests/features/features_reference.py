"""Reference implementations and random data for the feature tests.

The ``ref_*`` functions are the straightforward versions the fast paths replaced (pandas
factorize on the whole column, groupby min/max, np.unique of (customer, month) pairs, a dense
panel folded into periods). They share no helper with tierlab: dates, months and period ends
are computed here with pandas' own calendar.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

MONTHS_PER_PERIOD = {"M": 1, "Q": 3, "H": 6, "Y": 12}


def _ref_as_of(tx: pd.DataFrame, as_of) -> pd.Timestamp:
    return (tx["timestamp"].max() if as_of is None else pd.Timestamp(as_of)).normalize()


def _ref_days(ts: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of each timestamp (floored)."""
    return ((ts.dt.floor("D") - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)).to_numpy(
        dtype=np.int64)


def _ref_months(ts: pd.Series) -> np.ndarray:
    """year * 12 + month - 1 of each timestamp."""
    ts = pd.to_datetime(ts)
    return (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype=np.int64)


def _ref_period_ends(first_months: np.ndarray, step: int) -> pd.DatetimeIndex:
    """Last day of the ``step``-month period starting at each month number."""
    last = np.asarray(first_months, dtype=np.int64) + step - 1
    starts = pd.to_datetime(pd.DataFrame({"year": last // 12, "month": last % 12 + 1, "day": 1}))
    return pd.DatetimeIndex(starts + pd.offsets.MonthEnd(0)).astype("datetime64[ns]")


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
    as_of = _ref_as_of(tx, as_of)
    tx = _ref_window(tx, as_of)
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    amount = tx["amount"].to_numpy(dtype="float64")
    day = _ref_days(tx["timestamp"])
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

    month = _ref_months(tx["timestamp"])
    pairs = np.unique(codes[purchase].astype(np.int64) * 100_000 + (month[purchase] - month.min()))
    active = np.bincount((pairs // 100_000).astype(np.intp), minlength=n)

    as_of_day = _ref_days(pd.Series([as_of]))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(frequency > 0, total / np.maximum(frequency, 1), np.nan)
    out = pd.DataFrame(
        {
            "recency_days": (as_of_day - last).astype(np.int64),
            "frequency": frequency.astype(np.int64),
            "monetary_total": total,
            "monetary_mean": mean,
            "first_purchase": first.astype("datetime64[D]").astype("datetime64[ns]"),
            "last_purchase": last.astype("datetime64[D]").astype("datetime64[ns]"),
            "tenure_days": (as_of_day - first).astype(np.int64),
            "active_months": active.astype(np.int64),
            "returns": returns.astype(np.int64),
            "return_amount": return_amount + 0.0,
        },
        index=pd.Index(ids, name="customer_id"),
    )
    return out


def _ref_month_bounds(tx_months: np.ndarray, start, end) -> tuple[int, int]:
    lo = int(tx_months.min()) if start is None else _ref_months(pd.Series([start]))[0]
    hi = int(tx_months.max()) if end is None else _ref_months(pd.Series([end]))[0]
    return int(lo), int(hi)


def ref_monthly_arrays(tx: pd.DataFrame, start=None, end=None, *,
                       dtype="float64") -> SimpleNamespace:
    if end is not None:
        tx = _ref_window(tx, pd.Timestamp(end).normalize() + pd.offsets.MonthEnd(0))
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    month = _ref_months(tx["timestamp"])
    lo, hi = _ref_month_bounds(month, start, end)
    n_m = hi - lo + 1
    amount = tx["amount"].to_numpy(dtype="float64")
    purchase = amount >= 0
    day = _ref_days(tx["timestamp"])

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
    return SimpleNamespace(
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
    arr = ref_monthly_arrays(tx, start, end)
    step = MONTHS_PER_PERIOD[freq]
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
    ends = _ref_period_ends(period_months, step)
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
    as_of = _ref_as_of(tx, as_of)
    tx = _ref_window(tx, as_of)
    tx = tx.loc[tx["amount"].to_numpy() >= 0]
    per = tx["timestamp"].dt.to_period(time_unit)
    as_of_per = pd.Timestamp(as_of).to_period(time_unit)
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
