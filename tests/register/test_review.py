"""Register.review: idempotent, dry run, a new scheme from the next review, refusals, rebuild."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import tierlab as tl
from tierlab.register import Register, RegisterError

SPEC = {
    "name": "Spend", "review": "monthly",
    "tiers": [{"name": "Low"},
              {"name": "Mid", "when": {"metric": "spend", "window": "3M", "op": ">=",
                                       "value": 300}, "promote_after": 2},
              {"name": "High", "when": {"metric": "spend", "window": "1M", "op": ">",
                                        "value": 400}}],
    "policy": {"demote_after": 3, "grace_reviews": 1},
}


def scheme_of(**changes) -> tl.TierScheme:
    spec = copy.deepcopy(SPEC)
    spec.update(changes)
    return tl.TierScheme.from_dict(spec)


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    data, _ = tl.generate(150, months=10, seed=5)
    return data


@pytest.fixture
def reg(tmp_path) -> Register:
    return Register(tmp_path / "register.duckdb")


def test_the_same_review_again_is_a_no_op_that_says_so(reg, tx):
    scheme = scheme_of()
    first = reg.review(tx, scheme, until="2024-03-31")
    assert first.committed == 3 and "committed 3 reviews 2024-01-31 … 2024-03-31" in first.message
    before = reg.reviews()
    again = reg.review(tx, scheme, until="2024-03-31")
    assert again.committed == 0 and "already committed" in again.message
    earlier = reg.review(tx, scheme, until="2024-02-15")  # inside February: up to January
    assert earlier.committed == 0 and "after 2024-01-31" in earlier.message
    assert_frame_equal(reg.reviews(), before)


def test_until_inside_a_period_stops_at_the_period_before(reg, tx):
    out = reg.review(tx, scheme_of(), until="2024-04-29")
    assert [r.review_date for r in out.results][-1] == pd.Timestamp("2024-03-31")


def test_a_dry_run_writes_nothing_and_shows_what_the_review_commits(reg, tx):
    scheme = scheme_of()
    reg.review(tx, scheme, until="2024-04-30")
    dry = reg.review(tx, scheme, until="2024-06-30", dry_run=True)
    assert dry.dry_run and dry.committed == 0 and len(dry.results) == 2
    assert reg.last_review() == pd.Timestamp("2024-04-30")
    done = reg.review(tx, scheme, until="2024-06-30")
    assert_frame_equal(dry.changes, done.changes)
    stored = reg.changes()
    assert_frame_equal(stored[stored["review"] > "2024-04-30"].reset_index(drop=True),
                       done.changes.sort_values(["customer_id", "review"], ignore_index=True))


def test_the_state_continues_the_counters_not_the_data_history(reg, tx):
    """Announced tiers stay: corrected history changes nothing already committed, and the
    next review starts from the committed tier."""
    scheme = scheme_of()
    reg.review(tx, scheme, until="2024-05-31")
    committed = reg.history()
    cur = reg.current()
    cid = cur.index[cur["tier"] != "High"][0]
    was = committed.loc[cid, pd.Timestamp("2024-05-31")]
    rich = tx[tx["customer_id"] == cid].iloc[:1].assign(
        timestamp=pd.Timestamp("2024-05-10"), amount=10_000.0)
    corrected = pd.concat([tx, rich], ignore_index=True)
    replay = scheme.run(corrected, end="2024-06-30")
    assert replay.tiers.loc[cid, pd.Timestamp("2024-05-31")] == "High" != was
    reg.review(corrected, scheme, until="2024-06-30")
    assert_frame_equal(reg.history().loc[committed.index].iloc[:, :5], committed)
    june = reg.changes()
    june = june[(june["customer_id"] == cid) & (june["review"] == "2024-06-30")]
    if len(june):  # a change in June starts from the committed May tier
        assert june["from_tier"].iloc[0] == was


def test_a_new_scheme_applies_from_the_next_review_and_is_recorded(reg, tx):
    old = scheme_of()
    reg.review(tx, old, until="2024-04-30")
    renamed = scheme_of(name="Spend 2025")  # same rules: the counters continue
    out = reg.review(tx, renamed, until="2024-08-31")
    assert out.results[0].scheme_changed and "new scheme 'Spend 2025'" in out.message
    assert out.counters_restarted == 0
    reviews = reg.reviews()
    assert reviews["scheme_name"].tolist() == ["Spend"] * 4 + ["Spend 2025"] * 4
    assert reviews["scheme_hash"].nunique() == 2
    replay = old.run(tx, end="2024-08-31")
    assert_frame_equal(reg.history(), replay.tiers, check_freq=False)
    assert_frame_equal(reg.changes(), replay.changes)


def test_a_scheme_with_other_tiers_carries_the_tiers_and_restarts_the_counters(reg, tx):
    reg.review(tx, scheme_of(), until="2024-04-30")
    spec = copy.deepcopy(SPEC)
    spec["tiers"].append({"name": "Top", "when": {"metric": "spend", "window": "1M", "op": ">",
                                                   "value": 2000}})
    out = reg.review(tx, tl.TierScheme.from_dict(spec), until="2024-05-31")
    assert out.counters_restarted == len(reg.state("2024-04-30"))
    assert "the tiers changed" in out.message
    may = reg.changes()
    may = may[may["review"] == "2024-05-31"]
    assert (may["direction"] != "new").all() | may["from_tier"].isna().any()


def test_a_committed_tier_missing_from_the_new_scheme_is_refused(reg, tx):
    reg.review(tx, scheme_of(), until="2024-03-31")
    spec = copy.deepcopy(SPEC)
    spec["tiers"][2]["name"] = "Gold"
    with pytest.raises(RegisterError, match=r"tier\(s\) \['High'\].*--rebuild"):
        reg.review(tx, tl.TierScheme.from_dict(spec), until="2024-04-30")
    assert reg.last_review() == pd.Timestamp("2024-03-31")


def test_transactions_without_the_registered_customers_are_refused(reg, tx):
    scheme = scheme_of()
    reg.review(tx, scheme, until="2024-03-31")
    month = tx[tx["timestamp"] >= "2024-04-01"]
    with pytest.raises(tl.DataError, match="full transaction log"):
        reg.review(month, scheme, until="2024-04-30")
    assert reg.last_review() == pd.Timestamp("2024-03-31")


def test_rebuild_replays_into_a_new_register_and_leaves_this_one(reg, tx, tmp_path):
    scheme = scheme_of()
    reg.review(tx, scheme, until="2024-05-31")
    reg.add_note("C00001", "call back")
    before = reg.reviews()
    stricter = scheme_of(name="Strict", policy={"demote_after": 1})
    new, out = reg.rebuild(tmp_path / "new.duckdb", tx, stricter, until="2024-05-31")
    assert out.committed == 5
    assert_frame_equal(reg.reviews(), before)
    assert_frame_equal(new.history(), stricter.run(tx, end="2024-05-31").tiers,
                       check_freq=False)
    assert new.notes()["text"].tolist() == ["call back"]
    with pytest.raises(tl.ArgumentError, match="already holds reviews"):
        reg.rebuild(tmp_path / "new.duckdb", tx, stricter)
    with pytest.raises(tl.ArgumentError, match="is this one"):
        reg.rebuild(reg.target, tx, stricter)


def test_as_history_feeds_what_the_notebook_computes(reg, tx):
    scheme = scheme_of()
    reg.review(tx, scheme, until="2024-09-30")
    mine, theirs = reg.as_history(), scheme.run(tx, end="2024-09-30")
    a, b = tl.stability(mine), tl.stability(theirs)
    assert_frame_equal(a.per_review, b.per_review)
    assert (a.flicker_rate, a.customers) == (b.flicker_rate, b.customers)
    assert_frame_equal(mine.at("2024-06-30").to_frame(), theirs.at("2024-06-30").to_frame())
    cid = theirs.changes["customer_id"].iloc[0]
    assert mine.explain(cid)["reason"].tolist() == theirs.explain(cid)["reason"].tolist()
    np.testing.assert_array_equal(mine.qualified_counts(), theirs.qualified_counts())


def test_an_override_added_to_the_register_applies_to_the_next_reviews(reg, tx):
    scheme = scheme_of()
    reg.review(tx, scheme, until="2024-03-31")
    cur = reg.current()
    cid = cur.index[cur["tier"] == "Low"][0]
    reg.add_override(cid, "High", "2024-04-01", "2024-05-31", reason="VIP agreement")
    reg.review(tx, scheme, until="2024-06-30")
    tiers = reg.history().loc[cid]
    assert tiers[pd.Timestamp("2024-04-30")] == tiers[pd.Timestamp("2024-05-31")] == "High"
    ch = reg.changes()
    ch = ch[(ch["customer_id"] == cid) & (ch["review"] == "2024-04-30")]
    assert ch["rule"].tolist() == ["override"] and "VIP agreement" in ch["reason"].iloc[0]


def test_chinese_reasons_are_committed_as_the_run_words_them(tmp_path):
    import tierlab as tl

    tx, _ = tl.generate(n_customers=150, months=8, start="2024-01-01", seed=11)
    scheme = tl.TierScheme.from_yaml(Path(__file__).resolve().parents[2] / "data" / "rules"
                                     / "monthly_spend.yaml")
    reg = tl.Register(tmp_path / "zh.duckdb")
    reg.review(tx, scheme, until="2024-05-31")
    reg.review(tx, scheme, until="2024-08-31")
    got = reg.changes(lang="zh").sort_values(["customer_id", "review"])["reason"].tolist()
    want = scheme.run(tx, end="2024-08-31").changes_in("zh")
    want = want.sort_values(["customer_id", "review"])["reason"].tolist()
    assert got == want and any("消费" in r for r in got)
