"""The explorer without a browser: views against the package's own summaries and comparison,
the app's redraw and debounce, HTML escaping, the lookup and the saved scheme."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

import tierlab as tl
from tierlab.errors import ArgumentError
from tierlab.explore import TierExplorer
from tierlab.explore_app import ExplorerApp, lookup_html, result_html

RULES = Path(__file__).resolve().parent.parent / "data" / "rules"


@pytest.fixture(scope="module")
def data(small_data):
    tx = tl.load_transactions(small_data.transactions).transactions
    customers = tl.load_customers(small_data.customers).customers
    return tx, customers


@pytest.fixture
def explorer(data):
    tx, customers = data
    return TierExplorer(tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml"), tx,
                        customers=customers)


VARIANTS = [
    {},
    {"tiers[2].when.value": 900.0},
    {"tiers[1].when.value": 250.0, "policy.demote_after": 2},
    {"review": "quarterly", "policy.promote_after": 2},
]


@pytest.mark.parametrize("settings", VARIANTS, ids=["as-written", "high", "mid-demote",
                                                    "quarterly"])
def test_view_matches_tier_summary_and_compare_schemes(explorer, data, settings):
    tx, customers = data
    view = explorer.view(settings)
    # the reference: the variant run from scratch and the package's own summary
    scheme = explorer.scheme
    for path, value in settings.items():
        if path == "review":
            data_ = scheme.to_dict()
            data_["review"] = value
            scheme = tl.TierScheme.from_dict(data_)
        else:
            scheme = scheme.with_value(path, value)
    hist = scheme.run(tx, customers=customers)
    expected = tl.tier_summary(hist.current["tier"], tx, customers=customers)
    pd.testing.assert_frame_equal(view.summary, expected, check_index_type=False,
                                  check_categorical=False, rtol=1e-9)
    cmp = tl.compare_schemes({"written": explorer.scheme, "edited": scheme}, tx,
                             customers=customers, holdout_months=None)
    mv = cmp.movement.loc["edited"]
    assert (view.impact.up, view.impact.down, view.impact.unchanged) == \
        (mv["up"], mv["down"], mv["unchanged"])
    cost = cmp.revenue_cost.groupby("scheme")["benefit_cost"].sum()
    assert view.impact.cost_change == pytest.approx(cost["edited"] - cost["written"])
    assert view.impact.migration.to_numpy().sum() == mv["total"]
    if not settings:
        assert view.impact.up == view.impact.down == 0 and view.impact.cost_change == 0


def test_stricter_high_moves_customers_down_and_cuts_cost(explorer):
    view = explorer.view({"tiers[2].when.value": 2000.0})
    base = explorer.view()
    assert view.impact.down > 10 * view.impact.up  # a few move up: tiers depend on the path
    mig = view.impact.migration
    # rows: tiers as written; columns: tiers under the variant
    np.testing.assert_array_equal(mig.sum(axis=1), base.summary["customers"])
    np.testing.assert_array_equal(mig.sum(axis=0), view.summary["customers"])
    assert np.triu(mig.to_numpy(), 1).sum() == view.impact.up
    assert np.tril(mig.to_numpy(), -1).sum() == view.impact.down
    assert view.impact.cost_change < 0
    assert view.to_dict()["impact"]["down"] == view.impact.down


def test_views_are_cached_and_the_original_untouched(explorer):
    a = explorer.view({"tiers[2].when.value": 700})
    assert explorer.view({"tiers[2].when.value": 700.0}) is a  # 700 and 700.0: one setting
    assert explorer.view().history is explorer.baseline
    assert explorer.scheme.get_value("tiers[2].when.value") == 500
    with pytest.raises(tl.SchemeError, match="unknown setting"):
        explorer.view({"tiers[7].when.value": 1})


def test_explain_uses_the_edited_scheme(explorer):
    cid = explorer.baseline.customer_ids[0]
    edited = explorer.explain(cid, {"tiers[1].when.value": 1e9, "tiers[2].when.value": 2e9})
    assert set(edited["qualified"]) == {"Low"}
    np.testing.assert_array_equal(explorer.explain(cid)["tier"],
                                  explorer.baseline.explain(cid)["tier"])


# ------------------------------------------------------------------------------------ app
def _png_ok(html: str) -> np.ndarray:
    src = re.search(r"src='data:image/png;base64,([^']+)'", html)
    assert src is not None
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.group(1)))).convert("RGBA"))
    assert (img[..., 3] == 255).all()  # opaque
    assert len(np.unique(img[..., :3].reshape(-1, 3), axis=0)) > 8
    return img


def test_app_draws_once_per_change_table_and_chart_together(explorer):
    app = ExplorerApp(explorer, debounce=0)
    assert app.draws == 1
    first = app.result.value
    _png_ok(first)
    app.controls["tiers[2].when.value"].value = 1000.0
    assert app.draws == 2
    second = app.result.value
    assert not np.array_equal(_png_ok(first), _png_ok(second))
    # the one HTML value holds the table of the same view as the chart
    high = explorer.view({"tiers[2].when.value": 1000.0}).summary.loc["High", "customers"]
    assert f"<td>{int(high):,}</td>" in second
    assert app.redraw() is False and app.draws == 2  # nothing changed: nothing drawn


def test_debounce_coalesces_quick_changes_into_one_draw(explorer):
    async def scenario() -> ExplorerApp:
        app = ExplorerApp(explorer, debounce=0.05)
        app.controls["tiers[2].when.value"].value = 800.0
        app.controls["review"].value = "quarterly"
        app.controls["policy.demote_after"].value = 3
        assert app.draws == 1  # not yet: the timer is running
        await asyncio.sleep(0.5)
        return app

    app = asyncio.run(scenario())
    assert app.draws == 2
    assert app.view is not None and app.view.settings["review"] == "quarterly"
    assert app.view.settings["policy.demote_after"] == 3


def test_reset_returns_to_the_scheme_as_written(explorer):
    app = ExplorerApp(explorer, debounce=0)
    app.controls["tiers[2].when.value"].value = 900.0
    app.reset()
    assert app.view is not None and explorer.changed(app.view.settings) == {}
    assert "no change yet" in app.result.value


def test_tier_names_and_labels_are_escaped(data):
    tx, customers = data
    raw = yaml.safe_load((RULES / "monthly_spend.yaml").read_text(encoding="utf-8"))
    raw["tiers"][2]["name"] = "<b>Top&</b>"
    raw["tiers"][2]["label"] = "<script>alert(1)</script>"
    raw["name"] = "<i>scheme</i>"
    app = TierExplorer(tl.TierScheme.from_dict(raw), tx, customers=customers)
    view = app.view({"tiers[2].when.value": 900.0})
    out = result_html(app, view)
    assert "<script>" not in out and "<b>Top" not in out and "<i>scheme" not in out
    assert "&lt;b&gt;Top&amp;&lt;/b&gt;" in out and "&lt;script&gt;" in out
    cid = view.history.customer_ids[0]
    look = lookup_html(app, view, cid)
    assert "<b>Top" not in look
    missing = lookup_html(app, view, "<img src=x onerror=alert(1)>")
    assert "<img" not in missing and "&lt;img" in missing


def test_lookup_shows_both_tiers_and_the_timeline(explorer):
    view = explorer.view({"tiers[2].when.value": 5000.0})
    high = explorer.baseline.current.index[explorer.baseline.current["tier"] == "High"][0]
    out = lookup_html(explorer, view, f"  {high} ")
    assert f"<b>{high}</b>: High as written, <b>Mid</b>" in out or \
        f"<b>{high}</b>: High as written, <b>Low</b>" in out
    assert "spend_1M" in out and "reason" in out
    assert "Type a customer id" in lookup_html(explorer, view, "")


# ------------------------------------------------------------------------------------ save
def test_save_writes_new_files_and_never_overwrites(explorer, tmp_path):
    settings = {"tiers[2].when.value": 900.0, "review": "quarterly"}
    first = explorer.save(settings, tmp_path)
    assert first.name == "monthly_spend_edited.yaml"
    second = explorer.save(settings, tmp_path)
    assert second.name == "monthly_spend_edited_2.yaml"
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")
    saved = tl.TierScheme.from_yaml(first)
    variant = explorer.variant(settings)
    assert saved.review == "Q" and saved.get_value("tiers[2].when.value") == 900
    assert {k: v for k, v in saved.to_dict().items() if k != "name"} == \
        {k: v for k, v in variant.to_dict().items() if k != "name"}
    assert "tiers[2].when.value: 500.0 -> 900.0" in first.read_text(encoding="utf-8")
    with pytest.raises(ArgumentError, match="nothing changed"):
        explorer.save({}, tmp_path)


def test_save_next_to_the_original_keeps_the_original(tmp_path, data):
    tx, customers = data
    original = tmp_path / "monthly_spend.yaml"
    original.write_text((RULES / "monthly_spend.yaml").read_text(encoding="utf-8"),
                        encoding="utf-8")
    before = original.read_bytes()
    app = TierExplorer(tl.TierScheme.from_yaml(original), tx, customers=customers)
    path = app.save({"policy.demote_after": 3}, tmp_path, stem="monthly_spend")
    assert path != original and original.read_bytes() == before


@pytest.mark.slow
def test_saved_scheme_runs_in_the_impact_report(explorer, tmp_path, small_data, run_cli):
    app = ExplorerApp(explorer, save_dir=tmp_path, debounce=0)
    app.controls["tiers[2].when.value"].value = 900.0
    path = app.save()
    assert path is not None and "tierlab report impact" in app.status.value
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({
        "transactions": str(small_data.transactions), "customers": str(small_data.customers),
        "schemes": [str(RULES / "monthly_spend.yaml"), str(path)], "holdout_months": 3,
    }), encoding="utf-8")
    res = run_cli(["report", "impact", "-f", str(params), "--out", str(tmp_path / "reports"),
                   "-q"])
    assert res.code == 0, res.stderr
    metrics = (tmp_path / "reports" / "impact" / "latest" / "metrics.json")
    moved = yaml.safe_load(metrics.read_text(encoding="utf-8"))["movement"]
    assert app.view is not None and app.view.impact is not None
    assert moved["monthly_spend_edited"]["down"] == app.view.impact.down
