"""The tier management table a business team works from, as CSV or Excel, with masked contacts.

One row per customer with a tier at the last review (customers who never bought have no tier
and are not listed):

=================  ===========================================================================
``customer_id``    as in the data, or a keyed pseudonym (``pseudonymize=True``)
``name``           from the customer table (empty when pseudonymized)
``contact``        phone and e-mail joined by `` / ``, masked unless ``mask_contacts=False``
``tier``           tier at the last review; ``label`` its display label (e.g. 高级客户)
``tier_since``     review at which the customer entered the current tier
``previous_tier``  tier before that (empty for customers still in their first tier)
``reason``         why the last change happened, with the figures
``notes``          from the customer table (digits and e-mails in it masked like contacts)
=================  ===========================================================================

Rows are sorted from the highest tier down, then by ``customer_id``.

Masking (vectorized with pandas string methods; missing values stay missing):

- phone numbers keep the first three and last four of their last 11 digits:
  ``13812345678`` / ``+86 138-1234-5678`` → ``138****5678``; shorter numbers keep only their
  last two digits (``****78``);
- e-mail addresses keep the first character of the local part and the domain:
  ``alice@example.com`` → ``a***@example.com``; text without ``@`` becomes ``***``;
- in free text (``notes``) e-mail addresses are masked the same way and every run of seven or
  more digits (spaces and dashes allowed inside) becomes ``****``.

Pseudonyms are ``P`` plus 16 hex digits of a keyed 64-bit SipHash of the id
(:func:`pandas.util.hash_pandas_object` with a key derived from ``salt``): the same id and salt
always give the same pseudonym, so keep the salt to link exports over time. Without a salt a
random one is drawn, so pseudonyms cannot be linked across runs (nor reversed by hashing known
ids).
"""

from __future__ import annotations

import hashlib
import secrets
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tierlab.errors import DataError

__all__ = [
    "TABLE_COLUMNS",
    "CHANGE_COLUMNS",
    "export_tier_table",
    "mask_contacts",
    "mask_email",
    "mask_phone",
    "mask_text",
    "pseudonymize_ids",
    "tier_table",
    "tier_table_summary",
]

#: Columns of the tier management table, in order.
TABLE_COLUMNS = ("customer_id", "name", "contact", "tier", "label", "tier_since",
                 "previous_tier", "reason", "notes")
#: Columns of the change-history sheet.
CHANGE_COLUMNS = ("customer_id", "review", "from_tier", "to_tier", "direction", "rule", "reason")

_EXCEL_MAX_ROWS = 1_048_576
_MAX_WIDTH = 60
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


# ------------------------------------------------------------------------------------- masking
def _text(values) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return s.astype("str") if len(s) else s.astype(object)


def mask_phone(phones) -> pd.Series:
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
    s = _text(phones)
    digits = s.str.replace(r"\D+", "", regex=True)
    n = digits.str.len()
    last11 = digits.str[-11:]
    long_form = last11.str[:3] + "****" + last11.str[-4:]
    short_form = "****" + digits.str[-2:]
    out = long_form.where(n >= 11, short_form.where(n >= 5, "****"))
    return out.where(s.notna())


def mask_email(emails) -> pd.Series:
    """Mask e-mail addresses: ``alice@example.com`` → ``a***@example.com``.

    Examples
    --------
    >>> mask_email(["alice@example.com", "b@x.cn", "not an email", None]).tolist()
    ['a***@example.com', 'b***@x.cn', '***', nan]
    """
    s = _text(emails).str.strip()
    parts = s.str.extract(r"^([^@\s])[^@]*@(.+)$")
    out = (parts[0] + "***@" + parts[1]).where(parts[1].notna(), "***")
    return out.where(s.notna())


def mask_text(text) -> pd.Series:
    """Mask e-mail addresses and digit runs (7+ digits) inside free text.

    Examples
    --------
    >>> mask_text(["call 138 1234 5678 after 18:00", "mail bob@example.com", None]).tolist()
    ['call **** after 18:00', 'mail b***@example.com', nan]
    """
    s = _text(text)
    s = s.str.replace(r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)", r"\1***@\2",
                      regex=True)
    return s.str.replace(r"\d[\d \-]{5,}\d", "****", regex=True)


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
    if salt is None:
        salt = secrets.token_hex(16)
    raw = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    return hashlib.blake2b(raw, digest_size=8, person=b"tierlab-pseudo").hexdigest()


def pseudonymize_ids(ids, salt: str | bytes | None = None) -> pd.Series:
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
    s = _text(ids)
    h = pd.util.hash_pandas_object(s.fillna(""), index=False, hash_key=_salt_key(salt))
    h = h.to_numpy(dtype=np.uint64)
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nibbles = ((h[:, None] >> shifts) & np.uint64(0xF)).astype(np.intp)
    chars = np.ascontiguousarray(_HEX[nibbles]).view("S16").ravel()
    out = pd.Series(np.char.decode(chars, "ascii"), index=s.index, dtype=object)
    return ("P" + out).where(s.notna())


# ------------------------------------------------------------------------------------- the table
def _customer_frame(customers: pd.DataFrame | None) -> pd.DataFrame:
    if customers is None:
        return pd.DataFrame(index=pd.Index([], name="customer_id", dtype=object))
    if not isinstance(customers, pd.DataFrame):
        raise DataError(f"tier_table: customers must be a DataFrame (the customer table), got "
                        f"{type(customers).__name__}")
    if "customer_id" in customers.columns:
        table = customers.drop_duplicates("customer_id").set_index("customer_id")
    elif customers.index.name == "customer_id":
        table = customers[~customers.index.duplicated()]
    else:
        raise DataError("tier_table: the customer table has no 'customer_id' column; load it "
                        "with tierlab.io.load.load_customers")
    table.index = table.index.astype(str)
    return table


def _contact(table: pd.DataFrame, ids: pd.Index, masked: bool) -> pd.Series:
    parts = []
    for col, mask in (("phone", mask_phone), ("email", mask_email)):
        if col in table.columns:
            values = table[col].reindex(ids)
            values = values.where(values.notna(), None)
            parts.append(mask(values) if masked else _text(values))
    if not parts:
        return pd.Series(pd.NA, index=ids, dtype=object)
    joined = parts[0].fillna("")
    for p in parts[1:]:
        sep = np.where((joined != "") & p.notna(), " / ", "")
        joined = joined + sep + p.fillna("")
    joined = joined.astype(object)
    return joined.where(joined != "", None)


def tier_table(history, customers: pd.DataFrame | None = None, *, mask_contacts: bool = True,
               pseudonymize: bool = False, salt: str | bytes | None = None) -> pd.DataFrame:
    """The tier management table (see the module documentation for the columns).

    Parameters
    ----------
    history : TierHistory
        From ``scheme.run(...)``.
    customers : DataFrame, optional
        Customer table (``customer_id`` plus optional ``name``, ``phone``, ``email``,
        ``notes``).
    mask_contacts : bool, default True
        Mask phone numbers, e-mail addresses and digits/e-mails in notes; False shows them as
        stored.
    pseudonymize : bool, default False
        Replace ids by keyed pseudonyms and leave name, contact and notes empty.
    salt : str or bytes, optional
        Key of the pseudonyms (see :func:`pseudonymize_ids`).

    Returns
    -------
    DataFrame
        Columns :data:`TABLE_COLUMNS`, one row per customer with a tier, highest tier first.
    """
    current = history.current
    ids = current.index.astype(str)
    table = _customer_frame(customers)
    out = pd.DataFrame(index=ids)
    out["name"] = table["name"].reindex(ids) if "name" in table.columns else None
    out["contact"] = _contact(table, ids, mask_contacts)
    out["tier"] = current["tier"].array
    out["label"] = current["label"].to_numpy()
    out["tier_since"] = pd.to_datetime(current["since"].to_numpy())
    out["previous_tier"] = current["previous_tier"].array
    out["reason"] = current["reason"].to_numpy()
    notes = table["notes"].reindex(ids) if "notes" in table.columns else pd.Series(None, index=ids)
    out["notes"] = mask_text(notes) if mask_contacts else notes
    out = out.rename_axis("customer_id").reset_index()
    # highest tier first, then id (codes: -1 for customers without a tier sort last)
    codes = out["tier"].cat.codes.to_numpy().astype(np.int64)
    order = np.lexsort((out["customer_id"].to_numpy(dtype=str), -codes))
    out = out.iloc[order].reset_index(drop=True)
    if pseudonymize:
        out["customer_id"] = pseudonymize_ids(out["customer_id"], salt)
        out[["name", "contact", "notes"]] = None
    return out[list(TABLE_COLUMNS)]


def tier_table_summary(history) -> pd.DataFrame:
    """Per tier at the last review: label, customers, share, and moves at that review.

    Returns
    -------
    DataFrame
        Columns ``tier, label, customers, share, new, up, down, benefit_cost, scheme, review``
        (``new``/``up``/``down``: customers who entered the tier at the last review as new
        customers, by promotion or by demotion; ``scheme`` the scheme name and ``review`` the
        last review date, the same on every row), highest tier first.
    """
    names = history.scheme.tier_names
    last = history.codes[:, -1]
    counts = np.bincount(last[last >= 0], minlength=len(names))
    ch = history.changes
    at_last = ch[ch["review"] == history.reviews[-1]]
    moves = (pd.crosstab(at_last["to_tier"].astype(str), at_last["direction"])
             .reindex(index=names, columns=["new", "up", "down"], fill_value=0))
    total = counts.sum()
    out = pd.DataFrame({
        "tier": names,
        "label": [history.scheme.labels[n] for n in names],
        "customers": counts.astype(np.int64),
        "share": counts / total if total else np.zeros(len(names)),
        "new": moves["new"].to_numpy(dtype=np.int64),
        "up": moves["up"].to_numpy(dtype=np.int64),
        "down": moves["down"].to_numpy(dtype=np.int64),
        "benefit_cost": [float(t.benefit_cost or 0.0) for t in history.scheme.tiers],
        "scheme": history.scheme.name,
        "review": history.reviews[-1],
    })
    return out.iloc[::-1].reset_index(drop=True)


def _changes(history, pseudonymize: bool, salt: str | bytes | None) -> pd.DataFrame:
    ch = history.changes[list(CHANGE_COLUMNS)].copy()
    if pseudonymize:
        ch["customer_id"] = pseudonymize_ids(ch["customer_id"], salt)
    return ch


# ------------------------------------------------------------------------------------- writing
def export_tier_table(history, customers: pd.DataFrame | None, path: str | Path, *,
                      mask_contacts: bool = True, pseudonymize: bool = False,
                      salt: str | bytes | None = None) -> Path:
    """Write the tier management table to ``.xlsx`` or ``.csv``.

    Parameters
    ----------
    history : TierHistory
        From ``scheme.run(...)``.
    customers : DataFrame or None
        Customer table for names, contacts and notes.
    path : str or Path
        ``.xlsx``: a workbook with sheets ``tiers`` (the table), ``summary``
        (:func:`tier_table_summary`) and ``changes`` (the
        change history), each with a frozen, filterable header and readable column widths.
        ``.csv`` (UTF-8 with BOM, so Excel shows Chinese text correctly): the table, with the
        summary and changes written beside it as ``<stem>_summary.csv`` and
        ``<stem>_changes.csv``. Parent folders are created.
    mask_contacts, pseudonymize, salt
        See :func:`tier_table`.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DataError
        Unsupported extension, or more customers than an Excel sheet holds (use ``.csv``).

    Examples
    --------
    >>> export_tier_table(hist, customers, "reports/tiers.xlsx")  # doctest: +SKIP
    PosixPath('reports/tiers.xlsx')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise DataError(f"{path}: the tier table can be written as .xlsx or .csv, not "
                        f"{suffix or 'a file without extension'!r}")
    if pseudonymize and salt is None:
        salt = secrets.token_hex(16)  # one random key for every sheet of this export
    table = tier_table(history, customers, mask_contacts=mask_contacts,
                       pseudonymize=pseudonymize, salt=salt)
    summary = tier_table_summary(history)
    changes = _changes(history, pseudonymize, salt)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        table.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
        summary.to_csv(path.with_name(f"{path.stem}_summary.csv"), index=False,
                       encoding="utf-8-sig")
        changes.to_csv(path.with_name(f"{path.stem}_changes.csv"), index=False,
                       encoding="utf-8-sig", date_format="%Y-%m-%d")
        return path
    if len(table) >= _EXCEL_MAX_ROWS:
        raise DataError(f"{path}: {len(table):,} customers do not fit in an Excel sheet "
                        f"({_EXCEL_MAX_ROWS - 1:,} rows at most); write a .csv instead")
    if len(changes) >= _EXCEL_MAX_ROWS:
        warnings.warn(f"{path}: the change history has {len(changes):,} rows; the 'changes' "
                      f"sheet keeps the latest {_EXCEL_MAX_ROWS - 1:,} (write a .csv for all)",
                      UserWarning, stacklevel=2)
        changes = changes.sort_values("review", kind="stable").iloc[-(_EXCEL_MAX_ROWS - 1):]
    with pd.ExcelWriter(path, engine="openpyxl", date_format="YYYY-MM-DD",
                        datetime_format="YYYY-MM-DD") as writer:
        for sheet, frame in (("tiers", table), ("summary", summary), ("changes", changes)):
            frame.to_excel(writer, sheet_name=sheet, index=False)
            _format_sheet(writer.sheets[sheet], frame)
    return path


def _display_width(s: pd.Series) -> int:
    """Widest cell of a column in characters, CJK characters counting double."""
    text = s.astype(str).where(s.notna(), "")
    if not len(text):
        return 0
    width = text.str.len() + text.str.count(r"[^\x00-\x7f]")
    return int(width.max())


def _format_sheet(ws, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    if len(frame.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    sample = frame.head(5000)
    for i, col in enumerate(frame.columns, start=1):
        values = sample[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            width = 10
        elif pd.api.types.is_float_dtype(values):
            width = 12
        else:
            width = _display_width(values)
        ws.column_dimensions[get_column_letter(i)].width = min(max(width, len(str(col)), 6) + 2,
                                                               _MAX_WIDTH)
