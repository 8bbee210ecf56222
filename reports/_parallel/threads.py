"""One BLAS thread per worker process: the pools of verify and of sweeps start workers inside it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["BLAS_THREAD_VARIABLES", "single_threaded_blas"]

#: Environment variables that set the BLAS / OpenMP thread count of a new process.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Make processes started inside this block use one BLAS thread (unless the user set it).

    The claims run in parallel processes, so each uses one BLAS thread: threaded BLAS on
    top would oversubscribe the cores (an SVD of a 64 x 512 matrix then takes 100 times
    longer on a busy 2-core machine). A variable already set by the user is left alone.
    """
    added = [name for name in BLAS_THREAD_VARIABLES if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
