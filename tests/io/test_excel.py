"""tierlab.io.excel: the tier workbook read back with openpyxl, as Excel would show it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

import tierlab as tl
from tierlab.errors import DataError
from tierlab.io import excel
from tierlab.io.excel import write_tier_workbook
from tierlab.io.export import tier_table, tier_table_summary

DANGEROUS = ["=HYPERLINK(\"http://x\",\"y\")", "+1-555-0100", "-2+3", "@SUM(A1)", "=1+1"]


@pytest.fixture(scope="module")
def run():
    tx, customers = tl.generate(120, months=8, seed=3)
    customers = customers.copy()
    customers.loc[customers.index[:len(DANGEROUS)], "name"] = DANGEROUS
    history = tl.TierScheme.from_yaml("data/rules/monthly_spend.yaml").run(tx, customers=customers)
    return history, customers


@pytest.fixture(scope="module")
def workbook(run, tmp_path_factory):
    history, customers = run
    path = tmp_path_factory.mktemp("xlsx") / "tiers.xlsx"
    table = tier_table(history, customers)
    files = write_tier_workbook(path, table, tier_table_summary(history), history.changes)
    assert files == [path]
    return openpyxl.load_workbook(path), table, history


def _column(ws, header):
    heads = [c.value for c in ws[1]]
    return heads.index(header) + 1


def test_dates_are_date_only_cells(workbook):
    wb, table, history = workbook
    ws = wb["tiers"]
    col = _column(ws, "tier_since")
    cell = ws.cell(row=2, column=col)
    assert isinstance(cell.value, dt.datetime) and cell.value.time() == dt.time(0)
    assert cell.value.date() == pd.Timestamp(table["tier_since"].iloc[0]).date()
    assert cell.number_format == "yyyy-mm-dd"
    rev = wb["changes"].cell(row=2, column=_column(wb["changes"], "review"))
    assert rev.number_format == "yyyy-mm-dd"


def test_shares_are_percentages(workbook):
    wb, _, history = workbook
    ws = wb["summary"]
    col = _column(ws, "share")
    cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    assert all(c.number_format == "0.0%" for c in cells)
    np.testing.assert_allclose(sorted(c.value for c in cells),
                               sorted(tier_table_summary(history)["share"]))
    assert ws.cell(row=2, column=_column(ws, "customers")).number_format == "#,##0"


def test_reasons_wrap_and_widths_fit(workbook):
    wb, table, _ = workbook
    ws = wb["tiers"]
    col = _column(ws, "reason")
    assert ws.cell(row=2, column=col).alignment.wrap_text
    letter = openpyxl.utils.get_column_letter(col)
    assert 40 <= ws.column_dimensions[letter].width <= 62  # capped: long reasons wrap instead
    cid = openpyxl.utils.get_column_letter(_column(ws, "customer_id"))
    longest = table["customer_id"].astype(str).str.len().max()
    assert ws.column_dimensions[cid].width >= longest  # no #### and no cut ids
    since = openpyxl.utils.get_column_letter(_column(ws, "tier_since"))
    assert ws.column_dimensions[since].width >= 10  # a yyyy-mm-dd date fits


def test_header_frozen_and_filtered(workbook):
    wb, table, _ = workbook
    for name in ("tiers", "summary", "changes"):
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert all(c.font.bold for c in ws[1])
    assert wb["tiers"].max_row == len(table) + 1


def test_text_is_never_a_formula(workbook, run, tmp_path):
    wb, table, _ = workbook
    ws = wb["tiers"]
    col = _column(ws, "name")
    names = [ws.cell(row=r, column=col).value for r in range(2, ws.max_row + 1)]
    assert set(DANGEROUS) <= set(names)  # kept as the text it was, not evaluated
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"formula in {cell.coordinate}: {cell.value!r}"
    # read with formulas kept as written: the raw XML has no formula element at all
    import zipfile

    with zipfile.ZipFile(_any_book(run, tmp_path)) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist()
                      if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml


def _any_book(run, tmp_path):
    history, customers = run
    path = tmp_path / "again.xlsx"
    write_tier_workbook(path, tier_table(history, customers), tier_table_summary(history),
                        history.changes)
    return path


def test_change_history_too_long_goes_beside_the_workbook(run, tmp_path, monkeypatch):
    history, customers = run
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 50)  # a sheet of 50 rows, for the test
    path = tmp_path / "tiers.xlsx"
    files = write_tier_workbook(path, tier_table(history, customers).head(40),
                                tier_table_summary(history), history.changes)
    side = tmp_path / "tiers_changes.csv"
    assert files == [path, side]
    full = pd.read_csv(side, encoding="utf-8-sig", dtype={"customer_id": str})
    assert len(full) == len(history.changes) > 50  # complete, not the latest rows only
    assert full["customer_id"].tolist() == history.changes["customer_id"].astype(str).tolist()
    ws = openpyxl.load_workbook(path)["changes"]
    said = " ".join(str(c.value) for c in ws["A"] if c.value)
    assert "tiers_changes.csv" in said and f"{len(history.changes):,}" in said


def test_too_many_customers_is_a_data_error(run, tmp_path, monkeypatch):
    history, customers = run
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 10)
    with pytest.raises(DataError, match="write a .csv"):
        write_tier_workbook(tmp_path / "t.xlsx", tier_table(history, customers),
                            tier_table_summary(history), history.changes.head(5))
