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

from heavytail.theory import estimate_tail_index, sample_stable
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
