"""Tests of :mod:`tierlab.evaluate.revenue`: revenue concentration."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from eval_helpers import tier_index, tiers

from tierlab.errors import ArgumentError
from tierlab.evaluate import concentration


# ------------------------------------------------------------------ concentration
def textbook_gini(x: np.ndarray) -> float:
    x = np.clip(np.asarray(x, dtype=float), 0, None)
    n = len(x)
    mad = sum(abs(xi - xj) for xi in x for xj in x) / n**2
    return mad / (2 * x.mean())


def test_gini_five_values():
    values = pd.Series([3.0, 10.0, 1.0, 4.0, 2.0], index=list("abcde"))
    c = concentration(values)
    assert c.gini == pytest.approx(textbook_gini(values.to_numpy()))
    assert c.gini == pytest.approx(0.4)  # Σ|xi−xj| = 80 over ordered pairs; 80 / (2·25·4)
    expected = pd.DataFrame({"customer_share": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
                             "revenue_share": [0.0, 0.05, 0.15, 0.30, 0.50, 1.0]})
    pd.testing.assert_frame_equal(c.lorenz, expected)
    # 1 − 2 × area under the Lorenz curve (trapezoids) is the same coefficient
    lz = c.lorenz
    area = (np.diff(lz["customer_share"]) * (lz["revenue_share"].to_numpy()[1:]
                                            + lz["revenue_share"].to_numpy()[:-1]) / 2).sum()
    assert 1 - 2 * area == pytest.approx(c.gini)


@pytest.mark.parametrize("values", [[5.0] * 7, [0.0] * 4, [123.4]], ids=["equal", "zeros", "one"])
def test_gini_zero_for_equal_values(values):
    c = concentration(values)
    assert c.gini == pytest.approx(0.0)
    assert c.lorenz.iloc[0].tolist() == [0.0, 0.0]
    assert c.lorenz.iloc[-1].tolist() == [1.0, 1.0]


def test_gini_clips_negatives_and_top_share():
    c = concentration(np.array([-5.0, 0.0, 5.0]))
    assert c.clipped == 1
    assert c.gini == pytest.approx(textbook_gini([0.0, 0.0, 5.0]))
    assert c.gini == pytest.approx(2 / 3)
    c = concentration([1.0, 2.0, 3.0, 4.0, 10.0], top=(0.2, 0.4, 0.5, 1.0))
    # ceil(p·n) customers: 1, 2, 3 (2.5 rounds up), 5
    assert c.top_share == pytest.approx({0.2: 0.5, 0.4: 0.7, 0.5: 0.85, 1.0: 1.0})
    with pytest.raises(ArgumentError, match="top"):
        concentration([1.0, 2.0], top=(0.0,))


def test_concentration_tier_share():
    values = pd.Series({"a": 10.0, "b": 30.0, "c": 60.0, "d": -10.0})
    t = tiers({"c": "High", "a": "Low", "b": "Low", "d": "Mid"})
    c = concentration(values, tiers=t)
    expected = pd.Series([0.4, 0.0, 0.6, 0.0], index=tier_index(), name="revenue_share")
    pd.testing.assert_series_equal(c.tier_share, expected)
    d = c.to_dict()
    assert d["tier_share"] == {"Low": 0.4, "Mid": 0.0, "High": 0.6, "Top": 0.0}
    json.dumps(d, allow_nan=False)
