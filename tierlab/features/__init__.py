"""Per-customer features (RFM), the customer × period panel and the BTYD summary."""

from tierlab.features.core import btyd_summary, period_panel, rfm

__all__ = ["btyd_summary", "period_panel", "rfm"]
