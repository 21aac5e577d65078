"""``rfm``, ``btyd_summary`` and ``period_panel`` over a bucketed dataset, bucket by bucket.

Each is the in-memory function run on every bucket with the global defaults the in-memory call
would take from the whole log — ``as_of`` (the dataset's last date) and the panel's last
period — found by a pre-pass over the Parquet statistics. The bucket results are concatenated
and ordered as in memory (sorted by customer id; the panel by customer then period), so they
equal the in-memory frames. With ``out`` the bucket results are written as
``out/part-NNNNN.parquet`` instead (rows by bucket, then as in memory) and the directory is
returned; ``dask.dataframe.read_parquet(out)`` reads it.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from tierlab.distributed.executor import BucketRunner, Progress
from tierlab.errors import DataError
from tierlab.features import btyd_summary, period_panel, rfm
from tierlab.io.dataset import Dataset

__all__ = ["btyd_summary_partitioned", "period_panel_partitioned", "rfm_partitioned"]


def _bucket_rows(path: str, k: int, as_of: pd.Timestamp | None) -> pd.DataFrame | None:
    """Bucket ``k``, or None when it has no rows up to ``as_of``."""
    tx = Dataset(path).read_bucket(k)
    if len(tx) == 0:
        return None
    if as_of is not None:
        stop = (as_of.normalize() + pd.Timedelta(days=1)).to_datetime64()
        if not (tx["timestamp"].to_numpy() < stop).any():
            return None
    return tx


def _finish(result: pd.DataFrame | None, k: int, out: str | None, *, index: bool
            ) -> pd.DataFrame | None:
    if result is None or out is None:
        return result
    result.to_parquet(Path(out, f"part-{k:05d}.parquet"), index=index)
    return None


def _rfm_task(path: str, as_of: pd.Timestamp, out: str | None, k: int) -> pd.DataFrame | None:
    tx = _bucket_rows(path, k, as_of)
    return None if tx is None else _finish(rfm(tx, as_of=as_of), k, out, index=True)


def _btyd_task(path: str, as_of: pd.Timestamp, kwargs: dict, out: str | None, k: int
               ) -> pd.DataFrame | None:
    tx = _bucket_rows(path, k, as_of)
    if tx is None:
        return None
    stop = (as_of.normalize() + pd.Timedelta(days=1)).to_datetime64()
    if not ((tx["amount"].to_numpy() >= 0) & (tx["timestamp"].to_numpy() < stop)).any():
        return None  # only returns here: in memory these customers are not listed either
    return _finish(btyd_summary(tx, as_of=as_of, **kwargs), k, out, index=True)


def _panel_task(path: str, freq: str, start: Any, end: Any, fill: bool, out: str | None,
                k: int) -> pd.DataFrame | None:
    tx = _bucket_rows(path, k, None if end is None else pd.Timestamp(end))
    if tx is None:
        return None
    panel = period_panel(tx, freq=freq, start=start, end=end, fill=fill)
    return _finish(panel if len(panel) else None, k, out, index=False)


def _run(source: str | os.PathLike, make_task: Any, label: str, client: Any,
         workers: int | None, out: str | os.PathLike | None, progress: Progress | None
         ) -> tuple[list, Path | None]:
    ds = Dataset(source)
    span = ds.time_range()
    if span is None:
        raise DataError(f"{ds.path}: {label}: no transactions")
    out_dir = None if out is None else Path(out).expanduser()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.glob("part-*.parquet"):
            old.unlink()
    task = make_task(str(ds.path), span, None if out_dir is None else str(out_dir))
    with BucketRunner(client, workers, progress) as runner:
        parts = runner.map(task, [(k,) for k in range(ds.partitions)], label)
    return [p for p in parts if p is not None], out_dir


def _by_customer(parts: list[pd.DataFrame], label: str) -> pd.DataFrame:
    if not parts:
        raise DataError(f"{label}: no transactions up to as_of")
    out = pd.concat(parts)
    if out.index.has_duplicates:
        raise DataError(f"{label}: customer {out.index[out.index.duplicated()][0]!r} appears "
                        "in more than one bucket; write the dataset with tierlab.write_dataset")
    return out.sort_index(kind="stable")


def rfm_partitioned(source: str | os.PathLike, as_of: Any = None, *, client: Any = None,
                    workers: int | None = None, out: str | os.PathLike | None = None,
                    progress: Progress | None = None) -> pd.DataFrame | Path:
    """:func:`tierlab.rfm` over a dataset: the same frame (columns, order) as in memory.

    ``as_of`` defaults to the dataset's last date. ``client``/``workers``/``progress`` as for
    :func:`tierlab.distributed.run_partitioned`. With ``out``, returns the directory of the
    Parquet parts instead of the frame.
    """
    def make(path: str, span: tuple, out_: str | None) -> Any:
        day = span[1].normalize() if as_of is None else pd.Timestamp(as_of).normalize()
        return partial(_rfm_task, path, day, out_)

    parts, out_dir = _run(source, make, "rfm", client, workers, out, progress)
    return out_dir if out_dir is not None else _by_customer(parts, "rfm")


def btyd_summary_partitioned(source: str | os.PathLike, *, as_of: Any = None,
                             time_unit: str = "D", time_scaler: float = 1.0,
                             client: Any = None, workers: int | None = None,
                             out: str | os.PathLike | None = None,
                             progress: Progress | None = None) -> pd.DataFrame | Path:
    """:func:`tierlab.btyd_summary` over a dataset (``as_of``: the dataset's last date)."""
    kwargs = {"time_unit": time_unit, "time_scaler": time_scaler}

    def make(path: str, span: tuple, out_: str | None) -> Any:
        day = span[1].normalize() if as_of is None else pd.Timestamp(as_of).normalize()
        return partial(_btyd_task, path, day, kwargs, out_)

    parts, out_dir = _run(source, make, "btyd_summary", client, workers, out, progress)
    return out_dir if out_dir is not None else _by_customer(parts, "btyd_summary")


def period_panel_partitioned(source: str | os.PathLike, freq: str = "M", start: Any = None,
                             end: Any = None, *, fill: bool = False, client: Any = None,
                             workers: int | None = None, out: str | os.PathLike | None = None,
                             progress: Progress | None = None) -> pd.DataFrame | Path:
    """:func:`tierlab.period_panel` over a dataset; ``start``/``end`` default to its span."""
    def make(path: str, span: tuple, out_: str | None) -> Any:
        lo = span[0] if start is None else start
        hi = span[1] if end is None else end
        return partial(_panel_task, path, freq, lo, hi, fill, out_)

    parts, out_dir = _run(source, make, "period_panel", client, workers, out, progress)
    if out_dir is not None:
        return out_dir
    if not parts:
        raise DataError("period_panel: no transactions in the range")
    return pd.concat(parts).sort_values("customer_id", kind="stable", ignore_index=True)
