"""tierlab.reporting.outputs: metrics.json and CSV tables in the output folder."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tierlab.reporting.outputs import write_metrics, write_table
from tierlab.reporting.paths import PROJECT_ROOT_ENV


def test_write_metrics_plain_json(tmp_path):
    value = {"a": np.int64(3), "b": np.float64("nan"), "c": pd.Timestamp("2025-01-31"),
             "d": pd.Timestamp("2025-01-31 10:00"), "e": pd.Series({"x": 1.5}),
             "f": pd.DataFrame({"v": [1]}, index=pd.Index(["k"], name="tier")),
             "g": [np.bool_(True), None, pd.NaT], "名": "高级客户"}
    path = write_metrics(tmp_path / "out", value)
    assert path == tmp_path / "out" / "metrics.json"
    text = path.read_text(encoding="utf-8")
    assert "高级客户" in text and "NaN" not in text  # readable Chinese; NaN as null
    assert json.loads(text) == {
        "a": 3, "b": None, "c": "2025-01-31", "d": "2025-01-31T10:00:00", "e": {"x": 1.5},
        "f": [{"tier": "k", "v": 1}], "g": [True, None, None], "名": "高级客户"}
    assert write_metrics(tmp_path / "out", {"x": 1}, name="other.json").name == "other.json"


def test_write_table_bom_and_flat_columns(tmp_path):
    frame = pd.concat({"customers": pd.DataFrame({"本地": [3, 1]}, index=["High", "Low"]),
                       "revenue_share": pd.DataFrame({"本地": [0.75, 0.25]},
                                                     index=["High", "Low"])}, axis=1)
    frame.index.name = "tier"
    path = write_table(tmp_path, "cross", frame)
    assert path == tmp_path / "cross.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back.columns) == ["tier", "customers 本地", "revenue_share 本地"]
    assert back["customers 本地"].tolist() == [3, 1]
    assert frame.columns.nlevels == 2  # the caller's frame keeps its two column levels
    path = write_table(tmp_path, "plain", frame.droplevel(0, axis=1).iloc[:, :1], index=False)
    assert pd.read_csv(path, encoding="utf-8-sig").columns.tolist() == ["本地"]


def test_relative_output_folder_is_under_the_project_root(tmp_path, monkeypatch):
    monkeypatch.setenv(PROJECT_ROOT_ENV, str(tmp_path))
    path = write_table("reports/run", "t", pd.DataFrame({"x": [1]}))
    assert path == tmp_path / "reports" / "run" / "t.csv" and path.exists()
