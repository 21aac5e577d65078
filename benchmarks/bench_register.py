"""Time per monthly review of the tier register (DuckDB) at scale.

A synthetic log (``--customers`` customers, a purchase in about 40% of their months, over
``--history`` months before the first timed review and ``--reviews`` months after) is
reviewed the way a monthly job does it: the register first catches up to the month before
the timed ones (one call, timed separately), then each month ``Register.review`` is called
with the log up to that month's end. Each timed review reads the last committed state,
runs the engine from it over the month, and commits tier state, changes and figures in one
transaction.

Printed per review: wall seconds, customers, changes; at the end the median, the register's
file size, the peak RSS and the 1-minute load average (``uptime``) before and after.

Usage: ``python benchmarks/bench_register.py --customers 1000000 --reviews 12``
(project interpreter, ``PYTHONPATH`` at the checkout).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SCHEME = {
    "name": "Monthly spend", "review": "monthly",
    "tiers": [{"name": "Member"},
              {"name": "Silver", "when": {"metric": "spend", "window": "3M", "op": ">=",
                                          "value": 300}, "promote_after": 2},
              {"name": "Gold", "when": {"all": [
                  {"metric": "spend", "window": "1M", "op": ">=", "value": 250},
                  {"metric": "orders", "window": "12M", "op": ">=", "value": 6}]}}],
    "policy": {"demote_after": 3, "grace_reviews": 1, "max_demotion_steps": 1},
}


def synthetic_log(customers: int, months: int, start: str, seed: int = 7) -> pd.DataFrame:
    """About 0.4 purchases per customer-month, lognormal amounts; vectorised."""
    rng = np.random.default_rng(seed)
    buys = rng.random((months, customers)) < 0.4
    month, cust = np.nonzero(buys)
    first = pd.Timestamp(start).to_datetime64().astype("datetime64[M]")
    day = (first + month.astype("timedelta64[M]")).astype("datetime64[D]") + rng.integers(
        0, 28, len(month)).astype("timedelta64[D]")
    ids = np.char.add("C", np.char.zfill(np.arange(customers).astype(str), 7))
    return pd.DataFrame({
        "customer_id": pd.array(ids[cust], dtype="str"),
        "timestamp": day.astype("datetime64[ns]"),
        "amount": np.round(rng.lognormal(4.5, 0.9, len(month)), 2),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--reviews", type=int, default=12)
    parser.add_argument("--history", type=int, default=12, metavar="MONTHS")
    parser.add_argument("--register", help="register path (default: a temporary file)")
    args = parser.parse_args()

    import tierlab as tl
    from tierlab.register import Register

    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    tx = synthetic_log(args.customers, args.history + args.reviews, "2024-01-01")
    print(f"log: {len(tx):,} rows, {args.customers:,} customers "
          f"({time.perf_counter() - t:.1f} s to generate)", flush=True)
    scheme = tl.TierScheme.from_dict(SCHEME)
    folder = Path(tempfile.mkdtemp(prefix="bench-register-"))
    reg = Register(args.register or folder / "register.duckdb", timeout=600)
    ends = pd.date_range("2024-01-31", periods=args.history + args.reviews, freq="ME")
    t = time.perf_counter()
    first = reg.review(tx[tx["timestamp"] <= ends[args.history - 1] + pd.Timedelta(days=1)],
                       scheme, until=ends[args.history - 1])
    print(f"catch-up: {first.committed} reviews in {time.perf_counter() - t:.1f} s", flush=True)
    times = []
    for end in ends[args.history:]:
        month = tx[tx["timestamp"] < end + pd.Timedelta(days=1)]
        t = time.perf_counter()
        out = reg.review(month, scheme, until=end)
        times.append(time.perf_counter() - t)
        r = out.results[0]
        print(f"review {end.date()}: {times[-1]:6.1f} s  {r.customers:,} customers, "
              f"{r.changes:,} changes", flush=True)
    size = sum(f.stat().st_size for f in folder.glob("*")) / 2**20 if not args.register else 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"median {statistics.median(times):.1f} s per monthly review "
          f"(min {min(times):.1f}, max {max(times):.1f}); register {size:,.0f} MiB; "
          f"peak RSS {rss:,.0f} MiB; load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
