"""The read side gives TierHistory's frames: commit a real history review by review, read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import tierlab as tl
from tierlab.register import Register


@pytest.fixture(scope="module")
def history() -> tl.TierHistory:
    tx, _ = tl.generate(120, months=7, seed=3)
    scheme = tl.TierScheme.from_dict({
        "name": "Spend", "review": "monthly",
        "tiers": [{"name": "Low", "label": "普通"},
                  {"name": "Mid", "label": "银卡",
                   "when": {"metric": "spend", "window": "1M", "op": ">=", "value": 100}},
                  {"name": "High", "label": "金卡",
                   "when": {"metric": "spend", "window": "1M", "op": ">", "value": 400}}],
        "policy": {"demote_after": 2}})
    return scheme.run(tx)


def _commit_all(reg: Register, hist: tl.TierHistory, figures: bool = False) -> None:
    names = np.array(hist.scheme.tier_names, dtype=object)
    changes = hist.changes
    for j, day in enumerate(hist.reviews):
        have = hist.codes[:, j] >= 0
        state = pd.DataFrame({"customer_id": hist.customer_ids[have],
                              "tier": names[hist.codes[have, j]],
                              "qualified": names[hist.qualified_levels[have, j]]})
        figs = None
        if figures:
            figs = pd.DataFrame({"customer_id": state["customer_id"],
                                 "spend_1M": np.arange(have.sum(), dtype=float) + j})
        res = reg.commit_review(day, hist.scheme, state, changes[changes["review"] == day],
                                data_fingerprint="sample", ran_by="test", figures=figs)
        assert res.committed


def test_read_side_equals_the_history(target, history):
    reg = Register(target)
    _commit_all(reg, history)
    assert_frame_equal(reg.history(), history.tiers, check_freq=False)
    assert_frame_equal(reg.changes(), history.changes)
    assert_frame_equal(reg.current(), history.current)
    cid = history.changes["customer_id"].value_counts().index[0]  # a customer who moved
    expected = history.explain(cid).drop(columns="spend_1M")
    assert_frame_equal(reg.explain(cid), expected)


def test_explain_shows_the_stored_figures_and_chinese_reasons(target, history):
    reg = Register(target)
    _commit_all(reg, history, figures=True)
    cid = history.customer_ids[0]
    out = reg.explain(cid)
    assert out.columns.tolist() == ["review", "spend_1M", "qualified", "tier", "rule", "reason"]
    assert out["spend_1M"].notna().all()
    with pytest.raises(tl.DataError, match="not in the register.*did you mean"):
        reg.explain(cid + "x")
    # no Chinese reasons were stored: lang="zh" falls back to the English ones
    assert_frame_equal(reg.changes(lang="zh"), reg.changes())


def test_an_empty_register_reads_as_empty_frames(target):
    reg = Register(target)
    assert reg.reviews().empty and reg.history().empty and reg.changes().empty
    assert reg.current().empty and reg.last_review() is None
    with pytest.raises(tl.DataError, match="no review committed yet"):
        reg.state()
