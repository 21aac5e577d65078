from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from tierlab.errors import ArgumentError, DataError
from tierlab.segment import ClusterResult, _business_names, choose_k, cluster_customers


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """KMeans' OpenMP threads spin on a busy 2-core machine: tiny fits run 20x slower."""
    with threadpool_limits(limits=1):
        yield


# Four groups, well separated in log space (typical recency days, orders, spend):
BLOBS = {
    "A": (5, 20, 5000.0),  # recent, frequent, high spend -> "High value, active"
    "B": (300, 1, 3000.0),  # lapsed, one order, high spend -> "Lapsed big spenders"
    "C": (10, 1, 100.0),  # recent, one order, low spend -> "New / low value"
    "D": (250, 1, 40.0),  # lapsed, one order, low spend -> "Lapsed low value"
}
EXPECTED_NAMES = {"A": "High value, active", "B": "Lapsed big spenders",
                  "C": "New / low value", "D": "Lapsed low value"}


def make_blobs(n_per: int = 120, seed: int = 7, sd: float = 0.15) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    parts, truth = [], []
    for group, (rec, freq, spend) in BLOBS.items():
        noise = rng.normal(0.0, sd, size=(n_per, 3))
        parts.append(pd.DataFrame({
            "recency_days": np.round(np.expm1(np.log1p(rec) + noise[:, 0])).astype("int64"),
            "frequency": np.maximum(1, np.round(freq * np.exp(noise[:, 1]))).astype("int64"),
            "monetary_total": np.round(spend * np.exp(noise[:, 2]), 2),
        }))
        truth += [group] * n_per
    feats = pd.concat(parts, ignore_index=True)
    feats["monetary_mean"] = feats["monetary_total"] / feats["frequency"]
    feats.index = pd.Index([f"C{i:05d}" for i in range(len(feats))], name="customer_id")
    order = rng.permutation(len(feats))  # shuffled rows
    return feats.iloc[order], pd.Series(truth, index=feats.index).iloc[order]


@pytest.fixture(scope="module")
def blobs():
    return make_blobs()


@pytest.fixture(scope="module")
def result(blobs) -> ClusterResult:
    feats, _ = blobs
    return cluster_customers(feats, n_bootstrap=5, random_state=0)


def test_auto_k_finds_the_true_partition(blobs, result):
    feats, truth = blobs
    assert result.k == 4
    assert result.scores["silhouette"].idxmax() == 4
    assert result.scores.index.tolist() == list(range(2, 9))
    assert result.scores["chosen"].sum() == 1 and result.scores.loc[4, "chosen"]
    assert result.labels.index.equals(feats.index)
    assert adjusted_rand_score(truth, result.labels) > 0.9


def test_names_are_unique_and_describe_the_blobs(blobs, result):
    _, truth = blobs
    assert len(set(result.names.values())) == result.k
    # majority cluster of each true group carries the expected business name
    for group, expected in EXPECTED_NAMES.items():
        cluster = result.labels[truth == group].mode()[0]
        assert result.names[cluster] == expected, group
    assert result.segments.astype(str).equals(result.labels.map(result.names).rename("segment"))


def test_clusters_are_ordered_by_mean_spend(blobs, result):
    feats, _ = blobs
    mean_spend = feats["monetary_total"].groupby(result.labels).mean()
    assert mean_spend.index.tolist() == list(range(result.k))
    assert mean_spend.is_monotonic_increasing
    assert result.labels.dtype == "int64" and result.labels.name == "cluster"


def test_profile_against_groupby(blobs, result):
    feats, _ = blobs
    profile = result.profile
    assert profile["customers"].sum() == len(feats)
    assert profile["share"].sum() == pytest.approx(1.0)
    assert profile["revenue_share"].sum() == pytest.approx(1.0)
    assert profile["name"].to_dict() == result.names
    # independent computation, cluster by cluster
    for cluster in range(result.k):
        members = feats[result.labels == cluster]
        row = profile.loc[cluster]
        assert row["customers"] == len(members)
        assert row["recency_days_median"] == members["recency_days"].median()
        assert row["monetary_total_mean"] == pytest.approx(members["monetary_total"].mean())
        assert row["revenue_share"] == pytest.approx(
            members["monetary_total"].sum() / feats["monetary_total"].sum())


def test_pipeline_predicts_the_relabelled_ids(blobs, result):
    feats, _ = blobs
    predicted = result.pipeline.predict(feats[list(result.columns)])
    np.testing.assert_array_equal(predicted, result.labels.to_numpy())


def test_stability_is_high_on_separated_blobs(result):
    st = result.stability
    assert st["n_bootstrap"] == 5 and len(st["ari"]) == 5
    assert st["ari_mean"] == pytest.approx(np.mean(st["ari"]))
    assert st["ari_mean"] > 0.9 and st["ari_sd"] >= 0


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_deterministic_given_random_state(blobs, method):
    feats, _ = blobs
    kwargs = {"k_range": [3, 4, 5], "n_bootstrap": 3, "method": method, "random_state": 11}
    first = cluster_customers(feats, **kwargs)
    again = cluster_customers(feats, **kwargs)
    pd.testing.assert_series_equal(again.labels, first.labels)
    pd.testing.assert_frame_equal(again.profile, first.profile)
    pd.testing.assert_frame_equal(again.scores, first.scores)
    assert again.stability == first.stability
    assert again.names == first.names


def test_row_order_does_not_change_the_result(blobs, result):
    feats, _ = blobs
    other = cluster_customers(feats.sort_index(), k=4, n_bootstrap=0, random_state=0)
    assert adjusted_rand_score(other.labels.loc[result.labels.index], result.labels) == 1.0
    assert other.names == result.names


def test_gmm_recovers_the_partition(blobs):
    feats, truth = blobs
    res = cluster_customers(feats, k=4, method="gmm", n_bootstrap=2, random_state=1)
    assert res.k == 4 and res.scores.index.tolist() == [4]
    assert adjusted_rand_score(truth, res.labels) > 0.9
    np.testing.assert_array_equal(res.pipeline.predict(feats[list(res.columns)]),
                                  res.labels.to_numpy())
    assert feats["monetary_total"].groupby(res.labels).mean().is_monotonic_increasing


def test_silhouette_sample_and_custom_columns(blobs):
    feats, truth = blobs
    res = cluster_customers(feats, k_range=[3, 4, 5], columns=("recency_days", "monetary_mean"),
                            sample_size=200, n_bootstrap=0, random_state=3)
    assert res.scores.index.tolist() == [3, 4, 5]
    assert np.isnan(res.stability["ari_mean"])
    assert "monetary_mean_median" in res.profile.columns
    assert "frequency_mean" not in res.profile.columns


def test_negative_spend_is_clipped(blobs):
    feats, _ = blobs
    refunds = feats.copy()
    refunds.iloc[:5, refunds.columns.get_loc("monetary_total")] = -50.0
    res = cluster_customers(refunds, k=4, n_bootstrap=0)
    assert res.labels.notna().all()


def test_input_is_not_mutated(blobs):
    feats, _ = blobs
    before = feats.copy()
    cluster_customers(feats, k=2, n_bootstrap=1)
    pd.testing.assert_frame_equal(feats, before)


def test_generic_names_without_rfm_columns():
    rng = np.random.default_rng(0)
    feats = pd.DataFrame({"spend": np.r_[rng.uniform(1, 2, 20), rng.uniform(100, 200, 20)]},
                         index=pd.Index([f"X{i}" for i in range(40)], name="customer_id"))
    res = cluster_customers(feats, k=2, columns=["spend"], n_bootstrap=0)
    assert res.names == {0: "low spend", 1: "high spend"}
    assert "revenue_share" not in res.profile.columns


def test_business_names_and_numbering():
    feats = pd.DataFrame(
        {"recency_days": [1, 2, 3, 100, 101, 102, 1, 2, 3, 4],
         "frequency": [1] * 10,
         "monetary_total": [10.0, 11, 12, 13, 14, 15, 500, 600, 700, 800]},
        index=pd.Index(list("abcdefghij"), name="customer_id"),
    )
    labels = pd.Series([0, 0, 0, 1, 1, 1, 2, 2, 2, 2], index=feats.index)
    # overall medians: recency 3, frequency 1, spend 14.5; cluster medians: recency 2, 101, 2.5;
    # spend 11, 14, 650; frequency 1 (not above 1)
    assert _business_names(feats, labels, ["recency_days"]) == {
        0: "New / low value", 1: "Lapsed low value", 2: "Big spenders, recent"}
    flat = feats.assign(recency_days=1, monetary_total=1.0)
    names = _business_names(flat, labels.clip(upper=1), ["recency_days"])
    assert names == {0: "Lapsed low value 1", 1: "Lapsed low value 2"}


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------
def small(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"recency_days": np.arange(n), "frequency": np.arange(n) + 1,
         "monetary_total": np.arange(n) * 10.0},
        index=pd.Index([f"S{i}" for i in range(n)], name="customer_id"),
    )


def test_too_few_customers():
    with pytest.raises(DataError, match="9 customers are too few.*at least 10"):
        cluster_customers(small(9))


def test_k_not_below_customer_count():
    with pytest.raises(DataError, match="too few for k=12"):
        cluster_customers(small(12), k=12)
    with pytest.raises(DataError, match="too few for k=11"):
        cluster_customers(small(11), k_range=range(2, 12))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        pytest.param({"method": "kmean"}, ArgumentError, "did you mean 'kmeans'", id="method"),
        pytest.param({"k": 1}, ArgumentError, "integer >= 2", id="k-one"),
        pytest.param({"k": "best"}, ArgumentError, "'auto'", id="k-text"),
        pytest.param({"k_range": [1, 2]}, ArgumentError, ">= 2", id="k-range"),
        pytest.param({"sample_size": 0}, ArgumentError, "sample_size", id="sample"),
        pytest.param({"n_bootstrap": -1}, ArgumentError, "n_bootstrap", id="bootstrap"),
        pytest.param({"columns": ["recency_dys", "frequency"]}, DataError,
                     "'recency_dys' is missing.*did you mean 'recency_days'", id="column"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        cluster_customers(small(30), **kwargs)


def test_missing_values_and_duplicates():
    with pytest.raises(DataError, match="'frequency' has missing or infinite values"):
        cluster_customers(small(30).assign(frequency=np.nan))
    dup = small(30)
    dup.index = ["S0"] * 2 + list(dup.index[2:])
    with pytest.raises(DataError, match="'S0' appears more than once"):
        cluster_customers(dup)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        pytest.param({2: 0.60, 3: 0.50, 4: 0.55}, 4, id="best-k>=3-close-enough"),
        pytest.param({2: 0.60, 3: 0.30, 4: 0.44}, 2, id="no-structure-beyond-two"),
        pytest.param({2: 0.40, 3: 0.45, 4: 0.45}, 3, id="tie-to-smaller-k"),
        pytest.param({2: 0.50, 3: float("nan"), 4: 0.38}, 4, id="nan-ignored"),
        pytest.param({4: 0.3, 5: 0.5}, 5, id="only-preferred"),
    ],
)
def test_choose_k_prefers_three_or_more(scores, expected):
    assert choose_k(pd.Series(scores)) == expected


def test_fits_on_a_sample_and_labels_everyone():
    """Models are fitted on fit_sample customers and label all of them; stability reported."""
    feats, truth = make_blobs(n_per=5000, seed=11)
    res = cluster_customers(feats, fit_sample=800, sample_size=400, n_bootstrap=3,
                            random_state=0)
    assert res.k == 4 and len(res.labels) == len(feats)
    assert adjusted_rand_score(truth, res.labels.reindex(truth.index)) > 0.95
    assert res.stability["n_bootstrap"] == 3 and res.stability["stable"] is True
    assert res.stability["ari_mean"] > 0.9
    pd.testing.assert_series_equal(
        pd.Series(res.pipeline.predict(feats[list(res.columns)]), index=feats.index,
                  name="cluster", dtype="int64"), res.labels)
    with pytest.raises(ArgumentError, match="fit_sample"):
        cluster_customers(feats, fit_sample=5)


def test_silhouette_scores_equal_sklearn_on_the_same_sample():
    """Each k's score is sklearn's silhouette_score on the sample it draws (same seed)."""
    from sklearn.metrics import silhouette_score

    feats, _ = make_blobs(n_per=600, seed=5, sd=0.6)  # overlapping groups: scores far from 1
    cols = ["recency_days", "frequency", "monetary_total"]
    res = cluster_customers(feats, k_range=[2, 3, 4, 5], sample_size=700, n_bootstrap=0,
                            random_state=4)
    # the same preprocessing and seeds as cluster_customers draws them
    seed, sample_seed = (int(s) for s in np.random.RandomState(4).randint(0, 2**31 - 1, size=2))
    Xt = res.pipeline[:-1].transform(feats[cols])
    from tierlab.segment import _model

    for k in (2, 3, 4, 5):
        labels = _model("kmeans", k, seed).fit(Xt).predict(Xt)
        expected = silhouette_score(Xt, labels, sample_size=700, random_state=sample_seed)
        assert res.scores.loc[k, "silhouette"] == pytest.approx(expected, abs=1e-9)
    one = cluster_customers(feats, k_range=[3], sample_size=None, n_bootstrap=0, random_state=4)
    labels = one.pipeline.predict(feats[cols])
    assert one.scores.loc[3, "silhouette"] == pytest.approx(
        silhouette_score(Xt, labels), abs=1e-9)


def test_stability_on_a_sample_of_customers():
    feats, _ = make_blobs(n_per=1500, seed=3)
    res = cluster_customers(feats, k=4, fit_sample=1000, n_bootstrap=3, stability_sample=500,
                            random_state=0)
    full = cluster_customers(feats, k=4, fit_sample=1000, n_bootstrap=3, stability_sample=None,
                             random_state=0)
    assert res.stability["n_bootstrap"] == 3 and res.stability["ari_mean"] > 0.9
    assert full.stability["ari_mean"] > 0.9
    pd.testing.assert_series_equal(res.labels, full.labels)
    with pytest.raises(ArgumentError, match="stability_sample"):
        cluster_customers(feats, stability_sample=3)
