"""Hand-calculable per-customer features shared by the scoring tests."""

from __future__ import annotations

import pandas as pd


def hand_features() -> pd.DataFrame:
    """Twelve customers with distinct values in every dimension (hand-calculable)."""
    ids = pd.Index([f"C{i:02d}" for i in range(1, 13)], name="customer_id")
    return pd.DataFrame(
        {
            "recency_days": [3, 10, 45, 7, 120, 60, 1, 200, 30, 90, 15, 365],
            "frequency": [12, 2, 3, 8, 1, 5, 20, 4, 6, 9, 15, 7],
            "monetary_total": [1500.0, 80.0, 300.0, 900.0, 50.0, 420.0, 5000.0, 120.0, 610.0,
                               700.0, 2500.0, 200.0],
            "monetary_mean": [125.0, 40.0, 100.0, 112.5, 50.0, 84.0, 250.0, 30.0, 101.7, 77.8,
                              166.7, 28.6],
        },
        index=ids,
    )
