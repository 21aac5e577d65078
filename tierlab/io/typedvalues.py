"""Typed column values to the loader's arrays: ids, timestamps, numbers, shared keys.

The conversions behind :mod:`tierlab.io.typed`, one Arrow column (or one row group of it) at a
time, vectorised: ids hashed once (:mod:`tierlab._kernels.arrowkeys`) then stripped, checked
for null tokens and sorted per distinct id; timestamps to wall-clock ``datetime64[ns]`` with the
text parser's range; numbers to float64 with infinities unparseable. Pinned through the loader
by ``tests/io/test_typed.py`` (equal to the text path on the same data).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tierlab._kernels.arrowkeys import factorize_strings, in_id_order
from tierlab._kernels.memory import release_unused
from tierlab.io.values import null_tokens

__all__ = ["converted", "mix_keys", "shared_keys", "typed_ids", "typed_numbers",
           "typed_timestamps"]

# the nanosecond range, as the text parser bounds it (inclusive), in microseconds
_US_MIN = int(np.datetime64("1677-09-22", "us").astype(np.int64))
_US_MAX = int(np.datetime64("2262-04-11", "us").astype(np.int64))
_US_PER = {"s": 10**6, "ms": 10**3, "us": 1}
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
# odd multipliers mixing (customer, time) into one 64-bit value: equal pairs give equal values
# (collisions only add candidates, which are then compared exactly)
_MIX_C = np.uint64(0x9E3779B97F4A7C15)
_MIX_T = np.uint64(0xC2B2AE3D27D4EB4F)
_BLOCK = 1 << 20
_ROUND_MULTIPLIERS = [np.uint64(m) for m in (0x9FB21C651E98DF25, 0xD6E8FEB86659FD93,
                                             0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53,
                                             0x94D049BB133111EB, 0xBF58476D1CE4E5B9)]


def mix_keys(codes: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """One uint64 per row from (customer code, timestamp): equal pairs give equal values."""
    mixed = ts.view(np.uint64) * _MIX_T
    mixed ^= codes.astype(np.uint64) * _MIX_C
    return mixed




def typed_ids(arr: pa.ChunkedArray, workers: int = 2) -> tuple[np.ndarray, pa.Array, bool]:
    """Customer ids of a typed column: (integer codes, sorted ids, whether rows need rewriting).

    ``uniques[codes[i]]`` is row *i*'s id as the loader outputs it (decimal text for integers,
    surrounding whitespace removed), -1 when missing (null, empty or a null token). The third
    value is False when every usable row's id is already its output text (plain text ids).
    """
    t = arr.type
    plain = pa.types.is_string(t) or pa.types.is_large_string(t)
    if pa.types.is_dictionary(t):
        codes, raw = _dictionary_codes(arr)
        return _clean_ids(codes, raw, plain=False, in_order=False)
    if pa.types.is_integer(t):
        enc = pc.dictionary_encode(arr.combine_chunks())
        codes = enc.indices.fill_null(-1).to_numpy().astype(np.int32)
        return _clean_ids(codes, enc.dictionary.cast(pa.large_string()), plain=False,
                          in_order=False)
    found = factorize_strings(arr.fill_null("") if arr.null_count else arr, workers=workers)
    if found is None:  # ids longer than the fast path takes, or holding NUL bytes
        enc = pc.dictionary_encode(arr.cast(pa.large_string()).combine_chunks())
        codes = enc.indices.fill_null(-1).to_numpy().astype(np.int32)
        return _clean_ids(codes, enc.dictionary, plain=plain, in_order=False)
    codes, raw = in_id_order(found, np.int32)
    del found
    release_unused()
    # int32 codes: what the factorize cache holds (rfm takes them without a copy)
    return _clean_ids(codes, raw.cast(pa.large_string()), plain=plain, in_order=True)


def converted(pieces: Iterator[pa.ChunkedArray], n: int, convert: Any
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``convert`` (values, missing, bad) applied piece by piece into arrays of *n* rows."""
    values = missing = bad = None
    pos = 0
    for piece in pieces:
        v, m, b = convert(piece)
        if values is None:
            values = np.empty(n, dtype=v.dtype)
            missing = np.zeros(n, dtype=bool)
            bad = np.zeros(n, dtype=bool)
        assert missing is not None and bad is not None
        values[pos:pos + len(v)] = v
        missing[pos:pos + len(v)] = m
        bad[pos:pos + len(v)] = b
        pos += len(v)
    assert values is not None and missing is not None and bad is not None and pos == n
    return values, missing, bad


def _dictionary_codes(arr: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Row codes into one dictionary for a dictionary-encoded column (chunk by chunk)."""
    chunks = [c for c in arr.chunks if len(c)]
    words = [c.dictionary.cast(pa.large_string()) for c in chunks]
    merged = pc.dictionary_encode(pa.concat_arrays(words) if words
                                  else pa.array([], type=pa.large_string()))
    remap = merged.indices.to_numpy().astype(np.int32)
    codes = np.full(len(arr), -1, dtype=np.int32)
    pos = start = 0
    for chunk, w in zip(chunks, words, strict=True):
        idx = chunk.indices.fill_null(-1).to_numpy().astype(np.int64)
        part = remap[start:start + len(w)]
        codes[pos:pos + len(chunk)] = np.where(idx < 0, -1, part[np.maximum(idx, 0)])
        pos += len(chunk)
        start += len(w)
    return codes, merged.dictionary


def _clean_ids(codes: np.ndarray, raw: pa.Array, *, plain: bool, in_order: bool
               ) -> tuple[np.ndarray, pa.Array, bool]:
    """Strip the distinct ids, drop null tokens, sort; renumber the row codes to match."""
    raw = raw.cast(pa.large_string())
    words = pc.utf8_trim_whitespace(raw)
    usable = pc.invert(null_tokens(words))  # a null token in any case is a missing id
    usable_np = usable.to_numpy(zero_copy_only=False)
    same = pc.equal(words, raw).to_numpy(zero_copy_only=False)
    if in_order and usable_np.all() and same.all():  # clean text ids, the usual case
        return codes, raw, not plain
    uniques = pc.unique(words.filter(usable))
    uniques = uniques.take(pc.sort_indices(uniques))
    where = pc.index_in(words, value_set=uniques).fill_null(-1).to_numpy().astype(np.int32)
    where[~usable_np] = -1
    lookup = np.append(where, -1).astype(np.int32)  # code -1 stays -1
    rewrite = not plain or not bool((same | ~usable_np).all())
    return lookup[codes], uniques, rewrite


def typed_timestamps(arr: pa.ChunkedArray, tz: str | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Typed timestamps → (datetime64[ns] wall-clock values, missing, out of range)."""
    t = arr.type
    if pa.types.is_date(t):
        arr = arr.cast(pa.date32()).cast(pa.timestamp("s"))
    elif t.tz is not None:
        # the wall-clock time in the column's zone, or in tz when given (then naive)
        if tz is not None:
            arr = arr.cast(pa.timestamp(t.unit, tz=tz))
        arr = pc.local_timestamp(arr)
    unit = arr.type.unit
    missing = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
    values = arr.cast(pa.int64()).fill_null(0).to_numpy()
    if unit == "ns":
        bad = np.zeros(len(values), dtype=bool)
        out = values if values.flags.writeable else values.copy()
    else:
        per = _US_PER[unit]
        bad = (values < -(-_US_MIN // per)) | (values > _US_MAX // per)
        out = np.where(bad, 0, values) * _NS_PER[unit]
    if missing is None:
        missing = np.zeros(len(values), dtype=bool)
    out[missing | bad] = np.iinfo(np.int64).min  # NaT
    return out.view("datetime64[ns]"), missing, bad & ~missing


def typed_numbers(arr: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numeric column → (float64 values, missing, infinite); -0.0 stored as 0.0."""
    if not pa.types.is_float64(arr.type):
        arr = arr.cast(pa.float64())
    values = arr.to_numpy()  # nulls → NaN
    if not values.flags.writeable:
        values = values.copy()
    missing = np.isnan(values)
    bad = np.isinf(values)
    if bad.any():
        values[bad] = np.nan
    values += 0.0
    return values, missing, bad


def shared_keys(keys: np.ndarray) -> np.ndarray | None:
    """Positions of the *keys* (uint64) some other key may equal; None when none can.

    Rounds of counting by hash bucket (``np.bincount``, no hash table): a key alone in its
    bucket is unique and dropped; equal keys always share a bucket, so they stay, and with a
    fresh multiplier each round the unique keys left shrink geometrically.
    """
    pos: np.ndarray | None = None
    bits = max(16, min(22, int(len(keys)).bit_length()))  # 8 bytes a bucket: at most 32 MiB
    for mult in _ROUND_MULTIPLIERS:
        bucket = ((keys * mult) >> np.uint64(64 - bits)).astype(np.int64)
        counts = np.bincount(bucket, minlength=1 << bits)
        shared = counts[bucket] > 1
        del bucket, counts
        before = len(keys)
        keys = keys[shared]
        pos = np.flatnonzero(shared) if pos is None else pos[shared]
        if not len(keys):
            return None
        if len(keys) == before:  # what is left shares keys (or buckets no round splits)
            break
    assert pos is not None
    return pos
