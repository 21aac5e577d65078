"""How a report's notebook is executed: the papermill engine, its kernel client and limits.

Why this module exists: ``tierlab report explore`` stalled forever now and then (2 of ~25 runs)
at the widget cell, kernel and client both idle. The cause, reproduced with a notebook whose
cell displays 200 items into an ``ipywidgets.Output`` (``test_kernel.py`` pins it):

- headless, nbclient stands in for the front end of an ``Output`` widget (``OutputWidget`` in
  ``nbclient/output_widget.py``): every output captured by the widget is synced back to the
  kernel with a ``comm_msg`` sent on the **shell** socket, from the same event loop that is
  waiting on that socket for the cell's ``execute_reply``;
- ``AsyncZMQSocketChannel.get_msg(timeout=None)`` waits on an asyncio future that only the
  socket's edge-triggered ZeroMQ file descriptor wakes; a send on the socket at the moment the
  reply arrives consumes that edge, so the wait is never woken although the reply is there
  (``socket.get(zmq.EVENTS)`` reports ``POLLIN`` during the stall). nbclient passes no timeout
  unless the cell has one, so nothing ever looks again (nbclient issue 312 reports the same).

:class:`SlicedPollChannel` waits in slices of :data:`POLL_SLICE` seconds: at the end of each
slice pyzmq polls the socket once more, which finds a reply whose wake-up was lost. The other
limits a run needs are set in :func:`client_options`: a time limit per cell and for the whole
run (:class:`~tierlab.reporting.limits.RunLimits`), a dead kernel noticed within a second
(nbclient's alive check), a missing ``idle`` status after a reply is an error after
:data:`IOPUB_TIMEOUT` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

from tierlab.reporting.limits import RunLimits

__all__ = [
    "IOPUB_TIMEOUT",
    "POLL_SLICE",
    "ReportKernelClient",
    "ReportKernelManager",
    "SlicedPollChannel",
    "client_options",
    "progress_engine",
]

#: Seconds to wait for a cell's last output (its ``idle`` status) after its reply.
IOPUB_TIMEOUT = 30
#: Longest single wait on a kernel socket before it is polled again.
POLL_SLICE = 0.5


class SlicedPollChannel(AsyncZMQSocketChannel):
    """A kernel channel whose waits are cut into slices, so a lost wake-up costs one slice."""

    # the asynchronous channel overrides the blocking one's get_msg with a coroutine, as
    # jupyter_client's own AsyncZMQSocketChannel does
    async def get_msg(  # type: ignore[override]
            self, timeout: float | None = None) -> dict[str, Any]:
        """The next message; :class:`queue.Empty` after ``timeout`` seconds (None: no limit)."""
        assert self.socket is not None
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = POLL_SLICE if end is None else min(POLL_SLICE, max(end - time.monotonic(), 0))
            # a timed poll ends with one more (non-blocking) poll of the socket itself
            if await self.socket.poll(max(int(wait * 1000), 1)):
                return await self._recv()
            if end is not None and time.monotonic() >= end:
                raise Empty


class ReportKernelClient(AsyncKernelClient):
    """The asynchronous kernel client with :class:`SlicedPollChannel` shell and iopub."""

    shell_channel_class = Type(SlicedPollChannel)
    iopub_channel_class = Type(SlicedPollChannel)


class ReportKernelManager(AsyncKernelManager):
    """The asynchronous kernel manager that hands out :class:`ReportKernelClient`."""

    client_class = DottedObjectName("tierlab.reporting.kernel.ReportKernelClient")
    client_factory = Type(klass=ReportKernelClient)


def client_options(limits: RunLimits) -> dict[str, Any]:
    """Options of nbclient's ``NotebookClient`` (passed through papermill) for a report run."""
    return {
        "kernel_manager_class": ReportKernelManager,
        "timeout_func": limits.cell_timeout,
        "interrupt_on_timeout": False,  # a timed-out cell ends the run (CellTimeoutError)
        "iopub_timeout": IOPUB_TIMEOUT,
        "raise_on_iopub_timeout": True,
        "shutdown_kernel": "immediate",  # after a failure the kernel may not answer
    }


def progress_engine(report: Callable[[str], None] | None, limits: RunLimits) -> type:
    """A papermill engine that records the running cell and reports each section heading."""
    from papermill.engines import NBClientEngine

    class _Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            start = nb_man.cell_start
            n = len(nb_man.nb.cells)

            def cell_start(cell: Any, cell_index: int = 0, **kw: Any) -> Any:
                limits.cell_index = cell_index
                if cell.cell_type == "markdown":
                    head = next((ln.lstrip("#").strip() for ln in cell.source.splitlines()
                                 if ln.startswith("#")), None)
                    if head:
                        limits.section = head
                        if report is not None:
                            report(f"  [{(cell_index or 0) + 1:>3}/{n}] {head}")
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    return _Engine
