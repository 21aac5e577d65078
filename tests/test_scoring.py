from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from tierlab.errors import ArgumentError, DataError, SchemeError
from tierlab.scoring import DEFAULT_SEGMENTS, RFMScorer, assign_segments, segment_map

INF = np.inf


@pytest.fixture
def feats() -> pd.DataFrame:
    """Twelve customers with distinct values in every dimension (hand-calculable)."""
    ids = pd.Index([f"C{i:02d}" for i in range(1, 13)], name="customer_id")
    return pd.DataFrame(
        {
            "recency_days": [3, 10, 45, 7, 120, 60, 1, 200, 30, 90, 15, 365],
            "frequency": [12, 2, 3, 8, 1, 5, 20, 4, 6, 9, 15, 7],
            "monetary_total": [1500.0, 80.0, 300.0, 900.0, 50.0, 420.0, 5000.0, 120.0, 610.0,
                               700.0, 2500.0, 200.0],
            "monetary_mean": [125.0, 40.0, 100.0, 112.5, 50.0, 84.0, 250.0, 30.0, 101.7, 77.8,
                              166.7, 28.6],
        },
        index=ids,
    )


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


# ------------------------------------------------------------------------------------------
# segments
# ------------------------------------------------------------------------------------------
def covering(mapping, **cell) -> list[str]:
    """Brute force: the segments whose ranges contain *cell* (a missing key = any score)."""
    names = []
    for name, rule in mapping.items():
        ranges = {k: (v, v) if isinstance(v, int) else v for k, v in rule.items()}
        if all(lo <= cell[k] <= hi for k, (lo, hi) in ranges.items()):
            names.append(name)
    return names


def test_default_segments_cover_every_cell_once():
    for r in range(1, 6):
        for fm in range(1, 6):
            assert len(covering(DEFAULT_SEGMENTS, r=r, fm=fm)) == 1, (r, fm)
    table = segment_map()
    assert len(table) == 25 and table.index.names == ["r", "fm"]
    for (r, fm), name in table.items():
        assert covering(DEFAULT_SEGMENTS, r=r, fm=fm) == [name]
    assert list(table.cat.categories) == list(DEFAULT_SEGMENTS)


def test_default_grid_corners():
    grid = segment_map().unstack()
    assert grid.loc[5, 5] == "Champions"
    assert grid.loc[5, 1] == "New"
    assert grid.loc[1, 1] == "Lost"
    assert grid.loc[1, 5] == "Can't lose"


def test_gap_lists_uncovered_codes():
    mapping = {k: v for k, v in DEFAULT_SEGMENTS.items() if k != "Lost"}
    with pytest.raises(SchemeError, match=r"2 \(r, fm\) codes uncovered: 11, 12"):
        segment_map(mapping)


def test_overlap_names_code_and_segments():
    mapping = {**DEFAULT_SEGMENTS, "Loyal": {"r": [3, 5], "fm": [4, 5]}}
    with pytest.raises(SchemeError) as info:
        segment_map(mapping)
    message = str(info.value)
    assert "54 is in both 'Champions' and 'Loyal'" in message
    assert "55 is in both 'Champions' and 'Loyal'" in message


@pytest.mark.parametrize(
    "mapping, match",
    [
        pytest.param({}, "non-empty", id="empty"),
        pytest.param({"All": {"r": [1, 5], "fmm": [1, 5]}}, "unknown key 'fmm'.*did you mean 'fm'",
                     id="key"),
        pytest.param({"All": {"r": [1, 6], "fm": [1, 5]}}, "<= 5", id="out-of-range"),
        pytest.param({"All": {"r": [4, 2]}}, "low <= high", id="reversed"),
        pytest.param({"All": {"r": "1-5"}}, "range", id="string"),
        pytest.param({"All": [1, 5]}, "expected a dict", id="not-a-dict"),
    ],
)
def test_malformed_segment_maps(mapping, match):
    with pytest.raises(SchemeError, match=match):
        segment_map(mapping)


def random_scores(n: int = 300, bins: int = 5, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.integers(1, bins + 1, size=(n, 3)),
        columns=["r_score", "f_score", "m_score"],
        index=pd.Index([f"S{i:04d}" for i in range(n)], name="customer_id"),
    )


def test_assign_segments_matches_naive_loop():
    scored = random_scores()
    got = assign_segments(scored)
    expected = []
    for _, row in scored.iterrows():
        f, m = row["f_score"], row["m_score"]
        fm = int(f + m + 1) // 2  # mean of F and M rounded half up
        (name,) = covering(DEFAULT_SEGMENTS, r=row["r_score"], fm=fm)
        expected.append(name)
    assert got.name == "segment"
    assert got.index.equals(scored.index)
    assert got.astype(str).tolist() == expected
    assert list(got.cat.categories) == list(DEFAULT_SEGMENTS)


def test_assign_segments_three_dimensional_map():
    mapping = {
        "Big": {"m": [3, 3]},
        "Small, frequent": {"m": [1, 2], "f": [2, 3]},
        "Small, recent once": {"m": [1, 2], "f": 1, "r": [2, 3]},
        "Small, gone": {"m": [1, 2], "f": 1, "r": 1},
    }
    table = segment_map(mapping, bins=3)
    assert table.index.names == ["r", "f", "m"] and len(table) == 27
    scored = random_scores(n=120, bins=3, seed=5)
    got = assign_segments(scored, mapping, bins=3)
    expected = [
        covering(mapping, r=r, f=f, m=m)[0]
        for r, f, m in scored[["r_score", "f_score", "m_score"]].itertuples(index=False)
    ]
    assert got.astype(str).tolist() == expected


def test_three_dimensional_gap_names_rfm_codes():
    mapping = {"Big": {"m": [3, 3]}, "Small, frequent": {"m": [1, 2], "f": [2, 3]}}
    with pytest.raises(SchemeError, match=r"\(r, f, m\) codes uncovered: 111, 112, 211"):
        segment_map(mapping, bins=3)


def test_assign_segments_end_to_end(feats):
    scored = RFMScorer().fit_transform(feats)
    seg = assign_segments(scored)
    assert seg["C07"] == "Champions"  # 555
    assert seg["C08"] == "Lost"  # r=1, fm=(2+1+1)//2=2
    assert seg["C10"] == "At risk"  # r=2, fm=(4+3+1)//2=4


@pytest.mark.parametrize(
    "change, match",
    [
        pytest.param(lambda df: df.drop(columns="m_score"), "'m_score' is missing", id="missing"),
        pytest.param(lambda df: df.assign(r_score=6), "1..5", id="out-of-range"),
        pytest.param(lambda df: df.assign(f_score=np.nan), "1..5", id="nan"),
    ],
)
def test_assign_segments_bad_scores(change, match):
    with pytest.raises(DataError, match=match):
        assign_segments(change(random_scores(n=10)))


def test_default_segments_need_five_bins():
    with pytest.raises(SchemeError, match="bins=3"):
        assign_segments(random_scores(n=10, bins=3), bins=3)
