"""Where sweeps and claims run: a local process pool or Dask distributed, one interface.

:func:`open_executor` yields a ``concurrent.futures.Executor`` for either kind, so the
sweep driver and :func:`heavytail.reports.verify` submit work the same way:

- ``"local"``: a ``ProcessPoolExecutor`` of ``jobs`` processes started with "spawn"
  (each with one BLAS thread); with ``jobs=1``, ``None`` is yielded and the caller runs
  the work in its own process, one item after the other.
- ``"dask"``: ``distributed.Client(address).get_executor()``; without an address, a
  ``LocalCluster`` of ``jobs`` worker processes with one thread each is started for the
  duration of the block. Dask re-runs the task of a worker that dies on another worker
  (up to its ``distributed.scheduler.allowed-failures``, 3 by default).

Results never depend on the kind or the number of workers: every run's randomness comes
from its own config (sweeps) or from the run's seed and the claim's id (claims).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_choice, check_int

__all__ = ["EXECUTOR_KINDS", "ExecutorError", "default_jobs", "open_executor"]

EXECUTOR_KINDS = ("local", "dask")


class ExecutorError(InvalidArgumentError):
    """An executor that cannot be started: bad kind, unreachable scheduler, no dask."""


def default_jobs() -> int:
    """Worker processes when none is asked for: the number of CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def open_executor(
    kind: str = "local",
    *,
    jobs: int | None = None,
    address: str | None = None,
    connect_timeout: float = 30.0,
) -> Iterator[Executor | None]:
    """Start an executor of ``kind`` for the duration of a ``with`` block.

    Parameters
    ----------
    kind : {"local", "dask"}
    jobs : int or None
        Worker processes of a local pool or of a Dask ``LocalCluster`` (>= 1; default
        :func:`default_jobs`). Ignored when ``address`` is given.
    address : str or None
        The Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"`` (``kind="dask"`` only).
    connect_timeout : float
        Seconds to wait for the scheduler.

    Yields
    ------
    concurrent.futures.Executor or None
        None for ``kind="local"`` with one job: run in this process.

    Raises
    ------
    ExecutorError
        For an unknown kind, an address with the local kind, a missing dask, or a
        scheduler that does not answer.
    """
    check_choice(kind, "executor", EXECUTOR_KINDS)
    n = default_jobs() if jobs is None else check_int(jobs, "jobs", low=1)
    if kind == "local":
        if address is not None:
            raise ExecutorError("`address` needs the dask executor (--executor dask)")
        if n == 1:
            yield None
            return
        from .threads import single_threaded_blas

        with single_threaded_blas():  # the pool's workers inherit the environment
            pool = ProcessPoolExecutor(
                max_workers=n, mp_context=multiprocessing.get_context("spawn")
            )
        try:
            yield pool
        finally:
            pool.shutdown(cancel_futures=True)
        return
    with _dask_executor(n, address, connect_timeout) as executor:
        yield executor


@contextmanager
def _dask_executor(jobs: int, address: str | None, timeout: float) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError(
            "the dask executor needs dask distributed: pip install 'heavytail[dist]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if address is None:
            from .threads import single_threaded_blas

            with single_threaded_blas():
                cluster = LocalCluster(
                    n_workers=jobs,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            stack.callback(cluster.close)
            target: object = cluster
        else:
            target = address
        try:
            client = Client(target, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the dask scheduler at {address!r}: {exc}") from None
        stack.callback(client.close)
        yield client.get_executor()
