"""Tests for tierlab.io.dates (through the loader): date styles, numeric dates, time zones."""

from __future__ import annotations

import pandas as pd
import pytest

from tierlab.errors import ArgumentError
from tierlab.io.load import load_transactions


def ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), format="ISO8601").astype("datetime64[ns]"))


DATES = [
    ("2025-03-01", "2025-03-01"), ("2025-3-1", "2025-03-01"),
    ("2025-03-01 14:30:00", "2025-03-01 14:30"), ("2025-03-01T14:30", "2025-03-01 14:30"),
    ("2025/3/1", "2025-03-01"), ("2025/03/01 9:05", "2025-03-01 09:05"),
    ("2025.03.01", "2025-03-01"), ("2025年3月1日", "2025-03-01"), ("20250301", "2025-03-01"),
    ("45717", "2025-03-01"), ("45717.5", "2025-03-01 12:00"), (" 2025-03-01 ", "2025-03-01"),
]


@pytest.mark.parametrize(("text", "expected"), DATES, ids=[d for d, _ in DATES])
def test_date_styles(text, expected):
    frame = pd.DataFrame({"customer_id": ["A"], "timestamp": [text], "amount": ["1"]})
    res = load_transactions(frame)
    pd.testing.assert_series_equal(res.data["timestamp"], ts(expected), check_names=False)


def test_date_styles_mixed_in_one_csv_column(tmp_path):
    path = tmp_path / "dates.csv"
    frame = pd.DataFrame({"customer_id": [f"C{i:02d}" for i in range(len(DATES))],
                          "timestamp": [d for d, _ in DATES], "amount": "1"})
    frame.to_csv(path, index=False)
    res = load_transactions(path)
    pd.testing.assert_series_equal(res.data["timestamp"], ts(*[e for _, e in DATES]),
                                   check_names=False)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([20250301, 20251231], ["2025-03-01", "2025-12-31"]),
        ([45717, 45658], ["2025-03-01", "2025-01-01"]),
        ([45717.25, 20250301.0], ["2025-03-01 06:00", "2025-03-01"]),
    ],
    ids=["int-yyyymmdd", "int-excel-serial", "float"],
)
def test_numeric_date_columns(values, expected):
    frame = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": values, "amount": [1.0, 2.0]})
    res = load_transactions(frame)
    pd.testing.assert_series_equal(res.data["timestamp"], ts(*expected), check_names=False)


def test_integer_dates_in_a_csv(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("customer_id,timestamp,amount\nA,20250301,1\nB,45717,2\nC,123,3\n",
                    encoding="utf-8")
    res = load_transactions(path)
    pd.testing.assert_series_equal(res.data["timestamp"], ts("2025-03-01", "2025-03-01"),
                                   check_names=False)
    assert res.rejected["reason"].tolist() == ["unparseable timestamp"]


def test_explicit_date_format_first_then_other_styles():
    frame = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "amount": ["1"] * 4,
                          "timestamp": ["01/03/2025", "31/12/2024", "2025-02-01", "13/13/2025"]})
    res = load_transactions(frame, date_format="%d/%m/%Y")
    pd.testing.assert_series_equal(
        res.data["timestamp"], ts("2025-03-01", "2024-12-31", "2025-02-01"), check_names=False
    )
    assert res.rejected["timestamp"].tolist() == ["13/13/2025"]


def test_datetime_column_is_used_as_is_and_made_ns():
    when = pd.to_datetime(["2025-03-01 10:00"]).astype("datetime64[s]")
    frame = pd.DataFrame({"customer_id": ["A"], "amount": [1.0], "timestamp": when})
    res = load_transactions(frame)
    assert res.data["timestamp"].dtype == "datetime64[ns]"
    assert res.data["timestamp"].iloc[0] == pd.Timestamp("2025-03-01 10:00")


def test_time_zones():
    frame = pd.DataFrame({"customer_id": ["A", "B", "C"], "amount": ["1"] * 3,
                          "timestamp": ["2025-03-01T10:00:00+08:00", "2025-03-01 02:00:00Z",
                                        "2025-03-01 12:00"]})
    # without tz the written wall-clock time is kept
    pd.testing.assert_series_equal(
        load_transactions(frame).data["timestamp"],
        ts("2025-03-01 10:00", "2025-03-01 02:00", "2025-03-01 12:00"), check_names=False,
    )
    # with tz, offset values are converted; naive values are already in tz
    pd.testing.assert_series_equal(
        load_transactions(frame, tz="Asia/Shanghai").data["timestamp"],
        ts("2025-03-01 10:00", "2025-03-01 10:00", "2025-03-01 12:00"), check_names=False,
    )
    aware = pd.DataFrame({"customer_id": ["A"], "amount": [1.0],
                          "timestamp": pd.to_datetime(["2025-03-01 23:00"]).tz_localize("UTC")})
    assert load_transactions(aware).data["timestamp"].iloc[0] == pd.Timestamp("2025-03-01 23:00")
    assert (load_transactions(aware, tz="Asia/Shanghai").data["timestamp"].iloc[0]
            == pd.Timestamp("2025-03-02 07:00"))
    with pytest.raises(ArgumentError, match="Mars/Olympus"):
        load_transactions(frame, tz="Mars/Olympus")
