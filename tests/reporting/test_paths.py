"""tierlab.reporting.paths: the project root, input files and output folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierlab.errors import DataError
from tierlab.reporting.paths import PROJECT_ROOT_ENV, project_root, resolve_input, resolve_output

ROOT = Path(__file__).resolve().parents[2]


def test_project_root_is_the_clone_unless_set(tmp_path, monkeypatch):
    monkeypatch.delenv(PROJECT_ROOT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert project_root() == ROOT  # the folder holding data/ and notebooks/, not the cwd
    monkeypatch.setenv(PROJECT_ROOT_ENV, str(tmp_path / "elsewhere"))
    assert project_root() == tmp_path / "elsewhere"


def test_default_inputs_exist():
    for path in ("data/sample/transactions.csv", "data/sample/customers.csv",
                 "data/rules/monthly_spend.yaml", "data/rules/monthly_spend_strict.yaml"):
        assert resolve_input(path) == ROOT / path


def test_resolve_input_cwd_then_project_root(tmp_path, monkeypatch):
    monkeypatch.delenv(PROJECT_ROOT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_input("data/rules/monthly_spend.yaml") == ROOT / "data/rules/monthly_spend.yaml"
    (tmp_path / "data" / "rules").mkdir(parents=True)
    local = tmp_path / "data" / "rules" / "monthly_spend.yaml"
    local.write_text("x", encoding="utf-8")
    assert resolve_input("data/rules/monthly_spend.yaml") == local  # cwd wins
    with pytest.raises(DataError, match=r"transactions: nope\.csv not found \(looked in"):
        resolve_input("nope.csv", what="transactions")


@pytest.mark.parametrize(("path", "match"), [
    (None, "scheme: no path given"), ("  ", "scheme: no path given"),
    ("/no/such/file.yaml", r"scheme: /no/such/file\.yaml does not exist"),
], ids=["none", "blank", "absolute-missing"])
def test_resolve_input_errors(path, match):
    with pytest.raises(DataError, match=match):
        resolve_input(path, what="scheme")


def test_resolve_input_absolute_as_is(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("x\n", encoding="utf-8")
    assert resolve_input(str(f)) == f


def test_resolve_output_relative_to_the_root_and_created(tmp_path, monkeypatch):
    monkeypatch.setenv(PROJECT_ROOT_ENV, str(tmp_path / "root"))
    monkeypatch.chdir(tmp_path)
    assert resolve_output("reports/x") == tmp_path / "root" / "reports" / "x"
    assert (tmp_path / "root" / "reports" / "x").is_dir()
    assert resolve_output(tmp_path / "abs") == tmp_path / "abs"
    assert (tmp_path / "abs").is_dir()
