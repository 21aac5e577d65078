"""Tests of :mod:`tierlab.scoring.scorer`: RFM scores from per-customer features."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_helpers import hand_features
from sklearn.base import clone

from tierlab.errors import ArgumentError, DataError
from tierlab.scoring import RFMScorer

INF = np.inf


@pytest.fixture
def feats() -> pd.DataFrame:
    return hand_features()

# ------------------------------------------------------------------------------------------
# hand calculation
# ------------------------------------------------------------------------------------------
# n = 12, bins = 5: the j-th cut point is the smallest value with at least j/5 of the customers
# at or below it, i.e. the ceil(12 * j / 5)-th smallest = 3rd, 5th, 8th, 10th smallest value.
#   recency sorted: 1 3 7 | 10 15 | 30 45 60 | 90 120 | 200 365  -> cuts 7, 15, 60, 120
#   frequency:      1 2 3 | 4 5 | 6 7 8 | 9 12 | 15 20           -> cuts 3, 5, 8, 12
#   monetary:  50 80 120 | 200 300 | 420 610 700 | 900 1500 | 2500 5000 -> 120, 300, 700, 1500
# Bins are closed on the right; R is reversed (lowest recency bin -> 5).
HAND_EDGES = {"R": [7, 15, 60, 120], "F": [3, 5, 8, 12], "M": [120, 300, 700, 1500]}
HAND_R = [5, 4, 3, 5, 2, 3, 5, 1, 3, 2, 4, 1]
HAND_F = [4, 1, 1, 3, 1, 2, 5, 2, 3, 4, 5, 3]
HAND_M = [4, 1, 2, 4, 1, 3, 5, 1, 3, 3, 5, 2]


def test_quantile_scores_match_hand_calculation(feats):
    scorer = RFMScorer(bins=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no collapse warning on distinct values
        out = scorer.fit_transform(feats)

    for dim, edges in HAND_EDGES.items():
        np.testing.assert_array_equal(scorer.edges_[dim], np.array(edges, dtype=float))
    assert scorer.n_bins_ == {"R": 5, "F": 5, "M": 5}

    expected = feats.copy()
    expected["r_score"] = np.array(HAND_R, dtype="int64")
    expected["f_score"] = np.array(HAND_F, dtype="int64")
    expected["m_score"] = np.array(HAND_M, dtype="int64")
    expected["rfm_score"] = expected["r_score"] + expected["f_score"] + expected["m_score"]
    expected["rfm_code"] = pd.Series(
        ["544", "411", "312", "534", "211", "323", "555", "121", "333", "243", "455", "132"],
        index=feats.index,
    )
    pd.testing.assert_frame_equal(out, expected)


def test_transform_does_not_mutate_input(feats):
    before = feats.copy()
    RFMScorer().fit_transform(feats)
    pd.testing.assert_frame_equal(feats, before)


def test_edges_report_matches_hand_calculation(feats):
    report = RFMScorer(bins=5).fit(feats).edges_report()
    f = report[report["dimension"] == "F"].reset_index(drop=True)
    expected_f = pd.DataFrame({
        "dimension": ["F"] * 5,
        "column": ["frequency"] * 5,
        "score": np.arange(1, 6),
        "lower": [-INF, 3, 5, 8, 12],
        "upper": [3, 5, 8, 12, INF],
        "customers": np.array([3, 2, 3, 2, 2], dtype="int64"),
    })
    pd.testing.assert_frame_equal(f, expected_f, check_dtype=False)
    assert f["customers"].dtype == "int64"

    # R: score 5 holds the LOWEST recency (<= 7 days), score 1 the highest (> 120 days)
    r = report[report["dimension"] == "R"].set_index("score")
    assert r.loc[5, ["lower", "upper"]].tolist() == [-INF, 7]
    assert r.loc[1, ["lower", "upper"]].tolist() == [120, INF]
    assert r["customers"].to_dict() == {1: 2, 2: 2, 3: 3, 4: 2, 5: 3}
    assert report.groupby("dimension")["customers"].sum().eq(len(feats)).all()


def test_edges_report_counts_new_data(feats):
    scorer = RFMScorer().fit(feats)
    report = scorer.edges_report(feats.iloc[:4])
    assert report.groupby("dimension")["customers"].sum().eq(4).all()


def test_r_is_reversed(feats):
    out = RFMScorer(bins=5).fit_transform(feats)
    order = feats["recency_days"].sort_values().index
    r = out.loc[order, "r_score"].to_numpy()
    assert r[0] == 5 and r[-1] == 1
    assert (np.diff(r) <= 0).all()  # more days since the last purchase never scores higher


def test_columns_override(feats):
    out = RFMScorer(columns={"m": "monetary_mean"}).fit_transform(feats)
    # monetary_mean sorted: 28.6 30 40 | 50 77.8 | 84 100 101.7 | 112.5 125 | 166.7 250
    expected = np.searchsorted([40, 77.8, 101.7, 125], feats["monetary_mean"], side="left") + 1
    np.testing.assert_array_equal(out["m_score"], expected)


# ------------------------------------------------------------------------------------------
# fixed edges
# ------------------------------------------------------------------------------------------
FIXED = {"R": [7, 30, 90, 180], "F": [1, 2, 5, 10], "M": [100, 500, 1000, 2000]}


def naive_score(value: float, cuts: list[float], reverse: bool, bins: int = 5) -> int:
    score = 1
    for cut in cuts:
        if value > cut:  # a value equal to a cut stays in the lower bin
            score += 1
    return bins + 1 - score if reverse else score


def test_fixed_edges_match_naive_loop(feats):
    extra = pd.DataFrame(  # values exactly on the cut points
        {"recency_days": [7, 30], "frequency": [1, 10], "monetary_total": [100.0, 2000.0],
         "monetary_mean": [1.0, 1.0]},
        index=pd.Index(["E1", "E2"], name="customer_id"),
    )
    data = pd.concat([feats, extra])
    out = RFMScorer(method="fixed", edges=FIXED).fit_transform(data)
    for dim, col, score_col in (("R", "recency_days", "r_score"), ("F", "frequency", "f_score"),
                                ("M", "monetary_total", "m_score")):
        expected = [naive_score(v, FIXED[dim], dim == "R") for v in data[col]]
        assert out[score_col].tolist() == expected, dim
    assert out.loc["E1", "rfm_code"] == "511"
    assert out.loc["E2", "rfm_code"] == "444"


def test_fixed_with_learned_edges_reproduces_quantile_fit(feats):
    learned = RFMScorer().fit(feats)
    fixed = RFMScorer(method="fixed", edges=learned.edges_).fit(feats)
    pd.testing.assert_frame_equal(fixed.transform(feats), learned.transform(feats))


@pytest.mark.parametrize(
    "edges, match",
    [
        pytest.param(None, "needs edges", id="missing"),
        pytest.param({"R": [1, 2, 3, 4], "F": [1, 2, 3, 4]}, "M", id="missing-dimension"),
        pytest.param({**FIXED, "F": [1, 2, 3]}, "3 values.*needs exactly 4", id="count"),
        pytest.param({**FIXED, "M": [100, 50, 1000, 2000]}, "ascending", id="descending"),
        pytest.param({**FIXED, "M": [100, 100, 1000, 2000]}, "ascending", id="duplicate"),
        pytest.param({**FIXED, "X": [1, 2, 3, 4]}, "unknown key 'X'", id="unknown-key"),
        pytest.param({**FIXED, "F": ["a", "b", "c", "d"]}, "numbers", id="not-numbers"),
    ],
)
def test_invalid_fixed_edges(feats, edges, match):
    with pytest.raises(ArgumentError, match=match):
        RFMScorer(method="fixed", edges=edges).fit(feats)


def test_edges_with_quantile_method_is_an_error(feats):
    with pytest.raises(ArgumentError, match="method='fixed'"):
        RFMScorer(edges=FIXED).fit(feats)


def test_unknown_method(feats):
    with pytest.raises(ArgumentError, match="did you mean 'quantile'"):
        RFMScorer(method="quantil").fit(feats)


# ------------------------------------------------------------------------------------------
# ties
# ------------------------------------------------------------------------------------------
def tied_frame(seed: int = 0, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "recency_days": rng.integers(0, 8, n) * 30,
            "frequency": rng.choice([1, 1, 1, 1, 2, 2, 3, 5], n),
            "monetary_total": rng.choice([10.0, 20.0, 20.0, 50.0, 99.0, 500.0], n),
        },
        index=pd.Index([f"K{i:03d}" for i in range(n)], name="customer_id"),
    )


def test_permuting_rows_gives_the_same_scores():
    data = tied_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        base = RFMScorer().fit_transform(data)
        for seed in range(5):
            shuffled = data.sample(frac=1.0, random_state=seed)
            out = RFMScorer().fit_transform(shuffled)
            pd.testing.assert_frame_equal(out.loc[base.index], base)


def test_equal_values_get_equal_scores():
    data = tied_frame(seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = RFMScorer().fit_transform(data)
    for col, score in (("recency_days", "r_score"), ("frequency", "f_score"),
                       ("monetary_total", "m_score")):
        assert out.groupby(col)[score].nunique().eq(1).all()


def test_collapse_warns_and_spreads_scores():
    # frequency sorted: 1 1 1 1 1 1 1 2 2 3 4 5 -> cuts (3rd, 5th, 8th, 10th) 1, 1, 2, 3
    # -> distinct 1, 2, 3: four bins survive, spread over 1..5 as 1, 2, 4, 5
    data = pd.DataFrame(
        {
            "recency_days": np.arange(12) * 10,
            "frequency": [1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5],
            "monetary_total": np.arange(12) * 100.0,
        },
        index=pd.Index([f"T{i:02d}" for i in range(12)], name="customer_id"),
    )
    scorer = RFMScorer(bins=5)
    match = r"'frequency' \(F\) leave only 4 of 5 quantile bins"
    with pytest.warns(UserWarning, match=match) as rec:
        out = scorer.fit_transform(data)
    message = str(rec[0].message)
    assert "scores 1, 2, 4, 5" in message
    assert "method='fixed'" in message and "fewer bins" in message
    assert len(rec) == 1  # R and M have distinct values: no warning for them
    assert scorer.n_bins_ == {"R": 5, "F": 4, "M": 5}
    np.testing.assert_array_equal(scorer.edges_["F"], [1.0, 2.0, 2.0, 3.0])
    assert out["f_score"].tolist() == [1] * 7 + [2, 2, 4, 5, 5]
    f = scorer.edges_report().query("dimension == 'F'")
    assert f["customers"].tolist() == [7, 2, 0, 1, 2]


def test_collapse_of_recency_warns_with_reversed_scores():
    data = pd.DataFrame(
        {
            # sorted: 0 x8, 5, 9, 20, 40 -> cuts 0, 0, 0, 9 -> bins <= 0, (0, 9], > 9
            "recency_days": [0] * 8 + [5, 9, 20, 40],
            "frequency": np.arange(1, 13),
            "monetary_total": np.arange(1, 13) * 10.0,
        },
        index=pd.Index([f"T{i:02d}" for i in range(12)], name="customer_id"),
    )
    with pytest.warns(UserWarning, match=r"'recency_days' \(R\) leave only 3 of 5 quantile bins"
                      r"; its customers get scores 1, 3, 5"):
        out = RFMScorer().fit_transform(data)
    assert out["r_score"].tolist() == [5] * 8 + [3, 3, 1, 1]


def test_collapse_spreads_r_and_f_alike():
    # bins=4, n=12: cuts are the 3rd, 6th, 9th smallest = 0, 0, 5 -> bins <= 0, (0, 5], > 5;
    # three surviving bins score 1, 3, 4 from worst to best in every dimension
    values = [0] * 8 + [5, 9, 20, 40]
    data = pd.DataFrame(
        {"recency_days": values, "frequency": values, "monetary_total": np.arange(12.0)},
        index=pd.Index([f"T{i:02d}" for i in range(12)], name="customer_id"),
    )
    with pytest.warns(UserWarning, match="3 of 4 quantile bins; its customers get scores 1, 3, 4"):
        out = RFMScorer(bins=4).fit_transform(data)
    assert out["f_score"].tolist() == [1] * 8 + [3, 4, 4, 4]
    assert out["r_score"].tolist() == [4] * 8 + [3, 1, 1, 1]


def test_single_value_scores_the_middle():
    data = pd.DataFrame(
        {"recency_days": [10] * 6, "frequency": [1] * 6, "monetary_total": [5.0] * 6},
        index=pd.Index(list("abcdef"), name="customer_id"),
    )
    with pytest.warns(UserWarning, match="1 of 4 quantile bins"):
        out = RFMScorer(bins=4).fit_transform(data)
    assert set(out["rfm_code"]) == {"222"}  # the middle score (bins + 1) // 2 in every dimension
    with pytest.warns(UserWarning, match="bins"):
        out = RFMScorer(bins=5).fit_transform(data)
    assert set(out["rfm_code"]) == {"333"}


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=40),
    bins=st.integers(min_value=3, max_value=5),
)
def test_scores_are_monotone_and_in_range(values, bins):
    n = len(values)
    data = pd.DataFrame(
        {"recency_days": values, "frequency": values, "monetary_total": np.array(values, float)},
        index=pd.Index([f"H{i}" for i in range(n)], name="customer_id"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scorer = RFMScorer(bins=bins).fit(data)
        out = scorer.transform(data)
    order = np.argsort(values, kind="stable")
    f = out["f_score"].to_numpy()[order]
    r = out["r_score"].to_numpy()[order]
    assert f.min() >= 1 and f.max() <= bins
    assert (np.diff(f) >= 0).all() and (np.diff(r) <= 0).all()
    assert scorer.n_bins_["F"] <= len(set(values))
    if scorer.n_bins_["F"] > 1:  # with at least two bins the extremes are 1 and bins
        assert f[0] == 1 and f[-1] == bins
        assert r[0] == bins and r[-1] == 1
    else:
        assert set(f) == set(r) == {(bins + 1) // 2}
    counts = scorer.edges_report().query("dimension == 'F'")["customers"]
    assert counts.sum() == n and (counts > 0).sum() == scorer.n_bins_["F"]


# ------------------------------------------------------------------------------------------
# parameters and the estimator contract
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bins", [2, 6, 0, 5.0, "5", True, None])
def test_invalid_bins(feats, bins):
    scorer = RFMScorer(bins=bins)  # __init__ stores only
    assert scorer.bins is bins
    with pytest.raises(ArgumentError, match="bins"):
        scorer.fit(feats)


def test_clone_and_set_params(feats):
    scorer = RFMScorer(bins=5).fit(feats)
    variant = clone(scorer).set_params(bins=3)
    assert not hasattr(variant, "edges_")
    assert scorer.get_params()["bins"] == 5
    out = variant.fit_transform(feats)
    assert set(out["f_score"]) == {1, 2, 3}
    assert variant.get_params() == {"bins": 3, "method": "quantile", "edges": None,
                                    "columns": None}
    fixed = clone(RFMScorer(method="fixed", edges=FIXED))
    assert fixed.get_params()["edges"] == FIXED


def test_transform_before_fit(feats):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RFMScorer().transform(feats)


@pytest.mark.parametrize(
    "change, match",
    [
        pytest.param(lambda df: df.drop(columns="frequency"), "'frequency' \\(F\\) is missing",
                     id="missing-column"),
        pytest.param(lambda df: df.assign(monetary_total=np.nan), "missing values",
                     id="nan"),
        pytest.param(lambda df: df.iloc[:0], "no customers", id="empty"),
        pytest.param(lambda df: df.assign(frequency="many"), "not numeric", id="text"),
    ],
)
def test_bad_data(feats, change, match):
    with pytest.raises(DataError, match=match):
        RFMScorer().fit(change(feats))
