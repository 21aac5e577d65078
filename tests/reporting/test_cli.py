"""The ``tierlab`` command: report, tiers, check-scheme (exit codes, outputs, privacy)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from tierlab.io.load import load_customers, load_transactions
from tierlab.reporting.cli import main
from tierlab.tiers.scheme import TierScheme

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "data" / "rules"


# ------------------------------------------------------------------------------------- check-scheme
def test_check_scheme_all_bundled_rules_ok(run_cli):
    files = sorted(str(p) for p in RULES.glob("*.yaml"))
    res = run_cli(["check-scheme", *files])
    assert res.code == 0
    assert res.stdout.count(": OK") == len(files)


def test_check_scheme_error_exit_1(run_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nreview: monthly\ntiers:\n  - name: Low\n  - name: High\n"
                   "    when: {metric: spnd, window: 1M, op: '>=', value: 1}\n",
                   encoding="utf-8")
    res = run_cli(["check-scheme", str(RULES / "monthly_spend.yaml"), str(bad)])
    assert res.code == 1
    assert f"{bad}: ERROR: tiers[1].when.metric: unknown metric 'spnd'" in res.stdout
    assert "did you mean 'spend'" in res.stdout
    assert "monthly_spend.yaml: OK" in res.stdout


def test_check_scheme_warnings_exit_0(run_cli, tmp_path, small_data):
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: x\nreview: monthly\ntiers:\n  - name: Low\n  - name: Top\n"
                     "    when: {metric: spend, window: 1M, op: '>=', value: 100000000}\n",
                     encoding="utf-8")
    res = run_cli(["check-scheme", str(empty), "--transactions", str(small_data.transactions)])
    assert res.code == 0
    assert "OK with 1 warning" in res.stdout and "warning: tiers[1] (Top) is empty" in res.stdout


def test_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "tierlab.reporting.cli", "check-scheme",
                          str(RULES / "hotel_loyalty.yaml")], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, res.stderr
    assert "hotel_loyalty.yaml: OK" in res.stdout


# ------------------------------------------------------------------------------------- tiers
def _hist(small_data):
    tx = load_transactions(small_data.transactions).transactions
    customers = load_customers(small_data.customers).customers
    hist = TierScheme.from_yaml(RULES / "monthly_spend.yaml").run(tx, customers=customers)
    return hist, customers


def test_tiers_xlsx_masked_by_default(run_cli, small_data, tmp_path):
    out = tmp_path / "tiers.xlsx"
    res = run_cli(["tiers", str(small_data.transactions), "--scheme",
                   str(RULES / "monthly_spend.yaml"), "--customers", str(small_data.customers),
                   "--out", str(out)])
    assert res.code == 0, res.stderr
    assert res.stdout.strip() == str(out)
    assert "rows rejected" in res.stderr and "contacts masked" in res.stderr
    sheets = pd.read_excel(out, sheet_name=None, dtype={"customer_id": str})
    assert list(sheets) == ["tiers", "summary", "changes"]
    hist, customers = _hist(small_data)
    table = sheets["tiers"]
    assert sorted(table["customer_id"]) == sorted(hist.customer_ids)
    counts = table["tier"].value_counts()
    expected = hist.current["tier"].value_counts()
    assert all(counts.get(t, 0) == expected[t] for t in hist.scheme.tier_names)
    text = table.to_csv()
    assert not any(e in text for e in customers["email"].dropna())
    assert not any(p in text for p in customers["phone"].dropna())
    assert table["contact"].dropna().str.fullmatch(r"138\*\*\*\*\d{4} / c\*\*\*@example\.com").all()


def test_tiers_lang_zh(run_cli, small_data, tmp_path):
    out = tmp_path / "tiers_zh.xlsx"
    res = run_cli(["tiers", str(small_data.transactions), "--scheme",
                   str(RULES / "monthly_spend.yaml"), "--customers", str(small_data.customers),
                   "--out", str(out), "--lang", "zh"])
    assert res.code == 0, res.stderr
    sheets = pd.read_excel(out, sheet_name=None, dtype={"客户编号": str})
    assert list(sheets) == ["客户等级", "等级汇总", "变动历史"]
    hist, _ = _hist(small_data)
    table = sheets["客户等级"]
    assert sorted(table["客户编号"]) == sorted(hist.customer_ids)
    assert table["原因"].str.contains(r"[\u4e00-\u9fff]").all()
    assert set(sheets["变动历史"]["新等级"]) <= set(hist.scheme.labels.values())
    with pytest.raises(SystemExit) as info:
        run_cli(["tiers", str(small_data.transactions), "--scheme",
                 str(RULES / "monthly_spend.yaml"), "--out", str(out), "--lang", "fr"])
    assert info.value.code == 2


def test_tiers_show_contacts_pseudonymize_and_csv(run_cli, small_data, tmp_path):
    base = ["tiers", str(small_data.transactions), "--scheme", str(RULES / "monthly_spend.yaml"),
            "--customers", str(small_data.customers)]
    shown = tmp_path / "shown.csv"
    assert run_cli([*base, "--out", str(shown), "--show-contacts"]).code == 0
    table = pd.read_csv(shown, dtype=str, encoding="utf-8-sig")
    assert table["contact"].dropna().str.fullmatch(r"138\d{8} / c\d{5}@example\.com").all()
    assert (tmp_path / "shown_changes.csv").exists() and (tmp_path / "shown_summary.csv").exists()

    p1, p2 = tmp_path / "p1.csv", tmp_path / "p2.csv"
    assert run_cli([*base, "--out", str(p1), "--pseudonymize", "--salt", "s"]).code == 0
    assert run_cli([*base, "--out", str(p2), "--pseudonymize", "--salt", "s"]).code == 0
    t1 = pd.read_csv(p1, dtype=str, encoding="utf-8-sig")
    t2 = pd.read_csv(p2, dtype=str, encoding="utf-8-sig")
    assert t1["customer_id"].str.fullmatch(r"P[0-9a-f]{16}").all()
    assert t1["customer_id"].tolist() == t2["customer_id"].tolist()  # same salt, same ids
    assert t1["name"].isna().all() and t1["contact"].isna().all()


def test_tiers_column_mapping_and_date_format(run_cli, small_data, tmp_path):
    raw = pd.read_csv(small_data.transactions, dtype=str)
    ts = pd.to_datetime(raw["timestamp"], errors="coerce")
    renamed = pd.DataFrame({"客户ID": raw["customer_id"],
                            "日子": ts.dt.strftime("%d/%m/%Y").where(ts.notna(), raw["timestamp"]),
                            "消费金额": raw["amount"]})
    src = tmp_path / "export.csv"
    renamed.to_csv(src, index=False)
    out = tmp_path / "t.csv"
    res = run_cli(["tiers", str(src), "--scheme", str(RULES / "monthly_spend.yaml"),
                   "--columns", "customer_id=客户ID", "timestamp=日子", "amount=消费金额",
                   "--date-format", "%d/%m/%Y", "--out", str(out)])
    assert res.code == 0, res.stderr
    table = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    hist, _ = _hist(small_data)
    assert sorted(table["customer_id"]) == sorted(hist.customer_ids)


@pytest.mark.parametrize(("extra", "match"), [
    (["--scheme", "/no/such.yaml", "--out", "x.xlsx"], "scheme file not found"),
    (["--scheme", str(RULES / "monthly_spend.yaml"), "--out", "x.json"], ".xlsx or .csv"),
], ids=["missing-scheme", "bad-extension"])
def test_tiers_errors_exit_1(run_cli, small_data, tmp_path, monkeypatch, extra, match):
    monkeypatch.chdir(tmp_path)
    res = run_cli(["tiers", str(small_data.transactions), *extra])
    assert res.code == 1
    assert match in res.stderr


def test_tiers_missing_option_is_usage_error(run_cli, small_data):
    with pytest.raises(SystemExit) as info:
        run_cli(["tiers", str(small_data.transactions), "--out", "x.xlsx"])
    assert info.value.code == 2


def test_tiers_as_of_not_a_date_is_usage_error(run_cli, small_data, tmp_path):
    out = tmp_path / "t.csv"
    with pytest.raises(SystemExit) as info:
        run_cli(["tiers", str(small_data.transactions), "--scheme",
                 str(RULES / "monthly_spend.yaml"), "--as-of", "mid-year", "--out", str(out)])
    assert info.value.code == 2
    assert not out.exists()


# ------------------------------------------------------------------------------------- report
def test_report_unknown_parameter_exit_2_nothing_runs(run_cli, tmp_path):
    out = tmp_path / "reports"
    res = run_cli(["report", "segmentation", "-p", "shceme", "x.yaml", "--out", str(out)])
    assert res.code == 2
    assert "no parameter 'shceme' (did you mean 'scheme'?)" in res.stderr
    assert not out.exists()


@pytest.mark.parametrize(("args", "match"), [
    (["-p", "holdout_months", "six"], "'holdout_months' must be int"),
    # the other bundled notebook's parameters are a note (tests/reporting/test_parameters.py);
    # a name in no notebook stays an error
    (["-y", "{shemes: [a.yaml]}"], "no parameter 'shemes'"),
    (["-y", "as_of: [2025]"], "'as_of' must be Optional[str]"),
    (["-p", "out_dir", "/tmp"], "use --out DIR"),
], ids=["int", "other-notebook", "date-list", "out-dir"])
def test_report_bad_parameters_exit_2(run_cli, tmp_path, args, match):
    out = tmp_path / "reports"
    res = run_cli(["report", "segmentation", *args, "--out", str(out)])
    assert res.code == 2
    assert match in res.stderr
    assert not out.exists()


def test_report_unknown_notebook_exit_2(run_cli):
    res = run_cli(["report", "segmentaton"])
    assert res.code == 2 and "did you mean 'segmentation'" in res.stderr


def test_report_lists_parameters(run_cli):
    res = run_cli(["report", "impact", "--parameters"])
    assert res.code == 0
    for name in ("transactions", "columns", "date_format", "customers", "schemes", "as_of",
                 "out_dir"):
        assert f"  {name}: " in res.stdout


@pytest.mark.slow
def test_report_success(segmentation_run):
    res = segmentation_run
    assert res.code == 0, res.stderr
    html = res.out / "segmentation.html"
    assert res.stdout.strip().splitlines()[-1] == str(html)
    assert html.exists()
    assert "1. Data quality" in res.stderr and "done in" in res.stderr  # progress
    latest = {p.name for p in res.latest.iterdir()}
    assert {"segmentation_study.ipynb", "segmentation_study.html", "metrics.json",
            "tiers.xlsx", "tier_summary.csv"} <= latest
    runs = [p for p in (res.out / "segmentation").iterdir() if re.fullmatch(r"\d{4}-.*", p.name)]
    assert runs  # the dated run folder is kept
    executed = nbformat.read(str(res.latest / "segmentation_study.ipynb"), as_version=4)
    assert not [o for c in executed.cells for o in c.get("outputs", [])
                if o.get("output_type") == "error"]


@pytest.mark.slow
def test_report_html_has_no_code_and_no_raw_contacts(segmentation_run, small_data):
    html = (segmentation_run.out / "segmentation.html").read_text(encoding="utf-8")
    executed = nbformat.read(str(segmentation_run.latest / "segmentation_study.ipynb"),
                             as_version=4)
    n_code = sum(c.cell_type == "code" for c in executed.cells)
    # markdown cells tagged remove_cell (notes and section marks for the notebook's readers)
    # are left out of the report
    n_markdown = sum(c.cell_type == "markdown" and "remove_cell" not in c.metadata.get("tags", [])
                     for c in executed.cells)
    assert html.count('class="jp-Cell jp-CodeCell jp-Notebook-cell jp-mod-noInput') + \
        html.count('class="jp-Cell jp-CodeCell jp-Notebook-cell jp-mod-noOutputs jp-mod-noInput') \
        == n_code
    assert 'class="jp-InputPrompt' not in html and "In&nbsp;[" not in html
    # only markdown cells keep an input area (their text)
    assert html.count('class="jp-InputArea') == n_markdown
    for snippet in ("study.load_study_data(", "tl.rfm(", "export_tier_table(", "import "):
        assert snippet not in html
    # contacts: none of the customers' phone numbers or e-mail addresses appear
    customers = small_data.raw_customers
    assert not [p for p in customers["phone"].dropna() if p in html]
    assert not [e for e in customers["email"].dropna() if e in html]
    assert re.search(r"138\*\*\*\*\d{4}", html)  # the masked table is shown
    assert "data quality" in html.lower() and "Tier management table" in html


@pytest.mark.slow
def test_failed_run_exit_1_keeps_last_good_report(segmentation_run, run_cli, small_data):
    res = segmentation_run
    assert res.code == 0
    html = res.out / "segmentation.html"
    before_html = html.read_bytes()
    before_latest = {p.name: p.read_bytes() for p in res.latest.iterdir()}
    missing = small_data.dir / "no_such_export.csv"
    failed = run_cli(["report", "segmentation", "-f", str(res.params), "-p", "transactions",
                      str(missing), "--out", str(res.out)])
    assert failed.code == 1
    assert "FAILED" in failed.stderr and "DataError" in failed.stderr
    assert "does not exist" in failed.stderr and "left in place" in failed.stderr
    assert failed.stdout == ""
    assert html.read_bytes() == before_html
    assert {p.name: p.read_bytes() for p in res.latest.iterdir()} == before_latest
    failed_dirs = list((res.out / "segmentation").glob("*_failed"))
    assert len(failed_dirs) == 1
    nb = nbformat.read(str(failed_dirs[0] / "segmentation_study.ipynb"), as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "DataError"
    metrics = json.loads((res.latest / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["parameters"]["transactions"] == str(small_data.transactions)


# ------------------------------------------------------------------------------------- robustness
def _crashing_schemes(folder: Path) -> list[Path]:
    """Schemes the loader did not foresee (a list where a word belongs)."""
    base = ("name: x\nreview: {review}\ntiers:\n  - name: Low\n  - name: High\n"
            "    when: {{metric: {metric}, window: 1M, op: '>=', value: 1}}\n")
    files = []
    for i, (review, metric) in enumerate([("[monthly]", "spend"), ("monthly", "[spend]")]):
        path = folder / f"odd{i}.yaml"
        path.write_text(base.format(review=review, metric=metric), encoding="utf-8")
        files.append(path)
    return files


def test_check_scheme_goes_on_after_a_file_that_fails(run_cli, tmp_path):
    odd0, odd1 = _crashing_schemes(tmp_path)
    good = [str(RULES / "monthly_spend.yaml"), str(RULES / "hotel_loyalty.yaml")]
    res = run_cli(["check-scheme", str(odd0), good[0], str(odd1), good[1]])
    assert res.code == 1
    lines = res.stdout.splitlines()
    assert [ln.split(": ")[0] for ln in lines] == [str(odd0), good[0], str(odd1), good[1]]
    assert lines[0].startswith(f"{odd0}: ERROR: ") and lines[2].startswith(f"{odd1}: ERROR: ")
    assert ": OK" in lines[1] and ": OK" in lines[3]
    assert "Traceback" not in res.stdout + res.stderr


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(small_data, tmp_path,
                                                                         monkeypatch, capsys):
    # Every input a user can give is now validated, so a bug is injected where one could hide:
    # the engine raising something tierlab does not foresee.
    def bug(self, *args, **kwargs):
        raise RuntimeError("injected engine bug")

    monkeypatch.setattr(TierScheme, "run", bug)
    monkeypatch.delenv("TIERLAB_DEBUG", raising=False)
    args = ["tiers", str(small_data.transactions), "--scheme", str(RULES / "monthly_spend.yaml"),
            "--out", str(tmp_path / "t.csv")]
    assert main(args) == 1
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if "error" in line]  # besides progress lines
    assert out == "" and len(errors) == 1 and "Traceback" not in err
    assert "unexpected RuntimeError" in errors[0] and "injected engine bug" in errors[0]
    assert "--debug" in err and "TIERLAB_DEBUG=1" in err
    for extra, debug_env in (([], "1"), (["--debug"], "")):
        monkeypatch.setenv("TIERLAB_DEBUG", debug_env)
        with pytest.raises(RuntimeError, match="injected engine bug"):  # the traceback shows
            main(args + extra)



def test_as_of_that_is_not_a_date_is_a_clean_usage_error(small_data, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["tiers", str(small_data.transactions), "--scheme",
              str(RULES / "monthly_spend.yaml"), "--as-of", "notadate", "--out",
              str(tmp_path / "t.csv")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "'notadate' is not a date; write it as YYYY-MM-DD" in err and "Traceback" not in err


def _renamed_export(small_data, tmp_path) -> Path:
    raw = pd.read_csv(small_data.transactions, dtype=str)
    src = tmp_path / "export.csv"
    pd.DataFrame({"客户ID": raw["customer_id"], "日子": raw["timestamp"],
                  "dollar_value": raw["amount"]}).to_csv(src, index=False)
    return src


@pytest.mark.parametrize("columns", [
    ["--columns", "customer_id=客户ID,timestamp=日子,amount=dollar_value"],
    ["--columns", "customer_id=客户ID", "--columns", "timestamp=日子,amount=dollar_value"],
    ["--columns", "customer_id=客户ID", "timestamp=日子", "amount=dollar_value"],  # old form
], ids=["one-argument", "repeated", "old-list"])
def test_columns_never_swallow_the_file_after_them(run_cli, small_data, tmp_path, columns):
    src = _renamed_export(small_data, tmp_path)
    out = tmp_path / "t.csv"
    # the transaction file right after the mapping
    res = run_cli(["tiers", *columns, str(src), "--scheme", str(RULES / "monthly_spend.yaml"),
                   "--out", str(out)])
    assert res.code == 0, res.stderr
    hist, _ = _hist(small_data)
    assert sorted(pd.read_csv(out, dtype=str, encoding="utf-8-sig")["customer_id"]) == \
        sorted(hist.customer_ids)
    # check-scheme: the scheme file right after the mapping
    res = run_cli(["check-scheme", "--transactions", str(src), *columns,
                   str(RULES / "hotel_loyalty.yaml")])
    assert res.code == 0, res.stderr
    assert "hotel_loyalty.yaml: OK" in res.stdout


def test_missing_column_error_gives_the_command_line_form(run_cli, small_data, tmp_path):
    src = _renamed_export(small_data, tmp_path)
    res = run_cli(["tiers", str(src), "--columns", "customer_id=客户ID,timestamp=日子",
                   "--scheme", str(RULES / "monthly_spend.yaml"), "--out",
                   str(tmp_path / "t.csv")])
    assert res.code == 1
    assert "required column 'amount' not found" in res.stderr
    assert "--columns amount=dollar_value" in res.stderr  # the one column left over
    assert "columns={" not in res.stderr
    # a mapped header that is not there: the closest, as an option
    res = run_cli(["tiers", str(src), "--columns",
                   "customer_id=客户ID,timestamp=日子,amount=dolar_value", "--scheme",
                   str(RULES / "monthly_spend.yaml"), "--out", str(tmp_path / "t.csv")])
    assert res.code == 1 and "--columns amount=dollar_value" in res.stderr


def test_out_under_a_file_says_which_part_is_a_file(run_cli, small_data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    res = run_cli(["tiers", str(small_data.transactions), "--scheme",
                   str(RULES / "monthly_spend.yaml"), "--out", str(blocker / "x.xlsx")])
    assert res.code == 2
    assert f"{str(blocker)!r} is a file, not a folder" in res.stderr
    assert "File exists" not in res.stderr
    assert blocker.read_text(encoding="utf-8") == "not a folder"
    res = run_cli(["report", "segmentation", "--out", str(blocker)])
    assert res.code == 2 and "is a file, not a folder" in res.stderr


@pytest.mark.slow
def test_report_note_for_the_other_reports_parameter_is_one_stderr_line(run_cli, tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('x: int = 1\nout_dir: str = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(x)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, str(path))
    res = run_cli(["report", str(path), "-q", "-p", "x", "2", "-y", "{schemes: [a.yaml]}",
                   "--out", str(tmp_path / "reports")])
    assert res.code == 0, res.stderr
    assert res.stderr.splitlines() == [
        "tierlab report: note: tiny.ipynb: parameter 'schemes' is for the impact report; "
        "left out here"]


def test_tiers_on_a_dataset_directory_in_chinese(tmp_path, capsys):
    """--lang zh on a dataset: the parts and tiers.xlsx carry the Chinese reasons of a run."""
    import openpyxl

    import tierlab as tl
    from tierlab.io.dataset import write_dataset

    tx, _ = tl.generate(120, months=6, seed=8)
    write_dataset(tx, tmp_path / "ds", partitions=3)
    rules = RULES / "monthly_spend.yaml"
    out = tmp_path / "out"
    code = main(["tiers", str(tmp_path / "ds"), "--scheme", str(rules), "--out", str(out),
                 "--lang", "zh", "--workers", "1"])
    assert code == 0, capsys.readouterr().err
    current = pd.concat(pd.read_parquet(p) for p in sorted((out / "current").glob("*.parquet")))
    expected = TierScheme.from_yaml(rules).run(tx).current_in("zh")
    assert current["reason"].sort_index().tolist() == expected["reason"].sort_index().tolist()
    book = openpyxl.load_workbook(out / "tiers.xlsx")
    assert book.sheetnames == ["客户等级", "等级汇总", "变动历史"]
