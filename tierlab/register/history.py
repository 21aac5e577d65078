"""A :class:`~tierlab.TierHistory` read from a register: the committed tiers, as announced.

:meth:`Register.as_history() <tierlab.register.Register.as_history>` gives a history that the
notebooks, plots and exports take in place of ``scheme.run(...)``: ``tiers``, ``codes``,
``qualified_levels``, ``at``, ``reviews`` and ``scheme`` (the last review's) come from the
``tier_state`` table; ``changes``, ``current`` and ``explain`` are the register's own (the
reasons as they were committed). Nothing is recomputed, so ``distance`` (which needs the
transactions) is not available.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierlab.tiers.history import TierHistory
from tierlab.tiers.scheme import TierScheme

if TYPE_CHECKING:  # pragma: no cover
    from tierlab.register.register import Register

__all__ = ["RegisterHistory", "codes_of"]


def codes_of(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Customer × review tier-name frame → int8 codes of ``names`` (-1: none or not in it)."""
    index = pd.Index(names)
    codes = np.full(frame.shape, -1, dtype=np.int8)
    for j, col in enumerate(frame.columns):  # a loop over reviews, not customers
        codes[:, j] = index.get_indexer(pd.Index(frame[col].astype(object).to_numpy()))
    return codes


class RegisterHistory(TierHistory):
    """The committed history of a register, shaped like a run's :class:`TierHistory`.

    Parameters
    ----------
    register : Register
    scheme : TierScheme
        The scheme of the last committed review (tiers of earlier schemes that it does not
        have read as -1 in ``codes``).
    tiers, qualified : DataFrame
        Customer × review tier names (``Register.history()``) and qualified levels.
    """

    def __init__(self, register: Register, scheme: TierScheme, tiers: pd.DataFrame,
                 qualified: pd.DataFrame):
        names = scheme.tier_names
        super().__init__(scheme, pd.Index(tiers.index, name=None),
                         pd.DatetimeIndex(tiers.columns), codes_of(tiers, names),
                         codes_of(qualified.reindex(index=tiers.index, columns=tiers.columns),
                                  names))
        self.register = register

    @cached_property
    def changes(self) -> pd.DataFrame:
        """Every committed change with its committed reason (see ``Register.changes``)."""
        return self.register.changes()

    @cached_property
    def current(self) -> pd.DataFrame:
        """The tier table at the last committed review (see ``Register.current``)."""
        return self.register.current()

    def changes_in(self, lang: str = "en") -> pd.DataFrame:
        """:attr:`changes` with the committed reasons in *lang* (English where none is stored)."""
        return self.changes if lang == "en" else self.register.changes(lang)

    def current_in(self, lang: str = "en") -> pd.DataFrame:
        """:attr:`current` with the committed reasons in *lang* (English where none is stored)."""
        return self.current if lang == "en" else self.register.current(lang)

    def explain(self, customer_id: Any) -> pd.DataFrame:
        """One customer's committed reviews, stored figures, tiers and reasons."""
        return self.register.explain(customer_id)

    def __repr__(self) -> str:
        return f"<RegisterHistory of {self.register.where}: " + super().__repr__()[1:]
