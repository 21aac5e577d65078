"""What a review commit must satisfy: the order of reviews and the rows it writes.

Everything here is vectorized over customers and touches no database: :class:`Register`
reads what it needs (the committed review dates, the previous state) and calls these checks.

The contract of ``Register.commit_review(review_date, scheme, state_frame, changes_frame)``:

- ``review_date`` is the end of one of ``scheme``'s review periods. The first review of a
  register may be any such date; afterwards it must be the first period end of ``scheme``'s
  frequency after the last committed review (:func:`next_due`). A committed date is a no-op
  (``committed=False``), an earlier one or a gap is refused.
- ``state_frame``: one row per customer holding a tier after the review, columns
  :data:`STATE_COLUMNS`. ``tier`` and ``qualified`` are tier names of ``scheme``; ``since`` a
  date not after the review; the three counters whole numbers ≥ 0 (0 when absent);
  ``streaks`` opaque text (compact JSON) the engine reads back as it wrote it. Any other
  column is refused, so no contact detail can be stored.
- ``changes_frame``: this review's changes, at most one per customer, columns
  :data:`CHANGE_COLUMNS`. ``to_tier`` equals the customer's tier in ``state_frame``;
  ``direction`` is ``new`` exactly when ``from_tier`` is empty.
- Continuity with the last committed review: its customers are all still there; a customer
  whose tier differs has a change from the committed tier; a customer new to the register has
  a ``new`` change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from tierlab.calendar import as_day, period_end
from tierlab.errors import ArgumentError, DataError
from tierlab.register.backend import to_arrow
from tierlab.register.schema import COLUMNS
from tierlab.tiers.scheme import TierScheme

__all__ = ["CommitResult", "STATE_COLUMNS", "CHANGE_COLUMNS", "scheme_hash", "scheme_text",
           "data_fingerprint", "review_timestamp", "next_due", "state_rows", "change_rows",
           "figure_rows", "check_continuity"]

#: Columns a state frame may have (customer_id and tier are required).
STATE_COLUMNS = ("customer_id", "tier", "since", "qualified", "promote_streak",
                 "demote_streak", "grace_left", "streaks")
#: Columns a changes frame may have (from_tier, reason_zh and review are optional).
CHANGE_COLUMNS = ("customer_id", "review", "from_tier", "to_tier", "direction", "rule",
                  "reason", "reason_zh")
DIRECTIONS = ("new", "up", "down")
RULES = ("initial", "promotion", "demotion", "override")
_FREQ_WORD = {"M": "monthly", "Q": "quarterly", "H": "half-yearly", "Y": "yearly"}


@dataclass(frozen=True)
class CommitResult:
    """What :meth:`Register.commit_review` did.

    Attributes
    ----------
    review_date : Timestamp
    committed : bool
        False when the review was already committed (nothing was written).
    message : str
        One sentence for the log or the command line.
    customers, changes : int
        Rows written (0 when nothing was committed).
    scheme_changed : bool
        The scheme differs (by content hash) from the previous review's.
    """

    review_date: pd.Timestamp
    committed: bool
    message: str
    customers: int = 0
    changes: int = 0
    scheme_changed: bool = False


# --------------------------------------------------------------------------- identities
def scheme_text(scheme: TierScheme) -> str:
    """The scheme as canonical YAML (keys sorted): what the register stores and hashes."""
    return yaml.safe_dump(scheme.to_dict(), allow_unicode=True, sort_keys=True)


def scheme_hash(scheme: TierScheme) -> str:
    """SHA-256 of :func:`scheme_text`: equal for files that differ only in layout/comments."""
    return hashlib.sha256(scheme_text(scheme).encode("utf-8")).hexdigest()


def data_fingerprint(tx: pd.DataFrame) -> str:
    """A short fingerprint of a transaction table, independent of row and column order.

    Parameters
    ----------
    tx : DataFrame
        Transactions (any columns).

    Returns
    -------
    str
        ``"<rows>:<24 hex digits>"``; equal tables give equal fingerprints.
    """
    cols = sorted(map(str, tx.columns))
    frame = tx.set_axis(list(map(str, tx.columns)), axis=1)[cols]
    rows = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
    digest = hashlib.blake2b(digest_size=12)
    digest.update(json.dumps(cols).encode("utf-8"))
    digest.update(rows.tobytes())
    return f"{len(tx)}:{digest.hexdigest()}"


# --------------------------------------------------------------------------- order
def review_timestamp(review_date: object, scheme: TierScheme) -> pd.Timestamp:
    """``review_date`` as a Timestamp, checked to be the end of one of the scheme's periods."""
    ts = as_day(review_date, "review_date", error=ArgumentError)
    month = ts.year * 12 + ts.month - 1
    end = period_end(np.array([month]), scheme.review)[0]
    if ts != end:
        raise ArgumentError(
            f"review_date={ts.date()} is not the end of a {_FREQ_WORD[scheme.review]} review "
            f"period of scheme {scheme.name!r}; the review of that period is {end.date()}")
    return pd.Timestamp(end)


def next_due(last: pd.Timestamp, scheme: TierScheme) -> pd.Timestamp:
    """The first review of ``scheme``'s frequency after the review ``last``."""
    month = last.year * 12 + last.month  # the month after ``last``
    return pd.Timestamp(period_end(np.array([month]), scheme.review)[0])


# --------------------------------------------------------------------------- rows
def _with_id_column(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(f"{what} must be a DataFrame, got {type(frame).__name__}")
    if "customer_id" not in frame.columns and frame.index.name == "customer_id":
        frame = frame.reset_index()
    return frame


def _columns(frame: pd.DataFrame, what: str, allowed: tuple[str, ...],
             required: tuple[str, ...]) -> None:
    unknown = [str(c) for c in frame.columns if c not in allowed]
    if unknown:
        raise ArgumentError(f"{what}: unknown column(s) {unknown}; it takes {list(allowed)} "
                            "(the register stores nothing else, contact details least of all)")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ArgumentError(f"{what}: missing column(s) {missing}; it needs {list(required)}")


def _ids(frame: pd.DataFrame, what: str) -> pd.Series:
    ids = frame["customer_id"]
    bad = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if bad.any():
        raise DataError(f"{what}: row {int(np.flatnonzero(bad)[0]) + 1}: customer_id is empty")
    ids = ids.astype(str)
    dup = ids.duplicated().to_numpy()
    if dup.any():
        raise DataError(f"{what}: customer {ids.iloc[int(np.flatnonzero(dup)[0])]!r} appears "
                        "twice; one row per customer")
    return ids


def _in(values: pd.Series, names: list[str] | tuple[str, ...], what: str, col: str,
        nullable: bool = False) -> pd.Series:
    s = values.astype(object)
    bad = ~s.isin(list(names)).to_numpy()
    if nullable:
        bad &= s.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{what}: row {row + 1}: {col} {s.iloc[row]!r} is not one of "
                        f"{list(names)}")
    return s.where(s.notna(), None)


def _counts(frame: pd.DataFrame, col: str, what: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(0, index=frame.index, dtype=np.int64)
    num = pd.to_numeric(frame[col], errors="coerce")
    bad = (num.isna() | (num < 0) | (num != np.floor(num))).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{what}: row {row + 1}: {col} must be a whole number ≥ 0, got "
                        f"{frame[col].iloc[row]!r}")
    return num.astype(np.int64)


def state_rows(state: pd.DataFrame, review: pd.Timestamp, scheme: TierScheme) -> pa.Table:
    """Validate a state frame → the ``tier_state`` rows of the review."""
    what = "state_frame"
    state = _with_id_column(state, what)
    _columns(state, what, STATE_COLUMNS, ("customer_id", "tier"))
    if len(state) == 0:
        raise DataError(f"{what}: no customers; a review holds every customer with a tier")
    out = pd.DataFrame({"review_date": review, "customer_id": _ids(state, what)})
    names = scheme.tier_names
    out["tier"] = _in(state["tier"], names, what, "tier")
    out["qualified"] = (_in(state["qualified"], names, what, "qualified", nullable=True)
                        if "qualified" in state.columns else None)
    since = (pd.to_datetime(state["since"], errors="coerce") if "since" in state.columns
             else pd.Series(pd.NaT, index=state.index))
    late = (since > review).to_numpy()
    if late.any():
        row = int(np.flatnonzero(late)[0])
        raise DataError(f"{what}: row {row + 1}: since {since.iloc[row].date()} is after the "
                        f"review {review.date()}")
    out["since"] = since
    for col in ("promote_streak", "demote_streak", "grace_left"):
        out[col] = _counts(state, col, what)
    out["streaks"] = (state["streaks"].astype(object).where(state["streaks"].notna(), None)
                      if "streaks" in state.columns else None)
    return to_arrow(out.reset_index(drop=True), COLUMNS["tier_state"])


def change_rows(changes: pd.DataFrame, review: pd.Timestamp, scheme: TierScheme,
                state: pa.Table) -> pa.Table:
    """Validate a changes frame against the review's state → the ``changes`` rows."""
    what = "changes_frame"
    changes = _with_id_column(changes, what)
    _columns(changes, what, CHANGE_COLUMNS,
             ("customer_id", "to_tier", "direction", "rule", "reason"))
    ids = _ids(changes, what)
    if "review" in changes.columns:
        other = (pd.to_datetime(changes["review"]) != review).to_numpy()
        if other.any():
            row = int(np.flatnonzero(other)[0])
            raise DataError(f"{what}: row {row + 1}: review {changes['review'].iloc[row]} is "
                            f"not the review being committed ({review.date()})")
    direction = _in(changes["direction"], DIRECTIONS, what, "direction")
    rule = _in(changes["rule"], RULES, what, "rule")
    to_tier = _in(changes["to_tier"], scheme.tier_names, what, "to_tier")
    from_tier = (changes["from_tier"].astype(object) if "from_tier" in changes.columns
                 else pd.Series(None, index=changes.index, dtype=object))
    from_tier = from_tier.where(from_tier.notna(), None)
    incoherent = ((direction == "new").to_numpy() != from_tier.isna().to_numpy())
    if incoherent.any():
        row = int(np.flatnonzero(incoherent)[0])
        raise DataError(f"{what}: row {row + 1}: direction 'new' goes with an empty from_tier "
                        f"and only with it (got {direction.iloc[row]!r}, from_tier "
                        f"{from_tier.iloc[row]!r})")
    state_ids = pd.Index(state.column("customer_id").to_pandas())
    pos = state_ids.get_indexer(ids)
    if (pos < 0).any():
        row = int(np.flatnonzero(pos < 0)[0])
        raise DataError(f"{what}: row {row + 1}: customer {ids.iloc[row]!r} has a change but "
                        "no state in state_frame")
    state_tier = state.column("tier").to_numpy(zero_copy_only=False)[pos]
    wrong = to_tier.to_numpy() != state_tier
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        raise DataError(f"{what}: row {row + 1}: customer {ids.iloc[row]!r} changes to "
                        f"{to_tier.iloc[row]!r} but state_frame gives tier "
                        f"{state_tier[row]!r}")
    reason = changes["reason"]
    if reason.isna().any():
        row = int(np.flatnonzero(reason.isna().to_numpy())[0])
        raise DataError(f"{what}: row {row + 1}: reason is empty")
    out = pd.DataFrame({"review_date": review, "customer_id": ids, "from_tier": from_tier,
                        "to_tier": to_tier, "direction": direction, "rule": rule,
                        "reason": reason.astype(str)})
    out["reason_zh"] = changes["reason_zh"] if "reason_zh" in changes.columns else None
    return to_arrow(out.reset_index(drop=True), COLUMNS["changes"])


def figure_rows(figures: pd.DataFrame | None, review: pd.Timestamp,
                state: pa.Table) -> pa.Table:
    """Validate per-customer metric figures (customer_id + numeric columns) → long rows."""
    kinds = COLUMNS["figures"]
    if figures is None:
        return to_arrow(pd.DataFrame({c: [] for c in kinds}), kinds)
    what = "figures"
    figures = _with_id_column(figures, what)
    if "customer_id" not in figures.columns:
        raise ArgumentError(f"{what}: needs a customer_id column and one column per metric")
    ids = _ids(figures, what)
    id_text = pa.array(ids.to_numpy(dtype=object), type=pa.string())
    unknown = ~pc.is_in(id_text, value_set=state.column("customer_id").combine_chunks()
                        ).to_numpy(zero_copy_only=False)
    if unknown.any():
        raise DataError(f"{what}: customer {ids.iloc[int(np.flatnonzero(unknown)[0])]!r} is "
                        "not in state_frame")
    metrics = [str(c) for c in figures.columns if c != "customer_id"]
    values = figures.drop(columns="customer_id").set_axis(metrics, axis=1)
    non_numeric = [m for m in metrics if not pd.api.types.is_numeric_dtype(values[m])]
    if non_numeric:
        raise DataError(f"{what}: column(s) {non_numeric} are not numeric")
    # the long rows built in Arrow (takes, no Python strings): millions of rows per review
    n, m = len(ids), len(metrics)
    day = np.full(n * m, np.datetime64(review.date(), "D"))
    return pa.Table.from_arrays([
        pa.array(day, type=pa.date32()),
        id_text.take(pa.array(np.repeat(np.arange(n), m))),
        pa.array(metrics, type=pa.string()).take(pa.array(np.tile(np.arange(m), n))),
        pa.array(values.to_numpy(dtype=float).reshape(-1), type=pa.float64(), from_pandas=True),
    ], names=list(kinds))


def _take(values: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``values[pos]`` with None where ``pos`` is -1 (not found)."""
    padded = np.empty(len(values) + 1, dtype=object)  # the last slot (index -1) stays None
    padded[:-1] = values
    return padded[pos]


def check_continuity(state: pa.Table, changes: pa.Table, previous: pd.DataFrame,
                     review: pd.Timestamp, last: pd.Timestamp | None) -> None:
    """The review continues from the committed state ``previous`` (customer_id, tier).

    Every customer of the previous review is still there; a customer whose tier differs has a
    change from the previous tier; a customer new to the register has a ``new`` change.
    """
    what = f"review {review.date()}"
    ids = state.column("customer_id").to_pandas()
    tier = state.column("tier").to_numpy(zero_copy_only=False)
    ch_ids = pd.Index(changes.column("customer_id").to_pandas())
    prev_ids = pd.Index(previous["customer_id"])
    gone = ~prev_ids.isin(ids)
    if gone.any():
        raise DataError(f"{what}: customer {prev_ids[gone][0]!r} had a tier at the review "
                        f"{last.date() if last is not None else ''} and has none now; a review "
                        "holds every customer of the previous one")
    prev_pos = prev_ids.get_indexer(ids)
    ch_pos = ch_ids.get_indexer(ids)
    prev_tier = _take(previous["tier"].to_numpy(dtype=object), prev_pos)
    ch_dir = _take(changes.column("direction").to_numpy(zero_copy_only=False), ch_pos)
    ch_from = _take(changes.column("from_tier").to_numpy(zero_copy_only=False), ch_pos)
    new = prev_pos < 0
    bad_new = new & (ch_dir != "new")
    if bad_new.any():
        raise DataError(f"{what}: customer {ids.iloc[np.flatnonzero(bad_new)[0]]!r} is new to "
                        "the register but has no change with direction 'new'")
    moved = ~new & (tier != prev_tier)
    unexplained = moved & (ch_pos < 0)
    if unexplained.any():
        i = int(np.flatnonzero(unexplained)[0])
        raise DataError(f"{what}: customer {ids.iloc[i]!r} moves from {prev_tier[i]!r} to "
                        f"{tier[i]!r} without a row in changes_frame")
    mismatch = ~new & (ch_pos >= 0) & (ch_from != prev_tier)
    if mismatch.any():
        i = int(np.flatnonzero(mismatch)[0])
        at = last.date() if last is not None else "the last review"
        raise DataError(f"{what}: customer {ids.iloc[i]!r}: changes_frame says from "
                        f"{ch_from[i]!r}, but the committed tier at {at} is {prev_tier[i]!r}; "
                        "the review must continue from the committed state")
