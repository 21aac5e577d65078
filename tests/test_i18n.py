"""tierlab.i18n: the report texts in English and Chinese."""

from __future__ import annotations

import re
import string

import pandas as pd
import pytest

from tierlab import i18n, messages
from tierlab.errors import ArgumentError

CJK = re.compile("[\u4e00-\u9fff]")


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_text_has_both_languages_with_the_same_fields():
    for key, (en, zh) in messages.TEXT.items():
        assert en and zh, key
        assert _fields(en) == _fields(zh), f"{key}: the two templates take different fields"
        assert not CJK.search(en), f"{key}: Chinese in the English text"
        words = re.sub(r"\{\w+\}", "", zh).replace("RFM", "")  # fields are filled in later
        assert CJK.search(zh) or not re.search("[A-Za-z]{4,}", words), \
            f"{key}: the Chinese text is not Chinese"


def test_text_fills_fields_in_the_language():
    assert i18n.text("s_study_date", "en", date="2025-12-31") == "Study date: 2025-12-31."
    assert i18n.text("s_study_date", "zh", date="2025年12月31日") == "研究日期：2025年12月31日。"
    assert i18n.text("h_summary") == "Summary"


def test_unknown_language_or_key_is_an_argument_error():
    with pytest.raises(ArgumentError, match=r"lang='cn'.*use one of en, zh"):
        i18n.text("h_summary", "cn")
    with pytest.raises(ArgumentError, match=r"did you mean 'h_summary'"):
        i18n.text("h_sumary", "en")
    assert i18n.check_lang("zh") == "zh"


def test_column_labels():
    assert i18n.column_label("revenue_share") == "Revenue share"
    assert i18n.column_label("revenue_share", "zh") == "收入占比"
    assert i18n.column_label("some_new_column") == "Some new column"  # not in the catalogue
    assert i18n.column_labels(["tier", "customers"], "zh") == ["等级", "客户数"]


def test_values_months_and_dates():
    assert i18n.value_label("up", "zh") == "升级" and i18n.value_label("up") == "up"
    assert i18n.value_label("Gold", "zh") == "Gold"  # not a word the catalogue knows
    assert i18n.month_label(pd.Timestamp("2025-03-31"), "zh") == "2025年3月"
    assert i18n.month_label("2025-03-31") == "Mar 2025"
    assert i18n.date_label("2025-03-01", "zh") == "2025年3月1日"


def test_plot_texts_exact_pattern_and_lines():
    assert i18n.plot_text("Customers", "zh") == "客户数"
    assert i18n.plot_text("Customers", "en") == "Customers"
    gini = i18n.plot_text("Revenue concentration (Gini 0.41)", "zh")
    assert gini == "收入集中度（基尼系数 0.41）"
    two = i18n.plot_text("Holdout spend per tier (bar labels: lift)\nSpearman \u03c1 = 0.43", "zh")
    assert two.split("\n")[1].endswith("0.43") and CJK.search(two.split("\n")[0])
    assert i18n.plot_text("Gold", "zh") == "Gold"


def test_cluster_names_in_chinese():
    """Every business name (numbered or not) and the generic high/low names read in Chinese."""
    from tierlab.i18n import cluster_label, plot_text
    from tierlab.segment import BUSINESS_NAMES

    for name in BUSINESS_NAMES.values():
        for shown in (name, f"{name} 2"):
            zh = cluster_label(shown, "zh")
            assert not re.search("[A-Za-z]", zh) and re.search("[\u4e00-\u9fff]", zh), shown
            assert cluster_label(shown, "en") == shown
    assert cluster_label("high frequency, low monetary_total", "zh") == "订单数高、净消费低"
    assert plot_text("Lapsed big spenders (12,345)", "zh") == "流失的大额消费客户（12,345）"
    assert plot_text("Jan (3)", "zh") == "Jan (3)"  # not a cluster: left alone


def test_text_per_row_equals_text_row_by_row():
    from tierlab.i18n import text, text_per_row

    index = pd.Index(["a", "b", "c"])
    alive = pd.Series([90, 5, 100], index=index)
    for lang in ("en", "zh"):
        rows = text_per_row("flag_alive", lang, index, alive=alive)
        assert rows.tolist() == [text("flag_alive", lang, alive=v) for v in alive]
    risk = text_per_row("flag_risk", "en", index, tier="High", risk=alive, alive="")
    assert risk.tolist() == [text("flag_risk", "en", tier="High", risk=v, alive="")
                             for v in alive]
