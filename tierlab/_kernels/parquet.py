"""Reading a canonical transactions Parquet file column by column, one row group at a time.

The reader behind ``rfm(path)``: each column is converted as soon as a row group of it is read
(dates to int32 days, amounts to float64, ids to hashed keys) and the Arrow buffers are dropped,
so only those arrays are held at once — a fraction of the file as a DataFrame. The file must
already be clean (as written from ``load_transactions(...).transactions``): a missing value is
an error naming the column and row, never a row silently skipped.

:func:`read_rows_before` is the whole read as ``rfm(path)`` needs it: two threads (the ids of the
first row groups are hashed while this thread reads dates and amounts) under the system memory
pool (:mod:`tierlab._kernels.memory`). Pinned by ``tests/features/test_rfm_parquet.py``
(``rfm(path)`` equals ``rfm`` of the same frame for every file layout, and names each problem).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierlab._kernels.arrowkeys import KeyBuilder, merge_hashed
from tierlab._kernels.factorize import factorize, from_hashed, restrict
from tierlab._kernels.memory import release_unused, system_memory_pool
from tierlab.calendar import DAY_NS, as_day, epoch_days
from tierlab.errors import DataError, did_you_mean

__all__ = ["CanonicalParquet", "read_rows_before"]

_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_LOAD_HINT = ("load it with tierlab.load_transactions, which maps headers, parses values and "
              "sets bad rows aside with their reasons")


class CanonicalParquet:
    """An opened, schema-checked Parquet file of canonical transactions.

    Raises a DataError naming *func* and the file when it is missing, not Parquet, lacks a
    column or holds the wrong type in one.
    """

    def __init__(self, path: str | os.PathLike[str], func: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = Path(path).expanduser()
        self.func = func
        self.label = f"'{self.path}'"
        if not self.path.is_file():
            raise DataError(f"{func}: file not found: {self.label}" if not self.path.exists()
                            else f"{func}: {self.label} is a folder, not a Parquet file")
        try:
            self.file = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise DataError(f"{func}: {self.label} is not a Parquet file ({exc}); {func} reads "
                            f"canonical Parquet files directly — for CSV and Excel, "
                            f"{_LOAD_HINT}") from None
        schema = self.file.schema_arrow
        self.names = schema.names
        missing = [c for c in ("customer_id", "timestamp", "amount") if c not in self.names]
        if missing:
            raise DataError(
                f"{func}: {self.label} lacks column {missing[0]!r}"
                f"{did_you_mean(missing[0], self.names)}; it has {self.names}. "
                f"{_LOAD_HINT[0].upper()}{_LOAD_HINT[1:]}."
            )
        self.types = {name: schema.field(name).type for name in self.names}
        id_type = self.types["customer_id"]
        self.id_type = id_type.value_type if pa.types.is_dictionary(id_type) else id_type
        self.text_ids = not pa.types.is_integer(self.id_type)
        amount, ts = self.types["amount"], self.types["timestamp"]
        checks = {
            "customer_id": (pa.types.is_string(self.id_type)
                            or pa.types.is_large_string(self.id_type)
                            or pa.types.is_integer(self.id_type), "text or integers"),
            "timestamp": (pa.types.is_timestamp(ts) or pa.types.is_date(ts),
                          "timestamps or dates"),
            "amount": (pa.types.is_integer(amount) or pa.types.is_floating(amount)
                       or pa.types.is_decimal(amount), "numbers"),
        }
        for name, (ok, want) in checks.items():
            if not ok:
                t = self.types[name]
                held = "text" if pa.types.is_string(t) or pa.types.is_large_string(t) else t
                raise DataError(f"{func}: {self.label} column {name!r} holds {held}, not "
                                f"{want}; {_LOAD_HINT}")
        self.sizes = [self.file.metadata.row_group(i).num_rows
                      for i in range(self.file.num_row_groups)]
        self.starts = np.concatenate([[0], np.cumsum(self.sizes, dtype=np.int64)])
        self.rows = int(self.starts[-1])

    def _missing(self, name: str, row: int) -> DataError:
        return DataError(f"{self.func}: {self.label} column {name!r} has a missing value in data "
                         f"row {row + 1:,}; {self.func} reads only clean canonical files: "
                         f"{_LOAD_HINT}")

    def chunks(self, name: str, *, nulls_ok: bool = False, groups: Iterable[int] | None = None,
               own_reader: bool = False) -> Iterator[Any]:
        """The column one row group at a time (decoding buffers stay one group large).

        A reader is not safe to share between threads: a second thread asks for *own_reader*.
        """
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        source = pq.ParquetFile(self.path) if own_reader else self.file
        for i in range(len(self.sizes)) if groups is None else groups:
            try:
                chunk = source.read_row_group(i, columns=[name]).column(0)
            except (pa.ArrowException, OSError) as exc:
                raise DataError(f"{self.func}: {self.label} column {name!r} cannot be read "
                                f"({exc})") from None
            if chunk.null_count and not nulls_ok:
                raise self._missing(name, int(self.starts[i])
                                    + pc.index(pc.is_null(chunk), True).as_py())
            yield from chunk.chunks

    def days(self) -> np.ndarray:
        """``timestamp`` as whole days since the epoch (int32)."""
        import pyarrow as pa

        day = np.empty(self.rows, dtype=np.int32)
        pos = 0
        for chunk in self.chunks("timestamp"):
            out = day[pos:pos + len(chunk)]
            if pa.types.is_date(chunk.type):
                out[:] = chunk.cast(pa.date32()).to_numpy(zero_copy_only=False).view("int64")
            else:
                np.floor_divide(chunk.to_numpy().view("int64"),
                                DAY_NS // _NS_PER_UNIT[chunk.type.unit],
                                out=out, casting="unsafe")
            pos += len(chunk)
        return day

    def amounts(self) -> np.ndarray:
        """``amount`` as float64 (NaN is a missing value, hence an error)."""
        import pyarrow as pa

        amount = np.empty(self.rows, dtype=np.float64)
        pos = 0
        for chunk in self.chunks("amount"):
            if pa.types.is_decimal(chunk.type):
                chunk = chunk.cast(pa.float64())
            amount[pos:pos + len(chunk)] = chunk.to_numpy()
            pos += len(chunk)
        bad = np.isnan(amount)
        if bad.any():
            raise self._missing("amount", int(np.argmax(bad)))
        return amount

    def hash_ids(self, groups: range, *, own_reader: bool = False) -> Any:
        """Hashed keys of some row groups' text ids (a ``merge_hashed`` piece).

        None when the ids do not fit the fixed-width keys; each chunk is dropped once keyed.
        """
        builder = KeyBuilder(int(sum(self.sizes[i] for i in groups)))
        for chunk in self.chunks("customer_id", groups=groups, own_reader=own_reader):
            if not builder.add(chunk.cast(self.id_type)):
                return None
        return builder.hash()

    def ids(self) -> Any:
        """The whole ``customer_id`` column (a ChunkedArray of its value type)."""
        import pyarrow as pa

        return pa.chunked_array([c.cast(self.id_type) for c in self.chunks("customer_id")],
                                type=self.id_type)

    def order_ids(self) -> pd.Series | None:
        """``order_id`` as a pandas Series (missing allowed), or None without the column."""
        import pyarrow as pa

        if "order_id" not in self.names:
            return None
        return pa.chunked_array(list(self.chunks("order_id", nulls_ok=True)),
                                type=self.types["order_id"]).to_pandas()


def read_rows_before(path: str | os.PathLike[str], func: str, as_of: Any) -> tuple[
        pd.Timestamp, np.ndarray | None, np.ndarray, pd.Index, np.ndarray, np.ndarray,
        pd.Series | None]:
    """The rows of a canonical Parquet file up to ``as_of`` (default: its last date).

    Returns ``(as_of, keep, codes, ids, amounts, days, order_id or None)``: the mask of rows
    kept (None: all), customer codes and ids of the kept rows (ids sorted), their amounts and
    day numbers, and the full ``order_id`` column. See :class:`CanonicalParquet` for the errors.
    """
    f = CanonicalParquet(path, func)
    # text ids are read and hashed in two parts: the first row groups on a second thread, the
    # rest on this one once it has read the dates and amounts (Arrow and NumPy release the
    # GIL); freed read buffers go back to the OS at once
    split = int(np.searchsorted(f.starts, 0.6 * f.rows))
    with system_memory_pool(), ThreadPoolExecutor(max_workers=1) as pool:
        first_ids = (pool.submit(f.hash_ids, range(split), own_reader=True) if f.text_ids
                     else None)
        day = f.days()
        if as_of is None:
            if f.rows == 0:
                raise DataError(
                    "no transactions: cannot default as_of to the last date in the data")
            as_of = pd.Timestamp(int(day.max()), unit="D")
        else:
            as_of = as_day(as_of, "as_of")
        stop = epoch_days(np.array([as_of.to_datetime64()]))[0] + 1
        keep = None if f.rows == 0 or day.max() < stop else day < stop
        if keep is not None:
            day = day[keep]
        amount = f.amounts()
        if keep is not None:
            amount = amount[keep]
        hashed = None
        if first_ids is not None:
            rest = f.hash_ids(range(split, len(f.sizes)))
            hashed = merge_hashed([first_ids.result(), rest])
            # the strings and hash tables are gone: give their memory back before computing
            release_unused()
        if hashed is not None:
            codes, uniques = from_hashed(hashed, "str", compact=True)
        elif f.text_ids:  # ids the fast path does not take (NUL bytes, very long)
            codes, uniques = factorize(f.ids(), cache=False, compact=True)
        else:
            codes, uniques = factorize(pd.Series(f.ids().to_numpy()), cache=False,
                                       compact=True)
        del hashed
        codes, uniques = restrict(codes, uniques, keep)
        order_id = f.order_ids()
    return as_of, keep, codes, uniques, amount, day, order_id
