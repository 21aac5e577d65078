"""Tests of :mod:`tierlab.scoring.segments`: segment maps and named segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scoring_helpers import hand_features

from tierlab.errors import DataError, SchemeError
from tierlab.scoring import DEFAULT_SEGMENTS, RFMScorer, assign_segments, segment_map


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


def test_assign_segments_end_to_end():
    feats = hand_features()
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
