"""Tests for tierlab.io.masking: phone, e-mail and free-text masking, pseudonyms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierlab.datasets import generate
from tierlab.io.masking import (
    mask_contacts,
    mask_email,
    mask_phone,
    mask_text,
    pseudonymize_ids,
)


@pytest.fixture(scope="module")
def customers():
    _, customers = generate(300, months=12, seed=1)
    customers = customers.copy()
    customers.loc[0, "phone"] = "+86 139-1234-5678"
    customers.loc[1, "phone"] = "5551234"
    customers.loc[2, "phone"] = None
    customers.loc[3, "email"] = None
    return customers


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


# ------------------------------------------------------------------------------------- masking
@pytest.mark.parametrize(("raw", "masked"), [
    ("13812345678", "138****5678"),
    ("+86 138-1234-5678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("5551234", "****34"),
    ("12", "****"),
    ("", "****"),
], ids=["mobile", "country-code", "spaces", "short", "tiny", "empty"])
def test_mask_phone(raw, masked):
    assert mask_phone([raw]).tolist() == [masked]


@pytest.mark.parametrize(("raw", "masked"), [
    ("alice@example.com", "a***@example.com"),
    ("  b@x.cn ", "b***@x.cn"),
    ("c00042@example.com", "c***@example.com"),
    ("no-at-sign", "***"),
    ("@example.com", "***"),
], ids=["plain", "spaces", "sample", "no-at", "no-local"])
def test_mask_email(raw, masked):
    assert mask_email([raw]).tolist() == [masked]


def test_masking_keeps_missing_and_index():
    s = pd.Series(["13812345678", None, np.nan], index=["x", "y", "z"])
    out = mask_phone(s)
    assert list(out.index) == ["x", "y", "z"]
    assert out.iloc[0] == "138****5678" and out.iloc[1:].isna().all()
    assert mask_email(pd.Series([None], index=["q"])).isna().all()


def test_masking_matches_naive_rule_on_many_values():
    rng = np.random.default_rng(3)
    phones = ["".join(rng.choice(list("0123456789 -+"), size=int(n)))
              for n in rng.integers(0, 18, 500)]
    expected = [naive_mask_phone(p) for p in phones]
    assert mask_phone(phones).tolist() == expected


def test_mask_text_hides_digits_and_emails():
    out = mask_text(["call 139 1234 5678 after 18:00", "mail bob@example.com", "需开增值税专票",
                     None]).tolist()
    assert out[0] == "call **** after 18:00"
    assert out[1] == "mail b***@example.com"
    assert out[2] == "需开增值税专票"
    assert out[3] is None or pd.isna(out[3])


def test_mask_contacts_returns_a_new_frame(customers):
    before = customers.copy()
    masked = mask_contacts(customers)
    pd.testing.assert_frame_equal(customers, before)  # input untouched
    assert not masked["phone"].dropna().str.fullmatch(r"\d{11}").any()
    assert masked["email"].dropna().str.fullmatch(r"[^@]\*\*\*@.+|\*\*\*").all()


# ------------------------------------------------------------------------------------- pseudonyms
def test_pseudonyms_are_keyed_stable_and_unique():
    ids = pd.Series([f"C{i:06d}" for i in range(20_000)])
    a = pseudonymize_ids(ids, salt="secret")
    b = pseudonymize_ids(ids, salt="secret")
    c = pseudonymize_ids(ids, salt="other")
    pd.testing.assert_series_equal(a, b)
    assert a.str.fullmatch(r"P[0-9a-f]{16}").all()
    assert a.is_unique
    assert (a != c).all()
    assert pseudonymize_ids(ids[:3]).iloc[0] != pseudonymize_ids(ids[:3]).iloc[0]  # random salt
