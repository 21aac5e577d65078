"""The segmentation report on a dataset directory equals the report on the same data as a file.

``tierlab report segmentation -p transactions=DIR`` runs the heavy steps bucket by bucket
(``run_partitioned`` with the features, one read per bucket) and takes a seeded customer
sample for the sections that re-read transactions. The sample here is a fifth of the
customers, so figures taken from the sample by mistake would differ from the file's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tierlab as tl
from tierlab.study_dataset import is_dataset

SAMPLE = 60  # of the small data's 300 customers
RULES = Path(__file__).resolve().parents[2] / "data" / "rules"


def _metrics(latest):
    return json.loads((latest / "metrics.json").read_text(encoding="utf-8"))


def _sentence(html: str, start: str) -> str:
    found = re.search(re.escape(start) + r"[^<]*", html)
    assert found, f"no sentence starting {start!r}"
    return found.group(0)


@pytest.fixture(scope="module")
def dataset(small_data, tmp_path_factory):
    path = tmp_path_factory.mktemp("dataset") / "tx"
    tl.write_dataset(tl.load_transactions(small_data.transactions), path, partitions=3)
    return path


def _run(run_cli, small_data, dataset, out, lang):
    res = run_cli(["report", "segmentation", "-p", "transactions", str(dataset),
                   "-p", "customers", str(small_data.customers), "-p", "holdout_months", "3",
                   "-p", "sample_customers", str(SAMPLE), "-p", "lang", lang,
                   "--out", str(out)])
    assert res.code == 0, res.stderr
    res.latest = out / "segmentation" / "latest"
    res.html = (out / "segmentation.html").read_text(encoding="utf-8")
    return res


@pytest.fixture(scope="module")
def dataset_run(run_cli, small_data, dataset, tmp_path_factory):
    return _run(run_cli, small_data, dataset, tmp_path_factory.mktemp("ds_report"), "en")


def test_a_dataset_directory_is_recognised(dataset, small_data):
    assert is_dataset(str(dataset))
    assert not is_dataset(str(small_data.transactions))
    assert not is_dataset(str(small_data.dir / "missing"))


@pytest.mark.slow
def test_key_figures_equal_the_report_on_the_file(segmentation_run, dataset_run):
    file_m, ds_m = _metrics(segmentation_run.latest), _metrics(dataset_run.latest)
    assert ds_m["tiers"]["counts"] == file_m["tiers"]["counts"]
    pd.testing.assert_frame_equal(pd.DataFrame(ds_m["tiers"]["summary"]),
                                  pd.DataFrame(file_m["tiers"]["summary"]), rtol=1e-9)
    for section in ("reviews", "migration", "stability", "cross"):
        assert ds_m[section] == file_m[section], section
    assert ds_m["rfm"]["customers"] == file_m["rfm"]["customers"] > 2 * SAMPLE
    assert ds_m["rfm"]["segments"] == file_m["rfm"]["segments"]
    assert ds_m["concentration"]["gini"] == pytest.approx(file_m["concentration"]["gini"])
    assert ds_m["data"]["rows_used"] == file_m["data"]["rows_used"]
    assert ds_m["data"]["sample"]["customers"] == SAMPLE
    file_html = (segmentation_run.out / "segmentation.html").read_text(encoding="utf-8")
    used = _sentence(dataset_run.html, "Data used:")  # transactions, customers, period
    assert used.split(";")[0] == _sentence(file_html, "Data used:").split(";")[0]
    assert used.endswith("every row of the file was usable.")  # rows set aside when written


@pytest.mark.slow
def test_the_report_says_what_the_sample_serves(dataset_run):
    assert f"a random sample of {SAMPLE} customers" in dataset_run.html


@pytest.mark.slow
def test_the_chinese_report_on_a_dataset(run_cli, small_data, dataset, tmp_path_factory,
                                         dataset_run):
    res = _run(run_cli, small_data, dataset, tmp_path_factory.mktemp("ds_zh"), "zh")
    assert f"随机抽取的{SAMPLE}位客户" in res.html
    assert _metrics(res.latest)["tiers"]["counts"] == _metrics(dataset_run.latest)["tiers"][
        "counts"]
    assert "Traceback" not in res.html


def test_the_study_history_equals_the_run_in_memory(small_data, dataset):
    """Codes, qualified levels, changes and current, in English and Chinese; the features."""
    from tierlab.study_dataset import in_sample, load_dataset_study

    scheme = tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml")
    data = load_dataset_study(dataset, scheme, as_of="2024-10-20", sample_customers=SAMPLE,
                              langs=("zh",), workers=1)
    tx = tl.load_transactions(small_data.transactions).transactions
    tx = tx[tx["timestamp"] < "2024-10-21"]
    hist = scheme.run(tx)
    got = data.history
    assert got.customer_ids.equals(hist.customer_ids)
    np.testing.assert_array_equal(got.codes, hist.codes)
    np.testing.assert_array_equal(got.qualified_levels, hist.qualified_levels)
    for lang in ("en", "zh"):
        pd.testing.assert_frame_equal(got.changes_in(lang), hist.changes_in(lang))
        pd.testing.assert_frame_equal(got.current_in(lang), hist.current_in(lang))
    pd.testing.assert_frame_equal(data.features, tl.rfm(tx, as_of="2024-10-20"))
    assert (data.rows, data.n_customers) == (len(tx), tx["customer_id"].nunique())
    sample = data.transactions
    assert sample["customer_id"].nunique() == SAMPLE
    assert sample["timestamp"].max() < pd.Timestamp("2024-10-21")
    picked = sample.groupby("customer_id").size()  # all rows of each sampled customer
    assert picked.equals(tx[tx["customer_id"].isin(picked.index)].groupby("customer_id").size())
    again = load_dataset_study(dataset, scheme, sample_customers=SAMPLE, workers=1)
    other = load_dataset_study(dataset, scheme, sample_customers=SAMPLE, seed=1, workers=1)
    assert again.transactions["customer_id"].nunique() == SAMPLE
    assert set(other.transactions["customer_id"]) != set(again.transactions["customer_id"])
    assert len(in_sample(data, hist.current["tier"])) == SAMPLE
