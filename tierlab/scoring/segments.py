r"""Named RFM segments: rules as data, checked to cover every score code exactly once.

Named RFM segments are rules as data: a plain dict mapping a segment name to inclusive score
ranges, by default on ``r`` and ``fm`` where ``fm = (f_score + m_score + 1) // 2`` (the mean of F
and M rounded half up). :data:`DEFAULT_SEGMENTS` is the classic RFM grid for 5 bins::

    r \ fm       1               2                 3                 4           5
    5       New             Potential loyalists Potential loyalists Champions   Champions
    4       Promising       Potential loyalists Potential loyalists Loyal       Loyal
    3       About to sleep  About to sleep      Need attention      Loyal       Loyal
    2       Hibernating     Hibernating         At risk             At risk     Can't lose
    1       Lost            Lost                At risk             At risk     Can't lose

A mapping may instead use ``r``, ``f`` and ``m`` (and ``fm``) ranges; it is then checked on all
``bins**3`` codes. Every code must belong to exactly one segment: :func:`segment_map` raises
:class:`~tierlab.errors.SchemeError` on a gap or an overlap.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tierlab.errors import DataError, SchemeError, did_you_mean
from tierlab.scoring.scorer import check_bins

__all__ = ["DEFAULT_SEGMENTS", "SEGMENT_KEYS", "assign_segments", "segment_map"]

#: The classic RFM grid on (r, fm) scores for 5 bins; every one of the 25 cells is covered once.
DEFAULT_SEGMENTS: dict[str, dict[str, list[int]]] = {
    "Champions": {"r": [5, 5], "fm": [4, 5]},
    "Loyal": {"r": [3, 4], "fm": [4, 5]},
    "Potential loyalists": {"r": [4, 5], "fm": [2, 3]},
    "New": {"r": [5, 5], "fm": [1, 1]},
    "Promising": {"r": [4, 4], "fm": [1, 1]},
    "Need attention": {"r": [3, 3], "fm": [3, 3]},
    "About to sleep": {"r": [3, 3], "fm": [1, 2]},
    "At risk": {"r": [1, 2], "fm": [3, 4]},
    "Can't lose": {"r": [1, 2], "fm": [5, 5]},
    "Hibernating": {"r": [2, 2], "fm": [1, 2]},
    "Lost": {"r": [1, 1], "fm": [1, 2]},
}

SEGMENT_KEYS = ("r", "f", "m", "fm")


# --------------------------------------------------------------------------------------------
# segments
# --------------------------------------------------------------------------------------------
def _parse_range(name: str, key: str, value: object, bins: int) -> tuple[int, int]:
    where = f"segment {name!r}, {key!r}"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        lo = hi = int(value)
    else:
        try:
            lo, hi = value  # type: ignore[misc]
        except (TypeError, ValueError):
            raise SchemeError(f"{where}: expected a score or an inclusive range [low, high], "
                              f"got {value!r}") from None
        if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (lo, hi)):
            raise SchemeError(f"{where}: scores must be integers, got {value!r}")
    if not 1 <= lo <= hi <= bins:
        raise SchemeError(f"{where}: range {value!r} must satisfy 1 <= low <= high <= {bins} "
                          f"(bins={bins})")
    return int(lo), int(hi)


def _code(cell: tuple[int, ...]) -> str:
    return "".join(str(v) for v in cell)


def segment_map(mapping: Mapping = DEFAULT_SEGMENTS, *, bins: int = 5) -> pd.Series:
    """Validate a segment mapping and return its lookup table.

    Parameters
    ----------
    mapping : dict
        Segment name -> ``{"r": [low, high], "fm": [low, high]}`` (inclusive score ranges; a
        single score is allowed; a missing key means any score). Keys ``r``, ``fm``, ``f``, ``m``;
        with ``f`` or ``m`` in any segment the map is checked on every (r, f, m) code, otherwise
        on every (r, fm) code, where ``fm = (f + m + 1) // 2``.
    bins : int, default 5
        Scores run 1..bins.

    Returns
    -------
    Series
        Named ``segment`` (categorical, categories in mapping order), indexed by every code: a
        MultiIndex ``(r, fm)`` or ``(r, f, m)``. ``segment_map().unstack()`` shows the grid.

    Raises
    ------
    SchemeError
        A code covered by no segment (the codes are listed), a code covered twice (the code and
        both segments are named), or a malformed rule.
    """
    # over 60 lines: parse the rules, then one grid check whose messages name each code
    bins = check_bins(bins, who="segment_map")
    if not isinstance(mapping, Mapping) or not mapping:
        raise SchemeError("segment map must be a non-empty dict of segment name -> "
                          "{'r': [low, high], 'fm': [low, high]}")
    rules: list[dict[str, tuple[int, int]]] = []
    for name, rule in mapping.items():
        if not isinstance(rule, Mapping):
            raise SchemeError(f"segment {name!r}: expected a dict such as "
                              f"{{'r': [4, 5], 'fm': [4, 5]}}, got {rule!r}")
        parsed = {}
        for key, value in rule.items():
            k = str(key).lower()
            if k not in SEGMENT_KEYS:
                hint = did_you_mean(str(key), SEGMENT_KEYS)
                raise SchemeError(f"segment {name!r}: unknown key {key!r}; use one of "
                                  f"{', '.join(SEGMENT_KEYS)}{hint}")
            parsed[k] = _parse_range(str(name), k, value, bins)
        rules.append(parsed)

    dims = ("r", "f", "m") if any({"f", "m"} & rule.keys() for rule in rules) else ("r", "fm")
    grid = dict(zip(dims, np.indices((bins,) * len(dims)) + 1, strict=True))
    if "fm" not in grid:
        grid["fm"] = (grid["f"] + grid["m"] + 1) // 2
    shape = (bins,) * len(dims)
    owner = np.full(shape, -1)
    clashes: list[str] = []
    for i, rule in enumerate(rules):
        mask = np.ones(shape, dtype=bool)
        for key, (lo, hi) in rule.items():
            mask &= (grid[key] >= lo) & (grid[key] <= hi)
        for cell in np.argwhere(mask & (owner >= 0)):
            first = list(mapping)[owner[tuple(cell)]]
            clashes.append(f"{_code(tuple(cell + 1))} is in both {first!r} and "
                           f"{list(mapping)[i]!r}")
        owner[mask & (owner < 0)] = i
    label = f"({', '.join(dims)})"
    if clashes:
        more = f" and {len(clashes) - 10} more" if len(clashes) > 10 else ""
        raise SchemeError(f"segment map overlaps: {label} code {'; '.join(clashes[:10])}{more}. "
                          f"Every code must belong to exactly one segment: narrow one of the "
                          f"ranges")
    gaps = np.argwhere(owner < 0)
    if gaps.size:
        codes = ", ".join(_code(tuple(cell + 1)) for cell in gaps)
        raise SchemeError(f"segment map leaves {len(gaps)} {label} codes uncovered: {codes}. "
                          f"Every code must belong to exactly one segment: extend a segment or "
                          f"add one")
    index = pd.MultiIndex.from_product([range(1, bins + 1)] * len(dims), names=list(dims))
    values = pd.Categorical.from_codes(owner.ravel(),
                                       categories=pd.Index([str(n) for n in mapping]))
    return pd.Series(values, index=index, name="segment")


def assign_segments(scored: pd.DataFrame, mapping: Mapping = DEFAULT_SEGMENTS, *,
                    bins: int = 5) -> pd.Series:
    """Name each customer's RFM segment.

    Parameters
    ----------
    scored : DataFrame
        Output of :meth:`RFMScorer.transform` (columns ``r_score``, ``f_score``, ``m_score``).
    mapping : dict, default DEFAULT_SEGMENTS
        Segment rules, validated by :func:`segment_map`.
    bins : int, default 5
        Number of scores the scorer used.

    Returns
    -------
    Series
        ``segment`` (categorical in mapping order), indexed like *scored*.

    Examples
    --------
    >>> import pandas as pd
    >>> scored = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 2], "m_score": [4, 1]},
    ...                       index=pd.Index(["a", "b"], name="customer_id"))
    >>> assign_segments(scored).tolist()
    ['Champions', 'Lost']
    """
    table = segment_map(mapping, bins=bins)
    if not isinstance(scored, pd.DataFrame):
        raise DataError(f"assign_segments: expected the scored DataFrame from RFMScorer, got "
                        f"{type(scored).__name__}")
    scores = {}
    for dim, col in (("r", "r_score"), ("f", "f_score"), ("m", "m_score")):
        if col not in scored.columns:
            raise DataError(f"assign_segments: column {col!r} is missing; score the customers "
                            f"first with RFMScorer().fit_transform(features)")
        arr = pd.to_numeric(scored[col], errors="coerce").to_numpy(dtype="float64",
                                                                   na_value=np.nan)
        bad = ~((arr >= 1) & (arr <= bins) & (arr == np.round(arr)))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"assign_segments: column {col!r} must hold integer scores 1..{bins}, "
                            f"but customer {scored.index[i]!r} has {scored[col].iloc[i]!r}; "
                            f"pass bins= matching the scorer")
        scores[dim] = arr.astype("int64")
    scores["fm"] = (scores["f"] + scores["m"] + 1) // 2
    lookup = table.cat.codes.to_numpy().reshape((bins,) * table.index.nlevels)
    codes = lookup[tuple(scores[str(d)] - 1 for d in table.index.names)]
    values = pd.Categorical.from_codes(codes, categories=table.cat.categories)
    return pd.Series(values, index=scored.index, name="segment")
