"""Reasons: the sentence of each change, from a change log built by hand or by a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tier_cases import MONTHLY, monthly_tx

from tierlab.tiers.changelog import ChangeLog
from tierlab.tiers.reasons import review_labels, sentences
from tierlab.tiers.scheme import TierScheme


def test_review_labels_per_frequency():
    dates = pd.DatetimeIndex(["2025-03-31", "2025-12-31"])
    assert review_labels(dates, "M") == ["Mar 2025", "Dec 2025"]
    assert review_labels(dates, "Q") == ["Q1 2025", "Q4 2025"]
    assert review_labels(dates, "H") == ["H1 2025", "H2 2025"]
    assert review_labels(dates, "Y") == ["2025", "2025"]


def test_sentences_from_a_hand_built_log():
    scheme = TierScheme.from_dict(MONTHLY)
    reviews = pd.date_range("2025-01-31", periods=4, freq="ME")
    key = ("spend", "1M")
    # promotion of customer 0 at review 3 (figures of reviews 1..3), then an entry of 1
    log = ChangeLog(customer=np.array([1, 0]), review=np.array([0, 3]),
                    from_code=np.array([-1, 1]), to_code=np.array([0, 2]),
                    rule=np.array([1, 2], dtype=np.int8), override_reason=None,
                    soft=np.array([False, False]),
                    figures={key: np.array([[0.0, 0.0, 0.0, 20.0],
                                            [0.0, 612.0, 540.5, 980.0]])}, width=4)
    text = sentences(log, scheme, reviews).to_pylist()
    assert text == ["first review: qualifies for no tier above Low in Jan 2025: spend 20.00",
                    "spend above 500 in Feb, Mar, Apr 2025: 612.00, 540.50, 980.00"]
    assert sentences(log, scheme, reviews, np.array([1])).to_pylist() == text[1:]


def test_years_are_named_when_a_span_crosses_them():
    scheme = TierScheme.from_dict(MONTHLY)
    hist = scheme.run(monthly_tx({"a": [200, 600, 700, 800]}, start="2024-11"))
    up = hist.changes[hist.changes["rule"] == "promotion"].iloc[0]
    assert up["reason"] == ("spend above 500 in Dec 2024, Jan 2025, Feb 2025: 600.00, 700.00, "
                            "800.00")


def test_negative_figures():
    d = dict(MONTHLY, policy={"promote_after": 1, "demote_after": 1})
    hist = TierScheme.from_dict(d).run(monthly_tx({"a": [600, -30]}))
    down = hist.changes[hist.changes["rule"] == "demotion"].iloc[0]
    assert down["reason"] == "below High (spend above 500) in Feb 2025: spend -30.00"


# ------------------------------------------------------------------------------------- Chinese
def test_chinese_sentences_from_a_hand_built_log():
    scheme = TierScheme.from_dict({**MONTHLY, "tiers": [
        {**t, "label": label} for t, label in zip(MONTHLY["tiers"], ["低级客户", "中级客户",
                                                                       "高级客户"], strict=True)]})
    reviews = pd.date_range("2025-01-31", periods=5, freq="ME")
    key = ("spend", "1M")
    log = ChangeLog(customer=np.array([1, 0]), review=np.array([0, 4]),
                    from_code=np.array([-1, 1]), to_code=np.array([0, 2]),
                    rule=np.array([1, 2], dtype=np.int8), override_reason=None,
                    soft=np.array([False, False]),
                    figures={key: np.array([[0.0, 0.0, 0.0, 0.0, 20.0],
                                            [0.0, 0.0, 612.0, 540.0, 980.0]])}, width=5)
    text = sentences(log, scheme, reviews, lang="zh").to_pylist()
    # the example of the source material, word for word
    assert text[1] == "连续3个月消费高于500元：3月 612.00、4月 540.00、5月 980.00"
    assert text[0] == "首次评审：未达到低级客户以上等级的条件：消费 1月 20.00"
    assert sentences(log, scheme, reviews).to_pylist()[1] == \
        "spend above 500 in Mar, Apr, May 2025: 612.00, 540.00, 980.00"


def test_chinese_review_labels_and_conditions():
    from tierlab.tiers.conditions import AllOf, Attribute, Metric
    from tierlab.tiers.reasons import describe_condition

    dates = pd.DatetimeIndex(["2025-03-31", "2025-12-31"])
    assert review_labels(dates, "M", "zh") == ["2025年3月", "2025年12月"]
    assert review_labels(dates, "Q", "zh") == ["2025年第1季度", "2025年第4季度"]
    assert review_labels(dates, "H", "zh") == ["2025年上半年", "2025年下半年"]
    cond = AllOf((Metric("spend", "3M", ">=", 1000), Attribute("region", "in", ["local"])))
    assert describe_condition(cond, "zh") == "近3个月消费不低于1,000元且region属于[local]"
    assert describe_condition(cond, "en") == cond.describe()


def test_history_speaks_chinese_for_the_same_changes():
    scheme = TierScheme.from_dict(MONTHLY)
    hist = scheme.run(monthly_tx({"a": [600, 700, 800, 0, 0, 0, 0, 0, 0, 0],
                                  "b": [150, 50, 120, 0, 0, 0, 0, 0, 0, 0]}))
    zh, en = hist.changes_in("zh"), hist.changes
    assert len(zh) == len(en) and (zh["customer_id"] == en["customer_id"]).all()
    assert zh["reason"].str.contains("[\u4e00-\u9fff]").all()
    assert not en["reason"].str.contains("[\u4e00-\u9fff]").any()
    cur = hist.current_in("zh")
    assert cur.index.equals(hist.current.index)
    assert cur["reason"].isna().equals(hist.current["reason"].isna())
