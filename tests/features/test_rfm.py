"""tierlab.features.rfm: hand-computed values, naive loops and the reference implementation."""

from __future__ import annotations

import pandas as pd
import pytest
from features_reference import CASES, assert_same, random_tx, ref_rfm
from hypothesis import given, settings
from hypothesis import strategies as st

from tierlab.errors import DataError
from tierlab.features import btyd_summary, period_panel, rfm


def test_rfm_hand_calculation(tx):
    out = rfm(tx, as_of="2025-06-30")
    # A: purchases 2025-01-03 (o1, two lines), 02-14 (o2), 06-10 (no id) → 3 orders;
    #    net spend 100+50+200-40+20 = 330; one return.
    # B: o3, o4, o5, o8 (amount 0 counts as a purchase, never as a return) → 4 orders, 615.
    # C: o6, o7 → 2 orders; 300+700-300 = 700.
    expected = pd.DataFrame(
        {
            "recency_days": [20, 0, 102],
            "frequency": [3, 4, 2],
            "monetary_total": [330.0, 615.0, 700.0],
            "monetary_mean": [110.0, 153.75, 350.0],
            "first_purchase": pd.to_datetime(["2025-01-03", "2025-01-20", "2025-03-15"]),
            "last_purchase": pd.to_datetime(["2025-06-10", "2025-06-30", "2025-03-20"]),
            "tenure_days": [178, 161, 107],
            "active_months": [3, 3, 1],
            "returns": [1, 0, 1],
            "return_amount": [-40.0, 0.0, -300.0],
        },
        index=pd.Index(["A", "B", "C"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)


def test_rfm_as_of_excludes_later_rows_and_defaults_to_last_date(tx):
    early = rfm(tx, as_of="2025-02-28")
    assert list(early.index) == ["A", "B"]
    assert early.loc["A", "monetary_total"] == 350.0
    assert early.loc["A", "recency_days"] == 14
    default = rfm(tx)
    pd.testing.assert_frame_equal(default, rfm(tx, as_of="2025-06-30"))


def test_rfm_without_order_id_counts_purchase_rows(tx):
    out = rfm(tx.drop(columns="order_id"), as_of="2025-06-30")
    assert out["frequency"].tolist() == [4, 4, 2]


def test_rfm_rejects_bad_frames(tx):
    with pytest.raises(DataError, match="lacks column"):
        rfm(tx.drop(columns="amount"))
    with pytest.raises(DataError, match="datetime64"):
        rfm(tx.assign(timestamp=tx["timestamp"].astype(str)))
    with pytest.raises(DataError, match="not a date"):
        rfm(tx, as_of="someday")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 400),
                  st.integers(-50, 500)),
        min_size=1,
        max_size=40,
    )
)
def test_rfm_matches_naive_loops(rows):
    tx = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    tx["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(tx.pop("day"), "D")
    tx["amount"] = tx["amount"].astype(float)
    as_of = tx["timestamp"].max()
    out = rfm(tx)
    for cid, g in tx.groupby("customer_id"):
        p = g[g["amount"] >= 0]
        dates = p["timestamp"] if len(p) else g["timestamp"]
        assert out.loc[cid, "frequency"] == len(p)
        assert out.loc[cid, "monetary_total"] == pytest.approx(g["amount"].sum())
        assert out.loc[cid, "recency_days"] == (as_of - dates.max()).days
        assert out.loc[cid, "tenure_days"] == (as_of - dates.min()).days
        assert out.loc[cid, "active_months"] == p["timestamp"].dt.to_period("M").nunique()
    # row order never changes the result
    shuffled = tx.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(rfm(shuffled), out)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_rfm_equals_reference(case):
    tx = random_tx(**case)
    assert_same(rfm(tx), ref_rfm(tx))
    as_of = tx["timestamp"].quantile(0.6)
    assert_same(rfm(tx, as_of=as_of), ref_rfm(tx, as_of=as_of))


def test_public_results_do_not_depend_on_row_order():
    tx = random_tx(10, order_id=True, quantity=True)
    shuffled = tx.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert_same(rfm(shuffled), rfm(tx))
    assert_same(btyd_summary(shuffled), btyd_summary(tx))
    assert_same(period_panel(shuffled, "Q"), period_panel(tx, "Q"))
