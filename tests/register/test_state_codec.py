"""The review state ↔ tier_state rows, for whatever fields ReviewState has; the resume hook."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

import tierlab as tl
from tierlab.register.state_codec import STATE_FIELDS, decode_state, encode_streaks
from tierlab.tiers.engine import ReviewEvent, run_scheme
from tierlab.tiers.state import ReviewState, Rules

SPEC = {"name": "S", "review": "quarterly",
        "tiers": [{"name": "A"},
                  {"name": "B", "when": {"metric": "spend", "window": "3M", "op": ">=",
                                         "value": 300}, "promote_after": 2},
                  {"name": "C", "when": {"metric": "orders", "window": "12M", "op": ">=",
                                         "value": 6}}],
        "policy": {"demote_after": 2, "grace_reviews": 1, "max_demotion_steps": 1}}


@pytest.fixture(scope="module")
def run():
    """A run's events: a copy of the state after each review."""
    tx, _ = tl.generate(200, months=24, seed=2)
    scheme = tl.TierScheme.from_dict(SPEC)
    events: list[tuple[ReviewEvent, ReviewState]] = []

    def keep(event: ReviewEvent) -> None:
        copy = ReviewState(**{f.name: np.array(getattr(event.state, f.name), copy=True)
                              for f in fields(ReviewState)})
        events.append((event, copy))

    hist = run_scheme(scheme, tx, on_review=keep)
    return scheme, tx, hist, events


def frame_of(state: ReviewState, ids: pd.Index, scheme, origin: int) -> pd.DataFrame:
    rows = np.flatnonzero(state.tier >= 0)
    return pd.DataFrame({"customer_id": ids.to_numpy(dtype=object)[rows],
                         "tier": np.array(scheme.tier_names, dtype=object)[state.tier[rows]],
                         "streaks": encode_streaks(state, rows, origin).to_numpy(
                             zero_copy_only=False)})


def test_every_field_round_trips(run):
    scheme, _, _, events = run
    event, state = events[len(events) // 2]
    frame = frame_of(state, event.customer_ids, scheme, event.origin)
    day = event.reviews[event.index]
    back = decode_state(frame, day, scheme, scheme)
    assert back.restarted == 0 and back.why == "" and back.resume.origin == event.origin
    rows = event.customer_ids.get_indexer(back.resume.customer_ids)
    for name in ["tier", *STATE_FIELDS]:
        want = np.asarray(getattr(state, name))[..., rows]
        got = np.asarray(getattr(back.resume.state, name))
        np.testing.assert_array_equal(got, want, err_msg=name)
        assert got.dtype == want.dtype


def test_the_json_names_every_stored_field(run):
    scheme, _, _, events = run
    event, state = events[-1]
    text = frame_of(state, event.customer_ids, scheme, event.origin)["streaks"].iloc[0]
    import json

    assert set(json.loads(text)) == {"o", *STATE_FIELDS}
    assert "tier" not in json.loads(text)


def test_customers_before_entry_hold_the_start_state(run):
    """What resuming relies on: a customer not yet in holds ReviewState.start's values."""
    scheme, _, _, events = run
    event, state = events[1]
    out = state.tier < 0
    assert out.any()
    start = ReviewState.start(len(state.tier), Rules.of(scheme))
    for f in fields(ReviewState):
        np.testing.assert_array_equal(np.asarray(getattr(state, f.name))[..., out],
                                      np.asarray(getattr(start, f.name))[..., out], f.name)


def test_resuming_from_any_review_continues_the_run(run):
    scheme, tx, hist, events = run
    for k in (0, 3, len(events) - 2):
        event, state = events[k]
        frame = frame_of(state, event.customer_ids, scheme, event.origin)
        day = event.reviews[event.index]
        back = decode_state(frame, day, scheme, scheme)
        rest = run_scheme(scheme, tx, resume=back.resume)
        after = hist.reviews > day
        np.testing.assert_array_equal(rest.codes[:, after], hist.codes[:, after])
        assert (rest.codes[:, ~after] == -1).all()
        mine = rest.changes
        theirs = hist.changes[hist.changes["review"] > day].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, theirs)


def test_an_unknown_stored_layout_restarts_the_counters(run):
    scheme, _, _, events = run
    event, state = events[2]
    frame = frame_of(state, event.customer_ids, scheme, event.origin)
    frame["streaks"] = '{"o":1,"something_else":[1,2]}'
    back = decode_state(frame, event.reviews[event.index], scheme, scheme)
    assert back.restarted == len(frame) and "not the ones this tierlab keeps" in back.why
    np.testing.assert_array_equal(back.resume.state.tier,
                                  state.tier[state.tier >= 0])


def test_review_numbers_survive_data_that_starts_earlier():
    """The stored numbers count from an absolute period: a log that now starts two years
    earlier (another customer's old purchase) continues the same counters."""
    tx, _ = tl.generate(300, months=12, seed=4)
    scheme = tl.TierScheme.from_dict({
        "name": "M", "review": "monthly",
        "tiers": [{"name": "A"},
                  {"name": "B", "when": {"metric": "spend", "window": "1M", "op": ">=",
                                         "value": 150}, "promote_after": 2},
                  {"name": "C", "when": {"metric": "spend", "window": "1M", "op": ">=",
                                         "value": 400}, "promote_after": 3}],
        "policy": {"demote_after": 2, "grace_reviews": 3}})
    kept: list[tuple[ReviewEvent, pd.DataFrame]] = []
    hist = run_scheme(scheme, tx, on_review=lambda e: kept.append(
        (e, frame_of(e.state, e.customer_ids, scheme, e.origin))))
    event, frame = kept[4]
    day = event.reviews[event.index]
    back = decode_state(frame, day, scheme, scheme)
    early = tx.iloc[:1].assign(customer_id="ZZ-early",
                               timestamp=tx["timestamp"].min() - pd.DateOffset(years=2))
    rest = run_scheme(scheme, pd.concat([early, tx], ignore_index=True), resume=back.resume)
    later = hist.reviews[hist.reviews > day]
    pd.testing.assert_frame_equal(rest.tiers.loc[hist.customer_ids, later],
                                  hist.tiers.loc[:, later])
