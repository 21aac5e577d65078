"""A hand-made transactions frame shared by the feature tests."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def tx() -> pd.DataFrame:
    """Twelve hand-made rows: three customers, a return, a repeated order line, no-order rows."""
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "A", "B", "B", "B", "C", "C", "C", "A", "B"],
            "timestamp": pd.to_datetime(
                [
                    "2025-01-03 10:00", "2025-01-03 18:00", "2025-02-14", "2025-03-01",
                    "2025-01-20", "2025-04-02", "2025-04-02",
                    "2025-03-15", "2025-03-20", "2025-05-30",
                    "2025-06-10", "2025-06-30",
                ],
                format="ISO8601",
            ),
            "amount": [100.0, 50.0, 200.0, -40.0, 10.0, 600.0, 5.0, 300.0, 700.0, -300.0, 20.0,
                       0.0],
            "order_id": ["o1", "o1", "o2", "r1", "o3", "o4", "o5", "o6", "o7", "r2", None, "o8"],
            "quantity": [1, 2, 1, 1, 1, 3, 1, 2, 2, 2, 1, 1],
        }
    )
