"""tierlab.potential_metrics: weighted metrics equal the plain ones on the resampled data.

A bootstrap resample is a vector of multiplicities; each metric computed with weights must
equal scipy's / scikit-learn's metric computed on the data with every customer repeated that
many times (the reference implementations share nothing with the code under test).
"""

from __future__ import annotations

import itertools

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
        # ties of the prediction in random order: the mean ordinal rank is the average rank,
        # and every ordinal ranking has the spread of 1 … N (enumerated in the test below)
        avg = stats.rankdata(a, method="average")
        ordinal = stats.rankdata(a, method="ordinal")
        ref[f"{name}_spearman_untied"] = (stats.spearmanr(a, b).statistic
                                          * avg.std() / ordinal.std())
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


def _all_tie_breaks(pred: np.ndarray):
    """Every ordering of the tied predictions, as ordinal ranks (a generator)."""
    groups = [np.flatnonzero(pred == v) for v in np.unique(pred)]
    base = 1
    choices = []
    for g in groups:
        choices.append([(g, base + np.array(p)) for p in itertools.permutations(range(len(g)))])
        base += len(g)
    for combo in itertools.product(*choices):  # every tie-break of a small example
        ranks = np.empty(len(pred))
        for idx, r in combo:
            ranks[idx] = r
        yield ranks


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_untied_spearman_is_the_mean_over_every_tie_break(seed):
    # 9 customers, predictions in tie groups; the outcome ties too (five spend nothing)
    rng = np.random.default_rng(seed)
    pred = rng.choice([0.0, 0.0, 0.0, 1.0, 2.5], size=9)
    spend = np.where(rng.random(9) < 0.45, rng.integers(1, 5, 9), 0).astype(float)
    spend[:2] = [0.0, 3.0]  # the outcome varies
    rhos = [stats.pearsonr(r, stats.rankdata(spend)).statistic for r in _all_tie_breaks(pred)]
    got = holdout_metrics(Prediction.of(pred, pred, np.full(9, 0.5)),
                          Outcomes.of(spend, (spend > 0).astype(float)))
    assert got["spend_spearman_untied"] == pytest.approx(np.mean(rhos), rel=1e-12)
    # random order only adds rank noise: it never strengthens the correlation
    assert abs(got["spend_spearman_untied"]) <= abs(got["spend_spearman"]) + 1e-12


def test_untied_spearman_gives_no_credit_for_a_tie_of_zeros():
    # a model that ranks everyone right against one that only says "0" for the non-buyers
    rng = np.random.default_rng(5)
    spend = np.where(rng.random(2000) < 0.2, rng.gamma(2.0, 40.0, 2000), 0.0)
    seen = spend > 0
    last_window = np.where(seen & (rng.random(2000) < 0.7), spend * rng.uniform(0.5, 1.5, 2000), 0)
    ordered = spend + rng.normal(0, 5, 2000)  # orders even the non-buyers (noise)
    out = Outcomes.of(spend, seen.astype(float))
    naive = holdout_metrics(Prediction.of(last_window, last_window, np.full(2000, 0.5)), out)
    model = holdout_metrics(Prediction.of(ordered, ordered, np.full(2000, 0.5)), out)
    assert naive["spend_spearman"] > model["spend_spearman"]  # the tie wins under mid-ranks
    assert model["spend_spearman_untied"] > naive["spend_spearman_untied"]
    constant = holdout_metrics(Prediction.of(np.ones(2000), np.ones(2000), np.ones(2000)), out)
    assert constant["spend_spearman_untied"] == 0.0


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
