"""Stable samplers against scipy's exact S1 law, the tail constant, and the elliptic law."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from heavytail.theory import InvalidArgumentError, sample_elliptic_stable, sample_stable

# A private instance, so that scipy's class-level `parameterization` is neither read from
# nor written to the shared `levy_stable` object.
_LEVY = type(stats.levy_stable)(name="levy_stable")
_LEVY.parameterization = "S1"

Cdf = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]

P_ACCEPT = 1e-3  # a correct sampler passes unless its p-value falls below this
P_REJECT = 1e-6  # a negative control must fall below this


def ks_pvalue_bounds(
    x: npt.NDArray[np.float64], cdf: Cdf, n_grid: int = 2000
) -> tuple[float, float]:
    """Bounds (low, high) on the one-sample Kolmogorov-Smirnov p-value of ``x``.

    scipy's stable cdf costs ~0.3 ms a point, so it is evaluated at ``n_grid`` order
    statistics only. On [g_k, g_{k+1}) between consecutive grid points both F_n and F are
    monotone, so sup |F_n - F| lies between the largest gap seen at the grid points and
    the largest gap the ends of each interval allow. A sample "passes" when even the
    upper bound on D gives p > P_ACCEPT, and a negative control "fails" when even the
    lower bound gives p < P_REJECT: both verdicts are the exact KS test's verdicts.
    """
    xs = np.sort(x)
    n = xs.size
    ranks = np.unique(np.linspace(1, n, min(n_grid, n)).round().astype(np.int64))
    f = cdf(xs[ranks - 1])
    d_low = max(np.max(ranks / n - f), np.max(f - (ranks - 1) / n))
    inner = np.maximum((ranks[1:] - 1) / n - f[:-1], f[1:] - ranks[:-1] / n)
    d_high = max(d_low, float(np.max(inner)), float(f[0]), float(1.0 - f[-1]))
    return float(stats.kstwo.sf(d_high, n)), float(stats.kstwo.sf(d_low, n))


def stable_cdf(alpha: float, beta: float, scale: float = 1.0, loc: float = 0.0) -> Cdf:
    def cdf(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(_LEVY.cdf(t, alpha, beta, loc=loc, scale=scale), dtype=np.float64)

    return cdf


@pytest.mark.parametrize(
    ("alpha", "beta", "scale", "loc"),
    [
        (0.5, 0.0, 1.0, 0.0),
        (0.5, 1.0, 1.0, 0.0),
        (0.8, -0.7, 0.5, 2.0),
        (1.0, 0.0, 1.0, 0.0),
        (1.0, 0.5, 3.0, -1.0),  # the S1 log term: location shifts by (2/pi) beta s log s
        (1.0, -1.0, 0.2, 0.0),
        (1.5, 0.0, 2.0, 1.0),
        (1.5, 0.5, 1.0, 0.0),
        (1.9, 0.9, 1.0, 0.0),
        (2.0, 0.0, 1.5, 1.0),
    ],
)
def test_sample_stable_matches_scipy_s1(
    alpha: float, beta: float, scale: float, loc: float
) -> None:
    x = sample_stable(alpha, 10_000, beta=beta, scale=scale, loc=loc, rng=20240601)
    p_low, _ = ks_pvalue_bounds(x, stable_cdf(alpha, beta, scale, loc))
    assert p_low > P_ACCEPT


def test_sample_stable_ks_negative_controls() -> None:
    # The same KS check must reject nearby wrong laws. At n = 1e5 the KS test resolves a
    # cdf difference of ~0.01; alpha 1.5 against 1.7 differs by 0.015.
    x = sample_stable(1.5, 100_000, rng=7)
    assert ks_pvalue_bounds(x, stable_cdf(1.5, 0.0))[0] > P_ACCEPT
    assert ks_pvalue_bounds(x, stable_cdf(1.7, 0.0))[1] < P_REJECT
    # Forgetting the S1 location term at alpha = 1 (shift 0.33 here) must be caught too.
    y = sample_stable(1.0, 10_000, beta=0.5, scale=3.0, rng=8)
    shift = (2.0 / math.pi) * 0.5 * 3.0 * math.log(3.0)
    wrong = stable_cdf(1.0, 0.5, 3.0, 0.0)
    assert ks_pvalue_bounds(y - shift, wrong)[1] < P_REJECT
    # alpha = 2 is N(0, 2 s^2), not N(0, s^2).
    z = sample_stable(2.0, 10_000, scale=1.0, rng=9)
    assert ks_pvalue_bounds(z, stats.norm(scale=1.0).cdf)[1] < P_REJECT
    assert ks_pvalue_bounds(z, stats.norm(scale=math.sqrt(2.0)).cdf)[0] > P_ACCEPT


@pytest.mark.parametrize(("alpha", "scale"), [(0.8, 1.0), (1.2, 0.5), (1.5, 2.0)])
def test_tail_constant(alpha: float, scale: float) -> None:
    # P(|X| > t) ~ C_alpha s^alpha t^-alpha, C_alpha = (2/pi) Gamma(alpha) sin(pi alpha/2).
    c_alpha = (2.0 / math.pi) * math.gamma(alpha) * math.sin(0.5 * math.pi * alpha)
    p = 1e-3
    t = (c_alpha * scale**alpha / p) ** (1.0 / alpha)  # the t where the asymptote is p
    exact = 2.0 * float(_LEVY.sf(t, alpha, 0.0, scale=scale))
    # At this t the asymptote is within 0.5% of the exact tail (checked against scipy),
    # so a test at 4 binomial sd (13% of p at n = 1e6) is about the constant, not the t.
    assert abs(exact / p - 1.0) < 5e-3
    n = 1_000_000
    count = int(np.count_nonzero(np.abs(sample_stable(alpha, n, scale=scale, rng=11)) > t))
    sd = math.sqrt(n * p * (1.0 - p))
    assert abs(count - n * p) < 4.0 * sd + 5e-3 * n * p
    # Negative control: the other scale convention (scale / sqrt 2) predicts a tail
    # 2^(-alpha/2) times lighter (0.76 at alpha = 0.8); the same check must reject it.
    p_wrong = c_alpha * (scale / math.sqrt(2.0)) ** alpha * t**-alpha
    sd_wrong = math.sqrt(n * p_wrong * (1.0 - p_wrong))
    assert abs(count - n * p_wrong) > 4.0 * sd_wrong + 5e-3 * n * p_wrong


@pytest.mark.parametrize("beta", [-1.0, 0.0, 0.3, 1.0])
def test_no_overflow_at_small_alpha(beta: float) -> None:
    x = sample_stable(0.5, 1_000_000, beta=beta, rng=12)
    assert np.isfinite(x).all()
    # The draws are genuinely heavy: P(|X| > 1e8) ~ C_0.5 * 1e-4 = 5.6e-5, i.e. ~56 of 1e6.
    assert np.count_nonzero(np.abs(x) > 1e8) > 10


def test_cms_end_points_are_finite() -> None:
    # The transform at the smallest and largest angles the sampler can draw (and at 0),
    # with tiny and huge exponentials: every alpha >= 0.5, every beta, finite output.
    from heavytail.theory._stable import _ZERO_EXPONENTIAL, _standard_s1

    extremes = (np.array([0.0, 1.0 - 2.0**-53]) - 0.5 + 2.0**-54) * math.pi
    assert -math.pi / 2 < extremes[0] and extremes[1] < math.pi / 2
    thetas = np.array([*extremes, 0.0, 1e-300, -1e-300])
    ws = np.array([_ZERO_EXPONENTIAL, 1e-16, 1.0, 50.0])
    th, w = (a.ravel() for a in np.meshgrid(thetas, ws))
    for alpha in (0.5, 0.7, 0.99, 1.0, 1.01, 1.5, 1.99):
        for beta in (-1.0, -0.5, 0.0, 0.5, 1.0):
            out = _standard_s1(alpha, beta, th.copy(), w.copy())
            assert np.isfinite(out).all(), (alpha, beta)


def test_same_seed_same_numbers_and_shapes() -> None:
    a = sample_stable(1.3, (4, 5), beta=0.2, rng=3)
    b = sample_stable(1.3, (4, 5), beta=0.2, rng=np.random.default_rng(3))
    assert a.shape == (4, 5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, sample_stable(1.3, (4, 5), beta=0.2, rng=4))
    gen = np.random.default_rng(5)
    first, second = sample_stable(1.3, 10, rng=gen), sample_stable(1.3, 10, rng=gen)
    assert not np.array_equal(first, second)  # a Generator is advanced, not reused
    assert sample_stable(1.3, 0, rng=1).shape == (0,)
    e1 = sample_elliptic_stable(1.3, 6, 3, rng=3)
    np.testing.assert_array_equal(e1, sample_elliptic_stable(1.3, 6, 3, rng=3))
    assert e1.shape == (6, 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0.0}, "`alpha` must be in \\(0, 2\\]"),
        ({"alpha": 2.1}, "`alpha` must be in \\(0, 2\\]"),
        ({"beta": 1.5}, "`beta` must be in \\[-1, 1\\]"),
        ({"scale": 0.0}, "`scale` must be in \\(0, inf\\), got 0.0"),
        ({"scale": -1.0}, "`scale`"),
        ({"loc": math.inf}, "`loc` must be finite"),
        ({"size": -1}, "`size` must be in"),
        ({"size": 2.0}, "`size` must be a non-negative int"),
        ({"size": (3, -2)}, "`size\\[1\\]`"),
        ({"rng": -1}, "`rng`"),
    ],
)
def test_sample_stable_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"alpha": 1.5, "size": 10, "rng": 0} | kwargs
    with pytest.raises(InvalidArgumentError, match=match):
        sample_stable(**args)  # type: ignore[arg-type]


def test_sample_elliptic_bad_input() -> None:
    with pytest.raises(InvalidArgumentError, match="`dim`"):
        sample_elliptic_stable(1.5, 10, 0)
    with pytest.raises(InvalidArgumentError, match="`scale`"):
        sample_elliptic_stable(1.5, 10, 2, scale=-1.0)
    with pytest.raises(InvalidArgumentError, match="`alpha`"):
        sample_elliptic_stable(2.5, 10, 2)
    with pytest.raises(InvalidArgumentError, match="`size`"):
        sample_elliptic_stable(1.5, (10,), 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("alpha", [0.8, 1.3, 2.0])
def test_elliptic_marginals_and_projections(alpha: float) -> None:
    scale = 2.0
    x = sample_elliptic_stable(alpha, 10_000, 3, scale=scale, rng=21)
    cdf = stable_cdf(alpha, 0.0, scale)
    # Every coordinate and every unit projection is S_alpha(scale, 0, 0).
    u = np.array([0.48, -0.6, 0.64])  # a unit vector
    for column in (x[:, 0], x[:, 2], x @ u):
        assert ks_pvalue_bounds(column, cdf, n_grid=1000)[0] > P_ACCEPT
    # Negative control: the sqrt(2) scale convention gives marginals of scale s / sqrt 2.
    assert ks_pvalue_bounds(x[:, 1], stable_cdf(alpha, 0.0, scale / math.sqrt(2.0)))[1] < P_REJECT


def _direction_stats(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(x, axis=1)
    return np.asarray(np.max(np.abs(x), axis=1) / norms, dtype=np.float64)


def test_elliptic_direction_is_uniform_and_coordinates_dependent() -> None:
    alpha, n = 1.2, 20_000
    x = sample_elliptic_stable(alpha, n, 3, rng=31)
    # Rotation invariance: in R^3 the first coordinate of a uniform direction is
    # Uniform(-1, 1) (Archimedes), also after a fixed rotation.
    rot, _ = np.linalg.qr(np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [2.0, 0.1, -0.7]]))
    norms = np.linalg.norm(x, axis=1)
    for v in (x, x @ rot.T):
        p = stats.kstest(v[:, 0] / norms, stats.uniform(loc=-1.0, scale=2.0).cdf).pvalue
        assert p > P_ACCEPT
    # The direction has the Gaussian law whatever alpha is: the law of max|X_j| / ||X||
    # matches that of Gaussian vectors (two-sample KS) ...
    g = np.random.default_rng(32).standard_normal((n, 3))
    assert stats.ks_2samp(_direction_stats(x), _direction_stats(g)).pvalue > P_ACCEPT
    # ... while i.i.d. stable coordinates (the negative control) put heavy draws on the
    # axes, which the same check rejects.
    iid = sample_stable(alpha, (n, 3), rng=33)
    assert stats.ks_2samp(_direction_stats(iid), _direction_stats(g)).pvalue < P_REJECT
    ui = iid[:, 0] / np.linalg.norm(iid, axis=1)
    assert stats.kstest(ui, stats.uniform(loc=-1.0, scale=2.0).cdf).pvalue < P_REJECT


# --------------------------------------------------------------------------------------
# The double range: parameters under which draws would overflow are refused.


@pytest.mark.parametrize("alpha", [5e-324, 1e-300, 0.01, 0.05])
def test_sample_stable_refuses_alpha_whose_draws_overflow(alpha: float) -> None:
    # Before the fix sample_stable(5e-324, 8) returned eight NaN with a RuntimeWarning.
    # Threshold: P(|X| > 1.8e308) ~ C_alpha 1.8e308^-alpha exceeds 1e-16 below 0.0519.
    with pytest.raises(InvalidArgumentError, match=r"`alpha` = .* is too small"):
        sample_stable(alpha, 8, rng=0)
    with pytest.raises(InvalidArgumentError, match="`alpha`"):
        sample_elliptic_stable(alpha, 8, 3, rng=0)


def test_sample_stable_small_alpha_inside_the_domain_is_finite() -> None:
    # Just above the threshold the draws are finite: 10^5 draws at alpha = 0.06 overflow
    # with probability about 10^5 * 3e-14 = 3e-9.
    x = sample_stable(0.06, 100_000, beta=0.5, rng=1)
    assert np.isfinite(x).all()
    y = sample_elliptic_stable(0.11, 10_000, 4, rng=2)
    assert np.isfinite(y).all()
    # negative control: the elliptic sampler's threshold is twice the scalar one (its
    # scale variable A is (alpha/2)-stable), so 0.06 is refused there.
    with pytest.raises(InvalidArgumentError, match="the scale variable A"):
        sample_elliptic_stable(0.06, 10, 4, rng=2)


@pytest.mark.parametrize(
    ("alpha", "scale", "loc"),
    [(1.5, 1e300, 0.0), (2.0, 1.7e308, 0.0), (1.0, 1.0, 1.7976931348623157e308)],
)
def test_sample_stable_refuses_scales_near_the_largest_double(
    alpha: float, scale: float, loc: float
) -> None:
    # Before the fix these returned inf entries (sample_stable(1.5, 10**5, scale=1e300)
    # has 6 of them in expectation: P(|X| > 1.8e308) = C_1.5 (1e300 / 1.8e308)^1.5).
    with pytest.raises(InvalidArgumentError, match="`scale`"):
        sample_stable(alpha, 8, scale=scale, loc=loc, rng=0)
    # control: the same alpha at a scale well inside the range draws finite values
    assert np.isfinite(sample_stable(alpha, 1000, scale=1e290, loc=loc / 2, rng=0)).all()
