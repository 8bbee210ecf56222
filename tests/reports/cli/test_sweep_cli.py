"""`heavytail sweep` and `heavytail report`: exit codes, one-line errors, outputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from heavytail.reports import main

from ._errors import one_error_line

TOY = 'experiment = "toy"\n[grid]\nx = [0, 1, 2]\nfail = [false, true]\n'


def test_sweep_then_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "toy.toml"
    config.write_text(TOY)
    store = tmp_path / "toy.sqlite"
    # Some runs fail (fail = true): exit 1, and the others are done.
    assert main(["sweep", str(config), "--store", str(store), "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "6 runs in the grid, 0 already done, 6 run now (3 done, 3 failed)" in out
    assert main(["sweep", str(config), "--store", str(store), "--jobs", "1", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "3 already done, 0 run now" in out and "3 runs failed before" in out

    report = tmp_path / "rep"
    assert main(["report", str(store), "--out", str(report)]) == 0
    out = capsys.readouterr().out
    assert f"Table: {report / 'toy_runs.csv'}" in out
    assert "Skipped: toy: tail_index_vs_eta_over_b (no column tail_index, eta, batch_size)" in out
    runs = pd.read_csv(report / "toy_runs.csv")
    failed = pd.read_csv(report / "failed.csv")
    assert sorted(runs["x"]) == [0.0, 1.0, 2.0] and not runs["fail"].any()
    assert len(failed) == 3 and failed["error"].str.contains("asked to fail").all()
    assert "Stray" not in out  # every file in the arrays folder belongs to a run

    # A temporary file left by a driver killed while writing: named, counted, not read.
    arrays = tmp_path / "toy.arrays"
    (arrays / ".deadbeef.1.tmp").write_bytes(b"partial")
    assert main(["report", str(store), "--out", str(report)]) == 0
    out = capsys.readouterr().out
    assert f"Stray: 1 file(s) in {arrays} that no run names" in out
    assert (arrays / ".deadbeef.1.tmp").is_file()  # reported, left in place


def test_default_store_is_named_after_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "grid.toml").write_text('experiment = "toy"\n[grid]\nx = [0]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "grid.toml", "--jobs", "1"]) == 0
    assert "Store: grid.sqlite" in capsys.readouterr().out
    assert (tmp_path / "grid.sqlite").is_file()


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('experiment = "toy"\n[grid]\nx = []\n', ("grid.x: empty list",)),
        ('experiment = "toy"\n[grid]\nwidth = [1]\n', ("grid.width: unknown setting",)),
        ('experiment = "toy"\n[fixed]\nseed = "a"\n', ("fixed.seed must be of type int",)),
        ("experiment = \n", ("is not valid TOML",)),
    ],
)
def test_bad_config_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needles: tuple[str, ...]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    assert main(["sweep", str(config), "--store", str(tmp_path / "s.sqlite")]) == 2
    one_error_line(capsys, "bad.toml", *needles)
    assert not (tmp_path / "s.sqlite").exists()  # checked before anything was created


def test_bad_store_or_options_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "toy.toml"
    config.write_text(TOY)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    assert main(["sweep", str(config), "--store", str(notes)]) == 2
    one_error_line(capsys, "is not a SQLite file")
    assert main(["sweep", str(config), "--store", str(tmp_path / "no" / "s.sqlite")]) == 2
    one_error_line(capsys, "does not exist")
    assert main(["sweep", str(config), "--address", "tcp://127.0.0.1:1"]) == 2
    one_error_line(capsys, "--address needs --executor dask")
    assert main(["verify", "--address", "tcp://127.0.0.1:1"]) == 2
    one_error_line(capsys, "--address needs --executor dask")
    assert main(["report", str(tmp_path / "absent.sqlite")]) == 2
    one_error_line(capsys, "does not exist")
    assert main(["report", str(notes)]) == 2
    one_error_line(capsys, "is not a SQLite file")
    assert notes.read_text() == "hello\n"


def test_a_config_that_is_not_utf8_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes('experiment = "toy"\ndescription = "café"\n'.encode("latin-1"))
    assert main(["sweep", str(config), "--store", str(tmp_path / "s.sqlite"), "--quiet"]) == 2
    one_error_line(capsys, str(config), "UTF-8", "line 2")
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize("column", ["metrics", "config"])
def test_a_store_with_damaged_json_is_one_line_naming_the_file_and_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str
) -> None:
    import sqlite3

    config = tmp_path / "toy.toml"
    config.write_text('experiment = "toy"\n[grid]\nx = [0, 1]\n')
    store = tmp_path / "toy.sqlite"
    assert main(["sweep", str(config), "--store", str(store), "--jobs", "1", "--quiet"]) == 0
    capsys.readouterr()
    conn = sqlite3.connect(store)
    with conn:
        (key,) = conn.execute("SELECT config_hash FROM runs ORDER BY config_hash").fetchone()
        conn.execute(f"UPDATE runs SET {column} = ? WHERE config_hash = ?", ('{"value": 1.', key))
    conn.close()
    report = tmp_path / "rep"
    assert main(["report", str(store), "--out", str(report)]) == 2
    one_error_line(capsys, str(store), key, column)
    assert not report.exists()  # nothing half-written
