"""run_sweep in one process: resuming, failures, retries, duplicates, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from heavytail.reports import (
    ResultStore,
    RunOutcome,
    StoreError,
    SweepConfig,
    config_hash,
    run_sweep,
    sweep_config,
)
from heavytail.reports._sweeps.experiment import execute_run


def _toy(xs: list[float], seeds: list[int], **fixed: object) -> SweepConfig:
    return sweep_config({"experiment": "toy", "fixed": fixed, "grid": {"x": xs, "seed": seeds}})


def _expected_value(x: float, seed: int, n_draws: int = 5) -> float:
    """The toy's metric computed here from its definition, not read from the store."""
    return x + float(np.random.default_rng(seed).standard_normal(n_draws).mean())


def test_every_run_once_with_the_defined_values(tmp_path: Path) -> None:
    cfg = _toy([0, 1, 2], [0, 1])
    seen: list[RunOutcome] = []
    summary = run_sweep(cfg, tmp_path / "s.sqlite", jobs=1, on_record=seen.append)
    assert (summary.planned, summary.done, summary.failed, summary.skipped) == (6, 6, 0, 0)
    assert len(seen) == 6
    with ResultStore(tmp_path / "s.sqlite") as store:
        table = store.table()
        for run in store.rows():
            assert run.config_hash == config_hash("toy", run.config)
            assert run.metrics["value"] == _expected_value(run.config["x"], run.config["seed"])
            draws = store.load_arrays(run.config_hash)["draws"]
            np.testing.assert_array_equal(
                draws, np.random.default_rng(run.config["seed"]).standard_normal(5)
            )
    assert sorted(zip(table["x"], table["seed"], strict=True)) == [
        (x, s) for x in (0.0, 1.0, 2.0) for s in (0, 1)
    ]


def test_resume_skips_done_runs_and_runs_only_new_ones(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    run_sweep(_toy([0, 1], [0, 1]), store, jobs=1)
    with ResultStore(store) as db:
        before = {r.config_hash: r.recorded for r in db.rows()}
    seen: list[str] = []
    summary = run_sweep(
        _toy([0, 1, 2], [0, 1]), store, jobs=1, on_record=lambda o: seen.append(o.config_hash)
    )
    assert (summary.skipped, summary.done) == (4, 2)
    assert not set(seen) & set(before)  # no finished run was redone
    with ResultStore(store) as db:
        after = {r.config_hash: r.recorded for r in db.rows()}
    assert len(after) == 6 and all(after[k] == t for k, t in before.items())


def test_a_failing_run_is_recorded_with_its_traceback_and_the_others_complete(
    tmp_path: Path,
) -> None:
    cfg = sweep_config({"experiment": "toy", "grid": {"x": [0, 1, 2, 3], "fail": [False, True]}})
    store = tmp_path / "s.sqlite"
    summary = run_sweep(cfg, store, jobs=1)
    assert (summary.done, summary.failed) == (4, 4)
    with ResultStore(store) as db:
        rows = list(db.rows())
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 4 and all(r.config["fail"] for r in failed)
    for r in failed:
        assert r.error is not None and r.error.startswith("Traceback (most recent call last)")
        assert "RuntimeError: the toy run with x = " in r.error and r.metrics == {}
    # Without --retry-failed they are skipped; with it they run again (and fail again).
    again = run_sweep(cfg, store, jobs=1)
    assert (again.done, again.failed, again.skipped, again.failed_skipped) == (0, 0, 4, 4)
    retried = run_sweep(cfg, store, jobs=1, retry_failed=True)
    assert (retried.failed, retried.skipped) == (4, 4)
    with ResultStore(store) as db:
        assert sorted(r.attempts for r in db.rows()) == [1, 1, 1, 1, 2, 2, 2, 2]


def test_malformed_output_fails_the_run_not_the_sweep() -> None:
    from heavytail.reports import Experiment, Setting

    def bad(config: object) -> object:
        return {"value": float("nan")}, {}

    exp = Experiment("test.bad", bad, (Setting("x", "float", 0.0, "x"),), "")  # type: ignore[arg-type]
    out = execute_run(exp, {"x": 0.0}, "k")
    assert out.status == "failed" and "metric 'value' is not finite" in (out.error or "")

    def clash(config: object) -> object:
        return {"x": 1.0}, {}

    exp = Experiment("test.clash", clash, (Setting("x", "float", 0.0, "x"),), "")  # type: ignore[arg-type]
    out = execute_run(exp, {"x": 0.0}, "k")
    assert out.status == "failed" and "has the name of a setting" in (out.error or "")


def test_repeated_grid_values_are_one_run(tmp_path: Path) -> None:
    summary = run_sweep(_toy([1, 1.0, 2], [0]), tmp_path / "s.sqlite", jobs=1)
    assert (summary.planned, summary.done) == (2, 2)


def test_a_bad_store_is_refused_before_any_run(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("not a database\n")
    seen: list[RunOutcome] = []
    with pytest.raises(StoreError, match="not a SQLite file"):
        run_sweep(_toy([0], [0]), path, jobs=1, on_record=seen.append)
    with pytest.raises(StoreError, match="does not exist"):
        run_sweep(_toy([0], [0]), tmp_path / "no" / "s.sqlite", jobs=1, on_record=seen.append)
    assert not seen and path.read_text() == "not a database\n"


class _CrashingPool(Executor):
    """Runs in this thread, but a run with ``crash`` breaks the pool like a dead process:
    that run and every run still in flight fail with BrokenProcessPool."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.in_flight: list[tuple[Future[Any], tuple[Any, ...]]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        pool = self

        class _Lazy(Future[Any]):  # waiting for a result lets the runs in flight finish
            def result(self, timeout: float | None = None) -> Any:
                if not self.done():
                    pool._drain()
                return super().result(timeout)

        future: Future[Any] = _Lazy()
        self.in_flight.append((future, args))
        if len(self.in_flight) == 2 or args[1]["crash"]:  # two workers' worth of runs
            self._drain()
        return future

    def _drain(self) -> None:
        crashed = any(args[1]["crash"] for _, args in self.in_flight)
        for future, args in self.in_flight:
            if crashed:
                future.set_exception(BrokenProcessPool("a worker died"))
            else:
                future.set_result(execute_run(*args))
        self.in_flight.clear()
        self.log.append("broke" if crashed else "ok")

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._drain()


def test_a_dead_local_worker_fails_only_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import heavytail.reports._sweeps.driver as sweep_module

    log: list[str] = []
    pools: list[_CrashingPool] = []

    @contextmanager
    def fake_open(kind: str, **options: Any) -> Iterator[Executor]:
        pools.append(_CrashingPool(log))
        yield pools[-1]

    monkeypatch.setattr(sweep_module, "open_executor", fake_open)
    cfg = sweep_config({"experiment": "toy", "grid": {"x": [0, 1, 2, 3], "crash": [False, True]}})
    summary = run_sweep(cfg, tmp_path / "s.sqlite", jobs=2)
    assert (summary.done, summary.failed) == (4, 4)
    with ResultStore(tmp_path / "s.sqlite") as db:
        rows = list(db.rows())
    assert {r.config["x"] for r in rows if r.status == "done"} == {0.0, 1.0, 2.0, 3.0}
    for r in rows:
        assert (r.status == "failed") == r.config["crash"]
        if r.status == "failed":
            assert "the worker process died while running this run" in (r.error or "")
    # One parallel pool that broke, then one pool per culprit, run one at a time.
    assert len(pools) == 1 + 4


@pytest.mark.slow
def test_a_crashing_run_in_a_real_pool(tmp_path: Path) -> None:
    """The same with real worker processes that exit (about 20 s: a new pool per crash)."""
    cfg = sweep_config({"experiment": "toy", "grid": {"x": [0, 1, 2], "crash": [False, True]}})
    summary = run_sweep(cfg, tmp_path / "s.sqlite", jobs=2)
    assert (summary.done, summary.failed) == (3, 3)
