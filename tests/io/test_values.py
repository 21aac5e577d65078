"""Tests for tierlab.io.values: amounts, quantities and ids (through the loader), and the id
encoding against plain Python."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierlab.io.load import load_transactions
from tierlab.io.values import encode_ids

# written out here, not imported: the missing-value tokens of the module documentation
MISSING_TOKENS = {"", "na", "n/a", "#n/a", "nan", "nat", "null", "none", "-", "--"}


AMOUNTS = [
    ("1,234.50", 1234.5), ("¥1,234", 1234.0), ("￥1,234", 1234.0), ("1234元", 1234.0),
    ("$12.00", 12.0), ("-50", -50.0), ("(50.00)", -50.0), ("  7.5 ", 7.5), ("RMB 3", 3.0),
    ("-￥100.00", -100.0), ("￥-100", -100.0), ("\u221250", -50.0), ("1,234,567.8", 1234567.8),
    ("12", 12.0), ("0.5", 0.5), ("-0", 0.0),
]


@pytest.mark.parametrize(("text", "value"), AMOUNTS, ids=[a for a, _ in AMOUNTS])
@pytest.mark.parametrize("dtype", ["str", "object"])
def test_amount_styles(text, value, dtype):
    frame = pd.DataFrame({"customer_id": ["A"], "timestamp": ["2025-01-01"], "amount": [text]},
                         dtype=dtype)
    res = load_transactions(frame)
    assert res.data["amount"].tolist() == [value]
    assert not np.signbit(res.data["amount"].to_numpy()).any() or value < 0


def test_amount_styles_mixed_in_one_csv_column(tmp_path):
    path = tmp_path / "amounts.csv"
    frame = pd.DataFrame({"customer_id": [f"C{i:02d}" for i in range(len(AMOUNTS))],
                          "timestamp": "2025-01-01", "amount": [a for a, _ in AMOUNTS]})
    frame.to_csv(path, index=False)
    res = load_transactions(path)
    assert res.data["amount"].tolist() == [v for _, v in AMOUNTS]


@pytest.mark.parametrize("text", ["abc", "1,5", "1.234,50", "12,34,567", "¥", "inf", "1.2.3"])
def test_unparseable_amounts(text):
    frame = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": ["2025-01-01"] * 2,
                          "amount": ["10", text]})
    res = load_transactions(frame)
    assert res.data["amount"].tolist() == [10.0]
    assert res.rejected["reason"].tolist() == ["unparseable amount"]
    assert res.rejected["amount"].tolist() == [text]


def test_numeric_amount_column_fast_path():
    frame = pd.DataFrame({"customer_id": ["A", "B", "C"], "timestamp": ["2025-01-01"] * 3,
                          "amount": [1.5, np.nan, np.inf]})
    res = load_transactions(frame)
    assert res.data["amount"].tolist() == [1.5]
    assert res.rejected["reason"].tolist() == ["missing amount", "unparseable amount"]


def test_quantity_cleaning_and_missing_quantity_is_kept():
    frame = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "timestamp": ["2025-01-01"] * 4,
                          "amount": ["1"] * 4, "数量": ["2", " 1,000 ", "", "3"]})
    res = load_transactions(frame)
    assert res.data["quantity"].tolist()[:2] == [2.0, 1000.0]
    assert np.isnan(res.data["quantity"].iloc[2])
    assert res.data["quantity"].iloc[3] == 3.0
    assert res.data["quantity"].dtype == "float64"


def test_ids_keep_leading_zeros_and_lose_surrounding_spaces(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("customer_id,timestamp,amount,order_id\n00001,2025-01-01,1,0007\n"
                    " 007 ,2025-01-01,1, A-01 \n0001,2025-01-01,1,\n", encoding="utf-8")
    res = load_transactions(path)
    assert res.data["customer_id"].tolist() == ["00001", "007", "0001"]  # source order
    assert res.data["order_id"].iloc[[0, 1]].tolist() == ["0007", "A-01"]
    assert pd.isna(res.data["order_id"].iloc[2])
    assert res.data["customer_id"].dtype == "str"


def test_numeric_ids_from_parquet_become_text(tmp_path):
    path = tmp_path / "ids.parquet"
    pd.DataFrame({"customer_id": [1.0, 2.0, np.nan],
                  "timestamp": pd.to_datetime(["2025-01-01"] * 3),
                  "amount": [1.0, 2.0, 3.0], "order_id": [10, 11, 12]}).to_parquet(path)
    res = load_transactions(path)
    assert res.data["customer_id"].tolist() == ["1", "2"]
    assert res.data["order_id"].tolist() == ["10", "11"]
    assert res.rejected["reason"].tolist() == ["missing customer_id"]


# --------------------------------------------------------------------------------------------
# the id encoding against plain Python
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("halves", [False, True], ids=["one pass", "two halves"])
@pytest.mark.parametrize("kind", ["clean", "padded", "tokens", "long", "nulls", "numbers"])
def test_encode_ids_matches_plain_python(kind, halves, monkeypatch):
    import tierlab._kernels.arrowkeys as K

    if halves:  # what 10M-row files get: ids hashed in two halves on two threads
        monkeypatch.setattr(K, "PARALLEL_ROWS", 1)

    rng = np.random.default_rng(3)
    pool = [f"C{i:05d}" for i in rng.permutation(400)]
    if kind == "padded":
        pool = [f" {p}" if i % 3 == 0 else f"{p}  " if i % 3 == 1 else p
                for i, p in enumerate(pool)] + pool[:50]
    elif kind == "tokens":
        pool += ["NA", "null", "-", ""]
    elif kind == "long":
        pool = ["客户-" + p * 6 for p in pool]
    raw = [pool[i] for i in rng.integers(0, len(pool), 3000)]
    if kind == "nulls":
        raw = [None if i % 11 == 0 else v for i, v in enumerate(raw)]
    s = pd.Series(raw, dtype="str")
    if kind == "numbers":
        s = pd.Series(rng.integers(0, 400, 3000)).astype("float64")
        raw = [str(int(v)) for v in s]
    ids = encode_ids(s)
    words = [None if v is None else v.strip() for v in raw]
    words = [None if w is None or w.casefold() in MISSING_TOKENS else w for w in words]
    assert ids.uniques.to_pylist() == sorted({w for w in words if w is not None})
    got = [None if k < 0 else ids.uniques[int(k)].as_py() for k in ids.codes]
    assert got == words


# --------------------------------------------------------------------------------------------
# missing-value tokens: any case and spacing, whatever the other rows hold
# --------------------------------------------------------------------------------------------

NULL_SPELLINGS = ["NaN", "NaT", "#N/a", "nUll", "None", "NULL", "", " ", "\t", "  nan ",
                  "\u3000None", "n/A", "nA", "--", " - "]


@pytest.mark.parametrize("via_csv", [False, True], ids=["frame", "csv"])
def test_null_tokens_are_missing_ids_never_customers(tmp_path, via_csv):
    n = len(NULL_SPELLINGS)
    frame = pd.DataFrame({"customer_id": [*NULL_SPELLINGS, "A"],
                          "timestamp": ["2025-01-01"] * (n + 1), "amount": ["1"] * (n + 1)})
    if via_csv:
        path = tmp_path / "ids.csv"
        frame.to_csv(path, index=False)
        res = load_transactions(path)
    else:
        res = load_transactions(frame)
    assert res.data["customer_id"].tolist() == ["A"]
    assert res.summary["customers"] == 1
    assert set(res.rejected["reason"]) == {"missing customer_id"}
    assert len(res.rejected) == n


@pytest.mark.parametrize("token", ["NaN", "nan", "nAn", " NaN ", "NULL", "none", "#N/a"])
@pytest.mark.parametrize("other", ["2", "¥2", "2.5", "(2)"])
def test_amount_null_token_reason_does_not_depend_on_other_rows(token, other):
    frame = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": ["2025-01-01"] * 2,
                          "amount": [token, other]})
    assert load_transactions(frame).rejected["reason"].tolist() == ["missing amount"]


@pytest.mark.parametrize("text", ["-nan", "+nan", "nanx"])
@pytest.mark.parametrize("other", ["2", "¥2"])
def test_amount_nan_that_is_not_a_token_is_unparseable_whatever_the_other_rows(text, other):
    frame = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": ["2025-01-01"] * 2,
                          "amount": [text, other]})
    assert load_transactions(frame).rejected["reason"].tolist() == ["unparseable amount"]


@pytest.mark.parametrize("token", ["NaT", "nat", "NULL", " None ", "#n/A"])
def test_date_null_tokens_are_missing(token):
    frame = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": [token, "2025-01-01"],
                          "amount": ["1", "2"]})
    assert load_transactions(frame).rejected["reason"].tolist() == ["missing timestamp"]
