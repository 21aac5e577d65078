"""Per-customer aggregates on integer codes, without sorting the rows.

Why: ``groupby`` on millions of rows sorts or hashes the whole frame for every aggregate. Here
ids are factorized once (:mod:`tierlab._kernels.factorize`), sums are ``np.bincount``,
first/last dates ``np.minimum.at`` / ``np.maximum.at``, and distinct counts a flag or bit array
over (customer, value) cells, falling back to hashing when that array would be large; rows are
taken in blocks where per-row temporaries would be large. ``tests/features/test_kernels.py``
checks each branch (flags, bits, hashing, tiny blocks) against the plain pandas computation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tierlab._kernels.factorize import factorize
from tierlab.calendar import epoch_days32

__all__ = ["BIG", "BLOCK", "keep_before", "rows_before", "min_max", "distinct_counts",
           "order_counts", "counts", "sums"]

#: "No value" of :func:`min_max` (``BIG`` for a minimum, ``-BIG`` for a maximum).
BIG = np.iinfo(np.int64).max
#: Dense (customer, value) flag arrays are used up to max(rows × this, 2**24) cells …
FLAG_CELLS_PER_ROW = 4
#: … bit arrays up to max(rows × this, 2**24) bytes; beyond that, distinct pairs are hashed.
BIT_BYTES_PER_ROW = 16
#: Flag cells set in one pass of :func:`distinct_counts`: more groups take several passes over
#: the rows (a range of groups each), so the flag array stays at 8 MiB.
FLAG_PASS_CELLS = 1 << 23
#: Rows per block where per-row temporaries are built in blocks.
BLOCK = 1 << 20
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def keep_before(tx: pd.DataFrame, end: pd.Timestamp) -> np.ndarray | None:
    """Mask of rows before ``end`` (exclusive), or None when every row is."""
    ts = tx["timestamp"]
    if len(ts) == 0 or ts.max() < end:
        return None
    return ts.to_numpy() < end.to_datetime64()


def rows_before(tx: pd.DataFrame, stop: pd.Timestamp | None, *, compact: bool = False
                ) -> tuple[np.ndarray | None, np.ndarray, pd.Index, np.ndarray, np.ndarray]:
    """Rows before ``stop`` (all when None): (mask or None, customer codes, ids, amounts, days).

    ``compact=True``: int32 codes (see :func:`~tierlab._kernels.factorize.factorize`).
    """
    keep = None if stop is None else keep_before(tx, stop)
    codes, ids = factorize(tx["customer_id"], keep, compact=compact)
    amount = tx["amount"].to_numpy(dtype="float64")
    day = epoch_days32(tx["timestamp"])
    if keep is not None:
        amount, day = amount[keep], day[keep]
    return keep, codes, ids, amount, day


def counts(codes: np.ndarray, n: int) -> np.ndarray:
    """Rows per group: ``np.bincount(codes, minlength=n)`` in blocks of rows.

    NumPy's bincount copies read-only input (the factorize cache's codes are read-only) and
    always copies weighted input, 8 bytes a row; blocks bound that temporary.
    """
    if len(codes) <= BLOCK:
        return np.bincount(codes, minlength=n)
    out = np.zeros(n, dtype=np.intp)
    for i in range(0, len(codes), BLOCK):
        out += np.bincount(codes[i:i + BLOCK], minlength=n)
    return out


def sums(codes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Per-group sums of float ``weights``: ``np.bincount(codes, weights, n)`` in row blocks.

    See :func:`counts`.
    """
    if len(codes) <= BLOCK:
        return np.bincount(codes, weights=weights, minlength=n)
    out = np.zeros(n)
    for i in range(0, len(codes), BLOCK):
        out += np.bincount(codes[i:i + BLOCK], weights=weights[i:i + BLOCK], minlength=n)
    return out


def min_max(codes: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group minimum and maximum of integer ``values``, as int64 (``±BIG`` if empty)."""
    info = np.iinfo(values.dtype)
    lo = np.full(n, info.max, dtype=values.dtype)
    hi = np.full(n, info.min, dtype=values.dtype)
    for i in range(0, len(codes), BLOCK):  # blocks: ufunc.at copies its index arrays
        np.minimum.at(lo, codes[i:i + BLOCK], values[i:i + BLOCK])
        np.maximum.at(hi, codes[i:i + BLOCK], values[i:i + BLOCK])
    empty = hi < lo
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    lo[empty], hi[empty] = BIG, -BIG
    return lo, hi


def distinct_counts(codes: np.ndarray, values: np.ndarray, n: int, n_values: int) -> np.ndarray:
    """Per group, the number of distinct ``values`` (ints in ``0 .. n_values-1``).

    Sets a flag (or a bit) per (group, value) cell and counts them per group; the rows are
    taken in blocks so that the cell numbers of only one block exist at a time. When the cell
    array would be large, distinct (group, value) pairs are found by hashing instead.
    """
    rows = len(codes)
    cells = n * n_values
    if rows == 0:
        return np.zeros(n, dtype=np.int64)
    if cells <= max(rows * FLAG_CELLS_PER_ROW, 1 << 24):
        span = max(1, FLAG_PASS_CELLS // max(n_values, 1))  # groups per pass
        out = np.empty(n, dtype=np.int64)
        for g0 in range(0, n, span):
            g1 = min(n, g0 + span)
            flags = np.zeros((g1 - g0) * n_values, dtype=bool)
            for i in range(0, rows, BLOCK):  # blocks of rows, to bound the temporaries
                c, v = codes[i:i + BLOCK], values[i:i + BLOCK]
                if span < n:  # this pass's groups only
                    sel = (c >= g0) & (c < g1)
                    c, v = c[sel], v[sel]
                flags[(c.astype(np.int64) - g0) * n_values + v] = True
            out[g0:g1] = np.count_nonzero(flags.reshape(g1 - g0, n_values), axis=1)
            del flags
        return out
    stride = -(-n_values // 8)  # bytes per group
    if n * stride <= max(rows * BIT_BYTES_PER_ROW, 1 << 24):
        bits: np.ndarray = np.zeros(n * stride, dtype=np.uint8)
        one = np.uint8(1)
        for i in range(0, rows, BLOCK):
            pos = codes[i:i + BLOCK].astype(np.int64) * (stride * 8) + values[i:i + BLOCK]
            np.bitwise_or.at(bits, pos >> 3, np.left_shift(one, (pos & 7).astype(np.uint8)))
        bits = bits.reshape(n, stride)
        out = np.empty(n, dtype=np.int64)
        step = max(1, BLOCK // stride)
        for g in range(0, n, step):  # blocks of groups: popcount without a full-size copy
            block = bits[g:g + step]
            count = np.bitwise_count(block) if hasattr(np, "bitwise_count") else _POPCOUNT[block]
            out[g:g + step] = count.sum(axis=1, dtype=np.int64)
        return out
    key = codes.astype(np.int64) * n_values + values
    first = ~pd.Series(key).duplicated().to_numpy()
    return np.bincount(codes[first], minlength=n)


def order_counts(purchase: np.ndarray, order_id: Any, group: np.ndarray, n_groups: int, *,
                 keep: np.ndarray | None = None, bins: np.ndarray | None = None,
                 n_bins: int | None = None) -> np.ndarray:
    """Orders per group: distinct order ids among purchase rows (rows without id count one).

    ``purchase`` and ``group`` describe the rows kept by ``keep`` (all rows when None); the
    ``order_id`` column is the full one. With ``bins`` (a coarser grouping, one per kept row),
    each group's count is added to its bin instead: ``n_bins`` totals.
    """
    out_group = group if bins is None else bins
    n_out = n_groups if n_bins is None else n_bins
    if order_id is None:
        if purchase.all():
            return counts(out_group, n_out)
        return counts(out_group[purchase], n_out)
    if not isinstance(order_id, pd.Series):
        order_id = pd.Series(np.asarray(order_id, dtype=object))
    ocode, oids = factorize(order_id.reset_index(drop=True), keep, sort=False)
    has_id = purchase & (ocode >= 0)
    no_id = purchase & (ocode < 0)
    n_o = max(len(oids), 1)
    if n_groups * n_o < 2**62:
        key = group[has_id].astype(np.int64) * n_o + ocode[has_id]
        first = ~pd.Series(key).duplicated().to_numpy()
    else:  # pragma: no cover - needs > 2**62 (group, order) cells
        first = ~pd.DataFrame({"g": group[has_id], "o": ocode[has_id]}).duplicated().to_numpy()
    return np.add(np.bincount(out_group[has_id][first], minlength=n_out),
                  np.bincount(out_group[no_id], minlength=n_out))
