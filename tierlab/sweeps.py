"""The numeric settings of a scheme that a slider or a threshold sweep can vary.

:func:`threshold_paths` lists every numeric threshold in a scheme's tier conditions as a YAML
path for :meth:`TierScheme.with_value`; :func:`default_sweep` picks the one a sweep varies when
none is named, and :func:`sweep_values` spreads values around a current one. They belong with
the scheme and comparison layer (:mod:`tierlab.tiers`, :mod:`tierlab.compare`) and sit beside
``compare.py``, used by :mod:`tierlab.explore` and the study notebooks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tierlab.errors import SchemeError

if TYPE_CHECKING:
    from tierlab.tiers.scheme import TierScheme

__all__ = ["ThresholdPath", "default_sweep", "sweep_values", "threshold_paths"]


@dataclass(frozen=True)
class ThresholdPath:
    """A numeric setting of a scheme that a slider or a sweep can vary.

    Attributes
    ----------
    path : str
        YAML path of the value (``tiers[2].when.value``).
    value : float
        Its current value.
    tier : str
        The tier whose condition holds it.
    description : str
        Tier, metric or attribute, window and operator, for a label.
    integer : bool
        The value is written as a whole number.
    """

    path: str
    value: float
    tier: str
    description: str
    integer: bool = False


def _conditions(node: Any, path: str, tier: str) -> list[ThresholdPath]:
    """The numeric thresholds in one condition tree (``all``/``any`` nest conditions)."""
    if not isinstance(node, dict):
        return []
    found: list[ThresholdPath] = []
    value = node.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        what = node.get("metric") or node.get("attribute") or "value"
        window = f" ({node['window']})" if node.get("window") else ""
        found.append(ThresholdPath(f"{path}.value", float(value), tier,
                                   f"{tier}: {what}{window} {node.get('op', '')}",
                                   isinstance(value, int)))
    for key in ("all", "any"):
        for i, child in enumerate(node.get(key) or []):
            found.extend(_conditions(child, f"{path}.{key}[{i}]", tier))
    return found


def threshold_paths(scheme: TierScheme) -> list[ThresholdPath]:
    """Every numeric threshold of a scheme's tier conditions, lowest tier first.

    Parameters
    ----------
    scheme : TierScheme
        The scheme.

    Returns
    -------
    list of ThresholdPath
        ``path`` is a YAML path for :meth:`TierScheme.with_value` (``tiers[2].when.value``,
        ``tiers[1].when.any[0].value``…).
    """
    found: list[ThresholdPath] = []
    for i, t in enumerate(scheme.to_dict().get("tiers", [])):
        if isinstance(t, dict) and t.get("when") is not None:
            found.extend(_conditions(t["when"], f"tiers[{i}].when", str(t.get("name"))))
    return found


def default_sweep(scheme: TierScheme) -> str:
    """YAML path of the setting a sweep varies by default: the top tier's first threshold.

    Parameters
    ----------
    scheme : TierScheme
        The scheme.

    Returns
    -------
    str
        A YAML path such as ``tiers[2].when.value``.

    Raises
    ------
    SchemeError
        The scheme has no numeric threshold.
    """
    paths = threshold_paths(scheme)
    if not paths:
        raise SchemeError(f"{scheme.name}: no numeric threshold to sweep; pass sweep='<YAML path>'"
                          ", e.g. 'policy.demote_after'")
    top = [p for p in paths if p.tier == scheme.tier_names[-1]]
    return top[0].path if top else paths[-1].path


def sweep_values(value: float, *, steps: int = 11, low: float = 0.5,
                 high: float = 1.5) -> list[float]:
    """``steps`` evenly spaced values from ``low × value`` to ``high × value`` (rounded).

    Values are rounded to three significant digits of ``value``; duplicates after rounding are
    dropped.

    Parameters
    ----------
    value : float
        The current value.
    steps : int
        How many values.
    low, high : float
        The range as multiples of ``value``.

    Returns
    -------
    list of float
        Sorted values.
    """
    vals = np.linspace(low * value, high * value, steps)
    digits = max(0, 2 - int(math.floor(math.log10(abs(value))))) if value else 2
    return sorted({float(round(v, digits)) for v in vals})
