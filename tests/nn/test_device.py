"""torch_threads: the torch thread count inside the block, and restored after it."""

from __future__ import annotations

import pytest
import torch

from heavytail.nn import torch_threads
from heavytail.theory import InvalidArgumentError


def test_sets_the_count_and_restores_it() -> None:
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with torch_threads(target):
        assert torch.get_num_threads() == target
    assert torch.get_num_threads() == before


def test_restores_the_count_when_the_block_raises() -> None:
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with pytest.raises(RuntimeError, match="inside"), torch_threads(target):
        assert torch.get_num_threads() == target
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before


def test_nested_blocks_restore_in_turn() -> None:
    before = torch.get_num_threads()
    with torch_threads(2):
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("n", [0, -1, 1.0, True])
def test_refuses_a_count_that_is_not_a_positive_int(n: object) -> None:
    before = torch.get_num_threads()
    with pytest.raises(InvalidArgumentError), torch_threads(n):  # type: ignore[arg-type]
        pass
    assert torch.get_num_threads() == before
