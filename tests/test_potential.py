"""tierlab.potential: calibration/holdout split, supervised potential, flags and evaluation.

The supervised model is judged on transaction logs simulated with a known truth: a BG/NBD +
Gamma-Gamma process (where BG/NBD is the right model) and a process whose purchase rates trend
up or down over time (which BG/NBD cannot represent).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tierlab.errors import ArgumentError, DataError
from tierlab.potential import (
    CALIBRATION_COLUMNS,
    HOLDOUT_COLUMNS,
    PotentialEvaluation,
    PotentialModel,
    calibration_holdout,
    evaluate_potential,
    flag_customers,
)
from tierlab.potential_metrics import METRICS


# --------------------------------------------------------------------------------------------
# calibration / holdout
# --------------------------------------------------------------------------------------------
@pytest.fixture
def small_tx() -> pd.DataFrame:
    rows = [
        ("A", "2025-01-01 09:00", 100.0), ("A", "2025-01-01 17:00", 50.0),
        ("A", "2025-01-11", 30.0), ("A", "2025-01-20", -10.0),          # a return
        ("A", "2025-02-05", 40.0), ("A", "2025-02-05", 10.0), ("A", "2025-02-20", -5.0),
        ("B", "2025-01-20", 5.0),
        ("C", "2025-02-01", 70.0),                                       # first buys after cutoff
        ("D", "2025-01-31 23:30", 60.0), ("D", "2025-02-28 18:00", 15.0),
        ("D", "2025-03-01", 20.0),                                       # after end
        ("E", "2025-01-15", -20.0),                                      # returns only
    ]
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
        "amount": [r[2] for r in rows],
    })


def test_calibration_holdout_hand_calculation(small_tx):
    out = calibration_holdout(small_tx, "2025-01-31", "2025-02-28")
    # A: purchase days 01-01, 01-11 → 1 repeat, recency 10, T 30, repeat-day spend 30;
    #    net 100+50+30-10 = 170 over 3 purchase rows; last purchase 01-11 (the return does not
    #    count); holdout: one purchase day (02-05: 40+10), net 50-5 = 45.
    # B: one purchase 11 days before the cutoff, nothing after.
    # D: bought late on the cutoff day (calibration), again on the last holdout day.
    # C (first purchase after the cutoff) and E (returns only) are excluded.
    expected = pd.DataFrame(
        {
            "frequency": [1.0, 0.0, 0.0],
            "recency": [10.0, 0.0, 0.0],
            "T": [30.0, 11.0, 0.0],
            "monetary_value": [30.0, 0.0, 0.0],
            "monetary_total": [170.0, 5.0, 60.0],
            "frequency_orders": [3, 1, 1],
            "recency_days": [20, 11, 0],
            "tenure_days": [30, 11, 0],
            "active_months": [1, 1, 1],
            "returns": [1, 0, 0],
            "holdout_purchases": [1, 0, 1],
            "holdout_spend": [45.0, 0.0, 15.0],
            "holdout_bought": [True, False, True],
            "duration_holdout": [28, 28, 28],
        },
        index=pd.Index(["A", "B", "D"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    assert list(out.columns) == [*CALIBRATION_COLUMNS, *HOLDOUT_COLUMNS]
    assert out["holdout_bought"].dtype == bool
    # row order does not matter
    shuffled = small_tx.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(calibration_holdout(shuffled, "2025-01-31", "2025-02-28"), out)


def test_calibration_holdout_end_defaults_to_last_date(small_tx):
    out = calibration_holdout(small_tx, "2025-01-31")
    assert out.loc["D", "holdout_purchases"] == 2 and out.loc["D", "holdout_spend"] == 35.0
    assert (out["duration_holdout"] == 29).all()


def test_calibration_holdout_errors(small_tx):
    with pytest.raises(DataError, match="no transactions on or before the cutoff"):
        calibration_holdout(small_tx, "2024-12-01")
    with pytest.raises(ArgumentError, match="must be after cutoff"):
        calibration_holdout(small_tx, "2025-01-31", "2025-01-31")
    with pytest.raises(DataError, match="lacks column 'amount'"):
        calibration_holdout(small_tx.drop(columns="amount"), "2025-01-31")


# --------------------------------------------------------------------------------------------
# simulated transaction logs with a known truth
# --------------------------------------------------------------------------------------------
START = pd.Timestamp("2023-01-01")


def _log(times: np.ndarray, keep: np.ndarray, amounts: np.ndarray, n: int) -> pd.DataFrame:
    rows, cols = np.nonzero(keep)
    ids = np.array([f"C{i:05d}" for i in range(n)], dtype=object)
    return pd.DataFrame({
        "customer_id": ids[rows],
        "timestamp": START + pd.to_timedelta(np.round(times[rows, cols] * 86400), unit="s"),
        "amount": amounts[rows, cols].round(2),
    })


def simulate_btyd_log(n: int, seed: int, days: int = 730, k: int = 200) -> pd.DataFrame:
    """BG/NBD purchasing + Gamma-Gamma spend in calendar time, customers joining over a year.

    Rate lambda ~ Gamma(2, 1/60) (a purchase a month on average), dropout p ~ Beta(1, 6) after
    each repeat purchase; each spend ~ Gamma(6, nu) with nu ~ Gamma(4, 1/150) (mean ~ 50).
    """
    rng = np.random.default_rng(seed)
    birth = rng.uniform(0, 365, n)
    lam = rng.gamma(2.0, 1 / 60.0, n)
    gaps = np.cumsum(rng.exponential(1.0, (n, k - 1)) / lam[:, None], axis=1)
    times = birth[:, None] + np.concatenate([np.zeros((n, 1)), gaps], axis=1)
    last = rng.geometric(rng.beta(1.0, 6.0, n))
    keep = (np.arange(k)[None, :] <= last[:, None]) & (times < days)
    assert not keep[:, -1].any(), "raise k: purchases truncated"
    nu = rng.gamma(4.0, 1 / 150.0, n)
    amounts = rng.gamma(6.0, 1 / nu[:, None], (n, k))
    return _log(times, keep, amounts, n)


def simulate_trend_log(n: int, seed: int, days: int = 730, k: int = 600) -> pd.DataFrame:
    """Purchase rates that drift: lambda(t) = lambda0 * exp(beta (t - birth)), no dropout.

    Half the customers speed up, half slow down (|beta| ~ 1/500 a day), so the recent past
    says more than the whole history — what BG/NBD, with one constant rate per customer and
    dropout only after a purchase, cannot represent. Event times come from a unit-rate Poisson
    process through the inverse of the cumulative intensity.
    """
    rng = np.random.default_rng(seed)
    birth = rng.uniform(0, 365, n)
    lam0 = rng.gamma(2.0, 1 / 60.0, n)
    beta = rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 1.5, n) / 500.0
    unit = np.cumsum(rng.exponential(1.0, (n, k)), axis=1)
    arg = 1 + beta[:, None] * unit / lam0[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        since = np.where(arg > 0, np.log(np.where(arg > 0, arg, 1.0)) / beta[:, None], np.inf)
    times = birth[:, None] + np.concatenate([np.zeros((n, 1)), since[:, :-1]], axis=1)
    keep = times < days
    assert not keep[:, -1].any(), "raise k: purchases truncated"
    level = rng.gamma(4.0, 12.0, n)
    amounts = rng.gamma(5.0, level[:, None] / 5.0, (n, k))
    return _log(times, keep, amounts, n)


def synthetic_tx(n: int = 400, seed: int = 7, days: int = 730, k: int = 150) -> pd.DataFrame:
    """BG/NBD-like purchasing with per-customer spend levels and some refunds (small, fast)."""
    rng = np.random.default_rng(seed)
    birth = rng.uniform(0, 365, n)
    lam = rng.gamma(2.0, 1 / 60.0, n)
    gaps = np.cumsum(rng.exponential(1.0, (n, k - 1)) / lam[:, None], axis=1)
    times = birth[:, None] + np.concatenate([np.zeros((n, 1)), gaps], axis=1)
    last = rng.geometric(rng.beta(1.0, 6.0, n))
    keep = (np.arange(k)[None, :] <= last[:, None]) & (times < days)
    assert not keep[:, -1].any()
    level = rng.gamma(4.0, 25.0, n)
    amounts = rng.gamma(5.0, level[:, None] / 5.0, (n, k))
    amounts = np.where(rng.random((n, k)) < 0.03, -amounts / 2, amounts)  # some refunds
    return _log(times, keep, amounts, n)


CUTOFF, END = "2024-06-30", "2024-12-31"


@pytest.fixture(scope="module")
def synth_tx() -> pd.DataFrame:
    return synthetic_tx()


@pytest.fixture(scope="module")
def evaluation(synth_tx) -> PotentialEvaluation:
    return evaluate_potential(synth_tx, CUTOFF, END, random_state=0, n_bootstrap=50)


@pytest.fixture(scope="module")
def btyd_evaluation() -> PotentialEvaluation:
    return evaluate_potential(simulate_btyd_log(4000, seed=11), CUTOFF, END, n_bootstrap=100)


@pytest.fixture(scope="module")
def trend_evaluation() -> PotentialEvaluation:
    return evaluate_potential(simulate_trend_log(3000, seed=5), CUTOFF, END, n_bootstrap=100)


# --------------------------------------------------------------------------------------------
# supervised model
# --------------------------------------------------------------------------------------------
def test_potential_model_fit_predict(synth_tx):
    model = PotentialModel(horizon_days=90, n_cutoffs=3, max_iter=50, random_state=0)
    assert model.fit(synth_tx, CUTOFF) is model
    assert model.horizon_days_ == 90
    # training cutoffs every 30 days before the cutoff; each window is cut at the cutoff
    assert model.train_cutoffs_ == [pd.Timestamp(d) for d in ("2024-05-31", "2024-05-01",
                                                              "2024-04-01")]
    assert model.training_cutoffs(synth_tx, CUTOFF)[0] == (pd.Timestamp("2024-05-31"), 30)
    pred = model.predict(synth_tx, as_of=CUTOFF)
    assert list(pred.columns) == ["predicted_purchases", "predicted_spend", "p_no_purchase",
                                  "p_alive"]
    buyers = synth_tx.loc[(synth_tx["timestamp"] < "2024-07-01") & (synth_tx["amount"] >= 0),
                          "customer_id"]
    assert list(pred.index) == sorted(buyers.unique())
    assert pred["p_no_purchase"].between(0, 1).all() and pred["p_alive"].between(0, 1).all()
    assert (pred["predicted_purchases"] >= 0).all() and (pred["predicted_spend"] >= 0).all()
    # deterministic, and clone() gives an unfitted twin that fits to the same predictions
    twin = clone(model).fit(synth_tx, CUTOFF)
    pd.testing.assert_frame_equal(twin.predict(synth_tx, as_of=CUTOFF), pred)
    # a longer horizon predicts more (BG/NBD's extrapolation carries the relative model)
    longer = model.predict(synth_tx, as_of=CUTOFF, horizon_days=180)
    assert longer["predicted_spend"].sum() > 1.3 * pred["predicted_spend"].sum()
    # more recent buyers are less likely to stay away (a property of the simulated signal)
    ch = calibration_holdout(synth_tx, CUTOFF)
    corr = pred["p_no_purchase"].corr(ch["recency_days"], method="spearman")
    assert corr > 0.5


def test_potential_model_estimator_contract():
    model = PotentialModel(horizon_days=30, random_state=3)
    assert clone(model).get_params() == model.get_params()
    assert model.get_params()["random_state"] == 3 and model.get_params()["horizon_days"] == 30
    with pytest.raises(TypeError):
        PotentialModel(0)  # type: ignore[misc]  # random_state is keyword-only


def test_potential_model_errors(synth_tx):
    early = synth_tx[synth_tx["timestamp"] < "2023-02-15"]
    with pytest.raises(DataError, match="training needs more than min_history_days=60"):
        PotentialModel().fit(early, "2023-02-10")
    with pytest.raises(ArgumentError, match="horizon_days"):
        PotentialModel().fit(synth_tx, CUTOFF, horizon_days=0)
    with pytest.raises(ArgumentError, match="n_cutoffs"):
        PotentialModel(n_cutoffs=0).fit(synth_tx, CUTOFF)
    with pytest.raises(NotFittedError):
        PotentialModel().predict(synth_tx)


def test_supervised_level_within_ten_percent_on_a_btyd_process(btyd_evaluation):
    """On data BG/NBD + Gamma-Gamma describe exactly, the supervised total is unbiased."""
    m = btyd_evaluation.metrics
    assert (m["status"] == "fitted").all()
    assert abs(m.loc["supervised", "spend_bias_pct"]) < 10
    assert abs(m.loc["supervised", "purchases_bias_pct"]) < 10
    # and it ranks about as well as the true model family (within a few points)
    assert m.loc["supervised", "spend_spearman"] > m.loc["bgnbd", "spend_spearman"] - 0.03
    assert m.loc["supervised", "churn_auc"] > m.loc["bgnbd", "churn_auc"] - 0.03


def test_supervised_beats_bgnbd_on_a_trend_process(trend_evaluation):
    m = trend_evaluation.metrics
    # BG/NBD's constant rates miss the drift: its level is far off, the supervised one is not
    assert abs(m.loc["supervised", "spend_bias_pct"]) < 10
    assert abs(m.loc["bgnbd", "spend_bias_pct"]) > 20
    for metric in ("spend_spearman", "spend_pearson", "purchases_spearman", "purchases_pearson"):
        assert m.loc["supervised", metric] > m.loc["bgnbd", metric] + 0.01, metric
    # the top decile is 300 customers: its capture moves by ~0.005 between equivalent fits
    # (e.g. BG/NBD fitted with or without an analytic gradient), so no margin here
    assert m.loc["supervised", "spend_top_decile_capture"] > \
        m.loc["bgnbd", "spend_top_decile_capture"]
    for metric in ("spend_mae", "spend_rmse", "purchases_mae"):
        assert m.loc["supervised", metric] < 0.9 * m.loc["bgnbd", metric], metric
    # who stops buying is about as clear to both (no dropout in this process)
    assert m.loc["supervised", "churn_auc"] > m.loc["bgnbd", "churn_auc"] - 0.02


def test_default_learning_rate_is_the_validated_choice():
    """The default rate and iterations are what ``validation/select_cdnow.py`` chose.

    It chose them without the backtest's holdouts. Changing a default means re-running the
    selection (its report states the rule and the choice); the trend test above is the
    constraint that rules out smaller rates.
    """
    report = (Path(__file__).resolve().parents[1] / "validation" / "SELECTION.md").read_text(
        encoding="utf-8")
    chosen = re.search(r"Chosen: \*\*lr ([0-9.]+), ([0-9]+) iterations\*\*", report)
    assert chosen is not None
    default = PotentialModel()
    assert (float(chosen.group(1)), int(chosen.group(2))) == (default.learning_rate,
                                                             default.max_iter)


# --------------------------------------------------------------------------------------------
# flags
# --------------------------------------------------------------------------------------------
def test_flag_customers_hand_example():
    tiers = pd.Series({"a": "Low", "b": "Low", "c": "Low", "d": "High", "e": "High", "f": "Mid",
                       "h": "High"}, name="tier")
    pred = pd.DataFrame(
        {"predicted_spend": [900.0, 10.0, 800.0, 50.0, 700.0, 20.0, 1000.0],
         "p_no_purchase": [0.1, 0.9, 0.2, 0.8, 0.3, 0.6, 0.5]},
        index=["a", "b", "c", "d", "e", "f", "g"],  # g has no tier, h no prediction
    )
    out = flag_customers(tiers, pred, tier_order=["Low", "Mid", "High"], top_share=0.3)
    # top 30% of 7 predicted spends → ceil(2.1) = 3: g, a, c; low tiers = ["Low"] → a and c.
    # at risk: High with p_no_purchase >= 0.5 → d (e is 0.3; h has no prediction).
    assert out.index.tolist() == list(tiers.index)
    assert out.index[out["rising_star"]].tolist() == ["a", "c"]
    assert out.index[out["at_risk"]].tolist() == ["d"]
    assert out.loc["a", "flag_reason"] == (
        "rising star: tier Low, predicted spend 900 (top 30% of customers), 90% chance to buy")
    assert out.loc["d", "flag_reason"] == "at risk: tier High, 80% chance of no purchase"
    assert (out.loc[["b", "e", "f", "h"], "flag_reason"] == "").all()
    assert out["rising_star"].dtype == bool and out["at_risk"].dtype == bool
    # by share instead of threshold: top 30% of p_no_purchase = b, d, f → only d is High
    share = flag_customers(tiers, pred, tier_order=["Low", "Mid", "High"], top_share=0.3,
                           risk_threshold=None)
    assert share.index[share["at_risk"]].tolist() == ["d"]
    # two top tiers and a lower threshold also catch e; c (0.2 >= 0.25? no) stays a star
    wide = flag_customers(tiers, pred, tier_order=["Low", "Mid", "High"], top_share=0.3,
                          risk_threshold=0.25, top_tiers=2)
    assert wide.index[wide["at_risk"]].tolist() == ["d", "e", "f"]
    assert wide.index[wide["rising_star"]].tolist() == ["a", "c"]


def test_flags_agree_with_p_alive():
    """A customer unlikely to buy again is never a rising star; P(alive) alone can put a
    top-tier customer at risk; each flag says why."""
    tiers = pd.Series({"a": "Low", "b": "Low", "c": "Low", "d": "High", "e": "High"})
    pred = pd.DataFrame(
        {"predicted_spend": [900.0, 950.0, 800.0, 50.0, 60.0],
         "p_no_purchase": [0.1, 0.7, 0.2, 0.3, 0.2],
         "p_alive": [0.9, 0.9, 0.3, 0.95, 0.2]}, index=list("abcde"))
    out = flag_customers(tiers, pred, tier_order=["Low", "High"], top_share=0.6)
    # top 60% of spend: b, a, c — b will probably not buy, c has probably left
    assert out.index[out["rising_star"]].tolist() == ["a"]
    assert out.index[out["at_risk"]].tolist() == ["e"]
    assert out.loc["a", "flag_reason"] == ("rising star: tier Low, predicted spend 900 (top 60% "
                                           "of customers), 90% chance to buy, 90% likely still "
                                           "active")
    assert out.loc["e", "flag_reason"] == ("at risk: tier High, 20% chance of no purchase, 20% "
                                           "likely still active")
    stars = out["rising_star"]
    assert (out.loc[stars, "p_no_purchase"] < 0.5).all() and (out.loc[stars, "p_alive"] >= 0.5
                                                              ).all()


def test_flag_reasons_in_chinese_with_the_schemes_labels():
    tiers = pd.Series({"a": "Low", "b": "High", "c": "High", "d": "Mid"})
    pred = pd.DataFrame(
        {"predicted_spend": [900.0, 50.0, 60.0, 10.0], "p_no_purchase": [0.1, 0.8, 0.2, 0.5],
         "p_alive": [0.9, np.nan, 0.2, 0.5]}, index=list("abcd"))
    labels = {"Low": "低级客户", "Mid": "中级客户", "High": "高级客户"}
    out = flag_customers(tiers, pred, tier_order=["Low", "Mid", "High"], top_share=0.5,
                         lang="zh", labels=labels)
    assert out.loc["a", "flag_reason"] == (
        "潜力客户：低级客户，预测消费900（前50%的客户），购买概率90%，仍活跃的概率90%")
    assert out.loc["b", "flag_reason"] == "流失风险：高级客户，不再购买的概率80%"
    assert out.loc["c", "flag_reason"] == (
        "流失风险：高级客户，不再购买的概率20%，仍活跃的概率20%")
    assert out.loc["d", "flag_reason"] == ""
    # the same flags as in English; English without labels keeps the tier names
    english = flag_customers(tiers, pred, tier_order=["Low", "Mid", "High"], top_share=0.5)
    pd.testing.assert_frame_equal(out.drop(columns="flag_reason"),
                                  english.drop(columns="flag_reason"))
    assert english.loc["b", "flag_reason"] == "at risk: tier High, 80% chance of no purchase"
    with pytest.raises(ArgumentError, match="lang"):
        flag_customers(tiers, pred, tier_order=["Low", "Mid", "High"], lang="fr")


def test_flags_from_a_fitted_model_never_star_the_unlikely(synth_tx):
    pred = PotentialModel(horizon_days=90, max_iter=50).fit(synth_tx, CUTOFF).predict(synth_tx,
                                                                                    CUTOFF)
    ch = calibration_holdout(synth_tx, CUTOFF)
    tiers = pd.Series(np.where(ch["monetary_total"] > ch["monetary_total"].median(), "High",
                               "Low"), index=ch.index)
    out = flag_customers(tiers, pred, tier_order=["Low", "High"], top_share=0.3)
    assert out["rising_star"].any() and out["at_risk"].any()
    stars = out[out["rising_star"]]
    assert (stars["p_no_purchase"] < 0.5).all() and (stars["p_alive"] >= 0.5).all()
    assert (out.loc[out["rising_star"] | out["at_risk"], "flag_reason"] != "").all()


def test_flag_customers_errors():
    pred = pd.DataFrame({"predicted_spend": [1.0], "p_no_purchase": [0.5]}, index=["a"])
    with pytest.raises(DataError, match="'Gld'.*did you mean 'Gold'"):
        flag_customers(pd.Series({"a": "Gld"}), pred, tier_order=["Regular", "Gold"])
    with pytest.raises(ArgumentError, match="top_share"):
        flag_customers(pd.Series({"a": "Gold"}), pred, tier_order=["Regular", "Gold"],
                       top_share=0)
    with pytest.raises(ArgumentError, match="alive_threshold"):
        flag_customers(pd.Series({"a": "Gold"}), pred, tier_order=["Regular", "Gold"],
                       alive_threshold=2)
    with pytest.raises(DataError, match="p_no_purchase"):
        flag_customers(pd.Series({"a": "Gold"}), pred[["predicted_spend"]],
                       tier_order=["Regular", "Gold"])


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------
def test_evaluate_potential_tables(evaluation, synth_tx):
    metrics, calib, table = evaluation.metrics, evaluation.calibration, evaluation.table
    models = ["bgnbd", "supervised", "naive_last", "naive_average"]
    assert list(metrics.index) == models
    assert (metrics["status"] == "fitted").all()
    assert list(metrics.columns) == ["status", *METRICS, "predicted_spend_total",
                                     "actual_spend_total", "n_customers"]
    assert metrics["churn_auc"].between(0, 1).all()
    ch = calibration_holdout(synth_tx, CUTOFF, END)
    assert (metrics["n_customers"] == len(ch)).all()
    assert metrics["actual_spend_total"].iloc[0] == pytest.approx(ch["holdout_spend"].sum())
    bias = 100 * (metrics["predicted_spend_total"] / metrics["actual_spend_total"] - 1)
    np.testing.assert_allclose(metrics["spend_bias_pct"], bias, rtol=1e-9)
    # the tidy table: every model × metric, intervals around the estimates
    assert list(table.columns) == ["model", "status", "metric", "estimate", "ci_low", "ci_high",
                                   "n_customers"]
    assert len(table) == len(models) * len(METRICS)
    ok = table.dropna(subset=["estimate"])
    assert (ok["ci_low"] <= ok["estimate"] + 1e-9).mean() > 0.95
    assert (ok["ci_high"] >= ok["estimate"] - 1e-9).mean() > 0.95
    assert (ok["ci_high"] > ok["ci_low"]).all()
    summary = evaluation.summary(digits=2)
    assert list(summary.index) == models and summary.columns[0] == "status"
    assert summary.loc["bgnbd", "churn_auc"].count("[") == 1
    assert list(calib.columns) == ["model", "target", "decile", "n_customers", "mean_predicted",
                                   "mean_actual"]
    for (_, _), part in calib.groupby(["model", "target"]):
        assert part["decile"].tolist() == list(range(1, 11))
        assert part["n_customers"].sum() == len(ch)
        assert part["mean_predicted"].is_monotonic_increasing
    assert set(calib["target"]) == {"purchases", "spend", "no_purchase"}


def test_evaluate_potential_naive_baselines_by_hand(evaluation, synth_tx):
    """The naive baselines counted with a plain loop over the rows."""
    pred = evaluation.predictions
    cutoff = pd.Timestamp(CUTOFF)
    start = cutoff - pd.Timedelta(days=184)
    first = synth_tx["timestamp"].min().normalize()
    days, spend, total, all_days = {}, {}, {}, {}
    for cid, ts, amount in synth_tx.itertuples(index=False):
        if ts >= cutoff + pd.Timedelta(days=1):
            continue
        total[cid] = total.get(cid, 0.0) + amount
        if amount >= 0:
            all_days.setdefault(cid, set()).add(ts.normalize())
        if ts >= start + pd.Timedelta(days=1):
            spend[cid] = spend.get(cid, 0.0) + amount
            if amount >= 0:
                days.setdefault(cid, set()).add(ts.normalize())
    naive_p = np.array([len(days.get(c, ())) for c in pred.index], dtype=float)
    naive_s = np.array([spend.get(c, 0.0) for c in pred.index])
    np.testing.assert_allclose(pred["naive_last_purchases"], naive_p)
    np.testing.assert_allclose(pred["naive_last_spend"], naive_s, atol=1e-9)
    length = (cutoff - first).days + 1
    avg = np.array([total[c] for c in pred.index]) / length * 184
    np.testing.assert_allclose(pred["naive_average_spend"], avg, rtol=1e-9)
    rate = np.array([len(all_days[c]) for c in pred.index]) / length
    np.testing.assert_allclose(pred["naive_average_p_no_purchase"], np.exp(-rate * 184))
    mae = np.mean(np.abs(naive_p - pred["holdout_purchases"].to_numpy()))
    assert evaluation.metrics.loc["naive_last", "purchases_mae"] == pytest.approx(mae)


def test_models_beat_a_constant_predictor(evaluation):
    """On data with real signal both models beat the best constant (the holdout mean itself)."""
    m, pred = evaluation.metrics, evaluation.predictions
    const_purchases = pred["holdout_purchases"].std(ddof=0)  # RMSE of predicting the mean
    const_spend = pred["holdout_spend"].std(ddof=0)
    for model in ("bgnbd", "supervised"):
        assert m.loc[model, "purchases_rmse"] < 0.95 * const_purchases, model
        assert m.loc[model, "spend_rmse"] < const_spend, model
        assert m.loc[model, "churn_auc"] > 0.7, model  # a constant scores 0.5
        assert m.loc[model, "purchases_spearman"] > 0.4, model
    # BG/NBD's churn probabilities are calibrated on average
    assert pred["bgnbd_p_no_purchase"].mean() == pytest.approx(pred["no_purchase"].mean(), abs=0.08)


def test_a_model_that_cannot_be_fitted_does_not_stop_the_others(synth_tx):
    """The classic split with too little history: the supervised model is reported as not
    fitted with its reason, BG/NBD and the naive baselines still run."""
    young = synth_tx[synth_tx["timestamp"] < "2023-03-20"]
    ev = evaluate_potential(young, "2023-02-20", "2023-03-19", n_bootstrap=10)
    status = ev.metrics["status"]
    assert status["supervised"].startswith("not fitted: PotentialModel.fit: the data start on")
    assert (status.drop("supervised") == "fitted").all()
    assert ev.metrics.loc["supervised", METRICS].isna().all()
    assert ev.metrics.loc["naive_last", METRICS].notna().sum() > 5
    assert set(ev.calibration["model"]) == {"bgnbd", "naive_last", "naive_average"}
    assert "supervised" in ev.summary().index


def test_evaluate_potential_errors(synth_tx):
    with pytest.raises(ArgumentError, match="n_bootstrap"):
        evaluate_potential(synth_tx, CUTOFF, END, n_bootstrap=-1)
    with pytest.raises(ArgumentError, match="must be after cutoff"):
        evaluate_potential(synth_tx, CUTOFF, CUTOFF)
