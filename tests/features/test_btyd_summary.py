"""tierlab.features.summary.btyd_summary: a textbook example, naive loops, the reference."""

from __future__ import annotations

import pandas as pd
import pytest
from features_reference import CASES, assert_same, random_tx, ref_btyd_summary
from hypothesis import given, settings
from hypothesis import strategies as st

from tierlab.errors import DataError
from tierlab.features import btyd_summary


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
def test_btyd_summary_matches_naive_loops(rows):
    tx = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    tx["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(tx.pop("day"), "D")
    tx["amount"] = tx["amount"].astype(float)
    if not (tx["amount"] >= 0).any():
        with pytest.raises(DataError, match="no purchases"):
            btyd_summary(tx)
        return
    pd.testing.assert_frame_equal(btyd_summary(tx), _naive_btyd(tx, tx["timestamp"].max()),
                                  check_dtype=False, check_exact=False)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_btyd_summary_equals_reference(case):
    tx = random_tx(**case)
    assert_same(btyd_summary(tx), ref_btyd_summary(tx))
    cut = tx["timestamp"].quantile(0.5)
    for unit, scaler in (("D", 1.0), ("W", 1.0), ("M", 2.0), ("h", 24.0)):
        assert_same(btyd_summary(tx, as_of=cut, time_unit=unit, time_scaler=scaler),
                    ref_btyd_summary(tx, as_of=cut, time_unit=unit, time_scaler=scaler))
