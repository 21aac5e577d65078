"""Loading a 10M-row CSV: ``tierlab.load_transactions`` against the CSV readers of its peers.

Methods (each in a fresh process, ``--runs`` runs interleaved, medians; peers run with
``benchmarks/.venv``, tierlab with the project's interpreter):

- ``polars.read_csv``: ``pl.read_csv`` with the timestamp parsed with an explicit format;
- ``pyarrow.read_csv``: ``pyarrow.csv.read_csv`` with the timestamp column typed as a timestamp
  (Arrow parses it while reading);
- ``duckdb.read_csv``: ``duckdb.read_csv(path).arrow()`` (types sniffed, timestamps parsed);
- ``read_csv[pyarrow]``: ``pd.read_csv(path, engine="pyarrow")`` (no validation, timestamps
  left as text);
- ``load_transactions(csv)``: ``tierlab.io.load.load_transactions(path)`` — header mapping, then
  (the file being clean) one typed Arrow read and the typed path's validation (ids hashed and
  cleaned, duplicate order lines, summary); a file with problems would take the text path;
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

METHODS = ["polars.read_csv", "pyarrow.read_csv", "duckdb.read_csv", "read_csv[pyarrow]",
           "load_transactions(csv)", "load_transactions(parquet)"]
PEERS = {"polars.read_csv", "duckdb.read_csv"}
#: the target compares with the faster of these two (timestamps parsed by both)
READERS = ("polars.read_csv", "pyarrow.read_csv")
BASELINE = "read_csv[pyarrow]"
TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def _peer_read(method: str, path: str) -> int:
    if method == "polars.read_csv":
        import polars as pl

        df = pl.read_csv(path, schema_overrides={"customer_id": pl.String,
                                                 "timestamp": pl.String})
        df = df.with_columns(pl.col("timestamp").str.strptime(pl.Datetime, TS_FORMAT))
        return df.height
    if method == "duckdb.read_csv":
        import duckdb

        out = duckdb.read_csv(path).arrow()  # a Table, or a RecordBatchReader (duckdb ≥ 2)
        return (out if hasattr(out, "num_rows") else out.read_all()).num_rows
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={"customer_id": pa.string(), "timestamp": pa.timestamp("s"),
                      "amount": pa.float64()}))
    return table.num_rows


def worker(method: str, path: str) -> None:
    t0 = time.perf_counter()
    if method in (*PEERS, "pyarrow.read_csv"):
        rows, rejected = _peer_read(method, path), 0
    elif method == BASELINE:
        import pandas as pd

        rows = len(pd.read_csv(path, engine="pyarrow"))
        rejected = 0
    else:
        from tierlab.io.load import load_transactions

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
            python = H.PEER_PY if m in PEERS else H.PROJECT_PY
            rec = H.run_worker(python, script, [m, str(path)], timeout=1200)
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
    readers = [summary[m]["median_s"] for m in READERS if summary.get(m, {}).get("ok")]
    for s in summary.values():
        if s.get("ok") and base.get("ok"):
            s["ratio_to_read_csv"] = round(s["median_s"] / base["median_s"], 3)
        if s.get("ok") and readers:
            s["ratio_to_fastest_reader"] = round(s["median_s"] / min(readers), 3)
    H.save(f"load_{args.size}", {"size": args.size, "runs": runs, "summary": summary})
    print(table(summary))


def table(summary: dict) -> str:
    lines = ["| method | median s | min–max s | peak RSS MiB | × faster of polars/pyarrow "
             "read_csv | × read_csv[pyarrow] | rows | load per run |",
             "|---|---|---|---|---|---|---|---|"]
    nan = float("nan")
    for m, s in summary.items():
        if not s.get("ok"):
            lines.append(f"| {m} | failed: {s.get('error')} | | | | | | |")
            continue
        lines.append(f"| {m} | {s['median_s']:.2f} | {s['min_s']:.2f}–{s['max_s']:.2f} | "
                     f"{s['peak_rss_mib']:.0f} | {s.get('ratio_to_fastest_reader', nan):.2f} | "
                     f"{s.get('ratio_to_read_csv', nan):.2f} "
                     f"| {s['rows']:,} | {', '.join(f'{x:.2f}' for x in s['load'])} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
