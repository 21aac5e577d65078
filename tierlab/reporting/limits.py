"""Time limits of a report run: per cell and overall (``tierlab report --timeout/--deadline``).

Kept apart from :mod:`tierlab.reporting.kernel` so the command line reads the defaults without
importing the Jupyter machinery.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_CELL_TIMEOUT", "DEFAULT_DEADLINE", "RunLimits"]

#: Seconds a single cell may run by default (``tierlab report --timeout``).
DEFAULT_CELL_TIMEOUT = 600
#: Seconds the cells of one run may take together by default (``tierlab report --deadline``).
DEFAULT_DEADLINE = 7200


@dataclass
class RunLimits:
    """Time limits of one run and where it is (for the error message when one is hit).

    Parameters
    ----------
    cell : float or None
        Seconds a single cell may run (None: no limit per cell).
    deadline : float or None
        Seconds all cells of the run may take together, counted from :meth:`start`
        (None: no overall limit).
    """

    cell: float | None = DEFAULT_CELL_TIMEOUT
    deadline: float | None = DEFAULT_DEADLINE
    started: float = field(default_factory=time.monotonic)
    cell_index: int | None = None
    section: str | None = None
    stage: str | None = None

    def start(self) -> None:
        """Start the overall clock now."""
        self.started = time.monotonic()

    def remaining(self) -> float | None:
        """Seconds left before the overall deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        return self.deadline - (time.monotonic() - self.started)

    def cell_timeout(self, cell: Any = None) -> int | None:
        """Seconds this cell may run (nbclient's ``timeout_func``): the tighter of the limits."""
        limits = [x for x in (self.cell, self.remaining()) if x is not None]
        if not limits:
            return None
        return max(int(min(limits) + 0.999), 1)  # nbclient reads 0 as "no limit"

    def deadline_hit(self) -> bool:
        """Whether the overall deadline has passed (a timeout was the deadline's)."""
        left = self.remaining()
        return left is not None and left <= 1
