"""``run_partitioned``: a tier scheme over a bucketed dataset, equal to ``scheme.run`` in memory.

Every customer's tier history depends on that customer's transactions only, except for the
quantile RFM scores, so each bucket of a dataset written by :func:`tierlab.write_dataset` runs
the ordinary engine on its own, with

- the **global review range**: the last review is the one of the dataset's last date (or
  ``end``), found by a pre-pass over the Parquet statistics; a bucket whose customers all enter
  later simply has fewer leading reviews, which are "not entered yet" (``NaN``) for all of them,
  exactly as in memory;
- for schemes testing ``r_score``/``f_score``/``m_score``/``rfm_score``, the **global cut
  points** of every review (:mod:`tierlab.distributed.scores`), given to the engine through its
  ``score_edges`` hook.

The customer table and the overrides are split by the same bucket hash, so a task only receives
its own customers' rows.
"""

from __future__ import annotations

import os
import warnings
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierlab.calendar import FREQS, period_end
from tierlab.distributed.executor import BucketRunner, Progress
from tierlab.distributed.scores import HistogramRecorder, resolve_edges, uses_scores
from tierlab.errors import ArgumentError, DataError
from tierlab.io.dataset import HASH_NAME, Dataset, bucket_of

__all__ = ["PartitionedHistory", "run_partitioned", "global_reviews"]

_PARTS = ("current", "changes", "tiers", "rfm")


def global_reviews(scheme: Any, first: pd.Timestamp, last: pd.Timestamp, start: Any = None,
                   end: Any = None) -> pd.DatetimeIndex:
    """The review dates ``scheme.run`` uses on data spanning ``first`` … ``last``."""
    step = FREQS[scheme.review]
    end_ts = last.normalize() if end is None else pd.Timestamp(end).normalize()
    end_month = end_ts.year * 12 + end_ts.month - 1
    last_period = (end_month // step * step + step - 1) // step
    first_period = (first.year * 12 + first.month - 1) // step
    if start is not None:
        s = pd.Timestamp(start)
        first_period = max(first_period, (s.year * 12 + s.month - 1) // step)
    if first_period > last_period:
        raise DataError(f"start={start} is after the last review period")
    return period_end(np.arange(first_period, last_period + 1) * step, scheme.review)


def _split(table: pd.DataFrame | None, partitions: int) -> list[pd.DataFrame | None]:
    """Rows of a customer-keyed table per bucket (``customer_id`` column or index)."""
    if table is None:
        return [None] * partitions
    ids = table["customer_id"] if "customer_id" in table.columns else table.index
    buckets = bucket_of(pd.Series(ids).astype(str), partitions)
    return [table.iloc[np.flatnonzero(buckets == k)] for k in range(partitions)]


def _read(path: str, k: int, end: pd.Timestamp | None) -> pd.DataFrame:
    tx = Dataset(path).read_bucket(k)
    if end is not None and len(tx):
        tx = tx.loc[tx["timestamp"].to_numpy() < (end.normalize()
                                                   + pd.Timedelta(days=1)).to_datetime64()]
    return tx


def _record_task(path: str, scheme: Any, start: Any, end: pd.Timestamp, k: int,
                 customers: pd.DataFrame | None, wanted: dict | None) -> dict:
    """Pass A/B of the score pre-pass on one bucket (see :mod:`tierlab.distributed.scores`)."""
    from tierlab.tiers.engine import run_scheme

    tx = _read(path, k, end)
    if len(tx) == 0:
        return {}
    recorder = HistogramRecorder(wanted)
    run_scheme(scheme, tx, customers=customers, start=start, end=end, score_edges=recorder)
    return recorder.data


def _current(hist: Any, changes: pd.DataFrame) -> pd.DataFrame:
    """``hist.current`` from ``hist.changes`` (its last change per customer, sentences reused).

    ``TierHistory.current`` words each customer's last change again; here the sentences of
    ``changes`` (rows by customer, then review) are taken instead of a second pass.
    """
    dtype = hist.tier_dtype
    out = pd.DataFrame({"tier": pd.Categorical.from_codes(hist.codes[:, -1], dtype=dtype)},
                       index=hist.customer_ids)
    out["label"] = out["tier"].map(hist.scheme.labels).astype(object)
    cust = hist.log.customer[hist.log.by_customer()]  # the customer of each row of changes
    last = np.flatnonzero(np.r_[cust[1:] != cust[:-1], True]) if len(cust) else cust
    where = np.full(len(out), -1, dtype=np.int64)
    where[cust[last]] = last
    for col, name in (("since", "review"), ("previous_tier", "from_tier"),
                      ("reason", "reason")):
        out[col] = changes[name].array.take(where, allow_fill=True)
    return out


def _write_tiers(file: Path, ids: pd.Index, codes: np.ndarray, names: list[str],
                 reviews: pd.DatetimeIndex) -> None:
    """The tier matrix as Parquet: ``customer_id`` and one dictionary column per review."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dictionary = pa.array(names, type=pa.string())
    cols = [pa.DictionaryArray.from_arrays(pa.array(codes[:, j], mask=codes[:, j] < 0),
                                           dictionary) for j in range(codes.shape[1])]
    table = pa.Table.from_arrays([pa.array(ids.astype(str)), *cols],
                                 names=["customer_id", *(d.strftime("%Y-%m-%d") for d in reviews)])
    pq.write_table(table, file, write_statistics=["customer_id"])


def _tiers_task(path: str, scheme: Any, reviews: pd.DatetimeIndex, start: Any,
                end: pd.Timestamp, edges: Any, lang: str, features: bool, each_bucket: Any,
                k: int, customers: pd.DataFrame | None, overrides: pd.DataFrame | None,
                out: str | None) -> dict:
    """Run the scheme on bucket ``k``; write its parts under ``out`` or return them.

    ``rfm`` (``features``) and ``each_bucket`` run on the same rows: one read per bucket.
    """
    from tierlab.features import rfm
    from tierlab.tiers.engine import run_scheme

    K = len(scheme.tier_names)
    tx = _read(path, k, end)
    summary: dict[str, Any] = {"bucket": k, "customers": 0, "changes": 0,
                               "counts": np.zeros(K, dtype=np.int64), "frames": None}
    if len(tx) == 0:
        return summary
    if overrides is not None:  # only this bucket's customers; the caller warns about the rest
        overrides = overrides[overrides["customer_id"].isin(tx["customer_id"])]
        summary["overridden"] = set(overrides["customer_id"])
    hist = run_scheme(scheme, tx, customers=customers, overrides=overrides, start=start,
                      end=end, score_edges=edges)
    R, r = len(reviews), len(hist.reviews)
    if r > R or not hist.reviews.equals(reviews[R - r:]):
        raise DataError(f"bucket {k}: its reviews ({hist.reviews[0].date()} … "
                        f"{hist.reviews[-1].date()}) are not the last ones of the global "
                        f"range ({reviews[0].date()} … {reviews[-1].date()})")
    codes = np.full((len(hist.customer_ids), R), -1, dtype=np.int8)
    codes[:, R - r:] = hist.codes
    changes = hist.changes_in(lang)  # the reasons in the language asked for
    current = _current(hist, changes)
    feats = rfm(tx, as_of=end.normalize()) if features else None
    last = codes[:, -1]
    summary.update(customers=len(current), changes=len(changes),
                   counts=np.bincount(last[last >= 0], minlength=K),
                   dtypes=(current.dtypes.to_dict(), changes.dtypes.to_dict()))
    if each_bucket is not None:
        summary["extra"] = each_bucket(tx, hist)
    if out is None:
        summary["frames"] = (current, changes, (hist.customer_ids, codes), feats)
        return summary
    name = f"part-{k:05d}.parquet"
    current.to_parquet(Path(out, "current", name))
    changes.to_parquet(Path(out, "changes", name), index=False)
    _write_tiers(Path(out, "tiers", name), hist.customer_ids, codes, scheme.tier_names,
                 reviews)
    if feats is not None:
        feats.to_parquet(Path(out, "rfm", name))
    return summary


class PartitionedHistory:
    """The result of :func:`run_partitioned`, with the views of a :class:`tierlab.TierHistory`.

    ``current``, ``changes`` and ``tiers`` are pandas DataFrames equal to the in-memory run's
    (same rows, order, columns and dtypes): collected from the workers, or read back from the
    Parquet parts under ``out``. With ``out``, :meth:`to_dask` opens a part as a Dask
    DataFrame instead (one partition per bucket; rows by bucket, then customer).

    Attributes
    ----------
    scheme : TierScheme
    reviews : DatetimeIndex
        The global review dates.
    out : Path or None
        Directory of the Parquet parts ``current/``, ``changes/``, ``tiers/`` and, with
        ``features=True``, ``rfm/`` (one ``part-NNNNN.parquet`` per non-empty bucket;
        ``tiers`` has a ``customer_id`` column and one dictionary-encoded column per review,
        named by its ISO date).
    tier_counts : Series
        Customers per tier at the last review.
    n_customers, n_changes : int
    extras : dict
        What ``each_bucket`` returned, by bucket (non-empty buckets, in bucket order).
    """

    def __init__(self, scheme: Any, reviews: pd.DatetimeIndex, summaries: list[dict],
                 out: Path | None, lang: str = "en"):
        self.scheme = scheme
        self.lang = lang  # the language of the reasons in current and changes
        self.reviews = reviews
        self.out = out
        self.n_customers = int(sum(s["customers"] for s in summaries))
        self.n_changes = int(sum(s["changes"] for s in summaries))
        counts = np.sum([s["counts"] for s in summaries], axis=0)
        self.tier_counts = pd.Series(counts, index=pd.Index(scheme.tier_names, name="tier"),
                                     name="customers")
        self._frames = [s["frames"] for s in summaries if s["frames"] is not None]
        self.extras = {s["bucket"]: s["extra"] for s in summaries if "extra" in s}
        # the in-memory dtypes, restored on frames read back from Parquet
        self._dtypes: tuple[dict, dict] = next(
            (s["dtypes"] for s in summaries if "dtypes" in s), ({}, {}))

    def __repr__(self) -> str:
        parts = ", ".join(f"{t}: {n}" for t, n in self.tier_counts.items())
        return (f"<PartitionedHistory {self.scheme.name!r}: {self.n_customers} customers × "
                f"{len(self.reviews)} reviews; last review {parts}; {self.n_changes} changes"
                + (f"; parts in {self.out}>" if self.out is not None else ">"))

    @property
    def tier_dtype(self) -> pd.CategoricalDtype:
        return pd.CategoricalDtype(self.scheme.tier_names, ordered=True)

    def _part(self, i: int) -> list[Any]:
        if self.out is None:
            return [f[i] for f in self._frames]
        files = sorted(Path(self.out, _PARTS[i]).glob("part-*.parquet"))
        return [pd.read_parquet(f) for f in files]

    @staticmethod
    def _unique(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.index.has_duplicates:
            dup = frame.index[frame.index.duplicated()][0]
            raise DataError(f"customer {dup!r} appears in more than one bucket; write the "
                            "dataset with tierlab.write_dataset so that each customer's rows "
                            "are in one bucket")
        return frame.sort_index(kind="stable")

    @cached_property
    def current(self) -> pd.DataFrame:
        """Per customer at the last review: tier, label, since, previous tier, reason."""
        parts = self._part(0)
        if not parts:
            raise DataError("no transactions to run the scheme on")
        return self._unique(pd.concat(parts)).astype(self._dtypes[0])

    @cached_property
    def changes(self) -> pd.DataFrame:
        """Every tier change, sorted by customer then review (as ``TierHistory.changes``)."""
        out = pd.concat(self._part(1), ignore_index=True).astype(self._dtypes[1])
        return out.sort_values("customer_id", kind="stable", ignore_index=True)

    @cached_property
    def _codes(self) -> tuple[pd.Index, np.ndarray]:
        if self.out is None:
            parts = self._part(2)
            ids = pd.Index(pd.concat([pd.Series(p[0]) for p in parts], ignore_index=True))
            codes = np.concatenate([p[1] for p in parts])
        else:
            wide = pd.concat([f.set_index("customer_id") for f in self._part(2)])
            ids = wide.index
            codes = np.column_stack([wide[c].astype(self.tier_dtype).cat.codes.to_numpy()
                                     for c in wide.columns]).astype(np.int8)
        order = ids.argsort(kind="stable")
        ids, codes = ids[order], codes[order]
        if ids.has_duplicates:
            self._unique(pd.DataFrame(index=ids))
        return ids, codes

    def _in(self, lang: str) -> None:
        if lang != self.lang:
            raise ArgumentError(f"lang={lang!r}: this run holds its reasons in {self.lang!r}; "
                                f"run it with lang={lang!r} for that language")

    def current_in(self, lang: str = "en") -> pd.DataFrame:
        """:attr:`current`, whose reasons are in the run's ``lang`` (another: ArgumentError)."""
        self._in(lang)
        return self.current

    def changes_in(self, lang: str = "en") -> pd.DataFrame:
        """:attr:`changes`, whose reasons are in the run's ``lang`` (another: ArgumentError)."""
        self._in(lang)
        return self.changes

    @property
    def customer_ids(self) -> pd.Index:
        """The customers, sorted (the order of ``current`` and ``tiers``)."""
        return self._codes[0]

    @property
    def codes(self) -> np.ndarray:
        """``(customers, reviews)`` int8 tier index, ``-1`` before entry."""
        return self._codes[1]

    @cached_property
    def tiers(self) -> pd.DataFrame:
        """Customer × review date, ordered categorical tier names (NaN before entry)."""
        dtype = self.tier_dtype
        return pd.DataFrame({d: pd.Categorical.from_codes(self.codes[:, j], dtype=dtype)
                             for j, d in enumerate(self.reviews)},
                            index=self.customer_ids).rename_axis(columns="review")

    @cached_property
    def features(self) -> pd.DataFrame:
        """``tl.rfm`` of every customer at the last day (``run_partitioned(features=True)``)."""
        parts = [p for p in self._part(3) if p is not None]
        if not parts:
            raise ArgumentError("no features: pass features=True to run_partitioned")
        out = pd.concat(parts)
        if out.index.has_duplicates:
            self._unique(out)
        return out.sort_index(kind="stable")

    def to_dask(self, part: str = "current") -> Any:
        """``dask.dataframe.read_parquet`` of ``out/<part>`` (current, changes or tiers)."""
        if self.out is None:
            raise ArgumentError("to_dask needs the Parquet parts: pass out=DIR to "
                                "run_partitioned")
        if part not in _PARTS:
            raise ArgumentError(f"part must be one of {list(_PARTS)}, got {part!r}")
        import dask.dataframe as dd

        return dd.read_parquet(str(Path(self.out, part)))


def run_partitioned(scheme: Any, source: str | os.PathLike, *,
                    customers: pd.DataFrame | None = None, client: Any = None,
                    start: Any = None, end: Any = None,
                    out: str | os.PathLike | None = None, overrides: Any = None,
                    workers: int | None = None, progress: Progress | None = None,
                    lang: str = "en", features: bool = False,
                    each_bucket: Any = None) -> PartitionedHistory:
    """Run a tier scheme bucket by bucket over a dataset; equal to ``scheme.run`` in memory.

    Parameters
    ----------
    scheme : TierScheme
    source : str or Path
        A dataset directory written by :func:`tierlab.write_dataset` (on a cluster: a path
        every worker can read).
    customers : DataFrame, optional
        Customer table, for schemes testing customer attributes.
    client : distributed.Client, optional
        Run the buckets as Dask futures on this cluster; without one, a local process pool of
        ``workers`` processes (``workers=1``: in this process).
    start, end : date-like, optional
        As for ``scheme.run``: first and last review periods; ``end`` also cuts the data.
    out : str or Path, optional
        Write ``current``, ``changes`` and ``tiers`` as Parquet parts under this directory (on
        a cluster: a path the workers can write) instead of sending them back.
    overrides : DataFrame or path, optional
        Manual overrides, as for ``scheme.run``.
    workers : int, optional
        Local process pool size (default: the number of CPUs).
    progress : callable, optional
        Receives a line of text as buckets finish.
    lang : {"en", "zh"}, default "en"
        Language of the reasons in ``current`` and ``changes`` (and their parts).
    features : bool
        Also compute :func:`tierlab.rfm` (``as_of`` the last day) on the rows each task has
        read anyway: ``hist.features`` (or ``out/rfm/``) equals ``tl.rfm(tx, as_of=…)``.
    each_bucket : callable, optional
        ``each_bucket(tx, bucket_history)`` runs in each task on the bucket's transactions and
        its :class:`~tierlab.TierHistory` (its own reviews, the last ones of the global range);
        what it returns (small, picklable) is collected in ``hist.extras``.

    Returns
    -------
    PartitionedHistory
    """
    from tierlab.i18n import check_lang
    from tierlab.tiers.engine import load_overrides

    lang = check_lang(lang)
    ds = Dataset(source)
    span = ds.time_range()
    if span is None:
        raise DataError(f"{ds.path}: no transactions to run the scheme on")
    first, last = span
    if end is not None and first.normalize() > pd.Timestamp(end).normalize():
        raise DataError(f"end={end} is before the first transaction")
    reviews = global_reviews(scheme, first, last, start, end)
    end_ts = last if end is None else pd.Timestamp(end)
    path, n = str(ds.path), ds.partitions
    ov = load_overrides(overrides, scheme.tier_names)
    if ds.meta.get("hash") == HASH_NAME and ds.meta.get("partitions") == n:
        cust_parts, ov_parts = _split(customers, n), _split(ov, n)
    else:  # not bucketed by our hash: every bucket gets the whole tables
        cust_parts, ov_parts = [customers] * n, [ov] * n
    out_dir = None if out is None else Path(out).expanduser()
    if out_dir is not None:
        for part in _PARTS if features else _PARTS[:3]:
            (out_dir / part).mkdir(parents=True, exist_ok=True)
            for old in (out_dir / part).glob("part-*.parquet"):
                old.unlink()
    with BucketRunner(client, workers, progress) as runner:
        edges = None
        if uses_scores(scheme):
            record = partial(_record_task, path, scheme, start, end_ts)
            pass_a = runner.map(record, [(k, cust_parts[k], None) for k in range(n)],
                                "scores (histograms)")

            def pass_b(wanted: dict) -> list[dict]:
                return runner.map(record, [(k, cust_parts[k], wanted) for k in range(n)],
                                  "scores (exact cut points)")

            edges = resolve_edges(pass_a, pass_b)
        task = partial(_tiers_task, path, scheme, reviews, start, end_ts, edges, lang, features,
                       each_bucket)
        out_arg = None if out_dir is None else str(out_dir)
        summaries = runner.map(task, [(k, cust_parts[k], ov_parts[k], out_arg)
                                      for k in range(n)], "tiers")
    if not any(s["customers"] for s in summaries):
        raise DataError(f"{ds.path}: no transactions to run the scheme on")
    if ov is not None:
        found = set().union(*(s.get("overridden", set()) for s in summaries))
        lost = ov["customer_id"][~ov["customer_id"].isin(found)]
        if len(lost):  # the in-memory run's warning, once for the whole dataset
            warnings.warn(f"{len(lost)} override row(s) name customers with no transactions "
                          f"and are ignored: {lost.unique()[:5].tolist()}", UserWarning,
                          stacklevel=2)
    return PartitionedHistory(scheme, reviews, summaries, out_dir, lang)
