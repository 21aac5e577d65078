"""The steps of a scheme comparison on hand-built assignments, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierlab.impact import (
    customer_revenue,
    customer_union,
    movement,
    revenue_and_cost,
    tier_positions,
)
from tierlab.tiers.scheme import TierScheme


def scheme(names: list[str], review: str = "monthly", costs: list[float] | None = None
           ) -> TierScheme:
    costs = costs or [0.0] * len(names)
    tiers = [{"name": names[0], "benefit_cost": costs[0]}]
    for i, (name, cost) in enumerate(zip(names[1:], costs[1:], strict=True), start=1):
        tiers.append({"name": name, "benefit_cost": cost,
                      "when": {"metric": "spend", "op": ">=", "value": 100 * i}})
    return TierScheme.from_dict({"name": "-".join(names), "review": review, "tiers": tiers})


def tiers(values: dict[str, str | None], order: list[str]) -> pd.Series:
    return pd.Series(pd.Categorical(list(values.values()), categories=order, ordered=True),
                     index=pd.Index(list(values), name="customer_id"), name="tier")


THREE = ["Low", "Mid", "High"]
BASE = tiers({"a": "Low", "b": "Mid", "c": "High", "d": "Low"}, THREE)


def test_tier_positions_scale_to_one_and_leave_no_tier_nan():
    s = tiers({"a": "Low", "b": None, "c": "High", "d": "Mid"}, THREE)
    np.testing.assert_array_equal(tier_positions(s), [0.0, np.nan, 1.0, 0.5])


def test_customer_union_keeps_every_customer_once():
    other = tiers({"e": "High", "a": "Low"}, THREE)
    assert list(customer_union({"base": BASE, "other": other})) == ["a", "b", "c", "d", "e"]


def test_movement_with_the_same_tier_lists():
    other = tiers({"a": "Mid", "b": "Mid", "c": "Low", "e": "High"}, THREE)
    table, moves = movement({"base": BASE, "other": other},
                            {"base": scheme(THREE), "other": scheme(THREE)})
    # a Low→Mid up, b Mid→Mid same, c High→Low down; d only under base, e only under other
    assert moves["other"].tolist() == ["up", "same", "down", "", ""]
    assert table.loc["other"].to_dict() == {"up": 1, "down": 1, "unchanged": 1, "total": 3,
                                            "only_one": 2, "scaled": False}
    assert list(table.index) == ["other"]  # the baseline has no row


def test_movement_scales_positions_when_the_tier_lists_differ():
    two = ["Basic", "Premium"]
    other = tiers({"a": "Basic", "b": "Premium", "c": "Basic", "d": "Premium"}, two)
    table, moves = movement({"base": BASE, "other": other},
                            {"base": scheme(THREE), "other": scheme(two)})
    # positions: Low 0, Mid 0.5, High 1 against Basic 0, Premium 1
    assert moves["other"].tolist() == ["same", "up", "down", "up"]
    assert bool(table.loc["other", "scaled"])


@pytest.mark.parametrize(("review", "per_year"), [("monthly", 12), ("quarterly", 4),
                                                  ("yearly", 1)])
def test_revenue_and_cost_annualizes_benefit_cost(review, per_year):
    summary = pd.DataFrame({"customers": [10, 4, 1], "revenue": [100.0, 300.0, 600.0],
                            "revenue_share": [0.1, 0.3, 0.6]}, index=pd.Index(THREE, name="tier"))
    out = revenue_and_cost({"s": scheme(THREE, review, [0.0, 5.0, 50.0])}, {"s": summary})
    assert out["tier"].tolist() == THREE and (out["scheme"] == "s").all()
    assert out["benefit_cost"].tolist() == [0.0, 4 * 5.0 * per_year, 1 * 50.0 * per_year]
    assert out["benefit_cost_per_review"].tolist() == [0.0, 5.0, 50.0]
    assert out["revenue"].tolist() == [100.0, 300.0, 600.0]


def test_customer_revenue_nets_returns_per_customer():
    tx = pd.DataFrame({"customer_id": [2, 1, 2, 10], "amount": [50.0, 20.0, -10.0, 5.0],
                       "timestamp": pd.to_datetime(["2025-01-01"] * 4)})
    out = customer_revenue(tx)
    assert out.to_dict() == {"1": 20.0, "10": 5.0, "2": 40.0}
