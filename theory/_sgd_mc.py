"""Monte Carlo estimates of h(s), rho and the tail index of SGD for any data covariance.

For online SGD on least squares, x_k = M_k x_{k-1} + q_k with
M_k = I - (eta/b) sum_{i<=b} a_i a_i^T and a_i ~ N(0, Sigma),

    h(s) = lim_k (E ||M_k ... M_1||^s)^(1/k)

is the spectral radius of the positive operator P_s f(u) = E[||M u||^s f(M u / ||M u||)] on
functions on the unit sphere (Gürbüzbalaban, Şimşekli & Zhu, ICML 2021, Thm 2 and
Sec. 3; docs/theory.md, section 5). It is estimated by the particle method for Feynman-Kac
eigenvalues (Del Moral, "Feynman-Kac Formulae", 2004, ch. 12): N unit vectors are pushed
through independent draws of M; at each step the mean of the weights ||M u||^s estimates the
one-step growth of E ||M_k ... M_1 u||^s, and the particles are resampled in proportion to
their weights, so that they follow the s-tilted law of directions. After a burn-in, the
average of the log mean weights estimates log h(s). The norm is invariant under rotations,
so only the eigenvalues of Sigma matter: the simulation runs in the eigenbasis.

The log of a mean of N weights is biased by about -Var(w) / (2 N E[w]^2) per step
(Jensen); that term is estimated from the weights and added back, which leaves a bias of
order 1/N^2. The statistical error is measured by independent replicates. The tail
index is the root of log h(s) = 0, found separately in each replicate with common random
numbers (the same draws for every s), so that each replicate's log h is a smooth-ish
function of s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import optimize, stats

from heavytail._lib._doc import fill_doc
from heavytail._lib._errors import EstimationError, InvalidArgumentError, NoStationaryLawError
from heavytail._lib._rng import RngLike, spawn_generators
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int, check_real

_FRAGMENTS = {
    "mc_parameters": """\
cov : array_like
    The data covariance Sigma: a symmetric positive definite d x d matrix, or a 1-D
    array of d positive variances (a diagonal covariance). Only its eigenvalues matter.
    The isotropic case of :func:`sgd_h` is ``cov = sigma**2 * np.ones(d)``.
n_particles : int, optional
    Particles N per replicate, >= 2. The bias is O(1/N^2).
n_steps : int, optional
    Steps averaged after the burn-in, >= 1.
burn_in : int, optional
    Steps discarded first, >= 0, while the particles' directions reach their law.
n_replicates : int, optional
    Independent replicates R >= 2; the standard error comes from their spread.
rng : int, Generator, SeedSequence or None, optional
    Randomness (keyword-only). Replicates use independent child streams spawned from
    it, so the same ``rng`` gives the same numbers.
""",
}

__all__ = [
    "S_MAX_MONTE_CARLO",
    "SGDMonteCarloEstimate",
    "sgd_log_h_monte_carlo",
    "sgd_lyapunov_exponent_monte_carlo",
    "sgd_tail_index_monte_carlo",
]


#: Largest s at which h(s) is estimated by Monte Carlo, and the largest tail index it finds.
#: Beyond it the weights ||M u||^s are so uneven that few particles carry the estimate.
S_MAX_MONTE_CARLO = 20.0
# Smallest s of the bracketing grid of the tail index, and the number of points of the
# second grid, inside the bracket, through which a cubic is fitted.
_S_MIN = 0.05
_N_FINE = 8
_LEVEL = 0.95


@dataclass(frozen=True)
class SGDMonteCarloEstimate:
    """A Monte Carlo estimate from independent replicates, with its standard error.

    Attributes
    ----------
    quantity : str
        What ``estimate`` estimates: ``"log h(s)"``, ``"rho"`` or ``"alpha"``.
    estimate : float
        The mean of the replicate estimates.
    se : float
        The standard error of ``estimate``: the replicates' standard deviation over
        sqrt(n_replicates).
    ci : tuple of float
        A 95% interval, estimate +- t_{0.975, R-1} se (R replicates). It covers the
        statistical error only, not the remaining bias of the particle method (of order
        1/n_particles^2 after its first-order correction).
    replicates : tuple of float
        The replicate estimates.
    ess_fraction : float
        Mean over steps and replicates of the effective sample size of the weights over
        n_particles (1 for s = 0). Small values (below ~0.1) mean few particles carry the
        estimate and the bias may exceed ``se``.
    settings : Mapping
        The settings used: s (for log h), eta, batch_size, the covariance eigenvalues,
        n_particles, n_steps, burn_in, n_replicates.
    """

    quantity: str
    estimate: float
    se: float
    ci: tuple[float, float]
    replicates: tuple[float, ...]
    ess_fraction: float
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        object.__setattr__(self, "ci", (float(self.ci[0]), float(self.ci[1])))
        object.__setattr__(self, "replicates", tuple(float(r) for r in self.replicates))


# ---------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class _Setup:
    c: float  # eta / b (the covariance eigenvalues carry sigma^2)
    b: int
    lam: FloatArray  # eigenvalues of the covariance, > 0
    n_particles: int
    n_steps: int
    burn_in: int
    seeds: tuple[int, ...]

    def settings(self) -> dict[str, Any]:
        return {
            "eta": self.c * self.b,
            "batch_size": self.b,
            "cov_eigenvalues": tuple(float(x) for x in self.lam),
            "n_particles": self.n_particles,
            "n_steps": self.n_steps,
            "burn_in": self.burn_in,
            "n_replicates": len(self.seeds),
        }


def _cov_eigenvalues(cov: Any) -> FloatArray:
    """Eigenvalues of ``cov``: a 1-D array of variances (a diagonal covariance) or a
    symmetric positive definite matrix."""
    try:
        arr = np.asarray(cov)
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError(f"`cov` must be an array of real numbers: {exc}") from exc
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise InvalidArgumentError(f"`cov` must be an array of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise InvalidArgumentError(
            f"`cov` must be a non-empty 1-D array of variances or a square matrix, got shape "
            f"{arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError("`cov` must be finite")
    if arr.ndim == 2:
        if arr.shape[0] != arr.shape[1]:
            raise InvalidArgumentError(f"`cov` must be a square matrix, got shape {arr.shape}")
        scale = float(np.max(np.abs(arr)))
        if not np.allclose(arr, arr.T, rtol=0.0, atol=1e-12 * scale):
            raise InvalidArgumentError("`cov` must be symmetric")
        lam = np.linalg.eigvalsh(0.5 * (arr + arr.T))
    else:
        lam = arr
    if not np.all(lam > 0.0):
        raise InvalidArgumentError(
            f"`cov` must be positive definite, got smallest eigenvalue {float(np.min(lam))!r}"
        )
    out: FloatArray = np.sort(lam)[::-1].copy()
    return out


def _setup(
    eta: Any,
    batch_size: Any,
    cov: Any,
    n_particles: Any,
    n_steps: Any,
    burn_in: Any,
    n_replicates: Any,
    rng: RngLike,
) -> _Setup:
    eta_ = check_real(eta, "eta", low=0.0, low_open=True)
    b = check_int(batch_size, "batch_size", low=1)
    lam = _cov_eigenvalues(cov)
    n = check_int(n_particles, "n_particles", low=2)
    k = check_int(n_steps, "n_steps", low=1)
    k0 = check_int(burn_in, "burn_in", low=0)
    r = check_int(n_replicates, "n_replicates", low=2)
    if not math.isfinite(eta_ * float(lam[0])):
        raise InvalidArgumentError("`eta` times the largest variance in `cov` must be finite")
    seeds = tuple(int(g.integers(2**63)) for g in spawn_generators(rng, r))
    return _Setup(eta_ / b, b, lam, n, k, k0, seeds)


def _check_s_mc(s: Any) -> float:
    return check_real(s, "s", low=0.0, high=S_MAX_MONTE_CARLO)


# ---------------------------------------------------------------------------------------
# The particle simulation


@dataclass(frozen=True)
class _Run:
    log_h: FloatArray  # per s
    rho: float  # from the s = 0 population
    ess: FloatArray  # mean ESS fraction per s


def _run(setup: _Setup, s: FloatArray, seed: int) -> _Run:
    """One replicate: N particles for each s, all driven by the same draws of M.

    The draws depend on ``seed`` only (never on s), so that a replicate's estimate is a
    function of s with common random numbers. Systematic resampling at every step, with
    one uniform per step shared by every s.
    """
    rng = np.random.default_rng(seed)
    n, d, b = setup.n_particles, setup.lam.size, setup.b
    root_lam = np.sqrt(setup.lam)
    n_s = s.size
    u0 = rng.standard_normal((n, d))
    u0 /= np.linalg.norm(u0, axis=1, keepdims=True)
    u = np.broadcast_to(u0, (n_s + 1, n, d)).copy()  # row n_s: s = 0, for rho
    s_all = np.append(s, 0.0)
    acc = np.zeros(n_s + 1)
    ess_acc = np.zeros(n_s + 1)
    log_r_acc = 0.0
    grid = np.arange(n) / n
    rows = np.arange(n_s)[:, None]
    for k in range(setup.burn_in + setup.n_steps):
        a = rng.standard_normal((n, b, d)) * root_lam  # a_i ~ N(0, diag(lam))
        offset = rng.random() / n
        # Huge eta * cov overflows here; the check below reports it as an EstimationError.
        with np.errstate(over="ignore", invalid="ignore"):
            gram = np.einsum("nbd,nbe->nde", a, a, optimize=True)  # sum_i a_i a_i^T
            v = u - setup.c * np.einsum("nde,sne->snd", gram, u, optimize=True)  # M u
            r = np.linalg.norm(v, axis=2)
        if not np.all((r > 0.0) & np.isfinite(r)):
            raise EstimationError(
                "a particle's norm ||M u|| overflowed or vanished: `eta` times `cov` is too "
                f"large for the Monte Carlo estimate (eta / batch_size = {setup.c:g}, largest "
                f"variance {float(setup.lam[0]):g})"
            )
        log_r = np.log(r)
        log_w = s_all[:, None] * log_r
        top = np.max(log_w, axis=1, keepdims=True)
        w = np.exp(log_w - top)
        total = w.sum(axis=1)
        if k >= setup.burn_in:
            mean = total / n
            mean_sq = (w * w).sum(axis=1) / n
            # log of the mean weight, less the delta-method estimate of its Jensen bias,
            # -Var(w) / (2 N E[w]^2), which leaves a bias of order 1/N^2.
            rel_var = (mean_sq / (mean * mean) - 1.0) * n / (n - 1)
            acc += top[:, 0] + np.log(mean) + rel_var / (2.0 * n)
            ess_acc += mean * mean / mean_sq
            log_r_acc += float(log_r[n_s].mean())
        v /= r[:, :, None]
        if n_s:  # the s = 0 population (last row) keeps its particles
            cdf = np.cumsum(w[:n_s], axis=1) / total[:n_s, None]
            cdf[:, -1] = 1.0
            # systematic resampling of every row in one search: row i's cdf is shifted
            # to (i, i + 1].
            idx = np.searchsorted((cdf + rows).ravel(), (grid + offset + rows).ravel())
            idx = np.clip(idx.reshape(n_s, n) - rows * n, 0, n - 1)
            v[:n_s] = np.take_along_axis(v[:n_s], idx[:, :, None], axis=1)
        u = v
    k_avg = setup.n_steps
    return _Run(acc[:n_s] / k_avg, log_r_acc / k_avg, ess_acc[:n_s] / k_avg)


def _cubic_root(x: FloatArray, y: FloatArray) -> float:
    """The root in [x[0], x[-1]] of the least-squares cubic through (x, y).

    With common random numbers a replicate's log h(s) is smooth in s up to small jumps
    where resampling picks other particles; the fit smooths them. Falls back to linear
    interpolation at the sign change if the cubic has no root in the interval.
    """
    scale = x[-1] - x[0]
    coef = np.polynomial.polynomial.polyfit((x - x[0]) / scale, y, 3)
    f = np.polynomial.Polynomial(coef)
    if f(0.0) < 0.0 < f(1.0):
        return float(x[0] + scale * optimize.brentq(f, 0.0, 1.0, xtol=1e-12))
    i = int(np.argmax(y >= 0.0))
    i = max(i, 1)
    return float(x[i - 1] + (x[i] - x[i - 1]) * (-y[i - 1]) / (y[i] - y[i - 1]))


def _summarise(
    quantity: str, values: list[float], ess: float, settings: dict[str, Any]
) -> SGDMonteCarloEstimate:
    arr = np.asarray(values)
    r = arr.size
    est = float(arr.mean())
    se = float(arr.std(ddof=1) / math.sqrt(r))
    q = float(stats.t.ppf(0.5 + _LEVEL / 2.0, r - 1))
    return SGDMonteCarloEstimate(
        quantity=quantity,
        estimate=est,
        se=se,
        ci=(est - q * se, est + q * se),
        replicates=tuple(values),
        ess_fraction=ess,
        settings=settings,
    )


# ---------------------------------------------------------------------------------------
# Public functions


@fill_doc(_FRAGMENTS)
def sgd_log_h_monte_carlo(
    s: Any,
    eta: Any,
    batch_size: Any,
    cov: Any,
    *,
    n_particles: Any = 2000,
    n_steps: Any = 200,
    burn_in: Any = 50,
    n_replicates: Any = 8,
    rng: RngLike = None,
) -> SGDMonteCarloEstimate:
    r"""Monte Carlo estimate of log h(s) for online SGD on least squares, any covariance.

    h(s) = lim_k (E \|M_k \cdots M_1\|^s)^{1/k} with M_k = I - (eta/b) sum_{i<=b} a_i a_i^T
    and a_i ~ N(0, Sigma) (Gürbüzbalaban, Şimşekli & Zhu, ICML 2021, Thm 2). It is the
    spectral radius of the positive operator P_s f(u) = E[\|Mu\|^s f(Mu/\|Mu\|)] on the unit
    sphere, estimated by the particle method with resampling (module docstring;
    docs/sgd_tail_index.md, section 4). For Sigma = sigma^2 I it estimates the quantity that
    :func:`sgd_h` computes by quadrature.

    Parameters
    ----------
    s : float
        Order, in [0, 20]. Larger s makes the weights too uneven for the method.
    eta : float
        Step size, > 0.
    batch_size : int
        Batch size b >= 1.
    %(mc_parameters)s

    Returns
    -------
    SGDMonteCarloEstimate
        ``quantity == "log h(s)"``; ``estimate`` is log h(s), with its standard error.

    Raises
    ------
    InvalidArgumentError
        For a parameter outside its domain.
    EstimationError
        If a particle's norm overflows (eta Sigma far too large).

    Notes
    -----
    Each step costs O(N b d). The log of the mean of N weights w = \|Mu\|^s is biased by
    about -Var(w) / (2 N E[w]^2) per step (Jensen's inequality); this term is estimated from
    the weights and added back, leaving O(1/N^2), which grows with s as the weights become
    uneven; ``ess_fraction`` reports how uneven they are.
    The burn-in must be long enough for the directions to mix: a few times
    1 / |log(1 - eta lambda_min)| steps.
    """
    s_ = _check_s_mc(s)
    setup = _setup(eta, batch_size, cov, n_particles, n_steps, burn_in, n_replicates, rng)
    runs = [_run(setup, np.array([s_]), seed) for seed in setup.seeds]
    return _summarise(
        "log h(s)",
        [float(run.log_h[0]) for run in runs],
        float(np.mean([run.ess[0] for run in runs])),
        {"s": s_, **setup.settings()},
    )


@fill_doc(_FRAGMENTS)
def sgd_lyapunov_exponent_monte_carlo(
    eta: Any,
    batch_size: Any,
    cov: Any,
    *,
    n_particles: Any = 2000,
    n_steps: Any = 200,
    burn_in: Any = 50,
    n_replicates: Any = 8,
    rng: RngLike = None,
) -> SGDMonteCarloEstimate:
    r"""Monte Carlo estimate of the top Lyapunov exponent rho of SGD, any covariance.

    rho = lim_k (1/k) log \|M_k \cdots M_1 u\| = E log \|M u\| with u distributed as the
    stationary law of the directions M_k \cdots M_1 u / \|M_k \cdots M_1 u\| (Furstenberg;
    Gürbüzbalaban, Şimşekli & Zhu, ICML 2021, Thm 2). The iterates have a stationary law
    iff rho < 0. Estimated by the average of log \|M u\| over N particles and the steps
    after a burn-in (the s = 0 case of :func:`sgd_log_h_monte_carlo`).

    Parameters
    ----------
    eta : float
        Step size, > 0.
    batch_size : int
        Batch size b >= 1.
    %(mc_parameters)s

    Returns
    -------
    SGDMonteCarloEstimate
        ``quantity == "rho"``.
    """
    setup = _setup(eta, batch_size, cov, n_particles, n_steps, burn_in, n_replicates, rng)
    runs = [_run(setup, np.zeros(0), seed) for seed in setup.seeds]
    return _summarise("rho", [run.rho for run in runs], 1.0, setup.settings())


@fill_doc(_FRAGMENTS)
def sgd_tail_index_monte_carlo(
    eta: Any,
    batch_size: Any,
    cov: Any,
    *,
    n_particles: Any = 2000,
    n_steps: Any = 200,
    burn_in: Any = 50,
    n_replicates: Any = 8,
    rng: RngLike = None,
) -> SGDMonteCarloEstimate:
    r"""Monte Carlo estimate of the tail index alpha of SGD on least squares, any covariance.

    alpha is the positive root of h(alpha) = 1 (Gürbüzbalaban, Şimşekli & Zhu, ICML 2021,
    Thm 2), with h estimated as in :func:`sgd_log_h_monte_carlo`. In each replicate the
    same draws are used for every s (common random numbers); the replicate's log h is
    evaluated on a geometric grid of 12 values of s in [0.05, 20] to bracket the root, then
    on 8 values inside the bracket, through which a least-squares cubic is fitted; its
    root is the replicate's estimate. For Sigma = sigma^2 I it estimates what :func:`sgd_tail_index`
    computes by quadrature.

    Parameters
    ----------
    eta : float
        Step size, > 0.
    batch_size : int
        Batch size b >= 1.
    %(mc_parameters)s

    Returns
    -------
    SGDMonteCarloEstimate
        ``quantity == "alpha"``; ``ess_fraction`` is that of the weights at the
        replicates' roots.

    Raises
    ------
    InvalidArgumentError
        For a parameter outside its domain.
    NoStationaryLawError
        If the estimated rho is >= 0 in every replicate (no stationary law).
    EstimationError
        If a replicate finds no root in [0.05, 20]: alpha beyond the range the method
        resolves, or too close to 0 (rho ~ 0), or replicates that disagree on whether
        rho < 0.

    Notes
    -----
    The replicate roots inherit the remaining bias of log h (O(1/N^2)), divided by
    d log h / ds at alpha.
    """
    setup = _setup(eta, batch_size, cov, n_particles, n_steps, burn_in, n_replicates, rng)
    grid = np.geomspace(_S_MIN, S_MAX_MONTE_CARLO, 12)
    roots: list[float] = []
    ess: list[float] = []
    n_unstable = 0
    for seed in setup.seeds:
        run = _run(setup, grid, seed)
        if run.rho >= 0.0:
            n_unstable += 1
            continue
        neg = run.log_h < 0.0
        if not neg[0] or neg[-1]:
            where = "above" if neg[-1] else "below"
            raise EstimationError(
                f"a replicate's estimate of log h(s) does not change sign on "
                f"[{_S_MIN:g}, {S_MAX_MONTE_CARLO:g}]: at `eta` = {setup.c * setup.b:g}, "
                f"`batch_size` = {setup.b} and this `cov`, the tail index is {where} the "
                f"range the Monte Carlo method resolves (estimated rho = {run.rho:.4g})"
            )
        j = int(np.argmax(~neg))  # first grid point with log h >= 0
        fine = np.linspace(grid[j - 1], grid[j], _N_FINE)
        run2 = _run(setup, fine, seed)
        roots.append(_cubic_root(fine, run2.log_h))
        ess.append(float(np.interp(roots[-1], fine, run2.ess)))
    if n_unstable == len(setup.seeds):
        raise NoStationaryLawError(
            f"the estimated top Lyapunov exponent is >= 0 in every replicate at `eta` = "
            f"{setup.c * setup.b:g}, `batch_size` = {setup.b} and this `cov`: the SGD "
            "iterates have no stationary law"
        )
    if n_unstable:
        raise EstimationError(
            f"{n_unstable} of {len(setup.seeds)} replicates estimate rho >= 0 at `eta` = "
            f"{setup.c * setup.b:g}, `batch_size` = {setup.b} and this `cov`: too close to "
            "the boundary of stability to estimate the tail index (more `n_particles` or "
            "`n_steps` narrow the estimates)"
        )
    return _summarise("alpha", roots, float(np.mean(ess)), setup.settings())
