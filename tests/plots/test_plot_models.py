"""Tests of :mod:`tierlab.plots.models`."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from plots.plot_helpers import (
    mesh,
    mesh_values,
    ticks,
)
from tierlab import plots
from tierlab.errors import ArgumentError, DataError


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
    assert ticks(ax, "x") == ["Days since last purchase", "Orders", "Net spend"]
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
    with pytest.raises(ArgumentError, match="did you mean 'zscore'"):
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
    names = ["naive", "Supervised (gradient boosting)", "BG/NBD + Gamma-Gamma"]  # for people
    assert [line.get_label() for line in lines] == [*names, "Perfect calibration"]
    for model, line in zip(models, lines[:-1], strict=True):
        part = calibration[(calibration["model"] == model)
                           & (calibration["target"] == target)].sort_values("decile")
        np.testing.assert_allclose(line.get_xdata(), part["mean_predicted"])
        np.testing.assert_allclose(line.get_ydata(), part["mean_actual"])
    diag = lines[-1]
    np.testing.assert_allclose(diag.get_xdata(), diag.get_ydata())
    assert target in ax.get_xlabel()


def test_calibration_errors(calibration):
    with pytest.raises(ArgumentError, match="did you mean 'spend'"):
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
