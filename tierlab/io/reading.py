r"""Reading a source into a raw table: text, Excel, Parquet files or a DataFrame.

Text files: the encoding is UTF-8 (a BOM is fine), UTF-16 when the file starts with its BOM,
else GB18030 (a superset of GBK) when the bytes are not UTF-8; the delimiter is sniffed from the
header line (comma, tab, semicolon or pipe, the most frequent winning, on a tie in that order;
else runs of whitespace). Single-character separators use Arrow's CSV reader (columns stay Arrow
strings, see :mod:`tierlab._kernels.arrowtext`), ``r"\s+"`` pandas' C engine, other regular
expressions the python engine. Workbooks are read with openpyxl, Parquet with pyarrow. Every
value of a text source is read as text; parsing is :mod:`tierlab.io.values`' job.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zipfile import BadZipFile

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tierlab._kernels.arrowtext import ARROW_TEXT_TYPES
from tierlab.errors import DataError, did_you_mean

__all__ = ["RawTable", "read_source"]

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class RawTable:
    """A table as read, before any column is mapped or parsed.

    ``label`` names the source in messages (path, and sheet for workbooks); ``file``,
    ``fmt``, ``encoding``, ``sep`` and ``sheet`` go into the load summary; ``row_base`` is the
    number of the first data row (1 in files, 0 for a DataFrame's positions).
    """

    frame: pd.DataFrame
    label: str
    file: str
    fmt: str
    encoding: str | None = None
    sep: str | None = None
    sheet: str | None = None
    row_base: int = 1


def read_source(
    source: str | Path | pd.DataFrame,
    *,
    sep: str | None,
    encoding: str | None,
    sheet: str | int | None,
) -> RawTable:
    """Read a text file, workbook, Parquet file or DataFrame (taken as is) into a raw table.

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
) -> RawTable:
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
            return RawTable(frame, label, str(path), "text", encoding=enc, sep=sep)
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
        frame = table.to_pandas(types_mapper=ARROW_TEXT_TYPES.get, self_destruct=True)
        # headers exactly as pandas names them (repeated → "x.1", empty → "Unnamed: 3")
        try:
            header = pd.read_csv(path, sep=sep, nrows=0,
                                 encoding="utf-8-sig" if utf8 else encoding).columns
        except (pd.errors.ParserError, ValueError, UnicodeError):  # keep Arrow's names
            header = frame.columns
        if len(header) == frame.shape[1]:
            frame.columns = header
        return frame
    engine: Literal["c", "python"] = "c" if sep == r"\s+" else "python"
    return pd.read_csv(path, sep=sep, engine=engine, encoding="utf-8-sig" if utf8 else encoding,
                       dtype=str, keep_default_na=False, na_values=[""])


def _read_excel(path: Path, label: str, sheet: str | int | None) -> RawTable:
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
    return RawTable(frame, f"{label} sheet {name!r}", str(path), "xlsx", sheet=name)


def _read_parquet(path: Path, label: str) -> RawTable:
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{label}: not a readable Parquet file ({exc})") from None
    return RawTable(frame, label, str(path), "parquet")

