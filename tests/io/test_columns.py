"""Tests for tierlab.io.columns (through the loader): mapping headers, aliases, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from tierlab.errors import DataError
from tierlab.io.load import load_transactions


def test_aliases_and_case_insensitive_mapping():
    frame = pd.DataFrame({"Cust_ID": ["A"], " ORDER DATE ": ["2025-01-01"], "金额": ["3"],
                          "Qty": ["2"], "渠道": [" web "]})
    res = load_transactions(frame)
    assert res.data.columns.tolist() == ["customer_id", "timestamp", "amount", "quantity",
                                         "channel"]
    assert res.data.iloc[0].tolist() == ["A", pd.Timestamp("2025-01-01"), 3.0, 2.0, "web"]
    # a mapped header matches ignoring case and surrounding spaces
    res = load_transactions(frame, {"timestamp": "order date", "customer_id": "cust_id"})
    assert res.data["timestamp"].tolist() == [pd.Timestamp("2025-01-01")]


def test_missing_required_column_names_file_and_suggests(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("custmer_id,timestamp,amount\nA,2025-01-01,1\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_transactions(path)
    message = str(info.value)
    assert "export.csv" in message and "'customer_id'" in message
    assert "did you mean 'custmer_id'?" in message
    assert "'custmer_id', 'timestamp', 'amount'" in message


def test_mapped_header_not_in_file(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("客户ID,日期,消费金额\nA,2025-01-01,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"'消费额' \(mapped to 'amount'\) is not in the file"):
        load_transactions(path, {"customer_id": "客户ID", "timestamp": "日期", "amount": "消费额"})
    with pytest.raises(DataError, match=r"unknown canonical name 'amout' \(did you mean 'amount'"):
        load_transactions(path, {"amout": "消费金额"})
    with pytest.raises(DataError, match="mapped to both"):
        load_transactions(path, {"customer_id": "客户ID", "order_id": "客户ID"})
    with pytest.raises(DataError, match="columns must map"):
        load_transactions(path, ["客户ID"])


def test_mapping_onto_a_name_already_used_is_an_error():
    frame = pd.DataFrame({"amount": ["1"], "消费金额": ["2"], "customer_id": ["A"],
                          "timestamp": ["2025-01-01"]})
    with pytest.raises(DataError, match="also has a column named 'amount'"):
        load_transactions(frame, {"amount": "消费金额"})


def test_a_missing_column_suggests_the_closest_unmapped_header_and_the_cli_form():
    frame = pd.DataFrame({"customer_id": ["A"], "timestamp": ["2025-01-01"],
                          "dollar_value": ["1"]})
    with pytest.raises(DataError, match=r"'amount' not found \(did you mean 'dollar_value'\?\)"
                       r".*--columns amount=dollar_value"):
        load_transactions(frame)
