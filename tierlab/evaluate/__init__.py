"""Evaluate tier assignments: summaries, migration, stability, concentration, holdout validity.

Everything here works on plain inputs: an *assignment* is a Series ``customer_id → tier``
(an ordered categorical whose categories give the tier order, lowest first; e.g.
``hist.current["tier"]`` or ``hist.at(date)``), transactions are the canonical frame of
:func:`tierlab.load_transactions`, and :func:`stability` reads a
:class:`~tierlab.tiers.engine.TierHistory`. Every function returns new objects; inputs are never
changed. Dataclass results have a ``to_dict()`` that gives plain JSON-ready values (NaN becomes
``None``, dates ISO text) for ``metrics.json``.

Policies (as in :mod:`tierlab.features`): spend nets returns; orders count purchase rows
(``amount >= 0``, distinct order ids when there is an ``order_id`` column); a *purchase* is such
a row. Windows ``[start, end]`` are whole days, both ends included. Customers without a tier in an
assignment (NaN: not yet entered) are left out of per-tier figures.

Modules by metric: :mod:`~tierlab.evaluate.summary` (tier summary, migration matrix),
:mod:`~tierlab.evaluate.movement` (stability), :mod:`~tierlab.evaluate.revenue`
(concentration), :mod:`~tierlab.evaluate.holdout` (holdout validity and cutoff), over
:mod:`~tierlab.evaluate.common` (an assignment as ordered tiers, a window of days).
"""

from tierlab.evaluate.holdout import Validity, holdout_cutoff, holdout_validity
from tierlab.evaluate.movement import Stability, stability
from tierlab.evaluate.revenue import Concentration, concentration
from tierlab.evaluate.summary import NONE_LABEL, migration_matrix, tier_summary

__all__ = [
    "tier_summary",
    "migration_matrix",
    "stability",
    "Stability",
    "concentration",
    "Concentration",
    "holdout_validity",
    "holdout_cutoff",
    "Validity",
    "NONE_LABEL",
]

