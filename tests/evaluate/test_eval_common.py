"""Tests of :mod:`tierlab.evaluate.common`: assignments as ordered tiers, windows of days."""

from __future__ import annotations

import pandas as pd
import pytest
from eval_helpers import tx_frame

from tierlab.errors import DataError
from tierlab.evaluate.common import as_tiers, between


def test_as_tiers_orders_plain_values_and_names_ids_as_text():
    s = as_tiers(pd.Series(["b", "a", None, "b"], index=[3, 1, 2, 10]))
    assert list(s.cat.categories) == ["a", "b"] and s.cat.ordered
    assert list(s.index) == ["3", "1", "2", "10"] and s.index.name == "customer_id"
    assert s.name == "tier" and s.isna().tolist() == [False, False, True, False]


def test_as_tiers_keeps_given_category_order_and_reads_a_tier_column():
    cat = pd.Categorical(["High", "Low"], categories=["Low", "High"])  # unordered
    s = as_tiers(pd.DataFrame({"tier": cat}, index=["x", "y"]))
    assert list(s.cat.categories) == ["Low", "High"] and s.cat.ordered


@pytest.mark.parametrize(("value", "match"), [
    (pd.DataFrame({"level": ["a"]}), "without a 'tier' column"),
    (["a", "b"], "got list"),
    (pd.Series(["a", "b"], index=["x", "x"]), "duplicates"),
])
def test_as_tiers_explains_unusable_input(value, match):
    with pytest.raises(DataError, match=match):
        as_tiers(value, "assignment")


def test_between_takes_whole_days_both_ends_included():
    tx = tx_frame([("a", "2025-01-31 23:59", 1), ("a", "2025-02-01 00:00", 2),
                   ("a", "2025-02-28 23:59", 3), ("a", "2025-03-01 00:00", 4)])
    out = between(tx, pd.Timestamp("2025-02-01"), pd.Timestamp("2025-02-28"))
    assert out["amount"].tolist() == [2.0, 3.0]
    assert between(tx, None, None) is tx  # nothing dropped: the frame itself
    assert between(tx, None, pd.Timestamp("2025-01-31"))["amount"].tolist() == [1.0]
