"""Tests of :mod:`tierlab.evaluate.holdout`: holdout validity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from eval_helpers import tier_index, tiers, tx_frame
from scipy import stats

from tierlab.errors import DataError
from tierlab.evaluate import holdout_validity


# ------------------------------------------------------------------ holdout_validity
def average_ranks(x) -> np.ndarray:
    x = list(x)
    ranks = []
    for v in x:
        below = sum(1 for w in x if w < v)
        equal = sum(1 for w in x if w == v)
        ranks.append(below + (equal + 1) / 2)
    return np.array(ranks)


@pytest.fixture
def holdout_tx() -> pd.DataFrame:
    return tx_frame([
        ("a", "2025-06-30 18:00", 500), ("a", "2025-07-01 00:00", 10),
        ("c", "2025-08-01", 100), ("c", "2025-09-01", -20),
        ("d", "2025-10-01", -30),                       # return only: no purchase
        ("e", "2025-12-31 23:00", 400),                 # last day counts
        ("f", "2025-11-11", 200), ("f", "2026-01-01", 999),
        ("x", "2025-08-08", 5000),                      # no tier: not scored
    ])


def test_holdout_validity_by_hand(holdout_tx):
    assignment = tiers({"a": "Low", "b": "Low", "c": "Mid", "d": "Mid", "e": "High",
                        "f": "High", "z": None})
    v = holdout_validity(assignment, holdout_tx, "2025-07-01", "2025-12-31", min_customers=1)
    # spend: a 10, b 0, c 80, d -30, e 400, f 200 → total 660, mean 110
    expected = pd.DataFrame({
        "customers": np.array([2, 2, 2, 0], dtype=np.int64),
        "holdout_spend": [10.0, 50.0, 600.0, 0.0],
        "holdout_spend_mean": [5.0, 25.0, 300.0, np.nan],
        "purchase_rate": [0.5, 0.5, 1.0, np.nan],
        "lift": [5 / 110, 25 / 110, 300 / 110, np.nan],
        "cumulative_customer_share": [1.0, 4 / 6, 2 / 6, 0.0],
        "cumulative_spend_share": [1.0, 650 / 660, 600 / 660, 0.0],
    }, index=tier_index())
    pd.testing.assert_frame_equal(v.per_tier[expected.columns], expected)
    rank_tier = average_ranks([0, 0, 1, 1, 2, 2])
    rank_spend = average_ranks([10, 0, 80, -30, 400, 200])
    assert v.spearman == pytest.approx(np.corrcoef(rank_tier, rank_spend)[0, 1])
    assert v.spearman == pytest.approx(stats.pearsonr(rank_tier, rank_spend).statistic)
    assert 0 < v.spearman_pvalue < 1
    assert v.ordered is True
    assert np.isnan(v.top_tier_lift)            # Top is empty
    assert v.customers == 6
    d = v.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["per_tier"]["High"]["customers"] == 2 and d["start"] == "2025-07-01"


@pytest.mark.parametrize(("tier_codes", "spend", "ordered"), [
    ([0, 0, 1, 1, 2, 2], [1, 2, 5, 6, 9, 9], True),
    ([0, 0, 1, 1, 2, 2], [1, 2, 9, 9, 5, 6], False),       # Mid above High
    ([0, 1, 2], [4, 4, 9], False),                          # a tie is not a rise
    ([0, 0, 2], [1, 3, 5], True),                           # empty Mid is skipped
    ([1, 1, 1], [1, 2, 3], False),                          # one tier: nothing to order
    ([2, 1, 0], [1, 2, 3], False),                          # reversed
], ids=["rising", "mid-above-high", "tie", "empty-mid", "one-tier", "reversed"])
def test_holdout_validity_ordered_flag(tier_codes, spend, ordered):
    cat = pd.CategoricalDtype(["Low", "Mid", "High"], ordered=True)
    ids = [f"c{i}" for i in range(len(spend))]
    assignment = pd.Series(pd.Categorical.from_codes(tier_codes, dtype=cat), index=ids)
    tx = tx_frame([(cid, "2025-09-01", s) for cid, s in zip(ids, spend, strict=True)])
    v = holdout_validity(assignment, tx, "2025-07-01", "2025-12-31", min_customers=1)
    assert v.ordered is ordered
    rho = np.corrcoef(average_ranks(tier_codes), average_ranks(spend))[0, 1] \
        if len(set(tier_codes)) > 1 else np.nan
    assert v.spearman == pytest.approx(rho, nan_ok=True)


def test_holdout_validity_bad_dates(holdout_tx):
    with pytest.raises(DataError, match="after end"):
        holdout_validity(tiers({"a": "Low"}), holdout_tx, "2025-12-31", "2025-07-01")


@pytest.mark.parametrize("order", ["ids", "shuffled"])
def test_holdout_validity_matches_a_groupby_on_a_wide_window(order):
    """Wide windows match customers through the id codes: the same figures as a groupby."""
    import tierlab as tl

    tx, _ = tl.generate(200, months=6, seed=4)
    ids = np.sort(tx["customer_id"].astype(str).unique())
    rng = np.random.default_rng(1)
    tier = pd.Series(pd.Categorical(rng.choice(["Low", "High", None], size=len(ids)),
                                    categories=["Low", "High"], ordered=True), index=ids)
    if order == "shuffled":  # another order, a customer without transactions, one left out
        tier = pd.concat([tier.iloc[1:].sample(frac=1.0, random_state=2),
                          pd.Series(pd.Categorical(["High"], categories=["Low", "High"],
                                                   ordered=True), index=["nobody"])])
    start = tx["timestamp"].min().normalize() + pd.Timedelta(days=20)
    end = tx["timestamp"].max().normalize()
    res = holdout_validity(tier, tx, start, end, n_bootstrap=0)
    scored = tier.dropna()
    window = tx[(tx["timestamp"] >= start) & (tx["timestamp"] < end + pd.Timedelta(days=1))]
    spend = window.groupby(window["customer_id"].astype(str))["amount"].sum()
    spend = spend.reindex(scored.index, fill_value=0.0)
    expected = spend.groupby(scored, observed=False).agg(["size", "sum"])
    assert res.per_tier["customers"].tolist() == expected["size"].tolist()
    np.testing.assert_allclose(res.per_tier["holdout_spend"].to_numpy(),
                               expected["sum"].to_numpy())
