"""Typed sources (``tierlab.io.typed``) give what the text path gives for the same data.

The typed path (Parquet, Arrow tables, DataFrames with canonical column types) validates without
re-parsing; the reference is the general loader reading the same values written as text (a CSV
file with values the one-pass CSV read does not take, or a DataFrame of strings). Frames are
compared after sorting: which copy of a duplicate order line is kept is decided by the text as
read ("10" before "10.0"), so a CSV and a typed file may keep different positions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierlab.features import period_panel, rfm
from tierlab.io.load import load_transactions

KEY = ["customer_id", "timestamp", "amount"]
SOURCE_FIELDS = ("file", "format", "encoding", "sep", "sheet")


def _typed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Typed transactions with nulls, duplicates, returns, messy ids and identical rows."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(["A1", "B22", "C333", " A1", "B22 ", "NA", "", "d4"], n)
    ts = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 20, n), unit="D")
    # -0.0 only once: "-0.0" and "0.0" are different text, so which copy of a duplicate is
    # kept may differ between a CSV and a typed file (both deterministic)
    amount = rng.choice([10.0, -5.0, 2.5, 0.0, np.inf, 99.99], n)
    amount[n // 2] = -0.0
    frame = pd.DataFrame({"customer_id": pd.array(ids, dtype="str"),
                          "timestamp": ts.to_numpy(),
                          "amount": amount,
                          "order_id": pd.array(rng.choice(["o1", "o2", "o3", ""], n),
                                               dtype="str")})
    frame.loc[rng.choice(n, 15, replace=False), "timestamp"] = pd.NaT
    frame.loc[rng.choice(n, 15, replace=False), "amount"] = np.nan
    frame.loc[rng.choice(n, 10, replace=False), "customer_id"] = np.nan
    dup = frame.iloc[:40].copy()  # exact repeats: duplicate order lines / identical rows
    return pd.concat([frame, dup], ignore_index=True)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The same values written as an export writes them."""
    out = pd.DataFrame(index=frame.index)
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = [("" if pd.isna(v) else v.isoformat()) for v in s]
        elif pd.api.types.is_float_dtype(s.dtype):
            out[c] = [("" if np.isnan(v) else ("inf" if np.isposinf(v) else repr(float(v))))
                      for v in s]
        else:
            out[c] = [("" if pd.isna(v) else str(v)) for v in s]
    return out


def _sorted(data: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in data.columns]
    return data.sort_values(cols, kind="stable", na_position="last").reset_index(drop=True)


def _same_load(typed, text) -> None:
    pd.testing.assert_frame_equal(_sorted(typed.data), _sorted(text.data))
    assert typed.rejected["source_row"].tolist() == text.rejected["source_row"].tolist()
    assert typed.rejected["reason"].tolist() == text.rejected["reason"].tolist()
    a = {k: v for k, v in typed.summary.items() if k not in SOURCE_FIELDS}
    b = {k: v for k, v in text.summary.items() if k not in SOURCE_FIELDS}
    assert a.pop("total_spend") == pytest.approx(b.pop("total_spend"), rel=1e-12)
    assert a == b


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parquet_equals_the_same_data_as_csv(tmp_path, seed):
    frame = _typed_frame(seed=seed)
    frame.to_parquet(tmp_path / "tx.parquet", index=False)
    _as_text(frame).to_csv(tmp_path / "tx.csv", index=False)
    typed = load_transactions(tmp_path / "tx.parquet")
    text = load_transactions(tmp_path / "tx.csv")
    assert typed.summary["format"] == "parquet"
    assert typed.summary["rejected_by_reason"]["duplicate order line"] > 0
    _same_load(typed, text)
    # rejected rows keep their values as read, with the row they come from
    rows = typed.rejected["source_row"].to_numpy() - 1
    got = typed.rejected.drop(columns=["source_row", "reason"])
    pd.testing.assert_frame_equal(got, frame.iloc[rows].reset_index(drop=True),
                                  check_dtype=False)


def test_dataframe_and_arrow_table_equal_the_text_dataframe():
    frame = _typed_frame(seed=3)
    text = load_transactions(_as_text(frame))
    typed = load_transactions(frame)
    assert typed.summary["format"] == "dataframe"
    _same_load(typed, text)
    table = load_transactions(pa.Table.from_pandas(frame, preserve_index=False))
    assert table.summary["format"] == "arrow"
    _same_load(table, text)


def test_without_order_ids_identical_rows_are_kept_and_counted():
    frame = _typed_frame(seed=4).drop(columns="order_id")
    typed, text = load_transactions(frame), load_transactions(_as_text(frame))
    assert typed.summary["identical_rows_kept"] > 0
    _same_load(typed, text)


@pytest.mark.parametrize("tz", [None, "UTC", "America/New_York"])
def test_tz_aware_timestamps_keep_wall_clock_or_convert(tmp_path, tz):
    ts = pd.to_datetime(["2025-03-01 10:00", "2025-03-01 23:30", "2025-06-30 12:00"]
                        ).tz_localize("Asia/Shanghai")
    frame = pd.DataFrame({"customer_id": pd.array(["a", "b", "a"], dtype="str"),
                          "timestamp": ts, "amount": [1.0, 2.0, 3.0]})
    frame.to_parquet(tmp_path / "tx.parquet", index=False)
    _as_text(frame).to_csv(tmp_path / "tx.csv", index=False)
    typed = load_transactions(tmp_path / "tx.parquet", tz=tz)
    text = load_transactions(tmp_path / "tx.csv", tz=tz)
    _same_load(typed, text)
    expected = ts.tz_localize(None) if tz is None else ts.tz_convert(tz).tz_localize(None)
    assert sorted(typed.data["timestamp"]) == sorted(expected)


def test_integer_ids_become_decimal_text_in_text_order(tmp_path):
    frame = pd.DataFrame({"customer_id": np.array([10, 9, 100, 9, -3], dtype=np.int64),
                          "timestamp": pd.to_datetime(["2025-01-01"] * 5),
                          "amount": [1.0, 2.0, 3.0, 4.0, 5.0]})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "tx.parquet")
    typed = load_transactions(tmp_path / "tx.parquet")
    _same_load(typed, load_transactions(_as_text(frame)))
    assert typed.data["customer_id"].tolist() == ["10", "9", "100", "9", "-3"]
    assert rfm(typed.data).index.tolist() == ["-3", "10", "100", "9"]


def test_dictionary_encoded_ids_and_nullable_integer_ids(tmp_path):
    ids = pa.array(["b", " a", "NA", None, "b", "c "]).dictionary_encode()
    table = pa.table({"customer_id": ids,
                      "timestamp": pa.array(pd.to_datetime([f"2025-01-0{i}"
                                                            for i in range(1, 7)])),
                      "amount": pa.array([1, 2, 3, 4, 5, 6], type=pa.int32())})
    pq.write_table(table, tmp_path / "tx.parquet")
    typed = load_transactions(tmp_path / "tx.parquet")
    _as_text(table.to_pandas().astype({"customer_id": "str"})).to_csv(tmp_path / "tx.csv",
                                                                       index=False)
    _same_load(typed, load_transactions(tmp_path / "tx.csv"))
    assert typed.data["customer_id"].tolist() == ["b", "a", "b", "c"]
    assert typed.rejected["reason"].tolist() == ["missing customer_id"] * 2
    nullable = pd.DataFrame({"customer_id": pd.array([7, None, 7], dtype="Int64"),
                             "timestamp": pd.to_datetime(["2025-01-01"] * 3),
                             "amount": [1.0, 2.0, 3.0]})
    res = load_transactions(nullable)
    assert res.summary["format"] == "dataframe"
    assert res.data["customer_id"].tolist() == ["7", "7"]
    assert res.rejected["reason"].tolist() == ["missing customer_id"]


def test_dates_and_second_units_out_of_range_are_unparseable(tmp_path):
    table = pa.table({"customer_id": ["a", "b", "c"],
                      "timestamp": pa.array([0, 10**12, 86_400], type=pa.timestamp("s")),
                      "amount": [1.0, 2.0, 3.0]})
    res = load_transactions(table)
    assert res.rejected["reason"].tolist() == ["unparseable timestamp"]
    assert res.data["timestamp"].tolist() == [pd.Timestamp(0), pd.Timestamp("1970-01-02")]
    dates = pa.table({"customer_id": ["a"], "timestamp": pa.array([1], type=pa.date32()),
                      "amount": [1.0]})
    assert load_transactions(dates).data["timestamp"].tolist() == [pd.Timestamp("1970-01-02")]


def test_typed_rows_keep_source_order_and_shuffling_changes_no_result(tmp_path):
    frame = _typed_frame(seed=5)
    res = load_transactions(frame)
    # the accepted rows, in source order
    kept = np.setdiff1d(np.arange(len(frame)), res.rejected["source_row"].to_numpy())
    assert res.data["amount"].tolist() == [v + 0.0 for v in frame["amount"].iloc[kept]]
    assert res.data["customer_id"].tolist() == [
        v.strip() for v in frame["customer_id"].iloc[kept]]
    shuffled = frame.sample(frac=1, random_state=1).reset_index(drop=True)
    res2 = load_transactions(shuffled)
    pd.testing.assert_frame_equal(_sorted(res.data), _sorted(res2.data))
    assert res.summary["rejected_by_reason"] == res2.summary["rejected_by_reason"]
    pd.testing.assert_frame_equal(rfm(res.data), rfm(res2.data))
    pd.testing.assert_frame_equal(period_panel(res.data), period_panel(res2.data))


def test_rfm_of_the_loaded_frame_equals_rfm_of_the_file_and_of_the_text_load(tmp_path):
    rng = np.random.default_rng(8)
    n = 5000
    frame = pd.DataFrame({
        "customer_id": pd.array([f"c{i:04d}" for i in rng.integers(0, 700, n)], dtype="str"),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n),
                                                                  unit="s"),
        "amount": np.round(rng.normal(20, 30, n), 2)})
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path, index=False)
    loaded = load_transactions(path).transactions
    expected = rfm(path)
    pd.testing.assert_frame_equal(rfm(loaded), expected)
    text = load_transactions(_as_text(frame)).transactions
    pd.testing.assert_frame_equal(rfm(text), expected)
    # a second frame with other ids does not reuse the first one's codes
    other = load_transactions(frame.assign(customer_id=frame["customer_id"].str.upper()))
    assert rfm(other.transactions).index.tolist() == [i.upper() for i in expected.index]


def test_untyped_parquet_columns_take_the_text_path(tmp_path):
    frame = pd.DataFrame({"customer_id": ["b", "a"], "timestamp": ["2025-01-02", "2025-01-01"],
                          "amount": ["¥1,234", "5"]})
    frame.to_parquet(tmp_path / "tx.parquet", index=False)
    res = load_transactions(tmp_path / "tx.parquet")
    assert res.data["customer_id"].tolist() == ["b", "a"]  # the text path, source order
    assert res.data["amount"].tolist() == [1234.0, 5.0]
    assert res.summary["format"] == "parquet"


def test_other_columns_are_kept_as_read():
    frame = _typed_frame(seed=6).assign(note=lambda f: np.arange(len(f)) % 3,
                                        channel=pd.array(["web ", "shop"] * 220, dtype="str"))
    typed, text = load_transactions(frame), load_transactions(_as_text(frame))
    assert list(typed.data.columns) == list(text.data.columns)
    a = _sorted(typed.data.astype({"note": "str"}))
    pd.testing.assert_frame_equal(a, _sorted(text.data))
