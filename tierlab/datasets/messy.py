"""The bundled sample's messiness: the log rendered as export text, plus rows a loader rejects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tierlab.datasets.model import TRANSACTION_COLUMNS

__all__ = ["BAD_DATES", "make_messy"]

#: Dates a loader must reject, put into a few rows of the messy sample.
BAD_DATES = np.array(["2024-13-45", "#VALUE!", "0000-00-00", "32/01/2024", "2024-02-30",
                       "yesterday", "N.A."])


def make_messy(rng: np.random.Generator, tx: pd.DataFrame) -> pd.DataFrame:
    """Render *tx* as export strings and add a few rows a loader must reject."""
    n = len(tx)
    cents = np.rint(tx["amount"].to_numpy() * 100).astype(np.int64)
    whole = pd.Series(np.abs(cents) // 100).astype(str)
    frac = pd.Series(np.abs(cents) % 100).astype(str).str.zfill(2)
    sign = pd.Series(np.where(cents < 0, "-", ""), dtype="str")
    plain = sign + whole + "." + frac
    yen = sign + "¥" + whole.str.replace(r"\B(?=(\d{3})+(?!\d))", ",", regex=True) + "." + frac
    use_yen = rng.random(n) < 0.02

    out = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy(),
            "timestamp": tx["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(),
            "amount": np.where(use_yen, yen, plain),
            "order_id": tx["order_id"].to_numpy(),
            "quantity": tx["quantity"].to_numpy().astype(np.int64).astype(str),
            "channel": tx["channel"].to_numpy(),
        },
        columns=TRANSACTION_COLUMNS,
    ).astype(str)

    k = min(max(2, -(-n // 10_000)), n)
    pieces = [out]
    positions: list[np.ndarray] = [np.arange(n, dtype=np.float64)]
    for problem in ("missing_id", "bad_date", "duplicate"):  # loop over problem kinds
        rows = np.sort(rng.choice(n, size=k, replace=False))
        extra = out.iloc[rows].copy()
        if problem == "missing_id":
            extra["customer_id"] = extra["customer_id"].where(np.zeros(k, dtype=bool))
        elif problem == "bad_date":
            extra["timestamp"] = BAD_DATES[rng.integers(0, len(BAD_DATES), size=k)]
        pieces.append(extra)
        positions.append(rows + 0.5)  # right after the row it copies
    order = np.argsort(np.concatenate(positions), kind="stable")
    return pd.concat(pieces, ignore_index=True).iloc[order].reset_index(drop=True)
