"""Hand-built assignments and transactions shared by the evaluation tests."""

from __future__ import annotations

import pandas as pd

TIERS = ["Low", "Mid", "High", "Top"]
CAT = pd.CategoricalDtype(TIERS, ordered=True)


def tiers(mapping: dict[str, str | None], dtype=CAT) -> pd.Series:
    return pd.Series(list(mapping.values()), index=list(mapping), dtype=dtype)


def tx_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "timestamp": pd.to_datetime([r[1] for r in rows], format="mixed"),
        "amount": [float(r[2]) for r in rows],
    })


def tier_index(names=TIERS, dtype=CAT) -> pd.CategoricalIndex:
    return pd.CategoricalIndex(names, dtype=dtype, name="tier")
