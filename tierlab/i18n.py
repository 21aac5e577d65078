"""The words of the reports in English and Chinese: a small message catalogue.

Every heading, sentence, table header and axis label a report shows is looked up here by key
(:func:`text`), so a report in ``lang="zh"`` has no English left in it. Keys are short English
ids; a template takes ``str.format`` fields. :func:`column_label` turns a table column name
(``revenue_share``) into a header for people (``Revenue share`` / ``收入占比``), and
:func:`plot_text` translates the fixed texts of the plots.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from tierlab.errors import ArgumentError, did_you_mean
from tierlab.messages import TEXT as _TEXT

__all__ = ["LANGS", "check_lang", "cluster_label", "column_label", "column_labels", "date_label",
           "has_text", "month_label", "plot_text", "text", "value_label"]

#: The report languages.
LANGS = ("en", "zh")

# column name -> (English header, Chinese header)
_COLUMNS: dict[str, tuple[str, str]] = {
    "customer_id": ("Customer", "客户编号"), "name": ("Name", "名称"),
    "status": ("Status", "状态"),
    "spend_spearman": ("Spend ranking (Spearman, mid-ranks)", "消费排序相关（Spearman，平均秩）"),
    "spend_spearman_untied": ("Spend ranking (Spearman)", "消费排序相关（Spearman）"),
    "spend_pearson": ("Spend correlation (Pearson)", "消费相关（Pearson）"),
    "spend_bias_pct": ("Predicted vs actual total", "预测总额偏差"),
    "spend_top_decile_capture": ("Spend of the top 10% predicted", "预测前10%客户的消费占比"),
    "churn_auc": ("Churn AUC", "流失预测 AUC"),
    "contact": ("Contact", "联系方式"), "tier": ("Tier", "等级"), "label": ("Label", "等级名称"),
    "tier_since": ("In tier since", "等级起始日期"), "since": ("In tier since", "等级起始日期"),
    "previous_tier": ("Previous tier", "之前等级"), "reason": ("Reason", "原因"),
    "notes": ("Notes", "备注"), "review": ("Review", "评审日期"),
    "from_tier": ("From", "原等级"), "to_tier": ("To", "新等级"),
    "direction": ("Direction", "方向"), "rule": ("Rule", "规则"),
    "customers": ("Customers", "客户数"), "share": ("Share", "占比"),
    "revenue": ("Revenue", "收入"), "revenue_share": ("Revenue share", "收入占比"),
    "new": ("New", "新增"), "up": ("Up", "升级"), "down": ("Down", "降级"),
    "benefit_cost": ("Benefit cost", "权益成本"), "scheme": ("Scheme", "方案"),
    "rows": ("Rows", "行数"), "example_rows": ("Example rows", "示例行号"),
    "holdout_spend": ("Spend in the holdout", "验证期消费"),
    "holdout_spend_mean": ("Mean spend in the holdout", "验证期平均消费"),
    "purchase_rate": ("Bought again", "再次购买比例"), "lift": ("Lift", "提升倍数"),
    "cumulative_customer_share": ("Customers, this tier and above", "本等级及以上的客户占比"),
    "cumulative_spend_share": ("Spend, this tier and above", "本等级及以上的消费占比"),
    "lift_ci_low": ("Lift, 95% interval low", "提升倍数95%区间下限"),
    "lift_ci_high": ("Lift, 95% interval high", "提升倍数95%区间上限"),
    "judged": ("Enough customers to judge", "客户数足以判断"),
    "p_alive": ("Probability still active", "仍活跃的概率"),
    "segment": ("Segment", "细分"), "median_recency_days": ("Median days since last purchase",
                                                           "距上次购买天数中位数"),
    "median_frequency": ("Median orders", "订单数中位数"),
    "median_monetary": ("Median spend", "消费金额中位数"),
    "cluster": ("Group", "群组"), "size": ("Customers", "客户数"),
    "silhouette": ("Silhouette", "轮廓系数"), "k": ("Groups", "组数"),
    "mean_spend": ("Mean spend", "平均消费"), "median_spend": ("Median spend", "消费中位数"),
    "avg_order_value": ("Average order", "平均订单金额"),
    "orders": ("Orders", "订单数"), "spend": ("Spend", "消费金额"),
    "predicted_spend": ("Predicted spend", "预测消费"),
    "p_no_purchase": ("Chance of no purchase", "不再购买的概率"),
    "rising_star": ("Rising star", "潜力客户"), "at_risk": ("At risk", "流失风险"),
    "flag_reason": ("Flag reason", "标记原因"),
    "value": ("Value", "数值"), "model": ("Model", "模型"),
    "customer_name": ("Name", "名称"), "file": ("File", "文件"), "tiers": ("Tiers", "等级"),
    "changes_per_customer_year": ("Changes per customer per year", "每客户每年变动次数"),
    "flicker_rate": ("Back-and-forth rate", "来回变动率"),
    "mean_reviews_in_tier": ("Average reviews in a tier", "平均停留评审次数"),
    "changes": ("Changes", "变动次数"), "spearman": ("Rank correlation", "等级相关系数"),
    "ordered": ("Spend rises with tier", "消费随等级升高"),
    "top_tier_lift": ("Top-tier lift", "最高等级提升倍数"),
    "recency_days": ("Days since last purchase", "距上次购买天数"),
    "frequency": ("Orders", "订单数"), "monetary_total": ("Net spend", "净消费"),
    "moved_up": ("Moved up", "升级"), "moved_down": ("Moved down", "降级"),
    "unchanged": ("Unchanged", "不变"), "baseline": ("Baseline", "基准"),
    "reason_baseline": ("Reason (baseline)", "原因（基准）"),
    "customers_share": ("Share of customers", "客户占比"),
    "dimension": ("Dimension", "维度"), "score": ("Score", "得分"), "range": ("Range", "取值范围"),
    "source_row": ("Row in file", "文件行号"), "n_customers": ("Customers", "客户数"),
    "mean_orders": ("Mean orders", "平均订单数"), "mean_recency_days": ("Mean days sinc"
                                                                   "e last purchase",
                                                                   "距上次购买平均天数"),
    "mean_satisfaction": ("Mean satisfaction", "平均满意度"),
    "stability_ari": ("Stability (ARI)", "稳定性（ARI）"), "chosen": ("Chosen", "选定"),
    "changed": ("Changed", "变动"), "share_changed": ("Share changed", "变动占比"),
    "mae": ("Mean absolute error", "平均绝对误差"), "rmse": ("RMSE", "均方根误差"),
    "auc": ("AUC", "AUC"), "target": ("Target", "目标"),
    "spearman_pvalue": ("p-value", "p值"), "mean_shar"
                                          "e_changed": ("Mean share changed", "平均变动占比"),
    "benefit_cost_per_review": ("Benefit cost per review", "每次评审权益成本"),
    "total": ("Total", "合计"), "only_one": ("Tier under one scheme only", "仅在一个方案下有等级"),
    "scaled": ("Positions scaled", "位置按比例比较"),
    "region": ("Region", "地区"), "indu"
                                "stry": ("Industry", "行业"), "province": ("Province", "省份"),
    "condition": ("Condition", "条件"), "promote_after": ("Reviews to qualify", "升级所需连"
                                                                              "续评审次数"),
    "first_review": ("First review", "首次评审"), "last_review": ("Last review", "最近评审"),
    "timestamp": ("Time", "时间"), "amount": ("Amount", "金额"), "order_id": ("Order", "订单号"),
    "quantity": ("Quantity", "数量"), "channel": ("Channel", "渠道"), "phone": ("Phone", "电话"),
    "email": ("E-mail", "电子邮箱"), "signup_date": ("Signed up", "注册日期"),
    "satisfaction": ("Satisfaction", "满意度"),
    "recency_days_mean": ("Days since last purchase (mean)", "距上次购买天数（均值）"),
    "recency_days_median": ("Days since last purchase (median)", "距上次购买天数（中位数）"),
    "frequency_mean": ("Orders (mean)", "订单数（均值）"),
    "frequency_median": ("Orders (median)", "订单数（中位数）"),
    "monetary_total_mean": ("Net spend (mean)", "净消费（均值）"),
    "monetary_total_median": ("Net spend (median)", "净消费（中位数）"),
}

# cell values that are words: (English, Chinese)
_VALUES: dict[str, tuple[str, str]] = {
    "new": ("new", "新增"), "up": ("up", "升级"), "down": ("down", "降级"),
    "same": ("same", "不变"), "initial": ("first review", "首次评审"),
    "promotion": ("promotion", "升级"), "demotion": ("demotion", "降级"),
    "override": ("manual override", "人工调整"),
    "Champions": ("Champions", "冠军客户"), "Loyal": ("Loyal", "忠诚客户"),
    "Potential loyalists": ("Potential loyalists", "潜在忠诚客户"), "New": ("New", "新客户"),
    "Promising": ("Promising", "有潜力客户"), "Need attention": ("Need attention", "需要关注"),
    "About to sleep": ("About to sleep", "即将沉睡"), "At risk": ("At risk", "有流失风险"),
    "Can't lose": ("Can't lose", "不能失去"), "Hibernating": ("Hibernating", "休眠客户"),
    "Lost": ("Lost", "已流失"),
    "missing customer_id": ("missing customer id", "缺少客户编号"),
    "duplicate customer_id": ("duplicate customer id", "客户编号重复"),
    "duplicate order line": ("duplicate order line", "订单行重复"),
    "missing amount": ("missing amount", "缺少金额"), "missing "
                                                  "timestamp": ("missing date", "缺少日期"),
    "unparseable amount": ("amount is not a number", "金额无法识别"),
    "unparseable quantity": ("quantity is not a number", "数量无法识别"),
    "unparseable timestamp": ("date not recognised", "日期无法识别"),
    "bgnbd": ("BG/NBD + Gamma-Gamma", "BG/NBD + Gamma-Gamma 模型"),
    "supervised": ("Supervised (gradient boosting)", "监督学习模型（梯度提升）"),
    "naive_last": ("Baseline: last period repeats", "基线：重复上一期"),
    "naive_average": ("Baseline: average so far", "基线：历史平均"),
    "fitted": ("fitted", "已拟合"),
}

# fixed texts of the plots (English as drawn) -> Chinese
_PLOT: dict[str, str] = {
    "customers": "客户数", "Customers": "客户数", "share": "占比", "Share": "占比",
    "revenue share": "收入占比", "Revenue share": "收入占比", "Revenue": "收入",
    "revenue": "收入", "Tier": "等级", "tier": "等级", "review": "评审", "Review": "评审",
    "Days since last purchase": "距上次购买天数", "days": "天", "Orders": "订单数",
    "orders (log scale)": "订单数（对数刻度）", "Net spend": "净消费",
    "net spend (log scale; ≤ 1 shown at 1)": "净消费（对数刻度；≤1 显示为1）",
    "Share of customers": "客户占比", "Share of revenue": "收入占比",
    "share of customers": "客户占比", "share of revenue": "收入占比",
    "Benefit cost": "权益成本", "benefit cost": "权益成本", "Customers per tier": "各等级客户数",
    "From": "原等级", "To": "新等级", "from": "原等级", "to": "新等级",
    "Recency score": "最近购买得分", "Frequency score": "购买频次得分",
    "Monetary score": "消费金额得分", "R score": "R得分", "F score": "F得分", "M score": "M得分",
    "current": "当前值", "Current": "当前值", "scheme": "方案", "Scheme": "方案",
    "predicted": "预测", "actual": "实际", "Predicted": "预测", "Actual": "实际",
    "Mean holdout spend": "验证期平均消费", "holdout spend": "验证期消费",
    "Cumulative share of customers": "客户累计占比", "Cumulative share of revenue": "收入累计占比",
    "recency days": "距上次购买天数", "frequency": "订单数", "monetary total": "净消费",
    "log2(cluster mean / overall mean)": "log2（群组均值 / 总体均值）",
    "equality": "完全平均", "Equality": "完全平均", "Share of total": "占总体比例",
    "Feature (cell text: cluster mean)": "特征（单元格：群组均值）",
    "Cluster (customers)": "群组（客户数）",
    "Cluster profiles relative to all customers": "各群组相对全体客户的特征",
    "Perfect calibration": "完美校准", "Model": "模型", "To tier": "新等级",
    "From tier": "原等级", "Current value": "当前值", "Threshold value": "阈值",
    "Share of customers (lowest spend first)": "客户占比（按消费从低到高）",
    "F score (frequency, higher = more orders)": "F得分（频次，越高订单越多）",
    "R score (recency, higher = more recent)": "R得分（最近购买，越高越近）",
    "Tier mean": "等级平均", "All customers": "全体客户",
    "Mean holdout spend per customer": "验证期每位客户平均消费",
    "Holdout spend per tier (bar labels: lift)": "各等级验证期消费（柱标：提升倍数）",
    "Share of customers and revenue by tier": "各等级的客户与收入占比",
    "Share of cust"
    "omers by tier": "各等级的客户占比", "Share of revenue by tier": "各等级的收入占比",
    "Tier migration (customers)": "等级变动（客户数）",
    "Tier migration (share of customers)": "等级变动（客户占比）",
    "Customers by R and F score": "按R、F得分的客户数",
    "Share of customers per tier as the threshold varies": "阈值变化时各等级的客户占比",
    "Share of revenue per tier as the threshold varies": "阈值变化时各等级的收入占比",
    "Customers per tier as the threshold varies": "阈值变化时各等级的客户数",
    "Share of revenue per tier under each scheme": "各方案下各等级的收入占比",
    "Customers per tier under each scheme": "各方案下各等级的客户数",
    "Benefit cost per tier under each scheme": "各方案下各等级的权益成本",
    "Revenue per tier under each scheme": "各方案下各等级的收入",
    "Share of customers per tier": "各等级的客户占比",
    "spend": "消费", "no purchase": "不再购买", "probability of no purchase": "不再购买概率",
    "purchases": "购买次数", "(none)": "（无等级）",
    "new": "新增", "up": "升级", "down": "降级",
    # the potential models, as plot_calibration names them (value_label in English)
    "BG/NBD + Gamma-Gamma": "BG/NBD + Gamma-Gamma 模型",
    "Supervised (gradient boosting)": "监督学习模型（梯度提升）",
    "Baseline: last period repeats": "基线：重复上一期",
    "Baseline: average so far": "基线：历史平均",
}

# business names of clusters (tierlab.segment.BUSINESS_NAMES) -> Chinese
_CLUSTERS: dict[str, str] = {
    "High value, active": "高价值活跃客户", "Big spenders, recent": "近期大额消费客户",
    "Lapsed loyal customers": "流失的忠实客户", "Lapsed big spenders": "流失的大额消费客户",
    "Frequent, low spend": "高频低消费客户", "New / low value": "新客户或低价值客户",
    "Fading regulars": "渐少光顾的老客户", "Lapsed low value": "流失的低价值客户",
}

# dynamic plot texts: (pattern, Chinese template using the groups)
_PLOT_PATTERNS: list[tuple[str, str]] = [
    (r"Revenue concentration \(Gini (?P<g>[\d.]+)\)", "收入集中度（基尼系数 {g}）"),
    (r"Revenue \(Gini (?P<g>[\d.]+)\)", "收入（基尼系数 {g}）"),
    (r"(?P<s>.+): Holdout spend per tier \(bar labels: lift\)",
     "{s}：各等级验证期消费（柱标：提升倍数）"),
    (r"Customers per tier — (?P<s>.+)", "各等级客户数 — {s}"),
    (r"Share of customers per tier — (?P<s>.+)", "各等级客户占比 — {s}"),
    (r"Mean predicted (?P<w>.+)", "平均预测{w}"),
    (r"Mean actual (?P<w>.+) \(holdout\)", "平均实际{w}（验证期）"),
    (r"Calibration by decile of predicted (?P<w>.+)", "按预测{w}十分位的校准"),
    (r"Spearman \u03c1 = (?P<r>[-\d.]+)", "斯皮尔曼相关系数 \u03c1 = {r}"),
    (r"(?P<w>Sum|Mean|Median) monetary total by R and F score", "按R、F得分的消费金额"),
    (r"(?P<w>Sum|Mean|Median) monetary total", "消费金额"),
    (r"(?P<cluster>.+) \((?P<n>[\d,]+)\)", "{cluster}（{n}）"),  # a cluster and its size
]

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def check_lang(lang: object) -> str:
    """*lang* when it is a report language, else an :class:`ArgumentError` naming the choices."""
    if not isinstance(lang, str) or lang not in LANGS:
        raise ArgumentError(f"lang={lang!r} is not a report langu"
                             "age{did_you_mean(str(lang), LANGS)}"
                            f"; use one of {', '.join(LANGS)}")
    return lang


def has_text(key: str) -> bool:
    """Whether the catalogue has *key*."""
    return key in _TEXT


def text(key: str, lang: str = "en", **fields: Any) -> str:
    """The text *key* in *lang*, with ``str.format`` *fields* filled in.

    Raises
    ------
    ArgumentError
        Unknown key or language.
    """
    i = LANGS.index(check_lang(lang))
    try:
        template = _TEXT[key][i]
    except KeyError:
        raise ArgumentError(f"no report text {key!r}{did_you_mean(key, _TEXT)}") from None
    return template.format(**fields) if fields else template


def text_per_row(key: str, lang: str, index: pd.Index, **fields: Any) -> pd.Series:
    """The text *key* in *lang* for every row of *index*, fields given per row or once.

    A field is a Series aligned with *index* (its values turned to text) or a scalar; the
    template is cut at its ``{name}`` fields once and the pieces are joined column-wise, so no
    Python loop runs over the rows. Format specs (``{x:.1f}``) are not supported here: pass the
    field formatted.
    """
    template = text(key, lang)
    pieces = re.split(r"\{(\w+)\}", template)
    out = pd.Series("", index=index, dtype=object)
    for k, piece in enumerate(pieces):  # a loop over the template's pieces, not over rows
        if k % 2 == 0:
            out = out + piece
        else:
            value = fields[piece]
            out = out + (value.astype(str) if isinstance(value, pd.Series) else str(value))
    return out


def column_label(name: object, lang: str = "en") -> str:
    """A table header for people: ``revenue_share`` → ``Revenue share`` / ``收入占比``.

    Names outside the catalogue: underscores become spaces and the first letter is capitalised.
    """
    i = LANGS.index(check_lang(lang))
    key = str(name)
    if key in _COLUMNS:
        return _COLUMNS[key][i]
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def column_labels(names: Iterable[object], lang: str = "en") -> list[str]:
    """:func:`column_label` of each name."""
    return [column_label(n, lang) for n in names]


def value_label(value: object, lang: str = "en") -> str:
    """A word in a table cell (``up``, ``promotion``) in *lang*; other values as text."""
    i = LANGS.index(check_lang(lang))
    key = str(value)
    return _VALUES[key][i] if key in _VALUES else key


def plot_text(value: str, lang: str = "en") -> str:
    """A plot text in *lang* (unchanged when English or not in the catalogue).

    Multi-line texts are translated line by line; texts with numbers or names in them
    (``Revenue concentration (Gini 0.41)``) by pattern.
    """
    if check_lang(lang) == "en" or not value:
        return value
    if "\n" in value:
        return "\n".join(plot_text(line, lang) for line in value.split("\n"))
    if value in _PLOT:
        return _PLOT[value]
    for pattern, template in _PLOT_PATTERNS:
        m = re.fullmatch(pattern, value)
        if m:
            fields = {k: cluster_label(v, lang) if k == "cluster" else _PLOT.get(v, v)
                      for k, v in m.groupdict().items()}
            if "cluster" in fields and fields["cluster"] == m.group("cluster"):
                continue  # not a cluster name: "X (3)" stays as it is
            return template.format(**fields)
    return cluster_label(value, lang)


def cluster_label(name: object, lang: str = "en") -> str:
    """A cluster's business name (:func:`tierlab.segment.cluster_customers`) in *lang*.

    ``Lapsed low value 2`` → ``流失的低价值客户 2``; generic names over other columns
    (``high recency_days, low frequency``) → ``距上次购买天数高、购买次数低``. Names it does not
    know come back unchanged.
    """
    text_ = str(name)
    if check_lang(lang) == "en":
        return text_
    m = re.fullmatch(r"(?P<base>.+?)(?: (?P<n>\d+))?", text_)
    if m is None:
        return text_
    base, n = m.group("base"), m.group("n")
    if base in _CLUSTERS:
        out = _CLUSTERS[base]
    else:
        parts = [re.fullmatch(r"(high|low) (\S+)", p.strip()) for p in base.split(",")]
        if not all(parts):
            return text_
        out = "、".join(column_label(p.group(2), lang) + ("高" if p.group(1) == "high" else "低")
                       for p in parts if p is not None)
    return f"{out} {n}" if n else out


def month_label(date: Any, lang: str = "en") -> str:
    """A month for people: ``Mar 2025`` / ``2025年3月``."""
    d = pd.Timestamp(date)
    if check_lang(lang) == "zh":
        return f"{d.year}年{d.month}月"
    return f"{_MONTHS_EN[d.month - 1]} {d.year}"


def date_label(date: Any, lang: str = "en") -> str:
    """A day for people: ``2025-03-31`` / ``2025年3月31日``."""
    d = pd.Timestamp(date)
    if check_lang(lang) == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return d.strftime("%Y-%m-%d")
