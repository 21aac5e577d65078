"""Customer (and order) ids to integer codes, hashing Arrow string buffers directly.

Why: every feature aggregate runs on integer codes, and ``pd.factorize`` on millions of text
ids is the slowest step of a pipeline. When the column is Arrow-backed its string buffers are
hashed as fixed-width keys (:mod:`tierlab._kernels.arrowkeys`), and the last column factorized
is remembered through a weak reference, because a pipeline asks for the same id column several
times (``period_panel``, then the tier engine). Pinned by ``tests/features/test_kernels.py``
(codes equal ``pd.factorize`` for every id shape, the fallbacks, the cache's identity rules).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import pandas as pd

from tierlab._kernels.arrowkeys import factorize_strings, in_id_order

__all__ = ["arrow_strings", "factorize", "from_hashed", "remember", "restrict"]

# weak reference to the Arrow id column factorized last, and its (read-only) result
_LAST_FACTORIZED: list[Any] = [None, None]


def arrow_strings(s: pd.Series) -> Any:
    """The Arrow (large_)string ChunkedArray behind ``s``, or None for other storage."""
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        pass
    elif isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        if not (pa.types.is_string(dtype.pyarrow_dtype)
                or pa.types.is_large_string(dtype.pyarrow_dtype)):
            return None
    else:
        return None
    arr = s.array.__arrow_array__()
    if not hasattr(arr, "chunks"):
        import pyarrow as pa

        arr = pa.chunked_array([arr])
    return arr


def _factorize_cached(arr: Any) -> Any:
    """:func:`factorize_strings` on two threads, remembering the last column it saw.

    Arrow arrays are immutable and pandas replaces, never edits, the array behind a column, so
    the same array object means the same ids. The reference is weak (nothing is kept alive) and
    the cached codes are read-only.
    """
    ref, cached = _LAST_FACTORIZED
    if ref is not None and ref() is arr:
        return cached
    res = factorize_strings(arr, workers=2)
    if res is not None:
        for part in res:
            if isinstance(part, np.ndarray):
                part.flags.writeable = False
        _LAST_FACTORIZED[:] = [weakref.ref(arr), res]
    return res


def remember(s: pd.Series, codes: np.ndarray, uniques: Any) -> None:
    """Record that the Arrow ids behind ``s`` factorize to ``codes`` and sorted ``uniques``.

    For a producer that has hashed the ids already (the loader): the next ``factorize(s)``
    (``rfm``, ``period_panel``, the engine) then takes them from the cache instead of hashing
    the column again. ``uniques[codes[i]]`` must be row *i*'s id, ``uniques`` sorted and every
    one of them used; nothing is recorded when ``s`` is not Arrow-backed text.
    """
    arr = arrow_strings(s)
    if arr is None:
        return
    codes = np.asarray(codes, dtype=np.int32)  # compact: the cache holds 4 bytes a row
    codes.flags.writeable = False  # handed out as is (no copy): read-only
    _LAST_FACTORIZED[:] = [weakref.ref(arr), (codes, uniques, None)]


def factorize(s: Any, keep: np.ndarray | None = None, *, sort: bool = True, cache: bool = True,
              workers: int = 1, compact: bool = False) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(s[keep], sort=sort)``: intp codes and the unique values as an Index.

    ``s`` is a Series or an Arrow string ChunkedArray (read straight from a file; its ids come
    back as ``str``). ``keep`` (a boolean mask) restricts the rows; the codes returned are for
    those rows only. ``cache=False`` skips the one-entry cache, for columns used only once;
    ``workers=2`` then hashes a large column on two threads. ``compact=True`` returns int32
    codes (the cache's own, without a copy), for callers whose kernels take them (the blocked
    ones of :mod:`tierlab._kernels.groupby`).
    """
    idt = np.int32 if compact else np.intp
    codes = None
    dtype: Any
    if isinstance(s, pd.Series):
        arr, dtype = arrow_strings(s), s.dtype
    else:
        arr, dtype = s, "str"
    if arr is not None:
        res = _factorize_cached(arr) if cache else factorize_strings(arr, workers=workers)
        if res is not None:
            codes, ids = from_hashed(res, dtype, sort=sort, compact=compact)
            del res
    if codes is None:
        codes, uniques = pd.factorize(s if isinstance(s, pd.Series) else s.to_pandas(),
                                      sort=sort)
        ids = pd.Index(uniques)
    return restrict(np.asarray(codes, dtype=idt), ids, keep)


def from_hashed(res: Any, dtype: Any, *, sort: bool = True, compact: bool = False
                ) -> tuple[np.ndarray, pd.Index]:
    """Codes and ids from a ``factorize_strings`` result, renumbered in id order if *sort*.

    The codes are intp, or int32 when *compact*.
    """
    idt = np.int32 if compact else np.intp
    codes, uniques = in_id_order(res, idt) if sort or res[2] is None else res[:2]
    return np.asarray(codes, dtype=idt), pd.Index(pd.array(uniques, dtype=dtype))


def restrict(codes: np.ndarray, ids: pd.Index,
             keep: np.ndarray | None) -> tuple[np.ndarray, pd.Index]:
    """Codes of the rows in ``keep``, renumbered over the ids those rows use."""
    if keep is None:
        return codes, ids
    codes = codes[keep]
    missing = codes < 0  # missing values (code -1) stay -1
    has_missing = bool(missing.any())
    present = np.bincount(codes[~missing] if has_missing else codes, minlength=len(ids)) > 0
    if not present.all():
        remap = np.cumsum(present, dtype=np.intp) - 1
        remap = remap.astype(codes.dtype, copy=False)
        codes = np.where(missing, -1, remap[codes]) if has_missing else remap[codes]
        ids = ids[present]
    return codes, ids
