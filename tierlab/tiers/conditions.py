"""Tier conditions: metric and attribute tests, combined with ``all`` / ``any``.

A condition is a small immutable tree. Leaves are :class:`Metric` (a behavioural metric over a
window of months ending at the review) and :class:`Attribute` (a column of the customer table);
:class:`AllOf` and :class:`AnyOf` combine conditions. Every node remembers its YAML path
(``tiers[2].when.any[0]``) so that errors and warnings can point at it, describes itself in
words (``3-month spend above 500``), and turns back into the plain dict it was parsed from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "METRICS",
    "OPS",
    "OP_WORDS",
    "Metric",
    "Attribute",
    "AllOf",
    "AnyOf",
    "Group",
    "Condition",
    "format_value",
    "metric_leaves",
]

#: Metrics a condition may test, with whether they take a window and a readable name.
METRICS: dict[str, tuple[bool, str]] = {
    "spend": (True, "spend"),
    "orders": (True, "orders"),
    "quantity": (True, "quantity"),
    "avg_order_value": (True, "average order value"),
    "active_months": (True, "active months"),
    "recency_days": (False, "days since last purchase"),
    "tenure_days": (False, "days since first purchase"),
    "r_score": (True, "recency score"),
    "f_score": (True, "frequency score"),
    "m_score": (True, "monetary score"),
    "rfm_score": (True, "RFM score"),
}
#: Comparison operators, in the order error messages list them.
OPS = (">", ">=", "<", "<=", "==", "!=", "in")
#: Operators in words, for descriptions and reasons.
OP_WORDS = {">": "above", ">=": "at least", "<": "below", "<=": "at most", "==": "equal to",
            "!=": "not equal to", "in": "in"}


@dataclass(frozen=True)
class Metric:
    """A test of a behavioural metric over a window of months ending at the review."""

    metric: str
    window: str | None  # "3M", "YTD", "all", or None (the review period, or point-in-time)
    op: str
    value: Any
    path: str = ""

    def leaves(self) -> list[Metric | Attribute]:
        return [self]

    def describe(self) -> str:
        return f"{self.label()} {OP_WORDS[self.op]} {format_value(self.value)}"

    def label(self) -> str:
        """The metric and its window in words: ``3-month spend``, ``lifetime orders``."""
        name = METRICS[self.metric][1]
        if self.window is None:
            return name
        if self.window == "all":
            return f"lifetime {name}"
        if self.window == "YTD":
            return f"year-to-date {name}"
        n = int(self.window[:-1])
        return f"{n}-month {name}" if n > 1 else name

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric}
        if self.window is not None:
            out["window"] = self.window
        out.update(op=self.op, value=_plain(self.value))
        return out


@dataclass(frozen=True)
class Attribute:
    """A test of a customer attribute (a column of the customer table)."""

    attribute: str
    op: str
    value: Any
    path: str = ""

    def leaves(self) -> list[Metric | Attribute]:
        return [self]

    def describe(self) -> str:
        return f"{self.attribute} {OP_WORDS[self.op]} {format_value(self.value)}"

    def to_dict(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "op": self.op, "value": _plain(self.value)}


@dataclass(frozen=True)
class Group:
    """Conditions joined by a word (``and`` / ``or``); see :class:`AllOf`, :class:`AnyOf`."""

    parts: tuple[Condition, ...]
    path: str = ""
    joiner: ClassVar[str] = ""
    key: ClassVar[str] = ""

    def leaves(self) -> list[Metric | Attribute]:
        return [leaf for p in self.parts for leaf in p.leaves()]

    def describe(self) -> str:
        return f" {self.joiner} ".join(
            f"({p.describe()})" if isinstance(p, Group) else p.describe() for p in self.parts)

    def to_dict(self) -> dict[str, Any]:
        return {self.key: [p.to_dict() for p in self.parts]}


@dataclass(frozen=True)
class AllOf(Group):
    """Every part holds."""

    joiner: ClassVar[str] = "and"
    key: ClassVar[str] = "all"


@dataclass(frozen=True)
class AnyOf(Group):
    """At least one part holds."""

    joiner: ClassVar[str] = "or"
    key: ClassVar[str] = "any"


Condition = Metric | Attribute | AllOf | AnyOf


def metric_leaves(cond: Condition | None) -> list[Metric]:
    """The metric tests of a condition (none for ``None``), in the order they are written."""
    return [] if cond is None else [x for x in cond.leaves() if isinstance(x, Metric)]


def format_value(v: Any) -> str:
    """A threshold as written in a description: ``100,000``, ``[local, remote]``, ``2.5``."""
    if isinstance(v, list | tuple):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _plain(v: Any) -> Any:
    """A copy of a list value, so that editing a scheme's dict never edits the scheme."""
    return list(v) if isinstance(v, list | tuple) else v
