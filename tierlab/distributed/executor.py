"""Running one function per bucket: on Dask futures, a local process pool, or in this process.

Each task reads its own bucket from the dataset (the data never passes through the caller) and
returns a small result. With a Dask ``client`` the tasks are Dask futures, so the same code runs
on a ``LocalCluster`` and on a real cluster (the dataset path must then be readable by every
worker: a shared filesystem or an object store URL that pyarrow can open).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from tierlab.errors import ArgumentError

__all__ = ["BucketRunner", "Progress"]

#: Receives one line of progress text, e.g. ``"tiers: 3/7 buckets"``.
Progress = Callable[[str], None]


class BucketRunner:
    """Maps a function over per-bucket argument tuples, in order (a context manager).

    Parameters
    ----------
    client : distributed.Client, optional
        Run the tasks as Dask futures on this client's cluster.
    workers : int, optional
        Without a client: the size of the local process pool (default: the number of CPUs);
        ``1`` runs every task in this process.
    progress : callable, optional
        Called with a line of text each time a task finishes.
    """

    def __init__(self, client: Any = None, workers: int | None = None,
                 progress: Progress | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                    or workers < 1):
            raise ArgumentError(f"workers must be a positive integer, got {workers!r}")
        self.client = client
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.progress = progress
        self._pool: Any = None

    def __enter__(self) -> BucketRunner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Shut the local process pool down (a client is left as it was)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _say(self, label: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(f"{label}: {done}/{total} buckets")

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple], label: str) -> list[Any]:
        """``[fn(*args) for args in tasks]``, run in parallel; a task's error is re-raised."""
        total = len(tasks)
        if total == 0:
            return []
        if self.client is not None:
            return self._map_dask(fn, tasks, label)
        if self.workers == 1 or total == 1:
            out = []
            for i, args in enumerate(tasks, start=1):
                out.append(fn(*args))
                self._say(label, i, total)
            return out
        return self._map_pool(fn, tasks, label)

    def _map_dask(self, fn: Callable[..., Any], tasks: Sequence[tuple], label: str) -> list[Any]:
        from distributed import as_completed

        futures = [self.client.submit(fn, *args, pure=False) for args in tasks]
        try:
            for i, fut in enumerate(as_completed(futures), start=1):
                if fut.status == "error":
                    fut.result()  # raises the task's exception here
                self._say(label, i, len(tasks))
            return [f.result() for f in futures]
        finally:
            for f in futures:
                f.release()

    def _map_pool(self, fn: Callable[..., Any], tasks: Sequence[tuple], label: str) -> list[Any]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        if self._pool is None:
            # spawn: a fresh interpreter per worker (fork would copy this process's threads)
            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=multiprocessing.get_context("spawn"))
        futures = [self._pool.submit(fn, *args) for args in tasks]
        for i, fut in enumerate(as_completed(futures), start=1):
            fut.result()
            self._say(label, i, len(tasks))
        return [f.result() for f in futures]
