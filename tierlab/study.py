"""Notebook recipes: the study steps that combine several tierlab calls.

The notebooks in ``notebooks/`` hold no logic: each step they show is one call into
:mod:`tierlab`; the steps that combine several calls live here so they are tested and reused.
This module sits on top: nothing in :mod:`tierlab` imports it.

Notebooks call everything as ``study.<name>``, so the helpers they use from lower layers are
re-exported here: the report page (:class:`~tierlab.reporting.page.ReportPage`: headings,
sentences, tables and figures in the report's language), the executive summaries and sanity
checks (:mod:`tierlab.reporting.summary`), paths (:mod:`tierlab.reporting.paths`; see there how
relative paths are resolved), output writers (:mod:`tierlab.reporting.outputs`),
:func:`limit_threads` (:mod:`tierlab.reporting.threads`), threshold paths and sweeps
(:mod:`tierlab.sweeps`), :func:`~tierlab.evaluate.holdout_cutoff` and
:func:`~tierlab.jsonable.to_jsonable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError
from tierlab.evaluate import holdout_cutoff
from tierlab.i18n import check_lang, text
from tierlab.jsonable import to_jsonable
from tierlab.reporting.outputs import write_metrics, write_table
from tierlab.reporting.page import ReportPage, sweep_label
from tierlab.reporting.paths import PROJECT_ROOT_ENV, project_root, resolve_input, resolve_output
from tierlab.reporting.summary import (
    impact_summary,
    sanity_checks,
    segmentation_summary,
    tier_mix,
    who_changes,
)
from tierlab.reporting.tables import cluster_table, model_table
from tierlab.reporting.threads import limit_threads
from tierlab.sweeps import ThresholdPath, default_sweep, sweep_values, threshold_paths

if TYPE_CHECKING:
    import os

    from matplotlib.axes import Axes

    from tierlab import Comparison, LoadResult, RFMScorer, TierHistory, TierScheme
    from tierlab.evaluate import Validity

__all__ = [
    "affected_in", "cluster_table", "default_sweep", "export_tier_workbook", "flags_table",
    "holdout_cutoff", "impact_summary", "limit_threads", "load_study_data", "model_table",
    "plot_rfm_distributions", "potential_flags", "project_root", "PROJECT_ROOT_ENV",
    "rejected_by_reason", "ReportPage", "resolve_input", "resolve_output", "sanity_checks",
    "scheme_names", "scheme_table", "score_ranges", "segment_table", "segmentation_summary",
    "start_report", "study_warnings", "StudyData", "sweep_label", "sweep_values",
    "threshold_paths", "ThresholdPath", "tier_counts", "tier_crosstab", "tier_mix",
    "tier_table_in", "tier_validity", "to_jsonable", "who_changes", "write_metrics",
    "write_table",
]


# ------------------------------------------------------------------------------------- inputs
@dataclass
class StudyData:
    """The inputs of a study, loaded and cut at ``as_of``.

    Attributes
    ----------
    transactions : DataFrame
        Canonical transactions up to and including the day ``as_of``.
    customers : DataFrame or None
        Canonical customer table (contacts NOT masked: mask before display, see
        :func:`tierlab.io.export.mask_contacts`).
    load : LoadResult
        The transaction load (summary and rejected rows).
    customer_load : LoadResult or None
        The customer-table load.
    as_of : Timestamp
        The study date: ``as_of`` as given, else the last transaction day.
    sample_customers_skipped : bool
        The bundled sample's customer table was named but not used: it belongs to the sample
        transactions only.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame | None
    load: LoadResult
    customer_load: LoadResult | None
    as_of: pd.Timestamp
    sample_customers_skipped: bool = field(default=False)

    def quality(self) -> dict[str, Any]:
        """JSON-ready data-quality figures: the load summaries and rows after ``as_of``."""
        out: dict[str, Any] = {"transactions": to_jsonable(self.load.summary),
               "as_of": self.as_of.date().isoformat(),
               "rows_used": len(self.transactions),
               "rows_after_as_of": int(len(self.load.transactions) - len(self.transactions))}
        if self.customer_load is not None:
            out["customers"] = to_jsonable(self.customer_load.summary)
        return out


def load_study_data(transactions: str | os.PathLike[str] | pd.DataFrame, *,
                    columns: Mapping[str, str] | None = None, date_format: str | None = None,
                    customers: str | os.PathLike[str] | pd.DataFrame | None = None,
                    customer_columns: Mapping[str, str] | None = None,
                    as_of: str | pd.Timestamp | None = None) -> StudyData:
    """Load the transactions (and customer table) a study names, cut at ``as_of``.

    Parameters
    ----------
    transactions : path or DataFrame
        Transaction log (see :func:`resolve_input` for relative paths).
    columns : mapping, optional
        Column mapping for :func:`tierlab.io.load.load_transactions`.
    date_format : str, optional
        Date format tried first.
    customers : path or DataFrame, optional
        Customer table.
    customer_columns : mapping, optional
        Column mapping for :func:`tierlab.io.load.load_customers`.
    as_of : date-like, optional
        Last day used (its whole day is included); default the last day in the data.

    Returns
    -------
    StudyData
    """
    from tierlab.io.load import load_transactions

    src = transactions if isinstance(transactions, pd.DataFrame) else resolve_input(
        transactions, what="transactions")
    res = load_transactions(src, columns=dict(columns) if columns else None,
                            date_format=date_format or None)
    tx = res.transactions
    if len(tx) == 0:
        raise DataError(f"{res.summary['file']}: no usable transactions "
                        f"({res.summary['rows_rejected']:,} rows rejected)")
    last = pd.Timestamp(tx["timestamp"].max()).normalize()
    cut = study_cut(as_of, pd.Timestamp(tx["timestamp"].min()), last)
    if cut != last:
        tx = tx.loc[tx["timestamp"] < cut + pd.Timedelta(days=1)].reset_index(drop=True)
    cust, cres, skipped = study_customers(customers, customer_columns,
                                          sample_tx=_is_sample(src, "transactions.csv"))
    return StudyData(transactions=tx, customers=cust, load=res, customer_load=cres, as_of=cut,
                     sample_customers_skipped=skipped)


def study_cut(as_of: Any, first: pd.Timestamp, last: pd.Timestamp) -> pd.Timestamp:
    """The study date: *as_of* (a date, not before the *first* transaction) or the *last* day."""
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return last.normalize()
    try:
        cut = pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError):
        raise ArgumentError(f"as_of: {as_of!r} is not a date; write it as YYYY-MM-DD") from None
    if cut < first.normalize():
        raise DataError(f"as_of {cut.date()} is before the first transaction ({first.date()})")
    return cut


def study_customers(customers: Any, columns: Mapping[str, str] | None, *, sample_tx: bool
                    ) -> tuple[pd.DataFrame | None, LoadResult | None, bool]:
    """The customer table of a study: (customers, their load result, sample table skipped).

    The bundled sample's customer table describes the sample's transactions only: with other
    transactions (``sample_tx`` false) it is skipped, and the report says so.
    """
    if customers is None or (isinstance(customers, str) and not customers.strip()):
        return None, None, False
    from tierlab.io.load import load_customers

    csrc = customers if isinstance(customers, pd.DataFrame) else resolve_input(
        customers, what="customers")
    if _is_sample(csrc, "customers.csv") and not sample_tx:
        return None, None, True
    cres = load_customers(csrc, columns=dict(columns) if columns else None)
    return cres.customers, cres, False


def _is_sample(source: object, name: str) -> bool:
    """Whether *source* is the bundled sample's file *name* (``data/sample/<name>``)."""
    if isinstance(source, pd.DataFrame):
        return False
    sample = project_root() / "data" / "sample" / name
    try:
        return Path(str(source)).resolve() == sample.resolve()
    except OSError:
        return False


# ------------------------------------------------------------------------------------- the page
def start_report(lang: str = "en") -> ReportPage:
    """The page a report shows everything through, in *lang*, with warnings turned into notes."""
    return ReportPage(check_lang(lang)).start()


def study_warnings(data: StudyData, history: TierHistory, page: ReportPage) -> list[str]:
    """The warnings a summary lists: sanity checks, the sample's customer table, notes so far."""
    out = []
    if data.sample_customers_skipped:
        out.append(text("w_sample_customers", page.lang))
    out += sanity_checks(history, data.transactions, data.customers, page.lang)
    return out + [n for n in page.notes.notes if n not in out]


def scheme_table(scheme: TierScheme, lang: str = "en") -> pd.DataFrame:
    """A scheme's tiers for people, highest first: tier, label, condition, reviews to qualify."""
    from tierlab.tiers.reasons import describe_condition

    rows = [{"tier": t.name, "label": t.label or t.name,
             "condition": describe_condition(t.when, lang) if t.when is not None else None,
             "promote_after": scheme.promote_after(k) if k else None,
             "benefit_cost": float(t.benefit_cost) if t.benefit_cost is not None else None}
            for k, t in enumerate(scheme.tiers)]  # a loop over tiers
    out = pd.DataFrame(rows).iloc[::-1].reset_index(drop=True)
    out["promote_after"] = out["promote_after"].astype("Int64")
    return out


def tier_table_in(history: TierHistory, customers: pd.DataFrame | None,
                  lang: str = "en") -> pd.DataFrame:
    """:func:`tierlab.io.export.tier_table` (contacts masked) with the reasons in *lang*."""
    from tierlab.io.export import tier_table

    return tier_table(history, customers, lang=lang)


def export_tier_workbook(history: TierHistory, customers: pd.DataFrame | None,
                         path: str | os.PathLike[str], lang: str = "en") -> Path:
    """The tier workbook (contacts masked) in *lang*: headers, sheet names, reasons and words.

    :func:`tierlab.io.export.export_tier_table` with ``lang``.
    """
    from tierlab.io.export import export_tier_table

    return export_tier_table(history, customers, Path(path), lang=lang)


def affected_in(comparison: Comparison, lang: str = "en") -> pd.DataFrame:
    """The comparison's most affected customers, with each scheme's reason in *lang*."""
    table = comparison.affected.copy()
    if lang == "en" or not len(table):
        return table
    ids = table["customer_id"].astype(str)
    for name, hist in comparison.histories.items():  # a loop over schemes
        col = f"reason_{name}"
        if col in table.columns:
            reasons = hist.current_in(lang)["reason"]
            reasons.index = reasons.index.astype(str)
            table[col] = reasons.reindex(ids).to_numpy()
    return table


def flags_table(flagged: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    """The first flagged customers for a report."""
    return flagged.head(rows)


def score_ranges(scorer: RFMScorer, lang: str = "en") -> pd.DataFrame:
    """The RFM score cut points for people: dimension, score, range (``≤ 3``, ``3 – 19``)."""
    rep = scorer.edges_report()
    lower, upper = rep["lower"].to_numpy(dtype=float), rep["upper"].to_numpy(dtype=float)

    def num(x: np.ndarray) -> pd.Series:
        return pd.Series([f"{v:,.2f}".rstrip("0").rstrip(".") for v in x])  # a loop over bins

    low, up = num(lower), num(upper)
    text_range = np.where(~np.isfinite(lower), "≤ " + up,
                          np.where(~np.isfinite(upper), "> " + low, low + " – " + up))
    words = {"R": text("dim_recency", lang), "F": text("dim_frequency", lang),
             "M": text("dim_monetary", lang)}
    return pd.DataFrame({"dimension": rep["dimension"].map(words).to_numpy(),
                         "score": rep["score"].to_numpy(), "range": text_range,
                         "customers": rep["customers"].to_numpy()})


def rejected_by_reason(load: LoadResult) -> pd.DataFrame:
    """Rejected rows per reason of a :class:`~tierlab.io.load.LoadResult`, with examples.

    Returns
    -------
    DataFrame
        ``reason``, ``rows``, ``share`` (of the rows read) and ``example_rows`` (the first
        five ``source_row`` numbers), most frequent reason first.
    """
    rej = load.rejected
    n = max(int(load.summary.get("rows_in", 0)), 1)
    if len(rej) == 0:
        return pd.DataFrame({"reason": pd.Series(dtype=object), "rows": pd.Series(dtype="int64"),
                             "share": pd.Series(dtype=float),
                             "example_rows": pd.Series(dtype=object)})
    g = rej.groupby("reason", sort=False)["source_row"]
    out = pd.DataFrame({"rows": g.size().astype("int64"),
                        "example_rows": g.apply(lambda s: ", ".join(map(str, s.head(5))))})
    out["share"] = out["rows"] / n
    out = out.sort_values("rows", ascending=False, kind="stable").reset_index()
    return out[["reason", "rows", "share", "example_rows"]]


# ------------------------------------------------------------------------------------- study steps
def segment_table(segments: pd.Series, features: pd.DataFrame) -> pd.DataFrame:
    """Customers, revenue and typical behaviour per RFM segment.

    Parameters
    ----------
    segments : Series
        customer_id → segment (e.g. :func:`tierlab.scoring.assign_segments`).
    features : DataFrame
        :func:`tierlab.features.rfm` frame (same index).

    Returns
    -------
    DataFrame
        Indexed by segment (in category order): ``customers``, ``share``, ``revenue``,
        ``revenue_share``, ``median_recency_days``, ``median_frequency``, ``median_monetary``.
    """
    f = features.reindex(segments.index)
    g = f.groupby(segments, observed=False, sort=True)
    out = pd.DataFrame({
        "customers": g.size().astype("int64"),
        "revenue": g["monetary_total"].sum(),
        "median_recency_days": g["recency_days"].median(),
        "median_frequency": g["frequency"].median(),
        "median_monetary": g["monetary_total"].median(),
    })
    n, total = out["customers"].sum(), out["revenue"].sum()
    out.insert(1, "share", out["customers"] / n if n else 0.0)
    out.insert(3, "revenue_share", out["revenue"] / total if total else np.nan)
    out.index.name = "segment"
    return out


def plot_rfm_distributions(features: pd.DataFrame, *,
                           axes: Sequence[Axes] | None = None) -> np.ndarray:
    """Histograms of recency, orders and net spend per customer (log scale for the last two).

    Parameters
    ----------
    features : DataFrame
        :func:`tierlab.features.rfm` frame.
    axes : sequence of three Axes, optional
        Where to draw; a new figure with three panels when None.

    Returns
    -------
    ndarray of Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    spend = features["monetary_total"].to_numpy(dtype=float).clip(min=1.0)
    # histograms of every customer, binned by numpy (seaborn's histplot checks each value
    # in Python: minutes for a million customers)
    _histogram(axes[0], features["recency_days"].to_numpy(dtype=float), log=False)
    axes[0].set(title="Days since last purchase", xlabel="days", ylabel="customers")
    _histogram(axes[1], features["frequency"].to_numpy(dtype=float).clip(min=1.0), log=True)
    axes[1].set(title="Orders", xlabel="orders (log scale)", ylabel="customers")
    _histogram(axes[2], spend, log=True)
    axes[2].set(title="Net spend", xlabel="net spend (log scale; ≤ 1 shown at 1)",
                ylabel="customers")
    return np.asarray(axes)


def _histogram(ax: Axes, values: np.ndarray, *, log: bool, bins: int = 30) -> None:
    """30 equal bins (equal in log scale when *log*) of the finite *values*, as bars."""
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (1.0, 2.0)
    hi = hi if hi > lo else lo + 1.0
    edges = np.geomspace(lo, hi, bins + 1) if log else np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(values, bins=edges)
    ax.stairs(counts, edges, fill=True, alpha=0.75, edgecolor="white", linewidth=0.5)
    if log:
        ax.set_xscale("log")


def tier_counts(history: TierHistory) -> pd.DataFrame:
    """Customers per tier at every review (review × tier, lowest tier first)."""
    codes = np.asarray(history.codes)
    k = len(history.scheme.tier_names)
    counts = np.stack([np.bincount(codes[:, j][codes[:, j] >= 0], minlength=k)
                       for j in range(codes.shape[1])])  # loop over reviews
    return pd.DataFrame(counts.astype("int64"), index=pd.DatetimeIndex(history.reviews,
                                                                       name="review"),
                        columns=pd.Index(history.scheme.tier_names, name="tier"))


def tier_validity(scheme: TierScheme, tx: pd.DataFrame, *, customers: pd.DataFrame | None = None,
                  as_of: str | pd.Timestamp | None = None, months: int = 6,
                  history: TierHistory | None = None) -> Validity:
    """Do the scheme's tiers predict spend? Tiers at a cutoff scored on the months after.

    The scheme runs on the data up to ``cutoff = as_of − months``; the tier in force at the
    cutoff is scored with :func:`tierlab.evaluate.holdout_validity` against net spend in the
    days ``(cutoff, as_of]`` — as :func:`tierlab.compare.compare_schemes` does per scheme.
    ``history``, the scheme's run on the same *tx* and *customers*, is reused when the cutoff is
    one of its review dates: a review sees only the data up to its date, so its tiers there are
    those of a run that ends at the cutoff (customers who joined later are left out).

    Returns
    -------
    Validity
    """
    from tierlab.evaluate import holdout_validity

    as_of = pd.Timestamp(tx["timestamp"].max()).normalize() if as_of is None else \
        pd.Timestamp(as_of).normalize()
    cutoff = holdout_cutoff(tx, as_of, months)
    if history is not None and history.scheme is scheme and cutoff in history.reviews:
        tiers = history.at(cutoff)  # NaN for customers who joined later: left out
    else:
        tiers = scheme.run(tx, customers=customers, end=cutoff).at(cutoff)
    return holdout_validity(tiers, tx, cutoff + pd.Timedelta(days=1), as_of)


def potential_flags(tiers: pd.Series, tx: pd.DataFrame, *, tier_order: Sequence[str],
                    as_of: str | pd.Timestamp | None = None, horizon_days: int = 182,
                    random_state: int = 0, top_share: float = 0.1,
                    risk_threshold: float = 0.5, lang: str = "en",
                    labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Rising stars and customers at risk for the ``horizon_days`` after ``as_of``.

    Trains :class:`tierlab.potential.PotentialModel` on the window ending at ``as_of``, predicts
    the next window and flags with :func:`tierlab.potential.flag_customers` (reasons in
    ``lang``; ``labels``: tier name → the name the reasons show, used in Chinese).

    Returns
    -------
    DataFrame
        The :func:`~tierlab.potential.flag_customers` frame (every customer in ``tiers``).
    """
    from tierlab.potential import PotentialModel, flag_customers

    as_of = pd.Timestamp(tx["timestamp"].max()).normalize() if as_of is None else \
        pd.Timestamp(as_of).normalize()
    model = PotentialModel(random_state=random_state).fit(tx, as_of, horizon_days=horizon_days)
    pred = model.predict(tx, as_of=as_of,
                         columns=("predicted_spend", "p_no_purchase", "p_alive"))
    return flag_customers(tiers, pred, tier_order=list(tier_order), top_share=top_share,
                          risk_threshold=risk_threshold, lang=lang,
                          labels=labels if lang == "zh" else None)


def tier_crosstab(tiers: pd.Series, customers: pd.DataFrame, by: str, *,
                  revenue: pd.Series | None = None) -> pd.DataFrame:
    """Customers (and revenue share) per tier × customer attribute, highest tier first.

    Customers whose attribute is missing are counted under ``unknown`` (as in
    :func:`tierlab.tiers.engine.cross_tiers`).

    Returns
    -------
    DataFrame
        Rows = tiers (highest first), columns = attribute values, cells = customers; with
        ``revenue`` (customer_id → revenue) a second column level ``revenue_share`` gives each
        cell's share of total revenue.
    """
    table = customers.set_index("customer_id") if "customer_id" in customers.columns \
        else customers
    if by not in table.columns:
        raise DataError(f"customer table has no column {by!r}; columns: {list(table.columns)}")
    assigned = tiers.dropna()
    frame = pd.DataFrame({
        "tier": assigned,
        by: table[by].reindex(assigned.index.astype(str)).astype(object).fillna("unknown")
        .astype(str).to_numpy(),
    })
    counts = pd.crosstab(frame["tier"], frame[by]).iloc[::-1]
    if revenue is None:
        return counts
    rev = revenue.reindex(frame.index).fillna(0.0)
    share = pd.crosstab(frame["tier"], frame[by], values=rev, aggfunc="sum").fillna(0.0)
    share = (share / rev.sum() if rev.sum() else share * 0.0).iloc[::-1]
    return pd.concat({"customers": counts, "revenue_share": share}, axis=1)


# ------------------------------------------------------------------------------------- schemes
def scheme_names(paths: Sequence[str]) -> list[str]:
    """Short unique names for scheme files: the file stems (``monthly_spend_strict``)."""
    stems = [Path(str(p)).stem for p in paths]
    out = []
    for i, s in enumerate(stems):
        out.append(s if stems.count(s) == 1 else f"{s}_{i + 1}")
    return out
