"""The segmentation study on a bucketed dataset (a directory written by ``tl.write_dataset``).

A dataset may be larger than memory, so the study never holds its whole transaction log. What
the report needs is served in two ways:

- **exact, from partitioned passes** (:func:`tierlab.run_partitioned`, one read per bucket):
  the tier history of every customer (tiers at every review, changes with their reasons,
  current tiers, qualified levels), the RFM features of every customer, and the figures built
  from them — customer and transaction counts, tiers per review, moves, stability, revenue
  concentration, segments, clusters (fitted on their own sample of the features), the tier
  summary (customers, revenue and behaviour per tier, :func:`tier_summary`), tiers by region
  and industry, the tier table. These equal the report on the same data as a file;
- **from a seeded customer sample** (:attr:`DatasetStudyData.transactions`: every transaction
  of ``sample_customers`` customers drawn at random, reproducibly by ``seed``): what re-reads
  the transactions — whether the tiers predict spend over a hold-out window, the potential and
  churn models, rising stars and customers at risk (among the sampled customers). The report
  says so in its language (:func:`say_sample`).

The sample: buckets are visited in a seeded random order until they hold at least
``sample_customers`` customers; among those, the customers with the smallest FNV-1a hash of
``"<seed>:<customer id>"`` are kept (exactly ``sample_customers``, or everyone when there are
fewer). Bucket membership and the seeded hash are both uniform, so it is a simple random sample
of customers; only the chosen buckets are read again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError
from tierlab.i18n import date_label, text
from tierlab.io.dataset import META_FILE, Dataset, customer_hash
from tierlab.io.load import LoadResult
from tierlab.reporting.page import ReportPage
from tierlab.reporting.paths import resolve_input
from tierlab.study import StudyData, study_customers, study_cut
from tierlab.tiers.history import TierHistory
from tierlab.tiers.scheme import TierScheme

__all__ = ["DatasetHistory", "DatasetStudyData", "in_sample", "is_dataset",
           "load_dataset_study", "say_sample", "segmentation_summary", "tier_summary"]

#: Customers in the sample when not given.
SAMPLE_CUSTOMERS = 20_000


def is_dataset(source: object) -> bool:
    """Whether *source* names a dataset directory (as the notebook's ``transactions``)."""
    if isinstance(source, pd.DataFrame) or source is None or not str(source).strip():
        return False
    try:
        path = resolve_input(str(source), what="transactions")
    except DataError:
        return False
    return path.is_dir() and ((path / META_FILE).is_file()
                              or any(path.glob("bucket=*")) or any(path.glob("*.parquet")))


class DatasetHistory(TierHistory):
    """The tier history of a partitioned run, shaped like a run's :class:`TierHistory`.

    ``codes``, ``qualified_levels``, ``changes`` and ``current`` are those of the whole
    dataset (equal to ``scheme.run`` in memory); the reasons in other languages are the ones
    each bucket's run worded. :meth:`explain` is not available (the monthly arrays stay on the
    workers).
    """

    def __init__(self, scheme: TierScheme, customer_ids: pd.Index, reviews: pd.DatetimeIndex,
                 codes: np.ndarray, qualified_levels: np.ndarray, changes: pd.DataFrame,
                 current: pd.DataFrame, reasons: dict[str, tuple[np.ndarray, pd.Series]]):
        super().__init__(scheme, customer_ids, reviews, codes, qualified_levels)
        self.__dict__["changes"] = changes
        self.__dict__["current"] = current
        self._reasons = reasons

    def _other(self, lang: str) -> tuple[np.ndarray, pd.Series]:
        if lang not in self._reasons:
            raise ArgumentError(f"reasons in {lang!r} were not collected; pass lang={lang!r} "
                                "to load_dataset_study")
        return self._reasons[lang]

    def changes_in(self, lang: str = "en") -> pd.DataFrame:
        if lang == "en":
            return self.changes
        frame = self.changes.copy()
        frame["reason"] = pd.array(self._other(lang)[0], dtype="str")
        return frame

    def current_in(self, lang: str = "en") -> pd.DataFrame:
        if lang == "en":
            return self.current
        out = self.current.copy()
        out["reason"] = pd.array(self._other(lang)[1].reindex(out.index).to_numpy(),
                                 dtype="str")
        return out

    def explain(self, customer_id: Any) -> pd.DataFrame:
        raise ArgumentError("explain needs the monthly arrays, which a partitioned run keeps "
                            "on its workers; run the scheme in memory on that customer's rows")


@dataclass
class DatasetStudyData(StudyData):
    """:class:`tierlab.study.StudyData` of a dataset: ``transactions`` is the customer sample.

    Attributes (besides StudyData's)
    --------------------------------
    features : DataFrame
        ``tl.rfm`` of every customer at ``as_of``.
    history : DatasetHistory
        The scheme's tier history of every customer.
    rows, n_customers : int
        Transactions up to ``as_of`` and customers, over the whole dataset.
    first, last : Timestamp
        First and last transaction up to ``as_of``.
    sample_customers : int
        Customers in the sample (all of them when the dataset has no more).
    seed : int
    """

    features: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: Any = None
    rows: int = 0
    n_customers: int = 0
    rows_after_as_of: int = 0
    first: pd.Timestamp = field(default_factory=lambda: pd.Timestamp(0))
    last: pd.Timestamp = field(default_factory=lambda: pd.Timestamp(0))
    sample_customers: int = 0
    seed: int = 0
    path: Path = field(default_factory=Path)

    @property
    def sampled(self) -> bool:
        """Whether the sample leaves customers out."""
        return self.sample_customers < self.n_customers

    def quality(self) -> dict[str, Any]:
        """JSON-ready figures of the data used (the whole dataset) and of the sample."""
        out = super().quality()
        out.update(rows_used=self.rows, rows_after_as_of=self.rows_after_as_of,
                   sample={"customers": self.sample_customers, "seed": self.seed,
                           "transactions": len(self.transactions)})
        return out

    def data_sentence(self, lang: str) -> str:
        """The summary's "data used" sentence, for the whole dataset."""
        return text("s_no_rejected", lang, rows=f"{self.rows:,}",
                    customers=f"{self.n_customers:,}", start=date_label(self.first, lang),
                    end=date_label(self.last, lang))


# ------------------------------------------------------------------------------ per bucket
def _sample_keys(ids: pd.Index | pd.Series, seed: int) -> np.ndarray:
    return customer_hash(pd.Series(np.asarray(ids, dtype=object)).astype(str)
                         .radd(f"{seed}:"))


def _bucket_study(langs: tuple[str, ...], tx: pd.DataFrame, hist: TierHistory) -> dict:
    """What the study needs of one bucket besides the run's own parts."""
    out: dict[str, Any] = {"ids": hist.customer_ids, "qualified": hist.qualified_levels,
                           "rows": len(tx), "first": tx["timestamp"].min(),
                           "last": tx["timestamp"].max()}
    for lang in langs:
        out[lang] = (hist.changes_in(lang)["reason"].to_numpy(dtype=object),
                     hist.current_in(lang)["reason"])
    return out


def _assemble(run: Any, extras: list[dict], langs: tuple[str, ...]) -> DatasetHistory:
    R = len(run.reviews)
    ids = pd.Index(np.concatenate([np.asarray(e["ids"], dtype=object) for e in extras]))
    qualified = np.full((len(ids), R), -1, dtype=np.int8)
    row = 0
    for e in extras:
        q = e["qualified"]
        qualified[row:row + len(q), R - q.shape[1]:] = q
        row += len(q)
    order = pd.Index(ids.astype(str)).get_indexer(pd.Index(run.customer_ids.astype(str)))
    reasons = {}
    for lang in langs:
        unsorted = pd.concat([pd.Series(e[lang][0]) for e in extras], ignore_index=True)
        raw = pd.concat(run._part(1), ignore_index=True)  # bucket order, as the reasons
        perm = raw["customer_id"].astype(str).argsort(kind="stable").to_numpy()
        reasons[lang] = (unsorted.to_numpy()[perm],
                         pd.concat([e[lang][1] for e in extras]))
    current = run.current
    return DatasetHistory(run.scheme, current.index, run.reviews, run.codes,
                          qualified[order], run.changes, current, reasons)


def _sample(ds: Dataset, counts: dict[int, int], k: int, seed: int, cut: pd.Timestamp
            ) -> pd.DataFrame:
    """Every transaction (up to ``cut``) of ``k`` customers drawn by ``seed`` (module doc)."""
    order = np.random.default_rng(seed).permutation(ds.partitions)
    chosen, total = [], 0
    for b in order:  # a loop over buckets, not rows
        if counts.get(int(b), 0):
            chosen.append(int(b))
            total += counts[int(b)]
            if total >= k:
                break
    stop = (cut + pd.Timedelta(days=1)).to_datetime64()
    parts = []
    for b in sorted(chosen):
        tx = ds.read_bucket(b)
        parts.append(tx.loc[tx["timestamp"].to_numpy() < stop])
    tx = pd.concat(parts, ignore_index=True)
    ids = pd.Index(tx["customer_id"].unique())
    if len(ids) > k:
        keys = _sample_keys(ids, seed)
        keep = ids[np.argsort(keys, kind="stable")[:k]]
        tx = tx.loc[tx["customer_id"].isin(keep)]
    return tx.sort_values(["customer_id", "timestamp"], kind="stable", ignore_index=True)


def load_dataset_study(source: str | os.PathLike[str], scheme: TierScheme, *,
                       customers: str | os.PathLike[str] | pd.DataFrame | None = None,
                       customer_columns: dict[str, str] | None = None,
                       as_of: str | pd.Timestamp | None = None,
                       sample_customers: int = SAMPLE_CUSTOMERS, seed: int = 0,
                       langs: tuple[str, ...] = (), client: Any = None,
                       workers: int | None = None) -> DatasetStudyData:
    """Load a study from a dataset directory: exact partitioned passes plus a customer sample.

    Parameters
    ----------
    source : path
        A dataset directory written by :func:`tierlab.write_dataset`.
    scheme : TierScheme
        The scheme whose history the study reports (run bucket by bucket).
    customers, customer_columns, as_of
        As for :func:`tierlab.study.load_study_data`.
    sample_customers : int
        Customers whose transactions are loaded for the sections that re-read transactions.
    seed : int
        Seed of the sample.
    langs : tuple of str
        Languages other than English whose change reasons the report shows.
    client, workers
        As for :func:`tierlab.run_partitioned` (default: a local process pool).

    Returns
    -------
    DatasetStudyData
    """
    from tierlab.distributed import run_partitioned

    if isinstance(sample_customers, bool) or not isinstance(sample_customers, int) \
            or sample_customers < 1:
        raise ArgumentError(f"sample_customers must be a positive integer, got "
                            f"{sample_customers!r}")
    path = resolve_input(str(source), what="transactions")
    ds = Dataset(path)
    span = ds.time_range()
    if span is None:
        raise DataError(f"{path}: no usable transactions (the dataset is empty)")
    first, last = (pd.Timestamp(t) for t in span)
    cut = study_cut(as_of, first, last)
    cust, cres, skipped = study_customers(customers, customer_columns, sample_tx=False)
    langs = tuple(lang for lang in langs if lang != "en")
    run = run_partitioned(scheme, path, customers=cust, client=client, workers=workers,
                          end=cut, features=True, each_bucket=partial(_bucket_study, langs))
    extras = list(run.extras.values())
    history = _assemble(run, extras, langs)
    rows = int(sum(e["rows"] for e in extras))
    counts = {int(b): len(e["ids"]) for b, e in run.extras.items()}
    sample = _sample(ds, counts, sample_customers, seed, cut)
    total_rows = int(ds.meta.get("rows", rows))
    summary = {"file": str(path), "format": "dataset", "rows_in": total_rows,
               "rows_accepted": total_rows, "rows_rejected": 0, "rejected_by_reason": {},
               "customers": len(history.customer_ids),
               "first_date": first.date().isoformat(), "last_date": last.date().isoformat()}
    load = LoadResult(sample, pd.DataFrame({"source_row": pd.Series(dtype="int64"),
                                            "reason": pd.Series(dtype=object)}), summary)
    return DatasetStudyData(
        transactions=sample, customers=cust, load=load, customer_load=cres, as_of=cut,
        sample_customers_skipped=skipped,
        features=run.features, history=history, rows=rows,
        n_customers=len(history.customer_ids), rows_after_as_of=max(total_rows - rows, 0),
        first=min(e["first"] for e in extras), last=max(e["last"] for e in extras),
        sample_customers=int(sample["customer_id"].nunique()), seed=seed, path=path)

# ------------------------------------------------------------------------------ report steps
def tier_summary(data: StudyData, current: pd.Series,
                 customers: pd.DataFrame | None = None,
                 features: pd.DataFrame | None = None) -> pd.DataFrame:
    """``tl.tier_summary(current, tx, customers=…)`` of the study's data.

    On a dataset it is computed from the per-customer features of every customer (spend and
    orders up to the last transaction day, recency to that day), so it equals the summary of
    the whole log without reading it. On a file, *features* (``tl.rfm(tx, as_of=…)`` of the
    study) saves computing them again.
    """
    from tierlab.evaluate.common import as_tiers
    from tierlab.evaluate.summary import summary_of_customers
    from tierlab.evaluate.summary import tier_summary as summary_of_log

    if not isinstance(data, DatasetStudyData):
        return summary_of_log(current, data.transactions, customers=customers,
                              as_of=data.as_of, features=features)
    a = as_tiers(current).dropna()
    ids = a.index
    feats = data.features
    shift = (data.as_of - data.last.normalize()).days  # tier_summary: as_of = the last day
    return summary_of_customers(
        a, feats["monetary_total"].reindex(ids, fill_value=0.0).astype(float),
        feats["frequency"].reindex(ids, fill_value=0).astype(float),
        feats["recency_days"].reindex(ids).astype(float) - shift, customers)


def segmentation_summary(data: StudyData, history: TierHistory, lang: str = "en", *,
                         warnings: list[str] | tuple[str, ...] = (),
                         spend: pd.Series | None = None) -> str:
    """:func:`tierlab.study.segmentation_summary` of the study's data (a dataset: exact).

    On a dataset the revenue per tier comes from every customer's net spend (the features)
    and the "data used" sentence from the whole dataset. On a file, *spend* (customer → net
    spend, e.g. the features' ``monetary_total``) saves summing the transactions again.
    """
    from tierlab.study import segmentation_summary as summary_of_log

    if not isinstance(data, DatasetStudyData):
        return summary_of_log(history, data.transactions, data.load.summary, data.as_of, lang,
                              warnings=warnings, spend=spend)
    spend = data.features["monetary_total"]
    per_customer = pd.DataFrame({"customer_id": spend.index, "amount": spend.to_numpy(),
                                 "timestamp": data.last})
    paragraphs = summary_of_log(history, per_customer, data.load.summary, data.as_of, lang,
                                warnings=warnings).split("\n\n")
    paragraphs[1] = data.data_sentence(lang)  # the second sentence: the data used
    return "\n\n".join(paragraphs)


def in_sample(data: StudyData, tiers: pd.Series) -> pd.Series:
    """*tiers* of the customers whose transactions the study holds (all, for a file)."""
    if not isinstance(data, DatasetStudyData):
        return tiers
    return tiers[tiers.index.isin(data.transactions["customer_id"].unique())]


def say_sample(page: ReportPage, data: StudyData) -> None:
    """On a dataset, say in the report's language what is exact and what the sample serves."""
    if isinstance(data, DatasetStudyData):
        page.say("p_dataset_sample" if data.sampled else "p_dataset_all",
                 rows=f"{data.rows:,}", customers=f"{data.n_customers:,}",
                 sample=f"{data.sample_customers:,}", seed=data.seed)
