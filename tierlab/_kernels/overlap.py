"""Run one step on a second thread while the calling thread does another.

Why it exists: hashing ids (Arrow) and parsing dates and amounts (Arrow, NumPy) release the GIL,
so the loader overlaps them on the machine's second core, and :mod:`tierlab._kernels.arrowkeys`
hashes the two halves of a long id column at once. One helper keeps the thread handling out of
the public functions.

Pinned by ``tests/io/test_values.py::test_encode_ids_matches_plain_python`` (two halves) and
``tests/io/test_load.py`` (every load runs the id encoding on the second thread).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["beside"]

T = TypeVar("T")


@contextmanager
def beside(func: Callable[..., T], *args: Any) -> Iterator[Future[T]]:
    """Start ``func(*args)`` on a second thread for the duration of the ``with`` block.

    Yields the :class:`~concurrent.futures.Future` of the call; leaving the block waits for it.

    Examples
    --------
    >>> with beside(sum, [1, 2, 3]) as total:
    ...     other = max(1, 2)
    >>> total.result(), other
    (6, 2)
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(func, *args)
