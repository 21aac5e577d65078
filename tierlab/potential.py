"""Customer potential and churn: calibration/holdout splits, BG/NBD, Gamma-Gamma, supervised.

The workflow of SPEC §4, one module per step (this module re-exports their public names):

1. :func:`calibration_holdout` (:mod:`tierlab.potential_split`) splits the transactions at a
   cutoff into per-customer calibration features and holdout outcomes.
2. :class:`BetaGeoModel` and :class:`GammaGammaModel` (:mod:`tierlab.btyd`,
   :mod:`tierlab.gamma_gamma`): BG/NBD and Gamma-Gamma fitted by maximum likelihood.
3. :class:`PotentialModel` (:mod:`tierlab.potential_model`): gradient boosting on
   cutoff-relative features (:mod:`tierlab.potential_features`) with the BTYD predictions
   stacked in, trained on several cutoffs before the date it predicts from.
4. :func:`evaluate_potential` (:mod:`tierlab.potential_eval`): every model and two naive
   baselines on the same holdout, metrics with bootstrap intervals
   (:mod:`tierlab.potential_metrics`); a model that cannot be fitted is reported, not fatal.
5. :func:`flag_customers` (:mod:`tierlab.potential_flags`): rising stars and top-tier customers
   at risk where the supervised model and BG/NBD's P(alive) agree, each with its reason.
"""

from __future__ import annotations

from tierlab.btyd import BetaGeoModel, GammaGammaModel
from tierlab.potential_eval import MODELS, PotentialEvaluation, evaluate_potential
from tierlab.potential_flags import flag_customers
from tierlab.potential_metrics import METRICS
from tierlab.potential_model import PREDICTION_COLUMNS, PotentialModel
from tierlab.potential_split import CALIBRATION_COLUMNS, HOLDOUT_COLUMNS, calibration_holdout

__all__ = [
    "CALIBRATION_COLUMNS",
    "HOLDOUT_COLUMNS",
    "METRICS",
    "MODELS",
    "PREDICTION_COLUMNS",
    "calibration_holdout",
    "BetaGeoModel",
    "GammaGammaModel",
    "PotentialModel",
    "PotentialEvaluation",
    "flag_customers",
    "evaluate_potential",
]
