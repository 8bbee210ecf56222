"""Covering the pruned networks, and the union bound's grids (docs/generalization.md, 3-4).

The class G(k; A, Omega, C) holds the functions

    g(x) = (1/n) sum_{j=1}^k a_j phi~(w_j . x) + c,   |a_j| <= A, ||w_j||_2 <= Omega, |c| <= C,

with phi~ = phi - phi(0) L-Lipschitz, on inputs ||x|| <= B. Its free scalars number

    q = k [a free] + k d + [c free]

(a is not free when the second layer is fixed at 1; c is not free when phi(0) = 0 or a is
fixed, since then c_f is known in advance). A grid on the parameters, each coordinate of a
block on [-R, R] cut into N cells of radius R / N <= r, is a cover of G in sup norm over
the ball: for the true parameters theta and the nearest centre theta',

    |g_theta(x) - g_theta'(x)| <= (k/n) (r_a L B Omega + A L B sqrt(d) r_w) + r_c.

Each free scalar gets the same share rho / q of the radius rho (the split that minimises the
log count, up to the ceilings), which gives the cell radii

    r_a = rho n / (q L B Omega),  r_w = rho n sqrt(d) / (q L B A),  r_c = rho / q,

and the counts per coordinate N = ceil(R / r):

    N_a = ceil(q L B A Omega / (rho n)),  N_w = ceil(q L B A Omega / (rho n sqrt(d))),
    N_c = ceil(q C / rho),
    log N(G) <= k log N_a + k d log N_w + log N_c.

A, Omega and C are read off the trained network, so they are rounded up to a fixed
geometric grid b^i (b = 2^(1/4), i an integer, never below -64), and each grid point gets
the prior weight pi(i) = 2 / (3 (|i| + 1) (|i| + 2)), which sums to 1 over all integers.
The radius rho runs over the fixed grid (M / Lambda) 2^(-j/2), j = 1..64, with weight 1/64
each, and k over the fixed grid of kept counts with weight 1/|K| each. The failure
probability delta is split in proportion to the product of the weights, so the confidence
term of one grid point is

    log(1/delta') = log(1/delta) + log |K| + log 64 + sum over the scales of log(1/pi(i)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "RADIUS_STEPS",
    "SCALE_BASE",
    "SCALE_FLOOR_INDEX",
    "CoverBlock",
    "CoverGrid",
    "cover_grid",
    "log_confidence",
    "radius_grid",
    "scale_index",
    "scale_value",
    "scale_weight",
]

# Ratio of the geometric grid of scales A, Omega, C. Rounding a scale up to the grid
# multiplies it by at most b, which adds at most log(b^2) = 0.35 to log N_w per coordinate
# (A and Omega both rounded); a coarser b = 2 would add up to 1.39. The finer grid costs
# only in the prior weight, whose log grows like 2 log |i|.
SCALE_BASE = 2.0**0.25
# Scales below b^-64 = 2^-16 are rounded up to it: the smallest grid point used.
SCALE_FLOOR_INDEX = -64
# Number of radii rho_j = (M / Lambda) 2^(-j/2), j = 1..RADIUS_STEPS (down to 2^-32 of
# M / Lambda, far below any useful radius); the bound takes the best, at a cost of
# log(64) = 4.2 in the confidence term.
RADIUS_STEPS = 64
# Above e^40 a ceiling changes the logarithm by less than e^-40: take log x itself, so
# that the count never overflows a float.
_LOG_CEIL_EXACT_BELOW = 40.0


def scale_weight(i: int) -> float:
    """The prior weight pi(i) = 2 / (3 (|i| + 1) (|i| + 2)) of the grid scale b^i.

    Sum over all integers i: 2/3 (1/2 + 2 sum_{j >= 1} 1/((j+1)(j+2))) = 2/3 (1/2 + 1) = 1.
    """
    j = abs(int(i))
    return 2.0 / (3.0 * (j + 1) * (j + 2))


def scale_value(i: int) -> float:
    """The grid scale b^i, b = 2^(1/4)."""
    return float(2.0 ** (int(i) / 4.0))


def scale_index(value: float) -> int:
    """The smallest grid index i >= SCALE_FLOOR_INDEX with b^i >= value (value >= 0)."""
    if not value > scale_value(SCALE_FLOOR_INDEX):  # also 0
        return SCALE_FLOOR_INDEX
    i = math.ceil(4.0 * math.log2(value))
    # log2 is correctly rounded to within an ulp: step to the exact smallest index.
    while scale_value(i - 1) >= value:
        i -= 1
    while scale_value(i) < value:
        i += 1
    return max(i, SCALE_FLOOR_INDEX)


def radius_grid(unit: float) -> list[float]:
    """The fixed radii unit * 2^(-j/2), j = 1..RADIUS_STEPS (unit = M / Lambda)."""
    return [unit * 2.0 ** (-j / 2.0) for j in range(1, RADIUS_STEPS + 1)]


def log_confidence(delta: float, n_kappas: int, indices: tuple[int, ...]) -> float:
    """log(1/delta') of one grid point: delta split over kappa, radius and scale grids."""
    total = -math.log(delta) + math.log(n_kappas) + math.log(RADIUS_STEPS)
    return total - sum(math.log(scale_weight(i)) for i in indices)


def _log_ceil(log_x: float) -> float:
    """log(ceil(x)) from log x, without overflow (x > 0)."""
    if log_x >= _LOG_CEIL_EXACT_BELOW:
        return log_x
    return math.log(math.ceil(math.exp(log_x)))


@dataclass(frozen=True)
class CoverBlock:
    """One block of parameters covered by a product grid.

    Attributes
    ----------
    name : str
        "a", "w" or "c".
    coordinates : int
        How many scalars the block holds (k, k d or 1).
    half_width : float
        Each scalar lies in [-half_width, half_width] (A, Omega or C).
    cell_radius : float
        The largest cell radius r that keeps the sup-norm error within the block's share.
    log_points : float
        log N, N = ceil(half_width / cell_radius) centres per coordinate.
    """

    name: str
    coordinates: int
    half_width: float
    cell_radius: float
    log_points: float

    @property
    def points(self) -> int:
        """N as an integer (for counts small enough to enumerate)."""
        return round(math.exp(self.log_points))

    def centres(self) -> list[float]:
        """The N centres -R + (2i + 1) R / N, i = 0..N-1, each covering a cell of radius R / N."""
        count = self.points
        step = self.half_width / count
        return [-self.half_width + (2 * i + 1) * step for i in range(count)]


@dataclass(frozen=True)
class CoverGrid:
    """A product-grid cover of G(k; A, Omega, C) at sup-norm radius ``radius``.

    Attributes
    ----------
    n_parameters : int
        q, the number of free scalars.
    radius : float
        rho: every g in the class is within rho of a centre, uniformly on ||x|| <= B.
    blocks : tuple of CoverBlock
        The parameter blocks, in the order a (if free), w, c (if free).
    log_count : float
        log of the number of centres, sum over blocks of coordinates * log_points.
    """

    n_parameters: int
    radius: float
    blocks: tuple[CoverBlock, ...]
    log_count: float


def cover_grid(
    k: int,
    d: int,
    n: int,
    *,
    lipschitz: float,
    input_radius: float,
    radius: float,
    a_scale: float | None,
    w_scale: float,
    c_scale: float | None,
) -> CoverGrid:
    """The grid cover of the module docstring (``a_scale`` None: a fixed at 1, not covered)."""
    a_free = a_scale is not None
    c_free = c_scale is not None
    q = (k if a_free else 0) + k * d + (1 if c_free else 0)
    big_a = a_scale if a_scale is not None else 1.0
    # log(q L B A Omega / (rho n)), computed in logs so that it never overflows.
    log_core = (
        math.log(q)
        + math.log(lipschitz)
        + math.log(input_radius)
        + math.log(big_a)
        + math.log(w_scale)
        - math.log(radius)
        - math.log(n)
    )
    blocks: list[CoverBlock] = []
    if a_free:
        r_a = radius * n / (q * lipschitz * input_radius * w_scale)
        blocks.append(CoverBlock("a", k, big_a, r_a, _log_ceil(log_core)))
    r_w = radius * n * math.sqrt(d) / (q * lipschitz * input_radius * big_a)
    blocks.append(CoverBlock("w", k * d, w_scale, r_w, _log_ceil(log_core - 0.5 * math.log(d))))
    if c_scale is not None:
        r_c = radius / q
        log_c = math.log(q) + math.log(c_scale) - math.log(radius)
        blocks.append(CoverBlock("c", 1, c_scale, r_c, _log_ceil(log_c)))
    log_count = sum(b.coordinates * b.log_points for b in blocks)
    return CoverGrid(q, radius, tuple(blocks), log_count)
