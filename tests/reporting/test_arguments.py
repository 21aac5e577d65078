"""tierlab.reporting.arguments: option values and errors said the command-line way."""

from __future__ import annotations

import argparse
import errno

import pytest

from tierlab.reporting.arguments import (
    cli_column_message,
    column_pairs,
    os_error_text,
    out_path_problem,
    seconds,
    split_column_lists,
)

KNOWN = {"customer_id": ("cust_id",), "timestamp": ("date",), "amount": ("spend",)}


def test_column_pairs_split_only_before_a_name():
    assert column_pairs("customer_id=客户ID, amount=消费,金额") == [
        ("customer_id", "客户ID"), ("amount", "消费,金额")]  # a header may hold a comma
    for bad in ("customer_id", "=x", "amount=", "amount= ,timestamp=date"):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=HEADER"):
            column_pairs(bad)


def test_old_space_separated_lists_become_repeated_options():
    argv = ["tiers", "--columns", "a=1", "b=2", "x.csv", "--customer-columns=c=3", "d=4",
            "--out", "o.csv", "--", "e=5"]
    assert split_column_lists(argv) == [
        "tiers", "--columns", "a=1", "--columns", "b=2", "x.csv", "--customer-columns=c=3",
        "--customer-columns", "d=4", "--out", "o.csv", "--", "e=5"]
    assert split_column_lists(["--columns", "data/a=b.csv"]) == ["--columns", "data/a=b.csv"]


@pytest.mark.parametrize(("text", "ok"), [("0", 0.0), ("2.5", 2.5), ("-1", None),
                                          ("soon", None), ("nan", None), ("inf", None)])
def test_seconds(text, ok):
    if ok is None:
        with pytest.raises(argparse.ArgumentTypeError, match="not a number of seconds"):
            seconds(text)
    else:
        assert seconds(text) == ok


def test_missing_column_message_suggests_a_header():
    msg = ("'x.csv': required column 'amount' not found. Columns present: 'cust_id', 'date', "
           "'sum in RMB', 'note'. Map it with columns={'amount': '<header in the file>'}")
    # two columns nobody claims: the closest by name is not clear, so both are offered
    assert cli_column_message(msg, "--columns", {}, KNOWN).endswith(
        "Map it: add --columns amount=HEADER (HEADER: one of 'sum in RMB', 'note')")
    # one left over once the user's mapping is counted; quoted for the shell
    assert cli_column_message(msg, "--columns", {"customer_id": "note"}, KNOWN).endswith(
        "Map it: add --columns 'amount=sum in RMB'")
    near = msg.replace("not found.", "not found (did you mean 'amount_'?).")
    assert cli_column_message(near, "--customer-columns", {}, KNOWN).endswith(
        "add --customer-columns amount=amount_")
    assert cli_column_message("'x.csv': columns= has an unknown canonical name 'amout'",
                              "--columns", {}, KNOWN) == \
        "'x.csv': --columns has an unknown canonical name 'amout'"
    assert cli_column_message("something else", "--columns", {}, KNOWN) == "something else"


def test_out_path_problems(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert "is a file, not a folder" in str(out_path_problem(blocker / "a" / "t.xlsx",
                                                             folder=False))
    assert "is a folder; give a file name" in str(out_path_problem(tmp_path, folder=False))
    assert "is a file, not a folder" in str(out_path_problem(blocker, folder=True))
    assert out_path_problem(tmp_path / "new" / "t.xlsx", folder=False) is None
    assert out_path_problem(tmp_path / "reports", folder=True) is None
    err = OSError(errno.ENOTDIR, "Not a directory", str(blocker / "t.xlsx"))
    assert os_error_text(err) == f"{str(blocker / 't.xlsx')!r}: a part of the path is a file, " \
        "not a folder"
