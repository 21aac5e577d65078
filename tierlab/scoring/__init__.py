"""RFM scores and named RFM segments.

:class:`RFMScorer` (:mod:`tierlab.scoring.scorer`) turns the per-customer frame of
:func:`tierlab.features.rfm` into scores ``1..bins``; :func:`segment_map` and
:func:`assign_segments` (:mod:`tierlab.scoring.segments`) name segments from those scores by
rules kept as data (:data:`DEFAULT_SEGMENTS`).
"""

from tierlab.scoring.scorer import DEFAULT_COLUMNS, RFMScorer
from tierlab.scoring.segments import DEFAULT_SEGMENTS, assign_segments, segment_map

__all__ = [
    "DEFAULT_COLUMNS",
    "DEFAULT_SEGMENTS",
    "RFMScorer",
    "assign_segments",
    "segment_map",
]
