"""The command line: exit codes, one-line errors, outputs, and a read-only input file."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from heavytail.reports import main
from heavytail.theory import sample_stable

from .._toy import toy_claim
from ._errors import one_error_line

HEAVYTAIL = Path(sys.executable).parent / "heavytail"


def test_console_script_bad_arguments_exit_2_without_traceback() -> None:
    for args in ([], ["verify", "--size", "huge"], ["tail-index", "/nonexistent/x.npy"]):
        proc = subprocess.run(
            [str(HEAVYTAIL), *args], capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["verify", "--size", "huge"], ["--size", "huge"]),
        (["verify", "--claim", "compress.nope"], ["compress.nope", "the claims are"]),
        (["verify", "--jobs", "0"], ["--jobs", "positive integer"]),
        (["verify", "--seed", "-1"], ["--seed", "non-negative"]),
        (["verify", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["frobnicate"], ["frobnicate"]),
        (["tail-index"], ["FILE"]),
    ],
)
def test_bad_arguments(
    argv: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    one_error_line(capsys, *needles)


def test_verify_out_must_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["verify", "--claim", "compress.rate", "--out", str(blocker)]) == 2
    one_error_line(capsys, "not a folder")


@pytest.mark.parametrize(("truth", "status", "verdict"), [(0.0, 0, "agree"), (5.0, 1, "disagree")])
def test_verify_exit_status_and_outputs(
    truth: float,
    status: int,
    verdict: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    toys = {"compress.rate": toy_claim("compress.rate", truth=truth)}
    out = tmp_path / "report"
    argv = ["verify", "--size", "smoke", "--claim", "compress.rate", "--out", str(out), "--quiet"]
    assert main([*argv, "--jobs", "1"], registry=toys) == status
    captured = capsys.readouterr()
    assert "compress.rate" in captured.out and f"{verdict}".upper() in captured.out.upper()
    assert captured.err == ""  # --quiet: no progress bar
    record = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert record["claims"][0]["verdict"] == verdict and record["exit_status"] == status
    assert (out / "report.md").is_file() and (out / "figures" / "compress.rate.png").is_file()


def test_claims_lists_the_registry_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    toy = toy_claim("toy.only", truth=0.0)
    assert main(["claims"], registry={toy.id: toy}) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"toy.only: {toy.title}\n") and "compress.rate" not in out


def test_claims_lists_every_claim(capsys: pytest.CaptureFixture[str]) -> None:
    from heavytail.reports import claim_ids

    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    ids = claim_ids()
    assert {"compress.limit", "compress.rate", "prune.ensembles", "sgd.tail"} <= set(ids)
    for claim_id in ids:
        assert f"\n{claim_id}: " in f"\n{out}"
    assert out.count("Source: ") == len(ids)  # one entry per registered claim


# --------------------------------------------------------------------------------------
# tail-index


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return sample_stable(1.5, 5_000, rng=11)


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


@contextlib.contextmanager
def _left_alone(path: Path) -> Iterator[None]:
    """Check that the block leaves ``path`` as it was: its bytes and its mtime, set in the
    past first, so that any write would visibly change it."""
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = _snapshot(path)
    yield
    assert _snapshot(path) == before


@pytest.fixture
def sample_file(sample: np.ndarray, tmp_path: Path) -> Path:
    """``sample`` saved as data.npy."""
    path = tmp_path / "data.npy"
    np.save(path, sample)
    return path


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".txt", ".npz"])
def test_tail_index_reads_every_format_read_only(
    suffix: str, sample: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"data{suffix}"
    if suffix == ".npy":
        np.save(path, sample)
    elif suffix == ".npz":
        np.savez(path, w=sample, other=sample[:10])
    else:
        np.savetxt(path, sample, delimiter="," if suffix == ".csv" else " ")
    with _left_alone(path):
        key = ["--key", "w"] if suffix == ".npz" else []
        assert main(["tail-index", str(path), "--method", "hill", *key]) == 0
        out = capsys.readouterr().out
        assert out.startswith("alpha = ") and "method hill" in out and "n = 5000" in out
        estimate = float(out.split()[2])
        assert 1.2 < estimate < 2.2  # Hill on stable(1.5) data, n = 5000: biased up, not absurd


def test_tail_index_plot(
    sample_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample_file
    with _left_alone(path):
        plot = tmp_path / "tail.png"
        assert main(["tail-index", str(path), "--plot", str(plot)]) == 0
        out = capsys.readouterr().out
        assert "auto route:" in out and f"plot: {plot}" in out
        assert plot.stat().st_size > 10_000


def test_tail_index_prints_why_the_interval_is_unbounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A lognormal sample: "auto" gives an infinite upper end and says why in a note; an
    # exact Pareto sample (the control) gets a finite interval and no such note.
    light = tmp_path / "lognormal.npy"
    np.save(light, np.random.default_rng(1).lognormal(0.0, 1.0, 10_000))
    assert main(["tail-index", str(light)]) == 0
    out = capsys.readouterr().out
    assert ", inf]" in out.splitlines()[0]
    assert "note: " in out and "do not rule out a light tail" in out
    heavy = tmp_path / "pareto.npy"
    np.save(heavy, np.random.default_rng(1).pareto(1.5, 10_000) + 1.0)
    assert main(["tail-index", str(heavy)]) == 0
    out = capsys.readouterr().out
    assert ", inf]" not in out.splitlines()[0] and "light tail" not in out


def _write_bad(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    if name == "garbage.npy":
        path.write_bytes(b"not numpy at all")
    elif name == "empty.txt":
        path.write_text("")
    elif name == "words.csv":
        path.write_text("1.0,2.0\nabc,3.0\n")
    elif name == "nan.txt":
        path.write_text("1.0\nnan\n3.0\n")
    elif name == "two.npz":
        np.savez(path, a=np.ones(3), b=np.ones(3))
    elif name == "objects.npy":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif name == "constant.txt":
        path.write_text("1.0\n" * 50)
    elif name == "data.json":
        path.write_text("[1, 2, 3]")
    elif name == "latin1.txt":
        path.write_bytes(b"1.0\n\xe9\n")
    elif name == "notzip.npz":  # a zip signature followed by garbage
        path.write_bytes(b"PK\x03\x04garbage")
    elif name in ("crc.npz", "crc_compressed.npz"):
        data = np.arange(1000.0)
        save = np.savez_compressed if name == "crc_compressed.npz" else np.savez
        save(path, x=data)
        raw = bytearray(path.read_bytes())
        # One flipped byte inside the member's data: the archive still opens, and reading
        # the array fails its CRC-32 check (or, compressed, its inflation).
        start = raw.find(data.tobytes()[:64]) if name == "crc.npz" else len(raw) // 3
        assert start > 0
        raw[start + 40] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif name == "npy_named.npz":
        np.save(path.with_suffix(".npy"), np.arange(10.0))
        path.with_suffix(".npy").rename(path)
    elif name == "empty_matrix.npy":
        np.save(path, np.empty((3, 0)))
    return path


@pytest.mark.parametrize(
    ("name", "extra", "needle"),
    [
        ("garbage.npy", [], "lacks the NumPy header"),
        ("empty.txt", [], "holds no numbers"),
        ("words.csv", [], "cannot read it as a .csv"),
        ("nan.txt", ["--method", "hill"], "finite"),
        ("two.npz", [], "choose one with --key"),
        ("two.npz", ["--key", "zzz"], "no array 'zzz'"),
        ("objects.npy", [], "cannot read it as a .npy"),
        ("constant.txt", ["--method", "hill"], "cannot estimate the tail index"),
        ("data.json", [], "unsupported file type '.json'"),
        ("latin1.txt", [], "cannot read it as a .txt"),
        ("words.csv", ["--method", "bogus"], "cannot read it"),
        ("empty.txt", ["--plot", "out.jpg"], "--plot"),
        ("empty.txt", ["--key", "a"], "--key applies to .npz"),
        ("notzip.npz", [], "a damaged .npz archive"),
        ("crc.npz", [], "a damaged .npz archive: Bad CRC-32"),
        ("crc_compressed.npz", [], "a damaged .npz archive"),
        ("npy_named.npz", [], "is a .npy file with a .npz name"),
        ("empty_matrix.npy", [], "holds no numbers (an array of shape (3, 0))"),
    ],
)
def test_tail_index_failures_exit_2_and_leave_the_file_alone(
    name: str,
    extra: list[str],
    needle: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _write_bad(tmp_path, name)
    with _left_alone(path):
        assert main(["tail-index", str(path), *extra]) == 2
        one_error_line(capsys, needle)


def test_tail_index_bad_method_and_plot_onto_the_input(
    sample_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample_file
    with _left_alone(path):
        assert main(["tail-index", str(path), "--method", "bogus"]) == 2
        one_error_line(capsys, "`method` must be one of")
        link = tmp_path / "alias.png"
        link.symlink_to(path)
        assert main(["tail-index", str(path), "--plot", str(link)]) == 2
        one_error_line(capsys, "must not name the input file")
        hard = tmp_path / "hard.png"
        os.link(path, hard)
        assert main(["tail-index", str(path), "--plot", str(hard)]) == 2
        one_error_line(capsys, "must not name the input file")
        missing_folder = tmp_path / "nowhere" / "p.png"
        assert main(["tail-index", str(path), "--plot", str(missing_folder)]) == 2
        one_error_line(capsys, "does not exist")
    assert main(["tail-index", str(tmp_path)]) == 2  # a folder
    one_error_line(capsys, "unsupported file type")


def test_tail_index_refuses_an_unwritable_plot_before_estimating(
    sample_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample_file
    folder_target = tmp_path / "taken.png"
    folder_target.mkdir()
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for plot, needle in ((folder_target, "is a folder"), (blocker / "p.png", "is a file")):
        assert main(["tail-index", str(path), "--plot", str(plot)]) == 2
        captured = capsys.readouterr()
        # Refused before the estimate: nothing on stdout, one line on stderr.
        assert captured.out == "", captured.out
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], captured.err
    # Control: a writable target gets the estimate and the plot.
    good = tmp_path / "ok.png"
    assert main(["tail-index", str(path), "--method", "hill", "--plot", str(good)]) == 0
    assert capsys.readouterr().out.startswith("alpha = ") and good.is_file()


def test_verify_refuses_an_empty_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toys = {"compress.rate": toy_claim("compress.rate", truth=0.0)}
    monkeypatch.chdir(tmp_path)
    for out in ("", "  "):
        argv = ["verify", "--size", "smoke", "--claim", "compress.rate", "--quiet", "--out", out]
        assert main(argv, registry=toys) == 2
        one_error_line(capsys, "--out must name a folder")
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder


def test_a_closed_pipe_ends_quietly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`heavytail claims | head -1`: the reader leaves, the command stops with status 141
    (128 + SIGPIPE, as a shell reports it) and no traceback."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self) -> int:
            return sink.fileno()

    with open(tmp_path / "sink", "w") as sink:
        monkeypatch.setattr(sys, "stdout", ClosedPipe())
        assert main(["claims"]) == 141
    assert capsys.readouterr().err == ""
