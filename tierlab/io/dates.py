"""Parsing dates written in the many ways exports write them, and time zones.

Each value may use any of these styles; a column may mix them: ISO ``2025-03-01`` (also
``2025-3-1``, optional time ``2025-03-01 14:30[:00[.123]]`` or ``T``), ``2025/3/1``,
``2025.03.01``, ``2025年3月1日``, ``20250301`` (text or integer), Excel serial day numbers from
20000 to 80000 (fractions are times of day, rounded to the millisecond), or an explicit
``date_format`` (tried first). Values with a UTC offset keep their wall-clock time, or are
converted to ``tz`` when it is given. Dates outside 1677-09-22 .. 2262-04-11 are unparseable;
the result is ``datetime64[ns]``, tz-naive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierlab._kernels.arrowtext import arrow_strings
from tierlab.errors import ArgumentError
from tierlab.io.values import missing_text, strip_text

__all__ = ["check_tz", "parse_datetime"]

# Regular expressions are RE2-compatible so pandas runs them in pyarrow (no look-arounds).
_YMD_OTHER_RE = r"^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?"
_OFFSET_RE = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$"
_OFFSET_STRIP_RE = r"\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$"
_ISO_RE = r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{8})(?:[T ]\d.*)?$"
_NUMBER_RE = r"^\d+(?:\.\d+)?$"

_NS_MIN = np.datetime64("1677-09-22", "us")
_NS_MAX = np.datetime64("2262-04-11", "us")
_EXCEL_EPOCH = np.datetime64("1899-12-30", "ns")


def parse_datetime(
    s: pd.Series, *, date_format: str | None, tz: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (datetime64[ns] values, missing mask, unparseable mask).

    Datetime and numeric columns are converted as they are; a clean ISO column of Arrow text
    converts in one pass; other text is tried style by style (see the module documentation).
    """
    if (isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype)
            or (pd.api.types.is_numeric_dtype(s.dtype)
                and not pd.api.types.is_bool_dtype(s.dtype))):
        return _typed_dates(s, tz)
    arr = arrow_strings(s)
    if arr is not None and date_format is None:  # fast path: clean ISO column in one pass
        try:
            values = pc.cast(arr, pa.timestamp("ns")).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            values = values.astype("datetime64[ns]", copy=False)
            missing = np.isnat(values)
            return values, missing, np.zeros(len(s), dtype=bool)
    t = strip_text(s)
    missing = missing_text(t)
    values = _text_dates(t, ~missing, date_format=date_format, tz=tz)
    bad = ~missing & np.isnat(values)
    return values, missing, bad


def _typed_dates(s: pd.Series, tz: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Datetime columns (tz-aware or not) and numeric columns (yyyymmdd, Excel serials)."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        local = s.dt.tz_convert(tz) if tz else s
        values = _to_ns(local.dt.tz_localize(None).to_numpy())
        missing = s.isna().to_numpy(dtype=bool)
    elif pd.api.types.is_datetime64_dtype(s.dtype):
        values = _to_ns(s.to_numpy()).copy()  # never share memory with the caller's frame
        missing = s.isna().to_numpy(dtype=bool)
    else:
        numbers = s.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(numbers)
        values = _numbers_to_dates(numbers)
    return values, missing, ~missing & np.isnat(values)


def _text_dates(
    t: pd.Series, todo: np.ndarray, *, date_format: str | None, tz: str | None
) -> np.ndarray:
    """Stripped text → datetime64[ns] where *todo*: ``date_format``, then ISO-like, then numbers.

    NaT where no style matched (and where not *todo*).
    """
    values = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
    if date_format is not None and todo.any():
        idx = np.flatnonzero(todo)
        values[idx] = _to_ns(_strptime(t.iloc[idx], date_format))
        todo[idx] = np.isnat(values[idx])
    if todo.any():
        idx = np.flatnonzero(todo)
        normal = t.iloc[idx].str.replace(_YMD_OTHER_RE, r"\1-\2-\3", regex=True)
        offset = normal.str.contains(_OFFSET_RE, regex=True).to_numpy(dtype=bool)
        if offset.any():
            values[idx[offset]] = _parse_offsets(normal[offset], tz)
        iso = ~offset & normal.str.contains(_ISO_RE, regex=True).to_numpy(dtype=bool)
        if iso.any():
            values[idx[iso]] = _to_ns(_strptime(normal[iso], "ISO8601"))
        todo[idx] = np.isnat(values[idx])
    if todo.any():
        idx = np.flatnonzero(todo)
        number = t.iloc[idx].str.contains(_NUMBER_RE, regex=True).to_numpy(dtype=bool)
        if number.any():
            numbers = pd.to_numeric(t.iloc[idx[number]], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            values[idx[number]] = _numbers_to_dates(numbers)
    return values


def _strptime(t: pd.Series, fmt: str) -> np.ndarray:
    try:
        return pd.to_datetime(t, format=fmt, errors="coerce").to_numpy()
    except ValueError:  # e.g. a UTC offset the offset pattern did not catch
        try:
            parsed = pd.to_datetime(t, format=fmt, errors="coerce", utc=True)
        except ValueError:
            return np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
        return parsed.dt.tz_localize(None).to_numpy()


def _parse_offsets(t: pd.Series, tz: str | None) -> np.ndarray:
    if tz is None:
        return _to_ns(_strptime(t.str.replace(_OFFSET_STRIP_RE, "", regex=True), "ISO8601"))
    try:
        parsed = pd.to_datetime(t, format="ISO8601", errors="coerce", utc=True)
    except ValueError:
        return np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
    return _to_ns(parsed.dt.tz_convert(tz).dt.tz_localize(None).to_numpy())


def _numbers_to_dates(numbers: np.ndarray) -> np.ndarray:
    """``20250301``-style integers and Excel serial day numbers → datetime64[ns]."""
    values = np.full(len(numbers), np.datetime64("NaT"), dtype="datetime64[ns]")
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(numbers)
        ymd = finite & (numbers >= 19000101) & (numbers <= 21001231)
        ymd &= numbers == np.floor(np.where(finite, numbers, 0))
        serial = finite & (numbers >= 20000) & (numbers <= 80000)
    if ymd.any():
        text = pd.Series(numbers[ymd].astype("int64")).astype("str")
        values[ymd] = _to_ns(pd.to_datetime(text, format="%Y%m%d", errors="coerce").to_numpy())
    if serial.any():
        millis = np.round(numbers[serial] * 86_400_000).astype("int64")
        values[serial] = _EXCEL_EPOCH + millis.astype("timedelta64[ms]")
    return values


def _to_ns(values: np.ndarray) -> np.ndarray:
    """datetime64 of any unit → datetime64[ns]; values outside the ns range → NaT."""
    values = np.asarray(values)
    if values.dtype == np.dtype("datetime64[ns]"):
        return values
    wide = values.astype("datetime64[us]")
    ok = (wide >= _NS_MIN) & (wide <= _NS_MAX)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[ok] = wide[ok].astype("datetime64[ns]")
    return out


def check_tz(tz: str | None) -> None:
    """Check that *tz* (when given) is a time zone pandas knows.

    Raises
    ------
    ArgumentError
        *tz* is not a known time zone.
    """
    if tz is None:
        return
    try:
        pd.Timestamp("2000-01-01", tz=tz)
    except Exception:  # noqa: BLE001 - any failure means an unknown zone
        raise ArgumentError(
            f"tz={tz!r} is not a known time zone; use an IANA name such as 'Asia/Shanghai' "
            "or 'UTC'"
        ) from None
