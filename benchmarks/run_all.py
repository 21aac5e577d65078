"""Run every benchmark and write benchmarks/RESULTS.md (``make bench`` calls this).

Steps: generate the data (seeded; skipped when the files exist), ``bench_rfm.py`` on 1M and 10M
rows, ``bench_pipeline.py`` on 1M and 10M, ``bench_load.py`` on the 10M CSV, then RESULTS.md
with the machine, the versions, the tables, every target's ratio and notes on missed targets.

Usage::

    python benchmarks/run_all.py                 # everything (about 15 minutes on 2 cores)
    python benchmarks/run_all.py --sizes 1m      # quick
    python benchmarks/run_all.py --report-only   # rewrite RESULTS.md from saved results

Run it with the project's interpreter; the peers run from benchmarks/.venv (see README.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _harness as H  # noqa: E402

OUT = HERE / "RESULTS.md"
GiB = 1024  # MiB


def run(script: str, *args: str) -> None:
    cmd = [str(H.PROJECT_PY), str(HERE / script), *args]
    print("$", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True, cwd=H.ROOT)


def versions(python: Path, script: str = "bench_rfm.py") -> dict:
    try:
        out = subprocess.run([str(python), str(HERE / script), "--versions"], cwd=H.ROOT,
                             capture_output=True, text=True, check=True).stdout
        return json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
    except (subprocess.CalledProcessError, IndexError, OSError) as exc:
        return {"error": str(exc)}


def tierlab_version() -> str:
    try:
        code = "import tierlab; print(tierlab.__version__)"
        out = subprocess.run([str(H.PROJECT_PY), "-c", code], capture_output=True, text=True,
                             check=True, cwd=H.ROOT).stdout
        return out.strip()
    except (subprocess.CalledProcessError, OSError):
        return "?"


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=H.ROOT).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "tierlab"], capture_output=True,
                               text=True, cwd=H.ROOT).stdout.strip()
        return rev + (" (+ uncommitted changes in tierlab/)" if dirty else "")
    except OSError:
        return "?"


# --------------------------------------------------------------------------- report
def _fmt(x, spec=".2f", none="–"):
    return none if x is None else format(x, spec)


def targets(rfm10: dict | None, pipe10: dict | None, load10: dict | None) -> list[dict]:
    """Every target of the performance issue, measured: name, value, limit, met."""
    out = []
    s = (rfm10 or {}).get("summary", {})
    pol, pymc = s.get("polars", {}), s.get("pymc-marketing", {})
    # the path users take (load, then rfm) and rfm(path); the DataFrame variants are in the
    # table, for reference
    for m in ("tierlab.load+rfm", "tierlab.rfm"):
        t = s.get(m, {})
        if not (t.get("ok") and pol.get("ok")):
            continue
        out.append(dict(name=f"`{m}` time ÷ polars' time (10M)", value=t["median_s"]
                        / pol["median_s"], limit="≤ 1.0", met=t["median_s"] <= pol["median_s"],
                        detail=f"{t['median_s']:.2f} s vs {pol['median_s']:.2f} s", key=m))
        if pymc.get("ok") and m == "tierlab.rfm":
            speedup = pymc["median_s"] / t["median_s"]
            out.append(dict(name=f"pymc-marketing's time ÷ `{m}` time (10M)", value=speedup,
                            limit="≥ 10", met=speedup >= 10,
                            detail=f"{pymc['median_s']:.2f} s vs {t['median_s']:.2f} s", key=m))
        out.append(dict(name=f"`{m}` peak RSS ÷ polars' peak RSS (10M)",
                        value=t["peak_rss_mib"] / pol["peak_rss_mib"], limit="≤ 1.0",
                        met=t["peak_rss_mib"] <= pol["peak_rss_mib"],
                        detail=f"{t['peak_rss_mib']:.0f} MiB vs {pol['peak_rss_mib']:.0f} MiB",
                        key=m + ":rss"))
    p = (pipe10 or {}).get("summary", {})
    if p.get("ok") and "ratio_to_polars_rfm" in p:
        out.append(dict(name="pipeline time ÷ polars' RFM time (10M)",
                        value=p["ratio_to_polars_rfm"], limit="≤ 3.0",
                        met=p["ratio_to_polars_rfm"] <= 3.0,
                        detail=f"{p['median_s']:.2f} s vs {p['polars_rfm_s']:.2f} s",
                        key="pipeline"))
    if p.get("ok"):
        out.append(dict(name="pipeline peak RSS (10M), GiB", value=p["peak_rss_mib"] / GiB,
                        limit="≤ 2.0", met=p["peak_rss_mib"] <= 2 * GiB,
                        detail=f"{p['peak_rss_mib']:.0f} MiB", key="pipeline:rss"))
    ld = (load10 or {}).get("summary", {})
    lt = ld.get("load_transactions(csv)", {})
    if lt.get("ok") and "ratio_to_fastest_reader" in lt:
        import bench_load

        fastest = min((ld[m]["median_s"], m) for m in bench_load.READERS
                      if ld.get(m, {}).get("ok"))
        out.append(dict(name="`load_transactions(csv)` ÷ the faster of polars' and pyarrow's "
                             "`read_csv`, timestamps parsed (10M CSV)",
                        value=lt["ratio_to_fastest_reader"], limit="≤ 2.0",
                        met=lt["ratio_to_fastest_reader"] <= 2.0,
                        detail=f"{lt['median_s']:.2f} s vs {fastest[0]:.2f} s ({fastest[1]})",
                        key="load"))
    return out


def report(args) -> str:
    import bench_load
    import bench_pipeline
    import bench_rfm

    mach = H.machine()
    res = {k: H.load(k) for k in ("rfm_1m", "rfm_10m", "pipeline_1m", "pipeline_10m", "load_10m",
                                  "load_1m")}
    vt = versions(H.PROJECT_PY)
    vp = versions(H.PEER_PY) if H.PEER_PY.exists() else {"error": "benchmarks/.venv missing"}
    lines = ["# tierlab benchmarks", "",
             "Written by `benchmarks/run_all.py` (`make bench`); numbers from one run on the "
             "machine below. Times are medians of fresh-process runs (read included, imports "
             "excluded); RSS is the process's peak resident set size. The 1-minute load average "
             "is given per run: other work shared the 2 cores.", "",
             "## Machine", "",
             f"- CPU: {mach['cpu']}; `nproc`: {mach['nproc']}; kernel {mach['kernel']}",
             f"- tierlab {tierlab_version()} at git {git_rev()}; run {mach['date']}",
             f"- OPENBLAS variables: {mach['openblas_env'] or 'none set'}", "",
             "```", "$ free -h", mach["free_h"], "```", "",
             "## Versions", "",
             f"- tierlab's environment (`.venv`, Python {mach['python']}): "
             + ", ".join(f"{k} {v}" for k, v in vt.items() if k in ("pandas", "numpy", "pyarrow")),
             "- peers' environment (`benchmarks/.venv`): "
             + ", ".join(f"{k} {v}" for k, v in vp.items()), ""]
    tg = targets(res["rfm_10m"], res["pipeline_10m"], res["load_10m"])
    if tg:
        lines += ["## Targets (10M transactions / 1M customers)", "",
                  "| target | measured | limit | met? | figures |", "|---|---|---|---|---|"]
        for t in tg:
            lines.append(f"| {t['name']} | **{t['value']:.2f}** | {t['limit']} | "
                         f"{'yes' if t['met'] else '**no**'} | {t['detail']} |")
        lines.append("")
    for size, label in (("10m", "10M transactions / 1M customers"),
                        ("1m", "1M transactions / 100k customers")):
        r = res[f"rfm_{size}"]
        if r:
            lines += [f"## RFM per customer — {label}", "", bench_rfm.table(r["summary"]), ""]
            fails = {m: s for m, s in r["summary"].items() if not s.get("ok")}
            for m, s in fails.items():
                lines.append(f"- **{m} failed**: {s.get('error')}")
            lines.append("")
    for size, label in (("10m", "10M"), ("1m", "1M")):
        p = res[f"pipeline_{size}"]
        if p:
            s = p["summary"]
            extra = (f" — {s['reviews']} monthly reviews, {s['customers']:,} customers, "
                     f"panel of {s['panel_rows']:,} rows; current tiers {s['tiers']}"
                     if s.get("ok") else "")
            lines += [f"## Pipeline — {label} (read → monthly period_panel → monthly_spend.yaml "
                      f"→ current tiers){extra}", "", bench_pipeline.table(s), ""]
    for size in ("10m", "1m"):
        ld = res[f"load_{size}"]
        if ld:
            lines += [f"## Loading the {size.upper()} CSV", "", bench_load.table(ld["summary"]),
                      ""]
    notes = HERE / "NOTES.md"
    missed = [t for t in tg if not t["met"]]
    lines += ["## Notes", ""]
    if missed:
        lines.append("Targets missed in this run: " + "; ".join(
            f"{t['name']} ({t['value']:.2f}, limit {t['limit']})" for t in missed) + ".")
        lines.append("")
    if notes.exists():
        lines.append(notes.read_text().strip())
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1m,10m")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--skip-load", action="store_true", help="skip the CSV loading benchmark")
    args = ap.parse_args()
    if not args.report_only:
        sizes = [s for s in args.sizes.split(",") if s]
        for size in sizes:
            run("bench_rfm.py", "--size", size, "--runs", str(args.runs))
            run("bench_pipeline.py", "--size", size, "--runs", str(args.runs))
        if not args.skip_load:
            run("bench_load.py", "--size", "10m" if "10m" in sizes else sizes[0],
                "--runs", str(args.runs))
    OUT.write_text(report(args))
    import bench_report  # its section (the report end to end, per notebook section) is kept

    bench_report.write_results(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
