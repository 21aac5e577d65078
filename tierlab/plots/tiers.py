"""Plots of tiers: sizes, trend over reviews, migration, a threshold sweep, schemes side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from tierlab.errors import DataError
from tierlab.frames import require_columns
from tierlab.plots._base import (
    as_frame,
    attr_frame,
    cell_texts,
    check_ax,
    choice,
    fit_cjk,
    heatmap,
    levels,
    new_or_given,
    nice,
    number,
    quiet_glyphs,
    tier_sorted,
)
from tierlab.plots._docstrings import fill_doc

if TYPE_CHECKING:
    from tierlab.compare import Comparison
    from tierlab.tiers.history import TierHistory

__all__ = [
    "plot_migration",
    "plot_scheme_comparison",
    "plot_threshold_sweep",
    "plot_tier_distribution",
    "plot_tier_trend",
]


_SUMMARY = ("a tier_summary DataFrame (index tier; columns customers, share, revenue, "
            "revenue_share)")


def _share_column(frame: pd.DataFrame, share: str, count: str, func: str) -> np.ndarray:
    """Column *share*, or *count* divided by its total when only the count is there."""
    if share not in frame.columns and count in frame.columns:
        require_columns(frame, [count], func, _SUMMARY, numeric=[count])
        values = frame[count].to_numpy(dtype="float64")
        total = np.nansum(values)
        return values / total if total != 0 else np.zeros_like(values)
    require_columns(frame, [share], func, _SUMMARY, numeric=[share])
    return frame[share].to_numpy(dtype="float64")


@fill_doc
def plot_tier_distribution(summary: pd.DataFrame, *, value: str = "both",
                           ax: Axes | None = None) -> Axes:
    """Bar chart of the share of customers and/or revenue in each tier.

    Parameters
    ----------
    summary : DataFrame
        A :func:`tierlab.evaluate.tier_summary` frame: indexed by tier (lowest first, or an
        ordered categorical index) with ``share`` and ``revenue_share`` (or ``customers`` and
        ``revenue``, from which the shares are computed).
    value : {{"both", "customers", "revenue"}}, default "both"
        Which shares to draw; with "both" the two bars of a tier stand side by side.
    {params.ax}

    Returns
    -------
    Axes
        The Axes drawn on: one bar per tier and drawn share, labelled with its percentage.

    Raises
    ------
    {params.raises}
    {params.raises_choice}

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({{"customers": [80, 15, 5], "share": [0.8, 0.15, 0.05],
    ...                         "revenue": [2e4, 3e4, 5e4], "revenue_share": [0.2, 0.3, 0.5]}},
    ...                        index=pd.Index(["Low", "Mid", "High"], name="tier"))
    >>> ax = plot_tier_distribution(summary)
    >>> len(ax.patches)
    6
    """
    # over 60 lines only with its docstring and example; the body checks, then draws
    func = "plot_tier_distribution"
    choice(value, ("both", "customers", "revenue"), func, "value")
    check_ax(ax, func)
    frame = tier_sorted(as_frame(summary, func, _SUMMARY))
    series: dict[str, np.ndarray] = {}
    if value in ("customers", "both"):
        series["Customers"] = _share_column(frame, "share", "customers", func)
    if value in ("revenue", "both"):
        series["Revenue"] = _share_column(frame, "revenue_share", "revenue", func)

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        x = np.arange(len(frame))
        n = len(series)
        width = 0.8 / n
        colors = sns.color_palette(n_colors=n)
        for i, (label, heights) in enumerate(series.items()):
            bars = ax.bar(x + (i - (n - 1) / 2) * width, heights, width, label=label,
                          color=colors[i])
            ax.bar_label(bars, labels=["" if not np.isfinite(h) else f"{h:.0%}" for h in heights],
                         padding=2, fontsize="small")
        ax.set_xticks(x, labels=[str(t) for t in frame.index])
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(bottom=0)
        ax.margins(y=0.12)
        ax.set_xlabel(nice(frame.index.name, "Tier"))
        ax.set_ylabel("Share of total")
        what = {"both": "customers and revenue", "customers": "customers",
                "revenue": "revenue"}[value]
        ax.set_title(f"Share of {what} by tier")
        if n > 1:
            ax.legend(title=None)
        fit_cjk(ax)
    return ax


@fill_doc
def plot_tier_trend(history: TierHistory, *, share: bool = False, kind: str = "area",
                    labels: bool = False, ax: Axes | None = None) -> Axes:
    """Customers per tier at every review of a tier history.

    Parameters
    ----------
    history : TierHistory
        From :meth:`TierScheme.run`; uses ``history.codes`` (customers x reviews,
        ``-1`` before entry), ``history.reviews`` and ``history.scheme.tier_names``.
    share : bool, default False
        Draw each tier's share of the customers present at the review instead of counts.
    kind : {{"area", "line"}}, default "area"
        Stacked areas (lowest tier at the bottom) or one line per tier.
    labels : bool, default False
        Name the tiers by their display labels (``scheme.labels``, e.g. ``高级客户``) instead of
        their names.
    {params.ax}

    Returns
    -------
    Axes
        One area (PolyCollection) or line per tier, in tier order.

    Raises
    ------
    {params.raises}
    {params.raises_choice}
    """
    # over 60 lines: checks of the history, then one drawing block sharing its axis set-up
    func = "plot_tier_trend"
    choice(kind, ("area", "line"), func, "kind")
    check_ax(ax, func)
    scheme = getattr(history, "scheme", None)
    names = getattr(scheme, "tier_names", None)
    codes = getattr(history, "codes", None)
    reviews = getattr(history, "reviews", None)
    if names is None or codes is None or reviews is None:
        raise TypeError(f"{func} expects a TierHistory (from TierScheme.run) with .codes, "
                        f".reviews and .scheme.tier_names, got {type(history).__name__}")
    codes = np.asarray(codes)
    reviews = pd.DatetimeIndex(reviews)
    names = list(names)
    if codes.ndim != 2 or codes.shape[1] != len(reviews):
        raise DataError(f"{func}: history.codes must be a customers x reviews array with one "
                        f"column per review ({len(reviews)}), got shape {codes.shape}")
    if codes.size == 0:
        raise DataError(f"{func}: the history has no customers or no reviews; nothing to plot")
    if codes.max() >= len(names) or codes.min() < -1:
        raise DataError(f"{func}: history.codes holds values outside -1..{len(names) - 1} "
                        f"(the scheme has {len(names)} tiers)")

    counts = np.stack([(codes == k).sum(axis=0) for k in range(len(names))]).astype("float64")
    if share:
        present = counts.sum(axis=0)
        counts = np.divide(counts, present, out=np.zeros_like(counts), where=present > 0)
    display = getattr(scheme, "labels", None) or {}
    shown = [str(display.get(n, n)) for n in names] if labels else [str(n) for n in names]

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        colors = sns.color_palette(n_colors=len(names))
        if kind == "area":
            ax.stackplot(reviews, counts, labels=shown, colors=colors, alpha=0.9)
        else:
            for k, label in enumerate(shown):
                ax.plot(reviews, counts[k], marker="o", markersize=3, label=label,
                        color=colors[k])
        handles, legend_labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], legend_labels[::-1], title="Tier", loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize="small")  # highest tier on top
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        if len(reviews) > 1:
            ax.set_xlim(float(mdates.date2num(reviews[0])), float(mdates.date2num(reviews[-1])))
        if share:
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:
            ax.set_ylim(bottom=0)
        ax.set_xlabel("Review")
        ax.set_ylabel("Share of customers" if share else "Customers")
        title = f"{'Share of customers' if share else 'Customers'} per tier"
        scheme_name = getattr(scheme, "name", None)
        ax.set_title(f"{title} — {scheme_name}" if scheme_name else title)
        fit_cjk(ax)
    return ax


@fill_doc
def plot_migration(matrix: pd.DataFrame, *, fmt: str | None = None, annot: bool = True,
                   cmap: str = "Blues", cbar: bool = True, ax: Axes | None = None) -> Axes:
    """Heatmap of a tier migration matrix, each cell annotated.

    Parameters
    ----------
    matrix : DataFrame
        From :func:`tierlab.evaluate.migration_matrix`: rows = tier before (index ``from``),
        columns = tier after (``to``), counts or shares; a ``(none)`` row/column is drawn when
        it holds customers (an all-zero one is left out).
    fmt : str, optional
        Format of the cell texts (e.g. ``"d"``, ``".1%"``). By default whole numbers are shown
        as counts (``"d"``), a matrix of values in [0, 1] as percentages (``".0%"``).
    {params.annot}
    cmap : str, default "Blues"
        Colour map.
    {params.cbar}
    {params.ax}

    Returns
    -------
    Axes
        The heatmap (a QuadMesh holding the matrix values, first row at the top).

    Raises
    ------
    {params.raises}
    """
    func = "plot_migration"
    expected = ("a migration_matrix DataFrame (rows: tier before, columns: tier after, numeric "
                "counts or shares)")
    check_ax(ax, func)
    frame = as_frame(matrix, func, expected)
    require_columns(frame, [], func, expected, numeric=list(frame.columns))
    frame = _drop_empty_none(frame)
    values = frame.to_numpy(dtype="float64")
    finite = values[np.isfinite(values)]
    whole = bool(np.all(finite == np.round(finite)))
    is_share = not whole and finite.size > 0 and finite.min() >= 0 and finite.max() <= 1
    if fmt is None:
        fmt = "d" if whole else ".0%" if is_share else None

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        texts = cell_texts(values, fmt) if annot else False
        what = "share of customers" if is_share else "customers"
        heatmap(ax, frame, texts, cmap=cmap, cbar=cbar, cbar_label=nice(what, what),
                 vmin=0 if finite.size and finite.min() >= 0 else None)
        ax.set_xlabel("To tier" if frame.columns.name in (None, "to") else
                      nice(frame.columns.name, "To tier"))
        ax.set_ylabel("From tier" if frame.index.name in (None, "from") else
                      nice(frame.index.name, "From tier"))
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_title(f"Tier migration ({what})")
        fit_cjk(ax)
    return ax


def _drop_empty_none(frame: pd.DataFrame) -> pd.DataFrame:
    """The matrix without a ``(none)`` row or column that holds no customer (an empty category)."""
    from tierlab.evaluate import NONE_LABEL

    values = frame.to_numpy(dtype="float64")
    rows = [i for i, r in enumerate(frame.index)
            if not (r == NONE_LABEL and np.nansum(np.abs(values[i])) == 0)]
    cols = [j for j, c in enumerate(frame.columns)
            if not (c == NONE_LABEL and np.nansum(np.abs(values[:, j])) == 0)]
    return frame.iloc[rows, cols] if rows and cols else frame


_SWEEP_LABELS = {"share": "Share of customers", "customers": "Customers",
                 "revenue_share": "Share of revenue"}


@fill_doc
def plot_threshold_sweep(sweep: pd.DataFrame, *, value: str = "share",
                         current: float | None = None, xlabel: str | None = None,
                         ax: Axes | None = None) -> Axes:
    """Tier sizes as one threshold of a scheme varies: one line per tier.

    Parameters
    ----------
    sweep : DataFrame
        From :func:`tierlab.compare.threshold_sweep`: long frame with ``value`` (the threshold
        tried), ``tier`` (ordered categorical or in tier order), ``customers``, ``share``,
        ``revenue_share``.
    value : {{"share", "customers", "revenue_share"}}, default "share"
        What to draw per tier.
    current : float, optional
        The threshold in use, marked with a vertical line.
    xlabel : str, optional
        Label of the threshold axis (default: ``sweep.attrs["path"]`` when set, else
        "Threshold value").
    {params.ax}

    Returns
    -------
    Axes
        One line per tier (in tier order), x = threshold value.

    Raises
    ------
    {params.raises}
    {params.raises_choice}
    """
    func = "plot_threshold_sweep"
    expected = "a threshold_sweep DataFrame with columns value, tier, customers, share, " \
               "revenue_share"
    choice(value, tuple(_SWEEP_LABELS), func, "value")
    check_ax(ax, func)
    frame = as_frame(sweep, func, expected)
    require_columns(frame, ["value", "tier", value], func, expected, numeric=["value", value])
    if frame.duplicated(["value", "tier"]).any():
        raise DataError(f"{func}: the sweep has more than one row for a (value, tier) pair; "
                        f"pass one sweep (one row per threshold value and tier)")
    tiers = levels(frame["tier"])

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        colors = sns.color_palette(n_colors=len(tiers))
        for tier, color in zip(tiers, colors, strict=True):
            part = frame.loc[frame["tier"] == tier].sort_values("value")
            ax.plot(part["value"].to_numpy(dtype="float64"), part[value].to_numpy(dtype="float64"),
                    marker="o", markersize=3, color=color, label=str(tier))
        if current is not None:
            ax.axvline(float(current), linestyle=":", color="grey", label="Current value")
        if value != "customers":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(bottom=0)
        ax.set_xlabel(xlabel or str(frame.attrs.get("path") or "Threshold value"))
        ax.set_ylabel(_SWEEP_LABELS[value])
        ax.set_title(f"{_SWEEP_LABELS[value]} per tier as the threshold varies")
        ax.legend(title="Tier", fontsize="small")
        fit_cjk(ax)
    return ax


_COMPARISON_VALUES = {"revenue_share": "Share of revenue", "revenue": "Revenue",
                      "customers": "Customers", "benefit_cost": "Benefit cost"}


@fill_doc
def plot_scheme_comparison(comparison: Comparison | pd.DataFrame, *, value: str = "revenue_share",
                           ax: Axes | None = None) -> Axes:
    """Grouped bars of revenue share (or customers, revenue, benefit cost) per tier per scheme.

    Parameters
    ----------
    comparison : Comparison or DataFrame
        From :func:`tierlab.compare.compare_schemes` (uses ``.revenue_cost``), or that long
        frame: ``scheme``, ``tier``, ``customers``, ``revenue``, ``revenue_share``,
        ``benefit_cost``.
    value : {{"revenue_share", "revenue", "customers", "benefit_cost"}}, default "revenue_share"
        What the bars show.
    {params.ax}

    Returns
    -------
    Axes
        One bar per scheme and tier (a tier missing from a scheme gets no bar), tiers in order
        along x, schemes in the order given (legend).

    Raises
    ------
    {params.raises}
    {params.raises_choice}
    """
    # over 60 lines only with its docstring; the body checks, then draws
    func = "plot_scheme_comparison"
    expected = ("a Comparison (compare_schemes) or its revenue_cost DataFrame with columns "
                "scheme, tier, customers, revenue, revenue_share, benefit_cost")
    choice(value, tuple(_COMPARISON_VALUES), func, "value")
    check_ax(ax, func)
    frame = attr_frame(comparison, "revenue_cost", func, expected)
    require_columns(frame, ["scheme", "tier", value], func, expected, numeric=[value])
    if frame.duplicated(["scheme", "tier"]).any():
        raise DataError(f"{func}: more than one row for a (scheme, tier) pair; pass one row per "
                        f"scheme and tier")
    schemes = levels(frame["scheme"])
    tiers = levels(frame["tier"])

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        x = np.arange(len(tiers))
        n = len(schemes)
        width = 0.8 / n
        colors = sns.color_palette(n_colors=n)
        share = value == "revenue_share"
        for i, scheme in enumerate(schemes):
            part = frame.loc[frame["scheme"] == scheme]
            by_tier = dict(zip(part["tier"], part[value].astype("float64"), strict=True))
            heights = np.array([by_tier.get(t, np.nan) for t in tiers])  # loop over tiers
            ok = np.isfinite(heights)
            bars = ax.bar(x[ok] + (i - (n - 1) / 2) * width, heights[ok], width,
                          label=str(scheme), color=colors[i])
            ax.bar_label(bars, labels=[f"{h:.0%}" if share else number(h) for h in heights[ok]],
                         padding=2, fontsize="small")
        ax.set_xticks(x, labels=[str(t) for t in tiers])
        if share:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.margins(y=0.12)
        ax.set_xlabel("Tier")
        ax.set_ylabel(_COMPARISON_VALUES[value])
        ax.set_title(f"{_COMPARISON_VALUES[value]} per tier under each scheme")
        ax.legend(title="Scheme", fontsize="small")
        fit_cjk(ax)
    return ax
