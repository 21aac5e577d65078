"""rfm(path): a canonical Parquet file read column by column gives rfm of the same frame.

Whatever the file's layout (row groups, column types, dictionary ids…); each problem with the
file raises a DataError naming it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from features_reference import CASES, assert_same, random_tx, ref_rfm

from tierlab.errors import DataError
from tierlab.features import rfm


def _write(tx: pd.DataFrame, path, **kwargs) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(tx, preserve_index=False), path, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_rfm_of_a_parquet_file_equals_reference(case, tmp_path):
    tx = random_tx(**case)
    path = tmp_path / "tx.parquet"
    _write(tx, path, row_group_size=700)  # several row groups
    assert_same(rfm(path), ref_rfm(tx))
    assert_same(rfm(str(path)), ref_rfm(tx))
    as_of = tx["timestamp"].quantile(0.6)
    assert_same(rfm(path, as_of=as_of), ref_rfm(tx, as_of=as_of))


@pytest.mark.parametrize("layout", ["ms", "s", "date", "dictionary", "integer ids",
                                    "integer amounts", "decimal amounts", "tz"])
def test_rfm_of_a_parquet_file_reads_other_column_types(layout, tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    tx = random_tx(seed=11, n_rows=900, n_customers=80)
    ref_tx = tx.copy()
    table = pa.Table.from_pandas(tx, preserve_index=False)
    ts = table.column("timestamp")
    if layout in ("ms", "s"):
        table = table.set_column(1, "timestamp", ts.cast(pa.timestamp(layout)))
        ref_tx["timestamp"] = tx["timestamp"].dt.floor("1" + layout)
    elif layout == "date":
        table = table.set_column(1, "timestamp", ts.cast(pa.date32()))
        ref_tx["timestamp"] = tx["timestamp"].dt.normalize()
    elif layout == "tz":  # instants: days are taken in UTC, as for a tz-aware frame
        table = table.set_column(1, "timestamp", ts.cast(pa.timestamp("ns", tz="UTC")))
    elif layout == "dictionary":
        table = table.set_column(0, "customer_id", table.column(0).dictionary_encode())
    elif layout == "integer ids":
        ref_tx["customer_id"] = pd.factorize(tx["customer_id"])[0] * 7 + 100
        table = table.set_column(0, "customer_id", pa.array(ref_tx["customer_id"].to_numpy()))
    elif layout == "integer amounts":
        ref_tx["amount"] = np.round(tx["amount"]).astype("int64")
        table = table.set_column(2, "amount", pa.array(ref_tx["amount"].to_numpy()))
    elif layout == "decimal amounts":
        values = [decimal.Decimal(f"{v:.2f}") for v in tx["amount"]]
        table = table.set_column(2, "amount", pa.array(values, type=pa.decimal128(12, 2)))
    path = tmp_path / "tx.parquet"
    pq.write_table(table, path, row_group_size=250)
    assert_same(rfm(path), ref_rfm(ref_tx))


def test_rfm_of_a_parquet_file_names_the_problem(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tx = random_tx(seed=12, n_rows=50, n_customers=10)
    with pytest.raises(DataError, match="file not found"):
        rfm(tmp_path / "nope.parquet")
    with pytest.raises(DataError, match="folder"):
        rfm(tmp_path)
    csv = tmp_path / "tx.csv"
    tx.to_csv(csv, index=False)
    with pytest.raises(DataError, match="not a Parquet file.*load_transactions"):
        rfm(csv)
    path = tmp_path / "tx.parquet"
    _write(tx.rename(columns={"amount": "amout"}), path)
    with pytest.raises(DataError, match="lacks column 'amount'.*did you mean 'amout'"):
        rfm(path)
    _write(tx.assign(timestamp=tx["timestamp"].astype(str)), path)
    with pytest.raises(DataError, match="column 'timestamp' holds text, not timestamps"):
        rfm(path)
    ids = tx["customer_id"].astype(object)
    ids.iloc[23] = None
    _write(tx.assign(customer_id=ids), path, row_group_size=10)
    with pytest.raises(DataError, match="'customer_id' has a missing value in data row 24"):
        rfm(path)
    amount = tx["amount"].copy()
    amount.iloc[7] = np.nan
    _write(tx.assign(amount=amount), path)
    with pytest.raises(DataError, match="'amount' has a missing value in data row 8"):
        rfm(path)
    pq.write_table(pa.table({"customer_id": pa.array([], pa.string()),
                             "timestamp": pa.array([], pa.timestamp("ns")),
                             "amount": pa.array([], pa.float64())}), path)
    with pytest.raises(DataError, match="no transactions"):
        rfm(path)
    assert len(rfm(path, as_of="2025-01-31")) == 0
