"""The steps of a scheme comparison: revenue and cost, movement, most affected, stability, validity.

Each step takes the per-scheme results :func:`tierlab.compare.compare_schemes` has computed
(dicts keyed by scheme name, baseline first) and returns one table of a
:class:`~tierlab.compare.Comparison`. Loops run over schemes only; everything per customer is
vectorized.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tierlab.errors import DataError
from tierlab.evaluate import Stability, Validity, holdout_validity, stability
from tierlab.tiers.history import TierHistory
from tierlab.tiers.scheme import TierScheme

__all__ = [
    "customer_revenue",
    "customer_union",
    "holdout_runs",
    "most_affected",
    "movement",
    "revenue_and_cost",
    "stability_table",
    "tier_positions",
    "validity_table",
]


def tier_positions(s: pd.Series) -> np.ndarray:
    """Tier position scaled to 0..1 (NaN without a tier)."""
    k = len(s.cat.categories)
    codes = s.cat.codes.to_numpy().astype(float)
    codes[codes < 0] = np.nan
    return codes / (k - 1) if k > 1 else codes


def customer_revenue(tx: pd.DataFrame) -> pd.Series:
    """Net spend of each customer over all of *tx* (index: customer_id as text, sorted)."""
    ids, uniques = pd.factorize(tx["customer_id"].astype(str), sort=True)
    total = np.bincount(ids, weights=tx["amount"].to_numpy(dtype=float), minlength=len(uniques))
    return pd.Series(total, index=pd.Index(uniques, name="customer_id"), name="revenue")


def revenue_and_cost(schemes: Mapping[str, TierScheme],
                     summaries: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Customers, revenue and annual benefit cost per tier of each scheme (one long frame).

    ``benefit_cost`` = members × the tier's ``benefit_cost`` per review × reviews per year.
    """
    frames = []
    for n, summ in summaries.items():
        s = schemes[n]
        per_review = np.array([t.benefit_cost for t in s.tiers], dtype=float)
        frames.append(pd.DataFrame({
            "scheme": n,
            "tier": [str(t) for t in summ.index],
            "customers": summ["customers"].to_numpy(),
            "revenue": summ["revenue"].to_numpy(),
            "revenue_share": summ["revenue_share"].to_numpy(),
            "benefit_cost": summ["customers"].to_numpy() * per_review * (12 / s.review_months),
            "benefit_cost_per_review": per_review,
        }))
    return pd.concat(frames, ignore_index=True)


def customer_union(current: Mapping[str, pd.Series]) -> pd.Index:
    """Every customer with a row in some assignment, in the baseline's order then sorted."""
    assignments = list(current.values())
    ids = assignments[0].index
    for s in assignments[1:]:
        ids = ids.union(s.index)
    return ids


def movement(current: Mapping[str, pd.Series], schemes: Mapping[str, TierScheme]
             ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Who moves up or down under each other scheme, against the first (the baseline).

    Returns the ``movement`` table of :class:`Comparison` and, per other scheme, each
    customer's move (``"up"``, ``"down"``, ``"same"``, ``""`` without a tier under both), in
    :func:`customer_union` order. Positions are tier indices, scaled to 0..1 when the tier
    lists differ.
    """
    names = list(current)
    base = names[0]
    ids = customer_union(current)
    pos = {n: tier_positions(current[n].reindex(ids)) for n in names}
    rows, moves = [], {}
    eps = 1e-9
    for n in names[1:]:
        same_names = list(schemes[base].tier_names) == list(schemes[n].tier_names)
        a, b = pos[base], pos[n]
        both = ~np.isnan(a) & ~np.isnan(b)
        up = both & (b > a + eps)
        down = both & (b < a - eps)
        moves[n] = np.where(up, "up", np.where(down, "down", np.where(both, "same", "")))
        rows.append({"scheme": n, "up": int(up.sum()), "down": int(down.sum()),
                     "unchanged": int((both & ~up & ~down).sum()), "total": int(both.sum()),
                     "only_one": int((np.isnan(a) ^ np.isnan(b)).sum()),
                     "scaled": not same_names})
    table = pd.DataFrame(rows, columns=["scheme", "up", "down", "unchanged", "total",
                                        "only_one", "scaled"]).set_index("scheme")
    return table, moves


def most_affected(current: Mapping[str, pd.Series], histories: Mapping[str, TierHistory],
                  revenue: pd.Series, moves: Mapping[str, np.ndarray], top: int) -> pd.DataFrame:
    """The *top* customers by revenue whose tier moves under some other scheme.

    With each scheme's tier and latest change reason, and the move under each other scheme
    (*moves* as :func:`movement` returns them).
    """
    ids = customer_union(current)
    differs = np.zeros(len(ids), dtype=bool)
    for move in moves.values():
        differs |= np.isin(move, ("up", "down"))
    aff = pd.DataFrame({"customer_id": ids.to_numpy(dtype=object)})
    for n, tiers in current.items():
        aff[f"tier_{n}"] = tiers.reindex(ids).array
    aff["revenue"] = revenue.reindex(ids, fill_value=0.0).to_numpy()
    for n, hist in histories.items():
        aff[f"reason_{n}"] = hist.current["reason"].reindex(ids).to_numpy()
    for n, move in moves.items():
        aff[f"move_{n}"] = move
    aff = aff[differs]
    aff = aff.sort_values(["revenue", "customer_id"], ascending=[False, True], kind="stable")
    return aff.head(int(top)).reset_index(drop=True)


def stability_table(histories: Mapping[str, TierHistory]
                    ) -> tuple[dict[str, Stability], pd.DataFrame]:
    """:func:`~tierlab.evaluate.stability` of each run, and the per-scheme table of it."""
    names = list(histories)
    stabilities = {n: stability(histories[n]) for n in names}
    table = pd.DataFrame({
        "changes_per_customer_year": [stabilities[n].changes_per_customer_year for n in names],
        "flicker_rate": [stabilities[n].flicker_rate for n in names],
        "mean_reviews_in_tier": [stabilities[n].mean_reviews_in_tier for n in names],
        "mean_share_changed": [stabilities[n].per_review["share_changed"].mean() for n in names],
    }, index=pd.Index(names, name="scheme"))
    return stabilities, table


def holdout_runs(schemes: Mapping[str, TierScheme], tx: pd.DataFrame,
                 customers: pd.DataFrame | None, cutoff: pd.Timestamp, end: pd.Timestamp
                 ) -> tuple[dict[str, TierHistory], dict[str, Validity]]:
    """Run each scheme on the data up to *cutoff*; score its tiers then against later spend."""
    start = cutoff + pd.Timedelta(days=1)
    histories: dict[str, TierHistory] = {}
    validities: dict[str, Validity] = {}
    for n, scheme in schemes.items():
        hh = scheme.run(tx, customers=customers, end=cutoff)
        histories[n] = hh
        if hh.reviews[0] > cutoff:
            raise DataError(f"compare_schemes: scheme {n!r} has no review on or before the "
                            f"cutoff {cutoff.date()}; use a shorter holdout_months")
        validities[n] = holdout_validity(hh.at(cutoff), tx, start, end)
    return histories, validities


def validity_table(validities: Mapping[str, Validity]) -> pd.DataFrame:
    """One row per scheme: Spearman's rho and p-value, ordered, top-tier lift, customers."""
    return pd.DataFrame({
        "spearman": [validities[n].spearman for n in validities],
        "spearman_pvalue": [validities[n].spearman_pvalue for n in validities],
        "ordered": [validities[n].ordered for n in validities],
        "top_tier_lift": [validities[n].top_tier_lift for n in validities],
        "customers": [validities[n].customers for n in validities],
    }, index=pd.Index(list(validities), name="scheme"))
