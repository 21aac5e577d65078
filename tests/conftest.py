"""Shared test set-up: the hypothesis profile for CI, small data, one report run."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import settings

from tierlab.datasets import generate

# CI replays the same examples every run (a failure there is reproducible, never a fluke of
# the draw); local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "data" / "rules"


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    """300 customers × 12 months, messy like an export, written as CSV files."""
    folder = tmp_path_factory.mktemp("small_data")
    tx, customers = generate(300, months=12, seed=1, messy=True)
    paths = SimpleNamespace(dir=folder, transactions=folder / "transactions.csv",
                            customers=folder / "customers.csv", raw_customers=customers)
    tx.to_csv(paths.transactions, index=False)
    customers.to_csv(paths.customers, index=False)
    return paths


def _run_cli(args: list[str]) -> SimpleNamespace:
    """Run ``tierlab ARGS`` in-process; returns exit code, stdout and stderr."""
    from tierlab.reporting.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return SimpleNamespace(code=code, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.fixture(scope="session")
def run_cli():
    """``run_cli([...])`` runs ``tierlab ...`` in-process: ``.code``, ``.stdout``, ``.stderr``."""
    return _run_cli


@pytest.fixture(scope="session")
def segmentation_run(small_data, tmp_path_factory):
    """One ``tierlab report segmentation`` run on the small data (parameters from a file)."""
    folder = tmp_path_factory.mktemp("segmentation_report")
    params = folder / "params.yaml"
    params.write_text(yaml.safe_dump({
        "transactions": str(small_data.transactions),
        "customers": str(small_data.customers),
        "scheme": str(RULES / "monthly_spend.yaml"),
        "holdout_months": 3,  # 12 months of data: a 6-month holdout leaves too little to train
    }), encoding="utf-8")
    out = folder / "reports"
    result = _run_cli(["report", "segmentation", "-f", str(params), "--out", str(out)])
    result.out = out
    result.params = params
    result.latest = out / "segmentation" / "latest"
    return result
