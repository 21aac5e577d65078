"""The summary of a load: JSON-ready counts for :attr:`tierlab.io.load.LoadResult.summary`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tierlab.io.reading import RawTable
from tierlab.io.values import Ids

__all__ = ["date_text", "log_figures", "summary_head", "transaction_figures"]


def summary_head(
    raw: RawTable, n: int, accepted: int, codes: np.ndarray, reasons: list[str]
) -> dict[str, Any]:
    """The summary entries both loaders share: source, row counts, rejections by reason."""
    counts = np.bincount(codes[codes != 0], minlength=len(reasons) + 1)[1:]
    by_reason = {reason: int(k) for reason, k in zip(reasons, counts, strict=True) if k}
    return {
        "file": raw.file,
        "format": raw.fmt,
        "encoding": raw.encoding,
        "sep": raw.sep,
        "sheet": raw.sheet,
        "rows_in": int(n),
        "rows_accepted": int(accepted),
        "rows_rejected": int(counts.sum()),
        "rejected_by_reason": by_reason,
        "undecodable_lines": list(raw.undecodable_lines),
    }


def transaction_figures(
    data: pd.DataFrame, ids: Ids, valid: np.ndarray, identical: int
) -> dict[str, Any]:
    """The summary entries of a transaction log (customers among the valid rows, dates, spend)."""
    seen = np.bincount(ids.codes if len(valid) == len(ids.codes) else ids.codes[valid],
                       minlength=len(ids.uniques))
    return log_figures(data, int(np.count_nonzero(seen)), identical)


def log_figures(data: pd.DataFrame, customers: int, identical: int) -> dict[str, Any]:
    """:func:`transaction_figures` when the number of customers is known."""
    figures: dict[str, Any] = {"identical_rows_kept": int(identical), "customers": customers}
    if len(data):
        figures["first_date"] = date_text(data["timestamp"].min())
        figures["last_date"] = date_text(data["timestamp"].max())
    else:
        figures["first_date"] = figures["last_date"] = None
    figures["total_spend"] = float(data["amount"].sum())
    figures["returns"] = int((data["amount"] < 0).sum())
    return figures


def date_text(value: pd.Timestamp) -> str:
    """A date as ``YYYY-MM-DD``, with the time only when it is not midnight."""
    if value == value.normalize():
        return value.strftime("%Y-%m-%d")
    return value.isoformat(sep=" ")
