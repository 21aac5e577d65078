"""Tier schemes: parse and validate the YAML an analyst writes.

A scheme is data, never code: it is read with ``yaml.safe_load`` and checked against the format
below; nothing in it is evaluated. Every error names the file and the YAML path
(``tiers[2].when.any[0].op``), says what is wrong and what is allowed.

Format (lowest tier first; the lowest tier has no condition)::

    name: Monthly spend tiers
    review: monthly            # monthly | quarterly | half-yearly | yearly
    initial: qualified         # first review: the qualified tier (or: lowest)
    tiers:
      - name: Low
        label: 低级客户
      - name: Mid
        when: {metric: spend, window: 1M, op: ">=", value: 100}
      - name: High
        when: {metric: spend, window: 1M, op: ">", value: 500}
        promote_after: 3       # consecutive qualifying reviews needed to enter this tier
        benefit_cost: 50       # per member per review, for impact estimates
    policy:
      promote_after: 1
      demote_after: 6
      max_demotion_steps: null
      grace_reviews: 0

Conditions (:mod:`tierlab.tiers.conditions`) are ``{metric, window, op, value}`` leaves,
``{attribute, op, value}`` leaves on a customer column, or ``{all: [...]}`` / ``{any: [...]}``
of conditions (nested freely).

The typed tree (:class:`TierScheme` → :class:`Tier` → conditions) is the one source of truth:
:meth:`TierScheme.to_dict` derives the plain structure from it, and the YAML-path tools
(:meth:`~TierScheme.get_value`, :meth:`~TierScheme.with_value`) work on that derived dict.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tierlab.calendar import FREQS, REVIEWS, review_word
from tierlab.errors import ArgumentError, SchemeError, did_you_mean
from tierlab.tiers.conditions import (
    METRICS,
    OPS,
    AllOf,
    AnyOf,
    Attribute,
    Condition,
    Metric,
    format_value,
)

if TYPE_CHECKING:
    import os

    import pandas as pd

    from tierlab.tiers.history import TierHistory

__all__ = [
    "TierScheme",
    "Tier",
    "Policy",
    "Metric",
    "Attribute",
    "AllOf",
    "AnyOf",
    "Condition",
    "METRICS",
    "OPS",
    "REVIEWS",
]

_WINDOW_RE = re.compile(r"^(\d+)M$")
_TOP_KEYS = ("name", "description", "review", "initial", "tiers", "policy")
_TIER_KEYS = ("name", "label", "when", "promote_after", "benefit_cost", "description")
_POLICY_KEYS = ("promote_after", "demote_after", "max_demotion_steps", "grace_reviews")
_LEAF_KEYS = ("metric", "window", "op", "value")
_ATTR_KEYS = ("attribute", "op", "value")


@dataclass(frozen=True)
class Tier:
    """One tier: its name, optional label, qualifying condition and streak length."""

    name: str
    label: str | None = None
    when: Condition | None = None
    promote_after: int | None = None
    benefit_cost: float = 0.0
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.label is not None:
            out["label"] = self.label
        if self.description is not None:
            out["description"] = self.description
        if self.when is not None:
            out["when"] = self.when.to_dict()
        if self.promote_after is not None:
            out["promote_after"] = self.promote_after
        if self.benefit_cost:
            out["benefit_cost"] = self.benefit_cost
        return out


@dataclass(frozen=True)
class Policy:
    """How tiers change between reviews (see SPEC §3 for the exact semantics)."""

    promote_after: int = 1
    demote_after: int = 1
    max_demotion_steps: int | None = None
    grace_reviews: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"promote_after": self.promote_after, "demote_after": self.demote_after,
                "max_demotion_steps": self.max_demotion_steps,
                "grace_reviews": self.grace_reviews}


@dataclass(frozen=True)
class TierScheme:
    """A validated tier scheme. Build it with :meth:`from_yaml` or :meth:`from_dict`.

    Examples
    --------
    >>> scheme = TierScheme.from_dict({
    ...     "name": "Spend", "review": "monthly",
    ...     "tiers": [{"name": "Low"},
    ...               {"name": "High", "when": {"metric": "spend", "window": "1M",
    ...                                         "op": ">=", "value": 100}}]})
    >>> scheme.tier_names
    ['Low', 'High']
    """

    name: str
    review: str
    tiers: tuple[Tier, ...]
    policy: Policy = field(default_factory=Policy)
    initial: str = "qualified"
    description: str | None = None
    source: str | None = field(default=None, compare=False)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> TierScheme:
        """Read and validate a scheme file (``yaml.safe_load`` only)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SchemeError(f"{path}: scheme file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SchemeError(f"{path}: cannot read the scheme file: {exc}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SchemeError(f"{path}: not valid YAML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> TierScheme:
        """Validate a scheme given as a plain dict (the YAML structure)."""
        return _Parser(source).scheme(data)

    def to_dict(self) -> dict[str, Any]:
        """The scheme as a plain dict; ``from_dict(s.to_dict())`` gives an equal scheme."""
        out: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out.update(review=review_word(self.review), initial=self.initial,
                   tiers=[t.to_dict() for t in self.tiers], policy=self.policy.to_dict())
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    def with_value(self, path: str, value: Any) -> TierScheme:
        """A copy with the setting at a YAML path replaced, e.g. ``tiers[2].when.value``.

        The copy is validated like any scheme; files are never edited.
        """
        data = self.to_dict()
        parent, key = _locate(data, path, self.source)
        parent[key] = value
        data["name"] = f"{self.name} [{path}={format_value(value)}]"
        return TierScheme.from_dict(data, source=self.source)

    def get_value(self, path: str) -> Any:
        """The setting at a YAML path, e.g. ``tiers[2].when.value``."""
        parent, key = _locate(self.to_dict(), path, self.source)
        return parent[key]

    # ----------------------------------------------------------------- accessors
    @property
    def tier_names(self) -> list[str]:
        return [t.name for t in self.tiers]

    @property
    def labels(self) -> dict[str, str]:
        return {t.name: (t.label or t.name) for t in self.tiers}

    @property
    def review_months(self) -> int:
        return FREQS[self.review]

    def promote_after(self, k: int) -> int:
        """Reviews in a row qualifying for tier ``k`` needed to enter it (tier's, else policy's)."""
        t = self.tiers[k]
        return t.promote_after if t.promote_after is not None else self.policy.promote_after

    def metric_window(self, leaf: Metric) -> str | None:
        """The window a metric test reads: its own, else the review period.

        None for metrics measured at the review date (``recency_days``, ``tenure_days``).
        """
        if not METRICS[leaf.metric][0]:
            return None
        return leaf.window or f"{self.review_months}M"

    def metric_keys(self) -> list[tuple[str, str | None]]:
        """Every distinct ``(metric, window)`` the tiers test, in a stable order."""
        return sorted({(leaf.metric, self.metric_window(leaf)) for t in self.tiers
                       if t.when is not None for leaf in t.when.leaves()
                       if isinstance(leaf, Metric)}, key=str)

    def describe(self) -> str:
        lines = [f"{self.name} — reviewed {review_word(self.review)}, first review: "
                 f"{self.initial}"]
        for k, t in enumerate(self.tiers):
            cond = t.when.describe() if t.when is not None else "everyone else"
            n = self.promote_after(k)
            extra = f" ({n} reviews in a row)" if k and n > 1 else ""
            lines.append(f"  {k}. {t.name}{' / ' + t.label if t.label else ''}: {cond}{extra}")
        p = self.policy
        lines.append(f"  demotion after {p.demote_after} reviews below the tier"
                     + (f", at most {p.max_demotion_steps} tier(s) at a time"
                        if p.max_demotion_steps else "")
                     + (f", none within {p.grace_reviews} reviews of a promotion"
                        if p.grace_reviews else ""))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()

    # ----------------------------------------------------------------- running
    def run(self, tx: pd.DataFrame, customers: pd.DataFrame | None = None,
            overrides: pd.DataFrame | str | os.PathLike[str] | None = None,
            start: Any = None, end: Any = None) -> TierHistory:
        """Run the scheme over every review; see :func:`tierlab.tiers.engine.run_scheme`."""
        from tierlab.tiers.engine import run_scheme  # the engine builds on schemes

        return run_scheme(self, tx, customers=customers, overrides=overrides, start=start,
                          end=end)

    def lint(self, tx: pd.DataFrame | None = None, customers: pd.DataFrame | None = None, *,
             history: TierHistory | None = None) -> list[str]:
        """Warnings about a scheme that is valid but probably not what was meant.

        Checks gaps (a capped lower tier while the next tier needs more than the cap), tiers
        that can never be reached (contradictory conditions), thresholds out of order between
        tiers, and — given transactions, or the ``history`` of a run that already happened —
        tiers nobody ever qualifies for. See :func:`tierlab.tiers.lint.lint_scheme`.
        """
        from tierlab.tiers.lint import lint_scheme  # lint runs schemes, so it sits above

        return lint_scheme(self, tx, customers, history=history)



# --------------------------------------------------------------------------- parsing
class _Parser:
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
                    f"unknown key {k!r}{did_you_mean(k, allowed)}; allowed: {', '.join(allowed)}",
                )
        return d

    def count(self, v: Any, path: str, *, minimum: int = 1) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            need = "a positive whole number" if minimum == 1 else "a whole number ≥ 0"
            raise self.error(path, f"must be {need}, got {v!r}")
        return v

    def optional_count(self, v: Any, path: str) -> int | None:
        return None if v is None else self.count(v, path)

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
        word = data.get("review", "monthly")
        if word not in REVIEWS:
            raise self.error("review", f"unknown review frequency {word!r}"
                             f"{did_you_mean(word, REVIEWS)}; allowed: "
                             f"{', '.join(REVIEWS)}")
        initial = data.get("initial", "qualified")
        if initial not in ("qualified", "lowest"):
            raise self.error("initial", f"must be 'qualified' or 'lowest', got {initial!r}")
        policy = self.policy(data.get("policy") or {})
        tiers_raw = data["tiers"]
        if not isinstance(tiers_raw, list) or len(tiers_raw) < 2:
            raise self.error("tiers", "must be a list of at least two tiers, lowest first")
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
                                                   "policy.max_demotion_steps"),
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
        if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
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

    def condition(self, d: Any, path: str) -> Condition:
        if not isinstance(d, dict):
            raise self.error(path, f"a condition must be a mapping, got {_kind(d)}")
        if "all" in d or "any" in d:
            key = "all" if "all" in d else "any"
            self.keys(d, path, (key,), f"an {key!r} group")
            parts = d[key]
            if not isinstance(parts, list) or not parts:
                raise self.error(f"{path}.{key}", "must be a non-empty list of conditions")
            conds = tuple(self.condition(p, f"{path}.{key}[{i}]") for i, p in enumerate(parts))
            return AllOf(conds, path) if key == "all" else AnyOf(conds, path)
        if "attribute" in d:
            self.keys(d, path, _ATTR_KEYS, "an attribute condition")
            attr = d["attribute"]
            if not isinstance(attr, str) or not attr:
                raise self.error(f"{path}.attribute", "must name a customer column")
            op, value = self.op_value(d, path)
            return Attribute(attr, op, value, path)
        self.keys(d, path, _LEAF_KEYS, "a condition")
        if "metric" not in d:
            raise self.error(path, "a condition needs 'metric' (or 'attribute', 'all', 'any')")
        metric = d["metric"]
        if metric not in METRICS:
            raise self.error(f"{path}.metric", f"unknown metric {metric!r}"
                             f"{did_you_mean(metric, METRICS)}; allowed: {', '.join(METRICS)}")
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
        op = str(op).strip()
        if op not in OPS:
            raise self.error(f"{path}.op", f"unknown operator {op!r}{did_you_mean(op, OPS)}; "
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
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


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


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _locate(data: Any, path: str, source: str | None) -> tuple[Any, Any]:
    """The container and key a YAML path (``tiers[2].when.value``) points at in ``data``.

    A path that does not exist is a :class:`SchemeError` naming what is available there (it
    names a place in the rules); an empty path is an :class:`ArgumentError`.
    """
    tokens = [(m.group(1), m.group(2)) for m in _PATH_TOKEN.finditer(path)]
    if not tokens:
        raise ArgumentError(f"empty YAML path {path!r}; write e.g. 'tiers[2].when.value'")
    node = data
    keys: list[Any] = [int(i) if i is not None else k for k, i in tokens]
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        so_far = path if last else "the path"
        try:
            if last:
                if isinstance(node, dict) and key not in node:
                    raise KeyError(key)
                if isinstance(node, list):
                    node[key]  # noqa: B018 - bounds check
                return node, key
            node = node[key]
        except (KeyError, IndexError, TypeError):
            where = f"{source}: " if source else ""
            options = list(node) if isinstance(node, dict) else (
                f"0..{len(node) - 1}" if isinstance(node, list) else [])
            raise SchemeError(f"{where}{path}: {so_far} does not exist at {key!r}; "
                              f"available here: {options}") from None
    raise AssertionError("unreachable")
