"""Holdout validity: did higher tiers spend more afterwards? And the holdout cutoff date."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tierlab._kernels.factorize import factorize
from tierlab.calendar import as_day
from tierlab.errors import ArgumentError, DataError, SchemeError
from tierlab.evaluate.common import DateLike, as_tiers
from tierlab.frames import check_transactions
from tierlab.jsonable import to_jsonable

__all__ = ["Validity", "holdout_cutoff", "holdout_validity"]


@dataclass
class Validity:
    """Do higher tiers spend more in a holdout period? (see :func:`holdout_validity`).

    Attributes
    ----------
    per_tier : DataFrame
        Indexed by tier (lowest first): ``customers``, ``holdout_spend``,
        ``holdout_spend_mean``, ``purchase_rate``, ``lift``, ``cumulative_customer_share``,
        ``cumulative_spend_share``, ``lift_ci_low`` / ``lift_ci_high`` (bootstrap 95% interval
        of the lift) and ``judged`` (the tier has at least ``min_customers`` customers).
    spearman, spearman_pvalue : float
        Rank correlation of tier position with holdout spend, over customers (NaN when either
        is constant or there are fewer than 3 customers).
    ordered : bool
        Per-tier holdout means rise strictly with the tier, over the tiers with at least
        ``min_customers`` customers (needs two such tiers).
    top_tier_lift : float
        Lift of the highest tier (NaN when it is empty); read it with
        ``top_tier_customers`` and ``top_tier_lift_ci``.
    start, end : Timestamp
        The holdout days.
    customers : int
        Customers scored.
    min_customers : int
        Smallest tier judged.
    top_tier_customers : int
        Customers in the highest tier.
    top_tier_lift_ci : tuple of float
        Bootstrap 95% interval of ``top_tier_lift``.
    warnings : tuple of str
        One sentence per tier too small to judge (non-empty, below ``min_customers``).
    """

    per_tier: pd.DataFrame
    spearman: float
    spearman_pvalue: float
    ordered: bool
    top_tier_lift: float = np.nan
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    customers: int = 0
    min_customers: int = 30
    top_tier_customers: int = 0
    top_tier_lift_ci: tuple[float, float] = (np.nan, np.nan)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with the per-tier table as ``{tier: {column: value}}``."""
        per_tier = self.per_tier.copy()
        per_tier.index = per_tier.index.astype(str)
        return to_jsonable({
            "spearman": self.spearman,
            "spearman_pvalue": self.spearman_pvalue,
            "ordered": self.ordered,
            "top_tier_lift": self.top_tier_lift,
            "top_tier_customers": self.top_tier_customers,
            "top_tier_lift_ci": list(self.top_tier_lift_ci),
            "min_customers": self.min_customers,
            "warnings": list(self.warnings),
            "start": self.start,
            "end": self.end,
            "customers": self.customers,
            "per_tier": per_tier.to_dict(orient="index"),
        })


def holdout_validity(assignment: pd.Series, tx: pd.DataFrame, start: DateLike,
                     end: DateLike, *,
                     min_customers: int = 30, n_bootstrap: int = 200,
                     random_state: int | None = 0) -> Validity:
    """Score a tier assignment against what customers spent afterwards.

    Parameters
    ----------
    assignment : Series
        ``customer_id → tier`` known before the holdout (e.g. ``hist.at(cutoff)`` of a history
        run with ``end=cutoff``); tier order from the categories. Customers with no tier are
        left out; customers who only appear in the holdout are not scored.
    tx : DataFrame
        Canonical transactions (the holdout rows are picked from it).
    start, end : date-like
        The holdout days, both included.
    min_customers : int
        Tiers with fewer customers are not judged: left out of ``ordered`` and named in
        ``warnings`` (their lift is still shown, with its count and interval).
    n_bootstrap : int
        Resamples of customers for the lift intervals (0: NaN intervals).
    random_state : int or None
        Seed of the resampling.

    Returns
    -------
    Validity
        Per tier: ``customers``, ``holdout_spend`` (net), ``holdout_spend_mean``,
        ``purchase_rate`` (share with a purchase row in the holdout), ``lift`` (tier mean /
        mean over all scored customers; NaN when that mean is not positive), the gains
        columns ``cumulative_customer_share`` / ``cumulative_spend_share``, accumulated from the
        top tier down (the top tier's row holds its own shares, the lowest tier's 1.0),
        ``lift_ci_low`` / ``lift_ci_high`` (2.5th and 97.5th percentiles of the lift over
        bootstrap resamples of all scored customers) and ``judged``.
        ``spearman`` is :func:`scipy.stats.spearmanr` of the tier position (0 = lowest) against
        holdout spend over customers (ties get average ranks).

    Raises
    ------
    DataError
        ``start`` after ``end``, or an unusable transactions frame.
    ArgumentError
        ``min_customers`` or ``n_bootstrap`` not a whole number (≥ 1 and ≥ 0).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...                    "timestamp": pd.to_datetime(["2025-07-03"] * 3),
    ...                    "amount": [300.0, 100.0, 0.0]})
    >>> tiers = pd.Series(pd.Categorical(["High", "Low", "Low"], ["Low", "High"], ordered=True),
    ...                   index=["a", "b", "c"])
    >>> v = holdout_validity(tiers, tx, "2025-07-01", "2025-12-31", min_customers=1)
    >>> v.ordered, v.per_tier["lift"].round(2).tolist(), v.top_tier_customers
    (True, [0.38, 2.25], 1)
    >>> holdout_validity(tiers, tx, "2025-07-01", "2025-12-31").ordered  # tiers under 30
    False
    """
    # over 60 lines: per-tier bincounts and their ratios read best side by side
    for name, value, low in (("min_customers", min_customers, 1),
                             ("n_bootstrap", n_bootstrap, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ArgumentError(f"holdout_validity: {name}={value!r} must be a whole number "
                                f">= {low}")
    check_transactions(tx, "holdout_validity")
    start_ts, end_ts = as_day(start, "start"), as_day(end, "end")
    if start_ts > end_ts:
        raise DataError(f"holdout_validity: start ({start_ts.date()}) is after end "
                        f"({end_ts.date()})")
    given = as_tiers(assignment)
    a = given.dropna()
    cats = a.cat.categories
    k = len(cats)
    n = len(a)
    code = a.cat.codes.to_numpy().astype(np.int64)
    ts = tx["timestamp"].to_numpy()
    keep = (ts >= start_ts.to_datetime64()) & (ts < (end_ts + pd.Timedelta(days=1)).to_datetime64())
    window = tx if keep.all() else tx.loc[keep]  # as evaluate.common.between cuts
    pos = _positions(given, tx, keep)
    amount = window["amount"].to_numpy(dtype=float)
    hit = pos >= 0
    spend = np.bincount(pos[hit], weights=amount[hit], minlength=n).astype(float)
    bought = np.bincount(pos[hit & (amount >= 0)], minlength=n) > 0

    customers = np.bincount(code, minlength=k)
    spend_sum = np.bincount(code, weights=spend, minlength=k)
    buyers = np.bincount(code, weights=bought.astype(float), minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(customers > 0, spend_sum / np.maximum(customers, 1), np.nan)
        rate = np.where(customers > 0, buyers / np.maximum(customers, 1), np.nan)
    overall = spend.mean() if n else np.nan
    lift = mean / overall if n and overall > 0 else np.full(k, np.nan)
    total_spend = spend.sum()
    cum_c = np.cumsum(customers[::-1])[::-1] / n if n else np.full(k, np.nan)
    cum_s = (np.cumsum(spend_sum[::-1])[::-1] / total_spend if total_spend
             else np.full(k, np.nan))

    # lift intervals: resample all scored customers (loop over resamples, not customers)
    rng = np.random.default_rng(random_state)
    draws = np.full((int(n_bootstrap), k), np.nan)
    for b in range(int(n_bootstrap) if n else 0):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        size = np.bincount(code, weights=w, minlength=k)
        total = float(w @ spend)
        if total > 0:
            with np.errstate(invalid="ignore", divide="ignore"):
                draws[b] = (np.bincount(code, weights=w * spend, minlength=k) / size) / (
                    total / n)
    ci_low = np.full(k, np.nan)
    ci_high = np.full(k, np.nan)
    ok = np.isfinite(draws).any(axis=0) & (customers > 0)
    if ok.any():
        ci_low[ok], ci_high[ok] = np.nanpercentile(draws[:, ok], [2.5, 97.5], axis=0)
    judged = customers >= min_customers
    per_tier = pd.DataFrame({
        "customers": customers.astype(np.int64),
        "holdout_spend": spend_sum,
        "holdout_spend_mean": mean,
        "purchase_rate": rate,
        "lift": lift,
        "cumulative_customer_share": cum_c,
        "cumulative_spend_share": cum_s,
        "lift_ci_low": ci_low,
        "lift_ci_high": ci_high,
        "judged": judged,
    }, index=pd.CategoricalIndex(cats, dtype=a.dtype, name="tier"))

    if n >= 3 and np.ptp(code) > 0 and np.ptp(spend) > 0:
        res = stats.spearmanr(code, spend)
        rho, p = float(res.statistic), float(res.pvalue)
    else:
        rho = p = np.nan
    filled = mean[judged]
    ordered = bool(filled.size >= 2 and np.all(np.diff(filled) > 0))
    notes = tuple(
        f"tier {cats[i]!r} has {customers[i]} customer(s), fewer than min_customers="
        f"{min_customers}: its lift {lift[i]:.2f} [{ci_low[i]:.2f}, {ci_high[i]:.2f}] is shown "
        "but not judged (left out of 'ordered')"
        for i in range(k) if 0 < customers[i] < min_customers)  # loop over tiers
    return Validity(per_tier=per_tier, spearman=rho, spearman_pvalue=p, ordered=ordered,
                    top_tier_lift=float(lift[-1]) if k else np.nan, start=start_ts,
                    end=end_ts, customers=int(n), min_customers=int(min_customers),
                    top_tier_customers=int(customers[-1]) if k else 0,
                    top_tier_lift_ci=(float(ci_low[-1]), float(ci_high[-1])) if k
                    else (np.nan, np.nan), warnings=notes)


def _positions(given: pd.Series, tx: pd.DataFrame, keep: np.ndarray) -> np.ndarray:
    """Per row of *tx* in *keep*: its customer's position among *given*'s tiered customers.

    -1 for customers without a tier or not in *given*. The ids are matched once per
    customer, not per row: through the codes of *tx*'s id column (cached by the loader), and
    not at all when *given* lists exactly those ids in that order (tiers from a run on *tx*).
    """
    if keep.sum() * 4 < len(tx):  # a small window: match its rows
        rows = tx["customer_id"].to_numpy()[keep]
        return given.dropna().index.get_indexer(pd.Index(rows).astype(str))
    codes, ids = factorize(tx["customer_id"])
    has = given.notna().to_numpy()
    rank = np.where(has, np.cumsum(has) - 1, -1)  # position among the customers with a tier
    if given.index.equals(ids):
        of_id = rank
    else:
        where = given.index.get_indexer(ids.astype(str))
        of_id = np.where(where >= 0, rank[np.maximum(where, 0)], -1)
    codes = codes[keep]
    return np.where(codes >= 0, of_id[np.maximum(codes, 0)], -1)


def holdout_cutoff(tx: pd.DataFrame, as_of: DateLike, months: int) -> pd.Timestamp:
    """Last day before a holdout of ``months`` months ending at ``as_of``.

    ``as_of − months`` calendar months; when ``as_of`` is a month end, the month end ``months``
    months earlier (so the cutoff is a review date of monthly to yearly schemes).

    Raises
    ------
    SchemeError
        ``months`` is not a whole number ≥ 1.
    DataError
        The cutoff falls before the first transaction.
    """
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise SchemeError(f"holdout_months must be a whole number of months ≥ 1, got {months!r}")
    as_of = pd.Timestamp(as_of).normalize()
    if as_of.is_month_end:  # 2025-06-30 → 2024-12-31, not 12-30: reviews fall on month ends
        cutoff = (as_of + pd.offsets.MonthEnd(-int(months))).normalize()
    else:
        cutoff = (as_of - pd.DateOffset(months=int(months))).normalize()
    first = pd.Timestamp(tx["timestamp"].min()).normalize()
    if cutoff <= first:
        raise DataError(f"holdout_months={months}: the cutoff {cutoff.date()} is not after the "
                        f"first transaction ({first.date()}); use a shorter holdout")
    return cutoff
