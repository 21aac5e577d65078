"""Plots of tiers, migrations, concentration, validity, clusters and scheme comparisons.

Every function follows the seaborn convention: ``plot_x(data, *, options..., ax=None) -> Axes``.
It draws on the given :class:`~matplotlib.axes.Axes` (a new figure is created only when *ax* is
None) and returns that Axes. Nothing is styled globally: the module never calls
``sns.set_theme`` or ``plt.style.use``; the colours come from the current seaborn palette, so a
theme the caller sets is respected.

Tier order comes from the data: the categories of an ordered categorical, else the index/row
order (lowest tier first, as :func:`tierlab.evaluate.tier_summary` returns it).

Tier names may be Chinese (``低级客户``). When a font with CJK glyphs is installed (Noto Sans CJK,
Source Han Sans, SimHei, Microsoft YaHei, PingFang, WenQuanYi, ...), the texts that need it use it,
on this Axes only; without one, matplotlib draws placeholder boxes and its "Glyph ... missing"
warnings are silenced while the function runs.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Iterator, Sequence

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from tierlab.errors import DataError, SchemeError, did_you_mean
from tierlab.frames import require_columns

__all__ = [
    "plot_calibration",
    "plot_cluster_profiles",
    "plot_holdout",
    "plot_lorenz",
    "plot_migration",
    "plot_rfm_heatmap",
    "plot_scheme_comparison",
    "plot_threshold_sweep",
    "plot_tier_distribution",
    "plot_tier_trend",
]

#: Font families with CJK glyphs, tried in this order when a text needs one.
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK JP", "Noto Sans CJK TC",
    "Arial Unicode MS", "Droid Sans Fallback",
)
_CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_glyphs() -> Iterator[None]:
    """Silence matplotlib's "Glyph ... missing from font(s)" warnings inside the block only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield


@functools.lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None (looked up once, on first use)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _fit_cjk(ax: Axes) -> None:
    """Give the texts of *ax* that contain CJK characters a font that has the glyphs."""
    font = _cjk_font()
    if font is None:
        return
    family = [font, *mpl.rcParams["font.family"]]
    for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
        if any(_CJK.search(t.get_text()) for t in axis.get_ticklabels()):
            ax.tick_params(axis=name, labelfontfamily=family)
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [legend.get_title(), *legend.get_texts()]
    for text in texts:
        if _CJK.search(text.get_text()):
            text.set_fontfamily(family)


def _new_or_given(ax: Axes | None, func: str) -> Axes:
    if ax is None:
        return plt.subplots()[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"{func}: ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _check_ax(ax: object, func: str) -> None:
    """Fail on a wrong *ax* before any work (and before a figure is created)."""
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"{func}: ax must be a matplotlib Axes or None, got {type(ax).__name__}")


def _choice(value: object, choices: Sequence[str], func: str, name: str) -> str:
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise SchemeError(f"{func}: {name}={value!r} is not one of {options}"
                          f"{did_you_mean(str(value), choices)}")
    return value


def _frame(data: object, func: str, expected: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{func} expects {expected}, got {type(data).__name__}")
    if data.empty:
        raise DataError(f"{func}: the frame is empty; nothing to plot (expected {expected})")
    return data


def _attr_frame(obj: object, attr: str, func: str, expected: str) -> pd.DataFrame:
    """``obj`` itself when it is a DataFrame, else its DataFrame attribute *attr*."""
    if isinstance(obj, pd.DataFrame):
        return _frame(obj, func, expected)
    inner = getattr(obj, attr, None)
    if not isinstance(inner, pd.DataFrame):
        raise TypeError(f"{func} expects {expected}, got {type(obj).__name__}")
    return _frame(inner, func, expected)


def _tier_sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in tier order: category order for a categorical index, else as given."""
    if isinstance(frame.index, pd.CategoricalIndex):
        return frame.sort_index(kind="stable")
    return frame


def _levels(values: pd.Series) -> list:
    """Distinct values in tier order: category order for a categorical, else first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in present]
    return list(pd.unique(values.dropna()))


def _nice(name: object, default: str) -> str:
    """A readable axis label from an index/column name."""
    if name is None or str(name) == "":
        return default
    text = str(name).replace("_", " ")
    return text[:1].upper() + text[1:]


def _number(value: float) -> str:
    """Compact cell text: thousands separators for big values, one decimal for small ones."""
    if not np.isfinite(value):
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value != round(value) else f"{value:.0f}"


def _cell_texts(values: np.ndarray, fmt: str | None) -> np.ndarray:
    """Annotation strings per cell (a loop over matrix cells: tiers x tiers or scores x scores)."""
    out = np.empty(values.shape, dtype=object)
    for idx, v in np.ndenumerate(values):
        if not np.isfinite(v):
            out[idx] = ""
        elif fmt is None:
            out[idx] = _number(v)
        elif fmt.endswith("d"):
            out[idx] = format(round(v), fmt)
        else:
            out[idx] = format(v, fmt)
    return out


def _heatmap(ax: Axes, table: pd.DataFrame, texts: np.ndarray | bool, *, cmap: str,
             cbar: bool, cbar_label: str, **kws) -> None:
    sns.heatmap(table.astype("float64"), annot=texts, fmt="" if texts is not False else ".2g",
                cmap=cmap, cbar=cbar, cbar_kws={"label": cbar_label} if cbar else None,
                linewidths=0.5, linecolor="white", ax=ax, **kws)


# --------------------------------------------------------------------------------------------
# tier summary, trend, migration
# --------------------------------------------------------------------------------------------
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


def plot_tier_distribution(summary: pd.DataFrame, *, value: str = "both",
                           ax: Axes | None = None) -> Axes:
    """Bar chart of the share of customers and/or revenue in each tier.

    Parameters
    ----------
    summary : DataFrame
        A :func:`tierlab.evaluate.tier_summary` frame: indexed by tier (lowest first, or an
        ordered categorical index) with ``share`` and ``revenue_share`` (or ``customers`` and
        ``revenue``, from which the shares are computed).
    value : {"both", "customers", "revenue"}, default "both"
        Which shares to draw; with "both" the two bars of a tier stand side by side.
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        The Axes drawn on: one bar per tier and drawn share, labelled with its percentage.

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"customers": [80, 15, 5], "share": [0.8, 0.15, 0.05],
    ...                         "revenue": [2e4, 3e4, 5e4], "revenue_share": [0.2, 0.3, 0.5]},
    ...                        index=pd.Index(["Low", "Mid", "High"], name="tier"))
    >>> ax = plot_tier_distribution(summary)
    >>> len(ax.patches)
    6
    """
    func = "plot_tier_distribution"
    _choice(value, ("both", "customers", "revenue"), func, "value")
    _check_ax(ax, func)
    frame = _tier_sorted(_frame(summary, func, _SUMMARY))
    series: dict[str, np.ndarray] = {}
    if value in ("customers", "both"):
        series["Customers"] = _share_column(frame, "share", "customers", func)
    if value in ("revenue", "both"):
        series["Revenue"] = _share_column(frame, "revenue_share", "revenue", func)

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
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
        ax.set_xlabel(_nice(frame.index.name, "Tier"))
        ax.set_ylabel("Share of total")
        what = {"both": "customers and revenue", "customers": "customers",
                "revenue": "revenue"}[value]
        ax.set_title(f"Share of {what} by tier")
        if n > 1:
            ax.legend(title=None)
        _fit_cjk(ax)
    return ax


def plot_tier_trend(history, *, share: bool = False, kind: str = "area", labels: bool = False,
                    ax: Axes | None = None) -> Axes:
    """Customers per tier at every review of a tier history.

    Parameters
    ----------
    history : TierHistory
        From :meth:`TierScheme.run`; uses ``history.codes`` (customers x reviews,
        ``-1`` before entry), ``history.reviews`` and ``history.scheme.tier_names``.
    share : bool, default False
        Draw each tier's share of the customers present at the review instead of counts.
    kind : {"area", "line"}, default "area"
        Stacked areas (lowest tier at the bottom) or one line per tier.
    labels : bool, default False
        Name the tiers by their display labels (``scheme.labels``, e.g. ``高级客户``) instead of
        their names.
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        One area (PolyCollection) or line per tier, in tier order.
    """
    func = "plot_tier_trend"
    _choice(kind, ("area", "line"), func, "kind")
    _check_ax(ax, func)
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
    shown = [str(scheme.labels.get(n, n)) for n in names] if labels else [str(n) for n in names]

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
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
            ax.set_xlim(reviews[0], reviews[-1])
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
        _fit_cjk(ax)
    return ax


def plot_migration(matrix: pd.DataFrame, *, fmt: str | None = None, annot: bool = True,
                   cmap: str = "Blues", cbar: bool = True, ax: Axes | None = None) -> Axes:
    """Heatmap of a tier migration matrix, each cell annotated.

    Parameters
    ----------
    matrix : DataFrame
        From :func:`tierlab.evaluate.migration_matrix`: rows = tier before (index ``from``),
        columns = tier after (``to``), counts or shares; a ``(none)`` row/column is drawn as is.
    fmt : str, optional
        Format of the cell texts (e.g. ``"d"``, ``".1%"``). By default whole numbers are shown
        as counts (``"d"``), a matrix of values in [0, 1] as percentages (``".0%"``).
    annot : bool, default True
        Write the value in each cell.
    cmap : str, default "Blues"
        Colour map.
    cbar : bool, default True
        Draw a colour bar (seaborn adds it beside *ax*).
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        The heatmap (a QuadMesh holding the matrix values, first row at the top).
    """
    func = "plot_migration"
    expected = ("a migration_matrix DataFrame (rows: tier before, columns: tier after, numeric "
                "counts or shares)")
    _check_ax(ax, func)
    frame = _frame(matrix, func, expected)
    require_columns(frame, [], func, expected, numeric=list(frame.columns))
    values = frame.to_numpy(dtype="float64")
    finite = values[np.isfinite(values)]
    whole = bool(np.all(finite == np.round(finite)))
    is_share = not whole and finite.size > 0 and finite.min() >= 0 and finite.max() <= 1
    if fmt is None:
        fmt = "d" if whole else ".0%" if is_share else None

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
        texts = _cell_texts(values, fmt) if annot else False
        what = "share of customers" if is_share else "customers"
        _heatmap(ax, frame, texts, cmap=cmap, cbar=cbar, cbar_label=_nice(what, what),
                 vmin=0 if finite.size and finite.min() >= 0 else None)
        ax.set_xlabel("To tier" if frame.columns.name in (None, "to") else
                      _nice(frame.columns.name, "To tier"))
        ax.set_ylabel("From tier" if frame.index.name in (None, "from") else
                      _nice(frame.index.name, "From tier"))
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_title(f"Tier migration ({what})")
        _fit_cjk(ax)
    return ax


# --------------------------------------------------------------------------------------------
# concentration, RFM, sweep, holdout
# --------------------------------------------------------------------------------------------
def plot_lorenz(concentration, *, label: str | None = None, ax: Axes | None = None) -> Axes:
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
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        The curve and the diagonal, both axes from 0 to 100 %.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"customer_share": [0, 0.5, 1], "revenue_share": [0, 0.2, 1]})
    >>> ax = plot_lorenz(curve)
    >>> ax.get_title()
    'Revenue concentration (Gini 0.30)'
    """
    func = "plot_lorenz"
    expected = "a Concentration or a DataFrame with columns customer_share, revenue_share"
    _check_ax(ax, func)
    gini = None
    if isinstance(concentration, pd.DataFrame):
        curve = _frame(concentration, func, expected)
    elif isinstance(getattr(concentration, "lorenz", None), pd.DataFrame):
        curve = _frame(concentration.lorenz, func, expected)
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

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
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
        _fit_cjk(ax)
    return ax


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
    agg : {"mean", "median", "sum", "count"}, default "mean"
        Aggregation per cell; ``"count"`` counts customers (empty cells show 0).
    annot : bool, default True
        Write the value in each cell.
    fmt : str, optional
        Format of the cell texts; by default counts as whole numbers, values compactly.
    cmap : str, default "YlGnBu"
        Colour map.
    cbar : bool, default True
        Draw a colour bar.
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        Rows are R scores from the highest (most recent) at the top, columns F scores from the
        lowest; every score between the lowest and highest observed has a row/column.
    """
    func = "plot_rfm_heatmap"
    expected = ("a scored RFM frame (RFMScorer().fit_transform(rfm(tx))) with columns r_score, "
                "f_score")
    _choice(agg, ("mean", "median", "sum", "count"), func, "agg")
    _check_ax(ax, func)
    frame = _frame(scored, func, expected)
    count = agg == "count"
    if not count and value is None:
        raise SchemeError(f"{func}: value=None needs agg='count'; name a column to aggregate "
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
    r_levels = np.arange(scores["r_score"].min(), scores["r_score"].max() + 1)[::-1]
    f_levels = np.arange(scores["f_score"].min(), scores["f_score"].max() + 1)
    table = table.reindex(index=r_levels, columns=f_levels)
    if count:
        table = table.fillna(0).astype("int64")
    table.index.name, table.columns.name = "r_score", "f_score"
    if fmt is None and count:
        fmt = "d"

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
        what = "Customers" if count else f"{agg.capitalize()} {str(value).replace('_', ' ')}"
        texts = _cell_texts(table.to_numpy(dtype="float64"), fmt) if annot else False
        _heatmap(ax, table, texts, cmap=cmap, cbar=cbar, cbar_label=what)
        ax.set_xlabel("F score (frequency, higher = more orders)")
        ax.set_ylabel("R score (recency, higher = more recent)")
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_title(f"{what} by R and F score")
        _fit_cjk(ax)
    return ax


_SWEEP_LABELS = {"share": "Share of customers", "customers": "Customers",
                 "revenue_share": "Share of revenue"}


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
    value : {"share", "customers", "revenue_share"}, default "share"
        What to draw per tier.
    current : float, optional
        The threshold in use, marked with a vertical line.
    xlabel : str, optional
        Label of the threshold axis (default: ``sweep.attrs["path"]`` when set, else
        "Threshold value").
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        One line per tier (in tier order), x = threshold value.
    """
    func = "plot_threshold_sweep"
    expected = "a threshold_sweep DataFrame with columns value, tier, customers, share, " \
               "revenue_share"
    _choice(value, tuple(_SWEEP_LABELS), func, "value")
    _check_ax(ax, func)
    frame = _frame(sweep, func, expected)
    require_columns(frame, ["value", "tier", value], func, expected, numeric=["value", value])
    if frame.duplicated(["value", "tier"]).any():
        raise DataError(f"{func}: the sweep has more than one row for a (value, tier) pair; "
                        f"pass one sweep (one row per threshold value and tier)")
    tiers = _levels(frame["tier"])

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
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
        _fit_cjk(ax)
    return ax


def plot_holdout(validity, *, ax: Axes | None = None) -> Axes:
    """Mean holdout spend per tier with each tier's lift, and the rank correlation.

    Parameters
    ----------
    validity : Validity or DataFrame
        From :func:`tierlab.evaluate.holdout_validity` (uses ``.per_tier`` and ``.spearman``),
        or its ``per_tier`` frame: indexed by tier with ``holdout_spend_mean`` and ``lift``
        (tier mean / overall mean); ``customers`` weights the overall mean line when present.
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        One bar per tier (in tier order) labelled with its lift (``x1.8``), a dashed line at the
        mean of all customers, Spearman's rho in the title.
    """
    func = "plot_holdout"
    expected = ("a Validity (holdout_validity) or a per-tier DataFrame with columns "
                "holdout_spend_mean, lift")
    _check_ax(ax, func)
    per_tier = _tier_sorted(_attr_frame(validity, "per_tier", func, expected))
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

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
        x = np.arange(len(per_tier))
        bars = ax.bar(x, spend, color=sns.color_palette(n_colors=1)[0], label="Tier mean")
        ax.bar_label(bars, labels=[f"\u00d7{v:.2f}" if np.isfinite(v) else "" for v in lift],
                     padding=2, fontsize="small")
        if np.isfinite(overall):
            ax.axhline(overall, linestyle="--", color="grey", linewidth=1, label="All customers")
        ax.set_xticks(x, labels=[str(t) for t in per_tier.index])
        ax.margins(y=0.12)
        ax.set_xlabel(_nice(per_tier.index.name, "Tier"))
        ax.set_ylabel("Mean holdout spend per customer")
        title = "Holdout spend per tier (bar labels: lift)"
        if spearman is not None and np.isfinite(spearman):
            title += f"\nSpearman \u03c1 = {float(spearman):.2f}"
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize="small")
        _fit_cjk(ax)
    return ax


# --------------------------------------------------------------------------------------------
# clusters, potential, scheme comparison
# --------------------------------------------------------------------------------------------
def _cluster_scaled(means: pd.DataFrame, weights: np.ndarray, scale: str) -> pd.DataFrame:
    values = means.to_numpy(dtype="float64")
    overall = np.average(values, axis=0, weights=weights)
    if scale == "log_ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where((values > 0) & (overall > 0), np.log2(values / overall), np.nan)
    else:
        sd = np.sqrt(np.average((values - overall) ** 2, axis=0, weights=weights))
        out = np.divide(values - overall, sd, out=np.zeros_like(values), where=sd > 0)
    return pd.DataFrame(out, index=means.index, columns=means.columns)


def plot_cluster_profiles(result, *, scale: str = "log_ratio", annot: bool = True,
                          cmap: str = "RdBu_r", cbar: bool = True, ax: Axes | None = None) -> Axes:
    """Heatmap of each cluster's feature means relative to all customers, with business names.

    Parameters
    ----------
    result : ClusterResult or DataFrame
        From :func:`tierlab.segment.cluster_customers` (uses ``.profile`` with ``name``,
        ``customers`` and ``<column>_mean``, ``.names`` and ``.columns``), or its ``profile``
        (the features are then its ``<column>_mean`` columns).
    scale : {"log_ratio", "zscore"}, default "log_ratio"
        Colour: ``log2(cluster mean / overall mean)`` (overall = customer-weighted mean of the
        cluster means; NaN where a mean is not positive), or the cluster means standardized
        across clusters (customer-weighted mean 0 and standard deviation 1 per feature).
    annot : bool, default True
        Write the cluster's raw mean in each cell.
    cmap : str, default "RdBu_r"
        Diverging colour map, centred at 0.
    cbar : bool, default True
        Draw a colour bar.
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        Rows = clusters (id order, labelled ``name (n customers)``), columns = features.
    """
    func = "plot_cluster_profiles"
    expected = ("a ClusterResult (cluster_customers) or its profile DataFrame with name, "
                "customers and <column>_mean columns")
    _choice(scale, ("log_ratio", "zscore"), func, "scale")
    _check_ax(ax, func)
    profile = _attr_frame(result, "profile", func, expected)
    columns = None if isinstance(result, pd.DataFrame) else getattr(result, "columns", None)
    if columns is None:
        columns = [str(c)[:-5] for c in profile.columns if str(c).endswith("_mean")]
    mean_cols = [f"{c}_mean" for c in columns]
    if not mean_cols:
        raise DataError(f"{func} expects {expected}; the profile has no <column>_mean columns")
    require_columns(profile, mean_cols, func, expected, numeric=mean_cols)
    names = {} if isinstance(result, pd.DataFrame) else getattr(result, "names", None) or {}
    if "customers" in profile.columns:
        require_columns(profile, ["customers"], func, expected, numeric=["customers"])
        weights = profile["customers"].to_numpy(dtype="float64")
    else:
        weights = np.ones(len(profile))
    if not weights.sum() > 0:
        raise DataError(f"{func}: the clusters hold no customers; nothing to plot")
    means = profile[mean_cols].astype("float64")
    scaled = _cluster_scaled(means, weights, scale)
    rows = []
    for cid in profile.index:  # loop over clusters
        name = names.get(cid, profile["name"].get(cid) if "name" in profile.columns else cid)
        size = f" ({int(profile.at[cid, 'customers']):,})" if "customers" in profile.columns \
            else ""
        rows.append(f"{name}{size}")
    scaled.index = pd.Index(rows, name="Cluster (customers)")
    scaled.columns = pd.Index([str(c).replace("_", " ") for c in columns], name="Feature")

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
        texts = _cell_texts(means.to_numpy(dtype="float64"), None) if annot else False
        label = ("log2(cluster mean / overall mean)" if scale == "log_ratio"
                 else "cluster mean, standardized across clusters")
        values = scaled.to_numpy(dtype="float64")
        finite = np.abs(values[np.isfinite(values)])
        limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        # symmetric limits centre the diverging map at 0 (seaborn's center= calls a
        # colormap method matplotlib deprecates)
        _heatmap(ax, scaled, texts, cmap=cmap, cbar=cbar, cbar_label=label, vmin=-limit,
                 vmax=limit)
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_xlabel("Feature (cell text: cluster mean)")
        ax.set_ylabel("Cluster (customers)")
        ax.set_title("Cluster profiles relative to all customers")
        _fit_cjk(ax)
    return ax


_TARGET_WORDS = {"purchases": "purchases", "spend": "spend",
                 "no_purchase": "probability of no purchase"}


def plot_calibration(evaluation, *, target: str = "purchases", ax: Axes | None = None) -> Axes:
    """Mean predicted vs mean actual per decile of predictions, one line per model.

    Parameters
    ----------
    evaluation : PotentialEvaluation or DataFrame
        From :func:`tierlab.potential.evaluate_potential` (uses ``.calibration``), or that
        frame: ``model``, ``target``, ``decile``, ``n_customers``, ``mean_predicted``,
        ``mean_actual``.
    target : {"purchases", "spend", "no_purchase"}, default "purchases"
        Which prediction to draw (any value of the frame's ``target`` column).
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        One line per model (deciles in order) and the dashed line of perfect calibration.
    """
    func = "plot_calibration"
    expected = ("a PotentialEvaluation (evaluate_potential) or its calibration DataFrame with "
                "columns model, target, decile, mean_predicted, mean_actual")
    _check_ax(ax, func)
    frame = _attr_frame(evaluation, "calibration", func, expected)
    cols = ["model", "decile", "mean_predicted", "mean_actual"]
    require_columns(frame, cols, func, expected, numeric=cols[1:])
    if "target" in frame.columns:
        targets = [str(t) for t in pd.unique(frame["target"])]
        if target not in targets:
            raise SchemeError(f"{func}: target={target!r} is not in the calibration table "
                              f"(it has {', '.join(targets)}){did_you_mean(str(target), targets)}")
        frame = frame.loc[frame["target"] == target]
    models = _levels(frame["model"])
    word = _TARGET_WORDS.get(target, str(target).replace("_", " "))

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
        colors = sns.color_palette(n_colors=len(models))
        for model, color in zip(models, colors, strict=True):
            part = frame.loc[frame["model"] == model].sort_values("decile")
            ax.plot(part["mean_predicted"].to_numpy(dtype="float64"),
                    part["mean_actual"].to_numpy(dtype="float64"), marker="o", markersize=4,
                    color=color, label=str(model))
        both = frame[["mean_predicted", "mean_actual"]].to_numpy(dtype="float64")
        both = both[np.isfinite(both)]
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        ax.plot([lo, hi], [lo, hi], linestyle="--", color="grey", linewidth=1,
                label="Perfect calibration")
        ax.set_xlabel(f"Mean predicted {word}")
        ax.set_ylabel(f"Mean actual {word} (holdout)")
        ax.set_title(f"Calibration by decile of predicted {word}")
        ax.legend(title="Model", fontsize="small")
        _fit_cjk(ax)
    return ax


_COMPARISON_VALUES = {"revenue_share": "Share of revenue", "revenue": "Revenue",
                      "customers": "Customers", "benefit_cost": "Benefit cost"}


def plot_scheme_comparison(comparison, *, value: str = "revenue_share",
                           ax: Axes | None = None) -> Axes:
    """Grouped bars of revenue share (or customers, revenue, benefit cost) per tier per scheme.

    Parameters
    ----------
    comparison : Comparison or DataFrame
        From :func:`tierlab.compare.compare_schemes` (uses ``.revenue_cost``), or that long
        frame: ``scheme``, ``tier``, ``customers``, ``revenue``, ``revenue_share``,
        ``benefit_cost``.
    value : {"revenue_share", "revenue", "customers", "benefit_cost"}, default "revenue_share"
        What the bars show.
    ax : Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    Axes
        One bar per scheme and tier (a tier missing from a scheme gets no bar), tiers in order
        along x, schemes in the order given (legend).
    """
    func = "plot_scheme_comparison"
    expected = ("a Comparison (compare_schemes) or its revenue_cost DataFrame with columns "
                "scheme, tier, customers, revenue, revenue_share, benefit_cost")
    _choice(value, tuple(_COMPARISON_VALUES), func, "value")
    _check_ax(ax, func)
    frame = _attr_frame(comparison, "revenue_cost", func, expected)
    require_columns(frame, ["scheme", "tier", value], func, expected, numeric=[value])
    if frame.duplicated(["scheme", "tier"]).any():
        raise DataError(f"{func}: more than one row for a (scheme, tier) pair; pass one row per "
                        f"scheme and tier")
    schemes = _levels(frame["scheme"])
    tiers = _levels(frame["tier"])

    ax = _new_or_given(ax, func)
    with _quiet_glyphs():
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
            ax.bar_label(bars, labels=[f"{h:.0%}" if share else _number(h) for h in heights[ok]],
                         padding=2, fontsize="small")
        ax.set_xticks(x, labels=[str(t) for t in tiers])
        if share:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.margins(y=0.12)
        ax.set_xlabel("Tier")
        ax.set_ylabel(_COMPARISON_VALUES[value])
        ax.set_title(f"{_COMPARISON_VALUES[value]} per tier under each scheme")
        ax.legend(title="Scheme", fontsize="small")
        _fit_cjk(ax)
    return ax
