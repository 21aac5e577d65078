r"""Deciding how the bytes of a text export decode, line by line when they must.

A file is decoded with one encoding only when that is sound for every line:

- a file that is valid UTF-8 throughout (a BOM is fine) is UTF-8; this is checked in blocks
  with the incremental decoder, so a clean file costs one extra pass and no per-line work;
- otherwise each line is classified (vectorized over code points, in blocks): *invalid* lines
  hold bytes that are not UTF-8; *UTF-8 text* lines are valid UTF-8 holding CJK or fullwidth
  characters or a Latin letter beside an ASCII one (``José``), and none of the characters GBK
  bytes produce when read as UTF-8 (C1 controls, Greek to Arabic, U+0250–U+07FF);
- with no UTF-8 text line the file is GB18030 (a superset of GBK): a Chinese Excel export;
- with UTF-8 text lines the file mixes encodings: the larger group decides the file's encoding
  and the lines of the other group are rejected (never decoded the wrong way: that is how ids get
  silently garbled). Lines no candidate decodes are rejected too.

Rejected lines reach the table as UTF-8 text with any other bytes escaped (``\xcd\xf5``), so
they parse into the same fields (a UTF-8 decoder never swallows an ASCII separator) and appear in
``LoadResult.rejected`` with their reason.

The price of never garbling: GBK bytes can be valid UTF-8 by chance, so a GBK file may see a few
lines rejected as mixed (measured on random GB2312 text: ~3% of lines whose only non-ASCII text
is one character beside an ASCII letter, ~0.2% of lines holding two characters, none for longer
text). An explicit ``encoding='gbk'`` (or ``'utf-8'``) reads every line in that encoding.

Residual ambiguity (documented, not guessed): a line that is valid UTF-8 but not UTF-8 text as
defined above (a lone ``«`` or ``é`` field, Cyrillic) in a file whose other non-ASCII lines are
GBK is read as GBK, as the GBK bytes of some Chinese characters are exactly such UTF-8.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tierlab.errors import DataError

__all__ = [
    "MIXED_UTF8",
    "NOT_GB18030",
    "NOT_UTF8",
    "Decoded",
    "binary_kind",
    "decode_mixed",
    "first_invalid_line",
    "line_of_offset",
    "physical_lines",
    "rows_of_lines",
    "scan_utf8",
    "unclosed_quote_line",
]

#: Rejection reasons of lines that cannot be decoded as the file's encoding.
NOT_UTF8 = "undecodable text (not UTF-8)"
NOT_GB18030 = "undecodable text (not GB18030)"
MIXED_UTF8 = "mixed encoding (UTF-8 line in a GB18030 file)"

_BLOCK = 1 << 23  # bytes read per step
_MAGIC = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive",
     "rename it .xlsx (or export it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)", "save it as .xlsx or CSV"),
    (b"PAR1", "a Parquet file", "rename it .parquet"),
)


def binary_kind(head: bytes) -> tuple[str, str] | None:
    """(what, fix) when *head* starts like a workbook, zip or Parquet file, else None."""
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            return what, fix
    return None


def scan_utf8(path: Path) -> tuple[bool, int, int]:
    """(whether the whole file is valid UTF-8, how many ``"`` it holds, its physical lines).

    Read block by block; ASCII blocks are not decoded. Counting the quotes lets the reader
    catch a quote that is never closed, which Arrow's reader would otherwise turn into silently
    lost rows; the line count tells it whether any value spans lines.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    quotes = newlines = 0
    valid = True
    last = b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            quotes += block.count(b'"')
            newlines += block.count(b"\n")
            last = block[-1:]
            if not valid or (block.isascii() and not decoder.getstate()[0]):
                continue
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                valid = False
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return valid, quotes, physical_lines(newlines, last)


def physical_lines(newlines: int, last: bytes) -> int:
    """Lines of a text with *newlines* newlines whose last byte is *last* (b"" when empty)."""
    return newlines + (1 if last not in (b"", b"\n") else 0)


def unclosed_quote_line(data: bytes) -> int:
    """1-based line where a quote that is never closed opens (the total count is odd).

    Quotes pair in order (an escaped ``""`` is a pair too), so the unclosed one opens after the
    last line end that falls outside quotes.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    parity = np.cumsum(b == 34) % 2
    ends = np.flatnonzero((b == 10) & (parity == 0))
    return line_of_offset(data, int(ends[-1]) + 1) if len(ends) else 1


def line_of_offset(data: bytes, offset: int) -> int:
    """1-based line number of byte *offset* in *data*."""
    return data.count(b"\n", 0, offset) + 1


def first_invalid_line(path: Path, encoding: str) -> tuple[int, str] | None:
    """(1-based line, codec message) of the first bytes *encoding* cannot decode, or None."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return line_of_offset(data, exc.start), exc.reason
    return None


@dataclass
class Decoded:
    """A non-UTF-8 file decoded line by line: UTF-8 bytes for the reader and the lines rejected.

    ``rejected`` maps a reason to the 0-based physical line numbers it applies to.
    """

    text: bytes
    encoding: str
    rejected: dict[str, np.ndarray] = field(default_factory=dict)


def _line_flags(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Per physical line: (holds non-UTF-8 bytes, is UTF-8 text).

    Vectorized over the non-ASCII bytes only (no decoding): a UTF-8 validator by byte classes
    (a lead byte needs its continuation bytes, a continuation byte needs a lead, with the
    overlong and surrogate limits of the second byte), and byte patterns for the characters
    that make a line UTF-8 text.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    n = len(b)
    nl = np.flatnonzero(b == 10)
    n_lines = len(nl) + 1
    at = np.flatnonzero(b >= 0x80)

    def byte(shift: int) -> np.ndarray:
        q = at + shift
        inside = (q >= 0) & (q < n)
        return np.where(inside, b[np.clip(q, 0, max(n - 1, 0))], 10).astype(np.uint8)

    def lead(x: np.ndarray, size: int) -> np.ndarray:
        return {2: (x >= 0xC2) & (x <= 0xDF), 3: (x & 0xF0) == 0xE0,
                4: (x >= 0xF0) & (x <= 0xF4)}[size]

    def cont(x: np.ndarray) -> np.ndarray:
        return (x & 0xC0) == 0x80

    def letter(x: np.ndarray) -> np.ndarray:
        return ((x | 0x20) >= 0x61) & ((x | 0x20) <= 0x7A)

    b0, m1, m2, m3, p1, p2, p3 = (byte(k) for k in (0, -1, -2, -3, 1, 2, 3))
    want = (lead(m1, 2) | lead(m1, 3) | lead(m1, 4) | lead(m2, 3) | lead(m2, 4)
            | lead(m3, 4))
    missing = ((lead(b0, 2) & ~cont(p1)) | (lead(b0, 3) & ~(cont(p1) & cont(p2)))
               | (lead(b0, 4) & ~(cont(p1) & cont(p2) & cont(p3))))
    bad = (b0 == 0xC0) | (b0 == 0xC1) | (b0 >= 0xF5) | (cont(b0) & ~want) | missing
    bad |= ((m1 == 0xE0) & (b0 < 0xA0)) | ((m1 == 0xED) & (b0 > 0x9F))
    bad |= ((m1 == 0xF0) & (b0 < 0x90)) | ((m1 == 0xF4) & (b0 > 0x8F))
    wide = (lead(b0, 3) & ((b0 >= 0xE3) | ((b0 == 0xE2) & (p1 >= 0xBA)))) | lead(b0, 4)
    latin = ((b0 >= 0xC3) & (b0 <= 0xC8)) | ((b0 == 0xC9) & (p1 < 0x90))
    latin &= ~((b0 == 0xC3) & ((p1 == 0x97) | (p1 == 0xB7)))  # × and ÷
    latin &= letter(m1) | letter(p2)  # "José": a Latin letter beside an ASCII one
    odd_looking = (((b0 == 0xC2) & (p1 <= 0x9F)) | ((b0 == 0xC9) & (p1 >= 0x90))
                   | ((b0 >= 0xCA) & (b0 <= 0xDF)))
    line = np.searchsorted(nl, at)
    flags = []
    for where in (bad, wide | latin, odd_looking):
        f = np.zeros(n_lines, dtype=bool)
        f[line[where]] = True
        flags.append(f)
    invalid, looks, odd = flags
    return invalid, looks & ~odd


def _undecodable_lines(data: bytes, encoding: str) -> np.ndarray:
    """0-based lines holding bytes *encoding* cannot decode (when some are)."""
    escaped = data.decode(encoding, "surrogateescape")
    cp = np.frombuffer(escaped.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    nl = cp == 10
    line = np.cumsum(nl) - nl
    return np.unique(line[(cp >= 0xDC80) & (cp <= 0xDCFF)]).astype(np.int64)


def decode_mixed(data: bytes) -> Decoded:
    """Decode a file that is not valid UTF-8 (see the module documentation)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    invalid, utf8_text = _line_flags(data)
    utf8_text &= ~invalid
    rejected: dict[str, np.ndarray] = {}
    if utf8_text.sum() >= invalid.sum():  # a UTF-8 file with some lines in another encoding
        rejected[NOT_UTF8] = np.flatnonzero(invalid)
        return Decoded(data.decode("utf-8", "backslashreplace").encode("utf-8"), "utf-8",
                       rejected)
    encoding = "gb18030"
    try:
        text = data.decode(encoding)
        bad = np.zeros(0, dtype=np.int64)
    except UnicodeDecodeError:
        text = data.decode(encoding, "backslashreplace")
        bad = _undecodable_lines(data, encoding)
    if len(bad):
        rejected[NOT_GB18030] = bad
    mixed = np.setdiff1d(np.flatnonzero(utf8_text), bad)
    if len(mixed):
        rejected[MIXED_UTF8] = mixed
    out = np.union1d(bad, mixed)
    if len(out):
        # shown as UTF-8 (bytes that are not escaped): unlike GB18030, UTF-8 never reads an
        # ASCII byte such as a "|" separator as part of a character, so the fields stay put
        lines = text.split("\n")
        raw = data.split(b"\n")
        for i in out:  # only the rejected lines
            lines[i] = raw[i].decode("utf-8", "backslashreplace")
        text = "\n".join(lines)
    return Decoded(text.encode("utf-8"), encoding, rejected)


def rows_of_lines(data: bytes, lines: np.ndarray, *, header: bool, label: str) -> np.ndarray:
    """0-based data-row positions of the records holding physical *lines*.

    A record ends at a newline outside quotes (quotes are ASCII bytes, never part of a UTF-8 or
    GBK character, so their parity is sound in any of these encodings); records of blank lines
    are not rows.

    Raises
    ------
    DataError
        One of *lines* is in the header.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    nl = b == 10
    boundary = nl & (np.cumsum(b == 34) % 2 == 0)
    record = np.cumsum(boundary) - boundary  # a newline belongs to the record it ends
    n = int(record[-1]) + 1 if len(b) else 0
    space = (b == 32) | ((b >= 9) & (b <= 13))
    content = np.flatnonzero(np.bincount(record[~space], minlength=n) > 0)
    starts = np.concatenate([[0], np.flatnonzero(nl) + 1])
    starts = starts[lines[lines < len(starts)]]
    hit_records = np.unique(record[np.minimum(starts, len(b) - 1)])
    if header and len(content) and np.isin(content[0], hit_records):
        raise DataError(f"{label}: the header line cannot be decoded like the rest of the "
                        "file; fix it or pass encoding=...")
    data_records = content[1:] if header else content
    pos = np.searchsorted(data_records, hit_records)
    hit = pos < len(data_records)
    hit[hit] = data_records[pos[hit]] == hit_records[hit]
    return pos[hit]
