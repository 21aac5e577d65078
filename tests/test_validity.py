"""tierlab.evaluate.holdout_validity: judged tiers, lift intervals and small-tier warnings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tierlab.errors import ArgumentError
from tierlab.evaluate import holdout_validity

TIERS = pd.CategoricalDtype(["Low", "Mid", "High"], ordered=True)
START, END = "2025-07-01", "2025-12-31"


def scenario(sizes: dict[str, int], means: dict[str, float], seed: int = 0
             ) -> tuple[pd.Series, pd.DataFrame]:
    """Customers per tier, each with one holdout purchase ~ exponential(mean of its tier)."""
    rng = np.random.default_rng(seed)
    ids, tiers, amounts = [], [], []
    for tier, size in sizes.items():
        for i in range(size):
            ids.append(f"{tier}{i:04d}")
            tiers.append(tier)
            amounts.append(round(float(rng.exponential(means[tier])), 2))
    assignment = pd.Series(pd.Categorical(tiers, dtype=TIERS), index=ids)
    tx = pd.DataFrame({"customer_id": ids, "timestamp": pd.Timestamp("2025-09-01"),
                       "amount": amounts})
    return assignment, tx


def test_ordered_ignores_tiers_below_min_customers():
    """The issue's case: a top tier of 4 customers with a huge lift must not make a scheme
    "ordered" when its judged tiers do not rise."""
    assignment, tx = scenario({"Low": 300, "Mid": 200, "High": 4},
                              {"Low": 60.0, "Mid": 50.0, "High": 5000.0})
    v = holdout_validity(assignment, tx, START, END)
    assert v.min_customers == 30
    assert v.per_tier["judged"].tolist() == [True, True, False]
    assert v.ordered is False  # Low > Mid among judged tiers; High (4) is not judged
    assert v.top_tier_customers == 4 and v.top_tier_lift > 10
    assert len(v.warnings) == 1 and v.warnings[0].startswith(
        "tier 'High' has 4 customer(s), fewer than min_customers=30: its lift")
    # with a threshold of 1 every tier is judged and the spread Low > Mid still says no
    assert holdout_validity(assignment, tx, START, END, min_customers=1).ordered is False


def test_ordered_over_judged_tiers_when_they_rise():
    assignment, tx = scenario({"Low": 400, "Mid": 150, "High": 10},
                              {"Low": 20.0, "Mid": 80.0, "High": 1.0})
    v = holdout_validity(assignment, tx, START, END)
    assert v.ordered is True  # Low < Mid; the tiny High tier (mean ~1) is not judged
    assert holdout_validity(assignment, tx, START, END, min_customers=5).ordered is False
    # one judged tier cannot be ordered
    v1 = holdout_validity(assignment, tx, START, END, min_customers=200)
    assert v1.per_tier["judged"].sum() == 1 and v1.ordered is False


def test_lifts_by_hand_with_intervals():
    assignment, tx = scenario({"Low": 300, "Mid": 100, "High": 6},
                              {"Low": 30.0, "Mid": 90.0, "High": 400.0}, seed=3)
    v = holdout_validity(assignment, tx, START, END, n_bootstrap=300)
    spend = tx.set_index("customer_id")["amount"]
    frame = pd.DataFrame({"tier": assignment.astype(str), "spend": spend})
    want = frame.groupby("tier")["spend"].mean() / frame["spend"].mean()
    got = v.per_tier["lift"]
    for tier in ("Low", "Mid", "High"):
        assert got[tier] == pytest.approx(want[tier], rel=1e-12)
        lo, hi = v.per_tier.loc[tier, ["lift_ci_low", "lift_ci_high"]]
        assert lo <= got[tier] <= hi, tier
    width = v.per_tier["lift_ci_high"] - v.per_tier["lift_ci_low"]
    # six customers give a far wider interval than three hundred
    assert width["High"] > 5 * width["Low"]
    assert v.top_tier_lift_ci == (v.per_tier.loc["High", "lift_ci_low"],
                                  v.per_tier.loc["High", "lift_ci_high"])
    assert v.per_tier["customers"].tolist() == [300, 100, 6]


def test_empty_tier_and_no_bootstrap():
    assignment, tx = scenario({"Low": 40, "Mid": 40, "High": 0},
                              {"Low": 10.0, "Mid": 20.0, "High": 1.0})
    v = holdout_validity(assignment, tx, START, END, n_bootstrap=0)
    assert np.isnan(v.top_tier_lift) and v.top_tier_customers == 0
    assert v.warnings == ()  # an empty tier is not "too small to judge": there is nothing
    assert v.per_tier[["lift_ci_low", "lift_ci_high"]].isna().all().all()
    assert v.ordered is True
    d = v.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["top_tier_customers"] == 0 and d["min_customers"] == 30 and d["warnings"] == []
    assert d["per_tier"]["Mid"]["judged"] is True


@pytest.mark.parametrize("kwargs", [{"min_customers": 0}, {"n_bootstrap": -1},
                                    {"min_customers": 2.5}], ids=["min0", "boot", "float"])
def test_bad_arguments(kwargs):
    assignment, tx = scenario({"Low": 3, "Mid": 3, "High": 3}, {"Low": 1, "Mid": 2, "High": 3})
    with pytest.raises(ArgumentError, match=next(iter(kwargs))):
        holdout_validity(assignment, tx, START, END, **kwargs)
