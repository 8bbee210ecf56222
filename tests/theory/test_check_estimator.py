"""check_estimator: a sound estimator passes, and each broken one fails exactly its property.

The reference is a plain Hill estimator with k = n/10, run on symmetric Pareto samples,
where Hill is unbiased for every k (its standard error is alpha/sqrt(k) = 2.2% at
n = 20000). The consistency check compares the median of 48 estimates with the truth
through a distribution-free interval, so a correct estimator fails it with probability
at most 1e-3 whatever its spread: the README's Hill (k = n/100) passes on every one of 40
seeds, and the same estimator biased by 20% fails. Each other negative control breaks one
property on purpose and must fail exactly that property, which proves the check has power."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from heavytail.theory import EstimationWarning, InvalidArgumentError, TailEstimate
from heavytail.theory._estimator_checks import median_interval, median_order_statistic
from heavytail.theory.strategies import (
    PROPERTIES,
    EstimatorCheckReport,
    PropertyResult,
    check_estimator,
    known_tail_sample,
)

FloatArray = npt.NDArray[np.float64]

# Pareto only: Hill is exactly unbiased there, so the reference cannot fail by bias.
PARETO = {"pareto": [1.0, 2.5]}
INVARIANCE = {"scale invariance", "sign invariance", "permutation invariance"}


def _hill_core(x: FloatArray) -> float:
    a = np.sort(np.abs(x))
    k = a.size // 10
    return float(1.0 / np.mean(np.log(a[-k:] / a[-k - 1])))


def hill(x: FloatArray) -> float:
    """Reference: Hill with k = n/10 on |x|, refusing degenerate input with ValueError."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 20 or not np.isfinite(x).all() or np.all(x == x[0]):
        raise ValueError("x must hold at least 20 finite values, not all equal")
    return _hill_core(x)


def _failed(report: EstimatorCheckReport) -> set[str]:
    return set(report.failed_properties)


# --------------------------------------------------------------------------------------
# The sound reference passes everything
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_reference_passes_every_property(seed: int) -> None:
    report = check_estimator(hill, families=PARETO, seed=seed)
    report.raise_if_failed()
    assert report.passed
    names = {r.name for r in report.results}
    assert names == set(PROPERTIES)
    # 3 scale factors + sign + permutation + repeatable + input + 2 cases + 7 bad inputs
    assert len(report.results) == 16


def test_reference_passes_on_stable_data_too() -> None:
    # Stable alpha = 1.2: Hill at k = n/10 has a bias of a few percent here (its
    # second-order term decays like t^(-alpha)), well inside rtol = 0.1.
    check_estimator(hill, families={"stable": [1.2]}, seed=3).raise_if_failed()


def test_tail_estimate_results_are_accepted() -> None:
    def as_result(x: FloatArray) -> TailEstimate:
        a = hill(x)
        return TailEstimate(a, (0.9 * a, 1.1 * a), "hill", "tail index", x.size)

    plain = check_estimator(hill, families=PARETO, seed=5)
    wrapped = check_estimator(as_result, families=PARETO, seed=5)
    assert wrapped.passed
    assert [r.detail for r in wrapped.results] == [r.detail for r in plain.results]


# --------------------------------------------------------------------------------------
# Negative controls: each broken estimator fails exactly its property
# --------------------------------------------------------------------------------------


def not_scale_invariant(x: FloatArray) -> float:
    # A 1e-6 relative pull towards the data's magnitude: invisible at scale 1 (so
    # consistency holds), a relative change of ~1e-2 at scale 1e4.
    return hill(x) * (1.0 + 1e-6 * float(np.median(np.abs(x))))


def positive_side_only(x: FloatArray) -> float:
    # Hill on the positive values only: a consistent estimator on symmetric data, but
    # -x uses the other half of the sample.
    x = np.asarray(x, dtype=np.float64)
    hill(x)  # the same input checks
    return _hill_core(x[x > 0])


def order_dependent(x: FloatArray) -> float:
    # Uses the first half in the given order, like a block estimator.
    hill(x)
    return _hill_core(x[: x.size // 2])


def unchecked(x: FloatArray) -> float:
    # No input checks: NaN, inf or another exception on degenerate input.
    return _hill_core(np.asarray(x, dtype=np.float64))


def biased(x: FloatArray) -> float:
    return hill(x) + 0.5


def constant(x: FloatArray) -> float:
    return 1.7


def sorts_in_place(x: FloatArray) -> float:
    a = hill(x)
    x.sort()
    return a


def noisy(x: FloatArray) -> float:
    # Fresh randomness in the point estimate (its own Generator, never numpy's global).
    return hill(x) * (1.0 + 1e-6 * np.random.default_rng().standard_normal())


def returns_tuple(x: FloatArray) -> tuple[float, float]:
    a = hill(x)
    return a, a / math.sqrt(x.size / 10)


def raises_type_error(x: FloatArray) -> float:
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise TypeError("cannot handle non-finite values")
    return hill(x)


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (not_scale_invariant, {"scale invariance"}),
        (positive_side_only, {"sign invariance"}),
        (order_dependent, {"permutation invariance"}),
        (unchecked, {"degenerate input"}),
        (biased, {"consistency"}),
        # A constant is perfectly invariant and repeatable: only consistency and the bad
        # inputs catch it.
        (constant, {"consistency", "degenerate input"}),
        (sorts_in_place, {"input unchanged"}),
        (noisy, INVARIANCE | {"repeatable"}),
        (returns_tuple, INVARIANCE | {"repeatable", "consistency"}),
        (raises_type_error, {"degenerate input"}),
    ],
    ids=lambda v: v.__name__ if callable(v) else "",
)
def test_broken_estimator_fails_exactly_its_property(
    fn: Callable[[FloatArray], Any], expected: set[str]
) -> None:
    report = check_estimator(fn, families=PARETO, seed=0)
    assert not report.passed
    assert _failed(report) == expected, str(report)
    with pytest.raises(AssertionError, match=next(iter(expected))):
        report.raise_if_failed()


def test_degenerate_failures_say_what_happened() -> None:
    report = check_estimator(
        unchecked, families=PARETO, skip=set(PROPERTIES) - {"degenerate input"}
    )
    by_case = {r.case: r for r in report.results}
    assert set(by_case) == {"empty", "single value", "constant", "all zeros", "NaN", "+inf", "-inf"}
    assert all(not r.passed for r in report.results)
    assert "raised IndexError" in by_case["empty"].detail
    assert "expected a ValueError" in by_case["empty"].detail
    assert "returned alpha=nan" in by_case["NaN"].detail
    # numpy's RuntimeWarnings are recorded, not raised (this suite turns warnings into errors)
    assert "RuntimeWarning" in by_case["all zeros"].detail
    tuple_report = check_estimator(returns_tuple, families=PARETO, skip={"degenerate input"})
    assert any("returned tuple" in r.detail for r in tuple_report.failures)
    type_report = check_estimator(raises_type_error, families=PARETO, seed=0)
    assert {r.case for r in type_report.failures} == {"NaN", "+inf", "-inf"}
    assert all("TypeError" in r.detail for r in type_report.failures)


def test_biased_estimator_fails_every_case_and_shows_the_error() -> None:
    report = check_estimator(biased, families={"pareto": [1.0, 2.5, 4.0]})
    failures = report.failures
    assert [r.case for r in failures] == ["pareto alpha=1", "pareto alpha=2.5", "pareto alpha=4"]
    # +0.5 on alpha = 4 is a relative error of ~0.125: above rtol = 0.1 ...
    assert "relative error 0.12" in failures[-1].detail
    assert "misses true +- rtol 0.1 = [3.6, 4.4]" in failures[-1].detail
    # ... and a looser rtol lets exactly that case through.
    loose = check_estimator(
        biased, families={"pareto": [4.0]}, rtol=0.25, skip={"degenerate input"}
    )
    assert loose.passed


# --------------------------------------------------------------------------------------
# False failures: a correct estimator passes on every seed, a 20% bias fails
# --------------------------------------------------------------------------------------


def readme_hill(x: FloatArray) -> float:
    """The README's Hill (k = n/100, standard error 7.4% of alpha) with input checks."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 200 or not np.isfinite(x).all() or np.all(x == x[0]):
        raise ValueError("x must hold at least 200 finite values, not all equal")
    m = np.sort(np.abs(x))[::-1]
    k = max(10, m.size // 100)
    return float(1.0 / np.mean(np.log(m[:k] / m[k])))


ONLY_CONSISTENCY = set(PROPERTIES) - {"consistency"}


def test_a_correct_estimator_passes_consistency_on_every_seed() -> None:
    # One sample per case with |alpha_hat - alpha| <= 0.1 alpha failed this case on 6 of
    # these 40 seeds (14, 16, 21, 24, 25, 27). Now a failure needs 36 of 48 estimates on
    # one side of their median, with probability at most 7.2e-4 even for an estimator
    # biased by exactly rtol (Hill here is unbiased up to 0.5%), so every seed must pass.
    failed = [
        seed
        for seed in range(40)
        if not check_estimator(
            readme_hill, families={"pareto": [2.5]}, seed=seed, skip=ONLY_CONSISTENCY
        ).passed
    ]
    assert failed == []


def test_a_20_percent_bias_fails_consistency_on_almost_every_seed() -> None:
    # Negative control. Hill's exact law on the Pareto is alpha k / Gamma(k, 1) (Renyi's
    # representation), so 1.2 x Hill falls below 1.1 alpha with probability 0.102 and
    # passes (13 or more of 48 estimates below 1.1 alpha) with probability 7.7e-4 per
    # seed: 3 or more passes in 40 seeds have probability 4.5e-6.
    def biased_20(x: FloatArray) -> float:
        return 1.2 * readme_hill(x)

    reports = [
        check_estimator(biased_20, families={"pareto": [2.5]}, seed=seed, skip=ONLY_CONSISTENCY)
        for seed in range(40)
    ]
    assert sum(not r.passed for r in reports) >= 38
    assert all(r.failed_properties <= {"consistency"} for r in reports)


def test_the_order_statistic_bound_is_the_binomial_tail() -> None:
    # j is the largest order with 2 B(j - 1) <= level, B the Binomial(R, 1/2) cdf.
    assert median_order_statistic(48, 1e-3 / 4) == (12, pytest.approx(2.2224496e-4, rel=1e-7))
    assert median_order_statistic(48, 1e-3) == (13, pytest.approx(7.1726967e-4, rel=1e-7))
    assert median_order_statistic(13, 1e-3 / 4) == (1, 2.0**-12)
    assert median_order_statistic(12, 1e-3 / 4) is None  # 2 / 2**12 > 2.5e-4
    assert median_order_statistic(1, 0.5) is None


@pytest.mark.parametrize("law", ["exponential", "cauchy"])
def test_a_case_at_the_edge_fails_at_the_stated_rate(law: str) -> None:
    # An estimator whose median is exactly the upper end alpha (1 + rtol) fails when its
    # interval lies above it, with probability B(j - 1) exactly, whatever its law (a
    # skewed one and one without a mean here). 20000 replicate sets at a level of 0.05,
    # so that the rate is large enough to measure: B(j - 1) = 0.0147 for R = 48, j = 17,
    # and the binomial standard error of the measured rate is 8.5e-4; it must be within
    # 4 of them. Control: the next order statistic, j + 1, has B(j) = 0.0297 and must be
    # rejected by the same rule.
    R, level, trials = 48, 0.05, 20_000
    found = median_order_statistic(R, level)
    assert found is not None
    j, bound = found
    rng = np.random.default_rng(20240611)
    if law == "exponential":
        draws = rng.standard_exponential((trials, R)) - math.log(2.0)  # median 0
    else:
        draws = rng.standard_cauchy((trials, R))  # median 0
    edge = 0.0  # the median is exactly the upper end of the accepted range

    def rate(order: int) -> float:
        return float(np.mean([median_interval(row, order)[0] > edge for row in draws]))

    se = math.sqrt(bound / 2 * (1 - bound / 2) / trials)
    assert abs(rate(j) - bound / 2) <= 4 * se
    assert abs(rate(j + 1) - bound / 2) > 4 * se


# --------------------------------------------------------------------------------------
# Target: tail index or stable index
# --------------------------------------------------------------------------------------


def two(x: FloatArray) -> float:
    hill(x)
    return 2.0


def test_target_stable_index_compares_with_min_alpha_2() -> None:
    families = {"pareto": [2.5], "student_t": [3.0], "gaussian": ()}
    only = set(PROPERTIES) - {"consistency"}
    stable = check_estimator(two, families=families, target="stable index", skip=only)
    assert stable.passed, str(stable)  # stable index of all three is 2
    assert "true stable index 2" in stable.results[0].detail
    tail = check_estimator(two, families={"pareto": [2.5], "student_t": [3.0]}, skip=only)
    assert [r.passed for r in tail.results] == [False, False]  # tail indices 2.5 and 3
    # Below 2 the two targets agree, and the constant 2 fails both.
    for target in ("tail index", "stable index"):
        below = check_estimator(two, families={"stable": [1.2]}, target=target, skip=only)
        assert not below.passed


# --------------------------------------------------------------------------------------
# Reproducibility, skip, report
# --------------------------------------------------------------------------------------


def test_same_seed_same_report() -> None:
    a = check_estimator(hill, families=PARETO, seed=11)
    b = check_estimator(hill, families=PARETO, seed=11)
    c = check_estimator(hill, families=PARETO, seed=12)
    assert a.results == b.results
    assert [r.detail for r in a.results] != [r.detail for r in c.results]


def test_case_seed_in_detail_reproduces_the_samples() -> None:
    report = check_estimator(hill, families={"pareto": [2.5]}, skip={"degenerate input"})
    detail = next(r.detail for r in report.results if r.name == "consistency")
    seed = int(detail.split("seed=")[1].rstrip(")"))
    # Sample r is drawn with SeedSequence(seed).generate_state(replicates)[r].
    seeds = np.random.SeedSequence(seed).generate_state(48)
    estimates = [
        hill(np.array(known_tail_sample("pareto", 20_000, alpha=2.5, rng=int(s)).x)) for s in seeds
    ]
    assert f"median alpha_hat {np.median(estimates):.4g}," in detail
    low, high = np.sort(estimates)[[13 - 1, 48 - 13]]  # j = 13 at the default rate, m = 1
    assert f"its interval [{low:.4g}, {high:.4g}] (order statistics 13 and 36" in detail


def test_skip_removes_properties() -> None:
    report = check_estimator(unchecked, families=PARETO, skip={"degenerate input", "consistency"})
    assert report.passed
    assert {r.name for r in report.results} == set(PROPERTIES) - {"degenerate input", "consistency"}
    assert report.settings["skip"] == ("consistency", "degenerate input")


def test_warnings_are_recorded_not_raised() -> None:
    def warns(x: FloatArray) -> float:
        warnings.warn("k is unstable", EstimationWarning, stacklevel=2)
        return hill(x)

    report = check_estimator(warns, families={"pareto": [1.0]})
    assert report.passed
    assert "EstimationWarning: k is unstable" in report.results[0].detail


def test_report_table_and_assertion() -> None:
    report = check_estimator(biased, families={"pareto": [1.0]}, name="biased Hill")
    text = str(report)
    assert text.startswith("check_estimator(biased Hill): FAILED 1 of 15 checks")
    assert len(text.splitlines()) == 1 + 1 + len(report.results)
    assert "consistency" in text and "FAIL" in text and "pareto alpha=1" in text
    with pytest.raises(AssertionError) as info:
        report.raise_if_failed()
    message = str(info.value)
    assert "biased Hill failed 1 of 15 checks" in message
    assert "consistency [pareto alpha=1]" in message
    assert isinstance(report.results[0], PropertyResult)
    with pytest.raises(AttributeError):
        report.passed = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": "xi"}, "`target` must be one of 'tail index', 'stable index'"),
        ({"families": {"levy": [1.0]}}, "`families key` must be one of"),
        ({"families": {"pareto": 1.5}}, r"`families\['pareto'\]` must be a sequence"),
        ({"families": {"pareto": "1.5"}}, r"`families\['pareto'\]` must be a sequence"),
        ({"families": {"pareto": []}}, "must not be empty"),
        ({"families": {}}, "at least one family"),
        ({"families": [1.0]}, "`families` must be a mapping"),
        ({"families": {"pareto": [-1.0]}}, r"`families\['pareto'\]\[0\]` must be in \(0, inf\)"),
        ({"families": {"stable": [2.5]}}, r"must be in \(0, 2\]"),
        ({"families": {"stable": [2.0]}}, "no finite tail index"),
        ({"families": {"gaussian": ()}}, "no finite tail index"),
        ({"families": {"gaussian": [2.0]}, "target": "stable index"}, "must be empty"),
        ({"n": 1}, r"`n` must be in \[2, inf\]"),
        ({"rtol": 0.0}, r"`rtol` must be in \(0, inf\)"),
        ({"invariance_rtol": -1.0}, r"`invariance_rtol` must be in \[0, inf\)"),
        ({"scale_factors": [1.0, 0.0]}, r"`scale_factors\[1\]` must be in \(0, inf\)"),
        ({"scale_factors": 2.0}, "`scale_factors` must be a sequence"),
        ({"skip": ["speed"]}, "`skip entry` must be one of"),
        ({"skip": "consistency"}, "`skip` must be a collection"),
        ({"seed": -1}, r"`seed` must be in \[0, inf\]"),
        ({"replicates": 0}, r"`replicates` must be in \[1, 10000\]"),
        ({"replicates": 12}, "`replicates` = 12 is too few .* use at least 13"),
        ({"replicates": 11, "families": PARETO}, "over 2 consistency cases.* at least 12"),
        ({"false_failure_rate": 0.0}, r"`false_failure_rate` must be in \[1e-12, 1\)"),
        ({"false_failure_rate": 1.0}, r"`false_failure_rate` must be in \[1e-12, 1\)"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        check_estimator(hill, **kwargs)


def test_non_callable_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="`fn` must be callable"):
        check_estimator(1.5, families=PARETO)  # type: ignore[arg-type]
