"""Bucketed Parquet datasets: the stable hash, chunked writing, reading one bucket at a time."""

from __future__ import annotations

import pandas as pd
import pytest

from tierlab.datasets import generate
from tierlab.errors import ArgumentError, DataError
from tierlab.io.dataset import (
    META_FILE,
    DatasetWriter,
    bucket_of,
    customer_hash,
    iter_buckets,
    open_dataset,
    write_dataset,
)


def fnv1a64(text: str) -> int:
    """FNV-1a 64 as published (http://www.isthe.com/chongo/tech/comp/fnv/), byte by byte."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    return h


@pytest.fixture(scope="module")
def tx():
    return generate(120, months=6, seed=5)[0]


# ------------------------------------------------------------------ the hash is pinned
@pytest.mark.parametrize("ident, expected", [
    ("", 0xCBF29CE484222325),            # the offset basis
    ("a", 0xAF63DC4C8601EC8C),           # published test vector
    ("foobar", 0x85944171F73967E8),      # published test vector
    ("C00001", 4838734213899329433),
    ("客户7", 6342204115650616428),
])
def test_customer_hash_is_fnv1a64_of_the_utf8_text(ident, expected):
    assert fnv1a64(ident) == expected
    assert int(customer_hash([ident])[0]) == expected


def test_buckets_match_an_independent_fnv_for_many_ids():
    ids = [f"C{i:05d}" for i in range(500)] + ["客户", "id with space", "x" * 40]
    assert bucket_of(ids, 7).tolist() == [fnv1a64(i) % 7 for i in ids]


def test_integer_ids_hash_as_their_decimal_text():
    assert bucket_of(pd.Series([12, 7, 123456789]), 5).tolist() == \
        [fnv1a64(s) % 5 for s in ("12", "7", "123456789")]


def test_missing_ids_are_refused():
    with pytest.raises(DataError, match="missing customer ids"):
        customer_hash(pd.Series(["a", None]))


# ------------------------------------------------------------------ writing and reading
def _all_rows(path) -> pd.DataFrame:
    ds = open_dataset(path)
    return pd.concat([ds.read_bucket(k) for k in range(ds.partitions)], ignore_index=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["customer_id", "timestamp", "order_id", "amount"],
                             ignore_index=True)


@pytest.mark.parametrize("layout", ["hive", "plain"])
def test_round_trip_keeps_every_row_and_each_customer_in_its_bucket(tx, tmp_path, layout):
    path = write_dataset(tx, tmp_path / "ds", partitions=5, layout=layout, chunk_rows=777)
    ds = open_dataset(path)
    assert ds.partitions == 5
    pd.testing.assert_frame_equal(_sorted(_all_rows(path)), _sorted(tx))
    for k, part in iter_buckets(path):
        assert set(part["customer_id"]) <= {c for c in tx["customer_id"]
                                            if fnv1a64(c) % 5 == k}
    assert (ds.time_range() == (tx["timestamp"].min(), tx["timestamp"].max()))


def test_hive_layout_reads_as_a_partitioned_dataset(tx, tmp_path):
    path = write_dataset(tx, tmp_path / "ds", partitions=3)
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*.parquet")) == \
        ["bucket=00/part-0.parquet", "bucket=01/part-0.parquet", "bucket=02/part-0.parquet"]
    whole = pd.read_parquet(path)
    assert len(whole) == len(tx)
    buckets = whole["bucket"].astype(int)
    assert (buckets == [fnv1a64(c) % 3 for c in whole["customer_id"]]).all()


def test_empty_buckets_get_an_empty_file(tmp_path):
    one = pd.DataFrame({"customer_id": ["C00001"] * 3, "amount": [1.0, 2.0, 3.0],
                        "timestamp": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"])})
    path = write_dataset(one, tmp_path / "ds", partitions=4)
    sizes = {k: len(part) for k, part in iter_buckets(path)}
    assert sizes == {k: (3 if k == fnv1a64("C00001") % 4 else 0) for k in range(4)}


def test_chunks_written_one_by_one_equal_one_write(tx, tmp_path):
    with DatasetWriter(tmp_path / "chunks", partitions=4) as writer:
        for lo in range(0, len(tx), 500):
            writer.write(tx.iloc[lo:lo + 500])
    assert writer.rows == len(tx)
    whole = write_dataset(tx, tmp_path / "whole", partitions=4)
    for (_, a), (_, b) in zip(iter_buckets(tmp_path / "chunks"), iter_buckets(whole),
                              strict=True):
        pd.testing.assert_frame_equal(_sorted(a), _sorted(b))
    assert '"hash": "fnv1a64-utf8"' in (whole / META_FILE).read_text()


def test_writing_refuses_a_used_directory_and_bad_input(tx, tmp_path):
    path = write_dataset(tx, tmp_path / "ds", partitions=2)
    with pytest.raises(ArgumentError, match="not empty"):
        write_dataset(tx, path, partitions=2)
    write_dataset(tx.iloc[:10], path, partitions=3, overwrite=True)
    assert open_dataset(path).partitions == 3 and len(_all_rows(path)) == 10
    with pytest.raises(DataError, match="'amount' is missing"):
        write_dataset(tx.drop(columns="amount"), tmp_path / "bad", partitions=2)
    with pytest.raises(ArgumentError, match="positive integer"):
        write_dataset(tx, tmp_path / "bad2", partitions=0)


def test_reading_a_missing_dataset_says_how_to_make_one(tmp_path):
    with pytest.raises(DataError, match="write_dataset"):
        open_dataset(tmp_path / "nowhere")
    with pytest.raises(ArgumentError, match="out of range"):
        open_dataset(write_dataset(pd.DataFrame({
            "customer_id": ["a"], "timestamp": pd.to_datetime(["2025-01-01"]),
            "amount": [1.0]}), tmp_path / "ds", partitions=2)).read_bucket(2)
