"""Loading a 10M-row CSV: ``tierlab.load_transactions`` against ``pandas.read_csv``.

Methods (each in a fresh process with the project interpreter, ``--runs`` runs, medians):

- ``read_csv[pyarrow]``: ``pd.read_csv(path, engine="pyarrow")`` — the baseline of the target
  (no validation, timestamps as parsed by Arrow);
- ``load_transactions(csv)``: ``tierlab.io.load.load_transactions(path)`` — header mapping, id/date/
  amount parsing with rejects, canonical sort;
- ``load_transactions(parquet)``: the same on the Parquet copy of the data (for reference).

Usage: ``python benchmarks/bench_load.py --size 10m [--runs 3]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _harness as H  # noqa: E402

METHODS = ["read_csv[pyarrow]", "load_transactions(csv)", "load_transactions(parquet)"]
BASELINE = "read_csv[pyarrow]"


def worker(method: str, path: str) -> None:
    import pandas as pd

    from tierlab.io.load import load_transactions

    t0 = time.perf_counter()
    if method == BASELINE:
        rows = len(pd.read_csv(path, engine="pyarrow"))
        rejected = 0
    else:
        res = load_transactions(path)
        rows, rejected = len(res.transactions), len(res.rejected)
    elapsed = time.perf_counter() - t0
    H.emit({"method": method, "seconds": round(elapsed, 4),
            "peak_rss_mib": round(H.peak_rss_mib(), 1), "rows": rows, "rejected": rejected})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--size", default="1m", choices=["1m", "10m"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHODS))
    args = ap.parse_args()
    if args.worker:
        return worker(*args.worker)

    import generate

    generate.write(args.size, csv=True)
    files = {"csv": generate.path(args.size, "csv"), "parquet": generate.path(args.size)}
    methods = [m for m in args.methods.split(",") if m]
    script = Path(__file__).resolve()
    runs: dict[str, list] = {m: [] for m in methods}
    for i in range(args.runs):
        for m in methods:
            path = files["parquet"] if "parquet" in m else files["csv"]
            rec = H.run_worker(H.PROJECT_PY, script, [m, str(path)], timeout=1200)
            runs[m].append(rec)
            print(f"  run {i + 1} {m:28s} "
                  + (f"{rec['seconds']:.2f}s {rec['peak_rss_mib']:.0f} MiB" if rec["ok"]
                     else "FAILED " + rec["error"]) + f"  (load {rec['load_before']})",
                  flush=True)
    summary = {}
    for m in methods:
        ok = [r for r in runs[m] if r["ok"]]
        if not ok:
            summary[m] = {"ok": False, "error": runs[m][0].get("error")}
            continue
        summary[m] = {"ok": True, "runs": len(ok),
                      "median_s": round(H.median([r["seconds"] for r in ok]), 3),
                      "min_s": round(min(r["seconds"] for r in ok), 3),
                      "max_s": round(max(r["seconds"] for r in ok), 3),
                      "peak_rss_mib": round(H.median([r["peak_rss_mib"] for r in ok]), 1),
                      "rows": ok[0]["rows"], "rejected": ok[0]["rejected"],
                      "load": [r["load_before"] for r in ok]}
    base = summary.get(BASELINE, {})
    for s in summary.values():
        if s.get("ok") and base.get("ok"):
            s["ratio_to_read_csv"] = round(s["median_s"] / base["median_s"], 3)
    H.save(f"load_{args.size}", {"size": args.size, "runs": runs, "summary": summary})
    print(table(summary))


def table(summary: dict) -> str:
    lines = ["| method | median s | min–max s | peak RSS MiB | × read_csv[pyarrow] | rows | "
             "load per run |", "|---|---|---|---|---|---|---|"]
    for m, s in summary.items():
        if not s.get("ok"):
            lines.append(f"| {m} | failed: {s.get('error')} | | | | | |")
            continue
        lines.append(f"| {m} | {s['median_s']:.2f} | {s['min_s']:.2f}–{s['max_s']:.2f} | "
                     f"{s['peak_rss_mib']:.0f} | {s.get('ratio_to_read_csv', float('nan')):.2f} "
                     f"| {s['rows']:,} | {', '.join(f'{x:.2f}' for x in s['load'])} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
