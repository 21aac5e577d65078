"""tierlab.potential_metrics: weighted metrics equal the plain ones on the resampled data.

A bootstrap resample is a vector of multiplicities; each metric computed with weights must
equal scipy's / scikit-learn's metric computed on the data with every customer repeated that
many times (the reference implementations share nothing with the code under test).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from tierlab.potential_metrics import (
    METRICS,
    Outcomes,
    Prediction,
    bootstrap_metrics,
    holdout_metrics,
)


def _case(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    bought = rng.random(n) < 0.35
    purchases = np.where(bought, rng.poisson(2.0, n) + 1, 0).astype(float)
    spend = np.where(bought, rng.gamma(2.0, 40.0, n).round(0), 0.0)  # rounded: ties
    pred_spend = np.clip(spend * rng.uniform(0.2, 1.5, n) + rng.normal(10, 20, n), 0, None)
    pred_spend[rng.random(n) < 0.2] = 0.0  # a tie group of zero predictions
    pred_purchases = np.clip(purchases + rng.normal(0, 1, n), 0, None).round(1)
    p0 = np.clip(np.where(bought, 0.4, 0.7) + rng.normal(0, 0.2, n), 0, 1).round(2)
    return (Prediction.of(pred_spend, pred_purchases, p0), Outcomes.of(spend, purchases))


def _reference(pred: Prediction, out: Outcomes, counts: np.ndarray) -> dict[str, float]:
    rep = np.repeat(np.arange(len(counts)), counts.astype(int))
    ps, pp, p0 = pred.spend[rep], pred.purchases[rep], pred.p_no_purchase[rep]
    s, p = out.spend[rep], out.purchases[rep]
    ref = {}
    for name, a, b in (("spend", ps, s), ("purchases", pp, p)):
        ref[f"{name}_spearman"] = stats.spearmanr(a, b).statistic
        ref[f"{name}_pearson"] = stats.pearsonr(a, b).statistic
        ref[f"{name}_mae"] = np.mean(np.abs(a - b))
        ref[f"{name}_rmse"] = np.sqrt(np.mean((a - b) ** 2))
        ref[f"{name}_bias_pct"] = 100 * (a.sum() - b.sum()) / b.sum()
    ref["churn_auc"] = roc_auc_score(p == 0, p0)
    # top decile by predicted spend; a tie group at the boundary counts in proportion
    k = 0.1 * len(rep)
    order = np.argsort(-ps, kind="stable")
    boundary = ps[order][int(np.ceil(k)) - 1]
    above = ps > boundary
    tied = ps == boundary
    take = (k - above.sum()) / tied.sum()
    ref["spend_top_decile_capture"] = (s[above].sum() + take * s[tied].sum()) / s.sum()
    return ref


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_metrics_equal_plain_metrics_on_the_repeated_sample(seed):
    pred, out = _case(seed)
    rng = np.random.default_rng(100 + seed)
    for counts in (np.ones(len(out.spend)), np.bincount(rng.integers(0, 300, 300),
                                                        minlength=300).astype(float)):
        got = holdout_metrics(pred, out, counts)
        want = _reference(pred, out, counts)
        assert list(got) == list(METRICS)
        for name in METRICS:
            assert got[name] == pytest.approx(want[name], rel=1e-9, abs=1e-12), name


def test_top_decile_capture_hand_example():
    # 10 customers: the top decile is one customer; predictions tie for the top two
    spend = np.array([100.0, 0, 0, 0, 0, 0, 0, 0, 0, 100.0])
    pred = Prediction.of(np.array([9.0, 1, 1, 1, 1, 1, 1, 1, 1, 9.0]), np.zeros(10),
                         np.full(10, 0.5))
    out = Outcomes.of(spend, (spend > 0).astype(float))
    # the tied pair fills the one top slot half each: 0.5 * 200 of 200 captured
    assert holdout_metrics(pred, out)["spend_top_decile_capture"] == pytest.approx(0.5)


def test_undefined_metrics_are_nan_and_bootstrap_intervals_bracket():
    pred, out = _case(3)
    constant = Prediction.of(np.full(300, 5.0), np.full(300, 1.0), np.full(300, 0.5))
    res = bootstrap_metrics({"model": pred, "constant": constant}, out, n_bootstrap=200, seed=1)
    assert np.isnan(res["constant"]["spend_spearman"][0])
    assert res["constant"]["churn_auc"][0] == pytest.approx(0.5)
    for name, (est, lo, hi) in res["model"].items():
        assert lo <= est <= hi, name
    # the interval of a correlation narrows as the sample grows (about 1/sqrt(n))
    big_pred, big_out = _case(4, n=2400)
    big = bootstrap_metrics({"m": big_pred}, big_out, n_bootstrap=200, seed=1)
    width_small = res["model"]["spend_pearson"][2] - res["model"]["spend_pearson"][1]
    width_big = big["m"]["spend_pearson"][2] - big["m"]["spend_pearson"][1]
    assert width_big < 0.6 * width_small
    none = bootstrap_metrics({"m": pred}, out, n_bootstrap=0)
    assert all(np.isnan(v[1]) and np.isnan(v[2]) for v in none["m"].values())
