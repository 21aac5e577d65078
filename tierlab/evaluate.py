"""Evaluate tier assignments: summaries, migration, stability, concentration, holdout validity.

Everything here works on plain inputs: an *assignment* is a Series ``customer_id → tier``
(an ordered categorical whose categories give the tier order, lowest first; e.g.
``hist.current["tier"]`` or ``hist.at(date)``), transactions are the canonical frame of
:func:`tierlab.load_transactions`, and :func:`stability` reads a
:class:`~tierlab.tiers.engine.TierHistory`. Every function returns new objects; inputs are never
changed. Dataclass results have a ``to_dict()`` that gives plain JSON-ready values (NaN becomes
``None``, dates ISO text) for ``metrics.json``.

Policies (as in :mod:`tierlab.features.core`): spend nets returns; orders count purchase rows
(``amount >= 0``, distinct order ids when there is an ``order_id`` column); a *purchase* is such
a row. Windows ``[start, end]`` are whole days, both ends included. Customers without a tier in an
assignment (NaN: not yet entered) are left out of per-tier figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from tierlab.errors import DataError, SchemeError
from tierlab.features.core import _check_tx, as_day, rfm
from tierlab.jsonable import to_jsonable

__all__ = [
    "tier_summary",
    "migration_matrix",
    "stability",
    "Stability",
    "concentration",
    "Concentration",
    "holdout_validity",
    "holdout_cutoff",
    "Validity",
    "NONE_LABEL",
]

#: Row/column label of :func:`migration_matrix` for customers present in only one assignment.
NONE_LABEL = "(none)"
_DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------- helpers
def _as_tiers(assignment, what: str = "assignment") -> pd.Series:
    """An assignment as a Series with string customer ids and an ordered categorical dtype.

    A non-categorical Series gets its sorted distinct values as the tier order.
    """
    if isinstance(assignment, pd.DataFrame):
        if "tier" in assignment.columns:
            assignment = assignment["tier"]
        else:
            raise DataError(f"{what}: expected a Series customer_id → tier (e.g. "
                            "hist.current['tier']), got a DataFrame without a 'tier' column")
    if not isinstance(assignment, pd.Series):
        raise DataError(f"{what}: expected a Series customer_id → tier, got "
                        f"{type(assignment).__name__}")
    s = assignment.copy()
    s.index = pd.Index(s.index.astype(str), name="customer_id")
    if s.index.duplicated().any():
        dup = s.index[s.index.duplicated()][:3].tolist()
        raise DataError(f"{what}: customer ids must be unique, found duplicates such as {dup}")
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not s.dtype.ordered:
            s = s.astype(pd.CategoricalDtype(s.cat.categories, ordered=True))
    else:
        s = s.astype(pd.CategoricalDtype(sorted(s.dropna().unique()), ordered=True))
    return s.rename("tier")


def _between(tx: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
             ) -> pd.DataFrame:
    """Rows on the days ``start`` … ``end`` (both included; None = open)."""
    ts = tx["timestamp"].to_numpy()
    keep = np.ones(len(tx), dtype=bool)
    if start is not None:
        keep &= ts >= start.to_datetime64()
    if end is not None:
        keep &= ts < (end + _DAY).to_datetime64()
    return tx if keep.all() else tx.loc[keep]


def _customer_table(customers: pd.DataFrame) -> pd.DataFrame:
    table = customers.set_index("customer_id") if "customer_id" in customers.columns \
        else customers
    table = table.copy()
    table.index = table.index.astype(str)
    if table.index.duplicated().any():
        raise DataError("customers: duplicate customer_id values; load the table with "
                        "tierlab.load_customers, which sets duplicates aside")
    return table


# --------------------------------------------------------------------------- tier summary
def tier_summary(assignment: pd.Series, tx: pd.DataFrame, *, customers: pd.DataFrame | None = None,
                 as_of=None, start=None, end=None) -> pd.DataFrame:
    """Customers, revenue and behaviour per tier.

    Parameters
    ----------
    assignment : Series
        ``customer_id → tier``, an ordered categorical (e.g. ``hist.current["tier"]``); its
        categories give the tiers and their order. Customers with no tier (NaN) are left out.
    tx : DataFrame
        Canonical transactions.
    customers : DataFrame, optional
        Customer table (``customer_id`` column or index); when it has ``satisfaction`` the
        result gets ``mean_satisfaction``.
    as_of : date-like, optional
        Observation date for recency; default ``end`` if given, else the last date in ``tx``.
    start, end : date-like, optional
        Revenue and orders are counted over the days ``[start, end]`` (default: all data up to
        ``as_of``).

    Returns
    -------
    DataFrame
        Indexed by ``tier`` (every tier in order, lowest first) with ``customers``, ``share``
        (of assigned customers), ``revenue`` (net spend in the window), ``revenue_share`` (of
        the assigned customers' revenue), ``mean_spend`` and ``mean_orders`` (per customer,
        zero-spend customers included), ``mean_recency_days`` (days from the last purchase up
        to ``as_of`` to ``as_of``, over customers with a purchase) and optionally
        ``mean_satisfaction``. Counts, revenue and shares are 0 for empty tiers; means are NaN.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                    "timestamp": pd.to_datetime(["2025-01-05", "2025-03-01",
    ...                                                 "2025-02-10", "2025-03-31"]),
    ...                    "amount": [100.0, 300.0, 50.0, 20.0]})
    >>> tiers = pd.Series(pd.Categorical(["High", "Low", "Low"], ["Low", "High"], ordered=True),
    ...                   index=["a", "b", "c"])
    >>> summary = tier_summary(tiers, tx)
    >>> summary[["customers", "revenue", "revenue_share"]]  # doctest: +NORMALIZE_WHITESPACE
          customers  revenue  revenue_share
    tier
    Low           2     70.0       0.148936
    High          1    400.0       0.851064
    """
    _check_tx(tx, "tier_summary")
    a = _as_tiers(assignment).dropna()
    if len(tx) == 0:
        raise DataError("tier_summary: no transactions")
    end_ts = None if end is None else as_day(end, "end")
    if as_of is not None:
        as_of_ts = as_day(as_of, "as_of")
    elif end_ts is not None:
        as_of_ts = end_ts
    else:
        as_of_ts = pd.Timestamp(tx["timestamp"].max()).normalize()
    end_ts = as_of_ts if end_ts is None else end_ts
    start_ts = None if start is None else as_day(start, "start")
    if start_ts is not None and start_ts > end_ts:
        raise DataError(f"tier_summary: start ({start_ts.date()}) is after end "
                        f"({end_ts.date()})")

    ids = a.index
    history = _between(tx, None, as_of_ts)
    recency = (rfm(history, as_of=as_of_ts)["recency_days"].reindex(ids).astype(float)
               if len(history) else pd.Series(np.nan, index=ids))
    window = _between(tx, start_ts, end_ts)
    if len(window):
        feats = rfm(window, as_of=end_ts)
        spend = feats["monetary_total"].reindex(ids, fill_value=0.0).astype(float)
        orders = feats["frequency"].reindex(ids, fill_value=0).astype(float)
    else:
        spend = pd.Series(0.0, index=ids)
        orders = pd.Series(0.0, index=ids)

    frame = pd.DataFrame({"tier": a, "spend": spend, "orders": orders, "recency": recency})
    if customers is not None and "satisfaction" in customers.columns:
        sat = _customer_table(customers)["satisfaction"]
        frame["satisfaction"] = pd.to_numeric(sat, errors="coerce").reindex(ids).to_numpy()
    g = frame.groupby("tier", observed=False, sort=True)
    out = pd.DataFrame({
        "customers": g.size().astype(np.int64),
        "revenue": g["spend"].sum().astype(float),
    })
    n = out["customers"].sum()
    out.insert(1, "share", out["customers"] / n if n else 0.0)
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total else np.nan
    out["mean_spend"] = g["spend"].mean()
    out["mean_orders"] = g["orders"].mean()
    out["mean_recency_days"] = g["recency"].mean()
    if "satisfaction" in frame.columns:
        out["mean_satisfaction"] = g["satisfaction"].mean()
    out.index.name = "tier"
    return out


# --------------------------------------------------------------------------- migration
def migration_matrix(a: pd.Series, b: pd.Series, normalize: str | None = None) -> pd.DataFrame:
    """Transition counts between two assignments (review t → t+1, or scheme A → scheme B).

    Parameters
    ----------
    a, b : Series
        ``customer_id → tier`` (ordered categoricals; tier order from the categories).
    normalize : {None, "row", "all"}
        None: customer counts; ``"row"``: each row divided by its total (rows without customers
        stay 0); ``"all"``: every cell divided by the number of customers.

    Returns
    -------
    DataFrame
        Rows are the tiers of ``a`` (index name ``from``), columns the tiers of ``b`` (columns
        name ``to``), each followed by a ``(none)`` row/column: customers with a tier in only
        one assignment (missing or NaN in the other). The ``(none)``/``(none)`` cell is 0.

    Examples
    --------
    >>> cat = pd.CategoricalDtype(["Low", "High"], ordered=True)
    >>> a = pd.Series(["Low", "High", "High"], index=["x", "y", "z"], dtype=cat)
    >>> b = pd.Series(["High", "High", "Low"], index=["x", "y", "w"], dtype=cat)
    >>> migration_matrix(a, b)  # doctest: +NORMALIZE_WHITESPACE
    to      Low  High  (none)
    from
    Low       0     1       0
    High      0     1       1
    (none)    1     0       0
    """
    if normalize not in (None, "row", "all"):
        raise SchemeError(f"migration_matrix: normalize={normalize!r}; use None, 'row' or 'all'")
    sa, sb = _as_tiers(a, "a").dropna(), _as_tiers(b, "b").dropna()
    ka, kb = len(sa.cat.categories), len(sb.cat.categories)
    ids = sa.index.union(sb.index)
    ca = sa.cat.codes.reindex(ids, fill_value=-1).to_numpy().astype(np.int64)
    cb = sb.cat.codes.reindex(ids, fill_value=-1).to_numpy().astype(np.int64)
    ca = np.where(ca < 0, ka, ca)
    cb = np.where(cb < 0, kb, cb)
    counts = np.bincount(ca * (kb + 1) + cb, minlength=(ka + 1) * (kb + 1))
    counts = counts.reshape(ka + 1, kb + 1).astype(np.int64)
    rows = pd.Index([*sa.cat.categories, NONE_LABEL], dtype=object, name="from")
    cols = pd.Index([*sb.cat.categories, NONE_LABEL], dtype=object, name="to")
    if normalize is None:
        return pd.DataFrame(counts, index=rows, columns=cols)
    if normalize == "row":
        tot = counts.sum(axis=1, keepdims=True)
        values = np.divide(counts, tot, out=np.zeros(counts.shape), where=tot > 0)
    else:
        tot = counts.sum()
        values = counts / tot if tot else np.zeros(counts.shape)
    return pd.DataFrame(values, index=rows, columns=cols)


# --------------------------------------------------------------------------- stability
@dataclass
class Stability:
    """How often tiers change (see :func:`stability`).

    Attributes
    ----------
    per_review : DataFrame
        One row per review after the first: ``review``, ``customers`` (with a tier at this and
        the previous review), ``changed``, ``share_changed``, ``up``, ``down``.
    changes_per_customer_year : float
        Tier changes per customer per year.
    flicker_rate : float
        Share of customers with at least one A→B→A flicker.
    mean_reviews_in_tier : float
        Average length of a stay in one tier, in reviews.
    flicker_window : int
    customers : int
        Customers with a tier at some review.
    changes : int
        Tier changes (entries not counted).
    flicker_customers : int
        Customers with a flicker.
    """

    per_review: pd.DataFrame
    changes_per_customer_year: float
    flicker_rate: float
    mean_reviews_in_tier: float
    flicker_window: int = 3
    customers: int = 0
    changes: int = 0
    flicker_customers: int = 0

    def to_dict(self) -> dict:
        """JSON-ready summary (per-review rows included, dates as ISO text)."""
        return to_jsonable({
            "changes_per_customer_year": self.changes_per_customer_year,
            "flicker_rate": self.flicker_rate,
            "mean_reviews_in_tier": self.mean_reviews_in_tier,
            "flicker_window": self.flicker_window,
            "customers": self.customers,
            "changes": self.changes,
            "flicker_customers": self.flicker_customers,
            "per_review": self.per_review,
        })


def stability(history, *, flicker_window: int = 3) -> Stability:
    """Tier stability of a :class:`~tierlab.tiers.engine.TierHistory`.

    Computed from ``history.codes`` (customers × reviews, -1 before entry), so manual overrides
    count as changes like any other; entering the scheme is not a change.

    Parameters
    ----------
    history : TierHistory
        Needs ``codes``, ``reviews`` and ``scheme.review_months``.
    flicker_window : int, default 3
        A *flicker* is a change A→B whose next change goes back to A at most ``flicker_window``
        reviews later (A→B at review i, B→A at review j, ``j - i <= flicker_window``).

    Returns
    -------
    Stability
        ``per_review`` (one row per review after the first), ``changes_per_customer_year`` =
        changes / review-to-review transitions × reviews per year (a transition is a pair of
        consecutive reviews at which the customer has a tier), ``flicker_rate`` = customers with
        a flicker / customers with a tier at some review, ``mean_reviews_in_tier`` = reviews
        held / stays (a stay ends with a change or with the last review, so ongoing stays count
        with their length so far).

    Examples
    --------
    >>> from tierlab.datasets import sample_transactions
    >>> from tierlab.tiers.scheme import TierScheme
    >>> scheme = TierScheme.from_dict({"name": "Spend", "tiers": [
    ...     {"name": "Low"},
    ...     {"name": "High", "when": {"metric": "spend", "op": ">=", "value": 500}}]})
    >>> st = stability(scheme.run(sample_transactions()))
    >>> 0 <= st.flicker_rate <= 1
    True
    """
    if isinstance(flicker_window, bool) or not isinstance(flicker_window, int | np.integer) \
            or flicker_window < 1:
        raise SchemeError(f"stability: flicker_window must be a whole number ≥ 1 (reviews), got "
                          f"{flicker_window!r}")
    codes = np.asarray(history.codes, dtype=np.int64)
    reviews = pd.DatetimeIndex(history.reviews)
    per_year = 12 / history.scheme.review_months
    prev, cur = codes[:, :-1], codes[:, 1:]
    both = (prev >= 0) & (cur >= 0)
    changed = both & (prev != cur)
    up = changed & (cur > prev)
    n_both = both.sum(axis=0)
    n_changed = changed.sum(axis=0)
    per_review = pd.DataFrame({
        "review": reviews[1:],
        "customers": n_both.astype(np.int64),
        "changed": n_changed.astype(np.int64),
        "share_changed": np.divide(n_changed, n_both, out=np.full(len(n_both), np.nan),
                                   where=n_both > 0),
        "up": up.sum(axis=0).astype(np.int64),
        "down": (changed & ~up).sum(axis=0).astype(np.int64),
    })
    transitions = int(both.sum())
    total_changes = int(changed.sum())
    rate = total_changes / transitions * per_year if transitions else np.nan

    # flicker: consecutive changes of a customer, the second back to where the first started
    rows, cols = np.nonzero(changed)  # row-major: by customer, then review
    frm, to = prev[rows, cols], cur[rows, cols]
    same = rows[1:] == rows[:-1]
    back = same & (to[1:] == frm[:-1]) & (cols[1:] - cols[:-1] <= flicker_window)
    flicker_customers = int(np.unique(rows[:-1][back]).size)
    present = codes >= 0
    n_customers = int(present.any(axis=1).sum())
    flicker_rate = flicker_customers / n_customers if n_customers else np.nan
    stays = n_customers + total_changes
    mean_in_tier = float(present.sum()) / stays if stays else np.nan
    return Stability(per_review=per_review, changes_per_customer_year=float(rate),
                     flicker_rate=float(flicker_rate), mean_reviews_in_tier=float(mean_in_tier),
                     flicker_window=int(flicker_window), customers=n_customers,
                     changes=total_changes, flicker_customers=flicker_customers)


# --------------------------------------------------------------------------- concentration
@dataclass
class Concentration:
    """Revenue concentration (see :func:`concentration`).

    Attributes
    ----------
    lorenz : DataFrame
        ``customer_share``, ``revenue_share`` from (0, 0) to (1, 1), customers sorted by
        revenue ascending.
    gini : float
    top_share : dict
        ``{fraction: revenue share of the top fraction of customers}``.
    tier_share : Series or None
        ``tier → revenue share`` when tiers were given.
    customers : int
    total : float
        Revenue after clipping negative values at 0.
    clipped : int
        Customers whose negative net revenue was counted as 0.
    """

    lorenz: pd.DataFrame
    gini: float
    top_share: dict
    tier_share: pd.Series | None = None
    customers: int = 0
    total: float = 0.0
    clipped: int = 0

    def to_dict(self) -> dict:
        """JSON-ready summary (the Lorenz curve is left out; it has a point per customer)."""
        return to_jsonable({
            "gini": self.gini,
            "top_share": {str(k): v for k, v in self.top_share.items()},
            "tier_share": None if self.tier_share is None else self.tier_share.to_dict(),
            "customers": self.customers,
            "total": self.total,
            "clipped": self.clipped,
        })


def concentration(values, *, tiers: pd.Series | None = None,
                  top: Sequence[float] = (0.01, 0.05, 0.1, 0.2)) -> Concentration:
    """Lorenz curve, Gini coefficient and top shares of revenue.

    Parameters
    ----------
    values : Series or array-like
        Revenue per customer (e.g. ``rfm(tx)["monetary_total"]``). Net negative values (more
        returned than bought) are clipped at 0 and NaN counts as 0, so that shares stay in
        [0, 1] and the Gini coefficient in [0, 1).
    tiers : Series, optional
        ``customer_id → tier``; aligned with ``values`` by index when ``values`` is a Series,
        else by position. Gives ``tier_share``: each tier's share of the (clipped) revenue.
    top : sequence of float
        Fractions of customers for ``top_share``; the top ``p`` are the ``ceil(p · n)``
        customers with the largest revenue (at least one).

    Returns
    -------
    Concentration
        ``gini = Σ_i (2i − n − 1) x_(i) / (n Σ x)`` with ``x`` sorted ascending, which equals the
        mean absolute difference over all pairs divided by twice the mean; 0 when all values are
        equal (all zero included).

    Examples
    --------
    >>> c = concentration(pd.Series([0.0, 0.0, 0.0, 0.0, 10.0]))
    >>> round(c.gini, 2), c.top_share[0.2]
    (0.8, 1.0)
    """
    if isinstance(values, pd.DataFrame):
        raise DataError("concentration: expected one value per customer (a Series), got a "
                        "DataFrame; pass a column such as rfm(tx)['monetary_total']")
    raw = np.asarray(values, dtype=float).ravel()
    n = raw.size
    if n == 0:
        raise DataError("concentration: no values")
    x = np.nan_to_num(raw, nan=0.0)
    clipped = int((x < 0).sum())
    x = np.clip(x, 0, None)
    fracs = [float(p) for p in top]
    bad = [p for p in fracs if not 0 < p <= 1]
    if bad:
        raise SchemeError(f"concentration: top fractions must be in (0, 1], got {bad[0]!r}")
    xs = np.sort(x)
    cum = np.cumsum(xs)
    total = float(cum[-1])
    share = np.arange(n + 1) / n
    if total > 0:
        rev = np.concatenate([[0.0], cum / total])
        i = np.arange(1, n + 1)
        gini = float(((2 * i - n - 1) * xs).sum() / (n * total))
    else:
        rev, gini = share.copy(), 0.0
    rev[-1] = 1.0
    lorenz = pd.DataFrame({"customer_share": share, "revenue_share": rev})
    desc = np.cumsum(xs[::-1])
    top_share = {}
    for p in fracs:
        k = min(n, max(1, math.ceil(p * n - 1e-9)))
        top_share[p] = float(desc[k - 1] / total) if total > 0 else float(k / n)
    tier_share = None
    if tiers is not None:
        t = _as_tiers(tiers, "tiers")
        if isinstance(values, pd.Series):
            t = t.reindex(pd.Index(values.index.astype(str)))
        elif len(t) != n:
            raise DataError(f"concentration: tiers has {len(t)} rows but values has {n}; pass "
                            "values as a Series indexed by customer_id to align them")
        sums = pd.Series(x).groupby(t.array, observed=False).sum()
        tier_share = (sums / total if total > 0 else sums * 0.0).rename("revenue_share")
        tier_share.index = pd.CategoricalIndex(tier_share.index, dtype=t.dtype, name="tier")
    return Concentration(lorenz=lorenz, gini=gini, top_share=top_share, tier_share=tier_share,
                         customers=n, total=total, clipped=clipped)


# --------------------------------------------------------------------------- holdout validity
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

    def to_dict(self) -> dict:
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


def holdout_validity(assignment: pd.Series, tx: pd.DataFrame, start, end, *,
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
    from tierlab.errors import ArgumentError

    for name, value, low in (("min_customers", min_customers, 1),
                             ("n_bootstrap", n_bootstrap, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ArgumentError(f"holdout_validity: {name}={value!r} must be a whole number "
                                f">= {low}")
    _check_tx(tx, "holdout_validity")
    start_ts, end_ts = as_day(start, "start"), as_day(end, "end")
    if start_ts > end_ts:
        raise DataError(f"holdout_validity: start ({start_ts.date()}) is after end "
                        f"({end_ts.date()})")
    a = _as_tiers(assignment).dropna()
    cats = a.cat.categories
    k = len(cats)
    n = len(a)
    code = a.cat.codes.to_numpy().astype(np.int64)
    window = _between(tx, start_ts, end_ts)
    pos = a.index.get_indexer(pd.Index(window["customer_id"].astype(str)))
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


def holdout_cutoff(tx: pd.DataFrame, as_of, months: int) -> pd.Timestamp:
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
