"""Reading a canonical transactions Parquet file column by column, one row group at a time.

The reader behind ``rfm(path)``: each column is converted as soon as a row group of it is read
(dates to int32 days, amounts to float64, ids to hashed keys) and the Arrow buffers are dropped,
so only those arrays are held at once — a fraction of the file as a DataFrame. The file must
already be clean (as written from ``load_transactions(...).transactions``): a missing value is
an error naming the column and row, never a row silently skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tierlab._kernels.arrowkeys import KeyBuilder
from tierlab.errors import DataError, did_you_mean

_NS_PER_DAY = 86_400 * 10**9
_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_LOAD_HINT = ("load it with tierlab.load_transactions, which maps headers, parses values and "
              "sets bad rows aside with their reasons")


class CanonicalParquet:
    """An opened, schema-checked Parquet file of canonical transactions.

    Raises a DataError naming *func* and the file when it is missing, not Parquet, lacks a
    column or holds the wrong type in one.
    """

    def __init__(self, path, func: str):
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

    def chunks(self, name: str, *, nulls_ok: bool = False, groups=None, own_reader=False):
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
                                _NS_PER_DAY // _NS_PER_UNIT[chunk.type.unit],
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

    def hash_ids(self, groups, *, own_reader: bool = False):
        """Hashed keys of some row groups' text ids (a ``merge_hashed`` piece).

        None when the ids do not fit the fixed-width keys; each chunk is dropped once keyed.
        """
        builder = KeyBuilder(int(sum(self.sizes[i] for i in groups)))
        for chunk in self.chunks("customer_id", groups=groups, own_reader=own_reader):
            if not builder.add(chunk.cast(self.id_type)):
                return None
        return builder.hash()

    def ids(self):
        """The whole ``customer_id`` column (a ChunkedArray of its value type)."""
        import pyarrow as pa

        return pa.chunked_array([c.cast(self.id_type) for c in self.chunks("customer_id")],
                                type=self.id_type)

    def order_ids(self):
        """``order_id`` as a pandas Series (missing allowed), or None without the column."""
        import pyarrow as pa

        if "order_id" not in self.names:
            return None
        return pa.chunked_array(list(self.chunks("order_id", nulls_ok=True)),
                                type=self.types["order_id"]).to_pandas()
