"""Scheme lint: gaps, unreachable tiers, thresholds out of order, empty tiers."""

from __future__ import annotations

import copy

import pandas as pd
from tier_cases import NESTED

from tierlab.tiers.lint import lint_scheme, static_warnings
from tierlab.tiers.scheme import TierScheme


def test_lint_finds_a_gap_between_capped_gold_and_diamond():
    d = {
        "name": "gap", "review": "yearly",
        "tiers": [
            {"name": "Regular"},
            {"name": "Gold", "when": {"all": [
                {"metric": "spend", "window": "12M", "op": ">=", "value": 50000},
                {"metric": "spend", "window": "12M", "op": "<", "value": 100000}]}},
            {"name": "Diamond", "when": {"all": [
                {"metric": "spend", "window": "12M", "op": ">=", "value": 100000},
                {"metric": "orders", "window": "12M", "op": ">=", "value": 100}]}},
        ],
    }
    warnings = TierScheme.from_dict(d).lint()
    assert len(warnings) == 1
    assert warnings[0].startswith("gap: tiers[1] (Gold) is capped at 12-month spend below "
                                  "100,000 while tiers[2] (Diamond) also needs 12-month orders "
                                  "at least 100")


def test_lint_unreachable_and_out_of_order():
    d = copy.deepcopy(NESTED)
    d["tiers"][1]["when"] = {"all": [
        {"metric": "spend", "window": "1M", "op": ">", "value": 500},
        {"metric": "spend", "window": "1M", "op": "<", "value": 100}]}
    d["tiers"][2]["when"] = {"metric": "spend", "window": "1M", "op": ">=", "value": 50}
    warnings = TierScheme.from_dict(d).lint()
    assert any("tiers[1] (Mid) can never be reached" in w for w in warnings)
    assert any(w.startswith("thresholds out of order: tiers[2] (High) needs spend at least 50")
               for w in warnings)


def test_lint_empty_tier_with_data():
    tx = pd.DataFrame({"customer_id": ["a", "b"],
                       "timestamp": pd.to_datetime(["2025-01-05", "2025-02-05"]),
                       "amount": [150.0, 20.0]})
    d = copy.deepcopy(NESTED)
    d["tiers"][2]["when"] = {"metric": "spend", "window": "1M", "op": ">", "value": 500}
    scheme = TierScheme.from_dict(d)
    warnings = scheme.lint(tx)
    assert warnings == ["tiers[2] (High) is empty: no customer qualifies for it at any review "
                        "in the data"]
    assert scheme.lint(history=scheme.run(tx)) == warnings  # reuse a run instead of a rerun


def test_clean_scheme_has_no_warnings():
    assert TierScheme.from_dict(NESTED).lint() == []




def test_lint_scheme_is_static_warnings_plus_the_data():
    d = copy.deepcopy(NESTED)
    d["tiers"][1]["when"] = {"all": [
        {"metric": "spend", "window": "1M", "op": ">", "value": 500},
        {"metric": "spend", "window": "1M", "op": "<", "value": 100}]}
    d["tiers"][2]["when"] = {"metric": "spend", "window": "1M", "op": ">", "value": 50}
    scheme = TierScheme.from_dict(d)
    tx = pd.DataFrame({"customer_id": ["a"], "timestamp": pd.to_datetime(["2025-01-05"]),
                       "amount": [10.0]})
    static = static_warnings(scheme)
    assert len(static) == 2
    assert lint_scheme(scheme) == static == scheme.lint()
    empty = "is empty: no customer qualifies for it at any review in the data"
    assert lint_scheme(scheme, tx) == [*static, f"tiers[1] (Mid) {empty}",
                                       f"tiers[2] (High) {empty}"]
