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
# every source keeps its row order (README, Data policies)
ROWS_EXPECTED = tx_frame(["C001", "C002", "C001"], ["2025-03-01", "2025-03-02", "2025-02-01"],
                         [100.5, -20.0, 30.0])


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


# --------------------------------------------------------------------------------------------
# mixed encodings: decoded per file only when every line agrees, never garbled
# --------------------------------------------------------------------------------------------

UTF8_ROWS = ["张三,2025-03-01,10", "李四,2025-03-02,20", "王五丰,2025-03-03,30"]


@pytest.mark.parametrize("padding", [0, 8000], ids=["early", "after-64KiB"])
def test_a_gbk_row_in_a_utf8_file_is_rejected_not_garbling_the_rest(tmp_path, padding):
    lines = ["customer_id,timestamp,amount", *UTF8_ROWS]
    lines += [f"C{i:05d},2025-01-01,1" for i in range(padding)]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    bad_line = len(lines) + 1  # 1-based line number of the GBK row
    path = tmp_path / "mixed.csv"
    path.write_bytes(body + "赵六,2025-03-04,40\n".encode("gbk") + "孙七,2025-03-05,50\n"
                     .encode())
    res = load_transactions(path)
    ids = set(res.data["customer_id"])
    assert {"张三", "李四", "王五丰", "孙七"} <= ids  # byte-for-byte as written, not garbled
    assert len(ids) == 4 + padding
    assert res.rejected["reason"].tolist() == ["undecodable text (not UTF-8)"]
    assert res.rejected["source_row"].tolist() == [bad_line - 1]
    assert res.rejected["customer_id"].tolist() == ["\\xd5\\xd4\\xc1\\xf9"]  # bytes shown
    assert res.summary["undecodable_lines"] == [bad_line]
    assert res.summary["encoding"] == "utf-8"
    assert res.summary["rows_in"] == 5 + padding


def test_a_utf8_row_in_a_gbk_file_is_rejected_not_garbled(tmp_path):
    gbk = "".join(f"{name},2025-03-0{i + 1},{i}\n" for i, name in
                  enumerate(["张三", "李四", "王五", "赵六", "钱七"]))
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"customer_id,timestamp,amount\n" + gbk.encode("gbk")
                     + "孙七,2025-03-09,9\n".encode())
    res = load_transactions(path)
    assert res.data["customer_id"].tolist() == sorted(["张三", "李四", "王五", "赵六", "钱七"])
    assert res.summary["encoding"] == "gb18030"
    assert res.rejected["reason"].tolist() == ["mixed encoding (UTF-8 line in a GB18030 file)"]
    assert res.rejected["customer_id"].tolist() == ["孙七"]  # shown as written
    assert res.summary["undecodable_lines"] == [7]


def test_gbk_lines_that_happen_to_be_valid_utf8_are_read_as_gbk(tmp_path):
    # single characters whose GBK bytes are also valid UTF-8 (two-byte sequences)
    names = [c for c in "芦卢颅庐炉掳卤虏鲁麓碌露路赂鹿潞禄录陆戮" if _valid_utf8(c.encode("gbk"))]
    assert names  # the case exists
    rows = [f"{n}{i},2025-01-01,1" for i, n in enumerate(names * 3)]
    rows += [f"王{i},2025-01-02,2" for i in range(len(rows) // 2)]
    path = tmp_path / "gbk.csv"
    path.write_bytes(("customer_id,timestamp,amount\n" + "\n".join(rows) + "\n").encode("gbk"))
    res = load_transactions(path)
    assert res.rejected.empty and res.summary["encoding"] == "gb18030"
    assert sorted(res.data["customer_id"]) == sorted(r.split(",")[0] for r in rows)


def _valid_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_undecodable_rows_after_quoted_newlines_are_matched_to_their_rows(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("customer_id,timestamp,amount,note\n张三,2025-03-01,1,\"two\nlines\"\n"
                     .encode() + "赵六,2025-03-04,40,\"x\ny\"\n".encode("gbk")
                     + "李四,2025-03-05,2,z\n".encode())
    res = load_transactions(path)
    assert res.data["customer_id"].tolist() == ["张三", "李四"]
    assert res.data["note"].tolist() == ["two\nlines", "z"]
    assert res.rejected["source_row"].tolist() == [2]
    assert res.rejected["reason"].tolist() == ["undecodable text (not UTF-8)"]
    assert res.summary["undecodable_lines"] == [4]


def test_a_pipe_separated_gbk_file_with_a_utf8_line_keeps_its_fields(tmp_path):
    # GBK reads "|" as the second byte of a character; the rejected line must keep its fields
    path = tmp_path / "mixed.txt"
    gbk = "".join(f"{n}|2025-03-0{i + 1}|{i}\n" for i, n in enumerate(["张三", "李四", "王五"]))
    path.write_bytes(b"customer_id|timestamp|amount\n" + gbk.encode("gbk")
                     + "孙七|2025年3月1日|9\n".encode())
    res = load_transactions(path)
    assert res.data["customer_id"].tolist() == sorted(["张三", "李四", "王五"])
    assert res.rejected["customer_id"].tolist() == ["孙七"]
    assert res.rejected["timestamp"].tolist() == ["2025年3月1日"]


# --------------------------------------------------------------------------------------------
# clear messages for files that cannot be read
# --------------------------------------------------------------------------------------------


def test_a_workbook_named_csv_is_named_as_such(tmp_path):
    path = _write_xlsx(tmp_path / "tx.xlsx").rename(tmp_path / "export.csv")
    with pytest.raises(DataError, match=r"export\.csv.*Excel workbook.*rename it \.xlsx"):
        load_transactions(path)


def test_a_ragged_row_gets_its_line_number(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("customer_id,timestamp,amount\nA,2025-01-01,1\n\nC,2025-01-01,1\n"
                    "B,2025-01-01,1,234\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ragged\.csv.*line 5 has 4 field\(s\).*header has 3"):
        load_transactions(path)


def test_a_huge_field_says_which_line(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("customer_id,timestamp,amount,note\nA,2025-01-01,1,x\n"
                    f"B,2025-01-01,1,{'y' * (5 << 20)}\nC,2025-01-01,1,z\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"huge\.csv.*line 3 is 5\.0 MB long") as info:
        load_transactions(path)
    assert "straddl" not in str(info.value)


@pytest.mark.parametrize("after", [2, 20000], ids=["small", "over-a-block"])
def test_an_unterminated_quote_says_which_line(tmp_path, after):
    # Arrow's reader would swallow the rest of the file into one field, or drop rows
    path = tmp_path / "quote.csv"
    rows = "".join(f'C{i},2025-01-01,1,"o""k"\n' for i in range(3))
    path.write_text("customer_id,timestamp,amount,note\n" + rows + 'D,2025-01-01,1,"open\n'
                    + "".join(f"E{i},2025-01-01,1,{'w' * 100}\n" for i in range(after)),
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"quote\.csv.*quote opened at line 5 is never closed"):
        load_transactions(path)


def test_whitespace_only_lines_are_blank_lines(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("customer_id,timestamp,amount\nA,2025-01-01,1\n   \n\t\nB,2025-01-02,2\n",
                    encoding="utf-8")
    res = load_transactions(path)
    assert res.data["customer_id"].tolist() == ["A", "B"] and res.rejected.empty


# --------------------------------------------------------------------------------------------
# files without a header line
# --------------------------------------------------------------------------------------------

BY_POSITION = {"customer_id": 0, "timestamp": 1, "amount": 2}


def _headerless(path: Path, sep: str) -> Path:
    path.write_text("".join(sep.join(r) + "\n" for r in ROWS), encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "sep"), [("tx.csv", ","), ("tx.txt", "  "), ("tx.tsv", "\t")])
def test_header_none_maps_columns_by_position(tmp_path, name, sep):
    path = _headerless(tmp_path / name, sep)
    res = load_transactions(path, BY_POSITION, header=None)
    pd.testing.assert_frame_equal(res.data, ROWS_EXPECTED)
    assert res.summary["rows_in"] == 3


def test_header_none_in_a_workbook_keeps_other_columns_by_position(tmp_path):
    book = openpyxl.Workbook()
    for cid, day, amount in ROWS:
        book.active.append([cid, dt.datetime.fromisoformat(day), float(amount), "note"])
    book.save(tmp_path / "tx.xlsx")
    res = load_transactions(tmp_path / "tx.xlsx", BY_POSITION, header=None)
    pd.testing.assert_frame_equal(res.data.iloc[:, :3], ROWS_EXPECTED, check_column_type=False)
    assert res.data.columns[3] == 3 and res.data[3].tolist() == ["note"] * 3


def test_a_first_row_that_looks_like_data_is_an_error(tmp_path):
    path = _headerless(tmp_path / "tx.csv", ",")
    # mapping by the values of the first row would silently lose that row
    mapping = {"customer_id": "C001", "timestamp": "2025-03-01", "amount": "100.5"}
    with pytest.raises(DataError, match=r"header line looks like a data row.*header=None"):
        load_transactions(path, mapping)
    with pytest.raises(DataError, match=r"not found.*looks like data.*header=None"):
        load_transactions(path)


def test_header_must_be_zero_or_none(tmp_path):
    from tierlab.errors import ArgumentError

    with pytest.raises(ArgumentError, match="header=1"):
        load_transactions(_headerless(tmp_path / "tx.csv", ","), BY_POSITION, header=1)


# --------------------------------------------------------------------------------------------
# Excel: zero-padded numeric ids
# --------------------------------------------------------------------------------------------


def test_excel_ids_formatted_with_zeros_keep_their_padding(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["customer_id", "timestamp", "amount", "order_id"])
    for i, (cid, order) in enumerate([(2, 7), (130, 8), ("A9", 9)]):
        sheet.append([cid, dt.datetime(2025, 3, 1 + i), 10.0, order])
        sheet.cell(row=i + 2, column=1).number_format = "00000"
        sheet.cell(row=i + 2, column=4).number_format = "0000"
    book.save(tmp_path / "ids.xlsx")
    res = load_transactions(tmp_path / "ids.xlsx")
    assert res.data["customer_id"].tolist() == ["00002", "00130", "A9"]
    assert res.data["order_id"].tolist() == ["0007", "0008", "0009"]


def test_quoted_values_spanning_lines_across_reader_blocks(tmp_path):
    # the reader's blocks are 1 MB: values with newlines must be read whole across them
    rows = [f'C{i},2025-01-01,1,"line one\nline two {i}"' for i in range(40000)]
    path = tmp_path / "multiline.csv"
    path.write_text("customer_id,timestamp,amount,note\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    res = load_transactions(path)
    assert res.summary["rows_in"] == 40000 and res.rejected.empty
    assert res.data["note"].str.startswith("line one\nline two ").all()
