"""tierlab.reporting.runs: running markers, stopped and killed runs (real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tierlab.reporting import runs
from tierlab.reporting.runner import run_report

ROOT = Path(__file__).resolve().parents[2]


def _sleeper(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('seconds: float = 0\nout_dir: str = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Sleeper"), params,
                nbformat.v4.new_markdown_cell("## Wait"),
                nbformat.v4.new_code_cell(
                    'import os, pathlib, time\n'
                    'pathlib.Path(out_dir, "kernel.pid").write_text(str(os.getpid()))\n'
                    'time.sleep(seconds)'),
                nbformat.v4.new_code_cell('print("slept")')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path


def _start_report(nb: Path, out: Path) -> tuple[subprocess.Popen[str], Path, int]:
    """``tierlab report NB -p seconds 300`` in a child process, once its cell sleeps."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tierlab.reporting.cli", "report", str(nb),
                             "-p", "seconds", "300", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    end = time.monotonic() + 90
    while time.monotonic() < end:
        pids = list((out / nb.stem).glob("*/kernel.pid"))
        if pids and pids[0].read_text():
            return proc, pids[0].parent, int(pids[0].read_text())
        if proc.poll() is not None:
            pytest.fail(f"the run ended early: {proc.communicate()}")
        time.sleep(0.3)
    proc.kill()
    pytest.fail("the cell never started")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, wait: float = 15.0) -> bool:
    end = time.monotonic() + wait
    while _alive(pid) and time.monotonic() < end:
        time.sleep(0.2)
    return not _alive(pid)


@pytest.mark.slow
def test_sigterm_stops_the_run_marks_it_failed_and_ends_the_kernel(tmp_path):
    nb = _sleeper(tmp_path / "sleeper.ipynb")
    out = tmp_path / "reports"
    proc, run_dir, kernel = _start_report(nb, out)
    assert (run_dir / runs.RUNNING_MARKER).exists()
    proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("SIGTERM did not stop the run")
    assert proc.returncode == 128 + signal.SIGTERM
    assert "stopped by SIGTERM while running cell" in stderr and "section 'Wait'" in stderr
    assert "No earlier report exists" in stderr and "left in place" not in stderr
    failed = run_dir.with_name(run_dir.name + "_failed")
    assert failed.is_dir() and not run_dir.exists()
    assert "SIGTERM" in (failed / runs.FAILED_NOTE).read_text(encoding="utf-8")
    assert not (failed / runs.RUNNING_MARKER).exists()
    assert _wait_gone(kernel), "the kernel outlived the stopped run"


@pytest.mark.slow
def test_a_killed_run_is_marked_failed_by_the_next_run(tmp_path, run_cli):
    nb = _sleeper(tmp_path / "sleeper.ipynb")
    out = tmp_path / "reports"
    proc, run_dir, kernel = _start_report(nb, out)
    proc.kill()  # SIGKILL: no handler runs, the marker stays
    proc.communicate()
    if not _wait_gone(kernel):  # the orphaned kernel notices its parent is gone
        os.kill(kernel, signal.SIGKILL)
    assert (run_dir / runs.RUNNING_MARKER).exists()
    assert runs.list_runs(out / "sleeper") == [(run_dir, "failed: did not finish (killed?)")]
    listing = run_cli(["report", str(nb), "--runs", "--out", str(out)])
    assert listing.code == 0 and "did not finish" in listing.stdout
    lines: list[str] = []
    ok = run_report(str(nb), {"seconds": 0}, out=out, log=lines.append)
    failed = run_dir.with_name(run_dir.name + "_failed")
    assert failed.is_dir() and not run_dir.exists()
    assert "did not finish" in (failed / runs.FAILED_NOTE).read_text(encoding="utf-8")
    assert any("never finished" in line and str(failed) in line for line in lines)
    assert ok.latest_html.exists() and not (ok.run_dir / runs.RUNNING_MARKER).exists()
    states = dict(runs.list_runs(out / "sleeper"))
    assert states[ok.run_dir] == "ok" and states[failed].startswith("failed: The run did not")


def test_markers_of_live_processes_are_left_alone(tmp_path):
    live = runs.fresh_run_dir(tmp_path, "2025-01-31_060000")  # this process: alive
    dead = tmp_path / "2025-02-28_060000"
    dead.mkdir()
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    marker = {"pid": int(child.stdout), "host": json.loads(
        (live / runs.RUNNING_MARKER).read_text())["host"]}
    (dead / runs.RUNNING_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    torn = tmp_path / "2025-03-31_060000"
    torn.mkdir()
    (torn / runs.RUNNING_MARKER).write_text('{"pid": 12', encoding="utf-8")  # cut short
    assert not runs.is_unfinished(live) and runs.is_unfinished(dead)
    assert runs.recover_unfinished(tmp_path) == [dead.with_name(dead.name + "_failed"),
                                                 torn.with_name(torn.name + "_failed")]
    assert live.is_dir() and (live / runs.RUNNING_MARKER).exists()
    # pruning never deletes a run in progress
    newer = [runs.fresh_run_dir(tmp_path, f"2025-0{m}-01_060000") for m in (5, 6)]
    for d in newer:
        runs.finish(d)
    runs.prune_runs(tmp_path, 1, current=newer[-1])
    assert live.is_dir() and newer[-1].is_dir() and not newer[0].exists()
