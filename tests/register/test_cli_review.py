"""``tierlab review`` and ``tierlab tiers --register`` from the command line."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tierlab.register import Register
from tierlab.reporting.cli import main

SCHEME = """\
name: Spend
review: monthly
tiers:
  - name: Low
  - name: Mid
    when: {metric: spend, window: 1M, op: ">=", value: 100}
  - name: High
    when: {metric: spend, window: 1M, op: ">", value: 500}
"""


@pytest.fixture
def files(tmp_path, small_data):
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(SCHEME, encoding="utf-8")
    return {"tx": str(small_data.transactions), "scheme": str(scheme),
            "register": str(tmp_path / "reports" / "register.duckdb"), "tmp": tmp_path}


def review(files, *extra: str) -> list[str]:
    return ["review", files["tx"], "--scheme", files["scheme"], "--register",
            files["register"], *extra]


def test_review_commits_then_says_it_is_up_to_date(files, capsys):
    assert main(review(files, "--until", "2024-03-31")) == 0
    out = capsys.readouterr()
    assert "committed 3 reviews 2024-01-31 … 2024-03-31" in out.out
    assert "committed review 2024-02-29" in out.err
    assert main(review(files, "--until", "2024-03-31")) == 0
    assert "already committed; nothing to do" in capsys.readouterr().out
    assert Register(files["register"]).last_review() == pd.Timestamp("2024-03-31")


def test_dry_run_prints_the_changes_as_csv_and_writes_nothing(files, capsys):
    assert main(review(files, "--until", "2024-02-29")) == 0
    capsys.readouterr()
    assert main(review(files, "--until", "2024-04-30", "--dry-run")) == 0
    out = capsys.readouterr().out
    first, table = out.split("\n", 1)
    assert "would commit 2 reviews" in first
    changes = pd.read_csv(io.StringIO(table))
    assert changes.columns.tolist() == ["review", "customer_id", "from_tier", "to_tier",
                                        "rule", "reason"]
    assert set(changes["review"]) <= {"2024-03-31", "2024-04-30"} and len(changes)
    assert Register(files["register"]).last_review() == pd.Timestamp("2024-02-29")


def test_rebuild_writes_a_new_register(files, capsys):
    assert main(review(files, "--until", "2024-02-29")) == 0
    new = files["tmp"] / "new.duckdb"
    assert main(review(files, "--until", "2024-03-31", "--rebuild", str(new))) == 0
    assert Register(new).last_review() == pd.Timestamp("2024-03-31")
    assert Register(files["register"]).last_review() == pd.Timestamp("2024-02-29")
    assert main(review(files, "--rebuild", str(new), "--dry-run")) == 2


def test_refusals_exit_1_with_the_reason(files, capsys):
    assert main(review(files, "--until", "2024-02-29")) == 0
    other = files["tmp"] / "other.yaml"
    other.write_text(SCHEME.replace("High", "Gold"), encoding="utf-8")
    capsys.readouterr()
    code = main(["review", files["tx"], "--scheme", str(other), "--register",
                 files["register"]])
    err = capsys.readouterr().err
    assert code == 1 and "does not have" in err and "--rebuild" in err
    assert main(review(files, "--until", "not-a-date")) == 2


def test_tiers_from_the_register(files, capsys, tmp_path):
    assert main(review(files, "--until", "2024-04-30")) == 0
    capsys.readouterr()
    out = tmp_path / "tiers.csv"
    assert main(["tiers", "--register", files["register"], "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith("tiers.csv")
    table = pd.read_csv(out, encoding="utf-8-sig")
    current = Register(files["register"]).current()
    assert len(table) == len(current)
    for wrong in (["tiers", "--out", str(out)],                          # neither
                  ["tiers", files["tx"], "--register", files["register"], "--out", str(out)],
                  ["tiers", files["tx"], "--out", str(out)]):                # no --scheme
        with pytest.raises(SystemExit) as info:
            main(wrong)
        assert info.value.code == 2


def test_tiers_from_the_register_in_chinese(files, capsys, tmp_path):
    """--lang zh: Chinese headers, and the Chinese reasons the register committed."""
    assert main(review(files, "--until", "2024-04-30")) == 0
    capsys.readouterr()
    out = tmp_path / "tiers.csv"
    assert main(["tiers", "--register", files["register"], "--out", str(out),
                 "--lang", "zh"]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert "customer_id" not in table.columns and "reason" not in table.columns
    current = Register(files["register"]).current("zh")
    reasons = table["原因"]
    assert set(reasons.dropna()) == set(current["reason"].dropna())
    assert reasons.str.contains("[\u4e00-\u9fff]", regex=True).any()
    changes = pd.read_csv(tmp_path / "tiers_changes.csv", encoding="utf-8-sig", dtype=str)
    committed = Register(files["register"]).changes("zh")
    assert len(changes) == len(committed)
    assert set(changes.iloc[:, -1]) == set(committed["reason"])
