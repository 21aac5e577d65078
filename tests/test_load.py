"""Tests for tierlab.io.load: formats, encodings, parsing styles, policies and errors.

Expected values are written out by hand next to each input.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierlab.errors import DataError, SchemeError
from tierlab.io.load import LoadResult, load_customers, load_transactions

FIXTURES = Path(__file__).parent / "fixtures" / "load"


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
    json.dumps(s)


def test_whitespace_txt_fixture():
    res = load_transactions(FIXTURES / "whitespace.txt")
    expected = tx_frame(["C1", "C1", "C2"], ["2025-02-28", "2025-03-01", "2025-03-02"],
                        [-3.0, 10.5, 1200.0], quantity=[1.0, 1.0, 2.0])
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


# --------------------------------------------------------------------------------------------
# one test per format
# --------------------------------------------------------------------------------------------

ROWS = [("C001", "2025-03-01", "100.5"), ("C002", "2025-03-02", "-20"),
        ("C001", "2025-02-01", "30")]
ROWS_EXPECTED = tx_frame(["C001", "C001", "C002"], ["2025-02-01", "2025-03-01", "2025-03-02"],
                         [30.0, 100.5, -20.0])


def _write_delimited(path: Path, sep: str) -> Path:
    lines = [sep.join(("customer_id", "timestamp", "amount"))]
    lines += [sep.join(row) for row in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "tx"
    sheet.append(["customer_id", "timestamp", "amount"])
    for cid, day, amount in ROWS:
        sheet.append([cid, dt.datetime.fromisoformat(day), float(amount)])
    book.save(path)
    return path


def _write_parquet(path: Path) -> Path:
    frame = pd.DataFrame(ROWS, columns=["customer_id", "timestamp", "amount"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["amount"] = frame["amount"].astype(float)
    frame.to_parquet(path)
    return path


WRITERS = {
    "csv": lambda d: _write_delimited(d / "tx.csv", ","),
    "tsv": lambda d: _write_delimited(d / "tx.tsv", "\t"),
    "tab-txt": lambda d: _write_delimited(d / "tx.txt", "\t"),
    "semicolon": lambda d: _write_delimited(d / "tx.csv", ";"),
    "pipe": lambda d: _write_delimited(d / "tx.dat", "|"),
    "whitespace": lambda d: _write_delimited(d / "tx.txt", "   "),
    "xlsx": lambda d: _write_xlsx(d / "tx.xlsx"),
    "parquet": lambda d: _write_parquet(d / "tx.parquet"),
}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_each_format(tmp_path, fmt):
    path = WRITERS[fmt](tmp_path)
    res = load_transactions(path)
    pd.testing.assert_frame_equal(res.data, ROWS_EXPECTED)
    assert res.summary["file"] == str(path)
    assert res.summary["rows_in"] == 3 and res.rejected.empty


def test_dataframe_source_is_not_modified():
    frame = pd.DataFrame(ROWS, columns=["customer_id", "timestamp", "amount"])
    before = frame.copy()
    res = load_transactions(frame)
    pd.testing.assert_frame_equal(res.data, ROWS_EXPECTED)
    pd.testing.assert_frame_equal(frame, before)
    assert res.summary["file"] == "<DataFrame>" and res.summary["format"] == "dataframe"


def test_xlsx_sheet_by_name_and_index(tmp_path):
    path = _write_xlsx(tmp_path / "tx.xlsx")
    book = openpyxl.load_workbook(path)
    book.create_sheet("notes", 0).append(["nothing here"])
    book.save(path)
    pd.testing.assert_frame_equal(load_transactions(path, sheet="tx").data, ROWS_EXPECTED)
    pd.testing.assert_frame_equal(load_transactions(path, sheet=1).data, ROWS_EXPECTED)
    with pytest.raises(DataError, match=r"no sheet 'tz' \(did you mean 'tx'\?\)"):
        load_transactions(path, sheet="tz")
    with pytest.raises(DataError, match="no sheet number 7"):
        load_transactions(path, sheet=7)


def test_explicit_sep_wins(tmp_path):
    path = tmp_path / "odd.csv"
    # as many commas as tabs in the header: the sniffer picks ',' and the rows do not fit
    path.write_text("customer_id\ttimestamp\tamount\tnote, a, b, c\nA\t2025-01-01\t5\tx\n",
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"odd\.csv.*separator ','"):
        load_transactions(path)
    res = load_transactions(path, sep="\t")
    assert res.data["amount"].tolist() == [5.0]
    assert res.data["note, a, b, c"].tolist() == ["x"]
    assert res.summary["sep"] == "\t"


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
# encodings
# --------------------------------------------------------------------------------------------

CHINESE_CSV = ("客户ID,日期,消费金额,备注\n"
               "001,2025-03-01,\"￥1,234.50\",老客户\n002,2025-03-02,88,新客户\n")


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_encodings_are_detected(tmp_path, encoding, detected):
    path = tmp_path / "export.csv"
    path.write_bytes(CHINESE_CSV.encode(encoding))
    res = load_transactions(path)
    expected = tx_frame(["001", "002"], ["2025-03-01", "2025-03-02"], [1234.5, 88.0])
    expected["备注"] = pd.Series(["老客户", "新客户"], dtype="str")
    pd.testing.assert_frame_equal(res.data, expected)
    assert res.summary["encoding"] == detected
    # the explicit encoding reads the same table
    pd.testing.assert_frame_equal(load_transactions(path, encoding=encoding).data, expected)


def test_excel_unicode_text_export_utf16_tab_separated(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(CHINESE_CSV.replace(",", "\t").replace('"￥1\t234.50"', "￥1,234.50"),
                    encoding="utf-16")
    res = load_transactions(path)
    assert res.summary["encoding"] == "utf-16" and res.summary["sep"] == "\t"
    assert res.data["amount"].tolist() == [1234.5, 88.0]
    assert res.data["备注"].tolist() == ["老客户", "新客户"]


def test_gbk_bytes_after_a_long_ascii_start(tmp_path):
    rows = "".join(f"C{i:05d},2025-01-01,1\n" for i in range(7000))  # > 64 KiB of ASCII
    path = tmp_path / "late.csv"
    text = "customer_id,timestamp,amount\n" + rows + "王五,2025-01-02,2\n"
    path.write_bytes(text.encode("gbk"))
    res = load_transactions(path)
    assert res.summary["encoding"] == "gb18030"
    assert res.summary["rows_accepted"] == 7001
    assert res.data["customer_id"].iloc[-1] == "王五"


def test_wrong_explicit_encoding_is_a_clear_error(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(CHINESE_CSV.encode("gbk"))
    with pytest.raises(DataError, match=r"export\.csv.*not valid utf-8.*encoding="):
        load_transactions(path, encoding="utf-8")
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        load_transactions(path, encoding="klingon")


# --------------------------------------------------------------------------------------------
# amounts, quantities, ids
# --------------------------------------------------------------------------------------------

AMOUNTS = [
    ("1,234.50", 1234.5), ("¥1,234", 1234.0), ("￥1,234", 1234.0), ("1234元", 1234.0),
    ("$12.00", 12.0), ("-50", -50.0), ("(50.00)", -50.0), ("  7.5 ", 7.5), ("RMB 3", 3.0),
    ("-￥100.00", -100.0), ("￥-100", -100.0), ("\u221250", -50.0), ("1,234,567.8", 1234567.8),
    ("12", 12.0), ("0.5", 0.5), ("-0", 0.0),
]


@pytest.mark.parametrize(("text", "value"), AMOUNTS, ids=[a for a, _ in AMOUNTS])
@pytest.mark.parametrize("dtype", ["str", "object"])
def test_amount_styles(text, value, dtype):
    frame = pd.DataFrame({"customer_id": ["A"], "timestamp": ["2025-01-01"], "amount": [text]},
                         dtype=dtype)
    res = load_transactions(frame)
    assert res.data["amount"].tolist() == [value]
    assert not np.signbit(res.data["amount"].to_numpy()).any() or value < 0


def test_amount_styles_mixed_in_one_csv_column(tmp_path):
    path = tmp_path / "amounts.csv"
    frame = pd.DataFrame({"customer_id": [f"C{i:02d}" for i in range(len(AMOUNTS))],
                          "timestamp": "2025-01-01", "amount": [a for a, _ in AMOUNTS]})
    frame.to_csv(path, index=False)
    res = load_transactions(path)
    assert res.data["amount"].tolist() == [v for _, v in AMOUNTS]


@pytest.mark.parametrize("text", ["abc", "1,5", "1.234,50", "12,34,567", "¥", "inf", "1.2.3"])
def test_unparseable_amounts(text):
    frame = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": ["2025-01-01"] * 2,
                          "amount": ["10", text]})
    res = load_transactions(frame)
    assert res.data["amount"].tolist() == [10.0]
    assert res.rejected["reason"].tolist() == ["unparseable amount"]
    assert res.rejected["amount"].tolist() == [text]


def test_numeric_amount_column_fast_path():
    frame = pd.DataFrame({"customer_id": ["A", "B", "C"], "timestamp": ["2025-01-01"] * 3,
                          "amount": [1.5, np.nan, np.inf]})
    res = load_transactions(frame)
    assert res.data["amount"].tolist() == [1.5]
    assert res.rejected["reason"].tolist() == ["missing amount", "unparseable amount"]


def test_quantity_cleaning_and_missing_quantity_is_kept():
    frame = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "timestamp": ["2025-01-01"] * 4,
                          "amount": ["1"] * 4, "数量": ["2", " 1,000 ", "", "3"]})
    res = load_transactions(frame)
    assert res.data["quantity"].tolist()[:2] == [2.0, 1000.0]
    assert np.isnan(res.data["quantity"].iloc[2])
    assert res.data["quantity"].iloc[3] == 3.0
    assert res.data["quantity"].dtype == "float64"


def test_ids_keep_leading_zeros_and_lose_surrounding_spaces(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("customer_id,timestamp,amount,order_id\n00001,2025-01-01,1,0007\n"
                    " 007 ,2025-01-01,1, A-01 \n0001,2025-01-01,1,\n", encoding="utf-8")
    res = load_transactions(path)
    # sorted as text: "00001" < "0001" < "007"
    assert res.data["customer_id"].tolist() == ["00001", "0001", "007"]
    assert res.data["order_id"].iloc[[0, 2]].tolist() == ["0007", "A-01"]
    assert pd.isna(res.data["order_id"].iloc[1])
    assert res.data["customer_id"].dtype == "str"


def test_numeric_ids_from_parquet_become_text(tmp_path):
    path = tmp_path / "ids.parquet"
    pd.DataFrame({"customer_id": [1.0, 2.0, np.nan],
                  "timestamp": pd.to_datetime(["2025-01-01"] * 3),
                  "amount": [1.0, 2.0, 3.0], "order_id": [10, 11, 12]}).to_parquet(path)
    res = load_transactions(path)
    assert res.data["customer_id"].tolist() == ["1", "2"]
    assert res.data["order_id"].tolist() == ["10", "11"]
    assert res.rejected["reason"].tolist() == ["missing customer_id"]


# --------------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------------

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
    with pytest.raises(SchemeError, match="Mars/Olympus"):
        load_transactions(frame, tz="Mars/Olympus")


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
# duplicate policies
# --------------------------------------------------------------------------------------------


def test_identical_rows_are_kept_without_order_id():
    frame = pd.DataFrame({"customer_id": ["A", "A", "B", "A", "B", "A"],
                          "timestamp": ["2025-01-01"] * 6,
                          "amount": ["5", "5", "7", "5", "7", "6"]})
    res = load_transactions(frame)
    expected = tx_frame(["A", "A", "A", "A", "B", "B"], ["2025-01-01"] * 6,
                        [5.0, 5.0, 5.0, 6.0, 7.0, 7.0])
    pd.testing.assert_frame_equal(res.data, expected)
    assert res.summary["identical_rows_kept"] == 3  # two extra A/5 rows, one extra B/7 row
    assert res.rejected.empty


def test_identical_rows_counted_over_all_columns():
    frame = pd.DataFrame({"customer_id": ["A", "A", "A"], "timestamp": ["2025-01-01"] * 3,
                          "amount": ["5", "5", "5"], "note": ["x", "y", "x"]})
    res = load_transactions(frame)
    assert res.summary["identical_rows_kept"] == 1
    assert res.data["note"].tolist() == ["x", "x", "y"]


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
    expected = tx_frame(["A", "A", "A", "B", "B", "B"], ["2025-01-01"] * 6,
                        [5.0, 5.0, 8.0, 5.0, 5.0, 5.0],
                        order_id=["o1", "o2", "o1", "o9", np.nan, np.nan])
    pd.testing.assert_frame_equal(res.data, expected)
    assert res.rejected["source_row"].tolist() == [1]
    assert res.rejected["reason"].tolist() == ["duplicate order line"]
    assert res.summary["identical_rows_kept"] == 1


def test_order_lines_differing_in_quantity_are_not_duplicates():
    frame = pd.DataFrame({"customer_id": ["A", "A"], "timestamp": ["2025-01-01"] * 2,
                          "amount": ["5", "5"], "order_id": ["o1", "o1"], "qty": ["1", "2"]})
    res = load_transactions(frame)
    assert len(res.data) == 2 and res.rejected.empty


def test_which_duplicate_is_kept_does_not_depend_on_row_order():
    frame = pd.DataFrame({"customer_id": ["A", "A"], "timestamp": ["2025-01-01"] * 2,
                          "amount": ["5", "5"], "order_id": ["o1", "o1"],
                          "note": ["second", "first"]})
    a = load_transactions(frame)
    b = load_transactions(frame.iloc[::-1])
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.data["note"].tolist() == ["first"]
    assert a.rejected["note"].tolist() == b.rejected["note"].tolist() == ["second"]


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
# clear errors
# --------------------------------------------------------------------------------------------


def test_missing_required_column_names_file_and_suggests(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("custmer_id,timestamp,amount\nA,2025-01-01,1\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_transactions(path)
    message = str(info.value)
    assert "export.csv" in message and "'customer_id'" in message
    assert "did you mean 'custmer_id'?" in message
    assert "'custmer_id', 'timestamp', 'amount'" in message


def test_mapped_header_not_in_file(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("客户ID,日期,消费金额\nA,2025-01-01,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"'消费额' \(mapped to 'amount'\) is not in the file"):
        load_transactions(path, {"customer_id": "客户ID", "timestamp": "日期", "amount": "消费额"})
    with pytest.raises(DataError, match=r"unknown canonical name 'amout' \(did you mean 'amount'"):
        load_transactions(path, {"amout": "消费金额"})
    with pytest.raises(DataError, match="mapped to both"):
        load_transactions(path, {"customer_id": "客户ID", "order_id": "客户ID"})
    with pytest.raises(DataError, match="columns must map"):
        load_transactions(path, ["客户ID"])


def test_mapping_onto_a_name_already_used_is_an_error():
    frame = pd.DataFrame({"amount": ["1"], "消费金额": ["2"], "customer_id": ["A"],
                          "timestamp": ["2025-01-01"]})
    with pytest.raises(DataError, match="also has a column named 'amount'"):
        load_transactions(frame, {"amount": "消费金额"})


def test_missing_file():
    with pytest.raises(DataError, match=r"file not found: 'no/such/export\.csv'"):
        load_transactions("no/such/export.csv")


@pytest.mark.parametrize("content", [b"", b"  \n\n"], ids=["zero-bytes", "blank-lines"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"empty\.csv.*empty"):
        load_transactions(path)


@pytest.mark.parametrize(("name", "hint"), [("tx.json", "'.json'"), ("tx.xls", "save old .xls"),
                                             ("tx", "no extension")])
def test_unsupported_extension(tmp_path, name, hint):
    path = tmp_path / name
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DataError, match="unsupported file type") as info:
        load_transactions(path)
    assert hint in str(info.value) and name in str(info.value)


@pytest.mark.parametrize("name", ["broken.xlsx", "broken.parquet"])
def test_corrupt_binary_files(tmp_path, name):
    path = tmp_path / name
    path.write_text("not really", encoding="utf-8")
    with pytest.raises(DataError, match=name.replace(".", r"\.")):
        load_transactions(path)


def test_ragged_rows_are_a_clear_error(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("customer_id,timestamp,amount\nA,2025-01-01,1\nB,2025-01-01,1,234\n",
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"ragged\.csv.*separator"):
        load_transactions(path)


def test_a_column_nothing_can_be_parsed_from_is_an_error():
    frame = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": ["03/01/2025", "04/01/2025"],
                          "amount": ["1", "2"]})
    with pytest.raises(DataError, match=r"'timestamp'.*'03/01/2025'.*date_format"):
        load_transactions(frame)
    frame = pd.DataFrame({"customer_id": ["A"], "timestamp": ["2025-01-01"], "amount": ["?"]})
    with pytest.raises(DataError, match="'amount'"):
        load_transactions(frame)


def test_bad_source_type_and_folder(tmp_path):
    with pytest.raises(DataError, match="list"):
        load_transactions([1, 2, 3])
    with pytest.raises(DataError, match="folder"):
        load_transactions(tmp_path)


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
    res = load_transactions(pd.DataFrame(ROWS, columns=["customer_id", "timestamp", "amount"]))
    assert res.transactions is res.data and res.customers is res.data
    assert "3 of 3 rows accepted" in repr(res) and "total spend 110.50" in repr(res)
    assert res._repr_html_().startswith("<b>LoadResult</b>")
    assert json.loads(json.dumps(res.summary)) == res.summary
    assert isinstance(res.data.index, pd.RangeIndex)


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
    pd.testing.assert_frame_equal(a.data, b.data)
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
# the fast internals of the loader against plain NumPy / Python
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [0, 1, 15, 16, 17, 33])
def test_radix_argsort_is_a_stable_argsort(bits):
    from tierlab.io.load import _radix_argsort

    rng = np.random.default_rng(bits)
    values = rng.integers(0, 2**bits, 5000) if bits else np.zeros(5000, dtype=np.int64)
    np.testing.assert_array_equal(_radix_argsort(values, bits),
                                  np.argsort(values, kind="stable"))


@pytest.mark.parametrize("layout", ["sorted", "time order", "shuffled", "one row", "empty"])
def test_primary_order_sorts_by_customer_then_time(layout):
    from tierlab.io.load import _primary_order

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
    order, tie = _primary_order(c, 300, t)
    idx = np.arange(n) if order is None else order
    if layout == "sorted":
        assert order is None
    ref = np.lexsort((t, c))
    np.testing.assert_array_equal(c[idx], c[ref])
    np.testing.assert_array_equal(t[idx], t[ref])
    cs, ts = c[ref], t[ref]
    np.testing.assert_array_equal(tie, (cs[1:] == cs[:-1]) & (ts[1:] == ts[:-1]))


@pytest.mark.parametrize("halves", [False, True], ids=["one pass", "two halves"])
@pytest.mark.parametrize("kind", ["clean", "padded", "tokens", "long", "nulls", "numbers"])
def test_encode_ids_matches_plain_python(kind, halves, monkeypatch):
    import tierlab._kernels.arrowkeys as K
    from tierlab.io.load import _NULL_VARIANTS, _encode_ids

    if halves:  # what 10M-row files get: ids hashed in two halves on two threads
        monkeypatch.setattr(K, "PARALLEL_ROWS", 1)

    rng = np.random.default_rng(3)
    pool = [f"C{i:05d}" for i in rng.permutation(400)]
    if kind == "padded":
        pool = [f" {p}" if i % 3 == 0 else f"{p}  " if i % 3 == 1 else p
                for i, p in enumerate(pool)] + pool[:50]
    elif kind == "tokens":
        pool += ["NA", "null", "-", ""]
    elif kind == "long":
        pool = ["客户-" + p * 6 for p in pool]
    raw = [pool[i] for i in rng.integers(0, len(pool), 3000)]
    if kind == "nulls":
        raw = [None if i % 11 == 0 else v for i, v in enumerate(raw)]
    s = pd.Series(raw, dtype="str")
    if kind == "numbers":
        s = pd.Series(rng.integers(0, 400, 3000)).astype("float64")
        raw = [str(int(v)) for v in s]
    ids = _encode_ids(s)
    words = [None if v is None else v.strip() for v in raw]
    words = [None if w is None or w in _NULL_VARIANTS else w for w in words]
    assert ids.uniques.to_pylist() == sorted({w for w in words if w is not None})
    got = [None if k < 0 else ids.uniques[int(k)].as_py() for k in ids.codes]
    assert got == words


def test_repeated_headers_are_numbered_like_pandas(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,timestamp,amount,note,note,note.1\n"
                    "A,2025-01-01,1,x,y,z\n", encoding="utf-8")
    res = load_transactions(path)
    expected = pd.read_csv(path, dtype=str).columns[3:].tolist()
    assert res.transactions.columns[3:].tolist() == expected
    assert res.transactions.iloc[0, 3:].tolist() == ["x", "y", "z"]


def test_empty_headers_are_named_like_pandas(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,timestamp,amount,,note\nA,2025-01-01,1,x,y\n", encoding="utf-8")
    res = load_transactions(path)
    assert res.transactions.columns[3:].tolist() == pd.read_csv(path).columns[3:].tolist()
