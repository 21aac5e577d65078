"""The review state of every customer and the step that applies SPEC §3 at one review.

:class:`ReviewState` holds, per customer, what the rules need to remember between reviews:
the current tier, when counting restarted (the last change), the run of reviews qualifying for
each tier, the run of reviews below the current tier, for each tier the last review that
qualified for it, and the last promotion. That is O(tiers) numbers per customer whatever the
streak lengths: the highest ``L`` of the last ``N`` reviews (step 3) is the highest ``k`` whose
last qualifying review lies within those ``N``. :func:`review_step` takes that state and the
qualified levels ``L_t`` of review ``t`` and applies the rules in the spec's order. Both work
on whole arrays of customers: the engine loops over reviews, never over customers.

Rule 5 ("the last N reviews only counts reviews after the last change") is kept by the runs
never looking further back than ``since``: a run of N reviews counts only when
``min(run, t - since + 1) ≥ N``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierlab.tiers.scheme import TierScheme

__all__ = ["Rules", "ReviewState", "Step", "review_step", "RULE_CODES"]

#: Rule codes of a step (index into :data:`tierlab.tiers.changelog.RULES`).
RULE_CODES = {"none": 0, "initial": 1, "promotion": 2, "demotion": 3, "override": 4}
_NEVER = -(10**6)  # "last promotion" of a customer never promoted


@dataclass(frozen=True)
class Rules:
    """The numbers of a scheme that the review step needs."""

    promote_after: np.ndarray        # per tier k: reviews in a row needed to enter it (k ≥ 1)
    demote_after: int
    max_demotion_steps: int | None
    grace_reviews: int
    initial_lowest: bool             # initial: lowest (else: qualified)

    @classmethod
    def of(cls, scheme: TierScheme) -> Rules:
        K = len(scheme.tiers)
        p = scheme.policy
        return cls(np.array([scheme.promote_after(k) if k else 1 for k in range(K)]),
                   p.demote_after, p.max_demotion_steps, p.grace_reviews,
                   scheme.initial == "lowest")

    @property
    def tiers(self) -> int:
        return len(self.promote_after)


@dataclass
class ReviewState:
    """What the rules remember about every customer between reviews (arrays of n customers)."""

    tier: np.ndarray            # int8 current tier, -1 before entry
    since: np.ndarray           # int32 first review counted by the rules (after the last change)
    run_at_least: np.ndarray    # (K, n) int32: reviews in a row with L ≥ k
    run_below: np.ndarray       # int32: reviews in a row with L below the current tier
    last_at_least: np.ndarray   # (K, n) int32: last review with L ≥ k (_NEVER: none yet)
    last_promotion: np.ndarray  # int32 review of the last promotion

    @classmethod
    def start(cls, n: int, rules: Rules) -> ReviewState:
        """Every customer before their entry review."""
        return cls(tier=np.full(n, -1, dtype=np.int8),
                   since=np.zeros(n, dtype=np.int32),
                   run_at_least=np.zeros((rules.tiers, n), dtype=np.int32),
                   run_below=np.zeros(n, dtype=np.int32),
                   last_at_least=np.full((rules.tiers, n), _NEVER, dtype=np.int32),
                   last_promotion=np.full(n, _NEVER, dtype=np.int32))


@dataclass
class Step:
    """What a review decided, per customer."""

    previous: np.ndarray  # tier before the review (-1: entering now)
    tier: np.ndarray      # tier after the review
    rule: np.ndarray      # RULE_CODES of the change (0: none)
    soft: np.ndarray      # demotions held higher by max_demotion_steps

    @property
    def changed(self) -> np.ndarray:
        return self.rule > 0


def review_step(state: ReviewState, t: int, qualified: np.ndarray, new: np.ndarray,
                rules: Rules, fixed: np.ndarray | None = None) -> Step:
    """Apply SPEC §3 at review ``t``, updating ``state`` in place.

    Parameters
    ----------
    state : ReviewState
        The state after review ``t - 1``.
    t : int
        Review number (0 = the run's first review); reviews must come in order.
    qualified : ndarray of int8
        ``L_t`` per customer (step 1); ignored for customers who have not entered.
    new : ndarray of bool
        Customers whose entry review is ``t``.
    rules : Rules
    fixed : ndarray of int8, optional
        Overridden tier per customer (``-1``: none) (step 7).

    Returns
    -------
    Step
    """
    n = len(state.tier)
    old = state.tier >= 0                      # entered before this review
    entered = old | new
    L = np.where(entered, qualified, np.int8(-1)).astype(np.int8)  # 1. L_t (-1: not yet in)
    for k in range(1, rules.tiers):            # in place: +1 where L ≥ k, else back to 0
        at_least = L >= k
        run = state.run_at_least[k]
        np.add(run, 1, out=run)
        np.multiply(run, at_least, out=run)
        state.last_at_least[k][at_least] = t
    state.since[new] = t                       # 5. the entry review counts
    counted = t - state.since + 1              # 5. reviews since the last change
    prev = state.tier.copy()
    target = _promotions(state, old, counted, rules)                 # 2. promotion
    promote = target > prev
    state.run_below = np.where(old & (L < prev), state.run_below + 1, 0).astype(np.int32)
    demote, down, soft = _demotions(state, t, old & ~promote, counted, rules)  # 3. demotion

    # 4. otherwise held; 6. entry: the qualified level, or the lowest tier
    tier = prev.copy()
    tier[new] = 0 if rules.initial_lowest else L[new]
    tier[promote] = target[promote]
    tier[demote] = down
    rule = np.zeros(n, dtype=np.int8)
    rule[new] = RULE_CODES["initial"]
    rule[promote] = RULE_CODES["promotion"]
    rule[demote] = RULE_CODES["demotion"]

    # 7. overrides fix the tier; the rules resume from it as after a change
    held = np.zeros(n, dtype=bool)
    if fixed is not None:
        held = (fixed >= 0) & entered
        tier[held] = fixed[held]
        rule[held] = np.where(tier[held] != prev[held], RULE_CODES["override"],
                              RULE_CODES["none"])
        promote &= ~held

    changed = (tier != prev) | new
    rule[~changed] = RULE_CODES["none"]
    reset = (changed & ~new) | held            # 5. counting restarts after a change
    state.since[reset] = t + 1
    state.run_below[reset] = 0
    state.last_promotion[promote] = t
    state.tier = tier
    return Step(previous=prev, tier=tier, rule=rule, soft=soft)


def _promotions(state: ReviewState, old: np.ndarray, counted: np.ndarray,
                rules: Rules) -> np.ndarray:
    """Step 2: the highest k > c with L ≥ k at each of the last promote_after(k) reviews.

    Returns the target tier per customer (-1 where no promotion is due).
    """
    target = np.full(len(state.tier), -1, dtype=np.int8)
    for k in range(1, rules.tiers):
        ok = old & (k > state.tier) & (np.minimum(state.run_at_least[k], counted)
                                       >= rules.promote_after[k])
        target[ok] = k
    return target


def _demotions(state: ReviewState, t: int, candidates: np.ndarray, counted: np.ndarray,
               rules: Rules) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 3: L < c at each of the last demote_after reviews, outside the grace period.

    Returns who is demoted, their new tiers (the highest L of those reviews, at most
    ``max_demotion_steps`` down) and who the soft landing held higher.
    """
    demote = (candidates & (np.minimum(state.run_below, counted) >= rules.demote_after)
              & (t - state.last_promotion > rules.grace_reviews))
    soft = np.zeros(len(state.tier), dtype=bool)
    # the highest L of the last demote_after reviews: L ≥ k held within them for k = 1..down
    # (last_at_least[k] falls as k rises, so counting the levels seen gives the highest)
    window_start = t - rules.demote_after + 1
    down = (state.last_at_least[1:, demote] >= window_start).sum(axis=0).astype(np.int8)
    if demote.any() and rules.max_demotion_steps is not None:
        floor = state.tier[demote] - rules.max_demotion_steps
        soft[demote] = down < floor
        down = np.maximum(down, floor).astype(np.int8)
    return demote, down, soft
