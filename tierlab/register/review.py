"""The scheduled review: the next due review(s) from the last committed state, each committed.

:func:`run_review` is :meth:`Register.review <tierlab.register.Register.review>`. It reads the
last committed review and its state (:mod:`tierlab.register.state_codec`), runs the engine from
there (:func:`~tierlab.tiers.engine.run_scheme` with a
:class:`~tierlab.tiers.engine.ResumePoint`) up to ``until``, and commits each review as the
engine reaches it, in its own transaction (:meth:`Register.commit_review`). Committing one
review at a time or many in one call gives the tiers, changes and reasons of one run over the
same data (the incremental-equals-replay property of the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tierlab.calendar import FREQS, as_day, period_end
from tierlab.errors import ArgumentError, DataError
from tierlab.frames import check_transactions
from tierlab.register import commit as rules
from tierlab.register.backend import to_arrow
from tierlab.register.commit import CommitResult
from tierlab.register.errors import RegisterError
from tierlab.register.schema import COLUMNS
from tierlab.register.state_codec import decode_state, encode_streaks
from tierlab.tiers.engine import ReviewEvent, run_scheme
from tierlab.tiers.reasons import sentences
from tierlab.tiers.scheme import TierScheme
from tierlab.tiers.state import ReviewState, Rules

if TYPE_CHECKING:  # pragma: no cover
    from tierlab.register.register import Register

__all__ = ["ReviewOutcome", "run_review", "rebuild_into", "last_complete_review", "due_reviews",
           "state_frame", "figures_frame"]


@dataclass(frozen=True)
class ReviewOutcome:
    """What :meth:`Register.review` did (or, with ``dry_run``, would do).

    Attributes
    ----------
    results : tuple of CommitResult
        One per review computed, in order (``committed=False`` on a dry run).
    changes : DataFrame
        The tier changes of those reviews (``TierHistory.changes`` columns).
    dry_run : bool
    message : str
        One paragraph for the log: what was committed, or why nothing was.
    counters_restarted : int
        Customers whose streak counters restarted (the scheme's tiers or frequency changed,
        or the committed state had no counters); 0 normally.
    notes : tuple of str
        Sentences about the run worth a log line (counters restarted, a new scheme).
    """

    results: tuple[CommitResult, ...]
    changes: pd.DataFrame
    dry_run: bool
    message: str
    counters_restarted: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def committed(self) -> int:
        """Number of reviews written."""
        return sum(r.committed for r in self.results)


def last_complete_review(tx: pd.DataFrame, scheme: TierScheme) -> pd.Timestamp | None:
    """The last review period end on or before the data's last date (None: no full period)."""
    last = pd.Timestamp(tx["timestamp"].max()).normalize()
    step = FREQS[scheme.review]
    month = last.year * 12 + last.month - 1
    end = pd.Timestamp(period_end(np.array([month]), scheme.review)[0])
    if end > last:
        end = pd.Timestamp(period_end(np.array([month // step * step - 1]), scheme.review)[0])
    first = pd.Timestamp(tx["timestamp"].min())
    return end if end >= pd.Timestamp(period_end(np.array(
        [first.year * 12 + first.month - 1]), scheme.review)[0]) else None


def due_reviews(last: pd.Timestamp, until: pd.Timestamp, scheme: TierScheme) -> list[pd.Timestamp]:
    """The reviews of ``scheme`` after ``last`` up to ``until`` (inclusive), in order."""
    out: list[pd.Timestamp] = []
    day = rules.next_due(last, scheme)
    while day <= until:
        out.append(day)
        day = rules.next_due(day, scheme)
    return out


def _until(tx: pd.DataFrame, scheme: TierScheme, until: object | None) -> pd.Timestamp:
    complete = last_complete_review(tx, scheme)
    if until is None:
        if complete is None:
            raise DataError("the transactions do not cover a whole review period yet; "
                            "nothing to review")
        return complete
    ts = as_day(until, "until", error=ArgumentError)
    month = ts.year * 12 + ts.month - 1
    end = pd.Timestamp(period_end(np.array([month]), scheme.review)[0])
    if end > ts:  # until inside a period: that period is not complete at ``until``
        end = pd.Timestamp(period_end(np.array([month // FREQS[scheme.review]
                                                * FREQS[scheme.review] - 1]), scheme.review)[0])
    return end


# --------------------------------------------------------------------------- rows
def _counters(state: ReviewState, rows: np.ndarray, number: int,
              rules_: Rules) -> dict[str, np.ndarray]:
    """The readable counters of the ``tier_state`` columns, from the fields the state has.

    ``promote_streak``: reviews in a row qualifying for the next tier; ``demote_streak``:
    reviews in a row below the tier; ``grace_left``: reviews before a demotion may happen.
    The engine reads back ``streaks`` only; these columns are for people and SQL.
    """
    n = len(rows)
    out = {k: np.zeros(n, dtype=np.int64) for k in ("promote_streak", "demote_streak",
                                                    "grace_left")}
    tier = state.tier[rows].astype(np.int64)
    runs = getattr(state, "run_at_least", None)
    if isinstance(runs, np.ndarray) and runs.ndim == 2:
        nxt = np.minimum(tier + 1, runs.shape[0] - 1)
        out["promote_streak"] = np.where(tier + 1 < runs.shape[0], runs[nxt, rows], 0)
    below = getattr(state, "run_below", None)
    if isinstance(below, np.ndarray) and below.ndim == 1:
        out["demote_streak"] = below[rows].astype(np.int64)
    last = getattr(state, "last_promotion", None)
    if isinstance(last, np.ndarray) and last.ndim == 1:
        out["grace_left"] = np.clip(rules_.grace_reviews - (number - last[rows].astype(np.int64)),
                                    0, None)
    return out


def state_frame(event: ReviewEvent, scheme: TierScheme, since: np.ndarray) -> pd.DataFrame:
    """The ``state_frame`` of :meth:`Register.commit_review` after the review ``event``."""
    rows = np.flatnonzero(event.state.tier >= 0)
    names = np.array(scheme.tier_names, dtype=object)
    qualified = event.qualified[rows]
    frame = pd.DataFrame({
        "customer_id": event.customer_ids.to_numpy(dtype=object)[rows],
        "tier": names[event.state.tier[rows]],
        "qualified": np.where(qualified >= 0, names[np.maximum(qualified, 0)], None),
        "since": since[rows],
        **_counters(event.state, rows, event.number, Rules.of(scheme)),
    })
    frame["streaks"] = encode_streaks(event.state, rows, event.origin).to_numpy(
        zero_copy_only=False)
    return frame


def figures_frame(event: ReviewEvent, scheme: TierScheme) -> pd.DataFrame | None:
    """The metric figures of the review (one column per metric the scheme tests)."""
    keys = scheme.metric_keys()
    if not keys:
        return None
    rows = np.flatnonzero(event.state.tier >= 0)
    out = pd.DataFrame({"customer_id": event.customer_ids.to_numpy(dtype=object)[rows]})
    for metric, window in keys:
        out[metric if window is None else f"{metric}_{window}"] = np.asarray(
            event.metrics.value(metric, window), dtype=float)[rows]
    return out


# --------------------------------------------------------------------------- the run
class _Stop(Exception):
    """Another process committed one of our reviews meanwhile: stop the run."""


def _committed(reg: Register) -> tuple[pd.Timestamp | None, TierScheme | None,
                                       pd.DataFrame | None, pd.DataFrame]:
    """Last review, its scheme and state, and the overrides: one connection."""
    import yaml

    state_kinds = {k: v for k, v in COLUMNS["tier_state"].items() if k != "review_date"}
    ov_kinds = {"customer_id": "str", "tier": "str", "valid_from": "date",
                "valid_until": "date", "reason": "str"}
    with reg.session() as db:
        rows = db.rows("SELECT review_date, scheme_text, scheme_source FROM reviews "
                       "ORDER BY review_date DESC LIMIT 1")
        overrides = db.frame(f"SELECT {', '.join(ov_kinds)} FROM overrides ORDER BY id",
                             ov_kinds).rename(columns={"valid_from": "from",
                                                       "valid_until": "until"})
        if not rows:
            return None, None, None, overrides
        frame = db.frame(f"SELECT {', '.join(state_kinds)} FROM tier_state "
                         "WHERE review_date = ?", state_kinds, (rows[0][0],))
    last = pd.Timestamp(rows[0][0])
    source = rows[0][2] or f"{reg.where} (review {last.date()})"
    return last, TierScheme.from_dict(yaml.safe_load(rows[0][1]), source=source), frame, overrides


# long: plans the reviews, runs the engine once, commits (or previews) each review it reaches
def run_review(reg: Register, tx: pd.DataFrame, scheme: TierScheme, until: object | None = None,
               *, dry_run: bool = False, customers: pd.DataFrame | None = None,
               ran_by: str | None = None) -> ReviewOutcome:
    """Compute and commit the next due review(s) up to ``until``; see :meth:`Register.review`."""
    if not isinstance(scheme, TierScheme):
        raise ArgumentError(f"scheme must be a TierScheme, got {type(scheme).__name__}")
    check_transactions(tx, "review")
    end = _until(tx, scheme, until)
    last, committed, frame, overrides = _committed(reg)
    empty = pd.DataFrame(columns=["customer_id", "review", "from_tier", "to_tier", "direction",
                                  "rule", "reason"])
    if last is not None and last >= end:
        what = (f"review {end.date()} is already committed" if last == end else
                f"the register is at review {last.date()}, after {end.date()}")
        return ReviewOutcome((), empty, dry_run,
                             f"{reg.where}: {what}; nothing to do (up to date)")
    due = due_reviews(last, end, scheme) if last is not None else None
    if last is not None and due == []:
        return ReviewOutcome((), empty, dry_run,
                             f"{reg.where}: up to date at review {last.date()}; the next "
                             f"review {rules.next_due(last, scheme).date()} needs data through "
                             "that date")
    resume, restarted, why = None, 0, ""
    if last is not None and committed is not None and frame is not None:
        decoded = decode_state(frame, last, committed, scheme)
        resume, restarted, why = decoded.resume, decoded.restarted, decoded.why
    first_due = due[0] if due else None
    if first_due is not None:
        start_of_data = pd.Timestamp(tx["timestamp"].min())
        if start_of_data > first_due:
            raise DataError(f"the transactions start on {start_of_data.date()}, after the "
                            f"next due review {first_due.date()}; give the full transaction "
                            "log (the rules read past months)")
    fingerprint = rules.data_fingerprint(tx)
    results: list[CommitResult] = []
    changes: list[pd.DataFrame] = []
    since_day: np.ndarray | None = None

    def on_review(event: ReviewEvent) -> None:
        nonlocal since_day
        day = event.reviews[event.index]
        if since_day is None:  # the last change of each customer, as a date
            since_day = np.full(len(event.customer_ids), np.datetime64("NaT"), "datetime64[ns]")
            if resume is not None and frame is not None:
                pos = event.customer_ids.get_indexer(resume.customer_ids)
                since_day[pos] = pd.to_datetime(frame["since"]).to_numpy("datetime64[ns]")
        since_day[event.changes.customer] = day.to_datetime64()
        ch = event.changes.frame(scheme, event.customer_ids, event.reviews,
                                 np.arange(len(event.changes)))
        changes.append(ch)  # the outcome shows the changes as TierHistory.changes does
        zh = sentences(event.changes, scheme, event.reviews, np.arange(len(event.changes)),
                       lang="zh")
        ch = ch.assign(reason_zh=pd.array(zh, dtype="str"))  # committed for notifications
        state = state_frame(event, scheme, since_day)
        if dry_run:
            results.append(CommitResult(day, False, f"{reg.where}: review {day.date()} would "
                                        f"commit {len(state):,} customers, {len(ch):,} "
                                        "changes (dry run: nothing written)",
                                        len(state), len(ch)))
            return
        res = reg.commit_review(day, scheme, state, ch, data_fingerprint=fingerprint,
                                ran_by=ran_by, figures=figures_frame(event, scheme))
        results.append(res)
        if not res.committed:
            raise _Stop

    try:
        run_scheme(scheme, tx, customers=customers,
                   overrides=overrides if len(overrides) else None, end=end, resume=resume,
                   on_review=on_review)
    except _Stop:
        raise RegisterError(f"{reg.where}: another process committed review "
                            f"{results[-1].review_date.date()} while this one ran; nothing "
                            "more written. Run the review again to continue from it") from None
    notes = [] if not restarted else [f"streak counters restarted for {restarted:,} "
                                      f"customer(s): {why}"]
    if any(r.scheme_changed for r in results):
        notes.append(f"new scheme {scheme.name!r} applies from review "
                     f"{results[0].review_date.date()}")
    done = "would commit" if dry_run else "committed"
    span = [r.review_date.date().isoformat() for r in results]
    msg = (f"{reg.where}: {done} "
           + (f"review {span[0]}" if len(span) == 1 else
              f"{len(span)} reviews {span[0]} … {span[-1]}" if span else "no review")
           + f", {sum(r.changes for r in results):,} changes"
           + "".join(f"; {n}" for n in notes))
    all_changes = pd.concat(changes, ignore_index=True) if changes else empty
    return ReviewOutcome(tuple(results), all_changes, dry_run, msg, restarted, tuple(notes))


def rebuild_into(reg: Register, new: Register, tx: pd.DataFrame, scheme: TierScheme,
                 until: object | None = None, *, customers: pd.DataFrame | None = None,
                 ran_by: str | None = None) -> tuple[Register, ReviewOutcome]:
    """Replay every review with ``scheme`` into the empty register ``new``.

    See :meth:`Register.rebuild`: overrides and notes are copied; ``reg`` is not written.
    """
    if new.where == reg.where:
        raise ArgumentError(f"rebuild: the new register {reg.where} is this one; give a new "
                            "path (committed reviews are never rewritten)")
    last = new.last_review()
    if last is not None:
        raise ArgumentError(f"rebuild: {new.where} already holds reviews (the last "
                            f"{last.date()}); give a new path")
    for name in ("overrides", "notes"):
        kinds = {k: v for k, v in COLUMNS[name].items() if k != "id"}
        with reg.session() as db:
            rows = db.frame(f"SELECT {', '.join(kinds)} FROM {name} ORDER BY id", kinds)
        if len(rows):
            with new.session() as db:
                db.begin()
                db.insert(name, to_arrow(rows, kinds))
                db.commit()
    return new, run_review(new, tx, scheme, until, customers=customers, ran_by=ran_by)
