"""Tests for tierlab.datasets: the seeded generator and the bundled sample.

Nothing here depends on numpy's random streams staying the same across versions: the
generator is checked for determinism (same seed → same frames) and for the properties its
docstring promises, and the committed sample for those same properties — never against
numbers copied from one particular draw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierlab.datasets import (
    INDUSTRIES,
    RETURN_SHARE,
    SAMPLE_PARAMS,
    generate,
    sample_customers,
    sample_transactions,
)
from tierlab.errors import ArgumentError

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
TX_COLUMNS = ["customer_id", "timestamp", "amount", "order_id", "quantity", "channel"]
CUSTOMER_COLUMNS = [
    "customer_id", "name", "phone", "email", "region", "province", "industry", "signup_date",
    "satisfaction", "notes",
]
START = pd.Timestamp(str(SAMPLE_PARAMS["start"]))
END = START + pd.DateOffset(months=int(SAMPLE_PARAMS["months"]))


@pytest.fixture(scope="module")
def sample():
    return generate(**SAMPLE_PARAMS)


@pytest.fixture(scope="module")
def tx(sample):
    return sample[0]


@pytest.fixture(scope="module")
def customers(sample):
    return sample[1]


@pytest.fixture(scope="module")
def messy():
    return generate(**SAMPLE_PARAMS, messy=True)[0]


@pytest.fixture(scope="module")
def monthly(tx):
    """Customer × calendar month net spend, computed here independently of tierlab."""
    month = tx["timestamp"].dt.to_period("M")
    return tx.pivot_table(
        index="customer_id", columns=month, values="amount", aggfunc="sum", fill_value=0.0
    )


def is_string_column(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s) and s.dropna().map(type).eq(str).all()


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("messy_mode", [False, True], ids=["clean", "messy"])
def test_same_seed_gives_identical_frames(messy_mode):
    a_tx, a_cu = generate(300, months=12, seed=7, messy=messy_mode)
    b_tx, b_cu = generate(300, months=12, seed=7, messy=messy_mode)
    pd.testing.assert_frame_equal(a_tx, b_tx)
    pd.testing.assert_frame_equal(a_cu, b_cu)


def test_different_seed_gives_different_frames():
    a_tx, a_cu = generate(300, months=12, seed=7)
    b_tx, b_cu = generate(300, months=12, seed=8)
    assert not a_tx.equals(b_tx)
    assert not a_cu.equals(b_cu)
    assert a_tx["amount"].sum() != b_tx["amount"].sum()


def test_messy_mode_does_not_change_the_customer_table(customers):
    pd.testing.assert_frame_equal(generate(**SAMPLE_PARAMS, messy=True)[1], customers)


# --- shapes, columns, dtypes -------------------------------------------------------------------


def test_transaction_columns_and_dtypes(tx):
    assert list(tx.columns) == TX_COLUMNS
    assert tx["timestamp"].dtype == "datetime64[ns]"
    assert tx["timestamp"].dt.tz is None
    assert tx["amount"].dtype == "float64"
    assert tx["quantity"].dtype == "float64"
    for col in ("customer_id", "order_id", "channel"):
        assert is_string_column(tx[col]), col
    assert not tx.isna().any().any()
    assert isinstance(tx.index, pd.RangeIndex)


def test_customer_columns_and_dtypes(customers):
    assert list(customers.columns) == CUSTOMER_COLUMNS
    assert len(customers) == SAMPLE_PARAMS["n_customers"]
    assert customers["signup_date"].dtype == "datetime64[ns]"
    assert customers["satisfaction"].dtype == "float64"
    for col in CUSTOMER_COLUMNS[:7]:
        assert is_string_column(customers[col]), col
        assert customers[col].notna().all(), col
    assert is_string_column(customers["notes"])


def test_messy_transactions_are_all_strings(messy):
    assert list(messy.columns) == TX_COLUMNS
    for col in TX_COLUMNS:
        assert is_string_column(messy[col]), col


# --- identifiers and contact details -----------------------------------------------------------


def test_customer_ids_are_zero_padded_strings(tx, customers):
    ids = customers["customer_id"]
    assert ids.str.fullmatch(r"C\d{5}").all()
    assert ids.is_unique
    assert ids.tolist() == [f"C{i:05d}" for i in range(1, len(ids) + 1)]
    assert set(tx["customer_id"]) <= set(ids)


def test_id_width_grows_with_customer_count_and_matches_across_tables():
    tx, customers = generate(100_000, months=1, seed=5)
    assert customers["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert tx["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert set(tx["customer_id"]) <= set(customers["customer_id"])


def test_order_ids_are_zero_padded_and_follow_time(tx):
    assert tx["order_id"].str.fullmatch(r"O\d{7}").all()
    purchases = tx[tx["amount"] >= 0]
    first = purchases.groupby("order_id")["timestamp"].min().sort_index()
    assert first.index.tolist() == [f"O{i:07d}" for i in range(1, len(first) + 1)]
    assert first.is_monotonic_increasing


def test_an_order_has_one_customer_time_and_channel(tx):
    purchases = tx[tx["amount"] >= 0]
    per_order = purchases.groupby("order_id")[["customer_id", "timestamp", "channel"]].nunique()
    assert (per_order == 1).all().all()
    assert (purchases.groupby("order_id").size() > 1).any()  # some multi-line orders


def test_clean_data_has_no_duplicate_rows(tx):
    assert not tx.duplicated().any()


def test_contacts_are_fake(customers):
    num = customers["customer_id"].str[1:]
    assert customers["email"].str.endswith("@example.com").all()
    assert (customers["email"] == "c" + num + "@example.com").all()
    assert customers["phone"].str.fullmatch(r"1\d{10}").all()
    assert customers["phone"].str.startswith("138000").all()
    assert customers["phone"].is_unique
    assert customers["name"].str.fullmatch(r"测试(客户|公司)\d{5}").all()


def test_categorical_fields(tx, customers):
    assert set(customers["region"]) == {"local", "remote"}
    assert set(customers.loc[customers["region"] == "local", "province"]) == {"Zhejiang"}
    assert set(customers["industry"]) == set(INDUSTRIES)
    sat = customers["satisfaction"].dropna()
    assert set(sat) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 0.8 < len(sat) / len(customers) < 1.0  # a few customers were not surveyed
    assert set(tx["channel"]) <= {"store", "online", "app", "phone", "sales rep"}


# --- values ------------------------------------------------------------------------------------


def test_timestamps_within_period_and_sorted(tx):
    assert tx["timestamp"].min() >= START
    assert tx["timestamp"].max() < END
    assert tx["timestamp"].is_monotonic_increasing


def test_amounts_and_quantities(tx, customers):
    purchases, returns = tx[tx["amount"] >= 0], tx[tx["amount"] < 0]
    assert (purchases["amount"] > 0).all()
    assert np.allclose(tx["amount"] * 100, np.rint(tx["amount"] * 100))  # whole cents
    assert set(purchases["quantity"]) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert set(returns["quantity"]) <= {-1.0, -2.0, -3.0, -4.0, -5.0}
    hotel = set(customers.loc[customers["industry"] == "hotel", "customer_id"])
    nights = purchases.loc[purchases["customer_id"].isin(hotel), "quantity"]
    assert len(nights) > 0 and nights.between(1, 5).all()


def test_return_share_is_about_three_percent(tx):
    # The generator draws round(purchases * 3/97) returns, so the share is 3 % up to rounding
    # and the few purchases too close to the end of the period to be returned in it; +-0.3
    # percentage points leaves room for that and fails on any real change of the rate.
    share = (tx["amount"] < 0).mean()
    assert abs(share - 0.03) < 0.003
    assert RETURN_SHARE == 0.03


def test_every_return_refunds_an_earlier_purchase_of_the_same_customer(tx):
    purchases, returns = tx[tx["amount"] >= 0], tx[tx["amount"] < 0]
    assert len(returns) > 0
    # naive check: for each return, look for the purchase line it refunds
    by_order: dict[str, list] = {}
    for line in purchases.itertuples(index=False):
        by_order.setdefault(line.order_id, []).append(line)
    for ret in returns.itertuples(index=False):
        match = [
            line
            for line in by_order[ret.order_id]
            if line.amount == -ret.amount and line.quantity == -ret.quantity
        ]
        assert len(match) == 1, ret
        line = match[0]
        assert line.customer_id == ret.customer_id
        assert line.timestamp < ret.timestamp <= line.timestamp + pd.Timedelta(days=30)
    # and no purchase line is refunded twice
    assert not returns.duplicated(["order_id", "amount", "quantity"]).any()


# --- realism: heavy tail, tiers of SPEC §3 are exercised, things move ---------------------------


def test_spend_is_heavy_tailed(tx):
    spend = tx.groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    top = spend.iloc[: int(np.ceil(0.2 * len(spend)))]
    assert top.sum() / spend.sum() > 0.5


def test_monthly_spend_thresholds_are_exercised(monthly):
    assert ((monthly >= 100) & (monthly <= 500)).any(axis=1).sum() >= 100  # Mid
    assert (monthly > 500).any(axis=1).sum() >= 20  # High
    streak = (monthly > 500).astype(int).T.rolling(3).sum().T
    assert (streak == 3).any(axis=1).sum() >= 10  # promote_after: 3


def test_yearly_spend_thresholds_are_exercised(tx, monthly):
    spend12 = monthly.T.rolling(12).sum().T
    purchases = tx[tx["amount"] >= 0]
    orders = purchases.pivot_table(
        index="customer_id",
        columns=purchases["timestamp"].dt.to_period("M"),
        values="order_id",
        aggfunc="nunique",
        fill_value=0,
    ).reindex(index=monthly.index, columns=monthly.columns, fill_value=0)
    orders12 = orders.T.rolling(12).sum().T
    assert (spend12 > 50_000).any(axis=1).sum() >= 5  # Gold
    assert ((spend12 > 100_000) & (orders12 >= 100)).any(axis=1).sum() >= 3  # Diamond
    # the Gold cap gap of the linter: > 100,000 but fewer than 100 orders
    assert ((spend12 > 100_000) & (orders12 < 100)).any(axis=1).sum() >= 1


def test_hotel_thresholds_are_exercised(tx, customers):
    hotel = set(customers.loc[customers["industry"] == "hotel", "customer_id"])
    stays = tx[(tx["amount"] >= 0) & tx["customer_id"].isin(hotel)]
    month = stays["timestamp"].dt.to_period("M")
    n_stays = stays.pivot_table(
        index="customer_id", columns=month, values="order_id", aggfunc="nunique", fill_value=0
    ).T.rolling(12, min_periods=1).sum().T
    nights = stays.pivot_table(
        index="customer_id", columns=month, values="quantity", aggfunc="sum", fill_value=0
    ).T.rolling(12, min_periods=1).sum().T
    assert ((n_stays >= 20) & (nights > 30)).any(axis=1).sum() >= 3  # VIP
    assert ((n_stays >= 10) | (nights >= 15)).any(axis=1).sum() >= 20  # Frequent


def test_behaviour_drifts(tx):
    # Customers buying in the first and last quarter with >= 5 orders in each year: without
    # drift the year-2/year-1 order ratio only reflects Poisson noise (log-ratio sd ~0.33,
    # under 10 customers doubling); with it, it spreads out.
    purchases = tx[tx["amount"] >= 0]
    orders = purchases.pivot_table(
        index="customer_id",
        columns=purchases["timestamp"].dt.to_period("M"),
        values="order_id",
        aggfunc="nunique",
        fill_value=0,
    )
    year1, year2 = orders.iloc[:, :12].sum(axis=1), orders.iloc[:, 12:].sum(axis=1)
    steady = (orders.iloc[:, :3].sum(axis=1) > 0) & (orders.iloc[:, -3:].sum(axis=1) > 0)
    keep = steady & (year1 >= 5) & (year2 >= 5)
    log_ratio = np.log(year2[keep] / year1[keep])
    assert keep.sum() >= 100
    assert log_ratio.std() > 0.42
    assert (log_ratio > np.log(2)).sum() >= 20  # ramping up
    assert (log_ratio < -np.log(2)).sum() >= 10  # decaying


def test_customers_enter_and_leave(monthly):
    active = monthly.ne(0)
    entry = active.to_numpy().argmax(axis=1)
    assert (entry > 0).mean() > 0.3  # staggered entry
    gone = ~active.iloc[:, -6:].any(axis=1)
    assert gone.mean() > 0.1  # churned: nothing in the last six months


def test_yearly_seasonality(tx, customers):
    def monthly_total(frame):
        total = frame.groupby(frame["timestamp"].dt.to_period("M"))["amount"].sum()
        return {str(p): v for p, v in total.items()}

    m = monthly_total(tx)
    # Chinese New Year: 2024-02-10 and 2025-01-29 fall in a dip month
    assert m["2024-02"] < min(m["2024-01"], m["2024-03"])
    assert m["2025-01"] < min(m["2024-12"], m["2025-02"])
    # November and December are the peak of each year for consumer shopping
    shops = customers.loc[customers["industry"].isin(["retail", "e-commerce"]), "customer_id"]
    m = monthly_total(tx[tx["customer_id"].isin(shops)])
    for year in ("2024", "2025"):
        months = pd.Series({k: v for k, v in m.items() if k.startswith(year)})
        assert set(months.nlargest(2).index) == {f"{year}-11", f"{year}-12"}


def test_satisfaction_rises_with_spend(tx, customers):
    spend = tx.groupby("customer_id")["amount"].sum()
    df = customers.set_index("customer_id")[["satisfaction"]].join(spend).dropna()
    assert df["satisfaction"].corr(df["amount"], method="spearman") > 0.3


# --- messy mode --------------------------------------------------------------------------------


def parse_export(raw: pd.DataFrame) -> pd.DataFrame:
    """A naive loader: drop rows without id or date, parse amounts, drop duplicated lines."""
    ts = pd.to_datetime(raw["timestamp"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    keep = raw["customer_id"].notna() & ts.notna() & ~raw.duplicated()
    amount = raw["amount"].str.replace("¥", "", regex=False).str.replace(",", "", regex=False)
    out = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "timestamp": ts.astype("datetime64[ns]"),
            "amount": amount.astype("float64"),
            "order_id": raw["order_id"],
            "quantity": raw["quantity"].astype("float64"),
            "channel": raw["channel"],
        }
    )
    return out[keep].reset_index(drop=True)


def test_messy_export_parses_back_to_the_clean_data(tx, messy):
    pd.testing.assert_frame_equal(parse_export(messy), tx)


def test_messy_export_has_each_problem(tx, messy):
    assert_messy_problems(messy, tx)
    assert messy["amount"].str.contains(",", regex=False).any()  # thousands separators


# --- the bundled sample ------------------------------------------------------------------------


def read_committed(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE_DIR / name, dtype=str, encoding="utf-8")


@pytest.fixture(scope="module")
def committed():
    """The committed sample: raw transaction strings, clean transactions, customers."""
    raw = read_committed("transactions.csv")
    cust = read_committed("customers.csv").astype({"satisfaction": "float64"})
    cust["signup_date"] = pd.to_datetime(cust["signup_date"], format="%Y-%m-%d").astype(
        "datetime64[ns]")
    return raw, parse_export(raw), cust


def test_committed_sample_is_the_generator_output_written_as_csv(committed):
    raw, tx, cust = committed
    # what data/make_sample.py writes: the messy export strings and the customer table
    assert list(raw.columns) == TX_COLUMNS and list(cust.columns) == CUSTOMER_COLUMNS
    assert_generator_invariants(tx, cust, n=int(SAMPLE_PARAMS["n_customers"]), start=START,
                                months=int(SAMPLE_PARAMS["months"]))
    assert_messy_problems(raw, tx)


def test_committed_sample_has_the_size_and_shape_of_a_fresh_draw(committed, tx, customers):
    # the same parameters (drawn with whatever random streams this numpy has): the committed
    # sample was drawn from the same model, so counts and totals agree within sampling noise
    _, c_tx, c_cust = committed
    assert c_cust["customer_id"].tolist() == customers["customer_id"].tolist()
    assert abs(len(c_tx) / len(tx) - 1) < 0.15
    assert abs(c_tx["amount"].sum() / tx["amount"].sum() - 1) < 0.25
    assert abs(c_tx["order_id"].nunique() / tx["order_id"].nunique() - 1) < 0.15
    for col in ("industry", "region"):
        share = c_cust[col].value_counts(normalize=True)
        fresh = customers[col].value_counts(normalize=True)
        assert (share.sub(fresh, fill_value=0).abs() < 0.05).all(), col


def test_sample_files_stay_small():
    for name in ("transactions.csv", "customers.csv"):
        assert (SAMPLE_DIR / name).stat().st_size < 5_000_000, name


def test_sample_functions_return_the_sample(tx, customers, messy):
    pd.testing.assert_frame_equal(sample_transactions(), tx)
    pd.testing.assert_frame_equal(sample_transactions(messy=True), messy)
    pd.testing.assert_frame_equal(sample_customers(), customers)


def test_sample_functions_return_new_frames():
    a = sample_transactions()
    a.loc[0, "amount"] = -1e9
    a["extra"] = 1
    b = sample_transactions()
    assert "extra" not in b.columns and b.loc[0, "amount"] != -1e9
    c = sample_customers()
    c["name"] = "changed"
    assert (sample_customers()["name"] != "changed").all()


# --- parameters and small inputs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"n_customers": 0}, "n_customers"),
        ({"n_customers": 2.5}, "n_customers"),
        ({"n_customers": True}, "n_customers"),
        ({"months": 0}, "months"),
        ({"seed": -1}, "seed"),
        ({"start": "not a date"}, "start"),
        ({"start": "2024-01-01T00:00+08:00"}, "start"),
    ],
    ids=["zero-customers", "float-customers", "bool-customers", "zero-months",
         "negative-seed", "bad-start", "tz-aware-start"],
)
def test_bad_parameters_raise_argument_error(kwargs, word):
    with pytest.raises(ArgumentError, match=word):
        generate(**{"n_customers": 10, **kwargs})


def test_start_that_is_not_a_month_start():
    tx, customers = generate(50, months=3, start="2024-01-31 15:30", seed=2)
    assert tx["timestamp"].min() >= pd.Timestamp("2024-01-31")
    assert tx["timestamp"].max() < pd.Timestamp("2024-04-30")


def assert_generator_invariants(tx: pd.DataFrame, customers: pd.DataFrame, *, n: int,
                                start: pd.Timestamp, months: int) -> None:
    """What generate() promises for any parameters (its docstring), checked on clean frames."""
    assert list(tx.columns) == TX_COLUMNS and tx["timestamp"].dtype == "datetime64[ns]"
    assert list(customers.columns) == CUSTOMER_COLUMNS
    assert len(customers) == n and customers["customer_id"].is_unique
    assert set(tx["customer_id"]) <= set(customers["customer_id"])
    assert tx["timestamp"].between(start, start + pd.DateOffset(months=months), "left").all()
    assert tx["timestamp"].is_monotonic_increasing
    assert not tx.duplicated().any()
    purchases, returns = tx[tx["amount"] >= 0], tx[tx["amount"] < 0]
    assert (purchases["amount"] > 0).all()
    assert np.allclose(tx["amount"] * 100, np.rint(tx["amount"] * 100))  # whole cents
    assert purchases["quantity"].isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert returns["quantity"].isin([-1.0, -2.0, -3.0, -4.0, -5.0]).all()
    # every return refunds one earlier purchase line of the same customer and order
    merged = returns.merge(
        purchases, on=["order_id", "customer_id"], suffixes=("", "_p"), how="left"
    )
    merged = merged[(merged["amount_p"] == -merged["amount"])
                    & (merged["quantity_p"] == -merged["quantity"])
                    & (merged["timestamp_p"] < merged["timestamp"])]
    assert merged["order_id"].nunique() == returns["order_id"].nunique()
    assert set(tx["channel"]) <= {"store", "online", "app", "phone", "sales rep"}


def assert_messy_problems(raw: pd.DataFrame, tx: pd.DataFrame) -> None:
    """The export's deliberate problems: k rows of each kind, amounts as written by exports."""
    k = min(max(2, -(-len(tx) // 10_000)), len(tx))  # never more than there are rows
    assert len(raw) == len(tx) + 3 * k
    assert raw["customer_id"].isna().sum() == k
    bad_date = pd.to_datetime(raw["timestamp"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    assert bad_date.isna().sum() == k
    assert raw.duplicated().sum() == k
    yen = raw["amount"].str.contains("¥", regex=False)
    assert raw.loc[yen, "amount"].str.fullmatch(r"-?¥\d{1,3}(,\d{3})*\.\d\d").all()
    assert raw.loc[~yen, "amount"].str.fullmatch(r"-?\d+\.\d\d").all()
    if len(tx) >= 1000:  # about 2 % of amounts carry the yen sign
        assert 0.01 < yen.mean() < 0.03


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 60),
    months=st.integers(1, 15),
    seed=st.integers(0, 2**32 - 1),
    messy_mode=st.booleans(),
)
def test_invariants_hold_for_any_small_input(n, months, seed, messy_mode):
    raw, customers = generate(n, months=months, start="2023-03-01", seed=seed, messy=messy_mode)
    tx = parse_export(raw) if messy_mode else raw
    assert_generator_invariants(tx, customers, n=n, start=pd.Timestamp("2023-03-01"),
                                months=months)
    if messy_mode:
        assert_messy_problems(raw, tx)
        generated_clean = generate(n, months=months, start="2023-03-01", seed=seed)[0]
        pd.testing.assert_frame_equal(tx, generated_clean)
