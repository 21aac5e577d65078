"""Notification lists: who changed tier at a review and why, for the CRM or SMS tool.

The register stores no contact details; they come from the customer table given at the time
of the list, masked unless asked otherwise (the masking functions of :mod:`tierlab`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError
from tierlab.io.masking import mask_contacts, mask_email, mask_phone
from tierlab.io.safe_text import keep_text_cells, write_csv
from tierlab.register.views import changes_frame

__all__ = ["NOTIFICATION_COLUMNS", "masked_text", "notification_list", "write"]

#: Columns of a notification list, in order.
NOTIFICATION_COLUMNS = ("customer_id", "name", "contact", "lang", "review", "from_tier",
                        "to_tier", "label", "direction", "rule", "reason")


def masked_text(text: str) -> str:
    """Free text with phone numbers (7+ digits) and e-mail addresses masked."""
    masked = mask_contacts(pd.DataFrame({"notes": [str(text)]}))
    return str(masked["notes"].iloc[0])


def _customer_table(customers: pd.DataFrame | None) -> pd.DataFrame:
    if customers is None:
        return pd.DataFrame(index=pd.Index([], dtype=object, name="customer_id"))
    if not isinstance(customers, pd.DataFrame):
        raise ArgumentError(f"customers must be a DataFrame (the customer table), got "
                            f"{type(customers).__name__}")
    if "customer_id" in customers.columns:
        table = customers.drop_duplicates("customer_id").set_index("customer_id")
    elif customers.index.name == "customer_id":
        table = customers[~customers.index.duplicated()]
    else:
        raise DataError("customers: the customer table has no 'customer_id' column; load it "
                        "with tierlab.load_customers")
    table.index = table.index.astype(str)
    return table


def _contact(table: pd.DataFrame, ids: pd.Index, masked: bool) -> pd.Series:
    parts = []
    for col, mask in (("phone", mask_phone), ("email", mask_email)):
        if col in table.columns:
            values = table[col].reindex(ids).astype(object)
            values = values.where(values.notna(), None)
            parts.append((mask(values) if masked else values).reset_index(drop=True))
    if not parts:
        return pd.Series(None, index=range(len(ids)), dtype=object)
    joined = parts[0].astype(object).fillna("")
    for p in parts[1:]:
        sep = np.where((joined != "") & p.notna(), " / ", "")
        joined = joined + sep + p.astype(object).fillna("")
    joined = joined.astype(object)
    return joined.where(joined != "", None)


def notification_list(rows: pd.DataFrame, dtype: pd.CategoricalDtype, labels: dict[str, str],
                      customers: pd.DataFrame | None, lang: str,
                      mask_contacts: bool) -> pd.DataFrame:
    """One review's ``changes`` rows → the notification list.

    Parameters
    ----------
    rows : DataFrame
        The review's rows of the ``changes`` table.
    dtype : CategoricalDtype
        Tier order.
    labels : dict
        Tier name → label of the review's scheme.
    customers : DataFrame, optional
        Customer table: customer_id plus optional ``name``, ``phone``, ``email`` and ``lang``
        (``en``/``zh``, the customer's language).
    lang : {"en", "zh"}
        Language of customers without a ``lang`` of their own.
    mask_contacts : bool
        Mask phone numbers and e-mail addresses (default in :class:`Register`).

    Returns
    -------
    DataFrame
        :data:`NOTIFICATION_COLUMNS`, highest new tier first, then customer id.
    """
    table = _customer_table(customers)
    en = changes_frame(rows, dtype, "en")
    zh = changes_frame(rows, dtype, "zh")
    ids = pd.Index(en["customer_id"].astype(str))
    own = (table["lang"].reindex(ids) if "lang" in table.columns
           else pd.Series(None, index=ids, dtype=object))
    own = own.astype(object).where(own.isin(["en", "zh"]), lang).reset_index(drop=True)
    out = pd.DataFrame({"customer_id": en["customer_id"]})
    out["name"] = (table["name"].reindex(ids).astype(object).to_numpy()
                   if "name" in table.columns else None)
    out["contact"] = _contact(table, ids, mask_contacts).to_numpy()
    out["lang"] = own.to_numpy()
    for col in ("review", "from_tier", "to_tier"):
        out[col] = en[col]
    out["label"] = en["to_tier"].map(labels).astype(object)
    out["direction"] = en["direction"]
    out["rule"] = en["rule"]
    out["reason"] = np.where(own.to_numpy() == "zh", zh["reason"].to_numpy(dtype=object),
                             en["reason"].to_numpy(dtype=object))
    codes = out["to_tier"].cat.codes.to_numpy().astype(np.int64)
    order = np.lexsort((out["customer_id"].to_numpy(dtype=str), -codes))
    return out.iloc[order].reset_index(drop=True)[list(NOTIFICATION_COLUMNS)]


def write(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a notification list: ``.csv`` (UTF-8 with BOM, opens in Excel) or ``.xlsx``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ArgumentError(f"{path}: write notifications to a .csv or .xlsx file")
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    out["review"] = pd.to_datetime(out["review"]).dt.date
    if suffix == ".csv":
        write_csv(out, path, index=False)  # UTF-8 with BOM; text never read as a formula
    else:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            out.to_excel(writer, index=False, sheet_name="notifications")
            keep_text_cells(writer.sheets["notifications"], out)  # text stays text
    return path
