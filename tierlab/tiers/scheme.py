"""Tier schemes: parse and validate the YAML an analyst writes.

A scheme is data, never code: it is read with a safe YAML loader (:mod:`tierlab.tiers.rulefile`:
no anchors or aliases, bounded size and depth) and checked against the format below
(:mod:`tierlab.tiers.parser`, which checks every type and bounds every count); nothing in it is
evaluated. Every error names the file and the YAML path (``tiers[2].when.any[0].op``), says
what is wrong and what is allowed.

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

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tierlab.calendar import FREQS, REVIEWS, review_word
from tierlab.errors import ArgumentError, SchemeError
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
        """Read and validate a scheme file.

        The file is plain YAML data (a safe loader; no anchors or aliases, at most 1 MB and
        bounded nesting: see :mod:`tierlab.tiers.rulefile`).
        """
        from tierlab.tiers.rulefile import read_rule_file  # reading sits beside parsing

        return cls.from_dict(read_rule_file(path), source=str(Path(path)))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> TierScheme:
        """Validate a scheme given as a plain dict (the YAML structure).

        Types and bounds are checked (see :mod:`tierlab.tiers.parser`).
        """
        from tierlab.tiers.parser import SchemeParser  # the parser builds these classes

        return SchemeParser(source).scheme(data)

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
