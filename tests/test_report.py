"""tierlab.reporting.runner: parameters, HTML export, run folders, publishing and failed runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat
import pytest

from tierlab.reporting import runner as report
from tierlab.reporting.runner import (
    NOTEBOOKS,
    ParameterError,
    ReportFailed,
    check_parameters,
    export_html,
    parse_parameters,
    resolve_notebook,
    run_report,
)

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------- parameters
def test_p_values_are_converted_like_papermill():
    params = parse_parameters([("a", "3"), ("b", "2.5"), ("c", "True"), ("d", "None"),
                               ("e", "2025-06-30"), ("f", "data/x.csv")])
    assert params == {"a": 3, "b": 2.5, "c": True, "d": None, "e": "2025-06-30",
                      "f": "data/x.csv"}
    assert isinstance(params["a"], int) and isinstance(params["c"], bool)


def test_yaml_dates_become_text_and_lists_stay_lists():
    params = parse_parameters(yaml_text="{as_of: 2025-06-30, schemes: [a.yaml, b.yaml], "
                                        "columns: {customer_id: 客户ID}}")
    assert params == {"as_of": "2025-06-30", "schemes": ["a.yaml", "b.yaml"],
                      "columns": {"customer_id": "客户ID"}}


def test_later_sources_win(tmp_path):
    f1 = tmp_path / "a.yaml"
    f1.write_text("x: 1\ny: 1\nz: 1\nw: 1\n", encoding="utf-8")
    f2 = tmp_path / "b.yaml"
    f2.write_text("y: 2\nz: 2\nw: 2\n", encoding="utf-8")
    params = parse_parameters([("w", "4")], yaml_text="z: 3\nw: 3", files=[f1, f2])
    assert params == {"x": 1, "y": 2, "z": 3, "w": 4}


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"yaml_text": "[1, 2]"}, "expected a mapping"),
    ({"yaml_text": "{a: [1"}, "not valid YAML"),
    ({"files": ["/no/such/params.yaml"]}, "parameters file"),
], ids=["not-mapping", "bad-yaml", "missing-file"])
def test_bad_parameter_sources(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        parse_parameters(**kwargs)


@pytest.mark.parametrize(("value", "annotation", "ok"), [
    ("x", "str", True), (3, "str", False), (3, "int", True), (True, "int", False),
    (3, "float", True), (2.5, "int", False), (None, "Optional[str]", True),
    ("2025-01-01", "Optional[str]", True), (5, "Optional[str]", False),
    (["a", "b"], "list[str]", True), (["a", 1], "list[str]", False), ("a", "list[str]", False),
    ([1, 2.5], "Optional[list[float]]", True), ({"a": "b"}, "Optional[dict[str, str]]", True),
    ({"a": 1}, "Optional[dict[str, str]]", False), ("a", "Union[int, str]", True),
    (object(), "SomethingElse", True),
], ids=lambda v: repr(v)[:20])
def test_type_check(value, annotation, ok):
    assert report._type_ok(value, annotation) is ok


def test_check_parameters_rejects_unknown_names_with_suggestion():
    path = resolve_notebook("segmentation")[1]
    with pytest.raises(ParameterError, match=r"no parameter 'shceme' \(did you mean 'scheme'\?\)"
                                             r".*holdout_months \(int\)"):
        check_parameters(path, {"shceme": "x.yaml"})


def test_check_parameters_rejects_wrong_types_and_out_dir():
    path = resolve_notebook("impact")[1]
    with pytest.raises(ParameterError, match=r"'schemes' must be list\[str\]"):
        check_parameters(path, {"schemes": "data/rules/monthly_spend.yaml"})
    with pytest.raises(ParameterError, match="out_dir is set by tierlab report"):
        check_parameters(path, {"out_dir": "/tmp"})


def test_check_parameters_makes_existing_relative_inputs_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.csv").write_text("x\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    seg = resolve_notebook("segmentation")[1]
    out = check_parameters(seg, {"transactions": "mine.csv",
                                 "scheme": "data/rules/monthly_spend.yaml", "as_of": None})
    assert out["transactions"] == str(tmp_path / "mine.csv")
    assert out["scheme"] == "data/rules/monthly_spend.yaml"  # left for the project root
    assert out["as_of"] is None
    imp = resolve_notebook("impact")[1]
    out = check_parameters(imp, {"schemes": ["a.yaml", "data/rules/monthly_spend.yaml"]})
    assert out["schemes"] == [str(tmp_path / "a.yaml"), "data/rules/monthly_spend.yaml"]


# ------------------------------------------------------------------------------------- notebooks
def test_resolve_notebook_by_name_and_path(tmp_path):
    for name, file in NOTEBOOKS.items():
        assert resolve_notebook(name) == (name, ROOT / "notebooks" / file)
    nb = tmp_path / "my_study.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(nb))
    assert resolve_notebook(str(nb)) == ("my_study", nb.resolve())
    with pytest.raises(ParameterError, match="did you mean 'segmentation'"):
        resolve_notebook("segmentaton")
    with pytest.raises(ParameterError, match="not found"):
        resolve_notebook(str(tmp_path / "missing.ipynb"))


def test_export_html_has_outputs_but_no_code(tmp_path):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_source_line = 41 + 1\nprint(secret_source_line)")
    code.execution_count = 1
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="forty-two\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# A title"), code]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, str(path))
    html = export_html(path, tmp_path / "x.html").read_text(encoding="utf-8")
    assert "forty-two" in html and "A title" in html
    assert "secret_source_line" not in html
    assert 'class="jp-InputPrompt' not in html and "In&nbsp;[" not in html
    assert 'class="jp-Cell jp-CodeCell jp-Notebook-cell jp-mod-noInput' in html


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

    with pytest.raises(ReportFailed) as info:
        run_report(str(nb), {"x": 11}, out=out, now=dt.datetime(2025, 2, 28, 6, 0, 0))
    err = info.value
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
