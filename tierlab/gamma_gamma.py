"""Gamma-Gamma model of average spend per purchase, fitted by maximum likelihood."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special
from sklearn.utils.validation import check_is_fitted

from tierlab.btyd_common import (
    LogParamModel,
    btyd_arrays,
    compress_rows,
    first_ids,
    param_values,
    require_columns,
    series_index,
    wrap_result,
)
from tierlab.errors import ArgumentError, DataError, did_you_mean

if TYPE_CHECKING:
    from tierlab.btyd import BetaGeoModel

__all__ = ["GammaGammaModel", "PERIODS_PER_MONTH"]

#: Model time units per month for the CLV sum (the convention of lifetimes).
PERIODS_PER_MONTH: dict[str, float] = {"D": 30.0, "W": 4.345, "M": 1.0, "H": 30.0 * 24}


def _gg_loglik(p: float, q: float, v: float, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of mean spend ``m`` over ``x`` purchases."""
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v))


def _gg_loglik_grad(p: float, q: float, v: float, x: np.ndarray, m: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_gg_loglik` and its gradient in ``(p, q, v)`` (shape ``(3, n)``)."""
    dg = special.digamma
    px = p * x
    log_xmv = np.log(x * m + v)
    d_pq = dg(px + q)
    grad = np.empty((3, len(x)))
    grad[0] = x * (d_pq - dg(px) + np.log(m) + np.log(x) - log_xmv)
    grad[1] = d_pq - dg(q) + np.log(v) - log_xmv
    grad[2] = q / v - (px + q) / (x * m + v)
    return _gg_loglik(p, q, v, x, m), grad


def _gg_arrays(summary: pd.DataFrame, func: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Repeat buyers' frequency and monetary value, validated (positive spend)."""
    require_columns(summary, ("frequency", "monetary_value"), func)
    x = summary["frequency"].to_numpy(dtype="float64")
    m = summary["monetary_value"].to_numpy(dtype="float64")
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        raise DataError(
            f"{func}: 'frequency' must be finite and >= 0 (customer(s) "
            f"{first_ids(summary.index, bad)})"
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
            f"zero, negative or missing spend (customer(s) {first_ids(summary.index, bad)}). "
            "Drop them first, e.g. summary[summary['monetary_value'] > 0]"
        )
    return x[repeat], m[repeat], summary.index[repeat]


class GammaGammaModel(LogParamModel):
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
        p, q, v = param_values(params, GammaGammaModel.PARAM_NAMES, "GammaGammaModel")
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
        (ux, um), w = compress_rows([x, m])
        # p = 1, q = 2 puts the population mean spend p*v/(q-1) at v = the sample mean
        return self._fit_params(lambda p, q, v: _gg_loglik(p, q, v, ux, um), w,
                                np.log([1.0, 2.0, float(np.mean(m))]), len(x),
                                gradient=lambda p, q, v: _gg_loglik_grad(p, q, v, ux, um))

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
        index = series_index(frequency, monetary_value)
        x, m = np.broadcast_arrays(np.asarray(frequency, dtype="float64"),
                                   np.asarray(monetary_value, dtype="float64"))
        m = np.where(x > 0, m, 0.0)
        denom = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(denom > 0, p * (v + x * m) / denom, np.nan)
        return wrap_result(out, index, "expected_spend")

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
            raise ArgumentError(
                f"customer_lifetime_value: time_unit={time_unit!r} is not one of "
                f"{list(PERIODS_PER_MONTH)}{did_you_mean(time_unit, PERIODS_PER_MONTH)}"
            )
        if int(horizon) != horizon or horizon < 1:
            raise ArgumentError(f"customer_lifetime_value: horizon={horizon!r} must be a whole "
                              "number of months >= 1")
        if not discount_rate > -1:
            raise ArgumentError("customer_lifetime_value: discount_rate must be > -1")
        require_columns(summary, ("frequency", "recency", "T", "monetary_value"),
                         "customer_lifetime_value")
        x, t_x, big_t = btyd_arrays(summary["frequency"], summary["recency"], summary["T"],
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
