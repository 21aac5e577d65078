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
    column, a line repeating another line's ``order_id`` and every canonical field
    (``customer_id``, ``timestamp``, ``amount``, ``quantity``, ``channel``, ``currency``, where
    present) is rejected as ``duplicate order line``; one copy is kept. Rows whose ``order_id`` is
    missing are treated as in a file without order ids. Which copy is kept is decided by the
    other columns and then by the text as read, never by position. In the customer table a
    repeated ``customer_id`` is rejected as ``duplicate customer_id``; the first occurrence in
    file order (among rows not rejected for another reason) is kept.
Row order never matters (transactions).
    The accepted frame is sorted by ``customer_id`` (as text, code-point order), ``timestamp``,
    ``amount``, then by the remaining columns, and has a fresh ``RangeIndex``: shuffling the
    input rows gives the identical frame and the same rejected rows. The customer frame is sorted
    by ``customer_id``.
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
    use tab). The encoding is UTF-8 (a BOM is fine), UTF-16 when the file starts with its BOM
    (Excel's "Unicode text"), else GB18030 (a superset of GBK) when the bytes are not UTF-8;
    an explicit ``encoding=`` or ``sep=`` wins. ``.xlsx`` files are read with openpyxl
    (``sheet=`` name or 0-based index, default the first sheet), Parquet with pyarrow.
    Single-character separators use pandas' pyarrow engine, ``r"\s+"`` the C engine, other
    regular expressions the python engine.

Other columns are kept after the canonical ones, with their original names and values as read.
"""

from __future__ import annotations

import codecs
import html
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tierlab._kernels.arrowkeys import factorize_strings, in_id_order
from tierlab.errors import DataError, SchemeError, did_you_mean

__all__ = [
    "CUSTOMER_COLUMNS",
    "LoadResult",
    "TRANSACTION_COLUMNS",
    "load_customers",
    "load_transactions",
]

#: Canonical transaction columns and the headers recognised for each without a mapping
#: (compared case-insensitively, ignoring spaces, ``_`` and ``-``).
TRANSACTION_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer", "cust_id", "客户ID", "客户编号", "会员ID"),
    "timestamp": ("date", "order_date", "日期", "交易日期", "时间"),
    "amount": ("spend", "消费金额", "金额", "sales"),
    "order_id": ("order", "订单号", "订单编号"),
    "quantity": ("qty", "数量", "件数", "间夜数"),
    "channel": ("渠道",),
    "currency": ("币种", "货币"),
}

#: Canonical customer-table columns and their recognised headers.
CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": TRANSACTION_COLUMNS["customer_id"],
    "name": ("姓名", "客户名称", "公司"),
    "phone": ("电话", "手机"),
    "email": ("邮箱",),
    "region": ("地区",),
    "industry": ("行业",),
    "signup_date": ("注册日期",),
    "satisfaction": ("满意度",),
    "notes": ("备注",),
}

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SNIFF_BYTES = 1 << 16

_NULL_TOKENS = ("", "na", "n/a", "#n/a", "nan", "nat", "null", "none", "-", "--")
_NULL_VARIANTS = sorted(
    {v for t in _NULL_TOKENS for v in (t, t.upper(), t.title(), t.capitalize())}
)

# Regular expressions are RE2-compatible so pandas runs them in pyarrow (no look-arounds).
_CURRENCY_RE = r"(?i)(?:rmb|cny|usd|hkd|eur|[¥￥$€£]|元)"
_SPACE_RE = r"[\s\u00a0\u3000]+"
_THOUSANDS_RE = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"
_YMD_OTHER_RE = r"^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?"
_OFFSET_RE = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$"
_OFFSET_STRIP_RE = r"\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$"
_ISO_RE = r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{8})(?:[T ]\d.*)?$"
_NUMBER_RE = r"^\d+(?:\.\d+)?$"

_NS_MIN = np.datetime64("1677-09-22", "us")
_NS_MAX = np.datetime64("2262-04-11", "us")
_EXCEL_EPOCH = np.datetime64("1899-12-30", "ns")


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
        ``rows_accepted``, ``rows_rejected``, ``rejected_by_reason``, ``customers``; for
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
    columns: Mapping[str, str] | None = None,
    *,
    date_format: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    tz: str | None = None,
) -> LoadResult:
    r"""Load a transaction log into the canonical transactions frame.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A ``.csv``/``.txt``/``.tsv``/``.dat`` text file, an ``.xlsx`` workbook, a ``.parquet``
        file, or a DataFrame (never modified).
    columns : mapping, optional
        Canonical name → header in the file, e.g. ``{"customer_id": "客户ID", "timestamp":
        "日期", "amount": "消费金额"}``. Unmapped canonical columns are found by name or by
        :data:`TRANSACTION_COLUMNS` aliases. ``customer_id``, ``timestamp`` and ``amount`` are
        required; ``order_id``, ``quantity``, ``channel`` and ``currency`` are optional.
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

    Returns
    -------
    LoadResult
        ``.transactions``: ``customer_id`` (str), ``timestamp`` (datetime64[ns]), ``amount``
        (float64), then the optional canonical columns present (``order_id`` str,
        ``quantity`` float64, ``channel``, ``currency``), then the other columns as read;
        sorted by customer_id, timestamp, amount, the rest; fresh RangeIndex.
        ``.rejected`` and ``.summary`` as described in :class:`LoadResult`.

    Raises
    ------
    DataError
        The file cannot be used (see the module documentation).
    SchemeError
        ``tz`` is not a known time zone.

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
    _check_tz(tz)
    raw = _read_source(source, sep=sep, encoding=encoding, sheet=sheet)
    frame, label = raw.frame, raw.label
    colmap = _resolve_columns(
        frame.columns, columns, TRANSACTION_COLUMNS, ("customer_id", "timestamp", "amount"), label
    )
    n = len(frame)
    col = {name: frame.iloc[:, pos] for name, pos in colmap.items()}

    with ThreadPoolExecutor(max_workers=1) as pool:
        # ids are hashed on a second thread while this one parses dates and amounts (Arrow
        # and NumPy release the GIL)
        encoding = pool.submit(_encode_ids, col["customer_id"])
        ts, ts_missing, ts_bad = _parse_datetime(col["timestamp"], date_format=date_format,
                                                 tz=tz)
        amount, amount_missing, amount_bad = _parse_number(col["amount"], currency=True)
        ids = encoding.result()
    cid_missing = ids.codes < 0
    _check_usable(label, frame.columns[colmap["timestamp"]], col["timestamp"], ts_missing,
                  ts_bad, "a date", "pass date_format='...' (e.g. '%d/%m/%Y')")
    _check_usable(label, frame.columns[colmap["amount"]], col["amount"], amount_missing,
                  amount_bad, "an amount", "check that the right column is mapped to 'amount'")
    checks: list[tuple[str, np.ndarray]] = [
        ("missing customer_id", cid_missing),
        ("missing timestamp", ts_missing),
        ("unparseable timestamp", ts_bad),
        ("missing amount", amount_missing),
        ("unparseable amount", amount_bad),
    ]
    amount += 0.0  # -0.0 → 0.0 (the parsed arrays are the loader's own)
    parsed: dict[str, Any] = {"customer_id": None, "timestamp": ts, "amount": amount}
    if "order_id" in col:
        parsed["order_id"] = _parse_id(col["order_id"])[0]
    if "quantity" in col:
        qty, qty_missing, qty_bad = _parse_number(col["quantity"], currency=False)
        _check_usable(label, frame.columns[colmap["quantity"]], col["quantity"], qty_missing,
                      qty_bad, "a quantity", "check that the right column is mapped to 'quantity'")
        qty += 0.0
        parsed["quantity"] = qty
        checks.append(("unparseable quantity", qty_bad))
    for name in ("channel", "currency"):
        if name in col:
            parsed[name] = _to_text(col[name])

    codes = _reason_codes(n, [mask for _, mask in checks])
    reasons = [name for name, _ in checks] + ["duplicate order line"]
    valid = np.flatnonzero(codes == 0)
    other_pos = [i for i in range(frame.shape[1]) if i not in set(colmap.values())]
    tie_keys = [parsed[k] for k in ("order_id", "quantity", "channel", "currency") if k in parsed]
    n_canonical_ties = len(tie_keys)
    tie_keys += [frame.iloc[:, i] for i in other_pos]
    n_output_ties = len(tie_keys)
    # last resort among equal parsed rows: the text as read, so the copy kept never depends
    # on row order
    tie_keys += [frame.iloc[:, i] for i in sorted(colmap.values())]
    order_ids = parsed.get("order_id")
    accepted, duplicates, identical = _order_and_dedupe(
        valid, ids, ts, parsed["amount"], tie_keys, n_canonical_ties, n_output_ties,
        None if order_ids is None else order_ids.notna().to_numpy(dtype=bool),
    )
    codes[duplicates] = len(reasons)

    parsed["customer_id"] = ids.take(accepted)
    data = _assemble(parsed, frame, accepted, other_pos, ordered=("customer_id",))
    rejected = _rejected_frame(frame, codes, reasons, raw.row_base)
    summary = _summary_head(raw, n, len(data), codes, reasons)
    summary["identical_rows_kept"] = int(identical)
    seen = np.bincount(ids.codes if len(valid) == n else ids.codes[valid],
                       minlength=len(ids.uniques))
    summary["customers"] = int(np.count_nonzero(seen))
    if len(data):
        summary["first_date"] = _date_text(data["timestamp"].min())
        summary["last_date"] = _date_text(data["timestamp"].max())
    else:
        summary["first_date"] = summary["last_date"] = None
    summary["total_spend"] = float(data["amount"].sum())
    summary["returns"] = int((data["amount"] < 0).sum())
    return LoadResult(data=data, rejected=rejected, summary=summary, kind="transactions")


def load_customers(
    source: str | Path | pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    date_format: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
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
    sep, encoding, sheet
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
    raw = _read_source(source, sep=sep, encoding=encoding, sheet=sheet)
    frame, label = raw.frame, raw.label
    colmap = _resolve_columns(frame.columns, columns, CUSTOMER_COLUMNS, ("customer_id",), label)
    n = len(frame)
    col = {name: frame.iloc[:, pos] for name, pos in colmap.items()}

    ids = _encode_ids(col["customer_id"])
    parsed: dict[str, Any] = {"customer_id": None}
    checks: list[tuple[str, np.ndarray]] = [("missing customer_id", ids.codes < 0)]
    for name in CUSTOMER_COLUMNS:
        if name == "customer_id" or name not in col:
            continue
        if name == "signup_date":
            values, missing, bad = _parse_datetime(col[name], date_format=date_format, tz=None)
            what, fix = "a date", "pass date_format='...' (e.g. '%d/%m/%Y')"
        elif name == "satisfaction":
            values, missing, bad = _parse_number(col[name], currency=False)
            values = values + 0.0
            what, fix = "a number", "check that the right column is mapped to 'satisfaction'"
        else:
            parsed[name] = _to_text(col[name])
            continue
        _check_usable(label, frame.columns[colmap[name]], col[name], missing, bad, what, fix)
        parsed[name] = values
        checks.append((f"unparseable {name}", bad))

    codes = _reason_codes(n, [mask for _, mask in checks])
    reasons = [name for name, _ in checks] + ["duplicate customer_id"]
    valid = np.flatnonzero(codes == 0)
    first = np.unique(ids.codes[valid], return_index=True)[1]  # first occurrence in file order
    dup = np.ones(len(valid), dtype=bool)
    dup[first] = False
    codes[valid[dup]] = len(reasons)
    keep = valid[~dup]
    keep = keep[np.argsort(ids.codes[keep])]
    parsed["customer_id"] = ids.take(keep)
    other_pos = [i for i in range(frame.shape[1]) if i not in set(colmap.values())]

    data = _assemble(parsed, frame, keep, other_pos, ordered=("customer_id",))
    rejected = _rejected_frame(frame, codes, reasons, raw.row_base)
    summary = _summary_head(raw, n, len(data), codes, reasons)
    summary["customers"] = len(data)
    return LoadResult(data=data, rejected=rejected, summary=summary, kind="customers")


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    frame: pd.DataFrame
    label: str
    file: str
    fmt: str
    encoding: str | None = None
    sep: str | None = None
    sheet: str | None = None
    row_base: int = 1


def _read_source(source: Any, *, sep: str | None, encoding: str | None, sheet: Any) -> _Raw:
    if isinstance(source, pd.DataFrame):
        return _Raw(source, "<DataFrame>", "<DataFrame>", "dataframe", row_base=0)
    if not isinstance(source, str | Path):
        raise DataError(
            f"cannot load from a {type(source).__name__}: pass a file path (str or Path) or a "
            "pandas DataFrame"
        )
    path = Path(source).expanduser()
    label = f"'{path}'"
    if not path.exists():
        raise DataError(f"file not found: {label} (looked for {str(path.resolve())!r})")
    if path.is_dir():
        raise DataError(f"{label} is a folder, not a file: pass the path of the export file")
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        return _read_text(path, label, sep=sep, encoding=encoding, suffix=suffix)
    if suffix in _EXCEL_SUFFIXES:
        return _read_excel(path, label, sheet)
    if suffix in _PARQUET_SUFFIXES:
        return _read_parquet(path, label)
    supported = ", ".join(_TEXT_SUFFIXES + _EXCEL_SUFFIXES + _PARQUET_SUFFIXES)
    hint = " (save old .xls workbooks as .xlsx)" if suffix == ".xls" else ""
    raise DataError(
        f"{label}: unsupported file type {suffix or '(no extension)'!r}{hint}; tierlab reads "
        f"{supported}, or a pandas DataFrame"
    )


def _read_text(
    path: Path, label: str, *, sep: str | None, encoding: str | None, suffix: str
) -> _Raw:
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise DataError(f"{label}: cannot open the file ({exc})") from None
    if not head.strip():
        raise DataError(f"{label}: the file is empty (expected a header line and data rows)")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(
                f"{label}: unknown encoding {encoding!r}; use e.g. 'utf-8', 'utf-8-sig' or 'gbk'"
            ) from None
        candidates = [encoding]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel's "Unicode text" export
    else:
        candidates = ["utf-8", "gb18030"] if _looks_utf8(head) else ["gb18030"]
    sample = head.decode(candidates[0], errors="replace").lstrip("\ufeff")
    if sep is None:
        sep = "\t" if suffix == ".tsv" else _sniff_sep(sample, truncated=len(head) == _SNIFF_BYTES)
    for i, enc in enumerate(candidates):
        try:
            frame = _read_csv(path, sep, enc)
        except UnicodeError as exc:
            error: Exception = exc
        except (pa.ArrowInvalid, pd.errors.ParserError) as exc:
            if "utf8" not in str(exc).lower().replace("-", ""):
                raise DataError(
                    f"{label}: cannot be read as a table with separator {sep!r}: "
                    f"{str(exc).strip()}. Check the separator (pass sep=...) and the quoting."
                ) from None
            error = exc
        except pd.errors.EmptyDataError:
            raise DataError(
                f"{label}: the file is empty (expected a header line and data rows)"
            ) from None
        except (OSError, ValueError) as exc:
            raise DataError(f"{label}: cannot be read ({exc})") from None
        else:
            return _Raw(frame, label, str(path), "text", encoding=enc, sep=sep)
        if i == len(candidates) - 1:
            tried = " or ".join(candidates)
            raise DataError(
                f"{label}: the bytes are not valid {tried} text ({error}); pass the file's "
                "encoding, e.g. encoding='gbk' or encoding='utf-8'"
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _looks_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sample boundary is fine
        return len(head) == _SNIFF_BYTES and exc.start >= len(head) - 3
    return True


def _sniff_sep(sample: str, *, truncated: bool) -> str:
    lines = sample.splitlines()
    if truncated and len(lines) > 1:
        lines = lines[:-1]
    lines = [line for line in lines if line.strip()]
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])  # first of equals wins: , \t ; |
    if counts[best] > 0:
        return best
    if len(header.split()) > 1:
        return r"\s+"
    return ","


def _read_csv(path: Path, sep: str, encoding: str) -> pd.DataFrame:
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "na_values": [""]}
    utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    if len(sep) == 1:
        # Arrow's reader, every column as text ("" = missing); pyarrow skips a UTF-8
        # byte-order mark by itself. The columns stay Arrow strings (no copy into pandas'
        # large strings): the loader parses them in Arrow and converts only what it outputs.
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8" if utf8 else encoding),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(default_column_type=pa.string(),
                                                 null_values=[""], strings_can_be_null=True),
        )
        frame = table.to_pandas(types_mapper=_ARROW_TEXT.get, self_destruct=True)
        # headers exactly as pandas names them (repeated → "x.1", empty → "Unnamed: 3")
        try:
            header = pd.read_csv(path, sep=sep, nrows=0,
                                 encoding="utf-8-sig" if utf8 else encoding).columns
        except (pd.errors.ParserError, ValueError, UnicodeError):  # keep Arrow's names
            header = frame.columns
        if len(header) == frame.shape[1]:
            frame.columns = header
        return frame
    engine = "c" if sep == r"\s+" else "python"
    return pd.read_csv(path, sep=sep, engine=engine,
                       encoding="utf-8-sig" if utf8 else encoding, **options)


_ARROW_TEXT = {pa.string(): pd.ArrowDtype(pa.string())}


def _read_excel(path: Path, label: str, sheet: str | int | None) -> _Raw:
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = [str(s) for s in book.sheet_names]
            if sheet is None:
                sheet = 0
            if isinstance(sheet, int) and not isinstance(sheet, bool):
                if not -len(names) <= sheet < len(names):
                    raise DataError(
                        f"{label}: has no sheet number {sheet} (0-based); sheets: "
                        + ", ".join(repr(s) for s in names)
                    )
                name = names[sheet]
            else:
                name = str(sheet)
                if name not in names:
                    raise DataError(
                        f"{label}: has no sheet {name!r}{did_you_mean(name, names)}; sheets: "
                        + ", ".join(repr(s) for s in names)
                    )
            frame = pd.read_excel(book, sheet_name=name, dtype=str, keep_default_na=False,
                                  na_values=[""])
    except DataError:
        raise
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DataError(f"{label}: not a readable .xlsx workbook ({exc})") from None
    if frame.shape[1] == 0:
        raise DataError(f"{label}: sheet {name!r} is empty (expected a header row and data rows)")
    return _Raw(frame, f"{label} sheet {name!r}", str(path), "xlsx", sheet=name)


def _read_parquet(path: Path, label: str) -> _Raw:
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{label}: not a readable Parquet file ({exc})") from None
    return _Raw(frame, label, str(path), "parquet")


# --------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------


def _norm(name: Any) -> str:
    text = str(name).strip().lstrip("\ufeff").casefold()
    return text.replace(" ", "").replace("_", "").replace("-", "")


def _resolve_columns(
    headers: pd.Index,
    columns: Mapping[str, str] | None,
    known: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    label: str,
) -> dict[str, int]:
    """Map canonical name → position of the column in *headers*."""
    names = [str(h) for h in headers]
    listing = ", ".join(repr(h) for h in names) or "(none)"
    used: dict[int, str] = {}
    out: dict[str, int] = {}
    if columns is not None:
        if not isinstance(columns, Mapping):
            raise DataError(
                f"columns must map canonical names to headers, e.g. {{'customer_id': '客户ID'}}; "
                f"got a {type(columns).__name__}"
            )
        for key, header in columns.items():
            if key not in known:
                raise DataError(
                    f"{label}: columns= has an unknown canonical name {key!r}"
                    f"{did_you_mean(key, known)}; known names: " + ", ".join(known)
                )
            pos = _find_header(names, str(header))
            if pos is None:
                raise DataError(
                    f"{label}: column {str(header)!r} (mapped to {key!r}) is not in the file"
                    f"{did_you_mean(str(header), names)}. Columns present: {listing}"
                )
            if pos in used:
                raise DataError(
                    f"{label}: column {names[pos]!r} is mapped to both {used[pos]!r} and "
                    f"{key!r}; map each canonical name to its own column"
                )
            used[pos] = key
            out[key] = pos
    for key, aliases in known.items():
        if key in out:
            continue
        wanted = [_norm(key)] + [_norm(a) for a in aliases]
        normed = [_norm(h) for h in names]
        for w in wanted:
            hits = [i for i, h in enumerate(normed) if h == w and i not in used]
            if hits:
                out[key] = hits[0]
                used[hits[0]] = key
                break
    for key in out:
        clash = [i for i, h in enumerate(names) if h == key and i != out[key]]
        if clash:
            raise DataError(
                f"{label}: columns= maps {key!r} to {names[out[key]]!r}, but the file also has a "
                f"column named {key!r}; rename or drop one of them"
            )
    for key in required:
        if key not in out:
            hint = ""
            for candidate in (key, *known[key]):
                hint = did_you_mean(candidate, names)
                if hint:
                    break
            raise DataError(
                f"{label}: required column {key!r} not found{hint}. Columns present: "
                f"{listing}. Map it with columns={{{key!r}: '<header in the file>'}}"
            )
    return out


def _find_header(names: list[str], header: str) -> int | None:
    if header in names:
        return names.index(header)
    target = header.strip().lstrip("\ufeff").casefold()
    for i, name in enumerate(names):
        if name.strip().lstrip("\ufeff").casefold() == target:
            return i
    return None


# --------------------------------------------------------------------------------------------
# Parsing (vectorized; each returns numpy masks)
# --------------------------------------------------------------------------------------------


def _text(s: pd.Series) -> pd.Series:
    """*s* as pandas ``str`` dtype with surrounding whitespace removed."""
    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        s = s.astype("str")
    return s.str.strip()


def _missing_text(t: pd.Series) -> np.ndarray:
    return (t.isna() | t.isin(_NULL_VARIANTS)).to_numpy(dtype=bool)


def _numeric_as_text(s: pd.Series) -> pd.Series:
    """Numbers as text; integral floats without a trailing ``.0``."""
    if pd.api.types.is_float_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(values)
        if np.array_equal(values[finite], np.floor(values[finite])):
            return s.astype("Int64").astype("str")
    return s.astype("str")


@dataclass(frozen=True)
class _Ids:
    """Customer ids encoded once: ``uniques[codes[i]]`` is row *i*'s id, -1 when missing.

    *uniques* are the distinct stripped ids in code-point order, so comparing codes compares
    the text.
    """

    codes: np.ndarray
    uniques: pa.Array

    def take(self, rows: np.ndarray) -> pd.Series:
        """The ids of *rows* as a pandas ``str`` Series."""
        codes = self.codes[rows]
        return self.uniques.take(pa.array(codes, mask=codes < 0)).to_pandas()


def _encode_ids(s: pd.Series) -> _Ids:
    """Encode ids: hash them once, then strip and drop missing tokens per distinct id."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        s = _numeric_as_text(s)
    arr = _arrow(s)
    if arr is None:
        arr = _arrow(s.astype("str"))
    if arr is None:  # pragma: no cover - "str" is arrow-backed whenever pyarrow is installed
        arr = pa.chunked_array([pa.array(s.astype(object).to_numpy(), type=pa.large_string())])
    # fixed-width byte keys (features' fast path); a null is "" here, a missing token anyway
    found = factorize_strings(arr.fill_null("") if arr.null_count else arr, workers=2)
    if found is not None:
        indices, words, _ = found
    else:  # ids longer than the fast path takes, or holding NUL bytes
        encoded = pc.dictionary_encode(arr.cast(pa.large_string()).combine_chunks())
        indices = encoded.indices.fill_null(-1).to_numpy()
        words = encoded.dictionary
    del arr
    raw = words.cast(pa.large_string())
    words = pc.utf8_trim_whitespace(raw)
    nulls = pa.array(_NULL_VARIANTS, type=pa.large_string())
    usable = pc.invert(pc.is_in(words, value_set=nulls))
    if found is not None and pc.all(usable).as_py() is not False and words.equals(raw):
        # clean ids (the usual case): the keys' order is the text order already
        codes, uniques = in_id_order((indices, words, found[2]))
        return _Ids(codes=codes.astype(np.int64, copy=False), uniques=uniques)
    uniques = pc.unique(words.filter(usable))
    uniques = uniques.take(pc.sort_indices(uniques))
    where = pc.index_in(words, value_set=uniques).fill_null(-1).to_numpy().astype(np.int64)
    where[~usable.to_numpy(zero_copy_only=False)] = -1
    if not len(where):
        return _Ids(codes=np.full(len(indices), -1, dtype=np.int64), uniques=uniques)
    codes = where[indices]
    if found is None:
        codes[indices < 0] = -1
    return _Ids(codes=codes, uniques=uniques)


def _parse_id(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Ids as stripped text (``str`` dtype, NaN when missing) and the missing mask."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        t = _numeric_as_text(s)
    else:
        t = _text(s)
    missing = _missing_text(t)
    if missing.any():
        t = t.mask(missing)
    return t.reset_index(drop=True), missing


def _to_text(s: pd.Series) -> pd.Series:
    """Optional text column: stripped ``str``; empty → NaN."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        t = _numeric_as_text(s)
    else:
        t = _text(s)
    t = t.mask(t.eq("").fillna(False).to_numpy(dtype=bool))
    return t.reset_index(drop=True)


def _arrow(s: pd.Series) -> pa.ChunkedArray | None:
    """The pyarrow array behind a pandas text column (``str`` or Arrow strings; no copy)."""
    if not _is_arrow_text(s.dtype):
        return None
    arr = s.array.__arrow_array__()
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _is_arrow_text(dtype) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype) or
                                                 pa.types.is_large_string(dtype.pyarrow_dtype))


def _as_str(frame: pd.DataFrame) -> pd.DataFrame:
    """Arrow string columns of the raw file as pandas ``str`` (what the loader outputs)."""
    text = [c for c, t in zip(frame.columns, frame.dtypes, strict=True)
            if isinstance(t, pd.ArrowDtype) and _is_arrow_text(t)]
    if not text:
        return frame
    return frame.astype(dict.fromkeys(text, "str"))


def _parse_number(s: pd.Series, *, currency: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (float64 values, missing mask, unparseable mask); NaN where not a number."""
    n = len(s)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        missing = np.isnan(values)
        bad = np.isinf(values)
        values[bad] = np.nan
        return values, missing, bad
    arr = _arrow(s)
    if arr is not None:  # fast path: a clean column converts in one pass
        try:
            values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            if not values.flags.writeable:  # a view of Arrow's buffer: the loader owns a copy
                values = values.copy()
            missing = np.isnan(values)
            bad = np.isinf(values)
            values[bad] = np.nan
            return values, missing, bad
    t = _text(s)
    missing = _missing_text(t)
    values = np.full(n, np.nan)
    todo = np.flatnonzero(~missing)
    if len(todo):
        sub = t.iloc[todo]
        first = pd.to_numeric(sub, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan, copy=True
        )
        values[todo] = first
        again = np.isnan(first)
        if again.any():
            idx = todo[again]
            values[idx] = _clean_numbers(t.iloc[idx], currency=currency)
    bad = ~missing & ~np.isfinite(values)
    values[bad] = np.nan
    return values, missing, bad


def _clean_numbers(t: pd.Series, *, currency: bool) -> np.ndarray:
    t = t.str.replace(_SPACE_RE, "", regex=True)
    t = t.str.replace("\u2212", "-", regex=False).str.replace("\uff0d", "-", regex=False)
    t = t.str.replace("，", ",", regex=False)
    if currency:
        t = t.str.replace(_CURRENCY_RE, "", regex=True)
    negative = (t.str.startswith("(") & t.str.endswith(")")).to_numpy(dtype=bool)
    if negative.any():
        t = t.where(~negative, t.str.slice(1, -1))
    comma = t.str.contains(",", regex=False).to_numpy(dtype=bool)
    if comma.any():
        grouped = t.str.fullmatch(_THOUSANDS_RE).to_numpy(dtype=bool)
        t = t.where(~(comma & grouped), t.str.replace(",", "", regex=False))
    values = pd.to_numeric(t, errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan, copy=True
    )
    values[negative] = -values[negative]
    return values


def _parse_datetime(
    s: pd.Series, *, date_format: str | None, tz: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (datetime64[ns] values, missing mask, unparseable mask)."""
    n = len(s)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        local = s.dt.tz_convert(tz) if tz else s
        values = _to_ns(local.dt.tz_localize(None).to_numpy())
        missing = s.isna().to_numpy(dtype=bool)
        return values, missing, ~missing & np.isnat(values)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        values = _to_ns(s.to_numpy()).copy()  # never share memory with the caller's frame
        missing = s.isna().to_numpy(dtype=bool)
        return values, missing, ~missing & np.isnat(values)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        numbers = s.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(numbers)
        values = _numbers_to_dates(numbers)
        return values, missing, ~missing & np.isnat(values)
    arr = _arrow(s)
    if arr is not None and date_format is None:  # fast path: clean ISO column in one pass
        try:
            values = pc.cast(arr, pa.timestamp("ns")).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            values = values.astype("datetime64[ns]", copy=False)
            missing = np.isnat(values)
            return values, missing, np.zeros(n, dtype=bool)
    t = _text(s)
    missing = _missing_text(t)
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    todo = ~missing

    if date_format is not None and todo.any():
        idx = np.flatnonzero(todo)
        values[idx] = _to_ns(_strptime(t.iloc[idx], date_format))
        todo[idx] = np.isnat(values[idx])
    if todo.any():
        idx = np.flatnonzero(todo)
        normal = t.iloc[idx].str.replace(_YMD_OTHER_RE, r"\1-\2-\3", regex=True)
        offset = normal.str.contains(_OFFSET_RE, regex=True).to_numpy(dtype=bool)
        if offset.any():
            values[idx[offset]] = _parse_offsets(normal[offset], tz)
        iso = ~offset & normal.str.contains(_ISO_RE, regex=True).to_numpy(dtype=bool)
        if iso.any():
            values[idx[iso]] = _to_ns(_strptime(normal[iso], "ISO8601"))
        todo[idx] = np.isnat(values[idx])
    if todo.any():
        idx = np.flatnonzero(todo)
        number = t.iloc[idx].str.contains(_NUMBER_RE, regex=True).to_numpy(dtype=bool)
        if number.any():
            numbers = pd.to_numeric(t.iloc[idx[number]], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            values[idx[number]] = _numbers_to_dates(numbers)
    bad = ~missing & np.isnat(values)
    return values, missing, bad


def _strptime(t: pd.Series, fmt: str) -> np.ndarray:
    try:
        return pd.to_datetime(t, format=fmt, errors="coerce").to_numpy()
    except ValueError:  # e.g. a UTC offset the offset pattern did not catch
        try:
            parsed = pd.to_datetime(t, format=fmt, errors="coerce", utc=True)
        except ValueError:
            return np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
        return parsed.dt.tz_localize(None).to_numpy()


def _parse_offsets(t: pd.Series, tz: str | None) -> np.ndarray:
    if tz is None:
        return _to_ns(_strptime(t.str.replace(_OFFSET_STRIP_RE, "", regex=True), "ISO8601"))
    try:
        parsed = pd.to_datetime(t, format="ISO8601", errors="coerce", utc=True)
    except ValueError:
        return np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
    return _to_ns(parsed.dt.tz_convert(tz).dt.tz_localize(None).to_numpy())


def _numbers_to_dates(numbers: np.ndarray) -> np.ndarray:
    """``20250301``-style integers and Excel serial day numbers → datetime64[ns]."""
    values = np.full(len(numbers), np.datetime64("NaT"), dtype="datetime64[ns]")
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(numbers)
        ymd = finite & (numbers >= 19000101) & (numbers <= 21001231)
        ymd &= numbers == np.floor(np.where(finite, numbers, 0))
        serial = finite & (numbers >= 20000) & (numbers <= 80000)
    if ymd.any():
        text = pd.Series(numbers[ymd].astype("int64")).astype("str")
        values[ymd] = _to_ns(pd.to_datetime(text, format="%Y%m%d", errors="coerce").to_numpy())
    if serial.any():
        millis = np.round(numbers[serial] * 86_400_000).astype("int64")
        values[serial] = _EXCEL_EPOCH + millis.astype("timedelta64[ms]")
    return values


def _to_ns(values: np.ndarray) -> np.ndarray:
    """datetime64 of any unit → datetime64[ns]; values outside the ns range → NaT."""
    values = np.asarray(values)
    if values.dtype == np.dtype("datetime64[ns]"):
        return values
    wide = values.astype("datetime64[us]")
    ok = (wide >= _NS_MIN) & (wide <= _NS_MAX)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[ok] = wide[ok].astype("datetime64[ns]")
    return out


def _check_usable(
    label: str, header: Any, s: pd.Series, missing: np.ndarray, bad: np.ndarray, what: str,
    fix: str,
) -> None:
    """Raise when a column has values but none of them could be read."""
    if bad.any() and not (~missing & ~bad).any():
        examples = ", ".join(repr(str(v)) for v in pd.unique(s[bad])[:3])
        raise DataError(
            f"{label}: no value in column {str(header)!r} could be read as {what} "
            f"(e.g. {examples}); {fix}"
        )


# --------------------------------------------------------------------------------------------
# Assembling the result
# --------------------------------------------------------------------------------------------


def _reason_codes(n: int, masks: list[np.ndarray]) -> np.ndarray:
    """Code of the first mask that holds per row (1-based), 0 when none does."""
    codes = np.zeros(n, dtype=np.int16)
    for i in range(len(masks) - 1, -1, -1):
        codes[masks[i]] = i + 1
    return codes


def _sortable(values: Any) -> pd.Series:
    s = pd.Series(values).reset_index(drop=True) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    return s.astype("str")


def _time_codes(t: np.ndarray) -> tuple[np.ndarray, int]:
    """Order-preserving integer codes for timestamps (int64 ns) and their range.

    Whole days, seconds or milliseconds map arithmetically (no hashing); anything finer is
    factorized.
    """
    shifted = t - t.min()
    for unit in (86_400 * 10**9, 10**9, 10**6):
        if not (shifted % unit).any():
            codes = shifted // unit
            return codes, int(codes.max()) + 1
    codes, uniques = pd.factorize(t, sort=True)
    return codes.astype(np.int64, copy=False), len(uniques)


def _radix_argsort(values: np.ndarray, bits: int) -> np.ndarray:
    """Stable argsort of non-negative integers below ``2**bits``.

    Least-significant-digit radix sort with 16-bit digits: NumPy's stable sort of ``uint16``
    is itself a counting sort, so each pass is linear.
    """
    digits = [((values >> shift) & 0xFFFF).astype(np.uint16)
              for shift in range(0, max(bits, 1), 16)]
    order = np.argsort(digits[0], kind="stable")
    for digit in digits[1:]:
        order = order[np.argsort(digit[order], kind="stable")]
    return order


def _primary_order(c: np.ndarray, nc: int, t: np.ndarray) -> tuple[Any, np.ndarray]:
    """Order rows by (c, t); return (order or None when already sorted, tie mask).

    ``tie[i]`` says sorted row ``i + 1`` equals sorted row ``i`` on both keys. Equal rows come
    in no particular order; the caller orders them (by amount first).
    """
    if len(c) < 2:
        return None, np.zeros(0, dtype=bool)
    same_c = c[1:] == c[:-1]
    later_t = t[1:] >= t[:-1]
    if bool(np.all((c[1:] > c[:-1]) | (same_c & later_t))):  # sorted already
        return None, same_c & (t[1:] == t[:-1])
    del same_c
    if bool(later_t.all()):
        # exports usually come in time order: a stable sort by customer is then the order
        order = _radix_argsort(c, max(int(nc - 1).bit_length(), 1))
    else:
        tcode, nt = _time_codes(t)
        if nc * nt < 2**62:  # one int64 key: much faster than a two-key sort
            order = np.argsort(c * nt + tcode)
        else:  # pragma: no cover - needs > 2**62 (c, t) cells
            table = pa.table({"c": c, "t": tcode})
            order = pc.sort_indices(
                table, sort_keys=[("c", "ascending"), ("t", "ascending")]).to_numpy()
        del tcode
    del later_t
    cs = (c.astype(np.int32) if nc < 2**31 else c)[order]
    ts = t[order]
    return order, (cs[1:] == cs[:-1]) & (ts[1:] == ts[:-1])


def _order_and_dedupe(
    valid: np.ndarray,
    ids: _Ids,
    ts: np.ndarray,
    amount: np.ndarray,
    tie_keys: list[Any],
    n_canonical: int,
    n_output: int,
    has_order_id: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Sort valid rows deterministically and find duplicate order lines.

    Rows are ordered by (customer_id, timestamp, amount); only rows tied on customer and
    timestamp are ordered further, by amount, then by *tie_keys* (the first *n_canonical* are
    the optional canonical columns, the first *n_output* are all output columns, then the raw
    text of the mapped columns) and finally by position, so the common case costs one integer
    sort.

    Returns (accepted positions in output order, duplicate positions, identical rows kept).
    """
    empty = np.empty(0, dtype=np.int64)
    if len(valid) == 0:
        return empty, empty, 0
    everyone = len(valid) == len(ids.codes)
    c = ids.codes if everyone else ids.codes[valid]
    t = (ts if everyone else ts[valid]).view("int64")
    order, same = _primary_order(c, len(ids.uniques), t)
    del c, t
    tie_keys = [amount, *tie_keys]
    n_canonical, n_output = n_canonical + 1, n_output + 1
    final = valid.copy() if order is None else valid[order]
    if not same.any():
        return final, empty, 0
    after_tie = np.zeros(len(final), dtype=bool)  # row equals the one before it
    after_tie[1:] = same
    member = after_tie.copy()
    member[:-1] |= same
    slots = np.flatnonzero(member)
    rows = final[slots]
    # tie groups are runs of consecutive slots; a slot not equal to its predecessor starts one
    ties: dict[str, Any] = {"g": np.cumsum(~after_tie[slots])}
    for i, key in enumerate(tie_keys):
        values = key.iloc[rows] if isinstance(key, pd.Series) else key[rows]
        ties[f"k{i}"] = _sortable(pd.Series(values).reset_index(drop=True))
    ties["row"] = rows
    tied = pd.DataFrame(ties).sort_values(list(ties), kind="stable", na_position="last")
    final[slots] = tied["row"].to_numpy()
    canonical = ["g"] + [f"k{i}" for i in range(n_canonical)]
    everything = ["g"] + [f"k{i}" for i in range(n_output)]
    if has_order_id is not None:
        dup = tied.duplicated(subset=canonical, keep="first").to_numpy(dtype=bool)
        dup = dup & has_order_id[tied["row"].to_numpy()]
    else:
        dup = np.zeros(len(tied), dtype=bool)
    duplicates = np.sort(tied["row"].to_numpy()[dup])
    identical = int(tied[~dup].duplicated(subset=everything).sum())
    if len(duplicates):
        final = final[~np.isin(final, duplicates)]
    return final, duplicates, identical


def _assemble(
    parsed: dict[str, Any],
    frame: pd.DataFrame,
    rows: np.ndarray,
    other_pos: list[int],
    ordered: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Canonical columns then the other columns, rows taken in the given order.

    Columns named in *ordered* are already in output order. All parsed arrays are owned by
    the loader, so the frame is built without another copy.
    """
    identity = len(rows) == len(frame) and bool(np.all(rows == np.arange(len(rows))))
    parts: dict[str, Any] = {}
    for name, values in parsed.items():
        keep = identity or name in ordered
        if isinstance(values, pd.Series):
            parts[name] = (values if keep else values.iloc[rows]).reset_index(drop=True)
        else:
            parts[name] = values if keep else values[rows]
    data = pd.DataFrame(parts, copy=False)
    if other_pos:
        others = _as_str(frame.iloc[:, other_pos] if identity else frame.iloc[rows, other_pos])
        data = pd.concat([data, others.reset_index(drop=True)], axis=1)
    return data


def _rejected_frame(
    frame: pd.DataFrame, codes: np.ndarray, reasons: list[str], row_base: int
) -> pd.DataFrame:
    rows = np.flatnonzero(codes)
    rejected = _as_str(frame.iloc[rows] if len(rows) else frame.iloc[:0]).reset_index(drop=True)
    rename = {c: f"{c} (input)" for c in rejected.columns if c in ("source_row", "reason")}
    if rename:
        rejected = rejected.rename(columns=rename)
    labels = np.asarray(reasons, dtype=object)
    meta = pd.DataFrame(
        {
            "source_row": (rows + row_base).astype("int64"),
            "reason": pd.array(labels[codes[rows] - 1], dtype="str"),
        }
    )
    return pd.concat([rejected, meta], axis=1)


def _summary_head(
    raw: _Raw, n: int, accepted: int, codes: np.ndarray, reasons: list[str]
) -> dict[str, Any]:
    counts = np.bincount(codes[codes != 0], minlength=len(reasons) + 1)[1:]
    by_reason = {reason: int(k) for reason, k in zip(reasons, counts, strict=True) if k}
    return {
        "file": raw.file,
        "format": raw.fmt,
        "encoding": raw.encoding,
        "sep": raw.sep,
        "sheet": raw.sheet,
        "rows_in": int(n),
        "rows_accepted": int(accepted),
        "rows_rejected": int(counts.sum()),
        "rejected_by_reason": by_reason,
    }


def _date_text(value: pd.Timestamp) -> str:
    if value == value.normalize():
        return value.strftime("%Y-%m-%d")
    return value.isoformat(sep=" ")


def _check_tz(tz: str | None) -> None:
    if tz is None:
        return
    try:
        pd.Timestamp("2000-01-01", tz=tz)
    except Exception:  # noqa: BLE001 - any failure means an unknown zone
        raise SchemeError(
            f"tz={tz!r} is not a known time zone; use an IANA name such as 'Asia/Shanghai' "
            "or 'UTC'"
        ) from None
