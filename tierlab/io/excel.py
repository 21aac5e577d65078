"""The tier workbook for business use, written fast with xlsxwriter in constant-memory mode.

:func:`write_tier_workbook` writes the sheets ``tiers``, ``summary`` and ``changes``:

- dates as date-only cells (``yyyy-mm-dd``), shares as percentages (``0.0%``), money and counts
  with thousands separators;
- reasons and notes wrapped, column widths that fit the text (CJK characters count double,
  capped), the header row frozen and filters on;
- every text written with ``write_string`` in a workbook opened with
  ``strings_to_formulas=False``: a name such as ``=HYPERLINK(...)`` or ``+1-555`` stays text, it
  can never become a formula (formula-injection safety), whatever it looks like;
- fast at scale: xlsxwriter (constant-memory mode) writes each sheet's structure — styles,
  widths, frozen header, filter, header row — and the data rows are rendered column by column
  with pyarrow's string kernels in chunks and streamed into the sheet, in the cell form
  xlsxwriter itself writes (inline strings, numbers with the column's style). A Python call
  per cell would take minutes for 1M customers; this takes seconds.

When the change history has more rows than a sheet holds (1,048,576 with the header), it is
written in full to ``<stem>_changes.csv`` beside the workbook, and the ``changes`` sheet says so.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierlab.errors import DataError
from tierlab.io.safe_text import write_csv

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


_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_CHUNK = 100_000  # rows rendered at a time (memory stays flat)


def _letters(j: int) -> str:
    """Column letters of the 0-based column *j* (0 → A, 26 → AA)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _values(s: pd.Series, kind: str) -> pa.Array:
    """A column as cell contents (vectorized): XML-escaped text or numbers; null = empty."""
    if kind == "date":
        ts = pd.to_datetime(s)
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_localize(None)
        days = ts.dt.normalize().to_numpy(dtype="datetime64[ns]").astype("int64") // 86_400 \
            // 10**9 + int(_EPOCH_DAYS)
        return pc.cast(pa.array(days, mask=ts.isna().to_numpy()), pa.string())
    if kind in ("percent", "integer", "money", "number"):
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64")
        return pc.cast(pa.array(v, mask=~np.isfinite(v)), pa.string())
    if isinstance(s.dtype, pd.StringDtype) or isinstance(s.dtype, pd.CategoricalDtype) and \
            isinstance(s.dtype.categories.dtype, pd.StringDtype):
        text = pc.cast(pa.array(s, from_pandas=True), pa.string())  # no Python objects
    else:  # object columns: anything printable as text
        text = pa.array(s.astype("string").astype(object).where(s.notna(), None),
                        type=pa.string())
    text = pc.replace_substring(text, "&", "&amp;")
    text = pc.replace_substring(text, "<", "&lt;")
    text = pc.replace_substring(text, ">", "&gt;")
    return pc.replace_substring_regex(text, _CONTROL, "")


def _rows_xml(frame: pd.DataFrame, kinds: Sequence[str], styles: Sequence[str],
              first_row: int) -> Iterator[str]:
    """The ``<row>`` elements of *frame*'s rows, chunk by chunk, numbered from *first_row*."""
    for lo in range(0, len(frame), _CHUNK):  # a loop over chunks of 100,000 rows
        part = frame.iloc[lo:lo + _CHUNK]
        numbers = pc.cast(pa.array(np.arange(first_row + lo, first_row + lo + len(part))),
                          pa.string())
        cells = []
        for j, (col, kind) in enumerate(zip(part.columns, kinds, strict=True)):
            values = _values(part[col], kind)
            style = f' s="{styles[j]}"' if styles[j] else ""
            if kind == "text":
                head, tail = '" t="inlineStr"><is><t xml:space="preserve">', "</t></is></c>"
            else:
                head, tail = '"><v>', "</v></c>"
            cells.append(pc.fill_null(pc.binary_join_element_wise(
                f'<c r="{_letters(j)}', numbers, f'"{style}{head[1:]}', values, tail, ""), ""))
        rows = pc.binary_join_element_wise('<row r="', numbers, '">', *cells, "</row>", "")
        yield "".join(rows.to_pylist())


def _fill_sheets(path: Path, sheets: dict[str, tuple[pd.DataFrame, list[str]]]) -> None:
    """Stream the data rows of each sheet (member name → frame, kinds) into the workbook."""
    tmp = path.with_name(f".{path.name}.rows")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED,
                                                      compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename not in sheets:
                dst.writestr(info, data)
                continue
            frame, kinds = sheets[info.filename]
            xml = data.decode("utf-8")
            styles = _column_styles(xml, len(frame.columns))
            last = f"{_letters(max(len(frame.columns) - 1, 0))}{len(frame) + 1}"
            xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', xml, count=1)
            head, tail = xml.split("</sheetData>", 1)
            with dst.open(info.filename, "w", force_zip64=True) as out:
                out.write(head.encode("utf-8"))
                for chunk in _rows_xml(frame, kinds, styles, 2):
                    out.write(chunk.encode("utf-8"))
                out.write(("</sheetData>" + tail).encode("utf-8"))
    os.replace(tmp, path)


def _column_styles(xml: str, n: int) -> list[str]:
    """The style index of each column, as xlsxwriter wrote it in ``<cols>`` ("" for none)."""
    styles = [""] * n
    for m in re.finditer(r"<col [^>]*/>", xml):
        attrs = dict(re.findall(r' (min|max|style)="(\d+)"', m.group(0)))
        for j in range(int(attrs["min"]) - 1, min(int(attrs["max"]), n)):
            styles[j] = attrs.get("style", "")
    return styles


def _write_sheet(wb: Any, name: str, frame: pd.DataFrame, formats: dict[str, Any],
                 headers: Mapping[str, str]) -> list[str]:
    """One sheet's structure: bold frozen header, filters, column formats and fitted widths.

    Formats follow the column names; the header row shows ``headers[name]`` (default the name).
    Returns the kind of each column; the data rows are streamed in by :func:`_fill_sheets`.
    """
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
        title = pd.Series([headers.get(col, col)])
        width = min(max(width, _display_width(title) + 2, 8) + 2, _MAX_WIDTH)
        ws.set_column(j, j, width, formats["wrap"] if col in _WRAP else formats.get(kind))
    ws.freeze_panes(1, 0)
    for j, col in enumerate(columns):
        ws.write_string(0, j, headers.get(col, col), formats["header"])
    if len(columns):
        ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    return kinds


def write_tier_workbook(path: str | Path, table: pd.DataFrame, summary: pd.DataFrame,
                        changes: pd.DataFrame, *, headers: Mapping[str, str] | None = None,
                        sheet_names: Sequence[str] = ("tiers", "summary", "changes"),
                        ) -> list[Path]:
    """Write the tier workbook (sheets ``tiers``, ``summary``, ``changes``).

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file (replaced if it exists).
    table, summary, changes : DataFrame
        The tier table, its per-tier summary and the change history.
    headers : mapping, optional
        Column name → the header row's text (e.g. Chinese headers); cell formats still follow
        the column names. Default: the names.
    sheet_names : three str
        Names of the table, summary and change-history sheets.

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
        write_csv(changes.rename(columns=dict(headers or {})), side, index=False,
                  date_format="%Y-%m-%d", engine="arrow")
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
    names = list(sheet_names)
    frames = {names[0]: table, names[1]: summary}
    if not overflow:
        frames[names[2]] = changes
    sheets: dict[str, tuple[pd.DataFrame, list[str]]] = {}
    try:
        for i, (name, frame) in enumerate(frames.items(), start=1):
            sheets[f"xl/worksheets/sheet{i}.xml"] = (frame, _write_sheet(wb, name, frame, formats,
                                                                     dict(headers or {})))
        if overflow:
            _overflow_sheet(wb, names[2], written[-1].name, len(changes), formats)
    finally:
        wb.close()
    _fill_sheets(path, sheets)
    return written


def _overflow_sheet(wb: Any, sheet: str, file_name: str, rows: int,
                    formats: dict[str, Any]) -> None:
    ws = wb.add_worksheet(sheet)
    ws.set_column(0, 0, 100, formats["wrap"])
    lines: Sequence[str] = (
        f"The change history has {rows:,} rows, more than an Excel sheet holds "
        f"({EXCEL_MAX_ROWS - 1:,}).",
        f"It is written in full to {file_name}, beside this workbook (UTF-8, opens in Excel).",
        f"变动历史共{rows:,}行，超过Excel工作表上限；已完整写入本工作簿旁的文件{file_name}。",
    )
    for r, line in enumerate(lines):
        ws.write_string(r, 0, line, formats["wrap"])
