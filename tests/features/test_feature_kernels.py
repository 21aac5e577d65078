"""The private kernels behind the features: each branch against the plain pandas computation.

``tierlab._kernels.groupby`` (distinct counts: flags, bits, hashing, row blocks),
``tierlab._kernels.factorize`` (Arrow keys, fallbacks, the one-entry weak cache),
``tierlab._kernels.arrowkeys`` (hashing in two halves) and ``tierlab._kernels.memory``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from features_reference import (
    assert_same,
    random_ids,
    random_tx,
    ref_btyd_summary,
    ref_period_panel,
    ref_rfm,
)

import tierlab.calendar as C
from tierlab._kernels import groupby as G
from tierlab._kernels.factorize import factorize
from tierlab._kernels.memory import release_unused, system_memory_pool
from tierlab.features import btyd_summary, period_panel, rfm

# --------------------------------------------------------------------------- groupby


def _with_min_cells(func, branch):
    """Force a branch of distinct_counts by shrinking its size limits for one call."""
    def wrapped(codes, values, n, n_values):
        flag, bits = G.FLAG_CELLS_PER_ROW, G.BIT_BYTES_PER_ROW
        small = 1 << 24
        try:
            G.FLAG_CELLS_PER_ROW = 0
            G.BIT_BYTES_PER_ROW = 0 if branch == "hash" else bits
            # the 2**24 floor would still pick flags on small data: scale n_values up instead
            floor = small * 8 if branch == "hash" else small
            scale = floor // max(n * n_values, 1) + 1
            return func(codes, values * scale, n, n_values * scale)
        finally:
            G.FLAG_CELLS_PER_ROW, G.BIT_BYTES_PER_ROW = flag, bits
    return wrapped


@pytest.mark.parametrize("branch", ["bits", "hash", "blocks"])
def test_distinct_count_branches_agree(monkeypatch, branch):
    tx = random_tx(7, order_id=True, n_rows=5000, n_customers=500)
    if branch == "bits":  # no flag arrays: (customer, value) cells as bits
        monkeypatch.setattr(G, "FLAG_CELLS_PER_ROW", 0)
        monkeypatch.setattr(G, "distinct_counts", _with_min_cells(G.distinct_counts, "bits"))
    elif branch == "hash":
        monkeypatch.setattr(G, "distinct_counts", _with_min_cells(G.distinct_counts, "hash"))
    else:  # many tiny row blocks, in the kernels and in the calendar's in-place month numbers
        monkeypatch.setattr(G, "BLOCK", 7)
        monkeypatch.setattr(C, "_BLOCK", 7)
    assert_same(rfm(tx), ref_rfm(tx))
    assert_same(btyd_summary(tx), ref_btyd_summary(tx))
    assert_same(period_panel(tx, "Q"), ref_period_panel(tx, "Q"))


def test_distinct_counts_each_branch_directly(monkeypatch):
    rng = np.random.default_rng(11)
    n, n_values = 50, 40
    codes = rng.integers(0, n, 2000).astype(np.intp)
    values = rng.integers(0, n_values, 2000)
    expected = (pd.DataFrame({"c": codes, "v": values}).drop_duplicates()
                .groupby("c").size().reindex(range(n), fill_value=0).to_numpy())
    np.testing.assert_array_equal(G.distinct_counts(codes, values, n, n_values), expected)
    for cells in (100, 40, 1):  # flags over ranges of groups: 2 groups, 1 group a pass
        monkeypatch.setattr(G, "FLAG_PASS_CELLS", cells)
        np.testing.assert_array_equal(G.distinct_counts(codes, values, n, n_values), expected)
    monkeypatch.undo()
    monkeypatch.setattr(G, "BLOCK", 64)
    big = 1 << 25  # past the 2**24 floor: bits, then hashing
    np.testing.assert_array_equal(G.distinct_counts(codes, values * (big // 40), n, big),
                                  expected)
    monkeypatch.setattr(G, "BIT_BYTES_PER_ROW", 0)
    np.testing.assert_array_equal(G.distinct_counts(codes, values * (big * 8 // 40), n,
                                                    big * 8), expected)


def test_min_max_marks_empty_groups():
    codes = np.array([0, 0, 2], dtype=np.intp)
    lo, hi = G.min_max(codes, np.array([5, 3, 9], dtype=np.int32), 3)
    assert lo.tolist() == [3, G.BIG, 9]
    assert hi.tolist() == [5, -G.BIG, 9]


def test_order_counts_against_drop_duplicates():
    rng = np.random.default_rng(2)
    group = rng.integers(0, 30, 1000).astype(np.intp)
    purchase = rng.random(1000) < 0.9
    oid = pd.Series(pd.array([f"o{v}" for v in rng.integers(0, 200, 1000)], dtype="str"))
    oid[rng.random(1000) < 0.1] = None
    p = pd.DataFrame({"g": group, "o": oid})[purchase]
    expected = (p.dropna().drop_duplicates().groupby("g").size()
                .add(p[p["o"].isna()].groupby("g").size(), fill_value=0)
                .reindex(range(30), fill_value=0).to_numpy())
    np.testing.assert_array_equal(G.order_counts(purchase, oid, group, 30), expected)
    # bins: each group's count added to its bin (here: group // 10)
    binned = G.order_counts(purchase, oid, group, 30, bins=group // 10, n_bins=3)
    np.testing.assert_array_equal(binned, expected.reshape(3, 10).sum(axis=1))


# --------------------------------------------------------------------------- factorize


@pytest.mark.parametrize("kind", ["fixed", "digits", "long", "mixed"])
def test_factorize_matches_pandas(kind):
    rng = np.random.default_rng(5)
    ids = random_ids(rng, 400, kind)
    values = [ids[i] for i in rng.integers(0, len(ids), 3000)]
    for s in (pd.Series(values, dtype="str"),
              pd.Series(values, dtype=pd.ArrowDtype(pa.string())),
              pd.Series(np.array(values, dtype=object), dtype=object)):
        codes, uniques = factorize(s)
        ref_codes, ref_uniques = pd.factorize(s, sort=True)
        np.testing.assert_array_equal(codes, ref_codes)
        pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)
        keep = rng.random(len(s)) < 0.3
        codes, uniques = factorize(s, keep)
        ref_codes, ref_uniques = pd.factorize(s[keep], sort=True)
        np.testing.assert_array_equal(codes, ref_codes)
        pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)
        codes, uniques = factorize(s, sort=False)
        ref_codes, ref_uniques = pd.factorize(s, sort=False)
        np.testing.assert_array_equal(codes, ref_codes)
        pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)


def test_factorize_odd_values_fall_back_and_agree():
    odd = [
        ["a\x00b", "a", "a\x00b", ""],  # NUL bytes: cannot be zero-padded keys
        ["x" * 40, "x" * 39, "y", "x" * 40],  # longer than the widest key
        ["", "", "b", ""],  # empty strings
        ["b", None, "a", "b"],  # missing values
    ]
    for values in odd:
        s = pd.Series(values, dtype="str")
        codes, uniques = factorize(s)
        ref_codes, ref_uniques = pd.factorize(s, sort=True)
        np.testing.assert_array_equal(codes, ref_codes)
        pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)


def test_chunked_arrow_column():
    tx = pd.concat([random_tx(8, n_rows=500), random_tx(9, n_rows=700)], ignore_index=True)
    assert tx["customer_id"].array.__arrow_array__().num_chunks == 2
    codes, uniques = factorize(tx["customer_id"])
    ref_codes, ref_uniques = pd.factorize(tx["customer_id"], sort=True)
    np.testing.assert_array_equal(codes, ref_codes)
    pd.testing.assert_index_equal(uniques, pd.Index(ref_uniques), exact=True)
    assert_same(rfm(tx), ref_rfm(tx))


def test_cache_hits_only_the_same_arrow_column():
    tx = pd.DataFrame({"customer_id": pd.array(["b", "a", "b", "c"], dtype="str"),
                       "timestamp": pd.to_datetime(["2025-01-01"] * 4),
                       "amount": [1.0, 2.0, 3.0, 4.0]})
    codes1, ids1 = factorize(tx["customer_id"])
    codes2, ids2 = factorize(tx["customer_id"])
    assert codes1.tolist() == codes2.tolist() == [1, 0, 1, 2]
    tx.loc[1, "customer_id"] = "z"  # pandas swaps in a new Arrow array
    codes3, ids3 = factorize(tx["customer_id"])
    assert list(ids3) == ["b", "c", "z"] and codes3.tolist() == [0, 2, 0, 1]


def test_results_do_not_depend_on_what_was_factorized_before():
    rng = np.random.default_rng(0)
    tx = pd.DataFrame({"customer_id": pd.array(rng.choice(list("abcdef"), 200), dtype="str"),
                       "timestamp": pd.Timestamp("2025-01-01")
                       + pd.to_timedelta(rng.integers(0, 300, 200), "D"),
                       "amount": rng.gamma(1.0, 50.0, 200)})
    fresh = rfm(tx.copy(deep=True))
    period_panel(tx)  # primes the cache with tx's id column
    pd.testing.assert_frame_equal(rfm(tx), fresh)
    other = tx.assign(customer_id=pd.array(np.where(tx["customer_id"] == "a", "q", "r"),
                                           dtype="str"))
    assert set(rfm(other).index) == {"q", "r"}


def test_editing_returned_codes_does_not_touch_the_cache():
    s = pd.Series(pd.array(["x", "y", "x"], dtype="str"))
    for sort in (False, True):
        codes, _ = factorize(s, sort=sort)
        codes[0] = 5
        again, _ = factorize(s, sort=sort)
        assert again.tolist() == [0, 1, 0]


# --------------------------------------------------------------------------- memory


def test_system_memory_pool_is_scoped():
    before = pa.default_memory_pool().backend_name
    with system_memory_pool():
        assert pa.default_memory_pool().backend_name == "system"
        release_unused()
    assert pa.default_memory_pool().backend_name == before
    with pytest.raises(RuntimeError), system_memory_pool():  # restored on errors too
        raise RuntimeError
    assert pa.default_memory_pool().backend_name == before


# --------------------------------------------------------------------------- blocked kernels


def test_blocked_counts_sums_and_min_max_equal_one_pass(monkeypatch):
    # read-only int32 codes, as the factorize cache hands them to rfm; tiny blocks
    monkeypatch.setattr(G, "BLOCK", 7)
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 13, 500).astype(np.int32)
    codes.flags.writeable = False
    weights = rng.normal(size=500)
    days = rng.integers(-50, 50, 500).astype(np.int32)
    np.testing.assert_array_equal(G.counts(codes, 15), np.bincount(codes, minlength=15))
    np.testing.assert_allclose(G.sums(codes, weights, 15),
                               np.bincount(codes, weights=weights, minlength=15), rtol=1e-12)
    lo, hi = G.min_max(codes, days, 15)
    frame = pd.DataFrame({"c": codes, "d": days}).groupby("c")["d"]
    assert lo[:13].tolist() == frame.min().tolist() and hi[:13].tolist() == frame.max().tolist()
    assert lo[13:].tolist() == [G.BIG] * 2 and hi[13:].tolist() == [-G.BIG] * 2


def test_compact_codes_are_the_same_codes():
    rng = np.random.default_rng(12)
    s = pd.Series(pd.array([f"id{v}" for v in rng.integers(0, 300, 4000)], dtype="str"))
    keep = rng.random(4000) < 0.7
    for k in (None, keep):
        wide, ids = factorize(s, k)
        small, ids2 = factorize(s, k, compact=True)
        assert wide.dtype == np.intp and small.dtype == np.int32
        np.testing.assert_array_equal(wide, small)
        pd.testing.assert_index_equal(ids, ids2)


@pytest.mark.parametrize("order", ["sorted", "shuffled", "empty"])
def test_take_rows_equals_arrow_take(order):
    from tierlab._kernels.arrowtext import take_rows

    rng = np.random.default_rng(13)
    arr = pa.chunked_array([pa.array([f"v{i}" for i in range(a, a + n)], type=pa.large_string())
                            for a, n in ((0, 5), (5, 0), (5, 9), (14, 1), (15, 20))])
    rows = {"sorted": np.sort(rng.choice(35, 17, replace=False)),
            "shuffled": rng.integers(0, 35, 40), "empty": np.empty(0, dtype=np.int64)}[order]
    got = take_rows(arr, rows)
    assert got.type == arr.type
    assert got.to_pylist() == arr.take(pa.array(rows, type=pa.int64())).to_pylist()
