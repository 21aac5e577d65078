"""Tests for tierlab._kernels.arrowkeys: hashing ids in two halves equals one pass."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import tierlab._kernels.arrowkeys as K


@pytest.mark.parametrize("layout", ["same width", "longer ids later", "longer ids first",
                                    "one id", "chunked"])
def test_factorize_strings_in_two_halves_matches_one_pass(layout, monkeypatch):
    rng = np.random.default_rng(5)
    short = [f"c{i}" for i in rng.permutation(300)]
    long_ = [f"customer-{i:04d}-of-the-north" for i in rng.permutation(200)]
    if layout == "same width":
        values = [short[i] for i in rng.integers(0, 300, 4000)]
    elif layout == "longer ids later":
        values = ([short[i] for i in rng.integers(0, 300, 2000)]
                  + [long_[i] for i in rng.integers(0, 200, 2000)] + short[:5])
    elif layout == "longer ids first":
        values = [long_[i] for i in rng.integers(0, 200, 2000)] + short
    elif layout == "one id":
        values = ["x"] * 1000
    else:
        values = [short[i] for i in rng.integers(0, 300, 4000)]
    arr = pa.chunked_array([values[:1500], values[1500:]] if layout == "chunked" else [values])
    codes1, uniques1, order1 = K.factorize_strings(arr)
    monkeypatch.setattr(K, "PARALLEL_ROWS", 1)
    codes2, uniques2, order2 = K.factorize_strings(arr, workers=2)
    assert order2 is None  # merged halves come numbered in id order
    assert uniques2.to_pylist() == sorted(set(values))
    assert [uniques2[int(k)].as_py() for k in codes2] == values
    # the one-pass result, renumbered in id order, is the same
    assert uniques1.take(order1).to_pylist() == uniques2.to_pylist()
    rank = np.empty(len(order1), dtype=np.int64)
    rank[order1] = np.arange(len(order1))
    np.testing.assert_array_equal(rank[codes1], codes2)
