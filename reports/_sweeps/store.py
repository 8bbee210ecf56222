"""The results store: one SQLite file (WAL mode) with one row per run.

Schema (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`)::

    CREATE TABLE runs (
        config_hash TEXT PRIMARY KEY,  -- sha256 of the canonical JSON of the run's key
        experiment  TEXT NOT NULL,     -- the experiment's name
        config      TEXT NOT NULL,     -- canonical JSON of the full config (defaults in)
        status      TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        metrics     TEXT,              -- JSON object of the metrics (NULL when failed)
        arrays      TEXT,              -- .npz file name in the arrays folder, or NULL
        error       TEXT,              -- the traceback of a failed run, else NULL
        started     REAL NOT NULL,     -- Unix time the run started in its worker
        seconds     REAL NOT NULL,     -- wall-clock seconds of the run in its worker
        recorded    REAL NOT NULL,     -- Unix time the row was written
        version     TEXT NOT NULL,     -- heavytail version that produced the row
        worker      TEXT NOT NULL,     -- host:pid of the worker (information only)
        attempts    INTEGER NOT NULL   -- times this run was recorded (failures retried)
    )

The key. ``config_hash`` is the SHA-256 of ``{"config": ..., "experiment": ...}`` as
canonical JSON (sorted keys, no spaces, floats in Python's shortest round-trip form),
where the config holds every setting of the experiment with its default filled in. The
package version is *not* part of the key: it is stored in ``version``, and a new
version resumes a store instead of redoing every run (versions change for reasons that
leave most experiments' numbers alone). To redo runs after a change that matters, use
a new store. Adding a setting to an experiment changes every key of that experiment.

Arrays. A run's arrays go to ``<store>.arrays/<config_hash>.npz`` (``<store>`` is the
file's name without its suffix), written atomically: a temporary file in the same
folder, flushed and fsync'ed, then ``os.replace``; the row is written after the file,
so a row never names a missing file.

Writers. Only a sweep's driver process writes. A done run is never overwritten; a
failed one is replaced when it is run again and recorded. Two drivers may share a
store: SQLite serialises their writes (each row is one transaction) and a run both
finished is recorded once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from heavytail._lib._errors import HeavytailError
from heavytail._lib._validation import folder_problem

from .experiment import RunOutcome

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SCHEMA_VERSION",
    "ResultStore",
    "StoreError",
    "canonical_json",
    "config_hash",
    "package_version",
]

SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Seconds a writer waits for another writer's transaction before giving up.
BUSY_TIMEOUT = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    config_hash TEXT PRIMARY KEY,
    experiment  TEXT NOT NULL,
    config      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    metrics     TEXT,
    arrays      TEXT,
    error       TEXT,
    started     REAL NOT NULL,
    seconds     REAL NOT NULL,
    recorded    REAL NOT NULL,
    version     TEXT NOT NULL,
    worker      TEXT NOT NULL,
    attempts    INTEGER NOT NULL
)
"""
_COLUMNS = (
    "config_hash",
    "experiment",
    "config",
    "status",
    "metrics",
    "arrays",
    "error",
    "started",
    "seconds",
    "recorded",
    "version",
    "worker",
    "attempts",
)


class StoreError(HeavytailError, OSError):
    """A store that cannot be used: missing or read-only folder, not a SQLite file, ..."""


def package_version() -> str:
    """The installed heavytail version ("unknown" when not installed)."""
    try:
        return _dist_version("heavytail")
    except PackageNotFoundError:  # pragma: no cover - the package is always installed
        return "unknown"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and no NaN: the same text for the same value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(experiment: str, config: Mapping[str, Any]) -> str:
    """The key of a run: SHA-256 (hex) of its experiment and full config.

    ``config`` must be the full, normalised config (every setting, defaults filled in,
    floats as floats), as :meth:`heavytail.reports.SweepConfig.runs` gives it.

    Examples
    --------
    >>> from heavytail.reports import config_hash
    >>> config_hash("toy", {"x": 1.0, "seed": 0}) == config_hash("toy", {"seed": 0, "x": 1.0})
    True
    >>> len(config_hash("toy", {"x": 1.0}))
    64
    """
    text = canonical_json({"config": dict(config), "experiment": experiment})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredRun:
    """One row of the store, decoded (see the module notes for the columns)."""

    config_hash: str
    experiment: str
    config: Mapping[str, Any]
    status: str
    metrics: Mapping[str, Any]
    arrays: str | None
    error: str | None
    started: float
    seconds: float
    recorded: float
    version: str
    worker: str
    attempts: int


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsync'ed
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_npz_atomic(path: Path, arrays: Mapping[str, np.ndarray[Any, Any]]) -> None:
    """Write ``arrays`` to ``path`` (.npz): a temporary file in the folder, fsync, replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **dict(arrays))  # type: ignore[arg-type]
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _check_location(path: Path, *, create: bool) -> None:
    """Raise a StoreError unless ``path`` can be (or is) a store we may write."""
    folder = path.parent
    if (problem := folder_problem(folder)) is not None:
        raise StoreError(f"the store's {problem}")
    if path.exists():
        if path.is_dir():
            raise StoreError(f"the store {str(path)!r} is a folder, not a SQLite file")
        try:
            with path.open("rb") as fh:
                head = fh.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise StoreError(f"cannot read the store {str(path)!r}: {exc.strerror}") from None
        if head and head != _SQLITE_MAGIC:
            raise StoreError(f"the store {str(path)!r} is not a SQLite file")
    elif not create:
        raise StoreError(f"the store {str(path)!r} does not exist")
    if create:
        # A real write, not os.access: permissions do not stop root, a read-only mount does.
        try:
            fd, probe = tempfile.mkstemp(prefix=".heavytail-probe.", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StoreError(
                f"the store's folder {str(folder)!r} is not writable: {exc.strerror}"
            ) from None


class ResultStore:
    """A sweep's results: a SQLite file in WAL mode and a folder of .npz arrays.

    Parameters
    ----------
    path : str or Path
        The SQLite file. Created (with the schema) when missing, in an existing,
        writable folder.
    readonly : bool
        Open an existing store for reading only (``heavytail report``); nothing is
        created or written.

    Raises
    ------
    StoreError
        Before anything is written, when the folder is missing or not writable, the file
        is not a SQLite database, or its schema is not this version's. An existing file
        is read with ``mode=ro`` first, so another application's database is refused
        byte for byte as it was (no WAL switch, no journal).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from heavytail.reports import ResultStore
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with ResultStore(pathlib.Path(tmp) / "runs.sqlite") as store:
    ...         print(store.count())
    {'done': 0, 'failed': 0}
    """

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        _check_location(self.path, create=not readonly)
        if not readonly and self.path.exists() and self.path.stat().st_size > 0:
            # Read-only first: another application's database is refused as it was found
            # (opening it for writing would switch it to WAL mode and change its bytes).
            self._refuse_foreign()
        try:
            if readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT)
            else:
                self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
                self._conn.execute("PRAGMA journal_mode=WAL")
                # NORMAL is durable at each WAL checkpoint and never corrupts the file;
                # FULL also survives a power cut right after a commit.
                self._conn.execute("PRAGMA synchronous=FULL")
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(Exception):
                self._conn.close()
            raise StoreError(f"the store {str(self.path)!r} cannot be used: {exc}") from None

    def _refuse_foreign(self) -> None:
        """Raise a StoreError unless the existing file is a store (or a bare database).

        The file is opened with ``mode=ro``, so nothing is written: not even a journal.
        """
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT)
            try:
                (user_version,) = conn.execute("PRAGMA user_version").fetchone()
                query = "SELECT name FROM sqlite_master WHERE type='table'"
                tables = {r[0] for r in conn.execute(query)}
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the store {str(self.path)!r} cannot be used: {exc}") from None
        if (user_version, tables) != (0, set()):
            self._check_found(int(user_version), tables)

    def _check_found(self, user_version: int, tables: set[str]) -> None:
        if user_version != SCHEMA_VERSION or "runs" not in tables:
            raise StoreError(
                f"the store {str(self.path)!r} is a SQLite file but not a heavytail results "
                f"store of schema {SCHEMA_VERSION} (user_version {user_version}, tables "
                f"{sorted(tables)})"
            )

    def _check_schema(self) -> None:
        conn = self._conn

        def read() -> tuple[int, set[str]]:
            (user_version,) = conn.execute("PRAGMA user_version").fetchone()
            query = "SELECT name FROM sqlite_master WHERE type='table'"
            return int(user_version), {r[0] for r in conn.execute(query)}

        if self.readonly:
            user_version, tables = read()
        else:
            # One writer at a time creates the schema: two sweeps may start together.
            conn.execute("BEGIN IMMEDIATE")
            try:
                user_version, tables = read()
                if user_version == 0 and not tables:
                    conn.execute(_SCHEMA)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    user_version, tables = read()
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        self._check_found(user_version, tables)

    # -- context manager -------------------------------------------------------------
    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------
    @property
    def arrays_dir(self) -> Path:
        """The folder of the .npz files: ``<store without suffix>.arrays``."""
        return self.path.with_name(self.path.stem + ".arrays")

    def statuses(self) -> dict[str, str]:
        """config_hash -> status of every recorded run."""
        return dict(self._conn.execute("SELECT config_hash, status FROM runs").fetchall())

    def count(self) -> dict[str, int]:
        """Number of done and failed runs."""
        counts = {"done": 0, "failed": 0}
        for status, n in self._conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"):
            counts[status] = n
        return counts

    def rows(self) -> Iterator[StoredRun]:
        """Every row, decoded, in the order they were recorded.

        A row whose ``config`` or ``metrics`` is not a JSON object (a store edited or
        damaged by hand) raises :class:`StoreError` naming the file and the run.
        """
        cols = ", ".join(_COLUMNS)
        query = f"SELECT {cols} FROM runs ORDER BY recorded, config_hash"
        try:
            rows = self._conn.execute(query).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the store {str(self.path)!r} cannot be read: {exc}") from None
        for row in rows:
            values = dict(zip(_COLUMNS, row, strict=True))
            values["config"] = self._decode(values, "config")
            values["metrics"] = self._decode(values, "metrics") if values["metrics"] else {}
            yield StoredRun(**values)

    def _decode(self, values: Mapping[str, Any], column: str) -> dict[str, Any]:
        """The JSON object in ``column`` of a row, or a StoreError naming the file and run."""
        text = values[column]
        try:
            decoded = json.loads(text) if isinstance(text, str | bytes) else None
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            why = f"is damaged ({exc})"
        else:
            if isinstance(decoded, dict):
                return decoded
            why = f"is not a JSON object (got {type(decoded).__name__})"
        raise StoreError(
            f"the store {str(self.path)!r}: the {column} of run {values['config_hash']} {why}"
        )

    def load_arrays(self, key: str) -> dict[str, np.ndarray[Any, Any]]:
        """The arrays of run ``key`` ({} when it has none)."""
        row = self._conn.execute("SELECT arrays FROM runs WHERE config_hash = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(f"no run with config_hash {key!r} in {str(self.path)!r}")
        if row[0] is None:
            return {}
        with np.load(self.arrays_dir / row[0], allow_pickle=False) as data:
            return {name: data[name] for name in data.files}

    def table(self) -> pd.DataFrame:
        """A tidy table: one row per run, config keys and metrics as columns.

        Columns: ``config_hash``, ``experiment``, ``status``, every setting, every
        metric, ``seconds``, ``version``, ``worker``, ``attempts`` and ``error`` (the
        last line of the traceback of a failed run).
        """
        import pandas as pd

        records = []
        for run in self.rows():
            rec: dict[str, Any] = {
                "config_hash": run.config_hash,
                "experiment": run.experiment,
                "status": run.status,
            }
            rec.update(run.config)
            rec.update(run.metrics)
            rec.update(
                seconds=run.seconds,
                version=run.version,
                worker=run.worker,
                attempts=run.attempts,
                error=run.error.strip().splitlines()[-1] if run.error else None,
            )
            records.append(rec)
        return pd.DataFrame.from_records(records)

    def stray_files(self) -> list[Path]:
        """Files in the arrays folder that no recorded run names, sorted.

        A driver writes a run's .npz (through a temporary file) before its row, so a
        driver killed in between leaves a file no row names: a temporary file, or an .npz
        that the run's next attempt overwrites. A driver that is running leaves the same
        while it writes. They are never read; delete them only when no sweep is running
        on this store.
        """
        if not self.arrays_dir.is_dir():
            return []
        named = {
            name
            for (name,) in self._conn.execute("SELECT arrays FROM runs WHERE arrays IS NOT NULL")
        }
        return sorted(p for p in self.arrays_dir.iterdir() if p.name not in named)

    def integrity(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` ("ok" for a sound file)."""
        return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    # -- writing ----------------------------------------------------------------------
    def record(self, experiment: str, config: Mapping[str, Any], outcome: RunOutcome) -> bool:
        """Write one run's outcome; return False when a done row was already there.

        The arrays are written first (atomically), then the row, in one transaction.
        A ``done`` row is never replaced; a ``failed`` one is, by either outcome.
        """
        if self.readonly:
            raise StoreError(f"the store {str(self.path)!r} was opened read-only")
        if outcome.status not in ("done", "failed"):
            raise ValueError(f"`outcome.status` must be 'done' or 'failed', got {outcome.status!r}")
        key = outcome.config_hash
        if key != config_hash(experiment, config):
            raise ValueError(f"the outcome's key {key!r} is not the key of this config")
        arrays_name = None
        if outcome.status == "done" and outcome.arrays:
            self.arrays_dir.mkdir(exist_ok=True)
            arrays_name = f"{key}.npz"
            write_npz_atomic(self.arrays_dir / arrays_name, outcome.arrays)
        metrics = None
        if outcome.status == "done":
            for name, value in outcome.metrics.items():
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"metric {name!r} is not finite: {value}")
            metrics = canonical_json(dict(outcome.metrics))
        values = (
            key,
            experiment,
            canonical_json(dict(config)),
            outcome.status,
            metrics,
            arrays_name,
            outcome.error,
            outcome.started,
            outcome.seconds,
            time.time(),
            package_version(),
            outcome.worker,
        )
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            cur = self._conn.execute(
                f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * 13)}) "
                "ON CONFLICT(config_hash) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:-1])
                + ", attempts = runs.attempts + 1 WHERE runs.status = 'failed'",
                (*values, 1),
            )
            return cur.rowcount == 1
