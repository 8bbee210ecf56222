"""``heavytail analyze``: table, CSV and figures; every bad input is one line and exit 2."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from heavytail.nn import analyze, build_model
from heavytail.reports import main
from heavytail.reports._cli.analyze_figures import (
    prunable_figure,
    survival_figure,
    tail_index_figure,
)

from ._errors import one_error_line


def _checkpoint(tmp_path: Path, spec: str = "fcn2-16") -> Path:
    path = tmp_path / "net.pt"
    torch.save(build_model(spec, in_shape=(64,), n_classes=10, rng=0).state_dict(), path)
    return path


def test_weights_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(_checkpoint(tmp_path)), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "layers.0" in printed and "alpha entries" in printed
    table = pd.read_csv(out / "analysis.csv")
    assert list(table["name"]) == ["layers.0", "layers.1"]
    assert not any(c.startswith("acc_") for c in table.columns)
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == [
        "prunable.png",
        "survival_layers.0.png",
        "survival_layers.1.png",
        "tail_index.png",
    ]
    assert all((out / "figures" / f).stat().st_size > 1000 for f in figures)


def test_with_architecture_and_digits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["analyze", str(_checkpoint(tmp_path)), "--arch", "fcn2-16", "--data", "digits"]
    assert main([*argv, "--out", str(out), "--eps", "0.2", "--quiet"]) == 0
    assert "gap" in capsys.readouterr().out
    table = pd.read_csv(out / "analysis.csv")
    assert {"acc_node_0.5", "test_accuracy", "gap_accuracy"} <= set(table.columns)


def test_payload_in_checkpoint_never_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "payload-ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[Path]]:
            return (Path.touch, (marker,))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        pickle.dump({"w.weight": Payload()}, handle)
    assert main(["analyze", str(path), "--out", str(tmp_path / "o")]) == 2
    one_error_line(capsys, "evil.pt")
    assert not marker.exists()


def _bad_cases(tmp_path: Path) -> list[tuple[list[str], list[str]]]:
    good = str(_checkpoint(tmp_path))
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00garbage" * 20)
    listed = tmp_path / "list.pt"
    torch.save([1, 2, 3], listed)
    whole = tmp_path / "whole.pt"
    torch.save(build_model("fcn2-4", in_shape=(64,), n_classes=10, rng=0), whole)
    return [
        (["analyze", str(tmp_path / "absent.pt")], ["absent.pt: no such file"]),
        (["analyze", str(corrupt)], ["corrupt.pt", "not a readable PyTorch checkpoint"]),
        (["analyze", str(listed)], ["list.pt", "not a checkpoint"]),
        (["analyze", str(whole)], ["whole.pt", "state_dict()"]),
        (["analyze", good, "--arch", "fcn9", "--data", "digits"], ["fcn9"]),
        (["analyze", good, "--arch", "fcn2-32", "--data", "digits"], ["does not fit"]),
        (["analyze", good, "--arch", "fcn2-16"], ["--arch needs --data"]),
        (["analyze", good, "--data", "digits"], ["--data needs --arch"]),
        (["analyze", good, "--arch", "fcn2-16", "--data", str(tmp_path)], ["found neither"]),
        (["analyze", good, "--arch", "fcn2-16", "--data", "nowhere"], ["neither 'digits'"]),
        (["analyze", good, "--eps", "1.5"], ["--eps", "(0, 1)"]),
        (["analyze", good, "--device", "tpu"], ["`device`"]),
        (["analyze", good, "--out", good], ["exists and is not a folder"]),
    ]


def test_every_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, needles in _bad_cases(tmp_path):
        if "--out" not in argv:
            argv = [*argv, "--out", str(tmp_path / "o"), "--quiet"]
        assert main(argv) == 2, argv
        one_error_line(capsys, *needles)


def test_figures_take_an_axis_and_return_the_figure() -> None:
    from matplotlib.figure import Figure

    net = build_model("fcn2-32", in_shape=(64,), n_classes=10, rng=0)
    table = analyze(net, rng=0)
    for plot in (tail_index_figure, prunable_figure):
        fig = plot(table)
        assert isinstance(fig, Figure)
        target = Figure()
        ax = target.subplots()
        assert plot(table, ax=ax) is target
        assert ax.has_data()
    w = net.get_parameter("layers.0.weight").detach().double().numpy()
    fig = survival_figure(w, table.iloc[0])
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and len(ax.lines) == 2  # the data and the fitted tail


def test_mnist_folder_as_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--data DIR with the four IDX files (tiny 5 x 5 images) is read as MNIST."""
    gen = np.random.default_rng(0)
    folder = tmp_path / "mnist"
    folder.mkdir()
    for prefix, n in (("train", 40), ("t10k", 20)):
        images = gen.integers(0, 256, (n, 5, 5), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        header = bytes([0, 0, 8, 3]) + b"".join(struct.pack(">I", d) for d in images.shape)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.tobytes())
        header = bytes([0, 0, 8, 1]) + struct.pack(">I", n)
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(header + labels.tobytes())
    path = tmp_path / "net.pt"
    torch.save(build_model("fcn2-8", in_shape=(25,), n_classes=10, rng=0).state_dict(), path)
    out = tmp_path / "out"
    argv = ["analyze", str(path), "--arch", "fcn2-8", "--data", str(folder), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    assert "(mnist)" in capsys.readouterr().out
    assert "acc_magnitude_0.5" in pd.read_csv(out / "analysis.csv").columns
