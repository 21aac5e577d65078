"""The review engine: run a :class:`~tierlab.TierScheme` over time → :class:`TierHistory`.

Semantics (SPEC §3, exact). Reviews happen at the end of each review period, for each customer
from their *entry review* (the first review period containing a purchase of theirs) to the end of
the run; months without purchases count as zero. At review t:

1. the qualified level ``L_t`` is the highest tier whose condition holds (the lowest always does);
2. promotion: a customer at tier c moves to the highest tier k > c with ``L ≥ k`` at each of the
   last ``promote_after(k)`` reviews;
3. demotion: if ``L < c`` at each of the last ``demote_after`` reviews, the customer moves to the
   highest ``L`` seen in those reviews, at most ``max_demotion_steps`` tiers down, and never
   within ``grace_reviews`` reviews after a promotion;
4. otherwise the tier is held;
5. "the last N reviews" only counts reviews after the customer's last tier change; the entry
   review counts; with fewer such reviews than N the rule cannot fire yet;
6. at the entry review ``initial: qualified`` gives ``L_t``, ``initial: lowest`` the lowest tier;
7. manual overrides fix the tier for the reviews in their span; afterwards the rules resume from
   the override tier as after a change.

The last review is the one of the period containing ``end`` (default: the last date in the
data); when ``end`` falls inside that period, the review sees the data up to ``end``.

The engine is vectorized over customers: it loops over reviews only, keeping per-customer state
in numpy arrays (current tier, start of the counting window, run lengths, last promotion).
"""

from __future__ import annotations

import functools
import warnings
from functools import cached_property

import numpy as np
import pandas as pd

from tierlab.errors import DataError, SchemeError, did_you_mean
from tierlab.features.core import FREQS, MonthlyArrays, _check_tx, monthly_arrays, period_end
from tierlab.tiers.reasons import ChangeLog
from tierlab.tiers.scheme import METRICS, AllOf, Attribute, Condition, Metric, TierScheme

__all__ = ["run_scheme", "TierHistory", "cross_tiers", "load_overrides"]

_DAY_NS = 86_400_000_000_000


# --------------------------------------------------------------------------- metrics
def _window_start(window: str, m: int, months: np.ndarray) -> int:
    if window == "all":
        return 0
    if window == "YTD":
        return max(0, m - int(months[m] % 12))
    return max(0, m - int(window[:-1]) + 1)


def _rfm_scores(recency: np.ndarray, orders: np.ndarray, spend: np.ndarray,
                pool: np.ndarray, edges_for=None) -> dict[str, np.ndarray]:
    """Quantile RFM scores 1–5 among the customers in ``pool`` (NaN outside it).

    ``edges_for(values)`` (the ``score_edges`` hook of :func:`run_scheme`), given the pooled
    ``{"R": recency, "F": orders, "M": spend}``, returns the cut points to use instead of this
    pool's quantiles; scores follow RFMScorer's rule (``searchsorted(edges, x, "left") + 1``,
    reversed for R).
    """
    out = {k: np.full(recency.shape, np.nan) for k in ("r_score", "f_score", "m_score")}
    if pool.sum() == 0:
        out["rfm_score"] = out["r_score"]
        return out
    if edges_for is not None:  # global cut points (tierlab.distributed)
        values = {"R": recency[pool], "F": orders[pool], "M": spend[pool]}
        edges = edges_for(values)
        for dim, key in (("R", "r_score"), ("F", "f_score"), ("M", "m_score")):
            s = np.searchsorted(edges[dim], values[dim], side="left") + 1
            out[key][pool] = len(edges[dim]) + 2 - s if dim == "R" else s
        out["rfm_score"] = out["r_score"] + out["f_score"] + out["m_score"]
        return out
    from tierlab.scoring import RFMScorer  # a lower layer; imported when a scheme uses scores

    frame = pd.DataFrame({"recency_days": recency[pool], "frequency": orders[pool],
                          "monetary_total": spend[pool]})
    scored = RFMScorer(bins=5).fit_transform(frame)
    for k in out:
        out[k][pool] = scored[k].to_numpy(dtype=float)
    out["rfm_score"] = out["r_score"] + out["f_score"] + out["m_score"]
    return out


class _Review:
    """Metric values for every customer at one review (cached per metric and window)."""

    def __init__(self, arr: MonthlyArrays, m: int, review_day: int, entered: np.ndarray,
                 score_edges=None):
        self.arr, self.m, self.day, self.entered = arr, m, review_day, entered
        self.score_edges = score_edges
        self.cache: dict[tuple[str, str | None], np.ndarray] = {}

    def _sum(self, a: np.ndarray, window: str) -> np.ndarray:
        lo = _window_start(window, self.m, self.arr.months)
        if lo == self.m:  # one month: a column copy, not a million one-element sums
            return a[:, lo].copy()
        return a[:, lo:self.m + 1].sum(axis=1)

    def value(self, metric: str, window: str | None) -> np.ndarray:
        key = (metric, window)
        if key in self.cache:
            return self.cache[key]
        arr = self.arr
        if metric == "spend":
            v = self._sum(arr.spend, window)
        elif metric == "orders":
            v = self._sum(arr.orders, window)
        elif metric == "quantity":
            v = self._sum(arr.quantity, window)
        elif metric == "avg_order_value":
            o = self.value("orders", window)
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.where(o > 0, self.value("spend", window) / np.where(o > 0, o, 1), np.nan)
        elif metric == "active_months":
            lo = _window_start(window, self.m, arr.months)
            v = (arr.orders[:, lo:self.m + 1] > 0).sum(axis=1).astype(float)
        elif metric == "recency_days":
            last = arr.last_day[:, self.m]
            v = np.where(last >= 0, self.day - last, np.nan).astype(float)
        elif metric == "tenure_days":
            v = (self.day - arr.first_day).astype(float)
        elif metric in ("r_score", "f_score", "m_score", "rfm_score"):
            hook = (None if self.score_edges is None
                    else functools.partial(self.score_edges, self.day, window))
            scores = _rfm_scores(self.value("recency_days", None), self.value("orders", window),
                                 self.value("spend", window), self.entered, hook)
            for name, values in scores.items():
                self.cache[(name, window)] = values
            v = scores[metric]
        else:  # pragma: no cover - the parser only lets known metrics through
            raise SchemeError(f"unknown metric {metric!r}")
        self.cache[key] = v
        return v


def _compare(values: np.ndarray, op: str, value) -> np.ndarray:
    if op == "in":
        out = np.isin(values, np.asarray(value, dtype=values.dtype if values.dtype != object
                                         else object))
    else:
        with np.errstate(invalid="ignore"):
            out = {
                ">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
                "==": np.equal, "!=": np.not_equal,
            }[op](values, value)
    if values.dtype.kind == "f":
        out &= ~np.isnan(values)
    return np.asarray(out, dtype=bool)


class _Evaluator:
    """Evaluates a scheme's conditions; attribute tests are computed once per customer."""

    def __init__(self, scheme: TierScheme, customer_ids: pd.Index, customers):
        self.scheme = scheme
        self.default_window = f"{scheme.review_months}M"
        self.attr_cache: dict[str, np.ndarray] = {}
        self.attrs = self._align_customers(customers, customer_ids)

    def _align_customers(self, customers, ids: pd.Index) -> pd.DataFrame | None:
        needed = sorted({leaf.attribute for t in self.scheme.tiers if t.when is not None
                         for leaf in t.when.leaves() if isinstance(leaf, Attribute)})
        if not needed:
            return None
        if customers is None:
            raise SchemeError(
                f"{self.scheme.source or self.scheme.name}: the scheme tests customer "
                f"attribute(s) {needed}; pass customers=… (a table with customer_id and those "
                "columns)"
            )
        if "customer_id" in customers.columns:
            customers = customers.set_index("customer_id")
        missing = [a for a in needed if a not in customers.columns]
        if missing:
            raise SchemeError(
                f"{self.scheme.source or self.scheme.name}: attribute {missing[0]!r} is not a "
                f"column of the customer table{did_you_mean(missing[0], customers.columns)}; "
                f"columns: {list(customers.columns)}"
            )
        if customers.index.duplicated().any():
            raise DataError("the customer table has duplicate customer_id values; load it with "
                            "tierlab.load_customers, which sets duplicates aside")
        customers = customers.copy()
        customers.index = customers.index.astype(str)
        return customers[needed].reindex(ids.astype(str))

    def window(self, leaf: Metric) -> str | None:
        if not METRICS[leaf.metric][0]:
            return None
        return leaf.window or self.default_window

    def holds(self, cond: Condition, review: _Review) -> np.ndarray:
        if isinstance(cond, Metric):
            return _compare(review.value(cond.metric, self.window(cond)), cond.op, cond.value)
        if isinstance(cond, Attribute):
            if cond.path not in self.attr_cache:
                col = self.attrs[cond.attribute]
                if cond.op == "in":
                    res = col.isin(cond.value).to_numpy()
                else:
                    vals = col.to_numpy()
                    try:
                        res = _compare(vals, cond.op, cond.value)
                    except TypeError:
                        raise SchemeError(
                            f"{cond.path}: cannot compare attribute {cond.attribute!r} "
                            f"({col.dtype}) with {cond.value!r}"
                        ) from None
                    res &= col.notna().to_numpy()
                self.attr_cache[cond.path] = np.asarray(res, dtype=bool)
            return self.attr_cache[cond.path]
        parts = [self.holds(p, review) for p in cond.parts]
        return (np.logical_and.reduce if isinstance(cond, AllOf) else np.logical_or.reduce)(parts)

    def qualified(self, review: _Review) -> np.ndarray:
        n = len(review.entered)
        level = np.zeros(n, dtype=np.int8)
        for k, tier in enumerate(self.scheme.tiers[1:], start=1):
            level[self.holds(tier.when, review)] = k
        return level


# --------------------------------------------------------------------------- overrides
def load_overrides(overrides, tier_names: list[str]) -> pd.DataFrame | None:
    """Validate manual overrides (a DataFrame or a CSV path) → customer_id, tier, from, until."""
    if overrides is None:
        return None
    source = "overrides"
    if not isinstance(overrides, pd.DataFrame):
        source = str(overrides)
        try:
            overrides = pd.read_csv(overrides, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{source}: cannot read the overrides file: {exc}") from None
    cols = {c.strip().lower(): c for c in overrides.columns}
    need = ["customer_id", "tier", "from"]
    missing = [c for c in need if c not in cols]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; overrides need customer_id, "
                        f"tier, from, until (optional) and reason (optional); found "
                        f"{list(overrides.columns)}")
    out = pd.DataFrame({
        "customer_id": overrides[cols["customer_id"]].astype(str).str.strip(),
        "tier": overrides[cols["tier"]].astype(str).str.strip(),
    })
    for c in ("from", "until"):
        raw = overrides[cols[c]] if c in cols else pd.Series([None] * len(overrides))
        raw = raw.replace("", None)
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
        bad = raw.notna().to_numpy() & parsed.isna().to_numpy()
        if bad.any() or (c == "from" and parsed.isna().any()):
            row = int(np.flatnonzero(bad | (parsed.isna().to_numpy() & (c == "from")))[0])
            raise DataError(f"{source}: row {row + 1}: column {c!r} is not a date: "
                            f"{raw.iloc[row]!r}")
        out[c] = parsed.to_numpy()
    out["reason"] = (overrides[cols["reason"]].astype(str) if "reason" in cols
                     else "manual override")
    unknown = ~out["tier"].isin(tier_names)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"{source}: row {row + 1}: unknown tier {out['tier'].iloc[row]!r}; "
                        f"the scheme's tiers are {tier_names}")
    return out


# --------------------------------------------------------------------------- running
_FIELDS = {
    "spend": {"spend"}, "orders": {"orders"}, "quantity": {"quantity"},
    "avg_order_value": {"spend", "orders"}, "active_months": {"orders"},
    "recency_days": {"last_day"}, "tenure_days": set(),
    "r_score": {"spend", "orders", "last_day"}, "f_score": {"spend", "orders", "last_day"},
    "m_score": {"spend", "orders", "last_day"}, "rfm_score": {"spend", "orders", "last_day"},
}


def _fields_needed(scheme: TierScheme) -> set[str]:
    """The monthly arrays a scheme's conditions read (each costs 8 bytes per customer-month)."""
    return {f for t in scheme.tiers if t.when is not None for leaf in t.when.leaves()
            if isinstance(leaf, Metric) for f in _FIELDS[leaf.metric]}


def run_scheme(scheme: TierScheme, tx: pd.DataFrame, customers=None, overrides=None,
               start=None, end=None, *, score_edges=None) -> TierHistory:
    """Run a scheme over every review period of a transaction log.

    Parameters
    ----------
    scheme : TierScheme
    tx : DataFrame
        Canonical transactions (see :func:`tierlab.load_transactions`).
    customers : DataFrame, optional
        Customer table, needed when the scheme tests customer attributes.
    overrides : DataFrame or path, optional
        Manual overrides: ``customer_id, tier, from, until, reason``.
    start, end : date-like, optional
        First and last review periods (the periods containing these dates). ``end`` also cuts
        the data. Default: the data's span.
    score_edges : callable, optional
        ``score_edges(review_day, window, values) -> {"R": edges, "F": edges, "M": edges}``:
        the RFM score cut points to use at a review (``review_day``: days since 1970-01-01;
        ``values``: the pooled R/F/M values) instead of the quantiles of the customers in
        ``tx``. :func:`tierlab.distributed.run_partitioned` passes the global cut points.

    Returns
    -------
    TierHistory
    """
    _check_tx(tx, "run")
    if len(tx) == 0:
        raise DataError("no transactions to run the scheme on")
    last = pd.Timestamp(tx["timestamp"].max()).normalize()
    end_ts = last if end is None else pd.Timestamp(end).normalize()
    if end is not None:
        tx = tx.loc[tx["timestamp"].to_numpy() < (end_ts + pd.Timedelta(days=1)).to_datetime64()]
        if len(tx) == 0:
            raise DataError(f"end={end} is before the first transaction")
    step = FREQS[scheme.review]
    end_month = end_ts.year * 12 + end_ts.month - 1
    last_review_month = end_month // step * step + step - 1
    arr = monthly_arrays(tx, end=period_end([last_review_month], "M")[0],
                         fields=_fields_needed(scheme))
    months = arr.months
    first_review_period = months[0] // step
    if start is not None:
        s = pd.Timestamp(start)
        first_review_period = max(first_review_period, (s.year * 12 + s.month - 1) // step)
    review_periods = np.arange(first_review_period, last_review_month // step + 1)
    if review_periods.size == 0:
        raise DataError(f"start={start} is after the last review period")
    review_month_cols = review_periods * step + step - 1 - months[0]
    review_dates = period_end(review_periods * step, scheme.review)
    review_days = (review_dates.asi8 // _DAY_NS).astype(np.int64)

    n, R, K = len(arr.customer_ids), len(review_periods), len(scheme.tiers)
    first_month_num = (arr.first_day.astype("datetime64[D]").astype("datetime64[M]")
                       .astype(np.int64) + 1970 * 12)
    entry = np.clip(first_month_num // step - first_review_period, 0, None).astype(np.int32)

    ev = _Evaluator(scheme, arr.customer_ids, customers)
    ov = load_overrides(overrides, scheme.tier_names)
    if ov is not None:
        pos = arr.customer_ids.get_indexer(ov["customer_id"])
        if (pos < 0).any():
            warnings.warn(
                f"{int((pos < 0).sum())} override row(s) name customers with no transactions "
                f"and are ignored: {ov['customer_id'][pos < 0].unique()[:5].tolist()}",
                UserWarning, stacklevel=2)
        ov = ov.assign(pos=pos, k=pd.Categorical(ov["tier"], categories=scheme.tier_names)
                       .codes)[pos >= 0]
    promote_after = np.array([scheme.promote_after(k) if k else 1 for k in range(K)])
    D = scheme.policy.demote_after
    steps = scheme.policy.max_demotion_steps
    grace = scheme.policy.grace_reviews

    # figure leaves: every metric leaf of every tier, kept for the last W reviews (reasons)
    leaf_keys = sorted({(leaf.metric, ev.window(leaf)) for t in scheme.tiers if t.when
                        for leaf in t.when.leaves() if isinstance(leaf, Metric)},
                       key=str)
    W = int(max(promote_after.max(), D, 1))
    ring = {key: np.zeros((W, n)) for key in leaf_keys}  # review-major: contiguous writes

    tier = np.full(n, -1, dtype=np.int8)
    codes = np.full((R, n), -1, dtype=np.int8)  # review-major while running; transposed below
    qual = np.full((R, n), -1, dtype=np.int8)
    since = np.zeros(n, dtype=np.int32)
    run_ge = np.zeros((K, n), dtype=np.int32)  # per tier: reviews in a row with L ≥ k
    run_below = np.zeros(n, dtype=np.int32)
    last_promo = np.full(n, -(10**6), dtype=np.int32)
    chunks: list[dict] = []

    for t in range(R):
        entered = entry <= t
        new = entry == t
        review = _Review(arr, int(review_month_cols[t]), int(review_days[t]), entered,
                         score_edges)
        L = np.where(entered, ev.qualified(review), np.int8(-1))
        qual[t] = L
        for key in leaf_keys:
            ring[key][t % W] = review.value(*key)
        for k in range(1, K):  # in place: +1 where L ≥ k, else back to 0
            np.add(run_ge[k], 1, out=run_ge[k])
            np.multiply(run_ge[k], L >= k, out=run_ge[k])
        prev = tier.copy()
        old = entered & ~new
        since[new] = t  # the entry review counts
        avail = t - since + 1
        # 2. promotion
        target = np.full(n, -1, dtype=np.int8)
        for k in range(1, K):
            ok = old & (k > tier) & (np.minimum(run_ge[k], avail) >= promote_after[k])
            target[ok] = k
        promote = target > tier
        # 3. demotion
        below = old & (L < tier)
        run_below = np.where(below, run_below + 1, 0)
        demote = (~promote & old & (np.minimum(run_below, avail) >= D)
                  & (t - last_promo > grace))
        soft = np.zeros(n, dtype=bool)  # the soft landing held the customer higher
        if demote.any():
            lmax = qual[t - D + 1:t + 1][:, demote].max(axis=0)
            if steps is not None:
                floor = tier[demote] - steps
                soft[demote] = lmax < floor
                lmax = np.maximum(lmax, floor)
            down = np.zeros(n, dtype=np.int8)
            down[demote] = lmax
        # 6. entry
        init = (L if scheme.initial == "qualified" else np.zeros(n, dtype=np.int8))
        new_tier = tier.copy()
        new_tier[new] = init[new]
        new_tier[promote] = target[promote]
        if demote.any():
            new_tier[demote] = down[demote]
        rule = np.zeros(n, dtype=np.int8)  # 0 none, 1 initial, 2 promotion, 3 demotion, 4 ov
        rule[new] = 1
        rule[promote] = 2
        rule[demote] = 3
        # 7. overrides
        fixed = np.zeros(n, dtype=bool)
        reason_at = None if ov is None else np.full(n, None, dtype=object)
        if ov is not None and len(ov):
            day = review_dates[t]
            active = ov[(ov["from"] <= day) & (ov["until"].isna() | (ov["until"] >= day))]
            active = active.drop_duplicates("pos", keep="last")
            p = active["pos"].to_numpy()
            p_ok = entered[p]
            p, ks, rs = p[p_ok], active["k"].to_numpy()[p_ok], active["reason"].to_numpy()[p_ok]
            fixed[p] = True
            new_tier[p] = ks
            rule[p] = np.where(new_tier[p] != prev[p], 4, 0)
            reason_at[p] = rs
        changed = (new_tier != prev) | new
        promote &= ~fixed
        demote &= ~fixed
        reset = (changed & ~new) | fixed
        since[reset] = t + 1
        run_below[reset] = 0
        last_promo[promote] = t
        tier = new_tier
        codes[t] = tier
        idx = np.flatnonzero(changed & (rule > 0))
        if idx.size:
            order = [(j % W) for j in range(t - W + 1, t + 1)]
            chunks.append({
                "customer": idx, "review": np.full(idx.size, t, dtype=np.int64),
                "from_code": prev[idx].astype(np.int64), "to_code": tier[idx].astype(np.int64),
                "rule": rule[idx], "soft": soft[idx],
                "override_reason": None if reason_at is None else reason_at[idx],
                "figures": {key: ring[key][:, idx][order].T for key in leaf_keys},
            })
    log = ChangeLog.concat(chunks, leaf_keys, W)
    codes, qual = np.ascontiguousarray(codes.T), np.ascontiguousarray(qual.T)
    return TierHistory(scheme, arr.customer_ids, review_dates, codes, qual, None, arr, ev,
                       log=log)


# --------------------------------------------------------------------------- history
class TierHistory:
    """Tier of every customer at every review, with the log of changes and their reasons.

    Attributes
    ----------
    scheme : TierScheme
    reviews : DatetimeIndex
        Review dates (period ends).
    codes : ndarray
        ``(customers, reviews)`` int8 tier index (0 = lowest), ``-1`` before entry.
    qualified_levels : ndarray
        Same shape: the qualified level ``L_t`` at each review.
    changes : DataFrame
        ``customer_id, review, from_tier, to_tier, direction, rule, reason``.
    """

    def __init__(self, scheme: TierScheme, customer_ids: pd.Index, reviews: pd.DatetimeIndex,
                 codes: np.ndarray, qualified_levels: np.ndarray,
                 changes: pd.DataFrame | None = None, arrays: MonthlyArrays | None = None,
                 evaluator: _Evaluator | None = None, *, log: ChangeLog | None = None):
        self.scheme = scheme
        self.customer_ids = customer_ids
        self.reviews = reviews
        self.codes = codes
        self.qualified_levels = qualified_levels
        self._changes = changes
        self._arr = arrays
        self._ev = evaluator
        self._log = log

    def _window(self, leaf: Metric) -> str | None:
        return self._ev.window(leaf)

    @property
    def changes(self) -> pd.DataFrame:
        """Every tier change: customer_id, review, from_tier, to_tier, direction, rule, reason.

        Sorted by customer then review; ``direction`` is new (entry), up or down; ``rule`` is
        initial, promotion, demotion or override. Built (with its sentences) on first use.
        """
        if self._changes is None:
            self._changes = self._log.frame(self.scheme, self.customer_ids, self.reviews,
                                            self._window)
        return self._changes

    # ----------------------------------------------------------------- views
    @property
    def tier_dtype(self) -> pd.CategoricalDtype:
        return pd.CategoricalDtype(self.scheme.tier_names, ordered=True)

    @cached_property
    def tiers(self) -> pd.DataFrame:
        """Customer × review date, ordered categorical tier names (NaN before entry)."""
        dtype = self.tier_dtype
        return pd.DataFrame(
            {d: pd.Categorical.from_codes(self.codes[:, j], dtype=dtype)
             for j, d in enumerate(self.reviews)},
            index=self.customer_ids,
        ).rename_axis(columns="review")

    @cached_property
    def current(self) -> pd.DataFrame:
        """Per customer at the last review: tier, label, since, previous tier, reason."""
        tier = pd.Categorical.from_codes(self.codes[:, -1], dtype=self.tier_dtype)
        out = pd.DataFrame({"tier": tier}, index=self.customer_ids)
        out["label"] = out["tier"].map(self.scheme.labels).astype(object)
        if self._log is not None and self._changes is None:  # format only the last changes
            rows = self._log.last_per_customer()
            last = self._log.frame(self.scheme, self.customer_ids, self.reviews, self._window,
                                   rows=rows)
            owners = self._log.customer[rows]
        else:
            last = self.changes.drop_duplicates("customer_id", keep="last")
            owners = self.customer_ids.get_indexer(last["customer_id"])
        # place each customer's last change by position (no join on the ids); -1: no change
        where = np.full(len(out), -1, dtype=np.int64)
        where[owners] = np.arange(len(last))
        for col, name in (("since", "review"), ("previous_tier", "from_tier"),
                          ("reason", "reason")):
            out[col] = last[name].array.take(where, allow_fill=True)
        return out

    def at(self, date) -> pd.Series:
        """Tier of every customer at the last review on or before ``date``."""
        j = int(self.reviews.searchsorted(pd.Timestamp(date), side="right")) - 1
        if j < 0:
            raise DataError(f"{date} is before the first review ({self.reviews[0].date()})")
        return pd.Series(pd.Categorical.from_codes(self.codes[:, j], dtype=self.tier_dtype),
                         index=self.customer_ids, name=self.reviews[j])

    def qualified_counts(self) -> np.ndarray:
        """Per tier: customers who qualify for it (or higher) at some review."""
        best = self.qualified_levels.max(axis=1)
        return np.array([(best >= k).sum() for k in range(len(self.scheme.tiers))])

    def __repr__(self) -> str:
        counts = pd.Series(self.codes[:, -1]).value_counts()
        parts = ", ".join(f"{n}: {int(counts.get(k, 0))}"
                          for k, n in enumerate(self.scheme.tier_names))
        return (f"<TierHistory {self.scheme.name!r}: {len(self.customer_ids)} customers × "
                f"{len(self.reviews)} reviews ({self.reviews[0].date()} … "
                f"{self.reviews[-1].date()}); last review {parts}; "
                f"{len(self._log) if self._log is not None else len(self.changes)} changes>")

    # ----------------------------------------------------------------- explanations
    def _metric_rows(self, rows: np.ndarray, t: int) -> _Review:
        arr = self._arr

        def take(a):
            return None if a is None else a[rows]

        sub = MonthlyArrays(arr.customer_ids[rows], arr.months, take(arr.spend),
                            take(arr.orders), take(arr.quantity), take(arr.last_day),
                            arr.first_day[rows], arr.first_month[rows])
        m = int(self.reviews[t].year * 12 + self.reviews[t].month - 1 - arr.months[0])
        day = int(self.reviews[t].value // _DAY_NS)
        entered = self.codes[rows, t] >= 0
        return _Review(sub, m, day, entered)

    def explain(self, customer_id) -> pd.DataFrame:
        """One customer's timeline: per review the metrics, qualified level, tier and reason."""
        pos = self.customer_ids.get_indexer([str(customer_id)])[0]
        if pos < 0:
            raise DataError(f"customer {customer_id!r} is not in this history"
                            f"{_suggest(customer_id, self.customer_ids)}")
        rows = np.array([pos])
        keys = sorted({(leaf.metric, self._ev.window(leaf)) for tr in self.scheme.tiers
                       if tr.when for leaf in tr.when.leaves() if isinstance(leaf, Metric)},
                      key=str)
        uses_scores = any(k[0].endswith("score") for k in keys)
        records = []
        names = self.scheme.tier_names
        for t in range(len(self.reviews)):
            if self.codes[pos, t] < 0:
                continue
            rec = {"review": self.reviews[t]}
            if uses_scores:  # scores are relative to all customers: evaluate on everyone
                review = self._metric_rows(np.arange(len(self.customer_ids)), t)
                for key in keys:
                    rec[_key_label(key)] = review.value(*key)[pos]
            else:
                review = self._metric_rows(rows, t)
                for key in keys:
                    rec[_key_label(key)] = review.value(*key)[0]
            rec["qualified"] = names[self.qualified_levels[pos, t]]
            rec["tier"] = names[self.codes[pos, t]]
            records.append(rec)
        out = pd.DataFrame(records)
        if self._log is not None and self._changes is None:
            ch = self._log.frame(self.scheme, self.customer_ids, self.reviews, self._window,
                                 rows=np.flatnonzero(self._log.customer == pos))
        else:
            ch = self.changes[self.changes["customer_id"] == self.customer_ids[pos]]
        ch = ch.set_index("review")[["rule", "reason"]].astype(object)
        out = out.join(ch, on="review")
        out[["rule", "reason"]] = out[["rule", "reason"]].fillna("")
        return out

    def distance(self) -> pd.DataFrame:
        """How far each customer is from the next tier and from keeping the current one.

        Computed on the metrics at the last review, for every metric test of the next tier's
        condition (``kind="next"``) and of the current tier's (``kind="keep"``). ``gap`` is how
        much the metric must rise (positive) or may fall (negative) to cross the threshold;
        attribute tests are not listed.
        """
        t = len(self.reviews) - 1
        review = self._metric_rows(np.arange(len(self.customer_ids)), t)
        cur = self.codes[:, t].astype(np.int64)
        frames = []
        K = len(self.scheme.tiers)
        for k in range(1, K):
            cond = self.scheme.tiers[k].when
            for kind, mask in (("next", cur == k - 1), ("keep", cur == k)):
                if not mask.any():
                    continue
                for leaf in cond.leaves():
                    if not isinstance(leaf, Metric) or leaf.op == "in":
                        continue
                    v = review.value(leaf.metric, self._ev.window(leaf))[mask]
                    gap = leaf.value - v
                    frames.append(pd.DataFrame({
                        "customer_id": self.customer_ids[mask],
                        "tier": self.scheme.tier_names[k - 1] if kind == "next"
                        else self.scheme.tier_names[k],
                        "kind": kind,
                        "target": self.scheme.tier_names[k],
                        "metric": leaf.metric,
                        "window": self._ev.window(leaf),
                        "op": leaf.op,
                        "threshold": float(leaf.value),
                        "current": v,
                        "gap": gap,
                    }))
        if not frames:
            return pd.DataFrame(columns=["customer_id", "tier", "kind", "target", "metric",
                                         "window", "op", "threshold", "current", "gap"])
        return pd.concat(frames, ignore_index=True).sort_values(
            ["customer_id", "kind", "target", "metric"], ignore_index=True)


def _key_label(key: tuple[str, str | None]) -> str:
    return key[0] if key[1] is None else f"{key[0]}_{key[1]}"


def _suggest(value, ids: pd.Index) -> str:
    return did_you_mean(str(value), ids[:100_000])


def cross_tiers(tiers: pd.Series, customers: pd.DataFrame, by: str | list[str], *,
                sep: str = " × ", missing: str = "unknown") -> pd.Series:
    """Cross a tier assignment with customer attributes: ``Gold × local``.

    Parameters
    ----------
    tiers : Series
        customer_id → tier (e.g. ``hist.current["tier"]``).
    customers : DataFrame
        Customer table with ``customer_id`` (column or index) and the ``by`` columns.
    by : str or list of str
        Attribute column(s), e.g. ``"region"`` or ``["region", "industry"]``.

    Returns
    -------
    Series
        customer_id → combined type, categorical ordered by tier then attribute values.
    """
    by = [by] if isinstance(by, str) else list(by)
    table = customers.set_index("customer_id") if "customer_id" in customers.columns \
        else customers
    missing_cols = [b for b in by if b not in table.columns]
    if missing_cols:
        raise DataError(f"customer table has no column {missing_cols[0]!r}"
                        f"{did_you_mean(missing_cols[0], table.columns)}; columns: "
                        f"{list(table.columns)}")
    attrs = table[by].reindex(tiers.index.astype(str)).astype(object).fillna(missing)
    ordered = tiers if isinstance(tiers.dtype, pd.CategoricalDtype) else tiers.astype(
        pd.CategoricalDtype(sorted(tiers.dropna().unique())))
    combined = ordered.astype(str).reset_index(drop=True).str.cat(
        [attrs[b].astype(str).reset_index(drop=True) for b in by], sep=sep)
    # categories: tier order first, then the attribute values in text order
    kinds = pd.DataFrame({"tier": ordered.cat.codes.to_numpy(), "type": combined})
    kinds = kinds[kinds["tier"] >= 0].drop_duplicates().sort_values(["tier", "type"])
    return pd.Series(pd.Categorical(combined, categories=kinds["type"], ordered=True),
                     index=tiers.index, name="type")
