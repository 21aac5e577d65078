r"""Reading a source into a raw table: text, Excel, Parquet files or a DataFrame.

Text files: the encoding is UTF-8 when the whole file is (a BOM is fine), UTF-16 when the file
starts with its BOM, else decided line by line (:mod:`tierlab.io.encodings`: GB18030, a superset
of GBK, for a Chinese export; a file mixing encodings has the lines of the minority rejected,
never garbled); a workbook, zip or Parquet file under a text name is named as such. Blank lines
are not rows. The delimiter is sniffed from the header line (comma, tab, semicolon or pipe, the
most frequent winning, on a tie in that order; else runs of whitespace). Single-character
separators use Arrow's CSV reader (columns stay Arrow strings, see
:mod:`tierlab._kernels.arrowtext`), ``r"\s+"`` pandas' C engine, other regular expressions the
python engine; a row with the wrong number of fields or a quote never closed is reported with
its line number. Workbooks are read with openpyxl (integers formatted ``00000`` keep their zero
padding: ``00002``), Parquet with pyarrow. Every value of a text source is read as text; parsing
is :mod:`tierlab.io.values`' job. Without a header line (``header=False``) columns are named by
position.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zipfile import BadZipFile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tierlab._kernels.arrowtext import ARROW_TEXT_TYPES
from tierlab.errors import DataError, did_you_mean
from tierlab.io.encodings import (
    binary_kind,
    decode_mixed,
    first_invalid_line,
    line_of_offset,
    physical_lines,
    rows_of_lines,
    scan_utf8,
    unclosed_quote_line,
)

__all__ = ["RawTable", "read_source", "sniff_sep"]

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class RawTable:
    """A table as read, before any column is mapped or parsed.

    ``label`` names the source in messages (path, and sheet for workbooks); ``file``,
    ``fmt``, ``encoding``, ``sep`` and ``sheet`` go into the load summary; ``row_base`` is the
    number of the first data row (1 in files, 0 for a DataFrame's positions);
    ``rejected_rows`` maps a reason to the row positions rejected while reading (lines that
    cannot be decoded like the rest of the file), ``undecodable_lines`` lists those lines
    (1-based).
    """

    frame: pd.DataFrame
    label: str
    file: str
    fmt: str
    encoding: str | None = None
    sep: str | None = None
    sheet: str | None = None
    row_base: int = 1
    rejected_rows: dict[str, np.ndarray] = field(default_factory=dict)
    undecodable_lines: list[int] = field(default_factory=list)

    def checks(self) -> list[tuple[str, np.ndarray]]:
        """(reason, row mask) of the rows rejected while reading, for the loader's checks."""
        out = []
        for reason, rows in self.rejected_rows.items():
            mask = np.zeros(len(self.frame), dtype=bool)
            mask[rows] = True
            out.append((reason, mask))
        return out


def read_source(
    source: str | Path | pd.DataFrame,
    *,
    sep: str | None,
    encoding: str | None,
    sheet: str | int | None,
    header: bool = True,
) -> RawTable:
    """Read a text file, workbook, Parquet file or DataFrame (taken as is) into a raw table.

    With ``header=False`` a text file or worksheet has no header line: its columns are named
    by position (0, 1, ...); Parquet files and DataFrames always have names.

    Raises
    ------
    DataError
        Missing file, folder, unsupported extension, or a file that cannot be read.
    """
    if isinstance(source, pd.DataFrame):
        return RawTable(source, "<DataFrame>", "<DataFrame>", "dataframe", row_base=0)
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
        return _read_text(path, label, sep=sep, encoding=encoding, suffix=suffix,
                          header=header)
    if suffix in _EXCEL_SUFFIXES:
        return _read_excel(path, label, sheet, header)
    if suffix in _PARQUET_SUFFIXES:
        return _read_parquet(path, label)
    supported = ", ".join(_TEXT_SUFFIXES + _EXCEL_SUFFIXES + _PARQUET_SUFFIXES)
    hint = " (save old .xls workbooks as .xlsx)" if suffix == ".xls" else ""
    raise DataError(
        f"{label}: unsupported file type {suffix or '(no extension)'!r}{hint}; tierlab reads "
        f"{supported}, or a pandas DataFrame"
    )


def _read_text(
    path: Path, label: str, *, sep: str | None, encoding: str | None, suffix: str,
    header: bool,
) -> RawTable:
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise DataError(f"{label}: cannot open the file ({exc})") from None
    if not head.strip():
        raise DataError(f"{label}: the file is empty (expected a header line and data rows)")
    binary = binary_kind(head)
    if binary is not None:
        raise DataError(f"{label}: this is {binary[0]}, not a text file; {binary[1]}")
    source: Path | bytes = path
    lines: dict[str, np.ndarray] = {}
    quotes = -1  # not counted yet
    n_lines: int | None = None
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(
                f"{label}: unknown encoding {encoding!r}; use e.g. 'utf-8', 'utf-8-sig' or 'gbk'"
            ) from None
        enc = encoding
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"  # Excel's "Unicode text" export
    else:
        valid, quotes, n_lines = scan_utf8(path)
        enc = "utf-8"
        if not valid:  # decoded line by line: see tierlab.io.encodings
            decoded = decode_mixed(path.read_bytes())
            source, enc, lines = decoded.text, decoded.encoding, decoded.rejected
            quotes = source.count(b'"')
            n_lines = physical_lines(source.count(b"\n"), source[-1:])
    _check_quotes(source, label, enc, quotes)
    if isinstance(source, bytes):
        sample = source[:_SNIFF_BYTES].decode("utf-8", errors="replace")
        truncated = len(source) > _SNIFF_BYTES
    else:
        sample = head.decode(enc, errors="replace").lstrip("\ufeff")
        truncated = len(head) == _SNIFF_BYTES
    if sep is None:
        sep = "\t" if suffix == ".tsv" else sniff_sep(sample, truncated=truncated)
    frame = _read_table(source, label, sep, "utf-8" if isinstance(source, bytes) else enc,
                        header, quoted=quotes != 0, n_lines=n_lines)
    rejected_rows = {}
    if lines and isinstance(source, bytes):
        rejected_rows = {reason: rows_of_lines(source, at, header=header, label=label)
                         for reason, at in lines.items()}
    undecodable = sorted(int(i) + 1 for at in lines.values() for i in at)
    return RawTable(frame, label, str(path), "text", encoding=enc, sep=sep,
                    rejected_rows=rejected_rows, undecodable_lines=undecodable)


def _check_quotes(source: Path | bytes, label: str, encoding: str, quotes: int) -> None:
    """Refuse a file with a quote that is never closed (Arrow would silently lose rows)."""
    if quotes < 0:  # an explicit or UTF-16 encoding: count in the decoded text
        try:
            data = _all_bytes(source, encoding)
        except (OSError, UnicodeError, LookupError):
            return  # the reader reports what is wrong with the bytes
        quotes = data.count(b'"')
    if quotes % 2:
        data = _all_bytes(source, encoding)
        raise DataError(
            f"{label}: a quote opened at line {unclosed_quote_line(data)} is never closed, so "
            "the rest of the file would read as one field; close or remove that quote"
        )


def _read_table(source: Path | bytes, label: str, sep: str, encoding: str,
                header: bool, *, quoted: bool, n_lines: int | None) -> pd.DataFrame:
    """Read the table, turning every reader failure into one clear DataError."""
    try:
        return _read_csv(source, sep, encoding, header, quoted=quoted, n_lines=n_lines)
    except UnicodeError as exc:
        found = first_invalid_line(source, encoding) if isinstance(source, Path) else None
        where = f" at line {found[0]}" if found else ""
        raise DataError(
            f"{label}: the bytes{where} are not valid {encoding} text ({exc}); pass the file's "
            "encoding, e.g. encoding='gbk' or encoding='utf-8'"
        ) from None
    except _RaggedRow as exc:
        raise DataError(_ragged_message(source, label, sep, encoding, exc)) from None
    except (pa.ArrowInvalid, pd.errors.ParserError) as exc:
        text = str(exc).strip()
        if "utf8" in text.lower().replace("-", ""):
            found = first_invalid_line(source, encoding) if isinstance(source, Path) else None
            where = f" at line {found[0]}" if found else ""
            raise DataError(
                f"{label}: the bytes{where} are not valid {encoding} text; pass the file's "
                "encoding, e.g. encoding='gbk' or encoding='utf-8'"
            ) from None
        if "straddl" in text:
            raise DataError(_straddle_message(source, label, sep)) from None
        raise DataError(
            f"{label}: cannot be read as a table with separator {sep!r}: {text}. Check the "
            "separator (pass sep=...) and the quoting."
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{label}: the file is empty (expected a header line and data rows)"
        ) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{label}: cannot be read ({exc})") from None


class _RaggedRow(Exception):
    """A row with another number of fields than the header (raised from Arrow's handler)."""

    def __init__(self, expected: int, actual: int, text: str):
        super().__init__(text)
        self.expected, self.actual, self.text = expected, actual, text


def _all_bytes(source: Path | bytes, encoding: str) -> bytes:
    data = source.read_bytes() if isinstance(source, Path) else source
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
        data = data.decode(encoding, "replace").encode("utf-8")
    return data


def _ragged_message(source: Path | bytes, label: str, sep: str, encoding: str,
                    exc: _RaggedRow) -> str:
    data = _all_bytes(source, encoding)
    at = data.find(exc.text.encode("utf-8"))
    where = f"line {line_of_offset(data, at)}" if at >= 0 else "a row"
    return (f"{label}: {where} has {exc.actual} field(s) with separator {sep!r} where the "
            f"header has {exc.expected} ({exc.text[:80]!r}); check the separator (pass "
            "sep=...) and the quoting of that line")


def _straddle_message(source: Path | bytes, label: str, sep: str) -> str:
    """Which line holds a field larger than Arrow's block (quotes are balanced by now)."""
    data = _all_bytes(source, "utf-8")
    b = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(b == 10)
    bounds = np.concatenate([[-1], nl, [len(b)]])
    longest = int(np.argmax(np.diff(bounds)))
    size = int(np.diff(bounds)[longest])
    return (f"{label}: line {longest + 1} is {size / 2**20:.1f} MB long, larger than a field "
            f"can be (quoted text running over many lines, or a wrong separator {sep!r}?); "
            "check that line's quoting and the separator (pass sep=...)")


def sniff_sep(sample: str, *, truncated: bool) -> str:
    """The separator a header line uses.

    Comma, tab, semicolon or pipe (the most frequent; ties in that order), else runs of
    whitespace.
    """
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


def _arrow_csv(stream: Any, sep: str, encoding: str, header: bool, *,
               newlines: bool) -> pa.Table:
    """Arrow's reader, every column as text ("" = missing); a UTF-8 BOM is skipped by pyarrow.

    The columns stay Arrow strings (no copy into pandas' large strings): the loader parses
    them in Arrow and converts only what it outputs. The handler's count of skipped blank lines
    rides on the table's metadata.
    """
    handler = _RowHandler()
    try:
        table = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(encoding=encoding,
                                           autogenerate_column_names=not header),
            parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=handler,
                                             newlines_in_values=newlines),
            convert_options=pacsv.ConvertOptions(default_column_type=pa.string(),
                                                 null_values=[""], strings_can_be_null=True),
        )
    except pa.ArrowInvalid:
        if handler.ragged is not None:
            raise handler.ragged from None
        raise
    return table.replace_schema_metadata({"skipped": str(handler.skipped)})


def _skipped(table: pa.Table) -> int:
    return int((table.schema.metadata or {}).get(b"skipped", b"0"))


class _RowHandler:
    """Arrow's handler of rows with a wrong number of fields.

    Blank lines are skipped; the first other such row is kept for the error message.
    """

    def __init__(self) -> None:
        self.ragged: _RaggedRow | None = None
        self.skipped = 0

    def __call__(self, row: Any) -> str:
        if not row.text.strip():
            self.skipped += 1
            return "skip"
        if self.ragged is None:
            self.ragged = _RaggedRow(row.expected_columns, row.actual_columns, row.text)
        return "error"


def _read_csv(source: Path | bytes, sep: str, encoding: str, header: bool, *,
              quoted: bool = True, n_lines: int | None = None) -> pd.DataFrame:
    """Read a text table.

    *quoted*: the file may hold quoted fields; *n_lines*: its physical lines, when known.
    Arrow reads values spanning lines correctly only when told (which costs time), so a file
    with quotes is read without it first and again with it when its rows and skipped lines do
    not add up to its lines.
    """
    utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    stream = (lambda: io.BytesIO(source)) if isinstance(source, bytes) else (lambda: source)
    if len(sep) == 1:
        arrow_encoding = "utf8" if utf8 else encoding
        table = None
        if not quoted or n_lines is not None:  # try the fast way first
            try:
                table = _arrow_csv(stream(), sep, arrow_encoding, header, newlines=False)
            except (pa.ArrowInvalid, _RaggedRow):
                if not quoted:
                    raise
            if quoted and table is not None and \
                    table.num_rows + header + _skipped(table) != n_lines:
                table = None  # a value spans lines (or blank lines): read it the safe way
        if table is None:
            table = _arrow_csv(stream(), sep, arrow_encoding, header, newlines=True)
        frame = table.to_pandas(types_mapper=ARROW_TEXT_TYPES.get, self_destruct=True)
        if not header:
            frame.columns = pd.RangeIndex(frame.shape[1])
            return frame
        # headers exactly as pandas names them (repeated → "x.1", empty → "Unnamed: 3")
        try:
            names = pd.read_csv(stream(), sep=sep, nrows=0,
                                encoding="utf-8-sig" if utf8 else encoding).columns
        except (pd.errors.ParserError, ValueError, UnicodeError):  # keep Arrow's names
            names = frame.columns
        if len(names) == frame.shape[1]:
            frame.columns = names
        return frame
    engine: Literal["c", "python"] = "c" if sep == r"\s+" else "python"
    return pd.read_csv(stream(), sep=sep, engine=engine,
                       encoding="utf-8-sig" if utf8 else encoding, dtype=str,
                       keep_default_na=False, na_values=[""], header=0 if header else None)


def _read_excel(path: Path, label: str, sheet: str | int | None, header: bool) -> RawTable:
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
                                  na_values=[""], header=0 if header else None)
            _apply_zero_padding(frame, book.book[name], header)
    except DataError:
        raise
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DataError(f"{label}: not a readable .xlsx workbook ({exc})") from None
    if frame.shape[1] == 0:
        raise DataError(f"{label}: sheet {name!r} is empty (expected a header row and data rows)")
    return RawTable(frame, f"{label} sheet {name!r}", str(path), "xlsx", sheet=name)


def _zero_width(number_format: str) -> int:
    """Digits of a zero-padding number format (``00000`` → 5), else 0."""
    fmt = number_format.split(";")[0].strip()
    return len(fmt) if fmt and set(fmt) == {"0"} and len(fmt) > 1 else 0


def _apply_zero_padding(frame: pd.DataFrame, ws: Any, header: bool) -> None:
    """Integers shown zero-padded in Excel (format ``00000``) as the text Excel shows (``00002``).

    Only columns whose first numeric cells use such a format are scanned cell by cell.
    """
    first = 2 if header else 1
    probe: dict[int, int] = {}
    for row in ws.iter_rows(min_row=first, max_row=first + 199):
        for j, cell in enumerate(row):
            if j < frame.shape[1] and isinstance(cell.value, int | float) and \
                    not isinstance(cell.value, bool) and _zero_width(cell.number_format):
                probe[j] = 1
    for j in probe:
        widths = np.fromiter(
            (_zero_width(c.number_format) if isinstance(c.value, int | float) else 0
             for (c,) in ws.iter_rows(min_row=first, max_row=first + len(frame) - 1,
                                      min_col=j + 1, max_col=j + 1)),
            dtype=np.int64, count=-1)
        col = frame.iloc[:, j]
        text = col.astype("str")
        digits = text.str.fullmatch(r"-?\d+").to_numpy(dtype=bool, na_value=False)
        pad = np.zeros(len(frame), dtype=np.int64)
        pad[:len(widths)] = widths[:len(frame)]
        todo = np.flatnonzero(digits & (pad > 0))
        if len(todo):
            for width in np.unique(pad[todo]):
                at = todo[pad[todo] == width]
                text.iloc[at] = text.iloc[at].str.zfill(int(width))
            frame.isetitem(j, text.where(col.notna().to_numpy(dtype=bool)).array)


def _read_parquet(path: Path, label: str) -> RawTable:
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{label}: not a readable Parquet file ({exc})") from None
    return RawTable(frame, label, str(path), "parquet")

