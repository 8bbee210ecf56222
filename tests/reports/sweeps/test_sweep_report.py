"""Tables and figures from a store: values from the rows, figures only with their columns."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from heavytail.reports import ResultStore, RunOutcome, config_hash, write_sweep_report


def _fill(store: Path) -> pd.DataFrame:
    """Rows of a made-up experiment with every column the figures use."""
    rng = np.random.default_rng(3)
    made = []
    with ResultStore(store) as db:
        for eta, b, width, seed in itertools.product([0.5, 1.0], [1, 2], [16, 64], [0, 1, 2]):
            config = {"eta": eta, "batch_size": b, "width": width, "seed": seed}
            metrics: dict[str, float | int | str] = {
                "tail_index": float(3 - eta / b + 0.1 * rng.standard_normal()),
                "predicted_tail_index": 3 - eta / b,
                "prunable_fraction": float(rng.uniform()),
                "gap": float(rng.uniform()),
                "test_loss": float(1 / width + 0.01 * rng.uniform()),
                "label": "a",
            }
            key = config_hash("fake", config)
            db.record("fake", config, RunOutcome(key, "done", metrics=metrics, worker="w"))
            made.append({**config, **metrics})
    return pd.DataFrame(made)


def test_tables_and_all_four_figures(tmp_path: Path) -> None:
    made = _fill(tmp_path / "s.sqlite")
    files = write_sweep_report(tmp_path / "s.sqlite", tmp_path / "out")
    assert [p.name for p in files.tables] == ["fake_runs.csv", "fake_summary.csv"]
    assert files.skipped == ()
    assert sorted(p.name for p in files.figures) == [
        "fake_error_vs_width.png",
        "fake_gap_vs_tail_index.png",
        "fake_prunable_fraction_vs_tail_index.png",
        "fake_tail_index_vs_eta_over_b.png",
    ]
    assert all(p.stat().st_size > 10_000 for p in files.figures)
    runs = pd.read_csv(tmp_path / "out" / "fake_runs.csv")
    assert len(runs) == 24 and {"eta", "tail_index", "label", "seconds"} <= set(runs.columns)
    # The summary's means over seeds, against means computed here from what was written.
    summary = pd.read_csv(tmp_path / "out" / "fake_summary.csv")
    assert len(summary) == 8 and (summary["tail_index_count"] == 3).all()
    expected = made.groupby(["eta", "batch_size", "width"])["tail_index"].mean()
    for _, row in summary.iterrows():
        want = expected[(row["eta"], row["batch_size"], row["width"])]
        assert abs(row["tail_index_mean"] - want) < 1e-12  # CSV round trip of doubles
    assert "label_mean" not in summary.columns  # strings are not averaged


def test_figures_without_their_columns_are_listed_as_skipped(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "s.sqlite") as db:
        config = {"eta": 0.5, "batch_size": 1, "seed": 0}
        key = config_hash("partial", config)
        db.record("partial", config, RunOutcome(key, "done", metrics={"tail_index": 2.0}))
    files = write_sweep_report(tmp_path / "s.sqlite", tmp_path / "out")
    assert [p.name for p in files.figures] == ["partial_tail_index_vs_eta_over_b.png"]
    assert files.skipped == (
        "partial: prunable_fraction_vs_tail_index (no column prunable_fraction)",
        "partial: gap_vs_tail_index (no column gap)",
        "partial: error_vs_width (no column width, test_error or test_loss)",
    )


def test_empty_store(tmp_path: Path) -> None:
    ResultStore(tmp_path / "s.sqlite").close()
    files = write_sweep_report(tmp_path / "s.sqlite", tmp_path / "out")
    assert files.tables == () and files.figures == () and files.skipped == ()
