"""Loading a clean CSV file in one typed pass: Arrow parses the dates and amounts while reading.

The general loader reads every value of a text file as text and parses it afterwards; for a
clean export that is most of its time. :func:`load_typed_csv` asks Arrow's CSV reader for the
canonical types instead — ``customer_id`` and the other columns as text, ``timestamp`` as an
ISO timestamp (``2025-03-01``, ``2025-03-01 14:30:00[.123]``, ``T`` allowed: what the text
path's one-pass conversion accepts too), ``amount`` and ``quantity`` as numbers — and hands the
table to the typed path (:mod:`tierlab.io.typed`): validation, duplicate order lines and the
frame, without a Python loop over rows.

It is only a shortcut for files the general loader would accept whole. It steps aside (returns
None, and the general loader reads the file as text, as it always has) when:

- any value does not convert (another date style, ``1,234.50``, ``NA`` in a number column, a
  date with a UTC offset, ...);
- any row would be rejected (missing id, a NaN or infinite amount, duplicate order line, ...):
  rejected rows are reported with their values as read, which only the text path keeps;
- the file is not plain UTF-8 (another or an explicit non-UTF-8 encoding, a UTF-16 BOM, bytes
  that are not UTF-8), has no header line, a ``date_format`` is given, the separator is a
  regular expression, or its rows and lines do not add up (a value spanning lines, blank
  lines, a quote never closed, a ragged row).

So a clean file costs one typed read; a file with problems costs that read (often cut short by
the first value that does not convert) and then the general load. The result equals the
general loader's on the same file: ``tests/io/test_typedcsv.py`` pins data, summary and
rejected rows on clean and dirty files.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tierlab.errors import DataError
from tierlab.io.columns import TRANSACTION_COLUMNS, resolve_columns
from tierlab.io.encodings import binary_kind, physical_lines
from tierlab.io.reading import RawTable, sniff_sep
from tierlab.io.typed import load_typed_table

__all__ = ["load_typed_csv"]

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
_SNIFF_BYTES = 1 << 16
_COUNT_BLOCK = 1 << 22
_NUMBERS = ("amount", "quantity")


def load_typed_csv(
    source: Any,
    columns: Mapping[str, str | int] | None,
    *,
    sep: str | None,
    encoding: str | None,
    date_format: str | None,
    header: bool,
    tz: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]] | None:
    """``(data, rejected, summary)`` of a clean CSV file read with typed columns, or None.

    None whenever the general loader has to read the file (see the module documentation);
    never raises for a file the general loader would read.
    """
    if not isinstance(source, str | Path) or date_format is not None or not header:
        return None
    try:
        if encoding is not None and codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
            return None
    except LookupError:  # the general loader names the unknown encoding
        return None
    path = Path(source).expanduser()
    suffix = path.suffix.lower()
    if suffix not in _TEXT_SUFFIXES or not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return None
    if not head.strip() or binary_kind(head) is not None or head.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    sample = head.decode("utf-8", errors="replace").lstrip("\ufeff")  # as the text path
    if sep is None:
        sep = "\t" if suffix == ".tsv" else sniff_sep(sample, truncated=len(head) == _SNIFF_BYTES)
    if len(sep) != 1:
        return None
    label = f"'{path}'"
    try:
        names = [str(n) for n in pd.read_csv(path, sep=sep, nrows=0,
                                             encoding="utf-8-sig").columns]
        colmap = resolve_columns(pd.Index(names), columns, TRANSACTION_COLUMNS,
                                 ("customer_id", "timestamp", "amount"), label, header_row=True)
    except (DataError, pd.errors.ParserError, ValueError, UnicodeError, OSError):
        return None  # the general loader says what is wrong
    if len(set(names)) != len(names):
        return None
    table = _read_typed(path, sep, names, colmap)
    if table is None:
        return None
    # Arrow reads blocks cut at line breaks: a quote never closed, or a value spanning lines at
    # a block's end, can lose rows silently. Every physical line must be the header or a row
    # (blank lines and values spanning lines then go to the text path, which handles them).
    quotes, lines = _quotes_and_lines(path)
    if quotes % 2 or table.num_rows + 1 != lines:
        return None
    raw = RawTable(pd.DataFrame(), label, str(path), "text", encoding=encoding or "utf-8",
                   sep=sep)
    try:
        # one thread hashes the ids: the reader has just kept every core busy, and on a shared
        # machine the second thread's merge costs more CPU than it saves time
        loaded = load_typed_table(table, columns, raw, tz=tz, id_workers=1)
    except DataError:  # a whole column unusable: the general loader words it
        return None
    if loaded is None or len(loaded[1]):
        return None
    return loaded


def _read_typed(path: Path, sep: str, names: list[str], colmap: dict[str, int]
                ) -> pa.Table | None:
    """The file with the canonical types (None when a value does not convert)."""
    types: dict[str, pa.DataType] = {f"f{i}": pa.string() for i in range(len(names))}
    types[f"f{colmap['timestamp']}"] = pa.timestamp("ns")
    for name in _NUMBERS:
        if name in colmap:
            types[f"f{colmap[name]}"] = pa.float64()
    try:  # Arrow's own pool: the reader's many small blocks are slow with the system one
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8", skip_rows=1,
                                           column_names=list(types)),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""],
                                                 strings_can_be_null=True),
        )
    except (pa.ArrowException, OSError, UnicodeError, ValueError):
        return None
    return table.rename_columns(names)


def _quotes_and_lines(path: Path) -> tuple[int, int]:
    """How many ``"`` the file holds and its physical lines (4 MiB blocks, NumPy)."""
    quotes = newlines = 0
    last = b""
    buf = bytearray(_COUNT_BLOCK)
    view = np.frombuffer(buf, dtype=np.uint8)
    with path.open("rb") as fh:
        while size := fh.readinto(buf):
            block = view[:size]
            quotes += int(np.count_nonzero(block == 34))
            newlines += int(np.count_nonzero(block == 10))
            last = bytes(buf[size - 1:size])
    return quotes, physical_lines(newlines, last)
