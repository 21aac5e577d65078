"""Conditions: descriptions in words, values as written, back to plain dicts."""

from __future__ import annotations

import pytest

from tierlab.tiers.conditions import (
    AllOf,
    AnyOf,
    Attribute,
    Metric,
    format_value,
    metric_leaves,
)


@pytest.mark.parametrize(("window", "label"), [
    ("1M", "spend"), ("3M", "3-month spend"), ("YTD", "year-to-date spend"),
    ("all", "lifetime spend"), (None, "spend"),
])
def test_metric_labels_name_the_window(window, label):
    assert Metric("spend", window, ">", 1).label() == label


def test_descriptions_nest_groups_in_parentheses():
    cond = AnyOf((Metric("spend", "3M", ">", 500),
                  AllOf((Metric("orders", "12M", ">=", 10),
                         Attribute("region", "in", ["local", "coast"])))))
    assert cond.describe() == ("3-month spend above 500 or (12-month orders at least 10 and "
                               "region in [local, coast])")


@pytest.mark.parametrize(("value", "text"), [
    (100000, "100,000"), (2.5, "2.5"), (50.0, "50"), (True, "True"), ("local", "local"),
    ([1, 2000], "[1, 2,000]"),
])
def test_format_value(value, text):
    assert format_value(value) == text


def test_leaves_and_metric_leaves_in_written_order():
    a, b = Metric("spend", "1M", ">", 1), Metric("orders", None, ">", 2)
    r = Attribute("region", "==", "x")
    cond = AllOf((a, AnyOf((r, b))))
    assert cond.leaves() == [a, r, b]
    assert metric_leaves(cond) == [a, b]
    assert metric_leaves(None) == []


def test_to_dict_is_the_yaml_shape_and_copies_lists():
    values = ["local"]
    cond = AllOf((Metric("spend", None, ">", 1), Attribute("region", "in", values)))
    d = cond.to_dict()
    assert d == {"all": [{"metric": "spend", "op": ">", "value": 1},
                         {"attribute": "region", "op": "in", "value": ["local"]}]}
    d["all"][1]["value"].append("remote")
    assert values == ["local"]  # editing the dict never edits the condition
