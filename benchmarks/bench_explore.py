"""Redraw time of the explorer (tierlab.explore) at size: one change → table, impact and chart.

Draws through the same code path as the widget app (``ExplorerApp.redraw``: the variant's run,
the cached per-customer figures, the impact against the scheme as written, the PNG chart and
the HTML), without a browser and without the debounce delay. Prints the time of each change;
the target is ≤ 1 s a change at 100k customers. Wall time and the process's CPU time are
both printed: on a shared machine (load above the number of cores) the CPU time is what the
redraw would take on a quiet one.

Usage: ``python benchmarks/bench_explore.py [--customers 100000] [--months 24] [--repeat 3]``
(project interpreter, from the repository root).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

SCHEME = ROOT / "data" / "rules" / "monthly_spend.yaml"
TARGET_S = 1.0
# (name, setting, value): each applied on top of the previous ones, as an analyst would
CHANGES = [
    ("High threshold 500 → 1000", "tiers[2].when.value", 1000.0),
    ("Mid threshold 100 → 150", "tiers[1].when.value", 150.0),
    ("review monthly → quarterly", "review", "quarterly"),
    ("demote_after 6 → 2", "policy.demote_after", 2),
    ("promote_after 1 → 2", "policy.promote_after", 2),
    ("review back to monthly", "review", "monthly"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="keep the generated data as Parquet here and reuse it")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh explorers to time (medians are printed)")
    args = parser.parse_args()

    import pandas as pd

    import tierlab as tl
    from tierlab.datasets import generate
    from tierlab.explore import TierExplorer
    from tierlab.explore_app import ExplorerApp

    t0 = time.perf_counter()
    stem = f"explore_{args.customers}_{args.months}"
    cached = [args.cache / f"{stem}_{part}.parquet" for part in ("tx", "customers")] \
        if args.cache else []
    if cached and all(p.exists() for p in cached):
        tx, customers = (pd.read_parquet(p) for p in cached)
    else:
        tx, customers = generate(args.customers, months=args.months, seed=0)
        if cached:
            args.cache.mkdir(parents=True, exist_ok=True)
            tx.to_parquet(cached[0])
            customers.to_parquet(cached[1])
    print(f"data: {args.customers:,} customers, {len(tx):,} transactions over {args.months} "
          f"months (ready in {time.perf_counter() - t0:.1f} s)")
    scheme = tl.TierScheme.from_yaml(SCHEME)

    first: list[float] = []
    times: dict[str, list[float]] = {name: [] for name, _, _ in CHANGES}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in CHANGES}
    for _ in range(args.repeat):
        explorer = TierExplorer(scheme, tx, customers=customers)
        t = time.perf_counter()
        app = ExplorerApp(explorer, debounce=0)  # the first draw: caches are filled here
        first.append(time.perf_counter() - t)
        for name, path, value in CHANGES:
            t, c = time.perf_counter(), time.process_time()
            app.controls[path].value = value  # debounce 0: the change draws at once
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
            assert app.view is not None and app.view.settings[path] == value

    print(f"\nfirst draw (fills the caches): {statistics.median(first):.2f} s")
    print(f"{'change':<32}{'median s':>10}{'max s':>10}{'cpu s':>10}")
    worst = worst_cpu = 0.0
    for name, ts in times.items():
        worst, worst_cpu = max(worst, max(ts)), max(worst_cpu, max(cpu[name]))
        print(f"{name:<32}{statistics.median(ts):>10.3f}{max(ts):>10.3f}"
              f"{statistics.median(cpu[name]):>10.3f}")
    load = os.getloadavg()[0]
    print(f"\nload average {load:.1f} on {os.cpu_count()} cores")
    verdict = "OK" if worst <= TARGET_S else "TOO SLOW"
    print(f"slowest redraw after a change: {worst:.3f} s wall, {worst_cpu:.3f} s cpu "
          f"(target ≤ {TARGET_S:.1f} s): {verdict}")
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
