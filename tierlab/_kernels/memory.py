"""Arrow's allocator while a large file is read, and giving freed memory back.

Why: Arrow's default pool (jemalloc/mimalloc) keeps freed read buffers for reuse, so reading a
10M-row Parquet file column by column would hold the peak of every column at once. Reading with
the system allocator and releasing unused memory after the ids are hashed keeps the resident
size near what the arrays need (``benchmarks/bench_rfm.py`` measures it). The results do not
depend on the pool: ``tests/features/test_kernels.py`` pins that ``rfm(path)`` equals ``rfm`` of
the same frame and that the previous pool is restored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["system_memory_pool", "release_unused"]


@contextmanager
def system_memory_pool() -> Iterator[None]:
    """Make Arrow allocate from the system allocator for the duration of the block."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def release_unused() -> None:
    """Give the system pool's freed memory back to the operating system now."""
    import pyarrow as pa

    pa.system_memory_pool().release_unused()
