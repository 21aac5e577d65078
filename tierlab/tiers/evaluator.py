"""Conditions evaluated on every customer at once: the qualified level ``L_t`` of a review.

Metric tests read a :class:`~tierlab.tiers.metrics.ReviewMetrics`; attribute tests read the
customer table, aligned to the run's customers once and cached per condition (an attribute does
not change between reviews).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError, SchemeError, did_you_mean
from tierlab.tiers.conditions import AllOf, Attribute, Condition, Metric
from tierlab.tiers.metrics import ReviewMetrics
from tierlab.tiers.scheme import TierScheme

__all__ = ["Evaluator", "compare"]

_OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
        "==": np.equal, "!=": np.not_equal}


def compare(values: np.ndarray, op: str, value: Any) -> np.ndarray:
    """``values <op> value`` element-wise; NaN never satisfies a test."""
    if op == "in":
        out = np.isin(values, np.asarray(value, dtype=values.dtype if values.dtype != object
                                         else object))
    else:
        with np.errstate(invalid="ignore"):
            out = _OPS[op](values, value)
    if values.dtype.kind == "f":
        out &= ~np.isnan(values)
    return np.asarray(out, dtype=bool)


class Evaluator:
    """Evaluates a scheme's conditions for every customer of a run.

    Parameters
    ----------
    scheme : TierScheme
    customer_ids : Index
        The run's customers, in the order of the monthly arrays.
    customers : DataFrame, optional
        Customer table with ``customer_id`` (column or index); required when the scheme tests
        customer attributes.
    """

    def __init__(self, scheme: TierScheme, customer_ids: pd.Index,
                 customers: pd.DataFrame | None):
        self.scheme = scheme
        self.attr_cache: dict[str, np.ndarray] = {}
        self.attrs = self._align_customers(customers, customer_ids)

    def _align_customers(self, customers: pd.DataFrame | None,
                         ids: pd.Index) -> pd.DataFrame:
        needed = sorted({leaf.attribute for t in self.scheme.tiers if t.when is not None
                         for leaf in t.when.leaves() if isinstance(leaf, Attribute)})
        if not needed:
            return pd.DataFrame(index=ids)
        where = self.scheme.source or self.scheme.name
        if customers is None:
            raise ArgumentError(
                f"{where}: the scheme tests customer attribute(s) {needed}; pass customers=… "
                "(a table with customer_id and those columns)"
            )
        if "customer_id" in customers.columns:
            customers = customers.set_index("customer_id")
        missing = [a for a in needed if a not in customers.columns]
        if missing:
            raise SchemeError(
                f"{where}: attribute {missing[0]!r} is not a column of the customer table"
                f"{did_you_mean(missing[0], customers.columns)}; columns: "
                f"{list(customers.columns)}"
            )
        if customers.index.duplicated().any():
            raise DataError("the customer table has duplicate customer_id values; load it with "
                            "tierlab.load_customers, which sets duplicates aside")
        customers = customers.copy()
        customers.index = customers.index.astype(str)
        return customers[needed].reindex(ids.astype(str))

    def _attribute(self, cond: Attribute) -> np.ndarray:
        if cond.path not in self.attr_cache:
            col = self.attrs[cond.attribute]
            if cond.op == "in":
                res = col.isin(cond.value).to_numpy()
            else:
                try:
                    res = compare(col.to_numpy(), cond.op, cond.value)
                except TypeError:
                    raise SchemeError(
                        f"{cond.path}: cannot compare attribute {cond.attribute!r} "
                        f"({col.dtype}) with {cond.value!r}"
                    ) from None
                res &= col.notna().to_numpy()
            self.attr_cache[cond.path] = np.asarray(res, dtype=bool)
        return self.attr_cache[cond.path]

    def holds(self, cond: Condition, review: ReviewMetrics) -> np.ndarray:
        """Whether ``cond`` holds for each customer at ``review``."""
        if isinstance(cond, Metric):
            values = review.value(cond.metric, self.scheme.metric_window(cond))
            return compare(values, cond.op, cond.value)
        if isinstance(cond, Attribute):
            return self._attribute(cond)
        parts = [self.holds(p, review) for p in cond.parts]
        return (np.logical_and.reduce if isinstance(cond, AllOf) else np.logical_or.reduce)(parts)

    def qualified(self, review: ReviewMetrics) -> np.ndarray:
        """SPEC §3 step 1: the highest tier whose condition holds (0 when none does)."""
        level = np.zeros(len(review.entered), dtype=np.int8)
        for k, tier in enumerate(self.scheme.tiers[1:], start=1):
            if tier.when is not None:
                level[self.holds(tier.when, review)] = k
        return level
