"""Running a sweep: every grid point once, resumable, on any executor.

The driver (the process that calls :func:`run_sweep`) opens the store, skips every run
already done (and every failed one unless ``retry_failed``), submits the others to the
executor, and records each outcome as it arrives. Only the driver writes to the store,
one row per finished run, so a sweep killed at any moment has lost at most the runs that
were in flight; run it again and it does exactly those that are missing.

A run that raises is recorded as failed with its traceback and the sweep goes on. A
local worker process that dies (a crash, the out-of-memory killer) breaks its pool, and
every run in flight with it; nothing tells which run killed it. The pool is then started
again and the runs not yet recorded are run one at a time: a run whose worker dies is the
culprit, recorded as failed, and a new pool carries on with the others. Dask re-runs a
dead worker's tasks by itself; a task that keeps killing workers comes back as an error
(``KilledWorker``) and is recorded as failed. An executor passed in (``pool=``) is not
restarted: the runs it lost are recorded as failed.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import BrokenExecutor, Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._parallel.executors import check_dask_scheduler, open_executor
from .config import SweepConfig
from .experiment import Experiment, RunOutcome, execute_run
from .store import ResultStore, config_hash

__all__ = ["SweepPlan", "SweepSummary", "plan_sweep", "run_sweep"]


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep will do against a store.

    Attributes
    ----------
    runs : Mapping
        config_hash -> full config of every distinct grid point, in grid order.
    to_run : tuple of str
        The keys to run now: not in the store, or failed when retrying.
    done : int
        Grid points already done (skipped).
    failed_skipped : int
        Grid points that failed before and are not retried.
    duplicates : int
        Grid points equal to an earlier one (a value repeated in a list).
    """

    runs: Mapping[str, Mapping[str, Any]]
    to_run: tuple[str, ...]
    done: int
    failed_skipped: int
    duplicates: int


@dataclass(frozen=True)
class SweepSummary:
    """The result of :func:`run_sweep`.

    Attributes
    ----------
    store : Path
    experiment : str
    planned : int
        Distinct grid points.
    skipped : int
        Grid points already done before this call.
    failed_skipped : int
        Failed grid points not retried.
    done, failed : int
        Runs recorded as done / failed by this call.
    already : int
        Runs that another sweep on the same store recorded first (not written again).
    seconds : float
    """

    store: Path
    experiment: str
    planned: int
    skipped: int
    failed_skipped: int
    done: int
    failed: int
    already: int
    seconds: float


def plan_sweep(config: SweepConfig, store: ResultStore, *, retry_failed: bool = False) -> SweepPlan:
    """Compare the grid with the store: which runs are done, which to run."""
    name = config.experiment.name
    runs: dict[str, dict[str, Any]] = {}
    total = 0
    for run in config.runs():
        total += 1
        runs.setdefault(config_hash(name, run), run)
    status = store.statuses()
    to_run = tuple(k for k in runs if k not in status or (retry_failed and status[k] == "failed"))
    done = sum(1 for k in runs if status.get(k) == "done")
    failed_skipped = sum(1 for k in runs if status.get(k) == "failed") if not retry_failed else 0
    return SweepPlan(runs, to_run, done, failed_skipped, total - len(runs))


def _lost(key: str, exc: BaseException, what: str) -> RunOutcome:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    now = time.time()
    return RunOutcome(key, "failed", error=f"{what}\n{text}", started=now, worker="")


def run_sweep(
    config: SweepConfig,
    store: str | Path,
    *,
    executor: str = "local",
    jobs: int | None = None,
    address: str | None = None,
    pool: Executor | None = None,
    retry_failed: bool = False,
    on_plan: Callable[[SweepPlan], None] | None = None,
    on_record: Callable[[RunOutcome], None] | None = None,
) -> SweepSummary:
    """Run every grid point of ``config`` not yet done in ``store``.

    Parameters
    ----------
    config : SweepConfig
        A checked sweep (:func:`heavytail.reports.load_sweep_config`).
    store : str or Path
        The SQLite results file (:class:`heavytail.reports.ResultStore`); created if
        missing. It is opened, and checked, before any run starts.
    executor : {"local", "dask"}
        See :func:`heavytail.reports.open_executor`. Ignored when ``pool`` is given.
    jobs : int or None
        Worker processes (local pool, or Dask ``LocalCluster``); default: the CPUs.
    address : str or None
        Dask scheduler address (``executor="dask"``).
    pool : concurrent.futures.Executor or None
        An executor to use instead of starting one (e.g. a Dask client's
        ``get_executor()``); it is not shut down.
    retry_failed : bool
        Run again the grid points recorded as failed.
    on_plan : callable or None
        Called once with the :class:`SweepPlan` before the first run.
    on_record : callable or None
        Called with each outcome after it is recorded (progress display).

    Returns
    -------
    SweepSummary

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from heavytail.reports import run_sweep, sweep_config
    >>> cfg = sweep_config({"experiment": "toy", "grid": {"x": [0, 1], "seed": [0, 1]}})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = run_sweep(cfg, pathlib.Path(tmp) / "s.sqlite", jobs=1)
    ...     again = run_sweep(cfg, pathlib.Path(tmp) / "s.sqlite", jobs=1)
    >>> (first.done, first.skipped), (again.done, again.skipped)
    ((4, 0), (0, 4))
    """
    start = time.perf_counter()
    experiment = config.experiment
    counts = {"done": 0, "failed": 0, "already": 0}
    if pool is None and executor == "dask" and address is not None:
        # Before the store is made: an address where no scheduler answers changes nothing.
        address = check_dask_scheduler(address)
    with ResultStore(store) as db:
        plan = plan_sweep(config, db, retry_failed=retry_failed)
        if on_plan is not None:
            on_plan(plan)

        def record(outcome: RunOutcome) -> None:
            written = db.record(experiment.name, plan.runs[outcome.config_hash], outcome)
            counts[outcome.status if written else "already"] += 1
            if on_record is not None:
                on_record(outcome)

        if plan.to_run:
            _execute(experiment, plan, record, executor, jobs, address, pool)
    return SweepSummary(
        Path(store),
        experiment.name,
        len(plan.runs),
        plan.done,
        plan.failed_skipped,
        counts["done"],
        counts["failed"],
        counts["already"],
        time.perf_counter() - start,
    )


def _execute(
    experiment: Experiment,
    plan: SweepPlan,
    record: Callable[[RunOutcome], None],
    executor: str,
    jobs: int | None,
    address: str | None,
    pool: Executor | None,
) -> None:
    pending = {k: plan.runs[k] for k in plan.to_run}
    if pool is not None:
        broken = _submit_all(experiment, pending, record, pool)
        for key in list(pending):
            record(_lost(key, broken or RuntimeError("no result"), "the executor broke"))
        return
    cautious = False
    while pending:
        with open_executor(executor, jobs=jobs, address=address) as ex:
            if ex is None:
                for key in list(pending):
                    record(execute_run(experiment, pending.pop(key), key))
                return
            if not cautious:
                if _submit_all(experiment, pending, record, ex) is None:
                    return
                cautious = True  # a worker died: find which run kills it
                continue
            if _one_at_a_time(experiment, pending, record, ex):
                return


def _one_at_a_time(
    experiment: Experiment,
    pending: dict[str, Mapping[str, Any]],
    record: Callable[[RunOutcome], None],
    ex: Executor,
) -> bool:
    """Run ``pending`` one by one; False when a worker died (its run is recorded failed)."""
    for key in list(pending):
        future = ex.submit(execute_run, experiment, pending[key], key)
        try:
            outcome = future.result()
        except BrokenExecutor as exc:
            pending.pop(key)
            record(_lost(key, exc, "the worker process died while running this run"))
            return False
        except Exception as exc:
            outcome = _lost(key, exc, "the run's worker failed (the run did not raise)")
        pending.pop(key)
        record(outcome)
    return True


def _submit_all(
    experiment: Experiment,
    pending: dict[str, Mapping[str, Any]],
    record: Callable[[RunOutcome], None],
    ex: Executor,
) -> BaseException | None:
    """Submit ``pending``, record what comes back and pop it; return a broken pool's error."""
    futures: dict[Future[RunOutcome], str] = {}
    broken: BaseException | None = None
    for key, cfg in pending.items():
        try:
            futures[ex.submit(execute_run, experiment, cfg, key)] = key
        except BrokenExecutor as exc:  # it broke while the runs were being submitted
            broken = exc
            break
    for future in as_completed(futures):
        key = futures.pop(future)
        try:
            outcome = future.result()
        except BrokenExecutor as exc:  # a local worker died: the whole pool is gone
            broken = exc
            continue
        except Exception as exc:  # e.g. dask's KilledWorker after repeated worker deaths
            outcome = _lost(key, exc, "the run's worker failed (the run did not raise)")
        pending.pop(key)
        record(outcome)
    return broken
