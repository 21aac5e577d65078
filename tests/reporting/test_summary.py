"""tierlab.reporting.summary and notes: the summary a report opens with, its sanity checks."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import tierlab as tl
from tierlab.reporting.notes import NoteTaker, note_for, strip_paths
from tierlab.reporting.summary import (
    customer_match,
    sanity_checks,
    segmentation_summary,
    tier_mix,
)

RULES = "data/rules/monthly_spend.yaml"


@pytest.fixture(scope="module")
def run():
    tx, customers = tl.generate(200, months=8, seed=5)
    scheme = tl.TierScheme.from_yaml(RULES)
    return tx, customers, scheme, scheme.run(tx, customers=customers)


def test_tier_mix_against_a_direct_count(run):
    tx, _, scheme, hist = run
    mix = tier_mix(hist, tx).set_index("tier")
    counts = hist.current["tier"].value_counts()
    assert mix["customers"].to_dict() == {t: int(counts[t]) for t in scheme.tier_names}
    spend = tx.groupby("customer_id")["amount"].sum()
    high = hist.current.index[hist.current["tier"] == "High"]
    assert mix.loc["High", "revenue"] == pytest.approx(spend.reindex(high).sum())
    assert mix["revenue_share"].sum() == pytest.approx(1.0)
    assert list(mix.index) == scheme.tier_names[::-1]


def test_a_plausible_run_has_nothing_to_flag(run):
    tx, customers, _, hist = run
    assert sanity_checks(hist, tx, customers) == []


def test_a_tier_holding_nearly_everyone_and_an_unreachable_threshold(run):
    tx, customers, scheme, _ = run
    strict = scheme.with_value("tiers[2].when.value", 10**9).with_value(
        "tiers[1].when.value", 10**9)
    hist = strict.run(tx, customers=customers)
    found = sanity_checks(hist, tx, customers)
    assert any("100.0% of the customers are in the tier Low" in w for w in found)
    assert any(w.startswith("No customer is in the tier High") for w in found)
    assert sum("above every value in the data" in w for w in found) == 2
    zh = sanity_checks(hist, tx, customers, "zh")
    assert any("低级客户" in w for w in zh)


def test_a_customer_table_of_other_customers(run):
    tx, customers, _, hist = run
    other = customers.assign(customer_id="X" + customers["customer_id"].astype(str))
    assert customer_match(tx, other) == 0.0
    assert customer_match(tx, customers) == 1.0
    assert customer_match(tx, None) is None
    found = sanity_checks(hist, tx, other)
    assert found == ["Only 0.0% of the customers in the transactions appear in the customer "
                     "table: is it the table for this data?"]


def test_summary_sentences(run):
    tx, _, _, hist = run
    load = {"rows_rejected": 0}
    text = segmentation_summary(hist, tx, load, pd.Timestamp("2024-08-31"))
    assert text.startswith("Study date: 2024-08-31.")
    assert f"{len(tx):,} transactions of {tx['customer_id'].nunique():,} customers" in text
    assert "every row of the file was usable" in text and "Nothing to flag" in text
    ups = (hist.changes["review"] == hist.reviews[-1]) & (hist.changes["direction"] == "up")
    assert f"{int(ups.sum()):,} customers moved up" in text
    zh = segmentation_summary(hist, tx, {"rows_rejected": 3}, pd.Timestamp("2024-08-31"), "zh",
                              warnings=["注意"])
    assert zh.startswith("研究日期：2024年8月31日。") and "另有3行数据被剔除" in zh
    assert "高级客户" in zh and "- 注意" in zh


def test_warnings_become_notes():
    msg = ("RFMScorer: ties in 'frequency' (F) leave only 4 of 5 quantile bins; its customers "
           "get scores 1, 3, 4, 5. Use method='fixed'")
    assert note_for(msg, UserWarning) == ("Many customers share the same number of orders, so "
                                          "its score has 4 levels, not 5.")
    assert "订单数" in note_for(msg, UserWarning, "zh")
    assert note_for("old API", DeprecationWarning) is None
    assert strip_paths("cannot read /tmp/kernel-123/abc/file.csv now") == \
        "cannot read file.csv now"
    taker = NoteTaker("en")
    shown: list[str] = []
    taker.start()
    try:
        taker.show_with(shown.append)
        warnings.warn(msg, UserWarning, stacklevel=1)
        warnings.warn(msg, UserWarning, stacklevel=1)
    finally:
        taker.stop()
    assert taker.notes == shown == [note_for(msg, UserWarning)]  # once


def test_what_changes_for_whom(run):
    from tierlab.reporting.summary import who_changes

    tx, customers, _, _ = run
    comp = tl.compare_schemes({"base": RULES, "strict": "data/rules/monthly_spend_strict.yaml"},
                              tx, customers=customers)
    text = who_changes(comp)
    mv = comp.movement.loc["strict"]
    assert (f"Under strict, compared with base: {int(mv['up']):,} customers would move up, "
            f"{int(mv['down']):,} would move down") in text
    a, b = comp.summaries["base"], comp.summaries["strict"]
    assert f"- High: {int(a.loc['High', 'customers']):,} → {int(b.loc['High', 'customers']):,}" \
        in text
    cost = comp.revenue_cost.groupby("scheme")["benefit_cost"].sum()
    assert f"Benefit cost per year {cost['base']:,.0f} → {cost['strict']:,.0f}" in text
    assert "高级客户" in who_changes(comp, "zh")
