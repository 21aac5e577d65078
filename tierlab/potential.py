"""Customer potential and churn: calibration/holdout splits, BG/NBD, Gamma-Gamma, supervised.

The workflow of SPEC §4:

1. :func:`calibration_holdout` splits the transactions at a cutoff date into per-customer
   calibration features (what was known at the cutoff) and holdout outcomes (what happened
   afterwards).
2. Probabilistic models fitted by maximum likelihood on the calibration summary:
   :class:`BetaGeoModel` (BG/NBD, Fader, Hardie & Lee 2005) predicts purchases and the chance a
   customer is still active, :class:`GammaGammaModel` predicts the average spend per purchase and,
   with a BG/NBD model, the customer lifetime value.
3. :class:`PotentialModel`, a supervised scikit-learn model trained on an *earlier*
   calibration/holdout split, predicts next-window spend, purchases and the chance of no purchase.
4. :func:`evaluate_potential` judges BG/NBD, the supervised model and a naive last-window
   baseline on the same holdout; :func:`flag_customers` marks low-tier customers with high
   potential ("rising stars") and top-tier customers at risk.

Everything is vectorized over customers; loops run over model parameters, months or deciles only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from tierlab.errors import DataError, SchemeError, did_you_mean
from tierlab.features import _check_tx, as_day, btyd_summary, rfm

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
#: Model time units per month for the CLV sum (the convention of lifetimes).
PERIODS_PER_MONTH: dict[str, float] = {"D": 30.0, "W": 4.345, "M": 1.0, "H": 30.0 * 24}

_QUAD_NODES = 128  # Gauss-Legendre nodes of the expected-purchases fallback
_SMALL_FIT = 20_000  # below this many customers gradient boosting runs on one thread
_LOG_BOUND = 15.0  # parameters are optimized as log(param) within [-15, 15]
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
    _check_tx(tx, "calibration_holdout", allow_empty=False)
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
# shared helpers for the probabilistic models
# --------------------------------------------------------------------------------------------
def _require_columns(frame: pd.DataFrame, columns: Sequence[str], func: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{func}: expected a DataFrame, got {type(frame).__name__}")
    for col in columns:
        if col not in frame.columns:
            raise DataError(
                f"{func}: column {col!r} is missing{did_you_mean(col, frame.columns)}; the "
                f"summary needs {list(columns)} (see tierlab.features.btyd_summary)"
            )


def _first_ids(index: pd.Index | None, mask: np.ndarray, k: int = 3) -> str:
    where = np.flatnonzero(mask)[:k]
    labels = [str(index[i]) for i in where] if index is not None else [str(i) for i in where]
    more = " …" if mask.sum() > k else ""
    return ", ".join(labels) + more


def _btyd_arrays(frequency, recency, T, func: str,
                 index: pd.Index | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated float arrays (broadcast) of frequency, recency and T."""
    x, t_x, big_t = np.broadcast_arrays(
        np.asarray(frequency, dtype="float64"),
        np.asarray(recency, dtype="float64"),
        np.asarray(T, dtype="float64"),
    )
    for name, arr in (("frequency", x), ("recency", t_x), ("T", big_t)):
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            raise DataError(
                f"{func}: column {name!r} must be finite and >= 0; {int(bad.sum())} value(s) are "
                f"not (customer(s) {_first_ids(index, bad.ravel())})"
            )
    bad = t_x > big_t * (1 + 1e-12) + 1e-12
    if bad.any():
        raise DataError(
            f"{func}: recency exceeds T for {int(bad.sum())} customer(s) "
            f"({_first_ids(index, bad.ravel())}); recency is the time from the first to the last "
            "purchase and T the time from the first purchase to the end of calibration, so "
            "recency <= T; rebuild the summary with tierlab.features.btyd_summary"
        )
    return x.astype("float64"), t_x.astype("float64"), big_t.astype("float64")


def _series_index(*values) -> pd.Index | None:
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def _wrap(result: np.ndarray, index: pd.Index | None, name: str):
    if index is not None and result.shape == (len(index),):
        return pd.Series(result, index=index, name=name)
    if result.ndim == 0:
        return float(result)
    return result


def _minimize_log(neg_ll: Callable[[np.ndarray], float], x0: np.ndarray,
                  names: Sequence[str], model: str) -> optimize.OptimizeResult:
    """L-BFGS-B on log parameters; warns when it fails or a parameter sits on a bound."""
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    res = optimize.minimize(neg_ll, x0, method="L-BFGS-B", bounds=bounds)
    if not res.success:
        # a second start from the first result usually finishes a stalled line search
        res2 = optimize.minimize(neg_ll, res.x, method="L-BFGS-B", bounds=bounds)
        if res2.fun <= res.fun:
            res = res2
    if not res.success:
        warnings.warn(
            f"{model}: the maximum-likelihood fit did not converge ({res.message}); the "
            "parameters may be inaccurate — check the summary (enough repeat buyers?)",
            UserWarning,
            stacklevel=3,
        )
    at_bound = [n for n, v in zip(names, res.x, strict=True) if abs(v) > _LOG_BOUND - 1e-3]
    if at_bound:
        warnings.warn(
            f"{model}: parameter(s) {at_bound} reached the search bound exp(±{_LOG_BOUND:g}); "
            "the data barely identify them",
            UserWarning,
            stacklevel=3,
        )
    return res


def _standard_errors(neg_total_ll: Callable[[np.ndarray], float], theta: np.ndarray,
                     names: Sequence[str], step: float = 1e-3) -> dict[str, float]:
    """Standard errors of exp(theta) from the observed information (delta method).

    The Hessian of the total negative log-likelihood in log-parameter space is taken by
    central differences; NaN where it is not positive definite.
    """
    k = len(theta)
    hess = np.empty((k, k))
    eye = np.eye(k) * step
    f0 = neg_total_ll(theta)
    for i in range(k):  # loop over parameters, not customers
        for j in range(i, k):
            if i == j:
                val = (neg_total_ll(theta + eye[i]) - 2 * f0
                       + neg_total_ll(theta - eye[i])) / step**2
            else:
                val = (
                    neg_total_ll(theta + eye[i] + eye[j]) - neg_total_ll(theta + eye[i] - eye[j])
                    - neg_total_ll(theta - eye[i] + eye[j]) + neg_total_ll(theta - eye[i] - eye[j])
                ) / (4 * step**2)
            hess[i, j] = hess[j, i] = val
    try:
        cov = np.linalg.inv(hess)
        var = np.diag(cov)
        se_log = np.where(var > 0, np.sqrt(np.abs(var)), np.nan)
        if not np.all(np.linalg.eigvalsh(hess) > 0):
            se_log = np.full(k, np.nan)
    except np.linalg.LinAlgError:
        se_log = np.full(k, np.nan)
    return {n: float(np.exp(t) * s) for n, t, s in zip(names, theta, se_log, strict=True)}


def _compress(columns: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the stacked columns and their counts (likelihoods weight by count)."""
    stacked = np.column_stack(columns)
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    return [uniq[:, i] for i in range(uniq.shape[1])], counts.astype("float64")


def _param_values(params, names: Sequence[str], model: str) -> tuple[float, ...]:
    if isinstance(params, Mapping):
        missing = [n for n in names if n not in params]
        if missing:
            raise SchemeError(f"{model}: parameter(s) {missing} missing; give {list(names)}")
        values = tuple(float(params[n]) for n in names)
    else:
        values = tuple(float(v) for v in params)
        if len(values) != len(names):
            raise SchemeError(f"{model}: expected {len(names)} parameters {list(names)}")
    bad = [n for n, v in zip(names, values, strict=True) if not (np.isfinite(v) and v > 0)]
    if bad:
        raise SchemeError(f"{model}: parameter(s) {bad} must be positive and finite")
    return values


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------
def _bgnbd_loglik(r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray,
                  big_t: np.ndarray) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6)."""
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (special.gammaln(a + b) + special.gammaln(b + x)
          - special.gammaln(b) - special.gammaln(a + b + x))
    a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    a4 = np.full_like(a3, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    return a1 + a2 + np.logaddexp(a3, a4)


class BetaGeoModel(BaseEstimator):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    While active, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``
    (shape ``r``, rate ``alpha``); after each repeat purchase they drop out for good with
    probability ``p ~ Beta(a, b)``. Parameters are fitted by maximum likelihood with L-BFGS-B on
    the log parameters (so they stay positive), on the unique (frequency, recency, T) rows
    weighted by their counts.

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters added to the mean negative log-likelihood (0 = plain
        maximum likelihood; a small value such as 0.001 steadies fits on little data).

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "a", "b"}``; ``alpha`` is in the summary's time unit.
    standard_errors_ : dict
        Asymptotic standard errors (observed information, delta method; NaN if unavailable).
    log_likelihood_ : float
        Total log-likelihood at ``params_`` (without the penalty).
    n_customers_ : int
        Customers in the fitted summary.
    converged_ : bool
        Whether the optimizer reported success.

    Examples
    --------
    >>> summary = pd.DataFrame({"frequency": [0, 2, 5, 1, 0, 3], "recency": [0, 30, 80, 10, 0, 70],
    ...                         "T": [90, 90, 95, 60, 40, 100]})
    >>> model = BetaGeoModel().fit(summary)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    """

    PARAM_NAMES: tuple[str, ...] = ("r", "alpha", "a", "b")

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef

    @staticmethod
    def log_likelihood(params, summary: pd.DataFrame, *, individual: bool = False):
        """BG/NBD log-likelihood of a summary under given parameters.

        Parameters
        ----------
        params : mapping or sequence
            ``{"r", "alpha", "a", "b"}`` or the four values in that order.
        summary : DataFrame
            Columns ``frequency``, ``recency``, ``T``.
        individual : bool
            Return the per-customer values (a Series) instead of the total.

        Returns
        -------
        float or Series
        """
        r, alpha, a, b = _param_values(params, BetaGeoModel.PARAM_NAMES, "BetaGeoModel")
        _require_columns(summary, ("frequency", "recency", "T"), "BetaGeoModel.log_likelihood")
        x, t_x, big_t = _btyd_arrays(summary["frequency"], summary["recency"], summary["T"],
                                     "BetaGeoModel.log_likelihood", summary.index)
        ll = _bgnbd_loglik(r, alpha, a, b, x, t_x, big_t)
        if individual:
            return pd.Series(ll, index=summary.index, name="log_likelihood")
        return float(ll.sum())

    def fit(self, summary: pd.DataFrame, y=None) -> BetaGeoModel:
        """Fit the parameters by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame
            One row per customer with ``frequency`` (repeat purchases), ``recency`` and ``T``
            in one time unit, e.g. from :func:`tierlab.features.btyd_summary` or
            :func:`calibration_holdout`.
        y : None
            Ignored.

        Returns
        -------
        BetaGeoModel
            The fitted model.

        Raises
        ------
        DataError
            Missing columns, negative or non-finite values, recency > T, or no repeat buyer
            (then the dropout process cannot be estimated).
        """
        _require_columns(summary, ("frequency", "recency", "T"), "BetaGeoModel.fit")
        x, t_x, big_t = _btyd_arrays(summary["frequency"], summary["recency"], summary["T"],
                                     "BetaGeoModel.fit", summary.index)
        if len(x) == 0:
            raise DataError("BetaGeoModel.fit: the summary has no rows")
        if not (x > 0).any():
            raise DataError(
                "BetaGeoModel.fit: no repeat buyers (every frequency is 0), so purchase rates and "
                "dropout cannot be estimated; use a longer calibration period or more customers"
            )
        if not (big_t > 0).any():
            raise DataError("BetaGeoModel.fit: every T is 0; the calibration period has no length")
        (ux, utx, ut), w = _compress([x, t_x, big_t])
        n = float(w.sum())
        penalty = float(self.penalizer_coef)

        def total_nll(theta: np.ndarray) -> float:
            r, alpha, a, b = np.exp(theta)
            return float(-(w @ _bgnbd_loglik(r, alpha, a, b, ux, utx, ut)))

        def objective(theta: np.ndarray) -> float:
            val = total_nll(theta) / n + penalty * float(np.sum(np.exp(theta) ** 2))
            return val if np.isfinite(val) else 1e100

        rate = max(float(x.sum()) / max(float(big_t.sum()), 1e-12), 1e-12)
        theta0 = np.log([1.0, 1.0 / rate, 1.0, 1.0])
        res = _minimize_log(objective, theta0, self.PARAM_NAMES, "BetaGeoModel")
        theta = np.asarray(res.x, dtype="float64")
        self.params_ = dict(zip(self.PARAM_NAMES, np.exp(theta).tolist(), strict=True))
        self.log_likelihood_ = -total_nll(theta)
        self.standard_errors_ = _standard_errors(total_nll, theta, self.PARAM_NAMES)
        self.n_customers_ = len(x)
        self.converged_ = bool(res.success)
        return self

    def _params(self) -> tuple[float, float, float, float]:
        check_is_fitted(self, "params_")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def _alive_logit(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """Log odds of being inactive: log(a / (b+x-1)) + (r+x) log((alpha+T)/(alpha+t_x))."""
        r, alpha, a, b = self._params()
        repeat = x > 0
        out = np.full(x.shape, -np.inf)
        xr = x[repeat]
        out[repeat] = (np.log(a) - np.log(b + xr - 1)
                       + (r + xr) * (np.log(alpha + big_t[repeat]) - np.log(alpha + t_x[repeat])))
        return out

    def probability_alive(self, frequency, recency, T):
        """Probability that a customer is still active at the end of calibration.

        ``P(alive) = 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))**(r+x))`` for ``x > 0`` and
        exactly 1 for ``x == 0`` (in BG/NBD dropout only happens right after a repeat purchase).

        Parameters
        ----------
        frequency, recency, T : array-like or Series
            Broadcastable; a Series input gives a Series with its index.

        Returns
        -------
        float, ndarray or Series
        """
        index = _series_index(frequency, recency, T)
        x, t_x, big_t = _btyd_arrays(frequency, recency, T, "probability_alive", index)
        return _wrap(special.expit(-self._alive_logit(x, t_x, big_t)), index, "p_alive")

    def _euler(self, t: np.ndarray, x: np.ndarray, big_t: np.ndarray, a: float) -> np.ndarray:
        """E[Y(t) | alive] from the hypergeometric closed form (Euler-transformed)."""
        r, alpha, _, b = self._params()
        z = t / (alpha + big_t + t)
        # Euler's transformation 2F1(A,B;C;z) = (1-z)**(C-A-B) 2F1(C-A,C-B;C;z) folds the factor
        # ((alpha+T)/(alpha+T+t))**(r+x) of the textbook formula into (1-z)**(a-1): no overflow of
        # 2F1 for large x, no 0 * inf, and the series converges faster as x (hence C) grows.
        c = a + b + x - 1
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            hyp = special.hyp2f1(a + b - 1 - r, a - 1, c, z)
            bracket = 1 - np.exp((1 - a) * np.log1p(t / (alpha + big_t))) * hyp
            return c / (a - 1) * bracket

    def _quadrature(self, t: np.ndarray, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """E[Y(t) | alive] by quadrature over the posterior of the dropout probability.

        Given alive, ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b+x)`` independently and
        ``E[Y(t) | lambda, p] = (1 - exp(-lambda p t)) / p``, so
        ``E[Y(t) | alive] = E_p[(1 - (1 + p t/(alpha+T))**-(r+x)) / p]``: a smooth bounded
        integrand, integrated over Beta quantiles with Gauss-Legendre nodes (relative error
        about 1e-6). Used where the closed form fails (large parameters, ``z`` near 1).
        """
        r, alpha, a, b = self._params()
        nodes, weights = np.polynomial.legendre.leggauss(_QUAD_NODES)
        u = (nodes + 1) / 2
        p = special.betaincinv(a, (b + x)[:, None], u[None, :])
        k = (r + x)[:, None]
        scale = (t / (alpha + big_t))[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(p > 0, -np.expm1(-k * np.log1p(p * scale)) / p, k * scale)
        return g @ (weights / 2)

    def _expected_if_alive(self, t: np.ndarray, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        r, alpha, a, _ = self._params()
        delta = 1e-5
        if abs(a - 1) < delta:  # removable singularity: interpolate between a = 1 ± delta
            lo = self._euler(t, x, big_t, 1 - delta)
            hi = self._euler(t, x, big_t, 1 + delta)
            cond = lo + (a - 1 + delta) / (2 * delta) * (hi - lo)
        else:
            cond = self._euler(t, x, big_t, a)
        # E[Y(t) | alive] lies in [0, (r+x) t / (alpha+T)] (the no-dropout Poisson mean); a
        # value outside (or NaN/inf) means 2F1 lost accuracy: recompute those by quadrature
        ceiling = (r + x) * t / (alpha + big_t)
        bad = ~np.isfinite(cond) | (cond < -1e-12 * ceiling) | (cond > ceiling * (1 + 1e-8))
        if bad.any():
            cond = cond.copy()
            cond[bad] = self._quadrature(t[bad], x[bad], big_t[bad])
        return np.clip(cond, 0.0, ceiling)

    def expected_purchases(self, t, frequency, recency, T):
        """Expected number of purchases in the next ``t`` time units, given the history.

        Fader, Hardie & Lee (2005), eq. 10::

            E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1)
                * [1 - ((alpha+T)/(alpha+T+t))**(r+x) * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
                / (1 + [x > 0] * a/(b+x-1) * ((alpha+T)/(alpha+t_x))**(r+x))

        evaluated through Euler's transformation of the Gauss hypergeometric function for
        numerical stability (see the source); near the removable singularity at ``a == 1`` the
        value is interpolated between ``a = 1 ± 1e-5``.  Where ``scipy.special.hyp2f1`` fails or
        loses accuracy (very large parameters with ``t`` long against ``alpha + T``), the same
        expectation is computed by quadrature over the posterior dropout probability.

        Parameters
        ----------
        t : float or array-like
            Length of the prediction window, in the summary's time unit.
        frequency, recency, T : array-like or Series
            Calibration summary (broadcast together with ``t``).

        Returns
        -------
        float, ndarray or Series
        """
        index = _series_index(frequency, recency, T, t)
        x, t_x, big_t = _btyd_arrays(frequency, recency, T, "expected_purchases", index)
        t_arr = np.asarray(t, dtype="float64")
        if not np.all(np.isfinite(t_arr) & (t_arr >= 0)):
            raise SchemeError("expected_purchases: t must be finite and >= 0")
        shape = np.broadcast_shapes(t_arr.shape, x.shape)
        t_arr, x, t_x, big_t = (np.broadcast_to(v, shape).ravel()
                                for v in (t_arr, x, t_x, big_t))
        cond = self._expected_if_alive(t_arr, x, big_t)
        p_alive = special.expit(-self._alive_logit(x, t_x, big_t))
        result = np.where(t_arr == 0, 0.0, cond * p_alive).reshape(shape)
        return _wrap(result, index, "expected_purchases")

    def probability_no_purchase(self, t, frequency, recency, T):
        """Probability of no purchase in the next ``t`` time units, given the history.

        A customer makes no purchase if they are inactive, or active with no Poisson event in
        ``t``; an active customer's rate has the posterior ``Gamma(r+x, alpha+T)``::

            P = 1 - P(alive) + P(alive) * ((alpha+T)/(alpha+T+t))**(r+x)

        Parameters
        ----------
        t : float or array-like
            Length of the window, in the summary's time unit.
        frequency, recency, T : array-like or Series
            Calibration summary.

        Returns
        -------
        float, ndarray or Series
        """
        index = _series_index(frequency, recency, T, t)
        x, t_x, big_t = _btyd_arrays(frequency, recency, T, "probability_no_purchase", index)
        t_arr = np.asarray(t, dtype="float64")
        if not np.all(np.isfinite(t_arr) & (t_arr >= 0)):
            raise SchemeError("probability_no_purchase: t must be finite and >= 0")
        t_arr, x, t_x, big_t = np.broadcast_arrays(t_arr, x, t_x, big_t)
        r, alpha, _, _ = self._params()
        p_alive = special.expit(-self._alive_logit(x, t_x, big_t))
        none_if_alive = np.exp(-(r + x) * np.log1p(t_arr / (alpha + big_t)))
        return _wrap(1 - p_alive + p_alive * none_if_alive, index, "p_no_purchase")


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------
def _gg_loglik(p: float, q: float, v: float, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of mean spend ``m`` over ``x`` purchases."""
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v))


def _gg_arrays(summary: pd.DataFrame, func: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Repeat buyers' frequency and monetary value, validated (positive spend)."""
    _require_columns(summary, ("frequency", "monetary_value"), func)
    x = summary["frequency"].to_numpy(dtype="float64")
    m = summary["monetary_value"].to_numpy(dtype="float64")
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        raise DataError(
            f"{func}: 'frequency' must be finite and >= 0 (customer(s) "
            f"{_first_ids(summary.index, bad)})"
        )
    repeat = x > 0
    if not repeat.any():
        raise DataError(
            f"{func}: no repeat buyers (frequency > 0); Gamma-Gamma models the spend of repeat "
            "purchases, so it needs customers with at least two purchase periods"
        )
    bad = repeat & ~(np.isfinite(m) & (m > 0))
    if bad.any():
        raise DataError(
            f"{func}: 'monetary_value' must be positive for repeat buyers; {int(bad.sum())} have "
            f"zero, negative or missing spend (customer(s) {_first_ids(summary.index, bad)}). "
            "Drop them first, e.g. summary[summary['monetary_value'] > 0]"
        )
    return x[repeat], m[repeat], summary.index[repeat]


class GammaGammaModel(BaseEstimator):
    """Gamma-Gamma model of average spend per purchase (Fader, Hardie & Lee 2005b).

    Each spend of a customer is ``Gamma(p, nu)``; across customers ``nu ~ Gamma(q, v)``. It is
    fitted on repeat buyers (``frequency > 0``) with their mean repeat spend ``monetary_value``
    and assumes spend is independent of purchase frequency.

    Parameters
    ----------
    penalizer_coef : float
        L2 penalty on the parameters added to the mean negative log-likelihood.

    Attributes
    ----------
    params_ : dict
        ``{"p", "q", "v"}``.
    standard_errors_ : dict
        Asymptotic standard errors (NaN if unavailable).
    log_likelihood_ : float
        Total log-likelihood at ``params_`` over the repeat buyers.
    n_customers_ : int
        Repeat buyers used in the fit.
    converged_ : bool
        Whether the optimizer reported success.
    """

    PARAM_NAMES: tuple[str, ...] = ("p", "q", "v")

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef

    @staticmethod
    def log_likelihood(params, summary: pd.DataFrame, *, individual: bool = False):
        """Gamma-Gamma log-likelihood of the repeat buyers of a summary.

        Parameters
        ----------
        params : mapping or sequence
            ``{"p", "q", "v"}`` or the three values in that order.
        summary : DataFrame
            Columns ``frequency`` and ``monetary_value``; rows with ``frequency == 0`` are
            ignored.
        individual : bool
            Return the per-customer values (a Series over the repeat buyers).

        Returns
        -------
        float or Series
        """
        p, q, v = _param_values(params, GammaGammaModel.PARAM_NAMES, "GammaGammaModel")
        x, m, idx = _gg_arrays(summary, "GammaGammaModel.log_likelihood")
        ll = _gg_loglik(p, q, v, x, m)
        if individual:
            return pd.Series(ll, index=idx, name="log_likelihood")
        return float(ll.sum())

    def fit(self, summary: pd.DataFrame, y=None) -> GammaGammaModel:
        """Fit ``p, q, v`` by maximum likelihood on the repeat buyers.

        Parameters
        ----------
        summary : DataFrame
            Columns ``frequency`` and ``monetary_value`` (mean spend per repeat purchase);
            customers with ``frequency == 0`` are ignored.
        y : None
            Ignored.

        Returns
        -------
        GammaGammaModel
            The fitted model.

        Raises
        ------
        DataError
            No repeat buyers, or a repeat buyer with zero, negative or missing spend.
        """
        x, m, _ = _gg_arrays(summary, "GammaGammaModel.fit")
        (ux, um), w = _compress([x, m])
        n = float(w.sum())
        penalty = float(self.penalizer_coef)

        def total_nll(theta: np.ndarray) -> float:
            p, q, v = np.exp(theta)
            return float(-(w @ _gg_loglik(p, q, v, ux, um)))

        def objective(theta: np.ndarray) -> float:
            val = total_nll(theta) / n + penalty * float(np.sum(np.exp(theta) ** 2))
            return val if np.isfinite(val) else 1e100

        # p = 1, q = 2 puts the population mean spend p*v/(q-1) at v = the sample mean
        theta0 = np.log([1.0, 2.0, float(np.mean(m))])
        res = _minimize_log(objective, theta0, self.PARAM_NAMES, "GammaGammaModel")
        theta = np.asarray(res.x, dtype="float64")
        self.params_ = dict(zip(self.PARAM_NAMES, np.exp(theta).tolist(), strict=True))
        self.log_likelihood_ = -total_nll(theta)
        self.standard_errors_ = _standard_errors(total_nll, theta, self.PARAM_NAMES)
        self.n_customers_ = len(x)
        self.converged_ = bool(res.success)
        return self

    def expected_spend(self, frequency, monetary_value):
        """Conditional expected average spend per purchase.

        ``E[M | x, m_x] = p * (v + x * m_x) / (p * x + q - 1)``: a weighted mean of the
        population mean ``p*v/(q-1)`` and the customer's own mean ``m_x``. For ``x == 0`` it is
        the population mean (NaN if ``q <= 1``, where that mean does not exist).

        Parameters
        ----------
        frequency, monetary_value : array-like or Series
            Repeat purchases and mean repeat spend.

        Returns
        -------
        float, ndarray or Series
        """
        check_is_fitted(self, "params_")
        p, q, v = (self.params_[k] for k in self.PARAM_NAMES)
        index = _series_index(frequency, monetary_value)
        x, m = np.broadcast_arrays(np.asarray(frequency, dtype="float64"),
                                   np.asarray(monetary_value, dtype="float64"))
        m = np.where(x > 0, m, 0.0)
        denom = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(denom > 0, p * (v + x * m) / denom, np.nan)
        return _wrap(out, index, "expected_spend")

    def customer_lifetime_value(self, bgnbd: BetaGeoModel, summary: pd.DataFrame, *,
                                horizon: int = 12, discount_rate: float = 0.01,
                                time_unit: str = "D") -> pd.Series:
        """Discounted expected spend over the next ``horizon`` months (as lifetimes computes it).

        ``CLV = sum_{k=1..horizon} E[spend] * (E[Y(k)] - E[Y(k-1)]) / (1 + discount_rate)**k``
        where ``E[Y(k)]`` is the BG/NBD expected purchases in the next ``k`` months and
        ``E[spend]`` the Gamma-Gamma conditional expected spend per purchase.

        Parameters
        ----------
        bgnbd : BetaGeoModel
            A fitted BG/NBD model (same time unit as the summary).
        summary : DataFrame
            Columns ``frequency``, ``recency``, ``T``, ``monetary_value``.
        horizon : int
            Months ahead.
        discount_rate : float
            Monthly discount rate (0.01 = 1 % a month).
        time_unit : {"D", "W", "M", "H"}
            Time unit of the summary: a month is 30 days, 4.345 weeks, 1 month or 720 hours.

        Returns
        -------
        Series
            ``clv`` per customer, indexed like ``summary``.
        """
        check_is_fitted(self, "params_")
        if time_unit not in PERIODS_PER_MONTH:
            raise SchemeError(
                f"customer_lifetime_value: time_unit={time_unit!r} is not one of "
                f"{list(PERIODS_PER_MONTH)}{did_you_mean(time_unit, PERIODS_PER_MONTH)}"
            )
        if int(horizon) != horizon or horizon < 1:
            raise SchemeError(f"customer_lifetime_value: horizon={horizon!r} must be a whole "
                              "number of months >= 1")
        if not discount_rate > -1:
            raise SchemeError("customer_lifetime_value: discount_rate must be > -1")
        _require_columns(summary, ("frequency", "recency", "T", "monetary_value"),
                         "customer_lifetime_value")
        x, t_x, big_t = _btyd_arrays(summary["frequency"], summary["recency"], summary["T"],
                                     "customer_lifetime_value", summary.index)
        spend = np.asarray(self.expected_spend(x, summary["monetary_value"].to_numpy(float)))
        factor = PERIODS_PER_MONTH[time_unit]
        clv = np.zeros(len(x))
        previous = np.zeros(len(x))
        for month in range(1, int(horizon) + 1):  # loop over months, vectorized over customers
            cumulative = np.asarray(bgnbd.expected_purchases(month * factor, x, t_x, big_t))
            clv += spend * (cumulative - previous) / (1 + discount_rate) ** month
            previous = cumulative
        return pd.Series(clv, index=summary.index, name="clv")


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
        _check_tx(tx, "PotentialModel.fit", allow_empty=False)
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
        _check_tx(tx, "PotentialModel.predict", allow_empty=False)
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
    _require_columns(predictions, ("predicted_spend", "p_no_purchase"), "flag_customers")
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
