"""The short cuts that keep the potential models fast at a million customers.

Each is checked against the long way round: the BTYD summary from the daily rows against
:func:`tierlab.features.btyd_summary`, the stacked features with and without it, the evaluation
on a customer sample against the evaluation of exactly those customers, and the bootstrap's
shared ranks against ranks computed per model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_potential_scale import _log  # the BG/NBD-like log of those tests

from tierlab.errors import ArgumentError
from tierlab.features import btyd_summary
from tierlab.potential import PotentialModel, evaluate_potential
from tierlab.potential_features import (
    btyd_from_activity,
    daily_activity,
    day_number,
    stacked_btyd_features,
)
from tierlab.potential_metrics import Actual, Outcomes, Prediction, holdout_metrics


def _messy_log(n_customers: int, n_rows: int, seed: int, decimals: int = 2) -> pd.DataFrame:
    """Several rows a day, returns (some customers with returns only), unsorted."""
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n_rows)
    days = rng.integers(0, 400, n_rows)
    amount = np.round(rng.gamma(2.0, 40.0, n_rows), decimals)
    amount[rng.random(n_rows) < 0.08] *= -1
    amount[cust % 37 == 0] = -np.abs(amount[cust % 37 == 0])  # returns only
    return pd.DataFrame({
        "customer_id": pd.array([f"k{c:04d}" for c in cust], dtype="str"),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(days * 86400
                                                                 + rng.integers(0, 86400, n_rows),
                                                                 unit="s"),
        "amount": amount,
    })


@pytest.fixture(scope="module")
def messy() -> pd.DataFrame:
    return _messy_log(600, 6000, seed=4)


@pytest.mark.parametrize("cutoff", ["2024-01-01", "2024-03-15", "2024-09-30", "2025-02-03"])
def test_btyd_summary_from_daily_rows_equals_btyd_summary(messy, cutoff):
    expected = btyd_summary(messy, as_of=cutoff)
    got = btyd_from_activity(daily_activity(messy), day_number(pd.Timestamp(cutoff)))
    assert list(got.index) == list(expected.index)
    pd.testing.assert_frame_equal(got, expected, check_index_type=False, check_exact=False,
                                  rtol=1e-12)


def test_stacked_features_from_daily_rows_equal_those_from_transactions():
    # whole amounts: both summaries add them exactly, so the fits see the same numbers (with
    # cents the sums differ in the last bits and the flat Gamma-Gamma likelihood amplifies it)
    messy = _messy_log(600, 6000, seed=4, decimals=0)
    cutoff = pd.Timestamp("2024-10-31")
    index = btyd_summary(messy, as_of=cutoff).index
    slow = stacked_btyd_features(messy, cutoff, 90, index, fit_customers=300, seed=1)
    fast = stacked_btyd_features(messy, cutoff, 90, index, fit_customers=300, seed=1,
                                 act=daily_activity(messy))
    assert slow.notna().all().all()
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12)


def test_shared_actual_side_equals_the_metrics_computed_per_model():
    rng = np.random.default_rng(0)
    n = 500
    spend = np.where(rng.random(n) < 0.6, 0.0, rng.gamma(2.0, 30.0, n))
    purchases = np.where(spend > 0, rng.integers(1, 5, n), 0).astype(float)
    out = Outcomes.of(spend, purchases)
    pred = Prediction.of(spend * rng.uniform(0.5, 1.5, n), purchases + rng.random(n),
                         rng.random(n))
    w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
    shared = holdout_metrics(pred, out, w, actual=Actual.of(out, w))
    assert shared == holdout_metrics(pred, out, w)
    # and the weighted metrics are those of the resample written out row by row
    rows = np.repeat(np.arange(n), w.astype(int))
    expanded = holdout_metrics(
        Prediction.of(pred.spend[rows], pred.purchases[rows], pred.p_no_purchase[rows]),
        Outcomes.of(spend[rows], purchases[rows]))
    assert shared == pytest.approx(expanded, rel=1e-9)


def test_evaluation_on_a_sample_is_the_evaluation_of_those_customers():
    tx = _log(1500, seed=2)
    cutoff, end = "2024-04-30", "2024-08-22"
    sampled = evaluate_potential(tx, cutoff, end, n_bootstrap=20, max_customers=400)
    assert sampled.sampled and sampled.n_customers == 400
    eligible = tx.loc[tx["timestamp"] < pd.Timestamp(cutoff) + pd.Timedelta(days=1),
                      "customer_id"].nunique()
    assert sampled.n_eligible == eligible > 400
    chosen = sampled.predictions.index
    assert set(chosen) <= set(tx["customer_id"])
    direct = evaluate_potential(tx[tx["customer_id"].isin(chosen)], cutoff, end,
                                n_bootstrap=20, max_customers=None)
    assert not direct.sampled and direct.n_eligible == 400
    pd.testing.assert_frame_equal(sampled.table, direct.table)
    # the sample is seeded: the same call judges the same customers
    again = evaluate_potential(tx, cutoff, end, n_bootstrap=0, max_customers=400)
    assert list(again.predictions.index) == list(chosen)
    full = evaluate_potential(tx, cutoff, end, n_bootstrap=0)
    assert not full.sampled and full.n_customers == eligible


def test_evaluation_sample_size_must_be_a_whole_number():
    tx = _log(50, seed=1)
    with pytest.raises(ArgumentError, match="max_customers"):
        evaluate_potential(tx, "2024-04-30", max_customers=0)


@pytest.mark.parametrize("objective", ["single", "two_part"])
def test_predict_only_some_columns(objective):
    tx = _log(800, seed=6)
    model = PotentialModel(random_state=0, max_iter=20, objective=objective).fit(
        tx, "2024-04-30", horizon_days=90)
    full = model.predict(tx, as_of="2024-04-30")
    for cols in (["predicted_spend", "p_no_purchase", "p_alive"], ["predicted_purchases"]):
        pd.testing.assert_frame_equal(model.predict(tx, as_of="2024-04-30", columns=cols),
                                      full[cols])
    with pytest.raises(ArgumentError, match="unknown column"):
        model.predict(tx, as_of="2024-04-30", columns=["spend"])
