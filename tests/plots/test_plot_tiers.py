"""Tests of :mod:`tierlab.plots.tiers`."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from plots.plot_helpers import (
    CJK_TIERS,
    HISTORY_CODES,
    RULES,
    TIERS,
    bars,
    draw,
    fake_history,
    mesh_values,
    naive_counts,
    ticks,
)
from tierlab import plots
from tierlab.errors import ArgumentError, DataError


# --------------------------------------------------------------------------------------------
# plot_tier_distribution
# --------------------------------------------------------------------------------------------
def test_tier_distribution_side_by_side_bars(summary, ax):
    plots.plot_tier_distribution(summary, ax=ax)
    rects = bars(ax)
    assert len(rects) == 2 * len(TIERS)
    heights = np.array([r.get_height() for r in rects])
    np.testing.assert_allclose(heights[:3], summary["share"])
    np.testing.assert_allclose(heights[3:], summary["revenue_share"])
    centers = np.array([r.get_x() + r.get_width() / 2 for r in rects])
    assert np.all(centers[:3] < centers[3:])  # customers left of revenue within each tier
    assert np.all(np.diff(centers[:3]) > 0)
    assert ticks(ax) == TIERS
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Customers", "Revenue"]
    assert [t.get_text() for t in ax.texts] == ["60%", "30%", "10%", "10%", "30%", "60%"]
    draw(ax)


@pytest.mark.parametrize(("value", "column"), [("customers", "share"),
                                               ("revenue", "revenue_share")])
def test_tier_distribution_single_value(summary, ax, value, column):
    plots.plot_tier_distribution(summary, value=value, ax=ax)
    np.testing.assert_allclose([r.get_height() for r in bars(ax)], summary[column])
    assert ax.get_legend() is None


def test_tier_distribution_follows_category_order_and_computes_missing_shares(ax):
    frame = pd.DataFrame({"customers": [5, 80, 15], "revenue": [50.0, 20.0, 30.0]},
                         index=pd.CategoricalIndex(["High", "Low", "Mid"], categories=TIERS,
                                                   ordered=True, name="tier"))
    plots.plot_tier_distribution(frame, ax=ax)
    assert ticks(ax) == TIERS
    heights = [r.get_height() for r in bars(ax)]
    np.testing.assert_allclose(heights, [0.80, 0.15, 0.05, 0.2, 0.3, 0.5])


def test_tier_distribution_errors(summary):
    with pytest.raises(DataError, match="revenue_share"):
        plots.plot_tier_distribution(summary[["customers", "share"]], value="revenue")
    with pytest.raises(ArgumentError, match="did you mean 'revenue'"):
        plots.plot_tier_distribution(summary, value="revenu")
    with pytest.raises(DataError, match="empty"):
        plots.plot_tier_distribution(summary.iloc[:0])
    bad = summary.assign(share=["a", "b", "c"])
    with pytest.raises(DataError, match="'share' must be numeric"):
        plots.plot_tier_distribution(bad)


# --------------------------------------------------------------------------------------------
# plot_tier_trend
# --------------------------------------------------------------------------------------------
def test_tier_trend_lines_equal_naive_counts(ax):
    hist = fake_history(HISTORY_CODES)
    plots.plot_tier_trend(hist, kind="line", ax=ax)
    lines = ax.get_lines()
    assert len(lines) == len(TIERS)
    expected = naive_counts(HISTORY_CODES, 3)
    for k, line in enumerate(lines):
        assert line.get_label() == TIERS[k]
        np.testing.assert_allclose(line.get_ydata(), expected[k])
        assert len(line.get_xdata()) == len(hist.reviews)
    # legend lists the highest tier first
    assert [t.get_text() for t in ax.get_legend().get_texts()] == TIERS[::-1]


def test_tier_trend_shares_sum_to_one(ax):
    plots.plot_tier_trend(fake_history(HISTORY_CODES), kind="line", share=True, ax=ax)
    ys = np.array([line.get_ydata() for line in ax.get_lines()])
    np.testing.assert_allclose(ys.sum(axis=0), 1.0)
    expected = naive_counts(HISTORY_CODES, 3)
    np.testing.assert_allclose(ys, expected / expected.sum(axis=0))
    assert ax.get_ylim() == (0.0, 1.0)


def test_tier_trend_stacked_area_tops_at_customers_present(ax):
    plots.plot_tier_trend(fake_history(HISTORY_CODES), ax=ax)
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(polys) == len(TIERS)
    top = max(p.get_paths()[0].vertices[:, 1].max() for p in polys)
    assert top == (np.asarray(HISTORY_CODES) >= 0).sum(axis=0).max()
    assert "Test scheme" in ax.get_title()


def test_tier_trend_with_display_labels(strict_warnings):
    hist = fake_history(HISTORY_CODES, labels=dict(zip(TIERS, CJK_TIERS, strict=True)))
    ax = plots.plot_tier_trend(hist, labels=True)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == CJK_TIERS[::-1]
    draw(ax)


def test_tier_trend_on_a_real_history(tx, ax):
    from tierlab.tiers.scheme import TierScheme

    hist = TierScheme.from_yaml(RULES / "monthly_spend.yaml").run(tx)
    plots.plot_tier_trend(hist, kind="line", ax=ax)
    expected = pd.DataFrame({
        str(review): hist.tiers[review].value_counts().reindex(hist.scheme.tier_names)
        for review in hist.tiers.columns}).to_numpy(dtype=float)
    np.testing.assert_allclose([line.get_ydata() for line in ax.get_lines()], expected)


def test_tier_trend_errors():
    with pytest.raises(TypeError, match="TierHistory"):
        plots.plot_tier_trend(pd.DataFrame({"a": [1]}))
    with pytest.raises(DataError, match="outside -1..2"):
        plots.plot_tier_trend(fake_history([[0, 3]]))
    with pytest.raises(DataError, match="nothing to plot"):
        plots.plot_tier_trend(fake_history(np.zeros((0, 3))))
    with pytest.raises(ArgumentError, match="kind"):
        plots.plot_tier_trend(fake_history(HISTORY_CODES), kind="bars")


# --------------------------------------------------------------------------------------------
# plot_migration
# --------------------------------------------------------------------------------------------
def test_migration_heatmap_holds_the_matrix(matrix, ax):
    plots.plot_migration(matrix, ax=ax)
    np.testing.assert_array_equal(mesh_values(ax), matrix.to_numpy(dtype=float))
    assert ticks(ax, "y") == list(matrix.index)
    assert ticks(ax, "x") == list(matrix.columns)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in matrix.to_numpy().ravel()]
    assert ax.get_xlabel() == "To tier" and ax.get_ylabel() == "From tier"


def test_migration_shares_as_percentages(matrix, ax):
    shares = matrix.div(matrix.sum(axis=1), axis=0)
    plots.plot_migration(shares, ax=ax)
    np.testing.assert_allclose(mesh_values(ax), shares.to_numpy())
    texts = [t.get_text() for t in ax.texts]
    assert texts[0] == f"{shares.iloc[0, 0]:.0%}"
    assert all(t.endswith("%") for t in texts)
    assert "share" in ax.get_title()


def test_migration_custom_format_and_no_annotations(matrix):
    ax = plots.plot_migration(matrix.astype(float), fmt=".1f")
    assert ax.texts[0].get_text() == "50.0"
    ax = plots.plot_migration(matrix, annot=False, cbar=False)
    assert ax.texts == [] or len(ax.texts) == 0
    assert len(ax.figure.axes) == 1


def test_migration_errors(matrix):
    with pytest.raises(DataError, match="must be numeric"):
        plots.plot_migration(matrix.astype(str))
    with pytest.raises(DataError, match="empty"):
        plots.plot_migration(matrix.iloc[:0, :0])


# --------------------------------------------------------------------------------------------
# plot_threshold_sweep
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["share", "customers", "revenue_share"])
def test_threshold_sweep_one_line_per_tier(sweep, value, ax):
    plots.plot_threshold_sweep(sweep, value=value, ax=ax)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == TIERS
    for tier, line in zip(TIERS, lines, strict=True):
        part = sweep.loc[sweep["tier"] == tier].sort_values("value")
        np.testing.assert_allclose(line.get_xdata(), part["value"])
        np.testing.assert_allclose(line.get_ydata(), part[value])


def test_threshold_sweep_tier_order_and_current_value(sweep, ax):
    order = ["High", "Mid", "Low"]  # a scheme listing its tiers differently
    frame = sweep.assign(tier=pd.Categorical(sweep["tier"].astype(str), categories=order))
    frame.attrs["path"] = "tiers.High.when.value"
    plots.plot_threshold_sweep(frame, current=500, ax=ax)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [*order, "Current value"]
    assert list(ax.get_lines()[-1].get_xdata()) == [500.0, 500.0]
    assert ax.get_xlabel() == "tiers.High.when.value"


def test_threshold_sweep_errors(sweep):
    with pytest.raises(DataError, match="more than one row"):
        plots.plot_threshold_sweep(pd.concat([sweep, sweep]))
    with pytest.raises(DataError, match="'share' is missing"):
        plots.plot_threshold_sweep(sweep.drop(columns="share"))
    with pytest.raises(ArgumentError, match="did you mean 'customers'"):
        plots.plot_threshold_sweep(sweep, value="customer")


# --------------------------------------------------------------------------------------------
# plot_scheme_comparison
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["revenue_share", "customers", "benefit_cost"])
def test_scheme_comparison_grouped_bars(revenue_cost, value, ax):
    plots.plot_scheme_comparison(SimpleNamespace(revenue_cost=revenue_cost), value=value, ax=ax)
    rects = bars(ax)
    assert len(rects) == 2 * len(TIERS)
    np.testing.assert_allclose([r.get_height() for r in rects], revenue_cost[value])
    assert ticks(ax) == TIERS
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["current", "strict"]


def test_scheme_comparison_tier_missing_in_one_scheme(revenue_cost, ax):
    frame = revenue_cost.drop(index=5)  # strict has no High row
    frame = frame.assign(tier=pd.Categorical(frame["tier"], categories=TIERS, ordered=True))
    plots.plot_scheme_comparison(frame.iloc[::-1], ax=ax)  # rows reversed: order by category
    assert len(bars(ax)) == 5
    assert ticks(ax) == TIERS
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["strict", "current"]


def test_scheme_comparison_errors(revenue_cost):
    with pytest.raises(DataError, match="'scheme' is missing"):
        plots.plot_scheme_comparison(revenue_cost.drop(columns="scheme"))
    with pytest.raises(DataError, match="more than one row"):
        plots.plot_scheme_comparison(pd.concat([revenue_cost, revenue_cost]))
    with pytest.raises(ArgumentError, match="value"):
        plots.plot_scheme_comparison(revenue_cost, value="cost")




def test_real_tier_summary(history, tx, ax):
    from tierlab.evaluate import tier_summary

    summary = tier_summary(history.current["tier"], tx)
    plots.plot_tier_distribution(summary, ax=ax)
    heights = np.array([r.get_height() for r in bars(ax)])
    np.testing.assert_allclose(heights, np.r_[summary["share"], summary["revenue_share"]])
    assert ticks(ax) == history.scheme.tier_names
    np.testing.assert_allclose(heights[:3].sum(), 1.0)


@pytest.mark.parametrize("normalize", [None, "row"])
def test_real_migration_matrix(history, normalize, ax):
    from tierlab.evaluate import migration_matrix

    matrix = migration_matrix(history.at(history.reviews[-4]), history.current["tier"],
                              normalize=normalize)
    plots.plot_migration(matrix, ax=ax)
    # customers never lose their tier: the "(none)" column is empty and left out
    assert (matrix["(none)"] == 0).all()
    shown = matrix.drop(columns="(none)")
    np.testing.assert_allclose(mesh_values(ax), shown.to_numpy(dtype=float))
    assert ticks(ax, "y") == [*history.scheme.tier_names, "(none)"]
    assert ticks(ax, "x") == list(history.scheme.tier_names)
    assert ("share" in ax.get_title()) == (normalize == "row")

@pytest.mark.parametrize("value", ["revenue_share", "benefit_cost"])
def test_real_scheme_comparison(comparison, value, ax):
    plots.plot_scheme_comparison(comparison, value=value, ax=ax)
    rc = comparison.revenue_cost
    assert len(bars(ax)) == len(rc)
    np.testing.assert_allclose([r.get_height() for r in bars(ax)], rc[value])
    assert ticks(ax) == comparison.schemes["current"].tier_names
    assert [t.get_text() for t in ax.get_legend().get_texts()] == comparison.names


def test_real_threshold_sweep(tx, ax):
    from tierlab.compare import threshold_sweep

    sweep = threshold_sweep(RULES / "monthly_spend.yaml", "tiers[2].when.value",
                            [300, 500, 700], tx)
    plots.plot_threshold_sweep(sweep, value="customers", current=500, ax=ax)
    lines = ax.get_lines()[:-1]
    assert [line.get_label() for line in lines] == ["Low", "Mid", "High"]
    for line in lines:
        part = sweep[sweep["tier"] == line.get_label()]
        np.testing.assert_allclose(line.get_ydata(), part["customers"])
    # raising the High threshold never grows High
    assert np.all(np.diff(lines[-1].get_ydata()) <= 0)


def test_real_tier_trend_with_chinese_labels(history, strict_warnings):
    ax = plots.plot_tier_trend(history, share=True, labels=True)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["高级客户", "中级客户",
                                                                   "低级客户"]
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(polys) == len(history.scheme.tier_names)
    draw(ax)
