"""Shared machinery of the BTYD models: validation, log-space maximum likelihood, results.

Used by :mod:`tierlab.btyd` (BG/NBD) and :mod:`tierlab.gamma_gamma` (Gamma-Gamma).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from sklearn.base import BaseEstimator

from tierlab.errors import ArgumentError, DataError
from tierlab.frames import require_columns

__all__ = ["LOG_BOUND", "LogParamModel", "btyd_arrays", "compress_rows", "first_ids",
           "minimize_log", "param_values", "require_columns", "series_index", "standard_errors",
           "wrap_result"]

LOG_BOUND = 15.0  # parameters are optimized as log(param) within [-15, 15]


def first_ids(index: pd.Index | None, mask: np.ndarray, k: int = 3) -> str:
    where = np.flatnonzero(mask)[:k]
    labels = [str(index[i]) for i in where] if index is not None else [str(i) for i in where]
    more = " …" if mask.sum() > k else ""
    return ", ".join(labels) + more


def btyd_arrays(frequency, recency, T, func: str,
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
                f"not (customer(s) {first_ids(index, bad.ravel())})"
            )
    bad = t_x > big_t * (1 + 1e-12) + 1e-12
    if bad.any():
        raise DataError(
            f"{func}: recency exceeds T for {int(bad.sum())} customer(s) "
            f"({first_ids(index, bad.ravel())}); recency is the time from the first to the last "
            "purchase and T the time from the first purchase to the end of calibration, so "
            "recency <= T; rebuild the summary with tierlab.features.btyd_summary"
        )
    return x.astype("float64"), t_x.astype("float64"), big_t.astype("float64")


def series_index(*values) -> pd.Index | None:
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def wrap_result(result: np.ndarray, index: pd.Index | None, name: str):
    if index is not None and result.shape == (len(index),):
        return pd.Series(result, index=index, name=name)
    if result.ndim == 0:
        return float(result)
    return result


def minimize_log(neg_ll: Callable[[np.ndarray], Any], x0: np.ndarray,
                 names: Sequence[str], model: str, *, jac: bool = False
                 ) -> optimize.OptimizeResult:
    """L-BFGS-B on log parameters; warns when it fails or a parameter sits on a bound.

    With ``jac=True`` ``neg_ll`` returns ``(value, gradient)``; otherwise the gradient is taken
    by finite differences.
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    res = optimize.minimize(neg_ll, x0, method="L-BFGS-B", bounds=bounds, jac=jac)
    if not res.success:
        # a second start from the first result usually finishes a stalled line search
        res2 = optimize.minimize(neg_ll, res.x, method="L-BFGS-B", bounds=bounds, jac=jac)
        if res2.fun <= res.fun:
            res = res2
    if not res.success:
        warnings.warn(
            f"{model}: the maximum-likelihood fit did not converge ({res.message}); the "
            "parameters may be inaccurate — check the summary (enough repeat buyers?)",
            UserWarning,
            stacklevel=3,
        )
    at_bound = [n for n, v in zip(names, res.x, strict=True) if abs(v) > LOG_BOUND - 1e-3]
    if at_bound:
        warnings.warn(
            f"{model}: parameter(s) {at_bound} reached the search bound exp(±{LOG_BOUND:g}); "
            "the data barely identify them",
            UserWarning,
            stacklevel=3,
        )
    return res


def standard_errors(neg_total_ll: Callable[[np.ndarray], float], theta: np.ndarray,
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


def compress_rows(columns: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the stacked columns and their counts (likelihoods weight by count)."""
    stacked = np.column_stack(columns)
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    return [uniq[:, i] for i in range(uniq.shape[1])], counts.astype("float64")


def param_values(params, names: Sequence[str], model: str) -> tuple[float, ...]:
    if isinstance(params, Mapping):
        missing = [n for n in names if n not in params]
        if missing:
            raise ArgumentError(f"{model}: parameter(s) {missing} missing; give {list(names)}")
        values = tuple(float(params[n]) for n in names)
    else:
        values = tuple(float(v) for v in params)
        if len(values) != len(names):
            raise ArgumentError(f"{model}: expected {len(names)} parameters {list(names)}")
    bad = [n for n, v in zip(names, values, strict=True) if not (np.isfinite(v) and v > 0)]
    if bad:
        raise ArgumentError(f"{model}: parameter(s) {bad} must be positive and finite")
    return values


class LogParamModel(BaseEstimator):
    """Shared fitting of the BTYD models: maximum likelihood over the log of the parameters.

    Subclasses name their parameters in ``PARAM_NAMES`` and call :meth:`_fit_params`.
    """

    PARAM_NAMES: tuple[str, ...] = ()

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef

    def _fit_params(self, loglik: Callable[..., np.ndarray], w: np.ndarray,
                    theta0: np.ndarray, n_customers: int, *,
                    gradient: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None):
        """Maximize ``w @ loglik(*params)`` (an L2 penalty on the parameters if asked).

        ``gradient(*params)``, when given, returns the per-row log-likelihood and its gradient
        in the parameters (shape ``(k, n)``), so the optimizer needs no finite differences.
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

        def objective_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            params = np.exp(theta)
            ll, grad = gradient(*params)  # type: ignore[misc]  # only called when given
            val = float(-(w @ ll)) / n + penalty * float(np.sum(params ** 2))
            jac = -(grad @ w) * params / n + 2 * penalty * params ** 2
            if not (np.isfinite(val) and np.all(np.isfinite(jac))):
                return 1e100, np.zeros_like(theta)
            return val, jac

        res = minimize_log(objective if gradient is None else objective_grad, theta0,
                           self.PARAM_NAMES, type(self).__name__, jac=gradient is not None)
        theta = np.asarray(res.x, dtype="float64")
        self.params_ = dict(zip(self.PARAM_NAMES, np.exp(theta).tolist(), strict=True))
        self.log_likelihood_ = -total_nll(theta)
        self.standard_errors_ = standard_errors(total_nll, theta, self.PARAM_NAMES)
        self.n_customers_ = n_customers
        self.converged_ = bool(res.success)
        return self
