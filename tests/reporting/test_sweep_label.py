"""Labels of swept scheme settings, in English and Chinese, with the metric's window."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierlab import TierScheme
from tierlab.reporting.page import sweep_label

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("rules", "path", "en", "zh"), [
    ("monthly_spend.yaml", "tiers[2].when.value", "High: spend in 1 month >",
     "高级客户：近1个月消费>"),
    ("ecommerce_membership.yaml", "tiers[1].when.value", "Gold: spend in 12 months >=",
     "黄金会员：近12个月消费>="),
])
def test_sweep_labels_name_tier_metric_window_and_operator(rules, path, en, zh):
    scheme = TierScheme.from_yaml(ROOT / "data" / "rules" / rules)
    assert sweep_label(scheme, path, "en") == en
    assert sweep_label(scheme, path, "zh") == zh


def test_a_setting_that_is_not_a_threshold_keeps_its_path():
    scheme = TierScheme.from_yaml(ROOT / "data" / "rules" / "monthly_spend.yaml")
    assert sweep_label(scheme, "tiers[9].when.value") == "tiers[9].when.value"
