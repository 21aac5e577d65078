"""PotentialModel at scale: the training-row cap, sampled BTYD fits, pre-binned features,
the two-part objective and full-length training windows.

Small simulated logs (a BG/NBD-like process) keep these fast; each check compares with an
independent computation or with the uncapped fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierlab.errors import ArgumentError
from tierlab.potential import PotentialModel
from tierlab.potential_features import (
    apply_thresholds,
    quantile_thresholds,
    stacked_btyd_features,
)

CUTOFF = "2024-06-30"


def _log(n: int, seed: int) -> pd.DataFrame:
    """BG/NBD-like purchasing over 2023-2024 (births in 2023, geometric dropout)."""
    rng = np.random.default_rng(seed)
    k = 120
    birth = rng.uniform(0, 365, n)
    lam = rng.gamma(2.0, 1 / 40.0, n)
    times = birth[:, None] + np.concatenate(
        [np.zeros((n, 1)), np.cumsum(rng.exponential(1.0, (n, k - 1)) / lam[:, None], axis=1)],
        axis=1)
    keep = (np.arange(k)[None, :] <= rng.geometric(rng.beta(1.0, 6.0, n))[:, None]) \
        & (times < 730)
    assert not keep[:, -1].any()
    amounts = rng.gamma(5.0, rng.gamma(4.0, 25.0, n)[:, None] / 5.0, (n, k))
    cust = np.repeat(np.arange(n), k).reshape(n, k)[keep]
    return pd.DataFrame({
        "customer_id": [f"c{i:05d}" for i in cust],
        "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(times[keep] * 86400, unit="s"),
        "amount": np.round(amounts[keep], 2),
    }).sort_values("timestamp", ignore_index=True)


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return _log(1500, seed=3)


def test_quantile_bins_by_hand():
    X = pd.DataFrame({"few": [3.0, 1.0, np.nan, 3.0, 2.0], "many": np.arange(5.0)})
    edges = quantile_thresholds(X, max_bins=3)
    # at most max_bins distinct values: midpoints, codes = dense ranks
    np.testing.assert_allclose(edges[0], [1.5, 2.5])
    codes = apply_thresholds(X, edges)
    np.testing.assert_array_equal(codes["few"].to_numpy(), [2.0, 0.0, np.nan, 2.0, 1.0])
    # more: cut at the 1/3 and 2/3 quantiles (np.quantile, linear) → three bins
    np.testing.assert_allclose(edges[1], np.quantile(np.arange(5.0), [1 / 3, 2 / 3]))
    np.testing.assert_array_equal(codes["many"].to_numpy(), [0, 0, 1, 2, 2])
    # an independent binning of a long column: codes follow np.digitize on the same edges
    values = np.random.default_rng(0).lognormal(size=5000)
    big = pd.DataFrame({"v": values})
    e = quantile_thresholds(big, max_bins=255)[0]
    got = apply_thresholds(big, [e])["v"].to_numpy()
    np.testing.assert_array_equal(got, np.digitize(values, e, right=True))
    assert len(np.unique(got)) <= 255 and len(np.unique(got)) > 200


def test_row_cap_samples_customers_and_scores_everyone(tx):
    full = PotentialModel(horizon_days=90, n_cutoffs=4, max_rows=None).fit(tx, CUTOFF)
    same = PotentialModel(horizon_days=90, n_cutoffs=4, max_rows=10**6).fit(tx, CUTOFF)
    capped = PotentialModel(horizon_days=90, n_cutoffs=4, max_rows=2000).fit(tx, CUTOFF)
    # a cap above the rows changes nothing
    pd.testing.assert_frame_equal(full.predict(tx, CUTOFF), same.predict(tx, CUTOFF))
    assert full.n_rows_ == same.n_rows_ > 2000
    # 2000 rows / 4 cutoffs = 500 sampled customers, at most 4 rows each
    assert capped.n_customers_ <= 500 and capped.n_rows_ <= 2000
    assert capped.n_rows_ > 1000
    pred = capped.predict(tx, CUTOFF)
    assert list(pred.index) == list(full.predict(tx, CUTOFF).index)  # everyone is scored
    # a sample still learns the level (within 25% of the full fit) and the ranking
    ref = full.predict(tx, CUTOFF)
    ratio = pred["predicted_spend"].sum() / ref["predicted_spend"].sum()
    assert 0.75 < ratio < 1.25
    assert pred["predicted_spend"].corr(ref["predicted_spend"], method="spearman") > 0.8
    with pytest.raises(ArgumentError, match="max_rows"):
        PotentialModel(max_rows=10).fit(tx, CUTOFF)


def test_btyd_fit_on_a_sample_scores_every_customer(tx):
    cutoff = pd.Timestamp(CUTOFF)
    known = tx[tx["timestamp"] <= cutoff]
    ids = pd.Index(sorted(known.loc[known["amount"] >= 0, "customer_id"].unique()))
    everyone = stacked_btyd_features(known, cutoff, 90, ids)
    unlimited = stacked_btyd_features(known, cutoff, 90, ids, fit_customers=len(ids))
    pd.testing.assert_frame_equal(everyone, unlimited)
    sampled = stacked_btyd_features(known, cutoff, 90, ids, fit_customers=400, seed=1)
    assert sampled.index.equals(ids) and sampled.notna().all().all()
    # parameters from 400 customers: different numbers, about the same predictions
    assert not np.allclose(sampled["bgnbd_purchase_rate"], everyone["bgnbd_purchase_rate"])
    rel = sampled["bgnbd_purchase_rate"].sum() / everyone["bgnbd_purchase_rate"].sum()
    assert 0.8 < rel < 1.25
    assert sampled["bgnbd_p_alive"].corr(everyone["bgnbd_p_alive"]) > 0.95


def test_full_windows_by_hand(tx):
    model = PotentialModel(horizon_days=90, n_cutoffs=3, windows="full")
    # the latest whole 90-day window ends at the cutoff; then every 30 days earlier
    assert model.training_cutoffs(tx, CUTOFF) == [
        (pd.Timestamp("2024-04-01"), 90), (pd.Timestamp("2024-03-02"), 90),
        (pd.Timestamp("2024-02-01"), 90)]
    # too short a history for a whole window: the recent layout, windows cut at the cutoff
    recent = PotentialModel(horizon_days=90, n_cutoffs=3)
    early = "2023-04-15"  # 104 days of data: 44 after min_history_days
    assert model.training_cutoffs(tx, early) == recent.training_cutoffs(tx, early)
    assert model.training_cutoffs(tx, early)[0][1] < 90
    with pytest.raises(ArgumentError, match="windows"):
        PotentialModel(windows="all").fit(tx, CUTOFF)


def test_two_part_is_probability_times_conditional(tx):
    model = PotentialModel(horizon_days=90, n_cutoffs=3, objective="two_part").fit(tx, CUTOFF)
    pred = model.predict(tx, CUTOFF)
    # recompute spend from the parts: P(buy) × E[spend per day | buy] × BG/NBD base × days
    from tierlab.potential_features import daily_activity
    known = tx[tx["timestamp"] < pd.Timestamp(CUTOFF) + pd.Timedelta(days=1)]
    X = model._design(known, daily_activity(known), pd.Timestamp(CUTOFF), 90)
    X = X[model.feature_names_]
    base, _ = model._bases(X)
    cond = model.spend_model_.predict(apply_thresholds(X, model.bin_edges_))
    expected = np.minimum((1 - pred["p_no_purchase"].to_numpy()) * cond * base,
                          model.max_rates_[0]) * 90
    np.testing.assert_allclose(pred["predicted_spend"].to_numpy(), expected, rtol=1e-9)
    # the conditional model saw only the rows with a purchase
    single = PotentialModel(horizon_days=90, n_cutoffs=3, objective="single").fit(tx, CUTOFF)
    assert model.spend_model_.n_features_in_ == single.spend_model_.n_features_in_
    assert model.no_purchase_rate_ > 0.2
    with pytest.raises(ArgumentError, match="objective"):
        PotentialModel(objective="hurdle").fit(tx, CUTOFF)
