"""Seeded synthetic customer data and the bundled sample.

:func:`generate` draws a realistic transaction log and customer table in the canonical form that
:mod:`tierlab.io.load` produces, so that every part of tierlab can be tried, tested and benchmarked
without real customer data. Everything is fake: names are ``测试客户00042`` / ``测试公司00042``,
phones are ``138000xxxxx``-shaped, e-mails end in ``@example.com``.

What the generator models, so that the tier schemes of the specification are all exercised:

- staggered sign-ups: about a third of customers exist before the period, the rest sign up
  during it; a few sign up and never buy;
- heterogeneous purchase rates (gamma-distributed Poisson rates, heavy tail) and log-normal prices,
  so monthly spend crosses 100 and 500 regularly; a few dozen key accounts (manufacturing and
  foreign trade) place several multi-line orders a month and pass 50,000 or 100,000 a year with
  100+ orders;
- hotel guests whose ``quantity`` is the number of nights (1-5) per stay; elsewhere it counts items;
- churn (a geometric lifetime), yearly seasonality (November/December peaks, a dip in the month of
  Chinese New Year, a summer and holiday peak for hotels), and behaviour drift (some customers ramp
  up, some decay), so tiers move over time;
- about 3 % of rows are returns: the negative of an earlier purchase line of the same customer and
  order, 1-30 days later;
- satisfaction scores 1-5 that rise with spend and fall for decaying customers.

The bundled sample in ``data/sample/`` is exactly ``generate(**SAMPLE_PARAMS, messy=True)`` written
to CSV by ``data/make_sample.py``; :func:`sample_transactions` and :func:`sample_customers` return
the same data by regenerating it, so they work in an installed package without data files.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError

__all__ = [
    "INDUSTRIES",
    "RETURN_SHARE",
    "SAMPLE_PARAMS",
    "generate",
    "sample_customers",
    "sample_transactions",
]

#: Parameters of the bundled sample (``data/sample/``): ``generate(**SAMPLE_PARAMS, messy=True)``.
SAMPLE_PARAMS: dict[str, Any] = {
    "n_customers": 2000,
    "months": 24,
    "start": "2024-01-01",
    "seed": 2024,
}

#: Target share of transaction rows that are returns (negative amounts).
RETURN_SHARE = 0.03

TRANSACTION_COLUMNS = ["customer_id", "timestamp", "amount", "order_id", "quantity", "channel"]
CUSTOMER_COLUMNS = [
    "customer_id", "name", "phone", "email", "region", "province", "industry", "signup_date",
    "satisfaction", "notes",
]

CHANNELS = ("store", "online", "app", "phone", "sales rep")

# One row per industry. rate: mean orders per month and gamma shape of the per-customer rate;
# extra_lines: Poisson mean of order lines beyond the first; price: median price per unit (per
# night for hotels, per cover for catering); price_sd: log-sd of the per-line price noise;
# q_p: quantity = 1 + Binomial(4, q_p); ret_w: relative return propensity; season: profile row.
_PROFILE = pd.DataFrame(
    {
        "share": [0.34, 0.25, 0.14, 0.08, 0.10, 0.09],
        "rate": [1.2, 1.5, 0.7, 2.0, 0.8, 0.6],
        "shape": [0.7, 0.6, 0.9, 0.8, 0.8, 0.8],
        "extra_lines": [0.4, 0.5, 0.0, 0.0, 0.8, 0.8],
        "price": [45.0, 60.0, 320.0, 60.0, 150.0, 200.0],
        "price_sd": [0.5, 0.55, 0.2, 0.3, 0.5, 0.5],
        "q_p": [0.25, 0.2, 0.2, 0.35, 0.5, 0.5],
        "ret_w": [1.0, 2.0, 0.5, 0.2, 0.7, 0.7],
        "b2b": [False, False, False, False, True, True],
        "season": [0, 0, 1, 0, 2, 2],
        # channel probabilities in the order of CHANNELS
        "channels": [
            [0.60, 0.15, 0.25, 0.00, 0.00],
            [0.00, 0.70, 0.30, 0.00, 0.00],
            [0.10, 0.45, 0.30, 0.15, 0.00],
            [0.70, 0.00, 0.30, 0.00, 0.00],
            [0.00, 0.30, 0.00, 0.10, 0.60],
            [0.00, 0.35, 0.00, 0.05, 0.60],
        ],
    },
    index=pd.Index(
        ["retail", "e-commerce", "hotel", "catering", "manufacturing", "foreign trade"],
        name="industry",
    ),
)

#: Industries drawn by :func:`generate`.
INDUSTRIES: tuple[str, ...] = tuple(_PROFILE.index)
_P = {col: _PROFILE[col].to_numpy() for col in _PROFILE.columns if col != "channels"}
_CHANNEL_CUM = np.cumsum(np.array(_PROFILE["channels"].tolist()), axis=1)
_CHANNEL_CUM[:, -1] = 1.0

# Seasonal factor by calendar month (Jan..Dec) for consumer, hotel and B2B customers; the month
# holding Chinese New Year is then multiplied by _CNY_FACTOR (dip; a peak for hotels).
_SEASON = np.array(
    [
        [1.05, 1.00, 1.00, 0.95, 1.00, 1.05, 0.95, 0.95, 1.00, 1.05, 1.30, 1.40],
        [0.90, 0.95, 0.90, 1.00, 1.05, 1.00, 1.30, 1.35, 0.95, 1.15, 0.85, 0.90],
        [1.00, 1.05, 1.05, 1.00, 1.00, 1.00, 0.95, 0.95, 1.05, 0.95, 1.05, 1.15],
    ]
)
_CNY_FACTOR = np.array([0.70, 1.25, 0.55])
# Month of Chinese New Year's day; years outside the table fall back to February.
_CNY_MONTH = {
    2015: 2, 2016: 2, 2017: 1, 2018: 2, 2019: 2, 2020: 1, 2021: 2, 2022: 2, 2023: 1, 2024: 2,
    2025: 1, 2026: 2, 2027: 2, 2028: 1, 2029: 2, 2030: 2, 2031: 1, 2032: 2, 2033: 1, 2034: 2,
    2035: 2,
}

_KEY_ACCOUNT_SHARE = 0.15  # of manufacturing / foreign-trade customers
_PROVINCE_LOCAL = "Zhejiang"
_PROVINCES_REMOTE = np.array(
    ["Jiangsu", "Shanghai", "Guangdong", "Beijing", "Shandong", "Fujian", "Sichuan", "Hubei"]
)
_NOTES = np.array(
    [
        "prefers WeChat contact",
        "需开增值税专票",
        "call after 18:00",
        "address changed",
        "complaint resolved",
        "asked for monthly statement",
        "生日月有优惠",
    ]
)
_BAD_DATES = np.array(["2024-13-45", "#VALUE!", "0000-00-00", "32/01/2024", "2024-02-30",
                       "yesterday", "N.A."])
_SECOND = np.timedelta64(1, "s")
_DAY = np.timedelta64(86_400, "s")


# long through its docstring (the generator's documented model); the body is ~15 lines
def generate(
    n_customers: int = 2000,
    *,
    months: int = 24,
    start: str | pd.Timestamp = "2024-01-01",
    seed: int = 0,
    messy: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw a synthetic transaction log and customer table.

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers in the customer table (a few of them never buy).
    months : int, default 24
        Length of the transaction period in months; the period is
        ``[start, start + months months)``.
    start : str or Timestamp, default "2024-01-01"
        First day of the period (the time of day is dropped).
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the same arguments always give the same frames.
    messy : bool, default False
        If True, the transactions come as an export would write them: every column is a string
        (timestamps ``"2024-03-01 14:05:09"``, amounts ``"1234.50"``, quantities ``"2"``), about
        2 % of amounts are written ``"¥1,234.50"`` (``"-¥1,234.50"`` for returns), and a few
        extra rows are added next to the row they copy: copies with a missing ``customer_id``,
        copies with an unparseable ``timestamp`` (``"2024-13-45"``, ``"#VALUE!"`` ...) and exact
        duplicates of an order line. Each kind counts ``max(2, ceil(rows / 10,000))`` rows.
        Rejecting those rows and parsing the amounts gives back the clean transactions exactly.
        The customer table is the same in both modes.

    Returns
    -------
    transactions : DataFrame
        One row per purchase line, sorted by ``timestamp`` then ``order_id``, columns
        ``customer_id`` (str, ``"C00001"``), ``timestamp`` (datetime64[ns]), ``amount``
        (float64, 2 decimals; negative for returns), ``order_id`` (str, ``"O0000001"``; an order
        may have several lines and a return carries the id of the order it refunds),
        ``quantity`` (float64, 1-5 items or hotel nights; negative on returns) and ``channel``
        (str: store, online, app, phone, sales rep).
    customers : DataFrame
        One row per customer: ``customer_id``, ``name``, ``phone``, ``email``, ``region``
        ("local" / "remote"), ``province``, ``industry``, ``signup_date`` (datetime64[ns]),
        ``satisfaction`` (float64, 1-5, NaN when not surveyed), ``notes`` (str or NaN).

    Raises
    ------
    ArgumentError
        If a parameter is out of range.

    See Also
    --------
    sample_transactions, sample_customers : the bundled sample.

    Notes
    -----
    Everything is vectorized over customers and rows; only the bounded messy-mode rendering
    loops over its few problem kinds. Two million customers take well under a minute.

    Examples
    --------
    >>> from tierlab.datasets import generate
    >>> tx, customers = generate(200, months=12, seed=1)
    >>> list(tx.columns)
    ['customer_id', 'timestamp', 'amount', 'order_id', 'quantity', 'channel']
    >>> customers["customer_id"].iloc[0], customers["email"].iloc[0]
    ('C00001', 'c00001@example.com')
    >>> bool((tx["amount"] < 0).mean() < 0.05)
    True
    """
    n, months, t0 = _check_params(n_customers, months, start, seed)
    rng = np.random.default_rng(seed)
    edges = (pd.date_range(t0, periods=months + 1, freq=pd.DateOffset(months=1))
             .to_numpy().astype("datetime64[s]"))

    cust = _draw_customers(rng, n, edges)
    tx, cust_of_row = _draw_transactions(rng, cust, edges)
    customers = _customer_table(rng, cust, tx["amount"].to_numpy(), cust_of_row)
    if messy:
        tx = _make_messy(rng, tx)
    return tx, customers


def sample_transactions(*, messy: bool = False) -> pd.DataFrame:
    """Transactions of the bundled sample (``data/sample/transactions.csv``).

    The sample is regenerated with :data:`SAMPLE_PARAMS`, so this works without data files.

    Parameters
    ----------
    messy : bool, default False
        False: the clean canonical transactions, i.e. what loading the CSV gives once the
        deliberately bad rows are rejected. True: the strings exactly as written in the CSV.

    Returns
    -------
    DataFrame
        A new frame on every call; see :func:`generate` for the columns.

    Examples
    --------
    >>> from tierlab.datasets import sample_transactions
    >>> tx = sample_transactions()
    >>> bool(tx["timestamp"].between("2024-01-01", "2026-01-01", inclusive="left").all())
    True
    """
    return _sample(bool(messy))[0].copy()


def sample_customers() -> pd.DataFrame:
    """Customer table of the bundled sample (``data/sample/customers.csv``).

    Returns
    -------
    DataFrame
        ``generate(**SAMPLE_PARAMS)[1]``, a new frame on every call.

    Examples
    --------
    >>> from tierlab.datasets import sample_customers
    >>> len(sample_customers())
    2000
    """
    return _sample(False)[1].copy()


@functools.lru_cache(maxsize=2)
def _sample(messy: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate(**SAMPLE_PARAMS, messy=messy)


# --------------------------------------------------------------------------------------------
# parameters


def _check_params(
    n_customers: Any, months: Any, start: Any, seed: Any
) -> tuple[int, int, pd.Timestamp]:
    for name, value, low, high in (
        ("n_customers", n_customers, 1, 99_999_999),
        ("months", months, 1, 1200),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or not low <= value <= high
        ):
            raise ArgumentError(
                f"generate(): parameter {name!r} must be an integer from {low} to {high}, "
                f"got {value!r}."
            )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ArgumentError(f"generate(): parameter 'seed' must be an integer >= 0, got {seed!r}.")
    try:
        t0 = pd.Timestamp(start)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(
            f"generate(): parameter 'start' must be a date such as '2024-01-01', got {start!r}."
        ) from exc
    if t0 is pd.NaT or t0.tz is not None:
        raise ArgumentError(
            f"generate(): parameter 'start' must be a tz-naive date such as '2024-01-01', "
            f"got {start!r}."
        )
    return int(n_customers), int(months), t0.normalize()


# --------------------------------------------------------------------------------------------
# customers


def _draw_customers(rng: np.random.Generator, n: int, edges: np.ndarray) -> dict[str, np.ndarray]:
    """Per-customer latent traits as aligned arrays (position i = customer i + 1)."""
    t0, t_end = edges[0], edges[-1]
    months = len(edges) - 1
    ind = rng.choice(len(_PROFILE), size=n, p=_P["share"])
    b2b = _P["b2b"][ind]
    key = b2b & (rng.random(n) < _KEY_ACCOUNT_SHARE)
    local = rng.random(n) < np.where(ind == INDUSTRIES.index("foreign trade"), 0.4, 0.6)

    # sign-up: existing customers up to 3 years before the start, the rest during the period
    existing = rng.random(n) < np.where(key, 0.7, 0.35)
    period_days = int((t_end - t0) // _DAY)
    before = rng.integers(1, 3 * 365, size=n)
    during = rng.integers(0, period_days, size=n)
    signup = t0 + np.where(existing, -before, during) * _DAY
    entry = np.clip(np.searchsorted(edges, signup, side="right") - 1, 0, months - 1)

    shape = np.where(key, 3.0, _P["shape"][ind])
    mean_rate = np.where(key, 7.0, _P["rate"][ind])
    rate = rng.gamma(shape, mean_rate / shape)
    rate *= np.where(local, 1.0, 0.85)
    buyer = existing | key | (rng.random(n) >= 0.03)  # 3 % of new sign-ups never buy
    rate[~buyer] = 0.0

    churn_p = np.where(key, rng.beta(1, 120, size=n), rng.beta(1, 30, size=n))
    lifetime = rng.geometric(np.maximum(churn_p, 1e-6))  # months alive, >= 1
    dropout = entry + np.minimum(lifetime, months + 1)

    kind = rng.choice(3, size=n, p=[0.65, 0.20, 0.15])  # stable, ramp up, decay
    strength = rng.uniform(0.4, 1.2, size=n)
    drift = np.select([kind == 1, kind == 2], [strength, -strength], rng.normal(0, 0.1, size=n))

    return {
        "ind": ind,
        "key": key,
        "local": local,
        "existing": existing,
        "buyer": buyer,
        "signup": signup,
        "entry": entry,
        "dropout": dropout,
        "rate": rate,
        "drift": drift,
        "price_mult": rng.lognormal(0.0, np.where(key, 0.35, 0.45)),
    }


def _customer_table(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    amount: np.ndarray,
    cust_of_row: np.ndarray,
) -> pd.DataFrame:
    n = len(cust["ind"])
    num = _zero_padded(np.arange(1, n + 1), _id_width(n))
    ids = "C" + num
    b2b = _P["b2b"][cust["ind"]]
    spend = np.bincount(cust_of_row, weights=amount, minlength=n)

    # satisfaction: rises with (log) spend, lower for decaying customers, 8 % not surveyed
    log_spend = np.log1p(np.maximum(spend, 0.0))
    z = (log_spend - log_spend.mean()) / (log_spend.std() or 1.0)
    score = 3.3 + 0.55 * z + 0.35 * np.sign(cust["drift"]) * (np.abs(cust["drift"]) > 0.3)
    score = np.clip(np.rint(score + rng.normal(0, 0.7, size=n)), 1, 5)
    score[rng.random(n) < 0.08] = np.nan

    notes = _NOTES[rng.integers(0, len(_NOTES), size=n)].astype(object)
    notes[rng.random(n) >= 0.10] = np.nan
    notes[cust["key"]] = "key account"

    province = _PROVINCES_REMOTE[rng.integers(0, len(_PROVINCES_REMOTE), size=n)]
    signup = cust["signup"].astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": np.where(b2b, "测试公司", "测试客户") + num,
            "phone": "138" + _zero_padded(np.arange(1, n + 1), 8),
            "email": "c" + num + "@example.com",
            "region": np.where(cust["local"], "local", "remote"),
            "province": np.where(cust["local"], _PROVINCE_LOCAL, province),
            "industry": np.asarray(INDUSTRIES)[cust["ind"]],
            "signup_date": signup,
            "satisfaction": score.astype("float64"),
            "notes": pd.Series(notes, dtype=object).astype(str).where(pd.notna(notes)),
        },
        columns=CUSTOMER_COLUMNS,
    ).astype({c: str for c in CUSTOMER_COLUMNS[:7]})


# --------------------------------------------------------------------------------------------
# transactions


def _season_matrix(edges: np.ndarray) -> np.ndarray:
    """Seasonal factor per profile (rows) and period month (columns)."""
    starts = pd.DatetimeIndex(edges[:-1])
    month = starts.month.to_numpy()
    factor = _SEASON[:, month - 1].copy()
    cny = np.array([_CNY_MONTH.get(y, 2) for y in starts.year])  # loop over months, not rows
    factor[:, month == cny] *= _CNY_FACTOR[:, None]
    return factor


# one vectorized pass: order counts, lines, prices, quantities, returns; split, it would pass
# a dozen row arrays between the parts
def _draw_transactions(
    rng: np.random.Generator, cust: dict[str, np.ndarray], edges: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    n, months = len(cust["ind"]), len(edges) - 1
    ind, entry = cust["ind"], cust["entry"]
    m = np.arange(months)

    # --- orders per customer and month ---------------------------------------------------
    new = ~cust["existing"]
    month_start = np.broadcast_to(edges[:-1], (n, months))
    lo = np.where(new[:, None] & (m == entry[:, None]), cust["signup"][:, None], month_start)
    span = (edges[1:] - lo) / _DAY  # days available in each month
    frac = span / ((edges[1:] - edges[:-1]) / _DAY)
    alive = (m >= entry[:, None]) & (m < cust["dropout"][:, None])
    drift = np.exp(np.clip(cust["drift"][:, None] * (m - entry[:, None]) / 12.0, -2.5, 1.5))
    season = _season_matrix(edges)[_P["season"][ind]]
    lam = cust["rate"][:, None] * season * drift * frac * alive
    counts = rng.poisson(lam)
    first = new & cust["buyer"]  # a sign-up during the period comes with a first order
    counts[first, entry[first]] = np.maximum(counts[first, entry[first]], 1)

    cell = np.repeat(np.arange(n * months), counts.ravel())
    oc, om = cell // months, cell % months  # customer and month of each order
    n_orders = len(cell)

    # --- order timestamps and channels ----------------------------------------------------
    o_lo = lo[oc, om].astype("datetime64[s]")
    days = np.floor(rng.random(n_orders) * np.floor(span[oc, om])).astype(np.int64)
    seconds = np.floor((7 + 16 * rng.beta(2.2, 2.0, size=n_orders)) * 3600)  # 07:00-23:00
    ts = o_lo + days * _DAY + seconds.astype(np.int64) * _SECOND
    channel = (rng.random(n_orders)[:, None] > _CHANNEL_CUM[ind[oc]]).sum(axis=1)

    order_sort = np.lexsort((oc, ts))  # order ids follow time
    order_no = np.empty(n_orders, dtype=np.int64)
    order_no[order_sort] = np.arange(n_orders)

    # --- order lines ----------------------------------------------------------------------
    extra = np.where(cust["key"], 0.6, _P["extra_lines"][ind])
    n_lines = 1 + rng.poisson(extra[oc])
    lo_ = np.repeat(np.arange(n_orders), n_lines)  # order of each line
    lc = oc[lo_]
    li = ind[lc]  # industry of each line
    qty = 1 + rng.binomial(4, _P["q_p"][li])
    unit = _P["price"][li] * cust["price_mult"][lc] * rng.lognormal(0.0, _P["price_sd"][li])
    cents = np.maximum(np.rint(qty * unit * 100), 1).astype(np.int64)
    cents = _distinct_lines(order_no[lo_], cents, qty)

    # --- returns: the negative of an earlier purchase line, 1-30 days later ----------------
    n_purchase = len(lo_)
    t_line = ts[lo_]
    delay = rng.integers(86_400, 30 * 86_400, size=n_purchase) * _SECOND
    eligible = np.flatnonzero(t_line + delay < edges[-1])
    k = min(int(round(n_purchase * RETURN_SHARE / (1 - RETURN_SHARE))), len(eligible))
    weight = _P["ret_w"][li[eligible]]
    keys = np.log(rng.random(len(eligible))) / weight  # weighted sampling w/o replacement
    chosen = np.sort(eligible[np.argpartition(-keys, k - 1)[:k]]) if k else eligible[:0]

    src = np.concatenate([np.arange(n_purchase), chosen])
    is_ret = np.arange(len(src)) >= n_purchase
    sign = np.where(is_ret, -1, 1)
    row_ts = t_line[src] + np.where(is_ret, delay[src], np.timedelta64(0, "s"))
    row_order = order_no[lo_[src]]
    # sort by time, then order, purchase before return, then line position
    sort = np.lexsort((src, is_ret, row_order, row_ts))
    src, sign, row_ts, row_order = src[sort], sign[sort], row_ts[sort], row_order[sort]
    row_cust = lc[src]

    width = max(7, len(str(max(n_orders, 1))))
    tx = pd.DataFrame(
        {
            "customer_id": "C" + _zero_padded(row_cust + 1, _id_width(n)),
            "timestamp": row_ts.astype("datetime64[ns]"),
            "amount": sign * cents[src] / 100.0,
            "order_id": "O" + _zero_padded(row_order + 1, width),
            "quantity": (sign * qty[src]).astype("float64"),
            "channel": np.asarray(CHANNELS)[channel[lo_[src]]],
        },
        columns=TRANSACTION_COLUMNS,
    ).astype({"customer_id": str, "order_id": str, "channel": str})
    return tx, row_cust


def _distinct_lines(order: np.ndarray, cents: np.ndarray, qty: np.ndarray) -> np.ndarray:
    """Nudge amounts by a cent so no two lines of one order are identical.

    Identical lines of one order would read as duplicate export rows (SPEC §1).
    """
    cents = cents.copy()
    for _ in range(100):  # converges in one or two passes
        frame = pd.DataFrame({"o": order, "c": cents, "q": qty})
        rank = frame.groupby(["o", "c", "q"], sort=False).cumcount().to_numpy()
        if not rank.any():
            return cents
        cents += rank
    raise RuntimeError("could not make order lines distinct")  # pragma: no cover


# --------------------------------------------------------------------------------------------
# messy export


def _make_messy(rng: np.random.Generator, tx: pd.DataFrame) -> pd.DataFrame:
    """Render *tx* as export strings and add a few rows a loader must reject."""
    n = len(tx)
    cents = np.rint(tx["amount"].to_numpy() * 100).astype(np.int64)
    whole = pd.Series(np.abs(cents) // 100).astype(str)
    frac = pd.Series(np.abs(cents) % 100).astype(str).str.zfill(2)
    sign = pd.Series(np.where(cents < 0, "-", ""), dtype="str")
    plain = sign + whole + "." + frac
    yen = sign + "¥" + whole.str.replace(r"\B(?=(\d{3})+(?!\d))", ",", regex=True) + "." + frac
    use_yen = rng.random(n) < 0.02

    out = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy(),
            "timestamp": tx["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(),
            "amount": np.where(use_yen, yen, plain),
            "order_id": tx["order_id"].to_numpy(),
            "quantity": tx["quantity"].to_numpy().astype(np.int64).astype(str),
            "channel": tx["channel"].to_numpy(),
        },
        columns=TRANSACTION_COLUMNS,
    ).astype(str)

    k = min(max(2, -(-n // 10_000)), n)
    pieces = [out]
    positions: list[np.ndarray] = [np.arange(n, dtype=np.float64)]
    for problem in ("missing_id", "bad_date", "duplicate"):  # loop over problem kinds
        rows = np.sort(rng.choice(n, size=k, replace=False))
        extra = out.iloc[rows].copy()
        if problem == "missing_id":
            extra["customer_id"] = extra["customer_id"].where(np.zeros(k, dtype=bool))
        elif problem == "bad_date":
            extra["timestamp"] = _BAD_DATES[rng.integers(0, len(_BAD_DATES), size=k)]
        pieces.append(extra)
        positions.append(rows + 0.5)  # right after the row it copies
    order = np.argsort(np.concatenate(positions), kind="stable")
    return pd.concat(pieces, ignore_index=True).iloc[order].reset_index(drop=True)


def _id_width(n_customers: int) -> int:
    """Digits of a customer number: 5, more when there are more customers."""
    return max(5, len(str(n_customers)))


def _zero_padded(values: np.ndarray, width: int) -> pd.Series:
    """Integers as strings zero-padded to *width* digits."""
    return pd.Series(np.asarray(values).astype(str)).str.zfill(width)
