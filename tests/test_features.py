"""features.rfm / period_panel / btyd_summary against straightforward reference computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierlab.errors import DataError
from tierlab.features.core import btyd_summary, monthly_arrays, period_panel, rfm


@pytest.fixture
def tx() -> pd.DataFrame:
    """Twelve hand-made rows: three customers, a return, a repeated order line, no-order rows."""
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "A", "B", "B", "B", "C", "C", "C", "A", "B"],
            "timestamp": pd.to_datetime(
                [
                    "2025-01-03 10:00", "2025-01-03 18:00", "2025-02-14", "2025-03-01",
                    "2025-01-20", "2025-04-02", "2025-04-02",
                    "2025-03-15", "2025-03-20", "2025-05-30",
                    "2025-06-10", "2025-06-30",
                ],
                format="ISO8601",
            ),
            "amount": [100.0, 50.0, 200.0, -40.0, 10.0, 600.0, 5.0, 300.0, 700.0, -300.0, 20.0,
                       0.0],
            "order_id": ["o1", "o1", "o2", "r1", "o3", "o4", "o5", "o6", "o7", "r2", None, "o8"],
            "quantity": [1, 2, 1, 1, 1, 3, 1, 2, 2, 2, 1, 1],
        }
    )


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


def test_period_panel_monthly_against_groupby(tx):
    out = period_panel(tx, freq="M")
    t = tx.assign(period=tx["timestamp"].dt.to_period("M").dt.end_time.dt.normalize())
    purchases = t[t["amount"] >= 0]
    ref = pd.DataFrame(
        {
            "spend": t.groupby(["customer_id", "period"])["amount"].sum(),
            "orders": purchases.groupby(["customer_id", "period"])["order_id"].nunique()
            + purchases["order_id"].isna().groupby([purchases["customer_id"],
                                                    purchases["period"]]).sum(),
            "quantity": purchases.groupby(["customer_id", "period"])["quantity"].sum(),
        }
    ).fillna(0).reset_index()
    ref["orders"] = ref["orders"].astype(np.int64)
    ref["quantity"] = ref["quantity"].astype(float)
    pd.testing.assert_frame_equal(out, ref[out.columns.tolist()], check_dtype=False)


def test_period_panel_quarterly_and_fill(tx):
    q = period_panel(tx, freq="quarterly")
    assert q["period"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2025-03-31", "2025-06-30"]
    a = q[q["customer_id"] == "A"].set_index("period")["spend"]
    assert a.tolist() == [310.0, 20.0]
    filled = period_panel(tx, freq="M", fill=True)
    # C enters in March: Mar..Jun, four rows, April zero.
    c = filled[filled["customer_id"] == "C"]
    assert c["period"].dt.month.tolist() == [3, 4, 5, 6]
    assert c["spend"].tolist() == [1000.0, 0.0, -300.0, 0.0]
    assert len(filled) == 6 + 6 + 4
    h = period_panel(tx, freq="H")
    assert (h["period"] == pd.Timestamp("2025-06-30")).all()
    y = period_panel(tx, freq="Y")
    assert y.groupby("customer_id")["spend"].sum().to_dict() == {"A": 330.0, "B": 615.0,
                                                                 "C": 700.0}


def test_period_panel_unknown_freq(tx):
    with pytest.raises(DataError, match="unknown period frequency"):
        period_panel(tx, freq="fortnight")


def test_monthly_arrays_last_day_is_running_max(tx):
    arr = monthly_arrays(tx)
    a = arr.customer_ids.get_loc("A")
    days = pd.to_datetime(arr.last_day[a] * 86_400, unit="s").strftime("%m-%d").tolist()
    assert days == ["01-03", "02-14", "02-14", "02-14", "02-14", "06-10"]
    c = arr.customer_ids.get_loc("C")
    assert arr.last_day[c, :2].tolist() == [-1, -1]
    assert arr.first_month.tolist() == [0, 0, 2]


def test_btyd_summary_textbook_example():
    # Worked example: customer x buys on days 0, 0 (two rows, one day), 10, 25; as_of day 40.
    # frequency = 3 distinct days - 1 = 2; recency = 25 - 0 = 25; T = 40;
    # monetary_value = mean of day-10 and day-25 spend = (30 + 50) / 2 = 40.
    tx = pd.DataFrame(
        {
            "customer_id": ["x", "x", "x", "x", "y"],
            "timestamp": pd.Timestamp("2025-01-01") + pd.to_timedelta([0, 0, 10, 25, 5], "D"),
            "amount": [10.0, 15.0, 30.0, 50.0, 8.0],
        }
    )
    out = btyd_summary(tx, as_of=pd.Timestamp("2025-01-01") + pd.Timedelta(days=40))
    expected = pd.DataFrame(
        {"frequency": [2.0, 0.0], "recency": [25.0, 0.0], "T": [40.0, 35.0],
         "monetary_value": [40.0, 0.0]},
        index=pd.Index(["x", "y"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(out, expected)
    weeks = btyd_summary(tx, as_of="2025-02-10", time_unit="D", time_scaler=7)
    assert weeks.loc["x", "recency"] == pytest.approx(25 / 7)


def _naive_btyd(tx: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    rows = {}
    for cid, g in tx[(tx["amount"] >= 0) & (tx["timestamp"] <= as_of)].groupby("customer_id"):
        per_day = g.groupby(g["timestamp"].dt.normalize())["amount"].sum().sort_index()
        first, last = per_day.index[0], per_day.index[-1]
        f = len(per_day) - 1
        rows[cid] = {
            "frequency": float(f),
            "recency": float((last - first).days),
            "T": float((as_of - first).days),
            "monetary_value": float(per_day.iloc[1:].mean()) if f else 0.0,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "customer_id"
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 400),
                  st.integers(-50, 500)),
        min_size=1,
        max_size=40,
    )
)
def test_rfm_and_btyd_match_naive_loops(rows):
    tx = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    tx["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(tx.pop("day"), "D")
    tx["amount"] = tx["amount"].astype(float)
    as_of = tx["timestamp"].max()
    if (tx["amount"] >= 0).any():
        pd.testing.assert_frame_equal(btyd_summary(tx), _naive_btyd(tx, as_of),
                                      check_dtype=False, check_exact=False)
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
