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

Rows are sorted from the highest tier down, then by ``customer_id`` (the pseudonym when
pseudonymized, so that the row order says nothing about the original ids; the change history
is then ordered by pseudonym and review too).

Text cells never become spreadsheet formulas: see :mod:`tierlab.io.safe_text`.

``lang="zh"`` writes the same files for Chinese readers: headers, sheet names, reasons and the
words of ``direction``/``rule`` in Chinese, and the tiers in ``previous_tier``, ``from_tier``
and ``to_tier`` by their scheme labels (``tier`` keeps the name, its ``label`` beside it).

Contacts are masked and ids pseudonymized by :mod:`tierlab.io.masking` (see there for the
rules); its public functions are importable from here too.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError
from tierlab.i18n import check_lang, column_label, value_label
from tierlab.io.masking import (
    contact_column,
    customers_by_id,
    mask_contacts,
    mask_email,
    mask_phone,
    mask_text,
    pseudonymize_ids,
)
from tierlab.io.safe_text import write_csv

__all__ = [
    "TABLE_COLUMNS",
    "CHANGE_COLUMNS",
    "TierHistoryLike",
    "export_tier_table",
    "tier_table",
    "tier_table_summary",
    # defined in tierlab.io.masking; importable from here as before
    "mask_contacts",
    "mask_email",
    "mask_phone",
    "mask_text",
    "pseudonymize_ids",
]

#: Columns of the tier management table, in order.
TABLE_COLUMNS = ("customer_id", "name", "contact", "tier", "label", "tier_since",
                 "previous_tier", "reason", "notes")
#: Columns of the change-history sheet.
CHANGE_COLUMNS = ("customer_id", "review", "from_tier", "to_tier", "direction", "rule", "reason")



class TierHistoryLike(Protocol):
    """What the tier table reads from a :class:`~tierlab.TierHistory` (``scheme.run(...)``).

    Spelled out here so that this module does not import the tiers layer above it.
    """

    @property
    def scheme(self) -> Any: ...  # TierScheme: tier_names, labels, tiers, name
    @property
    def reviews(self) -> pd.DatetimeIndex: ...
    @property
    def codes(self) -> np.ndarray: ...
    @property
    def current(self) -> pd.DataFrame: ...
    @property
    def changes(self) -> pd.DataFrame: ...


_MAX_WIDTH = 60
#: Sheet names of the workbook per language: table, summary, change history.
_SHEETS = {"en": ("tiers", "summary", "changes"), "zh": ("客户等级", "等级汇总", "变动历史")}
_TIER_COLUMNS = ("previous_tier", "from_tier", "to_tier")  # named by their label in zh
_WORD_COLUMNS = ("direction", "rule")


# ------------------------------------------------------------------------------------- the table
def _in_lang(history: TierHistoryLike, what: str, lang: str) -> pd.DataFrame:
    """``history.current``/``.changes``; for another language its ``current_in``/``changes_in``.

    (A history whose reasons are stored as English text has no ``*_in`` method.)
    """
    if lang == "en":
        return history.current if what == "current" else history.changes
    method = getattr(history, f"{what}_in", None)
    if method is None:
        raise ArgumentError(f"lang={lang!r}: a {type(history).__name__} keeps its reasons in "
                            "English only; export it with lang='en', or run the scheme on the "
                            "transactions (TierScheme.run) for another language")
    frame: pd.DataFrame = method(lang)
    return frame




def tier_table(history: TierHistoryLike, customers: pd.DataFrame | None = None, *,
               mask_contacts: bool = True, pseudonymize: bool = False,
               salt: str | bytes | None = None, lang: str = "en") -> pd.DataFrame:
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
    lang : {"en", "zh"}, default "en"
        Language of the reasons.

    Returns
    -------
    DataFrame
        Columns :data:`TABLE_COLUMNS`, one row per customer with a tier, highest tier first.
    """
    current = _in_lang(history, "current", check_lang(lang))
    ids = current.index.astype(str)
    table = customers_by_id(customers, "tier_table")
    out = pd.DataFrame(index=ids)
    out["name"] = table["name"].reindex(ids) if "name" in table.columns else None
    out["contact"] = contact_column(table, ids, mask_contacts)
    out["tier"] = current["tier"].array
    out["label"] = current["label"].to_numpy()
    out["tier_since"] = pd.to_datetime(current["since"].to_numpy())
    out["previous_tier"] = current["previous_tier"].array
    out["reason"] = current["reason"].to_numpy()
    notes = table["notes"].reindex(ids) if "notes" in table.columns else pd.Series(None, index=ids)
    out["notes"] = mask_text(notes) if mask_contacts else notes
    out = out.rename_axis("customer_id").reset_index()
    if pseudonymize:  # before sorting: the row order must not give the original ids away
        out["customer_id"] = pseudonymize_ids(out["customer_id"], salt)
        out[["name", "contact", "notes"]] = None
    # highest tier first, then id (codes: -1 for customers without a tier sort last)
    codes = out["tier"].cat.codes.to_numpy().astype(np.int64)
    order = np.lexsort((out["customer_id"].to_numpy(dtype=str), -codes))
    out = out.iloc[order].reset_index(drop=True)
    return out[list(TABLE_COLUMNS)]


def tier_table_summary(history: TierHistoryLike) -> pd.DataFrame:
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


def _changes(history: TierHistoryLike, pseudonymize: bool,
             salt: str | bytes | None, lang: str) -> pd.DataFrame:
    """The change history; with pseudonyms, ordered by pseudonym then review.

    (The history lists changes by original id: kept in that order, the rows would let anyone
    who knows the ids in order re-identify the pseudonyms.)
    """
    ch = _in_lang(history, "changes", lang)[list(CHANGE_COLUMNS)].copy()
    if pseudonymize:
        ch["customer_id"] = pseudonymize_ids(ch["customer_id"], salt)
        order = np.lexsort((ch["review"].to_numpy(), ch["customer_id"].to_numpy(dtype=str)))
        ch = ch.iloc[order].reset_index(drop=True)
    return ch


# ------------------------------------------------------------------------------------- writing
def export_tier_table(history: TierHistoryLike, customers: pd.DataFrame | None,
                      path: str | Path, *, mask_contacts: bool = True, pseudonymize: bool = False,
                      salt: str | bytes | None = None, lang: str = "en") -> Path:
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
    lang : {"en", "zh"}, default "en"
        Language of the headers, sheet names, reasons and words; in ``"zh"`` the previous and
        from/to tiers are named by their scheme labels (see the module documentation).

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
    lang = check_lang(lang)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise DataError(f"{path}: the tier table can be written as .xlsx or .csv, not "
                        f"{suffix or 'a file without extension'!r}")
    if pseudonymize and salt is None:
        salt = secrets.token_hex(16)  # one random key for every sheet of this export
    table = tier_table(history, customers, mask_contacts=mask_contacts,
                       pseudonymize=pseudonymize, salt=salt, lang=lang)
    summary = tier_table_summary(history)
    changes = _changes(history, pseudonymize, salt, lang)
    if lang != "en":
        table, changes = (_in_words(f, history.scheme.labels, lang) for f in (table, changes))
    headers = {str(c): column_label(c, lang) if lang != "en" else str(c)
               for frame in (table, summary, changes) for c in frame.columns}
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _write_csv(path, table, summary, changes, headers)
    else:
        _write_workbook(path, table, summary, changes, headers, _SHEETS[lang])
    return path


def _in_words(frame: pd.DataFrame, labels: dict[str, str], lang: str) -> pd.DataFrame:
    """Tiers beside no label column by their labels; direction/rule words in *lang*."""
    out = frame.copy()
    for col in _TIER_COLUMNS:
        if col in out.columns:
            out[col] = out[col].astype(object).map(labels).where(out[col].notna(), None)
    for col in _WORD_COLUMNS:
        if col in out.columns:
            words = {str(v): value_label(v, lang) for v in out[col].dropna().unique()}
            out[col] = out[col].astype(object).map(words).where(out[col].notna(), None)
    return out


def _write_csv(path: Path, table: pd.DataFrame, summary: pd.DataFrame,
               changes: pd.DataFrame, headers: dict[str, str]) -> None:
    """The table at *path*; summary and changes beside it (``write_csv``: BOM, safe text)."""
    write_csv(table.rename(columns=headers), path, index=False, date_format="%Y-%m-%d")
    write_csv(summary.rename(columns=headers), path.with_name(f"{path.stem}_summary.csv"),
              index=False)
    write_csv(changes.rename(columns=headers), path.with_name(f"{path.stem}_changes.csv"),
              index=False, date_format="%Y-%m-%d")


def _write_workbook(path: Path, table: pd.DataFrame, summary: pd.DataFrame,
                    changes: pd.DataFrame, headers: dict[str, str],
                    sheets: tuple[str, str, str]) -> None:
    """The table, summary and change-history sheets (see :mod:`tierlab.io.excel`)."""
    from tierlab.io.excel import write_tier_workbook

    write_tier_workbook(path, table, summary, changes, headers=headers, sheet_names=sheets)

