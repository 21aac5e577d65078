"""Per-customer features (RFM), the customer × period panel and the BTYD summary.

``rfm`` (:mod:`tierlab.features.rfm`), ``period_panel`` and ``monthly_arrays``
(:mod:`tierlab.features.panel`), ``btyd_summary`` (:mod:`tierlab.features.summary`). The
calendar arithmetic they share is :mod:`tierlab.calendar`; the speed machinery (id hashing,
grouped counts, the Parquet reader) is in the private :mod:`tierlab._kernels`.
"""

from tierlab.features.panel import MonthlyArrays, monthly_arrays, period_panel
from tierlab.features.rfm import rfm
from tierlab.features.summary import btyd_summary

__all__ = ["btyd_summary", "period_panel", "rfm", "monthly_arrays", "MonthlyArrays"]
