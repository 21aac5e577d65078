from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless, before pyplot is imported

import importlib  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection, QuadMesh  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from tierlab.errors import DataError, SchemeError  # noqa: E402
from tierlab.plots import core as plots  # noqa: E402

TIERS = ["Low", "Mid", "High"]
CJK_TIERS = ["低级客户", "中级客户", "高级客户"]
RULES = Path(__file__).resolve().parents[1] / "data" / "rules"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def ax():
    return plt.subplots()[1]


@pytest.fixture
def strict_warnings():
    """Every warning is an error, except matplotlib's missing-glyph one at draw time."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def draw(ax):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph")
        ax.figure.canvas.draw()


def ticks(ax, axis="x"):
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in labels]


def bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def mesh(ax) -> QuadMesh:
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    return meshes[0]


def mesh_values(ax) -> np.ndarray:
    arr = mesh(ax).get_array()
    return np.ma.filled(arr.astype(float), np.nan)


def assert_labelled(ax):
    assert ax.get_title().strip()
    assert ax.get_xlabel().strip()
    assert ax.get_ylabel().strip()


# --------------------------------------------------------------------------------------------
# hand-built inputs shaped like the analytics results
# --------------------------------------------------------------------------------------------
@pytest.fixture
def summary():
    customers = np.array([120, 60, 20])
    revenue = np.array([10_000.0, 30_000.0, 60_000.0])
    return pd.DataFrame({
        "customers": customers,
        "share": customers / customers.sum(),
        "revenue": revenue,
        "revenue_share": revenue / revenue.sum(),
        "mean_spend": revenue / customers,
    }, index=pd.CategoricalIndex(TIERS, categories=TIERS, ordered=True, name="tier"))


@pytest.fixture
def matrix():
    labels = [*TIERS, "(none)"]
    return pd.DataFrame([[50, 5, 0, 2], [4, 40, 3, 0], [0, 2, 6, 1], [10, 3, 1, 0]],
                        index=pd.Index(labels, name="from"), columns=pd.Index(labels, name="to"))


def fake_history(codes, tier_names=TIERS, labels=None, start="2025-01-31"):
    codes = np.asarray(codes, dtype=np.int8)
    reviews = pd.date_range(start, periods=codes.shape[1], freq="ME")
    labels = labels or {n: n for n in tier_names}
    scheme = SimpleNamespace(tier_names=list(tier_names), labels=labels, name="Test scheme")
    return SimpleNamespace(codes=codes, reviews=reviews, scheme=scheme)


HISTORY_CODES = [[0, 0, 1, 1, 2],
                 [-1, 0, 0, 0, 0],
                 [-1, -1, 2, 2, 1],
                 [1, 1, 1, 2, 2]]


def naive_counts(codes, k):
    codes = np.asarray(codes)
    out = np.zeros((k, codes.shape[1]))
    for i in range(codes.shape[0]):
        for t in range(codes.shape[1]):
            if codes[i, t] >= 0:
                out[codes[i, t], t] += 1
    return out


@pytest.fixture
def sweep():
    values = [300.0, 400.0, 500.0, 600.0]
    rows = []
    for v in values:
        high = int(40 - v / 20)
        mid = 60 - high // 2
        low = 100 - high - mid
        for tier, n in zip(TIERS, [low, mid, high], strict=True):
            rows.append({"value": v, "tier": tier, "customers": n, "share": n / 100,
                         "revenue_share": n / 100 + (0.1 if tier == "High" else -0.05)})
    frame = pd.DataFrame(rows)
    frame["tier"] = pd.Categorical(frame["tier"], categories=TIERS, ordered=True)
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)  # shuffled rows


@pytest.fixture
def per_tier():
    customers = np.array([120, 60, 20])
    mean = np.array([50.0, 200.0, 900.0])
    overall = np.average(mean, weights=customers)
    return pd.DataFrame({
        "customers": customers,
        "holdout_spend_mean": mean,
        "purchase_rate": [0.3, 0.7, 0.9],
        "lift": mean / overall,
    }, index=pd.CategoricalIndex(TIERS, categories=TIERS, ordered=True, name="tier"))


@pytest.fixture
def cluster_result():
    from tierlab.segment import ClusterResult

    profile = pd.DataFrame({
        "name": ["Lapsed low value", "New / low value", "High value, active"],
        "customers": [50, 30, 20],
        "share": [0.5, 0.3, 0.2],
        "recency_days_mean": [200.0, 20.0, 5.0],
        "recency_days_median": [190.0, 18.0, 4.0],
        "frequency_mean": [1.0, 2.0, 12.0],
        "frequency_median": [1.0, 2.0, 11.0],
        "monetary_total_mean": [40.0, 150.0, 3000.0],
        "monetary_total_median": [35.0, 140.0, 2800.0],
    }, index=pd.Index([0, 1, 2], name="cluster"))
    names = dict(enumerate(profile["name"]))
    return ClusterResult(labels=pd.Series(dtype="int64"), names=names, profile=profile,
                         scores=pd.DataFrame(), k=3, pipeline=None,
                         columns=("recency_days", "frequency", "monetary_total"))


@pytest.fixture
def calibration():
    rows = []
    for model, bias in [("bgnbd", 1.0), ("supervised", 1.2), ("naive", 0.7)]:
        for target in ("purchases", "spend"):
            for decile in range(1, 6):
                pred = decile * (10.0 if target == "spend" else 1.0)
                rows.append({"model": model, "target": target, "decile": decile,
                             "n_customers": 10, "mean_predicted": pred,
                             "mean_actual": pred * bias})
    return pd.DataFrame(rows).iloc[::-1].reset_index(drop=True)  # deciles out of order


@pytest.fixture
def revenue_cost():
    return pd.DataFrame({
        "scheme": ["current"] * 3 + ["strict"] * 3,
        "tier": TIERS * 2,
        "customers": [120, 60, 20, 140, 50, 10],
        "revenue": [1e4, 3e4, 6e4, 1.5e4, 3.5e4, 5e4],
        "revenue_share": [0.1, 0.3, 0.6, 0.15, 0.35, 0.5],
        "benefit_cost": [0.0, 600.0, 1000.0, 0.0, 500.0, 500.0],
    })


# --------------------------------------------------------------------------------------------
# shared behaviour
# --------------------------------------------------------------------------------------------
def _calls(summary, matrix, sweep, per_tier, cluster_result, calibration, revenue_cost):
    curve = pd.DataFrame({"customer_share": [0.0, 0.5, 1.0], "revenue_share": [0.0, 0.2, 1.0]})
    scored = pd.DataFrame({"r_score": [1, 2, 2, 3], "f_score": [1, 1, 3, 3],
                           "monetary_total": [1.0, 2.0, 3.0, 4.0]})
    return {
        "plot_tier_distribution": (plots.plot_tier_distribution, summary),
        "plot_tier_trend": (plots.plot_tier_trend, fake_history(HISTORY_CODES)),
        "plot_migration": (plots.plot_migration, matrix),
        "plot_lorenz": (plots.plot_lorenz, curve),
        "plot_rfm_heatmap": (plots.plot_rfm_heatmap, scored),
        "plot_threshold_sweep": (plots.plot_threshold_sweep, sweep),
        "plot_holdout": (plots.plot_holdout, per_tier),
        "plot_cluster_profiles": (plots.plot_cluster_profiles, cluster_result),
        "plot_calibration": (plots.plot_calibration, calibration),
        "plot_scheme_comparison": (plots.plot_scheme_comparison, revenue_cost),
    }


@pytest.fixture
def calls(summary, matrix, sweep, per_tier, cluster_result, calibration, revenue_cost):
    return _calls(summary, matrix, sweep, per_tier, cluster_result, calibration, revenue_cost)


NAMES = sorted(plots.__all__)


@pytest.mark.parametrize("name", NAMES)
def test_draws_on_the_given_axes_and_returns_it(name, calls, ax):
    func, data = calls[name]
    n_figs = len(plt.get_fignums())
    out = func(data, ax=ax)
    assert out is ax
    assert len(plt.get_fignums()) == n_figs  # no new figure
    assert_labelled(ax)
    draw(ax)


@pytest.mark.parametrize("name", NAMES)
def test_creates_a_figure_when_no_axes_given(name, calls):
    func, data = calls[name]
    plt.close("all")
    out = func(data)
    assert isinstance(out, matplotlib.axes.Axes)
    assert plt.get_fignums() == [out.figure.number]


@pytest.mark.parametrize("name", NAMES)
def test_wrong_input_type_and_axes_are_explained(name, calls):
    func, data = calls[name]
    plt.close("all")
    with pytest.raises(TypeError, match=name):
        func([1, 2, 3])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        func(data, ax="left")
    assert plt.get_fignums() == []  # nothing drawn on failure


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_not_changed(name, calls, ax):
    func, data = calls[name]
    if isinstance(data, pd.DataFrame):
        before = data.copy(deep=True)
        func(data, ax=ax)
        pd.testing.assert_frame_equal(data, before)
    elif hasattr(data, "profile"):
        before = data.profile.copy(deep=True)
        func(data, ax=ax)
        pd.testing.assert_frame_equal(data.profile, before)
    else:
        before = data.codes.copy()
        func(data, ax=ax)
        np.testing.assert_array_equal(data.codes, before)


def test_no_global_styling_on_import_or_use(calls):
    before = dict(matplotlib.rcParams)
    importlib.reload(plots)
    func, data = calls["plot_migration"]
    func(data)
    assert dict(matplotlib.rcParams) == before


def test_chinese_tier_labels_do_not_warn_or_crash(matrix, summary, strict_warnings):
    cn = matrix.copy()
    cn.index = pd.Index([*CJK_TIERS, "(none)"], name="from")
    cn.columns = pd.Index([*CJK_TIERS, "(none)"], name="to")
    ax = plots.plot_migration(cn)  # seaborn draws the figure inside: glyph warnings muted there
    assert ticks(ax, "y") == [*CJK_TIERS, "(none)"]
    s = summary.copy()
    s.index = pd.Index(CJK_TIERS, name="tier")
    ax = plots.plot_tier_distribution(s)
    assert ticks(ax) == CJK_TIERS
    draw(ax)


def test_a_cjk_font_is_used_on_this_axes_only_when_installed(summary, monkeypatch):
    s = summary.copy()
    s.index = pd.Index(CJK_TIERS, name="tier")
    monkeypatch.setattr(plots, "_cjk_font", lambda: "DejaVu Serif")  # stands in for a CJK font
    ax = plots.plot_tier_distribution(s)
    assert ax.get_xticklabels()[0].get_fontfamily()[0] == "DejaVu Serif"
    assert ax.get_yticklabels()[0].get_fontfamily()[0] != "DejaVu Serif"  # only where needed
    assert matplotlib.rcParams["font.family"][0] != "DejaVu Serif"
    ax2 = plots.plot_tier_distribution(summary)  # Latin labels keep the default font
    assert ax2.get_xticklabels()[0].get_fontfamily()[0] != "DejaVu Serif"


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
    with pytest.raises(SchemeError, match="did you mean 'revenue'"):
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
    with pytest.raises(SchemeError, match="kind"):
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


def test_rfm_heatmap_fills_score_gaps(ax):
    scored = pd.DataFrame({"r_score": [1, 3, 3], "f_score": [1, 1, 4],
                           "frequency": [1.0, 2.0, 6.0]})
    plots.plot_rfm_heatmap(scored, value="frequency", ax=ax)
    vals = mesh_values(ax)
    assert vals.shape == (3, 4)  # R 3, 2, 1 x F 1..4
    np.testing.assert_allclose(vals[0], [2.0, np.nan, np.nan, 6.0])
    assert np.isnan(vals[1]).all()
    plt.close("all")
    ax = plots.plot_rfm_heatmap(scored, value=None, agg="count")
    np.testing.assert_array_equal(mesh_values(ax), [[1, 0, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]])


def test_rfm_heatmap_errors(scored):
    with pytest.raises(DataError, match="'f_score' is missing \\(did you mean 'f_scor'\\?\\)"):
        plots.plot_rfm_heatmap(scored.rename(columns={"f_score": "f_scor"}))
    with pytest.raises(DataError, match="'revenue' is missing"):
        plots.plot_rfm_heatmap(scored, value="revenue")
    with pytest.raises(SchemeError, match="agg"):
        plots.plot_rfm_heatmap(scored, agg="avg")
    with pytest.raises(SchemeError, match="value=None"):
        plots.plot_rfm_heatmap(scored, value=None)
    with pytest.raises(DataError, match="whole numbers"):
        plots.plot_rfm_heatmap(scored.assign(r_score=scored["r_score"] + 0.5))


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
    with pytest.raises(SchemeError, match="did you mean 'customers'"):
        plots.plot_threshold_sweep(sweep, value="customer")


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


# --------------------------------------------------------------------------------------------
# plot_cluster_profiles
# --------------------------------------------------------------------------------------------
def test_cluster_profiles_log_ratio(cluster_result, ax):
    plots.plot_cluster_profiles(cluster_result, ax=ax)
    means = cluster_result.profile[["recency_days_mean", "frequency_mean",
                                    "monetary_total_mean"]].to_numpy()
    w = cluster_result.profile["customers"].to_numpy()
    overall = (means * w[:, None]).sum(axis=0) / w.sum()
    np.testing.assert_allclose(mesh_values(ax), np.log2(means / overall))
    assert ticks(ax, "y") == ["Lapsed low value (50)", "New / low value (30)",
                              "High value, active (20)"]
    assert ticks(ax, "x") == ["recency days", "frequency", "monetary total"]
    assert [t.get_text() for t in ax.texts][-1] == "3,000"  # cell text = raw mean


def test_cluster_profiles_zscore(cluster_result, ax):
    plots.plot_cluster_profiles(cluster_result, scale="zscore", ax=ax)
    z = mesh_values(ax)
    w = cluster_result.profile["customers"].to_numpy()
    np.testing.assert_allclose((z * w[:, None]).sum(axis=0) / w.sum(), 0.0, atol=1e-12)
    np.testing.assert_allclose((z**2 * w[:, None]).sum(axis=0) / w.sum(), 1.0)
    clim = mesh(ax).get_clim()
    assert clim[0] == pytest.approx(-clim[1])  # diverging map centred at 0


def test_cluster_profiles_from_the_profile_frame(cluster_result, ax):
    plots.plot_cluster_profiles(cluster_result.profile, ax=ax)
    assert mesh_values(ax).shape == (3, 3)
    assert ticks(ax, "y")[2] == "High value, active (20)"


def test_cluster_profiles_on_real_clusters(scored):
    from tierlab.segment import cluster_customers

    result = cluster_customers(scored, k=3, n_bootstrap=0, sample_size=None)
    ax = plots.plot_cluster_profiles(result)
    assert mesh_values(ax).shape == (3, len(result.columns))
    assert [t.split(" (")[0] for t in ticks(ax, "y")] == [result.names[c] for c in range(3)]


def test_cluster_profiles_errors(cluster_result):
    with pytest.raises(DataError, match="recency_days_mean"):
        plots.plot_cluster_profiles(cluster_result.profile.assign(
            recency_days_mean=list("abc")))
    with pytest.raises(SchemeError, match="did you mean 'zscore'"):
        plots.plot_cluster_profiles(cluster_result, scale="z-score")
    with pytest.raises(DataError, match="_mean"):
        plots.plot_cluster_profiles(cluster_result.profile[["name", "customers"]])


# --------------------------------------------------------------------------------------------
# plot_calibration
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["purchases", "spend"])
def test_calibration_lines_per_model(calibration, target, ax):
    plots.plot_calibration(SimpleNamespace(calibration=calibration), target=target, ax=ax)
    lines = ax.get_lines()
    models = ["naive", "supervised", "bgnbd"]  # order of first appearance (rows reversed)
    assert [line.get_label() for line in lines] == [*models, "Perfect calibration"]
    for model, line in zip(models, lines[:-1], strict=True):
        part = calibration[(calibration["model"] == model)
                           & (calibration["target"] == target)].sort_values("decile")
        np.testing.assert_allclose(line.get_xdata(), part["mean_predicted"])
        np.testing.assert_allclose(line.get_ydata(), part["mean_actual"])
    diag = lines[-1]
    np.testing.assert_allclose(diag.get_xdata(), diag.get_ydata())
    assert target in ax.get_xlabel()


def test_calibration_errors(calibration):
    with pytest.raises(SchemeError, match="did you mean 'spend'"):
        plots.plot_calibration(calibration, target="spnd")
    with pytest.raises(DataError, match="'mean_actual' is missing"):
        plots.plot_calibration(calibration.drop(columns="mean_actual"))


def test_calibration_on_a_real_evaluation(tx, ax):
    from tierlab.potential import evaluate_potential

    evaluation = evaluate_potential(tx, "2024-09-30", n_bins=5)
    plots.plot_calibration(evaluation, target="spend", ax=ax)
    lines = ax.get_lines()
    assert len(lines) == evaluation.calibration["model"].nunique() + 1
    cal = evaluation.calibration
    part = cal[(cal["model"] == "bgnbd") & (cal["target"] == "spend")].sort_values("decile")
    np.testing.assert_allclose(lines[0].get_ydata(), part["mean_actual"])


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
    with pytest.raises(SchemeError, match="value"):
        plots.plot_scheme_comparison(revenue_cost, value="cost")


# --------------------------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tx():
    from tierlab.datasets import generate

    return generate(200, months=12, seed=1)[0]


@pytest.fixture(scope="module")
def scored(tx):
    from tierlab.features import rfm
    from tierlab.scoring import RFMScorer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tied quantiles on a small sample
        return RFMScorer().fit_transform(rfm(tx))


@pytest.fixture(scope="module")
def comparison(tx):
    from tierlab.compare import compare_schemes

    return compare_schemes({"current": RULES / "monthly_spend.yaml",
                            "strict": RULES / "monthly_spend_strict.yaml"}, tx, holdout_months=3)


@pytest.fixture(scope="module")
def history(comparison):
    return comparison.histories["current"]


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
    np.testing.assert_allclose(mesh_values(ax), matrix.to_numpy(dtype=float))
    assert ticks(ax, "y") == [*history.scheme.tier_names, "(none)"]
    assert ("share" in ax.get_title()) == (normalize == "row")


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
