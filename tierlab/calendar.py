"""Review and period frequencies, and day/month arithmetic on datetime64 columns.

One home for the calendar concepts the features, the tier engine and the reports share:

- a *period key* is one of ``"M"`` (month), ``"Q"`` (quarter), ``"H"`` (half-year) or ``"Y"``
  (year); :data:`FREQS` gives its length in months, :func:`freq_key` reads the aliases users
  type, :data:`REVIEWS` maps the review words of a scheme's YAML to keys;
- a *day number* counts whole days since 1970-01-01 (:func:`epoch_days`);
- a *month number* is ``year * 12 + month - 1`` (:func:`month_numbers`); :func:`period_end`
  turns month numbers back into the last day of their period.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tierlab.errors import DataError

__all__ = [
    "FREQS",
    "REVIEWS",
    "DAY_NS",
    "freq_key",
    "review_word",
    "as_day",
    "epoch_days",
    "epoch_days32",
    "month_numbers",
    "day_month_offsets",
    "period_end",
]

#: Period keys → months per period.
FREQS: dict[str, int] = {"M": 1, "Q": 3, "H": 6, "Y": 12}
#: Review words of a scheme's YAML (``review: quarterly``) → period key.
REVIEWS: dict[str, str] = {"monthly": "M", "quarterly": "Q", "half-yearly": "H", "yearly": "Y"}
#: Nanoseconds per day.
DAY_NS = 86_400_000_000_000

_FREQ_ALIASES = {
    "m": "M", "month": "M", "monthly": "M", "me": "M",
    "q": "Q", "quarter": "Q", "quarterly": "Q", "qe": "Q",
    "h": "H", "half-year": "H", "half-yearly": "H", "halfyear": "H", "6m": "H",
    "y": "Y", "a": "Y", "year": "Y", "yearly": "Y", "annual": "Y", "ye": "Y",
}
_DAY = np.int64(DAY_NS)
_EPOCH_MONTH = 1970 * 12
#: Rows per block where day numbers are rewritten in place (bounds the temporaries).
_BLOCK = 1 << 20


def freq_key(freq: str) -> str:
    """The period key (``"M"``, ``"Q"``, ``"H"`` or ``"Y"``) of a frequency or its alias."""
    key = _FREQ_ALIASES.get(str(freq).strip().lower())
    if key is None:
        raise DataError(
            f"unknown period frequency {freq!r}: use one of 'M' (month), 'Q' (quarter), "
            "'H' (half-year) or 'Y' (year)"
        )
    return key


def review_word(key: str) -> str:
    """The YAML review word (``"quarterly"``…) of a period key."""
    return {v: k for k, v in REVIEWS.items()}[key]


def as_day(value: Any, name: str, *, error: type[Exception] = DataError) -> pd.Timestamp:
    """``value`` as a midnight Timestamp; ``error`` names ``name`` when it is not a date."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise error(f"{name}={value!r} is not a date: {exc}") from None
    if ts is pd.NaT:
        raise error(f"{name} is missing: give a date such as '2025-06-30'")
    return ts.normalize()


def epoch_days(ts: pd.Series | np.ndarray) -> np.ndarray:
    """Whole days since the epoch (int64) of a datetime64 column."""
    values = np.asarray(ts, dtype="datetime64[ns]").view("int64")
    return np.floor_divide(values, _DAY)


def epoch_days32(ts: pd.Series | np.ndarray) -> np.ndarray:
    """:func:`epoch_days` as int32 (any datetime64[ns] fits), without an int64 temporary."""
    values = np.asarray(ts, dtype="datetime64[ns]").view("int64")
    out = np.empty(values.shape, dtype=np.int32)
    np.floor_divide(values, _DAY, out=out, casting="unsafe")
    return out


def month_numbers(ts: pd.Series | np.ndarray) -> np.ndarray:
    """Month number (``year * 12 + month - 1``, int64) of a datetime64 column."""
    m = np.asarray(ts, dtype="datetime64[ns]").astype("datetime64[M]").astype("int64")
    return m + _EPOCH_MONTH


def day_month_offsets(day: np.ndarray, *, inplace: bool = False) -> tuple[np.ndarray, int]:
    """Month number of each day number, as an offset from the first one.

    Returns ``(offsets int32, first month number)``; built through a per-day lookup table.
    With ``inplace`` (int32 ``day`` only) the offsets overwrite ``day``.
    """
    if day.size == 0:
        return np.zeros(0, dtype=np.int32), 0
    d0, d1 = int(day.min()), int(day.max())
    months = (np.arange(d0, d1 + 1).astype("datetime64[D]").astype("datetime64[M]")
              .astype(np.int64) + _EPOCH_MONTH)
    lut = (months - months[0]).astype(np.int32)
    if inplace and day.dtype == np.int32:
        for i in range(0, day.size, _BLOCK):  # blocks of rows: no full-size temporary
            day[i:i + _BLOCK] = lut[day[i:i + _BLOCK] - np.int32(d0)]
        return day, int(months[0])
    return lut[day - np.asarray(d0, dtype=day.dtype)], int(months[0])


def period_end(periods: np.ndarray | pd.Series | list[int], freq: str = "M") -> pd.DatetimeIndex:
    """Last day of the period (of length ``freq``) that contains each month number."""
    step = FREQS[freq_key(freq)]
    months = np.asarray(periods, dtype=np.int64)
    last_month = (months // step) * step + step - 1 - _EPOCH_MONTH
    next_first = (last_month + 1).astype("datetime64[M]").astype("datetime64[D]")
    last_day = next_first - np.timedelta64(1, "D")
    return pd.DatetimeIndex(last_day.astype("datetime64[ns]"))
