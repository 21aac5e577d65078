"""A clean CSV read in one typed pass (``tierlab.io.typedcsv``) gives what the text path gives.

The reference is the general loader's text path on the same values: the file read back as a
DataFrame of strings (``dtype=str``), which is never a typed source. Clean files must take the
typed pass (``load_typed_csv`` returns a result); a file with any problem must not, and then
``load_transactions`` reports exactly what the text path reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierlab.io.load import load_transactions
from tierlab.io.typedcsv import load_typed_csv

SOURCE_FIELDS = ("file", "format", "encoding", "sep", "sheet")


def _fast(path, **kw):
    opts = {"sep": None, "encoding": None, "date_format": None, "header": True, "tz": None}
    opts.update(kw)
    return load_typed_csv(path, None, **opts)


def _text_reference(path, sep=","):
    """The text path on the file's values (strings, "" missing), rows numbered as in the file."""
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                        encoding="utf-8-sig")
    return load_transactions(frame)


def _same(fast_data, fast_summary, text) -> None:
    pd.testing.assert_frame_equal(fast_data, text.data)
    strip = {k: v for k, v in fast_summary.items() if k not in SOURCE_FIELDS}
    assert strip == {k: v for k, v in text.summary.items() if k not in SOURCE_FIELDS}


def _clean_export(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Clean text as exports write it: padded ids, ISO dates in several forms, other columns."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(["A1", " B22", "C333 ", "00042", "d4", "张三"], n)
    base = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    secs = pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    forms = rng.integers(0, 4, n)
    stamps = [
        d.strftime("%Y-%m-%d") if f == 0 else
        (d + s).strftime("%Y-%m-%d %H:%M:%S") if f == 1 else
        (d + s).strftime("%Y-%m-%dT%H:%M") if f == 2 else
        (d + s).strftime("%Y-%m-%d %H:%M:%S") + ".250"
        for d, s, f in zip(base, secs, forms, strict=True)
    ]
    amounts = rng.choice(["12", "12.50", "-3", "0", "-0", "1e3", "+7.25", ".5", " 6 ", "99.99"], n)
    frame = pd.DataFrame({"customer_id": ids, "timestamp": stamps, "amount": amounts,
                          "quantity": rng.choice(["1", "2", "", "3.5"], n),
                          "channel": rng.choice(["web", " shop ", ""], n),
                          "note": rng.choice(["x", "y, z", ""], n)})
    return pd.concat([frame, frame.iloc[:50]], ignore_index=True)  # identical rows, kept


def test_a_clean_export_takes_the_typed_pass_and_equals_the_text_path(tmp_path):
    path = tmp_path / "tx.csv"
    _clean_export().to_csv(path, index=False)
    fast = _fast(path)
    assert fast is not None
    data, rejected, summary = fast
    assert rejected.empty
    _same(data, summary, _text_reference(path))
    assert summary["identical_rows_kept"] >= 50
    assert (summary["file"], summary["format"], summary["encoding"], summary["sep"]) == (
        str(path), "text", "utf-8", ",")
    # and load_transactions uses it: same frame, same summary
    res = load_transactions(path)
    pd.testing.assert_frame_equal(res.data, data)
    assert res.summary == summary
    # ids stripped, dtypes as the contract says
    assert res.data["customer_id"].str.strip().eq(res.data["customer_id"]).all()
    assert str(res.data["timestamp"].dtype) == "datetime64[ns]"
    assert res.data["amount"].dtype == "float64" and res.data["quantity"].dtype == "float64"


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_separators_and_a_bom(tmp_path, sep):
    path = tmp_path / "tx.csv"
    _clean_export(300, seed=1).to_csv(path, index=False, sep=sep, encoding="utf-8-sig")
    fast = _fast(path)
    assert fast is not None and fast[2]["sep"] == sep
    _same(fast[0], fast[2], _text_reference(path, sep=sep))


def test_order_lines_without_duplicates_take_the_typed_pass(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,timestamp,amount,order_id,sku\n"
                    "A,2025-01-01,5,o1,pen\nA,2025-01-01,5,o1,ink\nB,2025-01-02,7,,\n"
                    "B,2025-01-02,7,,\n", encoding="utf-8")
    fast = _fast(path)
    assert fast is not None
    _same(fast[0], fast[2], _text_reference(path))


DIRTY = {
    "missing id": "A,2025-01-01,5\n,2025-01-02,6\n",
    "null token id": "A,2025-01-01,5\nNA,2025-01-02,6\n",
    "other date style": "A,2025-01-01,5\nB,2025/01/02,6\n",
    "date with an offset": "A,2025-01-01,5\nB,2025-01-02T10:00:00+08:00,6\n",
    "date out of range": "A,2025-01-01,5\nB,2263-01-02,6\n",
    "impossible date": "A,2025-01-01,5\nB,2025-02-30,6\n",
    "thousands": 'A,2025-01-01,5\nB,2025-01-02,"1,234.50"\n',
    "currency": "A,2025-01-01,5\nB,2025-01-02,¥12\n",
    "null token amount": "A,2025-01-01,5\nB,2025-01-02,NA\n",
    "nan amount": "A,2025-01-01,5\nB,2025-01-02,NaN\n",
    "-nan amount": "A,2025-01-01,5\nB,2025-01-02,-nan\n",
    "infinite amount": "A,2025-01-01,5\nB,2025-01-02,inf\n",
    "missing amount": "A,2025-01-01,5\nB,2025-01-02,\n",
    "blank line": "A,2025-01-01,5\n\nB,2025-01-02,6\n",
    "value spanning lines": 'A,2025-01-01,5\n"B\nC",2025-01-02,6\n',
}


@pytest.mark.parametrize("body", list(DIRTY.values()), ids=list(DIRTY))
def test_a_file_with_any_problem_goes_to_the_text_path(tmp_path, body):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,timestamp,amount\n" + body, encoding="utf-8")
    assert _fast(path) is None
    res = load_transactions(path)
    ref = _text_reference(path)
    pd.testing.assert_frame_equal(res.data, ref.data)
    # rejected rows: the same values as read and reasons; file rows are 1-based
    pd.testing.assert_frame_equal(res.rejected.drop(columns="source_row"),
                                  ref.rejected.drop(columns="source_row"))
    assert (res.rejected["source_row"] - 1).tolist() == ref.rejected["source_row"].tolist()


def test_a_duplicate_order_line_goes_to_the_text_path(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,timestamp,amount,order_id\nA,2025-01-01,5,o1\n"
                    "B,2025-01-02,6,o2\nA,2025-01-01,5,o1\n", encoding="utf-8")
    assert _fast(path) is None
    res = load_transactions(path)
    assert res.rejected["source_row"].tolist() == [3]
    assert res.rejected["reason"].tolist() == ["duplicate order line"]
    assert res.data["customer_id"].tolist() == ["A", "B"]


def test_options_the_typed_pass_does_not_take(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,timestamp,amount\nA,2025-01-01,5\n", encoding="utf-8")
    assert _fast(path) is not None
    assert _fast(path, date_format="%Y-%m-%d") is None
    assert _fast(path, encoding="gbk") is None
    assert _fast(path, encoding="klingon") is None  # the general loader names it
    assert _fast(path, header=False) is None
    assert _fast(path, sep=r"\s+") is None
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("customer_id,timestamp,amount\n张三,2025-01-01,5\n".encode("gbk"))
    assert _fast(gbk) is None
    assert load_transactions(gbk).data["customer_id"].tolist() == ["张三"]


def test_an_unclosed_quote_is_never_read_as_clean(tmp_path):
    # Arrow's block reader would silently drop the rows after it
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,timestamp,amount,note\nA,2025-01-01,5,\"open\n"
                    + "".join(f"E{i},2025-01-01,1,{'w' * 100}\n" for i in range(20000)),
                    encoding="utf-8")
    assert _fast(path) is None
