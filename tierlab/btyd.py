"""Buy-till-you-die models fitted by maximum likelihood: BG/NBD and Gamma-Gamma.

:class:`BetaGeoModel` (Fader, Hardie & Lee 2005) predicts purchases and the chance a customer is
still active from a ``frequency / recency / T`` summary (:func:`tierlab.features.btyd_summary`);
:class:`GammaGammaModel` predicts the average spend per purchase and, with a BG/NBD model, the
customer lifetime value. Both follow the scikit-learn estimator contract (``fit`` sets
``params_``, ``log_likelihood_``, ``standard_errors_``), optimize in log-space within bounds, and
are vectorized over customers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from tierlab.errors import DataError, SchemeError, did_you_mean
from tierlab.frames import require_columns

__all__ = ["BetaGeoModel", "GammaGammaModel", "PERIODS_PER_MONTH"]

#: Model time units per month for the CLV sum (the convention of lifetimes).
PERIODS_PER_MONTH: dict[str, float] = {"D": 30.0, "W": 4.345, "M": 1.0, "H": 30.0 * 24}
_QUAD_NODES = 128  # Gauss-Legendre nodes of the expected-purchases fallback
_LOG_BOUND = 15.0  # parameters are optimized as log(param) within [-15, 15]

# --------------------------------------------------------------------------------------------
# shared helpers for the probabilistic models
# --------------------------------------------------------------------------------------------
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


class _LogParamModel(BaseEstimator):
    """Shared fitting of the BTYD models: maximum likelihood over the log of the parameters.

    Subclasses name their parameters in ``PARAM_NAMES`` and call :meth:`_fit_params`.
    """

    PARAM_NAMES: tuple[str, ...] = ()

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef

    def _fit_params(self, loglik: Callable[..., np.ndarray], w: np.ndarray,
                    theta0: np.ndarray, n_customers: int):
        """Maximize ``w @ loglik(*params)`` (an L2 penalty on the parameters if asked).

        Sets ``params_``, ``log_likelihood_``, ``standard_errors_``, ``n_customers_`` and
        ``converged_``; returns self.
        """
        n = float(w.sum())
        penalty = float(self.penalizer_coef)

        def total_nll(theta: np.ndarray) -> float:
            return float(-(w @ loglik(*np.exp(theta))))

        def objective(theta: np.ndarray) -> float:
            val = total_nll(theta) / n + penalty * float(np.sum(np.exp(theta) ** 2))
            return val if np.isfinite(val) else 1e100

        res = _minimize_log(objective, theta0, self.PARAM_NAMES, type(self).__name__)
        theta = np.asarray(res.x, dtype="float64")
        self.params_ = dict(zip(self.PARAM_NAMES, np.exp(theta).tolist(), strict=True))
        self.log_likelihood_ = -total_nll(theta)
        self.standard_errors_ = _standard_errors(total_nll, theta, self.PARAM_NAMES)
        self.n_customers_ = n_customers
        self.converged_ = bool(res.success)
        return self


class BetaGeoModel(_LogParamModel):
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
        require_columns(summary, ("frequency", "recency", "T"), "BetaGeoModel.log_likelihood")
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
        require_columns(summary, ("frequency", "recency", "T"), "BetaGeoModel.fit")
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
        rate = max(float(x.sum()) / max(float(big_t.sum()), 1e-12), 1e-12)
        return self._fit_params(
            lambda r, alpha, a, b: _bgnbd_loglik(r, alpha, a, b, ux, utx, ut), w,
            np.log([1.0, 1.0 / rate, 1.0, 1.0]), len(x))

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
    require_columns(summary, ("frequency", "monetary_value"), func)
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


class GammaGammaModel(_LogParamModel):
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
        # p = 1, q = 2 puts the population mean spend p*v/(q-1) at v = the sample mean
        return self._fit_params(lambda p, q, v: _gg_loglik(p, q, v, ux, um), w,
                                np.log([1.0, 2.0, float(np.mean(m))]), len(x))

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
        require_columns(summary, ("frequency", "recency", "T", "monetary_value"),
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
