"""Per-tier summary (customers, revenue, behaviour) and the migration matrix of two assignments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tierlab.calendar import as_day
from tierlab.errors import ArgumentError, DataError
from tierlab.evaluate.common import DateLike, as_tiers, between
from tierlab.features import rfm
from tierlab.frames import check_transactions

__all__ = ["NONE_LABEL", "migration_matrix", "tier_summary"]

#: Row/column label of :func:`migration_matrix` for customers present in only one assignment.
NONE_LABEL = "(none)"


def _customer_table(customers: pd.DataFrame) -> pd.DataFrame:
    table = customers.set_index("customer_id") if "customer_id" in customers.columns \
        else customers
    table = table.copy()
    table.index = table.index.astype(str)
    if table.index.duplicated().any():
        raise DataError("customers: duplicate customer_id values; load the table with "
                        "tierlab.load_customers, which sets duplicates aside")
    return table


# --------------------------------------------------------------------------- tier summary
def tier_summary(assignment: pd.Series, tx: pd.DataFrame, *, customers: pd.DataFrame | None = None,
                 as_of: DateLike | None = None, start: DateLike | None = None,
                 end: DateLike | None = None, features: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """Customers, revenue and behaviour per tier.

    Parameters
    ----------
    assignment : Series
        ``customer_id → tier``, an ordered categorical (e.g. ``hist.current["tier"]``); its
        categories give the tiers and their order. Customers with no tier (NaN) are left out.
    tx : DataFrame
        Canonical transactions.
    customers : DataFrame, optional
        Customer table (``customer_id`` column or index); when it has ``satisfaction`` the
        result gets ``mean_satisfaction``.
    as_of : date-like, optional
        Observation date for recency; default ``end`` if given, else the last date in ``tx``.
    start, end : date-like, optional
        Revenue and orders are counted over the days ``[start, end]`` (default: all data up to
        ``as_of``).
    features : DataFrame, optional
        ``tierlab.rfm(tx, as_of=as_of)`` when it is at hand (a report computes it first): used
        instead of computing it again when the window is all the data up to ``as_of``.

    Returns
    -------
    DataFrame
        Indexed by ``tier`` (every tier in order, lowest first) with ``customers``, ``share``
        (of assigned customers), ``revenue`` (net spend in the window), ``revenue_share`` (of
        the assigned customers' revenue), ``mean_spend`` and ``mean_orders`` (per customer,
        zero-spend customers included), ``mean_recency_days`` (days from the last purchase up
        to ``as_of`` to ``as_of``, over customers with a purchase) and optionally
        ``mean_satisfaction``. Counts, revenue and shares are 0 for empty tiers; means are NaN.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                    "timestamp": pd.to_datetime(["2025-01-05", "2025-03-01",
    ...                                                 "2025-02-10", "2025-03-31"]),
    ...                    "amount": [100.0, 300.0, 50.0, 20.0]})
    >>> tiers = pd.Series(pd.Categorical(["High", "Low", "Low"], ["Low", "High"], ordered=True),
    ...                   index=["a", "b", "c"])
    >>> summary = tier_summary(tiers, tx)
    >>> summary[["customers", "revenue", "revenue_share"]]  # doctest: +NORMALIZE_WHITESPACE
          customers  revenue  revenue_share
    tier
    Low           2     70.0       0.148936
    High          1    400.0       0.851064
    """
    # over 60 lines: every per-tier column comes from the same bincounts, side by side
    check_transactions(tx, "tier_summary")
    a = as_tiers(assignment).dropna()
    if len(tx) == 0:
        raise DataError("tier_summary: no transactions")
    end_ts = None if end is None else as_day(end, "end")
    if as_of is not None:
        as_of_ts = as_day(as_of, "as_of")
    elif end_ts is not None:
        as_of_ts = end_ts
    else:
        as_of_ts = pd.Timestamp(tx["timestamp"].max()).normalize()
    end_ts = as_of_ts if end_ts is None else end_ts
    start_ts = None if start is None else as_day(start, "start")
    if start_ts is not None and start_ts > end_ts:
        raise DataError(f"tier_summary: start ({start_ts.date()}) is after end "
                        f"({end_ts.date()})")

    ids = a.index
    history = between(tx, None, as_of_ts)
    upto = (None if not len(history) else features if features is not None and
            start_ts is None and end_ts == as_of_ts else rfm(history, as_of=as_of_ts))
    recency = (upto["recency_days"].reindex(ids).astype(float) if upto is not None
               else pd.Series(np.nan, index=ids))
    window = between(tx, start_ts, end_ts)
    if len(window):  # the default window is the data up to as_of: its features are computed
        feats = (upto if upto is not None and window is history and end_ts == as_of_ts
                 else rfm(window, as_of=end_ts))
        spend = feats["monetary_total"].reindex(ids, fill_value=0.0).astype(float)
        orders = feats["frequency"].reindex(ids, fill_value=0).astype(float)
    else:
        spend = pd.Series(0.0, index=ids)
        orders = pd.Series(0.0, index=ids)

    return summary_of_customers(a, spend, orders, recency, customers)


def summary_of_customers(tiers: pd.Series, spend: pd.Series, orders: pd.Series,
                         recency: pd.Series, customers: pd.DataFrame | None = None
                         ) -> pd.DataFrame:
    """:func:`tier_summary` from each customer's tier, spend, orders and recency (one index)."""
    frame = pd.DataFrame({"tier": tiers, "spend": spend, "orders": orders, "recency": recency})
    if customers is not None and "satisfaction" in customers.columns:
        sat = _customer_table(customers)["satisfaction"]
        frame["satisfaction"] = pd.to_numeric(sat, errors="coerce").reindex(
            tiers.index.astype(str)).to_numpy()
    g = frame.groupby("tier", observed=False, sort=True)
    out = pd.DataFrame({
        "customers": g.size().astype(np.int64),
        "revenue": g["spend"].sum().astype(float),
    })
    n = out["customers"].sum()
    out.insert(1, "share", out["customers"] / n if n else 0.0)
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total else np.nan
    out["mean_spend"] = g["spend"].mean()
    out["mean_orders"] = g["orders"].mean()
    out["mean_recency_days"] = g["recency"].mean()
    if "satisfaction" in frame.columns:
        out["mean_satisfaction"] = g["satisfaction"].mean()
    out.index.name = "tier"
    return out


# --------------------------------------------------------------------------- migration
def migration_matrix(a: pd.Series, b: pd.Series, normalize: str | None = None) -> pd.DataFrame:
    """Transition counts between two assignments (review t → t+1, or scheme A → scheme B).

    Parameters
    ----------
    a, b : Series
        ``customer_id → tier`` (ordered categoricals; tier order from the categories).
    normalize : {None, "row", "all"}
        None: customer counts; ``"row"``: each row divided by its total (rows without customers
        stay 0); ``"all"``: every cell divided by the number of customers.

    Returns
    -------
    DataFrame
        Rows are the tiers of ``a`` (index name ``from``), columns the tiers of ``b`` (columns
        name ``to``), each followed by a ``(none)`` row/column: customers with a tier in only
        one assignment (missing or NaN in the other). The ``(none)``/``(none)`` cell is 0.

    Examples
    --------
    >>> cat = pd.CategoricalDtype(["Low", "High"], ordered=True)
    >>> a = pd.Series(["Low", "High", "High"], index=["x", "y", "z"], dtype=cat)
    >>> b = pd.Series(["High", "High", "Low"], index=["x", "y", "w"], dtype=cat)
    >>> migration_matrix(a, b)  # doctest: +NORMALIZE_WHITESPACE
    to      Low  High  (none)
    from
    Low       0     1       0
    High      0     1       1
    (none)    1     0       0
    """
    if normalize not in (None, "row", "all"):
        raise ArgumentError(f"migration_matrix: normalize={normalize!r}; use None, 'row' or 'all'")
    sa, sb = as_tiers(a, "a").dropna(), as_tiers(b, "b").dropna()
    ka, kb = len(sa.cat.categories), len(sb.cat.categories)
    ids = sa.index.union(sb.index)
    ca = sa.cat.codes.reindex(ids, fill_value=-1).to_numpy().astype(np.int64)
    cb = sb.cat.codes.reindex(ids, fill_value=-1).to_numpy().astype(np.int64)
    ca = np.where(ca < 0, ka, ca)
    cb = np.where(cb < 0, kb, cb)
    counts = np.bincount(ca * (kb + 1) + cb, minlength=(ka + 1) * (kb + 1))
    counts = counts.reshape(ka + 1, kb + 1).astype(np.int64)
    rows = pd.Index([*sa.cat.categories, NONE_LABEL], dtype=object, name="from")
    cols = pd.Index([*sb.cat.categories, NONE_LABEL], dtype=object, name="to")
    if normalize is None:
        return pd.DataFrame(counts, index=rows, columns=cols)
    if normalize == "row":
        tot = counts.sum(axis=1, keepdims=True)
        values = np.divide(counts, tot, out=np.zeros(counts.shape), where=tot > 0)
    else:
        tot = counts.sum()
        values = counts / tot if tot else np.zeros(counts.shape)
    return pd.DataFrame(values, index=rows, columns=cols)
