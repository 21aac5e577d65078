"""Tests for tierlab.io.load: the loaders end to end — committed fixtures, rejection reasons,
customers, and the result object.

Expected values are written out by hand next to each input. Reading, column mapping, value
parsing and ordering have their own test files beside this one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tierlab.errors import DataError
from tierlab.io.load import LoadResult, load_customers, load_transactions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "load"


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
# committed fixtures
# --------------------------------------------------------------------------------------------

GBK_MAPPING = {"customer_id": "客户ID", "timestamp": "日期", "amount": "消费金额",
               "quantity": "数量", "order_id": "订单号"}
GBK_EXPECTED = tx_frame(
    ["00001", "00001", "00002", "00003"],
    ["2025-03-01", "2025-03-15", "2025-03-02", "2025-03-01"],
    [1234.5, 88.0, -100.0, 1000.0],
    order_id=["A001", "A002", "A003", "A004"],
    quantity=[2.0, 1.0, 1.0, 3.0],
)


@pytest.mark.parametrize("columns", [GBK_MAPPING, None], ids=["mapped", "aliases"])
@pytest.mark.parametrize("encoding", [None, "gbk"], ids=["detected", "explicit"])
def test_gbk_export_with_chinese_headers(columns, encoding):
    res = load_transactions(FIXTURES / "gbk_export.csv", columns, encoding=encoding)
    pd.testing.assert_frame_equal(res.transactions, GBK_EXPECTED)
    rejected = res.rejected
    assert rejected.columns.tolist() == ["客户ID", "日期", "消费金额", "数量", "订单号",
                                         "source_row", "reason"]
    assert rejected["source_row"].tolist() == [5, 6, 7, 8, 9]
    assert rejected["reason"].tolist() == [
        "missing customer_id", "unparseable timestamp", "unparseable amount",
        "duplicate order line", "unparseable quantity",
    ]
    # original values as read
    assert rejected["消费金额"].tolist() == ["￥10", "￥5", "abc", "￥1,234.50", "￥20"]
    assert rejected["数量"].tolist() == ["1", "1", "1", "2", "两件"]
    s = res.summary
    assert s["rows_in"] == 9 and s["rows_accepted"] == 4 and s["rows_rejected"] == 5
    assert s["encoding"] == ("gb18030" if encoding is None else "gbk")
    assert s["sep"] == ","
    assert s["customers"] == 3
    assert s["first_date"] == "2025-03-01" and s["last_date"] == "2025-03-15"
    assert s["total_spend"] == pytest.approx(1234.5 + 88 - 100 + 1000)
    assert s["returns"] == 1
    assert s["identical_rows_kept"] == 0
    assert s["rejected_by_reason"] == {
        "missing customer_id": 1, "unparseable timestamp": 1, "unparseable amount": 1,
        "unparseable quantity": 1, "duplicate order line": 1,
    }
    accepted_plus_rejected(res)
    assert json.loads(json.dumps(s)) == s  # JSON-ready


def test_whitespace_txt_fixture():
    res = load_transactions(FIXTURES / "whitespace.txt")
    # the file's row order (rejected rows removed): Data policies, Row order
    expected = tx_frame(["C1", "C2", "C1"], ["2025-03-01", "2025-03-02", "2025-02-28"],
                        [10.5, 1200.0, -3.0], quantity=[1.0, 2.0, 1.0])
    pd.testing.assert_frame_equal(res.data, expected)
    assert res.summary["sep"] == r"\s+"
    assert res.rejected.empty


def test_semicolon_utf8_bom_fixture():
    res = load_transactions(FIXTURES / "semicolon_bom.csv")
    expected = tx_frame(["007", "008"], ["2025-03-02", "2025-03-03"], [12.0, -5.0])
    expected["备注"] = pd.Series(["y", np.nan], dtype="str")
    pd.testing.assert_frame_equal(res.data, expected)
    # a decimal comma is not silently read as a thousands separator
    assert res.rejected["金额"].tolist() == ["1.234,50"]
    assert res.rejected["reason"].tolist() == ["unparseable amount"]
    assert res.summary["sep"] == ";" and res.summary["encoding"] == "utf-8"


def test_header_only_file_gives_empty_canonical_frame(tmp_path):
    path = tmp_path / "empty_month.csv"
    path.write_text("customer_id,timestamp,amount,order_id\n", encoding="utf-8")
    res = load_transactions(path)
    assert res.data.empty and res.rejected.empty
    assert res.data.columns.tolist() == ["customer_id", "timestamp", "amount", "order_id"]
    assert res.data["timestamp"].dtype == "datetime64[ns]"
    assert res.data["amount"].dtype == "float64"
    assert res.summary["first_date"] is None and res.summary["total_spend"] == 0.0


# --------------------------------------------------------------------------------------------
# rejection reasons
# --------------------------------------------------------------------------------------------

GOOD = [("A", "2025-01-01", "10", "1", "o1"), ("B", "2025-01-02", "20", "2", "o2")]
BAD = {
    "missing customer_id": ("  ", "2025-01-03", "5", "1", "o3"),
    "missing timestamp": ("C", "", "5", "1", "o3"),
    "unparseable timestamp": ("C", "2025-02-30", "5", "1", "o3"),
    "missing amount": ("C", "2025-01-03", "NA", "1", "o3"),
    "unparseable amount": ("C", "2025-01-03", "five", "1", "o3"),
    "unparseable quantity": ("C", "2025-01-03", "5", "two", "o3"),
    "duplicate order line": GOOD[0],
}


@pytest.mark.parametrize("reason", list(BAD))
def test_each_rejection_reason(tmp_path, reason):
    path = tmp_path / "tx.csv"
    rows = [GOOD[0], BAD[reason], GOOD[1]]
    text = "customer_id,timestamp,amount,quantity,order_id\n"
    path.write_text(text + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    res = load_transactions(path)
    expected = tx_frame(["A", "B"], ["2025-01-01", "2025-01-02"], [10.0, 20.0],
                        order_id=["o1", "o2"], quantity=[1.0, 2.0])
    pd.testing.assert_frame_equal(res.data, expected)
    assert res.rejected["source_row"].tolist() == [2]
    assert res.rejected["reason"].tolist() == [reason]
    # values as read: an empty cell is NaN, a blank one stays as written
    assert res.rejected.iloc[0, :5].tolist() == [v if v else np.nan for v in BAD[reason]]
    assert res.summary["rejected_by_reason"] == {reason: 1}


def test_first_reason_wins():
    frame = pd.DataFrame({"customer_id": [""], "timestamp": ["bad"], "amount": ["bad"]})
    frame = pd.concat([frame, pd.DataFrame({"customer_id": ["A"], "timestamp": ["2025-01-01"],
                                            "amount": ["1"]})], ignore_index=True)
    assert load_transactions(frame).rejected["reason"].tolist() == ["missing customer_id"]


def test_missing_tokens():
    frame = pd.DataFrame({"customer_id": ["A", "NULL", "B", "C"],
                          "timestamp": ["2025-01-01", "2025-01-01", "n/a", "2025-01-01"],
                          "amount": ["1", "1", "1", "--"]})
    res = load_transactions(frame)
    assert res.rejected["reason"].tolist() == ["missing customer_id", "missing timestamp",
                                               "missing amount"]
    assert res.rejected["source_row"].tolist() == [1, 2, 3]  # DataFrame: 0-based positions


# --------------------------------------------------------------------------------------------
# a column nothing can be read from
# --------------------------------------------------------------------------------------------


def test_a_column_nothing_can_be_parsed_from_is_an_error():
    frame = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": ["03/01/2025", "04/01/2025"],
                          "amount": ["1", "2"]})
    with pytest.raises(DataError, match=r"'timestamp'.*'03/01/2025'.*date_format"):
        load_transactions(frame)
    frame = pd.DataFrame({"customer_id": ["A"], "timestamp": ["2025-01-01"], "amount": ["?"]})
    with pytest.raises(DataError, match="'amount'"):
        load_transactions(frame)


# --------------------------------------------------------------------------------------------
# customers
# --------------------------------------------------------------------------------------------


def test_load_customers(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "客户编号,公司,电话,注册日期,满意度,备注,等级\n"
        "002,Li Co,013800000000,2024-01-01,4.5,vip,A\n"
        "001,Wang Co,,20240102,3,,B\n"
        "002,Li Again,,2024-05-01,5,,C\n"
        ",Nobody,,,,,D\n"
        "003,Zhao,,2024/1/3,bad,,E\n"
        "004,Qian,,someday,2,,F\n"
        "005,Sun,,,,,G\n",
        encoding="utf-8",
    )
    res = load_customers(path)
    expected = pd.DataFrame({
        "customer_id": pd.Series(["001", "002", "005"], dtype="str"),
        "name": pd.Series(["Wang Co", "Li Co", "Sun"], dtype="str"),
        "phone": pd.Series([np.nan, "013800000000", np.nan], dtype="str"),
        "signup_date": pd.Series(pd.to_datetime(["2024-01-02", "2024-01-01", None])
                                 .astype("datetime64[ns]")),
        "satisfaction": [3.0, 4.5, np.nan],
        "notes": pd.Series([np.nan, "vip", np.nan], dtype="str"),
        "等级": pd.Series(["B", "A", "G"], dtype="str"),
    })
    pd.testing.assert_frame_equal(res.customers, expected)
    assert res.rejected["source_row"].tolist() == [3, 4, 5, 6]
    assert res.rejected["reason"].tolist() == [
        "duplicate customer_id", "missing customer_id", "unparseable satisfaction",
        "unparseable signup_date",
    ]
    assert res.summary["customers"] == 3
    accepted_plus_rejected(res)
    assert "customers" in repr(res)


def test_load_customers_mapping_and_missing_id_column():
    frame = pd.DataFrame({"cid": ["9", "8"], "who": ["x", "y"]})
    res = load_customers(frame, {"customer_id": "cid", "name": "who"})
    assert res.data["customer_id"].tolist() == ["8", "9"]
    assert res.data["name"].tolist() == ["y", "x"]
    with pytest.raises(DataError, match="'customer_id' not found"):
        load_customers(frame)


# --------------------------------------------------------------------------------------------
# result object
# --------------------------------------------------------------------------------------------


def test_result_object():
    frame = pd.DataFrame({"customer_id": ["C001", "C002", "C001"],
                          "timestamp": ["2025-03-01", "2025-03-02", "2025-02-01"],
                          "amount": ["100.5", "-20", "30"]})
    res = load_transactions(frame)
    assert res.transactions is res.data and res.customers is res.data
    assert "3 of 3 rows accepted" in repr(res) and "total spend 110.50" in repr(res)
    assert res._repr_html_().startswith("<b>LoadResult</b>")
    assert json.loads(json.dumps(res.summary)) == res.summary
    assert isinstance(res.data.index, pd.RangeIndex)


# --------------------------------------------------------------------------------------------
# a file without a header line, from the command line
# --------------------------------------------------------------------------------------------


def test_cli_tiers_no_header_maps_columns_by_position(tmp_path, capsys):
    from tierlab.reporting.cli import main

    rules = Path(__file__).resolve().parents[2] / "data" / "rules" / "monthly_spend.yaml"
    path = tmp_path / "noheader.csv"
    path.write_text("C1,2025-01-05,600\nC2,2025-01-06,50\nC1,2025-02-05,700\n", encoding="utf-8")
    out = tmp_path / "tiers.csv"
    code = main(["tiers", str(path), "--scheme", str(rules), "--no-header", "--out", str(out),
                 "--columns", "customer_id=0", "timestamp=1", "amount=2"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out, dtype=str)
    assert sorted(table.iloc[:, 0]) == ["C1", "C2"]  # the first line is a customer, not a header
