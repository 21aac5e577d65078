"""Tests for tierlab.io.ordering: duplicate policies, row order never matters, and the sorting
kernels against plain NumPy."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierlab.io.load import LoadResult, load_transactions
from tierlab.io.ordering import primary_order, radix_argsort


def ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), format="ISO8601").astype("datetime64[ns]"))


def tx_frame(ids, times, amounts, **extra) -> pd.DataFrame:
    data = {
        "customer_id": pd.Series(ids, dtype="str"),
        "timestamp": ts(*times),
        "amount": pd.Series(amounts, dtype="float64"),
    }
    for name, values in extra.items():
        data[name] = pd.Series(values, dtype="float64" if name == "quantity" else "str")
    return pd.DataFrame(data)


def accepted_plus_rejected(res: LoadResult) -> None:
    s = res.summary
    assert len(res.data) == s["rows_accepted"]
    assert len(res.rejected) == s["rows_rejected"]
    assert s["rows_accepted"] + s["rows_rejected"] == s["rows_in"]
    assert sum(s["rejected_by_reason"].values()) == s["rows_rejected"]


# --------------------------------------------------------------------------------------------
# duplicate policies
# --------------------------------------------------------------------------------------------


def test_identical_rows_are_kept_without_order_id():
    frame = pd.DataFrame({"customer_id": ["A", "A", "B", "A", "B", "A"],
                          "timestamp": ["2025-01-01"] * 6,
                          "amount": ["5", "5", "7", "5", "7", "6"]})
    res = load_transactions(frame)
    expected = tx_frame(["A", "A", "B", "A", "B", "A"], ["2025-01-01"] * 6,
                        [5.0, 5.0, 7.0, 5.0, 7.0, 6.0])  # source order
    pd.testing.assert_frame_equal(res.data, expected)
    assert res.summary["identical_rows_kept"] == 3  # two extra A/5 rows, one extra B/7 row
    assert res.rejected.empty


def test_identical_rows_counted_over_all_columns():
    frame = pd.DataFrame({"customer_id": ["A", "A", "A"], "timestamp": ["2025-01-01"] * 3,
                          "amount": ["5", "5", "5"], "note": ["x", "y", "x"]})
    res = load_transactions(frame)
    assert res.summary["identical_rows_kept"] == 1
    assert res.data["note"].tolist() == ["x", "y", "x"]  # source order


def test_repeated_order_lines_are_rejected():
    frame = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "B", "B", "B"],
        "timestamp": ["2025-01-01"] * 7,
        "amount": ["5", "5", "8", "5", "5", "5", "5"],
        "order_id": ["o1", "o1", "o1", "o2", None, None, "o9"],
    })
    res = load_transactions(frame)
    # o1 twice with 5 -> one duplicate; o1 with 8 is another line of the same order; o2 differs;
    # rows without an order id are kept (and counted as identical)
    # rows in source order; the second o1/5 line (row 1) is the copy rejected
    expected = tx_frame(["A", "A", "A", "B", "B", "B"], ["2025-01-01"] * 6,
                        [5.0, 8.0, 5.0, 5.0, 5.0, 5.0],
                        order_id=["o1", "o1", "o2", np.nan, np.nan, "o9"])
    pd.testing.assert_frame_equal(res.data, expected)
    assert res.rejected["source_row"].tolist() == [1]
    assert res.rejected["reason"].tolist() == ["duplicate order line"]
    assert res.summary["identical_rows_kept"] == 1


def test_order_lines_differing_in_quantity_are_not_duplicates():
    frame = pd.DataFrame({"customer_id": ["A", "A"], "timestamp": ["2025-01-01"] * 2,
                          "amount": ["5", "5"], "order_id": ["o1", "o1"], "qty": ["1", "2"]})
    res = load_transactions(frame)
    assert len(res.data) == 2 and res.rejected.empty


def test_order_lines_differing_in_any_other_column_are_two_purchases():
    # SPEC §1: only lines identical in every column (product/sku included) are duplicates;
    # two products of one order at the same price are two purchases
    frame = pd.DataFrame({"customer_id": ["A", "A", "A"], "timestamp": ["2025-01-01"] * 3,
                          "amount": ["5", "5", "5"], "order_id": ["o1", "o1", "o1"],
                          "sku": ["pen", "ink", "pen"]})
    for f in (frame, frame.iloc[::-1]):
        res = load_transactions(f)
        assert sorted(res.data["sku"]) == ["ink", "pen"]
        assert res.data["amount"].sum() == 10.0
        assert res.rejected["sku"].tolist() == ["pen"]
        assert res.rejected["reason"].tolist() == ["duplicate order line"]


def test_order_lines_differing_only_in_a_note_are_kept():
    frame = pd.DataFrame({"customer_id": ["A", "A"], "timestamp": ["2025-01-01"] * 2,
                          "amount": ["5", "5"], "order_id": ["o1", "o1"],
                          "note": ["second", "first"]})
    a = load_transactions(frame)
    b = load_transactions(frame.iloc[::-1])
    pd.testing.assert_frame_equal(a.data, b.data.iloc[::-1].reset_index(drop=True))
    assert a.data["note"].tolist() == ["second", "first"]  # source order
    assert a.rejected.empty and b.rejected.empty


def test_kept_copy_of_a_duplicate_does_not_depend_on_how_it_was_written():
    # "10" and "10.0" parse to the same line; the copy kept (and the one rejected) is
    # chosen by the text as read, never by position
    frame = pd.DataFrame({"customer_id": ["A", "A"], "timestamp": ["2025-01-01"] * 2,
                          "amount": ["10.0", "10"], "order_id": ["o1", "o1"]})
    for f in (frame, frame.iloc[::-1]):
        res = load_transactions(f)
        assert res.data["amount"].tolist() == [10.0]
        assert res.rejected["amount"].tolist() == ["10.0"]


# --------------------------------------------------------------------------------------------
# row order never matters (property)
# --------------------------------------------------------------------------------------------

# Each group holds spellings of one value, so equal lines written differently (" 00B" / "00B",
# "2025-01-01" / "20250101" / "45658", "10" / "¥10" / "10.0") are common.
ID_GROUPS = [["00B", " 00B", "00B "], ["C"], ["", "NA", "  "]]
DAY_GROUPS = [["2025-01-01", "20250101", "45658", "2025/1/1"], ["2025-01-02 10:00"],
              ["2025-13-01"], [""]]
MONEY_GROUPS = [["10", "¥10", "10.0", "1e1"], ["(2)", "-2", "-2.00"], ["x"], [""]]
ORDER_GROUPS = [["o1"], ["o2"], [""]]
NOTE_GROUPS = [["p"], ["q"]]
GROUPS = (ID_GROUPS, DAY_GROUPS, MONEY_GROUPS, ORDER_GROUPS, NOTE_GROUPS)


@st.composite
def exports(draw) -> list[tuple[str, ...]]:
    """A few distinct lines, each repeated with random spellings."""
    lines = draw(st.lists(st.tuples(*(st.sampled_from(g) for g in GROUPS)),
                          min_size=1, max_size=6))
    n = draw(st.integers(1, 25))
    rows = []
    for _ in range(n):
        line = draw(st.sampled_from(lines))
        rows.append(tuple(draw(st.sampled_from(spellings)) for spellings in line))
    return rows


def _by_value(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), kind="stable", na_position="last",
                             ignore_index=True)


def _multiset(frame: pd.DataFrame) -> list[tuple]:
    return sorted(tuple(str(v) for v in row) for row in frame.itertuples(index=False))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=exports(), with_orders=st.booleans(),
       via_csv=st.booleans(), seed=st.integers(0, 2**16))
def test_shuffling_rows_changes_nothing(rows, with_orders, via_csv, seed):
    rows = [("A", "2025-01-01", "1", "o1", "p"), *rows]  # at least one usable row
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "order_id", "note"])
    if not with_orders:
        frame = frame.drop(columns="order_id")
    shuffled = frame.sample(frac=1, random_state=seed).reset_index(drop=True)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tx.csv"

        def load(f: pd.DataFrame) -> LoadResult:
            if not via_csv:
                return load_transactions(f)
            f.to_csv(path, index=False)
            return load_transactions(path)

        a, b = load(frame), load(shuffled)
    # the frames keep their sources' orders: the same rows, in another order
    pd.testing.assert_frame_equal(_by_value(a.data), _by_value(b.data))
    assert a.summary == b.summary
    assert _multiset(a.rejected.drop(columns="source_row")) == _multiset(
        b.rejected.drop(columns="source_row"))
    # accepted + rejected = input, and every rejected row is the input row it points to
    for res, source in ((a, frame), (b, shuffled)):
        accepted_plus_rejected(res)
        assert res.summary["rows_in"] == len(source)
        base = 1 if via_csv else 0
        originals = source.iloc[res.rejected["source_row"].to_numpy() - base]
        got = res.rejected.drop(columns=["source_row", "reason"])
        assert _multiset(got.fillna("")) == _multiset(originals.fillna(""))
        assert res.data["customer_id"].str.strip().eq(res.data["customer_id"]).all()


# --------------------------------------------------------------------------------------------
# the sorting kernels against plain NumPy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [0, 1, 15, 16, 17, 33])
def test_radix_argsort_is_a_stable_argsort(bits):
    rng = np.random.default_rng(bits)
    values = rng.integers(0, 2**bits, 5000) if bits else np.zeros(5000, dtype=np.int64)
    np.testing.assert_array_equal(radix_argsort(values, bits),
                                  np.argsort(values, kind="stable"))


@pytest.mark.parametrize("layout", ["sorted", "time order", "shuffled", "one row", "empty"])
def test_primary_order_sorts_by_customer_then_time(layout):
    rng = np.random.default_rng(7)
    n = {"one row": 1, "empty": 0}.get(layout, 4000)
    c = rng.integers(0, 300, n)
    t = rng.integers(0, 50, n) * 86_400 * 10**9  # whole days: many (customer, day) ties
    if layout == "sorted":
        idx = np.lexsort((t, c))
        c, t = c[idx], t[idx]
    elif layout == "time order":
        idx = np.argsort(t, kind="stable")
        c, t = c[idx], t[idx]
    order, tie = primary_order(c, 300, t)
    idx = np.arange(n) if order is None else order
    if layout == "sorted":
        assert order is None
    ref = np.lexsort((t, c))
    np.testing.assert_array_equal(c[idx], c[ref])
    np.testing.assert_array_equal(t[idx], t[ref])
    cs, ts = c[ref], t[ref]
    np.testing.assert_array_equal(tie, (cs[1:] == cs[:-1]) & (ts[1:] == ts[:-1]))
