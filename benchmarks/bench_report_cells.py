"""The segmentation notebook's cells in one process, timed cell by cell (CPU and wall).

A companion to ``bench_report.py`` for a shared machine: the notebook's code cells
(``notebooks/segmentation_study.py``) run in this process — no kernel, no HTML export — with
figures drawn to PNG and tables rendered to HTML as a report would, and each cell's wall time,
CPU time, resident set size and the 1-minute load average are printed. CPU seconds do not grow
with other people's load the way wall time does. ``--skip 9`` leaves out the potential-model
section (another part of the work); ``--profile 8,11`` prints a cProfile of those sections.

Usage: ``python benchmarks/bench_report_cells.py --size 10m --skip 9`` (project interpreter,
``PYTHONPATH`` = the project root).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import resource
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTEBOOK = ROOT / "notebooks" / "segmentation_study.py"


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _render_like_a_report() -> None:
    """Figures to PNG and tables to HTML when shown, as in the executed notebook."""
    import IPython.display as ipd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def display(*objs: object, **_: object) -> None:
        for obj in objs:
            for attr in ("_repr_html_", "_repr_markdown_"):
                if hasattr(obj, attr):
                    getattr(obj, attr)()
                    break

    def show(*_: object, **__: object) -> None:
        for n in plt.get_fignums():
            fig = plt.figure(n)
            fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
            plt.close(fig)

    ipd.display = display
    plt.show = show


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=["1m", "10m"], default="1m")
    ap.add_argument("--skip", default="", help="section numbers to leave out, e.g. 9")
    ap.add_argument("--profile", default="", help="section numbers to profile, e.g. 8,11")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="a notebook parameter (YAML value)")
    args = ap.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    profile = {s for s in args.profile.split(",") if s}
    params = {"transactions": str(HERE / "data" / f"tx_{args.size}.parquet"), "customers": None,
              "out_dir": str(HERE / "data" / f"cells_{args.size}")}
    params.update({k: yaml.safe_load(v) for k, v in args.p})
    _render_like_a_report()
    cells = re.split(r"^# %%", NOTEBOOK.read_text(encoding="utf-8"), flags=re.M)[1:]
    ns: dict[str, object] = {"__name__": "__main__"}
    section, rows = "0. set-up", []
    t_all, c_all = time.perf_counter(), time.process_time()
    for cell in cells:  # a loop over the notebook's cells
        head, _, body = cell.partition("\n")
        if "[markdown]" in head:
            m = re.search(r"^# ## (.+)$", body, re.M)
            section = m.group(1) if m else section
            continue
        if 'tags=["parameters"]' in head:
            exec(body, ns)  # the notebook's own parameter cell, then the values given
            ns.update(params)
            continue
        number = section.split(".")[0]
        if number in skip:
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        if number in profile:
            prof = cProfile.Profile()
            prof.runctx(body, ns, ns)
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue(), file=sys.stderr)
        else:
            exec(body, ns)
        rows.append((section, time.perf_counter() - t0, time.process_time() - c0, _rss_mib(),
                     os.getloadavg()[0]))
        print(f"{section[:44]:44s} wall {rows[-1][1]:7.2f} s  CPU {rows[-1][2]:7.2f} s  "
              f"RSS {rows[-1][3]:6.0f} MiB  load {rows[-1][4]:.2f}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"all cells: wall {time.perf_counter() - t_all:.1f} s, CPU "
          f"{time.process_time() - c_all:.1f} s, peak RSS {peak:,.0f} MiB"
          + (f" (sections {', '.join(sorted(skip))} left out)" if skip else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
