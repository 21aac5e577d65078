"""Seeded synthetic transaction logs for the benchmarks, written as Parquet (and optionally CSV).

Sizes: ``1m`` = 1,000,000 transactions / 100,000 customers, ``10m`` = 10,000,000 / 1,000,000,
both over three years (2023-01-01 .. 2025-12-31, i.e. 36 monthly reviews).

- activity is heavy-tailed: every customer buys at least once and the remaining transactions are
  spread over customers with Pareto(α=1.2) weights, so a few customers buy thousands of times;
- a customer's first day is uniform over the three years and their purchases fall uniformly
  between it and the end (timestamps to the second);
- amounts are lognormal (μ=3.5, σ=1.0), rounded to cents; all positive (purchases only, so
  every tool's "transactions" count is the same number);
- rows are in time order, as a point-of-sale log is; customer ids are text (``C0000042``).

The frame is already canonical (``customer_id`` str, ``timestamp`` datetime64[ns], ``amount``
float64), so ``pd.read_parquet`` gives what ``tierlab.load_transactions`` would.

Usage: ``python benchmarks/generate.py [1m] [10m] [--csv] [--force]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parent / "data"
SIZES = {"1m": (1_000_000, 100_000), "10m": (10_000_000, 1_000_000)}
START = np.datetime64("2023-01-01T00:00:00", "s")
END = np.datetime64("2026-01-01T00:00:00", "s")  # exclusive
SEED = 20250101


def path(size: str, ext: str = "parquet") -> Path:
    """Where the file of ``size`` ("1m" or "10m") lives."""
    return DATA / f"tx_{size}.{ext}"


def make(n_tx: int, n_customers: int, seed: int = SEED) -> pa.Table:
    """The transaction table (customer_id, timestamp, amount) as a pyarrow Table."""
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.2, n_customers) + 1.0
    counts = 1 + rng.multinomial(n_tx - n_customers, weights / weights.sum())
    cust = np.repeat(np.arange(n_customers, dtype=np.int64), counts)
    span = int((END - START) / np.timedelta64(1, "s"))
    entry = rng.integers(0, span, n_customers)
    # each purchase falls uniformly between the customer's entry and the end
    e = entry[cust]
    offset = e + (rng.random(n_tx) * (span - e)).astype(np.int64)
    # the first purchase of each customer is at the entry time
    first_row = np.r_[0, np.cumsum(counts)[:-1]]
    offset[first_row] = entry
    amount = np.round(rng.lognormal(3.5, 1.0, n_tx), 2)
    order = np.argsort(offset, kind="stable")
    ts = (START + offset[order].astype("timedelta64[s]")).astype("datetime64[ns]")
    ids = np.char.add("C", np.char.zfill(np.arange(n_customers).astype(str), 7))
    id_col = pa.array(ids.astype(object)).take(pa.array(cust[order]))
    return pa.table({
        "customer_id": id_col,
        "timestamp": pa.array(ts, type=pa.timestamp("ns")),
        "amount": pa.array(amount[order]),
    })


def write(size: str, *, csv: bool = False, force: bool = False) -> None:
    """Write ``data/tx_<size>.parquet`` (and ``.csv``) unless it is there already."""
    n_tx, n_c = SIZES[size]
    DATA.mkdir(parents=True, exist_ok=True)
    out = path(size)
    table = None
    if force or not out.exists():
        t0 = time.perf_counter()
        table = make(n_tx, n_c)
        pq.write_table(table, out, compression="snappy")
        print(f"wrote {out} ({n_tx:,} rows, {n_c:,} customers) in "
              f"{time.perf_counter() - t0:.1f}s, {out.stat().st_size / 2**20:.0f} MiB")
    if csv and (force or not path(size, "csv").exists()):
        import pyarrow.csv as pcsv

        table = table if table is not None else pq.read_table(out)
        # plain text timestamps, as an export writes them
        ts = table["timestamp"].cast(pa.timestamp("s")).cast(pa.string())
        text = table.set_column(1, "timestamp", ts)
        pcsv.write_csv(text, path(size, "csv"))
        print(f"wrote {path(size, 'csv')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", default=["1m", "10m"], choices=sorted(SIZES))
    ap.add_argument("--csv", action="store_true", help="also write a CSV copy")
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    args = ap.parse_args()
    for size in args.sizes:
        write(size, csv=args.csv, force=args.force)


if __name__ == "__main__":
    main()
