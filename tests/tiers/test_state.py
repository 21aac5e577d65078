"""The review step on hand-built state arrays: SPEC §3 steps 2–7, one review at a time.

Each test builds the per-customer arrays itself (qualified levels ``L``, who enters when) and
steps through reviews; several customers step together, as in a run.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierlab.tiers.state import RULE_CODES, ReviewState, Rules, review_step

INITIAL, PROMOTION, DEMOTION, OVERRIDE = (RULE_CODES[k] for k in
                                          ("initial", "promotion", "demotion", "override"))


def rules(promote_after=(1, 1, 1), demote_after=1, steps=None, grace=0, lowest=False) -> Rules:
    return Rules(np.array(promote_after), demote_after, steps, grace, lowest)


def walk(r: Rules, levels: list[list[int]], entry: list[int] | None = None,
         fixed: dict[int, list[int]] | None = None):
    """Step customers (rows of ``levels``: L per review) from a fresh state.

    Returns the tier after each review (customers × reviews), the rule codes and the state.
    """
    L = np.array(levels, dtype=np.int8)
    n, R = L.shape
    entry_at = np.zeros(n, dtype=int) if entry is None else np.array(entry)
    state = ReviewState.start(n, r)
    tiers, rule_codes = np.zeros((n, R), dtype=int), np.zeros((n, R), dtype=int)
    for t in range(R):
        fix = None if fixed is None or t not in fixed else np.array(fixed[t], dtype=np.int8)
        step = review_step(state, t, L[:, t], entry_at == t, r, fix)
        tiers[:, t], rule_codes[:, t] = state.tier, step.rule
    return tiers, rule_codes, state


def test_promotion_after_n_qualifying_reviews():
    # High (2) needs 3 reviews in a row with L ≥ 2; the entry review counts
    tiers, codes, _ = walk(rules(promote_after=(1, 1, 3)), [
        [1, 2, 2, 2, 2],   # enters Mid; L ≥ 2 at reviews 1, 2, 3 → High at 3
        [2, 2, 2, 2, 2],   # enters High (initial: qualified)
        [1, 2, 2, 1, 2],   # the streak breaks at review 3: stays Mid
    ])
    assert tiers.tolist() == [[1, 1, 1, 2, 2], [2, 2, 2, 2, 2], [1, 1, 1, 1, 1]]
    assert codes[0].tolist() == [INITIAL, 0, 0, PROMOTION, 0]
    assert codes[1].tolist() == [INITIAL, 0, 0, 0, 0]


def test_promotion_goes_to_the_highest_tier_whose_streak_is_complete():
    # from Low, L = 2 twice: Mid (1 review) and High (2 reviews) both complete → High
    tiers, _, _ = walk(rules(promote_after=(1, 1, 2), lowest=True), [[2, 2, 2]])
    assert tiers.tolist() == [[0, 2, 2]]


def test_demotion_lands_on_the_highest_level_seen():
    tiers, codes, state = walk(rules(demote_after=3), [
        [2, 0, 1, 0, 0],   # three reviews below High: L = 0, 1, 0 → Mid
        [2, 0, 0, 0, 0],   # → Low
        [2, 0, 2, 0, 0],   # the run below is broken at review 2: nothing fires
    ])
    assert tiers.tolist() == [[2, 2, 2, 1, 1], [2, 2, 2, 0, 0], [2, 2, 2, 2, 2]]
    assert codes[:, 3].tolist() == [DEMOTION, DEMOTION, 0]
    # after the change the run restarts: 0 is below Mid once; nothing is below Low; the third
    # customer is still counting
    assert state.run_below.tolist() == [1, 0, 2]


def test_max_demotion_steps_holds_the_customer_higher():
    r = rules(promote_after=(1, 1, 1, 1), demote_after=2, steps=1)
    state = ReviewState.start(1, r)
    review_step(state, 0, np.array([3], dtype=np.int8), np.array([True]), r)
    review_step(state, 1, np.array([0], dtype=np.int8), np.array([False]), r)
    step = review_step(state, 2, np.array([0], dtype=np.int8), np.array([False]), r)
    assert state.tier.tolist() == [2] and step.soft.tolist() == [True]
    assert step.rule.tolist() == [DEMOTION]
    # counting restarts after the change: two more reviews below Gold → Silver, not sooner
    step = review_step(state, 3, np.array([0], dtype=np.int8), np.array([False]), r)
    assert state.tier.tolist() == [2]
    step = review_step(state, 4, np.array([0], dtype=np.int8), np.array([False]), r)
    assert state.tier.tolist() == [1] and step.soft.tolist() == [True]


def test_grace_after_a_promotion_blocks_demotion():
    tiers, _, _ = walk(rules(grace=2), [
        [0, 2, 0, 0, 0, 0],   # promoted at 1; 2 and 3 within grace; demoted at 4
        [2, 2, 0, 0, 0, 0],   # entered at High: no promotion, no grace → demoted at 2
    ])
    assert tiers.tolist() == [[0, 2, 2, 2, 0, 0], [2, 2, 0, 0, 0, 0]]


def test_entry_qualified_or_lowest_and_late_entry():
    levels = [[2, 2], [0, 1]]
    q, codes, _ = walk(rules(), levels, entry=[0, 1])
    low, _, _ = walk(rules(lowest=True), levels, entry=[0, 1])
    assert q.tolist() == [[2, 2], [-1, 1]]
    assert codes.tolist() == [[INITIAL, 0], [0, INITIAL]]
    # lowest: everyone starts at 0, and the entry review already counts toward a promotion
    assert low.tolist() == [[0, 2], [-1, 0]]


def test_not_enough_reviews_since_the_last_change():
    # a hand-built state: at High since review 4, below it for 5 reviews in a row, but only
    # reviews after the change count (rule 5), so demote_after = 3 cannot fire at review 5
    r = rules(demote_after=3)
    state = ReviewState(tier=np.array([2], dtype=np.int8), since=np.array([5], dtype=np.int32),
                        run_at_least=np.zeros((3, 1), dtype=np.int32),
                        run_below=np.array([5], dtype=np.int32),
                        last_at_least=np.full((3, 1), -1, dtype=np.int32),
                        last_promotion=np.array([4], dtype=np.int32))
    no = np.array([False])
    for t in (5, 6):
        review_step(state, t, np.array([0], dtype=np.int8), no, r)
        assert state.tier.tolist() == [2]
    step = review_step(state, 7, np.array([0], dtype=np.int8), no, r)
    assert state.tier.tolist() == [0] and step.rule.tolist() == [DEMOTION]
    assert state.since.tolist() == [8]


def test_overrides_fix_the_tier_then_the_rules_resume():
    high = [2, -1]
    tiers, codes, _ = walk(rules(demote_after=2), [[0] * 6, [0] * 6], entry=[0, 3],
                           fixed={1: high, 2: high, 3: [-1, 1]})
    # customer 0: High at 1–2 (override), then 2 reviews below → Low at 4
    # customer 1: overridden at its entry review 3 → Mid, then Low after 2 reviews below
    assert tiers.tolist() == [[0, 2, 2, 2, 0, 0], [-1, -1, -1, 1, 1, 0]]
    assert codes.tolist() == [[INITIAL, OVERRIDE, 0, 0, DEMOTION, 0],
                              [0, 0, 0, OVERRIDE, 0, DEMOTION]]


def test_override_before_entry_is_ignored():
    tiers, codes, _ = walk(rules(), [[1, 1]], entry=[1], fixed={0: [2]})
    assert tiers.tolist() == [[-1, 1]] and codes.tolist() == [[0, INITIAL]]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_customers_step_independently(data):
    # stepping customers together gives what stepping each one alone gives
    K = data.draw(st.integers(2, 4))
    r = rules(promote_after=tuple(data.draw(st.lists(st.integers(1, 3), min_size=K,
                                                     max_size=K))),
              demote_after=data.draw(st.integers(1, 3)),
              steps=data.draw(st.sampled_from([None, 1])),
              grace=data.draw(st.integers(0, 2)), lowest=data.draw(st.booleans()))
    n, R = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 8))
    levels = [data.draw(st.lists(st.integers(0, K - 1), min_size=R, max_size=R))
              for _ in range(n)]
    entry = data.draw(st.lists(st.integers(0, R - 1), min_size=n, max_size=n))
    together, _, _ = walk(r, levels, entry)
    alone = np.vstack([walk(r, [levels[i]], [entry[i]])[0] for i in range(n)])
    assert np.array_equal(together, alone)


def test_rules_of_a_scheme():
    from tierlab.tiers.scheme import TierScheme

    s = TierScheme.from_dict({"name": "x", "initial": "lowest", "tiers": [
        {"name": "A"}, {"name": "B", "when": {"metric": "spend", "op": ">", "value": 1}},
        {"name": "C", "when": {"metric": "spend", "op": ">", "value": 9}, "promote_after": 4}],
        "policy": {"promote_after": 2, "demote_after": 5, "max_demotion_steps": 1,
                   "grace_reviews": 3}})
    r = Rules.of(s)
    assert r.promote_after.tolist() == [1, 2, 4]
    assert (r.demote_after, r.max_demotion_steps, r.grace_reviews, r.initial_lowest) == \
        (5, 1, 3, True)
    with pytest.raises(IndexError):
        r.promote_after[3]  # noqa: B018 - one entry per tier


def _state_bytes(state: ReviewState) -> int:
    return sum(a.nbytes for a in vars(state).values())


def test_state_size_does_not_depend_on_streak_lengths():
    # the state is O(tiers) per customer: a streak of a billion reviews costs what one costs
    # (a ring of the last demote_after levels would need 10 GB per customer here)
    short = ReviewState.start(1000, rules(demote_after=1))
    long = ReviewState.start(1000, rules(promote_after=(1, 10**9, 10**9), demote_after=10**10))
    assert _state_bytes(long) == _state_bytes(short) < 1000 * 64


@pytest.mark.parametrize("one_at, lands_on", [(2, 0), (4, 0), (5, 1), (6, 1)])
def test_demotion_looks_only_at_the_last_demote_after_reviews(one_at, lands_on):
    # promoted to High at review 1; grace (4) holds the demotion until review 6, when the run
    # below High is 5 reviews long but the window of demote_after = 2 is reviews 5–6: a 1
    # before the window must not set the landing tier, a 1 inside it must.
    levels = [0, 2, 0, 0, 0, 0, 0, 0]
    levels[one_at] = 1
    tiers, codes, _ = walk(rules(demote_after=2, grace=4), [levels])
    down = int(np.flatnonzero(codes[0] == DEMOTION)[0])
    assert down == 6
    assert tiers[0, down] == lands_on
