"""The simulators refuse, before allocating, runs whose arrays cannot fit in memory.

Without the check numpy raises a bare MemoryError (or the machine swaps). The sizes here
are petabytes or more: larger than any machine's memory, so the refusal does not depend
on the machine the test runs on. Each refusal must name the argument that sizes the
array and the size; the control, the same call at a small size, runs.
"""

from __future__ import annotations

import re

import pytest

from heavytail._lib._validation import check_allocation, format_bytes
from heavytail.simulate import (
    MeanFieldData,
    MeanFieldRecording,
    Recording,
    SharedDataset,
    mean_field_sgd,
    sgd_linear_regression,
)
from heavytail.theory import InvalidArgumentError

_MEAN_FIELD = {"n_units": 8, "dim": 3, "eta": 0.1, "batch_size": 2, "n_steps": 5}


@pytest.mark.parametrize(
    ("change", "needle", "size"),
    [
        ({"n_steps": 10**15}, "`n_steps` = 1000000000000000", "16 PB"),
        ({"n_units": 10**14}, "`n_units` x `dim` = 2 x 100000000000000 x 3", "624 PB"),
        ({"n_replicates": 10**9, "n_units": 10**6}, "`n_replicates` x `n_units`", "32 PB"),
        ({"batch_size": 10**9, "n_units": 10**6}, "`batch_size` x `n_units`", "24 PB"),
        (
            {"data": MeanFieldData(test_size=10**14)},
            "`test_size`) x (`dim` + 2) = 100000000000000 x 5",
            "4 PB",
        ),
        (
            {
                "n_units": 10**8,
                "dim": 10**6,
                "record": MeanFieldRecording(weight_steps=tuple(range(6))),
            },
            "len(`weight_steps`) x `n_units` x (`dim` + 1) = 1 x 6 x 100000000 x 1000001",
            "4.8 PB",
        ),
    ],
)
def test_mean_field_refuses_a_run_too_large_for_memory(
    change: dict[str, object], needle: str, size: str
) -> None:
    kwargs = {**_MEAN_FIELD, **change}
    with pytest.raises(InvalidArgumentError, match=re.escape(needle)) as info:
        mean_field_sgd(**kwargs)  # type: ignore[arg-type]
    assert f"needs {size} for" in str(info.value) and "memory" in str(info.value)


def test_mean_field_issue_example_is_refused() -> None:
    """n_steps = 10^12 once ended in a bare MemoryError (the per-step recording plan)."""
    with pytest.raises(InvalidArgumentError, match=r"`n_steps` = 1000000000000 needs 16 TB"):
        mean_field_sgd(**{**_MEAN_FIELD, "n_steps": 10**12})  # type: ignore[arg-type]


def test_mean_field_control_runs() -> None:
    run = mean_field_sgd(**_MEAN_FIELD, n_replicates=2, rng=0)  # type: ignore[arg-type]
    assert run.w.shape == (2, 8, 3)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"n_chains": 10**15}, "`n_chains`"),
        ({"n_chains": 10**6, "n_steps": 10**9, "record": ("trajectory", 1)}, "`trajectory_every`"),
        ({"dim": 10**9, "dataset_size": 10**7}, "`dataset_size` x `dim`"),
        ({"dim": 10**9, "dataset_size": SharedDataset(10**7)}, "`dataset_size` x `dim`"),
    ],
)
def test_sgd_linear_refuses_a_run_too_large_for_memory(
    change: dict[str, object], needle: str
) -> None:
    kwargs: dict[str, object] = {"n_chains": 4, "n_steps": 10, **change}
    with pytest.raises(InvalidArgumentError, match=re.escape(needle)) as info:
        sgd_linear_regression(0.1, 1, rng=0, **kwargs)  # type: ignore[arg-type]
    assert "memory" in str(info.value)


def test_sgd_linear_control_runs() -> None:
    run = sgd_linear_regression(
        0.1, 1, dim=2, n_chains=4, n_steps=10, record=Recording(trajectory_every=5), rng=0
    )
    assert run.iterates.shape == (4, 2)


def test_check_allocation_counts_the_total_and_names_the_largest() -> None:
    arrays = [("`a`", "A", 600), ("`b`", "B", 500)]
    check_allocation(arrays, limit=1100)  # control: exactly fits
    with pytest.raises(InvalidArgumentError, match=r"`a` needs 600 B for A \(1.1 kB in all\)"):
        check_allocation(arrays, limit=1099)
    assert format_bytes(16 * 10**12) == "16 TB"
