"""Plots of fitted models: cluster profiles and the calibration of potential models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from tierlab.errors import ArgumentError, DataError, did_you_mean
from tierlab.frames import require_columns
from tierlab.i18n import column_label, value_label
from tierlab.plots._base import (
    attr_frame,
    cell_texts,
    check_ax,
    choice,
    fit_cjk,
    heatmap,
    levels,
    new_or_given,
    quiet_glyphs,
)
from tierlab.plots._docstrings import fill_doc

if TYPE_CHECKING:
    from tierlab.potential import PotentialEvaluation
    from tierlab.segment import ClusterResult

__all__ = ["plot_calibration", "plot_cluster_profiles"]


def _cluster_scaled(means: pd.DataFrame, weights: np.ndarray, scale: str) -> pd.DataFrame:
    values = means.to_numpy(dtype="float64")
    overall = np.average(values, axis=0, weights=weights)
    if scale == "log_ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where((values > 0) & (overall > 0), np.log2(values / overall), np.nan)
    else:
        sd = np.sqrt(np.average((values - overall) ** 2, axis=0, weights=weights))
        out = np.divide(values - overall, sd, out=np.zeros_like(values), where=sd > 0)
    return pd.DataFrame(out, index=means.index, columns=means.columns)


@fill_doc
def plot_cluster_profiles(result: ClusterResult | pd.DataFrame, *, scale: str = "log_ratio",
                          annot: bool = True, cmap: str = "RdBu_r", cbar: bool = True,
                          ax: Axes | None = None) -> Axes:
    """Heatmap of each cluster's feature means relative to all customers, with business names.

    Parameters
    ----------
    result : ClusterResult or DataFrame
        From :func:`tierlab.segment.cluster_customers` (uses ``.profile`` with ``name``,
        ``customers`` and ``<column>_mean``, ``.names`` and ``.columns``), or its ``profile``
        (the features are then its ``<column>_mean`` columns).
    scale : {{"log_ratio", "zscore"}}, default "log_ratio"
        Colour: ``log2(cluster mean / overall mean)`` (overall = customer-weighted mean of the
        cluster means; NaN where a mean is not positive), or the cluster means standardized
        across clusters (customer-weighted mean 0 and standard deviation 1 per feature).
    annot : bool, default True
        Write the cluster's raw mean in each cell.
    cmap : str, default "RdBu_r"
        Diverging colour map, centred at 0.
    {params.cbar}
    {params.ax}

    Returns
    -------
    Axes
        Rows = clusters (id order, labelled ``name (n customers)``), columns = features.

    Raises
    ------
    {params.raises}
    {params.raises_choice}
    """
    # over 60 lines: profile checks, scaling and row labels all feed one heatmap
    func = "plot_cluster_profiles"
    expected = ("a ClusterResult (cluster_customers) or its profile DataFrame with name, "
                "customers and <column>_mean columns")
    choice(scale, ("log_ratio", "zscore"), func, "scale")
    check_ax(ax, func)
    profile = attr_frame(result, "profile", func, expected)
    columns = None if isinstance(result, pd.DataFrame) else getattr(result, "columns", None)
    if columns is None:
        columns = [str(c)[:-5] for c in profile.columns if str(c).endswith("_mean")]
    mean_cols = [f"{c}_mean" for c in columns]
    if not mean_cols:
        raise DataError(f"{func} expects {expected}; the profile has no <column>_mean columns")
    require_columns(profile, mean_cols, func, expected, numeric=mean_cols)
    names = {} if isinstance(result, pd.DataFrame) else getattr(result, "names", None) or {}
    if "customers" in profile.columns:
        require_columns(profile, ["customers"], func, expected, numeric=["customers"])
        weights = profile["customers"].to_numpy(dtype="float64")
    else:
        weights = np.ones(len(profile))
    if not weights.sum() > 0:
        raise DataError(f"{func}: the clusters hold no customers; nothing to plot")
    means = profile[mean_cols].astype("float64")
    scaled = _cluster_scaled(means, weights, scale)
    rows = []
    sized = "customers" in profile.columns
    for i, cid in enumerate(profile.index):  # loop over clusters
        name = names.get(cid, profile["name"].get(cid) if "name" in profile.columns else cid)
        size = f" ({int(weights[i]):,})" if sized else ""
        rows.append(f"{name}{size}")
    scaled.index = pd.Index(rows, name="Cluster (customers)")
    scaled.columns = pd.Index([column_label(c) for c in columns], name="Feature")  # for people

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        texts = cell_texts(means.to_numpy(dtype="float64"), None) if annot else False
        label = ("log2(cluster mean / overall mean)" if scale == "log_ratio"
                 else "cluster mean, standardized across clusters")
        values = scaled.to_numpy(dtype="float64")
        finite = np.abs(values[np.isfinite(values)])
        limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        # symmetric limits centre the diverging map at 0 (seaborn's center= calls a
        # colormap method matplotlib deprecates)
        heatmap(ax, scaled, texts, cmap=cmap, cbar=cbar, cbar_label=label, vmin=-limit,
                 vmax=limit)
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_xlabel("Feature (cell text: cluster mean)")
        ax.set_ylabel("Cluster (customers)")
        ax.set_title("Cluster profiles relative to all customers")
        fit_cjk(ax)
    return ax


_TARGET_WORDS = {"purchases": "purchases", "spend": "spend",
                 "no_purchase": "probability of no purchase"}


@fill_doc
def plot_calibration(evaluation: PotentialEvaluation | pd.DataFrame, *,
                     target: str = "purchases", ax: Axes | None = None) -> Axes:
    """Mean predicted vs mean actual per decile of predictions, one line per model.

    Parameters
    ----------
    evaluation : PotentialEvaluation or DataFrame
        From :func:`tierlab.potential.evaluate_potential` (uses ``.calibration``), or that
        frame: ``model``, ``target``, ``decile``, ``n_customers``, ``mean_predicted``,
        ``mean_actual``.
    target : {{"purchases", "spend", "no_purchase"}}, default "purchases"
        Which prediction to draw (any value of the frame's ``target`` column).
    {params.ax}

    Returns
    -------
    Axes
        One line per model (deciles in order) and the dashed line of perfect calibration.

    Raises
    ------
    {params.raises}
    {params.raises_choice}
    """
    func = "plot_calibration"
    expected = ("a PotentialEvaluation (evaluate_potential) or its calibration DataFrame with "
                "columns model, target, decile, mean_predicted, mean_actual")
    check_ax(ax, func)
    frame = attr_frame(evaluation, "calibration", func, expected)
    cols = ["model", "decile", "mean_predicted", "mean_actual"]
    require_columns(frame, cols, func, expected, numeric=cols[1:])
    if "target" in frame.columns:
        targets = [str(t) for t in pd.unique(frame["target"])]
        if target not in targets:
            raise ArgumentError(f"{func}: target={target!r} is not in the calibration table "
                              f"(it has {', '.join(targets)}){did_you_mean(str(target), targets)}")
        frame = frame.loc[frame["target"] == target]
    models = levels(frame["model"])
    word = _TARGET_WORDS.get(target, str(target).replace("_", " "))

    ax = new_or_given(ax, func)
    with quiet_glyphs():
        colors = sns.color_palette(n_colors=len(models))
        for model, color in zip(models, colors, strict=True):
            part = frame.loc[frame["model"] == model].sort_values("decile")
            ax.plot(part["mean_predicted"].to_numpy(dtype="float64"),
                    part["mean_actual"].to_numpy(dtype="float64"), marker="o", markersize=4,
                    color=color, label=value_label(model))  # "bgnbd" → its name
        both = frame[["mean_predicted", "mean_actual"]].to_numpy(dtype="float64")
        both = both[np.isfinite(both)]
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        ax.plot([lo, hi], [lo, hi], linestyle="--", color="grey", linewidth=1,
                label="Perfect calibration")
        ax.set_xlabel(f"Mean predicted {word}")
        ax.set_ylabel(f"Mean actual {word} (holdout)")
        ax.set_title(f"Calibration by decile of predicted {word}")
        ax.legend(title="Model", fontsize="small")
        fit_cjk(ax)
    return ax
