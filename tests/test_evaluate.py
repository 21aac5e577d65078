"""Evaluation functions against hand calculations, pd.crosstab and naive loops."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tierlab.errors import ArgumentError, DataError
from tierlab.evaluate import (
    NONE_LABEL,
    concentration,
    holdout_validity,
    migration_matrix,
    stability,
    tier_summary,
)
from tierlab.tiers.engine import TierHistory
from tierlab.tiers.scheme import TierScheme

TIERS = ["Low", "Mid", "High", "Top"]
CAT = pd.CategoricalDtype(TIERS, ordered=True)


def tiers(mapping: dict[str, str | None], dtype=CAT) -> pd.Series:
    return pd.Series(list(mapping.values()), index=list(mapping), dtype=dtype)


def tx_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "timestamp": pd.to_datetime([r[1] for r in rows], format="mixed"),
        "amount": [float(r[2]) for r in rows],
    })


def tier_index(names=TIERS, dtype=CAT) -> pd.CategoricalIndex:
    return pd.CategoricalIndex(names, dtype=dtype, name="tier")


# ------------------------------------------------------------------ tier_summary
@pytest.fixture
def small_tx() -> pd.DataFrame:
    return tx_frame([
        ("a", "2025-01-10", 100), ("a", "2025-02-10", 200), ("a", "2025-03-05", -50),
        ("b", "2025-01-20", 40), ("b", "2025-03-31", 60),
        ("c", "2025-01-03", 0), ("c", "2025-02-01", 500), ("c", "2025-02-15", 700),
        ("c", "2025-03-20", 300),
        ("d", "2025-03-01", 80),
        ("f", "2025-01-05", 999),   # not in the assignment
        ("g", "2025-02-02", 10),    # no tier (NaN)
    ])


@pytest.fixture
def small_assignment() -> pd.Series:
    return tiers({"a": "Mid", "b": "Low", "c": "High", "d": "Low", "e": "Low", "g": None})


def test_tier_summary_by_hand(small_tx, small_assignment):
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e", "f"],
                              "satisfaction": [4.0, 3.0, 5.0, np.nan, 2.0, 1.0]})
    tx_before = small_tx.copy()
    got = tier_summary(small_assignment, small_tx, customers=customers)
    # Low: b (100, 2 orders, recency 0), d (80, 1, 30), e (no purchases); Mid: a (250, 2 purchase
    # rows, last purchase Feb 10 → 49 days); High: c (1500, 4 rows incl. a zero one, 11 days)
    total = 180 + 250 + 1500
    expected = pd.DataFrame({
        "customers": np.array([3, 1, 1, 0], dtype=np.int64),
        "share": [0.6, 0.2, 0.2, 0.0],
        "revenue": [180.0, 250.0, 1500.0, 0.0],
        "revenue_share": [180 / total, 250 / total, 1500 / total, 0.0],
        "mean_spend": [60.0, 250.0, 1500.0, np.nan],
        "mean_orders": [1.0, 2.0, 4.0, np.nan],
        "mean_recency_days": [15.0, 49.0, 11.0, np.nan],
        "mean_satisfaction": [2.5, 4.0, 5.0, np.nan],
    }, index=tier_index())
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(small_tx, tx_before)


def test_tier_summary_window(small_tx, small_assignment):
    got = tier_summary(small_assignment, small_tx, start="2025-02-01", end="2025-02-28")
    # February only; recency as of Feb 28 on all data up to then (d and e: no purchase yet)
    expected = pd.DataFrame({
        "customers": np.array([3, 1, 1, 0], dtype=np.int64),
        "share": [0.6, 0.2, 0.2, 0.0],
        "revenue": [0.0, 200.0, 1200.0, 0.0],
        "revenue_share": [0.0, 200 / 1400, 1200 / 1400, 0.0],
        "mean_spend": [0.0, 200.0, 1200.0, np.nan],
        "mean_orders": [0.0, 1.0, 2.0, np.nan],
        "mean_recency_days": [39.0, 18.0, 13.0, np.nan],
    }, index=tier_index())
    pd.testing.assert_frame_equal(got, expected)


def test_tier_summary_plain_series_sorted_order(small_tx):
    got = tier_summary(pd.Series({"a": "y", "b": "x"}), small_tx)
    assert list(got.index) == ["x", "y"]
    assert got["revenue"].tolist() == [100.0, 250.0]


def test_tier_summary_rejects_duplicate_ids(small_tx):
    with pytest.raises(DataError, match="unique"):
        tier_summary(pd.Series(["Low", "Mid"], index=["a", "a"], dtype=CAT), small_tx)


# ------------------------------------------------------------------ migration_matrix
def crosstab_reference(a: pd.Series, b: pd.Series, normalize=None) -> pd.DataFrame:
    ids = a.dropna().index.union(b.dropna().index)
    fa = a.reindex(ids).astype(object).where(a.reindex(ids).notna(), NONE_LABEL)
    fb = b.reindex(ids).astype(object).where(b.reindex(ids).notna(), NONE_LABEL)
    kw = {} if normalize is None else {"normalize": {"row": "index", "all": "all"}[normalize]}
    ct = pd.crosstab(fa.rename("from"), fb.rename("to"), **kw)
    rows = pd.Index([*a.cat.categories, NONE_LABEL], dtype=object, name="from")
    cols = pd.Index([*b.cat.categories, NONE_LABEL], dtype=object, name="to")
    return ct.reindex(index=rows, columns=cols, fill_value=0)


@pytest.fixture
def two_assignments() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(7)
    ids = [f"C{i:03d}" for i in range(60)]
    a = pd.Series(rng.choice(TIERS[:3], 60), index=ids, dtype=CAT)  # Top never used in a
    cat_b = pd.CategoricalDtype(["Bronze", "Silver", "Gold"], ordered=True)
    b = pd.Series(rng.choice(["Bronze", "Silver", "Gold"], 60), index=ids, dtype=cat_b)
    a = a.drop(ids[:5])          # C000–C004 only in b
    b = b.drop(ids[50:55])       # C050–C054 only in a
    b.iloc[-1] = np.nan          # C059: no tier in b → counts as only in a
    b = pd.concat([b, pd.Series(["Gold"], index=["NEW"], dtype=cat_b)])
    return a, b


@pytest.mark.parametrize("normalize", [None, "row", "all"], ids=["counts", "row", "all"])
def test_migration_matrix_matches_crosstab(two_assignments, normalize):
    a, b = two_assignments
    got = migration_matrix(a, b, normalize=normalize)
    expected = crosstab_reference(a, b, normalize)
    if normalize is None:
        expected = expected.astype(np.int64)
    else:
        expected = expected.astype(float)
    pd.testing.assert_frame_equal(got, expected)
    assert got.loc[NONE_LABEL, NONE_LABEL] == 0
    if normalize is None:
        assert got.loc[NONE_LABEL].sum() == 6           # C000–C004 and NEW
        assert got[NONE_LABEL].sum() == 6               # C050–C054 and C059
        assert got.loc["Top"].sum() == 0                # empty tier kept as a row of zeros
        assert got.to_numpy().sum() == 61
    if normalize == "row":
        sums = got.sum(axis=1)
        assert np.allclose(sums.drop("Top"), 1.0) and sums["Top"] == 0


def test_migration_matrix_by_hand():
    cat = pd.CategoricalDtype(["Low", "High"], ordered=True)
    a = pd.Series(["Low", "High", "High"], index=["x", "y", "z"], dtype=cat)
    b = pd.Series(["High", "High", "Low"], index=["x", "y", "w"], dtype=cat)
    got = migration_matrix(a, b)
    assert got.to_numpy().tolist() == [[0, 1, 0], [0, 1, 1], [1, 0, 0]]
    assert got.index.name == "from" and got.columns.name == "to"
    with pytest.raises(ArgumentError, match="normalize"):
        migration_matrix(a, b, normalize="index")


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


# ------------------------------------------------------------------ concentration
def textbook_gini(x: np.ndarray) -> float:
    x = np.clip(np.asarray(x, dtype=float), 0, None)
    n = len(x)
    mad = sum(abs(xi - xj) for xi in x for xj in x) / n**2
    return mad / (2 * x.mean())


def test_gini_five_values():
    values = pd.Series([3.0, 10.0, 1.0, 4.0, 2.0], index=list("abcde"))
    c = concentration(values)
    assert c.gini == pytest.approx(textbook_gini(values.to_numpy()))
    assert c.gini == pytest.approx(0.4)  # Σ|xi−xj| = 80 over ordered pairs; 80 / (2·25·4)
    expected = pd.DataFrame({"customer_share": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
                             "revenue_share": [0.0, 0.05, 0.15, 0.30, 0.50, 1.0]})
    pd.testing.assert_frame_equal(c.lorenz, expected)
    # 1 − 2 × area under the Lorenz curve (trapezoids) is the same coefficient
    lz = c.lorenz
    area = (np.diff(lz["customer_share"]) * (lz["revenue_share"].to_numpy()[1:]
                                            + lz["revenue_share"].to_numpy()[:-1]) / 2).sum()
    assert 1 - 2 * area == pytest.approx(c.gini)


@pytest.mark.parametrize("values", [[5.0] * 7, [0.0] * 4, [123.4]], ids=["equal", "zeros", "one"])
def test_gini_zero_for_equal_values(values):
    c = concentration(values)
    assert c.gini == pytest.approx(0.0)
    assert c.lorenz.iloc[0].tolist() == [0.0, 0.0]
    assert c.lorenz.iloc[-1].tolist() == [1.0, 1.0]


def test_gini_clips_negatives_and_top_share():
    c = concentration(np.array([-5.0, 0.0, 5.0]))
    assert c.clipped == 1
    assert c.gini == pytest.approx(textbook_gini([0.0, 0.0, 5.0]))
    assert c.gini == pytest.approx(2 / 3)
    c = concentration([1.0, 2.0, 3.0, 4.0, 10.0], top=(0.2, 0.4, 0.5, 1.0))
    # ceil(p·n) customers: 1, 2, 3 (2.5 rounds up), 5
    assert c.top_share == pytest.approx({0.2: 0.5, 0.4: 0.7, 0.5: 0.85, 1.0: 1.0})
    with pytest.raises(ArgumentError, match="top"):
        concentration([1.0, 2.0], top=(0.0,))


def test_concentration_tier_share():
    values = pd.Series({"a": 10.0, "b": 30.0, "c": 60.0, "d": -10.0})
    t = tiers({"c": "High", "a": "Low", "b": "Low", "d": "Mid"})
    c = concentration(values, tiers=t)
    expected = pd.Series([0.4, 0.0, 0.6, 0.0], index=tier_index(), name="revenue_share")
    pd.testing.assert_series_equal(c.tier_share, expected)
    d = c.to_dict()
    assert d["tier_share"] == {"Low": 0.4, "Mid": 0.0, "High": 0.6, "Top": 0.0}
    json.dumps(d, allow_nan=False)


# ------------------------------------------------------------------ holdout_validity
def average_ranks(x) -> np.ndarray:
    x = list(x)
    ranks = []
    for v in x:
        below = sum(1 for w in x if w < v)
        equal = sum(1 for w in x if w == v)
        ranks.append(below + (equal + 1) / 2)
    return np.array(ranks)


@pytest.fixture
def holdout_tx() -> pd.DataFrame:
    return tx_frame([
        ("a", "2025-06-30 18:00", 500), ("a", "2025-07-01 00:00", 10),
        ("c", "2025-08-01", 100), ("c", "2025-09-01", -20),
        ("d", "2025-10-01", -30),                       # return only: no purchase
        ("e", "2025-12-31 23:00", 400),                 # last day counts
        ("f", "2025-11-11", 200), ("f", "2026-01-01", 999),
        ("x", "2025-08-08", 5000),                      # no tier: not scored
    ])


def test_holdout_validity_by_hand(holdout_tx):
    assignment = tiers({"a": "Low", "b": "Low", "c": "Mid", "d": "Mid", "e": "High",
                        "f": "High", "z": None})
    v = holdout_validity(assignment, holdout_tx, "2025-07-01", "2025-12-31")
    # spend: a 10, b 0, c 80, d -30, e 400, f 200 → total 660, mean 110
    expected = pd.DataFrame({
        "customers": np.array([2, 2, 2, 0], dtype=np.int64),
        "holdout_spend": [10.0, 50.0, 600.0, 0.0],
        "holdout_spend_mean": [5.0, 25.0, 300.0, np.nan],
        "purchase_rate": [0.5, 0.5, 1.0, np.nan],
        "lift": [5 / 110, 25 / 110, 300 / 110, np.nan],
        "cumulative_customer_share": [1.0, 4 / 6, 2 / 6, 0.0],
        "cumulative_spend_share": [1.0, 650 / 660, 600 / 660, 0.0],
    }, index=tier_index())
    pd.testing.assert_frame_equal(v.per_tier, expected)
    rank_tier = average_ranks([0, 0, 1, 1, 2, 2])
    rank_spend = average_ranks([10, 0, 80, -30, 400, 200])
    assert v.spearman == pytest.approx(np.corrcoef(rank_tier, rank_spend)[0, 1])
    assert v.spearman == pytest.approx(stats.pearsonr(rank_tier, rank_spend).statistic)
    assert 0 < v.spearman_pvalue < 1
    assert v.ordered is True
    assert np.isnan(v.top_tier_lift)            # Top is empty
    assert v.customers == 6
    d = v.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["per_tier"]["High"]["customers"] == 2 and d["start"] == "2025-07-01"


@pytest.mark.parametrize(("tier_codes", "spend", "ordered"), [
    ([0, 0, 1, 1, 2, 2], [1, 2, 5, 6, 9, 9], True),
    ([0, 0, 1, 1, 2, 2], [1, 2, 9, 9, 5, 6], False),       # Mid above High
    ([0, 1, 2], [4, 4, 9], False),                          # a tie is not a rise
    ([0, 0, 2], [1, 3, 5], True),                           # empty Mid is skipped
    ([1, 1, 1], [1, 2, 3], False),                          # one tier: nothing to order
    ([2, 1, 0], [1, 2, 3], False),                          # reversed
], ids=["rising", "mid-above-high", "tie", "empty-mid", "one-tier", "reversed"])
def test_holdout_validity_ordered_flag(tier_codes, spend, ordered):
    cat = pd.CategoricalDtype(["Low", "Mid", "High"], ordered=True)
    ids = [f"c{i}" for i in range(len(spend))]
    assignment = pd.Series(pd.Categorical.from_codes(tier_codes, dtype=cat), index=ids)
    tx = tx_frame([(cid, "2025-09-01", s) for cid, s in zip(ids, spend, strict=True)])
    v = holdout_validity(assignment, tx, "2025-07-01", "2025-12-31")
    assert v.ordered is ordered
    rho = np.corrcoef(average_ranks(tier_codes), average_ranks(spend))[0, 1] \
        if len(set(tier_codes)) > 1 else np.nan
    assert v.spearman == pytest.approx(rho, nan_ok=True)


def test_holdout_validity_bad_dates(holdout_tx):
    with pytest.raises(DataError, match="after end"):
        holdout_validity(tiers({"a": "Low"}), holdout_tx, "2025-12-31", "2025-07-01")
