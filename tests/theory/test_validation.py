from __future__ import annotations

import numpy as np
import pytest

from heavytail._lib._rng import as_generator, spawn_generators
from heavytail._lib._validation import as_sample, check_choice, check_int, check_real
from heavytail.theory import InvalidArgumentError, estimate_tail_index, sample_stable


def test_check_real_names_argument_and_rule() -> None:
    with pytest.raises(InvalidArgumentError, match=r"`kappa` must be in \(0, 1\], got 1.5"):
        check_real(1.5, "kappa", low=0, high=1, low_open=True)
    assert check_real(1, "kappa", low=0, high=1, low_open=True) == 1.0
    for bad in (float("nan"), float("inf"), "1", None, True):
        with pytest.raises(InvalidArgumentError, match="`kappa`"):
            check_real(bad, "kappa", low=0, high=1, low_open=True)


def test_check_int_refuses_floats_and_bools() -> None:
    assert check_int(np.int64(3), "k", low=1) == 3
    for bad in (3.0, True, "3"):
        with pytest.raises(InvalidArgumentError, match="`k` must be an integer"):
            check_int(bad, "k", low=1)
    with pytest.raises(InvalidArgumentError, match=r"`k` must be in \[1, 9\], got 10"):
        check_int(10, "k", low=1, high=9)


def test_check_choice_lists_choices() -> None:
    with pytest.raises(InvalidArgumentError, match="'hill', 'moment'"):
        check_choice("foo", "method", ("hill", "moment"))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        ([], "at least 2 observations"),
        ([1.0], "at least 2 observations"),
        ([1.0, np.nan], "finite"),
        ([1.0, np.inf], "finite"),
        (np.array([1 + 2j, 3]), "complex"),
        (np.array([1.0, "a"], dtype=object), "dtype object"),
        (np.array([True, False]), "dtype bool"),
        (np.ones((2, 2)), "1-D"),
        ([2.0, 2.0, 2.0], "all entries equal"),
    ],
)
def test_as_sample_refuses(x: object, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        as_sample(x, "x", min_size=2, allow_constant=False)


def test_as_sample_does_not_modify_input() -> None:
    x = np.array([3, 1, 2], dtype=np.int32)
    out = as_sample(x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(x, [3, 1, 2])


def test_rng_conventions() -> None:
    a = as_generator(5).standard_normal(3)
    b = as_generator(5).standard_normal(3)
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    assert as_generator(g) is g
    kids1 = [k.standard_normal() for k in spawn_generators(7, 3)]
    kids2 = [k.standard_normal() for k in spawn_generators(7, 3)]
    assert kids1 == kids2 and len(set(kids1)) == 3
    for bad in (-1, 1.5, np.random.RandomState(0), True):
        with pytest.raises(InvalidArgumentError, match="`rng`"):
            as_generator(bad)  # type: ignore[arg-type]


# Estimator input checks ("bad input"): every tail-index estimator refuses each
# of these with an InvalidArgumentError (a ValueError) whose message names the argument.
_ESTIMATOR_METHODS = ("hill", "pickands", "moment", "block_sum", "quantile", "auto")
_BAD_SAMPLES = [
    ([], "`x`"),
    ([1.5], "`x`"),
    (np.full(200, 2.5), "`x`"),
    (np.r_[np.arange(1.0, 200.0), np.nan], "`x` must be finite"),
    (np.r_[np.arange(1.0, 200.0), np.inf], "`x` must be finite"),
    (np.arange(200.0) + 1j, "`x` must be real"),
    (np.array([1.0, "a"] * 100, dtype=object), "`x` must be an array of real numbers"),
]


@pytest.mark.parametrize("method", _ESTIMATOR_METHODS)
@pytest.mark.parametrize(("x", "match"), _BAD_SAMPLES)
def test_estimators_refuse_bad_samples(method: str, x: object, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        estimate_tail_index(x, method)


@pytest.mark.parametrize("method", ["hill", "pickands", "moment"])
@pytest.mark.parametrize("k", [0, -1, 200, 10_000, 2.5])
def test_estimators_refuse_k_out_of_range(method: str, k: object) -> None:
    x = np.random.default_rng(0).pareto(1.5, 200) + 1.0
    with pytest.raises(InvalidArgumentError, match="`k`"):
        estimate_tail_index(x, method, k=k)


@pytest.mark.parametrize("block_size", [0, 1, 101, 200, 3.0])
def test_block_sum_refuses_block_size_that_does_not_fit(block_size: object) -> None:
    x = np.random.default_rng(0).standard_cauchy(200)
    with pytest.raises(InvalidArgumentError, match="`block_size`"):
        estimate_tail_index(x, "block_sum", block_size=block_size)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0.0}, "`alpha`"),
        ({"alpha": 2.1}, "`alpha`"),
        ({"alpha": 1.5, "beta": 1.5}, "`beta`"),
        ({"alpha": 1.5, "scale": -1.0}, "`scale`"),
    ],
)
def test_sampler_parameter_checks(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        sample_stable(size=10, rng=0, **kwargs)  # type: ignore[arg-type]
