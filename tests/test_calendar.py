"""tierlab.calendar: period keys, review words, day and month numbers, period ends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierlab.calendar import (
    DAY_NS,
    FREQS,
    REVIEWS,
    as_day,
    day_month_offsets,
    epoch_days,
    epoch_days32,
    freq_key,
    month_numbers,
    period_end,
    review_word,
)
from tierlab.errors import DataError, SchemeError

# 1969 (negative day numbers), a leap day, month and year ends, a late timestamp
STAMPS = pd.Series(pd.to_datetime([
    "1969-12-31 23:59:59", "1970-01-01", "2024-02-29 12:00", "2024-12-31 23:59:59.999",
    "2025-01-01", "2025-06-30 18:00", "2199-11-15",
], format="ISO8601"))


@pytest.mark.parametrize(("alias", "key"), [
    ("M", "M"), ("monthly", "M"), (" Month ", "M"), ("ME", "M"),
    ("q", "Q"), ("quarterly", "Q"), ("QE", "Q"),
    ("H", "H"), ("half-yearly", "H"), ("6M", "H"),
    ("Y", "Y"), ("A", "Y"), ("annual", "Y"), ("yearly", "Y"),
])
def test_freq_key_reads_aliases(alias, key):
    assert freq_key(alias) == key


def test_freq_key_rejects_unknown_frequencies():
    with pytest.raises(DataError, match="unknown period frequency 'fortnight'.*'Q'"):
        freq_key("fortnight")


def test_review_words_and_period_lengths_agree():
    assert FREQS == {"M": 1, "Q": 3, "H": 6, "Y": 12}
    assert REVIEWS == {"monthly": "M", "quarterly": "Q", "half-yearly": "H", "yearly": "Y"}
    for word, key in REVIEWS.items():
        assert review_word(key) == word
        assert freq_key(word) == key  # every review word is also a frequency alias


def test_as_day_is_midnight_and_names_the_argument():
    assert as_day("2025-03-04 17:30", "as_of") == pd.Timestamp("2025-03-04")
    with pytest.raises(DataError, match="as_of='someday' is not a date"):
        as_day("someday", "as_of")
    with pytest.raises(SchemeError, match="cutoff is missing"):
        as_day(None, "cutoff", error=SchemeError)


def test_day_numbers_count_whole_days_since_the_epoch():
    expected = [(t.normalize() - pd.Timestamp("1970-01-01")).days for t in STAMPS]
    assert epoch_days(STAMPS).tolist() == expected
    assert epoch_days32(STAMPS).tolist() == expected
    assert epoch_days(STAMPS).dtype == np.int64 and epoch_days32(STAMPS).dtype == np.int32
    assert DAY_NS == pd.Timedelta(days=1).value


def test_month_numbers_and_offsets():
    expected = [t.year * 12 + t.month - 1 for t in STAMPS]
    assert month_numbers(STAMPS).tolist() == expected
    offsets, first = day_month_offsets(epoch_days32(STAMPS))
    assert first == min(expected)
    assert (offsets + first).tolist() == expected
    day = epoch_days32(STAMPS)
    same, first_inplace = day_month_offsets(day, inplace=True)
    assert same is day and first_inplace == first  # int32 days are overwritten
    assert (day + first).tolist() == expected
    empty, _ = day_month_offsets(np.zeros(0, dtype=np.int32))
    assert empty.size == 0


@pytest.mark.parametrize(("freq", "ends"), [
    ("M", ["2024-01-31", "2024-02-29", "2024-11-30", "2024-12-31"]),
    ("Q", ["2024-03-31", "2024-03-31", "2024-12-31", "2024-12-31"]),
    ("half-yearly", ["2024-06-30", "2024-06-30", "2024-12-31", "2024-12-31"]),
    ("Y", ["2024-12-31"] * 4),
])
def test_period_end_is_the_last_day_of_the_containing_period(freq, ends):
    months = [2024 * 12 + m for m in (0, 1, 10, 11)]  # Jan, Feb, Nov, Dec 2024
    out = period_end(np.array(months), freq)
    assert out.dtype == "datetime64[ns]"
    assert out.strftime("%Y-%m-%d").tolist() == ends
