"""The study notebooks: committed clean and in sync, and what they write when run on small data."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pandas as pd
import papermill
import pytest

import tierlab as tl
from tierlab.reporting.parameters import NOTEBOOKS, notebook_parameters

ROOT = Path(__file__).resolve().parents[2]
NB_DIR = ROOT / "notebooks"
RULES = ROOT / "data" / "rules"
COMMON = {"transactions", "columns", "date_format", "customers", "as_of", "out_dir"}
FIXED = {"segmentation": COMMON | {"scheme"}, "impact": COMMON | {"schemes"},
         "explore": COMMON | {"scheme"}}


def _code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def _parameters_cell(nb):
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    return cells[0]


# ------------------------------------------------------------------------------------- committed
@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebook_stripped_and_paired(name):
    path = NB_DIR / NOTEBOOKS[name]
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    for cell in nb.cells:
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    paired = jupytext.read(path.with_suffix(".py"))
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in paired.cells] == \
        [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells], \
        f"{path.name} and its .py differ: run `jupytext --sync {path}`"


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_parameters_cell(name):
    path = NB_DIR / NOTEBOOKS[name]
    nb = nbformat.read(str(path), as_version=4)
    cell = _parameters_cell(nb)
    assigned = {t.id for node in ast.parse(cell.source).body
                if isinstance(node, ast.AnnAssign | ast.Assign)
                for t in ([node.target] if isinstance(node, ast.AnnAssign) else node.targets)}
    inspected = notebook_parameters(path)
    # papermill's inspection silently skips lines it cannot read (e.g. `X | None`
    # annotations or an "=" in a comment); every parameter must be visible to it
    assert set(inspected) == assigned
    assert FIXED[name] <= assigned
    for p in inspected.values():
        assert p["inferred_type_name"] != "None", f"{p['name']} has no type annotation"
        assert p["help"], f"{p['name']} has no comment"


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebooks_hold_no_logic(name):
    nb = nbformat.read(str(NB_DIR / NOTEBOOKS[name]), as_version=4)
    for cell in _code(nb):
        tree = ast.parse(cell.source)
        assert not [n for n in ast.walk(tree)
                    if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda | ast.While)]
        # no loops over rows or customers: the only loops run over schemes, plots or columns
        for loop in (n for n in ast.walk(tree) if isinstance(n, ast.For)):
            assert "iterrows" not in ast.unparse(loop.iter) and "tx" not in ast.unparse(loop.iter)


# ------------------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def small(small_data):
    tx = tl.load_transactions(small_data.transactions).transactions
    customers = tl.load_customers(small_data.customers).customers
    return tx, customers


def _run(name: str, tmp_path: Path, params: dict) -> dict:
    """Run a notebook with papermill from a foreign working directory; return metrics.json.

    A cell that gets no reply from the kernel within 5 minutes (each takes seconds) fails the
    run instead of hanging the suite; such a lost reply is retried once with a fresh kernel.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    out = tmp_path / "out"
    for attempt in (1, 2):
        try:
            papermill.execute_notebook(
                str(NB_DIR / NOTEBOOKS[name]), str(tmp_path / "run.ipynb"),
                parameters={**params, "out_dir": str(out)}, kernel_name="python3",
                cwd=str(tmp_path), progress_bar=False, execution_timeout=300)
            break
        except (CellTimeoutError, DeadKernelError):
            if attempt == 2:
                raise
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_segmentation_metrics_match_the_package(segmentation_run, small_data, small):
    assert segmentation_run.code == 0, segmentation_run.stderr
    m = json.loads((segmentation_run.latest / "metrics.json").read_text(encoding="utf-8"))
    tx, customers = small
    raw = pd.read_csv(small_data.transactions, dtype=str)

    # data quality: against the loader, and the row count against the file itself
    res = tl.load_transactions(small_data.transactions)
    assert m["data"]["transactions"]["rows_in"] == len(raw)
    assert m["data"]["transactions"]["rows_rejected"] == len(res.rejected) > 0
    assert m["data"]["transactions"]["rejected_by_reason"] == res.summary["rejected_by_reason"]
    rejected = pd.read_csv(segmentation_run.latest / "rejected_by_reason.csv")
    assert rejected.set_index("reason")["rows"].to_dict() == res.summary["rejected_by_reason"]

    # RFM segments
    feats = tl.rfm(tx)
    segments = tl.assign_segments(tl.RFMScorer(bins=5).fit_transform(feats))
    assert m["rfm"]["customers"] == tx["customer_id"].nunique()
    assert m["rfm"]["segments"] == {str(k): int(v) for k, v in
                                    segments.value_counts(sort=False).items()}

    # clusters cover every customer
    assert sum(m["clusters"]["sizes"].values()) == len(feats)
    assert m["clusters"]["k"] == len(m["clusters"]["sizes"])

    # tiers: counts against the engine and an independent total
    scheme = tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml")
    hist = scheme.run(tx, customers=customers)
    counts = hist.current["tier"].value_counts()
    assert m["tiers"]["counts"] == {t: int(counts[t]) for t in scheme.tier_names}
    assert sum(m["tiers"]["counts"].values()) == tx["customer_id"].nunique()
    summary = pd.DataFrame(m["tiers"]["summary"]).set_index("tier")
    expected = tl.tier_summary(hist.current["tier"], tx, customers=customers)
    np.testing.assert_allclose(summary["revenue"], expected["revenue"])
    assert summary["revenue"].sum() == pytest.approx(tx["amount"].sum())
    assert m["reviews"]["count"] == 12 and m["reviews"]["last"] == "2024-12-31"

    # stability, migration, concentration
    st = tl.stability(hist)
    assert m["stability"]["changes"] == st.changes
    assert m["stability"]["flicker_rate"] == pytest.approx(st.flicker_rate)
    mig = tl.migration_matrix(hist.at(hist.reviews[-2]), hist.at(hist.reviews[-1]))
    got = pd.DataFrame(m["migration"]["matrix"]).set_index("from")
    assert got.loc["High", "High"] == mig.loc["High", "High"]
    assert got.to_numpy().sum() == mig.to_numpy().sum()
    conc = tl.concentration(feats["monetary_total"], tiers=hist.current["tier"])
    assert m["concentration"]["gini"] == pytest.approx(conc.gini)
    assert m["concentration"]["top_share"]["0.1"] == pytest.approx(conc.top_share[0.1])

    # holdout validity: cutoff three months before the last day, computed here directly
    cutoff = pd.Timestamp("2024-09-30")
    hh = scheme.run(tx, customers=customers, end=cutoff)
    v = tl.holdout_validity(hh.at(cutoff), tx, "2024-10-01", "2024-12-31")
    assert m["validity"]["start"].startswith("2024-10-01")
    assert m["validity"]["spearman"] == pytest.approx(v.spearman)
    assert m["validity"]["ordered"] == v.ordered

    # potential and flags
    assert m["potential"]["cutoff"] == "2024-09-30"
    models = pd.DataFrame(m["potential"]["models"]).set_index("model")
    assert set(models.index) == {"bgnbd", "supervised", "naive_last", "naive_average"}
    assert 0 <= m["potential"]["rising_stars"] <= counts["Low"]
    assert 0 <= m["potential"]["at_risk"] <= counts["High"]

    # tier × region
    region = pd.crosstab(hist.current["tier"],
                         customers.set_index("customer_id")["region"].reindex(hist.customer_ids))
    got = pd.DataFrame(m["cross"]["region"]).set_index("tier")
    assert got.loc["High", "local"] == region.loc["High", "local"]
    assert got.to_numpy().sum() == len(hist.customer_ids)

    # the tier table is written, masked
    assert "tiers.xlsx" in m["files"]
    table = pd.read_excel(segmentation_run.latest / "tiers.xlsx", dtype={"customer_id": str})
    assert len(table) == len(hist.customer_ids)
    assert not table["contact"].dropna().str.contains(r"\d{11}|c\d{5}@", regex=True).any()


@pytest.mark.slow
def test_impact_notebook(tmp_path, small_data, small):
    tx, customers = small
    m = _run("impact", tmp_path, {
        "transactions": str(small_data.transactions), "customers": str(small_data.customers),
        # relative scheme paths: found in the project root from a foreign working directory
        "schemes": ["data/rules/monthly_spend.yaml", "data/rules/monthly_spend_strict.yaml"],
        "holdout_months": 3, "sweep_values": [300.0, 500.0, 700.0], "top": 5,
    })
    schemes = {n: tl.TierScheme.from_yaml(RULES / f"{n}.yaml")
               for n in ("monthly_spend", "monthly_spend_strict")}
    cmp = tl.compare_schemes(schemes, tx, customers=customers, holdout_months=3, top=5)
    assert m["summary"] == cmp.summary_text()
    mv = m["movement"]["monthly_spend_strict"]
    assert (mv["up"], mv["down"], mv["unchanged"]) == tuple(
        int(cmp.movement.loc["monthly_spend_strict", k]) for k in ("up", "down", "unchanged"))
    # independent: the movement counts add up to the customers with a tier under both
    assert mv["up"] + mv["down"] + mv["unchanged"] == tx["customer_id"].nunique()
    assert len(m["affected"]) == 5
    assert m["sweep"]["path"] == "tiers[2].when.value" and m["sweep"]["current"] == 500
    sweep = pd.DataFrame(m["sweep"]["table"])
    expected = tl.threshold_sweep(schemes["monthly_spend"], "tiers[2].when.value",
                                  [300.0, 500.0, 700.0], tx, customers=customers)
    np.testing.assert_array_equal(sweep["customers"], expected["customers"])
    at_500 = sweep[sweep["value"] == 500.0].set_index("tier")["customers"]
    assert at_500.to_dict() == cmp.histories["monthly_spend"].current["tier"].value_counts() \
        .reindex(at_500.index).to_dict()
    assert (tmp_path / "out" / "affected.csv").exists()


@pytest.mark.slow
def test_explore_notebook_runs_headless(tmp_path, small_data, small):
    tx, customers = small
    m = _run("explore", tmp_path, {"transactions": str(small_data.transactions),
                                   "customers": str(small_data.customers),
                                   "as_of": "2024-10-31"})
    cut = tx[tx["timestamp"] < pd.Timestamp("2024-11-01")]
    scheme = tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml")
    hist = scheme.run(cut, customers=customers)
    summary = tl.tier_summary(hist.current["tier"], cut, customers=customers)
    got = pd.DataFrame(m["view"]["tiers"]).T
    assert got["customers"].astype(int).to_dict() == summary["customers"].to_dict()
    np.testing.assert_allclose(got["revenue_share"].astype(float), summary["revenue_share"])
    assert m["view"]["review"] == "2024-10-31"
    assert [t["path"] for t in m["thresholds"]] == ["tiers[1].when.value", "tiers[2].when.value"]
    executed = nbformat.read(str(tmp_path / "run.ipynb"), as_version=4)
    assert not [o for c in executed.cells for o in c.get("outputs", [])
                if o.get("output_type") == "error"]


def test_explorer_variants_change_tiers(small):
    from tierlab.explore import TierExplorer

    tx, customers = small
    scheme = tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml")
    app = TierExplorer(scheme, tx, customers=customers)
    base = app.view().summary["customers"]
    stricter = app.view({"tiers[2].when.value": 900.0}).summary["customers"]
    assert stricter["High"] < base["High"]
    assert stricter.sum() == base.sum()
    quarterly = app.view({"review": "quarterly", "policy.demote_after": 2})
    assert quarterly.scheme.review == "Q" and quarterly.scheme.policy.demote_after == 2
    assert len(quarterly.history.reviews) == 4
    assert scheme.review == "M"  # the original is unchanged
    controls = app.controls()
    assert set(controls) == set(app.settings())
    with pytest.raises(tl.SchemeError, match="unknown setting"):
        app.variant({"tiers[9].when.value": 1})


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_every_name_a_notebook_calls_exists(name):
    """``study.x``, ``tl.x`` and ``plots.x`` in the notebooks resolve (re-exports included)."""
    import tierlab.plots
    import tierlab.study

    modules = {"study": tierlab.study, "tl": tl, "plots": tierlab.plots}
    nb = nbformat.read(str(NB_DIR / NOTEBOOKS[name]), as_version=4)
    used = {(n.value.id, n.attr) for c in _code(nb) for n in ast.walk(ast.parse(c.source))
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id in modules}
    assert used  # the notebooks call into tierlab
    missing = [f"{mod}.{attr}" for mod, attr in sorted(used) if not hasattr(modules[mod], attr)]
    assert not missing
