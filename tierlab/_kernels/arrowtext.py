"""Text columns kept as Arrow strings from the file reader to the value parsers.

Why it exists: Arrow's CSV reader produces Arrow string columns; converting every column to
pandas' own strings would copy the whole file once more. The loader keeps the Arrow columns
(:data:`ARROW_TEXT_TYPES` as the ``types_mapper``), parses them in Arrow without a copy
(:func:`arrow_strings`), and converts only the columns it outputs (:func:`arrow_text_as_str`).

Pinned by ``tests/io/test_reading.py::test_encodings_are_detected`` (other columns come out as
pandas ``str``, values as read) and ``tests/io/test_values.py::test_amount_styles`` (Arrow-backed
``str`` and ``object`` columns give the same amounts).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["ARROW_TEXT_TYPES", "arrow_strings", "arrow_text_as_str", "is_arrow_text",
           "take_rows"]

#: ``types_mapper`` for :meth:`pyarrow.Table.to_pandas`: strings stay Arrow strings.
ARROW_TEXT_TYPES = {pa.string(): pd.ArrowDtype(pa.string())}


def arrow_strings(s: pd.Series) -> pa.ChunkedArray | None:
    """The pyarrow array behind a pandas text column (``str`` or Arrow strings; no copy).

    None when *s* is not Arrow-backed text.
    """
    if not is_arrow_text(s.dtype):
        return None
    arr = s.array.__arrow_array__()
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def is_arrow_text(dtype: Any) -> bool:
    """Whether *dtype* is pandas ``str`` on pyarrow or an Arrow (large_)string dtype."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype) or
                                                 pa.types.is_large_string(dtype.pyarrow_dtype))


def arrow_text_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    """Arrow string columns of a raw file as pandas ``str`` (what the loader outputs)."""
    text = [c for c, t in zip(frame.columns, frame.dtypes, strict=True)
            if isinstance(t, pd.ArrowDtype) and is_arrow_text(t)]
    if not text:
        return frame
    return frame.astype(dict.fromkeys(text, "str"))


def take_rows(arr: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """``arr.take(rows)``, chunk by chunk.

    Arrow's own take of a ChunkedArray first joins the chunks into one copy of the whole
    column, which a 10M-row id column cannot afford at the loader's peak.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if arr.num_chunks <= 1 or not len(rows):
        return arr.take(pa.array(rows, type=pa.int64()))
    order = None
    if bool(np.any(rows[1:] < rows[:-1])):
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
    starts = np.cumsum([0] + [len(c) for c in arr.chunks], dtype=np.int64)
    bounds = np.searchsorted(rows, starts)
    pieces = [chunk.take(pa.array(rows[bounds[i]:bounds[i + 1]] - starts[i], type=pa.int64()))
              for i, chunk in enumerate(arr.chunks) if bounds[i + 1] > bounds[i]]
    out = pa.chunked_array(pieces, type=arr.type)
    if order is None:
        return out
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    # the result's own rows: joining them costs the size of the result, not of the column
    return pa.chunked_array([out.combine_chunks().take(pa.array(back, type=pa.int64()))])
