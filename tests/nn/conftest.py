"""Fixtures shared by the tests of heavytail.nn: devices and float types.

Every test that takes the ``device`` fixture runs on the CPU and, marked ``cuda``, on a
CUDA device, skipped where ``torch.cuda.is_available()`` is false (the approach of
botorch's ``test_cuda.py``). ``pytest -m cuda tests/nn`` is the CUDA pass alone. Tests that
take ``dtype`` run in float32 and float64.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=[pytest.mark.cuda, pytest.mark.skipif(not HAS_CUDA, reason="CUDA is not available")],
    ),
]
DTYPES = [torch.float32, torch.float64]


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    """A torch device: the CPU, then CUDA (marked ``cuda``, skipped without a GPU)."""
    return torch.device(request.param)


@pytest.fixture(params=DTYPES, ids=["float32", "float64"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    """torch.float32, then torch.float64."""
    dt: torch.dtype = request.param
    return dt


# One intra-op thread: the tests' tiny tensors gain nothing from more, and on a shared
# machine extra threads only wait on each other (measured 10x slower with two threads).
torch.set_num_threads(1)


def _sync_count(run: Callable[[int], object], steps: int) -> int:
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(steps)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return len(caught)


@pytest.fixture
def sync_count() -> Callable[[Callable[[int], object], int], int]:
    """``sync_count(run, steps)``: host synchronisations torch reports (sync debug mode
    "warn") while ``run(steps)`` works on CUDA; for tests that the inner loop never waits."""
    return _sync_count
