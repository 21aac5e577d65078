"""Tests of :mod:`tierlab.evaluate.summary`: tier summary and migration matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from eval_helpers import CAT, TIERS, tier_index, tiers, tx_frame

from tierlab.errors import ArgumentError, DataError
from tierlab.evaluate import (
    NONE_LABEL,
    migration_matrix,
    tier_summary,
)


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


def test_tier_summary_takes_the_features_at_hand():
    """features=rfm(tx, as_of) gives the same summary as computing them."""
    import tierlab as tl

    tx, customers = tl.generate(150, months=6, seed=2)
    tiers = tl.TierScheme.from_yaml("data/rules/monthly_spend.yaml").run(tx).current["tier"]
    as_of = tx["timestamp"].max().normalize() + pd.Timedelta(days=10)
    plain = tier_summary(tiers, tx, customers=customers, as_of=as_of)
    given = tier_summary(tiers, tx, customers=customers, as_of=as_of,
                         features=tl.rfm(tx, as_of=as_of))
    pd.testing.assert_frame_equal(given, plain)
    assert plain["customers"].sum() == tiers.notna().sum()
