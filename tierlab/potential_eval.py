"""Holdout evaluation of potential models that cannot fail as a whole.

:func:`evaluate_potential` predicts the holdout after a cutoff with every model — BG/NBD with
Gamma-Gamma, the supervised :class:`~tierlab.potential_model.PotentialModel`, and two naive
baselines that are always available — and scores them on the same customers with bootstrap
95% intervals (:mod:`tierlab.potential_metrics`). A model that cannot be fitted is reported as
``"not fitted: <reason>"``; the others still run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.linalg import LinAlgError
from sklearn.base import clone

from tierlab._kernels.factorize import factorize
from tierlab.btyd import BetaGeoModel, GammaGammaModel
from tierlab.calendar import as_day
from tierlab.errors import ArgumentError, DataError
from tierlab.frames import check_transactions
from tierlab.potential_metrics import METRICS, Outcomes, Prediction, bootstrap_metrics
from tierlab.potential_model import PotentialModel
from tierlab.potential_split import calibration_holdout, periods_between, window_outcomes

__all__ = ["MODELS", "PotentialEvaluation", "evaluate_potential"]

#: Models of :func:`evaluate_potential`, in table order.
MODELS: tuple[str, ...] = ("bgnbd", "supervised", "naive_last", "naive_average")
_FIT_ERRORS = (DataError, ValueError, FloatingPointError, LinAlgError)
_TARGETS = {  # target → (prediction column suffix, actual column)
    "purchases": ("purchases", "holdout_purchases"),
    "spend": ("spend", "holdout_spend"),
    "no_purchase": ("p_no_purchase", "no_purchase"),
}


@dataclass(frozen=True)
class PotentialEvaluation:
    """Holdout comparison of potential models (see :func:`evaluate_potential`).

    Attributes
    ----------
    metrics : DataFrame
        One row per model (:data:`MODELS`): ``status``, the point estimate of every metric,
        ``predicted_spend_total``, ``actual_spend_total`` and ``n_customers`` (judged).
    calibration : DataFrame
        Mean predicted vs mean actual per predicted decile, per fitted model and target.
    predictions : DataFrame
        Per customer: the holdout outcomes and every fitted model's predictions.
    table : DataFrame
        The tidy table for reports: one row per model × metric with ``model``, ``status``,
        ``metric``, ``estimate``, ``ci_low``, ``ci_high`` (bootstrap 95% percentile interval)
        and ``n_customers``.
    n_eligible : int
        Customers who had bought by the cutoff; the models were judged on all of them, or on a
        seeded sample of ``max_customers`` (see :attr:`sampled`).
    """

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    predictions: pd.DataFrame | None = None
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_eligible: int = 0

    @property
    def n_customers(self) -> int:
        """Customers judged (a seeded sample of :attr:`n_eligible` when there were more)."""
        return int(self.metrics["n_customers"].iloc[0]) if len(self.metrics) else 0

    @property
    def sampled(self) -> bool:
        """Whether the models were judged on a sample of the customers who had bought."""
        return self.n_customers < self.n_eligible

    def summary(self, digits: int = 3) -> pd.DataFrame:
        """Model × metric text table, ``"estimate [ci_low, ci_high]"`` (for reports).

        Parameters
        ----------
        digits : int
            Decimals shown.

        Returns
        -------
        DataFrame
            Indexed by model with a ``status`` column and one column per metric.
        """
        t = self.table
        text = (t["estimate"].map(lambda v: f"{v:.{digits}f}") + " ["
                + t["ci_low"].map(lambda v: f"{v:.{digits}f}") + ", "
                + t["ci_high"].map(lambda v: f"{v:.{digits}f}") + "]")
        text = text.where(t["estimate"].notna(), "")
        wide = pd.DataFrame({"model": t["model"], "metric": t["metric"], "text": text}).pivot(
            index="model", columns="metric", values="text")
        wide = wide.reindex(index=pd.unique(t["model"]), columns=list(METRICS))
        wide.insert(0, "status", t.groupby("model", sort=False)["status"].first())
        return wide


def _decile_table(pred: pd.DataFrame, model: str, n_bins: int) -> pd.DataFrame:
    frames = []
    n = len(pred)
    for target, (suffix, actual_col) in _TARGETS.items():  # loop over targets, not customers
        predicted = pred[f"{model}_{suffix}"]
        rank = predicted.rank(method="first").to_numpy()
        decile = np.ceil(rank * n_bins / n).astype(np.int64)
        grouped = pd.DataFrame(
            {"decile": decile, "predicted": predicted.to_numpy(dtype=float),
             "actual": pred[actual_col].to_numpy(dtype=float)}
        ).groupby("decile", sort=True).agg(
            n_customers=("actual", "size"),
            mean_predicted=("predicted", "mean"),
            mean_actual=("actual", "mean"),
        ).reset_index()
        grouped.insert(0, "target", target)
        grouped.insert(0, "model", model)
        frames.append(grouped)
    return pd.concat(frames, ignore_index=True)


def _customer_sample(tx: pd.DataFrame, cutoff: pd.Timestamp, limit: int | None,
                     seed: int | None) -> tuple[pd.DataFrame, int]:
    """``tx`` cut to a seeded sample of the customers who bought by ``cutoff``, and their count.

    At most ``limit`` customers are kept, with all their rows (before and after the cutoff).
    """
    codes, ids = factorize(tx["customer_id"])
    bought_rows = (tx["timestamp"] < cutoff + pd.Timedelta(days=1)).to_numpy() \
        & (tx["amount"].to_numpy() >= 0)
    eligible = np.flatnonzero(np.bincount(codes[bought_rows], minlength=len(ids)))
    if limit is None or len(eligible) <= limit:
        return tx, len(eligible)
    chosen = np.zeros(len(ids), dtype=bool)
    chosen[np.random.default_rng(seed).choice(eligible, size=limit, replace=False)] = True
    return tx.loc[chosen[codes]], len(eligible)


def _bgnbd(ch: pd.DataFrame, t_units: float) -> dict[str, np.ndarray]:
    bg = BetaGeoModel().fit(ch)
    x, t_x, big_t = (ch[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    purchases = np.asarray(bg.expected_purchases(t_units, x, t_x, big_t))
    repeat = ch.loc[(ch["frequency"] > 0) & (ch["monetary_value"] > 0)]
    try:
        gg = GammaGammaModel().fit(repeat)
        per_purchase = np.asarray(gg.expected_spend(x, ch["monetary_value"].to_numpy(float)))
    except DataError:
        per_purchase = np.full(len(ch), np.nan)
    fallback = float(repeat["monetary_value"].mean()) if len(repeat) else 0.0
    per_purchase = np.where(np.isfinite(per_purchase), per_purchase, fallback)
    return {"purchases": purchases, "spend": purchases * per_purchase,
            "p_no_purchase": np.asarray(bg.probability_no_purchase(t_units, x, t_x, big_t))}


def _supervised(tx: pd.DataFrame, ch: pd.DataFrame, cutoff: pd.Timestamp, days: int,
                model: PotentialModel, time_unit: str) -> dict[str, np.ndarray]:
    fitted = clone(model).set_params(time_unit=time_unit, horizon_days=days).fit(tx, cutoff)
    sup = fitted.predict(tx, as_of=cutoff).reindex(ch.index)
    return {"purchases": sup["predicted_purchases"].to_numpy(),
            "spend": sup["predicted_spend"].to_numpy(),
            "p_no_purchase": sup["p_no_purchase"].to_numpy()}


def _naive_last(tx: pd.DataFrame, ch: pd.DataFrame, cutoff: pd.Timestamp, days: int,
                time_unit: str) -> dict[str, np.ndarray]:
    last = window_outcomes(tx, ch.index, cutoff - pd.Timedelta(days=days), cutoff, time_unit)
    return {"purchases": last["purchases"].to_numpy(dtype="float64"),
            "spend": last["spend"].to_numpy(),
            "p_no_purchase": (last["purchases"] == 0).to_numpy(dtype="float64")}


def _naive_average(tx: pd.DataFrame, ch: pd.DataFrame, cutoff: pd.Timestamp, days: int,
                   time_unit: str) -> dict[str, np.ndarray]:
    start = tx["timestamp"].min().normalize() - pd.Timedelta(days=1)
    length = float((cutoff - start).days)
    whole = window_outcomes(tx, ch.index, start, cutoff, time_unit)
    rate = whole["purchases"].to_numpy(dtype="float64") / length
    return {"purchases": rate * days, "spend": whole["spend"].to_numpy() / length * days,
            "p_no_purchase": np.exp(-rate * days)}


# long for its docstring; each model's predictions come from the small builders above
def evaluate_potential(tx: pd.DataFrame, cutoff: Any, end: Any = None, *,
                       time_unit: str = "D", n_bins: int = 10, n_bootstrap: int = 200,
                       random_state: int | None = 0,
                       supervised: PotentialModel | None = None,
                       max_customers: int | None = 50_000) -> PotentialEvaluation:
    """Judge every potential model on the holdout after ``cutoff``, with bootstrap intervals.

    The holdout is the days after ``cutoff`` up to ``end`` (``H`` days); every model predicts
    it from what was known at ``cutoff``, for the customers who bought by then:

    - ``bgnbd``: BG/NBD on the calibration summary; purchases = expected purchases in ``H``,
      churn = probability of no purchase in ``H``, spend = purchases × Gamma-Gamma expected
      spend per purchase (the mean repeat spend where Gamma-Gamma cannot be fitted).
    - ``supervised``: :class:`PotentialModel` fitted on the history up to ``cutoff`` (several
      stacked training cutoffs) for the horizon ``H``.
    - ``naive_last``: the last ``H`` days repeat — purchases and net spend in the ``H`` days up
      to ``cutoff``; churn score 1 if no purchase then, else 0.
    - ``naive_average``: the customer's average per day over the whole calibration period
      (from the first day of the data) times ``H``; churn score ``exp(-purchase rate × H)``.

    A model that cannot be fitted (e.g. too little history for the supervised model, no repeat
    buyer for BG/NBD) is kept in the tables as ``"not fitted: <reason>"`` with NaN metrics.

    With more than ``max_customers`` customers, every model is fitted and judged on a seeded
    random sample of that many of them (all their transactions): a comparison of models needs
    tens of thousands of customers, not millions, and the intervals are those of the sample.
    ``n_eligible`` of the result says how many there were.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions.
    cutoff : date-like
        End of calibration.
    end : date-like, optional
        End of the holdout; defaults to the last date in ``tx``.
    time_unit : str
        Time unit of the BTYD summary and purchase counts (days by default).
    n_bins : int
        Bins of the calibration table (deciles by default).
    n_bootstrap : int
        Bootstrap resamples of customers for the 95% intervals (0: none).
    random_state : int or None
        Seed of the supervised model (when ``supervised`` is not given) and of the bootstrap.
    supervised : PotentialModel, optional
        A model whose clone (``time_unit`` and ``horizon_days`` set to this call's) is used
        instead of ``PotentialModel(random_state=random_state)``; it is not changed.
    max_customers : int or None
        Most customers judged: above it a seeded random sample (``random_state``); None: all.

    Returns
    -------
    PotentialEvaluation
        ``table`` (tidy, for reports), ``metrics`` (wide, one row per model), ``calibration``
        and ``predictions``.

    Raises
    ------
    DataError
        No purchase on or before ``cutoff`` (nothing to predict from).
    ArgumentError
        ``end`` not after ``cutoff``, or a bad ``n_bins`` / ``n_bootstrap`` / ``time_unit``.
    """
    for name, value, low in (("n_bins", n_bins, 1), ("n_bootstrap", n_bootstrap, 0),
                             ("max_customers", 1 if max_customers is None else max_customers,
                              1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ArgumentError(f"evaluate_potential: {name}={value!r} must be a whole number "
                                f">= {low}")
    check_transactions(tx, "evaluate_potential", allow_empty=False)
    cutoff = as_day(cutoff, "cutoff", error=ArgumentError)
    end = (tx["timestamp"].max().normalize() if end is None
           else as_day(end, "end", error=ArgumentError))
    tx, n_eligible = _customer_sample(tx, cutoff, max_customers, random_state)
    ch = calibration_holdout(tx, cutoff, end, time_unit=time_unit)
    days = int((end - cutoff).days)
    t_units = periods_between(cutoff, end, time_unit)
    model = PotentialModel(random_state=random_state) if supervised is None else supervised

    pred = ch[["holdout_purchases", "holdout_spend"]].copy()
    pred["no_purchase"] = ~ch["holdout_bought"]
    builders = {
        "bgnbd": lambda: _bgnbd(ch, t_units),
        "supervised": lambda: _supervised(tx, ch, cutoff, days, model, time_unit),
        "naive_last": lambda: _naive_last(tx, ch, cutoff, days, time_unit),
        "naive_average": lambda: _naive_average(tx, ch, cutoff, days, time_unit),
    }
    status: dict[str, str] = {}
    fitted: dict[str, Prediction] = {}
    for name, build in builders.items():  # loop over models; one failing leaves the others
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                values = build()
        except _FIT_ERRORS as exc:
            status[name] = f"not fitted: {exc}"
            continue
        status[name] = "fitted"
        for key, arr in values.items():
            pred[f"{name}_{key}"] = arr
        fitted[name] = Prediction.of(values["spend"], values["purchases"],
                                     values["p_no_purchase"])

    outcomes = Outcomes.of(pred["holdout_spend"].to_numpy(), pred["holdout_purchases"].to_numpy())
    scores = bootstrap_metrics(fitted, outcomes, n_bootstrap=int(n_bootstrap), seed=random_state)
    rows = []
    for name in MODELS:  # loop over models × metrics (a few dozen rows)
        for metric in METRICS:
            est, lo, hi = scores.get(name, {}).get(metric, (np.nan, np.nan, np.nan))
            rows.append((name, status[name], metric, est, lo, hi, len(pred)))
    table = pd.DataFrame(rows, columns=["model", "status", "metric", "estimate", "ci_low",
                                        "ci_high", "n_customers"])
    metrics = table.pivot(index="model", columns="metric", values="estimate").reindex(
        index=list(MODELS), columns=list(METRICS))
    metrics.insert(0, "status", pd.Series(status))
    actual_total = float(pred["holdout_spend"].sum())
    metrics["predicted_spend_total"] = [
        float(pred[f"{m}_spend"].sum()) if m in fitted else np.nan for m in MODELS]
    metrics["actual_spend_total"] = actual_total
    metrics["n_customers"] = len(pred)
    metrics.index.name = "model"
    calibration = pd.concat([_decile_table(pred, m, int(n_bins)) for m in fitted],
                            ignore_index=True) if fitted else pd.DataFrame(
        columns=["model", "target", "decile", "n_customers", "mean_predicted", "mean_actual"])
    return PotentialEvaluation(metrics=metrics, calibration=calibration, predictions=pred,
                               table=table, n_eligible=n_eligible)
