"""Thread limits for a notebook session.

This is a session setting the study notebooks make before anything else, not machinery behind a
public function, so it lives with the reporting code rather than in ``tierlab._kernels``.
Pinned by ``tests/reporting/test_threads.py`` (the limit is in force after the call and undone
by ``restore_original_limits``).
"""

from __future__ import annotations

# threadpoolctl ships no type information (no py.typed)
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

__all__ = ["limit_threads"]


def limit_threads(n: int = 1) -> threadpool_limits:
    """Limit BLAS/OpenMP threads (scikit-learn) for the rest of the session.

    On a small, busy machine KMeans' OpenMP threads can make small fits many times slower (on
    2 cores, clustering the 2,000-customer sample took 12 s instead of 0.7 s); the notebooks
    call this first. threadpoolctl only limits libraries already loaded, so scikit-learn's
    OpenMP and BLAS runtimes are loaded here first.

    Parameters
    ----------
    n : int
        Threads each library may use.

    Returns
    -------
    threadpoolctl.threadpool_limits
        The limits in force (``.restore_original_limits()`` undoes them).
    """
    import sklearn.cluster  # noqa: F401  (loads the OpenMP and BLAS runtimes to be limited)

    return threadpool_limits(limits=int(n))
