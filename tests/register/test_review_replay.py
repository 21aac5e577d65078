"""Incremental equals replay: reviews committed period by period give the run's history.

Random schemes and logs (the strategies of ``tests/tiers/tier_cases.py``), every review
frequency, reviews committed one at a time or in uneven batches: the register's tiers,
changes (with their reasons), current table and qualified levels equal what ``scheme.run``
computes over the same data in one go.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import tierlab as tl
from tierlab.register import Register

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tiers"))
from tier_cases import schemes, transactions  # noqa: E402


def _last_complete(tx: pd.DataFrame, scheme: tl.TierScheme) -> pd.Timestamp | None:
    """The last period end of the scheme's frequency on or before the data's last day."""
    months = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}[
        {"M": "monthly", "Q": "quarterly", "H": "half-yearly", "Y": "yearly"}[scheme.review]]
    last = pd.Timestamp(tx["timestamp"].max()).normalize()
    ends = pd.period_range("2000-01", last.to_period("M"), freq="M").to_timestamp("M")
    ends = ends[(ends.month % months == 0) & (ends <= last)]
    first = pd.Timestamp(tx["timestamp"].min())
    return ends[-1] if len(ends) and ends[-1] >= first else None


def without_early_returns(tx: pd.DataFrame) -> pd.DataFrame:
    """Drop returns dated before the customer's first purchase.

    The engine dates a customer's entry by the first purchase, or by the first row when the
    data has no purchase of theirs yet; a customer whose first rows are returns therefore
    enters earlier in a run cut before their first purchase than in a run over the whole log.
    The register commits what each review saw, so such customers legitimately differ from a
    later one-go replay; this property is about the customers whose entry does not move.
    """
    buys = tx[tx["amount"] >= 0]
    first = tx[["customer_id"]].merge(  # map() on an empty Series would lose the dtype
        buys.groupby("customer_id", as_index=False)["timestamp"].min(), how="left",
        on="customer_id")["timestamp"]
    keep = first.notna().to_numpy() & (tx["timestamp"].to_numpy() >= first.to_numpy())
    return tx[keep].reset_index(drop=True)


def assert_same(reg: Register, hist: tl.TierHistory) -> None:
    assert_frame_equal(reg.history(), hist.tiers, check_freq=False)
    assert_frame_equal(reg.changes(), hist.changes)
    assert_frame_equal(reg.current(), hist.current)
    mine = reg.as_history()
    np.testing.assert_array_equal(mine.codes, hist.codes)
    np.testing.assert_array_equal(mine.qualified_levels, hist.qualified_levels)


def commit_in_batches(reg: Register, tx: pd.DataFrame, scheme: tl.TierScheme,
                      reviews: pd.DatetimeIndex, sizes: list[int]) -> None:
    done = 0
    for size in sizes:
        if done >= len(reviews):
            break
        done = min(len(reviews), done + size)
        out = reg.review(tx, scheme, until=reviews[done - 1])
        assert out.committed == len(out.results) > 0
    if done < len(reviews):
        reg.review(tx, scheme, until=reviews[-1])
    again = reg.review(tx, scheme, until=reviews[-1])
    assert again.committed == 0 and "already committed" in again.message


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=schemes(), tx=transactions(max_customers=6),
       sizes=st.lists(st.integers(1, 4), min_size=1, max_size=12), one_by_one=st.booleans())
def test_incremental_reviews_equal_one_run(spec, tx, sizes, one_by_one):
    scheme = tl.TierScheme.from_dict(spec)
    tx = without_early_returns(tx)
    assume(len(tx) > 0)
    until = _last_complete(tx, scheme)
    assume(until is not None)
    tx = tx[tx["timestamp"] <= until + pd.Timedelta(days=1)]
    hist = scheme.run(tx, end=until)
    with tempfile.TemporaryDirectory() as folder:
        reg = Register(Path(folder) / "register.duckdb")
        commit_in_batches(reg, tx, scheme, hist.reviews,
                          [1] * len(hist.reviews) if one_by_one else sizes)
        assert_same(reg, hist)


SCHEME = {
    "name": "Spend", "review": "monthly",
    "tiers": [{"name": "Low", "label": "普通"},
              {"name": "Mid", "when": {"metric": "spend", "window": "3M", "op": ">=",
                                       "value": 300}, "promote_after": 2},
              {"name": "High", "when": {"all": [
                  {"metric": "spend", "window": "1M", "op": ">", "value": 400},
                  {"metric": "orders", "window": "12M", "op": ">=", "value": 3}]}}],
    "policy": {"demote_after": 3, "grace_reviews": 1, "max_demotion_steps": 1},
}


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    tx, _ = tl.generate(250, months=15, seed=11)
    return tx


def test_month_by_month_equals_replay_in_postgresql_and_duckdb(target, sample):
    scheme = tl.TierScheme.from_dict(SCHEME)
    until = _last_complete(sample, scheme)
    hist = scheme.run(sample, end=until)
    reg = Register(target)
    commit_in_batches(reg, sample, scheme, hist.reviews, [1] * len(hist.reviews))
    assert_same(reg, hist)
    # the default until is the last complete review period of the data
    assert reg.last_review() == until == hist.reviews[-1]
