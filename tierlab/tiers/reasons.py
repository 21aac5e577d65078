"""The sentences that explain each tier change.

Sentences a customer could be told — "spend above 500 in Mar, Apr, May 2025: 612.00, 540.00,
980.00", in Chinese "连续3个月消费高于500元：3月 612.00、4月 540.00、5月 980.00" — are
built from the :class:`~tierlab.tiers.changelog.ChangeLog` only when asked for,
group by group (rule × from × to) with pyarrow's string kernels, so a run with millions of
changes formats no string it does not show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierlab.i18n import check_lang
from tierlab.tiers.changelog import RULES, ChangeLog
from tierlab.tiers.conditions import Attribute, Condition, Metric, format_value, metric_leaves
from tierlab.tiers.scheme import TierScheme

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["describe_condition", "metric_words", "sentences", "review_labels"]

_MONEY = {"spend", "avg_order_value"}


def _fmt(x: np.ndarray, money: bool, missing: str = "n/a") -> pa.Array:
    """Numbers as text: two decimals for money, whole numbers (or up to 2 decimals) otherwise."""
    x = np.asarray(x, dtype=float)
    nan = ~np.isfinite(x)
    safe = np.where(nan, 0.0, x)
    if money:
        cents = np.round(np.abs(safe) * 100).astype(np.int64)
        whole = pc.cast(pa.array(cents // 100), pa.string())
        frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
        sign = pc.if_else(pa.array((safe < 0) & (cents > 0)), "-", "")
        text = pc.binary_join_element_wise(sign, whole, ".", frac, "")
    else:
        r = np.round(safe, 2)
        integral = r == np.round(r)
        text = pc.if_else(pa.array(integral),
                          pc.cast(pa.array(np.round(r).astype(np.int64)), pa.string()),
                          pc.cast(pa.array(r), pa.string()))
    return pc.if_else(pa.array(nan), missing, text)


def _join(parts: Sequence[pa.Array], sep: str) -> pa.Array:
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, sep)


def review_labels(dates: pd.DatetimeIndex, review: str, lang: str = "en") -> list[str]:
    """Readable review names: ``Mar 2025``, ``Q1 2025``, ``H2 2025``, ``2025``.

    In Chinese: ``2025年3月``, ``2025年第1季度``, ``2025年下半年``, ``2025年``.
    """
    if check_lang(lang) == "zh":
        return [_ZH_PERIOD[review](d, True) for d in dates]
    if review == "M":
        return [d.strftime("%b %Y") for d in dates]
    if review == "Q":
        return [f"Q{(d.month - 1) // 3 + 1} {d.year}" for d in dates]
    if review == "H":
        return [f"H{(d.month - 1) // 6 + 1} {d.year}" for d in dates]
    return [str(d.year) for d in dates]


def _span_label(labels: list[str], t: int, p: int) -> str:
    """The last ``p`` reviews up to ``t``: ``Mar, Apr, May 2025`` (year once when shared)."""
    parts = labels[max(0, t - p + 1):t + 1]
    years = {x.split()[-1] for x in parts}
    if len(years) == 1 and " " in parts[0]:
        return ", ".join(x.rsplit(" ", 1)[0] for x in parts) + " " + parts[0].split()[-1]
    return ", ".join(parts)


def sentences(log: ChangeLog, scheme: TierScheme, reviews: pd.DatetimeIndex,
              rows: np.ndarray | None = None, lang: str = "en") -> pa.Array:
    """The sentence of each change in ``rows`` (default: all), as a pyarrow string array.

    ``lang="zh"`` writes them in Chinese, naming the tiers by their labels.
    """
    rows = np.arange(len(log)) if rows is None else np.asarray(rows)
    if len(rows) == 0:
        return pa.array([], type=pa.string())
    if check_lang(lang) == "zh":
        return _sentences_zh(log, scheme, reviews, rows)
    labels = review_labels(reviews, scheme.review)
    D = scheme.policy.demote_after
    lengths = {1, D, *(scheme.promote_after(k) for k in range(1, len(scheme.tiers)))}
    spans = {p: pa.array([_span_label(labels, t, p) for t in range(len(labels))])
             for p in lengths}
    return _by_group(log, scheme, rows, lambda sel: _group_text(log, scheme, spans, sel))


def _by_group(log: ChangeLog, scheme: TierScheme, rows: np.ndarray,
              text: Callable[[np.ndarray], pa.Array]) -> pa.Array:
    """Sentences of ``rows``, ``text`` called once per (rule, from, to) group.

    A group shares one sentence template; the pieces are put back in the order of ``rows``.
    """
    rule, frm, to = log.rule[rows], log.from_code[rows], log.to_code[rows]
    K = len(scheme.tiers)
    group = (rule.astype(np.int64) * (K + 1) + (frm + 1)) * K + to
    chunks: list[pa.Array] = []
    positions: list[np.ndarray] = []
    for g in np.flatnonzero(np.bincount(group)):  # (rule, from, to) groups, not changes
        sel = np.flatnonzero(group == g)
        chunks.append(text(rows[sel]))
        positions.append(sel)
    order = np.concatenate(positions)
    inverse_order = np.empty(len(rows), dtype=np.int64)
    inverse_order[order] = np.arange(len(rows))
    return pa.concat_arrays([c.cast(pa.string()) for c in chunks]).take(
        pa.array(inverse_order))


def _decided_by(scheme: TierScheme, rule: str, frm: int, to: int,
                ) -> tuple[str, int, Condition]:
    """The head of the sentence, how many reviews decided it and the condition they tested."""
    names = scheme.tier_names
    if rule == "initial":
        cond = scheme.tiers[to if to else 1].when
        assert cond is not None  # every tier above the lowest has a condition (the parser)
        head = (f"first review: qualifies for {names[to]} ({cond.describe()})" if to
                else f"first review: qualifies for no tier above {names[0]}")
        return head, 1, cond
    if rule == "promotion":
        cond = scheme.tiers[to].when
        assert cond is not None
        head = (cond.describe() if isinstance(cond, Metric)
                else f"qualified for {names[to]} ({cond.describe()})")
        return head, scheme.promote_after(to), cond
    cond = scheme.tiers[frm].when  # demotion
    assert cond is not None
    return f"below {names[frm]} ({cond.describe()})", scheme.policy.demote_after, cond


def _group_text(log: ChangeLog, scheme: TierScheme, spans: dict[int, pa.Array],
                r: np.ndarray) -> pa.Array:
    """Sentences of changes sharing one (rule, from, to)."""
    rule = RULES[log.rule[r[0]]]
    frm, to = int(log.from_code[r[0]]), int(log.to_code[r[0]])
    t = pa.array(log.review[r])
    if rule == "override":
        notes = None if log.override_reason is None else log.override_reason[r]
        notes_arr = pa.array(notes if notes is not None else [None] * len(r), type=pa.string())
        return pc.binary_join_element_wise("manual override: ", pc.fill_null(notes_arr, ""), "")
    if rule == "initial" and scheme.initial == "lowest":
        return pc.binary_join_element_wise(
            "first review (", spans[1].take(t),
            f"): every customer starts in {scheme.tier_names[0]}", "")
    head, p, cond = _decided_by(scheme, rule, frm, to)
    text = pc.binary_join_element_wise(head, " in ", spans[p].take(t), "")
    keys = list(dict.fromkeys((leaf.metric, scheme.metric_window(leaf))
                              for leaf in metric_leaves(cond)))
    figs = []
    for key in keys:
        if key not in log.figures:  # a log read off codes carries no figures
            continue
        shown = min(p, log.width)  # the log keeps at most the run's length of figures
        vals = log.figures[key][r][:, log.width - shown:]
        joined = _join([_fmt(vals[:, j], key[0] in _MONEY) for j in range(shown)], ", ")
        if len(keys) > 1 or not isinstance(cond, Metric) or rule != "promotion":
            joined = pc.binary_join_element_wise(Metric(key[0], key[1], ">", 0).label(),
                                                 joined, " ")
        figs.append(joined)
    if figs:
        text = pc.binary_join_element_wise(text, _join(figs, "; "), ": ")
    if rule == "demotion" and log.soft[r].any():
        note = (f" (soft landing: at most {scheme.policy.max_demotion_steps} tier(s) down at a "
                "time)")
        text = pc.if_else(pa.array(log.soft[r]),
                          pc.binary_join_element_wise(text, note, ""), text)
    return text


# ------------------------------------------------------------------------------------- Chinese
_ZH_METRICS = {"spend": "消费", "orders": "订单数", "quantity": "购买数量",
               "avg_order_value": "平均订单金额", "active_months": "活跃月数",
               "recency_days": "距上次购买天数", "tenure_days": "距首次购买天数",
               "r_score": "最近购买得分", "f_score": "购买频次得分", "m_score": "消费金额得分",
               "rfm_score": "RFM得分"}
_ZH_OPS = {">": "高于", ">=": "不低于", "<": "低于", "<=": "不高于", "==": "等于",
           "!=": "不等于", "in": "属于"}
_ZH_UNIT = {"M": "个月", "Q": "个季度", "H": "个半年", "Y": "年"}
_ZH_PERIOD = {
    "M": lambda d, year: f"{d.year}年{d.month}月" if year else f"{d.month}月",
    "Q": lambda d, year: (f"{d.year}年" if year else "") + f"第{(d.month - 1) // 3 + 1}季度",
    "H": lambda d, year: (f"{d.year}年" if year else "") + ("上半年" if d.month <= 6 else "下半年"),
    "Y": lambda d, year: f"{d.year}年",
}


def describe_condition(cond: Condition, lang: str = "en") -> str:
    """A condition in words: ``spend above 500`` / ``消费高于500元``."""
    if check_lang(lang) == "en":
        return cond.describe()
    if isinstance(cond, Metric):
        return _metric_zh(cond) + _ZH_OPS[cond.op] + format_value(cond.value) + (
            "元" if cond.metric in _MONEY else "")
    if isinstance(cond, Attribute):
        return f"{cond.attribute}{_ZH_OPS[cond.op]}{format_value(cond.value)}"
    joiner = "且" if cond.key == "all" else "或"
    return joiner.join(f"（{describe_condition(p, lang)}）" if not isinstance(p, Metric | Attribute)
                       else describe_condition(p, lang) for p in cond.parts)


def metric_words(leaf: Metric, lang: str = "en", *, one_month: bool = False) -> str:
    """A metric and its window in words: ``3-month spend`` / ``近3个月消费``.

    In Chinese a one-month window is left out (a reason names the month itself: ``3月消费``)
    unless ``one_month`` asks for it (``近1个月消费``, e.g. for a label without a month).
    """
    return _metric_zh(leaf, one_month) if check_lang(lang) == "zh" else leaf.label()


def _metric_zh(leaf: Metric, one_month: bool = False) -> str:
    name = _ZH_METRICS[leaf.metric]
    if leaf.window is None:
        return name
    if leaf.window == "all":
        return "累计" + name
    if leaf.window == "YTD":
        return "年初至今" + name
    n = int(leaf.window[:-1])
    return f"近{n}个月{name}" if n > 1 or one_month else name


def _sentences_zh(log: ChangeLog, scheme: TierScheme, reviews: pd.DatetimeIndex,
                  rows: np.ndarray) -> pa.Array:
    """:func:`sentences` in Chinese: grouped by (rule, from, to) like the English ones."""
    full = pa.array(review_labels(reviews, scheme.review, "zh"))
    short = pa.array([_ZH_PERIOD[scheme.review](d, False) for d in reviews])
    return _by_group(log, scheme, rows,
                     lambda sel: _group_text_zh(log, scheme, full, short, sel))


def _group_text_zh(log: ChangeLog, scheme: TierScheme, full: pa.Array, short: pa.Array,
                   r: np.ndarray) -> pa.Array:
    """Chinese sentences of changes sharing one (rule, from, to)."""
    rule = RULES[log.rule[r[0]]]
    frm, to = int(log.from_code[r[0]]), int(log.to_code[r[0]])
    labels = scheme.labels
    names = [labels[n] for n in scheme.tier_names]
    t = np.asarray(log.review[r], dtype=np.int64)
    if rule == "override":
        notes = None if log.override_reason is None else log.override_reason[r]
        notes_arr = pa.array(notes if notes is not None else [None] * len(r), type=pa.string())
        return pc.binary_join_element_wise("人工调整：", pc.fill_null(notes_arr, ""), "")
    if rule == "initial" and scheme.initial == "lowest":
        return pc.binary_join_element_wise("首次评审（", full.take(pa.array(t)),
                                           f"）：所有客户从{names[0]}开始", "")
    unit = _ZH_UNIT[scheme.review]
    if rule == "initial":
        cond = scheme.tiers[to if to else 1].when
        assert cond is not None  # every tier above the lowest has a condition (the parser)
        p = 1
        head = (f"首次评审：符合{names[to]}的条件（{describe_condition(cond, 'zh')}）" if to
                else f"首次评审：未达到{names[0]}以上等级的条件")
    elif rule == "promotion":
        cond = scheme.tiers[to].when
        assert cond is not None
        p = scheme.promote_after(to)
        what = (describe_condition(cond, "zh") if isinstance(cond, Metric)
                else f"符合{names[to]}的条件（{describe_condition(cond, 'zh')}）")
        head = f"连续{p}{unit}{what}" if p > 1 else what
    else:  # demotion
        cond = scheme.tiers[frm].when
        assert cond is not None
        p = scheme.policy.demote_after
        what = f"低于{names[frm]}的条件（{describe_condition(cond, 'zh')}）"
        head = f"连续{p}{unit}{what}" if p > 1 else what
    keys = list(dict.fromkeys((leaf.metric, scheme.metric_window(leaf))
                              for leaf in metric_leaves(cond)))
    figs = []
    for key in keys:
        if key not in log.figures:  # a log read off codes carries no figures
            continue
        vals = log.figures[key][r][:, log.width - p:]
        parts = [pc.binary_join_element_wise(
            short.take(pa.array(np.maximum(t - (p - 1 - j), 0))),
            _fmt(vals[:, j], key[0] in _MONEY, "无"), " ") for j in range(p)]
        joined = _join(parts, "、")
        if len(keys) > 1 or not isinstance(cond, Metric) or rule != "promotion":
            joined = pc.binary_join_element_wise(
                _metric_zh(Metric(key[0], key[1], ">", 0)), joined, " ")
        figs.append(joined)
    if not figs:  # no figures: say when
        text = pc.binary_join_element_wise(full.take(pa.array(t)), head, "：")
    else:
        text = pc.binary_join_element_wise(pa.array([head] * len(r)), _join(figs, "；"), "：")
    if rule == "demotion" and log.soft[r].any():
        note = f"（缓降：每次最多降{scheme.policy.max_demotion_steps}级）"
        text = pc.if_else(pa.array(log.soft[r]), pc.binary_join_element_wise(text, note, ""),
                          text)
    return text
