"""Scheme lint: warnings about a valid scheme that is probably not what was meant.

Static checks read the conditions only: gaps (a capped lower tier while the next tier needs
more than the cap, so big spenders fall through), tiers that can never be reached (contradictory
conditions) and floors out of order between tiers. Given transactions, or the history of a run,
it also reports tiers nobody ever qualifies for.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tierlab.tiers.conditions import AllOf, AnyOf, Condition, Metric, format_value

if TYPE_CHECKING:
    import pandas as pd

    from tierlab.tiers.history import TierHistory
    from tierlab.tiers.scheme import TierScheme

__all__ = ["lint_scheme", "static_warnings"]


def lint_scheme(scheme: TierScheme, tx: pd.DataFrame | None = None,
                customers: pd.DataFrame | None = None, *,
                history: TierHistory | None = None) -> list[str]:
    """Every warning about ``scheme`` (see :meth:`TierScheme.lint`)."""
    warnings = static_warnings(scheme)
    hist = history
    if hist is None and tx is not None:
        hist = scheme.run(tx, customers=customers)
    if hist is not None:
        qualified = hist.qualified_counts()
        for k, t in enumerate(scheme.tiers[1:], start=1):
            if qualified[k] == 0:
                warnings.append(
                    f"tiers[{k}] ({t.name}) is empty: no customer qualifies for it at any "
                    "review in the data"
                )
    return warnings


def _and_leaves(c: Condition | None) -> list[Metric]:
    """Metric leaves that must all hold for ``c`` to hold (top-level conjunction)."""
    if isinstance(c, Metric):
        return [c]
    if isinstance(c, AllOf):
        return [leaf for p in c.parts for leaf in _and_leaves(p)]
    return []


def _interval(leaves: list[Metric]) -> dict[tuple[str, str | None], tuple[float, float, bool]]:
    """Per (metric, window): the feasible interval (lo, hi, empty?) implied by AND-ed leaves."""
    out: dict[tuple[str, str | None], tuple[float, float]] = {}
    for leaf in leaves:
        lo, hi = out.get((leaf.metric, leaf.window), (-math.inf, math.inf))
        v = leaf.value
        if leaf.op in (">", ">="):
            lo = max(lo, v + (1e-12 if leaf.op == ">" else 0))
        elif leaf.op in ("<", "<="):
            hi = min(hi, v - (1e-12 if leaf.op == "<" else 0))
        elif leaf.op == "==":
            lo, hi = max(lo, v), min(hi, v)
        out[(leaf.metric, leaf.window)] = (lo, hi)
    return {k: (lo, hi, lo > hi) for k, (lo, hi) in out.items()}


def _gaps(scheme: TierScheme, k: int) -> list[str]:
    """A cap on tier ``k`` while tier ``k + 1`` needs something else: customers fall through."""
    t, nxt = scheme.tiers[k], scheme.tiers[k + 1]
    nxt_leaves = _and_leaves(nxt.when)
    out = []
    for cap in (leaf for leaf in _and_leaves(t.when) if leaf.op in ("<", "<=")):
        same = (cap.metric, cap.window)
        floor = [n for n in nxt_leaves if (n.metric, n.window) == same and n.op in (">", ">=")]
        others = [n for n in nxt_leaves if (n.metric, n.window) != same]
        gap_in_value = bool(floor) and floor[0].value > cap.value
        if others or gap_in_value or isinstance(nxt.when, AnyOf):
            needs = " and ".join(n.describe() for n in others) or (
                floor[0].describe() if floor else nxt.when.describe() if nxt.when else "")
            out.append(
                f"gap: tiers[{k}] ({t.name}) is capped at {cap.describe()} while "
                f"tiers[{k + 1}] ({nxt.name}) also needs {needs}: customers above the "
                f"cap who miss that fall to a lower tier than {t.name}"
            )
    return out


def static_warnings(scheme: TierScheme) -> list[str]:
    """Warnings from the conditions alone: unreachable tiers, gaps, floors out of order."""
    warnings: list[str] = []
    for k, t in enumerate(scheme.tiers[1:], start=1):
        for (metric, window), (_lo, _hi, empty) in _interval(_and_leaves(t.when)).items():
            if empty:
                warnings.append(
                    f"tiers[{k}] ({t.name}) can never be reached: its conditions on {metric}"
                    f"{' ' + window if window else ''} contradict each other"
                )
        if k + 1 < len(scheme.tiers):
            warnings.extend(_gaps(scheme, k))
    # thresholds out of order: the same (metric, window) floor should rise with the tier
    floors: dict[tuple[str, str | None], tuple[int, float]] = {}
    for k, t in enumerate(scheme.tiers[1:], start=1):
        for leaf in _and_leaves(t.when):
            if leaf.op not in (">", ">="):
                continue
            key = (leaf.metric, leaf.window)
            if key in floors and leaf.value < floors[key][1]:
                j, v = floors[key]
                warnings.append(
                    f"thresholds out of order: tiers[{k}] ({t.name}) needs {leaf.describe()} "
                    f"but the lower tiers[{j}] ({scheme.tiers[j].name}) needs {format_value(v)}"
                )
            floors[key] = (k, leaf.value)
    return warnings
