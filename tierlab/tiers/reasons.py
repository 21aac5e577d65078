"""The change log of a tier run and the sentences that explain each change.

The engine records changes as numbers (customer, review, from, to, rule and the metric figures
of the reviews that decided it). Sentences a customer could be told — "spend above 500 in Mar,
Apr, May 2025: 612.00, 540.00, 980.00" — are built from them only when asked for, group by group
(rule × from × to) with pyarrow's string kernels, so a run with millions of changes formats no
string it does not show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierlab.tiers.scheme import Condition, Metric, TierScheme

__all__ = ["ChangeLog", "RULES"]

#: Rule codes as stored in the log.
RULES = np.array(["", "initial", "promotion", "demotion", "override"], dtype=object)
_MONEY = {"spend", "avg_order_value"}


def _fmt(x: np.ndarray, money: bool) -> pa.Array:
    """Numbers as text: two decimals for money, whole numbers (or up to 2 decimals) otherwise."""
    x = np.asarray(x, dtype=float)
    nan = ~np.isfinite(x)
    safe = np.where(nan, 0.0, x)
    if money:
        cents = np.round(np.abs(safe) * 100).astype(np.int64)
        whole = pc.cast(pa.array(cents // 100), pa.string())
        frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
        sign = pc.if_else(pa.array((safe < 0) & (cents > 0)), "-", "")
        text = pc.binary_join_element_wise(sign, whole, ".", frac, "")
    else:
        r = np.round(safe, 2)
        integral = r == np.round(r)
        text = pc.if_else(pa.array(integral),
                          pc.cast(pa.array(np.round(r).astype(np.int64)), pa.string()),
                          pc.cast(pa.array(r), pa.string()))
    return pc.if_else(pa.array(nan), "n/a", text)


def _join(parts: list, sep: str) -> pa.Array:
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, sep)


def review_labels(dates: pd.DatetimeIndex, review: str) -> list[str]:
    """Readable review names: ``Mar 2025``, ``Q1 2025``, ``H2 2025``, ``2025``."""
    if review == "M":
        return [d.strftime("%b %Y") for d in dates]
    if review == "Q":
        return [f"Q{(d.month - 1) // 3 + 1} {d.year}" for d in dates]
    if review == "H":
        return [f"H{(d.month - 1) // 6 + 1} {d.year}" for d in dates]
    return [str(d.year) for d in dates]


def _span_label(labels: list[str], t: int, p: int) -> str:
    """The last ``p`` reviews up to ``t``: ``Mar, Apr, May 2025`` (year once when shared)."""
    parts = labels[max(0, t - p + 1):t + 1]
    years = {x.split()[-1] for x in parts}
    if len(years) == 1 and " " in parts[0]:
        return ", ".join(x.rsplit(" ", 1)[0] for x in parts) + " " + parts[0].split()[-1]
    return ", ".join(parts)


def _leaf_keys(cond: Condition | None, window) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for leaf in (cond.leaves() if cond is not None else []):
        if isinstance(leaf, Metric):
            key = (leaf.metric, window(leaf))
            if key not in out:
                out.append(key)
    return out


@dataclass
class ChangeLog:
    """Tier changes as numbers, in the order the run made them (review, then customer).

    Nothing is sorted up front: :meth:`frame` orders by customer when the whole log is asked
    for, and :meth:`last_per_customer` finds each customer's latest change directly.

    ``figures[key]`` holds, per change, the value of metric ``key = (metric, window)`` at the
    ``width`` reviews ending at the change (oldest first).
    """

    customer: np.ndarray   # position in the history's customer index
    review: np.ndarray     # review position
    from_code: np.ndarray  # -1 for an entry
    to_code: np.ndarray
    rule: np.ndarray       # index into RULES
    override_reason: np.ndarray | None  # None when the run had no overrides
    soft: np.ndarray       # demotions cut short by max_demotion_steps
    figures: dict
    width: int

    @classmethod
    def concat(cls, chunks: list[dict], keys: list, width: int) -> ChangeLog:
        if not chunks:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty, empty, empty, np.empty(0, dtype=np.int8),
                       np.empty(0, dtype=object), np.empty(0, dtype=bool),
                       {k: np.empty((0, width)) for k in keys}, width)
        cat = {name: np.concatenate([c[name] for c in chunks])
               for name in ("customer", "review", "from_code", "to_code", "rule", "soft")}
        notes = [c["override_reason"] for c in chunks]
        cat["override_reason"] = (None if all(x is None for x in notes) else np.concatenate(
            [np.full(len(c["customer"]), None, dtype=object) if x is None else x
             for c, x in zip(chunks, notes, strict=True)]))
        figures = {k: np.concatenate([c["figures"][k] for c in chunks]) for k in keys}
        return cls(**cat, figures=figures, width=width)

    def __len__(self) -> int:
        return len(self.customer)

    def by_customer(self) -> np.ndarray:
        """Positions of all changes, by customer then review."""
        # changes are stored review by review, so a stable sort on the customer keeps that order
        return np.argsort(self.customer, kind="stable")

    def last_per_customer(self) -> np.ndarray:
        """Positions of each customer's last change, in customer order."""
        if not len(self.customer):
            return np.empty(0, dtype=np.int64)
        last = np.full(int(self.customer.max()) + 1, -1, dtype=np.int64)
        np.maximum.at(last, self.customer, np.arange(len(self.customer)))
        return last[last >= 0]

    def reasons(self, scheme: TierScheme, labels: list[str], window,
                rows: np.ndarray | None = None) -> pa.Array:
        """The sentence of each change in ``rows`` (default: all), as a pyarrow string array."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        n = len(rows)
        if n == 0:
            return pa.array([], type=pa.string())
        D = scheme.policy.demote_after
        lengths = {1, D, *(scheme.promote_after(k) for k in range(1, len(scheme.tiers)))}
        spans = {p: pa.array([_span_label(labels, t, p) for t in range(len(labels))])
                 for p in lengths}
        rule, frm, to = self.rule[rows], self.from_code[rows], self.to_code[rows]
        K = len(scheme.tiers)
        group = (rule.astype(np.int64) * (K + 1) + (frm + 1)) * K + to
        chunks: list[pa.Array] = []
        positions: list[np.ndarray] = []
        for g in np.flatnonzero(np.bincount(group)):  # (rule, from, to) groups, not changes
            sel = np.flatnonzero(group == g)
            r = rows[sel]
            chunks.append(self._group_text(scheme, spans, window, r))
            positions.append(sel)
        order = np.concatenate(positions)
        inverse_order = np.empty(n, dtype=np.int64)
        inverse_order[order] = np.arange(n)
        return pa.concat_arrays([c.cast(pa.string()) for c in chunks]).take(
            pa.array(inverse_order))

    def _group_text(self, scheme: TierScheme, spans: dict, window, r: np.ndarray) -> pa.Array:
        rule = RULES[self.rule[r[0]]]
        frm, to = int(self.from_code[r[0]]), int(self.to_code[r[0]])
        t = pa.array(self.review[r])
        names = scheme.tier_names
        if rule == "override":
            notes = pa.array(self.override_reason[r], type=pa.string())
            return pc.binary_join_element_wise("manual override: ",
                                               pc.fill_null(notes, ""), "")
        if rule == "initial" and scheme.initial == "lowest":
            return pc.binary_join_element_wise(
                "first review (", spans[1].take(t),
                f"): every customer starts in {names[0]}", "")
        if rule == "initial":
            p = 1
            cond = scheme.tiers[to].when if to else scheme.tiers[1].when
            head = (f"first review: qualifies for {names[to]} ({cond.describe()})" if to
                    else f"first review: qualifies for no tier above {names[0]}")
        elif rule == "promotion":
            p = scheme.promote_after(to)
            cond = scheme.tiers[to].when
            head = (cond.describe() if isinstance(cond, Metric)
                    else f"qualified for {names[to]} ({cond.describe()})")
        else:  # demotion
            p = scheme.policy.demote_after
            cond = scheme.tiers[frm].when
            head = f"below {names[frm]} ({cond.describe()})"
        text = pc.binary_join_element_wise(head, " in ", spans[p].take(t), "")
        keys = _leaf_keys(cond, window)
        figs = []
        for key in keys:
            vals = self.figures[key][r][:, self.width - p:]
            joined = _join([_fmt(vals[:, j], key[0] in _MONEY) for j in range(p)], ", ")
            if len(keys) > 1 or not isinstance(cond, Metric) or rule != "promotion":
                joined = pc.binary_join_element_wise(Metric(key[0], key[1], ">", 0).label(),
                                                     joined, " ")
            figs.append(joined)
        if figs:
            text = pc.binary_join_element_wise(text, _join(figs, "; "), ": ")
        steps = scheme.policy.max_demotion_steps
        if rule == "demotion" and self.soft[r].any():
            note = f" (soft landing: at most {steps} tier(s) down at a time)"
            text = pc.if_else(pa.array(self.soft[r]),
                              pc.binary_join_element_wise(text, note, ""), text)
        return text

    def frame(self, scheme: TierScheme, customer_ids: pd.Index, reviews: pd.DatetimeIndex,
              window, rows: np.ndarray | None = None) -> pd.DataFrame:
        """The log as a table: customer_id, review, from_tier, to_tier, direction, rule, reason.

        ``rows`` default: every change, by customer then review.
        """
        rows = self.by_customer() if rows is None else np.asarray(rows)
        cat = pd.CategoricalDtype(scheme.tier_names, ordered=True)
        frm, to = self.from_code[rows], self.to_code[rows]
        direction = pd.Categorical.from_codes(np.where(frm < 0, 0, np.where(to > frm, 1, 2)),
                                              categories=["new", "up", "down"])
        labels = review_labels(reviews, scheme.review)
        return pd.DataFrame({
            "customer_id": customer_ids.array.take(self.customer[rows]),
            "review": reviews[self.review[rows]],
            "from_tier": pd.Categorical.from_codes(frm, dtype=cat),
            "to_tier": pd.Categorical.from_codes(to, dtype=cat),
            "direction": direction,
            "rule": pd.Categorical.from_codes(self.rule[rows].astype(np.int64) - 1,
                                              categories=list(RULES[1:])),
            "reason": pd.array(self.reasons(scheme, labels, window, rows), dtype="str"),
        })
