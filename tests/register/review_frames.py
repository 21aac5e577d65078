"""Hand-built review frames for the register tests (state and changes of a review)."""

from __future__ import annotations

import pandas as pd


# ------------------------------------------------------------------ hand-built reviews
def first_review(ids: list[str], tiers: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """State and changes of a first review: every customer enters at its tier."""
    state = pd.DataFrame({"customer_id": ids, "tier": tiers, "since": "2025-01-31",
                          "qualified": tiers})
    changes = pd.DataFrame({"customer_id": ids, "to_tier": tiers, "direction": "new",
                            "rule": "initial", "reason": [f"first review: {t}" for t in tiers],
                            "reason_zh": [f"首次评定：{t}" for t in tiers]})
    return state, changes


def next_review(state: pd.DataFrame, moves: dict[str, str], day: str,
                order: tuple[str, ...] = ("Low", "Mid", "High")) -> tuple[pd.DataFrame,
                                                                           pd.DataFrame]:
    """The following review: customers in ``moves`` change tier, the others hold."""
    new = state.copy()
    new["tier"] = [moves.get(c, t) for c, t in zip(state["customer_id"], state["tier"],
                                                   strict=True)]
    new["qualified"] = new["tier"]
    moved = new["tier"] != state["tier"]
    new.loc[moved, "since"] = day
    rows = state[moved]
    up = [order.index(moves[c]) > order.index(t)
          for c, t in zip(rows["customer_id"], rows["tier"], strict=True)]
    changes = pd.DataFrame({
        "customer_id": rows["customer_id"].to_numpy(), "from_tier": rows["tier"].to_numpy(),
        "to_tier": new.loc[moved, "tier"].to_numpy(),
        "direction": ["up" if u else "down" for u in up],
        "rule": ["promotion" if u else "demotion" for u in up],
        "reason": [f"moved on {day}" for _ in up],
        "reason_zh": [f"{day} 调整" for _ in up],
    })
    return new, changes
