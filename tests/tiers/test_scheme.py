"""TierScheme parsing, validation errors (one per mistake), linting and the shipped rule files."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from tier_cases import NESTED

from tierlab.errors import ArgumentError, SchemeError
from tierlab.tiers.scheme import AllOf, AnyOf, Attribute, Metric, TierScheme

RULES = Path(__file__).resolve().parents[2] / "data" / "rules"



def bad(mutate) -> dict:
    d = copy.deepcopy(NESTED)
    mutate(d)
    return d


def test_parses_nested_conditions_and_defaults():
    s = TierScheme.from_dict(NESTED)
    assert s.tier_names == ["Low", "Mid", "High"]
    assert s.review == "M" and s.initial == "qualified"
    assert s.policy.promote_after == 1 and s.policy.demote_after == 3
    high = s.tiers[2].when
    assert isinstance(high, AnyOf) and isinstance(high.parts[1], AllOf)
    assert isinstance(high.parts[1].parts[1], Attribute)
    assert high.parts[0] == Metric("spend", "3M", ">", 500, "tiers[2].when.any[0]")
    assert "3-month spend above 500" in s.describe()


def test_round_trip_to_dict_and_yaml(tmp_path):
    s = TierScheme.from_dict(NESTED)
    again = TierScheme.from_dict(s.to_dict())
    assert again == s
    path = tmp_path / "s.yaml"
    path.write_text(s.to_yaml(), encoding="utf-8")
    assert TierScheme.from_yaml(path) == s


def test_with_value_makes_a_validated_copy():
    s = TierScheme.from_dict(NESTED)
    t = s.with_value("tiers[1].when.value", 150)
    assert t.tiers[1].when.value == 150 and s.tiers[1].when.value == 100
    assert t.get_value("tiers[2].when.any[0].value") == 500
    with pytest.raises(SchemeError, match=r"tiers\[7\]"):
        s.with_value("tiers[7].when.value", 1)
    with pytest.raises(SchemeError, match="must be a positive whole number"):
        s.with_value("policy.demote_after", 0)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(lambda d: d["tiers"][1]["when"].update(metric="spendd"),
                     r"tiers\[1\]\.when\.metric: unknown metric 'spendd' \(did you mean "
                     r"'spend'\?\); allowed: spend, orders", id="unknown-metric"),
        pytest.param(lambda d: d["tiers"][2]["when"]["any"][0].update(op="=>"),
                     r"tiers\[2\]\.when\.any\[0\]\.op: unknown operator '=>'.*allowed: > >= <",
                     id="bad-op"),
        pytest.param(lambda d: d["tiers"][1]["when"].pop("value"),
                     r"tiers\[1\]\.when: missing threshold 'value'", id="missing-threshold"),
        pytest.param(lambda d: d["tiers"][0].update(when={"metric": "spend", "op": ">",
                                                          "value": 0}),
                     r"tiers\[0\]\.when: the lowest tier \(Low\) must not have a condition",
                     id="lowest-with-condition"),
        pytest.param(lambda d: d["tiers"][2].update(name="Mid"),
                     r"tiers\[2\]\.name: duplicate tier name 'Mid' \(also tiers\[1\]\)",
                     id="duplicate-names"),
        pytest.param(lambda d: d["policy"].update(demote_after=0),
                     r"policy\.demote_after: must be a positive whole number, got 0",
                     id="non-positive-demote"),
        pytest.param(lambda d: d["tiers"][2].update(promote_after=-2),
                     r"tiers\[2\]\.promote_after: must be a positive whole number",
                     id="non-positive-promote"),
        pytest.param(lambda d: d["policy"].update(grace_reviews=-1),
                     r"policy\.grace_reviews: must be a whole number ≥ 0", id="negative-grace"),
        pytest.param(lambda d: d["policy"].update(demote_afer=2),
                     r"policy\.demote_afer: unknown key 'demote_afer' \(did you mean "
                     r"'demote_after'\?\)", id="unknown-policy-key"),
        pytest.param(lambda d: d["tiers"][1].update(promote_afterr=2),
                     r"unknown key 'promote_afterr' \(did you mean 'promote_after'\?\)",
                     id="unknown-tier-key"),
        pytest.param(lambda d: d.update(reveiw="monthly"),
                     r"reveiw: unknown key 'reveiw' \(did you mean 'review'\?\)",
                     id="unknown-top-key"),
        pytest.param(lambda d: d["tiers"][1]["when"].update(window="1Y"),
                     r"tiers\[1\]\.when\.window: bad window '1Y'", id="bad-window"),
        pytest.param(lambda d: d.update(review="weekly"),
                     r"review: unknown review frequency 'weekly'", id="bad-review"),
        pytest.param(lambda d: d["tiers"][1].pop("when"),
                     r"tiers\[1\]: tier 'Mid' needs a 'when' condition", id="missing-when"),
        pytest.param(lambda d: d["tiers"][1]["when"].update(value="lots"),
                     r"tiers\[1\]\.when\.value: spend is compared with numbers",
                     id="non-numeric-threshold"),
        pytest.param(lambda d: d["tiers"][1]["when"].update(op="in"),
                     r"'in' needs a non-empty list", id="in-needs-list"),
        pytest.param(lambda d: d["tiers"][2]["when"].update(any=[]),
                     r"tiers\[2\]\.when\.any: must be a non-empty list", id="empty-any"),
        pytest.param(lambda d: d["tiers"][1].update(
            when={"metric": "recency_days", "window": "3M", "op": "<", "value": 30}),
                     r"recency_days is measured at the review date and takes no window",
                     id="window-on-point-metric"),
        pytest.param(lambda d: d.update(initial="highest"),
                     r"initial: must be 'qualified' or 'lowest'", id="bad-initial"),
        pytest.param(lambda d: d.update(tiers=[{"name": "Only"}]),
                     r"tiers: must be a list of at least two tiers", id="one-tier"),
        pytest.param(lambda d: d["tiers"][1].update(benefit_cost=-5),
                     r"tiers\[1\]\.benefit_cost: must be a number ≥ 0", id="negative-cost"),
    ],
)
def test_each_mistake_gets_its_own_error(mutate, message):
    with pytest.raises(SchemeError, match=message):
        TierScheme.from_dict(bad(mutate))


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(bad(lambda d: d["tiers"][1]["when"].update(op="≥"))),
                    encoding="utf-8")
    with pytest.raises(SchemeError, match=rf"{path}: tiers\[1\]\.when\.op"):
        TierScheme.from_yaml(path)
    with pytest.raises(SchemeError, match="scheme file not found"):
        TierScheme.from_yaml(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="not valid YAML"):
        TierScheme.from_yaml(broken)


def test_yaml_is_data_not_code(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hacked']\ntiers: []\n",
                    encoding="utf-8")
    with pytest.raises(SchemeError, match="not valid YAML"):
        TierScheme.from_yaml(path)


# ------------------------------------------------------------------ shipped rule files
@pytest.mark.parametrize("path", sorted(RULES.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_rule_files_are_valid_and_clean(path):
    s = TierScheme.from_yaml(path)
    assert s.lint() == []
    assert len(s.tiers) == 3
    assert all(t.label for t in s.tiers)
    assert "#" in path.read_text(encoding="utf-8")  # commented for analysts


def test_every_shipped_scheme_has_a_strict_variant():
    names = {p.stem for p in RULES.glob("*.yaml")}
    for base in ("monthly_spend", "ecommerce_membership", "hotel_loyalty"):
        assert base in names and f"{base}_strict" in names


def test_monthly_spend_matches_the_source_example():
    s = TierScheme.from_yaml(RULES / "monthly_spend.yaml")
    assert s.tiers[2].when == Metric("spend", "1M", ">", 500, "tiers[2].when")
    assert s.promote_after(2) == 3 and s.policy.demote_after == 6
    assert s.tiers[1].when.value == 100


# ------------------------------------------------------------------ one source of truth
def test_to_dict_is_derived_from_the_typed_tree():
    d = copy.deepcopy(NESTED)
    d["description"] = "for the spring review"
    d["tiers"][1].update(description="regulars", label="中级", benefit_cost=5)
    s = TierScheme.from_dict(d)
    out = s.to_dict()
    assert not hasattr(s, "raw")
    assert out["tiers"][1] == {"name": "Mid", "label": "中级", "description": "regulars",
                               "when": {"metric": "spend", "window": "1M", "op": ">=",
                                        "value": 100},
                               "benefit_cost": 5.0}
    assert out["policy"] == {"promote_after": 1, "demote_after": 3, "max_demotion_steps": None,
                             "grace_reviews": 0}
    assert out["review"] == "monthly" and out["initial"] == "qualified"
    assert TierScheme.from_dict(out) == s and TierScheme.from_dict(out).tiers[1].description \
        == "regulars"
    out["tiers"][1]["when"]["value"] = 1  # a copy: the scheme is unchanged
    assert s.tiers[1].when.value == 100


def test_settings_with_defaults_have_paths():
    s = TierScheme.from_dict({k: v for k, v in NESTED.items() if k != "policy"})
    assert s.get_value("policy.grace_reviews") == 0
    assert s.with_value("policy.grace_reviews", 2).policy.grace_reviews == 2


def test_an_empty_path_is_a_bad_argument():
    with pytest.raises(ArgumentError, match="empty YAML path"):
        TierScheme.from_dict(NESTED).get_value("")


def test_metric_windows_default_to_the_review_period():
    d = copy.deepcopy(NESTED)
    d["review"] = "quarterly"
    d["tiers"][1]["when"] = {"all": [{"metric": "spend", "op": ">=", "value": 100},
                                     {"metric": "recency_days", "op": "<", "value": 90}]}
    s = TierScheme.from_dict(d)
    spend, recency = s.tiers[1].when.parts
    assert s.metric_window(spend) == "3M" and s.metric_window(recency) is None
    assert s.metric_keys() == [("orders", "12M"), ("recency_days", None), ("spend", "3M")]
