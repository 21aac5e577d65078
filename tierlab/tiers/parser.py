"""Validating a scheme's plain structure into the typed tree, one precise error per mistake.

Every value is checked for its type before it is used (a list where a word belongs is an error
naming its YAML path, never a ``TypeError``), and every count has a bound, so that a scheme that
passes ``check-scheme`` also runs:

=========================  ================================================================
tiers                      2 to :data:`MAX_TIERS` (tier codes are 8-bit in the engine)
``promote_after``,         1 to :data:`MAX_REVIEWS` reviews (10 years of monthly reviews);
``demote_after``           the engine's memory does not depend on them, the change log keeps
                           the figures of that many reviews
``grace_reviews``          0 to :data:`MAX_REVIEWS`
``max_demotion_steps``     1 to :data:`MAX_TIERS` (or null: no limit)
``all``/``any`` groups     nested at most :data:`MAX_GROUP_DEPTH` deep
``benefit_cost``           a finite number ≥ 0
=========================  ================================================================
"""

from __future__ import annotations

import math
import re
from typing import Any

from tierlab.calendar import REVIEWS
from tierlab.errors import SchemeError, did_you_mean
from tierlab.tiers.conditions import (
    METRICS,
    OPS,
    AllOf,
    AnyOf,
    Attribute,
    Condition,
    Metric,
)
from tierlab.tiers.scheme import Policy, Tier, TierScheme

__all__ = ["SchemeParser", "MAX_TIERS", "MAX_REVIEWS", "MAX_GROUP_DEPTH", "suggest_op"]

#: Most tiers in a scheme.
MAX_TIERS = 100
#: Longest streak (``promote_after``, ``demote_after``) and grace period, in reviews.
MAX_REVIEWS = 120
#: Deepest nesting of ``all``/``any`` groups in one condition.
MAX_GROUP_DEPTH = 10

_WINDOW_RE = re.compile(r"^(\d+)M$")
_TOP_KEYS = ("name", "description", "review", "initial", "tiers", "policy")
_TIER_KEYS = ("name", "label", "when", "promote_after", "benefit_cost", "description")
_POLICY_KEYS = ("promote_after", "demote_after", "max_demotion_steps", "grace_reviews")
_LEAF_KEYS = ("metric", "window", "op", "value")
_ATTR_KEYS = ("attribute", "op", "value")
#: Operators written the way other languages or habits spell them.
_OP_MISTAKES = {"=>": ">=", "=<": "<=", "=": "==", "<>": "!=", "≥": ">=", "≤": "<=",
                "≠": "!=", "gt": ">", "ge": ">=", "gte": ">=", "lt": "<", "le": "<=",
                "lte": "<=", "eq": "==", "ne": "!=", "=!": "!="}


def suggest_op(op: str) -> str:
    """`` (did you mean '>='?)`` for a mistyped operator, or ``""``.

    Known slips (``=>``, ``=<``, ``=``, ``<>``, ``≥`` …) first, then the closest spelling.
    """
    known = _OP_MISTAKES.get(op.strip().lower())
    return f" (did you mean {known!r}?)" if known else did_you_mean(op, OPS)


class SchemeParser:
    """Turns the YAML structure into the typed tree, one precise error per mistake."""

    def __init__(self, source: str | None):
        self.source = source

    def error(self, path: str, problem: str) -> SchemeError:
        where = f"{self.source}: " if self.source else ""
        at = f"{path}: " if path else ""
        return SchemeError(f"{where}{at}{problem}")

    def keys(self, d: Any, path: str, allowed: tuple[str, ...], what: str) -> dict[str, Any]:
        if not isinstance(d, dict):
            raise self.error(path, f"expected a mapping ({what}), got {_kind(d)}")
        for k in d:
            if k not in allowed:
                raise self.error(
                    _join(path, str(k)),
                    f"unknown key {k!r}{did_you_mean(str(k), allowed)}; allowed: "
                    f"{', '.join(allowed)}",
                )
        return d

    def word(self, v: Any, path: str, allowed: Any, what: str) -> str:
        """A word from ``allowed`` (text, not a list or a number)."""
        if not isinstance(v, str):
            raise self.error(path, f"the {what} must be a word, got {_kind(v)}; allowed: "
                             f"{', '.join(allowed)}")
        if v not in allowed:
            raise self.error(path, f"unknown {what} {v!r}{did_you_mean(v, allowed)}; allowed: "
                             f"{', '.join(allowed)}")
        return v

    def count(self, v: Any, path: str, *, minimum: int = 1, maximum: int = MAX_REVIEWS) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            need = "a positive whole number" if minimum == 1 else "a whole number ≥ 0"
            raise self.error(path, f"must be {need}, got {v!r}")
        if v > maximum:
            raise self.error(path, f"must be at most {maximum}, got {v!r}")
        return v

    def optional_count(self, v: Any, path: str, *, maximum: int = MAX_REVIEWS) -> int | None:
        return None if v is None else self.count(v, path, maximum=maximum)

    def scheme(self, data: Any) -> TierScheme:
        if data is None:
            raise self.error("", "the scheme is empty")
        data = self.keys(data, "", _TOP_KEYS, "a tier scheme")
        for req in ("name", "tiers"):
            if req not in data:
                raise self.error("", f"missing required key {req!r}")
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            raise self.error("name", "must be a non-empty text")
        word = self.word(data.get("review", "monthly"), "review", REVIEWS, "review frequency")
        initial = data.get("initial", "qualified")
        if not isinstance(initial, str) or initial not in ("qualified", "lowest"):
            raise self.error("initial", f"must be 'qualified' or 'lowest', got {initial!r}")
        policy = self.policy(data.get("policy") or {})
        tiers_raw = data["tiers"]
        if not isinstance(tiers_raw, list) or len(tiers_raw) < 2:
            raise self.error("tiers", "must be a list of at least two tiers, lowest first")
        if len(tiers_raw) > MAX_TIERS:
            raise self.error("tiers", f"{len(tiers_raw)} tiers; a scheme has at most "
                             f"{MAX_TIERS}")
        tiers = tuple(self.tier(t, f"tiers[{i}]", i) for i, t in enumerate(tiers_raw))
        seen: dict[str, int] = {}
        for i, t in enumerate(tiers):
            if t.name in seen:
                raise self.error(f"tiers[{i}].name",
                                 f"duplicate tier name {t.name!r} (also tiers[{seen[t.name]}])")
            seen[t.name] = i
        description = data.get("description")
        return TierScheme(name=name, review=REVIEWS[word], tiers=tiers, policy=policy,
                          initial=initial,
                          description=None if description is None else str(description),
                          source=self.source)

    def policy(self, d: Any) -> Policy:
        d = self.keys(d, "policy", _POLICY_KEYS, "the policy")
        return Policy(
            promote_after=self.count(d.get("promote_after", 1), "policy.promote_after"),
            demote_after=self.count(d.get("demote_after", 1), "policy.demote_after"),
            max_demotion_steps=self.optional_count(d.get("max_demotion_steps"),
                                                   "policy.max_demotion_steps",
                                                   maximum=MAX_TIERS),
            grace_reviews=self.count(d.get("grace_reviews", 0), "policy.grace_reviews",
                                     minimum=0),
        )

    def tier(self, d: Any, path: str, index: int) -> Tier:
        d = self.keys(d, path, _TIER_KEYS, "a tier")
        name = d.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.error(f"{path}.name", "every tier needs a name (text)")
        when = d.get("when")
        if index == 0 and when is not None:
            raise self.error(f"{path}.when", f"the lowest tier ({name}) must not have a "
                             "condition: it holds everyone who qualifies for nothing higher")
        if index > 0 and when is None:
            raise self.error(path, f"tier {name!r} needs a 'when' condition (only the lowest "
                             "tier has none)")
        cost = d.get("benefit_cost", 0)
        if not _is_number(cost) or cost < 0:
            raise self.error(f"{path}.benefit_cost", f"must be a number ≥ 0, got {cost!r}")
        label, description = d.get("label"), d.get("description")
        return Tier(
            name=name,
            label=None if label is None else str(label),
            when=None if when is None else self.condition(when, f"{path}.when"),
            promote_after=self.optional_count(d.get("promote_after"), f"{path}.promote_after"),
            benefit_cost=float(cost),
            description=None if description is None else str(description),
        )

    def condition(self, d: Any, path: str, depth: int = 0) -> Condition:
        if not isinstance(d, dict):
            raise self.error(path, f"a condition must be a mapping, got {_kind(d)}")
        if "all" in d or "any" in d:
            key = "all" if "all" in d else "any"
            self.keys(d, path, (key,), f"an {key!r} group")
            if depth >= MAX_GROUP_DEPTH:
                raise self.error(path, f"'all'/'any' groups nested more than "
                                 f"{MAX_GROUP_DEPTH} deep; write the condition flatter")
            parts = d[key]
            if not isinstance(parts, list) or not parts:
                raise self.error(f"{path}.{key}", "must be a non-empty list of conditions")
            conds = tuple(self.condition(p, f"{path}.{key}[{i}]", depth + 1)
                          for i, p in enumerate(parts))
            return AllOf(conds, path) if key == "all" else AnyOf(conds, path)
        if "attribute" in d:
            self.keys(d, path, _ATTR_KEYS, "an attribute condition")
            attr = d["attribute"]
            if not isinstance(attr, str) or not attr:
                raise self.error(f"{path}.attribute", "must name a customer column")
            op, value = self.op_value(d, path)
            bad = [v for v in (value if op == "in" else [value]) if isinstance(v, list | dict)]
            if bad:
                raise self.error(f"{path}.value", f"attribute values are single words or "
                                 f"numbers, got {_kind(bad[0])}")
            return Attribute(attr, op, value, path)
        self.keys(d, path, _LEAF_KEYS, "a condition")
        if "metric" not in d:
            raise self.error(path, "a condition needs 'metric' (or 'attribute', 'all', 'any')")
        metric = self.word(d["metric"], f"{path}.metric", METRICS, "metric")
        windowed = METRICS[metric][0]
        window = d.get("window")
        if window is not None and not windowed:
            raise self.error(f"{path}.window", f"{metric} is measured at the review date and "
                             "takes no window")
        if windowed:
            window = self.window(window, path)
        op, value = self.op_value(d, path)
        bad = [v for v in (value if op == "in" else [value]) if not _is_number(v)]
        if bad:
            raise self.error(f"{path}.value", f"{metric} is compared with numbers, got {bad[0]!r}")
        return Metric(metric, window, op, value, path)

    def window(self, w: Any, path: str) -> str | None:
        if w is None:
            return None  # the review period (TierScheme.metric_window)
        if not isinstance(w, str | int) or isinstance(w, bool):
            raise self.error(f"{path}.window", f"bad window {_kind(w)}: use NM (months ending "
                             "at the review, e.g. 1M, 3M, 12M), YTD or all")
        w = str(w).strip()
        if w.upper() == "YTD":
            return "YTD"
        if w.lower() == "all":
            return "all"
        m = _WINDOW_RE.match(w.upper())
        if not m or int(m.group(1)) < 1:
            raise self.error(f"{path}.window", f"bad window {w!r}: use NM (months ending at the "
                             "review, e.g. 1M, 3M, 12M), YTD or all")
        return f"{int(m.group(1))}M"

    def op_value(self, d: dict[str, Any], path: str) -> tuple[str, Any]:
        op = d.get("op")
        if op is None:
            raise self.error(path, f"missing 'op'; allowed: {' '.join(OPS)}")
        if not isinstance(op, str):
            raise self.error(f"{path}.op", f"the operator must be text, got {_kind(op)}; "
                             f"allowed: {' '.join(OPS)}")
        op = op.strip()
        if not op:
            raise self.error(f"{path}.op", "empty operator: an unquoted > or >= is YAML syntax, "
                             "quote it, e.g. op: \">=\"")
        if op not in OPS:
            raise self.error(f"{path}.op", f"unknown operator {op!r}{suggest_op(op)}; "
                             f"allowed: {' '.join(OPS)}")
        if "value" not in d or d["value"] is None:
            raise self.error(path, "missing threshold 'value'")
        value = d["value"]
        if op == "in":
            if not isinstance(value, list) or not value:
                raise self.error(f"{path}.value", "'in' needs a non-empty list of values")
        elif isinstance(value, list | dict):
            raise self.error(f"{path}.value", f"{op!r} needs a single value, got {_kind(value)}")
        return op, value


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    return isinstance(v, int) or math.isfinite(v)


def _kind(v: Any) -> str:
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, str):
        return f"the text {v!r}"
    return repr(v)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
