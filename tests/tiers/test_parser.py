"""Scheme validation: wrong types and out-of-bound counts are SchemeErrors, so that every scheme
that validates also runs; operator suggestions."""

from __future__ import annotations

import copy
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tier_cases import MONTHLY, monthly_tx

from tierlab.errors import SchemeError
from tierlab.tiers.parser import MAX_GROUP_DEPTH, MAX_REVIEWS, MAX_TIERS, suggest_op
from tierlab.tiers.scheme import TierScheme


def variant(mutate) -> dict:
    d = copy.deepcopy(MONTHLY)
    mutate(d)
    return d


def nested(depth: int) -> dict:
    cond: dict = {"metric": "spend", "window": "1M", "op": ">", "value": 100}
    for _ in range(depth):
        cond = {"all": [cond]}
    return cond


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(lambda d: d.update(review=["monthly"]),
                     r"review: the review frequency must be a word, got a list", id="review-list"),
        pytest.param(lambda d: d["tiers"][1]["when"].update(metric=["spend"]),
                     r"tiers\[1\]\.when\.metric: the metric must be a word, got a list",
                     id="metric-list"),
        pytest.param(lambda d: d["tiers"][1]["when"].update(op=[">="]),
                     r"tiers\[1\]\.when\.op: the operator must be text, got a list",
                     id="op-list"),
        pytest.param(lambda d: d["tiers"][1]["when"].update(window={"months": 3}),
                     r"tiers\[1\]\.when\.window: bad window a mapping", id="window-mapping"),
        pytest.param(lambda d: d.update(initial=["lowest"]),
                     r"initial: must be 'qualified' or 'lowest'", id="initial-list"),
        pytest.param(lambda d: d["policy"].update(demote_after=10**12),
                     rf"policy\.demote_after: must be at most {MAX_REVIEWS}, got 1000000000000",
                     id="demote-after-huge"),
        pytest.param(lambda d: d["tiers"][2].update(promote_after=10**6),
                     rf"tiers\[2\]\.promote_after: must be at most {MAX_REVIEWS}",
                     id="promote-after-huge"),
        pytest.param(lambda d: d["policy"].update(grace_reviews=10**9),
                     rf"policy\.grace_reviews: must be at most {MAX_REVIEWS}", id="grace-huge"),
        pytest.param(lambda d: d["policy"].update(max_demotion_steps=10**12),
                     rf"policy\.max_demotion_steps: must be at most {MAX_TIERS}",
                     id="steps-huge"),
        pytest.param(lambda d: d["policy"].update(demote_after=1e12),
                     r"policy\.demote_after: must be a positive whole number, got 1000000000000\.0",
                     id="demote-after-float"),
        pytest.param(lambda d: d["tiers"][1].update(benefit_cost=float("nan")),
                     r"tiers\[1\]\.benefit_cost: must be a number ≥ 0", id="cost-nan"),
        pytest.param(lambda d: d["tiers"][1].update(benefit_cost=float("inf")),
                     r"tiers\[1\]\.benefit_cost: must be a number ≥ 0", id="cost-inf"),
        pytest.param(lambda d: d["tiers"][1].update(when={"attribute": "region", "op": "in",
                                                          "value": [{"a": 1}]}),
                     r"tiers\[1\]\.when\.value: attribute values are single words or numbers",
                     id="attribute-in-mapping"),
        pytest.param(lambda d: d["tiers"][1].update(when=nested(400)),
                     rf"tiers\[1\]\.when(\.all\[0\])+: 'all'/'any' groups nested more than "
                     rf"{MAX_GROUP_DEPTH} deep", id="400-deep"),
        pytest.param(lambda d: d.update(tiers=[{"name": "T0"}] + [
            {"name": f"T{k}", "when": {"metric": "spend", "op": ">=", "value": k}}
            for k in range(1, 130)]), rf"tiers: 130 tiers; a scheme has at most {MAX_TIERS}",
                     id="130-tiers"),
        pytest.param(lambda d: d["tiers"][1]["when"].update(op=""),
                     r"tiers\[1\]\.when\.op: empty operator: an unquoted > or >= is YAML "
                     r"syntax, quote it", id="empty-op"),
    ],
)
def test_wrong_types_and_bounds_are_scheme_errors(mutate, message):
    with pytest.raises(SchemeError, match=message):
        TierScheme.from_dict(variant(mutate), source="rules.yaml")


def test_a_deep_but_allowed_condition_parses_and_runs():
    scheme = TierScheme.from_dict(variant(
        lambda d: d["tiers"][1].update(when=nested(MAX_GROUP_DEPTH))))
    hist = scheme.run(monthly_tx({"a": [150, 0], "b": [50, 0]}))
    assert hist.tiers.iloc[:, 0].tolist() == ["Mid", "Low"]


def test_the_largest_scheme_allowed_runs_with_exact_tier_codes():
    # 100 tiers: tier k needs spend ≥ 10·k; the 8-bit tier codes must hold the top one (99)
    tiers = [{"name": "T0"}] + [{"name": f"T{k}", "when": {"metric": "spend", "op": ">=",
                                                            "value": 10 * k}}
                                for k in range(1, MAX_TIERS)]
    scheme = TierScheme.from_dict({"name": "many", "tiers": tiers,
                                   "policy": {"demote_after": MAX_REVIEWS,
                                              "promote_after": 1}})
    hist = scheme.run(monthly_tx({"top": [10_000, 10_000], "mid": [505, 0], "low": [5, 5]}))
    assert hist.current.loc[["top", "mid", "low"], "tier"].astype(str).tolist() == \
        ["T99", "T50", "T0"]


@pytest.mark.parametrize(("typed", "meant"), [("=>", ">="), ("=<", "<="), ("=", "=="),
                                              ("<>", "!="), ("≥", ">="), ("ge", ">=")])
def test_common_operator_slips_get_the_operator_meant(typed, meant):
    assert suggest_op(typed) == f" (did you mean {meant!r}?)"
    with pytest.raises(SchemeError, match=rf"unknown operator .*\(did you mean '{meant}'\?\)"):
        TierScheme.from_dict(variant(lambda d: d["tiers"][1]["when"].update(op=typed)))


def _peak_bytes(scheme: TierScheme, tx: pd.DataFrame) -> int:
    tracemalloc.start()
    try:
        scheme.run(tx)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_engine_memory_does_not_grow_with_streak_lengths():
    # 20,000 customers over 3 monthly reviews: streaks of 120 reviews must cost no more than
    # streaks of 1 (a ring of the last demote_after levels/figures would add ~20 MB here)
    rng = np.random.default_rng(7)
    n = 20_000
    tx = pd.DataFrame({"customer_id": np.repeat([f"c{i}" for i in range(n)], 3),
                       "timestamp": np.tile(pd.to_datetime(["2025-01-15", "2025-02-15",
                                                            "2025-03-15"]), n),
                       "amount": rng.integers(1, 900, 3 * n).astype(float)})
    short = TierScheme.from_dict(MONTHLY)
    long = TierScheme.from_dict(variant(lambda d: d["policy"].update(
        demote_after=MAX_REVIEWS, promote_after=MAX_REVIEWS)))
    _peak_bytes(short, tx)  # warm caches and imports
    base, streaky = _peak_bytes(short, tx), _peak_bytes(long, tx)
    assert streaky < base * 1.2 + 1_000_000, (base, streaky)


# ------------------------------------------------------------------ the class: valid ⇒ runs
_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4),
                  st.lists(st.integers(0, 3), max_size=2),
                  st.dictionaries(st.sampled_from(["metric", "all", "op"]), st.integers(0, 2),
                                  max_size=2))


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*path, i))


_TX = monthly_tx({"a": [600, 600, 600, 0], "b": [150, 0, 20, 700], "c": [0, 0, 50, 50]})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_scheme_with_any_value_replaced_either_fails_validation_or_runs(data):
    # the finding's class: check-scheme passing a scheme that then crashes when run
    d = copy.deepcopy(MONTHLY)
    d["policy"].update(max_demotion_steps=1, grace_reviews=0)
    path = data.draw(st.sampled_from([p for p in _paths(d) if p]))
    parent = d
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(_JUNK)
    try:
        scheme = TierScheme.from_dict(d, source="rules.yaml")
    except SchemeError:
        return
    hist = scheme.run(_TX)
    assert set(hist.current["tier"].astype(str)) <= set(scheme.tier_names)
