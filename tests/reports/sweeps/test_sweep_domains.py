"""Every sweep setting's domain is that of the function it feeds, checked before any run.

Each bad value below used to pass the config check and then either change silently
(``hill_fraction = 0`` gave k = 2, ``eps = 0`` a prunable fraction of 0) or become a
failed run with exit 1. Now the config check refuses it, naming the key and the bound;
and for each bound of the table, the function the setting feeds refuses the same value
(so the table cannot drift from the functions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from heavytail.reports import SweepConfigError, get_experiment, main, sweep_config
from heavytail.theory import InvalidArgumentError

# (experiment, setting, bad value, the bound the message must state)
BAD = [
    ("sgd.linear", "hill_fraction", 0, "(0, 1]"),
    ("sgd.linear", "hill_fraction", 1.5, "(0, 1]"),
    ("sgd.linear", "eps", 0, "(0, 1)"),
    ("sgd.linear", "eps", 1.5, "(0, 1)"),
    ("sgd.linear", "eta", 0, "(0, inf)"),
    ("sgd.linear", "eta", -0.5, "(0, inf)"),
    ("sgd.linear", "sigma", 0, "(0, inf)"),
    ("sgd.linear", "noise_scale", 0, "(0, inf)"),
    ("sgd.linear", "noise_alpha", 3, "0 (none) or in (0, 2]"),
    ("meanfield.sgd", "eta", 0, "(0, inf)"),
    ("meanfield.sgd", "noise_alpha", 2.5, "0 (none) or in (0, 2]"),
    ("meanfield.sgd", "noise_scale", 0, "(0, inf)"),
    ("meanfield.sgd", "eps", 0, "(0, 1)"),
    ("meanfield.sgd", "hill_fraction", 0, "(0, 1]"),
    ("nn.train", "eta", 0, "(0, inf)"),
    ("nn.train", "noise_alpha", 3, "0 (none) or in (0, 2]"),
    ("nn.train", "eps", 1.0, "(0, 1)"),
    ("nn.train", "hill_fraction", 0, "(0, 1]"),
]


@pytest.mark.parametrize(("experiment", "key", "value", "bound"), BAD)
@pytest.mark.parametrize("section", ["fixed", "grid"])
def test_a_value_outside_the_domain_is_refused_by_the_config_check(
    experiment: str, key: str, value: float, bound: str, section: str
) -> None:
    data: dict[str, Any] = {"experiment": experiment}
    data[section] = {key: [value] if section == "grid" else value}
    with pytest.raises(SweepConfigError) as info:
        sweep_config(data)
    message = str(info.value)
    assert message.startswith(f"{section}.{key}"), message
    assert f"must be {bound}" in message or f"must be in {bound}" in message, message
    assert repr(float(value)) in message or repr(value) in message, message


def test_the_wrong_bound_is_gone() -> None:
    with pytest.raises(SweepConfigError) as info:
        sweep_config({"experiment": "sgd.linear", "grid": {"eta": [0.5, -0.5]}})
    assert "grid.eta[1] must be in (0, inf), got -0.5" in str(info.value)
    assert ">= 0" not in str(info.value)


def test_the_domain_edges_inside_are_accepted() -> None:
    cfg = sweep_config(
        {
            "experiment": "sgd.linear",
            "fixed": {"hill_fraction": 1.0, "noise_alpha": 2.0, "dataset_size": 0},
            "grid": {"eps": [1e-9, 0.999]},
        }
    )
    assert next(cfg.runs())["noise_alpha"] == 2.0
    off = sweep_config({"experiment": "meanfield.sgd", "fixed": {"noise_alpha": 0}})
    assert next(off.runs())["noise_alpha"] == 0.0


def test_hill_fraction_too_small_for_the_sample_is_refused_not_clamped() -> None:
    # 100 chains x dim 1 = 100 magnitudes: 0.01 gives k = 1, which Hill cannot use.
    with pytest.raises(SweepConfigError) as info:
        sweep_config(
            {
                "experiment": "sgd.linear",
                "fixed": {"n_chains": 100},
                "grid": {"hill_fraction": [0.01]},
            }
        )
    message = str(info.value)
    assert "hill_fraction" in message and "k = 1" in message and "100" in message


def _feeds() -> dict[tuple[str, str], Callable[[float], object]]:
    """Each bounded setting -> a call of the library function it feeds, with that value."""
    from heavytail.simulate import InjectedNoise, sgd_linear_regression
    from heavytail.theory import prunable_fraction

    w = np.array([[3.0, 4.0, 1.0]])
    return {
        ("sgd.linear", "eta"): lambda v: sgd_linear_regression(v, 1, n_chains=1, n_steps=1, rng=0),
        ("sgd.linear", "sigma"): lambda v: sgd_linear_regression(
            0.1, 1, sigma=v, n_chains=1, n_steps=1, rng=0
        ),
        ("sgd.linear", "noise_std"): lambda v: sgd_linear_regression(
            0.1, 1, noise_std=v, n_chains=1, n_steps=1, rng=0
        ),
        ("sgd.linear", "noise_alpha"): lambda v: InjectedNoise(v, 1.0, "iid"),
        ("sgd.linear", "noise_scale"): lambda v: InjectedNoise(1.5, v, "iid"),
        ("meanfield.sgd", "noise_alpha"): lambda v: InjectedNoise(v, 1.0, "unit"),
        ("meanfield.sgd", "noise_scale"): lambda v: InjectedNoise(1.5, v, "unit"),
        ("sgd.linear", "eps"): lambda v: prunable_fraction(w, v, "magnitude"),
    }


@pytest.mark.parametrize(("experiment", "key"), list(_feeds()))
def test_each_bound_is_the_bound_of_the_function_it_feeds(experiment: str, key: str) -> None:
    setting = get_experiment(experiment).schema[key]
    call = _feeds()[(experiment, key)]
    for edge, is_open, step in (
        (setting.low, setting.low_open, -1),
        (setting.high, setting.high_open, 1),
    ):
        if edge is None or math.isinf(edge):
            continue
        inside = edge if not is_open else edge - step * 1e-6
        outside = edge + step * (1 if setting.kind == "int" else 1e-6) if not is_open else edge
        if key == "eps":  # the sweep is stricter than prunable_fraction: see its doc
            assert "exactly zero" in setting.doc or "trivially" in setting.doc
            continue
        call(inside)  # accepted by the function ...
        setting_check(experiment, key, inside)  # ... and by the sweep
        if setting.off is not None and outside == setting.off:
            setting_check(experiment, key, outside)  # "none": the function is not called
            continue
        with pytest.raises(InvalidArgumentError):  # refused by the function ...
            call(outside)
        with pytest.raises(SweepConfigError):  # ... and by the sweep, before any run
            setting_check(experiment, key, outside)


NOISY = ["sgd.linear", "meanfield.sgd", "nn.train"]


@pytest.mark.parametrize("experiment", NOISY)
def test_every_noise_kind_setting_offers_the_kinds_the_noise_classes_take(
    experiment: str,
) -> None:
    """One vocabulary: each experiment that injects noise offers the same ``noise_kind``
    choices, those that ``heavytail.simulate.InjectedNoise`` and ``heavytail.nn.InjectedNoise``
    take; another name is refused by the sweep and by both classes."""
    from heavytail.simulate import InjectedNoise

    setting = get_experiment(experiment).schema["noise_kind"]
    assert setting.choices == ("unit", "iid", "elliptic")
    torch_noise = pytest.importorskip("heavytail.nn").InjectedNoise
    for kind in setting.choices:
        assert InjectedNoise(1.5, 1.0, kind).kind == kind
        assert torch_noise(1.5, 1.0, kind).kind == kind
        setting_check(experiment, "noise_kind", kind)
    for bad in ("gaussian", 1):
        with pytest.raises(InvalidArgumentError, match="`kind`"):
            InjectedNoise(1.5, 1.0, bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="`kind`"):
            torch_noise(1.5, 1.0, bad)
    with pytest.raises(SweepConfigError, match="noise_kind"):
        setting_check(experiment, "noise_kind", "gaussian")


def setting_check(experiment: str, key: str, value: float | str) -> None:
    sweep_config({"experiment": experiment, "fixed": {key: value}})


def test_the_command_exits_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('experiment = "sgd.linear"\n[grid]\neta = [0.5, 0]\n')
    store = tmp_path / "bad.sqlite"
    assert main(["sweep", str(config), "--store", str(store), "--jobs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "grid.eta[1] must be in (0, inf), got 0.0" in err
    assert not store.exists()
