"""A deliberately naive reference implementation of SPEC §3, for tests only.

It loops over customers and reviews and follows the text of the spec line by line, with no
shared state between customers and no vectorization, so that the engine can be checked against
an independent reading of the semantics.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

REVIEW_MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}


def _month(ts: pd.Timestamp) -> int:
    return ts.year * 12 + ts.month - 1


def _holds(cond: dict, spend: dict, orders: dict, m: int, default_window: int) -> bool:
    if "all" in cond:
        return all(_holds(c, spend, orders, m, default_window) for c in cond["all"])
    if "any" in cond:
        return any(_holds(c, spend, orders, m, default_window) for c in cond["any"])
    window = cond.get("window") or f"{default_window}M"
    if window == "all":
        months = [x for x in spend if x <= m] + [x for x in orders if x <= m]
        first = min(months) if months else m
        span = range(first, m + 1)
    elif window == "YTD":
        span = range(m - m % 12, m + 1)
    else:
        span = range(m - int(window[:-1]) + 1, m + 1)
    source = spend if cond["metric"] == "spend" else orders
    value = sum(source.get(x, 0) for x in span)
    op, v = cond["op"], cond["value"]
    return {">": value > v, ">=": value >= v, "<": value < v, "<=": value <= v,
            "==": value == v, "!=": value != v}[op]


def naive_history(scheme: dict, tx: pd.DataFrame, overrides: list[dict] | None = None,
                  ) -> dict[str, list[int | None]]:
    """Tier index per customer per review (None before entry), from first to last period."""
    step = REVIEW_MONTHS[scheme.get("review", "monthly")]
    tiers = scheme["tiers"]
    K = len(tiers)
    policy = scheme.get("policy", {})
    P_default = policy.get("promote_after", 1)
    D = policy.get("demote_after", 1)
    steps = policy.get("max_demotion_steps")
    grace = policy.get("grace_reviews", 0)
    initial = scheme.get("initial", "qualified")

    def P(k: int) -> int:
        return tiers[k].get("promote_after") or P_default

    first_period = min(_month(t) for t in tx["timestamp"]) // step
    last_period = max(_month(t) for t in tx["timestamp"]) // step
    periods = list(range(first_period, last_period + 1))
    out: dict[str, list[int | None]] = {}
    for cid in sorted(tx["customer_id"].unique()):
        rows = tx[tx["customer_id"] == cid]
        spend: dict[int, float] = defaultdict(float)
        orders: dict[int, int] = defaultdict(int)
        purchase_months = []
        for _, r in rows.iterrows():
            spend[_month(r["timestamp"])] += r["amount"]
            if r["amount"] >= 0:
                orders[_month(r["timestamp"])] += 1
                purchase_months.append(_month(r["timestamp"]))
        entry_period = (min(purchase_months) if purchase_months
                        else min(_month(t) for t in rows["timestamp"])) // step
        tier = None
        counted: list[int] = []
        last_promotion = -10**6
        seq: list[int | None] = []
        for t, p in enumerate(periods):
            if p < entry_period:
                seq.append(None)
                continue
            m = p * step + step - 1
            L = 0
            for k in range(1, K):
                if _holds(tiers[k]["when"], spend, orders, m, step):
                    L = k
            review_date = pd.Timestamp(year=m // 12, month=m % 12 + 1, day=1) \
                + pd.offsets.MonthEnd(0)
            fixed = None
            for o in overrides or []:
                if o["customer_id"] == cid and o["from"] <= review_date and (
                        o.get("until") is None or review_date <= o["until"]):
                    fixed = [x["name"] for x in tiers].index(o["tier"])
            if tier is None:  # entry review
                tier = L if initial == "qualified" else 0
                counted = [L]
            else:
                counted.append(L)
                target = None
                for k in range(tier + 1, K):
                    n = P(k)
                    if len(counted) >= n and all(x >= k for x in counted[-n:]):
                        target = k
                if target is not None and fixed is None:
                    tier = target
                    counted = []
                    last_promotion = t
                elif (fixed is None and len(counted) >= D
                      and all(x < tier for x in counted[-D:]) and t - last_promotion > grace):
                    new = max(counted[-D:])
                    if steps is not None:
                        new = max(new, tier - steps)
                    tier = new
                    counted = []
            if fixed is not None:
                tier = fixed
                counted = []
            seq.append(tier)
        out[cid] = seq
    return out
