"""Loading a transaction source whose columns already have canonical types, without re-parsing.

A Parquet file, an Arrow table or a DataFrame whose ``timestamp`` is a timestamp or date column,
whose ``amount`` (and ``quantity``) is numeric and whose ``customer_id`` holds text, integers or
dictionary-encoded text/integers needs no text parsing: :func:`load_typed_transactions` goes
straight to validation — missing and unusable values, duplicate order lines, rejected rows with
their reasons — in Arrow and NumPy, without a Python loop over rows. The result is what the
general loader gives for the same data (``tests/io/test_typed.py`` pins it column by column,
rejected row by rejected row). Accepted rows keep the source's order, with a fresh RangeIndex.
A clean CSV read with typed columns (:mod:`tierlab.io.typedcsv`) comes here through
:func:`load_typed_table`.

The customer ids are hashed once here; the codes are handed to the features' factorize cache
(:func:`tierlab._kernels.factorize.remember`), so ``rfm(result.transactions)`` does not hash the
ids again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from tierlab._kernels.arrowtext import arrow_strings, arrow_text_as_str, take_rows
from tierlab._kernels.factorize import remember
from tierlab._kernels.memory import release_unused, system_memory_pool
from tierlab.errors import DataError
from tierlab.io.columns import TRANSACTION_COLUMNS, resolve_columns, unmapped_positions
from tierlab.io.ordering import reason_codes, sortable
from tierlab.io.reading import RawTable
from tierlab.io.summary import log_figures, summary_head
from tierlab.io.typedvalues import (
    converted,
    mix_keys,
    shared_keys,
    typed_ids,
    typed_numbers,
    typed_timestamps,
)
from tierlab.io.values import check_usable, parse_id, to_text

__all__ = ["load_typed_table", "load_typed_transactions"]

_BLOCK = 1 << 20
_PARQUET_SUFFIXES = (".parquet", ".pq")
_REQUIRED = ("customer_id", "timestamp", "amount")
_TEXT_OPTIONAL = ("order_id", "channel", "currency")


@dataclass
class _Source:
    """A typed source: its mapped columns one at a time, and its rows as read.

    ``whole`` is the source itself: an Arrow table, a DataFrame, or the path of a Parquet file
    (read one column at a time, so only the columns being converted are held; rows as read —
    rejected rows, other columns — are read again only when there are any).
    """

    whole: Any
    colmap: dict[str, int]
    names: list[str]
    raw: RawTable  # file, format and label for messages and the summary (frame unused)
    num_rows: int
    frame_arrays: dict[str, pa.ChunkedArray] | None = None  # DataFrame sources
    id_workers: int = 2  # threads hashing the ids (1: the source was read on every core)

    def column(self, name: str) -> pa.ChunkedArray:
        """The mapped column *name* (a canonical name) as an Arrow ChunkedArray."""
        if self.frame_arrays is not None:
            return self.frame_arrays[name]
        if isinstance(self.whole, pa.Table):
            return self.whole.column(self.colmap[name])
        return self._read([self.colmap[name]]).column(0)

    def chunks(self, name: str) -> Iterator[pa.ChunkedArray]:
        """The mapped column *name* piece by piece (one Parquet row group at a time)."""
        if not isinstance(self.whole, str | Path):
            # pieces of about _BLOCK rows: a CSV reader's many small blocks are joined, so the
            # per-piece work runs a few times, not hundreds
            col = self.column(name)
            if pa.types.is_dictionary(col.type):  # dictionaries differ chunk by chunk
                yield from (pa.chunked_array([c]) for c in col.chunks)
                return
            group: list[pa.Array] = []
            rows = 0
            for chunk in col.chunks:
                group.append(chunk)
                rows += len(chunk)
                if rows >= _BLOCK:
                    yield pa.chunked_array([pa.concat_arrays(group)])
                    group, rows = [], 0
            if group:
                yield pa.chunked_array([pa.concat_arrays(group)])
            return
        import pyarrow.parquet as pq

        try:
            f = pq.ParquetFile(self.whole)
            for i in range(f.num_row_groups):
                yield f.read_row_group(i, columns=[self.names[self.colmap[name]]]).column(0)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise DataError(f"{self.raw.label}: not a readable Parquet file ({exc})") from None

    def _read(self, positions: list[int]) -> pa.Table:
        import pyarrow.parquet as pq

        try:
            with system_memory_pool():
                return pq.read_table(self.whole, columns=[self.names[i] for i in positions])
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise DataError(f"{self.raw.label}: not a readable Parquet file ({exc})") from None

    def _empty(self, cols: list[int]) -> pd.DataFrame:
        if isinstance(self.whole, pa.Table):
            schema = self.whole.schema
        else:
            import pyarrow.parquet as pq

            schema = pq.read_schema(self.whole)
        part = schema.empty_table().select(cols).to_pandas()
        part.columns = [self.names[i] for i in cols]
        return arrow_text_as_str(part)

    def rows(self, positions: np.ndarray, columns: list[int] | None = None) -> pd.DataFrame:
        """Rows of the source as read (all columns, or those at *columns*), fresh index."""
        cols = list(range(len(self.names))) if columns is None else columns
        if not len(positions) and not isinstance(self.whole, pd.DataFrame):
            return self._empty(cols)
        if isinstance(self.whole, pd.DataFrame):
            part = self.whole.iloc[positions, cols].reset_index(drop=True)
        else:
            table = self.whole.select(cols) if isinstance(self.whole, pa.Table) else (
                self._read(cols) if cols else pa.table({}))
            if not cols:
                return pd.DataFrame(index=pd.RangeIndex(len(positions)))
            part = table.take(pa.array(positions, type=pa.int64())).to_pandas()
            part.columns = [self.names[i] for i in cols]
        return arrow_text_as_str(part)


def _id_type_ok(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)


def _number_type_ok(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _schema_is_typed(schema: pa.Schema, colmap: dict[str, int]) -> bool:
    types = {name: schema.field(pos).type for name, pos in colmap.items()}
    ts = types["timestamp"]
    return (_id_type_ok(types["customer_id"])
            and (pa.types.is_timestamp(ts) or pa.types.is_date(ts))
            and _number_type_ok(types["amount"])
            and ("quantity" not in types or _number_type_ok(types["quantity"])))


def _resolve(names: list[str], columns: Mapping[str, str | int] | None, label: str
             ) -> dict[str, int] | None:
    try:
        return resolve_columns(pd.Index(names), columns, TRANSACTION_COLUMNS, _REQUIRED, label)
    except DataError:  # the general loader reports it
        return None


def _open(source: Any, columns: Mapping[str, str | int] | None) -> _Source | None:
    """The typed source behind *source*, or None when it is not one."""
    if isinstance(source, pa.Table):
        names = [str(n) for n in source.column_names]
        colmap = _resolve(names, columns, "<Arrow table>")
        if colmap is None or not _schema_is_typed(source.schema, colmap):
            return None
        raw = RawTable(pd.DataFrame(), "<Arrow table>", "<Arrow table>", "arrow", row_base=0)
        return _Source(source, colmap, names, raw, source.num_rows)
    if isinstance(source, pd.DataFrame):
        return _open_frame(source, columns)
    if not isinstance(source, str | Path):
        return None
    path = Path(source).expanduser()
    if path.suffix.lower() not in _PARQUET_SUFFIXES or not path.is_file():
        return None
    import pyarrow.parquet as pq

    label = f"'{path}'"
    try:
        meta = pq.ParquetFile(path)
        schema = meta.schema_arrow
    except (pa.ArrowException, OSError, ValueError):
        return None  # the general loader reports it
    names = [str(n) for n in schema.names]
    if len(set(names)) != len(names):
        return None
    colmap = _resolve(names, columns, label)
    if colmap is None or not _schema_is_typed(schema, colmap):
        return None
    raw = RawTable(pd.DataFrame(), label, str(path), "parquet")
    return _Source(path, colmap, names, raw, meta.metadata.num_rows)


def _open_frame(frame: pd.DataFrame, columns: Mapping[str, str | int] | None) -> _Source | None:
    names = [str(n) for n in frame.columns]
    if len(set(names)) != len(names):
        return None
    colmap = _resolve(names, columns, "<DataFrame>")
    if colmap is None:
        return None
    arrays: dict[str, Any] = {}
    for name in (*_REQUIRED, "quantity"):
        if name not in colmap:
            continue
        s = frame.iloc[:, colmap[name]]
        if name == "customer_id":
            arr = arrow_strings(s)
            if arr is None and (pd.api.types.is_integer_dtype(s.dtype)
                                and not pd.api.types.is_bool_dtype(s.dtype)):
                arr = pa.chunked_array([pa.array(s)])
        elif name == "timestamp":
            typed = (isinstance(s.dtype, pd.DatetimeTZDtype)
                     or pd.api.types.is_datetime64_dtype(s.dtype))
            arr = pa.chunked_array([pa.array(s)]) if typed else None
        else:
            numeric = (pd.api.types.is_numeric_dtype(s.dtype)
                       and not pd.api.types.is_bool_dtype(s.dtype))
            arr = pa.chunked_array([pa.array(s, from_pandas=True)]) if numeric else None
        if arr is None:
            return None
        arrays[name] = arr
    raw = RawTable(pd.DataFrame(), "<DataFrame>", "<DataFrame>", "dataframe", row_base=0)
    return _Source(frame, colmap, names, raw, len(frame), frame_arrays=arrays)


def _read_ids(src: _Source) -> tuple[pa.ChunkedArray, tuple[np.ndarray, pa.Array, bool]]:
    """The id column (text as large_string, what pandas holds) and its :func:`typed_ids`."""
    pieces = []
    for piece in src.chunks("customer_id"):
        if pa.types.is_string(piece.type):
            piece = piece.cast(pa.large_string())  # one row group at a time
        pieces.extend(piece.chunks)
    if not pieces:
        arr = src.column("customer_id")
    else:
        arr = pa.chunked_array(pieces)
    return arr, typed_ids(arr, src.id_workers)


# --------------------------------------------------------------------------------------------
# the load
# --------------------------------------------------------------------------------------------


def load_typed_transactions(
    source: Any, columns: Mapping[str, str | int] | None, *, tz: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]] | None:
    """``(data, rejected, summary)`` of a typed source, or None when *source* is not one.

    *source* is typed when it is an Arrow table, a DataFrame or a ``.parquet`` file whose
    mapped ``customer_id`` holds text or integers (optionally dictionary-encoded),
    ``timestamp`` timestamps or dates and ``amount`` (and ``quantity``) numbers. Anything else
    (text columns, unreadable files, missing columns) is left to the general loader.

    Raises
    ------
    DataError
        The file cannot be read, or a whole column is unusable (as the general loader).
    """
    src = _open(source, columns)
    if src is None or src.num_rows == 0:
        return None
    return _load(src, tz)


def load_typed_table(table: pa.Table, columns: Mapping[str, str | int] | None, raw: RawTable,
                     *, tz: str | None, id_workers: int = 2
                     ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]] | None:
    """:func:`load_typed_transactions` of an Arrow *table* read from the file *raw* describes.

    For a file read with typed columns (:mod:`tierlab.io.typedcsv`): the summary names the
    file, format, encoding and separator of *raw*, and rejected rows are numbered from
    ``raw.row_base``. None when *table* has no rows or not the canonical types.
    """
    names = [str(n) for n in table.column_names]
    colmap = _resolve(names, columns, raw.label)
    if colmap is None or table.num_rows == 0 or not _schema_is_typed(table.schema, colmap):
        return None
    return _load(_Source(table, colmap, names, raw, table.num_rows, id_workers=id_workers), tz)


def _load(src: _Source, tz: str | None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The load of a typed source: validation, duplicate order lines, the frame, the summary."""
    n, label = src.num_rows, src.raw.label
    # the ids first (hashed on two threads), then the dates and amounts one row group at a
    # time: the hashing's working memory is gone before the other columns exist, which keeps
    # the peak near what the output needs; Arrow allocates from the system pool, so freed read
    # buffers go back to the OS
    with system_memory_pool():
        ids_arr, (codes, uniques, rewrite) = _read_ids(src)
        release_unused()
        ts, ts_missing, ts_bad = converted(src.chunks("timestamp"), n,
                                            lambda a: typed_timestamps(a, tz))
        amount, amount_missing, amount_bad = converted(src.chunks("amount"), n, typed_numbers)
    release_unused()
    for name, missing, bad, what, fix in (
        ("timestamp", ts_missing, ts_bad, "a date", "pass date_format='...'"),
        ("amount", amount_missing, amount_bad, "an amount",
         "check that the right column is mapped to 'amount'")):
        if bad.any() and not (~missing & ~bad).any():
            column = src.rows(np.arange(n), [src.colmap[name]]).iloc[:, 0]
            check_usable(label, src.names[src.colmap[name]], column, missing, bad, what, fix)
    checks: list[tuple[str, np.ndarray]] = [
        ("missing customer_id", codes < 0),
        ("missing timestamp", ts_missing),
        ("unparseable timestamp", ts_bad),
        ("missing amount", amount_missing),
        ("unparseable amount", amount_bad),
    ]
    parsed: dict[str, Any] = {}
    optional = _optional_columns(src, n, checks)
    parsed.update(optional)

    reasons = [name for name, _ in checks] + ["duplicate order line"]
    rcodes = reason_codes(n, [mask for _, mask in checks])
    del checks, ts_missing, ts_bad, amount_missing, amount_bad
    everyone = not rcodes.any()
    valid = None if everyone else np.flatnonzero(rcodes == 0)
    accepted, duplicates, identical = _ties(src, ids_arr, valid, codes, ts, amount, parsed)
    rcodes[duplicates] = len(reasons)
    release_unused()

    data, customers = _assemble(src, ids_arr, accepted, codes, uniques, rewrite, ts, amount,
                                parsed)
    del ts, amount, codes
    rejected = _rejected(src, rcodes, reasons)
    summary = summary_head(src.raw, n, len(data), rcodes, reasons)
    # the customers of the valid rows are those accepted: one copy of a duplicate is kept
    summary.update(log_figures(data, customers, identical))
    release_unused()  # what the threads freed stays in their malloc arenas until trimmed
    return data, rejected, summary


def _optional_columns(src: _Source, n: int, checks: list[tuple[str, np.ndarray]]
                      ) -> dict[str, Any]:
    """order_id, quantity, channel, currency as the general loader parses them."""
    parsed: dict[str, Any] = {}
    text = [name for name in _TEXT_OPTIONAL if name in src.colmap]
    frame = src.rows(np.arange(n), [src.colmap[name] for name in text]) if text else None
    if "order_id" in src.colmap:
        assert frame is not None
        parsed["order_id"] = parse_id(frame[src.names[src.colmap["order_id"]]])[0]
    if "quantity" in src.colmap:
        qty, qty_missing, qty_bad = typed_numbers(src.column("quantity"))
        if qty_bad.any() and not (~qty_missing & ~qty_bad).any():
            column = src.rows(np.arange(n), [src.colmap["quantity"]]).iloc[:, 0]
            check_usable(src.raw.label, src.names[src.colmap["quantity"]], column, qty_missing,
                         qty_bad, "a quantity",
                         "check that the right column is mapped to 'quantity'")
        parsed["quantity"] = qty
        checks.append(("unparseable quantity", qty_bad))
    for name in ("channel", "currency"):
        if name in src.colmap:
            assert frame is not None
            parsed[name] = to_text(frame[src.names[src.colmap[name]]])
    return parsed


def _ties(src: _Source, ids_arr: pa.ChunkedArray, valid: np.ndarray | None, codes: np.ndarray,
          ts: np.ndarray, amount: np.ndarray, parsed: dict[str, Any]
          ) -> tuple[np.ndarray | None, np.ndarray, int]:
    """Accepted rows in source order, duplicate order lines, identical rows kept.

    Only rows sharing (customer, timestamp) with another valid row can be either; they are
    found by hashing one mixed 64-bit value per row and compared exactly in a small frame,
    ordered (like the general loader) by the canonical values, the other columns, the values
    as read and finally the position, so the copy kept never depends on row order.
    """
    empty = np.empty(0, dtype=np.int64)
    everyone = valid is None
    if (len(codes) if valid is None else len(valid)) < 2:
        return valid, empty, 0
    t = ts.view(np.int64) if everyone else ts[valid].view(np.int64)
    pick: np.ndarray | None = None
    if bool(np.all(t[1:] >= t[:-1])):
        # in time order (the usual export): equal timestamps are neighbours, and only rows in
        # a run of equal timestamps can share (customer, timestamp)
        same = t[1:] == t[:-1]
        run = np.zeros(len(t), dtype=bool)
        run[1:] = same
        run[:-1] |= same
        del same
        pick = np.flatnonzero(run)
        del run
        if not len(pick):
            return valid, empty, 0
        t = t[pick]
    c = codes if everyone else codes[valid]
    mixed = mix_keys(c if pick is None else c[pick], t)
    del t, c
    shared = shared_keys(mixed)
    del mixed
    if shared is None:
        return valid, empty, 0
    if pick is not None:
        shared = pick[shared]
    rows = shared if valid is None else valid[shared]
    canonical = ["c", "t", "amount", *[k for k in ("order_id", "quantity", "channel",
                                                   "currency") if k in parsed]]
    cols: dict[str, Any] = {"c": codes[rows], "t": ts[rows], "amount": amount[rows]}
    for k in canonical[3:]:
        v = parsed[k]
        cols[k] = v.iloc[rows].reset_index(drop=True) if isinstance(v, pd.Series) else v[rows]
    frame = pd.DataFrame(cols)
    others = unmapped_positions(len(src.names), src.colmap)
    as_read = src.rows(rows, others) if others else pd.DataFrame(index=frame.index)
    n_out = len(canonical) + len(others)
    for i in range(as_read.shape[1]):
        frame[f"x{i}"] = sortable(as_read.iloc[:, i])
    # the ids as read (" A" and "A" are one id; the text decides which copy is kept)
    frame["raw_id"] = take_rows(ids_arr, rows).to_pandas().astype("str")
    frame["row"] = rows
    keys = list(frame.columns)
    frame = frame.sort_values(keys, kind="stable", na_position="last")
    if "order_id" in parsed:
        # a duplicate order line is identical in every column, other columns included (SPEC §1)
        dup = frame.duplicated(subset=keys[:n_out], keep="first").to_numpy(dtype=bool)
        dup = dup & frame["order_id"].notna().to_numpy(dtype=bool)
    else:
        dup = np.zeros(len(frame), dtype=bool)
    identical = int(frame[~dup].duplicated(subset=keys[:n_out]).sum())
    duplicates = np.sort(frame["row"].to_numpy()[dup])
    if not len(duplicates):
        return valid, empty, identical
    if valid is None:
        keep = np.ones(len(codes), dtype=bool)
        keep[duplicates] = False
        return np.flatnonzero(keep), duplicates, identical
    return valid[~np.isin(valid, duplicates)], duplicates, identical


def _assemble(src: _Source, ids_arr: pa.ChunkedArray, rows: np.ndarray | None,
              codes: np.ndarray, uniques: pa.Array, rewrite: bool, ts: np.ndarray,
              amount: np.ndarray, parsed: dict[str, Any]) -> tuple[pd.DataFrame, int]:
    """The canonical frame (*rows* in source order, None: all) and its number of customers.

    The ids' codes go to the factorize cache, numbered over the ids the rows use.
    """
    row_codes = (codes if rows is None else codes[rows]).astype(np.int32, copy=False)
    if rewrite:
        ids = pa.chunked_array([uniques.take(pa.array(row_codes))])
    else:
        ids = ids_arr if rows is None else take_rows(ids_arr, rows)
    customer_id = ids.to_pandas()
    del ids
    present = np.zeros(len(uniques), dtype=bool)
    for i in range(0, len(row_codes), _BLOCK):  # blocks of rows: no full-size index copy
        present[row_codes[i:i + _BLOCK]] = True
    customers = int(np.count_nonzero(present))
    if customers < len(uniques):
        renumber = np.cumsum(present, dtype=np.int32) - 1
        row_codes = renumber[row_codes]
        uniques = uniques.filter(pa.array(present))
    remember(customer_id, row_codes, uniques)
    parts: dict[str, Any] = {
        "customer_id": customer_id,
        "timestamp": ts if rows is None else ts[rows],
        "amount": amount if rows is None else amount[rows],
    }
    for name, values in parsed.items():
        if rows is None:
            parts[name] = values
        elif isinstance(values, pd.Series):
            parts[name] = values.iloc[rows].reset_index(drop=True)
        else:
            parts[name] = values[rows]
    data = pd.DataFrame(parts, copy=False)
    others = unmapped_positions(len(src.names), src.colmap)
    if others:
        data = pd.concat([data, src.rows(np.arange(len(data)) if rows is None else rows,
                                          others)], axis=1)
    return data, customers


def _rejected(src: _Source, rcodes: np.ndarray, reasons: list[str]) -> pd.DataFrame:
    """Rejected rows as read, then ``source_row`` and ``reason`` (as the general loader)."""
    rows = np.flatnonzero(rcodes)
    rejected = src.rows(rows)
    rename = {c: f"{c} (input)" for c in rejected.columns if c in ("source_row", "reason")}
    if rename:
        rejected = rejected.rename(columns=rename)
    labels = np.asarray(reasons, dtype=object)
    meta = pd.DataFrame({
        "source_row": (rows + src.raw.row_base).astype("int64"),
        "reason": pd.array(labels[rcodes[rows] - 1], dtype="str"),
    })
    return pd.concat([rejected, meta], axis=1)
