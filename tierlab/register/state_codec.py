"""The engine's review state ↔ the register's ``tier_state`` rows, for any state fields.

Every per-customer array of :class:`~tierlab.tiers.state.ReviewState` (found with
:func:`dataclasses.fields`, so a new or renamed field needs no change here) is written; the
tier goes to the ``tier`` column, everything else into the ``streaks`` text column as one
compact JSON object per customer::

    {"o":24300,"since":3,"run_at_least":[0,2,1],"run_below":0,...}

``o`` is the absolute period number (month number // months per period) that the state's
review numbers count from (:class:`~tierlab.tiers.engine.ResumePoint`), so the indices stay
valid whatever data the next run starts from. Both directions are vectorised: the JSON text is
assembled with pyarrow's string kernels and read back with pyarrow's JSON reader, never with
a Python loop over customers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from tierlab.tiers.engine import ResumePoint, period_number
from tierlab.tiers.scheme import TierScheme
from tierlab.tiers.state import ReviewState, Rules

__all__ = ["STATE_FIELDS", "state_fields", "encode_streaks", "decode_state", "Decoded"]

#: ReviewState fields that have a column of their own (the others go into ``streaks``).
COLUMN_FIELDS = ("tier",)


def state_fields() -> list[str]:
    """Names of the ReviewState fields stored in ``streaks``."""
    return [f.name for f in fields(ReviewState) if f.name not in COLUMN_FIELDS]


STATE_FIELDS = state_fields()


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def encode_streaks(state: ReviewState, rows: np.ndarray, origin: int) -> pa.Array:
    """The ``streaks`` JSON text of the customers at positions ``rows`` (a string array)."""
    parts: list[pa.Array | str] = ['{"o":' + str(int(origin))]
    for name in STATE_FIELDS:
        arr = np.asarray(getattr(state, name))
        if arr.ndim == 1:
            parts += [f',"{name}":', _text(arr[rows])]
        else:  # (k, n): one JSON list per customer
            flat = arr.reshape(-1, arr.shape[-1])[:, rows]
            items: list[pa.Array | str] = []
            for j in range(flat.shape[0]):
                items += ([","] if j else []) + [_text(flat[j])]
            parts += [f',"{name}":[', *items, "]"]
    parts.append("}")
    if len(rows) == 0:
        return pa.array([], type=pa.string())
    return pc.binary_join_element_wise(*parts, "")


@dataclass(frozen=True)
class Decoded:
    """A committed state read back: a resume point, or why counting restarts."""

    resume: ResumePoint
    restarted: int    # customers whose counters restart (no compatible stored state)
    why: str          # "" when nothing restarts


def _read_json(text: pa.Array) -> pa.Table:
    """One JSON object per element → a table (pyarrow's reader, one C++ pass)."""
    nl = pa.scalar("\n", pa.large_string())
    lines = pc.binary_join_element_wise(pc.cast(text, pa.large_string()), nl,
                                        pa.scalar("", pa.large_string()))
    arr = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr)
                                                                + 1]
    data = arr.buffers()[2]
    body = data.to_pybytes()[int(offsets[0]):int(offsets[-1])] if data is not None else b""
    block = max(1 << 20, int(np.diff(offsets).max(initial=0)) * 2)
    return pj.read_json(io.BytesIO(body), read_options=pj.ReadOptions(block_size=block))


def decode_state(frame: pd.DataFrame, review: pd.Timestamp, committed: TierScheme,
                 scheme: TierScheme) -> Decoded:
    """The committed ``tier_state`` rows of ``review`` → where ``scheme``'s run continues.

    ``frame`` has the columns of :meth:`Register.state` (customer_id, tier, streaks, …).
    Counters continue when the stored state fits ``scheme`` (same tiers in the same order,
    same review frequency, same fields and shapes); otherwise every customer keeps the
    committed tier and the counting restarts as after a tier change. Customers without
    stored counters (a review committed by hand) restart too.
    """
    n = len(frame)
    rules = Rules.of(scheme)
    state = ReviewState.start(n, rules)
    names = scheme.tier_names
    codes = pd.Index(names).get_indexer(pd.Index(frame["tier"].to_numpy(dtype=object)))
    if (codes < 0).any():
        from tierlab.register.errors import RegisterError

        lost = sorted(set(frame["tier"][codes < 0].astype(str)))
        raise RegisterError(
            f"the committed review {review.date()} has customers in tier(s) {lost} that scheme "
            f"{scheme.name!r} does not have (its tiers: {names}); keep those tier names in the "
            "new scheme, or replay from scratch into a new register (--rebuild)")
    state.tier = codes.astype(state.tier.dtype)
    origin = period_number(review, scheme.review)
    why = ""
    if committed.tier_names != names:
        why = f"the tiers changed ({committed.tier_names} → {names})"
    elif committed.review != scheme.review:
        why = f"the review frequency changed ({committed.review} → {scheme.review})"
    stored = frame["streaks"].notna().to_numpy()
    if why or not stored.any():
        restarted = n
        why = why or "no stored counters"
    else:
        why, origin = _load(state, frame["streaks"].to_numpy(dtype=object), stored, origin)
        restarted = n if why else int((~stored).sum())
        if restarted and not why:
            why = f"{restarted:,} customer(s) have no stored counters"
    ids = pd.Index(frame["customer_id"].astype(str).to_numpy(dtype=object))
    return Decoded(ResumePoint(review, ids, state, origin), restarted, why)


def _load(state: ReviewState, text: np.ndarray, stored: np.ndarray,
          origin: int) -> tuple[str, int]:
    """Fill ``state`` from the stored JSON of the rows ``stored``; (why not, origin)."""
    table = _read_json(pa.array(text[stored], type=pa.string()))
    got = [c for c in table.column_names if c != "o"]
    if sorted(got) != sorted(STATE_FIELDS):
        return (f"the stored counters ({sorted(got)}) are not the ones this tierlab keeps "
                f"({sorted(STATE_FIELDS)})"), origin
    o = table.column("o").to_numpy()
    if len(np.unique(o)) != 1:
        return "the stored counters count reviews from different origins", origin
    rows = np.flatnonzero(stored)
    fresh = {name: np.asarray(getattr(state, name)).copy() for name in STATE_FIELDS}
    for name in STATE_FIELDS:
        target = fresh[name]
        col = table.column(name)
        if target.ndim == 1:
            if pa.types.is_list(col.type):
                return f"the stored {name!r} is a list; this tierlab keeps a number", origin
            target[rows] = col.to_numpy()
            continue
        if not pa.types.is_list(col.type):
            return f"the stored {name!r} is a number; this tierlab keeps a list", origin
        width = int(np.prod(target.shape[:-1]))
        lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
        flat = pc.list_flatten(col).to_numpy()
        if (lengths != width).any():
            return (f"the stored {name!r} holds a different number of values than the "
                    f"scheme needs ({width} per customer)"), origin
        target.reshape(width, -1)[:, rows] = flat.reshape(len(rows), width).T
    for name, values in fresh.items():
        setattr(state, name, values)
    return "", int(o[0])
