"""Steps 3 and 4 of docs/generalization.md: the grid cover, and the union bound's bookkeeping.

Step 3: the product grid of ``cover_grid`` is a cover of the pruned class at sup-norm radius
rho, and its size is exp(log_count). Checked by enumerating every centre at tiny sizes and
finding, for parameters drawn from the class (its corners included), the nearest centre by
brute force. For the identity activation the sup over the ball is exact
(sup_{||x|| <= B} |u . x + c| = B ||u|| + |c|); for tanh (d = 1) it is a dense grid of inputs
plus the Lipschitz slack between grid points, so it is an upper bound too. The negative
control: the worst parameter found is farther than rho / 2 from every centre, so a cover
claimed at half the radius would be rejected by the same check.

Step 4: the prior weights of the scale grid sum to 1 (closed form of the partial sums), the
failure probability is split exactly as log_confidence says, and a simulation of Hoeffding's
inequality with a union bound over a finite class holds at level delta while the same bound
without the union term fails.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from heavytail.theory import compression_bound
from heavytail.theory._generalization_cover import (
    RADIUS_STEPS,
    SCALE_FLOOR_INDEX,
    CoverGrid,
    cover_grid,
    log_confidence,
    radius_grid,
    scale_index,
    scale_value,
    scale_weight,
)
from heavytail.theory._generalization_prune import activation_values

FloatArray = npt.NDArray[np.float64]

# (k, d, n, lipschitz, B, radius, A or None, Omega, C or None): tiny classes whose grids
# have at most a few thousand centres, one with each combination of free blocks.
CASES = [
    (1, 1, 2, 1.0, 1.5, 0.9, 1.0, 1.0, None),  # a and w free
    (1, 2, 3, 1.0, 1.0, 0.25, 0.8, 1.2, None),  # d = 2
    (2, 1, 2, 1.0, 1.0, 0.6, None, 1.0, None),  # a fixed at 1
    (1, 1, 2, 1.0, 1.0, 0.7, 1.0, 1.0, 0.5),  # a, w and the output constant c free
    (1, 2, 4, 1.0, 2.0, 0.5, 1.0, 0.7, 0.3),
]


def _centres(grid: CoverGrid, k: int, d: int) -> list[tuple[FloatArray | None, FloatArray, float]]:
    """Every centre (a', W', c') of the grid, enumerated."""
    by_name = {b.name: b for b in grid.blocks}
    axes = [by_name[name].centres() for name in ("a", "w", "c") if name in by_name]
    coords = [by_name[name].coordinates for name in ("a", "w", "c") if name in by_name]
    names = [name for name in ("a", "w", "c") if name in by_name]
    per_block = [list(itertools.product(ax, repeat=c)) for ax, c in zip(axes, coords, strict=True)]
    out = []
    for combo in itertools.product(*per_block):
        parts = dict(zip(names, combo, strict=True))
        a = np.array(parts["a"]) if "a" in parts else None
        w = np.array(parts["w"]).reshape(k, d)
        c = parts["c"][0] if "c" in parts else 0.0
        out.append((a, w, c))
    return out


def _sample_class(
    rng: np.random.Generator,
    k: int,
    d: int,
    a_scale: float | None,
    w_scale: float,
    c_scale: float | None,
    count: int,
) -> list[tuple[FloatArray | None, FloatArray, float]]:
    """Parameters of the class: corners (|a| = A, ||w|| = Omega along axes and diagonals,
    |c| = C) and uniform draws (a uniform, w uniform in the ball, c uniform)."""
    out: list[tuple[FloatArray | None, FloatArray, float]] = []
    dirs = [np.eye(d)[i] * s for i in range(d) for s in (1.0, -1.0)]
    dirs += [np.array(v) / math.sqrt(d) for v in itertools.product((1.0, -1.0), repeat=d)]
    for _ in range(count):
        a = None if a_scale is None else rng.uniform(-a_scale, a_scale, size=k)
        g = rng.standard_normal((k, d))
        w = (
            g
            / np.linalg.norm(g, axis=1, keepdims=True)
            * w_scale
            * rng.uniform(size=(k, 1)) ** (1 / d)
        )
        c = 0.0 if c_scale is None else float(rng.uniform(-c_scale, c_scale))
        out.append((a, w, c))
    for _ in range(count):  # corners: every scale at its bound
        a = None if a_scale is None else a_scale * rng.choice([-1.0, 1.0], size=k)
        w = np.array([dirs[rng.integers(len(dirs))] * w_scale for _ in range(k)])
        c = 0.0 if c_scale is None else c_scale * float(rng.choice([-1.0, 1.0]))
        out.append((a, w, c))
    return out


def _identity_sup(theta, centre, n: int, B: float) -> float:  # type: ignore[no-untyped-def]
    """Exact sup over ||x|| <= B of |g_theta(x) - g_centre(x)| for phi = identity."""
    (a, w, c), (a2, w2, c2) = theta, centre
    a = np.ones(w.shape[0]) if a is None else a
    a2 = np.ones(w2.shape[0]) if a2 is None else a2
    u = (a @ w - a2 @ w2) / n
    return B * float(np.linalg.norm(u)) + abs(c - c2)


@pytest.mark.parametrize("case", CASES)
def test_cover_count_and_coverage_identity(case: tuple) -> None:  # type: ignore[type-arg]
    k, d, n, lip, B, rho, A, Om, C = case
    grid = cover_grid(
        k, d, n, lipschitz=lip, input_radius=B, radius=rho, a_scale=A, w_scale=Om, c_scale=C
    )
    centres = _centres(grid, k, d)
    # The count: enumerated centres against the formula (exact integers).
    assert len(centres) == round(math.exp(grid.log_count))
    assert len(centres) == math.prod(b.points**b.coordinates for b in grid.blocks)
    assert grid.n_parameters == sum(b.coordinates for b in grid.blocks)
    assert 1 < len(centres) <= 5000  # the case is a real (not trivial) cover, small enough
    # Coverage: the nearest centre, by brute force over all of them, is within rho.
    rng = np.random.default_rng(99)
    worst = 0.0
    for theta in _sample_class(rng, k, d, A, Om, C, 150):
        nearest = min(_identity_sup(theta, c, n, B) for c in centres)
        worst = max(worst, nearest)
    # Rounding in the sums: 1e-12 relative, far below the factor-2 control below.
    assert worst <= rho * (1.0 + 1e-12), (worst, rho)
    # Negative control: radius rho / 2 fails (found 0.62-0.83 rho over the cases).
    assert worst > rho / 2.0, (worst, rho)


def test_cover_coverage_tanh_dense_inputs() -> None:
    """The cover for tanh (d = 1): sup over a dense input grid plus its Lipschitz slack."""
    k, d, n, lip, B, rho, A, Om, C = 1, 1, 2, 1.0, 1.5, 0.6, 1.0, 1.0, None
    grid = cover_grid(
        k, d, n, lipschitz=lip, input_radius=B, radius=rho, a_scale=A, w_scale=Om, c_scale=C
    )
    centres = _centres(grid, k, d)
    assert len(centres) == round(math.exp(grid.log_count)) > 1
    xs = np.linspace(-B, B, 3001)[:, None]
    h = xs[1, 0] - xs[0, 0]
    # Between grid points |g - g'| moves by at most (its x-Lipschitz constant) * h / 2, with
    # constant (1/n) (|a| |w| + |a'| |w'|) L <= 2 A * 2 Om / n (centres lie in the same box).
    slack = 2.0 * A * 2.0 * Om / n * h / 2.0
    rng = np.random.default_rng(5)
    worst = 0.0
    for a, w, _ in _sample_class(rng, k, d, A, Om, C, 100):
        f = activation_values(xs @ w.T, "tanh") @ a / n
        best = math.inf
        for a2, w2, _ in centres:
            g = activation_values(xs @ w2.T, "tanh") @ a2 / n
            best = min(best, float(np.max(np.abs(f - g))))
        worst = max(worst, best)
    assert worst + slack <= rho, (worst, slack, rho)
    assert worst > rho / 4.0  # the grid is not absurdly fine for tanh (found 0.33 rho)


def test_cover_radius_shares_sum_to_rho() -> None:
    """(k/n) r_a L B Omega + (k/n) A L B sqrt(d) r_w + r_c = rho: each scalar gets rho / q."""
    for k, d, n, lip, B, rho, A, Om, C in [*CASES, (37, 11, 256, 0.25, 3.3, 1e-3, 7.0, 0.2, 0.1)]:
        grid = cover_grid(
            k, d, n, lipschitz=lip, input_radius=B, radius=rho, a_scale=A, w_scale=Om, c_scale=C
        )
        r = {b.name: b.cell_radius for b in grid.blocks}
        total = (k / n) * lip * B * math.sqrt(d) * (1.0 if A is None else A) * r["w"]
        total += (k / n) * r["a"] * lip * B * Om if "a" in r else 0.0
        total += r.get("c", 0.0)
        assert total == pytest.approx(rho, rel=1e-12)  # float rounding of a few products
        for b in grid.blocks:  # the cells are no wider than the radius that the share allows
            assert b.half_width / b.points <= b.cell_radius * (1.0 + 1e-12)


def test_huge_counts_do_not_overflow() -> None:
    grid = cover_grid(
        10,
        5,
        10,
        lipschitz=1.0,
        input_radius=1.0,
        radius=1e-300,
        a_scale=1e300,
        w_scale=1e300,
        c_scale=None,
    )
    assert math.isfinite(grid.log_count)
    # log ceil(x) = log x once x > e^40: log(q L B A Om / (rho n)) = log 6 + 1500 log 10 + ...
    expected_a = math.log(60) + 900 * math.log(10) - math.log(10)
    assert grid.blocks[0].log_points == pytest.approx(expected_a, rel=1e-12)


def test_scale_weights_sum_to_one() -> None:
    """sum_{|i| <= N} pi(i) = 1 - 4 / (3 (N + 2)) (telescoping), so the total is 1."""
    for big_n in (0, 1, 5, 100, 10_000):
        partial = math.fsum(scale_weight(i) for i in range(-big_n, big_n + 1))
        assert partial == pytest.approx(1.0 - 4.0 / (3.0 * (big_n + 2)), rel=1e-14, abs=1e-15)
        assert partial <= 1.0


def test_scale_index_is_the_smallest_grid_point_above() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [10.0 ** rng.uniform(-4, 6, size=2000), [scale_value(i) for i in range(-60, 60)]]
    )
    for v in values:
        i = scale_index(float(v))
        assert scale_value(i) >= v
        assert i == SCALE_FLOOR_INDEX or scale_value(i - 1) < v
    assert scale_index(0.0) == SCALE_FLOOR_INDEX
    assert scale_index(1e-30) == SCALE_FLOOR_INDEX


def test_log_confidence_bookkeeping() -> None:
    """log(1/delta') = log(1/delta) + log|K| + log 64 + sum log(1/pi(i)), and the weights of
    every grid point sum to delta: sum over K (1/|K|) * sum over radii (1/64) * the product
    over scales of sum_i pi(i) = 1."""
    got = log_confidence(0.05, 13, (0, 3, -2))
    expected = (
        math.log(20)
        + math.log(13)
        + math.log(64)
        + math.log(3)
        + math.log(3 * 4 * 5 / 2)
        + math.log(3 * 3 * 4 / 2)
    )
    assert got == pytest.approx(expected, rel=1e-14)
    assert len(radius_grid(1.0)) == RADIUS_STEPS == 64
    # Total failure probability over a grid of 13 kappas, 64 radii, three scales each
    # restricted to |i| <= 2000: sum of delta' <= delta (the rest of Z adds the remainder).
    w = np.array([scale_weight(i) for i in range(-2000, 2001)])
    total = 13 * 64 * (w.sum() ** 3) * math.exp(-log_confidence(1.0, 13, ()))
    assert total <= 1.0
    assert total == pytest.approx((1 - 4 / (3 * 2002)) ** 3, rel=1e-12)


def test_bound_reports_its_bookkeeping() -> None:
    """The bound's log_confidence, scales and cover are those recomputed from W and a."""
    rng = np.random.default_rng(8)
    n, d = 50, 4
    W = rng.standard_normal((n, d))
    a = rng.standard_t(2.0, size=n)
    for phi, a_in in (("tanh", a), ("sigmoid", a), ("relu", None), ("sigmoid", None)):
        res = compression_bound(W, a_in, input_radius=2.0, m=5000, delta=0.05, margin=0.3, phi=phi)
        v = np.linalg.norm(W, axis=1) * (1.0 if a_in is None else np.abs(a_in))
        kept = np.argsort(-v, kind="stable")[: res.kept]
        i_w = scale_index(float(np.max(np.linalg.norm(W[kept], axis=1))))
        indices = [i_w]
        assert res.scales["Omega"] == scale_value(i_w)
        if a_in is None:
            assert res.scales["A"] is None
        else:
            i_a = scale_index(float(np.max(np.abs(a_in[kept]))))
            indices.append(i_a)
            assert res.scales["A"] == scale_value(i_a)
        if phi == "sigmoid" and a_in is not None:
            i_c = scale_index(abs(0.5 * float(np.mean(a_in))))
            indices.append(i_c)
            assert res.scales["C"] == scale_value(i_c)
        else:
            assert res.scales["C"] is None
        n_k = res.kept_counts.size
        assert res.log_confidence == pytest.approx(
            log_confidence(0.05, n_k, tuple(indices)), rel=1e-14
        )
        grid = cover_grid(
            res.kept,
            d,
            n,
            lipschitz=0.25 if phi == "sigmoid" else 1.0,
            input_radius=2.0,
            radius=res.radius,
            a_scale=res.scales["A"],
            w_scale=res.scales["Omega"],
            c_scale=res.scales["C"],
        )
        assert res.log_cover == grid.log_count
        assert res.n_parameters == res.kept * (d + (0 if a_in is None else 1)) + (
            res.scales["C"] is not None
        )


def test_duplicate_kappas_count_once() -> None:
    """The union runs over distinct k: kappas that keep the same k do not cost twice."""
    rng = np.random.default_rng(2)
    W, a = rng.standard_normal((10, 3)), rng.standard_normal(10)
    one = compression_bound(W, a, input_radius=1.0, m=100, delta=0.1, margin=0.5, kappas=[0.5, 1.0])
    dup = compression_bound(
        W, a, input_radius=1.0, m=100, delta=0.1, margin=0.5, kappas=[0.5, 0.45, 0.41, 1.0]
    )
    assert dup.kept_counts.tolist() == one.kept_counts.tolist() == [5, 10]
    assert dup.gap_bound == one.gap_bound
    more = compression_bound(
        W, a, input_radius=1.0, m=100, delta=0.1, margin=0.5, kappas=[0.3, 0.5, 1.0]
    )
    # A third distinct k adds log(3/2) to log(1/delta') at every grid point.
    assert more.log_confidence - one.log_confidence == pytest.approx(math.log(1.5), rel=1e-12)


def test_union_bound_over_a_finite_class_by_simulation() -> None:
    """Hoeffding plus the union bound over N hypotheses, simulated.

    N = 500 hypotheses with independent Bernoulli(0.3) losses on m = 400 samples; the event
    "some hypothesis has L_D - L_S > t" is counted over R = 2000 samples. With
    t = sqrt((log N + log(1/delta)) / (2m)) its probability is <= delta = 0.1, so the count
    must stay below the 99.9% quantile of Binomial(R, 0.1) (a false alarm 1 time in 1000).
    Negative control: without log N (t = sqrt(log(1/delta) / (2m)), the single-hypothesis
    Hoeffding bound) the event happens in most samples, far above that quantile.
    """
    rng = np.random.default_rng(2024)
    big_n, m, p, delta, reps = 500, 400, 0.3, 0.1, 2000
    gaps = p - rng.binomial(m, p, size=(reps, big_n)) / m
    worst = gaps.max(axis=1)
    limit = stats.binom.ppf(0.999, reps, delta)
    t_union = math.sqrt((math.log(big_n) + math.log(1 / delta)) / (2 * m))
    t_single = math.sqrt(math.log(1 / delta) / (2 * m))
    assert np.count_nonzero(worst > t_union) <= limit
    assert np.count_nonzero(worst > t_single) > limit  # found 1969 of 2000 (limit 243)
