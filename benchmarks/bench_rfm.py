"""Per-customer RFM on one Parquet file by tierlab and the tools users would pick instead.

Every method computes, per customer: first and last purchase (dates), transactions, distinct
purchase days, total and mean spend, and recency in days at the last date in the data. Each
method runs in a fresh process (``--runs`` times, round-robin so that load changes hit every
method alike); the time is the wall time of read + compute (imports excluded), the memory the
process's peak RSS. Outputs are cross-checked on the columns each method produces.

Methods (``--methods``, default all):

- ``tierlab.load+rfm``: ``rfm(load_transactions(path).transactions)`` — the path users take
  (validated load, rejected rows, summary, then the features);
- ``tierlab.rfm``: ``tierlab.features.rfm(path)``, which reads the Parquet file itself column by
  column (no distinct days: rfm has ``active_months`` instead);
- ``tierlab.rfm(DataFrame)``: ``pd.read_parquet`` then ``rfm`` on the frame;
- ``tierlab.rfm+btyd``: ``pd.read_parquet``, ``rfm`` and ``btyd_summary`` on the frame (distinct
  purchase days, BTYD columns);
- ``pandas``: idiomatic ``groupby(...).agg`` with named aggregations;
- ``polars``: lazy ``scan_parquet → group_by → agg``;
- ``duckdb``: one SQL query over ``read_parquet``;
- ``pymc-marketing``: ``pymc_marketing.clv.utils.rfm_summary``;
- ``lifetimes``: ``lifetimes.utils.summary_data_from_transaction_data``.

The BTYD tools give frequency / recency / T; first and last purchase, distinct days and recency
follow from them (``first = as_of - T``, ``last = first + recency``, ``days = frequency + 1``).

Usage: ``python benchmarks/bench_rfm.py --size 10m [--runs 3] [--methods polars,tierlab.rfm]``
(run it with the project's interpreter; it starts the workers with the right ones).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _harness as H  # noqa: E402

METHODS = ["tierlab.load+rfm", "tierlab.rfm", "tierlab.rfm(DataFrame)", "tierlab.rfm+btyd",
           "read_parquet-only",
           "pandas", "polars", "duckdb", "pymc-marketing", "lifetimes"]
PEERS = {"pandas", "polars", "duckdb", "pymc-marketing", "lifetimes"}
COLUMNS = ["first_purchase", "last_purchase", "transactions", "purchase_days", "total", "mean",
           "recency_days", "repeat_mean"]
REFERENCE = "polars"


# --------------------------------------------------------------------------- workers
def _tierlab(path: str, *, frame: bool, with_btyd: bool = False, load: bool = False):
    import pandas as pd

    from tierlab.features import btyd_summary, rfm
    from tierlab.io.load import load_transactions

    t0 = time.perf_counter()
    if load:
        tx = load_transactions(path).transactions
        t_read = time.perf_counter() - t0
    elif frame:
        tx = pd.read_parquet(path)
        t_read = time.perf_counter() - t0
    else:
        tx, t_read = path, None  # rfm reads the file itself
    out = rfm(tx)
    summary = btyd_summary(tx) if with_btyd else None
    elapsed = time.perf_counter() - t0

    def normalize():
        res = pd.DataFrame({
            "first_purchase": out["first_purchase"],
            "last_purchase": out["last_purchase"],
            "transactions": out["frequency"],
            "total": out["monetary_total"],
            "mean": out["monetary_mean"],
            "recency_days": out["recency_days"],
        })
        if summary is not None:
            res["purchase_days"] = (summary["frequency"] + 1).astype("int64")
            res["repeat_mean"] = summary["monetary_value"]
        return res

    return elapsed, t_read, normalize


def _read_only(path: str):
    import pandas as pd

    t0 = time.perf_counter()
    tx = pd.read_parquet(path)
    elapsed = time.perf_counter() - t0
    del tx
    return elapsed, elapsed, lambda: None


def _pandas(path: str):
    import pandas as pd

    t0 = time.perf_counter()
    tx = pd.read_parquet(path)
    t_read = time.perf_counter() - t0
    out = (
        tx.assign(day=tx["timestamp"].dt.normalize())
        .groupby("customer_id", sort=True)
        .agg(first_purchase=("day", "min"), last_purchase=("day", "max"),
             transactions=("amount", "size"), purchase_days=("day", "nunique"),
             total=("amount", "sum"), mean=("amount", "mean"))
    )
    out["recency_days"] = (out["last_purchase"].max() - out["last_purchase"]).dt.days
    elapsed = time.perf_counter() - t0
    return elapsed, t_read, lambda: out


def _polars(path: str):
    import polars as pl

    t0 = time.perf_counter()
    lf = pl.scan_parquet(path)
    day = pl.col("timestamp").dt.date()
    out = (
        lf.group_by("customer_id")
        .agg(first_purchase=day.min(), last_purchase=day.max(), transactions=pl.len(),
             purchase_days=day.n_unique(), total=pl.col("amount").sum(),
             mean=pl.col("amount").mean())
        .with_columns(recency_days=(pl.col("last_purchase").max()
                                    - pl.col("last_purchase")).dt.total_days())
        .sort("customer_id")
        .collect()
    )
    elapsed = time.perf_counter() - t0

    def normalize():
        return out.to_pandas().set_index("customer_id")

    return elapsed, None, normalize


def _duckdb(path: str):
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    sql = f"""
        SELECT customer_id, min(day) AS first_purchase, max(day) AS last_purchase,
               count(*) AS transactions, count(DISTINCT day) AS purchase_days,
               sum(amount) AS total, avg(amount) AS mean,
               date_diff('day', max(day), max(max(day)) OVER ()) AS recency_days
        FROM (SELECT customer_id, timestamp::DATE AS day, amount FROM read_parquet('{path}'))
        GROUP BY customer_id ORDER BY customer_id
    """
    out = con.sql(sql).fetch_arrow_table()
    elapsed = time.perf_counter() - t0

    def normalize():
        return out.to_pandas().set_index("customer_id")

    return elapsed, None, normalize


def _btyd_frame(summary, as_of):
    import pandas as pd

    T = pd.to_timedelta(summary["T"], unit="D")
    first = as_of - T
    last = first + pd.to_timedelta(summary["recency"], unit="D")
    return pd.DataFrame({
        "first_purchase": first,
        "last_purchase": last,
        "purchase_days": (summary["frequency"] + 1).astype("int64"),
        "recency_days": (summary["T"] - summary["recency"]).astype("int64"),
        "repeat_mean": summary["monetary_value"],
    })


def _pymc(path: str):
    import pandas as pd
    from pymc_marketing.clv.utils import rfm_summary

    t0 = time.perf_counter()
    tx = pd.read_parquet(path)
    t_read = time.perf_counter() - t0
    out = rfm_summary(tx, "customer_id", "timestamp", monetary_value_col="amount")
    elapsed = time.perf_counter() - t0

    def normalize():
        as_of = tx["timestamp"].max().normalize()
        return _btyd_frame(out.set_index("customer_id"), as_of)

    return elapsed, t_read, normalize


def _lifetimes(path: str):
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    t0 = time.perf_counter()
    tx = pd.read_parquet(path)
    t_read = time.perf_counter() - t0
    out = summary_data_from_transaction_data(tx, "customer_id", "timestamp",
                                             monetary_value_col="amount")
    elapsed = time.perf_counter() - t0

    def normalize():
        as_of = tx["timestamp"].max().normalize()
        return _btyd_frame(out, as_of)

    return elapsed, t_read, normalize


def worker(method: str, path: str, out_path: str | None) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    t_imp = time.perf_counter()
    if method.startswith("tierlab") or method == "read_parquet-only":
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import tierlab.features  # noqa: F401
        import tierlab.io.load  # noqa: F401
    elif method == "pymc-marketing":
        import pymc_marketing.clv.utils  # noqa: F401
    elif method == "lifetimes":
        import lifetimes.utils  # noqa: F401
    elif method in ("polars", "duckdb"):
        __import__(method)
    import_s = time.perf_counter() - t_imp
    rss_ready = H.current_rss_mib()
    fn = {
        "tierlab.load+rfm": lambda p: _tierlab(p, frame=False, load=True),
        "tierlab.rfm": lambda p: _tierlab(p, frame=False),
        "tierlab.rfm(DataFrame)": lambda p: _tierlab(p, frame=True),
        "tierlab.rfm+btyd": lambda p: _tierlab(p, frame=True, with_btyd=True),
        "read_parquet-only": _read_only,
        "pandas": _pandas, "polars": _polars, "duckdb": _duckdb,
        "pymc-marketing": _pymc, "lifetimes": _lifetimes,
    }[method]
    elapsed, t_read, normalize = fn(path)
    peak = H.peak_rss_mib()
    record = {"method": method, "seconds": round(elapsed, 4),
              "read_s": None if t_read is None else round(t_read, 4),
              "peak_rss_mib": round(peak, 1), "rss_after_import_mib": round(rss_ready, 1),
              "import_s": round(import_s, 3)}
    frame = normalize() if out_path else None
    if frame is not None:
        frame.index = frame.index.astype(str)
        frame.index.name = "customer_id"
        frame.reset_index().to_parquet(out_path, index=False)
    H.emit(record)


def versions() -> None:
    import importlib.metadata as md

    names = ["pandas", "numpy", "pyarrow", "polars", "duckdb", "pymc-marketing", "pymc",
             "lifetimes", "psutil"]
    out = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    H.emit(out)


# --------------------------------------------------------------------------- parent
def interpreter(method: str) -> Path:
    return H.PEER_PY if method in PEERS else H.PROJECT_PY


def cross_check(outputs: dict[str, Path]) -> dict[str, str]:
    """Compare each method's output with the reference on their common columns."""
    import numpy as np
    import pandas as pd

    frames = {m: pd.read_parquet(p).set_index("customer_id").sort_index()
              for m, p in outputs.items() if p.exists()}
    ref_name = REFERENCE if REFERENCE in frames else next(iter(frames), None)
    verdict: dict[str, str] = {}
    if ref_name is None:
        return verdict
    ref = frames[ref_name]
    # repeat_mean (BTYD monetary value) only exists for the BTYD tools: compare among them
    btyd_ref = next((frames[m] for m in ("lifetimes", "pymc-marketing") if m in frames), None)
    for m, f in frames.items():
        problems = []
        if not f.index.equals(ref.index):
            problems.append(f"customers differ ({len(f)} vs {len(ref)})")
        cols = [c for c in COLUMNS if c in f.columns and c in ref.columns]
        for c in cols:
            a, b = f[c], ref[c].reindex(f.index)
            if c in ("first_purchase", "last_purchase"):
                ok = (pd.to_datetime(a).dt.normalize().to_numpy()
                      == pd.to_datetime(b).dt.normalize().to_numpy()).all()
            elif c in ("total", "mean"):
                ok = np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-6)
            else:
                ok = (a.to_numpy(np.int64) == b.to_numpy(np.int64)).all()
            if not ok:
                problems.append(f"{c} differs")
        if "repeat_mean" in f.columns and btyd_ref is not None and f is not btyd_ref:
            a = f["repeat_mean"].to_numpy(float)
            b = btyd_ref["repeat_mean"].reindex(f.index).to_numpy(float)
            if not np.allclose(a, b, rtol=1e-9, atol=1e-6):
                problems.append("repeat_mean (BTYD monetary_value) differs")
            cols.append("repeat_mean")
        verdict[m] = ("equal on " + ", ".join(cols) if not problems
                      else "MISMATCH: " + "; ".join(problems))
    return verdict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--versions", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--size", default="1m", choices=["1m", "10m"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--no-check", action="store_true", help="skip the output cross-check")
    args = ap.parse_args()
    if args.versions:
        return versions()
    if args.worker:
        method, path, *rest = args.worker
        return worker(method, path, rest[0] if rest else None)

    import generate

    generate.write(args.size)
    path = generate.path(args.size)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS)
    if unknown:
        ap.error(f"unknown methods {sorted(unknown)}; choose from {METHODS}")
    runs: dict[str, list[dict]] = {m: [] for m in methods}
    outputs: dict[str, Path] = {}
    script = Path(__file__).resolve()
    # run 0 writes the outputs for the cross-check (and is not timed); then timed runs
    if not args.no_check:
        for m in methods:
            out = H.RESULTS / f"rfm_{args.size}_{m}.parquet"
            H.RESULTS.mkdir(parents=True, exist_ok=True)
            rec = H.run_worker(interpreter(m), script, [m, str(path), str(out)])
            if rec["ok"]:
                if out.exists():
                    outputs[m] = out
            else:
                runs[m].append(rec)
                print(f"  {m}: FAILED: {rec['error']}", flush=True)
    failed = {m for m in methods if runs[m] and not runs[m][0]["ok"]}
    for i in range(args.runs):
        for m in methods:
            if m in failed:
                continue
            rec = H.run_worker(interpreter(m), script, [m, str(path)])
            runs[m].append(rec)
            status = (f"{rec['seconds']:.2f}s {rec['peak_rss_mib']:.0f} MiB" if rec["ok"]
                      else "FAILED " + rec["error"])
            print(f"  run {i + 1} {m:18s} {status}  (load {rec['load_before']})", flush=True)
            if not rec["ok"]:
                failed.add(m)
    # outliers: a run 40% slower than the method's fastest is rerun once more
    for m in methods:
        ok = [r for r in runs[m] if r["ok"]]
        if len(ok) >= 2 and max(r["seconds"] for r in ok) > 1.4 * min(r["seconds"] for r in ok):
            rec = H.run_worker(interpreter(m), script, [m, str(path)])
            rec["rerun"] = True
            runs[m].append(rec)
            print(f"  rerun   {m:18s} {rec.get('seconds', float('nan')):.2f}s "
                  f"(load {rec['load_before']})", flush=True)
    check = {} if args.no_check else cross_check(outputs)
    summary = {}
    for m in methods:
        ok = [r for r in runs[m] if r["ok"]]
        if not ok:
            bad = runs[m][0] if runs[m] else {"error": "not run"}
            summary[m] = {"ok": False, "error": bad.get("error"),
                          "stderr_tail": bad.get("stderr_tail")}
            continue
        summary[m] = {
            "ok": True,
            "runs": len(ok),
            "median_s": round(H.median([r["seconds"] for r in ok]), 3),
            "min_s": round(min(r["seconds"] for r in ok), 3),
            "max_s": round(max(r["seconds"] for r in ok), 3),
            "read_s": (round(H.median([r["read_s"] for r in ok]), 3)
                       if ok[0].get("read_s") is not None else None),
            "peak_rss_mib": round(H.median([r["peak_rss_mib"] for r in ok]), 1),
            "rss_after_import_mib": round(H.median([r["rss_after_import_mib"] for r in ok]), 1),
            "import_s": round(H.median([r["import_s"] for r in ok]), 2),
            "load": [r["load_before"] for r in ok],
            "check": check.get(m, "not checked"),
            "python": str(interpreter(m)),
        }
    ref = summary.get(REFERENCE, {})
    for s in summary.values():
        if s.get("ok") and ref.get("ok"):
            s["time_ratio_to_polars"] = round(s["median_s"] / ref["median_s"], 3)
            s["rss_ratio_to_polars"] = round(s["peak_rss_mib"] / ref["peak_rss_mib"], 3)
    payload = {"size": args.size, "file": str(path), "runs": runs, "summary": summary}
    H.save(f"rfm_{args.size}", payload)
    print(table(summary))


def table(summary: dict) -> str:
    head = ("| method | median s | min–max s | peak RSS MiB | × polars time | × polars RSS "
            "| load (1-min avg) per run | output check |")
    lines = [head, "|" + "---|" * 8]
    for m, s in summary.items():
        if not s.get("ok"):
            lines.append(f"| {m} | failed | | | | | | {s.get('error')} |")
            continue
        lines.append(
            f"| {m} | {s['median_s']:.2f} | {s['min_s']:.2f}–{s['max_s']:.2f} | "
            f"{s['peak_rss_mib']:.0f} | {s.get('time_ratio_to_polars', float('nan')):.2f} | "
            f"{s.get('rss_ratio_to_polars', float('nan')):.2f} | "
            f"{', '.join(f'{x:.2f}' for x in s['load'])} | {s['check']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
