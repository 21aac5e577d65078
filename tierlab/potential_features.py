"""Customer features relative to a cutoff day, for the supervised potential model.

Every feature looks back from the cutoff over a fixed span (the last 30, 91, 182 and 365 days,
tenure capped at a year), so a customer observed at an early cutoff and one observed at a late
cutoff are described on the same scale: a model trained on earlier cutoffs sees the same ages
it later predicts at. Cumulative totals (which grow with the age of the data) are avoided.

:func:`stacked_btyd_features` adds what BG/NBD and Gamma-Gamma, fitted on the history up to the
cutoff, predict for the window after it (the models' predictions become features: stacking).

Everything is vectorized over customers: the transactions are reduced once to one row per
customer and day (:func:`daily_activity`), and each cutoff is a few ``np.bincount`` passes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierlab._kernels.factorize import factorize
from tierlab.btyd import BetaGeoModel, GammaGammaModel
from tierlab.errors import DataError
from tierlab.features import btyd_summary
from tierlab.potential_split import periods_between

__all__ = [
    "WINDOWS_DAYS",
    "FEATURE_COLUMNS",
    "STACKED_COLUMNS",
    "DailyActivity",
    "daily_activity",
    "btyd_from_activity",
    "cutoff_features",
    "stacked_btyd_features",
    "quantile_thresholds",
    "apply_thresholds",
]

#: Look-back windows in days (about 1, 3, 6 and 12 months).
WINDOWS_DAYS: tuple[int, ...] = (30, 91, 182, 365)
_MONTH = 30  # days of a look-back "month" for active-month counts

#: Columns of :func:`cutoff_features`.
FEATURE_COLUMNS: tuple[str, ...] = (
    *(f"spend_{w}d" for w in WINDOWS_DAYS),
    *(f"purchase_days_{w}d" for w in WINDOWS_DAYS),
    "active_months_3m",
    "active_months_6m",
    "active_months_12m",
    "recency_days",
    "tenure_days",
    "purchase_rate",
    "spend_per_purchase_day",
    "spend_trend",
    "purchase_trend",
)
#: Columns of :func:`stacked_btyd_features` (rates are per day of the window).
STACKED_COLUMNS: tuple[str, ...] = (
    "bgnbd_purchase_rate",
    "bgnbd_p_alive",
    "bgnbd_p_no_purchase",
    "gg_spend_per_purchase",
    "bgnbd_spend_rate",
)


@dataclass(frozen=True)
class DailyActivity:
    """Transactions reduced to one row per customer and day, sorted by (customer, day).

    Attributes
    ----------
    ids : Index
        Customer ids (sorted); ``code`` indexes into it.
    code, day : ndarray
        Customer code and day number (days since 1970-01-01) of each row.
    spend : ndarray
        Net spend of the customer that day (returns included).
    purchase : ndarray
        Whether the customer had a row with ``amount >= 0`` that day.
    purchase_spend : ndarray
        Spend of those rows (what the BTYD summary's ``monetary_value`` averages).
    """

    ids: pd.Index
    code: np.ndarray
    day: np.ndarray
    spend: np.ndarray
    purchase: np.ndarray
    purchase_spend: np.ndarray


def day_number(ts: pd.Timestamp) -> int:
    """Days since 1970-01-01 of a (midnight) Timestamp."""
    return int(np.datetime64(ts.normalize(), "D").astype(np.int64))


def daily_activity(tx: pd.DataFrame) -> DailyActivity:
    """Reduce canonical transactions to one row per customer and day.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``), already checked.

    Returns
    -------
    DailyActivity
    """
    codes, ids = factorize(tx["customer_id"])  # sorted ids; cached for a loaded column
    ids = ids.rename("customer_id")
    day = tx["timestamp"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    amount = tx["amount"].to_numpy(dtype="float64")
    d0 = int(day.min()) if len(day) else 0
    span = int(day.max()) - d0 + 1 if len(day) else 1
    key = codes.astype(np.int64) * span + (day - d0)
    uniq, inverse = np.unique(key, return_inverse=True)
    spend = np.bincount(inverse, weights=amount, minlength=len(uniq))
    bought = amount >= 0
    purchase = np.bincount(inverse, weights=bought, minlength=len(uniq)) > 0
    purchase_spend = np.bincount(inverse, weights=np.where(bought, amount, 0.0),
                                 minlength=len(uniq))
    return DailyActivity(ids=ids, code=uniq // span, day=uniq % span + d0, spend=spend,
                         purchase=purchase, purchase_spend=purchase_spend)


def btyd_from_activity(act: DailyActivity, cutoff: int) -> pd.DataFrame:
    """:func:`tierlab.features.btyd_summary` in days at day ``cutoff``, from the daily rows.

    The same definitions with ``time_unit="D"`` (repeat purchase days, days from the first to
    the last purchase day and to the cutoff, mean spend of the rows with ``amount >= 0`` per
    repeat purchase day), without reading the transactions again.

    Parameters
    ----------
    act : DailyActivity
        From :func:`daily_activity`.
    cutoff : int
        Day number of the last day known.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (the customers with a purchase by ``cutoff``) with
        ``frequency``, ``recency``, ``T`` and ``monetary_value``.
    """
    buy = act.purchase & (act.day <= cutoff)
    code, day, money = act.code[buy], act.day[buy], act.purchase_spend[buy]
    n = len(act.ids)
    # rows are sorted by (customer, day): each customer's rows are one run
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]]) if len(code) else \
        np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(code)] - 1
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first[code[starts]] = day[starts]
    last[code[ends]] = day[ends]
    later = np.ones(len(code), dtype=bool)
    later[starts] = False
    frequency = np.bincount(code, minlength=n) - 1
    repeat_spend = np.bincount(code[later], weights=money[later], minlength=n)
    monetary = np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0)
    frame = pd.DataFrame({"frequency": frequency.astype(float),
                          "recency": (last - first).astype(float),
                          "T": (cutoff - first).astype(float),
                          "monetary_value": monetary}, index=act.ids)
    return frame.loc[frequency >= 0]


def cutoff_features(act: DailyActivity, cutoff: int, *,
                    tenure_cap_days: int = 365) -> pd.DataFrame:
    """Features of every customer with a purchase on or before day ``cutoff``.

    Parameters
    ----------
    act : DailyActivity
        From :func:`daily_activity`.
    cutoff : int
        Day number (see :func:`day_number`) of the last day known.
    tenure_cap_days : int
        Tenure (days since the first purchase) is capped here, so that long-standing customers
        at a late cutoff look like those at an earlier one.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` with :data:`FEATURE_COLUMNS`: net spend and purchase days in
        the last 30/91/182/365 days; active 30-day months among the last 3, 6 and 12; days since
        the last purchase; capped tenure; purchase days per day over the last year (or the
        tenure if shorter); net spend per purchase day over the whole history; and the trend of
        the last 91 days against the 91 before them (``log1p`` spend difference, purchase-day
        difference).
    """
    known = act.day <= cutoff
    buy = known & act.purchase
    n = len(act.ids)
    bought = np.bincount(act.code[buy], minlength=n) > 0
    # rows are sorted by (customer, day): the first/last purchase row of each customer
    buy_code, buy_day = act.code[buy], act.day[buy]
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    _, first_at = np.unique(buy_code, return_index=True)
    _, last_rev = np.unique(buy_code[::-1], return_index=True)
    first[buy_code[first_at]] = buy_day[first_at]
    last[buy_code[::-1][last_rev]] = buy_day[::-1][last_rev]

    age = cutoff - act.day
    out: dict[str, np.ndarray] = {}
    for w in WINDOWS_DAYS:  # loop over windows, vectorized over customers
        inside = known & (age < w)
        out[f"spend_{w}d"] = np.bincount(act.code[inside], weights=act.spend[inside], minlength=n)
    for w in WINDOWS_DAYS:
        inside = buy & (age < w)
        out[f"purchase_days_{w}d"] = np.bincount(act.code[inside], minlength=n).astype(float)
    recent = buy & (age < 12 * _MONTH)
    cells = np.unique(act.code[recent] * 12 + age[recent] // _MONTH)
    cell_code, cell_month = cells // 12, cells % 12
    for months in (3, 6, 12):
        out[f"active_months_{months}m"] = np.bincount(cell_code[cell_month < months],
                                                      minlength=n).astype(float)
    tenure = (cutoff - first).astype(float)
    out["recency_days"] = (cutoff - last).astype(float)
    out["tenure_days"] = np.minimum(tenure, float(tenure_cap_days))
    out["purchase_rate"] = out["purchase_days_365d"] / (np.minimum(tenure, 364.0) + 1.0)
    total_spend = np.bincount(act.code[known], weights=act.spend[known], minlength=n)
    total_days = np.bincount(act.code[buy], minlength=n)
    out["spend_per_purchase_day"] = total_spend / np.maximum(total_days, 1)
    before = np.maximum(out["spend_182d"] - out["spend_91d"], 0.0)
    out["spend_trend"] = np.log1p(np.maximum(out["spend_91d"], 0.0)) - np.log1p(before)
    out["purchase_trend"] = 2 * out["purchase_days_91d"] - out["purchase_days_182d"]
    frame = pd.DataFrame(out, index=act.ids)
    return frame.loc[bought, list(FEATURE_COLUMNS)]


def stacked_btyd_features(tx: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int,
                          index: pd.Index, *, time_unit: str = "D",
                          fit_customers: int | None = None, seed: int | None = 0,
                          act: DailyActivity | None = None) -> pd.DataFrame:
    """BG/NBD and Gamma-Gamma fitted on the history up to ``cutoff``, predicting the window.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (rows after the cutoff are ignored).
    cutoff : Timestamp
        Last day of the history.
    horizon_days : int
        Length of the window after the cutoff, in days.
    index : Index
        Customers to return (those with a purchase by the cutoff).
    time_unit : str
        Period of the BTYD summary.
    fit_customers : int, optional
        Fit BG/NBD and Gamma-Gamma on a seeded random sample of at most this many customers
        (their parameters are population-level; every customer in ``index`` is still
        scored). None fits on all.
    seed : int or None
        Seed of that sample.
    act : DailyActivity, optional
        The daily rows of ``tx``: with days as the time unit the summary is taken from them
        (:func:`btyd_from_activity`) instead of from the transactions.

    Returns
    -------
    DataFrame
        Indexed by ``index`` with :data:`STACKED_COLUMNS`: expected purchases per day of the
        window, P(alive), P(no purchase in the window), Gamma-Gamma expected spend per purchase
        (the mean repeat spend where Gamma-Gamma cannot be fitted) and their product per day.
        All NaN when BG/NBD cannot be fitted (no repeat buyer yet); the gradient boosting
        handles missing values. Optimizer warnings of these auxiliary fits are silenced.
    """
    out = pd.DataFrame(np.nan, index=index, columns=list(STACKED_COLUMNS))
    if act is not None and time_unit == "D":
        summary = btyd_from_activity(act, day_number(cutoff))
        if summary.empty:
            return out
        summary = summary.reindex(index)
    else:
        try:
            summary = btyd_summary(tx, as_of=cutoff, time_unit=time_unit).reindex(index)
        except DataError:
            return out
    x, t_x, big_t = (summary[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    units = periods_between(cutoff, cutoff + pd.Timedelta(days=horizon_days), time_unit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_rows = _sample_rows(len(summary), fit_customers, seed)
        try:
            bg = BetaGeoModel().fit(summary.iloc[fit_rows])
        except DataError:
            return out
        purchases = np.asarray(bg.expected_purchases(units, x, t_x, big_t), dtype="float64")
        p_alive = np.asarray(bg.probability_alive(x, t_x, big_t), dtype="float64")
        p_none = np.asarray(bg.probability_no_purchase(units, x, t_x, big_t), dtype="float64")
        money = summary["monetary_value"].to_numpy(dtype="float64")
        repeat = (x > 0) & (money > 0)
        fallback = float(money[repeat].mean()) if repeat.any() else np.nan
        in_fit = np.zeros(len(x), dtype=bool)
        in_fit[fit_rows] = True
        try:
            gg = GammaGammaModel().fit(summary.loc[repeat & in_fit])
            spend = np.asarray(gg.expected_spend(x, money), dtype="float64")
        except DataError:
            spend = np.full(len(x), np.nan)
    spend = np.where(np.isfinite(spend), spend, fallback)
    out["bgnbd_purchase_rate"] = purchases / horizon_days
    out["bgnbd_p_alive"] = p_alive
    out["bgnbd_p_no_purchase"] = p_none
    out["gg_spend_per_purchase"] = spend
    out["bgnbd_spend_rate"] = purchases * spend / horizon_days
    return out


def _sample_rows(n: int, limit: int | None, seed: int | None) -> np.ndarray:
    """Sorted positions of a seeded sample of at most ``limit`` of ``n`` rows (all if None)."""
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=int(limit), replace=False))


def quantile_thresholds(X: pd.DataFrame, max_bins: int = 255) -> list[np.ndarray]:
    """Bin edges of every column: at most ``max_bins`` unweighted quantile bins, NaN ignored.

    Gradient boosting given the bin codes of :func:`apply_thresholds` (at most ``max_bins``
    distinct values per column) bins them as they are; it would otherwise compute weighted
    quantiles of every column whenever sample weights are given, which is slow.
    """
    edges = []
    for col in X.columns:  # loop over the ~25 feature columns, vectorized over rows
        values = X[col].to_numpy(dtype="float64")
        values = values[np.isfinite(values)]
        distinct = np.unique(values)
        if len(distinct) <= max_bins:
            edges.append((distinct[:-1] + distinct[1:]) / 2)
        else:
            qs = np.quantile(values, np.linspace(0, 1, max_bins + 1)[1:-1])
            edges.append(np.unique(qs))
    return edges


def apply_thresholds(X: pd.DataFrame, edges: list[np.ndarray]) -> pd.DataFrame:
    """Bin codes (0, 1, …; NaN stays NaN) of ``X`` under the edges of its columns."""
    out = {}
    for col, cuts in zip(X.columns, edges, strict=True):  # loop over columns
        values = X[col].to_numpy(dtype="float64")
        codes = np.searchsorted(cuts, values, side="left").astype("float64")
        codes[np.isnan(values)] = np.nan
        out[col] = codes
    return pd.DataFrame(out, index=X.index)
