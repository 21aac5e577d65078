"""Supervised next-window spend, purchases and churn, trained on several stacked cutoffs.

:class:`PotentialModel` learns from the history *before* the date it predicts from. It picks
``n_cutoffs`` training cutoffs spread over the last ``horizon_days`` before that date; at each
one it describes customers with cutoff-relative features (:mod:`tierlab.potential_features`,
BG/NBD and Gamma-Gamma predictions stacked in) and records what they did next, up to the
horizon or the fit date, whichever comes first. The stacked rows train three histogram
gradient-boosting models: the chance of no purchase in the window, and spend and purchases per
day relative to BG/NBD's rates (a Poisson rate with exposure; with ``objective="two_part"``
per day *given* a purchase, times the chance of one), so any horizon can be predicted and the
total predicted level is that of the training windows.

At scale the fit stays bounded: the customers × training-cutoff rows are capped by a seeded
sample of customers (``max_rows``), the auxiliary BG/NBD and Gamma-Gamma fits use at most
``btyd_max_customers`` customers, the features are binned once into unweighted quantiles before
the boosting (which would otherwise compute weighted quantiles per feature), and the boosting
runs a fixed number of iterations (no early-stopping split) at a small learning rate (the trees
correct BG/NBD gently; see ``learning_rate``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # no stubs

from tierlab._kernels.factorize import factorize
from tierlab.calendar import as_day
from tierlab.errors import ArgumentError, DataError
from tierlab.frames import check_transactions
from tierlab.potential_features import (
    FEATURE_COLUMNS,
    STACKED_COLUMNS,
    DailyActivity,
    apply_thresholds,
    cutoff_features,
    daily_activity,
    day_number,
    quantile_thresholds,
    stacked_btyd_features,
)
from tierlab.potential_split import window_outcomes

__all__ = ["PotentialModel", "MODEL_COLUMNS", "PREDICTION_COLUMNS"]

#: Feature columns the gradient boosting sees (with ``stacking=True``).
MODEL_COLUMNS: tuple[str, ...] = (*FEATURE_COLUMNS, *STACKED_COLUMNS, "horizon_days")
#: Columns of :meth:`PotentialModel.predict`.
PREDICTION_COLUMNS: tuple[str, ...] = ("predicted_purchases", "predicted_spend",
                                       "p_no_purchase", "p_alive")
_SMALL_FIT = 20_000  # below this many training rows gradient boosting runs on one thread
_BASE_FLOOR = 0.1  # BG/NBD rates below this share of the mean rate count as this share


def _whole(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float) \
            or int(value) != value or value < low:
        raise ArgumentError(f"PotentialModel: {name}={value!r} must be a whole number >= {low}")
    return int(value)


def _up_to(tx: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``tx`` on or before ``day``.

    ``tx`` itself when that is all of them, so the factorized ids of a loaded frame are reused.
    """
    keep = (tx["timestamp"] < day + pd.Timedelta(days=1)).to_numpy()
    return tx if keep.all() else tx.loc[keep]


class PotentialModel(BaseEstimator):
    """Supervised next-window spend, purchases and churn (gradient boosting on stacked cutoffs).

    ``fit(tx, cutoff)`` trains on the history up to ``cutoff``: at training cutoffs
    ``cutoff - k * step`` (``k = 1 … n_cutoffs``, ``step = span / n_cutoffs`` where ``span`` is
    ``horizon_days`` or the history available after ``min_history_days``, whichever is
    shorter) it takes the features of :mod:`tierlab.potential_features` and what each customer
    did in the following ``horizon_days`` (cut at ``cutoff``). ``predict(tx, as_of)`` applies
    the models to the features at ``as_of`` for the ``horizon_days`` after it.

    Parameters
    ----------
    horizon_days : int
        Length of the window to predict, in days (``fit`` and ``predict`` may override it).
    n_cutoffs : int
        Training cutoffs stacked.
    min_history_days : int
        Days of data a training cutoff needs before it.
    tenure_cap_days : int
        Cap of the tenure feature.
    stacking : bool
        Add BG/NBD and Gamma-Gamma predictions as features.
    relative : bool
        With stacking, learn spend and purchases *relative to* BG/NBD's prediction (a Poisson
        model with BG/NBD as its offset: target actual / BG/NBD, weight BG/NBD × days), so the
        trees correct BG/NBD multiplicatively and keep its extrapolation for heavy buyers.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Settings of the histogram gradient boosting (a fixed number of iterations). The
        defaults, 80 iterations at rate 0.03, shrink the trees' corrections of BG/NBD. They were
        chosen on validation splits that end at each calibration date of the CDNOW backtest
        (``validation/select_cdnow.py``): there the spend correlations rise as the rate falls,
        and 0.03 is the smallest rate of the grid that keeps the model's edge over BG/NBD on
        simulated trending customers. A smaller rate grows more balanced trees, dearer per
        iteration; 80 iterations at 0.03 cost about what 100 at 0.1 did.
    time_unit : str
        Period of the BTYD summary and of purchase counts (days by default).
    n_threads : int or None
        OpenMP threads; None picks 1 below 20,000 training rows and all cores above.
    random_state : int or None
        Seed of the gradient boosting and of the samples below.
    max_rows : int or None
        Most customer × training-cutoff rows: above it, training uses a seeded random sample
        of ``max_rows // n_cutoffs`` customers (all their rows). None: no cap.
    btyd_max_customers : int or None
        The stacked BG/NBD and Gamma-Gamma parameters are fitted on a seeded sample of at most
        this many customers (every customer is still scored). None: all.
    windows : {"recent", "full"}
        ``"recent"``: training cutoffs spread over the last ``horizon_days`` before the fit
        date, their windows cut at it (the most recent behaviour, shorter windows).
        ``"full"``: training windows of the whole horizon, the latest ending at the fit date
        (falls back to ``"recent"`` when the history is shorter than the horizon plus
        ``min_history_days``).
    objective : {"single", "two_part"}
        ``"single"``: one Poisson model of spend (and of purchases) over all rows.
        ``"two_part"``: spend = P(purchase) × E[spend | purchase] (and so for purchases), the
        conditional models trained on the rows with a purchase; best with ``windows="full"``
        (a per-day rate given a purchase depends on the window length).

    Attributes
    ----------
    spend_model_, purchases_model_ : HistGradientBoostingRegressor
        Poisson models of net spend and purchases per day of the window (given a purchase
        with ``objective="two_part"``).
    bin_edges_ : list of ndarray
        Quantile bin edges of every feature (the boosting sees the bin codes).
    churn_model_ : HistGradientBoostingClassifier
        Model of "no purchase in the window".
    horizon_days_ : int
        Default window of :meth:`predict`.
    train_cutoffs_ : list of Timestamp
        Training cutoffs, latest first.
    train_cutoff_ : Timestamp
        The latest training cutoff.
    feature_names_ : list of str
        Columns the models use.
    n_customers_ : int
        Distinct training customers; ``n_rows_`` counts customer × cutoff rows.
    no_purchase_rate_ : float
        Share of training rows with no purchase in their window.
    base_rates_, max_rates_ : tuple of float
        Mean and highest per-day (spend, purchases) rates of the training windows; predicted
        rates are capped at ``max_rates_``.
    """

    def __init__(self, *, horizon_days: int = 182, n_cutoffs: int = 4,
                 min_history_days: int = 60, tenure_cap_days: int = 90, stacking: bool = True,
                 relative: bool = True,
                 max_iter: int = 80, learning_rate: float = 0.03, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 20, l2_regularization: float = 1.0,
                 time_unit: str = "D", n_threads: int | None = None,
                 random_state: int | None = 0, max_rows: int | None = 100_000,
                 btyd_max_customers: int | None = 50_000,
                 windows: str = "recent", objective: str = "single") -> None:
        self.horizon_days = horizon_days
        self.n_cutoffs = n_cutoffs
        self.min_history_days = min_history_days
        self.tenure_cap_days = tenure_cap_days
        self.stacking = stacking
        self.relative = relative
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.time_unit = time_unit
        self.n_threads = n_threads
        self.random_state = random_state
        self.max_rows = max_rows
        self.btyd_max_customers = btyd_max_customers
        self.windows = windows
        self.objective = objective

    # ---------------------------------------------------------------------------------------
    def _threads(self, n_rows: int) -> threadpool_limits:
        threads = self.n_threads
        if threads is None:
            threads = 1 if n_rows < _SMALL_FIT else None
        return threadpool_limits(limits=threads, user_api="openmp")

    def _boosting(self, kind: str
                  ) -> HistGradientBoostingRegressor | HistGradientBoostingClassifier:
        common: dict[str, Any] = dict(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization, random_state=self.random_state,
            early_stopping=False)
        if kind == "classifier":
            return HistGradientBoostingClassifier(**common)
        return HistGradientBoostingRegressor(loss="poisson", **common)

    def _design(self, tx: pd.DataFrame, act: DailyActivity, cutoff: pd.Timestamp,
                horizon: int) -> pd.DataFrame:
        """Model features of the customers who bought by ``cutoff``, for a ``horizon``."""
        feats = cutoff_features(act, day_number(cutoff), tenure_cap_days=self.tenure_cap_days)
        if self.stacking:
            stacked = stacked_btyd_features(tx, cutoff, horizon, feats.index,
                                            time_unit=self.time_unit,
                                            fit_customers=self.btyd_max_customers,
                                            seed=self.random_state, act=act)
            feats = feats.join(stacked)
        if not (self.stacking and self.relative):  # relative models take the horizon from BG/NBD
            feats["horizon_days"] = float(horizon)
        return feats

    def _bases(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per-day spend and purchase rates the models are relative to (ones if not relative).

        BG/NBD's rates where known, floored at a tenth of the training mean rates
        (``base_rates_``): a customer BG/NBD calls all but gone still returns now and then, and
        a ratio to a rate near zero would be unbounded.
        """
        if not (self.relative and self.stacking):
            return np.ones(len(X)), np.ones(len(X))
        spend = X["bgnbd_spend_rate"].to_numpy(dtype="float64")
        purchases = X["bgnbd_purchase_rate"].to_numpy(dtype="float64")
        floor_s, floor_p = (_BASE_FLOOR * r for r in self.base_rates_)
        spend = np.where(np.isfinite(spend), np.maximum(spend, floor_s), self.base_rates_[0])
        purchases = np.where(np.isfinite(purchases), np.maximum(purchases, floor_p),
                             self.base_rates_[1])
        return spend, purchases

    def _two_part(self) -> bool:
        if self.objective not in ("two_part", "single"):
            raise ArgumentError(f"PotentialModel: objective={self.objective!r} must be "
                                "'two_part' or 'single'")
        return bool(self.objective == "two_part")

    def _row_sample(self, known: pd.DataFrame, n_cuts: int) -> pd.DataFrame:
        """Transactions of a seeded customer sample: customers × cutoffs within ``max_rows``."""
        if self.max_rows is None:
            return known
        cap = _whole(self.max_rows, "max_rows", 100)
        codes, uniques = factorize(known["customer_id"])
        per_cut = cap // n_cuts
        if len(uniques) <= per_cut:
            return known
        rng = np.random.default_rng(self.random_state)
        chosen = np.zeros(len(uniques), dtype=bool)
        chosen[rng.choice(len(uniques), size=per_cut, replace=False)] = True
        return known.loc[chosen[codes]]

    def training_cutoffs(self, tx: pd.DataFrame, cutoff: Any = None,
                         horizon_days: int | None = None) -> list[tuple[pd.Timestamp, int]]:
        """Training cutoffs and their window lengths (days) for a fit up to ``cutoff``.

        Parameters
        ----------
        tx : DataFrame
            Canonical transactions.
        cutoff : date-like, optional
            Last day of the history used; defaults to the last date in ``tx``.
        horizon_days : int, optional
            Window to predict; defaults to the ``horizon_days`` parameter.

        Returns
        -------
        list of (Timestamp, int)
            Latest first; each window ends at ``min(training cutoff + horizon, cutoff)``.

        Raises
        ------
        DataError
            If no training cutoff has ``min_history_days`` of data before it.
        """
        check_transactions(tx, "PotentialModel.fit", allow_empty=False)
        horizon = _whole(self.horizon_days if horizon_days is None else horizon_days,
                         "horizon_days", 1)
        n_cut = _whole(self.n_cutoffs, "n_cutoffs", 1)
        min_hist = _whole(self.min_history_days, "min_history_days", 1)
        end = (tx["timestamp"].max().normalize() if cutoff is None
               else as_day(cutoff, "cutoff", error=ArgumentError))
        first = tx["timestamp"].min().normalize()
        available = int((end - first).days) - min_hist
        if available < 1:
            raise DataError(
                f"PotentialModel.fit: the data start on {first.date()}, "
                f"{int((end - first).days)} days before the cutoff {end.date()}; training needs "
                f"more than min_history_days={min_hist} days of history — use a later cutoff or "
                "a smaller min_history_days")
        if self.windows not in ("recent", "full"):
            raise ArgumentError(f"PotentialModel: windows={self.windows!r} must be 'recent' or "
                                "'full'")
        if self.windows == "full" and available >= horizon:
            # whole windows of the horizon's length, the latest ending at the cutoff
            step = max(1, math.ceil(horizon / n_cut))
            out = []
            for k in range(n_cut):  # loop over training cutoffs
                start = end - pd.Timedelta(days=horizon + k * step)
                if (start - first).days < min_hist:
                    break
                out.append((start, horizon))
            return out
        span = min(horizon, available)
        step = max(1, math.ceil(span / n_cut))
        out = []
        for k in range(1, n_cut + 1):  # loop over training cutoffs
            start = end - pd.Timedelta(days=k * step)
            if (start - first).days < min_hist:
                break
            out.append((start, int(min(horizon, (end - start).days))))
        return out

    # long for its docstring and checks: rows per cutoff, their validation and three fits
    def fit(self, tx: pd.DataFrame, cutoff: Any = None, horizon_days: int | None = None,
            ) -> PotentialModel:
        """Train on the history up to ``cutoff`` (defaults to the last date in ``tx``).

        Parameters
        ----------
        tx : DataFrame
            Canonical transactions; rows after ``cutoff`` are ignored.
        cutoff : date-like, optional
            Last day the model may learn from (usually the date you will predict from).
        horizon_days : int, optional
            Window to predict, overriding the ``horizon_days`` parameter for this fit.

        Returns
        -------
        PotentialModel
            The fitted model.

        Raises
        ------
        DataError
            Too little history, too few customers, or training windows in which every
            customer (or none) bought.
        ArgumentError
            A parameter out of range.
        """
        cuts = self.training_cutoffs(tx, cutoff, horizon_days)
        self._two_part()  # checks objective before the work
        horizon = _whole(self.horizon_days if horizon_days is None else horizon_days,
                         "horizon_days", 1)
        end = (tx["timestamp"].max().normalize() if cutoff is None
               else as_day(cutoff, "cutoff", error=ArgumentError))
        known = self._row_sample(_up_to(tx, end), len(cuts))
        act = daily_activity(known)
        frames, targets = [], []
        for start, days in cuts:  # loop over training cutoffs, vectorized over customers
            feats = self._design(known, act, start, days)
            outcome = window_outcomes(known, feats.index, start,
                                      start + pd.Timedelta(days=days), self.time_unit)
            frames.append(feats)
            targets.append(outcome.assign(days=float(days)))
        if not frames:
            raise DataError(f"PotentialModel.fit: no training cutoff before {end.date()}")
        X = pd.concat(frames)
        y = pd.concat(targets)
        min_rows = 2 * _whole(self.min_samples_leaf, "min_samples_leaf", 1)
        if len(X) < min_rows:
            raise DataError(
                f"PotentialModel.fit: only {len(X)} customer × cutoff rows before {end.date()}; "
                f"need at least {min_rows} (2 × min_samples_leaf) to train")
        no_purchase = (y["purchases"] == 0).to_numpy()
        if no_purchase.all() or not no_purchase.any():
            state = "no customer" if no_purchase.all() else "every customer"
            raise DataError(
                f"PotentialModel.fit: {state} bought in the training windows before "
                f"{end.date()}, so the chance of no purchase cannot be learned; use a different "
                "cutoff or horizon")
        exposure = y["days"].to_numpy(dtype="float64")
        self.base_rates_ = (float(np.maximum(y["spend"], 0).sum() / exposure.sum()),
                            float(y["purchases"].sum() / exposure.sum()))
        spend_base, purchase_base = self._bases(X)
        spend_target = np.maximum(y["spend"].to_numpy(), 0.0) / (exposure * spend_base)
        purchase_target = y["purchases"].to_numpy(dtype="float64") / (exposure * purchase_base)
        self.feature_names_ = list(X.columns)
        # predictions are capped at the highest per-day rates seen in training
        self.max_rates_ = (float(np.max(spend_target * spend_base)),
                           float(np.max(purchase_target * purchase_base)))
        self.bin_edges_ = quantile_thresholds(X)
        Xb = apply_thresholds(X, self.bin_edges_)
        with self._threads(len(X)):
            self.churn_model_ = self._boosting("classifier").fit(Xb, no_purchase)
            if self._two_part():
                buy = ~no_purchase
                self.spend_model_ = self._boosting("regressor").fit(
                    Xb[buy], spend_target[buy], sample_weight=(exposure * spend_base)[buy])
                self.purchases_model_ = self._boosting("regressor").fit(
                    Xb[buy], purchase_target[buy], sample_weight=(exposure * purchase_base)[buy])
            else:
                self.spend_model_ = self._boosting("regressor").fit(
                    Xb, spend_target, sample_weight=exposure * spend_base)
                self.purchases_model_ = self._boosting("regressor").fit(
                    Xb, purchase_target, sample_weight=exposure * purchase_base)
        self.horizon_days_ = horizon
        self.train_cutoffs_ = [c for c, _ in cuts]
        self.train_cutoff_ = cuts[0][0]
        self.cutoff_ = end
        self.n_customers_ = int(X.index.nunique())
        self.n_rows_ = len(X)
        self.no_purchase_rate_ = float(no_purchase.mean())
        return self

    def predict(self, tx: pd.DataFrame, as_of: Any = None,
                horizon_days: int | None = None, *,
                columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Predict the window after ``as_of`` for every customer who bought by then.

        Parameters
        ----------
        tx : DataFrame
            Canonical transactions; rows after ``as_of`` are ignored.
        as_of : date-like, optional
            Prediction date; defaults to the last date in ``tx``.
        horizon_days : int, optional
            Window length in days; defaults to ``horizon_days_``.
        columns : sequence of str, optional
            The columns of :data:`PREDICTION_COLUMNS` wanted (all by default); the models of
            the others are not run (at a million customers each model takes seconds).

        Returns
        -------
        DataFrame
            Indexed by ``customer_id`` (sorted) with ``predicted_purchases``,
            ``predicted_spend`` (net), ``p_no_purchase`` and ``p_alive`` (BG/NBD's probability
            that the customer is still active; NaN without stacking or where BG/NBD cannot be
            fitted).
        """
        check_is_fitted(self, "spend_model_")
        check_transactions(tx, "PotentialModel.predict", allow_empty=False)
        horizon = _whole(self.horizon_days_ if horizon_days is None else horizon_days,
                         "horizon_days", 1)
        as_of = (tx["timestamp"].max().normalize() if as_of is None
                 else as_day(as_of, "as_of", error=ArgumentError))
        known = _up_to(tx, as_of)
        if not (known["amount"] >= 0).any():
            raise DataError(f"PotentialModel.predict: no purchase on or before {as_of.date()}")
        X = self._design(known, daily_activity(known), as_of, horizon)[self.feature_names_]
        Xb = apply_thresholds(X, self.bin_edges_)
        classes = list(self.churn_model_.classes_)
        spend_base, purchase_base = self._bases(X)
        wanted = list(PREDICTION_COLUMNS) if columns is None else list(columns)
        unknown = [c for c in wanted if c not in PREDICTION_COLUMNS]
        if unknown:
            raise ArgumentError(f"PotentialModel.predict: unknown column(s) {unknown}; "
                                f"choose from {list(PREDICTION_COLUMNS)}")
        two_part = self._two_part()
        out = pd.DataFrame(index=X.index)
        with self._threads(len(X)):
            p_none = (self.churn_model_.predict_proba(Xb)[:, classes.index(True)]
                      if "p_no_purchase" in wanted or two_part else None)
            given: Any = 1.0 if p_none is None or not two_part else 1.0 - p_none
            if "predicted_purchases" in wanted:
                out["predicted_purchases"] = np.minimum(
                    self.purchases_model_.predict(Xb) * purchase_base * given,
                    self.max_rates_[1]) * horizon
            if "predicted_spend" in wanted:
                out["predicted_spend"] = np.minimum(
                    self.spend_model_.predict(Xb) * spend_base * given, self.max_rates_[0]
                ) * horizon
            if "p_no_purchase" in wanted:
                out["p_no_purchase"] = p_none
            if "p_alive" in wanted:
                out["p_alive"] = (X["bgnbd_p_alive"].to_numpy() if "bgnbd_p_alive" in X
                                  else np.full(len(X), np.nan))
        return out
