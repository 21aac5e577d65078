"""The explorer's widgets: controls, one result panel redrawn per change, lookup and save.

Every redraw replaces ONE ``ipywidgets.HTML`` value holding the tier table, the impact
against the scheme as written and the chart (a PNG rendered off-screen with the Agg canvas and
embedded as a data URI). Table and chart therefore always come from the same view and reach
the browser in one message. Nothing goes through pyplot or an ``Output`` widget: the inline
backend's figure handling and output capture of callbacks cannot interleave two renders.

Changes are debounced: each change (re)starts a short timer on the kernel's event loop and
only the values present when it fires are drawn, so a slider drag, a reset of every control
or several quick edits give one draw, of the latest settings.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierlab.calendar import REVIEWS
from tierlab.errors import TierlabError

if TYPE_CHECKING:
    from tierlab.explore import TierExplorer, TierView

__all__ = ["ExplorerApp", "build_controls", "result_html", "lookup_html"]

RESULT_CLASS = "tierlab-explore-result"
LOOKUP_CLASS = "tierlab-explore-lookup"
STATUS_CLASS = "tierlab-explore-status"


def build_controls(explorer: TierExplorer) -> dict[str, Any]:
    """One ipywidgets control per setting: sliders, a review dropdown, streak sliders."""
    import ipywidgets as w

    style = {"description_width": "initial"}
    layout = w.Layout(width="520px")
    controls: dict[str, Any] = {}
    for t in explorer.thresholds:
        top = max(3 * t.value, 1.0)
        step = float(10 ** np.floor(np.log10(top / 100)))
        common = {"description": t.description, "style": style, "layout": layout,
                  "continuous_update": False}  # the browser sends the value on release
        if t.integer:  # counts (orders, nights, months): whole steps
            controls[t.path] = w.IntSlider(value=int(t.value), min=0, max=int(top),
                                           step=max(1, int(step)), **common)
        else:
            controls[t.path] = w.FloatSlider(value=t.value, min=0.0, max=top, step=step,
                                             **common)
    settings = explorer.settings()
    controls["review"] = w.Dropdown(options=list(REVIEWS), value=settings["review"],
                                    description="review", style=style)
    for path in ("policy.promote_after", "policy.demote_after"):
        controls[path] = w.IntSlider(value=settings[path], min=1, max=12,
                                     description=path.split(".", 1)[1], style=style,
                                     layout=layout, continuous_update=False)
    return controls


# --------------------------------------------------------------------------- HTML
def _num(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:,.0f}"


def _signed(x: float) -> str:
    return f"{x:+,.0f}" if np.isfinite(x) else "–"


def _value(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{int(v):,}"
    return f"{v:,}" if isinstance(v, int | float) else str(v)


# numbers right-aligned; scoped to the explorer's own panel
_STYLE = ("<style>.tierlab-explore td{text-align:right;padding:0 10px}"
          ".tierlab-explore th{padding:0 10px}.tierlab-explore table{margin-bottom:8px}"
          "</style>")


def _tier_table(view: TierView) -> str:
    s = view.summary
    labels = view.scheme.labels
    rows = []
    cols = [s[c].to_numpy(dtype=float) for c in ("customers", "share", "revenue",
                                                  "revenue_share")]
    for tier, n, share, revenue, rev_share in zip(s.index.astype(str), *cols, strict=True):
        label = labels.get(tier, "")
        name = html.escape(tier) + (f" <small>{html.escape(label)}</small>" if label else "")
        rows.append(f"<tr><th>{name}</th><td>{int(n):,}</td><td>{share:.1%}</td>"
                    f"<td>{_num(revenue)}</td><td>{rev_share:.1%}</td></tr>")
    return ("<table class='tierlab-tiers'><thead><tr><th>tier</th><th>customers</th>"
            "<th>share</th><th>revenue</th><th>revenue share</th></tr></thead><tbody>"
            + "".join(rows[::-1]) + "</tbody></table>")  # highest tier on top


def _impact_block(explorer: TierExplorer, view: TierView) -> str:
    imp = view.impact
    if imp is None:
        return ""
    base = explorer.settings()
    changed = explorer.changed(view.settings)
    names = {t.path: t.description for t in explorer.thresholds}
    edits = "".join(f"<li>{html.escape(names.get(p, p))}: {html.escape(_value(base[p]))} → "
                    f"<b>{html.escape(_value(v))}</b></li>" for p, v in changed.items())
    cost = imp.benefit_cost
    cost_rows = "".join(
        f"<tr><th>{html.escape(str(t))}</th><td>{_num(a)}</td><td>{_num(b)}</td>"
        f"<td>{_signed(c)}</td></tr>"
        for t, a, b, c in zip(cost.index, *(cost[k].to_numpy(dtype=float)
                                            for k in ("as_written", "edited", "change")),
                              strict=True))
    mig = imp.migration
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in mig.columns)
    mig_rows = "".join(
        f"<tr><th>{html.escape(str(t))}</th>" + "".join(f"<td>{int(v):,}</td>" for v in row)
        + "</tr>" for t, row in zip(mig.index, mig.to_numpy(), strict=True))
    return (
        "<div class='tierlab-impact'><b>Against the scheme as written</b>"
        + (f"<ul>{edits}</ul>" if edits else "<p>(no change yet: move a control)</p>")
        + f"<p><span class='tierlab-up'>▲ {imp.up:,} up</span> · "
          f"<span class='tierlab-down'>▼ {imp.down:,} down</span> · {imp.unchanged:,} unchanged"
          f"<br>benefit cost per year: <b>{_signed(imp.cost_change)}</b></p>"
        + "<table><thead><tr><th>tier</th><th>cost as written</th><th>edited</th>"
          f"<th>change</th></tr></thead><tbody>{cost_rows}</tbody></table>"
        + "<p>as written (rows) → edited (columns)</p>"
          f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{mig_rows}</tbody></table>"
          "</div>")


def result_html(explorer: TierExplorer, view: TierView, *, draw: int = 0) -> str:
    """The result panel of a view: tier table, impact and chart, one HTML string."""
    png = base64.b64encode(explorer.png(view)).decode("ascii")
    review = html.escape(str(view.history.reviews[-1].date()))
    return (f"<div class='tierlab-explore' data-draw='{int(draw)}'>{_STYLE}"
            f"<p>Tiers at the last review ({review}), {html.escape(view.scheme.name)}</p>"
            "<div style='display:flex;gap:32px;align-items:flex-start'>"
            f"{_tier_table(view)}{_impact_block(explorer, view)}</div>"
            f"<img class='tierlab-chart' alt='tier shares and trend' "
            f"src='data:image/png;base64,{png}'/></div>")


def lookup_html(explorer: TierExplorer, view: TierView, customer_id: str) -> str:
    """One customer under the edited scheme: tier as written vs edited, timeline, reasons."""
    cid = customer_id.strip()
    if not cid:
        return "<p>Type a customer id to see their timeline and reasons.</p>"
    try:
        timeline = view.history.explain(cid)
    except TierlabError as exc:
        return f"<p class='tierlab-error'>{html.escape(str(exc))}</p>"
    base = explorer.baseline
    pos = base.customer_ids.get_indexer(pd.Index([cid]))[0]
    written = base.scheme.tier_names[base.codes[pos, -1]] if pos >= 0 and \
        base.codes[pos, -1] >= 0 else "–"
    edited = str(timeline["tier"].iloc[-1]) if len(timeline) else "–"
    frame = timeline.copy()
    frame["review"] = pd.DatetimeIndex(frame["review"]).date
    table = frame.to_html(index=False, escape=True, float_format=lambda x: f"{x:,.2f}",
                          na_rep="–", border=0)
    return (f"<p>Customer <b>{html.escape(cid)}</b>: {html.escape(written)} as written, "
            f"<b>{html.escape(edited)}</b> under the edited scheme.</p>{table}")


# --------------------------------------------------------------------------- app
class ExplorerApp:
    """The widget app of a :class:`~tierlab.explore.TierExplorer` (``.box`` to display).

    Parameters
    ----------
    explorer : TierExplorer
    save_dir : path, optional
        Where the save button writes the edited scheme (default: the working directory).
    debounce : float, default 0.25
        Seconds to wait after a change before drawing; 0 draws at once.
    """

    def __init__(self, explorer: TierExplorer, *, save_dir: str | Path | None = None,
                 debounce: float = 0.25):
        import ipywidgets as w

        self.explorer = explorer
        self.save_dir = Path(save_dir) if save_dir is not None else Path.cwd()
        self.debounce = float(debounce)
        self.draws = 0
        self.controls = build_controls(explorer)
        self._timer: asyncio.TimerHandle | None = None
        self._drawn: dict[str, Any] | None = None
        self.view: TierView | None = None

        self.result = w.HTML().add_class(RESULT_CLASS)
        self.status = w.HTML().add_class(STATUS_CLASS)
        self.lookup = w.Text(placeholder="customer id, then Enter", description="customer",
                             continuous_update=False)
        self.lookup_out = w.HTML().add_class(LOOKUP_CLASS)
        self.reset_button = w.Button(description="Reset",
                                     tooltip="every control back to the scheme as written")
        self.save_button = w.Button(description="Save as new YAML", button_style="primary")
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.lookup.observe(lambda _: self.draw_lookup(), names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.save_button.on_click(lambda _: self.save())
        self.box = w.VBox([w.VBox(list(self.controls.values())),
                           w.HBox([self.reset_button, self.save_button]), self.status,
                           self.result, self.lookup, self.lookup_out])
        self.redraw()
        self.draw_lookup()

    def settings(self) -> dict[str, Any]:
        """The controls' values (path → value)."""
        return {path: c.value for path, c in self.controls.items()}

    def _changed(self, _change: Any = None) -> None:
        if self.debounce <= 0:
            self.redraw()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a plain script): draw now
            self.redraw()
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(self.debounce, self._fire)

    def _fire(self) -> None:
        self._timer = None
        try:
            self.redraw()
        except Exception as exc:  # on the event loop nobody else would see it
            self.status.value = f"<p class='tierlab-error'>redraw failed: " \
                                f"{html.escape(repr(exc))}</p>"

    def redraw(self) -> bool:
        """Draw the current settings unless they are already drawn; True when it drew."""
        settings = self.settings()
        if settings == self._drawn:
            return False
        try:
            view = self.explorer.view(settings)
        except TierlabError as exc:
            self.status.value = (f"<p class='tierlab-error'>invalid setting: "
                                 f"{html.escape(str(exc))} (showing the last valid one)</p>")
            return False
        self.draws += 1
        self.result.value = result_html(self.explorer, view, draw=self.draws)  # one message
        self.view, self._drawn = view, settings
        self.status.value = ""
        if self.lookup.value.strip():
            self.draw_lookup()
        return True

    def draw_lookup(self) -> None:
        if self.view is not None:
            self.lookup_out.value = lookup_html(self.explorer, self.view, self.lookup.value)

    def reset(self) -> None:
        """Every control back to the scheme as written (one draw, after the debounce)."""
        base = self.explorer.settings()
        for path, control in self.controls.items():
            control.value = base[path]

    def save(self) -> Path | None:
        """Write the drawn settings to a new YAML file; say where and how to compare."""
        try:
            path = self.explorer.save(self.settings(), self.save_dir)
        except TierlabError as exc:
            self.status.value = f"<p class='tierlab-error'>{html.escape(str(exc))}</p>"
            return None
        original = self.explorer.scheme.source or "<scheme as written>"
        schemes = json.dumps([str(original), str(path)], ensure_ascii=False)
        command = f"tierlab report impact -y '{{schemes: {schemes}}}'"
        self.status.value = (f"<p class='tierlab-saved'>Saved to <code>{html.escape(str(path))}"
                             f"</code>. Compare with: <code>{html.escape(command)}</code></p>")
        return path
