"""The tier workbook for business use, written fast with xlsxwriter in constant-memory mode.

:func:`write_tier_workbook` writes the sheets ``tiers``, ``summary`` and ``changes``:

- dates as date-only cells (``yyyy-mm-dd``), shares as percentages (``0.0%``), money and counts
  with thousands separators;
- reasons and notes wrapped, column widths that fit the text (CJK characters count double,
  capped), the header row frozen and filters on;
- every text written with ``write_string`` in a workbook opened with
  ``strings_to_formulas=False``: a name such as ``=HYPERLINK(...)`` or ``+1-555`` stays text, it
  can never become a formula (formula-injection safety), whatever it looks like;
- rows go out one at a time (constant memory), so 1M customers take seconds, not minutes.

When the change history has more rows than a sheet holds (1,048,576 with the header), it is
written in full to ``<stem>_changes.csv`` beside the workbook, and the ``changes`` sheet says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierlab.errors import DataError

__all__ = ["EXCEL_MAX_ROWS", "write_tier_workbook"]

#: Rows of an Excel sheet, the header included.
EXCEL_MAX_ROWS = 1_048_576
_MAX_WIDTH = 60
_WRAP = {"reason", "notes"}
_PERCENT = {"share", "revenue_share"}
_MONEY = {"benefit_cost", "revenue"}
_EPOCH_DAYS = 25569.0  # 1970-01-01 as an Excel serial day number
_SAMPLE = 20_000  # rows read to size the columns


def _display_width(values: pd.Series) -> int:
    """Widest text of a column in characters, CJK characters counting double."""
    text = values.dropna().astype(str)
    if not len(text):
        return 0
    return int((text.str.len() + text.str.count(r"[^\x00-\x7f]")).max())


def _kind(name: str, s: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if name in _PERCENT:
        return "percent"
    if pd.api.types.is_bool_dtype(s):
        return "text"
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    if pd.api.types.is_float_dtype(s):
        return "money" if name in _MONEY else "number"
    return "text"


def _cells(s: pd.Series, kind: str) -> list[Any]:
    """A column as Python values ready to write (vectorized; None for an empty cell)."""
    if kind == "date":
        ns = pd.to_datetime(s).dt.tz_localize(None) if getattr(s.dt, "tz", None) else \
            pd.to_datetime(s)
        days = ns.dt.normalize().to_numpy(dtype="datetime64[ns]").astype("int64") / 86_400e9
        serial = days + _EPOCH_DAYS
        return pd.Series(serial).where(ns.notna().to_numpy(), None).tolist()
    if kind in ("percent", "integer", "money", "number"):
        v = pd.to_numeric(s, errors="coerce").astype("float64")
        return v.where(np.isfinite(v.to_numpy()), None).tolist()
    text = s.astype(object).where(s.notna(), None)
    return [None if v is None else str(v) for v in text.tolist()]


def _write_sheet(wb: Any, name: str, frame: pd.DataFrame, formats: dict[str, Any]) -> None:
    """One sheet: bold frozen header, filters, typed cells, fitted widths."""
    ws = wb.add_worksheet(name)
    columns = [str(c) for c in frame.columns]
    kinds = [_kind(c, frame[c]) for c in columns]
    head = frame.head(_SAMPLE)
    for j, (col, kind) in enumerate(zip(columns, kinds, strict=True)):
        if kind == "date":
            width = 11
        elif kind in ("percent", "integer", "money", "number"):
            width = 14
        else:
            width = _display_width(head[col])
        width = min(max(width, len(col) + 2, 8) + 2, _MAX_WIDTH)
        ws.set_column(j, j, width, formats["wrap"] if col in _WRAP else None)
    ws.freeze_panes(1, 0)
    for j, col in enumerate(columns):
        ws.write_string(0, j, col, formats["header"])
    if len(columns):
        ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    values = [_cells(frame[c], k) for c, k in zip(columns, kinds, strict=True)]
    writers: list[Callable[[int, Any], Any]] = []
    for j, (col, kind) in enumerate(zip(columns, kinds, strict=True)):
        fmt = formats.get("wrap" if col in _WRAP else kind)
        if kind == "text":
            writers.append(lambda r, v, j=j, fmt=fmt: ws.write_string(r, j, v, fmt))
        else:
            writers.append(lambda r, v, j=j, fmt=fmt: ws.write_number(r, j, v, fmt))
    # xlsxwriter's constant-memory mode takes cells row by row: this loop over rows is the
    # writer's own interface (each call appends to the sheet's XML), not a pandas loop
    for r, row in enumerate(zip(*values, strict=True), start=1):
        for write, v in zip(writers, row, strict=True):
            if v is not None:
                write(r, v)


def write_tier_workbook(path: str | Path, table: pd.DataFrame, summary: pd.DataFrame,
                        changes: pd.DataFrame) -> list[Path]:
    """Write the tier workbook (sheets ``tiers``, ``summary``, ``changes``).

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file (replaced if it exists).
    table, summary, changes : DataFrame
        The tier table, its per-tier summary and the change history.

    Returns
    -------
    list of Path
        The files written: the workbook, and ``<stem>_changes.csv`` when the change history
        does not fit in a sheet.

    Raises
    ------
    DataError
        More customers than a sheet holds (write a ``.csv`` instead).
    """
    import xlsxwriter

    path = Path(path)
    if len(table) >= EXCEL_MAX_ROWS:
        raise DataError(f"{path}: {len(table):,} customers do not fit in an Excel sheet "
                        f"({EXCEL_MAX_ROWS - 1:,} rows at most); write a .csv instead")
    written = [path]
    overflow = len(changes) >= EXCEL_MAX_ROWS
    if overflow:
        side = path.with_name(f"{path.stem}_changes.csv")
        changes.to_csv(side, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
        written.append(side)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False,
                                         "default_date_format": "yyyy-mm-dd"})
    formats = {"header": wb.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
               "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
               "percent": wb.add_format({"num_format": "0.0%"}),
               "integer": wb.add_format({"num_format": "#,##0"}),
               "money": wb.add_format({"num_format": "#,##0.00"}),
               "number": wb.add_format({"num_format": "#,##0.##"}),
               "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
               "text": None}
    try:
        _write_sheet(wb, "tiers", table, formats)
        _write_sheet(wb, "summary", summary, formats)
        if overflow:
            _overflow_sheet(wb, written[-1].name, len(changes), formats)
        else:
            _write_sheet(wb, "changes", changes, formats)
    finally:
        wb.close()
    return written


def _overflow_sheet(wb: Any, file_name: str, rows: int, formats: dict[str, Any]) -> None:
    ws = wb.add_worksheet("changes")
    ws.set_column(0, 0, 100, formats["wrap"])
    lines: Sequence[str] = (
        f"The change history has {rows:,} rows, more than an Excel sheet holds "
        f"({EXCEL_MAX_ROWS - 1:,}).",
        f"It is written in full to {file_name}, beside this workbook (UTF-8, opens in Excel).",
        f"变动历史共{rows:,}行，超过Excel工作表上限；已完整写入本工作簿旁的文件{file_name}。",
    )
    for r, line in enumerate(lines):
        ws.write_string(r, 0, line, formats["wrap"])
