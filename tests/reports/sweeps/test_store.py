"""The results store: schema, keys, one row per run, atomic arrays, clear refusals."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from heavytail.reports import ResultStore, RunOutcome, StoreError, config_hash
from heavytail.reports._sweeps.store import canonical_json, package_version

CONFIG: dict[str, object] = {"x": 1.0, "seed": 0, "n_draws": 5, "sleep": 0.0, "fail": False}


def _outcome(status: str, config: dict[str, object] = CONFIG, **kw: object) -> RunOutcome:
    key = config_hash("toy", config)
    if status == "done":
        kw.setdefault("metrics", {"value": 1.5, "n": 5, "label": "a"})
        kw.setdefault("arrays", {"draws": np.arange(5.0)})
    else:
        kw.setdefault("error", "Traceback (most recent call last):\nRuntimeError: boom\n")
    return RunOutcome(key, status, started=1.0, seconds=0.5, worker="h:1", **kw)  # type: ignore[arg-type]


def test_key_is_sha256_of_canonical_json_and_ignores_key_order() -> None:
    import hashlib

    text = '{"config":{"fail":false,"n_draws":5,"seed":0,"sleep":0.0,"x":1.0},"experiment":"toy"}'
    assert canonical_json({"config": CONFIG, "experiment": "toy"}) == text
    assert config_hash("toy", CONFIG) == hashlib.sha256(text.encode()).hexdigest()
    assert config_hash("toy", dict(reversed(list(CONFIG.items())))) == config_hash("toy", CONFIG)
    # A different value, or another experiment with the same settings, is another run.
    assert config_hash("toy", {**CONFIG, "x": 1.5}) != config_hash("toy", CONFIG)
    assert config_hash("other", CONFIG) != config_hash("toy", CONFIG)


def test_schema_wal_and_a_done_row(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with ResultStore(path) as store:
        assert store.record("toy", CONFIG, _outcome("done"))
        assert store.count() == {"done": 1, "failed": 0}
        assert store.integrity() == "ok"
        (row,) = store.rows()
        np.testing.assert_array_equal(store.load_arrays(row.config_hash)["draws"], np.arange(5.0))
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
    assert cols[:5] == ["config_hash", "experiment", "config", "status", "metrics"]
    status, metrics, arrays, version = conn.execute(
        "SELECT status, metrics, arrays, version FROM runs"
    ).fetchone()
    conn.close()
    assert status == "done" and json.loads(metrics) == {"value": 1.5, "n": 5, "label": "a"}
    assert version == package_version()
    assert (path.with_name("s.arrays") / arrays).is_file()
    # No temporary file is left beside the arrays.
    assert sorted(p.name for p in path.with_name("s.arrays").iterdir()) == [arrays]


def test_done_is_never_replaced_and_failed_is(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "s.sqlite") as store:
        assert store.record("toy", CONFIG, _outcome("failed"))
        (row,) = store.rows()
        assert row.status == "failed" and "RuntimeError: boom" in (row.error or "")
        assert row.attempts == 1 and row.arrays is None
        assert store.record("toy", CONFIG, _outcome("done"))  # a retry that worked
        (row,) = store.rows()
        assert (row.status, row.attempts, row.error) == ("done", 2, None)
        # A later outcome of a done run (e.g. from a second sweep) changes nothing.
        assert not store.record("toy", CONFIG, _outcome("failed"))
        assert not store.record("toy", CONFIG, _outcome("done", metrics={"value": 9.0}))
        (row,) = store.rows()
        assert (row.status, row.attempts, row.metrics["value"]) == ("done", 2, 1.5)


def test_record_refuses_a_wrong_key_and_non_finite_metrics(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "s.sqlite") as store:
        wrong = RunOutcome("0" * 64, "done", metrics={"value": 1.0})
        with pytest.raises(ValueError, match="not the key of this config"):
            store.record("toy", CONFIG, wrong)
        with pytest.raises(ValueError, match="not finite"):
            store.record("toy", CONFIG, _outcome("done", metrics={"value": float("nan")}))
        assert store.count() == {"done": 0, "failed": 0}


def test_table_is_tidy(tmp_path: Path) -> None:
    other: dict[str, object] = {**CONFIG, "x": 2.0}
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.record("toy", CONFIG, _outcome("done"))
        store.record("toy", other, _outcome("failed", other))
        table = store.table()
    assert len(table) == 2
    assert {"config_hash", "status", "x", "seed", "value", "label", "seconds", "error"} <= set(
        table.columns
    )
    failed = table[table["status"] == "failed"].iloc[0]
    assert failed["error"] == "RuntimeError: boom" and failed["x"] == 2.0


# -- refusals, before anything is written --------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        ResultStore(tmp_path / "nope" / "s.sqlite")
    assert not (tmp_path / "nope").exists()


def test_a_file_where_the_folder_should_be(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"x")
    with pytest.raises(StoreError, match=r"the store's folder '.*blocker' is a file"):
        ResultStore(blocker / "s.sqlite")
    assert blocker.read_bytes() == b"x"


def test_not_a_sqlite_file_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes\n")
    with pytest.raises(StoreError, match="is not a SQLite file"):
        ResultStore(path)
    assert path.read_text() == "these are my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a heavytail results store"):
        ResultStore(path)


def test_folder_as_store_and_readonly_missing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        ResultStore(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        ResultStore(tmp_path / "absent.sqlite", readonly=True)


def _readonly_folders(tmp_path: Path) -> list[Path]:
    folders = []
    if os.geteuid() != 0:  # root writes through permission bits
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        folders.append(ro)
    if sys.platform == "linux":
        folders.append(Path("/proc"))  # no regular file can be created there, even by root
    return folders


def test_readonly_folder(tmp_path: Path) -> None:
    folders = _readonly_folders(tmp_path)
    assert folders, "no read-only folder to test on this platform"
    for folder in folders:
        with pytest.raises(StoreError, match="is not writable"):
            ResultStore(folder / "s.sqlite")
        assert not (folder / "s.sqlite").exists()


def test_stray_files_are_those_no_run_names(tmp_path: Path) -> None:
    # A driver killed between writing a run's arrays and its row leaves files that no row
    # names: a temporary file, or a finished .npz. Both are listed; the arrays of recorded
    # runs, done or failed, are not (the negative control: a clean store lists nothing).
    path = tmp_path / "s.sqlite"
    with ResultStore(path) as store:
        assert store.stray_files() == []  # no arrays folder yet
        store.record("toy", CONFIG, _outcome("done"))
        store.record("toy", {**CONFIG, "x": 2.0}, _outcome("failed", {**CONFIG, "x": 2.0}))
        assert store.stray_files() == []
        folder = store.arrays_dir
        (folder / ".abc.123.tmp").write_bytes(b"partial")
        (folder / f"{config_hash('toy', {**CONFIG, 'x': 3.0})}.npz").write_bytes(b"x")
        assert [p.name for p in store.stray_files()] == sorted(
            [".abc.123.tmp", f"{config_hash('toy', {**CONFIG, 'x': 3.0})}.npz"]
        )
        assert store.count() == {"done": 1, "failed": 1}  # nothing was touched
