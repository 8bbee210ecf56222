"""A sweep process killed with SIGKILL resumes with nothing lost or duplicated, and two
sweeps writing to one store at once lose nothing (real processes, the `heavytail` script)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heavytail.reports import ResultStore, run_sweep, sweep_config

from ._watch import wait_for_runs

HEAVYTAIL = Path(sys.executable).parent / "heavytail"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and sessions")


def _write_config(path: Path, xs: list[int], sleep: float) -> dict[str, object]:
    data: dict[str, object] = {
        "experiment": "toy",
        "fixed": {"sleep": sleep, "n_draws": 4},
        "grid": {"x": xs, "seed": [7]},
    }
    path.write_text(
        'experiment = "toy"\n'
        f"[fixed]\nsleep = {sleep}\nn_draws = 4\n"
        f"[grid]\nx = {json.dumps(xs)}\nseed = [7]\n"
    )
    return data


def _sweep(config: Path, store: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(HEAVYTAIL), "sweep", str(config), "--store", str(store), "--jobs", "1", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, killed as a whole
    )


def _final_table(store: Path) -> pd.DataFrame:
    with ResultStore(store) as db:
        assert db.integrity() == "ok"
        rows = list(db.rows())
        for row in rows:  # every row decodes, and its arrays file is whole
            assert row.status == "done" and set(row.metrics) == {"value", "n", "label"}
            draws = db.load_arrays(row.config_hash)["draws"]
            assert draws.shape == (4,) and np.isfinite(draws).all()
        table = db.table()
    assert table["config_hash"].is_unique
    return (
        table.drop(columns=["seconds", "worker", "version"]).sort_values("x").reset_index(drop=True)
    )


def _expected_value(x: float) -> float:
    """The toy's metric from its definition: x + the mean of 4 N(0, 1) draws of seed 7."""
    return x + float(np.random.default_rng(7).standard_normal(4).mean())


def test_sigkill_mid_sweep_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    xs = list(range(16))
    data = _write_config(tmp_path / "sweep.toml", xs, sleep=0.05)
    store = tmp_path / "s.sqlite"
    proc = _sweep(tmp_path / "sweep.toml", store)
    wait_for_runs(proc, store, 4, timeout=60, status="done")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    with ResultStore(store) as db:
        survivors = {r.config_hash: r.recorded for r in db.rows()}
    k = len(survivors)
    assert 4 <= k < len(xs)  # killed partway through

    # Run it again (in this process): only the missing runs are run.
    summary = run_sweep(sweep_config(data), store, jobs=1)
    assert (summary.skipped, summary.done, summary.failed) == (k, 16 - k, 0)
    resumed = _final_table(store)
    assert len(resumed) == 16 and (resumed["attempts"] == 1).all()
    with ResultStore(store) as db:  # the runs finished before the kill were not redone
        after = {r.config_hash: r.recorded for r in db.rows()}
    assert all(after[key] == t for key, t in survivors.items())
    assert resumed["value"].tolist() == [_expected_value(x) for x in xs]

    # The same sweep, never interrupted, gives the same table.
    run_sweep(sweep_config(data), tmp_path / "ref.sqlite", jobs=1)
    reference = _final_table(tmp_path / "ref.sqlite")
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_two_sweeps_writing_one_store_at_once_lose_nothing(tmp_path: Path) -> None:
    # Overlapping grids, x 0..11 (another process) and 6..17 (this one), run at the same
    # time: both may run 6..11; each run is recorded once.
    _write_config(tmp_path / "a.toml", list(range(12)), sleep=0.1)
    data = _write_config(tmp_path / "b.toml", list(range(6, 18)), sleep=0.1)
    store = tmp_path / "s.sqlite"
    proc = _sweep(tmp_path / "a.toml", store)
    wait_for_runs(proc, store, 1, timeout=60, status="done")
    mine = run_sweep(sweep_config(data), store, jobs=1)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    table = _final_table(store)
    assert table["x"].tolist() == [float(x) for x in range(18)]
    assert (table["attempts"] == 1).all()
    assert table["value"].tolist() == [_expected_value(x) for x in range(18)]
    # They did overlap in time: the other process recorded runs while this one ran.
    with ResultStore(store) as db:
        pid = str(os.getpid())
        times = [(r.recorded, r.worker.endswith(f":{pid}")) for r in db.rows()]
    first_mine = min(t for t, is_mine in times if is_mine)
    assert any(t > first_mine for t, is_mine in times if not is_mine)
    assert mine.done + mine.already == 12 - mine.skipped
