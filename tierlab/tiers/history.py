"""The result of a run: every customer's tier at every review, the changes and their reasons.

A :class:`TierHistory` is built one way: tier codes, qualified levels and a
:class:`~tierlab.tiers.changelog.ChangeLog` (the one source of its changes). The engine passes
the log it recorded and the monthly arrays it ran on (for :meth:`~TierHistory.explain` and
:meth:`~TierHistory.distance`); a history made from codes alone reads its changes off the codes.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tierlab.calendar import DAY_NS
from tierlab.errors import ArgumentError, DataError, did_you_mean
from tierlab.features.panel import MonthlyArrays
from tierlab.tiers.changelog import ChangeLog
from tierlab.tiers.conditions import metric_leaves
from tierlab.tiers.metrics import ReviewMetrics
from tierlab.tiers.reasons import sentences
from tierlab.tiers.scheme import TierScheme

__all__ = ["TierHistory", "cross_tiers"]



class TierHistory:
    """Tier of every customer at every review, with the log of changes and their reasons.

    Parameters
    ----------
    scheme : TierScheme
    customer_ids : Index
    reviews : DatetimeIndex
    codes, qualified_levels : ndarray
        See the attributes.
    log : ChangeLog, optional
        The changes as recorded by the run; default: read off ``codes`` (entries, ups, downs).
    arrays : MonthlyArrays, optional
        The monthly arrays the run read; needed by :meth:`explain` and :meth:`distance`.

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
                 codes: np.ndarray, qualified_levels: np.ndarray, log: ChangeLog | None = None,
                 arrays: MonthlyArrays | None = None):
        self.scheme = scheme
        self.customer_ids = customer_ids
        self.reviews = reviews
        self.codes = codes
        self.qualified_levels = qualified_levels
        self.log = ChangeLog.from_codes(codes) if log is None else log
        self._arr = arrays

    # ----------------------------------------------------------------- changes
    def _changes(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        return self.log.frame(self.scheme, self.customer_ids, self.reviews, rows)

    @cached_property
    def changes(self) -> pd.DataFrame:
        """Every tier change: customer_id, review, from_tier, to_tier, direction, rule, reason.

        Sorted by customer then review; ``direction`` is new (entry), up or down; ``rule`` is
        initial, promotion, demotion or override. Built (with its sentences) on first use.
        """
        return self._changes()

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
        rows = self.log.last_per_customer()  # formats only the last change of each customer
        last = self._changes(rows)
        # place each customer's last change by position (no join on the ids); -1: no change
        where = np.full(len(out), -1, dtype=np.int64)
        where[self.log.customer[rows]] = np.arange(len(last))
        for col, name in (("since", "review"), ("previous_tier", "from_tier"),
                          ("reason", "reason")):
            out[col] = last[name].array.take(where, allow_fill=True)
        return out

    # ----------------------------------------------------------------- other languages
    def changes_in(self, lang: str = "en") -> pd.DataFrame:
        """:attr:`changes` with the reasons in *lang* (``"en"`` or ``"zh"``)."""
        if lang == "en":
            return self.changes
        frame = self.changes.copy()
        rows = self.log.by_customer()
        frame["reason"] = pd.array(sentences(self.log, self.scheme, self.reviews, rows,
                                             lang=lang), dtype="str")
        return frame

    def current_in(self, lang: str = "en") -> pd.DataFrame:
        """:attr:`current` with the reasons in *lang* (``"en"`` or ``"zh"``)."""
        if lang == "en":
            return self.current
        out = self.current.copy()
        rows = self.log.last_per_customer()
        text = pd.array(sentences(self.log, self.scheme, self.reviews, rows, lang=lang),
                        dtype="str")
        where = np.full(len(out), -1, dtype=np.int64)
        where[self.log.customer[rows]] = np.arange(len(rows))
        out["reason"] = text.take(where, allow_fill=True)
        return out

    def metric_range(self, metric: str, window: str | None) -> tuple[float, float] | None:
        """Smallest and largest value of a metric over the customers with a tier, all reviews.

        None when the history has no monthly arrays (built from codes) or no value is defined.
        """
        if self._arr is None:
            return None
        lo, hi = np.inf, -np.inf
        for t in range(len(self.reviews)):  # a loop over reviews, each vectorized
            values = self._metrics(t).value(metric, window)[self.codes[:, t] >= 0]
            values = values[np.isfinite(values)]
            if values.size:
                lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
        return None if lo > hi else (lo, hi)

    def at(self, date: Any) -> pd.Series:
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
                f"{self.reviews[-1].date()}); last review {parts}; {len(self.log)} changes>")

    # ----------------------------------------------------------------- explanations
    def _metrics(self, t: int) -> ReviewMetrics:
        """The metrics of every customer at review ``t`` (re-read from the run's arrays)."""
        if self._arr is None:
            raise ArgumentError("this history was built from tier codes alone and has no "
                                "metrics to explain; run the scheme (TierScheme.run) instead")
        arr = self._arr
        review = self.reviews[t]
        m = int(review.year * 12 + review.month - 1 - arr.months[0])
        return ReviewMetrics(arr, m, int(review.value // DAY_NS), self.codes[:, t] >= 0)

    def explain(self, customer_id: Any) -> pd.DataFrame:
        """One customer's timeline: per review the metrics, qualified level, tier and reason."""
        pos = int(self.customer_ids.get_indexer(pd.Index([str(customer_id)]))[0])
        if pos < 0:
            raise ArgumentError(f"customer {customer_id!r} is not in this history"
                            f"{did_you_mean(str(customer_id), self.customer_ids[:100_000])}")
        keys = self.scheme.metric_keys()
        uses_scores = any(k[0].endswith("score") for k in keys)
        names = self.scheme.tier_names
        records = []
        for t in np.flatnonzero(self.codes[pos] >= 0).tolist():
            rec: dict[str, Any] = {"review": self.reviews[t]}
            if keys:
                review = self._metrics(t)
                at = pos
                if not uses_scores:  # scores rank all customers: only they need everyone
                    review, at = review.rows(np.array([pos])), 0
                for key in keys:
                    rec[key[0] if key[1] is None else f"{key[0]}_{key[1]}"] = \
                        review.value(*key)[at]
            rec["qualified"] = names[self.qualified_levels[pos, t]]
            rec["tier"] = names[self.codes[pos, t]]
            records.append(rec)
        out = pd.DataFrame(records)
        ch = self._changes(self.log.of_customer(pos))
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
        review = self._metrics(t)
        cur = self.codes[:, t].astype(np.int64)
        names = self.scheme.tier_names
        frames = []
        for k in range(1, len(self.scheme.tiers)):
            for kind, mask in (("next", cur == k - 1), ("keep", cur == k)):
                if not mask.any():
                    continue
                for leaf in metric_leaves(self.scheme.tiers[k].when):
                    if leaf.op == "in":
                        continue
                    window = self.scheme.metric_window(leaf)
                    v = review.value(leaf.metric, window)[mask]
                    frames.append(pd.DataFrame({
                        "customer_id": self.customer_ids[mask],
                        "tier": names[k - 1] if kind == "next" else names[k],
                        "kind": kind,
                        "target": names[k],
                        "metric": leaf.metric,
                        "window": window,
                        "op": leaf.op,
                        "threshold": float(leaf.value),
                        "current": v,
                        "gap": leaf.value - v,
                    }))
        if not frames:
            return pd.DataFrame(columns=["customer_id", "tier", "kind", "target", "metric",
                                         "window", "op", "threshold", "current", "gap"])
        return pd.concat(frames, ignore_index=True).sort_values(
            ["customer_id", "kind", "target", "metric"], ignore_index=True)


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
    sep : str, default " × "
        Between the tier and each attribute value.
    missing : str, default "unknown"
        For customers without a value (or not in the table).

    Returns
    -------
    Series
        customer_id → combined type, categorical ordered by tier then attribute values.
    """
    cols = [by] if isinstance(by, str) else list(by)
    table = customers.set_index("customer_id") if "customer_id" in customers.columns \
        else customers
    missing_cols = [b for b in cols if b not in table.columns]
    if missing_cols:
        raise DataError(f"customer table has no column {missing_cols[0]!r}"
                        f"{did_you_mean(missing_cols[0], table.columns)}; columns: "
                        f"{list(table.columns)}")
    attrs = table[cols].reindex(tiers.index.astype(str)).astype(object).fillna(missing)
    ordered = tiers if isinstance(tiers.dtype, pd.CategoricalDtype) else tiers.astype(
        pd.CategoricalDtype(sorted(tiers.dropna().unique())))
    combined = ordered.astype(str).reset_index(drop=True)
    for b in cols:
        combined = combined + sep + attrs[b].astype(str).reset_index(drop=True)
    # categories: tier order first, then the attribute values in text order
    kinds = pd.DataFrame({"tier": ordered.cat.codes.to_numpy(), "type": combined})
    kinds = kinds[kinds["tier"] >= 0].drop_duplicates().sort_values(["tier", "type"])
    return pd.Series(pd.Categorical(combined, categories=kinds["type"], ordered=True),
                     index=tiers.index, name="type")

