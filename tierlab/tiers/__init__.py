"""Tier schemes: the rules an analyst writes, and running them over time (SPEC §3).

Modules, lowest first:

- ``conditions``  metric / attribute tests and ``all`` / ``any`` groups, described in words
- ``scheme``      :class:`TierScheme`, :class:`Tier`, :class:`Policy`: the typed rules
- ``rulefile``    reading a rule file as plain YAML (no aliases; bounded size and depth)
- ``parser``      the YAML structure → the typed tree: types and bounds checked, clear errors
- ``lint``        warnings about valid schemes that are probably not what was meant
- ``metrics``     metric values of every customer at one review (windows, RFM scores)
- ``evaluator``   conditions on every customer at once → the qualified level ``L_t``
- ``overrides``   manual overrides: load, check, find those in force at a review
- ``state``       the per-customer review state and ``review_step`` (SPEC §3 steps 2–7)
- ``changelog``   every change as numbers, recorded review by review
- ``reasons``     the sentence of each change, built on demand
- ``history``     :class:`TierHistory` (tiers, changes, current, explain, distance), cross_tiers
- ``engine``      ``run_scheme``: plan the reviews, loop over them
"""
