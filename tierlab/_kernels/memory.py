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

__all__ = ["system_memory_pool", "release_unused", "map_large_allocations"]

#: glibc's ``M_MMAP_THRESHOLD`` parameter of ``mallopt`` and the value set
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 128 * 1024
_mapped: list[bool] = []


@contextmanager
def system_memory_pool() -> Iterator[None]:
    """Make Arrow allocate from the system allocator for the duration of the block."""
    import pyarrow as pa

    map_large_allocations()
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


def map_large_allocations() -> None:
    """Serve every allocation of 128 KiB or more with its own mapping (glibc only; once).

    Why: glibc raises its mmap threshold each time a large mapped block is freed, so after the
    first freed read buffer, arrays of up to 32 MiB (a row group's column, a 10M-row mask) come
    from the heap, where freed holes between live blocks stay resident. A 10M-row load then kept
    ~100 MiB more than its arrays need (``benchmarks/bench_rfm.py``, ``tierlab.load+rfm``). With
    a fixed threshold a freed array goes back to the operating system at once. Process-wide and
    permanent (it is glibc's default behaviour before its first adjustment); a no-op elsewhere.
    """
    if _mapped:
        return
    _mapped.append(True)
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)
