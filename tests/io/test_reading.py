"""Tests for tierlab.io.reading (through the loader): formats, separators, encodings, headers
and files that cannot be read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tierlab.errors import DataError
from tierlab.io.load import load_transactions


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
    data = res.data
    if fmt == "parquet":  # typed columns: the file's row order is kept (README, Data policies)
        data = data.sort_values(["customer_id", "timestamp"], kind="stable",
                                ignore_index=True)
    pd.testing.assert_frame_equal(data, ROWS_EXPECTED)
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
# files that cannot be read
# --------------------------------------------------------------------------------------------


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


def test_bad_source_type_and_folder(tmp_path):
    with pytest.raises(DataError, match="list"):
        load_transactions([1, 2, 3])
    with pytest.raises(DataError, match="folder"):
        load_transactions(tmp_path)


# --------------------------------------------------------------------------------------------
# headers named like pandas names them
# --------------------------------------------------------------------------------------------


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
