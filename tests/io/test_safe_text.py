"""Tests for tierlab.io.safe_text: text that could start a spreadsheet formula stays text."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tierlab.io.safe_text import csv_safe, formula_like, keep_text_cells
from tierlab.reporting.outputs import write_table

HOSTILE = ["=HYPERLINK(\"http://x.example\",\"click\")", "+1+2", "-2+3", "@SUM(A1:A9)",
           "\tTab", "\rCR", "=1+1"]
HARMLESS = ["Ann", "王芳", "a=b", "1-2", "", " =lead space", "-12.5", "+3%", "-1,234.50", "-1e-3"]


def test_formula_like_judges_text_only():
    values = pd.Series([*HOSTILE, *HARMLESS, None, 5, -3.5, pd.Timestamp("2025-01-01")],
                       dtype=object)
    assert formula_like(values).tolist() == [True] * len(HOSTILE) + [False] * (
        len(HARMLESS) + 4)
    assert not formula_like(pd.Series([-1, -2])).any()  # numbers are never formulas
    cat = pd.Series(pd.Categorical(["=x", "y", None, "=x"]))
    assert formula_like(cat).tolist() == [True, False, False, True]


def test_csv_safe_prefixes_a_quote_and_leaves_numbers_alone():
    frame = pd.DataFrame({"name": pd.array(HOSTILE + HARMLESS[:2], dtype="str"),
                          "n": np.arange(-4, len(HOSTILE) - 2),
                          "tier": pd.Categorical(["=Gold"] * 3 + ["Low"] * (len(HOSTILE) - 1))},
                         index=pd.Index(["=id"] + [f"c{i}" for i in range(len(HOSTILE) + 1)],
                                        name="customer_id"))
    safe = csv_safe(frame)
    assert safe["name"].tolist() == ["'" + h for h in HOSTILE] + HARMLESS[:2]
    assert safe["n"].tolist() == frame["n"].tolist() and safe["n"].dtype == frame["n"].dtype
    assert safe["tier"].astype(str).tolist()[:4] == ["'=Gold"] * 3 + ["Low"]
    assert safe.index[0] == "'=id" and safe.index.name == "customer_id"
    assert frame["name"].iloc[0] == HOSTILE[0]  # the input is not modified


def test_write_table_neutralises_every_text_cell(tmp_path):
    frame = pd.DataFrame({"tier": HOSTILE, "customers": range(-3, len(HOSTILE) - 3)},
                         index=pd.Index(HOSTILE, name="=who"))
    path = write_table(tmp_path, "t", frame)
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["'=who", "tier", "customers"]
    for row, hostile, n in zip(rows[1:], HOSTILE, range(-3, 10), strict=False):
        assert row == ["'" + hostile, "'" + hostile, str(n)]


def test_keep_text_cells_writes_strings_never_formulas(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE + ["#N/A", "#DIV/0!"], "n": range(len(HOSTILE) + 2)})
    path = tmp_path / "x.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="s", index=False)
        fixed = keep_text_cells(writer.sheets["s"], frame)
    assert fixed == 4  # two '=…' formulas and two error-value guesses
    wb = openpyxl.load_workbook(path)
    cells = [c for row in wb["s"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    # the same text (an .xlsx is XML, which reads a carriage return back as a line feed)
    assert [c.value for c in wb["s"]["A"][1:]] == [h.replace("\r", "\n") for h in HOSTILE] + [
        "#N/A", "#DIV/0!"]


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_openpyxl_would_have_written_a_formula_or_kept_text(text, tmp_path):
    # what keep_text_cells undoes: openpyxl binds '=…' as a formula (and nothing else)
    wb = openpyxl.Workbook()
    wb.active["A1"] = text
    assert (wb.active["A1"].data_type == "f") == (text.startswith("=") and len(text) > 1)


def test_arrow_engine_writes_the_cells_pandas_writes(tmp_path):
    """engine="arrow": the same cells as the pandas writer (read back as text), BOM, CRLF."""
    from tierlab.io.safe_text import write_csv

    n = len(HOSTILE) + len(HARMLESS)
    frame = pd.DataFrame({
        "customer_id": pd.array([f"C{i:03d}" for i in range(n)], dtype="str"),
        "review": pd.to_datetime(["2025-01-31"] * (n - 1) + [None]),
        "tier": pd.Categorical(["High", "Low"] * (n // 2) + ["High"] * (n % 2)),
        "reason": pd.array([*HOSTILE, *HARMLESS], dtype="str"),
        "note": pd.Series(["a,b", "x\r\ny", 'say "hi"', None] + ["—"] * (n - 4), dtype=object),
        "count": np.arange(n, dtype="int64"),
    })
    slow, fast = tmp_path / "pandas.csv", tmp_path / "arrow.csv"
    write_csv(frame, slow, index=False, date_format="%Y-%m-%d")
    write_csv(frame, fast, index=False, date_format="%Y-%m-%d", engine="arrow")
    raw = fast.read_bytes()
    assert raw.startswith("\ufeff".encode()) and raw.count(b"\r\n") >= n + 1
    read = {p: pd.read_csv(p, encoding="utf-8-sig", dtype=str, keep_default_na=False)
            for p in (slow, fast)}
    pd.testing.assert_frame_equal(read[fast], read[slow])
    assert read[fast]["reason"].str.startswith("'").sum() == len(HOSTILE)
    assert read[fast]["review"].iloc[0] == "2025-01-31"
