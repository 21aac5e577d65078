"""Notification lists after a review: who changed, why, in the customer's language, masked."""

from __future__ import annotations

import pandas as pd
import pytest
from review_frames import first_review, next_review

from tierlab.errors import ArgumentError
from tierlab.register import Register

IDS = ["C1", "C2", "C3"]
CUSTOMERS = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3"], "name": ["An", "Bo", "Cy"],
    "phone": ["13812345678", None, "13900001234"],
    "email": ["an@example.com", "bo@example.com", None],
    "lang": ["zh", "en", None],
})


@pytest.fixture
def reg(target, scheme) -> Register:
    r = Register(target)
    s1, c1 = first_review(IDS, ["Low", "Mid", "High"])
    r.commit_review("2025-01-31", scheme, s1, c1, data_fingerprint="d1")
    s2, c2 = next_review(s1, {"C1": "Mid", "C3": "Mid"}, "2025-02-28")
    r.commit_review("2025-02-28", scheme, s2, c2, data_fingerprint="d2")
    return r


def test_the_list_names_each_change_in_the_customers_language(reg):
    out = reg.notification_list(customers=CUSTOMERS, lang="en")
    assert out.columns.tolist() == ["customer_id", "name", "contact", "lang", "review",
                                    "from_tier", "to_tier", "label", "direction", "rule",
                                    "reason"]
    assert out["customer_id"].tolist() == ["C1", "C3"]  # only those who changed in Feb
    assert out["contact"].tolist() == ["138****5678 / a***@example.com", "139****1234"]
    assert out["lang"].tolist() == ["zh", "en"]  # C3 has no language: the default
    assert out["reason"].tolist() == ["2025-02-28 调整", "moved on 2025-02-28"]
    assert out["label"].tolist() == ["银卡", "银卡"]
    assert out["direction"].astype(str).tolist() == ["up", "down"]
    zh = reg.notification_list(customers=CUSTOMERS.drop(columns="lang"), lang="zh")
    assert zh["reason"].tolist() == ["2025-02-28 调整"] * 2


def test_contacts_are_shown_only_when_asked(reg):
    out = reg.notification_list(customers=CUSTOMERS, mask_contacts=False)
    assert out["contact"].iloc[0] == "13812345678 / an@example.com"
    bare = reg.notification_list()  # no customer table: ids and reasons only
    assert bare["name"].isna().all() and bare["contact"].isna().all()


def test_an_earlier_review_and_its_entries(reg):
    out = reg.notification_list("2025-01-31", customers=CUSTOMERS)
    # highest new tier first, then id
    assert out["customer_id"].tolist() == ["C3", "C2", "C1"]
    assert out["direction"].astype(str).tolist() == ["new"] * 3


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export(reg, tmp_path, suffix):
    path = reg.export_notifications(tmp_path / "out" / f"notify{suffix}", customers=CUSTOMERS,
                                    lang="zh")
    back = (pd.read_csv(path, encoding="utf-8-sig") if suffix == ".csv"
            else pd.read_excel(path))
    assert back["customer_id"].tolist() == ["C1", "C3"]
    assert back["reason"].tolist() == ["2025-02-28 调整"] * 2
    assert "13812345678" not in path.read_bytes().decode("utf-8", "ignore")
    assert str(back["review"].iloc[0])[:10] == "2025-02-28"


def test_bad_arguments(reg, tmp_path):
    with pytest.raises(ArgumentError, match="lang='fr'"):
        reg.notification_list(lang="fr")
    with pytest.raises(ArgumentError, match=r"\.csv or \.xlsx"):
        reg.export_notifications(tmp_path / "x.txt")
    with pytest.raises(Exception, match="no committed review on 2025-03-31"):
        reg.notification_list("2025-03-31")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_names_that_look_like_formulas_stay_text(reg, tmp_path, suffix):
    customers = CUSTOMERS.assign(name=['=HYPERLINK("http://x","y")', "+1-2", "@SUM(A1)"])
    path = reg.export_notifications(tmp_path / f"n{suffix}", customers=customers)
    if suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    else:
        import openpyxl

        ws = openpyxl.load_workbook(path).active
        cells = [c for row in ws.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
        assert '=HYPERLINK("http://x","y")' in [c.value for c in cells]
