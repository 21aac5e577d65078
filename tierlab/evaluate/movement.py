"""Tier stability over a history: changes per customer-year, flicker, time in tier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError
from tierlab.jsonable import to_jsonable

if TYPE_CHECKING:
    from tierlab.tiers.history import TierHistory

__all__ = ["Stability", "stability"]


@dataclass
class Stability:
    """How often tiers change (see :func:`stability`).

    Attributes
    ----------
    per_review : DataFrame
        One row per review after the first: ``review``, ``customers`` (with a tier at this and
        the previous review), ``changed``, ``share_changed``, ``up``, ``down``.
    changes_per_customer_year : float
        Tier changes per customer per year.
    flicker_rate : float
        Share of customers with at least one A→B→A flicker.
    mean_reviews_in_tier : float
        Average length of a stay in one tier, in reviews.
    flicker_window : int
    customers : int
        Customers with a tier at some review.
    changes : int
        Tier changes (entries not counted).
    flicker_customers : int
        Customers with a flicker.
    """

    per_review: pd.DataFrame
    changes_per_customer_year: float
    flicker_rate: float
    mean_reviews_in_tier: float
    flicker_window: int = 3
    customers: int = 0
    changes: int = 0
    flicker_customers: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (per-review rows included, dates as ISO text)."""
        return to_jsonable({
            "changes_per_customer_year": self.changes_per_customer_year,
            "flicker_rate": self.flicker_rate,
            "mean_reviews_in_tier": self.mean_reviews_in_tier,
            "flicker_window": self.flicker_window,
            "customers": self.customers,
            "changes": self.changes,
            "flicker_customers": self.flicker_customers,
            "per_review": self.per_review,
        })


def stability(history: TierHistory, *, flicker_window: int = 3) -> Stability:
    """Tier stability of a :class:`~tierlab.tiers.engine.TierHistory`.

    Computed from ``history.codes`` (customers × reviews, -1 before entry), so manual overrides
    count as changes like any other; entering the scheme is not a change.

    Parameters
    ----------
    history : TierHistory
        Needs ``codes``, ``reviews`` and ``scheme.review_months``.
    flicker_window : int, default 3
        A *flicker* is a change A→B whose next change goes back to A at most ``flicker_window``
        reviews later (A→B at review i, B→A at review j, ``j - i <= flicker_window``).

    Returns
    -------
    Stability
        ``per_review`` (one row per review after the first), ``changes_per_customer_year`` =
        changes / review-to-review transitions × reviews per year (a transition is a pair of
        consecutive reviews at which the customer has a tier), ``flicker_rate`` = customers with
        a flicker / customers with a tier at some review, ``mean_reviews_in_tier`` = reviews
        held / stays (a stay ends with a change or with the last review, so ongoing stays count
        with their length so far).

    Examples
    --------
    >>> from tierlab.datasets import sample_transactions
    >>> from tierlab.tiers.scheme import TierScheme
    >>> scheme = TierScheme.from_dict({"name": "Spend", "tiers": [
    ...     {"name": "Low"},
    ...     {"name": "High", "when": {"metric": "spend", "op": ">=", "value": 500}}]})
    >>> st = stability(scheme.run(sample_transactions()))
    >>> 0 <= st.flicker_rate <= 1
    True
    """
    # over 60 lines only with its docstring; the body is one vectorized pass over codes
    if isinstance(flicker_window, bool) or not isinstance(flicker_window, int | np.integer) \
            or flicker_window < 1:
        raise ArgumentError(f"stability: flicker_window must be a whole number ≥ 1 (reviews), got "
                            f"{flicker_window!r}")
    codes = np.asarray(history.codes, dtype=np.int64)
    reviews = pd.DatetimeIndex(history.reviews)
    per_year = 12 / history.scheme.review_months
    prev, cur = codes[:, :-1], codes[:, 1:]
    both = (prev >= 0) & (cur >= 0)
    changed = both & (prev != cur)
    up = changed & (cur > prev)
    n_both = both.sum(axis=0)
    n_changed = changed.sum(axis=0)
    per_review = pd.DataFrame({
        "review": reviews[1:],
        "customers": n_both.astype(np.int64),
        "changed": n_changed.astype(np.int64),
        "share_changed": np.divide(n_changed, n_both, out=np.full(len(n_both), np.nan),
                                   where=n_both > 0),
        "up": up.sum(axis=0).astype(np.int64),
        "down": (changed & ~up).sum(axis=0).astype(np.int64),
    })
    transitions = int(both.sum())
    total_changes = int(changed.sum())
    rate = total_changes / transitions * per_year if transitions else np.nan

    # flicker: consecutive changes of a customer, the second back to where the first started
    rows, cols = np.nonzero(changed)  # row-major: by customer, then review
    frm, to = prev[rows, cols], cur[rows, cols]
    same = rows[1:] == rows[:-1]
    back = same & (to[1:] == frm[:-1]) & (cols[1:] - cols[:-1] <= flicker_window)
    flicker_customers = int(np.unique(rows[:-1][back]).size)
    present = codes >= 0
    n_customers = int(present.any(axis=1).sum())
    flicker_rate = flicker_customers / n_customers if n_customers else np.nan
    stays = n_customers + total_changes
    mean_in_tier = float(present.sum()) / stays if stays else np.nan
    return Stability(per_review=per_review, changes_per_customer_year=float(rate),
                     flicker_rate=float(flicker_rate), mean_reviews_in_tier=float(mean_in_tier),
                     flicker_window=int(flicker_window), customers=n_customers,
                     changes=total_changes, flicker_customers=flicker_customers)
