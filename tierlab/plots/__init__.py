"""Plots: ``plot_x(data, *, ..., ax=None) -> Axes``, seaborn-based and CJK-capable."""

from tierlab.plots.core import (
    plot_calibration,
    plot_cluster_profiles,
    plot_holdout,
    plot_lorenz,
    plot_migration,
    plot_rfm_heatmap,
    plot_scheme_comparison,
    plot_threshold_sweep,
    plot_tier_distribution,
    plot_tier_trend,
)

__all__ = [
    "plot_calibration",
    "plot_cluster_profiles",
    "plot_holdout",
    "plot_lorenz",
    "plot_migration",
    "plot_rfm_heatmap",
    "plot_scheme_comparison",
    "plot_threshold_sweep",
    "plot_tier_distribution",
    "plot_tier_trend",
]
