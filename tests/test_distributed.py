"""run_partitioned and the partitioned features equal the in-memory run, on a real Dask cluster.

The cluster is a 2-worker ``LocalCluster`` of processes started once for the module; the data is
small so the whole file stays quick.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import tierlab as tl
from tierlab.datasets import generate
from tierlab.distributed import (
    btyd_summary_partitioned,
    period_panel_partitioned,
    rfm_partitioned,
    run_partitioned,
)
from tierlab.errors import DataError
from tierlab.io.dataset import open_dataset, write_dataset

# dask's own Parquet reader calls pandas APIs that pandas 3.1 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


def fnv_bucket(text: str, partitions: int) -> int:
    """The bucket by the published FNV-1a 64 definition (independent of the package)."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    return h % partitions


def test_the_core_works_without_importing_dask():
    code = ("import sys, tierlab, tierlab.distributed, tierlab.io.dataset; "
            "tierlab.run_partitioned, tierlab.write_dataset; "
            "print(','.join(m for m in ('dask', 'distributed') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def tx():
    """150 generated customers over 14 months, one customer with 4,000 purchases, and no
    customer in bucket 0 of 7 (an empty bucket)."""
    base = generate(150, months=14, seed=11)[0]
    base = base[[fnv_bucket(c, 7) != 0 for c in base["customer_id"]]]
    rng = np.random.default_rng(0)
    n = 4_000
    big = pd.DataFrame({
        "customer_id": "BIG",
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(
            np.sort(rng.integers(0, 420 * 86_400, n)), unit="s"),
        "amount": np.round(rng.gamma(2.0, 40.0, n), 2),
        "order_id": [f"B{i:06d}" for i in range(n)],
    })
    assert fnv_bucket("BIG", 7) != 0
    out = pd.concat([base, big], ignore_index=True)
    return out[["customer_id", "timestamp", "amount", "order_id"]]


@pytest.fixture(scope="module")
def datasets(tx, tmp_path_factory):
    folder = tmp_path_factory.mktemp("datasets")
    out = {n: write_dataset(tx, folder / f"ds{n}", partitions=n) for n in (1, 2, 7)}
    assert len(open_dataset(out[7]).read_bucket(0)) == 0  # the empty bucket is there
    return out


MONTHLY = tl.TierScheme.from_yaml("data/rules/monthly_spend.yaml")
SCORES = tl.TierScheme.from_dict({
    "name": "RFM tiers", "review": "monthly",
    "tiers": [
        {"name": "Low"},
        {"name": "Mid", "when": {"metric": "rfm_score", "op": ">=", "value": 9}},
        {"name": "Top", "when": {"all": [
            {"metric": "r_score", "op": ">=", "value": 4},
            {"metric": "m_score", "window": "3M", "op": ">=", "value": 5}]},
         "promote_after": 2},
    ],
    "policy": {"demote_after": 2},
})


def _overrides(tx: pd.DataFrame) -> pd.DataFrame:
    ids = sorted(tx["customer_id"].unique())
    return pd.DataFrame({"customer_id": [ids[0], ids[5], "BIG"],
                         "tier": ["High", "Low", "Low"],
                         "from": ["2024-03-01", "2024-06-15", "2024-09-01"],
                         "until": ["2024-08-31", "", "2024-12-31"],
                         "reason": ["goodwill", "fraud check", "audit"]})


def _in_memory(scheme, tx, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # collapsed-quantile notices
        return scheme.run(tx, **kwargs)


@pytest.fixture(scope="module")
def memory(tx):
    """The in-memory histories the partitioned runs are compared with (computed once)."""
    return {"overrides": _in_memory(MONTHLY, tx, overrides=_overrides(tx)),
            "scores": _in_memory(SCORES, tx),
            "plain": _in_memory(MONTHLY, tx)}


def _assert_same(part, hist):
    pd.testing.assert_frame_equal(part.tiers, hist.tiers)
    pd.testing.assert_frame_equal(part.changes, hist.changes)
    pd.testing.assert_frame_equal(part.current, hist.current)
    assert part.reviews.equals(hist.reviews)


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_monthly_scheme_with_overrides_equals_in_memory_on_dask(client, tx, datasets, memory,
                                                                partitions):
    hist = memory["overrides"]
    part = run_partitioned(MONTHLY, datasets[partitions], client=client,
                           overrides=_overrides(tx))
    _assert_same(part, hist)
    assert (hist.changes["rule"] == "override").sum() >= 2  # the overrides did something
    assert part.tier_counts.sum() == len(hist.current)


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_quantile_score_scheme_equals_in_memory_on_dask(client, datasets, memory, partitions):
    _assert_same(run_partitioned(SCORES, datasets[partitions], client=client), memory["scores"])


def test_scores_need_the_global_cut_points(tx, datasets, memory):
    """Per-bucket quantiles (no global pre-pass) would give other tiers: the test can fail."""
    ds = open_dataset(datasets[2])
    local = pd.concat([_in_memory(SCORES, ds.read_bucket(k), end=tx["timestamp"].max())
                       .current for k in range(2)]).sort_index()
    assert not local["tier"].equals(memory["scores"].current["tier"])


def test_parquet_out_and_dask_frames(client, tx, datasets, tmp_path):
    hist = _in_memory(MONTHLY, tx, end="2024-11-15")
    lines: list[str] = []
    part = run_partitioned(MONTHLY, datasets[7], client=client, end="2024-11-15",
                           out=tmp_path / "out", progress=lines.append)
    _assert_same(part, hist)
    assert lines[-1] == "tiers: 7/7 buckets"
    current = part.to_dask("current").compute()
    assert sorted(current.index) == sorted(hist.current.index)
    assert len(part.to_dask("changes")) == len(hist.changes)


@pytest.mark.parametrize("out", [False, True])
def test_rfm_and_each_bucket_on_the_rows_read_for_the_tiers(client, tx, datasets, tmp_path,
                                                            out):
    """One read per bucket: features=True gives tl.rfm(tx, as_of=end) next to the tiers."""
    hist = _in_memory(MONTHLY, tx, end="2024-11-15")
    part = run_partitioned(MONTHLY, datasets[7], client=client, end="2024-11-15",
                           features=True, each_bucket=_bucket_rows,
                           out=tmp_path / "out" if out else None)
    _assert_same(part, hist)
    np.testing.assert_array_equal(part.codes, hist.codes)
    assert part.customer_ids.equals(hist.customer_ids)
    pd.testing.assert_frame_equal(part.features, tl.rfm(tx, as_of="2024-11-15"),
                                  check_index_type=not out)
    rows = pd.DataFrame(list(part.extras.values()), columns=["rows", "customers"]).sum()
    assert rows["rows"] == (tx["timestamp"] < "2024-11-16").sum()
    assert rows["customers"] == len(hist.customer_ids)
    assert list(part.extras) == sorted(part.extras)


def _bucket_rows(tx: pd.DataFrame, hist) -> tuple[int, int]:
    return len(tx), len(hist.customer_ids)


def test_local_process_pool_and_start(tx, datasets):
    hist = _in_memory(MONTHLY, tx, start="2024-05-01")
    _assert_same(run_partitioned(MONTHLY, datasets[2], workers=2, start="2024-05-01"), hist)


def test_end_before_the_data_is_refused(datasets):
    with pytest.raises(DataError, match="before the first transaction"):
        run_partitioned(MONTHLY, datasets[2], workers=1, end="2020-01-01")


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_features_equal_in_memory_on_dask(client, tx, datasets, partitions):
    path = datasets[partitions]
    pd.testing.assert_frame_equal(rfm_partitioned(path, client=client), tl.rfm(tx))
    pd.testing.assert_frame_equal(rfm_partitioned(path, "2024-09-30", client=client),
                                  tl.rfm(tx, as_of="2024-09-30"))
    pd.testing.assert_frame_equal(btyd_summary_partitioned(path, client=client, time_unit="W"),
                                  tl.btyd_summary(tx, time_unit="W"))
    pd.testing.assert_frame_equal(period_panel_partitioned(path, client=client),
                                  tl.period_panel(tx))
    pd.testing.assert_frame_equal(period_panel_partitioned(path, "Q", fill=True, client=client),
                                  tl.period_panel(tx, "Q", fill=True))


def test_feature_parts_read_back_with_dask(client, tx, datasets, tmp_path):
    dd = pytest.importorskip("dask.dataframe")

    out = rfm_partitioned(datasets[7], client=client, out=tmp_path / "rfm")
    back = dd.read_parquet(str(out)).compute().sort_index()
    pd.testing.assert_frame_equal(back, tl.rfm(tx), check_index_type=False,
                                  check_dtype=False)


def test_cli_runs_a_dataset_on_the_scheduler(client, datasets, memory, tmp_path, run_cli):
    out = tmp_path / "tiers"
    res = run_cli(["tiers", str(datasets[7]), "--scheme", "data/rules/monthly_spend.yaml",
                   "--scheduler", client.scheduler.address, "--out", str(out)])
    assert res.code == 0, res.stderr
    assert "tiers: 7/7 buckets" in res.stderr
    hist = memory["plain"]
    current = pd.concat(pd.read_parquet(f) for f in sorted((out / "current").glob("*.parquet")))
    pd.testing.assert_series_equal(current["reason"].sort_index(), hist.current["reason"])
    changes = pd.concat(pd.read_parquet(f) for f in sorted((out / "changes").glob("*.parquet")))
    assert len(changes) == len(hist.changes)
    assert (out / "tiers.xlsx").is_file()
    assert res.stdout.splitlines()[-1] == str(out / "tiers.xlsx")


def test_cli_dataset_errors(datasets, tmp_path, run_cli):
    res = run_cli(["tiers", str(datasets[2]), "--scheme", "data/rules/monthly_spend.yaml",
                   "--workers", "1", "--out", str(tmp_path / "t.xlsx")])
    assert res.code == 2 and "--out is a directory" in res.stderr
    res = run_cli(["tiers", str(datasets[2]), "--scheme", "data/rules/monthly_spend.yaml",
                   "--workers", "1", "--as-of", "2019-01-01", "--out", str(tmp_path / "o")])
    assert res.code == 1 and "before the first transaction" in res.stderr


def test_a_foreign_directory_of_customer_disjoint_files(tx, memory, tmp_path):
    """Files not bucketed by the hash: each file is a bucket; tables go whole to each."""
    ids = sorted(tx["customer_id"].unique())
    folder = tmp_path / "foreign"
    folder.mkdir()
    tx[tx["customer_id"] < ids[40]].to_parquet(folder / "a.parquet")
    tx[tx["customer_id"] >= ids[40]].to_parquet(folder / "b.parquet")
    part = run_partitioned(MONTHLY, folder, workers=1, overrides=_overrides(tx))
    _assert_same(part, memory["overrides"])
    tx.iloc[::2].to_parquet(folder / "a.parquet")  # now customers span both files
    tx.iloc[1::2].to_parquet(folder / "b.parquet")
    with pytest.raises(DataError, match="more than one bucket"):
        _ = run_partitioned(MONTHLY, folder, workers=1).current


def test_overrides_for_unknown_customers_warn_once(tx, datasets):
    ov = pd.DataFrame({"customer_id": ["NOBODY", "C00001"], "tier": ["High", "High"],
                       "from": ["2024-03-01", "2024-03-01"]})
    with pytest.warns(UserWarning, match=r"1 override row\(s\).*'NOBODY'") as record:
        run_partitioned(MONTHLY, datasets[7], workers=1, overrides=ov)
    assert len([w for w in record if "override" in str(w.message)]) == 1


@pytest.mark.parametrize("seed", range(6))
def test_merged_histograms_give_the_scorers_exact_edges(seed):
    """Global edges from per-part histograms equal RFMScorer fitted on all values at once."""
    from tierlab.distributed.scores import HistogramRecorder, resolve_edges
    from tierlab.scoring import RFMScorer

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    values = {"R": rng.integers(0, [3, 400][seed % 2], n).astype(float),
              "F": rng.integers(1, [2, 3, 40][seed % 3], n).astype(float),
              "M": np.round(rng.lognormal(5, 2, n), 2) * rng.choice([1, -1], n)}
    if seed == 5:
        values["M"][:] = 7.5  # one value: a single bin
    part = rng.integers(0, 3, n)

    def record(wanted):
        out = []
        for k in range(3):
            rec = HistogramRecorder(wanted)
            rec(20_000, "3M", {d: v[part == k] for d, v in values.items()})
            out.append(rec.data)
        return out

    edges = resolve_edges(record(None), record).edges[(20_000, "3M")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fitted = RFMScorer(bins=5).fit(pd.DataFrame({
            "recency_days": values["R"], "frequency": values["F"],
            "monetary_total": values["M"]})).edges_
    for dim in "RFM":
        np.testing.assert_array_equal(edges[dim], fitted[dim])
