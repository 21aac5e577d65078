"""Metric values of every customer at one review: windows of months, RFM scores.

The engine builds the dense customer × month arrays once (:func:`tierlab.features.panel.
monthly_arrays`); a :class:`ReviewMetrics` reads them at one review and caches each
``(metric, window)`` it computes, so a metric shared by several tiers is summed once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from tierlab.errors import SchemeError
from tierlab.features.panel import MonthlyArrays
from tierlab.tiers.conditions import Metric

__all__ = ["ReviewMetrics", "window_start", "rfm_scores", "fields_needed", "FIELDS"]

#: The monthly arrays each metric reads (each array costs 8 bytes per customer-month).
FIELDS: dict[str, set[str]] = {
    "spend": {"spend"}, "orders": {"orders"}, "quantity": {"quantity"},
    "avg_order_value": {"spend", "orders"}, "active_months": {"orders"},
    "recency_days": {"last_day"}, "tenure_days": set(),
    "r_score": {"spend", "orders", "last_day"}, "f_score": {"spend", "orders", "last_day"},
    "m_score": {"spend", "orders", "last_day"}, "rfm_score": {"spend", "orders", "last_day"},
}


def fields_needed(leaves: list[Metric]) -> set[str]:
    """The monthly arrays a set of metric tests reads."""
    return {f for leaf in leaves for f in FIELDS[leaf.metric]}


def window_start(window: str, m: int, months: np.ndarray) -> int:
    """First month column of ``window`` (``3M``, ``YTD``, ``all``) ending at column ``m``."""
    if window == "all":
        return 0
    if window == "YTD":
        return max(0, m - int(months[m] % 12))
    return max(0, m - int(window[:-1]) + 1)


#: ``edges_for(values) -> {"R": edges, "F": edges, "M": edges}``: cut points given from outside.
EdgesFor = Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]
#: ``score_edges(review_day, window, values)``: the hook :func:`run_scheme` takes.
ScoreEdges = Callable[[int, "str | None", Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


def rfm_scores(recency: np.ndarray, orders: np.ndarray, spend: np.ndarray,
               pool: np.ndarray, edges_for: EdgesFor | None = None) -> dict[str, np.ndarray]:
    """Quantile RFM scores 1–5 among the customers in ``pool`` (NaN outside it).

    ``edges_for(values)``, given the pooled ``{"R": recency, "F": orders, "M": spend}``, returns
    the cut points to use instead of this pool's quantiles (the global ones of a partitioned
    run); scores then follow RFMScorer's rule (``searchsorted(edges, x, "left") + 1``, reversed
    for R).
    """
    out = {k: np.full(recency.shape, np.nan) for k in ("r_score", "f_score", "m_score")}
    if pool.sum() == 0:
        out["rfm_score"] = out["r_score"]
        return out
    if edges_for is not None:  # global cut points (tierlab.distributed)
        values = {"R": recency[pool], "F": orders[pool], "M": spend[pool]}
        edges = edges_for(values)
        for dim, key in (("R", "r_score"), ("F", "f_score"), ("M", "m_score")):
            s = np.searchsorted(edges[dim], values[dim], side="left") + 1
            out[key][pool] = len(edges[dim]) + 2 - s if dim == "R" else s
        out["rfm_score"] = out["r_score"] + out["f_score"] + out["m_score"]
        return out
    from tierlab.scoring import RFMScorer  # a lower layer; imported when a scheme uses scores

    frame = pd.DataFrame({"recency_days": recency[pool], "frequency": orders[pool],
                          "monetary_total": spend[pool]})
    scored = RFMScorer(bins=5).fit_transform(frame)
    for k in out:
        out[k][pool] = scored[k].to_numpy(dtype=float)
    out["rfm_score"] = out["r_score"] + out["f_score"] + out["m_score"]
    return out


def _field(a: np.ndarray | None, name: str) -> np.ndarray:
    if a is None:  # pragma: no cover - the engine requests every field its scheme reads
        raise AssertionError(f"the monthly arrays were built without {name!r}")
    return a


class ReviewMetrics:
    """Metric values for every customer at one review (cached per metric and window).

    Parameters
    ----------
    arrays : MonthlyArrays
        Customer × month arrays.
    m : int
        Column of the review's last month in ``arrays``.
    review_day : int
        The review date in days since the epoch (for recency and tenure).
    entered : ndarray of bool
        Customers who have entered by this review: the pool RFM scores rank within.
    """

    def __init__(self, arrays: MonthlyArrays, m: int, review_day: int, entered: np.ndarray,
                 score_edges: ScoreEdges | None = None):
        self.arr, self.m, self.day, self.entered = arrays, m, review_day, entered
        self.score_edges = score_edges
        self.cache: dict[tuple[str, str | None], np.ndarray] = {}

    def _start(self, window: str | None) -> int:
        if window is None:  # pragma: no cover - windowed metrics always carry their window
            raise AssertionError("a windowed metric needs its window")
        return window_start(window, self.m, self.arr.months)

    def _sum(self, a: np.ndarray | None, name: str, window: str | None) -> np.ndarray:
        a = _field(a, name)
        lo = self._start(window)
        if lo == self.m:  # one month: a column copy, not a million one-element sums
            return a[:, lo].copy()
        return a[:, lo:self.m + 1].sum(axis=1)

    def value(self, metric: str, window: str | None) -> np.ndarray:
        """The metric for every customer (NaN where undefined, e.g. before a first purchase)."""
        key = (metric, window)
        if key in self.cache:
            return self.cache[key]
        arr = self.arr
        if metric in ("spend", "orders", "quantity"):
            v = self._sum(getattr(arr, metric), metric, window)
        elif metric == "avg_order_value":
            o = self.value("orders", window)
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.where(o > 0, self.value("spend", window) / np.where(o > 0, o, 1), np.nan)
        elif metric == "active_months":
            lo = self._start(window)
            v = (_field(arr.orders, "orders")[:, lo:self.m + 1] > 0).sum(axis=1).astype(float)
        elif metric == "recency_days":
            last = _field(arr.last_day, "last_day")[:, self.m]
            v = np.where(last >= 0, self.day - last, np.nan).astype(float)
        elif metric == "tenure_days":
            v = (self.day - arr.first_day).astype(float)
        elif metric in ("r_score", "f_score", "m_score", "rfm_score"):
            hook = (None if self.score_edges is None
                    else functools.partial(self.score_edges, self.day, window))
            scores = rfm_scores(self.value("recency_days", None), self.value("orders", window),
                                self.value("spend", window), self.entered, hook)
            for name, values in scores.items():
                self.cache[(name, window)] = values
            v = scores[metric]
        else:  # pragma: no cover - the parser only lets known metrics through
            raise SchemeError(f"unknown metric {metric!r}")
        self.cache[key] = v
        return v

    def rows(self, rows: np.ndarray) -> ReviewMetrics:
        """The same review restricted to some customers (for one customer's explanation)."""
        arr = self.arr

        def take(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[rows]

        sub = MonthlyArrays(arr.customer_ids[rows], arr.months, take(arr.spend),
                            take(arr.orders), take(arr.quantity), take(arr.last_day),
                            arr.first_day[rows], arr.first_month[rows])
        return ReviewMetrics(sub, self.m, self.day, self.entered[rows])
