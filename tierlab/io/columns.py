"""Mapping the headers of an export to tierlab's canonical column names.

A canonical column is found, in this order: through the ``columns=`` mapping the caller gives
(canonical name → header in the file; headers compared exactly, then ignoring case, surrounding
spaces and a BOM), else by its own name or one of its aliases (:data:`TRANSACTION_COLUMNS`,
:data:`CUSTOMER_COLUMNS`; compared case-insensitively, ignoring spaces, ``_`` and ``-``). Every
failure is one :class:`~tierlab.errors.DataError` that lists the columns present and suggests
the closest header. Without a header line (``header=None``) columns are mapped by position
(``columns={"customer_id": 0, "timestamp": 1, "amount": 2}``); a header line that looks like data
(a date or number in every mapped date/number column) is an error suggesting ``header=None``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError, did_you_mean
from tierlab.io.dates import parse_datetime
from tierlab.io.values import parse_number

__all__ = ["CUSTOMER_COLUMNS", "TRANSACTION_COLUMNS", "check_header", "resolve_columns",
           "unmapped_positions"]

#: What the values of the typed canonical columns are (a header of that kind looks like data).
_KINDS = {"timestamp": "date", "signup_date": "date", "amount": "number",
          "quantity": "number", "satisfaction": "number"}

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


def unmapped_positions(width: int, colmap: dict[str, int]) -> list[int]:
    """Positions of the columns not mapped to a canonical name (kept as read)."""
    mapped = set(colmap.values())
    return [i for i in range(width) if i not in mapped]


def check_header(header: int | None) -> bool:
    """Whether the source has a header line: ``header=0`` (the default) or ``None``.

    Raises
    ------
    ArgumentError
        *header* is neither 0 nor None.
    """
    if header is None:
        return False
    if isinstance(header, int) and not isinstance(header, bool) and header == 0:
        return True
    raise ArgumentError(
        f"header={header!r}: use header=0 (the first line holds the column names, the default) "
        "or header=None (no header line; map columns by position, e.g. "
        "columns={'customer_id': 0, 'timestamp': 1, 'amount': 2})"
    )


def _looks_like(names: list[str], kind: str) -> np.ndarray:
    """Which *names* parse as a date or a number."""
    s = pd.Series(names, dtype="str")
    if kind == "date":
        _, missing, bad = parse_datetime(s, date_format=None, tz=None)
    else:
        _, missing, bad = parse_number(s, currency=True)
    return ~missing & ~bad


def _data_hint(names: list[str]) -> str:
    """A hint when the header line holds a date and a number, as data rows do."""
    if len(names) > 1 and _looks_like(names, "date").any() and _looks_like(names, "number").any():
        return (" The first line looks like data: if the file has no header line, pass "
                "header=None and map columns by position, e.g. columns={'customer_id': 0, "
                "'timestamp': 1, 'amount': 2} (CLI: --no-header --columns customer_id=0 ...).")
    return ""


def _check_header_row(names: list[str], out: dict[str, int], label: str) -> None:
    """Refuse a header line whose mapped date/number columns all hold a date/number."""
    typed = {k: pos for k, pos in out.items() if k in _KINDS}
    if not typed:
        return
    if all(_looks_like([names[pos]], _KINDS[k])[0] for k, pos in typed.items()):
        shown = ", ".join(f"{k}={names[pos]!r}" for k, pos in typed.items())
        raise DataError(
            f"{label}: the header line looks like a data row ({shown}): mapping columns by the "
            "values of the first row would lose that row. If the file has no header line, "
            "pass header=None and map columns by position, e.g. columns={'customer_id': 0, "
            "'timestamp': 1, 'amount': 2} (CLI: --no-header --columns customer_id=0 ...)"
        )


def resolve_columns(
    headers: pd.Index,
    columns: Mapping[str, str | int] | None,
    known: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    label: str,
    *,
    header_row: bool = False,
) -> dict[str, int]:
    """Map canonical name → position of its column in *headers*.

    Parameters
    ----------
    headers : pandas.Index
        The columns of the raw table.
    columns : mapping or None
        The caller's mapping, canonical name → header.
    known : dict
        Canonical names and their aliases (:data:`TRANSACTION_COLUMNS` or
        :data:`CUSTOMER_COLUMNS`).
    required : tuple of str
        Canonical names that must be found.
    label : str
        The source as named in messages.
    header_row : bool
        The headers come from a header line of a file: refuse one that looks like data.

    Raises
    ------
    DataError
        A bad mapping, a mapped header not in the file, a column mapped twice, a mapped name
        that clashes with a column of that name, a required column not found, or a header line
        that looks like data.
    """
    names = [str(h) for h in headers]
    listing = ", ".join(repr(h) for h in names) or "(none)"
    out = _mapped(names, columns, known, label, listing)
    used = {pos: key for key, pos in out.items()}
    normed = [_norm(h) for h in names]
    for key, aliases in known.items():
        if key in out:
            continue
        for w in [_norm(key)] + [_norm(a) for a in aliases]:
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
            free = [h for i, h in enumerate(names) if i not in used and i not in out.values()]
            hint = _closest(key, known[key], free)
            guess = hint or "<header in the file>"
            closest = f" (did you mean {hint!r}?)" if hint else ""
            raise DataError(
                f"{label}: required column {key!r} not found{closest}. Columns present: "
                f"{listing}. Map it with columns={{{key!r}: {guess!r}}} (CLI: --columns "
                f"{key}={guess})"
                + (_data_hint(names) if header_row else "")
            )
    if header_row:
        _check_header_row(names, out, label)
    return out


def _closest(key: str, aliases: tuple[str, ...], free: list[str]) -> str:
    """The header most like *key* or an alias among the unmapped ones ('' when none is close)."""
    best, score = "", 0.0
    for header in free:
        for word in (key, *aliases):
            r = difflib.SequenceMatcher(None, _norm(word), _norm(header)).ratio()
            if r > score:
                best, score = header, r
    if score >= 0.5 or (len(free) == 1 and free[0]):
        return best or free[0]
    return ""


def _mapped(
    names: list[str],
    columns: Mapping[str, str | int] | None,
    known: dict[str, tuple[str, ...]],
    label: str,
    listing: str,
) -> dict[str, int]:
    """Positions of the columns the caller mapped explicitly."""
    out: dict[str, int] = {}
    if columns is None:
        return out
    if not isinstance(columns, Mapping):
        raise DataError(
            f"columns must map canonical names to headers, e.g. {{'customer_id': '客户ID'}}; "
            f"got a {type(columns).__name__}"
        )
    used: dict[int, str] = {}
    for key, header in columns.items():
        if key not in known:
            raise DataError(
                f"{label}: columns= has an unknown canonical name {key!r}"
                f"{did_you_mean(key, known)}; known names: " + ", ".join(known)
            )
        if isinstance(header, int) and not isinstance(header, bool):
            if not 0 <= header < len(names):
                raise DataError(
                    f"{label}: columns= maps {key!r} to position {header}, but the file has "
                    f"{len(names)} columns (positions 0 to {len(names) - 1})"
                )
            pos: int | None = header
        else:
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
    return out


def _norm(name: Any) -> str:
    """A header as compared with aliases: no case, spaces, ``_``, ``-`` or BOM."""
    text = str(name).strip().lstrip("\ufeff").casefold()
    return text.replace(" ", "").replace("_", "").replace("-", "")


def _find_header(names: list[str], header: str) -> int | None:
    """Position of a mapped header: exact match first, then ignoring case and spaces."""
    if header in names:
        return names.index(header)
    target = header.strip().lstrip("\ufeff").casefold()
    for i, name in enumerate(names):
        if name.strip().lstrip("\ufeff").casefold() == target:
            return i
    return None
