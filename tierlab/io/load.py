r"""Load transaction and customer exports into tierlab's canonical frames.

:func:`load_transactions` and :func:`load_customers` read a file (CSV/TXT/TSV, ``.xlsx``,
``.parquet``) or a pandas DataFrame, map its columns to canonical names, parse ids, amounts and
dates written in the many ways real exports write them, and return a :class:`LoadResult` holding
the canonical frame, a table of rejected rows and a JSON-ready summary.

Data policies
-------------
Nothing is lost silently.
    Every input row ends up either in ``result.data`` or in ``result.rejected`` (with its original
    values, its ``source_row`` and a ``reason``): ``rows_accepted + rows_rejected == rows_in``.
    ``source_row`` is the 1-based data-row number in a file (1 = the first row under the header;
    blank lines are not counted) or the 0-based position (``iloc``) in an input DataFrame.
A file that cannot be used raises one :class:`~tierlab.errors.DataError`.
    Missing file, unsupported extension, empty file, unreadable bytes, a required column that is
    not there (the message lists the columns that exist and suggests the closest), a mapped header
    that is not in the file, or a column in which *no* value could be parsed (a wrong
    ``date_format`` or a column mapped to the wrong header rather than a few bad rows).
Rejection reasons, first match wins, in this order.
    Both: a line that cannot be decoded like the rest of a text file (see Reading):
    ``undecodable text (not UTF-8)``, ``undecodable text (not GB18030)``, ``mixed encoding
    (UTF-8 line in a GB18030 file)``.
    Transactions: ``missing customer_id``, ``missing timestamp``, ``unparseable timestamp``,
    ``missing amount``, ``unparseable amount``, ``unparseable quantity``, ``duplicate order line``.
    Customers: ``missing customer_id``, ``unparseable signup_date``, ``unparseable satisfaction``,
    ``duplicate customer_id``.
Missing values.
    Empty cells and the tokens ``NA``, ``N/A``, ``#N/A``, ``NaN``, ``NaT``, ``null``, ``None``,
    ``-`` and ``--`` (any case, surrounding whitespace ignored) count as missing in id, date and
    number columns. A missing ``quantity``, ``order_id``, ``signup_date`` or ``satisfaction`` is
    kept as NaN/NaT (``period_panel`` sums a missing quantity as 0). Canonical text columns
    (``order_id``, ``channel``, ``currency``, ``name``, ``phone``, ...) lose surrounding
    whitespace and an empty one is missing; non-canonical columns are kept exactly as read.
Duplicates.
    Without an ``order_id`` column, identical rows are all kept (two equal purchases on one day
    are real); ``summary["identical_rows_kept"]`` counts the accepted rows that equal an earlier
    accepted row in every column (what ``data.duplicated().sum()`` gives). With an ``order_id``
    column, a line identical to another line in every column (the canonical fields as parsed,
    every other column, e.g. a product or sku, exactly as read) is rejected as ``duplicate order
    line``; one copy is kept. Two lines of one order that differ in any column (two products at
    the same price) are two purchases and both kept. Rows whose ``order_id`` is
    missing are treated as in a file without order ids. Which copy is kept is decided by the
    text of the canonical columns as read (``"10"`` before ``"10.0"``), never by position. In
    the customer table a repeated ``customer_id`` is rejected as ``duplicate customer_id``; the
    first occurrence in file order (among rows not rejected for another reason) is kept.
Row order never matters (transactions).
    The accepted frame keeps the source's row order (rejected rows removed) with a fresh
    ``RangeIndex``, whatever the source: shuffling the input rows shuffles the frame the same
    way and gives the same rows, the same rejected rows (which copy of a duplicate order line
    is kept is decided by the values, see Duplicates) and the same summary. No sort of millions
    of rows is made for the frame's sake: ``rfm``, ``period_panel`` and the tier engine group
    by customer themselves. The customer frame is sorted by ``customer_id``.
Ids.
    Ids are read as text exactly as written (``"00001"`` stays ``"00001"``), with surrounding
    whitespace removed. Integer ids from Parquet/DataFrame input become their decimal text
    (also from a float column holding whole numbers: ``1.0`` → ``"1"``).
Amounts and quantities.
    ``1,234.50``, ``¥1,234``, ``￥1,234``, ``1234元``, ``RMB 12``, ``$12.00``, ``-50``, ``(50.00)``
    (= -50), ``−50`` (Unicode minus) and surrounding or inner spaces are understood. A comma is
    read as a thousands separator only in groups of three digits (``1,234.5``); anything else
    with a comma (``1.234,50``, ``1,5``) is ``unparseable`` rather than silently misread.
    Quantities get the same cleaning without the currency symbols. Infinite values are
    unparseable. ``-0`` is stored as ``0``.
Dates.
    Each value may use any of these styles; a column may mix them: ISO ``2025-03-01`` (also
    ``2025-3-1``, optional time ``2025-03-01 14:30[:00[.123]]`` or ``T``), ``2025/3/1``,
    ``2025.03.01``, ``2025年3月1日`` (same optional time), ``20250301`` (text or integer),
    Excel serial day numbers from 20000 to 80000 (1954-10-03 to 2119-01-11; fractions are
    times of day, rounded to the millisecond), or the explicit ``date_format`` (tried first;
    values it does not match still get the styles above, all of which put the year first).
    Day-first or month-first text (``01/03/2025``) needs ``date_format``. Dates outside
    1677-09-22 .. 2262-04-11 are unparseable. The result is ``datetime64[ns]``, tz-naive.
Time zones (``tz``).
    Values written with a UTC offset (``2025-03-01T10:00:00+08:00``, ``...Z``) and tz-aware
    datetime columns: without ``tz`` the offset is dropped and the local wall-clock time as
    written is kept; with ``tz`` they are converted to ``tz`` and the zone is then dropped.
    Values without an offset are taken to be in ``tz`` already and are kept unchanged.
Reading.
    The delimiter of text files is sniffed from the header line: comma, tab, semicolon or pipe
    (the most frequent wins; on a tie in that order), else runs of whitespace (``.tsv`` files
    use tab). The encoding is UTF-8 when the whole file is (a BOM is fine), UTF-16 when the
    file starts with its BOM (Excel's "Unicode text"), else decided line by line
    (:mod:`tierlab.io.encodings`): GB18030 (a superset of GBK) for an export in it; in a file
    mixing encodings the lines of the minority are rejected with the reasons above and listed
    (1-based) in ``summary["undecodable_lines"]``, never decoded the wrong way. An explicit
    ``encoding=`` (every line in it) or ``sep=`` wins. Blank and whitespace-only lines are not
    rows. A row with the wrong number of fields, a quote that is never closed and an oversized
    field are errors naming the line; a workbook, zip or Parquet file under a text name is
    named as such.
    A clean UTF-8 CSV (every value converts, no row rejected, no ``date_format``) is read in
    one pass with typed columns (:mod:`tierlab.io.typedcsv`); any other file, or any problem,
    takes the text path described here, with the same result.
    ``.xlsx`` files are read with openpyxl (``sheet=`` name or 0-based index, default the
    first sheet; integers shown zero-padded by a ``00000`` number format keep the padding,
    ``00002``), Parquet with pyarrow. Single-character separators use Arrow's CSV reader,
    ``r"\s+"`` pandas' C engine, other regular expressions the python engine.
Header line (``header``).
    ``header=0`` (default): the first line holds the column names; when every mapped date or
    number column has a date or number as its header, the line is data, and that is an error
    suggesting ``header=None`` (mapping columns by the first row's values would lose it).
    ``header=None``: no header line; columns are named 0, 1, ... and mapped by position,
    ``columns={"customer_id": 0, "timestamp": 1, "amount": 2}``.

Other columns are kept after the canonical ones, with their original names and values as read.

Where each step lives: reading a source (:mod:`tierlab.io.reading`), mapping headers
(:mod:`tierlab.io.columns`), parsing ids, text and numbers (:mod:`tierlab.io.values`) and dates
(:mod:`tierlab.io.dates`), duplicates and rejected rows (:mod:`tierlab.io.ordering`), the
summary (:mod:`tierlab.io.summary`); typed sources (:mod:`tierlab.io.typed`) and clean CSV
files read with typed columns (:mod:`tierlab.io.typedcsv`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierlab._kernels.overlap import beside
from tierlab.io.columns import (
    CUSTOMER_COLUMNS,
    TRANSACTION_COLUMNS,
    check_header,
    resolve_columns,
    unmapped_positions,
)
from tierlab.io.dates import check_tz, parse_datetime
from tierlab.io.ordering import (
    assemble,
    first_of_each_id,
    order_transactions,
    reason_codes,
    rejected_frame,
)
from tierlab.io.reading import RawTable, read_source
from tierlab.io.summary import summary_head, transaction_figures
from tierlab.io.typed import load_typed_transactions
from tierlab.io.typedcsv import load_typed_csv
from tierlab.io.values import Ids, check_usable, encode_ids, parse_id, parse_number, to_text

__all__ = [
    "CUSTOMER_COLUMNS",
    "LoadResult",
    "TRANSACTION_COLUMNS",
    "load_customers",
    "load_transactions",
]

_DATE_FIX = "pass date_format='...' (e.g. '%d/%m/%Y')"

# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class LoadResult:
    """What a loader returns: the canonical frame, the rejected rows and a summary.

    Attributes
    ----------
    data : pandas.DataFrame
        The canonical frame (also available as ``.transactions`` / ``.customers``).
    rejected : pandas.DataFrame
        Rows not used: the original columns with their values as read, plus ``source_row``
        (1-based data-row number in the file, or 0-based position in an input DataFrame) and
        ``reason``; sorted by ``source_row``.
    summary : dict
        JSON-ready counts: ``file`` (path, or ``"<DataFrame>"``), ``format`` (``"text"``,
        ``"xlsx"``, ``"parquet"``, ``"dataframe"``), ``encoding``, ``sep`` and ``sheet`` (as
        detected or given; None when not applicable), ``rows_in``,
        ``rows_accepted``, ``rows_rejected``, ``rejected_by_reason``, ``undecodable_lines``
        (1-based lines of a text file rejected for their encoding), ``customers``; for
        transactions also ``identical_rows_kept``, ``first_date``, ``last_date``,
        ``total_spend`` and ``returns``.
    kind : str
        ``"transactions"`` or ``"customers"``.
    """

    data: pd.DataFrame
    rejected: pd.DataFrame
    summary: dict[str, Any]
    kind: str = "transactions"

    @property
    def transactions(self) -> pd.DataFrame:
        """The canonical frame (same object as :attr:`data`)."""
        return self.data

    @property
    def customers(self) -> pd.DataFrame:
        """The canonical frame (same object as :attr:`data`)."""
        return self.data

    def _lines(self) -> list[str]:
        s = self.summary
        lines = [
            f"{self.kind} from {s['file']}: {s['rows_accepted']:,} of {s['rows_in']:,} rows "
            f"accepted, {s['rows_rejected']:,} rejected"
        ]
        if s["rejected_by_reason"]:
            lines.append(
                "rejected: " + ", ".join(f"{k} {v:,}" for k, v in s["rejected_by_reason"].items())
            )
        if self.kind == "transactions":
            lines.append(
                f"{s['customers']:,} customers, {s['first_date']} to {s['last_date']}, "
                f"total spend {s['total_spend']:,.2f}, {s['returns']:,} returns, "
                f"{s['identical_rows_kept']:,} identical rows kept"
            )
        else:
            lines.append(f"{s['customers']:,} customers")
        return lines

    def __repr__(self) -> str:
        return "LoadResult(" + "; ".join(self._lines()) + ")"

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self._lines())
        return f"<b>LoadResult</b><ul>{items}</ul>"


# --------------------------------------------------------------------------------------------
# Public loaders
# --------------------------------------------------------------------------------------------

def load_transactions(
    source: str | Path | pd.DataFrame,
    columns: Mapping[str, str | int] | None = None,
    *,
    date_format: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    tz: str | None = None,
    header: int | None = 0,
) -> LoadResult:
    r"""Load a transaction log into the canonical transactions frame.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A ``.csv``/``.txt``/``.tsv``/``.dat`` text file, an ``.xlsx`` workbook, a ``.parquet``
        file, or a DataFrame (never modified).
    columns : mapping, optional
        Canonical name → header in the file, e.g. ``{"customer_id": "客户ID", "timestamp":
        "日期", "amount": "消费金额"}``, or → 0-based column position (``{"customer_id": 0,
        "timestamp": 1, "amount": 2}``, what a file without a header line needs). Unmapped
        canonical columns are found by name or by :data:`TRANSACTION_COLUMNS` aliases.
        ``customer_id``, ``timestamp`` and ``amount`` are required; ``order_id``,
        ``quantity``, ``channel`` and ``currency`` are optional.
    date_format : str, optional
        ``strftime`` format tried first for ``timestamp`` (e.g. ``"%d/%m/%Y"``).
    sep : str, optional
        Field separator of a text file; sniffed when omitted. ``r"\s+"`` means runs of
        whitespace.
    encoding : str, optional
        Text encoding; detected (UTF-8 with or without BOM, else GB18030/GBK) when omitted.
    sheet : str or int, optional
        Worksheet name or 0-based index of an ``.xlsx`` file (default: the first sheet).
    tz : str, optional
        Time zone for values written with a UTC offset: they are converted to ``tz`` and made
        naive. Without ``tz`` the offset is dropped, keeping the wall-clock time as written.
    header : 0 or None, default 0
        0: the first line (row of a worksheet) holds the column names; a first line that looks
        like data (a date/number in every mapped date/number column) is an error. None: the
        file has no header line; its columns are named 0, 1, ... and mapped by position.

    Returns
    -------
    LoadResult
        ``.transactions``: ``customer_id`` (str), ``timestamp`` (datetime64[ns]), ``amount``
        (float64), then the optional canonical columns present (``order_id`` str,
        ``quantity`` float64, ``channel``, ``currency``), then the other columns as read;
        rows in the source's order (rejected rows removed); fresh RangeIndex.
        ``.rejected`` and ``.summary`` as described in :class:`LoadResult`.

    Raises
    ------
    DataError
        The file cannot be used (see the module documentation).
    ArgumentError
        ``tz`` is not a known time zone, or ``header`` is neither 0 nor None.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"客户ID": ["00001", "00002", ""],
    ...                     "日期": ["2025/3/1", "20250302", "2025-03-03"],
    ...                     "消费金额": ["¥1,234.50", "-50", "12"]})
    >>> res = load_transactions(raw)
    >>> res.transactions
      customer_id  timestamp  amount
    0       00001 2025-03-01  1234.5
    1       00002 2025-03-02   -50.0
    >>> res.rejected[["source_row", "reason"]]
       source_row               reason
    0           2  missing customer_id
    >>> res.summary["total_spend"]
    1184.5
    """
    # long for its docstring (the public contract); the body is the steps of the load
    check_tz(tz)
    has_header = check_header(header)
    typed = load_typed_transactions(source, columns, tz=tz)
    if typed is None:  # a clean CSV read with typed columns in one pass (io.typedcsv)
        typed = load_typed_csv(source, columns, sep=sep, encoding=encoding,
                               date_format=date_format, header=has_header, tz=tz)
    if typed is not None:  # canonical types already: validated, not re-parsed (io.typed)
        return LoadResult(*typed, kind="transactions")
    raw = read_source(source, sep=sep, encoding=encoding, sheet=sheet, header=has_header)
    frame = raw.frame
    colmap = resolve_columns(frame.columns, columns, TRANSACTION_COLUMNS,
                             ("customer_id", "timestamp", "amount"), raw.label,
                             header_row=has_header and raw.fmt in ("text", "xlsx"))
    ids, parsed, checks = _parse_transactions(raw, colmap, date_format=date_format, tz=tz)
    checks = raw.checks() + checks

    codes = reason_codes(len(frame), [mask for _, mask in checks])
    reasons = [name for name, _ in checks] + ["duplicate order line"]
    valid = np.flatnonzero(codes == 0)
    other_pos = unmapped_positions(frame.shape[1], colmap)
    accepted, duplicates, identical = order_transactions(valid, ids, parsed, frame, colmap,
                                                          other_pos)
    codes[duplicates] = len(reasons)
    accepted = np.sort(accepted)  # the frame keeps the source's order (see Row order)

    parsed["customer_id"] = ids.take(accepted)
    data = assemble(parsed, frame, accepted, other_pos, ordered=("customer_id",))
    rejected = rejected_frame(frame, codes, reasons, raw.row_base)
    summary = summary_head(raw, len(frame), len(data), codes, reasons)
    summary.update(transaction_figures(data, ids, valid, identical))
    return LoadResult(data=data, rejected=rejected, summary=summary, kind="transactions")


def load_customers(
    source: str | Path | pd.DataFrame,
    columns: Mapping[str, str | int] | None = None,
    *,
    date_format: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header: int | None = 0,
) -> LoadResult:
    """Load a customer table into the canonical customers frame.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A text file, ``.xlsx`` workbook, ``.parquet`` file or DataFrame (never modified).
    columns : mapping, optional
        Canonical name → header in the file. ``customer_id`` is required; ``name``, ``phone``,
        ``email``, ``region``, ``industry``, ``signup_date``, ``satisfaction`` and ``notes``
        are optional and also found by :data:`CUSTOMER_COLUMNS` aliases.
    date_format : str, optional
        ``strftime`` format tried first for ``signup_date``.
    sep, encoding, sheet, header
        As in :func:`load_transactions`.

    Returns
    -------
    LoadResult
        ``.customers``: ``customer_id`` (str, unique) then the optional canonical columns
        present (text columns stripped, ``signup_date`` datetime64[ns], ``satisfaction``
        float64), then other columns as read; sorted by ``customer_id``. A repeated id is
        rejected as ``duplicate customer_id`` and the first occurrence in file order is kept.

    Raises
    ------
    DataError
        The file cannot be used (see the module documentation).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"会员ID": ["002", "001", "002"], "姓名": ["Li", "Wang", "Li 2"],
    ...                     "满意度": ["4.5", "3", "5"]})
    >>> res = load_customers(raw)
    >>> res.customers
      customer_id  name  satisfaction
    0         001  Wang           3.0
    1         002    Li           4.5
    >>> res.rejected["reason"].tolist()
    ['duplicate customer_id']
    """
    # long for its docstring (the public contract); the body is the steps of the load
    has_header = check_header(header)
    raw = read_source(source, sep=sep, encoding=encoding, sheet=sheet, header=has_header)
    frame = raw.frame
    colmap = resolve_columns(frame.columns, columns, CUSTOMER_COLUMNS, ("customer_id",),
                             raw.label, header_row=has_header and raw.fmt in ("text", "xlsx"))
    ids, parsed, checks = _parse_customers(raw, colmap, date_format=date_format)
    checks = raw.checks() + checks

    codes = reason_codes(len(frame), [mask for _, mask in checks])
    reasons = [name for name, _ in checks] + ["duplicate customer_id"]
    valid = np.flatnonzero(codes == 0)
    keep, repeated = first_of_each_id(ids, valid)
    codes[repeated] = len(reasons)
    parsed["customer_id"] = ids.take(keep)

    data = assemble(parsed, frame, keep, unmapped_positions(frame.shape[1], colmap),
                    ordered=("customer_id",))
    rejected = rejected_frame(frame, codes, reasons, raw.row_base)
    summary = summary_head(raw, len(frame), len(data), codes, reasons)
    summary["customers"] = len(data)
    return LoadResult(data=data, rejected=rejected, summary=summary, kind="customers")


# --------------------------------------------------------------------------------------------
# Steps of the loaders
# --------------------------------------------------------------------------------------------


def _parse_transactions(
    raw: RawTable, colmap: dict[str, int], *, date_format: str | None, tz: str | None
) -> tuple[Ids, dict[str, Any], list[tuple[str, np.ndarray]]]:
    """Parse the canonical transaction columns.

    Returns the encoded ids, the parsed columns (``customer_id`` a placeholder, filled once the
    order is known) and the rejection checks, (reason, mask), in order of precedence.
    """
    frame, label = raw.frame, raw.label
    col = {name: frame.iloc[:, pos] for name, pos in colmap.items()}
    # ids are hashed on a second thread while this one parses dates and amounts (Arrow and
    # NumPy release the GIL)
    with beside(encode_ids, col["customer_id"]) as encoding:
        ts, ts_missing, ts_bad = parse_datetime(col["timestamp"], date_format=date_format,
                                                tz=tz)
        amount, amount_missing, amount_bad = parse_number(col["amount"], currency=True)
        ids = encoding.result()
    check_usable(label, frame.columns[colmap["timestamp"]], col["timestamp"], ts_missing,
                 ts_bad, "a date", _DATE_FIX)
    check_usable(label, frame.columns[colmap["amount"]], col["amount"], amount_missing,
                 amount_bad, "an amount", "check that the right column is mapped to 'amount'")
    checks: list[tuple[str, np.ndarray]] = [
        ("missing customer_id", ids.codes < 0),
        ("missing timestamp", ts_missing),
        ("unparseable timestamp", ts_bad),
        ("missing amount", amount_missing),
        ("unparseable amount", amount_bad),
    ]
    amount += 0.0  # -0.0 → 0.0 (the parsed arrays are the loader's own)
    parsed: dict[str, Any] = {"customer_id": None, "timestamp": ts, "amount": amount}
    if "order_id" in col:
        parsed["order_id"] = parse_id(col["order_id"])[0]
    if "quantity" in col:
        qty, qty_missing, qty_bad = parse_number(col["quantity"], currency=False)
        check_usable(label, frame.columns[colmap["quantity"]], col["quantity"], qty_missing,
                     qty_bad, "a quantity", "check that the right column is mapped to 'quantity'")
        qty += 0.0
        parsed["quantity"] = qty
        checks.append(("unparseable quantity", qty_bad))
    for name in ("channel", "currency"):
        if name in col:
            parsed[name] = to_text(col[name])
    return ids, parsed, checks


def _parse_customers(
    raw: RawTable, colmap: dict[str, int], *, date_format: str | None
) -> tuple[Ids, dict[str, Any], list[tuple[str, np.ndarray]]]:
    """Parse the canonical customer columns: ids, parsed columns, rejection checks."""
    frame, label = raw.frame, raw.label
    col = {name: frame.iloc[:, pos] for name, pos in colmap.items()}
    ids = encode_ids(col["customer_id"])
    parsed: dict[str, Any] = {"customer_id": None}
    checks: list[tuple[str, np.ndarray]] = [("missing customer_id", ids.codes < 0)]
    for name in CUSTOMER_COLUMNS:
        if name == "customer_id" or name not in col:
            continue
        if name == "signup_date":
            values, missing, bad = parse_datetime(col[name], date_format=date_format, tz=None)
            what, fix = "a date", _DATE_FIX
        elif name == "satisfaction":
            values, missing, bad = parse_number(col[name], currency=False)
            values = values + 0.0
            what, fix = "a number", "check that the right column is mapped to 'satisfaction'"
        else:
            parsed[name] = to_text(col[name])
            continue
        check_usable(label, frame.columns[colmap[name]], col[name], missing, bad, what, fix)
        parsed[name] = values
        checks.append((f"unparseable {name}", bad))
    return ids, parsed, checks
