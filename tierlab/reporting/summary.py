"""The executive summary a report opens with, and the sanity checks behind its warnings.

Plain sentences in the report's language, before any detail: the study date, the data used,
the tier mix with revenue shares, what changed since the previous review, and the warnings that
matter (:func:`sanity_checks`): a tier that is empty or holds nearly everyone, a customer table
that does not belong to the transactions, thresholds outside the data's range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierlab._kernels.factorize import factorize
from tierlab.i18n import check_lang, date_label, text
from tierlab.tiers.conditions import metric_leaves
from tierlab.tiers.reasons import describe_condition

if TYPE_CHECKING:
    from tierlab.compare import Comparison
    from tierlab.tiers.history import TierHistory
    from tierlab.tiers.scheme import TierScheme

__all__ = ["DOMINANT_SHARE", "MATCH_SHARE", "customer_match", "customer_spend", "data_sentence",
           "impact_summary", "sanity_checks", "segmentation_summary", "tier_mix", "tier_name"]

#: A tier holding at least this share of the customers is reported.
DOMINANT_SHARE = 0.95
#: A customer table matching fewer of the transactions' customers than this is reported.
MATCH_SHARE = 0.5
_REVIEW_WORDS = {"M": "monthly", "Q": "quarterly", "H": "half-yearly", "Y": "yearly"}


def _n(x: float) -> str:
    return f"{int(x):,}"


def _pct(x: float) -> str:
    return f"{x:.1%}" if np.isfinite(x) else "—"


def tier_name(scheme: TierScheme, name: str, lang: str) -> str:
    """A tier as a report names it: its name, or in Chinese its label from the scheme."""
    return scheme.labels.get(name, name) if lang == "zh" else name


# ------------------------------------------------------------------------------------- checks
def customer_match(tx: pd.DataFrame, customers: pd.DataFrame | None) -> float | None:
    """Share of the transactions' customers found in the customer table (None without one)."""
    if customers is None:
        return None
    ids = customers["customer_id"] if "customer_id" in customers.columns else customers.index
    tx_ids = factorize(tx["customer_id"])[1].astype(str)  # the ids' codes are cached
    if not len(tx_ids):
        return None
    return float(tx_ids.isin(pd.Index(ids.astype(str))).mean())


def sanity_checks(history: TierHistory, tx: pd.DataFrame, customers: pd.DataFrame | None,
                  lang: str = "en", *, dominant: float = DOMINANT_SHARE,
                  match: float = MATCH_SHARE) -> list[str]:
    """The warnings that matter, as sentences in *lang*.

    - a tier with no customer, or with at least ``dominant`` of them, at the last review;
    - a customer table whose ids match fewer than ``match`` of the transactions' customers;
    - a metric threshold above (or below) every value the metric takes in the data.
    """
    lang = check_lang(lang)
    scheme = history.scheme
    out: list[str] = []
    last = np.asarray(history.codes)[:, -1]
    counts = np.bincount(last[last >= 0], minlength=len(scheme.tiers))
    total = counts.sum()
    for k, name in enumerate(scheme.tier_names):
        shown = tier_name(scheme, name, lang)
        if counts[k] == 0:
            out.append(text("w_tier_empty", lang, tier=shown))
        elif total and counts[k] / total >= dominant:
            out.append(text("w_tier_dominant", lang, tier=shown, share=_pct(counts[k] / total)))
    share = customer_match(tx, customers)
    if share is not None and share < match:
        out.append(text("w_customer_match", lang, share=_pct(share)))
    ranges: dict[tuple[str, str | None], tuple[float, float] | None] = {}
    for tier in scheme.tiers[1:]:
        for leaf in metric_leaves(tier.when):
            if not isinstance(leaf.value, int | float) or isinstance(leaf.value, bool):
                continue
            key = (leaf.metric, scheme.metric_window(leaf))
            if key not in ranges:  # tiers often test the same metric: one pass over reviews
                ranges[key] = history.metric_range(*key)
            span = ranges[key]
            if span is None:
                continue
            lo, hi = span
            shown = tier_name(scheme, tier.name, lang)
            cond = describe_condition(leaf, lang)
            v = float(leaf.value)
            too_high = (leaf.op == ">" and v >= hi) or (leaf.op == ">=" and v > hi)
            too_low = (leaf.op == "<" and v <= lo) or (leaf.op == "<=" and v < lo)
            always = (leaf.op == ">" and v < lo) or (leaf.op == ">=" and v <= lo)
            if too_high or too_low:
                out.append(text("w_threshold_high", lang, tier=shown, condition=cond,
                                highest=f"{hi:,.2f}") if too_high else
                           text("w_threshold_low", lang, tier=shown, condition=cond,
                                lowest=f"{lo:,.2f}"))
            elif always:
                out.append(text("w_threshold_low", lang, tier=shown, condition=cond,
                                lowest=f"{lo:,.2f}"))
    return out


# ------------------------------------------------------------------------------------- figures
def customer_spend(tx: pd.DataFrame) -> pd.Series:
    """Net spend per customer over all of *tx* (customer_id → amount), in id order."""
    codes, ids = factorize(tx["customer_id"])  # the ids' codes are cached by the loader
    ok = codes >= 0
    total = np.bincount(codes[ok], weights=tx["amount"].to_numpy(dtype="float64")[ok],
                        minlength=len(ids))
    return pd.Series(total, index=ids.astype(str), name="amount")


def tier_mix(history: TierHistory, tx: pd.DataFrame, *,
             spend: pd.Series | None = None) -> pd.DataFrame:
    """Per tier at the last review (highest first): customers, share, revenue, revenue share.

    Revenue is the net spend over all the data of the customers in each tier: *spend*
    (customer_id → net spend, e.g. ``tierlab.rfm(tx)["monetary_total"]``) when given, else
    summed from *tx*.
    """
    scheme = history.scheme
    last = np.asarray(history.codes)[:, -1]
    k = len(scheme.tiers)
    counts = np.bincount(last[last >= 0], minlength=k)
    spend = customer_spend(tx) if spend is None else spend
    ids = history.customer_ids
    per_customer = (spend.to_numpy(dtype="float64") if spend.index.equals(ids) else
                    spend.reindex(ids.astype(str)).fillna(0.0).to_numpy(dtype="float64"))
    revenue = np.bincount(last[last >= 0], weights=per_customer[last >= 0], minlength=k)
    n, r = counts.sum(), revenue.sum()
    out = pd.DataFrame({"tier": scheme.tier_names,
                        "label": [scheme.labels[t] for t in scheme.tier_names],
                        "customers": counts.astype(np.int64),
                        "share": counts / n if n else np.zeros(k),
                        "revenue": revenue,
                        "revenue_share": revenue / r if r else np.full(k, np.nan)})
    return out.iloc[::-1].reset_index(drop=True)


def data_sentence(tx: pd.DataFrame, load_summary: Mapping[str, Any], lang: str, *,
                  customers: int | None = None) -> str:
    """The data used: rows, customers (counted in *tx* unless given), period, rows set aside."""
    start, end = tx["timestamp"].min(), tx["timestamp"].max()
    rejected = int(load_summary.get("rows_rejected", 0) or 0)
    if customers is None:
        customers = len(factorize(tx["customer_id"])[1])
    fields = {"rows": _n(len(tx)), "customers": _n(customers),
              "start": date_label(start, lang), "end": date_label(end, lang)}
    if rejected:
        return text("s_data", lang, rejected=_n(rejected), **fields)
    return text("s_no_rejected", lang, **fields)


def _warning_lines(warnings: Sequence[str], lang: str) -> list[str]:
    if not warnings:
        return [text("s_no_warnings", lang)]
    return [f"**{text('s_warnings', lang)}**", "", *(f"- {w}" for w in warnings)]


def segmentation_summary(history: TierHistory, tx: pd.DataFrame,
                         load_summary: Mapping[str, Any], as_of: pd.Timestamp, lang: str = "en",
                         *, warnings: Sequence[str] = (), spend: pd.Series | None = None) -> str:
    """The summary of the segmentation study, as Markdown sentences in *lang*.

    *spend* (customer_id → net spend of every customer in *tx*, e.g. the ``monetary_total``
    of ``tierlab.rfm(tx)``) saves summing the transactions again.
    """
    lang = check_lang(lang)
    scheme = history.scheme
    mix = tier_mix(history, tx, spend=spend)
    items = [text("s_mix_item", lang, tier=tier_name(scheme, str(tier), lang),
                  customers=_n(float(n)), share=_pct(float(share)),
                  revenue_share=_pct(float(rshare)))
             for tier, n, share, rshare in zip(mix["tier"], mix["customers"], mix["share"],
                                               mix["revenue_share"], strict=True)]  # per tier
    sep = "；" if lang == "zh" else "; "
    lines = [
        text("s_study_date", lang, date=date_label(as_of, lang)),
        data_sentence(tx, load_summary, lang, customers=None if spend is None else len(spend)),
        text("s_scheme", lang, scheme=scheme.name, tiers=len(scheme.tiers),
             review=text(f"review_{_REVIEW_WORDS.get(scheme.review, 'monthly')}", lang)),
        text("s_mix", lang, date=date_label(history.reviews[-1], lang), mix=sep.join(items)),
    ]
    if len(history.reviews) > 1:
        ch = history.changes
        at_last = ch.loc[ch["review"] == history.reviews[-1], "direction"].astype(str)
        moves = at_last.value_counts()
        lines.append(text("s_changes", lang, previous=date_label(history.reviews[-2], lang),
                          up=_n(moves.get("up", 0)), down=_n(moves.get("down", 0)),
                          new=_n(moves.get("new", 0))))
    else:
        lines.append(text("s_single_review", lang))
    return "\n\n".join(lines + ["\n".join(_warning_lines(warnings, lang))])


def who_changes(comparison: Comparison, lang: str = "en") -> str:
    """Recommendation-neutral Markdown: per other scheme, who moves and the tier sizes."""
    lang = check_lang(lang)
    base = comparison.names[0]
    blocks = []
    for other in comparison.names[1:]:  # a loop over schemes
        out: list[str] = []
        mv = comparison.movement.loc[other, ["up", "down", "unchanged"]].astype(float).to_dict()
        out.append(text("p_who_changes", lang, other=other, baseline=base, up=_n(mv["up"]),
                        down=_n(mv["down"]), same=_n(mv["unchanged"])))
        a, b = comparison.summaries[base], comparison.summaries[other]
        scheme = comparison.schemes[other]
        for tier in b.index[::-1]:  # highest tier first
            before = int(a["customers"].get(tier, 0)) if tier in a.index else 0
            out.append("- " + text("p_who_changes_tier", lang,
                                   tier=tier_name(scheme, str(tier), lang),
                                   before=_n(before), after=_n(b.loc[tier, "customers"])))
        rc = comparison.revenue_cost
        cost = rc.groupby("scheme", sort=False)["benefit_cost"].sum()
        top = {n: float(comparison.summaries[n]["revenue_share"].iloc[-1]) for n in (base, other)}
        out.append(text("p_cost_share", lang, cost_before=f"{float(cost.get(base, 0.0)):,.0f}",
                        cost_after=f"{float(cost.get(other, 0.0)):,.0f}",
                        share_before=_pct(top[base]), share_after=_pct(top[other])))
        blocks.append(out[0] + "\n\n" + "\n".join(out[1:-1]) + "\n\n" + out[-1])
    return "\n\n".join(blocks)


def impact_summary(comparison: Comparison, tx: pd.DataFrame, load_summary: Mapping[str, Any],
                   as_of: pd.Timestamp, lang: str = "en", *,
                   warnings: Sequence[str] = ()) -> str:
    """The summary of the rule-change impact report, as Markdown sentences in *lang*."""
    lang = check_lang(lang)
    base = comparison.names[0]
    lines = [text("s_study_date", lang, date=date_label(as_of, lang)),
             data_sentence(tx, load_summary, lang),
             text("p_impact_intro", lang, n=len(comparison.names), baseline=base),
             who_changes(comparison, lang), "\n".join(_warning_lines(warnings, lang))]
    return "\n\n".join(lines)
