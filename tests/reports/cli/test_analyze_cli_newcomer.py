"""``heavytail analyze`` as a newcomer meets it: --help that states the grammar and the
file names, a plain nn.Sequential matched by order and shape and said so, the spectral
columns printed, --jobs, and no empty output folder left by a failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from heavytail.reports import main


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(["analyze", "--help"])
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_help_states_the_arch_grammar_and_the_order_and_shape_match(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _help(capsys)
    assert "fcn<depth>-<width>[-nobias][-mf] | cnn-<width>[-nobias]" in text
    assert "depth counts weight layers" in text and "784-2048-2048-2048-10 is fcn4-2048" in text
    assert "0.weight, 2.weight" in text and "by order and shape" in text


def test_help_lists_the_data_file_names(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys)
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        ".gz",
        "data_batch_1",
        "data_batch_5",
        "test_batch",
        "digits",
        "mnist5k",
        "--jobs",
    ):
        assert name in text, name


def _sequential(tmp_path: Path) -> Path:
    """A plain nn.Sequential without bias, 64-32-32-10, as a newcomer saves it."""
    gen = torch.Generator().manual_seed(7)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 32, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 32, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 10, bias=False),
    )
    with torch.no_grad():
        for layer in model[::2]:
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * 0.2)
    path = tmp_path / "net.pt"
    torch.save(model.state_dict(), path)
    return path


def test_a_plain_sequential_is_matched_by_order_and_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["analyze", str(_sequential(tmp_path)), "--arch", "fcn3-32-nobias", "--data"]
    assert main([*argv, "digits", "--out", str(out), "--quiet", "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "note: the checkpoint's names did not match the architecture" in printed
    assert "0.weight -> layers.0.weight" in printed and "by order and shape" in printed
    table = pd.read_csv(out / "analysis.csv")
    assert list(table["arch_name"]) == ["layers.0", "layers.1", "layers.2"]
    # The second table: the spectral columns, WeightWatcher's alpha with its interval.
    assert "alpha_ww" in printed and "stable rank" in printed and "MP spikes" in printed
    first = table.iloc[0]
    ww = f"{first['spectral_alpha_ww']:.3g} [{1 + first['spectral_ci_low']:.3g}, "
    assert ww in printed
    assert "papers' alpha" in printed and "orientation" in printed
    assert "layers.0" in printed  # the architecture's name beside the checkpoint's


def test_jobs_gives_the_same_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _sequential(tmp_path)
    tables = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        assert main(["analyze", str(path), "--out", str(out), "--quiet", "--jobs", jobs]) == 0
        tables.append(pd.read_csv(out / "analysis.csv"))
    capsys.readouterr()
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert main(["analyze", str(path), "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err


@pytest.mark.parametrize("nested", [False, True])
def test_a_failed_analyze_leaves_no_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nested: bool
) -> None:
    bad = tmp_path / "net.pt"
    bad.write_bytes(b"not a checkpoint at all")
    out = tmp_path / "a" / "b" if nested else tmp_path / "out"
    assert main(["analyze", str(bad), "--out", str(out), "--quiet"]) == 2
    assert "net.pt" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.pt"]


def test_a_failed_analyze_leaves_an_existing_folder_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "net.pt"
    bad.write_bytes(b"not a checkpoint at all")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["analyze", str(bad), "--out", str(out), "--quiet"]) == 2
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_the_entries_footnote_says_when_subsamples_were_used() -> None:
    from heavytail.nn import analyze
    from heavytail.reports._cli.analyze_figures import survival_figure

    w = np.random.default_rng(3).standard_t(3.0, size=(400, 300))
    table = analyze({"big.weight": torch.from_numpy(w)}, max_entries=30_000, progress=False)
    row = table.iloc[0]
    fig = survival_figure(w, row)
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "3 disjoint subsamples" in texts, texts
