"""Customer potential and churn: calibration/holdout splits, BG/NBD, Gamma-Gamma, supervised.

The workflow of SPEC §4:

1. :func:`calibration_holdout` splits the transactions at a cutoff date into per-customer
   calibration features (what was known at the cutoff) and holdout outcomes (what happened
   afterwards).
2. Probabilistic models fitted by maximum likelihood on the calibration summary:
   :class:`BetaGeoModel` (BG/NBD, Fader, Hardie & Lee 2005) predicts purchases and the chance a
   customer is still active, :class:`GammaGammaModel` predicts the average spend per purchase and,
   with a BG/NBD model, the customer lifetime value (both in :mod:`tierlab.btyd`, re-exported
   here).
3. :class:`PotentialModel`, a supervised scikit-learn model trained on an *earlier*
   calibration/holdout split, predicts next-window spend, purchases and the chance of no purchase.
4. :func:`evaluate_potential` judges BG/NBD, the supervised model and a naive last-window
   baseline on the same holdout; :func:`flag_customers` marks low-tier customers with high
   potential ("rising stars") and top-tier customers at risk.

Everything is vectorized over customers; loops run over model parameters, months or deciles only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from tierlab.btyd import BetaGeoModel, GammaGammaModel
from tierlab.calendar import as_day
from tierlab.errors import DataError, SchemeError, did_you_mean
from tierlab.features import btyd_summary, rfm
from tierlab.frames import check_transactions, require_columns

__all__ = [
    "CALIBRATION_COLUMNS",
    "HOLDOUT_COLUMNS",
    "calibration_holdout",
    "BetaGeoModel",
    "GammaGammaModel",
    "PotentialModel",
    "PotentialEvaluation",
    "flag_customers",
    "evaluate_potential",
]

#: Calibration features produced by :func:`calibration_holdout` (and used by PotentialModel).
CALIBRATION_COLUMNS: tuple[str, ...] = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "monetary_total",
    "frequency_orders",
    "recency_days",
    "tenure_days",
    "active_months",
    "returns",
)
#: Holdout outcomes produced by :func:`calibration_holdout`.
HOLDOUT_COLUMNS: tuple[str, ...] = (
    "holdout_purchases",
    "holdout_spend",
    "holdout_bought",
    "duration_holdout",
)

_SMALL_FIT = 20_000  # below this many customers gradient boosting runs on one thread
_DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------------------------
# calibration / holdout split
# --------------------------------------------------------------------------------------------
def _periods_between(start: pd.Timestamp, end: pd.Timestamp, time_unit: str) -> float:
    """Length of (start, end] in ``time_unit`` periods, measured as btyd_summary measures T."""
    try:
        return float(end.to_period(time_unit).ordinal - start.to_period(time_unit).ordinal)
    except (ValueError, TypeError) as exc:
        raise SchemeError(
            f"time_unit={time_unit!r} is not a pandas period frequency: {exc}"
        ) from None


def _calibration_features(tx: pd.DataFrame, cutoff: pd.Timestamp, time_unit: str,
                          func: str) -> pd.DataFrame:
    """BTYD summary plus RFM columns at ``cutoff`` for customers with a purchase by then."""
    first_day = tx["timestamp"].min().normalize()
    if cutoff < first_day:
        raise DataError(
            f"{func}: no transactions on or before the cutoff {cutoff.date()} (the data start on "
            f"{first_day.date()}); choose a later cutoff"
        )
    try:
        summary = btyd_summary(tx, as_of=cutoff, time_unit=time_unit)
    except DataError as exc:
        raise DataError(f"{func}: {exc}") from None
    feats = rfm(tx, as_of=cutoff)
    feats = feats.rename(columns={"frequency": "frequency_orders"})
    rfm_cols = [c for c in CALIBRATION_COLUMNS if c in feats.columns]
    out = summary.join(feats[rfm_cols], how="inner")
    return out.loc[:, list(CALIBRATION_COLUMNS)]


def _window_outcomes(tx: pd.DataFrame, ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp,
                     time_unit: str) -> pd.DataFrame:
    """Purchase periods and net spend in the days (start, end] for the customers ``ids``."""
    ts = tx["timestamp"].to_numpy()
    inside = (ts >= (start + _DAY).to_datetime64()) & (ts < (end + _DAY).to_datetime64())
    win = tx.loc[inside]
    codes = ids.get_indexer(win["customer_id"])
    known = codes >= 0
    codes = codes[known]
    amount = win["amount"].to_numpy(dtype="float64")[known]
    n = len(ids)
    spend = np.bincount(codes, weights=amount, minlength=n)
    buy = amount >= 0
    if buy.any():
        ordinal = win["timestamp"].dt.to_period(time_unit).array.asi8[known][buy]
        pairs = pd.DataFrame({"c": codes[buy], "p": ordinal}).drop_duplicates()
        purchases = np.bincount(pairs["c"].to_numpy(), minlength=n)
    else:
        purchases = np.zeros(n, dtype=np.int64)
    return pd.DataFrame(
        {"purchases": purchases.astype(np.int64), "spend": spend + 0.0}, index=ids
    )


def calibration_holdout(tx: pd.DataFrame, cutoff, end=None, *,
                        time_unit: str = "D") -> pd.DataFrame:
    """Split transactions at ``cutoff`` into calibration features and holdout outcomes.

    Calibration uses every row on or before the cutoff day; the holdout is the days after the
    cutoff up to and including ``end``. Dates are whole days (a row at 18:00 on the cutoff day
    belongs to calibration).

    Customers whose first purchase comes after the cutoff are **excluded**: nothing was known
    about them at the cutoff, so there is nothing to predict from. Customers with only returns
    (negative amounts) up to the cutoff are excluded too (they have no purchase to start from).

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount`` …).
    cutoff : date-like
        Last day of the calibration period.
    end : date-like, optional
        Last day of the holdout period; defaults to the last date in ``tx``.
    time_unit : str
        Period of the BTYD summary (``"D"`` days by default, ``"W"`` weeks …); ``frequency``,
        ``recency``, ``T`` and ``holdout_purchases`` count in this unit.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted) with the calibration columns
        ``frequency``, ``recency``, ``T``, ``monetary_value`` (see
        :func:`tierlab.features.btyd_summary`), ``monetary_total``, ``frequency_orders`` (orders,
        rfm's ``frequency``), ``recency_days``, ``tenure_days``, ``active_months``, ``returns``
        (see :func:`tierlab.features.rfm`), and the holdout outcomes ``holdout_purchases``
        (distinct purchase periods — days by default — with a row ``amount >= 0``),
        ``holdout_spend`` (net, returns included), ``holdout_bought`` (bool) and
        ``duration_holdout`` (days from the cutoff to ``end``).

    Raises
    ------
    DataError
        If there is no purchase on or before the cutoff.
    SchemeError
        If ``end`` is not after ``cutoff``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"],
    ...                    "timestamp": pd.to_datetime(["2025-01-01", "2025-01-11", "2025-02-05",
    ...                                                 "2025-01-20", "2025-02-01"]),
    ...                    "amount": [10.0, 20.0, 40.0, 5.0, 8.0]})
    >>> ch = calibration_holdout(tx, "2025-01-31", "2025-02-28")
    >>> ch[["frequency", "recency", "T", "holdout_purchases", "holdout_spend"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency     T  holdout_purchases  holdout_spend
    customer_id
    a                  1.0     10.0  30.0                  1           40.0
    b                  0.0      0.0  11.0                  0            0.0
    """
    check_transactions(tx, "calibration_holdout", allow_empty=False)
    cutoff = as_day(cutoff, "cutoff", error=SchemeError)
    end = (tx["timestamp"].max().normalize() if end is None
           else as_day(end, "end", error=SchemeError))
    if end <= cutoff:
        raise SchemeError(
            f"calibration_holdout: end ({end.date()}) must be after cutoff ({cutoff.date()}); "
            "the holdout is the days after the cutoff up to end"
        )
    _periods_between(cutoff, end, time_unit)  # validates time_unit with a clear message
    cal = _calibration_features(tx, cutoff, time_unit, "calibration_holdout")
    hold = _window_outcomes(tx, cal.index, cutoff, end, time_unit)
    out = cal.copy()
    out["holdout_purchases"] = hold["purchases"]
    out["holdout_spend"] = hold["spend"]
    out["holdout_bought"] = hold["purchases"] > 0
    out["duration_holdout"] = np.int64((end - cutoff).days)
    return out


# --------------------------------------------------------------------------------------------
# supervised potential model
# --------------------------------------------------------------------------------------------
def _feature_pipeline(estimator) -> Pipeline:
    select = ColumnTransformer([("features", "passthrough", list(CALIBRATION_COLUMNS))],
                               remainder="drop", verbose_feature_names_out=False)
    return make_pipeline(select, estimator)


class PotentialModel(BaseEstimator):
    """Supervised next-window spend, purchases and churn from calibration features.

    ``fit(tx, cutoff, horizon_days)`` builds training pairs from
    ``calibration_holdout(tx, cutoff - horizon_days, cutoff)``: features known at
    ``cutoff - horizon_days`` (the columns :data:`CALIBRATION_COLUMNS`) and what each customer did
    in the following ``horizon_days``. Three scikit-learn pipelines (column selection →
    histogram gradient boosting) learn next-window net spend, purchase days (Poisson loss) and
    the chance of no purchase. ``predict(tx, as_of)`` applies them to the features at ``as_of``,
    so its predictions are for the ``horizon_days`` after ``as_of``.

    Parameters
    ----------
    random_state : int or None
        Seed of the gradient-boosting estimators.
    max_iter : int
        Boosting iterations.
    learning_rate : float
        Boosting learning rate.
    max_leaf_nodes : int
        Leaves per tree.
    min_samples_leaf : int
        Minimum customers per leaf.
    l2_regularization : float
        L2 penalty on leaf values.
    time_unit : str
        Period of the BTYD features (``frequency``, ``recency``, ``T``) and of purchase counts.
    n_threads : int or None
        OpenMP threads of the gradient boosting. None picks 1 thread below
        20,000 customers (where thread start-up costs more than it saves) and all cores above.

    Attributes
    ----------
    spend_model_, purchases_model_, churn_model_ : Pipeline
        Fitted pipelines (the churn model predicts "no purchase in the window").
    horizon_days_ : int
        Window length the models predict.
    train_cutoff_ : Timestamp
        Date the training features were taken at (``cutoff - horizon_days``).
    n_customers_ : int
        Training customers.
    no_purchase_rate_ : float
        Share of training customers with no purchase in the training window.
    spend_range_ : tuple of float
        Lowest and highest next-window spend in training (predictions are clipped to it).
    """

    def __init__(self, random_state: int | None = 0, *, max_iter: int = 200,
                 learning_rate: float = 0.05, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 20, l2_regularization: float = 1.0,
                 time_unit: str = "D", n_threads: int | None = None):
        self.random_state = random_state
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.time_unit = time_unit
        self.n_threads = n_threads

    def _threads(self, n_rows: int):
        threads = self.n_threads
        if threads is None:
            threads = 1 if n_rows < _SMALL_FIT else None
        return threadpool_limits(limits=threads, user_api="openmp")

    def _boosting(self, kind: str, **extra):
        common = dict(max_iter=self.max_iter, learning_rate=self.learning_rate,
                      max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
                      l2_regularization=self.l2_regularization, random_state=self.random_state)
        common.update(extra)
        if kind == "classifier":
            return HistGradientBoostingClassifier(**common)
        return HistGradientBoostingRegressor(**common)

    def fit(self, tx: pd.DataFrame, cutoff, horizon_days: int) -> PotentialModel:
        """Train on the split at ``cutoff - horizon_days`` with ``cutoff`` as its holdout end.

        Parameters
        ----------
        tx : DataFrame
            Canonical transactions.
        cutoff : date-like
            End of the training holdout window (usually the date you will predict from).
        horizon_days : int
            Length of the window to predict, in days.

        Returns
        -------
        PotentialModel
            The fitted model.

        Raises
        ------
        DataError
            Too little history before ``cutoff - horizon_days``, too few customers, or a
            training window in which every customer (or none) bought.
        """
        check_transactions(tx, "PotentialModel.fit", allow_empty=False)
        cutoff = as_day(cutoff, "cutoff", error=SchemeError)
        if int(horizon_days) != horizon_days or horizon_days < 1:
            raise SchemeError(
                f"PotentialModel.fit: horizon_days={horizon_days!r} must be a whole number >= 1"
            )
        horizon_days = int(horizon_days)
        start = cutoff - pd.Timedelta(days=horizon_days)
        try:
            train = calibration_holdout(tx, start, cutoff, time_unit=self.time_unit)
        except DataError as exc:
            raise DataError(
                f"PotentialModel.fit: training needs purchases before {start.date()} "
                f"(cutoff {cutoff.date()} minus horizon_days={horizon_days}): {exc}"
            ) from None
        if len(train) < 2 * self.min_samples_leaf:
            raise DataError(
                f"PotentialModel.fit: only {len(train)} customers bought before {start.date()}; "
                f"need at least {2 * self.min_samples_leaf} (2 × min_samples_leaf) to train"
            )
        no_purchase = ~train["holdout_bought"].to_numpy()
        if no_purchase.all() or not no_purchase.any():
            state = "no customer" if no_purchase.all() else "every customer"
            raise DataError(
                f"PotentialModel.fit: {state} bought between {start.date()} and {cutoff.date()}, "
                "so the chance of no purchase cannot be learned; use a different cutoff or horizon"
            )
        features = train.loc[:, list(CALIBRATION_COLUMNS)]
        with self._threads(len(features)):
            self.spend_model_ = _feature_pipeline(self._boosting("regressor")).fit(
                features, train["holdout_spend"].to_numpy(dtype="float64"))
            self.purchases_model_ = _feature_pipeline(
                self._boosting("regressor", loss="poisson")
            ).fit(features, train["holdout_purchases"].to_numpy(dtype="float64"))
            self.churn_model_ = _feature_pipeline(self._boosting("classifier")).fit(
                features, no_purchase)
        spend = train["holdout_spend"].to_numpy(dtype="float64")
        self.spend_range_ = (float(spend.min()), float(spend.max()))
        self.horizon_days_ = horizon_days
        self.train_cutoff_ = start
        self.n_customers_ = len(train)
        self.no_purchase_rate_ = float(no_purchase.mean())
        return self

    def predict(self, tx: pd.DataFrame, as_of=None) -> pd.DataFrame:
        """Predict the ``horizon_days_`` after ``as_of`` for every customer who bought by then.

        Parameters
        ----------
        tx : DataFrame
            Canonical transactions; rows after ``as_of`` are ignored.
        as_of : date-like, optional
            Prediction date; defaults to the last date in ``tx``.

        Returns
        -------
        DataFrame
            Indexed by ``customer_id`` with ``predicted_purchases``, ``predicted_spend`` (net,
            clipped to the range seen in training, so never below the lowest training outcome)
            and ``p_no_purchase``.
        """
        check_is_fitted(self, "spend_model_")
        check_transactions(tx, "PotentialModel.predict", allow_empty=False)
        as_of = (tx["timestamp"].max().normalize() if as_of is None
                 else as_day(as_of, "as_of", error=SchemeError))
        feats = _calibration_features(tx, as_of, self.time_unit, "PotentialModel.predict")
        classes = list(self.churn_model_.classes_)
        with self._threads(len(feats)):
            out = pd.DataFrame(
                {
                    "predicted_purchases": self.purchases_model_.predict(feats),
                    "predicted_spend": np.clip(self.spend_model_.predict(feats),
                                               *self.spend_range_),
                    "p_no_purchase": self.churn_model_.predict_proba(feats)[
                        :, classes.index(True)],
                },
                index=feats.index,
            )
        return out


# --------------------------------------------------------------------------------------------
# flags
# --------------------------------------------------------------------------------------------
def _top_share_mask(values: pd.Series, share: float) -> pd.Series:
    """True for the ``share`` highest values (ties at the boundary included; NaN never)."""
    valid = values.notna()
    k = math.ceil(share * int(valid.sum()))
    ranks = values.rank(ascending=False, method="min")
    return valid & (ranks <= k)


def flag_customers(tiers: pd.Series, predictions: pd.DataFrame, *, tier_order: Sequence[str],
                   top_share: float = 0.1, risk_threshold: float | None = 0.5,
                   low_tiers: int | None = None, top_tiers: int = 1) -> pd.DataFrame:
    """Flag rising stars (low tier, high predicted spend) and top-tier customers at risk.

    Parameters
    ----------
    tiers : Series
        Customer id → tier name.
    predictions : DataFrame
        Indexed by customer id with ``predicted_spend`` and ``p_no_purchase`` (e.g. from
        :meth:`PotentialModel.predict`).
    tier_order : sequence of str
        Tier names, lowest first.
    top_share : float
        A rising star's predicted spend is in the top ``top_share`` of all customers in
        ``predictions`` (ties at the boundary included). Also the share used for ``at_risk``
        when ``risk_threshold`` is None.
    risk_threshold : float or None
        A top-tier customer is at risk when ``p_no_purchase >= risk_threshold``; None flags the
        top ``top_share`` of ``p_no_purchase`` instead.
    low_tiers : int, optional
        How many of the lowest tiers count as "low"; default the lower half,
        ``max(1, len(tier_order) // 2)`` (Low of Low/Mid/High).
    top_tiers : int
        How many of the highest tiers count as "top".

    Returns
    -------
    DataFrame
        Indexed like ``tiers`` with ``tier``, ``predicted_spend``, ``p_no_purchase``,
        ``rising_star``, ``at_risk`` (bool) and ``flag_reason`` ("" when not flagged).
        Customers without a prediction are never flagged.

    Examples
    --------
    >>> tiers = pd.Series({"a": "Low", "b": "High", "c": "Mid"})
    >>> pred = pd.DataFrame({"predicted_spend": [900.0, 50.0, 10.0],
    ...                      "p_no_purchase": [0.1, 0.8, 0.3]}, index=["a", "b", "c"])
    >>> flag_customers(tiers, pred, tier_order=["Low", "Mid", "High"], top_share=0.34)[
    ...     ["rising_star", "at_risk"]]
       rising_star  at_risk
    a         True    False
    b        False     True
    c        False    False
    """
    if not isinstance(tiers, pd.Series):
        raise DataError(f"flag_customers: tiers must be a Series id → tier, got "
                        f"{type(tiers).__name__}")
    require_columns(predictions, ("predicted_spend", "p_no_purchase"), "flag_customers")
    order = [str(t) for t in tier_order]
    if not order or len(set(order)) != len(order):
        raise SchemeError("flag_customers: tier_order must list distinct tier names, lowest first")
    if not 0 < top_share <= 1:
        raise SchemeError(f"flag_customers: top_share={top_share!r} must be in (0, 1]")
    if risk_threshold is not None and not 0 <= risk_threshold <= 1:
        raise SchemeError(f"flag_customers: risk_threshold={risk_threshold!r} must be in [0, 1]")
    n_low = max(1, len(order) // 2) if low_tiers is None else int(low_tiers)
    if not 1 <= n_low <= len(order) or not 1 <= top_tiers <= len(order):
        raise SchemeError("flag_customers: low_tiers and top_tiers must be between 1 and the "
                          f"number of tiers ({len(order)})")
    names = tiers.astype("object")
    known = names.isna() | names.isin(order)
    if not known.all():
        unknown = names[~known].iloc[0]
        raise DataError(
            f"flag_customers: tier {unknown!r} (customer {names.index[~known][0]!r}) is not in "
            f"tier_order {order}{did_you_mean(unknown, order)}"
        )
    level = pd.Series(pd.Categorical(names, categories=order).codes, index=tiers.index)

    spend_top = _top_share_mask(predictions["predicted_spend"], top_share)
    if risk_threshold is None:
        risky = _top_share_mask(predictions["p_no_purchase"], top_share)
    else:
        risky = predictions["p_no_purchase"] >= risk_threshold

    out = pd.DataFrame(index=tiers.index)
    out["tier"] = tiers
    out["predicted_spend"] = predictions["predicted_spend"].reindex(tiers.index)
    out["p_no_purchase"] = predictions["p_no_purchase"].reindex(tiers.index)
    in_low = (level >= 0) & (level < n_low)
    in_top = level >= len(order) - top_tiers
    out["rising_star"] = (in_low & spend_top.reindex(tiers.index, fill_value=False)).astype(bool)
    out["at_risk"] = (in_top & risky.reindex(tiers.index, fill_value=False)).astype(bool)

    tier_text = names.astype(str)
    spend_text = out["predicted_spend"].fillna(0).round().astype("int64").astype(str)
    risk_text = (out["p_no_purchase"].fillna(0) * 100).round().astype("int64").astype(str)
    share_text = f"{top_share:.0%}"
    star = ("rising star: tier " + tier_text + ", predicted spend " + spend_text
            + " (top " + share_text + " of customers)")
    risk = "at risk: tier " + tier_text + ", " + risk_text + "% chance of no purchase"
    star = star.where(out["rising_star"], "")
    risk = risk.where(out["at_risk"], "")
    both = out["rising_star"] & out["at_risk"]
    out["flag_reason"] = (star + np.where(both, "; ", "") + risk).astype(str)
    return out


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PotentialEvaluation:
    """Holdout comparison of potential models (see :func:`evaluate_potential`).

    Attributes
    ----------
    metrics : DataFrame
        One row per model (``bgnbd``, ``supervised``, ``naive``).
    calibration : DataFrame
        Mean predicted vs mean actual per predicted decile, per model and target.
    predictions : DataFrame
        Per customer: the holdout outcomes and every model's predictions.
    """

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    predictions: pd.DataFrame | None = None


_TARGETS = {  # target → (prediction column suffix, actual column)
    "purchases": ("purchases", "holdout_purchases"),
    "spend": ("spend", "holdout_spend"),
    "no_purchase": ("p_no_purchase", "no_purchase"),
}


def _spearman(pred: np.ndarray, actual: np.ndarray) -> float:
    if np.ptp(pred) == 0 or np.ptp(actual) == 0:
        return float("nan")
    return float(stats.spearmanr(pred, actual).statistic)


def _auc(actual: np.ndarray, score: np.ndarray) -> float:
    if actual.all() or not actual.any():
        return float("nan")
    return float(roc_auc_score(actual, score))


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


def evaluate_potential(tx: pd.DataFrame, cutoff, end=None, *, time_unit: str = "D",
                       n_bins: int = 10, random_state: int | None = 0,
                       supervised: PotentialModel | None = None) -> PotentialEvaluation:
    """Judge BG/NBD (+ Gamma-Gamma), the supervised model and a naive baseline on a holdout.

    The holdout is the days after ``cutoff`` up to ``end`` (``H`` days); every model predicts it
    from what was known at ``cutoff``:

    - ``bgnbd``: BG/NBD fitted on the calibration summary; purchases = expected purchases in
      ``H``, churn = probability of no purchase in ``H``, spend = purchases × Gamma-Gamma
      expected spend per purchase (fitted on repeat buyers with positive mean spend; the mean
      repeat spend of all customers stands in if it cannot be fitted).
    - ``supervised``: :class:`PotentialModel` trained on the earlier split
      ``(cutoff - H, cutoff]`` and applied at ``cutoff``.
    - ``naive``: the last window repeats — purchases and net spend in the ``H`` days up to
      ``cutoff``; churn score 1 if no purchase in that window, else 0.

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
    random_state : int or None
        Seed of the supervised model (when ``supervised`` is not given).
    supervised : PotentialModel, optional
        A model whose clone (with ``time_unit`` set to this call's) is used instead of
        ``PotentialModel(random_state=random_state)``; the object passed is not changed.

    Returns
    -------
    PotentialEvaluation
        ``metrics`` indexed by model with ``purchases_mae``, ``purchases_rmse``,
        ``purchases_spearman``, ``spend_mae``, ``spend_rmse``, ``churn_auc`` (AUC of the
        no-purchase score; NaN if the holdout has one class only), ``n_customers``;
        ``calibration`` with ``model``, ``target`` (``purchases``, ``spend``, ``no_purchase``),
        ``decile`` (1 = lowest predictions), ``n_customers``, ``mean_predicted``,
        ``mean_actual``; ``predictions`` per customer.

    Raises
    ------
    DataError
        If there is less than ``H`` days of purchase history before ``cutoff`` to train the
        supervised model, or the calibration data cannot fit BG/NBD.
    """
    if int(n_bins) != n_bins or n_bins < 1:
        raise SchemeError(f"evaluate_potential: n_bins={n_bins!r} must be a whole number >= 1")
    ch = calibration_holdout(tx, cutoff, end, time_unit=time_unit)
    cutoff = as_day(cutoff, "cutoff", error=SchemeError)
    end = (tx["timestamp"].max().normalize() if end is None
           else as_day(end, "end", error=SchemeError))
    days = int((end - cutoff).days)
    t_units = _periods_between(cutoff, end, time_unit)

    pred = ch[["holdout_purchases", "holdout_spend"]].copy()
    pred["no_purchase"] = ~ch["holdout_bought"]

    # BG/NBD + Gamma-Gamma
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
    pred["bgnbd_purchases"] = purchases
    pred["bgnbd_spend"] = purchases * per_purchase
    pred["bgnbd_p_no_purchase"] = np.asarray(bg.probability_no_purchase(t_units, x, t_x, big_t))

    # supervised, trained on the split one window earlier
    model = PotentialModel(random_state=random_state) if supervised is None else clone(supervised)
    model.set_params(time_unit=time_unit).fit(tx, cutoff, horizon_days=days)
    sup = model.predict(tx, as_of=cutoff).reindex(ch.index)
    pred["supervised_purchases"] = sup["predicted_purchases"]
    pred["supervised_spend"] = sup["predicted_spend"]
    pred["supervised_p_no_purchase"] = sup["p_no_purchase"]

    # naive: the last window of the same length repeats itself
    last = _window_outcomes(tx, ch.index, cutoff - pd.Timedelta(days=days), cutoff, time_unit)
    pred["naive_purchases"] = last["purchases"].astype("float64")
    pred["naive_spend"] = last["spend"]
    pred["naive_p_no_purchase"] = (last["purchases"] == 0).astype("float64")

    actual_p = pred["holdout_purchases"].to_numpy(dtype=float)
    actual_s = pred["holdout_spend"].to_numpy(dtype=float)
    actual_churn = pred["no_purchase"].to_numpy(dtype=bool)
    rows = {}
    tables = []
    for name in ("bgnbd", "supervised", "naive"):  # loop over models
        pp = pred[f"{name}_purchases"].to_numpy(dtype=float)
        ps = pred[f"{name}_spend"].to_numpy(dtype=float)
        pc = pred[f"{name}_p_no_purchase"].to_numpy(dtype=float)
        rows[name] = {
            "purchases_mae": float(np.mean(np.abs(pp - actual_p))),
            "purchases_rmse": float(np.sqrt(np.mean((pp - actual_p) ** 2))),
            "purchases_spearman": _spearman(pp, actual_p),
            "spend_mae": float(np.mean(np.abs(ps - actual_s))),
            "spend_rmse": float(np.sqrt(np.mean((ps - actual_s) ** 2))),
            "churn_auc": _auc(actual_churn, pc),
            "n_customers": len(pred),
        }
        tables.append(_decile_table(pred, name, int(n_bins)))
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    metrics.index.name = "model"
    calibration = pd.concat(tables, ignore_index=True)
    return PotentialEvaluation(metrics=metrics, calibration=calibration, predictions=pred)
