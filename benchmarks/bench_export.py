"""Time the tier workbook writer (``tierlab.io.excel``) on a large tier table.

Builds a tier table shaped like :func:`tierlab.io.export.tier_table` for N customers (ids,
Chinese names, masked contacts, tiers, dates, reasons of realistic length), then writes the
workbook (sheets ``tiers``, ``summary``, ``changes``) and reports wall time and peak RSS::

    python benchmarks/bench_export.py --customers 1000000
    python benchmarks/bench_export.py --customers 100000 --changes 2000000   # history overflow

Target: 1M customers' tier sheet in well under a minute on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def tier_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A tier table of *n* customers (vectorized; the writer is what is measured)."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(np.arange(n)).map("C{:07d}".format)
    tiers = pd.Categorical.from_codes(rng.integers(0, 3, n), categories=["Low", "Mid", "High"],
                                      ordered=True)
    labels = np.array(["低级客户", "中级客户", "高级客户"])[tiers.codes]
    since = pd.Timestamp("2024-01-31") + pd.to_timedelta(rng.integers(0, 24, n) * 30, unit="D")
    reason = ("below High (spend above 500) in Jun, Jul, Aug, Sep, Oct, Nov 2024: spend "
              + pd.Series(rng.uniform(0, 900, n)).round(2).astype(str) + ", 0.00, 0.00, 0.00")
    return pd.DataFrame({
        "customer_id": ids, "name": "测试客户" + ids.str[-5:],
        "contact": "138****" + ids.str[-4:] + " / c***@example.com", "tier": tiers,
        "label": labels, "tier_since": since.normalize(),
        "previous_tier": pd.Categorical.from_codes(rng.integers(-1, 3, n),
                                                   dtype=tiers.dtype),
        "reason": reason, "notes": None,
    })


def change_frame(n: int, seed: int = 1) -> pd.DataFrame:
    """A change history of *n* rows."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": pd.Series(rng.integers(0, 10**6, n)).map("C{:07d}".format),
        "review": pd.Timestamp("2024-01-31") + pd.to_timedelta(rng.integers(0, 24, n) * 30,
                                                               unit="D"),
        "from_tier": "Low", "to_tier": "Mid", "direction": "up", "rule": "promotion",
        "reason": "spend at least 100 in Mar 2025: 612.00",
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--changes", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=None, help="folder for the workbook (temp)")
    args = ap.parse_args()

    from tierlab.io.excel import write_tier_workbook

    table = tier_frame(args.customers)
    changes = change_frame(args.changes)
    summary = pd.DataFrame({"tier": ["High", "Mid", "Low"],
                            "label": ["高级客户", "中级客户", "低级客户"],
                            "customers": [1, 2, 3], "share": [0.2, 0.3, 0.5]})
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        files = write_tier_workbook(folder / "tiers.xlsx", table, summary, changes)
        seconds = time.perf_counter() - start
        size = sum(f.stat().st_size for f in files)
    print(json.dumps({"customers": args.customers, "changes": args.changes,
                      "seconds": round(seconds, 2),
                      "customers_per_second": round(args.customers / seconds),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                            / 1024, 1),
                      "files": [f.name for f in files], "bytes": size}))


if __name__ == "__main__":
    main()
