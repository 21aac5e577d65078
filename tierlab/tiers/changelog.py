"""The change log of a tier run: every change as numbers, recorded review by review.

The engine records each change (customer, review, from, to, rule) with the metric figures of
the reviews that decided it; :class:`ChangeLog` is the one source of a history's changes. A
history built from tier codes alone (no run) reads its changes off the codes.
Sentences are made from the log only when asked for (:mod:`tierlab.tiers.reasons`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierlab.tiers.metrics import ReviewMetrics
from tierlab.tiers.scheme import TierScheme
from tierlab.tiers.state import RULE_CODES, Step

__all__ = ["ChangeLog", "ChangeRecorder", "RULES"]

#: Rule names by code, as stored in the log (code 0: no change).
RULES = np.array(["", *list(RULE_CODES)[1:]], dtype=object)

MetricKey = tuple[str, str | None]


@dataclass
class ChangeLog:
    """Tier changes as numbers, in the order the run made them (review, then customer).

    Nothing is sorted up front: :meth:`frame` orders by customer when the whole log is asked
    for, and :meth:`last_per_customer` finds each customer's latest change directly.

    ``figures[key]`` holds, per change, the value of metric ``key = (metric, window)`` at the
    ``width`` reviews ending at the change (oldest first); a log read off codes has none.
    """

    customer: np.ndarray   # position in the history's customer index
    review: np.ndarray     # review position
    from_code: np.ndarray  # -1 for an entry
    to_code: np.ndarray
    rule: np.ndarray       # index into RULES
    override_reason: np.ndarray | None  # None when the run had no overrides
    soft: np.ndarray       # demotions cut short by max_demotion_steps
    figures: dict[MetricKey, np.ndarray]
    width: int

    @classmethod
    def empty(cls, keys: list[MetricKey], width: int) -> ChangeLog:
        none = np.empty(0, dtype=np.int64)
        return cls(none, none, none, none, np.empty(0, dtype=np.int8), None,
                   np.empty(0, dtype=bool), {k: np.empty((0, width)) for k in keys}, width)

    @classmethod
    def from_codes(cls, codes: np.ndarray) -> ChangeLog:
        """The changes a ``(customers, reviews)`` code array shows: entries, ups and downs."""
        codes = np.asarray(codes, dtype=np.int64)
        before = np.concatenate([np.full((len(codes), 1), -1), codes[:, :-1]], axis=1)
        review, customer = np.nonzero((codes != before).T & (codes >= 0).T)
        frm, to = before[customer, review], codes[customer, review]
        rule = np.where(frm < 0, RULE_CODES["initial"],
                        np.where(to > frm, RULE_CODES["promotion"], RULE_CODES["demotion"]))
        return cls(customer.astype(np.int64), review.astype(np.int64), frm, to,
                   rule.astype(np.int8), None, np.zeros(len(customer), dtype=bool), {}, 1)

    def __len__(self) -> int:
        return len(self.customer)

    def by_customer(self) -> np.ndarray:
        """Positions of all changes, by customer then review."""
        # changes are stored review by review, so a stable sort on the customer keeps that order
        return np.argsort(self.customer, kind="stable")

    def of_customer(self, pos: int) -> np.ndarray:
        """Positions of one customer's changes, in review order."""
        return np.flatnonzero(self.customer == pos)

    def last_per_customer(self) -> np.ndarray:
        """Positions of each customer's last change, in customer order."""
        if not len(self.customer):
            return np.empty(0, dtype=np.int64)
        last = np.full(int(self.customer.max()) + 1, -1, dtype=np.int64)
        np.maximum.at(last, self.customer, np.arange(len(self.customer)))
        return last[last >= 0]

    def frame(self, scheme: TierScheme, customer_ids: pd.Index, reviews: pd.DatetimeIndex,
              rows: np.ndarray | None = None) -> pd.DataFrame:
        """The log as a table: customer_id, review, from_tier, to_tier, direction, rule, reason.

        ``rows`` default: every change, by customer then review.
        """
        from tierlab.tiers.reasons import sentences  # the text layer sits on the numbers

        rows = self.by_customer() if rows is None else np.asarray(rows, dtype=np.int64)
        cat = pd.CategoricalDtype(scheme.tier_names, ordered=True)
        frm, to = self.from_code[rows], self.to_code[rows]
        direction = pd.Categorical.from_codes(np.where(frm < 0, 0, np.where(to > frm, 1, 2)),
                                              dtype=pd.CategoricalDtype(["new", "up", "down"]))
        rule_dtype = pd.CategoricalDtype([str(r) for r in RULES[1:]])
        return pd.DataFrame({
            "customer_id": customer_ids.array.take(self.customer[rows]),
            "review": reviews[self.review[rows]],
            "from_tier": pd.Categorical.from_codes(frm, dtype=cat),
            "to_tier": pd.Categorical.from_codes(to, dtype=cat),
            "direction": direction,
            "rule": pd.Categorical.from_codes(self.rule[rows].astype(np.int64) - 1,
                                              dtype=rule_dtype),
            "reason": pd.array(sentences(self, scheme, reviews, rows), dtype="str"),
        })


class ChangeRecorder:
    """Collects a run's changes review by review, with the figures that explain them.

    It keeps the values of every metric the scheme tests for the last ``width`` reviews (a ring,
    review-major so each review writes contiguously) and copies them out for the customers who
    changed.
    """

    def __init__(self, keys: list[MetricKey], width: int, n: int):
        self.keys, self.width = keys, width
        self.ring = {key: np.zeros((width, n)) for key in keys}
        self.chunks: list[ChangeLog] = []

    def observe(self, t: int, metrics: ReviewMetrics) -> None:
        """Remember the metric values of review ``t``."""
        for key in self.keys:
            self.ring[key][t % self.width] = metrics.value(*key)

    def record(self, t: int, step: Step, reasons: np.ndarray | None) -> None:
        """Log the changes ``step`` made at review ``t`` (``reasons``: override notes)."""
        idx = np.flatnonzero(step.changed)
        if not idx.size:
            return
        order = [j % self.width for j in range(t - self.width + 1, t + 1)]
        self.chunks.append(ChangeLog(
            customer=idx, review=np.full(idx.size, t, dtype=np.int64),
            from_code=step.previous[idx].astype(np.int64),
            to_code=step.tier[idx].astype(np.int64),
            rule=step.rule[idx], override_reason=None if reasons is None else reasons[idx],
            soft=step.soft[idx], figures={k: self.ring[k][:, idx][order].T for k in self.keys},
            width=self.width))

    def log(self) -> ChangeLog:
        """Every recorded change, in recording order."""
        if not self.chunks:
            return ChangeLog.empty(self.keys, self.width)
        cat = {name: np.concatenate([getattr(c, name) for c in self.chunks])
               for name in ("customer", "review", "from_code", "to_code", "rule", "soft")}
        notes = [c.override_reason for c in self.chunks]
        reason = None if all(x is None for x in notes) else np.concatenate(
            [np.full(len(c), None, dtype=object) if x is None else x
             for c, x in zip(self.chunks, notes, strict=True)])
        figures = {k: np.concatenate([c.figures[k] for c in self.chunks]) for k in self.keys}
        return ChangeLog(**cat, override_reason=reason, figures=figures, width=self.width)
