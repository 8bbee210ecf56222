"""Sweep configurations: checked fully before any run, every error naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from heavytail.reports import SweepConfigError, load_sweep_config, sweep_config


def test_runs_are_the_cartesian_product_with_defaults_and_fixed() -> None:
    cfg = sweep_config(
        {
            "experiment": "toy",
            "fixed": {"n_draws": 3},
            "grid": {"x": [1, 2.5], "seed": [0, 1, 2]},
        }
    )
    runs = list(cfg.runs())
    assert cfg.n_runs == len(runs) == 6
    # The first key varies slowest; integers given for a float setting become floats.
    assert [(r["x"], r["seed"]) for r in runs[:3]] == [(1.0, 0), (1.0, 1), (1.0, 2)]
    assert all(isinstance(r["x"], float) for r in runs)
    assert all(r["n_draws"] == 3 and r["sleep"] == 0.0 and r["fail"] is False for r in runs)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"grid": {"x": [1]}}, "experiment: missing"),
        ({"experiment": "nope"}, "experiment: `experiment` must be one of"),
        ({"experiment": "toy", "grids": {}}, "grids: unknown key"),
        ({"experiment": "toy", "grid": {"y": [1]}}, "grid.y: unknown setting"),
        ({"experiment": "toy", "fixed": {"y": 1}}, "fixed.y: unknown setting"),
        ({"experiment": "toy", "grid": {"x": []}}, "grid.x: empty list"),
        ({"experiment": "toy", "grid": {"x": 1}}, "grid.x: must be a list"),
        ({"experiment": "toy", "grid": {"seed": [0, 1.5]}}, "grid.seed[1] must be of type int"),
        ({"experiment": "toy", "grid": {"seed": [True]}}, "grid.seed[0] must be of type int"),
        ({"experiment": "toy", "grid": {"seed": [-1]}}, "grid.seed[0] must be in [0, inf), got -1"),
        ({"experiment": "toy", "fixed": {"x": "a"}}, "fixed.x must be of type float"),
        ({"experiment": "toy", "fixed": {"fail": 1}}, "fixed.fail must be of type bool"),
        ({"experiment": "toy", "fixed": {"x": 1}, "grid": {"x": [2]}}, "grid.x: also set"),
        ({"experiment": "toy", "fixed": [1]}, "`fixed` must be a table"),
        ({"experiment": "toy", "description": 3}, "description: must be a string"),
        (
            {"experiment": "meanfield.sgd", "fixed": {"activation": "gelu"}},
            "fixed.activation must be one of",
        ),
    ],
)
def test_bad_configs_name_the_key(data: dict[str, object], needle: str) -> None:
    with pytest.raises(SweepConfigError) as info:
        sweep_config(data)
    assert needle in str(info.value)


def test_load_reads_toml_and_reports_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('experiment = "toy"\n[grid]\nx = [0, 1]\nseed = [3]\n')
    cfg = load_sweep_config(good)
    assert cfg.experiment.name == "toy" and dict(cfg.grid) == {"x": (0.0, 1.0), "seed": (3,)}
    bad = tmp_path / "bad.toml"
    bad.write_text("experiment = \n")
    with pytest.raises(SweepConfigError, match="is not valid TOML"):
        load_sweep_config(bad)
    with pytest.raises(SweepConfigError, match="cannot read the sweep file"):
        load_sweep_config(tmp_path / "missing.toml")


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "sweep_example.toml"
    cfg = load_sweep_config(example)
    assert cfg.n_runs >= 8
