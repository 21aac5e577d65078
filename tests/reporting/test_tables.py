"""tierlab.reporting.tables: frames as tables for people (pandas Styler)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tierlab.reporting.tables import MISSING, Note, people_table


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html,
                                                                   flags=re.S)]


def _headers(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<th[^>]*>(.*?)</th>", html,
                                                                   flags=re.S)]


FRAME = pd.DataFrame({
    "customers": [1234567, 5], "share": [0.2311, 0.7689], "revenue": [1234.5, np.nan],
    "reason": ["spend above 500 in Mar, Apr, May 2025: " + "612.00, " * 20, None],
    "since": pd.to_datetime(["2025-03-31", None]), "flag": [True, False],
}, index=pd.Index(["Low", "High"], name="tier"))


def test_numbers_dates_shares_and_missing_values_for_people():
    html = people_table(FRAME).to_html()
    cells = _cells(html)
    assert cells[:2] == ["Low", "1,234,567"]  # the named index is the first column
    assert "23.1%" in cells and "76.9%" in cells
    assert "1,234.50" in cells and "2025-03-31" in cells and "yes" in cells and "no" in cells
    assert cells.count(MISSING) == 3  # revenue, reason and date of the second row
    assert not {"nan", "NaN", "None", "NaT", "<NA>"} & set(cells)
    assert FRAME["reason"].iloc[0].strip() in cells  # never cut with "…"
    assert _headers(html) == ["Tier", "Customers", "Share", "Revenue", "Reason", "In tier since",
                             "Flag"]
    assert "row_heading" not in html and "blank" not in html  # no index column


def test_shares_of_the_trend_table_are_percentages():
    trend = pd.DataFrame({"review": pd.to_datetime(["2025-01-31"]), "customers": [1189],
                          "changed": [73], "share_changed": [0.0614]})
    cells = _cells(people_table(trend).to_html())
    assert cells == ["2025-01-31", "1,189", "73", "6.1%"]


def test_a_plain_row_number_never_shows():
    html = people_table(FRAME.reset_index(drop=True)).to_html()
    assert _headers(html)[0] == "Customers"
    assert _cells(html)[0] == "1,234,567"


def test_chinese_headers_tier_labels_and_words():
    frame = pd.DataFrame({"tier": ["High"], "direction": ["up"], "reason": ["missing amount"]})
    html = people_table(frame, "zh", tier_labels={"High": "高级客户"}).to_html()
    assert _headers(html) == ["等级", "方向", "原因"]
    assert _cells(html) == ["高级客户", "升级", "缺少金额"]


def test_empty_table_is_a_sentence():
    note = people_table(FRAME.iloc[:0], empty="empty_rejected")
    assert isinstance(note, Note) and note.sentence == "No rejected rows."
    assert "<table" not in note._repr_html_()
    assert people_table(FRAME.iloc[:0], "zh", empty="empty_rejected").sentence == "没有被剔除的行。"


def test_text_is_escaped():
    html = people_table(pd.DataFrame({"name": ["<script>x</script>"]})).to_html()
    assert "<script>x" not in html and "&lt;script&gt;" in html


def test_model_table_shows_each_model_with_intervals_and_reasons():
    from types import SimpleNamespace

    from tierlab.reporting.tables import MODEL_METRICS, model_table

    rows = []
    for metric in MODEL_METRICS:
        rows.append(("bgnbd", "fitted", metric, -12.34 if metric == "spend_bias_pct" else 0.5,
                     -20.0 if metric == "spend_bias_pct" else 0.4, 1.0))
        rows.append(("supervised", "not fitted: too little history", metric, None, None, None))
    rows.append(("bgnbd", "fitted", "spend_mae", 10.0, 9.0, 11.0))  # not shown
    table = pd.DataFrame(rows, columns=["model", "status", "metric", "estimate", "ci_low",
                                        "ci_high"])
    out = model_table(SimpleNamespace(table=table), "zh")
    assert list(out.columns) == ["model", "status", *MODEL_METRICS]
    assert out["model"].tolist() == ["BG/NBD + Gamma-Gamma 模型", "监督学习模型（梯度提升）"]
    assert out["status"].tolist() == ["已拟合", "not fitted: too little history"]
    assert out.loc[0, "spend_bias_pct"] == "-12.3% [-20.0% – +1.0%]"
    assert out.loc[0, "churn_auc"] == "0.50 [0.40 – 1.00]"
    assert (out.loc[1, list(MODEL_METRICS)] == "—").all()


def test_words_with_quotes_and_previous_tiers_are_translated():
    """Segment words with an apostrophe are looked up on their own text; previous and from/to
    tiers show their labels even when a label column is beside the tier (which keeps its name)."""
    segments = pd.DataFrame({"customers": [3, 4]},
                            index=pd.Index(["Can't lose", "Champions"], name="segment"))
    cells = _cells(people_table(segments, "zh").to_html())
    assert "不能失去" in cells and "Can't lose" not in cells and "Can&#x27;t lose" not in cells
    assert "Can&#x27;t lose" in people_table(segments, "en").to_html()  # still escaped
    table = pd.DataFrame({"tier": ["High"], "label": ["高级客户"], "previous_tier": ["Mid"],
                          "reason": ["<b>"]})
    cells = _cells(people_table(table, "zh", tier_labels={"High": "高级客户",
                                                          "Mid": "中级客户"}).to_html())
    assert cells[:3] == ["High", "高级客户", "中级客户"]
    assert "<b>" not in people_table(table, "zh").to_html()
