"""Manual overrides (SPEC §3 step 7): read and check them, then find those active at a review."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierlab.errors import DataError

__all__ = ["load_overrides", "OverrideSchedule"]


def load_overrides(overrides: pd.DataFrame | str | os.PathLike[str] | None,
                   tier_names: list[str]) -> pd.DataFrame | None:
    """Validate manual overrides (a DataFrame or a CSV path) → customer_id, tier, from, until.

    Returns
    -------
    DataFrame or None
        ``customer_id, tier, from, until, reason`` (``until`` NaT: open-ended); None when
        ``overrides`` is None.
    """
    if overrides is None:
        return None
    source = "overrides"
    if not isinstance(overrides, pd.DataFrame):
        source = str(overrides)
        try:
            overrides = pd.read_csv(overrides, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{source}: cannot read the overrides file: {exc}") from None
    cols = {str(c).strip().lower(): c for c in overrides.columns}
    missing = [c for c in ("customer_id", "tier", "from") if c not in cols]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; overrides need customer_id, "
                        f"tier, from, until (optional) and reason (optional); found "
                        f"{list(overrides.columns)}")
    out = pd.DataFrame({
        "customer_id": overrides[cols["customer_id"]].astype(str).str.strip(),
        "tier": overrides[cols["tier"]].astype(str).str.strip(),
    })
    for c in ("from", "until"):
        raw = (overrides[cols[c]] if c in cols
               else pd.Series([None] * len(overrides), index=overrides.index, dtype=object))
        raw = raw.replace("", None)
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
        bad = raw.notna().to_numpy() & parsed.isna().to_numpy()
        if c == "from":
            bad |= parsed.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{source}: row {row + 1}: column {c!r} is not a date: "
                            f"{raw.iloc[row]!r}")
        out[c] = parsed.to_numpy()
    out["reason"] = (overrides[cols["reason"]].astype(str) if "reason" in cols
                     else "manual override")
    unknown = ~out["tier"].isin(tier_names)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"{source}: row {row + 1}: unknown tier {out['tier'].iloc[row]!r}; "
                        f"the scheme's tiers are {tier_names}")
    return out


@dataclass
class OverrideSchedule:
    """Overrides of one run as arrays: which customer (position), tier and span, in file order."""

    pos: np.ndarray      # customer position in the run
    tier: np.ndarray     # tier index
    start: np.ndarray    # datetime64[ns]
    until: np.ndarray    # datetime64[ns], NaT: open-ended
    reason: np.ndarray   # object

    @classmethod
    def build(cls, overrides: pd.DataFrame | str | os.PathLike[str] | None,
              tier_names: list[str], customer_ids: pd.Index) -> OverrideSchedule | None:
        """Load ``overrides`` and place them on the run's customers (None when there are none).

        Rows naming customers with no transactions are dropped with a warning.
        """
        ov = load_overrides(overrides, tier_names)
        if ov is None:
            return None
        pos = customer_ids.get_indexer(pd.Index(ov["customer_id"]))
        if (pos < 0).any():
            warnings.warn(
                f"{int((pos < 0).sum())} override row(s) name customers with no transactions "
                f"and are ignored: {ov['customer_id'][pos < 0].unique()[:5].tolist()}",
                UserWarning, stacklevel=3)
        keep = pos >= 0
        tier = pd.Categorical(ov["tier"], categories=tier_names).codes
        return cls(pos[keep], np.asarray(tier, dtype=np.int8)[keep],
                   ov["from"].to_numpy(dtype="datetime64[ns]")[keep],
                   ov["until"].to_numpy(dtype="datetime64[ns]")[keep],
                   ov["reason"].to_numpy(dtype=object)[keep])

    def at(self, day: pd.Timestamp, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Overrides in force at review date ``day``, per customer.

        Returns the fixed tier (``-1``: none) and the reason (None: none); when several rows
        cover a customer, the last one in the file wins.
        """
        d = day.as_unit("ns").to_datetime64()
        active = np.flatnonzero((self.start <= d) & (np.isnat(self.until) | (self.until >= d)))
        # the last active row per customer: first occurrence in the reversed order
        _, first = np.unique(self.pos[active][::-1], return_index=True)
        rows = active[::-1][first]
        fixed = np.full(n, -1, dtype=np.int8)
        reason = np.full(n, None, dtype=object)
        fixed[self.pos[rows]] = self.tier[rows]
        reason[self.pos[rows]] = self.reason[rows]
        return fixed, reason
