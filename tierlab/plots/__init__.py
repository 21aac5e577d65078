"""Plots of tiers, migrations, concentration, validity, clusters and scheme comparisons.

Every function follows the seaborn convention: ``plot_x(data, *, options..., ax=None) -> Axes``.
It draws on the given :class:`~matplotlib.axes.Axes` (a new figure is created only when *ax* is
None) and returns that Axes. Nothing is styled globally: the package never calls
``sns.set_theme`` or ``plt.style.use``; the colours come from the current seaborn palette, so a
theme the caller sets is respected.

Tier order comes from the data: the categories of an ordered categorical, else the index/row
order (lowest tier first, as :func:`tierlab.evaluate.tier_summary` returns it). Tier names may be
Chinese (``低级客户``): see :mod:`tierlab.plots._base` for how a CJK font is picked.

Modules by subject: :mod:`~tierlab.plots.tiers` (distribution, trend, migration, threshold sweep,
scheme comparison), :mod:`~tierlab.plots.value` (Lorenz curve, RFM heatmap, holdout) and
:mod:`~tierlab.plots.models` (cluster profiles, calibration).
"""

from tierlab.plots._base import localize as localize  # for reports; not a plot function
from tierlab.plots.models import plot_calibration, plot_cluster_profiles
from tierlab.plots.tiers import (
    plot_migration,
    plot_scheme_comparison,
    plot_threshold_sweep,
    plot_tier_distribution,
    plot_tier_trend,
)
from tierlab.plots.value import plot_holdout, plot_lorenz, plot_rfm_heatmap

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
