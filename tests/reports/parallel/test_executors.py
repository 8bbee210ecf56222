"""Executors: local (one process or a pool) and Dask give the same numbers; Dask survives a
worker killed mid-run."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from heavytail.reports import (
    ResultStore,
    SweepSummary,
    get_experiment,
    open_executor,
    run_sweep,
    sweep_config,
)
from heavytail.reports._parallel.executors import ExecutorError

distributed = pytest.importorskip("distributed")

SGD_GRID = {
    "experiment": "sgd.linear",
    "fixed": {"n_chains": 200, "n_steps": 50},
    "grid": {"eta": [0.3, 0.6], "batch_size": [1, 2], "seed": [0, 1]},
}


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A LocalCluster of 2 worker processes with 1 thread each (shared by this module)."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


TOY_GRID = {
    "experiment": "toy",
    "fixed": {"n_draws": 50},
    "grid": {"x": [0.0, 0.5, 1.0, 1.5], "seed": [0, 1]},
}


def _table(path: Path, array: str) -> tuple[pd.DataFrame, dict[str, np.ndarray[Any, Any]]]:
    with ResultStore(path) as db:
        t = db.table().drop(columns=["seconds", "worker", "version"])
        t = t.sort_values("config_hash").reset_index(drop=True)
        arrays = {k: db.load_arrays(k)[array] for k in t["config_hash"]}
    return t, arrays


def _same_results_everywhere(tmp_path: Path, client: Any, grid: dict[str, Any], array: str) -> None:
    cfg = sweep_config(grid)
    run_sweep(cfg, tmp_path / "one.sqlite", jobs=1)  # in this process
    run_sweep(cfg, tmp_path / "pool.sqlite", jobs=2)  # local pool of 2 processes
    dask = run_sweep(cfg, tmp_path / "dask.sqlite", pool=client.get_executor())
    assert (dask.done, dask.failed) == (cfg.n_runs, 0)
    ref, ref_arrays = _table(tmp_path / "one.sqlite", array)
    assert len(ref) == cfg.n_runs and (ref["status"] == "done").all()
    with ResultStore(tmp_path / "dask.sqlite") as db:
        workers = {r.worker for r in db.rows()}
    assert len(workers) == 2, workers  # both Dask workers took part
    for name in ("pool", "dask"):
        table, arrays = _table(tmp_path / f"{name}.sqlite", array)
        pd.testing.assert_frame_equal(ref, table, check_exact=True)
        for key, arr in ref_arrays.items():
            np.testing.assert_array_equal(arr, arrays[key])


def test_local_process_pool_and_dask_give_identical_results(
    tmp_path: Path, dask_client: Any
) -> None:
    _same_results_everywhere(tmp_path, dask_client, TOY_GRID, "draws")
    # Negative control: another seed gives other numbers, so the comparison has power.
    exp = get_experiment("toy")
    base = {**exp.defaults(), "n_draws": 50}
    assert exp.function({**base, "seed": 0})[0] != exp.function({**base, "seed": 1})[0]


@pytest.mark.slow
def test_local_process_pool_and_dask_give_identical_sgd_runs(
    tmp_path: Path, dask_client: Any
) -> None:
    """The same on the SGD simulator (numba threads inside each run): about 35 s."""
    _same_results_everywhere(tmp_path, dask_client, SGD_GRID, "iterates")
    exp = get_experiment("sgd.linear")
    base = {**exp.defaults(), "n_chains": 200, "n_steps": 50, "eta": 0.3}
    assert exp.function({**base, "seed": 0})[0] != exp.function({**base, "seed": 1})[0]


def _pid_of_busy_worker(client: Any) -> int:
    """The pid of a worker that is running a task now (waits up to 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        busy = [addr for addr, tasks in client.processing().items() if tasks]
        if busy:
            pids = client.run(os.getpid, workers=[busy[0]])
            return int(pids[busy[0]])
        time.sleep(0.02)
    raise AssertionError("no Dask worker started a task within 30 s")


def test_dask_worker_killed_mid_run_has_its_task_run_elsewhere(
    tmp_path: Path, dask_client: Any
) -> None:
    # Six runs of 0.6 s on two workers; one worker is killed while it runs one.
    cfg = sweep_config(
        {"experiment": "toy", "fixed": {"sleep": 0.6}, "grid": {"x": [0, 1, 2, 3, 4, 5]}}
    )
    store = tmp_path / "s.sqlite"
    result: list[SweepSummary] = []
    driver = threading.Thread(
        target=lambda: result.append(run_sweep(cfg, store, pool=dask_client.get_executor()))
    )
    driver.start()
    pid = _pid_of_busy_worker(dask_client)
    time.sleep(0.2)  # well inside its 0.6 s run
    os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    driver.join(timeout=60)
    assert not driver.is_alive()
    (summary,) = result
    assert (summary.done, summary.failed) == (6, 0)
    with ResultStore(store) as db:
        rows = list(db.rows())
    assert len({r.config_hash for r in rows}) == 6 and all(r.status == "done" for r in rows)
    # No run is recorded as finished by the killed worker after its death: the run it had
    # in flight was run again, by another process.
    on_killed = [r for r in rows if r.worker.endswith(f":{pid}")]
    assert all(r.started + r.seconds <= killed_at for r in on_killed)
    assert len(on_killed) < 6
    dask_client.wait_for_workers(2, timeout=30)  # the nanny restarted it, for later tests


def _open(kind: str, **options: Any) -> None:
    with open_executor(kind, **options):
        pass


def test_open_executor_kinds_and_errors() -> None:
    with open_executor("local", jobs=1) as ex:
        assert ex is None  # one job: the caller runs in its own process
    with pytest.raises(ExecutorError, match="needs the dask executor"):
        _open("local", address="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="`executor` must be one of"):
        _open("threads")
    with pytest.raises(ExecutorError, match="cannot reach the dask scheduler"):
        _open("dask", address="tcp://127.0.0.1:9", connect_timeout=1.0)


def test_verify_executor_dask_runs_the_claims_on_the_opened_executor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify --executor dask --address A` opens that executor and runs every claim on it.

    A thread pool stands in for the Dask client here, and a stand-in claim, given as the
    registry, for the real one; the sweep tests above run real Dask clusters.
    """
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import contextmanager

    import heavytail.reports._parallel.executors as executors
    from heavytail.reports import main

    from .._toy import toy_claim

    toys = {"compress.rate": toy_claim("compress.rate", truth=0.0)}
    opened: list[tuple[str, int | None, str | None]] = []
    submitted: list[str] = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(args[0])
            return super().submit(fn, *args, **kwargs)

    @contextmanager
    def fake_open(
        kind: str, *, jobs: int | None = None, address: str | None = None
    ) -> Iterator[Any]:
        opened.append((kind, jobs, address))
        with Recording(max_workers=2) as pool:
            yield pool

    monkeypatch.setattr(executors, "open_executor", fake_open)
    # No scheduler is there to answer the address check (test_dask_address.py tests it).
    monkeypatch.setattr(executors, "check_dask_scheduler", lambda address, **_: address)
    argv = ["verify", "--size", "smoke", "--claim", "compress.rate", "--quiet"]
    address = "tcp://10.0.0.5:8786"
    out = tmp_path / "report"
    argv += ["--out", str(out), "--executor", "dask", "--address", address]
    assert main(argv, registry=toys) == 0
    assert opened == [("dask", 1, address)] and submitted == ["compress.rate"]
    assert "compress.rate" in capsys.readouterr().out
    assert (out / "results.json").is_file()
