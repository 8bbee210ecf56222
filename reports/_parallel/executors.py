"""Where sweeps and claims run: a local process pool or Dask distributed, one interface.

:func:`open_executor` yields a ``concurrent.futures.Executor`` for either kind, so the
sweep driver and :func:`heavytail.reports.verify` submit work the same way:

- ``"local"``: a ``ProcessPoolExecutor`` of ``jobs`` processes started with "spawn"
  (each with one BLAS thread); with ``jobs=1``, ``None`` is yielded and the caller runs
  the work in its own process, one item after the other. Each worker dies with the
  process that started it (:func:`die_with_parent`): a driver killed with SIGKILL, which
  runs no clean-up, leaves no worker running, and the multiprocessing resource tracker,
  which ends when the last process holding its pipe is gone, ends too.
- ``"dask"``: ``distributed.Client(address).get_executor()``; without an address, a
  ``LocalCluster`` of ``jobs`` worker processes with one thread each is started for the
  duration of the block. Dask re-runs the task of a worker that dies on another worker
  (up to its ``distributed.scheduler.allowed-failures``, 3 by default).

An address is checked before the client is made: its form (``scheme://host:port`` with
a scheme Dask speaks), then one connection and one ``identity`` request, each bounded by
``connect_timeout`` (:data:`DASK_CONNECT_TIMEOUT`, 5 s, by default), in a thread of its
own. Whatever answers must say it is a Dask scheduler. A web server (which waits for a
line that never comes), a closed port, or a server that speaks first with bytes Dask
would read as a frame of exabytes is an :class:`ExecutorError` naming the address,
never a hang or a MemoryError.

Results never depend on the kind or the number of workers: every run's randomness comes
from its own config (sweeps) or from the run's seed and the claim's id (claims).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_choice, check_int, check_real

__all__ = [
    "DASK_CONNECT_TIMEOUT",
    "EXECUTOR_KINDS",
    "ExecutorError",
    "check_dask_address",
    "check_dask_scheduler",
    "default_jobs",
    "die_with_parent",
    "open_executor",
]

EXECUTOR_KINDS = ("local", "dask")
#: Seconds allowed to connect to a Dask scheduler, and again for its handshake.
DASK_CONNECT_TIMEOUT = 5.0
#: The schemes of a scheduler's address (``inproc`` and ``ucx`` are left out: the first
#: is in this process only, the second needs a package heavytail does not install).
_DASK_SCHEMES = ("tcp", "tls", "ws", "wss")


class ExecutorError(InvalidArgumentError):
    """An executor that cannot be started: bad kind, unreachable scheduler, no dask."""


def default_jobs() -> int:
    """Worker processes when none is asked for: the number of CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


#: Seconds between two looks of a worker's watchdog at its parent.
PARENT_POLL = 0.5


def die_with_parent(parent: int, poll: float = PARENT_POLL) -> None:
    """Make this process end when ``parent`` (the process that started it) is gone.

    A worker initializer. A daemon thread compares ``os.getppid()`` with ``parent``
    every ``poll`` seconds and ends the process with ``os._exit(1)`` once they differ
    (the parent died, the process was re-parented). Linux's ``PR_SET_PDEATHSIG`` is not
    used: it fires when the *thread* that started the worker ends, and a pool's workers
    may be started from a thread that ends before the pool does.
    """
    if os.getppid() != parent:  # already orphaned while starting
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(1)

    threading.Thread(target=watch, name="heavytail-parent-watch", daemon=True).start()


@contextmanager
def open_executor(
    kind: str = "local",
    *,
    jobs: int | None = None,
    address: str | None = None,
    connect_timeout: float = DASK_CONNECT_TIMEOUT,
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
        Seconds to wait for the scheduler to accept a connection, and again for its
        answer to an ``identity`` request (> 0; default :data:`DASK_CONNECT_TIMEOUT`).

    Yields
    ------
    concurrent.futures.Executor or None
        None for ``kind="local"`` with one job: run in this process.

    Raises
    ------
    ExecutorError
        For an unknown kind, an address with the local kind, a missing dask, an
        address that is not one, or an address where no Dask scheduler answers.
    """
    check_choice(kind, "executor", EXECUTOR_KINDS)
    check_real(connect_timeout, "connect_timeout", low=0.0, low_open=True)
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
                max_workers=n,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
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
            address = check_dask_scheduler(address, timeout=timeout)
            target = address
        try:
            client = Client(target, timeout=timeout if address is not None else 30.0)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the dask scheduler at {address!r}: {exc}") from None
        stack.callback(client.close)
        yield client.get_executor()


def check_dask_address(address: Any, name: str = "`address`") -> str:
    """Return ``address`` normalised to ``scheme://host:port``, or raise naming ``name``.

    A bare ``host:port`` is taken as ``tcp://host:port``, as Dask does.

    Examples
    --------
    >>> check_dask_address("127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    >>> check_dask_address("not a url")
    Traceback (most recent call last):
    ...
    heavytail.reports._parallel.executors.ExecutorError: `address` 'not a url' is not ...
    """
    rule = "a Dask scheduler's address, scheme://host:port with scheme " + ", ".join(_DASK_SCHEMES)
    if not isinstance(address, str) or not address.strip():
        raise ExecutorError(f"{name} {address!r} is not {rule}")
    scheme, _, rest = address.rpartition("://")
    scheme = scheme or "tcp"
    host, _, port = rest.rpartition(":")
    if (
        scheme not in _DASK_SCHEMES
        or not host
        or any(c.isspace() or c in "/?#@" for c in host)
        or not port.isdigit()
        or not 0 < int(port) < 65536
    ):
        raise ExecutorError(f"{name} {address!r} is not {rule}")
    return f"{scheme}://{host}:{int(port)}"


def check_dask_scheduler(
    address: Any, *, timeout: float = DASK_CONNECT_TIMEOUT, name: str = "`address`"
) -> str:
    """Return ``address`` normalised once a Dask scheduler there has said who it is.

    The form is checked first (:func:`check_dask_address`); then one connection and one
    ``identity`` request, each within ``timeout`` seconds, in a thread with its own event
    loop (the caller may be inside one), abandoned and never waited on beyond its bound.

    Raises
    ------
    ExecutorError
        Naming ``name`` and the address, when the form is wrong or no Dask scheduler
        answered in time.
    """
    address = check_dask_address(address, name)
    timeout = check_real(timeout, "timeout", low=0.0, low_open=True)
    try:
        import distributed.comm  # noqa: F401
    except ImportError:
        raise ExecutorError(
            "the dask executor needs dask distributed: pip install 'heavytail[dist]'"
        ) from None
    outcome: list[str] = []

    async def ask() -> str:
        from distributed.comm import connect

        try:
            comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        except (OSError, TimeoutError) as exc:
            return f"no connection with Dask's handshake ({type(exc).__name__})"
        except Exception as exc:  # a peer whose first bytes are not Dask's handshake
            return f"the peer does not speak Dask's protocol ({type(exc).__name__})"
        try:
            await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
            reply = await asyncio.wait_for(comm.read(), timeout)
        except TimeoutError:
            return f"no answer within {timeout:g} s"
        except Exception as exc:  # MemoryError: garbage read as a frame's length
            return f"the answer is not Dask's protocol ({type(exc).__name__})"
        finally:
            with contextlib.suppress(Exception):
                comm.abort()
        if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
            kind = reply.get("type") if isinstance(reply, dict) else type(reply).__name__
            return f"the peer is not a scheduler ({kind})"
        return ""

    def run() -> None:
        try:
            outcome.append(asyncio.run(ask()))
        except BaseException as exc:
            outcome.append(f"the handshake failed ({type(exc).__name__})")

    thread = threading.Thread(target=run, name="heavytail-dask-probe", daemon=True)
    thread.start()
    thread.join(2 * timeout + 1.0)
    why = outcome[0] if outcome else f"no answer within {2 * timeout:g} s"
    if why:
        raise ExecutorError(
            f"cannot reach the dask scheduler at {address!r}: no Dask scheduler answered "
            f"within {timeout:g} s: {why}"
        )
    return address
