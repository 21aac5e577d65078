"""compare_schemes and threshold_sweep on the bundled sample, checked with plain pandas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tierlab.compare import compare_schemes, threshold_sweep
from tierlab.datasets import sample_customers, sample_transactions
from tierlab.errors import ArgumentError, DataError, SchemeError
from tierlab.tiers.scheme import TierScheme

RULES = Path(__file__).resolve().parents[1] / "data" / "rules"
CURRENT = RULES / "monthly_spend.yaml"
STRICT = RULES / "monthly_spend_strict.yaml"


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return sample_transactions()


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return sample_customers()


@pytest.fixture(scope="module")
def comparison(tx, customers):
    return compare_schemes({"current": str(CURRENT), "proposed": STRICT}, tx, customers)


@pytest.fixture(scope="module")
def revenue(tx) -> pd.Series:
    return tx.groupby("customer_id")["amount"].sum()


def test_movement_counts_add_up_and_match_tier_comparison(comparison, tx):
    n = tx["customer_id"].nunique()
    mv = comparison.movement.loc["proposed"]
    assert mv["up"] + mv["down"] + mv["unchanged"] == n == mv["total"]
    assert mv["only_one"] == 0 and not mv["scaled"]
    a = comparison.histories["current"].current["tier"]
    b = comparison.histories["proposed"].current["tier"].reindex(a.index)
    # same tier names: ordered categoricals compare by tier order
    assert mv["up"] == int((b > a).sum())
    assert mv["down"] == int((b < a).sum())
    assert mv["unchanged"] == int((b == a).sum())
    assert mv["down"] > 0  # the strict scheme must demote someone on the sample


def test_migration_is_the_crosstab_of_current_tiers(comparison):
    a = comparison.histories["current"].current["tier"]
    b = comparison.histories["proposed"].current["tier"]
    m = comparison.migration["proposed"]
    ct = pd.crosstab(a, b)
    for f in a.cat.categories:
        for t in b.cat.categories:
            assert m.loc[f, t] == (ct.loc[f, t] if f in ct.index and t in ct.columns else 0)
    assert m.loc["(none)"].sum() == 0 and m["(none)"].sum() == 0


def test_affected_customers_carry_each_schemes_tier_and_reason(comparison, revenue):
    aff = comparison.affected
    cur = comparison.histories["current"].current
    pro = comparison.histories["proposed"].current
    differing = (cur["tier"].astype(str) != pro["tier"].reindex(cur.index).astype(str))
    assert len(aff) == min(20, int(differing.sum()))
    assert aff["customer_id"].is_unique
    ids = aff["customer_id"]
    assert (aff["tier_current"].astype(str).to_numpy()
            == cur.loc[ids, "tier"].astype(str).to_numpy()).all()
    assert (aff["tier_proposed"].astype(str).to_numpy()
            == pro.loc[ids, "tier"].astype(str).to_numpy()).all()
    assert (aff["reason_current"].to_numpy() == cur.loc[ids, "reason"].to_numpy()).all()
    assert (aff["reason_proposed"].to_numpy() == pro.loc[ids, "reason"].to_numpy()).all()
    assert (aff["tier_current"].astype(str) != aff["tier_proposed"].astype(str)).all()
    np.testing.assert_allclose(aff["revenue"].to_numpy(), revenue.loc[ids].to_numpy())
    # the largest revenues among all differing customers, in order
    top = revenue.loc[differing[differing].index].sort_values(ascending=False).head(20)
    np.testing.assert_allclose(aff["revenue"].to_numpy(), top.to_numpy())
    moves = np.where(aff["tier_proposed"].cat.codes > aff["tier_current"].cat.codes, "up", "down")
    assert (aff["move_proposed"].to_numpy() == moves).all()


def test_revenue_and_cost_per_tier(comparison, tx, revenue):
    rc = comparison.revenue_cost
    assert list(rc.columns[:6]) == ["scheme", "tier", "customers", "revenue", "revenue_share",
                                    "benefit_cost"]
    totals = rc.groupby("scheme")["revenue"].sum()
    assert totals["current"] == pytest.approx(tx["amount"].sum())
    assert totals["proposed"] == pytest.approx(tx["amount"].sum())
    for name, path in (("current", CURRENT), ("proposed", STRICT)):
        scheme = TierScheme.from_yaml(path)
        tiers = comparison.histories[name].current["tier"]
        by_tier = revenue.groupby(tiers.reindex(revenue.index), observed=False).sum()
        sizes = tiers.value_counts().reindex(scheme.tier_names)
        part = rc[rc["scheme"] == name].set_index("tier")
        np.testing.assert_allclose(part["revenue"].to_numpy(),
                                   by_tier.reindex(scheme.tier_names).to_numpy())
        assert part["customers"].tolist() == sizes.tolist()
        costs = [t.benefit_cost for t in scheme.tiers]
        np.testing.assert_allclose(part["benefit_cost"].to_numpy(),
                                   sizes.to_numpy() * np.array(costs) * 12)  # monthly reviews
        assert part["revenue_share"].sum() == pytest.approx(1.0)


def test_validity_matches_a_separate_holdout_run(comparison, tx):
    cutoff = pd.Timestamp("2025-06-30")   # last date 2025-12-31 minus 6 months
    assert comparison.cutoff == cutoff
    holdout = tx[tx["timestamp"] >= "2025-07-01"]
    spend = holdout.groupby("customer_id")["amount"].sum()
    for name, path in (("current", CURRENT), ("proposed", STRICT)):
        hist = TierScheme.from_yaml(path).run(tx[tx["timestamp"] < "2025-07-01"])
        at_cutoff = hist.current["tier"]      # the last review is 2025-06-30
        frame = pd.DataFrame({"rank": at_cutoff.cat.codes,
                              "spend": spend.reindex(at_cutoff.index, fill_value=0.0)})
        rho = frame.corr(method="spearman").loc["rank", "spend"]
        row = comparison.validity.loc[name]
        assert row["spearman"] == pytest.approx(rho)
        assert row["customers"] == len(at_cutoff)
        means = frame.groupby("rank")["spend"].mean()
        assert row["ordered"] == bool(means.is_monotonic_increasing and means.is_unique)
        assert row["top_tier_lift"] == pytest.approx(means.iloc[-1] / frame["spend"].mean())


def test_stability_table(comparison):
    st = comparison.stability
    assert list(st.index) == ["current", "proposed"]
    for name in st.index:
        hist = comparison.histories[name]
        moves = (hist.changes["direction"] != "new").sum()
        assert comparison.stabilities[name].changes == moves
        assert 0 <= st.loc[name, "flicker_rate"] <= 1


def test_summary_text_and_json(comparison):
    text = comparison.summary_text()
    mv = comparison.movement.loc["proposed"]
    assert text.startswith(f"proposed vs current: {mv['up']:,} customers move up, "
                           f"{mv['down']:,} down, {mv['unchanged']:,} unchanged;")
    assert "High revenue share" in text and "benefit cost" in text
    assert "holdout rank correlation" in text
    d = comparison.to_dict()
    text_json = json.dumps(d, allow_nan=False, ensure_ascii=False)
    back = json.loads(text_json)
    assert back["movement"]["proposed"]["up"] == mv["up"]
    assert back["summary"] == text
    assert len(back["affected"]) == len(comparison.affected)


def test_history_input_gives_the_same_result(comparison, tx, customers):
    hist = TierScheme.from_yaml(CURRENT).run(tx, customers=customers)
    again = compare_schemes({"current": hist, "proposed": TierScheme.from_yaml(STRICT)}, tx,
                            customers, holdout_months=None)
    assert again.histories["current"] is hist
    pd.testing.assert_frame_equal(again.movement, comparison.movement)
    pd.testing.assert_frame_equal(again.affected, comparison.affected)
    assert len(again.validity) == 0 and again.cutoff is None


def test_different_tier_lists_compare_scaled_positions(tx):
    two = TierScheme.from_dict({"name": "two", "tiers": [
        {"name": "Basic"},
        {"name": "Plus", "when": {"metric": "spend", "window": "1M", "op": ">=", "value": 300},
         "benefit_cost": 10}]})
    cmp = compare_schemes({"current": CURRENT, "two": two}, tx, holdout_months=None, top=5)
    mv = cmp.movement.loc["two"]
    assert mv["scaled"]
    a = cmp.histories["current"].current["tier"].cat.codes / 2     # Low 0, Mid 0.5, High 1
    b = cmp.histories["two"].current["tier"].cat.codes.reindex(a.index).astype(float)
    assert mv["up"] == int((b > a).sum()) and mv["down"] == int((b < a).sum())
    assert "0–1 scale" in cmp.summary_text()
    assert len(cmp.affected) == 5


def test_compare_errors(tx):
    with pytest.raises(ArgumentError, match="schemes\\['b'\\]"):
        compare_schemes({"a": CURRENT, "b": 42}, tx)
    with pytest.raises(DataError, match="shorter holdout"):
        compare_schemes({"a": CURRENT}, tx, holdout_months=60)


# ------------------------------------------------------------------ threshold sweep
SIMPLE = {"name": "Simple", "review": "monthly", "tiers": [
    {"name": "Low"},
    {"name": "Top", "when": {"metric": "spend", "window": "3M", "op": ">=", "value": 1000}}]}


def test_threshold_sweep_sizes_and_monotone_top_tier(tx):
    scheme = TierScheme.from_dict(SIMPLE)
    values = [200, 500, 1000, 2000, 5000, 20000]
    sweep = threshold_sweep(scheme, "tiers[1].when.value", values, tx)
    assert {"value", "tier", "customers", "share", "revenue_share"} <= set(sweep.columns)
    n = tx["customer_id"].nunique()
    sizes = sweep.groupby("value")["customers"].sum()
    assert (sizes == n).all() and list(sizes.index) == values
    assert np.allclose(sweep.groupby("value")["share"].sum(), 1.0)
    assert np.allclose(sweep.groupby("value")["revenue_share"].sum(), 1.0)
    top = sweep[sweep["tier"] == "Top"].set_index("value")["customers"]
    assert (np.diff(top.to_numpy()) <= 0).all()
    assert top.iloc[0] > top.iloc[-1]
    # with promotion and demotion after one review, Top = 3-month spend (Oct–Dec 2025) ≥ value
    last3 = tx[tx["timestamp"] >= "2025-10-01"].groupby("customer_id")["amount"].sum()
    for v in values:
        assert top[v] == int((last3 >= v).sum())
    assert scheme.get_value("tiers[1].when.value") == 1000      # the scheme is not edited


def test_threshold_sweep_from_path_leaves_file_alone(tx):
    before = STRICT.read_text(encoding="utf-8")
    sweep = threshold_sweep(STRICT, "policy.demote_after", [1, 6], tx)
    assert STRICT.read_text(encoding="utf-8") == before
    assert list(sweep["tier"].cat.categories) == ["Low", "Mid", "High"]
    assert len(sweep) == 6
    with pytest.raises(SchemeError, match="tiers\\[9\\]"):
        threshold_sweep(STRICT, "tiers[9].when.value", [1], tx)
