"""Register: commit order, no-ops, continuity, overrides and notes — on DuckDB and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from review_frames import first_review, next_review

import tierlab as tl
from tierlab.errors import ArgumentError, DataError
from tierlab.register import Register, RegisterError, data_fingerprint

IDS = ["C1", "C2", "C3", "C4"]


@pytest.fixture
def reg(target, scheme) -> Register:
    """A register with two committed monthly reviews (Jan and Feb 2025)."""
    r = Register(target)
    s1, c1 = first_review(IDS, ["Low", "Mid", "High", "Low"])
    r.commit_review("2025-01-31", scheme, s1, c1, data_fingerprint="d1", ran_by="test")
    s2, c2 = next_review(s1, {"C1": "Mid", "C3": "Mid"}, "2025-02-28")
    r.commit_review("2025-02-28", scheme, s2, c2, data_fingerprint="d2", ran_by="test")
    return r


def test_commits_are_recorded_with_scheme_and_data(reg, scheme):
    reviews = reg.reviews()
    assert reviews["review_date"].tolist() == [pd.Timestamp("2025-01-31"),
                                               pd.Timestamp("2025-02-28")]
    assert reviews["data_fingerprint"].tolist() == ["d1", "d2"]
    assert reviews["ran_by"].tolist() == ["test", "test"]
    assert reviews["customers"].tolist() == [4, 4]
    assert reviews["changes"].tolist() == [4, 2]
    assert reviews["scheme_name"].iloc[0] == "Spend"
    assert reviews["tierlab_version"].iloc[0] == tl.__version__
    assert reg.scheme() == scheme  # the stored text reads back as the same scheme
    assert reg.last_review() == pd.Timestamp("2025-02-28")


def test_the_same_review_again_is_a_no_op_that_says_so(reg, scheme):
    s1, c1 = first_review(IDS, ["High"] * 4)  # even with other content: nothing changes
    res = reg.commit_review("2025-01-31", scheme, s1, c1, data_fingerprint="other")
    assert not res.committed and "already committed" in res.message
    assert reg.history()["2025-01-31"].astype(str).tolist() == ["Low", "Mid", "High", "Low"]
    assert len(reg.reviews()) == 2


def test_earlier_or_gapped_reviews_are_refused(reg, scheme):
    state = reg.state()
    empty = pd.DataFrame(columns=["customer_id", "to_tier", "direction", "rule", "reason"])
    with pytest.raises(RegisterError, match="gap.*2025-03-31"):
        reg.commit_review("2025-04-30", scheme, state, empty, data_fingerprint="x")
    with pytest.raises(RegisterError, match="earlier than the last committed review"):
        reg.commit_review("2024-12-31", scheme, state, empty, data_fingerprint="x")
    with pytest.raises(ArgumentError, match="not the end of a monthly review period"):
        reg.commit_review("2025-03-15", scheme, state, empty, data_fingerprint="x")
    res = reg.commit_review("2025-03-31", scheme, state, empty, data_fingerprint="x")
    assert res.committed and res.changes == 0


def test_a_new_review_frequency_continues_from_the_next_period(reg, scheme):
    quarterly = scheme.to_dict() | {"review": "quarterly", "name": "Spend Q"}
    q = tl.TierScheme.from_dict(quarterly)
    empty = pd.DataFrame(columns=["customer_id", "to_tier", "direction", "rule", "reason"])
    with pytest.raises(RegisterError, match="next due review after 2025-02-28 is 2025-03-31"):
        reg.commit_review("2025-06-30", q, reg.state(), empty, data_fingerprint="x")
    res = reg.commit_review("2025-03-31", q, reg.state(), empty, data_fingerprint="x")
    assert res.scheme_changed and "new scheme" in res.message


def test_a_review_must_continue_from_the_committed_state(reg, scheme):
    state = reg.state()
    moved = state.assign(tier=["High", "Mid", "Mid", "Low"])  # C1 moves without a change row
    empty = pd.DataFrame(columns=["customer_id", "to_tier", "direction", "rule", "reason"])
    with pytest.raises(DataError, match="'C1' moves from 'Mid' to 'High' without a row"):
        reg.commit_review("2025-03-31", scheme, moved, empty, data_fingerprint="x")
    wrong_from = pd.DataFrame({"customer_id": ["C1"], "from_tier": ["Low"], "to_tier": ["High"],
                               "direction": ["up"], "rule": ["promotion"], "reason": ["r"]})
    with pytest.raises(DataError, match="committed tier at 2025-02-28 is 'Mid'"):
        reg.commit_review("2025-03-31", scheme, moved, wrong_from, data_fingerprint="x")
    with pytest.raises(DataError, match="'C4' had a tier"):
        reg.commit_review("2025-03-31", scheme, state.iloc[:3], empty, data_fingerprint="x")
    assert reg.last_review() == pd.Timestamp("2025-02-28")  # nothing half-written


@pytest.mark.parametrize("column, value, error, match", [
    ("tier", "Gold", DataError, "tier 'Gold' is not one of"),
    ("phone", "13812345678", ArgumentError, "unknown column.*contact details"),
    ("promote_streak", -1, DataError, "whole number"),
    ("customer_id", "C1", DataError, "'C1' appears twice"),
], ids=["unknown-tier", "contact-column", "negative-streak", "duplicate-id"])
def test_state_frames_are_validated(target, scheme, column, value, error, match):
    reg = Register(target)
    state, changes = first_review(IDS, ["Low"] * 4)
    state[column] = value
    with pytest.raises(error, match=match):
        reg.commit_review("2025-01-31", scheme, state, changes, data_fingerprint="x")
    assert reg.reviews().empty


def test_changes_must_agree_with_the_state(target, scheme):
    reg = Register(target)
    state, changes = first_review(IDS, ["Low"] * 4)
    bad = changes.assign(to_tier=["Low", "Low", "Mid", "Low"])
    with pytest.raises(DataError, match="'C3' changes to 'Mid' but state_frame gives tier 'Low'"):
        reg.commit_review("2025-01-31", scheme, state, bad, data_fingerprint="x")
    with pytest.raises(DataError, match="direction 'new' goes with an empty from_tier"):
        reg.commit_review("2025-01-31", scheme, state, changes.assign(direction="up"),
                          data_fingerprint="x")


def test_overrides_and_notes_are_kept_without_contact_details(reg):
    first = reg.add_override("C2", "High", "2025-03-01", "2025-05-31",
                             reason="key account, call 138 1234 5678", by="ops")
    second = reg.add_override("C4", "Mid", "2025-04-01")
    assert second > first
    ov = reg.overrides()
    assert ov.columns.tolist() == ["customer_id", "tier", "from", "until", "reason"]
    assert ov["reason"].tolist() == ["key account, call ****", "manual override"]
    assert ov["until"].isna().tolist() == [False, True]
    with pytest.raises(DataError, match="unknown tier 'Hgh'.*did you mean 'High'"):
        reg.add_override("C2", "Hgh", "2025-03-01")
    with pytest.raises(ArgumentError, match="before start"):
        reg.add_override("C2", "High", "2025-03-01", "2025-01-01")
    reg.add_note("C1", "prefers mail: alice@example.com")
    reg.add_note("C2", "VIP")
    notes = reg.notes("C1")
    assert notes["text"].tolist() == ["prefers mail: a***@example.com"]
    assert len(reg.notes()) == 2


def test_data_fingerprint_ignores_order_and_sees_values():
    tx = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0]})
    assert data_fingerprint(tx) == data_fingerprint(tx.iloc[::-1][["amount", "customer_id"]])
    assert data_fingerprint(tx) != data_fingerprint(tx.assign(amount=[1.0, 2.5]))
    assert data_fingerprint(tx).startswith("2:")


def test_a_register_reopens_with_its_reviews(reg, target):
    again = Register(target)
    assert again.last_review() == pd.Timestamp("2025-02-28")
    assert repr(again).endswith("last review 2025-02-28>")


def test_text_and_missing_values_round_trip(target, scheme):
    # commas, quotes, new lines, backslashes, non-ASCII, empty text and missing values survive
    # both engines (PostgreSQL's rows travel as CSV, where "" and NULL differ only by quoting)
    reg = Register(target)
    state, changes = first_review(["a,b", 'q"x', "C\\N"], ["Low", "Mid", "High"])
    changes["reason"] = ['one, "two"\nthree', "\\N", "等级：高"]
    changes["reason_zh"] = ["", None, "高"]
    figures = pd.DataFrame({"customer_id": state["customer_id"],
                            "spend_1M": [1.5, float("nan"), 1e12]})
    reg.commit_review("2025-01-31", scheme, state, changes, data_fingerprint="x",
                      figures=figures)
    en = reg.changes().set_index("customer_id")["reason"]
    assert en.to_dict() == {"C\\N": "等级：高", "a,b": 'one, "two"\nthree', 'q"x': "\\N"}
    zh = reg.changes(lang="zh").set_index("customer_id")["reason"]
    assert zh.to_dict() == {"C\\N": "高", "a,b": "", 'q"x': "\\N"}  # missing: English
    assert reg.explain("a,b")["spend_1M"].tolist() == [1.5]
    assert reg.explain('q"x')["spend_1M"].isna().all()
    assert reg.explain("C\\N")["spend_1M"].tolist() == [1e12]
    assert reg.state()["customer_id"].tolist() == ["C\\N", "a,b", 'q"x']  # text order
