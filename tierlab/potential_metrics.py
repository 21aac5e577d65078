"""Holdout metrics of predictions with bootstrap 95% intervals, vectorized over customers.

A bootstrap resample of customers is a vector of multiplicities ``w`` (how often each customer
was drawn), so every metric here is written for weights: weighted means, weighted Pearson,
Spearman on weighted mid-ranks (ties of equal values, and the copies of a customer drawn twice,
share one mid-rank, exactly as ``scipy.stats.spearmanr`` ranks the resample), the same
Spearman with the *prediction's* ties put in random order (``*_spearman_untied``, its exact
expectation: see :func:`_untied_spearman`), the AUC from the
same mid-ranks (Mann-Whitney), and the share of actual spend in the top decile of predictions
(a tie group straddling the decile boundary counts in proportion). With ``w = 1`` each metric
is the plain one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["METRICS", "RankGroups", "Outcomes", "Prediction", "Actual", "holdout_metrics",
           "bootstrap_metrics"]

#: Metric names of :func:`holdout_metrics`, in table order.
METRICS: tuple[str, ...] = (
    "spend_spearman", "spend_spearman_untied", "spend_pearson", "spend_mae", "spend_rmse",
    "spend_bias_pct", "spend_top_decile_capture", "purchases_spearman",
    "purchases_spearman_untied", "purchases_pearson", "purchases_mae", "purchases_rmse",
    "purchases_bias_pct", "churn_auc",
)
_TOP_SHARE = 0.1


@dataclass(frozen=True)
class RankGroups:
    """Groups of equal values of a vector, in ascending order (``inverse`` maps each item)."""

    inverse: np.ndarray
    n_groups: int

    @classmethod
    def of(cls, values: np.ndarray) -> RankGroups:
        """Group the values of ``values``."""
        _, inverse = np.unique(np.asarray(values, dtype="float64"), return_inverse=True)
        return cls(inverse=inverse.ravel(), n_groups=int(inverse.max()) + 1 if len(inverse) else 0)

    def midranks(self, w: np.ndarray) -> np.ndarray:
        """Weighted mid-rank of every item (1-based, like ``scipy.stats.rankdata``)."""
        sizes = np.bincount(self.inverse, weights=w, minlength=self.n_groups)
        below = np.cumsum(sizes) - sizes
        return (below + (sizes + 1) / 2)[self.inverse]


@dataclass(frozen=True)
class Outcomes:
    """What customers did in the holdout, with their rank groups."""

    spend: np.ndarray
    purchases: np.ndarray
    no_purchase: np.ndarray
    spend_groups: RankGroups
    purchase_groups: RankGroups

    @classmethod
    def of(cls, spend: np.ndarray, purchases: np.ndarray) -> Outcomes:
        """Holdout spend and purchases per customer."""
        spend = np.asarray(spend, dtype="float64")
        purchases = np.asarray(purchases, dtype="float64")
        return cls(spend=spend, purchases=purchases, no_purchase=purchases == 0,
                   spend_groups=RankGroups.of(spend), purchase_groups=RankGroups.of(purchases))


@dataclass(frozen=True)
class Prediction:
    """One model's predictions per customer, with their rank groups."""

    spend: np.ndarray
    purchases: np.ndarray
    p_no_purchase: np.ndarray
    spend_groups: RankGroups
    purchase_groups: RankGroups
    churn_groups: RankGroups
    top_groups: RankGroups  # groups of -spend: highest predicted spend first

    @classmethod
    def of(cls, spend: np.ndarray, purchases: np.ndarray,
           p_no_purchase: np.ndarray) -> Prediction:
        """Predicted spend, purchases and probability of no purchase per customer."""
        spend, purchases, p0 = (np.asarray(v, dtype="float64")
                                for v in (spend, purchases, p_no_purchase))
        return cls(spend=spend, purchases=purchases, p_no_purchase=p0,
                   spend_groups=RankGroups.of(spend), purchase_groups=RankGroups.of(purchases),
                   churn_groups=RankGroups.of(p0), top_groups=RankGroups.of(-spend))


def _centered(y: np.ndarray, w: np.ndarray, total: float) -> tuple[np.ndarray, float]:
    """``y`` minus its weighted mean, and the weighted sum of squares of that."""
    dy = y - (w @ y) / total
    return dy, float(w @ (dy * dy))


def _pearson(x: np.ndarray, y: tuple[np.ndarray, float], w: np.ndarray, total: float) -> float:
    """Weighted Pearson correlation of ``x`` with ``y`` given centered (:func:`_centered`)."""
    dy, syy = y
    dx = x - (w @ x) / total
    sxx = w @ (dx * dx)
    if sxx <= 0 or syy <= 0:
        return float("nan")
    return float((w @ (dx * dy)) / np.sqrt(sxx * syy))


def _untied_spearman(ranks: np.ndarray, y: tuple[np.ndarray, float], w: np.ndarray,
                     total: float) -> float:
    """Expected Spearman when the predictions' ties are put in a uniformly random order.

    ``ranks`` are the prediction's weighted mid-ranks (:meth:`RankGroups.midranks`), ``y``
    the outcome's centered mid-ranks (:class:`Actual`).

    Mid-ranks reward a prediction for tying where the outcome ties: a model that predicts
    exactly 0 for most customers matches the many who spend nothing, although it says nothing
    about their order, while a model that orders them carries rank noise. Targeting has to
    order every customer, so here each tie group of the prediction (the copies of a customer
    drawn twice included) is ordered at random. Every such order is a permutation of the ranks
    ``1 … N`` (``N = w.sum()``), whose sum of squared deviations is ``N (N² − 1) / 12``; the
    covariance with the outcome's ranks is linear in the prediction's ranks, whose expectation
    is the mid-rank. So the expectation is exact: the mid-rank covariance over the permutation's
    spread. Without ties it equals :func:`_pearson` of the mid-ranks; a constant prediction
    scores 0.
    """
    dy, syy = y
    if syy <= 0 or total < 2:  # the outcome's ranks do not vary
        return float("nan")
    dx = ranks - (w @ ranks) / total  # all 0 for a constant prediction: no information
    return float((w @ (dx * dy)) / np.sqrt(total * (total * total - 1) / 12 * syy))


@dataclass(frozen=True)
class Actual:
    """The holdout outcomes under one set of weights, centered once for every model."""

    spend: tuple[np.ndarray, float]
    purchases: tuple[np.ndarray, float]
    spend_ranks: tuple[np.ndarray, float]
    purchase_ranks: tuple[np.ndarray, float]

    @classmethod
    def of(cls, out: Outcomes, w: np.ndarray) -> Actual:
        """Center the outcomes and their weighted mid-ranks under ``w``."""
        total = float(w.sum())
        return cls(spend=_centered(out.spend, w, total),
                   purchases=_centered(out.purchases, w, total),
                   spend_ranks=_centered(out.spend_groups.midranks(w), w, total),
                   purchase_ranks=_centered(out.purchase_groups.midranks(w), w, total))


def _auc(scores: RankGroups, positive: np.ndarray, w: np.ndarray) -> float:
    n_pos, n_neg = float(w @ positive), float(w @ ~positive)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = scores.midranks(w)
    return float(((w * positive) @ ranks - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _top_capture(top: RankGroups, actual: np.ndarray, w: np.ndarray, total: float) -> float:
    actual_total = float(w @ actual)
    if actual_total == 0:
        return float("nan")
    sizes = np.bincount(top.inverse, weights=w, minlength=top.n_groups)
    amounts = np.bincount(top.inverse, weights=w * actual, minlength=top.n_groups)
    before = np.cumsum(sizes) - sizes
    room = np.clip(_TOP_SHARE * total - before, 0.0, sizes)  # customers taken from each group
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(sizes > 0, room / sizes, 0.0)
    return float(share @ amounts / actual_total)


def _bias(pred: np.ndarray, actual: np.ndarray, w: np.ndarray) -> float:
    actual_total = float(w @ actual)
    return float(100 * (w @ pred - actual_total) / actual_total) if actual_total else float("nan")


def holdout_metrics(pred: Prediction, out: Outcomes, w: np.ndarray | None = None, *,
                    actual: Actual | None = None) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one model (``w``: customer multiplicities).

    Parameters
    ----------
    pred : Prediction
        The model's predictions.
    out : Outcomes
        The holdout outcomes of the same customers, in the same order.
    w : ndarray, optional
        Multiplicity of each customer (a bootstrap resample); all ones by default.
    actual : Actual, optional
        ``Actual.of(out, w)`` when already computed (it is the same for every model scored on
        a resample).

    Returns
    -------
    dict
        Metric name → value (NaN where undefined, e.g. a constant prediction's correlation).
    """
    w = np.ones(len(out.spend)) if w is None else np.asarray(w, dtype="float64")
    total = float(w.sum())
    if actual is None:
        actual = Actual.of(out, w)
    result: dict[str, float] = {}
    for target, p, a, pg, a_c, a_rank in (
        ("spend", pred.spend, out.spend, pred.spend_groups, actual.spend, actual.spend_ranks),
        ("purchases", pred.purchases, out.purchases, pred.purchase_groups, actual.purchases,
         actual.purchase_ranks),
    ):  # loop over two targets, vectorized over customers
        err = p - a
        ranks = pg.midranks(w)
        result[f"{target}_spearman"] = _pearson(ranks, a_rank, w, total)
        result[f"{target}_spearman_untied"] = _untied_spearman(ranks, a_rank, w, total)
        result[f"{target}_pearson"] = _pearson(p, a_c, w, total)
        result[f"{target}_mae"] = float(w @ np.abs(err) / total)
        result[f"{target}_rmse"] = float(np.sqrt(w @ (err * err) / total))
        result[f"{target}_bias_pct"] = _bias(p, a, w)
    result["spend_top_decile_capture"] = _top_capture(pred.top_groups, out.spend, w, total)
    result["churn_auc"] = _auc(pred.churn_groups, out.no_purchase, w)
    return {name: result[name] for name in METRICS}


def bootstrap_metrics(predictions: Mapping[str, Prediction], out: Outcomes, *,
                      n_bootstrap: int = 200, seed: int | None = 0,
                      progress: Callable[[int], None] | None = None,
                      ) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Point estimates and bootstrap 95% percentile intervals of every metric of every model.

    Every model is scored on the same resamples of customers, so intervals are comparable.

    Parameters
    ----------
    predictions : mapping
        Model name → :class:`Prediction`.
    out : Outcomes
        Holdout outcomes.
    n_bootstrap : int
        Resamples (0: no intervals, NaN bounds).
    seed : int or None
        Seed of the resampling.
    progress : callable, optional
        Called with the resample number (for long runs).

    Returns
    -------
    dict
        Model → metric → ``(estimate, ci_low, ci_high)``.
    """
    n = len(out.spend)
    rng = np.random.default_rng(seed)
    point = {name: holdout_metrics(p, out) for name, p in predictions.items()}
    draws = {name: np.full((n_bootstrap, len(METRICS)), np.nan) for name in predictions}
    for b in range(n_bootstrap):  # loop over resamples, vectorized over customers
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype("float64")
        actual = Actual.of(out, w)
        for name, p in predictions.items():
            draws[name][b] = list(holdout_metrics(p, out, w, actual=actual).values())
        if progress is not None:
            progress(b)
    result: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name in predictions:
        lo = hi = np.full(len(METRICS), np.nan)
        if n_bootstrap:
            with warnings.catch_warnings():  # a metric undefined in every resample stays NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = np.nanpercentile(draws[name], [2.5, 97.5], axis=0)
        result[name] = {m: (point[name][m], float(lo[i]), float(hi[i]))
                        for i, m in enumerate(METRICS)}
    return result
