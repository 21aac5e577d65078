"""Notification lists: who changed tier at a review and why, for the CRM or SMS tool.

The register stores no contact details; they come from the customer table given at the time
of the list, masked unless asked otherwise (the masking functions of :mod:`tierlab`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError
from tierlab.io.masking import contact_column, customers_by_id, mask_contacts
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
    table = customers_by_id(customers, "notification_list")
    en = changes_frame(rows, dtype, "en")
    zh = changes_frame(rows, dtype, "zh")
    ids = pd.Index(en["customer_id"].astype(str))
    own = (table["lang"].reindex(ids) if "lang" in table.columns
           else pd.Series(None, index=ids, dtype=object))
    own = own.astype(object).where(own.isin(["en", "zh"]), lang).reset_index(drop=True)
    out = pd.DataFrame({"customer_id": en["customer_id"]})
    out["name"] = (table["name"].reindex(ids).astype(object).to_numpy()
                   if "name" in table.columns else None)
    out["contact"] = contact_column(table, ids, mask_contacts).to_numpy()
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
