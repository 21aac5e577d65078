"""tierlab.reporting.runner: run folders, publishing, pruning and failed runs."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import nbformat
import pytest

from tierlab.errors import ReportError
from tierlab.reporting import runner, runs
from tierlab.reporting.paths import project_root
from tierlab.reporting.runner import ParameterError, ReportFailed, run_report


# ------------------------------------------------------------------------------------- runs
def _tiny_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('x: int = 1  # a number below 10\nout_dir: str = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny"),
        params,
        nbformat.v4.new_markdown_cell("## Write"),
        nbformat.v4.new_code_cell('import json, pathlib\n'
                                  'pathlib.Path(out_dir, "metrics.json").write_text('
                                  'json.dumps({"x": x}))\nprint("x is", x)'),
        nbformat.v4.new_code_cell('assert x < 10, "x too big"'),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path


@pytest.mark.slow
def test_run_publish_and_failed_run_keeps_last_good_report(tmp_path):
    nb = _tiny_notebook(tmp_path / "tiny.ipynb")
    out = tmp_path / "reports"
    lines: list[str] = []
    ok = run_report(str(nb), {"x": 2}, out=out, log=lines.append,
                    now=dt.datetime(2025, 1, 31, 6, 0, 0))
    assert ok.run_dir == out / "tiny" / "2025-01-31_060000"
    assert ok.latest_dir == out / "tiny" / "latest" and ok.latest_html == out / "tiny.html"
    assert json.loads((ok.latest_dir / "metrics.json").read_text()) == {"x": 2}
    assert {p.name for p in ok.latest_dir.iterdir()} == {"tiny.ipynb", "tiny.html",
                                                         "metrics.json"}
    assert any("Write" in line for line in lines)  # progress names the sections
    good_html = ok.latest_html.read_bytes()
    assert b"x is 2" in good_html

    with pytest.raises(ReportError) as info:  # callers may catch the base class
        run_report(str(nb), {"x": 11}, out=out, now=dt.datetime(2025, 2, 28, 6, 0, 0))
    err = info.value
    # the fourth cell run (papermill injects one after the parameters) raised
    assert isinstance(err, ReportFailed) and err.cell == 4 and "cell In [4] failed" in str(err)
    assert err.ename == "AssertionError" and "x too big" in err.evalue
    assert err.run_dir == out / "tiny" / "2025-02-28_060000_failed"
    failed_nb = nbformat.read(str(err.notebook), as_version=4)
    assert any(o.get("output_type") == "error" for c in failed_nb.cells
               for o in c.get("outputs", []))
    # the last good report is untouched
    assert ok.latest_html.read_bytes() == good_html
    assert json.loads((ok.latest_dir / "metrics.json").read_text()) == {"x": 2}

    again = run_report(str(nb), {"x": 3}, out=out, now=dt.datetime(2025, 1, 31, 6, 0, 0),
                       keep=2)
    assert again.run_dir.name == "2025-01-31_060000-2"  # same stamp: a fresh folder
    # keep=2: the oldest run folder is gone, the newest two stay
    assert {p.name for p in (out / "tiny").iterdir()} == {
        "latest", "2025-02-28_060000_failed", "2025-01-31_060000-2"}
    assert json.loads((out / "tiny" / "latest" / "metrics.json").read_text()) == {"x": 3}
    assert b"x is 3" in (out / "tiny.html").read_bytes()
    assert not list((out / "tiny").glob(".latest-*"))  # no temporary folders left


def test_unknown_parameter_rejected_before_anything_runs(tmp_path):
    nb = _tiny_notebook(tmp_path / "tiny.ipynb")
    with pytest.raises(ParameterError, match="no parameter 'y'"):
        run_report(str(nb), {"y": 1}, out=tmp_path / "reports")
    assert not (tmp_path / "reports").exists()


# ------------------------------------------------------------------------------------- folders
def test_fresh_dir_never_reuses_a_stamp(tmp_path):
    first = runs.fresh_run_dir(tmp_path, "2025-01-31_060000")
    (tmp_path / "2025-01-31_060000-2_failed").mkdir()  # a failed second run of the same second
    second = runs.fresh_run_dir(tmp_path, "2025-01-31_060000")
    assert first.name == "2025-01-31_060000" and second.name == "2025-01-31_060000-3"
    assert first.is_dir() and second.is_dir()


def test_prune_keeps_the_newest_dated_runs(tmp_path):
    names = ["2025-01-31_060000", "2025-02-28_060000_failed", "2025-03-31_060000",
             "2025-04-30_060000", "latest", "notes"]
    for name in names:
        (tmp_path / name).mkdir()
    runs.prune_runs(tmp_path, 2, current=tmp_path / "2025-04-30_060000")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2025-03-31_060000", "2025-04-30_060000", "latest", "notes"]
    runs.prune_runs(tmp_path, 0, current=tmp_path / "2025-04-30_060000")  # the current run stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-04-30_060000", "latest", "notes"]


def test_publish_replaces_latest_and_top_html(tmp_path):
    out = tmp_path / "reports"
    name_dir = out / "tiny"
    (name_dir / "latest").mkdir(parents=True)
    (name_dir / "latest" / "old.txt").write_text("old", encoding="utf-8")
    (out / "tiny.html").write_text("old report", encoding="utf-8")
    run_dir = name_dir / "2025-01-31_060000"
    run_dir.mkdir()
    (run_dir / "tiny.html").write_text("new report", encoding="utf-8")
    latest, top = runs.publish_run(run_dir, run_dir / "tiny.html", name_dir, out, "tiny")
    assert [p.name for p in latest.iterdir()] == ["tiny.html"]
    assert top.read_text(encoding="utf-8") == "new report"
    assert sorted(p.name for p in name_dir.iterdir()) == ["2025-01-31_060000", "latest"]
    assert sorted(p.name for p in out.iterdir()) == ["tiny", "tiny.html"]


def test_kernel_environment_is_restored(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("TIERLAB_PROJECT_ROOT", raising=False)
    with runner._kernel_environment():
        assert "MPLBACKEND" not in os.environ
        assert os.environ["TIERLAB_PROJECT_ROOT"] == str(project_root())
    assert os.environ["MPLBACKEND"] == "Agg" and "TIERLAB_PROJECT_ROOT" not in os.environ


@pytest.mark.slow
def test_parameter_of_the_other_report_is_one_plain_line(tmp_path, recwarn):
    nb = _tiny_notebook(tmp_path / "tiny.ipynb")
    lines: list[str] = []
    notes: list[str] = []
    run = run_report(str(nb), {"x": 2, "schemes": ["a.yaml"]}, out=tmp_path / "reports",
                     log=lines.append, notes=notes.append)
    assert run.parameters == {"x": 2}  # left out, the run went on
    assert notes == ["tiny.ipynb: parameter 'schemes' is for the impact report; left out here"]
    assert not any("schemes" in line for line in lines)
    assert not [w for w in recwarn if "schemes" in str(w.message)]  # no Python warning
    # without a notes callback the note goes to the log, one line
    lines.clear()
    run_report(str(nb), {"x": 3, "schemes": ["a.yaml"]}, out=tmp_path / "reports",
               log=lines.append)
    assert sum("'schemes' is for the impact report" in line for line in lines) == 1
    assert not [w for w in recwarn if "schemes" in str(w.message)]
