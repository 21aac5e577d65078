"""Text cells that stay text in a spreadsheet: no formula injection from names or notes.

A customer name, note or tier name that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is read by Excel (and LibreOffice, Google Sheets) as the start of a formula when
the file is a CSV, and ``=…`` becomes a live formula in an ``.xlsx`` written with openpyxl. Every
table tierlab writes goes through here:

- **CSV** (:func:`csv_safe`, :func:`write_csv`): such text cells get a leading ``'`` (the OWASP
  advice), which the spreadsheet shows as text; text in the index and the column labels too.
  Numbers, dates and missing values are untouched, and so are numbers written as text
  (``-12.5``, ``+3%``) and text that starts with anything else. :func:`write_csv` also ends
  lines with CRLF so that a field holding a carriage return is quoted instead of breaking its
  row.
- **xlsx** (:func:`keep_text_cells`): cells keep their exact text and are stored as strings:
  openpyxl's formula (``=…``) and error (``#N/A``…) guesses are undone for text values.

Detection is vectorized per column; only the cells that need it are touched.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMULA_STARTS", "formula_like", "neutralize", "csv_safe", "write_csv",
           "keep_text_cells"]

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = r"[=+\-@\t\r]"
# A number written as text (``-12.5``, ``+3%``, ``-1,234.50``, ``-1e-3``): nothing to evaluate.
_NUMBER_RE = r"[+-]?[0-9][0-9,]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?%?"


def _is_text_dtype(dtype: Any) -> bool:
    return bool(pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype))


def formula_like(values: pd.Series | pd.Index, pattern: str = _FORMULA_RE) -> np.ndarray:
    """Which cells are text starting like a formula (``=``, ``+``, ``-``, ``@``, tab, CR).

    Non-text cells (numbers, dates, missing) and text that is just a number (``-12.5``,
    ``+3%``) are never formula-like. Categorical values are judged by their categories.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.CategoricalDtype):
        hit_cats = formula_like(pd.Series(s.cat.categories), pattern)
        codes = s.cat.codes.to_numpy()
        return (codes >= 0) & hit_cats[np.clip(codes, 0, None)] if len(hit_cats) else \
            np.zeros(len(s), dtype=bool)
    if not _is_text_dtype(s.dtype) or not len(s):
        return np.zeros(len(s), dtype=bool)
    try:  # object columns may mix text with numbers or dates: those are never formula-like
        hit = s.str.match(pattern, na=False) & ~s.str.fullmatch(_NUMBER_RE, na=False)
    except AttributeError:  # an object column without any text
        return np.zeros(len(s), dtype=bool)
    return hit.to_numpy(dtype=bool)


def neutralize(values: pd.Series) -> pd.Series:
    """Prefix ``'`` to formula-like text cells (see :func:`formula_like`); others unchanged."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = pd.Series(values.cat.categories)
        fixed = neutralize(cats)
        if fixed.is_unique:
            return values.cat.rename_categories(list(fixed))
        values = values.astype(object)
    hit = formula_like(values)
    if not hit.any():
        return values
    out = values.astype(object)
    out[hit] = "'" + out[hit].astype(str)
    return out


def _safe_name(name: Any) -> Any:
    return "'" + name if isinstance(name, str) and formula_like(pd.Index([name]))[0] else name


def _safe_index(index: pd.Index) -> pd.Index:
    """The index (or column labels) with formula-like labels and names neutralized."""
    if isinstance(index, pd.MultiIndex):
        index = index.set_levels([list(_safe_index(level)) for level in index.levels])
    elif formula_like(index).any():
        index = pd.Index(neutralize(pd.Series(index, dtype=index.dtype)).to_numpy(),
                         name=index.name)
    return index.set_names([_safe_name(n) for n in index.names])


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, index and column labels cannot start a formula.

    Examples
    --------
    >>> csv_safe(pd.DataFrame({"name": ["=1+2", "Ann", "-x"], "n": [-1, 2, 3]}))
       name  n
    0  '=1+2 -1
    1   Ann  2
    2   '-x  3
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _is_text_dtype(col.dtype) or isinstance(col.dtype, pd.CategoricalDtype):
            fixed = neutralize(col)
            if fixed is not col:
                out.isetitem(i, fixed.array)
    out.index = _safe_index(out.index)
    out.columns = _safe_index(out.columns)
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, engine: str = "pandas",
              **options: Any) -> None:
    """Write ``csv_safe(frame)`` as CSV: UTF-8 with BOM (for Excel) and CRLF line ends.

    With CRLF (RFC 4180) line ends every field holding a carriage return or a line feed is
    quoted, so text with a bare CR cannot break a row. ``options`` go to
    :meth:`pandas.DataFrame.to_csv` (``index``, ``date_format`` …).

    ``engine="arrow"`` writes millions of rows many times faster with pyarrow's CSV writer,
    for tables of text, numbers and dates without an index (``index=False``): the same cells,
    except that every text cell is quoted and numbers are printed as pyarrow prints them
    (``3`` for ``3.0``). Other tables fall back to pandas.
    """
    safe = csv_safe(frame)
    if engine == "arrow" and not options.get("index", True) and \
            _write_csv_arrow(safe, path, options.get("date_format")):
        return
    options = {"encoding": "utf-8-sig", **options, "lineterminator": "\r\n"}
    safe.to_csv(path, **options)


def _write_csv_arrow(frame: pd.DataFrame, path: str | os.PathLike[str],
                     date_format: str | None) -> bool:
    """``frame`` (no index) as CSV with pyarrow; False, writing nothing, when it cannot."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if isinstance(frame.columns, pd.MultiIndex) or not frame.columns.is_unique:
        return False
    arrays = []
    try:
        for name in frame.columns:  # a loop over columns
            s = frame[name]
            if pd.api.types.is_datetime64_any_dtype(s.dtype):
                arr = pc.strftime(pa.array(s, from_pandas=True),
                                  format=date_format or "%Y-%m-%d %H:%M:%S")
            elif isinstance(s.dtype, pd.CategoricalDtype):  # dictionary → its texts
                arr = pc.cast(pa.array(s, from_pandas=True), pa.string())
            elif pd.api.types.is_bool_dtype(s.dtype):
                return False  # pandas writes True/False, pyarrow true/false
            else:
                arr = pa.array(s, from_pandas=True)
            arrays.append(arr)
        table = pa.table(arrays, names=[str(c) for c in frame.columns])
    except (pa.ArrowException, TypeError, ValueError):  # mixed object columns: pandas
        return False
    with open(path, "wb") as fh:
        fh.write("\ufeff".encode())  # the BOM: Excel reads the file as UTF-8
        pacsv.write_csv(table, fh, pacsv.WriteOptions(eol="\r\n"))
    return True


def keep_text_cells(ws: Any, frame: pd.DataFrame, *, first_row: int = 2,
                    first_col: int = 1) -> int:
    """Store the text cells of ``frame`` in worksheet ``ws`` as strings, never formulas.

    ``frame`` was written with ``to_excel(index=False)`` so that its cell ``[i, j]`` is the
    worksheet cell at row ``first_row + i``, column ``first_col + j``. openpyxl turns text that
    starts with ``=`` into a formula and ``#N/A``-like text into an error value; those cells
    are set back to string cells with the same text.

    Returns
    -------
    int
        The number of cells set back to text.
    """
    fixed = 0
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        rows = np.flatnonzero(formula_like(col, "[=#]"))
        for i in rows:  # only the suspicious cells, not the column
            cell = ws.cell(row=first_row + int(i), column=first_col + j)
            if isinstance(cell.value, str) and cell.data_type in ("f", "e"):
                cell.data_type = "s"
                fixed += 1
    return fixed
