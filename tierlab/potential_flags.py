"""Rising stars and customers at risk, flagged where the models agree.

:func:`flag_customers` combines the supervised model's predicted spend and chance of no
purchase with BG/NBD's probability that the customer is still active: a rising star is a
low-tier customer with high predicted spend who is also likely to buy and likely active, so a
customer unlikely to buy again is never a rising star; a top-tier customer is at risk when
either the supervised model expects no purchase or BG/NBD thinks they have probably left. Every
flag carries its reason in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tierlab.btyd_common import require_columns
from tierlab.errors import ArgumentError, DataError, did_you_mean
from tierlab.i18n import check_lang, text, text_per_row

__all__ = ["flag_customers"]


def _top_share_mask(values: pd.Series, share: float) -> pd.Series:
    """True for the ``share`` highest values (ties at the boundary included; NaN never)."""
    valid = values.notna()
    k = math.ceil(share * int(valid.sum()))
    ranks = values.rank(ascending=False, method="min")
    return valid & (ranks <= k)


def flag_customers(tiers: pd.Series, predictions: pd.DataFrame, *, tier_order: Sequence[str],
                   top_share: float = 0.1, risk_threshold: float | None = 0.5,
                   low_tiers: int | None = None, top_tiers: int = 1,
                   alive_threshold: float = 0.5, lang: str = "en",
                   labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Flag rising stars (low tier, high predicted spend, likely to buy) and top tiers at risk.

    Parameters
    ----------
    tiers : Series
        Customer id → tier name.
    predictions : DataFrame
        Indexed by customer id with ``predicted_spend`` and ``p_no_purchase`` and, optionally,
        ``p_alive`` (as :meth:`PotentialModel.predict` returns them).
    tier_order : sequence of str
        Tier names, lowest first.
    top_share : float
        A rising star's predicted spend is in the top ``top_share`` of all customers in
        ``predictions`` (ties at the boundary included). Also the share used for ``at_risk``
        when ``risk_threshold`` is None.
    risk_threshold : float or None
        A top-tier customer is at risk when ``p_no_purchase >= risk_threshold``; None flags the
        top ``top_share`` of ``p_no_purchase`` instead. A rising star needs
        ``p_no_purchase`` below it (below 0.5 when None).
    low_tiers : int, optional
        How many of the lowest tiers count as "low"; default the lower half,
        ``max(1, len(tier_order) // 2)`` (Low of Low/Mid/High).
    top_tiers : int
        How many of the highest tiers count as "top".
    alive_threshold : float
        Where ``p_alive`` is known, a rising star needs ``p_alive >= alive_threshold`` and a
        top-tier customer with ``p_alive < alive_threshold`` is at risk.
    lang : {"en", "zh"}
        Language of ``flag_reason``.
    labels : mapping, optional
        Tier name → the name shown in ``flag_reason`` (e.g. the scheme's Chinese labels).

    Returns
    -------
    DataFrame
        Indexed like ``tiers`` with ``tier``, ``predicted_spend``, ``p_no_purchase``,
        ``p_alive``, ``rising_star``, ``at_risk`` (bool) and ``flag_reason`` ("" when not
        flagged). Customers without a prediction are never flagged.

    Examples
    --------
    >>> tiers = pd.Series({"a": "Low", "b": "High", "c": "Mid", "d": "Low"})
    >>> pred = pd.DataFrame({"predicted_spend": [900.0, 50.0, 10.0, 950.0],
    ...                      "p_no_purchase": [0.1, 0.8, 0.3, 0.9]}, index=["a", "b", "c", "d"])
    >>> flag_customers(tiers, pred, tier_order=["Low", "Mid", "High"], top_share=0.5)[
    ...     ["rising_star", "at_risk"]]
       rising_star  at_risk
    a         True    False
    b        False     True
    c        False    False
    d        False    False
    """
    if not isinstance(tiers, pd.Series):
        raise DataError(f"flag_customers: tiers must be a Series id → tier, got "
                        f"{type(tiers).__name__}")
    require_columns(predictions, ("predicted_spend", "p_no_purchase"), "flag_customers")
    order = [str(t) for t in tier_order]
    if not order or len(set(order)) != len(order):
        raise ArgumentError("flag_customers: tier_order must list distinct tier names, lowest "
                            "first")
    if not 0 < top_share <= 1:
        raise ArgumentError(f"flag_customers: top_share={top_share!r} must be in (0, 1]")
    for name, value in (("risk_threshold", risk_threshold), ("alive_threshold", alive_threshold)):
        if value is not None and not 0 <= value <= 1:
            raise ArgumentError(f"flag_customers: {name}={value!r} must be in [0, 1]")
    check_lang(lang)
    n_low = max(1, len(order) // 2) if low_tiers is None else int(low_tiers)
    if not 1 <= n_low <= len(order) or not 1 <= top_tiers <= len(order):
        raise ArgumentError("flag_customers: low_tiers and top_tiers must be between 1 and the "
                            f"number of tiers ({len(order)})")
    names = tiers.astype("object")
    known = names.isna() | names.isin(order)
    if not known.all():
        unknown = names[~known].iloc[0]
        raise DataError(
            f"flag_customers: tier {unknown!r} (customer {names.index[~known][0]!r}) is not in "
            f"tier_order {order}{did_you_mean(unknown, order)}"
        )
    level = pd.Series(pd.Categorical(names, categories=order).codes, index=tiers.index)

    spend_top = _top_share_mask(predictions["predicted_spend"], top_share)
    p0 = predictions["p_no_purchase"]
    alive = (predictions["p_alive"] if "p_alive" in predictions.columns
             else pd.Series(np.nan, index=predictions.index))
    risky = (_top_share_mask(p0, top_share) if risk_threshold is None
             else p0 >= risk_threshold)
    buy_limit = 0.5 if risk_threshold is None else risk_threshold
    likely = (p0 < buy_limit) & ~(alive < alive_threshold)  # NaN p_alive: unknown, not a veto
    leaving = risky | (alive < alive_threshold)

    out = pd.DataFrame(index=tiers.index)
    out["tier"] = tiers
    # one alignment of the predictions to the tiers' customers (not one reindex per column)
    at = (np.arange(len(tiers)) if predictions.index.equals(tiers.index)
          else predictions.index.get_indexer(tiers.index))
    found = at >= 0

    def aligned(values: pd.Series, fill: Any) -> np.ndarray:
        arr = np.asarray(values.to_numpy(), dtype="float64" if fill is np.nan else bool)
        return np.where(found, arr[np.where(found, at, 0)], fill) if len(arr) else \
            np.full(len(at), fill)

    for col, values in (("predicted_spend", predictions["predicted_spend"]),
                        ("p_no_purchase", p0), ("p_alive", alive)):
        out[col] = aligned(values, np.nan)
    in_low = (level >= 0) & (level < n_low)
    in_top = level >= len(order) - top_tiers
    out["rising_star"] = in_low & aligned(spend_top & likely, False)
    out["at_risk"] = in_top & aligned(leaving, False)

    reason = pd.Series("", index=tiers.index, dtype=object)
    flagged = (out["rising_star"] | out["at_risk"]).to_numpy()
    f = out.loc[flagged]  # the reasons are written for the flagged customers only
    shown = names[flagged].astype(str)
    tier_text = shown.map(dict(labels)).fillna(shown) if labels else shown
    alive_pct = (f["p_alive"] * 100).round().fillna(0).astype("int64")
    alive_text = text_per_row("flag_alive", lang, f.index, alive=alive_pct).where(
        f["p_alive"].notna(), "")
    star = text_per_row(
        "flag_star", lang, f.index, tier=tier_text,
        spend=f["predicted_spend"].fillna(0).round().astype("int64"), top=f"{top_share:.0%}",
        buy=((1 - f["p_no_purchase"].fillna(1)) * 100).round().astype("int64"),
        alive=alive_text)
    risk = text_per_row("flag_risk", lang, f.index, tier=tier_text,
                        risk=(f["p_no_purchase"].fillna(0) * 100).round().astype("int64"),
                        alive=alive_text)
    star = star.where(f["rising_star"], "")
    risk = risk.where(f["at_risk"], "")
    both = f["rising_star"] & f["at_risk"]
    reason[flagged] = (star + np.where(both, text("flag_both", lang), "") + risk).astype(
        str).to_numpy()
    out["flag_reason"] = reason.astype(str)
    return out
