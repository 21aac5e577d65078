"""Interactive exploration of a tier scheme: sliders for thresholds, review frequency, streaks.

:class:`TierExplorer` holds a scheme and the data. :meth:`TierExplorer.view` gives the tier
summary of a variant and how it differs from the scheme as written (customers moving up or
down, benefit cost); no widgets are needed, the notebook and the tests call it directly.
:meth:`TierExplorer.widget` builds the ipywidgets app (:mod:`tierlab.explore_app`) that
redraws on every change. Without a browser (papermill, nbval) the widgets render nothing;
everything else runs the same.

What does not depend on the controls is computed once and kept: per-customer revenue, orders,
recency and satisfaction (the tier summary of a variant is then a few ``bincount`` calls), the
run of the scheme as written, and the last few variants (going back to a setting is instant).
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierlab.calendar import REVIEWS
from tierlab.errors import ArgumentError, SchemeError
from tierlab.features import rfm
from tierlab.sweeps import threshold_paths
from tierlab.tiers.history import TierHistory
from tierlab.tiers.scheme import TierScheme

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tierlab.sweeps import ThresholdPath

__all__ = ["TierExplorer", "TierView", "Impact"]

POLICY_PATHS = ("policy.promote_after", "policy.demote_after")
REVIEW_NAMES = {code: name for name, code in REVIEWS.items()}  # "M" → "monthly"
_CACHE_SIZE = 16  # variants kept (each holds a history: customers × reviews int8)


@dataclass
class Impact:
    """A variant against the scheme as written, at the last review.

    Attributes
    ----------
    up, down, unchanged : int
        Customers whose tier is higher, lower or the same under the variant.
    migration : DataFrame
        Customers per (tier as written → tier under the variant), tiers lowest first.
    benefit_cost : DataFrame
        Per tier: annual benefit cost as written, under the variant, and the change
        (members × ``benefit_cost`` per review × reviews per year).
    """

    up: int
    down: int
    unchanged: int
    migration: pd.DataFrame
    benefit_cost: pd.DataFrame

    @property
    def cost_change(self) -> float:
        """Annual benefit cost under the variant minus as written."""
        return float(self.benefit_cost["change"].sum())

    def to_dict(self) -> dict:
        cost = self.benefit_cost
        return {"up": self.up, "down": self.down, "unchanged": self.unchanged,
                "benefit_cost": {"as_written": float(cost["as_written"].sum()),
                                 "edited": float(cost["edited"].sum()),
                                 "change": self.cost_change}}


@dataclass
class TierView:
    """A scheme variant and what it gives at the last review."""

    scheme: TierScheme
    history: TierHistory
    summary: pd.DataFrame
    settings: dict
    impact: Impact | None = field(default=None)

    def to_dict(self) -> dict:
        """JSON-ready: the settings, per tier customers, shares and revenue, and the impact."""
        summary = self.summary.copy()
        summary.index = summary.index.astype(str)
        out = {"scheme": self.scheme.name, "settings": dict(self.settings),
               "review": str(self.history.reviews[-1].date()),
               "tiers": summary[["customers", "share", "revenue", "revenue_share"]]
               .to_dict(orient="index")}
        if self.impact is not None:
            out["impact"] = self.impact.to_dict()
        return out


class _CustomerFigures:
    """Per-customer figures that no control changes, aligned to the run's customer ids."""

    def __init__(self, tx: pd.DataFrame, customers: pd.DataFrame | None, ids: pd.Index):
        # the same figures tier_summary computes: rfm over all the data at its last date
        as_of = pd.Timestamp(tx["timestamp"].max()).normalize()
        feats = rfm(tx, as_of=as_of)
        self.ids = ids
        self.spend = feats["monetary_total"].reindex(ids, fill_value=0.0).to_numpy(float)
        self.orders = feats["frequency"].reindex(ids, fill_value=0).to_numpy(float)
        self.recency = feats["recency_days"].reindex(ids).to_numpy(float)
        self.satisfaction: np.ndarray | None = None
        if customers is not None and "satisfaction" in customers.columns:
            table = customers.set_index("customer_id") if "customer_id" in customers.columns \
                else customers
            sat = pd.to_numeric(table["satisfaction"], errors="coerce")
            sat.index = sat.index.astype(str)
            sat = sat[~sat.index.duplicated()]
            self.satisfaction = sat.reindex(ids).to_numpy(float)

    def summary(self, codes: np.ndarray, names: list[str]) -> pd.DataFrame:
        """``tier_summary`` of the tier codes (``-1``: no tier) by bincount."""
        K = len(names)
        has = codes >= 0
        c = codes[has].astype(np.int64)

        def total(values: np.ndarray) -> np.ndarray:
            return np.bincount(c, weights=values[has], minlength=K)

        def mean(values: np.ndarray) -> np.ndarray:  # NaN-skipping, like groupby().mean()
            v = values[has]
            ok = ~np.isnan(v)
            n = np.bincount(c[ok], minlength=K)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.bincount(c[ok], weights=v[ok], minlength=K) / np.where(n, n, np.nan)

        counts = np.bincount(c, minlength=K).astype(np.int64)
        revenue = total(self.spend)
        n_all, rev_all = counts.sum(), revenue.sum()
        index = pd.CategoricalIndex(names, categories=names, ordered=True, name="tier")
        out = pd.DataFrame({
            "customers": counts,
            "share": counts / n_all if n_all else np.zeros(K),
            "revenue": revenue,
            "revenue_share": revenue / rev_all if rev_all else np.full(K, np.nan),
            "mean_spend": mean(self.spend),
            "mean_orders": mean(self.orders),
            "mean_recency_days": mean(self.recency),
        }, index=index)
        if self.satisfaction is not None:
            out["mean_satisfaction"] = mean(self.satisfaction)
        return out


def _last_codes(hist: TierHistory, ids: pd.Index) -> np.ndarray:
    codes = hist.codes[:, -1].astype(np.int64)
    if hist.customer_ids.equals(ids):
        return codes
    pos = hist.customer_ids.get_indexer(ids)
    return np.where(pos >= 0, codes[pos], -1)


def annual_benefit_cost(scheme: TierScheme, counts: np.ndarray) -> np.ndarray:
    """Per tier: members × benefit cost per review × reviews per year."""
    per_review = np.array([t.benefit_cost for t in scheme.tiers], dtype=float)
    return np.asarray(counts, dtype=float) * per_review * (12 / scheme.review_months)


class TierExplorer:
    """Try thresholds, review frequency and streak lengths of a scheme on the data.

    Parameters
    ----------
    scheme : TierScheme
        The scheme as written (never modified; variants are copies).
    tx : DataFrame
        Canonical transactions.
    customers : DataFrame, optional
        Customer table (for attribute conditions and satisfaction).

    Examples
    --------
    >>> app = TierExplorer(scheme, tx)                          # doctest: +SKIP
    >>> app.view({"tiers[2].when.value": 800}).impact.up        # doctest: +SKIP
    >>> app.widget()                                            # doctest: +SKIP
    """

    def __init__(self, scheme: TierScheme, tx: pd.DataFrame, *,
                 customers: pd.DataFrame | None = None):
        self.scheme = scheme
        self.tx = tx
        self.customers = customers
        self._settings: dict[str, Any] | None = None
        self._figures: _CustomerFigures | None = None
        self._base: TierHistory | None = None
        self._views: OrderedDict[tuple, TierView] = OrderedDict()

    # ------------------------------------------------------------------ settings
    @property
    def thresholds(self) -> list[ThresholdPath]:
        """The scheme's numeric thresholds (one slider each)."""
        return threshold_paths(self.scheme)

    def settings(self) -> dict[str, Any]:
        """The scheme's current values of everything the controls change (path → value)."""
        if self._settings is None:
            out: dict[str, Any] = {t.path: t.value for t in self.thresholds}
            out["review"] = REVIEW_NAMES.get(self.scheme.review, self.scheme.review)
            for path in POLICY_PATHS:
                out[path] = int(self.scheme.get_value(path)) if self._has(path) else 1
            self._settings = out
        return dict(self._settings)

    def _has(self, path: str) -> bool:
        try:
            self.scheme.get_value(path)
        except SchemeError:
            return False
        return True

    def _normalized(self, settings: Mapping | None) -> dict[str, Any]:
        base = self.settings()
        for path, value in (settings or {}).items():
            if path not in base:
                raise SchemeError(f"TierExplorer: unknown setting {path!r}; settings: "
                                  f"{', '.join(base)}")
            if path in POLICY_PATHS:
                value = int(value)
            elif path != "review":
                value = float(value)
            base[path] = value
        return base

    def changed(self, settings: Mapping | None) -> dict[str, Any]:
        """The settings that differ from the scheme as written."""
        base = self.settings()
        return {p: v for p, v in self._normalized(settings).items() if v != base[p]}

    def variant(self, settings: Mapping | None = None) -> TierScheme:
        """A copy of the scheme with ``settings`` (YAML path → value) applied."""
        s = self.scheme
        integer = {t.path for t in self.thresholds if t.integer}
        for path, value in self.changed(settings).items():
            if path in POLICY_PATHS and not self._has(path):
                data = s.to_dict()
                data.setdefault("policy", {})[path.split(".", 1)[1]] = int(value)
                s = TierScheme.from_dict(data, source=s.source)
            elif path in integer and float(value).is_integer():
                s = s.with_value(path, int(value))
            else:
                s = s.with_value(path, value)
        return s

    # ------------------------------------------------------------------ views
    @property
    def baseline(self) -> TierHistory:
        """The run of the scheme as written (computed once)."""
        if self._base is None:
            self._base = self.scheme.run(self.tx, customers=self.customers)
        return self._base

    def _customer_figures(self) -> _CustomerFigures:
        if self._figures is None:
            self._figures = _CustomerFigures(self.tx, self.customers, self.baseline.customer_ids)
        return self._figures

    def view(self, settings: Mapping | None = None) -> TierView:
        """Run a variant and summarize the tiers at its last review, against the baseline."""
        full = self._normalized(settings)
        key = tuple(sorted((k, str(v)) for k, v in full.items()))
        if key in self._views:
            self._views.move_to_end(key)
            return self._views[key]
        variant = self.variant(full)
        changed = self.changed(full)
        hist = self.baseline if not changed else variant.run(self.tx, customers=self.customers)
        figures = self._customer_figures()
        codes = _last_codes(hist, figures.ids)
        summary = figures.summary(codes, variant.tier_names)
        view = TierView(scheme=variant, history=hist, summary=summary, settings=full,
                        impact=self._impact(variant, codes))
        self._views[key] = view
        if len(self._views) > _CACHE_SIZE:
            self._views.popitem(last=False)
        return view

    def _impact(self, variant: TierScheme, codes: np.ndarray) -> Impact:
        ids = self._customer_figures().ids
        base = _last_codes(self.baseline, ids)
        names = self.scheme.tier_names
        K = len(names)
        both = (base >= 0) & (codes >= 0)
        b, v = base[both], codes[both]
        cells = np.bincount(b * K + v, minlength=K * K).reshape(K, K)
        migration = pd.DataFrame(cells, index=pd.Index(names, name="as written"),
                                 columns=pd.Index(names, name="edited"))
        before = annual_benefit_cost(self.scheme, np.bincount(base[base >= 0], minlength=K))
        after = annual_benefit_cost(variant, np.bincount(codes[codes >= 0], minlength=K))
        cost = pd.DataFrame({"as_written": before, "edited": after, "change": after - before},
                            index=pd.Index(names, name="tier"))
        return Impact(up=int((v > b).sum()), down=int((v < b).sum()),
                      unchanged=int((v == b).sum()), migration=migration, benefit_cost=cost)

    def explain(self, customer_id: object, settings: Mapping | None = None) -> pd.DataFrame:
        """One customer's timeline and reasons under a variant (``TierHistory.explain``)."""
        return self.view(settings).history.explain(customer_id)

    # ------------------------------------------------------------------ output
    def figure(self, view: TierView) -> Figure:
        """Tier shares and trend of a view on a new figure that pyplot never sees."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(13, 4), facecolor="white")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 2)
        # fixed margins: a layout engine doubles the drawing time at every redraw
        fig.subplots_adjust(left=0.06, right=0.91, bottom=0.14, top=0.9, wspace=0.22)
        self.plot(view, axes=axes)
        return fig

    def png(self, view: TierView, *, dpi: int = 72) -> bytes:
        """The :meth:`figure` of a view as PNG bytes (opaque white background)."""
        buf = io.BytesIO()
        self.figure(view).savefig(buf, format="png", dpi=dpi, facecolor="white")
        return buf.getvalue()

    def plot(self, view: TierView, *, axes: Any = None) -> np.ndarray:
        """Tier shares (customers and revenue) and the trend of a view, side by side."""
        from tierlab.plots import plot_tier_distribution, plot_tier_trend

        if axes is None:
            import matplotlib.pyplot as plt

            _, axes = plt.subplots(1, 2, figsize=(13, 4))
        plot_tier_distribution(view.summary, ax=axes[0])
        plot_tier_trend(view.history, ax=axes[1])
        axes[0].set_title("Share of customers and revenue")
        axes[1].set_title("Customers per tier at each review")  # the variant's name is long
        return np.asarray(axes)

    def save(self, settings: Mapping | None, directory: str | Path, *,
             stem: str | None = None) -> Path:
        """Write the variant to a NEW YAML file in ``directory`` and return its path.

        The name is ``<original stem>_edited.yaml`` (then ``_edited_2`` …): an existing file,
        the original included, is never overwritten. The file is a plain scheme that
        ``tierlab report impact`` takes beside the original.
        """
        changed = self.changed(settings)
        if not changed:
            raise ArgumentError("TierExplorer.save: nothing changed from the scheme as "
                                "written; move a control first")
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        original = Path(self.scheme.source) if self.scheme.source else None
        base = stem or (original.stem if original else "scheme")
        data = self.variant(changed).to_dict()
        data["name"] = f"{self.scheme.name} (edited)"
        header = "".join(f"#   {p}: {self.settings()[p]} -> {v}\n" for p, v in changed.items())
        text = (f"# Edited in the tier explorer from {original.name if original else base}:\n"
                f"{header}" + TierScheme.from_dict(data).to_yaml())
        for i in range(1, 1000):
            path = folder / (f"{base}_edited.yaml" if i == 1 else f"{base}_edited_{i}.yaml")
            if original is not None and path.resolve() == original.resolve():
                continue
            try:
                with open(path, "x", encoding="utf-8") as fh:  # "x": never overwrite
                    fh.write(text)
            except FileExistsError:
                continue
            return path
        raise ArgumentError(f"TierExplorer.save: {folder} already holds 999 edited copies of "
                            f"{base}; choose another directory")

    # ------------------------------------------------------------------ widgets
    def controls(self) -> dict:
        """One ipywidgets control per setting: sliders, a review dropdown, streak sliders."""
        from tierlab.explore_app import build_controls

        return build_controls(self)

    def widget(self, *, save_dir: str | Path | None = None, debounce: float = 0.25) -> Any:
        """The app: controls, tier table, impact, chart, customer lookup and a save button."""
        from tierlab.explore_app import ExplorerApp

        return ExplorerApp(self, save_dir=save_dir, debounce=debounce).box
