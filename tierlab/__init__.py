"""tierlab — customer tiering in Jupyter.

Score customers from their transactions, assign them to tiers with rules analysts write, keep
the tiers up to date review after review, and measure what a change of the rules would do.

Typical use::

    import tierlab as tl
    res = tl.load_transactions("data/sample/transactions.csv")
    hist = tl.TierScheme.from_yaml("data/rules/monthly_spend.yaml").run(res.transactions)

Nothing happens on import but defining names; modules that pull in scikit-learn, scipy or
matplotlib are imported the first time one of their names is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tierlab.errors import ArgumentError, DataError, ReportError, SchemeError, TierlabError

__version__ = "0.1.0"

# public name → module that defines it (imported on first use)
_LAZY = {
    "LoadResult": "tierlab.io.load",
    "load_transactions": "tierlab.io.load",
    "load_customers": "tierlab.io.load",
    "rfm": "tierlab.features",
    "period_panel": "tierlab.features",
    "btyd_summary": "tierlab.features",
    "RFMScorer": "tierlab.scoring",
    "DEFAULT_SEGMENTS": "tierlab.scoring",
    "segment_map": "tierlab.scoring",
    "assign_segments": "tierlab.scoring",
    "TierScheme": "tierlab.tiers.scheme",
    "TierHistory": "tierlab.tiers.history",
    "cross_tiers": "tierlab.tiers.history",
    "cluster_customers": "tierlab.segment",
    "ClusterResult": "tierlab.segment",
    "calibration_holdout": "tierlab.potential",
    "BetaGeoModel": "tierlab.potential",
    "GammaGammaModel": "tierlab.potential",
    "PotentialModel": "tierlab.potential",
    "flag_customers": "tierlab.potential",
    "evaluate_potential": "tierlab.potential",
    "tier_summary": "tierlab.evaluate",
    "migration_matrix": "tierlab.evaluate",
    "stability": "tierlab.evaluate",
    "concentration": "tierlab.evaluate",
    "holdout_validity": "tierlab.evaluate",
    "compare_schemes": "tierlab.compare",
    "threshold_sweep": "tierlab.compare",
    "Comparison": "tierlab.compare",
    "export_tier_table": "tierlab.io.export",
    "tier_table": "tierlab.io.export",
    "mask_contacts": "tierlab.io.masking",
    "mask_phone": "tierlab.io.masking",
    "mask_email": "tierlab.io.masking",
    "Register": "tierlab.register",
    "generate": "tierlab.datasets",
    "sample_transactions": "tierlab.datasets",
    "sample_customers": "tierlab.datasets",
    "write_dataset": "tierlab.io.dataset",
    "run_partitioned": "tierlab.distributed",
}

__all__ = [
    "ArgumentError", "DataError", "ReportError", "SchemeError", "TierlabError", "__version__",
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tierlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from tierlab.compare import Comparison, compare_schemes, threshold_sweep  # noqa: F401
    from tierlab.datasets import generate, sample_customers, sample_transactions  # noqa: F401
    from tierlab.distributed import run_partitioned  # noqa: F401
    from tierlab.evaluate import (  # noqa: F401
        concentration,
        holdout_validity,
        migration_matrix,
        stability,
        tier_summary,
    )
    from tierlab.features import btyd_summary, period_panel, rfm  # noqa: F401
    from tierlab.io.dataset import write_dataset  # noqa: F401
    from tierlab.io.export import export_tier_table, tier_table  # noqa: F401
    from tierlab.io.load import LoadResult, load_customers, load_transactions  # noqa: F401
    from tierlab.io.masking import mask_contacts, mask_email, mask_phone  # noqa: F401
    from tierlab.potential import (  # noqa: F401
        BetaGeoModel,
        GammaGammaModel,
        PotentialModel,
        calibration_holdout,
        evaluate_potential,
        flag_customers,
    )
    from tierlab.register import Register  # noqa: F401
    from tierlab.scoring import (  # noqa: F401
        DEFAULT_SEGMENTS,
        RFMScorer,
        assign_segments,
        segment_map,
    )
    from tierlab.segment import ClusterResult, cluster_customers  # noqa: F401
    from tierlab.tiers.history import TierHistory, cross_tiers  # noqa: F401
    from tierlab.tiers.scheme import TierScheme  # noqa: F401
