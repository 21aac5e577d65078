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

Step 1 is :meth:`Evaluator.qualified <tierlab.tiers.evaluator.Evaluator.qualified>`; steps 2–7
are :func:`~tierlab.tiers.state.review_step` on a :class:`~tierlab.tiers.state.ReviewState`.
This module plans the reviews and loops over them; every step works on arrays of all
customers at once (a loop over reviews, never over customers).

The last review is the one of the period containing ``end`` (default: the last date in the
data); when ``end`` falls inside that period, the review sees the data up to ``end``.

A run can also continue from a committed state (``resume``: the tier register's last review)
and hand each review to a callback (``on_review``): see :class:`ResumePoint`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from tierlab.calendar import DAY_NS, FREQS, period_end
from tierlab.errors import ArgumentError, DataError
from tierlab.features.panel import MonthlyArrays, monthly_arrays
from tierlab.frames import check_transactions
from tierlab.tiers.changelog import ChangeLog, ChangeRecorder
from tierlab.tiers.conditions import metric_leaves
from tierlab.tiers.evaluator import Evaluator
from tierlab.tiers.history import TierHistory, cross_tiers
from tierlab.tiers.metrics import ReviewMetrics, ScoreEdges, fields_needed
from tierlab.tiers.overrides import OverrideSchedule, load_overrides
from tierlab.tiers.scheme import TierScheme
from tierlab.tiers.state import ReviewState, Rules, review_step

__all__ = ["run_scheme", "TierHistory", "cross_tiers", "load_overrides", "ResumePoint",
           "ReviewEvent"]


@dataclass(frozen=True)
class ReviewPlan:
    """When the reviews of a run happen and what data each one reads."""

    arrays: MonthlyArrays    # customer × month arrays up to the last review
    dates: pd.DatetimeIndex  # review dates (period ends)
    month_cols: np.ndarray   # per review: column of its last month in ``arrays``
    days: np.ndarray         # per review: the date in days since the epoch
    entry: np.ndarray        # per customer: index of the entry review

    @classmethod
    def of(cls, scheme: TierScheme, tx: pd.DataFrame, start: Any, end: Any) -> ReviewPlan:
        if len(tx) == 0:
            raise DataError("no transactions to run the scheme on")
        end_ts = pd.Timestamp(tx["timestamp"].max() if end is None else end).normalize()
        if end is not None:
            stop = (end_ts + pd.Timedelta(days=1)).to_datetime64()
            tx = tx.loc[tx["timestamp"].to_numpy() < stop]
            if len(tx) == 0:
                raise ArgumentError(f"end={end} is before the first transaction; give a later "
                                    "end, or none for the data's last date")
        step = FREQS[scheme.review]
        end_month = end_ts.year * 12 + end_ts.month - 1
        last_review_month = end_month // step * step + step - 1
        fields = fields_needed([leaf for t in scheme.tiers for leaf in metric_leaves(t.when)])
        arr = monthly_arrays(tx, end=period_end(np.array([last_review_month]), "M")[0],
                             fields=fields)
        first_period = int(arr.months[0]) // step
        if start is not None:
            s = pd.Timestamp(start)
            first_period = max(first_period, (s.year * 12 + s.month - 1) // step)
        periods = np.arange(first_period, last_review_month // step + 1)
        if periods.size == 0:
            raise ArgumentError(f"start={start} is after the last review period; give an "
                                "earlier start, or none for the data's first period")
        dates = period_end(periods * step, scheme.review)
        first_month = (arr.first_day.astype("datetime64[D]").astype("datetime64[M]")
                       .astype(np.int64) + 1970 * 12)
        return cls(arrays=arr, dates=dates,
                   month_cols=periods * step + step - 1 - arr.months[0],
                   days=(dates.asi8 // DAY_NS).astype(np.int64),
                   entry=np.clip(first_month // step - first_period, 0, None).astype(np.int32))


@dataclass(frozen=True)
class ResumePoint:
    """A committed state to continue from (the tier register's last review).

    ``state`` holds the customers ``customer_ids`` after the review ``review``; its review
    numbers (``review_step``'s ``t``) count periods of the scheme's frequency from ``origin``,
    an absolute period number (month number // months per period), so they stay valid when
    the next run's data starts elsewhere.
    """

    review: pd.Timestamp
    customer_ids: pd.Index
    state: ReviewState
    origin: int


@dataclass(frozen=True)
class ReviewEvent:
    """One review of a run, as :func:`run_scheme` hands it to ``on_review``.

    ``state`` is the live state after the review (later reviews change it: copy what you
    keep); ``changes`` holds this review's changes (their ``review`` is ``index``).
    """

    index: int                  # position in ``reviews``
    reviews: pd.DatetimeIndex   # every review of the run
    number: int                 # the review number ``t`` the state's indices count in
    origin: int                 # absolute period number of review number 0
    customer_ids: pd.Index
    state: ReviewState
    qualified: np.ndarray       # L_t (-1 before entry)
    metrics: ReviewMetrics
    changes: ChangeLog


def period_number(day: pd.Timestamp, review: str) -> int:
    """Absolute number of the review period containing ``day`` (month number // step)."""
    return (day.year * 12 + day.month - 1) // FREQS[review]


def _resume(plan: ReviewPlan, scheme: TierScheme, state: ReviewState,
            resume: ResumePoint) -> tuple[int, int, np.ndarray]:
    """Load ``resume`` into ``state``; the first review to step, the offset, the entries."""
    ids = plan.arrays.customer_ids
    pos = ids.get_indexer(resume.customer_ids)
    if (pos < 0).any():
        missing = resume.customer_ids[pos < 0]
        raise DataError(f"{len(missing):,} customer(s) of the committed state are not in the "
                        f"transactions (e.g. {missing[0]!r}); give the full transaction log")
    for f in fields(ReviewState):  # every per-customer array, whatever the state holds
        mine, theirs = getattr(state, f.name), getattr(resume.state, f.name)
        if mine.shape[:-1] != theirs.shape[:-1]:
            raise ArgumentError(f"resume: state field {f.name!r} has shape {theirs.shape}, "
                                f"the scheme needs {mine.shape[:-1]} per customer")
        mine[..., pos] = theirs
    t0 = int(plan.dates.searchsorted(resume.review, side="right"))
    entry = plan.entry.copy()
    entered = state.tier >= 0
    entry[entered] = np.minimum(entry[entered], t0 - 1)      # in already: no second entry
    entry[~entered & (entry < t0)] = t0                      # new to the state: enter now
    offset = period_number(plan.dates[0], scheme.review) - resume.origin
    return t0, offset, entry


# long: the run's loop with its resume hook (state loaded, recorder warmed up, events)
def run_scheme(scheme: TierScheme, tx: pd.DataFrame, customers: pd.DataFrame | None = None,
               overrides: pd.DataFrame | str | os.PathLike[str] | None = None,
               start: Any = None, end: Any = None, *,
               score_edges: ScoreEdges | None = None,
               resume: ResumePoint | None = None,
               on_review: Callable[[ReviewEvent], None] | None = None) -> TierHistory:
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
        ``tx``. :func:`tierlab.run_partitioned` passes the global cut points.
    resume : ResumePoint, optional
        Continue from a committed state: the reviews up to ``resume.review`` are not stepped
        (their tiers read -1 in the result) and the next ones continue from ``resume.state``.
        Customers of the data not in the state enter at the first review stepped.
    on_review : callable, optional
        Called with a :class:`ReviewEvent` after each review stepped.

    Returns
    -------
    TierHistory
    """
    check_transactions(tx, "run")
    plan = ReviewPlan.of(scheme, tx, start, end)
    ids = plan.arrays.customer_ids
    n, R = len(ids), len(plan.dates)
    evaluator = Evaluator(scheme, ids, customers)
    schedule = OverrideSchedule.build(overrides, scheme.tier_names, ids)
    rules = Rules.of(scheme)
    state = ReviewState.start(n, rules)
    # figures of the reviews that decide a change: a streak cannot be longer than the run, so
    # the change log's memory is bounded by the run (like the codes), not by the streak lengths
    width = int(min(max(rules.promote_after.max(), rules.demote_after, 1), R))
    recorder = ChangeRecorder(scheme.metric_keys(), width, n)
    codes = np.full((R, n), -1, dtype=np.int8)  # review-major while running
    qualified = np.full((R, n), -1, dtype=np.int8)
    t0, offset, entry = 0, 0, plan.entry
    origin = period_number(plan.dates[0], scheme.review)
    if resume is not None:
        t0, offset, entry = _resume(plan, scheme, state, resume)
        origin = resume.origin
    for t in range(max(0, t0 - width + 1), t0):  # the figures the next reasons quote
        recorder.observe(t, ReviewMetrics(plan.arrays, int(plan.month_cols[t]),
                                          int(plan.days[t]), entry <= t, score_edges))
    for t in range(t0, R):
        entered = entry <= t
        metrics = ReviewMetrics(plan.arrays, int(plan.month_cols[t]), int(plan.days[t]),
                                entered, score_edges)
        qualified[t] = np.where(entered, evaluator.qualified(metrics), np.int8(-1))
        fixed, notes = (None, None) if schedule is None else schedule.at(plan.dates[t], n)
        step = review_step(state, t + offset, qualified[t], entry == t, rules, fixed)
        recorder.observe(t, metrics)
        before = len(recorder.chunks)
        recorder.record(t, step, notes)
        codes[t] = state.tier
        if on_review is not None:
            log = (recorder.chunks[-1] if len(recorder.chunks) > before
                   else ChangeLog.empty(recorder.keys, width))
            on_review(ReviewEvent(t, plan.dates, t + offset, origin, ids, state,
                                  qualified[t], metrics, log))
    return TierHistory(scheme, ids, plan.dates, np.ascontiguousarray(codes.T),
                       np.ascontiguousarray(qualified.T), recorder.log(), plan.arrays)
