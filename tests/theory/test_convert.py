"""Conversions between the meanings of alpha: values from independent definitions, domains."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from heavytail.theory import (
    InvalidArgumentError,
    esd_exponent_from_tail_index,
    ev_index_from_tail_index,
    pdf_exponent_from_tail_index,
    stable_index_from_tail_index,
    tail_index_from_esd_exponent,
    tail_index_from_ev_index,
    tail_index_from_pdf_exponent,
)


def test_pdf_exponent_matches_the_pareto_density() -> None:
    # Independent source: scipy's Pareto law with shape b has survival t^(-b) (tail index b)
    # and density b t^(-(b+1)); the slope of log pdf against log t is -(b + 1).
    for b in (0.5, 1.0, 2.5):
        t = np.array([10.0, 1000.0])
        slope = np.diff(np.log(stats.pareto.pdf(t, b))) / np.diff(np.log(t))
        assert pdf_exponent_from_tail_index(b) == pytest.approx(-slope[0], rel=1e-12)
        assert tail_index_from_pdf_exponent(-slope[0]) == pytest.approx(b, rel=1e-12)


def test_ev_index_matches_the_gev_shape() -> None:
    # Independent source: scipy's genextreme with shape c has xi = -c; its upper tail
    # P(X > t) ~ t^(-1/xi). Check the log-log slope of the survival function far out.
    xi = 0.4
    t = np.array([1e6, 1e8])
    slope = np.diff(np.log(stats.genextreme.sf(t, -xi))) / np.diff(np.log(t))
    assert tail_index_from_ev_index(xi) == pytest.approx(-slope[0], rel=1e-3)
    assert ev_index_from_tail_index(2.5) == pytest.approx(0.4)


def test_stable_index_is_min_with_two() -> None:
    np.testing.assert_allclose(
        stable_index_from_tail_index(np.array([0.5, 1.9, 2.0, 3.0])), [0.5, 1.9, 2.0, 2.0]
    )
    assert stable_index_from_tail_index(1.2) == 1.2
    assert isinstance(stable_index_from_tail_index(1.2), float)


def test_esd_exponent() -> None:
    # Martin & Mahoney (2021), Table 1: mu_ESD = alpha / 2 + 1 for 0 < alpha < 2.
    assert esd_exponent_from_tail_index(1.0) == pytest.approx(1.5)
    assert tail_index_from_esd_exponent(1.5) == pytest.approx(1.0)


def test_round_trips_on_arrays() -> None:
    a = np.array([0.3, 1.0, 1.7])
    np.testing.assert_allclose(tail_index_from_pdf_exponent(pdf_exponent_from_tail_index(a)), a)
    np.testing.assert_allclose(tail_index_from_ev_index(ev_index_from_tail_index(a)), a)
    np.testing.assert_allclose(tail_index_from_esd_exponent(esd_exponent_from_tail_index(a)), a)


@pytest.mark.parametrize(
    ("fn", "value", "match"),
    [
        (pdf_exponent_from_tail_index, 0.0, "`alpha` must be > 0"),
        (tail_index_from_pdf_exponent, 1.0, "`pdf_exponent` must be > 1"),
        (tail_index_from_ev_index, -0.1, "`xi` must be > 0"),
        (ev_index_from_tail_index, np.nan, "`alpha` must be finite"),
        (stable_index_from_tail_index, -1.0, "`alpha` must be > 0"),
        (esd_exponent_from_tail_index, 2.5, r"`alpha` must be in \(0, 2\)"),
        (tail_index_from_esd_exponent, 2.0, r"`mu` must be in \(1, 2\)"),
        (pdf_exponent_from_tail_index, 1 + 1j, "`alpha` must be real"),
        (pdf_exponent_from_tail_index, "2", "`alpha` must be a real number"),
        (pdf_exponent_from_tail_index, True, "`alpha` must be a real number"),
    ],
)
def test_domains(fn: object, value: object, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        fn(value)  # type: ignore[operator]
