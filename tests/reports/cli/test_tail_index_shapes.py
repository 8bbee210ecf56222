"""`heavytail tail-index` on arrays of several columns: refused with the shape and the
choices, or pooled only when asked and then said so; complex values refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heavytail.reports import main
from heavytail.theory import estimate_tail_index

from ._errors import one_error_line


@pytest.fixture
def table() -> np.ndarray:
    """Two columns with different tails: Pareto(1.5) and Pareto(4) magnitudes."""
    rng = np.random.default_rng(20250)
    return np.column_stack([rng.pareto(1.5, 4000) + 1.0, rng.pareto(4.0, 4000) + 1.0])


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_a_table_of_several_columns_is_refused_naming_its_shape_and_the_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: np.ndarray, suffix: str
) -> None:
    path = tmp_path / f"t{suffix}"
    if suffix == ".npy":
        np.save(path, table)
    else:
        np.savetxt(path, table, delimiter=",")
    assert main(["tail-index", str(path), "--method", "hill"]) == 2
    one_error_line(capsys, str(path), "(4000, 2)", "--column", "--pool")


def test_column_picks_one_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: np.ndarray
) -> None:
    path = tmp_path / "t.npy"
    np.save(path, table)
    for j in (0, 1):
        assert main(["tail-index", str(path), "--method", "hill", "--column", str(j)]) == 0
        out = capsys.readouterr().out
        expected = estimate_tail_index(table[:, j], "hill")
        assert f"alpha = {expected.alpha:.4g} " in out and f"n = {table.shape[0]})" in out
        assert f"column {j} of a (4000, 2) array" in out
    assert main(["tail-index", str(path), "--column", "2"]) == 2
    one_error_line(capsys, "--column 2", "columns 0 to 1")


def test_pool_estimates_all_entries_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: np.ndarray
) -> None:
    path = tmp_path / "t.npy"
    np.save(path, table)
    assert main(["tail-index", str(path), "--method", "hill", "--pool"]) == 0
    out = capsys.readouterr().out
    expected = estimate_tail_index(table.ravel(), "hill")
    assert f"alpha = {expected.alpha:.4g} " in out and "n = 8000)" in out
    assert "note: pooled the 8000 entries of a (4000, 2) array as one sample" in out
    assert main(["tail-index", str(path), "--pool", "--column", "0"]) == 2
    one_error_line(capsys, "--column", "--pool")


def test_a_single_column_or_row_needs_no_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: np.ndarray
) -> None:
    for shape in ((4000, 1), (1, 4000)):
        path = tmp_path / f"v{shape[0]}.npy"
        np.save(path, table[:, :1].reshape(shape))
        assert main(["tail-index", str(path), "--method", "hill"]) == 0
        out = capsys.readouterr().out
        assert f"alpha = {estimate_tail_index(table[:, 0], 'hill').alpha:.4g} " in out
        assert "pooled" not in out


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_complex_values_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    path = tmp_path / f"c{suffix}"
    z = np.arange(1.0, 51.0) * (1 + 2j)
    if suffix == ".npy":
        np.save(path, z)
    else:
        path.write_text("\n".join(str(v) for v in z) + "\n")
    assert main(["tail-index", str(path)]) == 2
    one_error_line(capsys, str(path))
