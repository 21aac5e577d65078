"""Stored rows → the frames :class:`~tierlab.TierHistory` gives (same columns and dtypes).

Customer ids are ordered in text (code point) order in pandas, never by the database's
collation, so DuckDB and PostgreSQL registers give identical frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tierlab.register.commit import DIRECTIONS, RULES

__all__ = ["text_order", "tier_dtype", "current_frame", "history_frame", "changes_frame",
           "explain_frame"]


def tier_dtype(latest: list[str], seen: list[str] | tuple[str, ...] = ()) -> pd.CategoricalDtype:
    """Ordered tiers of the latest scheme; names only older schemes used come first (lowest)."""
    older = sorted({str(n) for n in seen if n is not None and n not in latest})
    return pd.CategoricalDtype([*older, *latest], ordered=True)


def text_order(ids: np.ndarray) -> np.ndarray:
    """Positions that sort customer ids in text (code point) order."""
    return np.argsort(ids.astype(str), kind="stable")


def _categorical(values: pd.Series, dtype: pd.CategoricalDtype) -> pd.Categorical:
    return pd.Categorical(values.to_numpy(dtype=object), dtype=dtype)


def changes_frame(rows: pd.DataFrame, dtype: pd.CategoricalDtype, lang: str) -> pd.DataFrame:
    """``changes`` rows → customer_id, review, from_tier, to_tier, direction, rule, reason.

    Sorted by customer then review; ``reason`` is the Chinese one when ``lang="zh"`` and the
    change has it, else the English one.
    """
    order = np.lexsort((rows["review_date"].to_numpy(), rows["customer_id"].to_numpy(dtype=str)))
    rows = rows.iloc[order].reset_index(drop=True)
    reason = rows["reason"]
    if lang == "zh":
        reason = rows["reason_zh"].where(rows["reason_zh"].notna(), reason)
    return pd.DataFrame({
        "customer_id": pd.array(rows["customer_id"].to_numpy(dtype=object), dtype="str"),
        "review": rows["review_date"].astype("datetime64[ns]"),
        "from_tier": _categorical(rows["from_tier"], dtype),
        "to_tier": _categorical(rows["to_tier"], dtype),
        "direction": pd.Categorical(rows["direction"].to_numpy(dtype=object),
                                    categories=list(DIRECTIONS)),
        "rule": pd.Categorical(rows["rule"].to_numpy(dtype=object), categories=list(RULES)),
        "reason": pd.array(reason.to_numpy(dtype=object), dtype="str"),
    })


def current_frame(state: pd.DataFrame, last: pd.DataFrame, dtype: pd.CategoricalDtype,
                  labels: dict[str, str], lang: str) -> pd.DataFrame:
    """Tier per customer at the last review, with its label, since, previous tier, reason.

    ``state``: the last review's ``tier_state`` rows; ``last``: each customer's latest row of
    ``changes`` (any review).
    """
    state = state.iloc[text_order(state["customer_id"].to_numpy())]
    ids = pd.Index(pd.array(state["customer_id"].to_numpy(dtype=object), dtype="str"),
                   name="customer_id")
    out = pd.DataFrame({"tier": _categorical(state["tier"], dtype)}, index=ids)
    out["label"] = out["tier"].map(labels).astype(object)
    ch = changes_frame(last, dtype, lang)
    where = np.full(len(out), -1, dtype=np.int64)
    pos = ids.get_indexer(pd.Index(ch["customer_id"]))
    where[pos[pos >= 0]] = np.flatnonzero(pos >= 0)
    for col, name in (("since", "review"), ("previous_tier", "from_tier"),
                      ("reason", "reason")):
        out[col] = ch[name].array.take(where, allow_fill=True)
    return out


def history_frame(rows: pd.DataFrame, reviews: pd.DatetimeIndex,
                  dtype: pd.CategoricalDtype) -> pd.DataFrame:
    """``tier_state`` rows (review_date, customer_id, tier) → customer × review tiers."""
    ids, inverse = np.unique(rows["customer_id"].to_numpy(dtype=str), return_inverse=True)
    col = reviews.get_indexer(pd.DatetimeIndex(rows["review_date"]))
    codes = np.full((len(ids), len(reviews)), -1, dtype=np.int16)
    codes[inverse, col] = pd.Categorical(rows["tier"].to_numpy(dtype=object),
                                         dtype=dtype).codes
    index = pd.Index(pd.array(ids.astype(object), dtype="str"), name="customer_id")
    return pd.DataFrame(
        {d: pd.Categorical.from_codes(codes[:, j], dtype=dtype) for j, d in enumerate(reviews)},
        index=index,
    ).rename_axis(columns="review")


def explain_frame(state: pd.DataFrame, figures: pd.DataFrame,
                  changes: pd.DataFrame, lang: str) -> pd.DataFrame:
    """One customer's timeline: review, the metric figures, qualified, tier, rule, reason."""
    state = state.sort_values("review_date", kind="stable")
    out = pd.DataFrame({"review": state["review_date"].astype("datetime64[ns]").to_numpy()})
    if len(figures):
        wide = figures.pivot(index="review_date", columns="metric", values="value")
        wide = wide.reindex(index=pd.DatetimeIndex(out["review"]),
                            columns=sorted(wide.columns))
        for metric in wide.columns:
            out[str(metric)] = wide[metric].to_numpy(dtype=float)
    out["qualified"] = pd.array(state["qualified"].to_numpy(dtype=object), dtype="str")
    out["tier"] = pd.array(state["tier"].to_numpy(dtype=object), dtype="str")
    reason = changes["reason"]
    if lang == "zh":
        reason = changes["reason_zh"].where(changes["reason_zh"].notna(), reason)
    ch = pd.DataFrame({"rule": changes["rule"].to_numpy(dtype=object),
                       "reason": reason.to_numpy(dtype=object)},
                      index=pd.DatetimeIndex(changes["review_date"]))
    out = out.join(ch, on="review")
    out[["rule", "reason"]] = out[["rule", "reason"]].astype(object).fillna("")
    return out
