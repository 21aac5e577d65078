"""Shared helpers: fresh-process runs, peak RSS, load average, machine facts, result files.

Every measured method runs in a fresh child process (``python SCRIPT --worker ...``) with the
interpreter it belongs to: tierlab with the project's ``.venv``, the peers with
``benchmarks/.venv``. The worker times its own work (read included, imports excluded) and reports
its peak RSS (``ru_maxrss``) taken right after the work, before it writes anything for the
cross-check; the parent also records ``os.wait4``'s ``ru_maxrss`` of the child and the load
average before and after the run.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = DATA / "results"
PROJECT_PY = Path(os.environ.get("TIERLAB_PYTHON", ROOT / ".venv" / "bin" / "python"))
PEER_PY = Path(os.environ.get("PEER_PYTHON", HERE / ".venv" / "bin" / "python"))
MiB = 2**20


# --------------------------------------------------------------------------- in the worker
def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MiB


def reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) so the next stage's peak can be read."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def hwm_mib() -> float:
    """Peak RSS since the last :func:`reset_peak` (VmHWM), MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def emit(record: dict) -> None:
    """Print the worker's JSON record as the last line of stdout."""
    sys.stdout.write("\n" + json.dumps(record) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- in the parent
def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def run_worker(python: Path, script: Path, args: list[str], *, env: dict | None = None,
               timeout: float = 900) -> dict:
    """Run ``python script --worker args`` in a fresh process; return its JSON record.

    Adds ``load_before``/``load_after`` (1-minute load average), ``process_s`` (the child's
    whole life, interpreter start and imports included) and ``wait4_maxrss_mib``.
    """
    import tempfile
    import threading

    cmd = [str(python), str(script), "--worker", *args]
    full_env = {**os.environ, **(env or {})}
    load_before = loadavg()
    with tempfile.TemporaryFile(mode="w+") as err_file:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file, env=full_env,
                                cwd=ROOT, text=True)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        out = proc.stdout.read()
        # reap the child ourselves: wait4 gives this child's own rusage (peak RSS)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err_file.seek(0)
        err = err_file.read()
    record: dict = {"ok": False}
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode == 0 and lines:
        record = json.loads(lines[-1])
        record["ok"] = True
    else:
        tail = err.strip().splitlines() or [f"exit code {proc.returncode}, no output"]
        record["error"] = tail[-1][:300]
        record["stderr_tail"] = "\n".join(tail[-15:])
    record.update(load_before=load_before, load_after=loadavg(), process_s=round(elapsed, 3),
                  wait4_maxrss_mib=round(usage.ru_maxrss / 1024, 1))
    return record


def median(values: list[float]) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, default=str))
    return path


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def machine() -> dict:
    """nproc, memory, CPU model, kernel, Python: the facts RESULTS.md states."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.rstrip()
    except OSError:
        free = "unavailable"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "free_h": free,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }
