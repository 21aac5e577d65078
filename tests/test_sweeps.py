"""tierlab.sweeps: the numeric thresholds of a scheme, the default sweep and its values."""

from __future__ import annotations

from pathlib import Path

import pytest

import tierlab as tl
from tierlab.sweeps import ThresholdPath, default_sweep, sweep_values, threshold_paths

RULES = Path(__file__).resolve().parent.parent / "data" / "rules"


def test_threshold_paths_simple_and_nested():
    monthly = tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml")
    assert threshold_paths(monthly) == [
        ThresholdPath("tiers[1].when.value", 100.0, "Mid", "Mid: spend (1M) >=", True),
        ThresholdPath("tiers[2].when.value", 500.0, "High", "High: spend (1M) >", True)]
    hotel = tl.TierScheme.from_yaml(RULES / "hotel_loyalty.yaml")
    paths = threshold_paths(hotel)
    assert [p.path for p in paths] == ["tiers[1].when.any[0].value", "tiers[1].when.any[1].value",
                                       "tiers[2].when.all[0].value", "tiers[2].when.all[1].value"]
    assert all(hotel.get_value(p.path) == p.value for p in paths)  # paths the scheme reads back


def test_default_sweep_is_the_top_tiers_first_threshold():
    hotel = tl.TierScheme.from_yaml(RULES / "hotel_loyalty.yaml")
    assert default_sweep(hotel) == "tiers[2].when.all[0].value"
    monthly = tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml")
    assert default_sweep(monthly) == "tiers[2].when.value"


def test_default_sweep_without_thresholds():
    flat = tl.TierScheme.from_dict({"name": "flat", "review": "monthly", "tiers": [
        {"name": "Low"}, {"name": "Member", "when": {"attribute": "member", "op": "==",
                                                     "value": "yes"}}]})
    with pytest.raises(tl.SchemeError, match="flat: no numeric threshold to sweep"):
        default_sweep(flat)


@pytest.mark.parametrize(("value", "kwargs", "expected"), [
    (500.0, {}, [250.0, 300.0, 350.0, 400.0, 450.0, 500.0, 550.0, 600.0, 650.0, 700.0, 750.0]),
    (3.0, {"steps": 3}, [1.5, 3.0, 4.5]),
    (1234.0, {"steps": 3, "low": 1.0, "high": 2.0}, [1234.0, 1851.0, 2468.0]),
    (2.0, {"steps": 5, "low": 0.99, "high": 1.01}, [1.98, 1.99, 2.0, 2.01, 2.02]),
    (0.0, {"steps": 4}, [0.0]),  # all values round to the same one
], ids=["default", "small", "rounded", "fine", "zero"])
def test_sweep_values(value, kwargs, expected):
    assert sweep_values(value, **kwargs) == expected
