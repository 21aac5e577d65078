"""tierlab.reporting.parameters: notebooks by name, parameters parsed and checked."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tierlab.errors import ArgumentError
from tierlab.reporting import parameters
from tierlab.reporting.parameters import (
    NOTEBOOKS,
    ParameterError,
    check_parameters,
    parse_parameters,
    resolve_notebook,
)

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------- parsing
def test_p_values_are_converted_like_papermill():
    params = parse_parameters([("a", "3"), ("b", "2.5"), ("c", "True"), ("d", "None"),
                               ("e", "2025-06-30"), ("f", "data/x.csv")])
    assert params == {"a": 3, "b": 2.5, "c": True, "d": None, "e": "2025-06-30",
                      "f": "data/x.csv"}
    assert isinstance(params["a"], int) and isinstance(params["c"], bool)


def test_yaml_dates_become_text_and_lists_stay_lists():
    params = parse_parameters(yaml_text="{as_of: 2025-06-30, schemes: [a.yaml, b.yaml], "
                                        "columns: {customer_id: 客户ID}, "
                                        "at: 2025-06-30 10:00:00}")
    assert params == {"as_of": "2025-06-30", "schemes": ["a.yaml", "b.yaml"],
                      "columns": {"customer_id": "客户ID"}, "at": "2025-06-30 10:00:00"}


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
    ({"files": ["/no/such/params.yaml"]}, r"parameters file /no/such/params\.yaml"),
], ids=["not-mapping", "bad-yaml", "missing-file"])
def test_bad_parameter_sources(kwargs, match):
    # a bad parameter is a bad argument: callers catch ArgumentError
    with pytest.raises(ArgumentError, match=match) as info:
        parse_parameters(**kwargs)
    assert isinstance(info.value, ParameterError)


# ------------------------------------------------------------------------------------- types
@pytest.mark.parametrize(("value", "annotation", "ok"), [
    ("x", "str", True), (3, "str", False), (3, "int", True), (True, "int", False),
    (3, "float", True), (2.5, "int", False), (None, "Optional[str]", True),
    ("2025-01-01", "Optional[str]", True), (5, "Optional[str]", False),
    (["a", "b"], "list[str]", True), (["a", 1], "list[str]", False), ("a", "list[str]", False),
    ([1, 2.5], "Optional[list[float]]", True), ({"a": "b"}, "Optional[dict[str, str]]", True),
    ({"a": 1}, "Optional[dict[str, str]]", False), ("a", "Union[int, str]", True),
    (2.5, "Union[int, str]", False), ({"a": [1, 2]}, "dict[str, list[int]]", True),
    (object(), "SomethingElse", True),
], ids=lambda v: repr(v)[:20])
def test_type_check(value, annotation, ok):
    assert parameters._type_ok(value, annotation) is ok


# ------------------------------------------------------------------------------------- checking
def test_check_parameters_rejects_unknown_names_with_suggestion():
    path = resolve_notebook("segmentation")[1]
    with pytest.raises(ParameterError, match=r"no parameter 'shceme' \(did you mean 'scheme'\?\)"
                                             r".*holdout_months \(int\)"):
        check_parameters(path, {"shceme": "x.yaml"})


def test_one_parameters_file_serves_both_reports(tmp_path):
    shared = parse_parameters(files=[_write(tmp_path / "p.yaml", (
        "scheme: data/rules/monthly_spend.yaml\n"
        "schemes: [data/rules/monthly_spend.yaml, data/rules/monthly_spend_strict.yaml]\n"
        "sweep_values: [300, 500]\nholdout_months: 3\nlang: zh\n"))])
    seg, imp = resolve_notebook("segmentation")[1], resolve_notebook("impact")[1]
    notes: list[str] = []
    got = check_parameters(seg, shared, notes=notes)
    assert set(got) == {"scheme", "holdout_months", "lang"}
    assert len(notes) == 2 and all("impact report" in n for n in notes)
    assert any("'schemes'" in n for n in notes) and any("'sweep_values'" in n for n in notes)
    notes.clear()
    got = check_parameters(imp, shared, notes=notes)
    assert set(got) == {"schemes", "sweep_values", "holdout_months", "lang"}
    assert len(notes) == 1 and "'scheme'" in notes[0]
    # without a list, the note is a warning of its own class (never an error)
    with pytest.warns(parameters.ParameterNote, match="'scheme' is for the"):
        check_parameters(imp, {"scheme": "data/rules/monthly_spend.yaml"})
    # a name in no notebook stays an error, with a did-you-mean
    with pytest.raises(ParameterError, match=r"'schemse' \(did you mean 'schemes'\?\)"):
        check_parameters(imp, {"schemse": ["a.yaml"]}, notes=notes)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_check_parameters_rejects_wrong_types_and_out_dir():
    path = resolve_notebook("impact")[1]
    with pytest.raises(ParameterError, match=r"'schemes' must be list\[str\]"):
        check_parameters(path, {"schemes": "data/rules/monthly_spend.yaml"})
    with pytest.raises(ParameterError, match="out_dir is set by tierlab report"):
        check_parameters(path, {"out_dir": "/tmp"})
    assert check_parameters(path, {"out_dir": "/tmp"}, allow_out_dir=True) == {"out_dir": "/tmp"}


def test_check_parameters_needs_a_parameters_cell(tmp_path):
    nb = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), str(nb))
    with pytest.raises(ParameterError, match="no cell tagged 'parameters'"):
        check_parameters(nb, {"x": 2})


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


def test_bundled_notebook_missing_under_another_root(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERLAB_PROJECT_ROOT", str(tmp_path))
    with pytest.raises(ParameterError, match="TIERLAB_PROJECT_ROOT"):
        resolve_notebook("segmentation")
