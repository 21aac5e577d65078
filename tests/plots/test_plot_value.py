"""Tests of :mod:`tierlab.plots.value`."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from plots.plot_helpers import (
    TIERS,
    bars,
    mesh_values,
    ticks,
)
from tierlab import plots
from tierlab.errors import ArgumentError, DataError


# --------------------------------------------------------------------------------------------
# plot_lorenz
# --------------------------------------------------------------------------------------------
def test_lorenz_from_a_concentration(ax):
    rng = np.random.default_rng(4)
    x = np.sort(rng.lognormal(3, 1, size=50))
    curve = pd.DataFrame({"customer_share": np.arange(51) / 50,
                          "revenue_share": np.r_[0.0, np.cumsum(x) / x.sum()]})
    conc = SimpleNamespace(lorenz=curve, gini=0.4242)
    plots.plot_lorenz(conc, ax=ax)
    line, diag = ax.get_lines()
    assert (line.get_xdata()[0], line.get_ydata()[0]) == (0.0, 0.0)
    assert (line.get_xdata()[-1], line.get_ydata()[-1]) == pytest.approx((1.0, 1.0))
    np.testing.assert_allclose(line.get_ydata(), curve["revenue_share"])
    assert list(diag.get_xdata()) == [0, 1] and list(diag.get_ydata()) == [0, 1]
    assert "0.42" in ax.get_title()
    assert "Gini 0.42" in [t.get_text() for t in ax.get_legend().get_texts()][0]


def test_lorenz_from_a_frame_computes_gini_and_adds_origin(ax):
    curve = pd.DataFrame({"customer_share": [0.5, 1.0], "revenue_share": [0.2, 1.0]})
    plots.plot_lorenz(curve, ax=ax)
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [0.0, 0.5, 1.0]
    # area under (0,0)-(0.5,0.2)-(1,1) = 0.05 + 0.30 = 0.35 -> Gini = 1 - 2 * 0.35
    assert "Gini 0.30" in ax.get_title()


def test_lorenz_curves_share_one_equality_line(ax):
    curve = pd.DataFrame({"customer_share": [0.0, 0.5, 1.0], "revenue_share": [0.0, 0.2, 1.0]})
    plots.plot_lorenz(curve, label="A", ax=ax)
    plots.plot_lorenz(curve.assign(revenue_share=[0.0, 0.4, 1.0]), label="B", ax=ax)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["A", "Equality", "B"]


def test_lorenz_errors():
    with pytest.raises(DataError, match="plot_lorenz expects a Concentration or a DataFrame with "
                                        "columns customer_share, revenue_share"):
        plots.plot_lorenz(pd.DataFrame({"customer_share": [0, 1], "revenue": [0, 1]}))
    with pytest.raises(TypeError, match="plot_lorenz expects a Concentration"):
        plots.plot_lorenz(SimpleNamespace(gini=0.3))
    with pytest.raises(DataError, match="finite"):
        plots.plot_lorenz(pd.DataFrame({"customer_share": [0, np.nan],
                                        "revenue_share": [0, 1.0]}))


# --------------------------------------------------------------------------------------------
# plot_rfm_heatmap
# --------------------------------------------------------------------------------------------
def naive_rfm_table(scored, value, agg):
    rs = range(scored["r_score"].max(), scored["r_score"].min() - 1, -1)
    fs = range(scored["f_score"].min(), scored["f_score"].max() + 1)
    out = np.full((len(rs), len(fs)), np.nan)
    for i, r in enumerate(rs):
        for j, f in enumerate(fs):
            cell = [row[value] for _, row in scored.iterrows()
                    if row["r_score"] == r and row["f_score"] == f]
            if agg == "count":
                out[i, j] = len(cell)
            elif cell:
                out[i, j] = {"mean": np.mean, "median": np.median, "sum": np.sum}[agg](cell)
    return out


@pytest.mark.parametrize("agg", ["mean", "median", "count"])
def test_rfm_heatmap_equals_a_naive_table(scored, agg, ax):
    plots.plot_rfm_heatmap(scored, agg=agg, ax=ax)
    expected = naive_rfm_table(scored, "monetary_total", agg)
    np.testing.assert_allclose(mesh_values(ax), expected, equal_nan=True)
    assert ticks(ax, "y") == [str(r) for r in range(scored["r_score"].max(), 0, -1)]
    assert ticks(ax, "x")[0] == "1"
    if agg == "count":
        assert mesh_values(ax).sum() == len(scored)


def test_rfm_heatmap_shows_no_empty_score(ax):
    # ties can leave a score no customer gets (R 2, F 2 and 3): no empty row or column for it
    scored = pd.DataFrame({"r_score": [1, 3, 3], "f_score": [1, 1, 4],
                           "frequency": [1.0, 2.0, 6.0]})
    plots.plot_rfm_heatmap(scored, value="frequency", ax=ax)
    vals = mesh_values(ax)
    assert vals.shape == (2, 2)  # R 3, 1 x F 1, 4
    assert ticks(ax, "y") == ["3", "1"] and ticks(ax, "x") == ["1", "4"]
    np.testing.assert_allclose(vals[0], [2.0, 6.0])
    np.testing.assert_allclose(vals[1], [1.0, np.nan])
    plt.close("all")
    ax = plots.plot_rfm_heatmap(scored, value=None, agg="count")
    np.testing.assert_array_equal(mesh_values(ax), [[1, 1], [1, 0]])


def test_rfm_heatmap_errors(scored):
    with pytest.raises(DataError, match="'f_score' is missing \\(did you mean 'f_scor'\\?\\)"):
        plots.plot_rfm_heatmap(scored.rename(columns={"f_score": "f_scor"}))
    with pytest.raises(DataError, match="'revenue' is missing"):
        plots.plot_rfm_heatmap(scored, value="revenue")
    with pytest.raises(ArgumentError, match="agg"):
        plots.plot_rfm_heatmap(scored, agg="avg")
    with pytest.raises(ArgumentError, match="value=None"):
        plots.plot_rfm_heatmap(scored, value=None)
    with pytest.raises(DataError, match="whole numbers"):
        plots.plot_rfm_heatmap(scored.assign(r_score=scored["r_score"] + 0.5))


# --------------------------------------------------------------------------------------------
# plot_holdout
# --------------------------------------------------------------------------------------------
def test_holdout_bars_lift_and_spearman(per_tier, ax):
    validity = SimpleNamespace(per_tier=per_tier, spearman=0.4321)
    plots.plot_holdout(validity, ax=ax)
    rects = bars(ax)
    assert len(rects) == len(TIERS)
    np.testing.assert_allclose([r.get_height() for r in rects], per_tier["holdout_spend_mean"])
    assert [t.get_text() for t in ax.texts] == [f"\u00d7{v:.2f}" for v in per_tier["lift"]]
    assert "0.43" in ax.get_title()
    overall = ax.get_lines()[0].get_ydata()[0]
    assert overall == pytest.approx((50 * 120 + 200 * 60 + 900 * 20) / 200)
    assert ticks(ax) == TIERS


def test_holdout_from_the_per_tier_frame_with_an_empty_tier(per_tier, ax):
    frame = per_tier.copy()
    frame.loc["Mid", ["customers", "holdout_spend_mean", "lift"]] = [0, np.nan, np.nan]
    plots.plot_holdout(frame, ax=ax)
    assert len(bars(ax)) == 3
    assert [t.get_text() for t in ax.texts][1] == ""
    assert "Spearman" not in ax.get_title()


def test_holdout_errors(per_tier):
    with pytest.raises(DataError, match="'lift' is missing"):
        plots.plot_holdout(per_tier.drop(columns="lift"))
    with pytest.raises(TypeError, match="Validity"):
        plots.plot_holdout(SimpleNamespace(spearman=0.5))



def test_real_concentration(tx, ax):
    from tierlab.evaluate import concentration
    from tierlab.features import rfm

    conc = concentration(rfm(tx)["monetary_total"])
    plots.plot_lorenz(conc, ax=ax)
    line = ax.get_lines()[0]
    assert (line.get_xdata()[0], line.get_ydata()[0]) == (0.0, 0.0)
    assert (line.get_xdata()[-1], line.get_ydata()[-1]) == (1.0, 1.0)
    assert f"Gini {conc.gini:.2f}" in ax.get_title()
    # the Gini drawn agrees with the area under the plotted curve (ascending Lorenz curve)
    area = np.trapezoid(line.get_ydata(), line.get_xdata())
    assert 1 - 2 * area == pytest.approx(conc.gini, abs=1 / len(line.get_xdata()))


def test_real_holdout_validity(comparison, tx, ax):
    validity = comparison.validities["current"]
    plots.plot_holdout(validity, ax=ax)
    np.testing.assert_allclose([r.get_height() for r in bars(ax)],
                               validity.per_tier["holdout_spend_mean"])
    assert f"{validity.spearman:.2f}" in ax.get_title()
    # the dashed line is the mean over all scored customers, the lift's denominator
    overall = ax.get_lines()[0].get_ydata()[0]
    top = validity.per_tier.iloc[-1]
    assert overall == pytest.approx(top["holdout_spend_mean"] / top["lift"])
