"""Rule-change impact: compare tier schemes on the same data, sweep one threshold.

:func:`compare_schemes` runs every scheme on the same transactions and sets the first one (the
baseline, e.g. ``"current"``) against each other one: who moves up or down, revenue and benefit
cost per tier, the customers most affected with the reasons each scheme gives, stability, and
how well each scheme's tiers predicted spend in a holdout period. :func:`threshold_sweep` shows
tier sizes as one setting of a scheme varies (copies via :meth:`TierScheme.with_value`; files are
never edited).

The comparison is a sequence of named steps (:mod:`tierlab.impact`): revenue and cost,
movement, most affected, stability, validity. Loops run over schemes, tiers and sweep values
only; everything per customer is vectorized.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tierlab.errors import ArgumentError, DataError
from tierlab.evaluate import (
    Stability,
    Validity,
    holdout_cutoff,
    migration_matrix,
    tier_summary,
)
from tierlab.evaluate.common import as_tiers
from tierlab.frames import check_transactions
from tierlab.impact import (
    customer_revenue,
    holdout_runs,
    most_affected,
    movement,
    revenue_and_cost,
    stability_table,
    validity_table,
)
from tierlab.jsonable import to_jsonable
from tierlab.tiers.history import TierHistory
from tierlab.tiers.scheme import TierScheme

__all__ = ["compare_schemes", "Comparison", "threshold_sweep"]

#: What :func:`compare_schemes` accepts per scheme: a scheme, a YAML path or a run history.
SchemeLike = TierScheme | str | Path | TierHistory


# --------------------------------------------------------------------------- result
@dataclass
class Comparison:
    """What :func:`compare_schemes` found; the first scheme is the baseline.

    Attributes
    ----------
    names : list of str
        Scheme names in the order given (``names[0]`` is the baseline).
    schemes : dict
        name → TierScheme.
    histories : dict
        name → TierHistory run on all the data (gives the current assignment: last review).
    holdout_histories : dict
        name → TierHistory run on the data up to ``cutoff`` (for ``validity``).
    summaries : dict
        name → :func:`~tierlab.evaluate.tier_summary` of the current assignment (revenue over all
        the data).
    migration : dict
        other name → :func:`~tierlab.evaluate.migration_matrix` baseline → other.
    movement : DataFrame
        Indexed by other scheme: ``up``, ``down``, ``unchanged``, ``total`` (customers with a
        tier under both), ``only_one`` (customers with a tier under one only), ``scaled``
        (positions compared on a 0–1 scale because the tier lists differ).
    revenue_cost : DataFrame
        Long: ``scheme``, ``tier``, ``customers``, ``revenue``, ``revenue_share``,
        ``benefit_cost`` (per year), ``benefit_cost_per_review`` (per member).
    affected : DataFrame
        The ``top`` customers with the largest revenue whose tier differs between the baseline
        and some other scheme: ``customer_id``, ``tier_<name>`` per scheme, ``revenue``,
        ``reason_<name>`` per scheme and ``move_<other>`` (up / down / same) per other scheme.
    stability : DataFrame
        Indexed by scheme: ``changes_per_customer_year``, ``flicker_rate``,
        ``mean_reviews_in_tier``, ``mean_share_changed`` (mean over reviews).
    validity : DataFrame
        Indexed by scheme: ``spearman``, ``spearman_pvalue``, ``ordered``, ``top_tier_lift``,
        ``customers`` (empty when no holdout was asked for).
    stabilities, validities : dict
        name → the full :class:`~tierlab.evaluate.Stability` / :class:`~tierlab.evaluate.Validity`.
    cutoff : Timestamp or None
        Last day of the data the holdout runs saw; the holdout is ``(cutoff, end]``.
    end : Timestamp
        Last date in the data.
    """

    names: list[str]
    schemes: dict[str, TierScheme]
    histories: dict[str, TierHistory]
    summaries: dict[str, pd.DataFrame]
    migration: dict[str, pd.DataFrame]
    movement: pd.DataFrame
    revenue_cost: pd.DataFrame
    affected: pd.DataFrame
    stability: pd.DataFrame
    validity: pd.DataFrame
    holdout_histories: dict[str, TierHistory] = field(default_factory=dict)
    stabilities: dict[str, Stability] = field(default_factory=dict)
    validities: dict[str, Validity] = field(default_factory=dict)
    cutoff: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    # ----------------------------------------------------------------- text
    def summary_text(self) -> str:
        """A few plain-language sentences: one per other scheme, then stability and holdout.

        Example: "proposed vs current: 312 customers move up, 1,045 down, 6,400 unchanged; Gold
        revenue share 41% → 37%; benefit cost −8% (…); holdout rank correlation 0.41 vs 0.38."
        """
        base = self.names[0]
        sentences = []
        for other in self.names[1:]:
            mv = self.movement.to_dict(orient="index")[other]
            parts = [f"{other} vs {base}: {int(mv['up']):,} customers move up, "
                     f"{int(mv['down']):,} down, {int(mv['unchanged']):,} unchanged"
                     + (" (tier positions compared on a 0–1 scale: the tier lists differ)"
                        if bool(mv["scaled"]) else "")]
            parts.append(self._top_share_text(base, other))
            parts.append(self._cost_text(base, other))
            if len(self.validity):
                rho = self.validity["spearman"].to_dict()
                parts.append(f"holdout rank correlation {_num(rho[other])} vs {_num(rho[base])}")
            sentences.append("; ".join(parts) + ".")
        st = self.stability.to_dict(orient="index")
        sentences.append(
            "Tier changes per customer per year: "
            + ", ".join(f"{n} {_num(st[n]['changes_per_customer_year'])}" for n in self.names)
            + "; customers flickering (A→B→A): "
            + ", ".join(f"{n} {_pct(st[n]['flicker_rate'], 1)}" for n in self.names) + ".")
        if len(self.validity) and self.cutoff is not None and self.end is not None:
            v = self.validity.to_dict(orient="index")
            ordered = [n for n in self.names if bool(v[n]["ordered"])]
            not_ordered = [n for n in self.names if not bool(v[n]["ordered"])]
            text = (f"Holdout: tiers at {self.cutoff.date()} scored against spend from "
                    f"{(self.cutoff + pd.Timedelta(days=1)).date()} to {self.end.date()}; "
                    "per-tier holdout spend rises with the tier under ")
            text += _and(ordered) if ordered else "no scheme"
            if not_ordered:
                text += f" but not under {_and(not_ordered)}"
            text += ("; top-tier lift " + ", ".join(
                f"{n} {_num(v[n]['top_tier_lift'])}" for n in self.names) + ".")
            sentences.append(text)
        return " ".join(sentences)

    def _top_share_text(self, base: str, other: str) -> str:
        a, b = self.summaries[base], self.summaries[other]
        ta, tb = str(a.index[-1]), str(b.index[-1])
        sa, sb = a["revenue_share"].iloc[-1], b["revenue_share"].iloc[-1]
        digits = 0 if round(sa * 100) != round(sb * 100) else 1
        label = f"{ta} revenue share" if ta == tb else f"top tier ({ta} → {tb}) revenue share"
        return f"{label} {_pct(sa, digits)} → {_pct(sb, digits)}"

    def _cost_text(self, base: str, other: str) -> str:
        rc = self.revenue_cost.groupby("scheme", sort=False)["benefit_cost"].sum()
        ca, cb = float(rc.get(base, 0.0)), float(rc.get(other, 0.0))
        if ca == cb:
            return f"benefit cost unchanged ({ca:,.0f} per year)"
        if ca == 0:
            return f"benefit cost 0 → {cb:,.0f} per year"
        change = (cb - ca) / ca
        sign = "+" if change > 0 else "−"
        return (f"benefit cost {sign}{abs(change):.0%} ({ca:,.0f} → {cb:,.0f} per year)")

    # ----------------------------------------------------------------- json
    def to_dict(self) -> dict:
        """JSON-ready dict of every table (for ``metrics.json``); NaN → None, dates as text."""
        summaries = {}
        for name, s in self.summaries.items():
            s = s.copy()
            s.index = s.index.astype(str)
            summaries[name] = s.to_dict(orient="index")
        migration = {}
        for name, m in self.migration.items():
            migration[name] = {str(r): {str(c): m.loc[r, c] for c in m.columns} for r in m.index}
        affected = self.affected.copy()
        for c in affected.columns:
            if isinstance(affected[c].dtype, pd.CategoricalDtype):
                affected[c] = affected[c].astype(object)
        return to_jsonable({
            "baseline": self.names[0],
            "schemes": {n: {"name": s.name, "source": s.source, "tiers": s.tier_names}
                        for n, s in self.schemes.items()},
            "cutoff": self.cutoff,
            "end": self.end,
            "movement": self.movement.to_dict(orient="index"),
            "summaries": summaries,
            "migration": migration,
            "revenue_cost": self.revenue_cost.assign(tier=self.revenue_cost["tier"].astype(str)),
            "affected": affected,
            "stability": {n: s.to_dict() for n, s in self.stabilities.items()},
            "validity": {n: v.to_dict() for n, v in self.validities.items()},
            "summary": self.summary_text(),
        })

    def __repr__(self) -> str:
        return f"<Comparison {' vs '.join(self.names)}>\n{self.summary_text()}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _pct(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x * 100:.{digits}f}%"


# --------------------------------------------------------------------------- helpers
def _resolve(name: str, value: object) -> tuple[TierScheme, TierHistory | None]:
    if isinstance(value, TierHistory):
        return value.scheme, value
    if isinstance(value, TierScheme):
        return value, None
    if isinstance(value, str | Path):
        return TierScheme.from_yaml(value), None
    raise ArgumentError(f"schemes[{name!r}]: expected a TierScheme, a path to a YAML scheme or "
                        f"a TierHistory, got {type(value).__name__}")


# --------------------------------------------------------------------------- arguments
def check_compare_arguments(schemes: object, tx: pd.DataFrame, top: object,
                            holdout_months: object) -> None:
    """Fail early on unusable data or arguments of :func:`compare_schemes`."""
    check_transactions(tx, "compare_schemes")
    if len(tx) == 0:
        raise DataError("compare_schemes: no transactions")
    if not isinstance(schemes, Mapping) or not schemes:
        raise ArgumentError("compare_schemes: give the schemes as a dict, baseline first, e.g. "
                            "{'current': 'data/rules/a.yaml', 'proposed': 'data/rules/b.yaml'}")
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 0:
        raise ArgumentError(f"compare_schemes: top must be a whole number ≥ 0, got {top!r}")
    if holdout_months is not None and (isinstance(holdout_months, bool) or not isinstance(
            holdout_months, int | np.integer) or holdout_months < 0):
        raise ArgumentError(f"compare_schemes: holdout_months must be a whole number of months "
                            f"(or None to skip the holdout), got {holdout_months!r}")


# --------------------------------------------------------------------------- compare
def compare_schemes(schemes: Mapping[str, SchemeLike], tx: pd.DataFrame,
                    customers: pd.DataFrame | None = None, *,
                    holdout_months: int | None = 6, top: int = 20) -> Comparison:
    """Compare tier schemes on the same transactions; the first one is the baseline.

    Parameters
    ----------
    schemes : mapping
        ``{"current": a, "proposed": b, ...}``; values may be a :class:`TierScheme`, a path to
        a YAML scheme or a :class:`~tierlab.TierHistory` already run (used as is for the
        current assignment; for the holdout its scheme is re-run without overrides).
    tx : DataFrame
        Canonical transactions.
    customers : DataFrame, optional
        Customer table, for schemes that test customer attributes and for satisfaction in the
        tier summaries.
    holdout_months : int or None, default 6
        Holdout length. Each scheme is also run on the data up to ``cutoff = last date −
        holdout_months`` months; the tier in force at the cutoff (``hist.at(cutoff)``: the last
        review on or before it) is scored with :func:`~tierlab.evaluate.holdout_validity`
        against spend in ``(cutoff, last date]``. ``None`` or 0 skips the holdout.
    top : int, default 20
        How many affected customers to list.

    Returns
    -------
    Comparison
        See :class:`Comparison`. Definitions:

        - the *current assignment* of a scheme is its tier at the last review of a run on all
          the data (``hist.current["tier"]``);
        - *up / down / unchanged* compare each customer's tier position under another scheme
          with the baseline's. When the two tier name lists are equal, positions are tier
          indices; when they differ, positions are scaled to 0..1 (lowest 0, highest 1) so that
          schemes with different numbers of tiers can be compared (``movement["scaled"]``);
        - *revenue* per tier is the net spend over all of ``tx`` of the customers currently in
          the tier, so it sums to the total revenue of the scheme's customers;
        - *benefit_cost* is annualized at the current membership: members × the tier's
          ``benefit_cost`` (per member per review) × reviews per year (12 monthly, 4 quarterly,
          2 half-yearly, 1 yearly);
        - *affected* customers are those whose tier position differs from the baseline's under
          at least one other scheme, largest revenue first, with each scheme's tier and the
          reason of its latest change (``hist.current["reason"]``);
        - *stability* uses :func:`~tierlab.evaluate.stability` on the all-data runs.

    Examples
    --------
    >>> from tierlab.datasets import sample_transactions
    >>> cmp = compare_schemes({"current": "data/rules/monthly_spend.yaml",
    ...                        "proposed": "data/rules/monthly_spend_strict.yaml"},
    ...                       sample_transactions())  # doctest: +SKIP
    >>> print(cmp.summary_text())  # doctest: +SKIP
    """
    # over 60 lines only with its docstring: the body runs the named steps in order
    check_compare_arguments(schemes, tx, top, holdout_months)
    names = [str(n) for n in schemes]
    end = pd.Timestamp(tx["timestamp"].max()).normalize()
    resolved = {str(n): _resolve(str(n), v) for n, v in schemes.items()}
    scheme_of = {n: s for n, (s, _) in resolved.items()}
    histories = {n: (h if h is not None else s.run(tx, customers=customers))
                 for n, (s, h) in resolved.items()}
    current = {n: as_tiers(h.current["tier"], f"schemes[{n!r}]") for n, h in histories.items()}

    summaries = {n: tier_summary(current[n], tx, customers=customers) for n in names}
    revenue_cost = revenue_and_cost(scheme_of, summaries)
    migration = {n: migration_matrix(current[names[0]], current[n]) for n in names[1:]}
    moved, moves = movement(current, scheme_of)
    affected = most_affected(current, histories, customer_revenue(tx), moves, int(top))
    stabilities, stab = stability_table(histories)
    cutoff = None
    holdout_histories: dict[str, TierHistory] = {}
    validities: dict[str, Validity] = {}
    if holdout_months:
        cutoff = holdout_cutoff(tx, end, int(holdout_months))
        holdout_histories, validities = holdout_runs(scheme_of, tx, customers, cutoff, end)

    return Comparison(names=names, schemes=scheme_of, histories=histories, summaries=summaries,
                      migration=migration, movement=moved, revenue_cost=revenue_cost,
                      affected=affected, stability=stab, validity=validity_table(validities),
                      holdout_histories=holdout_histories, stabilities=stabilities,
                      validities=validities, cutoff=cutoff, end=end)


# --------------------------------------------------------------------------- sweep
def threshold_sweep(scheme: TierScheme | str | Path, path: str, values: Iterable[object],
                    tx: pd.DataFrame, *, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tier sizes at the last review as one setting of a scheme varies.

    Parameters
    ----------
    scheme : TierScheme or path
        The scheme to vary (a path is read with :meth:`TierScheme.from_yaml`).
    path : str
        YAML path of the setting, e.g. ``"tiers[2].when.value"`` or ``"policy.demote_after"``.
    values : iterable
        Values to try; each gives a copy ``scheme.with_value(path, v)`` (files are never edited).
    tx : DataFrame
        Canonical transactions.
    customers : DataFrame, optional
        Customer table, for schemes that test customer attributes.

    Returns
    -------
    DataFrame
        Long: ``value``, ``tier`` (ordered categorical when every copy has the same tiers),
        ``customers``, ``share`` (of customers), ``revenue`` (net spend over all of ``tx`` of
        the customers in the tier at the last review) and ``revenue_share``; one row per value
        and tier, in the order given, empty tiers included.

    Examples
    --------
    >>> from tierlab.datasets import sample_transactions
    >>> s = TierScheme.from_dict({"name": "Spend", "tiers": [
    ...     {"name": "Low"},
    ...     {"name": "High", "when": {"metric": "spend", "op": ">=", "value": 500}}]})
    >>> sweep = threshold_sweep(s, "tiers[1].when.value", [250, 500], sample_transactions())
    >>> sweep.groupby("value")["customers"].sum().tolist()
    [1876, 1876]
    """
    # over 60 lines only with its docstring and example; the body is one loop
    check_transactions(tx, "threshold_sweep")
    if isinstance(scheme, str | Path):
        scheme = TierScheme.from_yaml(scheme)
    if not isinstance(scheme, TierScheme):
        raise ArgumentError(f"threshold_sweep: expected a TierScheme or a path to a YAML scheme, "
                            f"got {type(scheme).__name__}")
    values = list(values)
    if not values:
        raise ArgumentError(f"threshold_sweep: no values to try for {path!r}")
    scheme.get_value(path)  # fails early, naming the path, when it does not exist
    revenue = customer_revenue(tx)
    frames, tier_lists = [], []
    for v in values:
        variant = scheme.with_value(path, v)
        hist = variant.run(tx, customers=customers)
        k = len(variant.tiers)
        codes = hist.codes[:, -1].astype(np.int64)
        held = codes >= 0
        rev = revenue.reindex(hist.customer_ids, fill_value=0.0).to_numpy()
        counts = np.bincount(codes[held], minlength=k)
        tier_rev = np.bincount(codes[held], weights=rev[held], minlength=k)
        n, total = counts.sum(), tier_rev.sum()
        tier_lists.append(variant.tier_names)
        frames.append(pd.DataFrame({
            "value": [v] * k,
            "tier": variant.tier_names,
            "customers": counts.astype(np.int64),
            "share": counts / n if n else np.zeros(k),
            "revenue": tier_rev,
            "revenue_share": tier_rev / total if total else np.full(k, np.nan),
        }))
    out = pd.concat(frames, ignore_index=True)
    if all(t == tier_lists[0] for t in tier_lists):
        out["tier"] = pd.Categorical(out["tier"], categories=tier_lists[0], ordered=True)
    return out
