"""TierHistory: its views (tiers, current, at, explain, distance), its changes, cross_tiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from tier_cases import (
    MONTHLY,
    engine_codes,
    monthly_tx,
    regional_case,
    scheme_with,
    schemes,
    transactions,
)

from tierlab.errors import ArgumentError
from tierlab.tiers.history import TierHistory, cross_tiers
from tierlab.tiers.scheme import TierScheme


def test_history_views():
    tx = monthly_tx({"a": [200, 600, 700, 800], "b": [0, 50, 150, 20]})
    hist = TierScheme.from_dict(MONTHLY).run(tx)
    assert hist.current.loc["a", "tier"] == "High"
    assert hist.current.loc["a", "previous_tier"] == "Mid"
    assert hist.current.loc["a", "since"] == pd.Timestamp("2025-04-30")
    assert hist.current.loc["b", "tier"] == "Mid"
    assert hist.at("2025-03-15").to_dict() == {"a": "Mid", "b": "Low"}
    assert pd.isna(hist.at("2025-02-15")["b"])
    ex = hist.explain("a")
    assert ex["spend_1M"].tolist() == [200.0, 600.0, 700.0, 800.0]
    assert ex["qualified"].tolist() == ["Mid", "High", "High", "High"]
    assert ex["rule"].tolist() == ["initial", "", "", "promotion"]
    with pytest.raises(ArgumentError, match="did you mean 'a'"):
        hist.explain("A")
    dist = hist.distance().set_index(["customer_id", "kind", "target"])
    # b is Mid with 20 in Apr: 80 short of keeping Mid, 480 short of High (threshold 500)
    assert dist.loc[("b", "keep", "Mid"), "gap"] == 80.0
    assert dist.loc[("b", "next", "High"), "gap"] == 480.0
    assert dist.loc[("a", "keep", "High"), "gap"] == -300.0
    assert "2 customers × 4 reviews" in repr(hist)

def test_tiers_are_ordered_categoricals():
    hist = TierScheme.from_dict(MONTHLY).run(monthly_tx({"a": [600, 50]}))
    col = hist.tiers.iloc[:, 0]
    assert list(col.cat.categories) == ["Low", "Mid", "High"] and col.cat.ordered

def test_current_is_the_last_change_of_each_customer():
    # current formats only each customer's last change and places it by position; it must
    # equal the last row per customer of the full change table
    rng = np.random.default_rng(4)
    spends = {f"c{i:03d}": [float(v) if rng.random() < 0.7 else 0.0
                            for v in rng.choice([0, 50, 150, 600], 18)] for i in range(60)}
    spends["late"] = [0.0] * 10 + [700.0] * 8
    tx = monthly_tx(spends)
    scheme = scheme_with(max_demotion_steps=1)
    fast = scheme.run(tx).current
    hist = scheme.run(tx)
    last = hist.changes.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    slow = hist.current
    pd.testing.assert_frame_equal(fast, slow)
    pd.testing.assert_series_equal(fast["since"], last["review"].reindex(fast.index),
                                   check_names=False)
    pd.testing.assert_series_equal(fast["reason"], last["reason"].reindex(fast.index),
                                   check_names=False)
    assert fast.loc["late", "since"] == pd.Timestamp("2025-11-30")

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scheme=schemes(), tx=transactions())
def test_replaying_changes_reproduces_tiers(scheme, tx):
    hist = TierScheme.from_dict(scheme).run(tx)
    names = hist.scheme.tier_names
    replay = {cid: [None] * len(hist.reviews) for cid in hist.customer_ids}
    review_pos = {d: j for j, d in enumerate(hist.reviews)}
    for cid, grp in hist.changes.groupby("customer_id"):
        for _, ch in grp.iterrows():
            j = review_pos[ch["review"]]
            for jj in range(j, len(hist.reviews)):
                replay[cid][jj] = names.index(ch["to_tier"])
    assert replay == engine_codes(hist)
    # every change has a sentence and from != to
    assert hist.changes["reason"].str.len().gt(10).all()
    real = hist.changes[hist.changes["rule"] != "initial"]
    assert (real["from_tier"].astype(str) != real["to_tier"].astype(str)).all()


def test_cross_tiers():
    d, tx, customers = regional_case()
    hist = TierScheme.from_dict(d).run(tx, customers=customers)
    crossed = cross_tiers(hist.current["tier"], customers, "region")
    assert crossed.tolist() == ["High × local", "Mid × remote"]


def test_a_history_from_codes_reads_its_changes_off_the_codes():
    scheme = TierScheme.from_dict(MONTHLY)
    codes = np.array([[0, 1, 1, 2, 0], [-1, -1, 2, 2, 2]], dtype=np.int8)
    reviews = pd.date_range("2025-01-31", periods=5, freq="ME")
    hist = TierHistory(scheme, pd.Index(["a", "b"], name="customer_id"), reviews, codes, codes)
    ch = hist.changes
    assert ch["customer_id"].tolist() == ["a", "a", "a", "a", "b"]
    assert ch["rule"].astype(str).tolist() == ["initial", "promotion", "promotion",
                                               "demotion", "initial"]
    assert ch["direction"].astype(str).tolist() == ["new", "up", "up", "down", "new"]
    assert ch["reason"].iloc[1] == "spend at least 100 in Feb 2025"
    assert hist.current["since"].tolist() == [reviews[4], reviews[2]]
    assert hist.current["previous_tier"].iloc[0] == "High"
    assert pd.isna(hist.current["previous_tier"].iloc[1])
    assert "5 changes" in repr(hist)
    with pytest.raises(ArgumentError, match="tier codes alone"):
        hist.explain("a")
