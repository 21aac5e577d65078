"""tierlab.btyd / tierlab.gamma_gamma: BG/NBD and Gamma-Gamma fitted by maximum likelihood.

The probabilistic models are checked three independent ways: likelihoods against the textbook
formulas written out by hand (plain ``math``), parameter recovery on data simulated from the
models' own generative processes, and conditional predictions against what the simulated
customers then actually did.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tierlab.btyd import BetaGeoModel, GammaGammaModel
from tierlab.errors import ArgumentError, DataError

# lifetimes' published BG/NBD estimates on CDNOW (weeks); used only as realistic parameter values
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_BG = {"r": 0.75, "alpha": 40.0, "a": 0.8, "b": 2.5}  # days: ~7 purchases a year
TRUE_GG = {"p": 6.25, "q": 3.74, "v": 15.44}  # lifetimes' CDNOW Gamma-Gamma estimates


# --------------------------------------------------------------------------------------------
# simulators (vectorized) and hand formulas
# --------------------------------------------------------------------------------------------
def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, t_cal: np.ndarray,
                   t_hold: float, rng: np.random.Generator, k: int = 300) -> pd.DataFrame:
    """BG/NBD generative process: T_cal of calibration after the first purchase, then t_hold.

    lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); repeat purchases are a Poisson process with
    rate lambda; right after repeat purchase j the customer drops out with probability p, i.e.
    the last purchase is number D ~ Geometric(p) (dropout never follows the first purchase).
    """
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    times = np.cumsum(rng.exponential(1.0, (n, k)) / lam[:, None], axis=1)
    last = rng.geometric(p)
    active = np.arange(1, k + 1)[None, :] <= last[:, None]
    end = t_cal + t_hold
    assert not (active[:, -1] & (times[:, -1] <= end)).any(), "raise k: purchases truncated"
    cal = active & (times <= t_cal[:, None])
    hold = active & (times > t_cal[:, None]) & (times <= end[:, None])
    x = cal.sum(axis=1)
    t_x = np.where(cal, times, 0.0).max(axis=1)
    return pd.DataFrame(
        {"frequency": x.astype(float), "recency": t_x, "T": t_cal,
         "holdout": hold.sum(axis=1)},
        index=pd.Index([f"S{i:05d}" for i in range(n)], name="customer_id"),
    )


def hyp2f1_series(a: float, b: float, c: float, z: float) -> float:
    """Gauss hypergeometric series summed term by term (|z| < 1)."""
    term, total, n = 1.0, 1.0, 0
    while abs(term) > 1e-17 * abs(total) or n < 5:
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
        n += 1
    return total


def textbook_expected(t, x, t_x, T, r, alpha, a, b):
    """Fader-Hardie-Lee (2005) eq. 10, literally."""
    z = t / (alpha + T + t)
    hyp = hyp2f1_series(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return numerator / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def textbook_alive(x, t_x, T, r, alpha, a, b):
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def fitted(model_cls, params: dict):
    """A model with given parameters, as if fitted."""
    model = model_cls()
    model.params_ = dict(params)
    return model


@pytest.fixture(scope="module")
def bg_sim() -> pd.DataFrame:
    rng = np.random.default_rng(20250101)
    t_cal = rng.uniform(100, 400, 8000)
    return simulate_bgnbd(8000, **TRUE_BG, t_cal=t_cal, t_hold=180.0, rng=rng)


@pytest.fixture(scope="module")
def gg_sim() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 8000
    # few repeat purchases per customer: p (the shape of single spends) is identified by the
    # spread of m around the customer's own level, which averaging over many purchases hides
    x = 1 + rng.poisson(1.0, n)
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["v"], n)
    # the sum of x Gamma(p, nu) spends is Gamma(p x, nu); m is its mean
    m = rng.gamma(TRUE_GG["p"] * x, 1 / nu) / x
    return pd.DataFrame({"frequency": x.astype(float), "monetary_value": m})


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------
def test_bgnbd_log_likelihood_matches_hand_formula():
    r, alpha, a, b = CDNOW.values()
    rows = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 1.71, 38.86), (5, 35.0, 38.86), (3, 8.0, 20.0)]

    def beta(u, v):
        return math.gamma(u) * math.gamma(v) / math.gamma(u + v)

    expected = []
    for x, t_x, T in rows:  # FHL 2005 eq. 6, term by term
        poisson = math.gamma(r + x) * alpha**r / math.gamma(r)
        lik = beta(a, b + x) / beta(a, b) * poisson / (alpha + T) ** (r + x)
        if x > 0:
            lik += beta(a + 1, b + x - 1) / beta(a, b) * poisson / (alpha + t_x) ** (r + x)
        expected.append(math.log(lik))
    summary = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    ind = BetaGeoModel.log_likelihood(CDNOW, summary, individual=True)
    np.testing.assert_allclose(ind.to_numpy(), expected, rtol=1e-12)
    assert BetaGeoModel.log_likelihood(list(CDNOW.values()), summary) == pytest.approx(
        sum(expected), rel=1e-12)


def test_bgnbd_recovers_simulated_parameters(bg_sim):
    model = BetaGeoModel().fit(bg_sim)
    assert model.converged_ and model.n_customers_ == 8000
    fit, se = model.params_, model.standard_errors_
    # Tolerance: with 8,000 customers the asymptotic (Fisher) standard errors are 2-10% of each
    # parameter (asserted, so the bands below are tight); an MLE lands within 3 SE of the truth
    # with overwhelming probability, while a wrong likelihood is biased far beyond that.
    # The plain 15% relative bound is the same statement without trusting our own SEs.
    for name, true in TRUE_BG.items():
        assert se[name] / true < 0.12, (name, se[name])
        assert abs(fit[name] - true) <= 3 * se[name], (name, fit[name], true, se[name])
        assert abs(fit[name] / true - 1) < 0.15, (name, fit[name], true)
    # the maximum beats the truth, and is not beaten by nearby points
    ll_true = BetaGeoModel.log_likelihood(TRUE_BG, bg_sim)
    assert model.log_likelihood_ >= ll_true
    nudged = {k: v * 1.02 for k, v in fit.items()}
    assert model.log_likelihood_ > BetaGeoModel.log_likelihood(nudged, bg_sim)


def test_bgnbd_predictions_match_what_simulated_customers_did(bg_sim):
    """E[E[Y | history]] = E[Y]: conditional predictions average to the realised holdout."""
    model = fitted(BetaGeoModel, TRUE_BG)
    args = (bg_sim["frequency"], bg_sim["recency"], bg_sim["T"])
    expected = model.expected_purchases(180.0, *args)
    no_buy = model.probability_no_purchase(180.0, *args)
    assert isinstance(expected, pd.Series) and expected.index.equals(bg_sim.index)
    groups = pd.cut(bg_sim["frequency"], [-1, 0, 2, 5, np.inf], labels=["0", "1-2", "3-5", "6+"])
    frame = pd.DataFrame({"pred": expected, "actual": bg_sim["holdout"], "p0": no_buy,
                          "none": bg_sim["holdout"] == 0, "g": groups})
    for _, part in [("all", frame), *frame.groupby("g", observed=True)]:
        n = len(part)
        se_mean = part["actual"].std() / math.sqrt(n)  # sampling error of the realised mean
        assert abs(part["pred"].mean() - part["actual"].mean()) < 3.5 * se_mean + 1e-3
        se_share = math.sqrt(part["p0"].mean() * (1 - part["p0"].mean()) / n)
        assert abs(part["p0"].mean() - part["none"].mean()) < 3.5 * se_share + 1e-3


@pytest.mark.parametrize("params", [CDNOW, TRUE_BG, {"r": 2.0, "alpha": 10.0, "a": 1.5, "b": 3.0}],
                         ids=["cdnow", "simulated", "a_above_1"])
def test_expected_purchases_and_alive_match_textbook_formulas(params):
    model = fitted(BetaGeoModel, params)
    cases = [(10.0, 0, 0.0, 38.86), (39.0, 2, 30.43, 38.86), (5.0, 10, 20.0, 30.0),
             (20.0, 1, 3.0, 60.0), (100.0, 7, 70.0, 70.0)]
    for t, x, t_x, T in cases:
        want = textbook_expected(t, x, t_x, T, *params.values())
        assert model.expected_purchases(t, x, t_x, T) == pytest.approx(want, rel=1e-10)
        assert model.probability_alive(x, t_x, T) == pytest.approx(
            textbook_alive(x, t_x, T, *params.values()), rel=1e-12)
    # vectorized call equals the scalar calls
    t, x, t_x, T = (np.array(c, dtype=float) for c in zip(*cases, strict=True))
    vec = model.expected_purchases(t, x, t_x, T)
    np.testing.assert_allclose(vec, [model.expected_purchases(*c) for c in cases], rtol=1e-14)


def test_probability_alive_is_one_without_repeat_purchases_and_monotone():
    model = fitted(BetaGeoModel, CDNOW)
    assert np.all(model.probability_alive(np.zeros(3), np.zeros(3), [1.0, 10.0, 100.0]) == 1.0)
    # the longer since the last purchase (recency down, T fixed), the less likely alive
    p = model.probability_alive(3, np.array([30.0, 20.0, 10.0, 1.0]), 30.0)
    assert np.all(np.diff(p) < 0) and np.all((p > 0) & (p <= 1))
    # recent, frequent buyers: more purchases expected
    e = model.expected_purchases(10.0, np.array([1.0, 2.0, 5.0, 10.0]), 30.0, 30.0)
    assert np.all(np.diff(e) > 0)
    # expected purchases grow with the window; P(no purchase) falls from 1 to 1 - P(alive)
    t = np.array([0.0, 1.0, 10.0, 100.0, 1000.0])
    assert np.all(np.diff(model.expected_purchases(t, 2, 20.0, 30.0)) > 0)
    assert model.expected_purchases(0.0, 2, 20.0, 30.0) == 0.0
    p0 = model.probability_no_purchase(t, 2, 20.0, 30.0)
    assert p0[0] == 1.0 and np.all(np.diff(p0) < 0)
    assert model.probability_no_purchase(1e12, 2, 20.0, 30.0) == pytest.approx(
        1 - model.probability_alive(2, 20.0, 30.0), abs=1e-9)


def test_expected_purchases_at_a_equal_one_is_continuous():
    values = {}
    for a in (1 - 2e-5, 1 - 3e-6, 1.0, 1 + 3e-6, 1 + 2e-5):
        model = fitted(BetaGeoModel, {"r": 0.5, "alpha": 5.0, "a": a, "b": 2.0})
        values[a] = model.expected_purchases(20.0, 1, 3.0, 60.0)
    assert all(np.isfinite(v) for v in values.values())
    mid = (values[1 - 2e-5] + values[1 + 2e-5]) / 2
    assert values[1.0] == pytest.approx(mid, rel=1e-8)
    # and it agrees with the textbook formula a little away from the singularity
    assert values[1 + 2e-5] == pytest.approx(
        textbook_expected(20.0, 1, 3.0, 60.0, 0.5, 5.0, 1 + 2e-5, 2.0), rel=1e-6)


def test_expected_purchases_quadrature_fallback(monkeypatch):
    """Where hyp2f1 fails, the posterior quadrature gives the same expectation."""
    model = fitted(BetaGeoModel, TRUE_BG)
    x = np.array([0.0, 1.0, 4.0, 20.0, 60.0])
    t_x = np.array([0.0, 30.0, 150.0, 280.0, 299.0])
    closed = model.expected_purchases(365.0, x, t_x, 300.0)
    import tierlab.btyd as btyd

    monkeypatch.setattr(btyd.special, "hyp2f1", lambda *args: np.full(np.shape(args[3]),
                                                                            np.nan))
    fallback = model.expected_purchases(365.0, x, t_x, 300.0)
    np.testing.assert_allclose(fallback, closed, rtol=2e-5)


def test_expected_purchases_stay_finite_for_extreme_parameters():
    x = np.array([0.0, 1.0, 5.0, 50.0, 500.0])
    for params in ({"r": 50.0, "alpha": 1000.0, "a": 2.0, "b": 1e4},
                   {"r": 0.05, "alpha": 0.1, "a": 50.0, "b": 0.05},
                   {"r": 5.0, "alpha": 10.0, "a": 0.05, "b": 1e4}):
        model = fitted(BetaGeoModel, params)
        for T, t in ((1.0, 1e4), (1000.0, 1e6), (100.0, 0.1)):
            e = model.expected_purchases(t, x, np.minimum(x, 0.9 * T), T)
            ceiling = (params["r"] + x) * t / (params["alpha"] + T)  # Poisson mean, no dropout
            assert np.all(np.isfinite(e)) and np.all(e >= 0) and np.all(e <= ceiling * (1 + 1e-9))


def test_bgnbd_errors():
    with pytest.raises(DataError, match="no repeat buyers"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [0, 0], "recency": [0, 0], "T": [5, 9]}))
    with pytest.raises(DataError, match="'frequency' must be finite and >= 0.*c2"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1, -1], "recency": [1, 0], "T": [5, 9]},
                                        index=["c1", "c2"]))
    with pytest.raises(DataError, match="recency exceeds T.*c1"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1, 2], "recency": [7, 3], "T": [5, 9]},
                                        index=["c1", "c2"]))
    with pytest.raises(DataError, match="did you mean 'recncy'"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1], "recncy": [1], "T": [5]}))
    with pytest.raises(DataError, match="recency exceeds T"):
        fitted(BetaGeoModel, CDNOW).expected_purchases(5.0, 1, 10.0, 5.0)
    with pytest.raises(NotFittedError):
        BetaGeoModel().probability_alive(1, 1.0, 2.0)


def test_models_follow_the_estimator_contract(bg_sim):
    model = BetaGeoModel(penalizer_coef=0.01)
    assert clone(model).get_params() == {"penalizer_coef": 0.01}
    assert model.fit(bg_sim.iloc[:500]) is model
    assert set(model.params_) == {"r", "alpha", "a", "b"}
    before = bg_sim.copy()
    GammaGammaModel().fit(pd.DataFrame({"frequency": [1.0, 2.0, 3.0, 1.0],
                                        "monetary_value": [10.0, 20.0, 15.0, 12.0]}))
    pd.testing.assert_frame_equal(bg_sim, before)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------
def test_gamma_gamma_log_likelihood_matches_hand_formula():
    p, q, v = 2.0, 3.0, 10.0
    rows = [(1, 20.0), (2, 35.5), (4, 12.0), (0, 0.0)]  # the x = 0 row is ignored
    expected = []
    for x, m in rows[:3]:
        dens = (math.gamma(p * x + q) / (math.gamma(p * x) * math.gamma(q)) * v**q
                * m ** (p * x - 1) * x ** (p * x) / (v + m * x) ** (p * x + q))
        expected.append(math.log(dens))
    summary = pd.DataFrame(rows, columns=["frequency", "monetary_value"])
    ind = GammaGammaModel.log_likelihood({"p": p, "q": q, "v": v}, summary, individual=True)
    assert list(ind.index) == [0, 1, 2]
    np.testing.assert_allclose(ind.to_numpy(), expected, rtol=1e-12)


def test_gamma_gamma_recovers_simulated_parameters(gg_sim):
    model = GammaGammaModel().fit(gg_sim)
    fit, se = model.params_, model.standard_errors_
    # Same reasoning as for BG/NBD: at n = 8,000 the Fisher SEs are 2-10% of each parameter
    # (p and v trade off against each other, hence their larger SEs); the estimates must sit
    # within 3 SE, and within 25% without trusting our SEs.
    for name, true in TRUE_GG.items():
        assert se[name] / true < 0.12, (name, se[name])
        assert abs(fit[name] - true) <= 3 * se[name], (name, fit[name], true, se[name])
        assert abs(fit[name] / true - 1) < 0.25, (name, fit[name], true)
    # the population mean spend p v / (q - 1) is what the data pin down best
    mean_true = TRUE_GG["p"] * TRUE_GG["v"] / (TRUE_GG["q"] - 1)
    assert fit["p"] * fit["v"] / (fit["q"] - 1) == pytest.approx(mean_true, rel=0.03)


def test_gamma_gamma_expected_spend_hand_formula():
    model = fitted(GammaGammaModel, {"p": 6.0, "q": 4.0, "v": 15.0})
    population = 6.0 * 15.0 / 3.0
    for x, m in [(1, 30.0), (5, 12.0), (20, 100.0)]:
        w = 6.0 * x / (6.0 * x + 3.0)  # weight of the customer's own mean
        assert model.expected_spend(x, m) == pytest.approx((1 - w) * population + w * m)
    assert model.expected_spend(0, 0.0) == pytest.approx(population)
    out = model.expected_spend(pd.Series([1.0, 0.0], index=["a", "b"]), [30.0, 0.0])
    assert list(out.index) == ["a", "b"]


def test_gamma_gamma_errors():
    with pytest.raises(DataError, match="zero, negative or missing spend.*b"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [1.0, 2.0, 0.0],
                                            "monetary_value": [5.0, 0.0, 0.0]},
                                           index=["a", "b", "c"]))
    with pytest.raises(DataError, match="no repeat buyers"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [0.0], "monetary_value": [0.0]}))


def test_customer_lifetime_value_against_hand_sum():
    bg = fitted(BetaGeoModel, CDNOW)
    gg = fitted(GammaGammaModel, {"p": 6.25, "q": 3.74, "v": 15.44})
    summary = pd.DataFrame({"frequency": [2.0, 0.0], "recency": [30.43, 0.0], "T": [38.86, 38.86],
                            "monetary_value": [40.0, 0.0]}, index=["a", "b"])
    clv = gg.customer_lifetime_value(bg, summary, horizon=12, discount_rate=0.01, time_unit="W")
    for cid, row in summary.iterrows():
        spend = gg.expected_spend(row["frequency"], row["monetary_value"])
        total = 0.0
        for k in range(1, 13):  # lifetimes' definition: 4.345 weeks a month, monthly discount
            def e(t, row=row):
                if t == 0:
                    return 0.0
                return textbook_expected(t, row["frequency"], row["recency"], row["T"],
                                         *CDNOW.values())
            total += spend * (e(4.345 * k) - e(4.345 * (k - 1))) / 1.01**k
        assert clv[cid] == pytest.approx(total, rel=1e-9)
    # without discounting the sum telescopes to the expected purchases over the whole horizon
    flat = gg.customer_lifetime_value(bg, summary, horizon=6, discount_rate=0.0, time_unit="D")
    want = (bg.expected_purchases(180.0, summary["frequency"], summary["recency"], summary["T"])
            * gg.expected_spend(summary["frequency"], summary["monetary_value"]))
    np.testing.assert_allclose(flat.to_numpy(), want.to_numpy(), rtol=1e-12)
    with pytest.raises(ArgumentError, match="time_unit"):
        gg.customer_lifetime_value(bg, summary, time_unit="days")


def test_bgnbd_gradient_equals_finite_differences():
    from scipy.optimize import approx_fprime

    from tierlab.btyd import _bgnbd_loglik, _bgnbd_loglik_grad

    rng = np.random.default_rng(3)
    n = 300
    x = rng.integers(0, 8, n).astype(float)
    big_t = rng.uniform(2, 60, n)
    t_x = np.where(x > 0, rng.uniform(0, 1, n) * big_t, 0.0)
    for params in (np.array(list(CDNOW.values())), np.array([2.0, 10.0, 1.5, 3.0])):
        ll, grad = _bgnbd_loglik_grad(*params, x, t_x, big_t)
        np.testing.assert_allclose(ll, _bgnbd_loglik(*params, x, t_x, big_t), rtol=1e-12)
        numeric = np.column_stack([
            approx_fprime(params, lambda p, i=i: _bgnbd_loglik(*p, x[i:i + 1], t_x[i:i + 1],
                                                              big_t[i:i + 1])[0], 1e-7)
            for i in range(n)])
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)


def test_bgnbd_fit_with_gradient_equals_fit_by_finite_differences():
    class FiniteDifferences(BetaGeoModel):
        def _fit_params(self, *args, gradient=None, **kwargs):
            return super()._fit_params(*args, **kwargs)

    rng = np.random.default_rng(5)
    summary = simulate_bgnbd(3000, *CDNOW.values(), t_cal=rng.uniform(20.0, 39.0, 3000),
                             t_hold=1.0, rng=rng)
    fast, slow = BetaGeoModel().fit(summary), FiniteDifferences().fit(summary)
    assert fast.converged_ and slow.converged_
    assert fast.log_likelihood_ == pytest.approx(slow.log_likelihood_, abs=1e-3)
    for name in ("r", "alpha", "a", "b"):
        assert fast.params_[name] == pytest.approx(slow.params_[name], rel=1e-3)


def test_gamma_gamma_gradient_and_fit_equal_finite_differences():
    from scipy.optimize import approx_fprime

    from tierlab.gamma_gamma import _gg_loglik, _gg_loglik_grad

    rng = np.random.default_rng(4)
    n = 2000
    x = rng.integers(1, 9, n).astype(float)
    m = rng.gamma(6.25, 1 / rng.gamma(3.74, 1 / 15.44, n))  # CDNOW-like spend per purchase
    params = np.array(list(TRUE_GG.values()))
    ll, grad = _gg_loglik_grad(*params, x, m)
    np.testing.assert_allclose(ll, _gg_loglik(*params, x, m), rtol=1e-12)
    numeric = np.column_stack([
        approx_fprime(params, lambda p, i=i: _gg_loglik(*p, x[i:i + 1], m[i:i + 1])[0], 1e-7)
        for i in range(50)])
    np.testing.assert_allclose(grad[:, :50], numeric, rtol=1e-4, atol=1e-5)

    class FiniteDifferences(GammaGammaModel):
        def _fit_params(self, *args, gradient=None, **kwargs):
            return super()._fit_params(*args, **kwargs)

    summary = pd.DataFrame({"frequency": x, "monetary_value": m})
    fast, slow = GammaGammaModel().fit(summary), FiniteDifferences().fit(summary)
    assert fast.log_likelihood_ == pytest.approx(slow.log_likelihood_, abs=1e-3)
    for name in ("p", "q", "v"):
        assert fast.params_[name] == pytest.approx(slow.params_[name], rel=1e-3)
