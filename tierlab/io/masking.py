"""Masking contacts and pseudonymizing ids before a customer table is shown or shared.

Masking is vectorized with pandas string methods; missing values stay missing:

- phone numbers keep the first three and last four of their last 11 digits:
  ``13812345678`` / ``+86 138-1234-5678`` → ``138****5678``; shorter numbers keep only their
  last two digits (``****78``);
- e-mail addresses keep the first character of the local part and the domain:
  ``alice@example.com`` → ``a***@example.com``, every address of a cell
  (``a@x.cn; b@y.cn`` → ``a***@x.cn; b***@y.cn``); a cell without an address becomes ``***``;
- in free text (``notes``, and the rest of an e-mail cell) e-mail addresses are masked the same
  way and every phone-like run of seven or more digits becomes ``****``: digits separated by
  spaces, dots, dashes, slashes or parentheses, with an optional leading ``+``
  (``+86 138.1234.5678``, ``(021) 5555-1234``). Dates written with such separators
  (``2025.03.01``) are masked too: privacy before readability.

Pseudonyms are ``P`` plus 16 hex digits of a keyed 64-bit SipHash of the id
(:func:`pandas.util.hash_pandas_object` with a key derived from ``salt``): the same id and salt
always give the same pseudonym, so keep the salt to link exports over time. Without a salt a
random one is drawn, so pseudonyms cannot be linked across runs (nor reversed by hashing known
ids).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError

__all__ = [
    "contact_column",
    "customers_by_id",
    "mask_contacts",
    "mask_email",
    "mask_phone",
    "mask_text",
    "pseudonymize_ids",
    "text_series",
]

#: Values the masking functions accept: a Series (its index is kept) or any sequence/array.
TextValues: TypeAlias = "pd.Series | Sequence[Any] | np.ndarray"

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def text_series(values: TextValues) -> pd.Series:
    """*values* as a pandas ``str`` Series (index kept; an empty input stays ``object``)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return s.astype("str") if len(s) else s.astype(object)


def mask_phone(phones: TextValues) -> pd.Series:
    """Mask phone numbers: ``13812345678`` → ``138****5678``.

    Parameters
    ----------
    phones : Series or array-like
        Phone numbers as text (any separators); missing values stay missing.

    Returns
    -------
    Series
        Masked numbers, same index.

    Examples
    --------
    >>> mask_phone(["13812345678", "+86 139-0000-1234", "5551234", None]).tolist()
    ['138****5678', '139****1234', '****34', nan]
    """
    s = text_series(phones)
    digits = s.str.replace(r"\D+", "", regex=True)
    n = digits.str.len()
    last11 = digits.str[-11:]
    long_form = last11.str[:3] + "****" + last11.str[-4:]
    short_form = "****" + digits.str[-2:]
    out = long_form.where(n >= 11, short_form.where(n >= 5, "****"))
    return out.where(s.notna())


# An e-mail address: a local part (no spaces or separators of a list) @ a domain. The patterns
# run both in Python's re and in RE2 (pyarrow-backed strings), so they use neither lookbehinds
# nor named groups.
_LOCAL = r"[^\s@<>()\[\],;:\"]"
_DOMAIN = r"[^\s@<>()\[\],;:\"']+"
_EMAIL = rf"({_LOCAL}){_LOCAL}*@({_DOMAIN})"
_ANY_EMAIL = rf"{_LOCAL}+@{_DOMAIN}"
# A phone-like run: at least 7 digits (ASCII or full-width), up to four separators between
# them (``(021) - 5555``).
_DIGIT = "[0-9\uff10-\uff19]"
_PHONE = rf"\+?[(]?{_DIGIT}(?:[ .\-/()\u3000]{{0,4}}{_DIGIT}){{6,}}"


def _mask_free_text(s: pd.Series) -> pd.Series:
    s = s.str.replace(_EMAIL, r"\1***@\2", regex=True)
    return s.str.replace(_PHONE, "****", regex=True)


def mask_email(emails: TextValues) -> pd.Series:
    """Mask e-mail addresses: ``alice@example.com`` → ``a***@example.com``.

    Every address in a cell is masked, and phone-like digit runs beside them too (see
    :func:`mask_text`); a cell with no address becomes ``***``.

    Examples
    --------
    >>> mask_email(["alice@example.com", "b@x.cn; c@y.cn", "not an email", None]).tolist()
    ['a***@example.com', 'b***@x.cn; c***@y.cn', '***', nan]
    """
    s = text_series(emails).str.strip()
    has_address = s.str.contains(_ANY_EMAIL, regex=True, na=False)
    out = _mask_free_text(s).where(has_address, "***")
    return out.where(s.notna())


def mask_text(text: TextValues) -> pd.Series:
    """Mask e-mail addresses and phone-like digit runs (7+ digits) inside free text.

    Examples
    --------
    >>> mask_text(["call 138 1234 5678 after 18:00", "mail bob@example.com", None]).tolist()
    ['call **** after 18:00', 'mail b***@example.com', nan]
    >>> mask_text(["tel. +86 138.1234.5678, or a@x.cn / b@y.cn"]).tolist()
    ['tel. ****, or a***@x.cn / b***@y.cn']
    """
    return _mask_free_text(text_series(text))


def mask_contacts(customers: pd.DataFrame, *, phone: str = "phone", email: str = "email",
                  text: tuple[str, ...] = ("notes",)) -> pd.DataFrame:
    """A copy of a customer table with phone, e-mail and free-text columns masked.

    Columns that are absent are skipped; the input is not modified. Use this before displaying
    a customer table in a notebook or report.
    """
    out = customers.copy()
    if phone in out.columns:
        out[phone] = mask_phone(out[phone])
    if email in out.columns:
        out[email] = mask_email(out[email])
    for col in text:
        if col in out.columns:
            out[col] = mask_text(out[col])
    return out


def _salt_key(salt: str | bytes | None) -> str:
    """The 16-hex-digit SipHash key derived from *salt* (a random one when None)."""
    if salt is None:
        salt = secrets.token_hex(16)
    raw = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    return hashlib.blake2b(raw, digest_size=8, person=b"tierlab-pseudo").hexdigest()


def pseudonymize_ids(ids: TextValues, salt: str | bytes | None = None) -> pd.Series:
    """Replace customer ids by keyed pseudonyms ``P`` + 16 hex digits.

    Parameters
    ----------
    ids : Series or array-like
        Customer ids (compared as text).
    salt : str or bytes, optional
        Secret key. The same id and salt always give the same pseudonym; without a salt a random
        one is drawn (pseudonyms then differ on every call).

    Returns
    -------
    Series
        Pseudonyms, same index (missing ids stay missing).

    Examples
    --------
    >>> p = pseudonymize_ids(["C00001", "C00002", "C00001"], salt="s3cret")
    >>> p[0] == p[2], p[0] != p[1], len(p[0])
    (True, True, 17)
    """
    s = text_series(ids)
    hashed = pd.util.hash_pandas_object(s.fillna(""), index=False, hash_key=_salt_key(salt))
    h = hashed.to_numpy(dtype=np.uint64)
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nibbles = ((h[:, None] >> shifts) & np.uint64(0xF)).astype(np.intp)
    chars = np.ascontiguousarray(_HEX[nibbles]).view("S16").ravel()
    out = pd.Series(np.char.decode(chars, "ascii"), index=s.index, dtype=object)
    return ("P" + out).where(s.notna())


def customers_by_id(customers: pd.DataFrame | None, func: str) -> pd.DataFrame:
    """The customer table indexed by text ``customer_id`` (first row of a repeated id).

    ``None`` gives an empty table; *func* names the caller in the error for anything else that
    is not a customer table.
    """
    if customers is None:
        return pd.DataFrame(index=pd.Index([], name="customer_id", dtype=object))
    if not isinstance(customers, pd.DataFrame):
        raise ArgumentError(f"{func}: customers must be a DataFrame (the customer table), got "
                            f"{type(customers).__name__}")
    if "customer_id" in customers.columns:
        table = customers.drop_duplicates("customer_id").set_index("customer_id")
    elif customers.index.name == "customer_id":
        table = customers[~customers.index.duplicated()]
    else:
        raise DataError(f"{func}: the customer table has no 'customer_id' column; load it "
                        "with tierlab.load_customers")
    table.index = table.index.astype(str)
    return table


def contact_column(table: pd.DataFrame, ids: pd.Index, masked: bool) -> pd.Series:
    """Phone and e-mail of each customer of *ids* as one text (``a / b``), masked or not."""
    parts = []
    for col, mask in (("phone", mask_phone), ("email", mask_email)):
        if col in table.columns:
            values = table[col].reindex(ids)
            values = values.where(values.notna(), None)
            parts.append(mask(values) if masked else text_series(values))
    if not parts:
        return pd.Series(pd.NA, index=ids, dtype=object)
    joined = parts[0].fillna("")
    for p in parts[1:]:
        sep = np.where((joined != "") & p.notna(), " / ", "")
        joined = joined + sep + p.fillna("")
    joined = joined.astype(object)
    return joined.where(joined != "", None)
