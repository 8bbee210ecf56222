"""relative_error beyond the range of a ratio of entries, against a log-domain reference.

The input-domain test (test_input_domains.py) checks that relative_error returns a value
in [0, 1] or refuses; this one checks that the value is right where entries span the whole
double range, so that |x_i|^p under- or overflows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import heavytail.theory as theory
from heavytail.theory.strategies import float_arrays


def log_domain_error(x: np.ndarray, k: int, p: float) -> float:
    """(sum of the n - k smallest |x_i|^p / sum of all)^(1/p), each power exp(p log|x_i|)."""
    logs = np.sort(p * np.log(np.abs(x[x != 0.0])))[::-1]
    if k >= logs.size:
        return 0.0

    def log_sum(values: np.ndarray) -> float:  # each sum relative to its own largest term
        top = float(values[0])
        return top + math.log(math.fsum(np.exp(values - top)))

    return math.exp((log_sum(logs[k:]) - log_sum(logs)) / p)


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(
    x=float_arrays(min_size=1, max_size=40, allow_nan=False, allow_infinity=False),
    kappa=st.floats(0.01, 1.0),
    p=st.sampled_from((0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 10.0)),
)
def test_relative_error_matches_a_log_domain_reference(
    x: np.ndarray, kappa: float, p: float
) -> None:
    if not np.any(x != 0.0):
        return  # the zero vector is refused (0/0): test_input_domains.py
    got = theory.relative_error(x, kappa, p)
    k = theory.parameter_count((1, x.size), kappa, "magnitude")  # the same rule for k
    ref = log_domain_error(x, k, p)
    if ref < 1e-290:
        # below the normal range the result may underflow, but never grows
        assert got <= 1e-280, (got, ref)
    else:
        # The reference's log carries ~1e-16 relative error per log|x_i| (|log| <= 745)
        # and the tail sums a relative 4096 * 2^-53; both divided by p >= 0.001: at most
        # 1e-9 absolute in log(result). 1e-7 leaves a margin of 100.
        assert math.log(got) == pytest.approx(math.log(ref), abs=1e-7), (got, ref)
