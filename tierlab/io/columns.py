"""Mapping the headers of an export to tierlab's canonical column names.

A canonical column is found, in this order: through the ``columns=`` mapping the caller gives
(canonical name → header in the file; headers compared exactly, then ignoring case, surrounding
spaces and a BOM), else by its own name or one of its aliases (:data:`TRANSACTION_COLUMNS`,
:data:`CUSTOMER_COLUMNS`; compared case-insensitively, ignoring spaces, ``_`` and ``-``). Every
failure is one :class:`~tierlab.errors.DataError` that lists the columns present and suggests
the closest header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from tierlab.errors import DataError, did_you_mean

__all__ = ["CUSTOMER_COLUMNS", "TRANSACTION_COLUMNS", "resolve_columns"]

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


def resolve_columns(
    headers: pd.Index,
    columns: Mapping[str, str] | None,
    known: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    label: str,
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

    Raises
    ------
    DataError
        A bad mapping, a mapped header not in the file, a column mapped twice, a mapped name
        that clashes with a column of that name, or a required column not found.
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


def _mapped(
    names: list[str],
    columns: Mapping[str, str] | None,
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
