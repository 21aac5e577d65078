"""Tables for people: the frames a report shows, formatted with pandas' Styler.

Why the Styler: it is part of pandas (already a dependency, maintained with it), renders to the
static HTML that nbconvert keeps in the report, and does everything these tables need — hide
the index, format per column, a text for missing values, CSS for wrapping. great-tables would
add a dependency for the same result; itables needs JavaScript, which a report mailed as a file
should not depend on.

:func:`people_table` turns a frame into a table a manager reads: no index column unless it is a
label (then it becomes the first column), headers from :func:`tierlab.i18n.column_label`,
shares as ``23.1%``, thousands separators, dates as ``2025-03-31``, ``—`` for missing values,
long texts wrapped (never cut), and a sentence instead of an empty table.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from tierlab.i18n import check_lang, cluster_label, column_label, text, value_label

__all__ = ["MISSING", "Note", "cluster_table", "model_table", "people_table",
           "percent_columns"]

#: What a missing value looks like in a report.
MISSING = "—"
_PERCENT_NAMES = {"share", "revenue_share", "flicker_rate", "customers_share", "silhouette_share",
                  "p_no_purchase", "p_alive"}
_WORD_COLUMNS = {"direction", "rule", "segment"}
_WRAP_FROM = 24  # texts longer than this wrap; shorter ones (ids, tiers, dates) stay on a line
# per-scheme columns of a comparison: tier_<scheme>, reason_<scheme>, move_<scheme>
_PER_SCHEME = {"tier_": "tier", "reason_": "reason", "move_": "direction"}
_TEXT_CSS = "white-space: normal; overflow-wrap: anywhere; max-width: 32em; text-align: left"


class Note:
    """A short sentence shown where a table would be (e.g. "No rejected rows.")."""

    def __init__(self, sentence: str):
        self.sentence = sentence

    def _repr_html_(self) -> str:
        return f"<p><em>{html.escape(self.sentence)}</em></p>"

    def _repr_markdown_(self) -> str:
        return f"_{self.sentence}_"

    def __repr__(self) -> str:
        return self.sentence


def percent_columns(frame: pd.DataFrame) -> list[str]:
    """Columns shown as percentages: shares and rates (``*_share``, ``share_*``, ``*_rate``)."""
    names = [str(c[0] if isinstance(c, tuple) else c) for c in frame.columns]
    return sorted({n for n in names if n in _PERCENT_NAMES or n.endswith(("_share", "_rate"))
                   or n.startswith("share_")})


def _header(name: str, lang: str, labels: Mapping[Any, str]) -> str:
    """A header for one column name (``reason_strict`` → ``Reason (strict)``)."""
    if name in labels:
        return labels[name]
    for prefix, base in _PER_SCHEME.items():
        if name.startswith(prefix) and name not in ("tier_since",):
            return f"{column_label(base, lang)} ({name[len(prefix):]})"
    return column_label(name, lang)


def _flat_columns(frame: pd.DataFrame, lang: str, labels: Mapping[Any, str]) -> list[str]:
    out = []
    for col in frame.columns:
        parts: tuple[Any, ...] = col if isinstance(col, tuple) else (col,)
        # the first level is a column name; further levels are values (regions, tiers)
        words = [_header(str(parts[0]), lang, labels)] if str(parts[0]) != "" else []
        words += [labels.get(str(p), str(p)) for p in parts[1:] if str(p) != ""]
        out.append(" · ".join(words))
    return out


def _formatter(series: pd.Series, percent: bool, decimals: int, lang: str,
               tier_labels: Mapping[str, str]) -> Callable[[Any], str]:
    """How one column's cells are written (missing values are handled by the Styler)."""
    if percent:  # a share that rounds to 0.0% but is not 0 says so
        return lambda v: (f"{float(v):.1%}" if not 0 < abs(float(v)) < 0.0005
                          else ("<0.1%" if float(v) > 0 else ">-0.1%"))
    if pd.api.types.is_bool_dtype(series):
        yes, no = text("yes", lang), text("no", lang)
        return lambda v: yes if bool(v) else no
    if pd.api.types.is_datetime64_any_dtype(series):
        return lambda v: pd.Timestamp(v).strftime("%Y-%m-%d")
    if pd.api.types.is_integer_dtype(series):
        return lambda v: f"{int(v):,}"
    if pd.api.types.is_float_dtype(series):
        values = series.dropna().to_numpy(dtype=float)
        whole = bool(len(values)) and bool(np.all(np.isfinite(values))) and bool(
            np.all(values == np.round(values)))
        if whole:
            return lambda v: f"{float(v):,.0f}" if np.isfinite(v) else MISSING
        return lambda v: f"{float(v):,.{decimals}f}" if np.isfinite(v) else MISSING
    # the Styler html-escapes a cell before its formatter sees it ("Can&#x27;t lose"): the
    # lookups take the text back, and escape what they give
    if tier_labels:
        return _unescaped(lambda t: str(tier_labels.get(t, t)))
    name = str(series.name)
    if name in _WORD_COLUMNS or name.startswith("move_") or (name == "reason" and lang != "en"):
        return _unescaped(lambda t: value_label(t, lang))
    return str


def _unescaped(lookup: Callable[[str], str]) -> Callable[[Any], str]:
    """*lookup* on a cell's own text (unescaped), its result escaped again for the HTML."""
    return lambda v: html.escape(lookup(html.unescape(str(v))))


def people_table(frame: pd.DataFrame, lang: str = "en", *, index: bool | None = None,
                 percent: Collection[str] | None = None, decimals: int = 2,
                 tier_labels: Mapping[str, str] | None = None,
                 headers: Mapping[Any, str] | None = None, empty: str = "empty_table",
                 max_rows: int | None = None) -> Styler | Note:
    """A frame as a table for people (pandas Styler), or a :class:`Note` when it is empty.

    Parameters
    ----------
    frame : DataFrame
        The table. Flat or two-level columns.
    lang : {"en", "zh"}
        Language of headers, yes/no and the empty-table sentence.
    index : bool, optional
        Show the index as the first column. Default: when it is named (a label such as
        ``tier`` or ``segment``); a plain row number never shows.
    percent : collection of str, optional
        Columns written as ``23.1%``; default :func:`percent_columns`.
    decimals : int, default 2
        Decimals of non-integral numbers.
    tier_labels : mapping, optional
        Tier name → label shown instead (the scheme's labels in Chinese reports); applies to
        text cells and column headers.
    headers : mapping, optional
        Column name → header, overriding the catalogue.
    empty : str
        Catalogue key of the sentence shown instead of an empty table.
    max_rows : int, optional
        Show only the first rows.

    Returns
    -------
    Styler or Note
    """
    lang = check_lang(lang)
    labels = dict(tier_labels or {})
    if frame is None or len(frame) == 0 or len(frame.columns) == 0:
        return Note(text(empty, lang))
    show_index = index if index is not None else any(n is not None for n in frame.index.names)
    data = frame.reset_index() if show_index else frame.reset_index(drop=True)
    if max_rows is not None:
        data = data.head(max_rows)
    pct = set(percent_columns(data) if percent is None else percent)
    names = _flat_columns(data, lang, {**labels, **(headers or {})})
    seen: dict[str, int] = {}
    for i, n in enumerate(names):  # two columns with one header keep both, numbered
        seen[n] = seen.get(n, 0) + 1
        names[i] = n if seen[n] == 1 else f"{n} ({seen[n]})"
    formats: dict[Any, str | Callable[[object], str] | None] = {}
    text_cols: list[str] = []  # long texts: wrapped
    short_cols: list[str] = []  # short texts (ids, tiers): on one line
    for col, name in zip(data.columns, names, strict=True):
        key = next((p for p in col if str(p) != ""), "") if isinstance(col, tuple) else col
        is_pct = str(key) in pct or (isinstance(col, tuple) and str(col[0]) in pct)
        tier_col = str(key) in ("tier", "from_tier", "to_tier", "previous_tier", "from", "to") \
            or str(key).startswith("tier_")
        # the tier column keeps the tier's name when a label column is beside it
        own_name = str(key) == "tier" and "label" in data.columns
        formats[name] = _formatter(data[col], is_pct, decimals, lang,
                                   labels if tier_col and not own_name else {})
        if not (pd.api.types.is_numeric_dtype(data[col]) or
                pd.api.types.is_datetime64_any_dtype(data[col])):
            longest = data[col].dropna().astype(str).str.len().max()
            (text_cols if longest and longest > _WRAP_FROM else short_cols).append(name)
    data = pd.DataFrame({n: data[c] for n, c in zip(names, data.columns, strict=True)})
    styler = data.style.format(formats, na_rep=MISSING, escape="html").hide(axis="index")
    styler = styler.set_table_styles([
        # headers wrap between words, never inside a Chinese word (客户编号)
        {"selector": "th", "props": "text-align: left; white-space: normal; word-break: keep-all"},
    ])
    numbers = [n for n in data.columns if n not in text_cols and n not in short_cols]
    if numbers:
        styler = styler.set_properties(subset=pd.Index(numbers), **{"text-align": "right"})
    if short_cols:
        styler = styler.set_properties(subset=pd.Index(short_cols),
                                       **{"text-align": "left", "white-space": "nowrap"})
    if text_cols:
        styler = styler.set_properties(subset=pd.Index(text_cols), **{
            k.strip(): v.strip() for k, v in (p.split(":") for p in _TEXT_CSS.split(";"))})
    return styler


#: The potential-model metrics a report shows (of :data:`tierlab.potential_metrics.METRICS`).
#: Its spend ranking orders tied predictions at random: under mid-ranks a model that predicts
#: 0 for most customers would outrank better orderings through the tie alone.
MODEL_METRICS = ("spend_spearman_untied", "spend_pearson", "spend_bias_pct",
                 "spend_top_decile_capture", "churn_auc")


def model_table(evaluation: Any, lang: str = "en") -> pd.DataFrame:
    """Potential models side by side for a report, one row per model.

    Its status and the key holdout metrics as ``estimate [low – high]`` (bootstrap 95%
    interval). ``evaluation`` is a :class:`~tierlab.potential_eval.PotentialEvaluation`; a
    model that could not be fitted shows its reason as status and dashes as metrics.
    """
    t = evaluation.table
    t = t[t["metric"].isin(MODEL_METRICS)]
    is_pct = t["metric"].eq("spend_bias_pct").to_numpy()

    def fmt(values: pd.Series) -> np.ndarray:
        v = values.to_numpy(dtype=float)
        pct = np.char.add(np.char.mod("%+.1f", v), "%")
        plain = np.char.mod("%.2f", v)
        return np.where(is_pct, pct, plain)

    cells = np.char.add(np.char.add(np.char.add(np.char.add(
        fmt(t["estimate"]), " ["), fmt(t["ci_low"])), " – "), np.char.add(fmt(t["ci_high"]), "]"))
    cells = np.where(t["estimate"].notna().to_numpy(), cells, MISSING)
    wide = (pd.DataFrame({"model": t["model"].to_numpy(), "metric": t["metric"].to_numpy(),
                          "cell": cells})
            .pivot(index="model", columns="metric", values="cell")
            .reindex(index=pd.unique(evaluation.table["model"]), columns=list(MODEL_METRICS)))
    status = evaluation.table.groupby("model", sort=False)["status"].first().reindex(wide.index)
    out = wide.fillna(MISSING).reset_index(drop=True)
    out.insert(0, "status", [value_label(s, lang) for s in status])  # one per model
    out.insert(0, "model", [value_label(m, lang) for m in wide.index])
    return out



def cluster_table(result: Any, lang: str = "en") -> pd.DataFrame:
    """A :class:`~tierlab.segment.ClusterResult`'s profile for a report, names in *lang*."""
    profile = result.profile.copy()
    profile["name"] = [cluster_label(n, lang) for n in profile["name"]]  # one per cluster
    return profile
