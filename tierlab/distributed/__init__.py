"""Beyond one machine: tier histories and features over a bucketed dataset, on Dask.

A dataset written by :func:`tierlab.write_dataset` keeps each customer's rows in one bucket, so
per-customer work runs bucket by bucket — on Dask futures when a ``client`` is given (the
optional extra ``tierlab[dask]``), else in a local process pool — with a cheap global pre-pass
for what compares customers (the review range, ``as_of``, quantile score cut points). Results
equal the in-memory functions'.

- :mod:`~tierlab.distributed.history` — :func:`run_partitioned` → :class:`PartitionedHistory`;
- :mod:`~tierlab.distributed.features` — :func:`rfm_partitioned`,
  :func:`btyd_summary_partitioned`, :func:`period_panel_partitioned`;
- :mod:`~tierlab.distributed.scores` — global RFM score cut points from merged histograms;
- :mod:`~tierlab.distributed.executor` — one task per bucket on Dask, a process pool or inline.

Dask itself is imported only when a client is used.
"""

from tierlab.distributed.features import (
    btyd_summary_partitioned,
    period_panel_partitioned,
    rfm_partitioned,
)
from tierlab.distributed.history import PartitionedHistory, run_partitioned

__all__ = [
    "PartitionedHistory",
    "btyd_summary_partitioned",
    "period_panel_partitioned",
    "rfm_partitioned",
    "run_partitioned",
]
