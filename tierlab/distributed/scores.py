"""Global RFM score cut points for a partitioned run, exact, from per-bucket histograms.

Schemes that test ``r_score``, ``f_score``, ``m_score`` or ``rfm_score`` compare each customer
with every customer who has entered at a review: the cut points are the ``j/5`` quantiles
(``numpy.quantile(..., method="inverted_cdf")``) of recency, orders and spend over all of them.
A bucket alone does not know them, so a partitioned run first computes them globally:

1. **pass A** — every bucket runs the engine with a recording hook (:class:`HistogramRecorder`)
   that keeps, per review, window and dimension, a histogram of the pooled values over
   2**20 order-preserving bins of their float64 bits (count, min and max per bin);
2. the histograms are merged; the rank of every quantile (the inverted-CDF index over the global
   count) falls in one bin — when that bin holds a single distinct value the cut point is known;
3. **pass B** (only if some bin holds several values) — every bucket returns the distinct values
   with their counts inside just those bins, and the cut point is read off exactly;
4. the cut points become edges exactly as :class:`tierlab.RFMScorer` builds them (duplicates
   dropped, a cut at the maximum dropped, collapsed bins spread over the scores), and the real
   run scores with them (:class:`GlobalEdges`, the engine's ``score_edges`` hook).

Each pass runs the engine once per bucket; only the merged histograms travel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["BINS", "GlobalEdges", "HistogramRecorder", "edges_from_cuts", "resolve_edges",
           "uses_scores"]

#: Scores per dimension in the engine (``RFMScorer(bins=5)``).
BINS = 5
_SCORE_METRICS = {"r_score", "f_score", "m_score", "rfm_score"}
_SHIFT = np.uint64(44)  # keep the top 20 bits of the ordered key
_DUMMY = {d: np.zeros(BINS - 1) for d in "RFM"}

Key = tuple[int, Any, str]  # (review day, window, dimension)


def uses_scores(scheme: Any) -> bool:
    """Whether any condition of ``scheme`` tests a quantile RFM score."""
    return any(getattr(leaf, "metric", None) in _SCORE_METRICS
               for tier in scheme.tiers if tier.when is not None for leaf in tier.when.leaves())


def _ordered_keys(x: np.ndarray) -> np.ndarray:
    """float64 → uint64 with the same order (IEEE bits, negatives flipped)."""
    u = (np.asarray(x, dtype=np.float64) + 0.0).view(np.uint64)  # + 0.0 folds -0.0 into 0.0
    neg = (u >> np.uint64(63)).astype(bool)
    return np.where(neg, ~u, u | np.uint64(1 << 63))


class HistogramRecorder:
    """The engine's ``score_edges`` hook for the passes over the buckets: records, scores 1.

    ``wanted=None`` (pass A): per key, ``(bins, counts, mins, maxs)`` of the pooled values.
    ``wanted={key: bin ids}`` (pass B): per ``(key, bin)``, the distinct values and counts.
    """

    def __init__(self, wanted: Mapping[Key, np.ndarray] | None = None):
        self.wanted = wanted
        self.data: dict = {}

    def __call__(self, day: int, window: Any, values: Mapping[str, np.ndarray]
                 ) -> Mapping[str, np.ndarray]:
        for dim in "RFM":
            key = (int(day), window, dim)
            x = np.sort(np.asarray(values[dim], dtype=np.float64) + 0.0)
            if x.size == 0:
                continue
            bins = _ordered_keys(x) >> _SHIFT
            if self.wanted is None:
                starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
                ends = np.r_[starts[1:], x.size]
                self.data[key] = (bins[starts], ends - starts, x[starts], x[ends - 1])
            elif key in self.wanted:
                for b in self.wanted[key]:
                    vals, counts = np.unique(x[bins == b], return_counts=True)
                    self.data[(key, int(b))] = (vals, counts)
        return _DUMMY


def _merge_histograms(parts: list[tuple]) -> tuple[np.ndarray, ...]:
    bins = np.concatenate([p[0] for p in parts])
    uniq, inv = np.unique(bins, return_inverse=True)
    counts = np.bincount(inv, weights=np.concatenate([p[1] for p in parts])).astype(np.int64)
    mins = np.full(uniq.size, np.inf)
    maxs = np.full(uniq.size, -np.inf)
    np.minimum.at(mins, inv, np.concatenate([p[2] for p in parts]))
    np.maximum.at(maxs, inv, np.concatenate([p[3] for p in parts]))
    return uniq, counts, mins, maxs


def _quantile_ranks(n: int, bins: int = BINS) -> np.ndarray:
    """0-based ranks numpy's ``inverted_cdf`` quantiles ``j/bins`` pick among ``n`` values."""
    index = n * (np.arange(1, bins) / bins) - 1
    previous = np.floor(index)
    rank = np.where(index - previous == 0, previous, previous + 1).astype(np.int64)
    return np.clip(rank, 0, None)


def edges_from_cuts(cuts: np.ndarray, xmax: float, bins: int = BINS, *,
                      reverse: bool = False) -> np.ndarray:
    """Edges from the quantile cut points, by the rule of :class:`tierlab.RFMScorer`.

    Duplicate cuts and cuts at the maximum are dropped; when fewer than ``bins`` bins survive
    they are spread over the scores and the unused scores appear as repeated edges (see the
    module docstring of :mod:`tierlab.scoring`). *reverse*: the lowest values are the best bin
    (recency).
    """
    distinct = np.unique(np.asarray(cuts, dtype=np.float64))
    distinct = distinct[distinct < xmax]
    k = distinct.size + 1
    if k == bins:
        return distinct
    spread = (np.array([(bins + 1) // 2]) if k == 1
              else 1 + np.floor(np.arange(k) * (bins - 1) / (k - 1) + 0.5).astype(int))
    asc = (bins + 1 - spread)[::-1] if reverse else spread
    bounds = np.concatenate([[-np.inf], distinct, [np.inf]])
    return bounds[np.searchsorted(asc, np.arange(1, bins), side="right")].astype(np.float64)


class _Plan:
    """The merged histogram of one key and where its quantile ranks fall."""

    def __init__(self, parts: list[tuple]):
        self.bins, counts, mins, maxs = _merge_histograms(parts)
        cum = np.cumsum(counts)
        ranks = _quantile_ranks(int(cum[-1]))
        self.pos = np.searchsorted(cum, ranks, side="right")
        self.offset = ranks - (cum[self.pos] - counts[self.pos])  # rank inside the bin
        self.xmax = float(maxs.max())
        self.cuts = np.where(mins[self.pos] == maxs[self.pos], mins[self.pos], np.nan)

    def unresolved_bins(self) -> np.ndarray:
        return np.unique(self.bins[self.pos[np.isnan(self.cuts)]])

    def resolve(self, key: Key, exact: Mapping[tuple[Key, int], list[tuple]]) -> None:
        for j in np.flatnonzero(np.isnan(self.cuts)):
            parts = exact[(key, int(self.bins[self.pos[j]]))]
            vals = np.concatenate([p[0] for p in parts])
            uniq, inv = np.unique(vals, return_inverse=True)
            counts = np.bincount(inv, weights=np.concatenate([p[1] for p in parts]))
            self.cuts[j] = uniq[np.searchsorted(np.cumsum(counts), self.offset[j], side="right")]


class GlobalEdges:
    """The engine's ``score_edges`` hook for the real run: the global edges of each review."""

    def __init__(self, edges: Mapping[tuple[int, Any], Mapping[str, np.ndarray]]):
        self.edges = dict(edges)

    def __call__(self, day: int, window: Any, values: Mapping[str, np.ndarray]
                 ) -> Mapping[str, np.ndarray]:
        return self.edges[(int(day), window)]


def resolve_edges(pass_a: list[dict], run_pass_b: Any) -> GlobalEdges:
    """Merge pass A's per-bucket histograms; run pass B (``run_pass_b(wanted)``) if needed.

    ``run_pass_b`` receives ``{key: bin ids}`` and returns the per-bucket dicts recorded by
    :class:`HistogramRecorder` with that ``wanted``.
    """
    grouped: dict[Key, list[tuple]] = {}
    for bucket in pass_a:
        for key, hist in bucket.items():
            grouped.setdefault(key, []).append(hist)
    plans = {key: _Plan(parts) for key, parts in grouped.items()}
    wanted = {key: b for key, plan in plans.items() if (b := plan.unresolved_bins()).size}
    if wanted:
        exact: dict[tuple[Key, int], list[tuple]] = {}
        for bucket in run_pass_b(wanted):
            for k, v in bucket.items():
                exact.setdefault(k, []).append(v)
        for key in wanted:
            plans[key].resolve(key, exact)
    edges: dict[tuple[int, Any], dict[str, np.ndarray]] = {}
    for (day, window, dim), plan in plans.items():
        edges.setdefault((day, window), {})[dim] = edges_from_cuts(
            plan.cuts, plan.xmax, reverse=dim == "R")
    return GlobalEdges(edges)
