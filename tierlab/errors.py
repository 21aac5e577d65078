"""One exception hierarchy for everything tierlab raises on purpose.

Messages name the file, row, column or YAML path involved and say how to fix the problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "TierlabError", "DataError", "SchemeError", "ArgumentError", "ReportError", "did_you_mean",
]


class TierlabError(Exception):
    """Base class of every error tierlab raises deliberately."""


class DataError(TierlabError, ValueError):
    """Input data (a file, a DataFrame, a column) cannot be used as given."""


class SchemeError(TierlabError, ValueError):
    """A tier scheme or segment map (the rules an analyst writes) is invalid."""


class ArgumentError(TierlabError, ValueError):
    """A function or command was given an argument it cannot use.

    For example a bad ``bins``, a date that is not a date, or an unknown option.
    """


class ReportError(TierlabError):
    """A report could not be produced (a notebook failed, timed out or was interrupted)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest of *choices*, or ``""``."""
    by_lower: dict[str, str] = {}
    for c in choices:
        by_lower.setdefault(str(c).lower(), str(c))
    match = difflib.get_close_matches(str(word).lower(), list(by_lower), n=1, cutoff=0.5)
    return f" (did you mean {by_lower[match[0]]!r}?)" if match else ""
