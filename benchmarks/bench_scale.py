"""Scaling beyond memory: a bucketed dataset, rfm and the monthly scheme on a Dask LocalCluster.

Sizes (three years, 2023-01-01 .. 2025-12-31, so the monthly scheme has 36 reviews):
``1m`` = 1,000,000 transactions / 100,000 customers, ``10m`` = 10M / 1M, ``100m`` = 100M / 10M.

1. **generate** — a seeded generator writes the dataset with ``DatasetWriter`` one block of
   customers at a time (never the whole log in memory): per block, Pareto(α=1.2) activity
   weights (every customer buys at least once), a uniform entry time and purchases uniform
   between entry and the end, lognormal amounts; blocks have their own seed, so any size is
   reproducible block by block. ~1M transactions per bucket.
2. **rfm** — ``rfm_partitioned`` on a ``LocalCluster(n_workers=W, threads_per_worker=1,
   processes=True)`` (workers started without Dask's ``MALLOC_TRIM_THRESHOLD_``), parts
   written as Parquet.
3. **rfm+tiers** — ``run_partitioned(..., features=True)`` with
   ``data/rules/monthly_spend.yaml`` (36 reviews): one read per bucket for ``rfm`` and the tier
   history; current tiers, changes (with reasons), the tier matrix and the RFM features written
   as Parquet. This is the partitioned counterpart of the in-memory pipeline below.
4. **duckdb** — the peer: DuckDB's out-of-core GROUP BY (RFM columns) over the same files,
   written to Parquet, ``memory_limit`` left at its default, 2 threads.
5. **in-memory** (≤ 10m) — the one-machine pipeline: read the whole log, ``rfm`` and
   ``scheme.run`` + ``current``: the reference time per transaction.

Every stage runs in a fresh process (``--worker``); a sampler thread in it sums the RSS of the
process and all its children (Dask nannies and workers) every 0.1 s, so ``peak_total_mib`` is
the total peak memory and ``peak_by_process`` each process's own peak. Cluster start-up (and the
imports on its workers) is timed separately from the work. Times per transaction are wall time /
transactions.

Usage (the project's interpreter; PYTHONPATH pointing at the checkout)::

    python benchmarks/bench_scale.py --sizes 1m 10m [--workers 2] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _harness as H  # noqa: E402

SIZES = {"1m": (1_000_000, 100_000), "10m": (10_000_000, 1_000_000),
         "100m": (100_000_000, 10_000_000)}
START = "2023-01-01"
SPAN_S = 3 * 365 * 86_400 + 86_400  # 2023-01-01 .. 2025-12-31 (2024 is a leap year)
SEED = 20250101
TX_PER_BUCKET = 1_000_000
BLOCK_CUSTOMERS = 200_000
SCHEME = H.ROOT / "data" / "rules" / "monthly_spend.yaml"


def dataset_dir(size: str) -> Path:
    return H.DATA / f"scale_{size}"


def partitions(size: str) -> int:
    return max(2, SIZES[size][0] // TX_PER_BUCKET)


# --------------------------------------------------------------------------- memory sampling
class Sampler:
    """Samples the RSS of this process and its children; keeps the peaks."""

    def __init__(self, every: float = 0.1):
        import psutil

        self.me = psutil.Process()
        self.every = every
        self.peak_total = 0
        self.peak_by: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for p in [self.me, *self.me.children(recursive=True)]:
                try:
                    rss = p.memory_info().rss
                    name = f"{p.pid}:{' '.join(p.cmdline()[1:3])[:60]}"
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += rss
                self.peak_by[name] = max(self.peak_by.get(name, 0), rss)
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> dict:
        return {"peak_total_mib": round(self.peak_total / H.MiB, 1),
                "peak_by_process": {k: round(v / H.MiB, 1) for k, v in
                                    sorted(self.peak_by.items(), key=lambda kv: -kv[1])}}


# --------------------------------------------------------------------------- stages (workers)
def _generate(size: str) -> dict:
    import numpy as np
    import pandas as pd

    from tierlab.io.dataset import DatasetWriter

    n_tx, n_cust = SIZES[size]
    t0 = time.perf_counter()
    start = np.datetime64(START, "s")
    with DatasetWriter(dataset_dir(size), partitions(size), overwrite=True) as writer:
        for c0 in range(0, n_cust, BLOCK_CUSTOMERS):
            c = min(BLOCK_CUSTOMERS, n_cust - c0)
            k = n_tx * (c0 + c) // n_cust - n_tx * c0 // n_cust  # this block's transactions
            rng = np.random.default_rng([SEED, c0])
            weights = rng.pareto(1.2, c) + 1.0
            counts = 1 + rng.multinomial(k - c, weights / weights.sum())
            cust = np.repeat(np.arange(c), counts)
            entry = rng.integers(0, SPAN_S, c)
            e = entry[cust]
            offset = e + (rng.random(k) * (SPAN_S - e)).astype(np.int64)
            offset[np.r_[0, np.cumsum(counts)[:-1]]] = entry
            ids = pd.Series(np.char.add("C", np.char.zfill(np.arange(c0, c0 + c).astype(str),
                                                           8)), dtype="str")
            writer.write(pd.DataFrame({
                "customer_id": ids.take(cust).reset_index(drop=True),
                "timestamp": (start + offset.astype("timedelta64[s]")).astype("datetime64[ns]"),
                "amount": np.round(rng.lognormal(3.5, 1.0, k), 2),
            }))
    return {"seconds": time.perf_counter() - t0, "rows": writer.rows}


def _cluster(workers: int):
    import dask
    from distributed import Client, LocalCluster

    # glibc's own (adaptive) trimming on the workers: Dask's default MALLOC_TRIM_THRESHOLD_=64k
    # hands every freed bucket back to the OS and costs ~0.4 CPU-s of page faults per 1M-row
    # bucket (docs/scaling.md)
    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    dask.config.set({"distributed.nanny.pre-spawn-environ": env})
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    client.run(_warm)  # imports on every worker: a fixed start-up cost, not per-bucket work
    return cluster, client, time.perf_counter() - t0


def _warm() -> None:
    import pyarrow.parquet  # noqa: F401

    import tierlab.distributed  # noqa: F401
    import tierlab.tiers.engine  # noqa: F401


def _cpu_s() -> float:
    """CPU seconds (user + system, all threads) this process has used so far."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _worker_peaks(client) -> dict:
    import resource

    def peak() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    return {str(k): round(v, 1) for k, v in client.run(peak).items()}


def _partitioned(size: str, stage: str, workers: int) -> dict:
    from tierlab.distributed import rfm_partitioned, run_partitioned
    from tierlab.tiers.scheme import TierScheme

    out = H.DATA / f"scale_{size}_{stage}_out"
    shutil.rmtree(out, ignore_errors=True)
    cluster, client, startup = _cluster(workers)
    try:
        cpu0 = client.run(_cpu_s)
        t0 = time.perf_counter()
        if stage == "rfm":
            rfm_partitioned(dataset_dir(size), client=client, out=out)
            extra: dict = {}
        else:
            hist = run_partitioned(TierScheme.from_yaml(SCHEME), dataset_dir(size),
                                   client=client, out=out, features=True)
            extra = {"reviews": len(hist.reviews), "customers": hist.n_customers,
                     "changes": hist.n_changes, "tiers": hist.tier_counts.to_dict()}
        seconds = time.perf_counter() - t0
        cpu1 = client.run(_cpu_s)
        extra["worker_cpu_s"] = round(sum(cpu1[w] - cpu0[w] for w in cpu0), 2)
        extra["buckets"] = partitions(size)
        extra["worker_ru_maxrss_mib"] = _worker_peaks(client)
    finally:
        client.close()
        cluster.close()
    return {"seconds": seconds, "cluster_start_s": round(startup, 2), **extra}


def _duckdb(size: str) -> dict:
    import duckdb

    out = H.DATA / f"scale_{size}_duckdb.parquet"
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.sql("SET threads = 2")
    con.sql("SET preserve_insertion_order = false")
    files = str(dataset_dir(size) / "*" / "*.parquet")
    con.sql(f"""
        COPY (
          SELECT customer_id, min(day) AS first_purchase, max(day) AS last_purchase,
                 count(*) AS transactions, count(DISTINCT day) AS purchase_days,
                 sum(amount) AS total, avg(amount) AS mean,
                 date_diff('day', max(day), max(max(day)) OVER ()) AS recency_days
          FROM (SELECT customer_id, timestamp::DATE AS day, amount
                FROM read_parquet('{files}'))
          GROUP BY customer_id
        ) TO '{out}' (FORMAT parquet)
    """)
    return {"seconds": time.perf_counter() - t0, "duckdb": duckdb.__version__}


def _in_memory(size: str) -> dict:
    import pandas as pd

    from tierlab.features import rfm
    from tierlab.io.dataset import open_dataset
    from tierlab.tiers.scheme import TierScheme

    t0 = time.perf_counter()
    ds = open_dataset(dataset_dir(size))
    tx = pd.concat([ds.read_bucket(k) for k in range(ds.partitions)], ignore_index=True)
    t_read = time.perf_counter() - t0
    rfm(tx)
    t_rfm = time.perf_counter() - t0 - t_read
    hist = TierScheme.from_yaml(SCHEME).run(tx)
    _ = hist.current
    t_current = time.perf_counter() - t0
    _ = hist.changes  # the partitioned run writes every change with its reason too
    return {"seconds": time.perf_counter() - t0, "read_s": round(t_read, 2),
            "rfm_s": round(t_rfm, 2), "with_current_only_s": round(t_current, 2),
            "reviews": len(hist.reviews)}


def worker(stage: str, size: str, workers: int) -> None:
    cpu0 = _cpu_s()
    with Sampler() as sampler:
        if stage == "generate":
            record = _generate(size)
        elif stage in ("rfm", "rfm+tiers"):
            record = _partitioned(size, stage, workers)
        elif stage == "duckdb":
            record = _duckdb(size)
        else:
            record = _in_memory(size)
    H.emit({"stage": stage, "size": size, "self_ru_maxrss_mib": round(H.peak_rss_mib(), 1),
            "self_cpu_s": round(_cpu_s() - cpu0, 2),
            **record, **sampler.report()})


# --------------------------------------------------------------------------- parent
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1m", "10m"], choices=list(SIZES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the generated datasets")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse a dataset generated (and kept) by an earlier run")
    parser.add_argument("--stages", nargs="+", metavar="STAGE",
                        help="run only these stages (generate, rfm, rfm+tiers, duckdb, "
                             "in-memory)")
    parser.add_argument("--worker", nargs=3, metavar=("STAGE", "SIZE", "WORKERS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return
    env = {"PYTHONPATH": str(H.ROOT)}
    peer = H.PEER_PY if H.PEER_PY.exists() else Path(sys.executable)
    results = {"machine": H.machine(), "workers": args.workers, "runs": []}
    for size in args.sizes:
        n_tx = SIZES[size][0]
        stages = ["generate", "rfm", "rfm+tiers", "duckdb"]
        if args.reuse and (dataset_dir(size) / "_tierlab_dataset.json").is_file():
            stages.remove("generate")
        if n_tx <= 10_000_000:
            stages.append("in-memory")
        if args.stages:
            stages = [s for s in stages if s in args.stages]
        for stage in stages:
            python = peer if stage == "duckdb" else Path(sys.executable)
            rec = H.run_worker(python, Path(__file__), [stage, size, str(args.workers)],
                               env=env, timeout=7200)
            rec["us_per_tx"] = (round(rec["seconds"] / n_tx * 1e6, 3) if rec.get("ok")
                                else None)
            cpu = rec.get("worker_cpu_s", rec.get("self_cpu_s"))
            rec["cpu_us_per_tx"] = (round(cpu / n_tx * 1e6, 3) if rec.get("ok") and cpu
                                    else None)
            results["runs"].append(rec)
            print(json.dumps({k: rec.get(k) for k in (
                "stage", "size", "ok", "seconds", "us_per_tx", "cpu_us_per_tx", "self_cpu_s",
                "worker_cpu_s",
                "peak_total_mib",
                "self_ru_maxrss_mib", "worker_ru_maxrss_mib", "cluster_start_s",
                "load_before", "load_after", "error")}), flush=True)
        if not args.keep:
            for p in H.DATA.glob(f"scale_{size}*"):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
    results["uptime"] = os.popen("uptime").read().strip()
    print(results["uptime"])
    print("saved", H.save("scale", results))


if __name__ == "__main__":
    main()
