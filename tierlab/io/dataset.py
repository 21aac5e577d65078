"""Partitioned transaction datasets: Parquet files bucketed by a stable hash of the customer id.

A dataset is a directory of Parquet files in the canonical schema (the columns
:func:`tierlab.load_transactions` returns), split into ``partitions`` buckets so that all rows of
one customer live in one bucket. Per-customer work (features, tier histories) then runs bucket by
bucket, on one machine or on a Dask cluster (:mod:`tierlab.distributed`).

Layout (``layout="hive"``, the default)::

    path/_tierlab_dataset.json          partitions, layout, hash, columns
    path/bucket=00/part-0.parquet       every bucket has a file, empty buckets included
    path/bucket=01/part-0.parquet
    ...

``pandas.read_parquet(path)``, ``pyarrow.dataset`` and ``dask.dataframe.read_parquet`` read it
as a hive-partitioned dataset (with a ``bucket`` column). ``layout="plain"`` writes
``path/bucket-00.parquet`` … instead, for tools without hive support.

The bucket hash is **FNV-1a, 64 bit** (offset basis ``0xcbf29ce484222325``, prime
``0x100000001b3``) over the UTF-8 bytes of the customer id as text (integer ids as their decimal
digits), and ``bucket = hash % partitions``. It is a published, unsalted function: the same id
lands in the same bucket in every run, on every machine and in every version (Python's own
``hash`` of a string is salted per process and must never be used for this). It is computed
with numpy over the Arrow buffers of the ids, one byte position at a time, vectorized over ids.

Data is written chunk by chunk (:class:`DatasetWriter`), so a log larger than memory can be
bucketed from any iterator of frames; :func:`write_dataset` does this for an in-memory frame.
:func:`iter_buckets` reads one bucket at a time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError

__all__ = [
    "HASH_NAME",
    "META_FILE",
    "Dataset",
    "DatasetWriter",
    "bucket_of",
    "customer_hash",
    "iter_buckets",
    "open_dataset",
    "write_dataset",
]

#: The name of the bucket hash recorded in the dataset's metadata file.
HASH_NAME = "fnv1a64-utf8"
#: The metadata file written next to the buckets.
META_FILE = "_tierlab_dataset.json"
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_REQUIRED = ("customer_id", "timestamp", "amount")
_CHUNK_ROWS = 1_000_000


# --------------------------------------------------------------------------- the hash
def customer_hash(ids: Sequence | pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """FNV-1a 64-bit hash of each id's UTF-8 text, as ``uint64`` (see the module docstring).

    Examples
    --------
    >>> customer_hash(["C00001", ""]).tolist()
    [4838734213899329433, 14695981039346656037]
    """
    import pyarrow as pa

    values = pd.Series(np.asarray(ids) if not isinstance(ids, pd.Series | pd.Index) else ids)
    if values.isna().any():
        raise DataError("customer_hash: missing customer ids; load the data with "
                        "tierlab.load_transactions, which sets rows without an id aside")
    if values.dtype.kind in "iub":
        values = values.astype("int64").astype(str)
    arr = pa.array(values.astype(str), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):  # an Arrow-backed column: one contiguous buffer
        arr = arr.combine_chunks()
    n = len(arr)
    out = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    if n == 0:
        return out
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset:arr.offset + n + 1]
    data = (np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None
            else np.zeros(0, dtype=np.uint8))
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    for j in range(int(lengths.max())):  # one pass per byte position, over all ids at once
        live = np.flatnonzero(lengths > j)
        h = out[live] ^ data[starts[live] + j].astype(np.uint64)
        out[live] = h * _FNV_PRIME  # wraps modulo 2**64, as FNV requires
    return out


def bucket_of(ids: Sequence | pd.Series | pd.Index | np.ndarray, partitions: int) -> np.ndarray:
    """Bucket ``0 .. partitions - 1`` of each customer id: ``customer_hash(ids) % partitions``."""
    partitions = _check_partitions(partitions)
    return (customer_hash(ids) % np.uint64(partitions)).astype(np.int64)


def _check_partitions(partitions: object) -> int:
    if isinstance(partitions, bool) or not isinstance(partitions, int | np.integer) \
            or partitions < 1:
        raise ArgumentError(f"partitions must be a positive integer, got {partitions!r}")
    return int(partitions)


# --------------------------------------------------------------------------- writing
def _bucket_name(k: int, partitions: int, layout: str) -> str:
    width = max(2, len(str(partitions - 1)))
    return f"bucket={k:0{width}d}/part-0.parquet" if layout == "hive" \
        else f"bucket-{k:0{width}d}.parquet"


class DatasetWriter:
    """Write a bucketed dataset chunk by chunk (a context manager).

    Parameters
    ----------
    path : str or Path
        The dataset directory; created if needed. It must be empty or not exist, unless
        ``overwrite=True`` (which removes the Parquet files and metadata of a previous dataset
        there).
    partitions : int
        Number of buckets.
    layout : {"hive", "plain"}
        ``bucket=NN/part-0.parquet`` or ``bucket-NN.parquet`` files.

    Examples
    --------
    >>> import tempfile
    >>> tx = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0],
    ...                    "timestamp": pd.to_datetime(["2025-01-01", "2025-01-02"])})
    >>> with DatasetWriter(tempfile.mkdtemp(), partitions=4) as w:
    ...     w.write(tx)
    >>> w.rows
    2
    """

    def __init__(self, path: str | os.PathLike, partitions: int, *, layout: str = "hive",
                 overwrite: bool = False):
        self.path = Path(path).expanduser()
        self.partitions = _check_partitions(partitions)
        if layout not in ("hive", "plain"):
            raise ArgumentError(f"layout must be 'hive' or 'plain', got {layout!r}")
        self.layout = layout
        self.rows = 0
        self._writers: dict[int, object] = {}
        self._schema = None
        self._prepare(overwrite)

    def _prepare(self, overwrite: bool) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise ArgumentError(f"{self.path} is a file; write_dataset needs a directory path")
        existing = [p for p in self.path.rglob("*")
                    if p.is_file()] if self.path.exists() else []
        if existing and not overwrite:
            raise ArgumentError(f"{self.path} is not empty ({len(existing)} file(s)); choose an "
                                "empty directory or pass overwrite=True")
        for p in existing:
            if p.suffix == ".parquet" or p.name == META_FILE:
                p.unlink()
        self.path.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of one chunk (canonical transactions) to their buckets."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        missing = [c for c in _REQUIRED if c not in frame.columns]
        if missing:
            raise DataError(f"write_dataset: column {missing[0]!r} is missing; the frame must "
                            f"hold canonical transactions ({', '.join(_REQUIRED)}, …) as "
                            f"tierlab.load_transactions returns them; got {list(frame.columns)}")
        if len(frame) == 0:
            return
        buckets = bucket_of(frame["customer_id"], self.partitions)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._schema is None:
            self._schema = table.schema
        elif not table.schema.equals(self._schema, check_metadata=False):
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, ValueError) as exc:
                raise DataError(f"write_dataset: a chunk's columns differ from the first "
                                f"chunk's ({exc}); every chunk needs the same columns and "
                                "types") from None
        order = np.argsort(buckets, kind="stable")
        counts = np.bincount(buckets, minlength=self.partitions)
        table = table.take(pa.array(order))
        start = 0
        for k in np.flatnonzero(counts):
            writer = self._writers.get(int(k))
            if writer is None:
                file = self.path / _bucket_name(int(k), self.partitions, self.layout)
                file.parent.mkdir(parents=True, exist_ok=True)
                writer = self._writers[int(k)] = pq.ParquetWriter(file, self._schema)
            writer.write_table(table.slice(start, int(counts[k])))  # type: ignore[attr-defined]
            start += int(counts[k])
        self.rows += len(frame)

    def close(self) -> None:
        """Close the files, give every empty bucket an empty file, write the metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        for writer in self._writers.values():
            writer.close()  # type: ignore[attr-defined]
        schema = self._schema
        if schema is None:  # nothing written: the canonical columns, no rows
            schema = pa.schema([("customer_id", pa.string()), ("timestamp", pa.timestamp("ns")),
                                ("amount", pa.float64())])
        for k in range(self.partitions):
            if k not in self._writers:
                file = self.path / _bucket_name(k, self.partitions, self.layout)
                file.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(schema.empty_table(), file)
        self._writers = {k: None for k in self._writers}
        meta = {"format": "tierlab dataset", "version": 1, "partitions": self.partitions,
                "layout": self.layout, "hash": HASH_NAME, "key": "customer_id",
                "columns": schema.names, "rows": self.rows}
        (self.path / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def write_dataset(data: object, path: str | os.PathLike, partitions: int = 16, *,
                  layout: str = "hive", overwrite: bool = False,
                  chunk_rows: int = _CHUNK_ROWS) -> Path:
    """Write transactions as a Parquet dataset bucketed by a stable hash of the customer id.

    Parameters
    ----------
    data : LoadResult or DataFrame
        Canonical transactions (``load_transactions(...)`` or its ``.transactions``).
    path : str or Path
        Dataset directory (empty or new; see ``overwrite``).
    partitions : int, default 16
        Number of buckets; every customer's rows land in bucket
        ``fnv1a64(customer_id) % partitions`` (see :mod:`tierlab.io.dataset`).
    layout : {"hive", "plain"}
        ``bucket=NN/part-0.parquet`` (default) or ``bucket-NN.parquet``.
    overwrite : bool
        Replace a dataset already in ``path``.
    chunk_rows : int
        Rows converted and written at a time (bounds the extra memory used).

    Returns
    -------
    Path
        The dataset directory.
    """
    frame = getattr(data, "transactions", data)
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(f"write_dataset: expected a LoadResult or a DataFrame of "
                            f"transactions, got {type(data).__name__}")
    if chunk_rows < 1:
        raise ArgumentError(f"chunk_rows must be positive, got {chunk_rows}")
    with DatasetWriter(path, partitions, layout=layout, overwrite=overwrite) as writer:
        for lo in range(0, len(frame), chunk_rows):
            writer.write(frame.iloc[lo:lo + chunk_rows])
        if len(frame) == 0:
            writer.write(frame)
    return writer.path


# --------------------------------------------------------------------------- reading
class Dataset:
    """An opened dataset directory: its buckets, read one at a time.

    Directories written by :func:`write_dataset` are described by their metadata file. Other
    directories are read as hive-partitioned (``bucket=NN/*.parquet``: one bucket per
    directory) or plain (every ``*.parquet`` file is one bucket); each customer's rows must
    then be in a single bucket, which :mod:`tierlab.distributed` checks when it collects
    results.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise DataError(f"{self.path}: not a dataset directory"
                            + ("" if self.path.exists() else " (it does not exist)")
                            + "; write one with tierlab.write_dataset(tx, path, partitions=N)")
        meta_file = self.path / META_FILE
        self.meta: dict = {}
        if meta_file.is_file():
            self.meta = json.loads(meta_file.read_text(encoding="utf-8"))
        self.files = self._bucket_files()
        if not self.files:
            raise DataError(f"{self.path}: no Parquet files found; write the dataset with "
                            "tierlab.write_dataset(tx, path, partitions=N)")

    def _bucket_files(self) -> list[list[Path]]:
        hive = sorted((p for p in self.path.iterdir() if p.is_dir()
                       and re.fullmatch(r"bucket=\d+", p.name)),
                      key=lambda p: int(p.name.split("=")[1]))
        if hive:
            return [sorted(d.glob("*.parquet")) for d in hive]
        return [[p] for p in sorted(self.path.glob("*.parquet"))]

    @property
    def partitions(self) -> int:
        """Number of buckets."""
        return len(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def __repr__(self) -> str:
        return f"<Dataset {str(self.path)!r}: {self.partitions} buckets>"

    def read_bucket(self, k: int, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows of bucket ``k`` as canonical transactions (all columns, or ``columns``)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not 0 <= k < len(self.files):
            raise ArgumentError(f"bucket {k} is out of range; {self.path} has "
                                f"{len(self.files)} buckets")
        cols = None if columns is None else list(columns)
        try:
            tables = [pq.read_table(f, columns=cols) for f in self.files[k]]
        except (pa.ArrowException, OSError, KeyError) as exc:
            raise DataError(f"{self.files[k][0]}: cannot read bucket {k}: {exc}") from None
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables,
                                                                    promote_options="default")
        if "bucket" in table.column_names and (cols is None or "bucket" not in cols):
            table = table.drop_columns(["bucket"])
        return table.to_pandas()

    def time_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last ``timestamp`` over every bucket (None when there are no rows).

        Read from the Parquet statistics where they are present, else from the column.
        """
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        lows, highs = [], []
        for files in self.files:
            for f in files:
                pf = pq.ParquetFile(f)
                meta = pf.metadata
                if meta.num_rows == 0:
                    continue
                j = pf.schema_arrow.get_field_index("timestamp")
                if j < 0:
                    raise DataError(f"{f}: no 'timestamp' column; a dataset holds canonical "
                                    "transactions (customer_id, timestamp, amount, …)")
                stats = [meta.row_group(i).column(j).statistics
                         for i in range(meta.num_row_groups)]
                if all(s is not None and s.has_min_max for s in stats):
                    lows += [pd.Timestamp(s.min) for s in stats]
                    highs += [pd.Timestamp(s.max) for s in stats]
                else:
                    mm = pc.min_max(pf.read(columns=["timestamp"]).column(0)).as_py()
                    lows.append(pd.Timestamp(mm["min"]))
                    highs.append(pd.Timestamp(mm["max"]))
        if not lows:
            return None
        return min(lows), max(highs)


def open_dataset(path: str | os.PathLike) -> Dataset:
    """Open a dataset directory (see :class:`Dataset`)."""
    return Dataset(path)


def iter_buckets(path: str | os.PathLike, columns: Sequence[str] | None = None
                 ) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield ``(bucket, transactions)`` one bucket at a time, empty buckets included."""
    ds = Dataset(path)
    for k in range(ds.partitions):
        yield k, ds.read_bucket(k, columns)
