"""Checks of a claim's parameters: grids of strictly increasing values."""

from __future__ import annotations

import pytest

from heavytail.reports._kit.validation import check_increasing
from heavytail.theory import InvalidArgumentError


def test_check_increasing_accepts_strictly_increasing_grids() -> None:
    check_increasing((8, 16, 32, 64), "widths", least=4)
    check_increasing((64, 4096), "widths")
    check_increasing((0.1, 0.2, 0.4), "etas", least=3)


@pytest.mark.parametrize(
    ("bad", "least"),
    [((8, 16, 32), 4), ((8, 16, 16, 64), 4), ((64, 32, 128, 256), 4), ((10,), 2), ((), 2)],
)
def test_check_increasing_names_the_parameter_the_rule_and_the_values(
    bad: tuple[int, ...], least: int
) -> None:
    words = {2: "two", 4: "four"}
    with pytest.raises(
        InvalidArgumentError,
        match=rf"^`control_widths` must hold at least {words[least]} increasing values, got ",
    ) as err:
        check_increasing(bad, "control_widths", least=least)
    assert str(bad) in str(err.value)
