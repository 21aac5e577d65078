"""tierlab.reporting.threads: the thread limit the notebooks set first."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from tierlab.reporting.threads import limit_threads


def test_limit_threads_limits_the_loaded_runtimes_and_undoes():
    limits = limit_threads(1)
    try:
        info = threadpool_info()
        # scikit-learn's OpenMP runtime is loaded by the call and limited with the rest
        assert any(p["user_api"] == "openmp" for p in info)
        assert {p["num_threads"] for p in info} == {1}
    finally:
        limits.restore_original_limits()
