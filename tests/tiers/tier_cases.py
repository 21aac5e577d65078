"""Shared material of the tier tests: the monthly spend scheme, small logs, random schemes.

Plain data and hypothesis strategies only; nothing here computes tiers.
"""

from __future__ import annotations

import copy

import pandas as pd
from hypothesis import strategies as st

from tierlab.tiers.scheme import TierScheme

MONTHLY = {
    "name": "Monthly spend tiers",
    "review": "monthly",
    "initial": "qualified",
    "tiers": [
        {"name": "Low"},
        {"name": "Mid", "when": {"metric": "spend", "window": "1M", "op": ">=", "value": 100}},
        {"name": "High", "when": {"metric": "spend", "window": "1M", "op": ">", "value": 500},
         "promote_after": 3},
    ],
    "policy": {"promote_after": 1, "demote_after": 6},
}

#: a scheme with nested any/all conditions and an attribute test, for parsing and lint
NESTED = {
    "name": "Spend",
    "review": "monthly",
    "tiers": [
        {"name": "Low"},
        {"name": "Mid", "when": {"metric": "spend", "window": "1M", "op": ">=", "value": 100}},
        {"name": "High", "when": {"any": [
            {"metric": "spend", "window": "3M", "op": ">", "value": 500},
            {"all": [{"metric": "orders", "window": "12M", "op": ">=", "value": 10},
                     {"attribute": "region", "op": "in", "value": ["local"]}]},
        ]}},
    ],
    "policy": {"demote_after": 3},
}

def monthly_tx(spend_by_month: dict[str, list[float]], start: str = "2025-01") -> pd.DataFrame:
    """One purchase on the 15th of each month with positive spend."""
    rows = []
    for cid, spends in spend_by_month.items():
        for i, amount in enumerate(spends):
            if amount:
                rows.append((cid, pd.Period(start, "M") + i, float(amount)))
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "timestamp": [r[1].to_timestamp() + pd.Timedelta(days=14) for r in rows],
        "amount": [r[2] for r in rows],
    })

def scheme_with(**changes) -> TierScheme:
    d = copy.deepcopy(MONTHLY)
    for key, value in changes.items():
        if key in ("promote_after", "demote_after", "max_demotion_steps", "grace_reviews"):
            d["policy"][key] = value
        else:
            d[key] = value
    return TierScheme.from_dict(d)

def regional_case() -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """MONTHLY whose High tier also needs ``region == "local"``: two customers spending 600 once,
    one local, one remote — (scheme dict, transactions, customers)."""
    d = copy.deepcopy(MONTHLY)
    d["tiers"][2]["when"] = {"all": [d["tiers"][2]["when"],
                                     {"attribute": "region", "op": "in", "value": ["local"]}]}
    d["tiers"][2]["promote_after"] = 1
    tx = monthly_tx({"a": [600], "b": [600]})
    customers = pd.DataFrame({"customer_id": ["a", "b"], "region": ["local", "remote"]})
    return d, tx, customers


def tiers_of(hist, cid: str) -> list:
    return [None if pd.isna(x) else x for x in hist.tiers.loc[cid].tolist()]


def _cond(draw, level: int):
    metric = draw(st.sampled_from(["spend", "orders"]))
    window = draw(st.sampled_from(["1M", "2M", "3M", "12M", "YTD", "all", None]))
    op = draw(st.sampled_from([">", ">="]))
    base = {"spend": 60 * level, "orders": level}[metric]
    value = draw(st.integers(base, base * 3))
    leaf = {"metric": metric, "op": op, "value": value}
    if window:
        leaf["window"] = window
    return leaf

@st.composite
def schemes(draw):
    K = draw(st.integers(2, 4))
    tiers = [{"name": "T0"}]
    for k in range(1, K):
        kind = draw(st.sampled_from(["leaf", "leaf", "all", "any"]))
        if kind == "leaf":
            when = _cond(draw, k)
        else:
            when = {kind: [_cond(draw, k), _cond(draw, k)]}
        tier = {"name": f"T{k}", "when": when}
        if draw(st.booleans()):
            tier["promote_after"] = draw(st.integers(1, 3))
        tiers.append(tier)
    steps = draw(st.sampled_from([None, 1, 2]))
    return {
        "name": "random",
        "review": draw(st.sampled_from(["monthly", "monthly", "quarterly", "half-yearly",
                                        "yearly"])),
        "initial": draw(st.sampled_from(["qualified", "lowest"])),
        "tiers": tiers,
        "policy": {"promote_after": draw(st.integers(1, 3)),
                   "demote_after": draw(st.integers(1, 4)),
                   "max_demotion_steps": steps,
                   "grace_reviews": draw(st.integers(0, 2))},
    }

@st.composite
def transactions(draw, max_customers=5):
    n = draw(st.integers(1, max_customers))
    rows = draw(st.lists(
        st.tuples(st.integers(0, n - 1), st.integers(0, 35 * 30), st.integers(-40, 400)),
        min_size=1, max_size=60))
    tx = pd.DataFrame(rows, columns=["c", "day", "amount"])
    tx["customer_id"] = "c" + tx.pop("c").astype(str)
    tx["timestamp"] = pd.Timestamp("2023-01-01") + pd.to_timedelta(tx.pop("day"), "D")
    tx["amount"] = tx["amount"].astype(float)
    return tx

def engine_codes(hist) -> dict[str, list]:
    return {cid: [None if c < 0 else int(c) for c in hist.codes[i]]
            for i, cid in enumerate(hist.customer_ids)}
