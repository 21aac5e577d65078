"""Fixtures of the plot tests: hand-built analytics results and a small real data set."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless, before pyplot is imported

import warnings  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from plots.plot_helpers import HISTORY_CODES, RULES, TIERS, fake_history  # noqa: E402
from tierlab import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def ax():
    return plt.subplots()[1]


@pytest.fixture
def strict_warnings():
    """Every warning is an error, except matplotlib's missing-glyph one at draw time."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------------------------
# hand-built inputs shaped like the analytics results
# --------------------------------------------------------------------------------------------
@pytest.fixture
def summary():
    customers = np.array([120, 60, 20])
    revenue = np.array([10_000.0, 30_000.0, 60_000.0])
    return pd.DataFrame({
        "customers": customers,
        "share": customers / customers.sum(),
        "revenue": revenue,
        "revenue_share": revenue / revenue.sum(),
        "mean_spend": revenue / customers,
    }, index=pd.CategoricalIndex(TIERS, categories=TIERS, ordered=True, name="tier"))


@pytest.fixture
def matrix():
    labels = [*TIERS, "(none)"]
    return pd.DataFrame([[50, 5, 0, 2], [4, 40, 3, 0], [0, 2, 6, 1], [10, 3, 1, 0]],
                        index=pd.Index(labels, name="from"), columns=pd.Index(labels, name="to"))


@pytest.fixture
def sweep():
    values = [300.0, 400.0, 500.0, 600.0]
    rows = []
    for v in values:
        high = int(40 - v / 20)
        mid = 60 - high // 2
        low = 100 - high - mid
        for tier, n in zip(TIERS, [low, mid, high], strict=True):
            rows.append({"value": v, "tier": tier, "customers": n, "share": n / 100,
                         "revenue_share": n / 100 + (0.1 if tier == "High" else -0.05)})
    frame = pd.DataFrame(rows)
    frame["tier"] = pd.Categorical(frame["tier"], categories=TIERS, ordered=True)
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)  # shuffled rows


@pytest.fixture
def per_tier():
    customers = np.array([120, 60, 20])
    mean = np.array([50.0, 200.0, 900.0])
    overall = np.average(mean, weights=customers)
    return pd.DataFrame({
        "customers": customers,
        "holdout_spend_mean": mean,
        "purchase_rate": [0.3, 0.7, 0.9],
        "lift": mean / overall,
    }, index=pd.CategoricalIndex(TIERS, categories=TIERS, ordered=True, name="tier"))


@pytest.fixture
def cluster_result():
    from tierlab.segment import ClusterResult

    profile = pd.DataFrame({
        "name": ["Lapsed low value", "New / low value", "High value, active"],
        "customers": [50, 30, 20],
        "share": [0.5, 0.3, 0.2],
        "recency_days_mean": [200.0, 20.0, 5.0],
        "recency_days_median": [190.0, 18.0, 4.0],
        "frequency_mean": [1.0, 2.0, 12.0],
        "frequency_median": [1.0, 2.0, 11.0],
        "monetary_total_mean": [40.0, 150.0, 3000.0],
        "monetary_total_median": [35.0, 140.0, 2800.0],
    }, index=pd.Index([0, 1, 2], name="cluster"))
    names = dict(enumerate(profile["name"]))
    return ClusterResult(labels=pd.Series(dtype="int64"), names=names, profile=profile,
                         scores=pd.DataFrame(), k=3, pipeline=None,
                         columns=("recency_days", "frequency", "monetary_total"))


@pytest.fixture
def calibration():
    rows = []
    for model, bias in [("bgnbd", 1.0), ("supervised", 1.2), ("naive", 0.7)]:
        for target in ("purchases", "spend"):
            for decile in range(1, 6):
                pred = decile * (10.0 if target == "spend" else 1.0)
                rows.append({"model": model, "target": target, "decile": decile,
                             "n_customers": 10, "mean_predicted": pred,
                             "mean_actual": pred * bias})
    return pd.DataFrame(rows).iloc[::-1].reset_index(drop=True)  # deciles out of order


@pytest.fixture
def revenue_cost():
    return pd.DataFrame({
        "scheme": ["current"] * 3 + ["strict"] * 3,
        "tier": TIERS * 2,
        "customers": [120, 60, 20, 140, 50, 10],
        "revenue": [1e4, 3e4, 6e4, 1.5e4, 3.5e4, 5e4],
        "revenue_share": [0.1, 0.3, 0.6, 0.15, 0.35, 0.5],
        "benefit_cost": [0.0, 600.0, 1000.0, 0.0, 500.0, 500.0],
    })


# --------------------------------------------------------------------------------------------
# shared behaviour
# --------------------------------------------------------------------------------------------
def _calls(summary, matrix, sweep, per_tier, cluster_result, calibration, revenue_cost):
    curve = pd.DataFrame({"customer_share": [0.0, 0.5, 1.0], "revenue_share": [0.0, 0.2, 1.0]})
    scored = pd.DataFrame({"r_score": [1, 2, 2, 3], "f_score": [1, 1, 3, 3],
                           "monetary_total": [1.0, 2.0, 3.0, 4.0]})
    return {
        "plot_tier_distribution": (plots.plot_tier_distribution, summary),
        "plot_tier_trend": (plots.plot_tier_trend, fake_history(HISTORY_CODES)),
        "plot_migration": (plots.plot_migration, matrix),
        "plot_lorenz": (plots.plot_lorenz, curve),
        "plot_rfm_heatmap": (plots.plot_rfm_heatmap, scored),
        "plot_threshold_sweep": (plots.plot_threshold_sweep, sweep),
        "plot_holdout": (plots.plot_holdout, per_tier),
        "plot_cluster_profiles": (plots.plot_cluster_profiles, cluster_result),
        "plot_calibration": (plots.plot_calibration, calibration),
        "plot_scheme_comparison": (plots.plot_scheme_comparison, revenue_cost),
    }


@pytest.fixture
def calls(summary, matrix, sweep, per_tier, cluster_result, calibration, revenue_cost):
    return _calls(summary, matrix, sweep, per_tier, cluster_result, calibration, revenue_cost)



# --------------------------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tx():
    from tierlab.datasets import generate

    return generate(200, months=12, seed=1)[0]


@pytest.fixture(scope="module")
def scored(tx):
    from tierlab.features import rfm
    from tierlab.scoring import RFMScorer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tied quantiles on a small sample
        return RFMScorer().fit_transform(rfm(tx))


@pytest.fixture(scope="module")
def comparison(tx):
    from tierlab.compare import compare_schemes

    return compare_schemes({"current": RULES / "monthly_spend.yaml",
                            "strict": RULES / "monthly_spend_strict.yaml"}, tx, holdout_months=3)


@pytest.fixture(scope="module")
def history(comparison):
    return comparison.histories["current"]
