"""Interactive exploration of a tier scheme: sliders for thresholds, review frequency, streaks.

:class:`TierExplorer` holds a scheme and the data. :meth:`TierExplorer.view` gives the tier
summary of a variant (no widgets needed: the notebook and the tests call it directly);
:meth:`TierExplorer.widget` builds ipywidgets controls that redraw tier sizes, revenue shares
and the trend when a value changes. Without a browser (papermill, nbval) the widgets simply
render nothing; everything else runs the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierlab.calendar import REVIEWS
from tierlab.errors import SchemeError
from tierlab.sweeps import ThresholdPath, threshold_paths
from tierlab.tiers.history import TierHistory
from tierlab.tiers.scheme import TierScheme

__all__ = ["TierExplorer", "TierView"]

_POLICY = ("policy.promote_after", "policy.demote_after")


@dataclass
class TierView:
    """A scheme variant and what it gives at the last review."""

    scheme: TierScheme
    history: TierHistory
    summary: pd.DataFrame
    settings: dict

    def to_dict(self) -> dict:
        """JSON-ready: the settings and per tier customers, shares and revenue."""
        summary = self.summary.copy()
        summary.index = summary.index.astype(str)
        return {"scheme": self.scheme.name, "settings": dict(self.settings),
                "review": str(self.history.reviews[-1].date()),
                "tiers": summary[["customers", "share", "revenue", "revenue_share"]]
                .to_dict(orient="index")}


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
    >>> app.view({"tiers[2].when.value": 800}).summary          # doctest: +SKIP
    >>> app.widget()                                            # doctest: +SKIP
    """

    def __init__(self, scheme: TierScheme, tx: pd.DataFrame, *, customers=None):
        self.scheme = scheme
        self.tx = tx
        self.customers = customers

    @property
    def thresholds(self) -> list[ThresholdPath]:
        """The scheme's numeric thresholds (one slider each)."""
        return threshold_paths(self.scheme)

    def settings(self) -> dict:
        """The scheme's current values of everything the controls change (path → value)."""
        out: dict = {t.path: t.value for t in self.thresholds}
        out["review"] = self.scheme.to_dict().get("review", "monthly")
        for path in _POLICY:
            out[path] = int(self.scheme.get_value(path)) if self._has(path) else 1
        return out

    def _has(self, path: str) -> bool:
        try:
            self.scheme.get_value(path)
        except SchemeError:
            return False
        return True

    def variant(self, settings: Mapping | None = None) -> TierScheme:
        """A copy of the scheme with ``settings`` (YAML path → value) applied."""
        base = self.settings()
        s = self.scheme
        for path, value in (settings or {}).items():
            if path not in base:
                raise SchemeError(f"TierExplorer: unknown setting {path!r}; settings: "
                                  f"{', '.join(base)}")
            if value == base[path]:
                continue
            if path in _POLICY and not self._has(path):
                data = s.to_dict()
                data.setdefault("policy", {})[path.split(".", 1)[1]] = int(value)
                s = TierScheme.from_dict(data, source=s.source)
            else:
                s = s.with_value(path, int(value) if path in _POLICY else value)
        return s

    def view(self, settings: Mapping | None = None) -> TierView:
        """Run a variant and summarize the tiers at its last review."""
        from tierlab.evaluate import tier_summary

        variant = self.variant(settings)
        hist = variant.run(self.tx, customers=self.customers)
        summary = tier_summary(hist.current["tier"], self.tx, customers=self.customers)
        return TierView(scheme=variant, history=hist, summary=summary,
                        settings={**self.settings(), **dict(settings or {})})

    def plot(self, view: TierView, *, axes=None):
        """Tier shares (customers and revenue) and the trend of a view, side by side."""
        import matplotlib.pyplot as plt

        from tierlab.plots import plot_tier_distribution, plot_tier_trend

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(13, 4))
        plot_tier_distribution(view.summary, ax=axes[0])
        plot_tier_trend(view.history, ax=axes[1])
        return np.asarray(axes)

    # --------------------------------------------------------------------------- widgets
    def controls(self) -> dict:
        """One ipywidgets control per setting: sliders, a review dropdown, streak sliders."""
        import ipywidgets as w

        style = {"description_width": "initial"}
        layout = w.Layout(width="520px")
        controls = {}
        for t in self.thresholds:
            top = max(3 * t.value, 1.0)
            step = float(10 ** np.floor(np.log10(top / 100)))
            if t.integer:  # counts (orders, nights, months): whole steps
                controls[t.path] = w.IntSlider(value=int(t.value), min=0, max=int(top),
                                               step=max(1, int(step)), description=t.description,
                                               style=style, layout=layout,
                                               continuous_update=False)
                continue
            controls[t.path] = w.FloatSlider(value=t.value, min=0.0, max=top, step=step,
                                             description=t.description, style=style,
                                             layout=layout, continuous_update=False)
        settings = self.settings()
        controls["review"] = w.Dropdown(options=list(REVIEWS), value=settings["review"],
                                        description="review", style=style)
        for path in _POLICY:
            controls[path] = w.IntSlider(value=settings[path], min=1, max=12,
                                         description=path.split(".", 1)[1], style=style,
                                         layout=layout, continuous_update=False)
        return controls

    def widget(self):
        """The controls and a live output: tier table and plots redraw on every change."""
        import ipywidgets as w
        import matplotlib.pyplot as plt
        from IPython.display import display

        controls = self.controls()
        keys = {f"s{i}": path for i, path in enumerate(controls)}

        def update(**values):
            settings = {keys[k]: v for k, v in values.items()}
            try:
                view = self.view(settings)
            except SchemeError as exc:
                print(f"invalid setting: {exc}")
                return
            display(view.summary[["customers", "share", "revenue", "revenue_share"]]
                    .style.format({"share": "{:.1%}", "revenue": "{:,.0f}",
                                   "revenue_share": "{:.1%}"}))
            self.plot(view)
            plt.show()

        out = w.interactive_output(update, {k: controls[p] for k, p in keys.items()})
        return w.VBox([w.VBox(list(controls.values())), out])
