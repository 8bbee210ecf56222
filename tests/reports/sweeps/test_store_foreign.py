"""A SQLite file that is not a heavytail store is refused before anything writes to it."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from heavytail.reports import ResultStore, StoreError, main


def _foreign(path: Path) -> str:
    """Another application's database (rollback journal, as SQLite makes by default)."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO contacts (name) VALUES (?)", [("ada",), ("alan",)])
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p != path)


def test_a_foreign_sqlite_file_is_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "contacts.db"
    before = _foreign(path)
    with pytest.raises(StoreError, match="not a heavytail results store") as info:
        ResultStore(path)
    assert "contacts" in str(info.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert _siblings(path) == []  # no -wal, -shm or -journal file either
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_sweep_into_a_foreign_sqlite_file_exits_2_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "contacts.db"
    before = _foreign(path)
    config = tmp_path / "toy.toml"
    config.write_text('experiment = "toy"\n[grid]\nx = [0, 1]\n')
    assert main(["sweep", str(config), "--store", str(path), "--jobs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a heavytail results store" in err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert _siblings(path) == ["toy.toml"]


def test_an_empty_file_and_a_new_file_still_become_stores(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    for path in (empty, tmp_path / "new.sqlite"):
        with ResultStore(path) as store:
            assert store.count() == {"done": 0, "failed": 0}
        with ResultStore(path, readonly=True) as store:  # and open again as stores
            assert store.count() == {"done": 0, "failed": 0}
