"""tierlab.reporting.kernel: a report run never waits forever (real kernels, tiny notebooks)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from tierlab.reporting.cli import build_parser
from tierlab.reporting.limits import DEFAULT_CELL_TIMEOUT, DEFAULT_DEADLINE
from tierlab.reporting.runner import ReportFailed, run_report
from tierlab.reporting.runs import FAILED_NOTE, RUNNING_MARKER

ROOT = Path(__file__).resolve().parents[2]


def _notebook(path: Path, *cells: str) -> Path:
    """A notebook: a ``seconds``/``die`` parameters cell, then one section per code cell."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("seconds: float = 0\ndie: bool = False\n"
                                       'out_dir: str = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Tiny"), params]
    for i, source in enumerate(cells):
        nb.cells += [nbformat.v4.new_markdown_cell(f"## Step {i + 1}"),
                     nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path


SLEEPER = ('import os, pathlib, time\n'
           'pathlib.Path(out_dir, "kernel.pid").write_text(str(os.getpid()))\n'
           'if die:\n    os._exit(1)\n'
           'time.sleep(seconds)')


@pytest.mark.slow
def test_outputs_into_a_widget_never_stall_the_run(tmp_path):
    # 200 outputs captured by an ipywidgets.Output: nbclient syncs each back to the kernel on
    # the shell socket while it waits there for the reply; with an unbounded wait about every
    # second run stalled forever. No time limits here, so only the sliced polls can save it.
    nb = _notebook(tmp_path / "widget.ipynb", textwrap.dedent("""\
        import ipywidgets as w
        from IPython.display import HTML, display
        box = w.Output()
        with box:
            for i in range(200):
                display(HTML(f"<b>item {i}</b>"))
        box"""), 'print("after the widget")')
    script = textwrap.dedent(f"""\
        from tierlab.reporting.runner import run_report
        for _ in range(4):
            run = run_report({str(nb)!r}, out={str(tmp_path / "reports")!r}, timeout=None,
                             deadline=None)
        print(run.latest_html)
        """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=env, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("the run stalled at the widget cell")
    assert res.returncode == 0, res.stderr
    html = Path(res.stdout.strip().splitlines()[-1]).read_text(encoding="utf-8")
    assert "after the widget" in html
    runs = [p for p in (tmp_path / "reports" / "widget").iterdir() if p.name != "latest"]
    assert len(runs) == 4 and not [p for p in runs if p.name.endswith("_failed")]


@pytest.mark.slow
def test_a_cell_over_its_time_limit_fails_the_run(tmp_path):
    # the defaults: cron never waits forever
    args = build_parser().parse_args(["report", "segmentation"])
    assert (args.timeout, args.deadline) == (DEFAULT_CELL_TIMEOUT, DEFAULT_DEADLINE) == (600, 7200)
    nb = _notebook(tmp_path / "slow.ipynb", SLEEPER, 'print("never")')
    out = tmp_path / "reports"
    t0 = time.monotonic()
    with pytest.raises(ReportFailed) as info:
        run_report(str(nb), {"seconds": 120}, out=out, timeout=3)
    assert time.monotonic() - t0 < 60
    err = info.value
    assert err.kind == "timeout" and err.run_dir.name.endswith("_failed")
    msg = str(err)
    assert "section 'Step 1'" in msg and "limit of 3 s per cell" in msg and "--timeout" in msg
    # nothing was published before: say so, never "the last good report was left in place"
    assert "No earlier report exists" in msg and "left in place" not in msg
    assert not (out / "slow.html").exists() and not (out / "slow" / "latest").exists()
    assert (err.run_dir / FAILED_NOTE).read_text(encoding="utf-8").startswith("slow.ipynb: ")
    assert not (err.run_dir / RUNNING_MARKER).exists()
    _assert_gone(int((err.run_dir / "kernel.pid").read_text()))


@pytest.mark.slow
def test_the_run_deadline_counts_all_cells(tmp_path):
    nb = _notebook(tmp_path / "steps.ipynb", "import time\ntime.sleep(seconds)",
                   "time.sleep(seconds)", "time.sleep(seconds)", 'print("never")')
    with pytest.raises(ReportFailed) as info:
        run_report(str(nb), {"seconds": 2}, out=tmp_path / "reports", timeout=30, deadline=5)
    err = info.value
    assert err.kind == "deadline" and "deadline of 5 s" in str(err) and "--deadline" in str(err)
    executed = nbformat.read(str(err.notebook), as_version=4)
    assert "never" not in str([c.get("outputs") for c in executed.cells])


@pytest.mark.slow
def test_a_kernel_that_dies_ends_the_run(tmp_path):
    nb = _notebook(tmp_path / "crash.ipynb", SLEEPER, 'print("never")')
    out = tmp_path / "reports"
    t0 = time.monotonic()
    with pytest.raises(ReportFailed) as info:
        run_report(str(nb), {"die": True}, out=out, timeout=None, deadline=None)
    assert time.monotonic() - t0 < 60
    err = info.value
    assert err.kind == "kernel" and "the kernel died while running cell" in str(err)
    assert err.run_dir.name.endswith("_failed") and (err.run_dir / FAILED_NOTE).exists()
    assert not (out / "crash.html").exists()


def _assert_gone(pid: int, wait: float = 10.0) -> None:
    """The process ``pid`` ends within ``wait`` seconds."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    pytest.fail(f"kernel process {pid} is still running")
