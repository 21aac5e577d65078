"""Buy-till-you-die models fitted by maximum likelihood: BG/NBD (here) and Gamma-Gamma.

:class:`BetaGeoModel` (Fader, Hardie & Lee 2005) predicts purchases and the chance a customer is
still active from a ``frequency / recency / T`` summary (:func:`tierlab.features.btyd_summary`);
:class:`GammaGammaModel` predicts the average spend per purchase and, with a BG/NBD model, the
customer lifetime value (defined in :mod:`tierlab.gamma_gamma`, re-exported here). Both follow
the scikit-learn estimator contract (``fit`` sets ``params_``, ``log_likelihood_``,
``standard_errors_``), optimize in log-space within bounds (:mod:`tierlab.btyd_common`), and are
vectorized over customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special
from sklearn.utils.validation import check_is_fitted

from tierlab.btyd_common import (
    LogParamModel,
    btyd_arrays,
    compress_rows,
    param_values,
    require_columns,
    series_index,
    wrap_result,
)
from tierlab.errors import ArgumentError, DataError
from tierlab.gamma_gamma import PERIODS_PER_MONTH, GammaGammaModel

__all__ = ["BetaGeoModel", "GammaGammaModel", "PERIODS_PER_MONTH"]

_QUAD_NODES = 128  # Gauss-Legendre nodes of the expected-purchases fallback


def _bgnbd_terms(r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray,
                 big_t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The BG/NBD log-likelihood as ``head + log(exp(a3) + exp(a4))`` (``a4 = -inf`` at x = 0).

    Shared by :func:`_bgnbd_loglik` and :func:`_bgnbd_loglik_grad`.
    """
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (special.gammaln(a + b) + special.gammaln(b + x)
          - special.gammaln(b) - special.gammaln(a + b + x))
    a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    a4 = np.full_like(a3, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    return a1 + a2, a3, a4


def _bgnbd_loglik(r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray,
                  big_t: np.ndarray) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6)."""
    head, a3, a4 = _bgnbd_terms(r, alpha, a, b, x, t_x, big_t)
    return head + np.logaddexp(a3, a4)


def _bgnbd_loglik_grad(r: float, alpha: float, a: float, b: float, x: np.ndarray,
                       t_x: np.ndarray, big_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_bgnbd_loglik` and its gradient in ``(r, alpha, a, b)`` (shape ``(4, n)``).

    The gradient of the log-sum is that of each term weighted by its share
    ``exp(a_i - tail)``; ``a4`` is absent (share 0) without repeats.
    """
    dg = special.digamma
    head, a3, a4 = _bgnbd_terms(r, alpha, a, b, x, t_x, big_t)
    tail = np.logaddexp(a3, a4)
    s3, s4 = np.exp(a3 - tail), np.exp(a4 - tail)
    log_at = np.log(alpha + t_x)
    repeat = x > 0
    grad = np.empty((4, len(x)))
    grad[0] = dg(r + x) - dg(r) + np.log(alpha) - s3 * np.log(alpha + big_t) - s4 * log_at
    grad[1] = r / alpha - s3 * (r + x) / (alpha + big_t) - s4 * (r + x) / (alpha + t_x)
    d_a4_b = np.zeros_like(a3)
    d_a4_b[repeat] = -1.0 / (b + x[repeat] - 1)
    grad[2] = dg(a + b) - dg(a + b + x) + s4 / a
    grad[3] = dg(a + b) + dg(b + x) - dg(b) - dg(a + b + x) + s4 * d_a4_b
    return head + tail, grad


class BetaGeoModel(LogParamModel):
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
        r, alpha, a, b = param_values(params, BetaGeoModel.PARAM_NAMES, "BetaGeoModel")
        require_columns(summary, ("frequency", "recency", "T"), "BetaGeoModel.log_likelihood")
        x, t_x, big_t = btyd_arrays(summary["frequency"], summary["recency"], summary["T"],
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
        x, t_x, big_t = btyd_arrays(summary["frequency"], summary["recency"], summary["T"],
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
        (ux, utx, ut), w = compress_rows([x, t_x, big_t])
        rate = max(float(x.sum()) / max(float(big_t.sum()), 1e-12), 1e-12)
        return self._fit_params(
            lambda r, alpha, a, b: _bgnbd_loglik(r, alpha, a, b, ux, utx, ut), w,
            np.log([1.0, 1.0 / rate, 1.0, 1.0]), len(x),
            gradient=lambda r, alpha, a, b: _bgnbd_loglik_grad(r, alpha, a, b, ux, utx, ut))

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
        index = series_index(frequency, recency, T)
        x, t_x, big_t = btyd_arrays(frequency, recency, T, "probability_alive", index)
        return wrap_result(special.expit(-self._alive_logit(x, t_x, big_t)), index, "p_alive")

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
        index = series_index(frequency, recency, T, t)
        x, t_x, big_t = btyd_arrays(frequency, recency, T, "expected_purchases", index)
        t_arr = np.asarray(t, dtype="float64")
        if not np.all(np.isfinite(t_arr) & (t_arr >= 0)):
            raise ArgumentError("expected_purchases: t must be finite and >= 0")
        shape = np.broadcast_shapes(t_arr.shape, x.shape)
        t_arr, x, t_x, big_t = (np.broadcast_to(v, shape).ravel()
                                for v in (t_arr, x, t_x, big_t))
        cond = self._expected_if_alive(t_arr, x, big_t)
        p_alive = special.expit(-self._alive_logit(x, t_x, big_t))
        result = np.where(t_arr == 0, 0.0, cond * p_alive).reshape(shape)
        return wrap_result(result, index, "expected_purchases")

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
        index = series_index(frequency, recency, T, t)
        x, t_x, big_t = btyd_arrays(frequency, recency, T, "probability_no_purchase", index)
        t_arr = np.asarray(t, dtype="float64")
        if not np.all(np.isfinite(t_arr) & (t_arr >= 0)):
            raise ArgumentError("probability_no_purchase: t must be finite and >= 0")
        t_arr, x, t_x, big_t = np.broadcast_arrays(t_arr, x, t_x, big_t)
        r, alpha, _, _ = self._params()
        p_alive = special.expit(-self._alive_logit(x, t_x, big_t))
        none_if_alive = np.exp(-(r + x) * np.log1p(t_arr / (alpha + big_t)))
        return wrap_result(1 - p_alive + p_alive * none_if_alive, index, "p_no_purchase")
