"""Tests of :mod:`tierlab.evaluate.movement`: tier stability."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from eval_helpers import tx_frame

from tierlab.errors import ArgumentError
from tierlab.evaluate import stability
from tierlab.tiers.history import TierHistory
from tierlab.tiers.scheme import TierScheme


# ------------------------------------------------------------------ stability
def history_from_codes(codes: np.ndarray, review: str = "monthly") -> TierHistory:
    scheme = TierScheme.from_dict({"name": "t", "review": review, "tiers": [
        {"name": "Low"},
        {"name": "Mid", "when": {"metric": "spend", "op": ">=", "value": 100}},
        {"name": "High", "when": {"metric": "spend", "op": ">=", "value": 500}}]})
    n, r = codes.shape
    freq = {"monthly": "ME", "quarterly": "QE"}[review]
    reviews = pd.date_range("2025-01-31", periods=r, freq=freq)
    ids = pd.Index([f"c{i + 1}" for i in range(n)], name="customer_id")
    return TierHistory(scheme, ids, reviews, codes.astype(np.int8), codes.astype(np.int8),
                       pd.DataFrame())


HAND_CODES = np.array([
    [0, 0, 0, 0, 0, 0, 0, 0],           # c1: never changes
    [0, 1, 0, 0, 0, 0, 0, 0],           # c2: up then straight back → flicker (gap 1)
    [-1, -1, 1, 1, 2, 2, 2, 1],         # c3: enters at 2; up at 4, back at 7 (gap 3)
    [2, 1, 0, 0, 0, 0, 1, 1],           # c4: down, down, up at 6: 1→0→1 with gap 4
    [-1, -1, -1, -1, -1, -1, -1, 0],    # c5: enters at the last review
    [1, 2, 2, 0, 0, 0, 0, 0],           # c6: 1→2→0 is not A→B→A
])


def test_stability_by_hand():
    st = stability(history_from_codes(HAND_CODES))
    expected = pd.DataFrame({
        "review": pd.date_range("2025-02-28", periods=7, freq="ME"),
        "customers": np.array([4, 4, 5, 5, 5, 5, 5], dtype=np.int64),
        "changed": np.array([3, 2, 1, 1, 0, 1, 1], dtype=np.int64),
        "share_changed": [3 / 4, 2 / 4, 1 / 5, 1 / 5, 0.0, 1 / 5, 1 / 5],
        "up": np.array([2, 0, 0, 1, 0, 1, 0], dtype=np.int64),
        "down": np.array([1, 2, 1, 0, 0, 0, 1], dtype=np.int64),
    })
    pd.testing.assert_frame_equal(st.per_review, expected)
    assert st.changes == 9
    assert st.changes_per_customer_year == pytest.approx(9 / 33 * 12)
    assert st.customers == 6
    assert st.flicker_customers == 2                     # c2, c3
    assert st.flicker_rate == pytest.approx(2 / 6)
    assert st.mean_reviews_in_tier == pytest.approx(39 / 15)   # reviews held / (6 + 9) stays
    json.dumps(st.to_dict(), allow_nan=False)


@pytest.mark.parametrize(("window", "flickering"), [(1, 1), (2, 1), (3, 2), (4, 3), (10, 3)])
def test_stability_flicker_window(window, flickering):
    st = stability(history_from_codes(HAND_CODES), flicker_window=window)
    assert st.flicker_customers == flickering


def test_stability_quarterly_annualizes_by_four():
    st = stability(history_from_codes(HAND_CODES, review="quarterly"))
    assert st.changes_per_customer_year == pytest.approx(9 / 33 * 4)


def naive_flicker(codes: np.ndarray, window: int) -> int:
    count = 0
    for row in codes:
        changes = [(j, row[j - 1], row[j]) for j in range(1, len(row))
                   if row[j - 1] >= 0 and row[j] != row[j - 1]]
        if any(c2[2] == c1[1] and c2[0] - c1[0] <= window
               for c1, c2 in zip(changes, changes[1:], strict=False)):
            count += 1
    return count


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stability_flicker_matches_naive_loop(seed):
    rng = np.random.default_rng(seed)
    n, r = 80, 15
    codes = rng.choice(3, size=(n, r), p=[0.5, 0.3, 0.2])
    stay = rng.random((n, r)) < 0.6           # make runs: keep the previous tier often
    for j in range(1, r):
        codes[:, j] = np.where(stay[:, j], codes[:, j - 1], codes[:, j])
    entry = rng.integers(0, r, n)
    codes[np.arange(r)[None, :] < entry[:, None]] = -1
    for window in (1, 3, 5):
        st = stability(history_from_codes(codes), flicker_window=window)
        assert st.flicker_customers == naive_flicker(codes, window)


def test_stability_agrees_with_engine_change_log():
    rows = []
    spends = {"u": [600, 600, 600, 50, 50, 600, 50, 50, 50, 50],
              "v": [120, 0, 130, 0, 0, 0, 140, 150, 0, 0],
              "w": [0, 0, 0, 700, 20, 700, 20, 700, 700, 700]}
    for cid, values in spends.items():
        for i, amount in enumerate(values):
            if amount:
                rows.append((cid, f"2025-{i + 1:02d}-15", amount))
    scheme = TierScheme.from_dict({"name": "s", "tiers": [
        {"name": "Low"},
        {"name": "Mid", "when": {"metric": "spend", "op": ">=", "value": 100}},
        {"name": "High", "when": {"metric": "spend", "op": ">", "value": 500}}],
        "policy": {"demote_after": 2}})
    hist = scheme.run(tx_frame(rows))
    st = stability(hist)
    log = hist.changes[hist.changes["direction"] != "new"]
    assert st.changes == len(log) > 0
    by_review = log.groupby(["review", "direction"]).size().unstack(fill_value=0)
    by_review = by_review.reindex(st.per_review["review"], fill_value=0)
    assert st.per_review["up"].tolist() == by_review.get("up", 0 * by_review.iloc[:, 0]).tolist()
    assert st.per_review["down"].tolist() == by_review["down"].tolist()


def test_stability_rejects_bad_window():
    with pytest.raises(ArgumentError, match="flicker_window"):
        stability(history_from_codes(HAND_CODES), flicker_window=0)
