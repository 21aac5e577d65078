"""``tierlab report segmentation`` end to end on the generated logs, section by section.

The command runs as a user runs it (``python -m tierlab.reporting.cli report segmentation``,
no customer table, default parameters otherwise) on ``benchmarks/data/tx_<size>.parquet``
(``1m``: 1M transactions / 100k customers, ``10m``: 10M / 1M; made by ``generate.py`` when
missing). Its progress lines on stderr — one per section heading of the notebook, then the
HTML export — are timestamped as they arrive, and while it runs the resident set size of the
command and of every process it started (the notebook's kernel) is read from ``/proc`` every
0.2 s. Per section: wall time and the kernel's peak RSS (the largest process below the command;
the command itself is reported apart). The load average and ``uptime`` before and after are
recorded: the machine is shared, so a busy machine shows in the numbers.

Target (issue: reports a manager reads): the 10M report within 3 minutes and 4 GiB.

Usage: ``python benchmarks/bench_report.py --size 1m`` (project interpreter; results in
``benchmarks/data/results/report_<size>.json``, the report itself in
``benchmarks/data/report_<size>/``; the tables of every size measured so far go into their
section of ``benchmarks/RESULTS.md``). Per section it also records the CPU seconds of the command
and its kernel and the 1-minute load average: on a shared machine wall time says little alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = DATA / "results"
TARGET_S = {"10m": 180.0}
TARGET_MIB = {"10m": 4096.0}
_SECTION = re.compile(r"^\s*\[\s*\d+/\d+\]\s*(?P<head>.+?)\s*$")
_POLL_S = 0.2


# ------------------------------------------------------------------------------------- /proc
def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, read from ``/proc/*/stat``."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    tree, todo, found = _children(), [pid], []
    while todo:
        p = todo.pop()
        for c in tree.get(p, []):
            found.append(c)
            todo.append(c)
    return found


class Sampler(threading.Thread):
    """Polls the RSS of a process and its descendants; keeps the peaks of the current span."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.kernel_peak = 0.0  # the largest descendant (the notebook kernel)
        self.command_peak = 0.0
        self.kernel_overall = 0.0
        self.command_overall = 0.0
        self.cpu: dict[int, float] = {}  # pid -> last CPU seconds seen (command and kernel)

    def run(self) -> None:
        while not self.stop.is_set():
            cmd = _rss_mib(self.pid)
            below = _descendants(self.pid)
            kernel = max((_rss_mib(p) for p in below), default=0.0)
            with self.lock:
                for p in [self.pid, *below]:
                    self.cpu[p] = max(self.cpu.get(p, 0.0), _cpu_s(p))
                self.command_peak = max(self.command_peak, cmd)
                self.kernel_peak = max(self.kernel_peak, kernel)
                self.command_overall = max(self.command_overall, cmd)
                self.kernel_overall = max(self.kernel_overall, kernel)
            self.stop.wait(_POLL_S)

    def take(self) -> tuple[float, float, float]:
        """Peaks (kernel, command) since the last call, and CPU seconds of all; new span."""
        with self.lock:
            out = (self.kernel_peak, self.command_peak, sum(self.cpu.values()))
            self.kernel_peak = self.command_peak = 0.0
        return out


# ------------------------------------------------------------------------------------- the run
def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _ensure_data(size: str) -> Path:
    path = DATA / f"tx_{size}.parquet"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), size], check=True)
    return path


def run(size: str) -> dict:
    """Run the report on ``tx_<size>`` and return the per-section record."""
    data = _ensure_data(size)
    out = DATA / f"report_{size}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    cmd = [sys.executable, "-m", "tierlab.reporting.cli", "report", "segmentation",
           "-p", "transactions", str(data), "-p", "customers", "None",
           "--out", str(out), "--timeout", "0", "--deadline", "0"]
    before = {"uptime": _uptime(), "load": os.getloadavg()[0]}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    sections: list[dict] = []
    current = "start-up (imports, kernel start)"
    started = 0.0
    log: list[str] = []
    assert proc.stderr is not None

    cpu_before = [0.0]

    def close(name: str, at: float) -> None:
        kernel, command, cpu = sampler.take()
        sections.append({"section": name, "start_s": round(started, 2),
                         "wall_s": round(at - started, 2),
                         "cpu_s": round(cpu - cpu_before[0], 1),
                         "load_1min": round(os.getloadavg()[0], 2),
                         "kernel_peak_mib": round(kernel), "command_peak_mib": round(command)})
        cpu_before[0] = cpu

    for line in proc.stderr:  # one progress line per section, as the command prints them
        at = time.perf_counter() - t0
        line = line.rstrip("\n")
        log.append(f"{at:8.2f}  {line}")
        print(f"{at:8.2f}  {line}", file=sys.stderr, flush=True)
        m = _SECTION.match(line)
        head = m.group("head") if m else ("HTML export" if "exporting HTML" in line else None)
        if head:
            close(current, at)
            current, started = head, at
    code = proc.wait()
    total = time.perf_counter() - t0
    close(current + " (and publishing)", total)
    sampler.stop.set()
    sampler.join()
    stdout = proc.stdout.read() if proc.stdout else ""
    return {
        "size": size, "data": str(data.relative_to(ROOT)), "exit_code": code,
        "report": stdout.strip(), "total_s": round(total, 2),
        "kernel_peak_mib": round(sampler.kernel_overall),
        "command_peak_mib": round(sampler.command_overall),
        "target_s": TARGET_S.get(size), "target_mib": TARGET_MIB.get(size),
        "uptime_before": before["uptime"], "uptime_after": _uptime(),
        "cpus": os.cpu_count(), "sections": sections, "log": log,
    }


def table(rec: dict) -> str:
    """The record as a Markdown table."""
    lines = [f"### `tierlab report segmentation` on tx_{rec['size']} "
             f"(exit {rec['exit_code']}): {rec['total_s']:.1f} s, kernel peak "
             f"{rec['kernel_peak_mib']:,} MiB, command peak {rec['command_peak_mib']:,} MiB",
             "", f"before: `{rec['uptime_before']}`  ", f"after: `{rec['uptime_after']}`", "",
             "| section | starts at (s) | wall (s) | CPU (s) | load (1-min) at its end | "
             "kernel peak RSS (MiB) |",
             "|---|---:|---:|---:|---:|---:|"]
    for s in rec["sections"]:
        cpu, load = s.get("cpu_s", float("nan")), s.get("load_1min", float("nan"))
        lines.append(f"| {s['section']} | {s['start_s']:.1f} | {s['wall_s']:.1f} | "
                     f"{cpu:.1f} | {load:.2f} | {s['kernel_peak_mib']:,} |")
    potential = [s for s in rec["sections"] if s["section"].startswith("9.")]
    if potential:
        p = potential[0]
        other_cpu = sum(s.get("cpu_s", 0.0) for s in rec["sections"]) - p.get("cpu_s", 0.0)
        lines += ["", f"of which \"{p['section']}\" (the potential models): {p['wall_s']:.1f} s "
                      f"wall, {p.get('cpu_s', float('nan')):.1f} s CPU; all other sections: "
                      f"{rec['total_s'] - p['wall_s']:.1f} s wall, "
                      f"{other_cpu:.1f} s CPU"]
    if rec["target_s"]:
        ok = rec["total_s"] <= rec["target_s"] and rec["kernel_peak_mib"] <= rec["target_mib"]
        lines += ["", f"target: {rec['target_s']:.0f} s and {rec['target_mib']:,.0f} MiB — "
                      + ("met" if ok else "missed")]
    return "\n".join(lines)


_START, _END = "<!-- bench_report: start -->", "<!-- bench_report: end -->"


def write_results(path: Path = HERE / "RESULTS.md") -> None:
    """Put the tables of every ``results/report_<size>.json`` into their section of RESULTS.md.

    The section (between two HTML comments) is replaced, the rest of the file is kept.
    """
    recs = [json.loads(f.read_text()) for f in sorted(RESULTS.glob("report_*.json"))]
    if not recs:
        return
    body = "\n\n".join([
        "## Report end to end — `benchmarks/bench_report.py`",
        "`tierlab report segmentation` on the generated logs (no customer table), per section "
        "of the notebook: wall time, CPU seconds of the command and its kernel (the machine is "
        "shared: wall time grows with the load average, CPU time much less), the 1-minute load "
        "average when the section ended, and the kernel's peak RSS.",
        *(table(r) for r in recs)])
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{_START}\n{body}\n{_END}"
    if _START in text and _END in text:
        head, rest = text.split(_START, 1)
        text = head + block + rest.split(_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=["1m", "10m"], default="1m")
    args = ap.parse_args()
    rec = run(args.size)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"report_{args.size}.json").write_text(json.dumps(rec, indent=1))
    print(table(rec))
    write_results()
    return rec["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
