"""Parsing the values of an export: ids, free text and numbers (amounts, quantities).

Every parser is vectorized and returns NumPy masks beside the values, so the loader can give
each rejected row its reason. Missing means an empty or blank cell or one of the null tokens
(``NA``, ``N/A``, ``#N/A``, ``NaN``, ``NaT``, ``null``, ``None``, ``-``, ``--``; in any case —
``nUll``, ``#N/a`` — with surrounding whitespace ignored), in every column and whatever the other
rows hold. Ids stay text exactly as written, less surrounding whitespace. Numbers
understand currency signs and words, thousands separators in groups of three, ``(50)`` for -50
and Unicode minus signs; anything else with a comma is unparseable, never misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierlab._kernels.arrowkeys import factorize_strings, in_id_order
from tierlab._kernels.arrowtext import arrow_strings
from tierlab.errors import DataError

__all__ = [
    "Ids",
    "NULL_TOKENS",
    "check_usable",
    "encode_ids",
    "missing_text",
    "numeric_as_text",
    "parse_id",
    "parse_number",
    "strip_text",
    "to_text",
]

#: The missing-value tokens, lower case: a stripped value is missing when its lower-case form is
#: one of them (so ``NULL``, ``nUll`` and `` None `` are all missing).
NULL_TOKENS = ("", "na", "n/a", "#n/a", "nan", "nat", "null", "none", "-", "--")
_LONGEST_TOKEN = max(len(t) for t in NULL_TOKENS)

# Regular expressions are RE2-compatible so pandas runs them in pyarrow (no look-arounds).
_CURRENCY_RE = r"(?i)(?:rmb|cny|usd|hkd|eur|[¥￥$€£]|元)"
_SPACE_RE = r"[\s\u00a0\u3000]+"
_THOUSANDS_RE = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"


def strip_text(s: pd.Series) -> pd.Series:
    """*s* as pandas ``str`` dtype with surrounding whitespace removed."""
    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        s = s.astype("str")
    return s.str.strip()


def missing_text(t: pd.Series) -> np.ndarray:
    """Mask of the missing values of stripped text (NaN or a null token in any case)."""
    missing = t.isna().to_numpy(dtype=bool, copy=True)
    short = np.flatnonzero(~missing & (t.str.len() <= _LONGEST_TOKEN).to_numpy(dtype=bool,
                                                                             na_value=False))
    if len(short):
        missing[short] = t.iloc[short].str.lower().isin(NULL_TOKENS).to_numpy(dtype=bool)
    return missing


def null_tokens(words: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Boolean Arrow mask: which stripped *words* are a null token (in any case)."""
    return pc.is_in(pc.utf8_lower(words), value_set=pa.array(NULL_TOKENS, type=words.type))


def numeric_as_text(s: pd.Series) -> pd.Series:
    """Numbers as text; integral floats without a trailing ``.0``."""
    if pd.api.types.is_float_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(values)
        if np.array_equal(values[finite], np.floor(values[finite])):
            return s.astype("Int64").astype("str")
    return s.astype("str")


@dataclass(frozen=True)
class Ids:
    """Customer ids encoded once: ``uniques[codes[i]]`` is row *i*'s id, -1 when missing.

    *uniques* are the distinct stripped ids in code-point order, so comparing codes compares
    the text.
    """

    codes: np.ndarray
    uniques: pa.Array

    def take(self, rows: np.ndarray) -> pd.Series:
        """The ids of *rows* as a pandas ``str`` Series."""
        codes = self.codes[rows]
        return self.uniques.take(pa.array(codes, mask=codes < 0)).to_pandas()


def encode_ids(s: pd.Series) -> Ids:
    """Encode ids: hash them once, then strip and drop missing tokens per distinct id."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        s = numeric_as_text(s)
    arr = arrow_strings(s)
    if arr is None:
        arr = arrow_strings(s.astype("str"))
    if arr is None:  # pragma: no cover - "str" is arrow-backed whenever pyarrow is installed
        arr = pa.chunked_array([pa.array(s.astype(object).to_numpy(), type=pa.large_string())])
    # fixed-width byte keys (features' fast path); a null is "" here, a missing token anyway
    found = factorize_strings(arr.fill_null("") if arr.null_count else arr, workers=2)
    if found is not None:
        indices, words, _ = found
    else:  # ids longer than the fast path takes, or holding NUL bytes
        encoded = pc.dictionary_encode(arr.cast(pa.large_string()).combine_chunks())
        indices = encoded.indices.fill_null(-1).to_numpy()
        words = encoded.dictionary
    del arr
    raw = words.cast(pa.large_string())
    words = pc.utf8_trim_whitespace(raw)
    usable = pc.invert(null_tokens(words))
    if found is not None and pc.all(usable).as_py() is not False and words.equals(raw):
        # clean ids (the usual case): the keys' order is the text order already
        codes, uniques = in_id_order((indices, words, found[2]))
        return Ids(codes=codes.astype(np.int64, copy=False), uniques=uniques)
    uniques = pc.unique(words.filter(usable))
    uniques = uniques.take(pc.sort_indices(uniques))
    where = pc.index_in(words, value_set=uniques).fill_null(-1).to_numpy().astype(np.int64)
    where[~usable.to_numpy(zero_copy_only=False)] = -1
    if not len(where):
        return Ids(codes=np.full(len(indices), -1, dtype=np.int64), uniques=uniques)
    codes = where[indices]
    if found is None:
        codes[indices < 0] = -1
    return Ids(codes=codes, uniques=uniques)


def parse_id(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Ids as stripped text (``str`` dtype, NaN when missing) and the missing mask."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        t = numeric_as_text(s)
    else:
        t = strip_text(s)
    missing = missing_text(t)
    if missing.any():
        t = t.mask(missing)
    return t.reset_index(drop=True), missing


def to_text(s: pd.Series) -> pd.Series:
    """Optional text column: stripped ``str``; empty → NaN."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        t = numeric_as_text(s)
    else:
        t = strip_text(s)
    t = t.mask(t.eq("").fillna(False).to_numpy(dtype=bool))
    return t.reset_index(drop=True)


def parse_number(s: pd.Series, *, currency: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (float64 values, missing mask, unparseable mask); NaN where not a number.

    Numeric columns are taken as they are (infinite values are unparseable); clean Arrow text
    converts in one pass; everything else is cleaned (spaces, minus signs, thousands
    separators, parentheses and, with ``currency=True``, currency signs) before conversion.
    """
    n = len(s)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        missing = np.isnan(values)
        bad = np.isinf(values)
        values[bad] = np.nan
        return values, missing, bad
    arr = arrow_strings(s)
    if arr is not None:  # fast path: a clean column converts in one pass
        try:
            values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            if not values.flags.writeable:  # a view of Arrow's buffer: the loader owns a copy
                values = values.copy()
            missing = np.isnan(values)
            bad = np.isinf(values)
            nan = np.flatnonzero(missing)
            if len(nan):  # "NaN" is a null token, "-nan" is not: the same reason as the slow path
                text = strip_text(s.iloc[nan])
                token = missing_text(text)
                missing[nan] = token
                bad[nan] = ~token
            values[bad] = np.nan
            return values, missing, bad
    t = strip_text(s)
    missing = missing_text(t)
    values = np.full(n, np.nan)
    todo = np.flatnonzero(~missing)
    if len(todo):
        sub = t.iloc[todo]
        first = pd.to_numeric(sub, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan, copy=True
        )
        values[todo] = first
        again = np.isnan(first)
        if again.any():
            idx = todo[again]
            values[idx] = _clean_numbers(t.iloc[idx], currency=currency)
    bad = ~missing & ~np.isfinite(values)
    values[bad] = np.nan
    return values, missing, bad


def _clean_numbers(t: pd.Series, *, currency: bool) -> np.ndarray:
    t = t.str.replace(_SPACE_RE, "", regex=True)
    t = t.str.replace("\u2212", "-", regex=False).str.replace("\uff0d", "-", regex=False)
    t = t.str.replace("，", ",", regex=False)
    if currency:
        t = t.str.replace(_CURRENCY_RE, "", regex=True)
    negative = (t.str.startswith("(") & t.str.endswith(")")).to_numpy(dtype=bool)
    if negative.any():
        t = t.where(~negative, t.str.slice(1, -1))
    comma = t.str.contains(",", regex=False).to_numpy(dtype=bool)
    if comma.any():
        grouped = t.str.fullmatch(_THOUSANDS_RE).to_numpy(dtype=bool)
        t = t.where(~(comma & grouped), t.str.replace(",", "", regex=False))
    values = pd.to_numeric(t, errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan, copy=True
    )
    values[negative] = -values[negative]
    return values


def check_usable(
    label: str, header: Any, s: pd.Series, missing: np.ndarray, bad: np.ndarray, what: str,
    fix: str,
) -> None:
    """Raise when a column has values but none of them could be read.

    A few unreadable values are rejected rows; a column of nothing but unreadable values is a
    wrong mapping or format, reported once with examples, *what* was expected and *fix*.

    Raises
    ------
    DataError
        Every non-missing value of *s* is unparseable.
    """
    if bad.any() and not (~missing & ~bad).any():
        examples = ", ".join(repr(str(v)) for v in pd.unique(s[bad])[:3])
        raise DataError(
            f"{label}: no value in column {str(header)!r} could be read as {what} "
            f"(e.g. {examples}); {fix}"
        )

