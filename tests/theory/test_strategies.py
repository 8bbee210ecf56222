"""The strategies of heavytail.theory.strategies: their samples have the tail they claim.

Two layers. Hypothesis tests check what holds for every draw (types, ranges, the
reproducing seed). Fixed-seed statistical tests check that each family has the law it
claims, each with a negative control that the same check rejects.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from scipy import stats

import heavytail.theory._check_estimator as check_module
import heavytail.theory._estimator_checks as checks_module
import heavytail.theory._known_tail as known_tail_module
import heavytail.theory.strategies as strategies
from heavytail.theory import InvalidArgumentError
from heavytail.theory.strategies import (
    KnownTailSample,
    float_arrays,
    gaussian_samples,
    heavy_tailed_samples,
    known_tail_sample,
    pareto_samples,
    stable_samples,
    student_t_samples,
)

P_ACCEPT = 1e-3  # a correct law passes its fixed-seed KS test unless p falls below this
P_REJECT = 1e-6  # a negative control (a nearby wrong law) must give p below this

# --------------------------------------------------------------------------------------
# Every draw
# --------------------------------------------------------------------------------------


def _check_common(s: KnownTailSample) -> None:
    assert isinstance(s, KnownTailSample)
    assert s.x.dtype == np.float64 and s.x.ndim == 1 and s.x.size == s.n
    assert np.isfinite(s.x).all()
    assert not s.x.flags.writeable
    assert s.stable_index == min(s.alpha, 2.0)
    assert isinstance(s.seed, int) and 0 <= s.seed < 2**32
    # The printed seed and params reproduce the sample exactly (so failures shrink and
    # can be replayed outside Hypothesis).
    again = known_tail_sample(s.family, s.n, rng=s.seed, **s.params)
    np.testing.assert_array_equal(again.x, s.x)
    assert f"seed={s.seed}" in repr(s)


@settings(max_examples=25)
@given(stable_samples())
def test_stable_samples_defaults(s: KnownTailSample) -> None:
    _check_common(s)
    assert s.family == "stable" and 200 <= s.n <= 2000
    a = s.params["alpha"]
    assert 0.5 <= a <= 2.0 and s.params["beta"] == 0.0 and 0.01 <= s.params["scale"] <= 100
    assert s.alpha == (a if a < 2.0 else math.inf)
    assert s.stable_index == a


@settings(max_examples=25)
@given(pareto_samples(alpha=st.floats(0.7, 3.0), n=st.integers(10, 300), scale=3.0))
def test_pareto_samples_respect_narrowed_arguments(s: KnownTailSample) -> None:
    _check_common(s)
    assert s.family == "pareto" and 10 <= s.n <= 300
    assert 0.7 <= s.alpha <= 3.0 and s.params["scale"] == 3.0
    assert np.abs(s.x).min() >= 3.0  # x_min = scale


@settings(max_examples=25)
@given(student_t_samples(df=st.floats(0.5, 6.0), n=123))
def test_student_t_samples(s: KnownTailSample) -> None:
    _check_common(s)
    assert s.family == "student_t" and s.n == 123
    assert s.alpha == s.params["df"] and 0.5 <= s.alpha <= 6.0


@settings(max_examples=10)
@given(gaussian_samples(n=st.integers(1, 50)))
def test_gaussian_samples(s: KnownTailSample) -> None:
    _check_common(s)
    assert s.family == "gaussian" and math.isinf(s.alpha) and s.stable_index == 2.0


@settings(max_examples=30)
@given(heavy_tailed_samples(n=100))
def test_heavy_tailed_samples_have_a_finite_index(s: KnownTailSample) -> None:
    _check_common(s)
    assert s.family in {"stable", "pareto", "student_t"}
    assert math.isfinite(s.alpha)


def test_heavy_tailed_samples_cover_every_family() -> None:
    # Each family must be reachable through the union (and the Gaussian only on request).
    for family in ("stable", "pareto", "student_t"):
        found = find(heavy_tailed_samples(n=5), lambda s, f=family: s.family == f)
        assert found.family == family
    with pytest.raises(NoSuchExample):
        find(
            heavy_tailed_samples(n=5),
            lambda s: s.family == "gaussian",
            settings=settings(max_examples=40),
        )
    found = find(heavy_tailed_samples(n=5, include_gaussian=True), lambda s: math.isinf(s.alpha))
    assert found.family == "gaussian"


def test_drawn_value_outside_its_domain_is_named() -> None:
    @given(stable_samples(alpha=st.floats(1.5, 2.5), n=50))
    def uses(s: KnownTailSample) -> None:
        pass

    with pytest.raises(InvalidArgumentError, match=r"`alpha` must be in \(0, 2\]"):
        uses()


def test_known_tail_sample_is_reproducible_and_frozen() -> None:
    a = known_tail_sample("stable", 100, alpha=1.3, beta=0.4, scale=2.0, rng=7)
    b = known_tail_sample("stable", 100, alpha=1.3, beta=0.4, scale=2.0, rng=7)
    c = known_tail_sample("stable", 100, alpha=1.3, beta=0.4, scale=2.0, rng=8)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    assert dict(a.params) == {"alpha": 1.3, "beta": 0.4, "scale": 2.0}
    with pytest.raises(ValueError, match="read-only"):
        a.x[0] = 1.0
    with pytest.raises(TypeError):
        a.params["alpha"] = 1.0  # type: ignore[index]
    g = known_tail_sample("gaussian", 5, rng=np.random.default_rng(0))
    assert g.seed is None  # drawn from a Generator: no integer seed to show


@pytest.mark.parametrize(
    ("family", "kwargs", "match"),
    [
        ("levy", {}, "`family` must be one of"),
        ("stable", {}, "needs `alpha`"),
        ("student_t", {"alpha": 2.0}, "`alpha` is not a parameter of the 'student_t'"),
        ("pareto", {"alpha": 1.0, "beta": 0.5}, "`beta` is not a parameter"),
        ("gaussian", {"df": 3.0}, "`df` is not a parameter"),
        ("stable", {"alpha": 2.1}, r"`alpha` must be in \(0, 2\], got 2.1"),
        ("stable", {"alpha": 1.5, "beta": 1.5}, r"`beta` must be in \[-1, 1\]"),
        ("pareto", {"alpha": 0.0}, r"`alpha` must be in \(0, inf\)"),
        ("student_t", {"df": -1.0}, r"`df` must be in \(0, inf\)"),
        ("gaussian", {"scale": 0.0}, r"`scale` must be in \(0, inf\)"),
        ("pareto", {"alpha": 1e-3}, "overflow float64"),  # exp(E/1e-3) overflows: refused
    ],
)
def test_known_tail_sample_refuses(family: str, kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        known_tail_sample(family, 1000, rng=0, **kwargs)  # type: ignore[arg-type]


def test_known_tail_sample_refuses_empty_size() -> None:
    with pytest.raises(InvalidArgumentError, match=r"`n` must be in \[1, inf\]"):
        known_tail_sample("gaussian", 0, rng=0)


# --------------------------------------------------------------------------------------
# The laws (fixed seeds)
# --------------------------------------------------------------------------------------

Cdf = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]


def _ks_p(x: npt.NDArray[np.float64], cdf: Cdf) -> float:
    return float(stats.kstest(x, cdf).pvalue)


@pytest.mark.parametrize(
    ("family", "kwargs", "law", "wrong_laws"),
    [
        # |X| is Pareto with x_min = scale; controls: tail index or x_min 10% too large.
        (
            "pareto",
            {"alpha": 1.7, "scale": 2.5},
            stats.pareto(1.7, scale=2.5),
            [stats.pareto(1.87, scale=2.5), stats.pareto(1.7, scale=2.75)],
        ),
        # scale * t_df. KS is weak in the tails (t_3 and t_4 differ by < 0.01 in cdf), so
        # the controls are df = 6 and a 10% larger scale.
        (
            "student_t",
            {"df": 3.0, "scale": 0.3},
            stats.t(3.0, scale=0.3),
            [stats.t(6.0, scale=0.3), stats.t(3.0, scale=0.33)],
        ),
        # scale is the standard deviation; the control's is 5% larger.
        ("gaussian", {"scale": 4.0}, stats.norm(scale=4.0), [stats.norm(scale=4.2)]),
    ],
)
def test_family_has_its_law(
    family: str, kwargs: dict[str, float], law: Any, wrong_laws: list[Any]
) -> None:
    s = known_tail_sample(family, 20_000, rng=20240607, **kwargs)
    x = np.abs(s.x) if family == "pareto" else s.x
    assert _ks_p(x, law.cdf) > P_ACCEPT
    for wrong in wrong_laws:
        assert _ks_p(x, wrong.cdf) < P_REJECT
    if family == "pareto":
        # Random signs: the number of positive values is Binomial(n, 1/2); 4.5 standard
        # deviations (sqrt(n)/2 = 71) is a false-alarm rate of 7e-6.
        assert abs(np.count_nonzero(s.x > 0) - 10_000) < 4.5 * 71


def _ecf_z(x: npt.NDArray[np.float64], t: float, alpha: float, scale: float) -> float:
    """z-score of the empirical characteristic function of x at t against exp(-|s t|^alpha).

    For symmetric X, E cos(tX) = phi(t) and Var cos(tX) = (1 + phi(2t))/2 - phi(t)^2.
    """
    phi = math.exp(-(abs(scale * t) ** alpha))
    phi2 = math.exp(-(abs(2 * scale * t) ** alpha))
    se = math.sqrt(((1 + phi2) / 2 - phi**2) / x.size)
    return (float(np.mean(np.cos(t * x))) - phi) / se


@pytest.mark.parametrize(("alpha", "scale"), [(0.8, 1.0), (1.2, 2.5), (1.7, 0.4)])
def test_stable_family_has_its_characteristic_function(alpha: float, scale: float) -> None:
    # Checks that alpha and scale reach the sampler (the sampler itself is tested against
    # scipy in test_stable.py). Threshold |z| < 4.5 at three t: false alarm ~2e-5 for the
    # fixed seed. Control: alpha + 0.3 with the same scale, which moves phi(t) at
    # t = 1/(2 scale) by 0.04-0.06, i.e. >10 standard errors at n = 20000.
    s = known_tail_sample("stable", 20_000, alpha=alpha, scale=scale, rng=20240607)
    ts = [0.5 / scale, 1.0 / scale, 2.0 / scale]
    assert max(abs(_ecf_z(s.x, t, alpha, scale)) for t in ts) < 4.5
    assert abs(_ecf_z(s.x, ts[0], alpha + 0.3, scale)) > 4.5


# --------------------------------------------------------------------------------------
# float_arrays
# --------------------------------------------------------------------------------------


@settings(max_examples=100)
@given(float_arrays(min_size=3, max_size=40))
def test_float_arrays_shape_and_dtype(x: npt.NDArray[np.float64]) -> None:
    assert x.dtype == np.float64 and x.ndim == 1 and 3 <= x.size <= 40


@settings(max_examples=100)
@given(float_arrays(allow_nan=False, allow_infinity=False))
def test_float_arrays_can_be_kept_finite(x: npt.NDArray[np.float64]) -> None:
    assert np.isfinite(x).all()


@settings(max_examples=100)
@given(float_arrays(allow_nan=False))
def test_float_arrays_without_nan(x: npt.NDArray[np.float64]) -> None:
    assert not np.isnan(x).any()


_FEATURES: dict[str, Callable[[npt.NDArray[np.float64]], bool]] = {
    "empty": lambda x: x.size == 0,
    "NaN": lambda x: bool(np.isnan(x).any()),
    "+inf": lambda x: bool((x == np.inf).any()),
    "-inf": lambda x: bool((x == -np.inf).any()),
    "all zeros": lambda x: x.size >= 5 and not x.any(),
    "constant nonzero": lambda x: x.size >= 5 and x[0] != 0 and bool((x == x[0]).all()),
    "ties among distinct values": lambda x: (
        np.isfinite(x).all() and 3 <= np.unique(x).size < x.size - 2
    ),
    "subnormal": lambda x: bool(((x != 0) & (np.abs(x) < 2.2250738585072014e-308)).any()),
    "huge": lambda x: bool((np.isfinite(x) & (np.abs(x) >= 1e300)).any()),
    "negative only": lambda x: x.size >= 5 and bool((x < 0).all()),
    "long and finite": lambda x: x.size >= 150 and bool(np.isfinite(x).all()),
}


@pytest.mark.parametrize("feature", list(_FEATURES))
def test_float_arrays_reach_the_edge_cases(feature: str) -> None:
    # The fuzzing is only as good as what it generates: each edge case must be found.
    x = find(float_arrays(), _FEATURES[feature], settings=settings(max_examples=2000))
    assert _FEATURES[feature](x)


def test_float_arrays_refuses_bad_sizes() -> None:
    @given(float_arrays(min_size=5, max_size=2))
    def uses(x: npt.NDArray[np.float64]) -> None:
        pass

    with pytest.raises(InvalidArgumentError, match=r"`max_size` must be in \[5, inf\]"):
        uses()


# --------------------------------------------------------------------------------------
# Module surface
# --------------------------------------------------------------------------------------


def test_all_lists_the_public_names() -> None:
    own = {m.__name__ for m in (strategies, check_module, checks_module, known_tail_module)}
    public = {
        n
        for n, v in vars(strategies).items()
        if not n.startswith("_") and getattr(v, "__module__", None) in own
    }
    assert set(strategies.__all__) == public | {"FAMILIES", "PROPERTIES"}
    undocumented = [n for n in strategies.__all__ if not getattr(strategies, n).__doc__]
    assert not undocumented


def test_import_without_hypothesis_says_how_to_install() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n"
        "    import heavytail.theory.strategies\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'heavytail[dev]'" in out.stdout
