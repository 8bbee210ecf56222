"""Peak memory of estimate_tail_index(x, "auto"), measured with tracemalloc.

numpy reports its allocations to tracemalloc, so the peak over the call is the largest
set of arrays alive at once. The largest are the goodness-of-fit's (n, m) arrays
(m = GOF_POINTS): at most two are alive at once (see _stable_gof), plus a few arrays of
n (the data, its centred copy, sorted magnitudes). The bound, 2 m + 6 times the input,
follows from that count; the former code kept seven (n, m) arrays (50 times the input).
"""

from __future__ import annotations

import tracemalloc
import warnings

import pytest

from heavytail.theory import (
    InvalidArgumentError,
    estimate_tail_index,
    iid_entries_matrix,
    sample_elliptic_stable,
    sample_stable,
)
from heavytail.theory._stable_gof import GOF_POINTS


def test_auto_peak_memory_is_bounded_by_two_gof_arrays() -> None:
    x = sample_stable(1.5, 200_000, rng=0)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimate_tail_index(x, "auto", rng=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ratio = peak / x.nbytes
    assert ratio <= 2 * GOF_POINTS + 6, ratio
    # Control: the measurement sees numpy's arrays (one of 3 n doubles is 3x the input).
    tracemalloc.start()
    try:
        y = x.repeat(3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= 3 * x.nbytes and y.size == 3 * x.size


def test_samplers_refuse_sizes_beyond_memory_naming_them() -> None:
    """Petabytes: beyond any machine, so the refusal does not depend on the one it runs on."""
    cases = [
        (lambda: sample_stable(1.5, 10**15, rng=0), r"`size` = 1000000000000000 needs 24 PB"),
        (lambda: sample_stable(1.5, (10**8, 10**8), rng=0), r"`size` = \(100000000, 1000"),
        (lambda: iid_entries_matrix(1.5, 10**8, 10**8, rng=0), r"`d` x `n` = 100000000 x"),
        (lambda: sample_elliptic_stable(1.5, 10**8, 10**8, rng=0), r"`size` x \(`dim` \+ 1\)"),
    ]
    for call, needle in cases:
        with pytest.raises(InvalidArgumentError, match=needle):
            call()
    assert sample_stable(1.5, (2, 3), rng=0).shape == (2, 3)  # control
