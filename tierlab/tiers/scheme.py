"""Tier schemes: parse, validate and lint the YAML an analyst writes.

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

Conditions are ``{metric, window, op, value}`` leaves, ``{attribute, op, value}`` leaves on a
customer column, or ``{all: [...]}`` / ``{any: [...]}`` of conditions (nested freely).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from tierlab.calendar import FREQS, REVIEWS, review_word
from tierlab.errors import SchemeError, did_you_mean

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
OPS = (">", ">=", "<", "<=", "==", "!=", "in")
_OP_WORDS = {">": "above", ">=": "at least", "<": "below", "<=": "at most", "==": "equal to",
             "!=": "not equal to", "in": "in"}
_WINDOW_RE = re.compile(r"^(\d+)M$")
_TOP_KEYS = ("name", "description", "review", "initial", "tiers", "policy")
_TIER_KEYS = ("name", "label", "when", "promote_after", "benefit_cost", "description")
_POLICY_KEYS = ("promote_after", "demote_after", "max_demotion_steps", "grace_reviews")
_LEAF_KEYS = ("metric", "window", "op", "value")
_ATTR_KEYS = ("attribute", "op", "value")


# --------------------------------------------------------------------------- conditions
@dataclass(frozen=True)
class Metric:
    """A test of a behavioural metric over a window of months ending at the review."""

    metric: str
    window: str | None  # "3M", "YTD", "all", or None for point-in-time metrics
    op: str
    value: Any
    path: str = ""

    def leaves(self) -> list[Metric | Attribute]:
        return [self]

    def describe(self) -> str:
        return f"{self.label()} {_OP_WORDS[self.op]} {_fmt_value(self.value)}"

    def label(self) -> str:
        name = METRICS[self.metric][1]
        if self.window is None:
            return name
        if self.window == "all":
            return f"lifetime {name}"
        if self.window == "YTD":
            return f"year-to-date {name}"
        n = int(self.window[:-1])
        return f"{n}-month {name}" if n > 1 else name


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
        return f"{self.attribute} {_OP_WORDS[self.op]} {_fmt_value(self.value)}"


@dataclass(frozen=True)
class _Group:
    parts: tuple[Condition, ...]
    path: str = ""
    joiner: ClassVar[str] = ""

    def leaves(self) -> list[Metric | Attribute]:
        return [leaf for p in self.parts for leaf in p.leaves()]

    def describe(self) -> str:
        return f" {self.joiner} ".join(_paren(p) for p in self.parts)


@dataclass(frozen=True)
class AllOf(_Group):
    """Every part holds."""

    joiner: ClassVar[str] = "and"


@dataclass(frozen=True)
class AnyOf(_Group):
    """At least one part holds."""

    joiner: ClassVar[str] = "or"


Condition = Metric | Attribute | AllOf | AnyOf


def _paren(c: Condition) -> str:
    return f"({c.describe()})" if isinstance(c, _Group) else c.describe()


def _fmt_value(v: Any) -> str:
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


# --------------------------------------------------------------------------- scheme
@dataclass(frozen=True)
class Tier:
    """One tier: its name, optional label, qualifying condition and streak length."""

    name: str
    label: str | None = None
    when: Condition | None = None
    promote_after: int | None = None
    benefit_cost: float = 0.0


@dataclass(frozen=True)
class Policy:
    """How tiers change between reviews (see SPEC §3 for the exact semantics)."""

    promote_after: int = 1
    demote_after: int = 1
    max_demotion_steps: int | None = None
    grace_reviews: int = 0


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
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_yaml(cls, path: str | Path) -> TierScheme:
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
    def from_dict(cls, data: dict, *, source: str | None = None) -> TierScheme:
        """Validate a scheme given as a plain dict (the YAML structure)."""
        return _Parser(source).scheme(data)

    def to_dict(self) -> dict:
        """The scheme as a plain dict; ``from_dict(s.to_dict())`` gives an equal scheme."""
        return copy.deepcopy(self.raw)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    def with_value(self, path: str, value: Any) -> TierScheme:
        """A copy with the setting at a YAML path replaced, e.g. ``tiers[2].when.value``.

        The copy is validated like any scheme; files are never edited.
        """
        data = self.to_dict()
        parent, key = _locate(data, path, self.source)
        parent[key] = value
        name = data.get("name", self.name)
        data["name"] = f"{name} [{path}={_fmt_value(value)}]"
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
        t = self.tiers[k]
        return t.promote_after if t.promote_after is not None else self.policy.promote_after

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
    def run(self, tx, customers=None, overrides=None, start=None, end=None):
        """Run the scheme over every review; see :func:`tierlab.tiers.engine.run_scheme`."""
        from tierlab.tiers.engine import run_scheme  # engine builds on schemes, not the reverse

        return run_scheme(self, tx, customers=customers, overrides=overrides, start=start,
                          end=end)

    def lint(self, tx=None, customers=None, *, history=None) -> list[str]:
        """Warnings about a scheme that is valid but probably not what was meant.

        Checks gaps (a capped lower tier while the next tier needs more than the cap), tiers
        that can never be reached (contradictory conditions), thresholds out of order between
        tiers, and — given transactions, or the ``history`` of a run that already happened —
        tiers nobody ever qualifies for.
        """
        warnings = _lint_static(self)
        hist = history
        if hist is None and tx is not None:
            hist = self.run(tx, customers=customers)
        if hist is not None:
            qualified = hist.qualified_counts()
            for k, t in enumerate(self.tiers[1:], start=1):
                if qualified[k] == 0:
                    warnings.append(
                        f"tiers[{k}] ({t.name}) is empty: no customer qualifies for it at any "
                        "review in the data"
                    )
        return warnings


# --------------------------------------------------------------------------- parsing
class _Parser:
    def __init__(self, source: str | None):
        self.source = source

    def error(self, path: str, problem: str) -> SchemeError:
        where = f"{self.source}: " if self.source else ""
        at = f"{path}: " if path else ""
        return SchemeError(f"{where}{at}{problem}")

    def keys(self, d: Any, path: str, allowed: tuple[str, ...], what: str) -> dict:
        if not isinstance(d, dict):
            raise self.error(path, f"expected a mapping ({what}), got {_kind(d)}")
        for k in d:
            if k not in allowed:
                raise self.error(
                    _join(path, str(k)),
                    f"unknown key {k!r}{did_you_mean(k, allowed)}; allowed: {', '.join(allowed)}",
                )
        return d

    def positive_int(self, v: Any, path: str, *, allow_none: bool = False,
                     minimum: int = 1) -> int | None:
        if v is None and allow_none:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            need = "a positive whole number" if minimum == 1 else "a whole number ≥ 0"
            raise self.error(path, f"must be {need}, got {v!r}")
        return v

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
        review_word = data.get("review", "monthly")
        if review_word not in REVIEWS:
            raise self.error("review", f"unknown review frequency {review_word!r}"
                             f"{did_you_mean(review_word, REVIEWS)}; allowed: "
                             f"{', '.join(REVIEWS)}")
        review = REVIEWS[review_word]
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
        raw = copy.deepcopy(data)
        raw.setdefault("review", review_word)
        raw.setdefault("initial", initial)
        return TierScheme(name=name, review=review, tiers=tiers, policy=policy, initial=initial,
                          description=data.get("description"), source=self.source, raw=raw)

    def policy(self, d: Any) -> Policy:
        d = self.keys(d, "policy", _POLICY_KEYS, "the policy")
        return Policy(
            promote_after=self.positive_int(d.get("promote_after", 1), "policy.promote_after"),
            demote_after=self.positive_int(d.get("demote_after", 1), "policy.demote_after"),
            max_demotion_steps=self.positive_int(d.get("max_demotion_steps"),
                                                 "policy.max_demotion_steps", allow_none=True),
            grace_reviews=self.positive_int(d.get("grace_reviews", 0), "policy.grace_reviews",
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
        label = d.get("label")
        return Tier(
            name=name,
            label=None if label is None else str(label),
            when=None if when is None else self.condition(when, f"{path}.when"),
            promote_after=self.positive_int(d.get("promote_after"), f"{path}.promote_after",
                                            allow_none=True),
            benefit_cost=float(cost),
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
            return (AllOf if key == "all" else AnyOf)(conds, path)
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
        if op == "in":
            bad = [v for v in value if not _is_number(v)]
        else:
            bad = [] if _is_number(value) else [value]
        if bad:
            raise self.error(f"{path}.value", f"{metric} is compared with numbers, got {bad[0]!r}")
        return Metric(metric, window, op, value, path)

    def window(self, w: Any, path: str) -> str | None:
        if w is None:
            return None  # filled with the review period by the engine
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

    def op_value(self, d: dict, path: str) -> tuple[str, Any]:
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
    return {dict: "a mapping", list: "a list", str: f"the text {v!r}"}.get(type(v), repr(v))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _locate(data: Any, path: str, source: str | None) -> tuple[Any, Any]:
    tokens = [(m.group(1), m.group(2)) for m in _PATH_TOKEN.finditer(path)]
    if not tokens:
        raise SchemeError(f"empty YAML path {path!r}")
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


# --------------------------------------------------------------------------- linting
def _and_leaves(c: Condition | None) -> list[Metric]:
    """Metric leaves that must all hold for ``c`` to hold (top-level conjunction)."""
    if isinstance(c, Metric):
        return [c]
    if isinstance(c, AllOf):
        return [leaf for p in c.parts for leaf in _and_leaves(p)]
    return []


def _interval(leaves: list[Metric]) -> dict[tuple[str, str | None], tuple[float, float, bool]]:
    """Per (metric, window): the feasible interval (lo, hi, empty?) implied by AND-ed leaves."""
    out: dict[tuple[str, str | None], list[float]] = {}
    for leaf in leaves:
        lo, hi = out.setdefault((leaf.metric, leaf.window), [-math.inf, math.inf])
        v = leaf.value
        if leaf.op in (">", ">="):
            lo = max(lo, v + (1e-12 if leaf.op == ">" else 0))
        elif leaf.op in ("<", "<="):
            hi = min(hi, v - (1e-12 if leaf.op == "<" else 0))
        elif leaf.op == "==":
            lo, hi = max(lo, v), min(hi, v)
        out[(leaf.metric, leaf.window)] = [lo, hi]
    return {k: (lo, hi, lo > hi) for k, (lo, hi) in out.items()}


def _lint_static(s: TierScheme) -> list[str]:
    warnings: list[str] = []
    for k, t in enumerate(s.tiers[1:], start=1):
        leaves = _and_leaves(t.when)
        for (metric, window), (_lo, _hi, empty) in _interval(leaves).items():
            if empty:
                warnings.append(
                    f"tiers[{k}] ({t.name}) can never be reached: its conditions on {metric}"
                    f"{' ' + window if window else ''} contradict each other"
                )
        if k + 1 < len(s.tiers):
            nxt = s.tiers[k + 1]
            caps = [leaf for leaf in leaves if leaf.op in ("<", "<=")]
            nxt_leaves = _and_leaves(nxt.when)
            for cap in caps:
                floor = [n for n in nxt_leaves if (n.metric, n.window) == (cap.metric, cap.window)
                         and n.op in (">", ">=")]
                others = [n for n in nxt_leaves if (n.metric, n.window) != (cap.metric,
                                                                            cap.window)]
                gap_in_value = floor and floor[0].value > cap.value
                if others or gap_in_value or isinstance(nxt.when, AnyOf):
                    extra = " and ".join(n.describe() for n in others) or (
                        floor[0].describe() if floor else nxt.when.describe())
                    warnings.append(
                        f"gap: tiers[{k}] ({t.name}) is capped at {cap.describe()} while "
                        f"tiers[{k + 1}] ({nxt.name}) also needs {extra}: customers above the "
                        f"cap who miss that fall to a lower tier than {t.name}"
                    )
    # thresholds out of order: the same (metric, window) floor should rise with the tier
    floors: dict[tuple[str, str | None], tuple[int, float]] = {}
    for k, t in enumerate(s.tiers[1:], start=1):
        for leaf in _and_leaves(t.when):
            if leaf.op not in (">", ">="):
                continue
            key = (leaf.metric, leaf.window)
            if key in floors and leaf.value < floors[key][1]:
                j, v = floors[key]
                warnings.append(
                    f"thresholds out of order: tiers[{k}] ({t.name}) needs {leaf.describe()} "
                    f"but the lower tiers[{j}] ({s.tiers[j].name}) needs {_fmt_value(v)}"
                )
            floors[key] = (k, leaf.value)
    return warnings
