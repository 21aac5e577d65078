"""Checks on the frames the public functions take: transactions and other column sets.

One place for "is this the frame I expect?": :func:`check_transactions` for a canonical
transactions frame (as :func:`tierlab.load_transactions` returns it), :func:`require_columns`
for any frame that needs named (numeric) columns, and :func:`observation_date` for the
``as_of`` policy (default: the last date in the data, never today).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from tierlab.calendar import as_day
from tierlab.errors import DataError, did_you_mean

__all__ = ["check_transactions", "require_columns", "observation_date"]


def check_transactions(tx: pd.DataFrame, func: str, *, allow_empty: bool = True) -> None:
    """Raise a DataError naming ``func`` unless ``tx`` is a canonical transactions frame."""
    if not isinstance(tx, pd.DataFrame):
        raise DataError(f"{func}: expected a transactions DataFrame, got {type(tx).__name__}")
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in tx.columns]
    if missing:
        raise DataError(
            f"{func}: the transactions frame lacks column {missing[0]!r}"
            f"{did_you_mean(missing[0], tx.columns)}; it has {list(tx.columns)}. Load files "
            "with tierlab.load_transactions, which maps your headers to customer_id, timestamp "
            "and amount."
        )
    if not pd.api.types.is_datetime64_any_dtype(tx["timestamp"]):
        raise DataError(
            f"{func}: column 'timestamp' must be datetime64, got {tx['timestamp'].dtype}; "
            "load the file with tierlab.load_transactions or convert with pd.to_datetime"
        )
    if not pd.api.types.is_numeric_dtype(tx["amount"]):
        raise DataError(f"{func}: column 'amount' must be numeric, got {tx['amount'].dtype}")
    if not allow_empty and len(tx) == 0:
        raise DataError(f"{func}: the transactions frame is empty")


def require_columns(frame: pd.DataFrame, columns: Sequence[str], func: str,
                    expected: str | None = None, numeric: Sequence[str] = ()) -> None:
    """Raise a DataError unless ``frame`` is a DataFrame with ``columns``, ``numeric`` numbers.

    The message names ``func``, the first missing column (with a close match) and the columns
    the frame has; ``expected`` describes the frame wanted (``"a BTYD summary"``) — without it
    the message lists ``columns``. A boolean column does not count as numeric.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{func}: expected a DataFrame, got {type(frame).__name__}")
    have = [str(c) for c in frame.columns]
    wanted = expected if expected is not None else f"a frame with columns {list(columns)}"
    for col in columns:
        if col not in frame.columns:
            raise DataError(f"{func} expects {wanted}; column {col!r} is missing"
                            f"{did_you_mean(col, have)} (the frame has: {', '.join(have)})")
    for col in numeric:
        dtype = frame[col].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise DataError(f"{func}: column {col!r} must be numeric, got dtype {dtype}")


def observation_date(tx: pd.DataFrame, as_of: Any) -> pd.Timestamp:
    """``as_of`` as a day; when None, the last date in ``tx`` (a DataError if it is empty)."""
    if as_of is None:
        if len(tx) == 0:
            raise DataError("no transactions: cannot default as_of to the last date in the data")
        return pd.Timestamp(tx["timestamp"].max()).normalize()
    return as_day(as_of, "as_of")
