"""Plots of customer value: revenue concentration, RFM score grid, holdout spend per tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from tierlab.errors import ArgumentError, DataError
from tierlab.frames import require_columns
from tierlab.plots._base import (
    as_frame,
    attr_frame,
    cell_texts,
    check_ax,
    choice,
    fit_cjk,
    heatmap,
    new_or_given,
    nice,
    quiet_glyphs,
    tier_sorted,
)
from tierlab.plots._docstrings import fill_doc

if TYPE_CHECKING:
    from tierlab.evaluate import Concentration, Validity

__all__ = ["plot_holdout", "plot_lorenz", "plot_rfm_heatmap"]


@fill_doc
def plot_lorenz(concentration: Concentration | pd.DataFrame, *, label: str | None = None,
                ax: Axes | None = None) -> Axes:
    """Lorenz curve of revenue with the line of equality and the Gini coefficient.

    Parameters
    ----------
    concentration : Concentration or DataFrame
        From :func:`tierlab.evaluate.concentration` (uses ``.lorenz`` and ``.gini``), or a
        DataFrame with columns ``customer_share`` and ``revenue_share`` (the Gini is then
        computed from the curve by the trapezoid rule). A curve not starting at (0, 0) gets
        that point prepended.
    label : str, optional
        Legend entry of the curve (default ``"Revenue (Gini 0.62)"``); pass one per call to
        draw several curves on one Axes (the equality line is drawn once).
    {params.ax}

    Returns
    -------
    Axes
        The curve and the diagonal, both axes from 0 to 100 %.

    Raises
    ------
    {params.raises}

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({{"customer_share": [0, 0.5, 1], "revenue_share": [0, 0.2, 1]}})
    >>> ax = plot_lorenz(curve)
    >>> ax.get_title()
    'Revenue concentration (Gini 0.30)'
    """
    # over 60 lines only with its docstring and example; the body checks, then draws
    func = "plot_lorenz"
    expected = "a Concentration or a DataFrame with columns customer_share, revenue_share"
    check_ax(ax, func)
    gini = None
    if isinstance(concentration, pd.DataFrame):
        curve = as_frame(concentration, func, expected)
    elif isinstance(getattr(concentration, "lorenz", None), pd.DataFrame):
        curve = as_frame(concentration.lorenz, func, expected)
        gini = getattr(concentration, "gini", None)
    else:
        raise TypeError(f"{func} expects {expected}, got {type(concentration).__name__}")
    cols = ["customer_share", "revenue_share"]
    require_columns(curve, cols, func, expected, numeric=cols)
    x = curve["customer_share"].to_numpy(dtype="float64")
    y = curve["revenue_share"].to_numpy(dtype="float64")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError(f"{func}: customer_share and revenue_share must be finite (no NaN)")
    if x[0] != 0 or y[0] != 0:
        x, y = np.r_[0.0, x], np.r_[0.0, y]
    if gini is None or not np.isfinite(gini):
        gini = abs(1.0 - 2.0 * float(np.trapezoid(y, x)))
    gini = float(gini)

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        ax.plot(x, y, label=label or f"Revenue (Gini {gini:.2f})", linewidth=2)
        if not any(line.get_label() == "Equality" for line in ax.get_lines()):
            ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="Equality")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("Share of customers (lowest spend first)")
        ax.set_ylabel("Share of revenue")
        ax.set_title(f"Revenue concentration (Gini {gini:.2f})")
        ax.legend(loc="upper left")
        fit_cjk(ax)
    return ax


@fill_doc
def plot_rfm_heatmap(scored: pd.DataFrame, *, value: str | None = "monetary_total",
                     agg: str = "mean", annot: bool = True, fmt: str | None = None,
                     cmap: str = "YlGnBu", cbar: bool = True, ax: Axes | None = None) -> Axes:
    """R score x F score heatmap of customer counts or of a per-customer value.

    Parameters
    ----------
    scored : DataFrame
        ``RFMScorer().fit_transform(rfm(tx))``: one row per customer with ``r_score``,
        ``f_score`` and the feature columns.
    value : str or None, default "monetary_total"
        Column aggregated per cell; ignored (may be None) with ``agg="count"``.
    agg : {{"mean", "median", "sum", "count"}}, default "mean"
        Aggregation per cell; ``"count"`` counts customers (empty cells show 0).
    {params.annot}
    fmt : str, optional
        Format of the cell texts; by default counts as whole numbers, values compactly.
    cmap : str, default "YlGnBu"
        Colour map.
    {params.cbar}
    {params.ax}

    Returns
    -------
    Axes
        Rows are R scores from the highest (most recent) at the top, columns F scores from the
        lowest; every score between the lowest and highest observed has a row/column.

    Raises
    ------
    {params.raises}
    {params.raises_choice}
    """
    # over 60 lines: eight documented options and the score grid built before drawing
    func = "plot_rfm_heatmap"
    expected = ("a scored RFM frame (RFMScorer().fit_transform(rfm(tx))) with columns r_score, "
                "f_score")
    choice(agg, ("mean", "median", "sum", "count"), func, "agg")
    check_ax(ax, func)
    frame = as_frame(scored, func, expected)
    count = agg == "count"
    if not count and value is None:
        raise ArgumentError(f"{func}: value=None needs agg='count'; name a column to aggregate "
                          f"with agg={agg!r}")
    need = ["r_score", "f_score"] + ([] if count else [str(value)])
    require_columns(frame, need, func, expected, numeric=need)
    scores = frame[["r_score", "f_score"]]
    if scores.isna().any().any() or not np.all(scores.to_numpy() == np.round(scores.to_numpy())):
        raise DataError(f"{func}: r_score and f_score must be whole numbers without NaN "
                        f"(as RFMScorer writes them)")
    scores = scores.astype("int64")
    keys = [scores["r_score"], scores["f_score"]]
    if count:
        table = frame.groupby(keys).size().unstack("f_score")
    else:
        table = frame[value].astype("float64").groupby(keys).agg(agg).unstack("f_score")
    # only the scores customers have: a score no one gets (ties) is no empty row or column
    r_levels = np.unique(scores["r_score"].to_numpy())[::-1]
    f_levels = np.unique(scores["f_score"].to_numpy())
    table = table.reindex(index=r_levels, columns=f_levels)
    if count:
        table = table.fillna(0).astype("int64")
    table.index.name, table.columns.name = "r_score", "f_score"
    if fmt is None and count:
        fmt = "d"

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        what = "Customers" if count else f"{agg.capitalize()} {str(value).replace('_', ' ')}"
        texts = cell_texts(table.to_numpy(dtype="float64"), fmt) if annot else False
        heatmap(ax, table, texts, cmap=cmap, cbar=cbar, cbar_label=what)
        ax.set_xlabel("F score (frequency, higher = more orders)")
        ax.set_ylabel("R score (recency, higher = more recent)")
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_title(f"{what} by R and F score")
        fit_cjk(ax)
    return ax


@fill_doc
def plot_holdout(validity: Validity | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean holdout spend per tier with each tier's lift, and the rank correlation.

    Parameters
    ----------
    validity : Validity or DataFrame
        From :func:`tierlab.evaluate.holdout_validity` (uses ``.per_tier`` and ``.spearman``),
        or its ``per_tier`` frame: indexed by tier with ``holdout_spend_mean`` and ``lift``
        (tier mean / overall mean); ``customers`` weights the overall mean line when present.
    {params.ax}

    Returns
    -------
    Axes
        One bar per tier (in tier order) labelled with its lift (``x1.8``), a dashed line at the
        mean of all customers, Spearman's rho in the title.

    Raises
    ------
    {params.raises}
    """
    func = "plot_holdout"
    expected = ("a Validity (holdout_validity) or a per-tier DataFrame with columns "
                "holdout_spend_mean, lift")
    check_ax(ax, func)
    per_tier = tier_sorted(attr_frame(validity, "per_tier", func, expected))
    cols = ["holdout_spend_mean", "lift"]
    require_columns(per_tier, cols, func, expected, numeric=cols)
    spearman = getattr(validity, "spearman", None)
    spend = per_tier["holdout_spend_mean"].to_numpy(dtype="float64")
    lift = per_tier["lift"].to_numpy(dtype="float64")
    overall = np.nan
    if "customers" in per_tier.columns:
        weights = per_tier["customers"].to_numpy(dtype="float64")
        ok = np.isfinite(spend) & (weights > 0)
        if ok.any():
            overall = float(np.average(spend[ok], weights=weights[ok]))
    if not np.isfinite(overall):
        ok = np.isfinite(spend) & np.isfinite(lift) & (lift != 0)
        overall = float(np.median(spend[ok] / lift[ok])) if ok.any() else np.nan

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        x = np.arange(len(per_tier))
        bars = ax.bar(x, spend, color=sns.color_palette(n_colors=1)[0], label="Tier mean")
        ax.bar_label(bars, labels=[f"\u00d7{v:.2f}" if np.isfinite(v) else "" for v in lift],
                     padding=2, fontsize="small")
        if np.isfinite(overall):
            ax.axhline(overall, linestyle="--", color="grey", linewidth=1, label="All customers")
        ax.set_xticks(x, labels=[str(t) for t in per_tier.index])
        ax.margins(y=0.12)
        ax.set_xlabel(nice(per_tier.index.name, "Tier"))
        ax.set_ylabel("Mean holdout spend per customer")
        title = "Holdout spend per tier (bar labels: lift)"
        if spearman is not None and np.isfinite(spearman):
            title += f"\nSpearman \u03c1 = {float(spearman):.2f}"
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize="small")
        fit_cjk(ax)
    return ax
