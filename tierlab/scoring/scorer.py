"""RFM scores (1..bins) from per-customer features: :class:`RFMScorer`.

:class:`RFMScorer` turns the per-customer frame of :func:`tierlab.features.rfm` into scores
``r_score``, ``f_score``, ``m_score`` (integers ``1..bins``), their sum ``rfm_score`` and the code
``rfm_code`` (``"545"``). R comes from ``recency_days`` with a LOWER recency giving a HIGHER score;
F from ``frequency``; M from ``monetary_total``.

Every dimension is scored through ``bins - 1`` non-decreasing cut points (``edges_``)::

    score = 1 + number of cut points strictly below the value      (F and M)
    r_score = bins + 1 - (the same count + 1) on recency_days       (R)

i.e. ``np.searchsorted(edges, value, side="left") + 1``: bins are closed on the right, like
:func:`pandas.cut`, so a value EQUAL to a cut point gets the lower (F, M) score, respectively the
higher R score (recency at most the cut). Equal values therefore always get equal scores, whatever
the row order.

With ``method="quantile"`` the cut points are the ``j/bins`` quantiles of the fitted data computed
with ``np.quantile(..., method="inverted_cdf")``: the j-th cut point is the smallest observed value
with at least ``j/bins`` of the customers at or below it. Cut points are always observed values
(a report says "frequency <= 3", never "<= 2.6"), and every bin that survives holds customers.

Ties (e.g. most customers with one order) can make cut points coincide. Duplicates are dropped,
and so are cut points equal to the maximum (they would leave the top bin empty). When fewer than
``bins`` bins survive, a :class:`UserWarning` names the dimension and the surviving count, and the
``k`` surviving bins are spread over ``1..bins`` by rank: bin ``i`` (``0..k-1`` from the worst to
the best: lowest F/M values, highest recency first) gets score
``1 + round_half_up(i * (bins - 1) / (k - 1))``, so the worst bin still scores 1 and the best
``bins`` (for 5 bins: k=4 -> 1, 2, 4, 5; k=3 -> 1, 3, 5; k=2 -> 1, 5); a single bin (all values
equal) scores the middle ``(bins + 1) // 2``. Unused scores appear in ``edges_`` as
repeated cut points (an empty bin), so the same ``searchsorted`` rule applies everywhere.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from tierlab.errors import ArgumentError, DataError, did_you_mean

__all__ = ["DEFAULT_COLUMNS", "MAX_BINS", "MIN_BINS", "RFMScorer", "check_bins"]

DIMENSIONS = ("R", "F", "M")
DEFAULT_COLUMNS: dict[str, str] = {"R": "recency_days", "F": "frequency", "M": "monetary_total"}
SCORE_COLUMNS: dict[str, str] = {"R": "r_score", "F": "f_score", "M": "m_score"}
MIN_BINS, MAX_BINS = 3, 5


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def check_bins(bins: object, *, who: str) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer):
        raise ArgumentError(f"{who}: bins must be an integer from {MIN_BINS} to {MAX_BINS}, "
                          f"got {bins!r}")
    if not MIN_BINS <= bins <= MAX_BINS:
        raise ArgumentError(f"{who}: bins={bins} is out of range; use {MIN_BINS}, 4 or {MAX_BINS}")
    return int(bins)


def _dimension_dict(value: object, *, param: str) -> dict[str, object]:
    """Normalize a dict keyed by R/F/M (any case); unknown keys raise ArgumentError."""
    if not isinstance(value, Mapping):
        raise ArgumentError(f"RFMScorer: {param} must be a dict keyed by 'R', 'F', 'M', "
                          f"got {type(value).__name__}")
    out: dict[str, object] = {}
    for key, item in value.items():
        dim = str(key).upper()
        if dim not in DIMENSIONS:
            raise ArgumentError(f"RFMScorer: {param} has an unknown key {key!r}; use 'R', 'F' or "
                              f"'M'{did_you_mean(str(key), DIMENSIONS)}")
        out[dim] = item
    return out


def _values(X: object, columns: Mapping[str, str], *, who: str) -> dict[str, np.ndarray]:
    """The R/F/M source columns of *X* as float arrays (DataError when unusable)."""
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"{who}: expected the per-customer DataFrame from tierlab.rfm, "
                        f"got {type(X).__name__}")
    if len(X) == 0:
        raise DataError(f"{who}: the frame has no customers")
    out = {}
    for dim in DIMENSIONS:
        col = columns[dim]
        if col not in X.columns:
            raise DataError(f"{who}: column {col!r} ({dim}) is missing"
                            f"{did_you_mean(col, map(str, X.columns))}; pass "
                            f"columns={{{dim!r}: ...}} to use another column")
        try:
            arr = pd.to_numeric(X[col], errors="raise").to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{who}: column {col!r} ({dim}) is not numeric ({exc})") from None
        bad = np.isnan(arr)
        if bad.any():
            first = X.index[np.flatnonzero(bad)[0]]
            raise DataError(f"{who}: column {col!r} ({dim}) has {int(bad.sum())} missing values "
                            f"(first: customer {first!r}); fill or drop them first, e.g. "
                            f"X.fillna({{{col!r}: 0}})")
        out[dim] = arr
    return out


# --------------------------------------------------------------------------------------------
# edges
# --------------------------------------------------------------------------------------------
def _spread_scores(k: int, bins: int) -> np.ndarray:
    """Scores (1..bins) given to *k* surviving bins, from the worst bin to the best."""
    if k == 1:
        return np.array([(bins + 1) // 2])
    return 1 + np.floor(np.arange(k) * (bins - 1) / (k - 1) + 0.5).astype(int)


def _quantile_edges(x: np.ndarray, bins: int, *, reverse: bool) -> tuple[np.ndarray, int]:
    """Cut points (``bins - 1``, non-decreasing) and the number of surviving bins.

    *reverse* (R): the lowest values are the best bin.
    """
    cuts = np.quantile(x, np.arange(1, bins) / bins, method="inverted_cdf")
    distinct = np.unique(cuts)
    distinct = distinct[distinct < x.max()]  # a cut at the maximum leaves the top bin empty
    k = distinct.size + 1
    if k == bins:
        return distinct.astype("float64"), k
    # Surviving bins get spread scores. In value order (before R is reversed) bin i scores
    # asc[i]; the cut point below score s + 1 is the upper bound of the last bin scoring <= s,
    # so unused scores show up as repeated cut points.
    spread = _spread_scores(k, bins)
    asc = (bins + 1 - spread)[::-1] if reverse else spread
    bounds = np.concatenate([[-np.inf], distinct, [np.inf]])
    n_at_most = np.searchsorted(asc, np.arange(1, bins), side="right")
    return bounds[n_at_most].astype("float64"), k


def _fixed_edges(edges: object, bins: int) -> dict[str, np.ndarray]:
    example = "edges={'R': [7, 30, 90, 180], 'F': [1, 2, 4, 8], 'M': [100, 300, 1000, 3000]}"
    if edges is None:
        raise ArgumentError(f"RFMScorer: method='fixed' needs edges, {bins - 1} ascending cut "
                          f"points per dimension, e.g. {example} for bins=5")
    given = _dimension_dict(edges, param="edges")
    missing = [d for d in DIMENSIONS if d not in given]
    if missing:
        raise ArgumentError(f"RFMScorer: edges has no cut points for {', '.join(missing)}; "
                          f"method='fixed' needs all of R, F, M, e.g. {example}")
    out = {}
    for dim in DIMENSIONS:
        try:
            arr = np.asarray(given[dim], dtype="float64")
        except (TypeError, ValueError):
            raise ArgumentError(f"RFMScorer: edges[{dim!r}] must be a list of numbers, "
                              f"got {given[dim]!r}") from None
        if arr.ndim != 1 or arr.size != bins - 1:
            raise ArgumentError(f"RFMScorer: edges[{dim!r}] has {arr.size} values; bins={bins} "
                              f"needs exactly {bins - 1} cut points (lowest first)")
        if np.isnan(arr).any():
            raise ArgumentError(f"RFMScorer: edges[{dim!r}] contains NaN: {given[dim]!r}")
        steps = np.diff(arr)
        if (steps <= 0).any():
            i = int(np.flatnonzero(steps <= 0)[0])
            raise ArgumentError(f"RFMScorer: edges[{dim!r}] must be strictly ascending, but "
                              f"{arr[i]:g} is followed by {arr[i + 1]:g}: {given[dim]!r}")
        out[dim] = arr
    return out


# --------------------------------------------------------------------------------------------
# the scorer
# --------------------------------------------------------------------------------------------
class RFMScorer(TransformerMixin, BaseEstimator):
    """Score recency, frequency and monetary value 1..bins (scikit-learn transformer).

    Parameters
    ----------
    bins : int, default 5
        Number of scores per dimension, 3 to 5.
    method : {"quantile", "fixed"}, default "quantile"
        ``"quantile"`` learns cut points from the data passed to :meth:`fit`; ``"fixed"`` uses
        *edges*.
    edges : dict, optional
        For ``method="fixed"``: ``{"R": [...], "F": [...], "M": [...]}``, each ``bins - 1``
        strictly ascending cut points in the units of the column (R in recency days). A value
        equal to a cut point gets the lower F/M score and the higher R score.
    columns : dict, optional
        Source columns, overriding :data:`DEFAULT_COLUMNS` per dimension, e.g.
        ``{"M": "monetary_mean"}``.

    Attributes
    ----------
    edges_ : dict[str, numpy.ndarray]
        Cut points used per dimension (``bins - 1`` values, non-decreasing; a repeated value
        marks an unused score after ties collapsed bins). ``RFMScorer(method="fixed",
        edges=scorer.edges_)`` reproduces a fit in which no bins collapsed.
    n_bins_ : dict[str, int]
        Bins that survived ties per dimension (``bins`` when none collapsed).
    columns_ : dict[str, str]
        Source column per dimension.
    score_counts_ : dict[str, numpy.ndarray]
        Customers per score ``1..bins`` in the fitted data.

    Notes
    -----
    Scoring rule, tie handling and the mapping of collapsed bins are described in the module
    docstring of :mod:`tierlab.scoring`.

    Examples
    --------
    >>> import pandas as pd
    >>> feats = pd.DataFrame({"recency_days": [3, 40, 200], "frequency": [9, 2, 1],
    ...                       "monetary_total": [900.0, 120.0, 35.0]},
    ...                      index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> scorer = RFMScorer(bins=3).fit(feats)
    >>> scorer.transform(feats)["rfm_code"].to_dict()
    {'a': '333', 'b': '222', 'c': '111'}
    >>> scorer.edges_["F"].tolist()
    [1.0, 2.0]
    """

    def __init__(self, bins: int = 5, method: str = "quantile",
                 edges: Mapping[str, object] | None = None,
                 columns: Mapping[str, str] | None = None) -> None:
        self.bins = bins
        self.method = method
        self.edges = edges
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: object = None) -> RFMScorer:
        """Learn (or check) the cut points from the per-customer frame *X*; returns self."""
        bins = check_bins(self.bins, who="RFMScorer")
        columns = dict(DEFAULT_COLUMNS)
        if self.columns is not None:
            columns.update({d: str(c) for d, c in
                            _dimension_dict(self.columns, param="columns").items()})
        values = _values(X, columns, who="RFMScorer.fit")
        if self.method == "quantile":
            if self.edges is not None:
                raise ArgumentError("RFMScorer: edges are only used with method='fixed'; pass "
                                  "method='fixed' or edges=None")
            edges, n_bins = {}, {}
            for dim in DIMENSIONS:
                edges[dim], n_bins[dim] = _quantile_edges(values[dim], bins, reverse=dim == "R")
                if n_bins[dim] < bins:
                    self._warn_collapse(dim, columns[dim], n_bins[dim], bins)
        elif self.method == "fixed":
            edges = _fixed_edges(self.edges, bins)
            n_bins = dict.fromkeys(DIMENSIONS, bins)
        else:
            raise ArgumentError(f"RFMScorer: unknown method {self.method!r}; use 'quantile' or "
                              f"'fixed'{did_you_mean(str(self.method), ['quantile', 'fixed'])}")
        self.columns_ = columns
        self.edges_ = edges
        self.n_bins_ = n_bins
        self.bins_ = bins
        self.score_counts_ = {
            dim: np.bincount(self._score(dim, values[dim]), minlength=bins + 1)[1:]
            for dim in DIMENSIONS
        }
        return self

    @staticmethod
    def _warn_collapse(dim: str, column: str, k: int, bins: int) -> None:
        used = _spread_scores(k, bins)
        warnings.warn(
            f"RFMScorer: ties in {column!r} ({dim}) leave only {k} of {bins} quantile bins; "
            f"its customers get scores {', '.join(map(str, used))}. Use method='fixed' with "
            f"explicit edges, or fewer bins, to control this.",
            UserWarning,
            stacklevel=3,
        )

    def _score(self, dim: str, x: np.ndarray) -> np.ndarray:
        score = np.searchsorted(self.edges_[dim], x, side="left").astype("int64") + 1
        return self.bins_ + 1 - score if dim == "R" else score

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of *X* with the scores added.

        The new columns are ``r_score``, ``f_score``, ``m_score`` (int64, 1..bins), ``rfm_score``
        (their sum) and ``rfm_code`` (str, e.g. ``"545"``); existing columns of those names are
        replaced.
        """
        check_is_fitted(self, "edges_")
        values = _values(X, self.columns_, who="RFMScorer.transform")
        out = X.copy()
        scores = {dim: pd.Series(self._score(dim, values[dim]), index=X.index)
                  for dim in DIMENSIONS}
        for dim in DIMENSIONS:
            out[SCORE_COLUMNS[dim]] = scores[dim]
        out["rfm_score"] = scores["R"] + scores["F"] + scores["M"]
        out["rfm_code"] = (scores["R"].astype(str) + scores["F"].astype(str)
                           + scores["M"].astype(str))
        return out

    def edges_report(self, X: pd.DataFrame | None = None) -> pd.DataFrame:
        """The cut points used, one row per dimension and score.

        Parameters
        ----------
        X : DataFrame, optional
            Count customers per score in *X* instead of in the fitted data.

        Returns
        -------
        DataFrame
            ``dimension`` (R/F/M), ``column`` (source column), ``score``, ``lower``, ``upper``
            (the score holds values ``lower < value <= upper`` of the column; ``-inf``/``inf``
            at the ends, ``lower == upper`` for a score left unused by ties) and ``customers``.
        """
        check_is_fitted(self, "edges_")
        bins = self.bins_
        if X is None:
            counts = self.score_counts_
        else:
            values = _values(X, self.columns_, who="RFMScorer.edges_report")
            counts = {dim: np.bincount(self._score(dim, values[dim]), minlength=bins + 1)[1:]
                      for dim in DIMENSIONS}
        parts = []
        for dim in DIMENSIONS:
            bounds = np.concatenate([[-np.inf], self.edges_[dim], [np.inf]])
            score = np.arange(1, bins + 1)
            pos = bins - score if dim == "R" else score - 1  # bin position, lowest values first
            parts.append(pd.DataFrame({
                "dimension": dim,
                "column": self.columns_[dim],
                "score": score,
                "lower": bounds[pos],
                "upper": bounds[pos + 1],
                "customers": counts[dim].astype("int64"),
            }))
        return pd.concat(parts, ignore_index=True)
