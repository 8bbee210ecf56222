"""Watching a sweep that another process runs: the runs its store holds so far."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any


def recorded_runs(store: Path, status: str | None = None) -> int:
    """Runs recorded in ``store`` (only those of ``status`` if given), read-only; 0 while
    the file or its schema is not there yet."""
    if not store.exists():
        return 0
    query = "SELECT COUNT(*) FROM runs" + ("" if status is None else " WHERE status = ?")
    conn = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute(query, () if status is None else (status,)).fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        conn.close()


def wait_for_runs(
    proc: subprocess.Popen[Any],
    store: Path,
    n: int,
    *,
    timeout: float,
    status: str | None = None,
    poll: float = 0.01,
) -> None:
    """Wait until the sweep ``proc`` has recorded ``n`` runs in ``store``; fail if it ends
    first or takes more than ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while recorded_runs(store, status) < n:
        assert proc.poll() is None, ("the sweep ended early", proc.communicate())
        assert time.monotonic() < deadline, f"the sweep recorded no {n} runs in {timeout:g} s"
        time.sleep(poll)
