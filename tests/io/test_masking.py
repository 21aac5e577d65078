"""Tests for tierlab.io.masking: phone, e-mail and free-text masking, pseudonyms."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize(("raw", "masked"), [
    ("tel 138.1234.5678 today", "tel **** today"),
    ("office +86 21 5555 1234", "office ****"),
    ("(021) 5555-1234 ext. 8", "**** ext. 8"),
    ("１３８１２３４５６７８", "****"),
    ("a@x.cn, b@y.cn and c.d@z.cn", "a***@x.cn, b***@y.cn and c***@z.cn"),
    ("13812345678@qq.com", "1***@qq.com"),
], ids=["dots", "spaces-country", "parens", "full-width", "three-emails", "digits-email"])
def test_mask_text_every_phone_and_email(raw, masked):
    assert mask_text([raw]).tolist() == [masked]


def test_mask_email_masks_every_address_in_the_cell():
    assert mask_email(["alice@x.cn; bob@y.cn", "a@x.cn, 138 1234 5678"]).tolist() == \
        ["a***@x.cn; b***@y.cn", "a***@x.cn, ****"]


def test_mask_contacts_covers_dotted_phones_and_second_emails():
    # mask_contacts is what notebooks use before showing a customer table (HTML reports)
    table = pd.DataFrame({"phone": ["138.1234.5678"], "email": ["a1@x.cn; b2@y.cn"],
                          "notes": ["call 139.8765.4321 or c3@z.cn, d4@w.cn"]})
    shown = mask_contacts(table).iloc[0].tolist()
    assert shown == ["138****5678", "a***@x.cn; b***@y.cn", "call **** or c***@z.cn, d***@w.cn"]


# text around the contacts: letters, CJK and punctuation; no digits and no '@', so that any
# digit or address left in the output can only come from the contact
_AROUND = st.text(alphabet="abcxyz ABC,;:!?()'\"客户电话邮箱 \n", max_size=12)
_SEPARATORS = st.sampled_from(["", " ", ".", "-", " - ", ". ", "/", "\u3000"])


@st.composite
def phones(draw) -> str:
    groups = draw(st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4),
                           min_size=2, max_size=5).filter(lambda g: len("".join(g)) >= 7))
    text = f"({groups[0]})" if draw(st.booleans()) else groups[0]  # an area code
    for g in groups[1:]:
        text += draw(_SEPARATORS) + g
    return "+" + text if draw(st.booleans()) else text


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_generated_phones_in_text_never_survive(data):
    numbers = data.draw(st.lists(phones(), min_size=1, max_size=3))
    text = data.draw(_AROUND)
    for number in numbers:
        text += " " + number + " " + data.draw(_AROUND)
    out = mask_text([text]).iloc[0]
    assert not re.search(r"[0-9]", out), (text, out)


def _masked(address: str) -> str:
    local, domain = address.rsplit("@", 1)
    return local[0] + "***@" + domain


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_generated_emails_in_text_never_survive(data):
    # every address, however many share the cell, becomes first character + ***@domain
    addresses = data.draw(st.lists(st.emails().filter(
        lambda a: len(re.findall(r"[0-9]", a.rsplit("@", 1)[1])) < 7), min_size=1, max_size=3))
    sep = data.draw(st.sampled_from([" ", ", ", "; ", " / ", "\n", " and "]))
    before, after = data.draw(_AROUND), data.draw(_AROUND)
    cell = sep.join(addresses)
    expected = sep.join(_masked(a) for a in addresses)
    assert mask_email([cell]).iloc[0] == expected.strip()
    assert mask_text([f"{before} {cell} {after}"]).iloc[0] == f"{before} {expected} {after}"


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
