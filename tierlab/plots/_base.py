"""What every plot function shares: argument checks, CJK fonts, tier order, heatmap cells.

Tier names may be Chinese (``低级客户``). When a font with CJK glyphs is installed (Noto Sans CJK,
Source Han Sans, SimHei, Microsoft YaHei, PingFang, WenQuanYi, ...), the texts that need it use it,
on the Axes drawn only; without one, matplotlib draws placeholder boxes and its "Glyph ...
missing" warnings are silenced while the function runs.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure

from tierlab.errors import ArgumentError, DataError, did_you_mean

CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK JP", "Noto Sans CJK TC",
    "Arial Unicode MS", "Droid Sans Fallback",
)
_CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


@contextlib.contextmanager
def quiet_glyphs() -> Iterator[None]:
    """Silence matplotlib's "Glyph ... missing from font(s)" warnings inside the block only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield


_CJK_FILES = re.compile(r"(NotoSansCJK|NotoSerifCJK|SourceHanSans|wqy|msyh|simhei|PingFang|"
                        r"DroidSansFallback)", re.I)


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None (looked up once, on first use).

    Matplotlib caches its font list; a CJK font installed after that cache was written (e.g.
    ``apt-get install fonts-noto-cjk``) is found among the system fonts and added.
    """
    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    if found is not None:
        return found
    for path in font_manager.findSystemFonts():  # a loop over font files, once per process
        if _CJK_FILES.search(path):
            with contextlib.suppress(Exception):  # an unreadable font file is skipped
                font_manager.fontManager.addfont(path)
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


_warned_no_cjk = False


def localize(target: Figure | Axes, lang: str = "en",
             labels: Mapping[str, str] | None = None) -> bool:
    """Translate the fixed texts of a figure's plots into *lang* and give them a CJK font.

    Titles, axis labels, tick labels, legends and colour-bar labels are looked up in
    :func:`tierlab.i18n.plot_text`; *labels* (tier name → label) rename tiers. In Chinese
    without an installed CJK font, the labels stay in English (never boxes) and a warning says
    so, once per process.

    Returns
    -------
    bool
        Whether the texts were translated.
    """
    global _warned_no_cjk
    from tierlab.i18n import check_lang, plot_text

    if check_lang(lang) == "en":
        return False
    if cjk_font() is None:
        if not _warned_no_cjk:
            _warned_no_cjk = True
            warnings.warn("no Chinese font is installed (e.g. apt-get install fonts-noto-cjk); "
                          "the charts keep English labels", UserWarning, stacklevel=2)
        return False
    names = dict(labels or {})

    def tr(value: str) -> str:
        return names.get(value, plot_text(value, lang))

    axes = target.axes if isinstance(target, Figure) else [target]
    for ax in axes:
        for t in (ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts):
            t.set_text(tr(t.get_text()))
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_ticklabels()
            texts = [t.get_text() for t in ticks]
            new = [tr(x) for x in texts]
            if new != texts and all(texts):  # categorical ticks (tiers, scores): rename
                axis.set_ticks(axis.get_ticklocs(), labels=new)
        legend = ax.get_legend()
        if legend is not None:
            legend.get_title().set_text(tr(legend.get_title().get_text()))
            for t in legend.get_texts():
                t.set_text(tr(t.get_text()))
        fit_cjk(ax)
    return True


def fit_cjk(ax: Axes) -> None:
    """Give the texts of *ax* that contain CJK characters a font that has the glyphs."""
    font = cjk_font()
    if font is None:
        return
    family = [font, *mpl.rcParams["font.family"]]
    axes: tuple[tuple[Axis, Literal["x", "y"]], ...] = ((ax.xaxis, "x"), (ax.yaxis, "y"))
    for axis, name in axes:
        if any(_CJK.search(t.get_text()) for t in axis.get_ticklabels()):
            ax.tick_params(axis=name, labelfontfamily=family)
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [legend.get_title(), *legend.get_texts()]
    for text in texts:
        if _CJK.search(text.get_text()):
            text.set_fontfamily(family)


def new_or_given(ax: Axes | None, func: str) -> Axes:
    """*ax*, or the Axes of a new figure when it is None."""
    if ax is None:
        return plt.subplots()[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"{func}: ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def check_ax(ax: object, func: str) -> None:
    """Fail on a wrong *ax* before any work (and before a figure is created)."""
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"{func}: ax must be a matplotlib Axes or None, got {type(ax).__name__}")


def choice(value: object, choices: Sequence[str], func: str, name: str) -> str:
    """*value* when it is one of *choices*, else an ArgumentError naming the closest."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ArgumentError(f"{func}: {name}={value!r} is not one of {options}"
                          f"{did_you_mean(str(value), choices)}")
    return value


def as_frame(data: object, func: str, expected: str) -> pd.DataFrame:
    """*data* as a non-empty DataFrame (TypeError / DataError otherwise)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{func} expects {expected}, got {type(data).__name__}")
    if data.empty:
        raise DataError(f"{func}: the frame is empty; nothing to plot (expected {expected})")
    return data


def attr_frame(obj: object, attr: str, func: str, expected: str) -> pd.DataFrame:
    """``obj`` itself when it is a DataFrame, else its DataFrame attribute *attr*."""
    if isinstance(obj, pd.DataFrame):
        return as_frame(obj, func, expected)
    inner = getattr(obj, attr, None)
    if not isinstance(inner, pd.DataFrame):
        raise TypeError(f"{func} expects {expected}, got {type(obj).__name__}")
    return as_frame(inner, func, expected)


def tier_sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in tier order: category order for a categorical index, else as given."""
    if isinstance(frame.index, pd.CategoricalIndex):
        return frame.sort_index(kind="stable")
    return frame


def levels(values: pd.Series) -> list[Any]:
    """Distinct values in tier order: category order for a categorical, else first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in present]
    return list(pd.unique(values.dropna()))


def nice(name: object, default: str) -> str:
    """A readable axis label from an index/column name."""
    if name is None or str(name) == "":
        return default
    text = str(name).replace("_", " ")
    return text[:1].upper() + text[1:]


def number(value: float) -> str:
    """Compact cell text: thousands separators for big values, one decimal for small ones."""
    if not np.isfinite(value):
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value != round(value) else f"{value:.0f}"


def cell_texts(values: np.ndarray, fmt: str | None) -> np.ndarray:
    """Annotation strings per cell (a loop over matrix cells: tiers x tiers or scores x scores)."""
    out = np.empty(values.shape, dtype=object)
    for idx, v in np.ndenumerate(values):
        if not np.isfinite(v):
            out[idx] = ""
        elif fmt is None:
            out[idx] = number(v)
        elif fmt.endswith("d"):
            out[idx] = format(round(v), fmt)
        else:
            out[idx] = format(v, fmt)
    return out


def heatmap(ax: Axes, table: pd.DataFrame, texts: np.ndarray | bool, *, cmap: str,
            cbar: bool, cbar_label: str, **kws: Any) -> None:
    """A seaborn heatmap of *table* with the cell texts and colour bar the plots share."""
    sns.heatmap(table.astype("float64"), annot=texts, fmt="" if texts is not False else ".2g",
                cmap=cmap, cbar=cbar, cbar_kws={"label": cbar_label} if cbar else None,
                linewidths=0.5, linecolor="white", ax=ax, **kws)
