"""Time the two PotentialModel fits of the segmentation report at benchmark scale.

The report evaluates the potential models at the holdout cutoff (``evaluate_potential``: BG/NBD,
the supervised model, naive baselines, bootstrap intervals) and fits the supervised model again
at ``as_of`` to flag customers. This script does both on a generated log (``generate.py``;
``10m`` = 10M transactions / 1M customers) and prints wall and CPU seconds, peak RSS and the
load average of each step, one JSON line each.

Usage: ``python benchmarks/bench_potential.py [1m|10m] [--threads N] [--max-rows N]
[--steps evaluate,fit]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def _step(name: str, func):
    wall, cpu = time.perf_counter(), time.process_time()
    out = func()
    rec = {"step": name, "wall_s": round(time.perf_counter() - wall, 1),
           "cpu_s": round(time.process_time() - cpu, 1),
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "load_avg": [round(v, 2) for v in os.getloadavg()]}
    print(json.dumps(rec), flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", default="10m", choices=["1m", "10m"])
    parser.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads of the gradient boosting (default: the model's)")
    parser.add_argument("--max-rows", type=int, default=100_000)
    parser.add_argument("--holdout-days", type=int, default=182)
    parser.add_argument("--steps", default="evaluate,fit",
                        help="comma-separated: evaluate (evaluate_potential), fit (fit + predict)")
    args = parser.parse_args(argv)

    path = HERE / "data" / f"tx_{args.size}.parquet"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), args.size], check=True)
    from tierlab.potential import PotentialModel, evaluate_potential

    tx = _step("read", lambda: pd.read_parquet(path))
    as_of = tx["timestamp"].max().normalize()
    cutoff = as_of - pd.Timedelta(days=args.holdout_days)
    model = PotentialModel(n_threads=args.threads, max_rows=args.max_rows)
    steps = args.steps.split(",")
    if "evaluate" in steps:
        _step("evaluate_potential", lambda: evaluate_potential(tx, cutoff, as_of,
                                                               supervised=model))
    if "fit" in steps:
        _step("fit_at_holdout_cutoff", lambda: model.fit(tx, cutoff,
                                                         horizon_days=args.holdout_days))
        _step("predict_at_holdout_cutoff", lambda: model.predict(tx, cutoff))
        _step("fit_predict_as_of", lambda: model.fit(tx, as_of, horizon_days=args.holdout_days)
              .predict(tx, as_of))


if __name__ == "__main__":
    main()
