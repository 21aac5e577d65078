"""The generator's model of customers and their purchases (see :mod:`tierlab.datasets`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CHANNELS", "CUSTOMER_COLUMNS", "INDUSTRIES", "RETURN_SHARE", "TRANSACTION_COLUMNS",
    "customer_table", "draw_customers", "draw_transactions", "id_width", "zero_padded",
]

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
_SECOND = np.timedelta64(1, "s")
_DAY = np.timedelta64(86_400, "s")


def draw_customers(rng: np.random.Generator, n: int, edges: np.ndarray) -> dict[str, np.ndarray]:
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


def customer_table(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    amount: np.ndarray,
    cust_of_row: np.ndarray,
) -> pd.DataFrame:
    n = len(cust["ind"])
    num = zero_padded(np.arange(1, n + 1), id_width(n))
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
            "phone": "138" + zero_padded(np.arange(1, n + 1), 8),
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
def draw_transactions(
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
            "customer_id": "C" + zero_padded(row_cust + 1, id_width(n)),
            "timestamp": row_ts.astype("datetime64[ns]"),
            "amount": sign * cents[src] / 100.0,
            "order_id": "O" + zero_padded(row_order + 1, width),
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


def id_width(n_customers: int) -> int:
    """Digits of a customer number: 5, more when there are more customers."""
    return max(5, len(str(n_customers)))


def zero_padded(values: np.ndarray, width: int) -> pd.Series:
    """Integers as strings zero-padded to *width* digits."""
    return pd.Series(np.asarray(values).astype(str)).str.zfill(width)
