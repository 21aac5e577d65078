"""tierlab.features.panel: period_panel and monthly_arrays by hand and against the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from features_reference import (
    CASES,
    assert_same,
    random_tx,
    ref_monthly_arrays,
    ref_period_panel,
)

from tierlab.errors import DataError
from tierlab.features import monthly_arrays, period_panel


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


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_monthly_arrays_equal_reference(case):
    tx = random_tx(**case)
    lo, hi = tx["timestamp"].quantile([0.3, 0.7])
    for start, end in ((None, None), (lo, None), (None, hi), (lo, hi)):
        fast, ref = monthly_arrays(tx, start, end), ref_monthly_arrays(tx, start, end)
        pd.testing.assert_index_equal(fast.customer_ids, ref.customer_ids, exact=True)
        for name in ("months", "last_day", "first_day", "first_month"):
            np.testing.assert_array_equal(getattr(fast, name), getattr(ref, name), err_msg=name)
            assert getattr(fast, name).dtype == getattr(ref, name).dtype, name
        for name in ("spend", "orders", "quantity"):
            np.testing.assert_allclose(getattr(fast, name), getattr(ref, name), rtol=1e-12,
                                       atol=1e-9, err_msg=name)
            assert getattr(fast, name).dtype == getattr(ref, name).dtype, name


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
@pytest.mark.parametrize("freq", ["M", "Q", "H", "Y"])
def test_period_panel_equals_reference(case, freq):
    tx = random_tx(**case)
    lo, hi = tx["timestamp"].quantile([0.25, 0.8])
    for start, end, fill in ((None, None, False), (None, None, True), (lo, hi, False),
                             (lo, None, True)):
        assert_same(period_panel(tx, freq, start, end, fill=fill),
                    ref_period_panel(tx, freq, start, end, fill=fill))


def test_monthly_arrays_fields_builds_only_what_is_asked():
    tx = random_tx(12, order_id=True, quantity=True)
    full = monthly_arrays(tx)
    for fields in (["spend"], ["orders", "last_day"], ["quantity"], []):
        part = monthly_arrays(tx, fields=fields)
        for name in ("spend", "orders", "quantity", "last_day"):
            if name in fields:
                np.testing.assert_array_equal(getattr(part, name), getattr(full, name))
            else:
                assert getattr(part, name) is None
        np.testing.assert_array_equal(part.first_day, full.first_day)
        np.testing.assert_array_equal(part.first_month, full.first_month)
    with pytest.raises(DataError, match="unknown field"):
        monthly_arrays(tx, fields=["spend", "recency"])


def test_empty_frame_and_reversed_span(tx):
    with pytest.raises(DataError, match="no transactions"):
        monthly_arrays(tx.iloc[:0])
    with pytest.raises(DataError, match="no transactions"):
        period_panel(tx.iloc[:0])
    with pytest.raises(DataError, match="is before start"):
        period_panel(tx, start="2025-05-01", end="2025-02-01")
