"""The id factorization cache: same column → same codes; a changed column → fresh codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tierlab.features.core import _factorize, period_panel, rfm


def test_cache_hits_only_the_same_arrow_column():
    tx = pd.DataFrame({"customer_id": pd.array(["b", "a", "b", "c"], dtype="str"),
                       "timestamp": pd.to_datetime(["2025-01-01"] * 4),
                       "amount": [1.0, 2.0, 3.0, 4.0]})
    codes1, ids1 = _factorize(tx["customer_id"])
    codes2, ids2 = _factorize(tx["customer_id"])
    assert codes1.tolist() == codes2.tolist() == [1, 0, 1, 2]
    tx.loc[1, "customer_id"] = "z"  # pandas swaps in a new Arrow array
    codes3, ids3 = _factorize(tx["customer_id"])
    assert list(ids3) == ["b", "c", "z"] and codes3.tolist() == [0, 2, 0, 1]


def test_results_do_not_depend_on_what_was_factorized_before():
    rng = np.random.default_rng(0)
    tx = pd.DataFrame({"customer_id": pd.array(rng.choice(list("abcdef"), 200), dtype="str"),
                       "timestamp": pd.Timestamp("2025-01-01")
                       + pd.to_timedelta(rng.integers(0, 300, 200), "D"),
                       "amount": rng.gamma(1.0, 50.0, 200)})
    fresh = rfm(tx.copy(deep=True))
    period_panel(tx)  # primes the cache with tx's id column
    pd.testing.assert_frame_equal(rfm(tx), fresh)
    other = tx.assign(customer_id=pd.array(np.where(tx["customer_id"] == "a", "q", "r"),
                                           dtype="str"))
    assert set(rfm(other).index) <= {"q", "r"}


def test_editing_returned_codes_does_not_touch_the_cache():
    s = pd.Series(pd.array(["x", "y", "x"], dtype="str"))
    for sort in (False, True):
        codes, _ = _factorize(s, sort=sort)
        codes[0] = 5
        again, _ = _factorize(s, sort=sort)
        assert again.tolist() == [0, 1, 0]
