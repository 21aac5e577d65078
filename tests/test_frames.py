"""tierlab.frames: the checks of transactions frames and required columns, and as_of."""

from __future__ import annotations

import pandas as pd
import pytest

from tierlab.errors import DataError
from tierlab.frames import check_transactions, observation_date, require_columns


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "b"],
                         "timestamp": pd.to_datetime(["2025-01-05 10:00", "2025-02-10 23:00"]),
                         "amount": [10.0, -2.0]})


def test_check_transactions_accepts_a_canonical_frame(tx):
    check_transactions(tx, "f")
    check_transactions(tx.iloc[:0], "f")


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.rename(columns={"amount": "amout"}),
     "f: the transactions frame lacks column 'amount' \\(did you mean 'amout'\\?\\)"),
    (lambda t: t.assign(timestamp=t["timestamp"].astype(str)), "'timestamp' must be datetime64"),
    (lambda t: t.assign(amount=t["amount"].astype(str)), "'amount' must be numeric"),
    (lambda t: t["amount"], "expected a transactions DataFrame, got Series"),
], ids=["missing", "text dates", "text amounts", "not a frame"])
def test_check_transactions_names_the_problem(tx, change, message):
    with pytest.raises(DataError, match=message):
        check_transactions(change(tx), "f")


def test_check_transactions_can_refuse_empty_frames(tx):
    with pytest.raises(DataError, match="g: the transactions frame is empty"):
        check_transactions(tx.iloc[:0], "g", allow_empty=False)


def test_require_columns():
    frame = pd.DataFrame({"frequency": [1.0], "recency": [2.0], "flag": [True], "name": ["x"]})
    require_columns(frame, ["frequency", "recency"], "f", numeric=["frequency"])
    with pytest.raises(DataError, match="f expects a frame with columns \\['frequency', 'T'\\]; "
                                        "column 'T' is missing.*frame has: frequency, recency"):
        require_columns(frame, ["frequency", "T"], "f")
    with pytest.raises(DataError, match="f expects a BTYD summary; column 'recenc' is missing "
                                        "\\(did you mean 'recency'\\?\\)"):
        require_columns(frame, ["recenc"], "f", "a BTYD summary")
    for col in ("flag", "name"):  # booleans do not count as numbers
        with pytest.raises(DataError, match=f"f: column '{col}' must be numeric"):
            require_columns(frame, [], "f", numeric=[col])
    with pytest.raises(DataError, match="f: expected a DataFrame, got list"):
        require_columns([1, 2], ["a"], "f")  # type: ignore[arg-type]  # the wrong type on purpose


def test_observation_date_defaults_to_the_last_day_in_the_data(tx):
    assert observation_date(tx, None) == pd.Timestamp("2025-02-10")
    assert observation_date(tx, "2025-03-01 12:00") == pd.Timestamp("2025-03-01")
    with pytest.raises(DataError, match="no transactions: cannot default as_of"):
        observation_date(tx.iloc[:0], None)
    with pytest.raises(DataError, match="as_of='later' is not a date"):
        observation_date(tx, "later")
