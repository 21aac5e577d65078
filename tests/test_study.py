"""tierlab.study: the notebook recipes against plain pandas computations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import tierlab as tl
from tierlab import study
from tierlab.errors import ArgumentError

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "data" / "rules"


@pytest.fixture(scope="module")
def small(small_data):
    tx = tl.load_transactions(small_data.transactions).transactions
    customers = tl.load_customers(small_data.customers).customers
    return tx, customers


# ------------------------------------------------------------------------------------- inputs
def test_load_study_data_cuts_at_as_of(small_data):
    data = study.load_study_data(small_data.transactions, customers=small_data.customers,
                                 as_of="2024-06-30")
    full = pd.read_csv(small_data.transactions, dtype=str)
    stamps = pd.to_datetime(full["timestamp"], errors="coerce", format="mixed")
    assert data.as_of == pd.Timestamp("2024-06-30")
    assert data.transactions["timestamp"].max() < pd.Timestamp("2024-07-01")
    # every accepted row up to the end of 30 June is kept, none after it
    assert len(data.transactions) == len(data.load.transactions) - int(
        (data.load.transactions["timestamp"] >= pd.Timestamp("2024-07-01")).sum())
    assert (stamps >= pd.Timestamp("2024-07-01")).sum() > 0  # the file does go on
    assert data.customers is not None and len(data.customers) > 0
    q = data.quality()
    assert q["as_of"] == "2024-06-30" and q["rows_used"] == len(data.transactions)
    assert q["rows_after_as_of"] == len(data.load.transactions) - len(data.transactions) > 0
    assert q["customers"]["rows_in"] == len(pd.read_csv(small_data.customers))


def test_load_study_data_defaults_to_the_last_day(small_data):
    data = study.load_study_data(small_data.transactions, as_of="  ", customers="")
    assert data.as_of == data.load.transactions["timestamp"].max().normalize()
    assert len(data.transactions) == len(data.load.transactions)
    assert data.customers is None and "customers" not in data.quality()


def test_load_study_data_bad_as_of(small_data):
    with pytest.raises(ArgumentError, match="as_of: 'mid-year' is not a date"):
        study.load_study_data(small_data.transactions, as_of="mid-year")
    with pytest.raises(tl.DataError, match="before the first transaction"):
        study.load_study_data(small_data.transactions, as_of="1999-01-01")


def test_rejected_by_reason(small_data):
    res = tl.load_transactions(small_data.transactions)
    table = study.rejected_by_reason(res)
    assert table.set_index("reason")["rows"].to_dict() == \
        res.rejected["reason"].value_counts().to_dict()
    assert table["rows"].sum() == res.summary["rows_rejected"]
    assert list(table["rows"]) == sorted(table["rows"], reverse=True)
    first = table.iloc[0]
    examples = res.rejected.loc[res.rejected["reason"] == first["reason"], "source_row"].head(5)
    assert first["example_rows"] == ", ".join(str(r) for r in examples)
    assert first["share"] == pytest.approx(first["rows"] / res.summary["rows_in"])


# ------------------------------------------------------------------------------------- steps
def test_study_tables_against_plain_computations(small):
    tx, customers = small
    hist = tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml").run(tx, customers=customers)
    counts = study.tier_counts(hist)
    for review in hist.reviews[::4]:  # a plain count per review as the reference
        col = hist.tiers[review]
        assert counts.loc[review].to_dict() == {t: int((col == t).sum())
                                                for t in hist.scheme.tier_names}
    feats = tl.rfm(tx)
    segments = tl.assign_segments(tl.RFMScorer().fit_transform(feats))
    table = study.segment_table(segments, feats)
    for seg in segments.cat.categories[:4]:
        members = feats[segments == seg]
        assert table.loc[seg, "customers"] == len(members)
        assert table.loc[seg, "revenue"] == pytest.approx(members["monetary_total"].sum())
    assert table["share"].sum() == pytest.approx(1.0)
    cross = study.tier_crosstab(hist.current["tier"], customers, "region",
                                revenue=feats["monetary_total"])
    region = customers.set_index("customer_id")["region"].reindex(hist.customer_ids)
    expected = pd.crosstab(hist.current["tier"], region)
    for tier in hist.scheme.tier_names:
        assert cross.loc[tier, ("customers", "local")] == expected.loc[tier, "local"]
    assert list(cross.index) == hist.scheme.tier_names[::-1]
    assert cross["revenue_share"].to_numpy().sum() == pytest.approx(1.0)
    with pytest.raises(tl.DataError, match="no column 'regio'"):
        study.tier_crosstab(hist.current["tier"], customers, "regio")


# ------------------------------------------------------------------------------------- helpers
@pytest.mark.parametrize(("as_of", "months", "cutoff"), [
    ("2025-06-30", 6, "2024-12-31"), ("2025-12-31", 6, "2025-06-30"),
    ("2025-02-28", 3, "2024-11-30"), ("2025-06-15", 6, "2024-12-15"),
], ids=["june-end", "december-end", "february-end", "mid-month"])
def test_holdout_cutoff(as_of, months, cutoff):
    tx = pd.DataFrame({"timestamp": pd.to_datetime(["2020-01-01"])})
    assert study.holdout_cutoff(tx, as_of, months) == pd.Timestamp(cutoff)


def test_holdout_cutoff_errors():
    tx = pd.DataFrame({"timestamp": pd.to_datetime(["2025-01-15"])})
    with pytest.raises(tl.DataError, match="shorter holdout"):
        study.holdout_cutoff(tx, "2025-03-31", 6)
    with pytest.raises(ValueError, match="whole number"):  # a bad argument
        study.holdout_cutoff(tx, "2025-03-31", 0)


def test_scheme_names():
    assert study.scheme_names(["a/x.yaml", "b/y.yaml", "c/x.yaml"]) == ["x_1", "y", "x_3"]
    assert study.scheme_names([RULES / "monthly_spend.yaml"]) == ["monthly_spend"]


def test_sample_customers_only_with_the_sample_transactions(small_data):
    sample = "data/sample/customers.csv"
    foreign = study.load_study_data(small_data.transactions, customers=sample)
    assert foreign.customers is None and foreign.sample_customers_skipped
    own = study.load_study_data(small_data.transactions, customers=small_data.customers)
    assert own.customers is not None and not own.sample_customers_skipped
    both = study.load_study_data("data/sample/transactions.csv", customers=sample)
    assert both.customers is not None and not both.sample_customers_skipped


def test_score_ranges_and_scheme_table_for_people(small):
    tx, _ = small
    scorer = tl.RFMScorer(bins=5).fit(tl.rfm(tx))
    ranges = study.score_ranges(scorer)
    assert not ranges["range"].str.contains("inf").any()
    assert ranges["range"].iloc[0].startswith((">", "≤"))
    assert ranges["customers"].sum() == 3 * len(tl.rfm(tx))
    dims = set(study.score_ranges(scorer, "zh")["dimension"])
    assert dims == {"最近购买时间", "订单数", "消费金额"}
    table = study.scheme_table(tl.TierScheme.from_yaml("data/rules/monthly_spend.yaml"), "zh")
    assert table["condition"].tolist()[:2] == ["消费高于500元", "消费不低于100元"]


@pytest.mark.parametrize("rules", sorted(p.name for p in RULES.glob("*.yaml")))
def test_tier_validity_reuses_the_full_run_at_the_cutoff(small, rules):
    """The full run's tiers at a cutoff review equal a run that ends at the cutoff."""
    tx, customers = small
    scheme = tl.TierScheme.from_yaml(RULES / rules)
    history = scheme.run(tx, customers=customers)
    as_of = pd.Timestamp(tx["timestamp"].max()).normalize()
    checked = 0
    for months in (1, 3, 5, 6):
        cutoff = study.holdout_cutoff(tx, as_of, months)
        if cutoff not in history.reviews:  # not reused (e.g. yearly reviews)
            continue
        checked += 1
        rerun = scheme.run(tx, customers=customers, end=cutoff).at(cutoff)
        pd.testing.assert_series_equal(history.at(cutoff).dropna(), rerun.dropna(),
                                       check_names=False)
        reused = study.tier_validity(scheme, tx, customers=customers, as_of=as_of,
                                     months=months, history=history)
        fresh = study.tier_validity(scheme, tx, customers=customers, as_of=as_of, months=months)
        pd.testing.assert_frame_equal(reused.per_tier, fresh.per_tier)
        assert reused.spearman == pytest.approx(fresh.spearman, nan_ok=True)
        assert (reused.start, reused.end) == (fresh.start, fresh.end)
    assert checked or scheme.review == "Y"


def test_tier_workbook_in_chinese_is_the_chinese_export(small, tmp_path):
    """export_tier_workbook(lang="zh") writes what export_tier_table(lang="zh") writes."""
    import openpyxl

    from tierlab.io.export import export_tier_table, tier_table

    tx, customers = small
    history = tl.TierScheme.from_yaml(RULES / "monthly_spend.yaml").run(tx, customers=customers)
    path = study.export_tier_workbook(history, customers, tmp_path / "tiers.xlsx", "zh")
    expected = export_tier_table(history, customers, tmp_path / "expected.xlsx", lang="zh")
    got, want = openpyxl.load_workbook(path), openpyxl.load_workbook(expected)
    assert got.sheetnames == want.sheetnames == ["客户等级", "等级汇总", "变动历史"]
    for name in got.sheetnames:
        rows = [[c.value for c in r] for r in got[name].iter_rows(max_row=50)]
        assert rows == [[c.value for c in r] for r in want[name].iter_rows(max_row=50)]
    headers = [c.value for c in got["客户等级"][1]]
    assert "customer_id" not in headers and "reason" not in headers
    table = study.tier_table_in(history, customers, "zh")
    pd.testing.assert_frame_equal(table, tier_table(history, customers, lang="zh"))
    assert table["reason"].str.contains("[\u4e00-\u9fff]", regex=True).any()
