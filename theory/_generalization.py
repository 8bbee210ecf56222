"""A compression-based generalization bound for the two-layer network, computed from W and a.

The bound, its derivation and the test of every step are in docs/generalization.md; the
pruning step is in ``_generalization_prune.py`` and the cover and the union bound's grids in
``_generalization_cover.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import as_sample, check_choice, check_int, check_real

from ._compress import as_kappas, kept_counts
from ._generalization_cover import (
    cover_grid,
    log_confidence,
    radius_grid,
    scale_index,
    scale_value,
)
from ._generalization_prune import (
    ACTIVATIONS,
    check_network,
    dropped_path_mass,
    path_mass,
    unit_order,
)

__all__ = [
    "LOSSES",
    "CompressionBound",
    "bounded_loss",
    "compression_bound",
    "default_kappas",
]

IntArray = npt.NDArray[np.intp]
Loss = Literal["ramp", "clipped_squared"]
Phi = Literal["tanh", "relu", "sigmoid", "identity"]

LOSSES: tuple[str, ...] = ("ramp", "clipped_squared")

# The radii (M / Lambda) 2^(-j/2), j <= 64, must stay normal doubles: for the ramp loss
# M / Lambda = margin, so margin * 2^-32 >= 2.2e-308 needs margin >= 1e-298.
_SMALLEST_MARGIN = 1e-290
# Scales are rounded up to 2^(i/4); past 2^1000 the grid value would overflow a double.
_LARGEST_SCALE = 2.0**1000


def _loss_constants(loss: str, margin: Any, clip: Any) -> tuple[float, float, float]:
    """(parameter, range M, Lipschitz constant Lambda) of the loss; checks its parameter."""
    if loss == "ramp":
        if clip is not None:
            raise InvalidArgumentError("`clip` applies to loss='clipped_squared' only")
        if margin is None:
            raise InvalidArgumentError("`margin` is required for loss='ramp'")
        gamma = check_real(margin, "margin", low=0.0, low_open=True)
        if gamma < _SMALLEST_MARGIN:
            raise InvalidArgumentError(
                f"`margin` must be at least {_SMALLEST_MARGIN:g} (the grid of cover radii, "
                f"margin * 2^-32 and below, would underflow), got {margin!r}"
            )
        return gamma, 1.0, 1.0 / gamma
    if margin is not None:
        raise InvalidArgumentError("`margin` applies to loss='ramp' only")
    if clip is None:
        raise InvalidArgumentError("`clip` is required for loss='clipped_squared'")
    c = check_real(clip, "clip", low=0.0, low_open=True)
    return c, c, 2.0 * math.sqrt(c)


def bounded_loss(
    outputs: Any,
    targets: Any,
    *,
    loss: Loss = "ramp",
    margin: float | None = None,
    clip: float | None = None,
) -> FloatArray:
    r"""The per-sample losses that :func:`compression_bound` is stated for.

    .. math::

        \mathrm{ramp}:\ \ell_\gamma(\hat y, y) = \min(1, \max(0, 1 - y \hat y / \gamma)),
        \qquad
        \mathrm{clipped\_squared}:\ \ell_c(\hat y, y) = \min((\hat y - y)^2, c).

    The ramp loss lies in [0, 1], is 1/gamma-Lipschitz in the output, and bounds the 0-1
    error from above: 1{y yhat <= 0} <= ell_gamma <= 1{y yhat < gamma}. The clipped
    squared loss lies in [0, c] and is 2 sqrt(c)-Lipschitz in the output.

    Parameters
    ----------
    outputs : array_like, 1-D
        Network outputs yhat, finite.
    targets : array_like, 1-D
        Labels y in {-1, +1} for the ramp loss; real targets for the clipped squared loss.
        Same length as ``outputs``.
    loss : {"ramp", "clipped_squared"}
    margin : float > 0
        gamma, required for (and only for) the ramp loss.
    clip : float > 0
        c, required for (and only for) the clipped squared loss.

    Returns
    -------
    ndarray
        The loss of each sample; its mean is the empirical loss.

    Examples
    --------
    >>> bounded_loss([2.0, 0.05, -1.0], [1, 1, 1], margin=0.1).tolist()
    [0.0, 0.5, 1.0]
    """
    loss_name = check_choice(loss, "loss", LOSSES)
    param, _, _ = _loss_constants(loss_name, margin, clip)
    yhat = as_sample(outputs, "outputs")
    y = as_sample(targets, "targets")
    if y.shape != yhat.shape:
        raise InvalidArgumentError(
            f"`targets` must have the length of `outputs` ({yhat.shape[0]}), got {y.shape[0]}"
        )
    if loss_name == "ramp":
        if not np.all(np.abs(y) == 1.0):
            raise InvalidArgumentError("`targets` must be labels in {-1, +1} for the ramp loss")
        return np.asarray(np.clip(1.0 - y * yhat / param, 0.0, 1.0), dtype=np.float64)
    with np.errstate(over="ignore"):
        sq = (yhat - y) ** 2  # inf on overflow, which the clip maps to c
    return np.asarray(np.minimum(sq, param), dtype=np.float64)


def default_kappas(n: int) -> FloatArray:
    """The default grid of kept fractions: 2^(-j/2) for j = 0, 1, ... down to 1/n.

    It depends on the width n alone, so it is fixed before the data are seen, as the union
    bound over kappa requires.
    """
    n = check_int(n, "n", low=1)
    # 2^(-j/2) >= 1/n  <=>  2^j <= n^2: exact in integers.
    top = (n * n).bit_length() - 1
    return np.array([2.0 ** (-j / 2.0) for j in range(top + 1)], dtype=np.float64)


@dataclass(frozen=True)
class CompressionBound:
    """The bound of docs/generalization.md at the best grid point, and its parts.

    With probability at least 1 - delta over the m training samples, simultaneously for
    every network of this width,

        L_D(f) <= L_S(f) + gap_bound,
        gap_bound = compression_term + cover_term + complexity_term.

    Attributes
    ----------
    value : float or None
        train_loss + gap_bound: the bound on the population loss L_D(f); None when no
        ``train_loss`` was given.
    gap_bound : float
        The bound on L_D(f) - L_S(f), minimised over the kappa and radius grids.
    train_loss : float or None
        L_S(f) as given.
    kappa : float
        k / n at the chosen grid point.
    kept : int
        k, the number of units kept.
    compression_term : float
        2 Lambda eps: what pruning costs on the training and on the population loss.
    cover_term : float
        2 Lambda rho: what replacing the pruned network by its nearest cover centre costs.
    complexity_term : float
        M sqrt((log_cover + log_confidence) / (2 m)): Hoeffding's inequality with the union
        bound over the centres and over the grids.
    eps : float
        L B (1/n) sum of the dropped path masses: the sup-norm distance bound between f and
        its pruned network on ||x|| <= B.
    radius : float
        rho, the cover radius chosen from its grid.
    log_cover : float
        log of the number of cover centres.
    log_confidence : float
        log(1/delta') = log(1/delta) + log|K| + log 64 + the scale grid costs.
    n_parameters : int
        q, the free scalars of the pruned class.
    scales : Mapping
        The grid values used as parameter bounds: "A" (None when a is fixed), "Omega",
        "C" (None when the constant is not free).
    kappas, kept_counts, eps_curve, gap_bound_curve : ndarray
        Per point of the kappa grid (distinct k, increasing): k / n, k, eps and the bound
        on the gap minimised over the radius. Read-only.
    loss_range, loss_lipschitz : float
        M and Lambda of the loss.
    vacuous : bool
        True when the bound on L_D(f) (``value``, or ``gap_bound`` when value is None)
        is at least the loss range M, so that it says nothing.
    settings : Mapping
        The inputs that fix the bound: phi, loss, margin or clip, input_radius, m, delta,
        n, d, second_layer ("trained" or "fixed").
    """

    value: float | None
    gap_bound: float
    train_loss: float | None
    kappa: float
    kept: int
    compression_term: float
    cover_term: float
    complexity_term: float
    eps: float
    radius: float
    log_cover: float
    log_confidence: float
    n_parameters: int
    scales: Mapping[str, float | None]
    kappas: FloatArray
    kept_counts: IntArray
    eps_curve: FloatArray
    gap_bound_curve: FloatArray
    loss_range: float
    loss_lipschitz: float
    vacuous: bool
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scales", MappingProxyType(dict(self.scales)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        for name in ("kappas", "kept_counts", "eps_curve", "gap_bound_curve"):
            arr = np.array(getattr(self, name))
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def __str__(self) -> str:
        head = "gap" if self.value is None else f"L_D <= {self.value:.4g}; gap"
        return (
            f"{head} <= {self.gap_bound:.4g} = {self.compression_term:.3g} (pruning) + "
            f"{self.cover_term:.3g} (cover) + {self.complexity_term:.3g} (complexity) "
            f"at kappa = {self.kappa:.3g} (k = {self.kept}, q = {self.n_parameters})"
        )


def compression_bound(
    W: Any,
    a: Any,
    *,
    input_radius: float,
    m: int,
    delta: float,
    loss: Loss = "ramp",
    margin: float | None = None,
    clip: float | None = None,
    phi: Phi = "tanh",
    kappas: Any = None,
    train_loss: float | None = None,
) -> CompressionBound:
    r"""A generalization bound for f(x) = (1/n) sum_i a_i phi(w_i . x) through node pruning.

    For a loss with values in [0, M] that is Lambda-Lipschitz in the output, inputs with
    ||x|| <= B almost surely, and m i.i.d. training samples, with probability at least
    1 - delta, simultaneously for every W and a (docs/generalization.md, the theorem):

    .. math::

        L_D(f) \le L_S(f) + \min_{k \in K,\ \rho \in P}\Big[
            2\Lambda\varepsilon_k + 2\Lambda\rho
            + M\sqrt{\frac{\log N_k(\rho) + \log(1/\delta')}{2m}}\Big],
        \qquad
        \varepsilon_k = \frac{L B}{n}\sum_{i \notin K_k} |a_i|\,\|w_i\|,

    where K_k are the k units of largest path mass |a_i| ||w_i||, L is the Lipschitz
    constant of phi, and

    .. math::

        \log N_k(\rho) = k\log\Big\lceil\frac{q L B A\Omega}{\rho n}\Big\rceil
        + k d \log\Big\lceil\frac{q L B A\Omega}{\rho n\sqrt d}\Big\rceil
        + \log\Big\lceil\frac{q C}{\rho}\Big\rceil,
        \qquad q = k(d + 1) + 1,

    is the log size of a grid cover of the k-unit networks with |a_j| <= A,
    ||w_j|| <= Omega and output constant |c| <= C. The last term and the "+ 1" appear only
    when phi(0) != 0 (the sigmoid), where the pruned network keeps the constant
    phi(0) (1/n) sum_i a_i; when ``a`` is None (second layer fixed at 1) the first term
    drops, A = 1 and q = k d. A, Omega and C are the kept units' largest |a_i|, ||w_i|| and
    |c| rounded up to the grid 2^(i/4); delta is split over that grid, over the radii
    rho = (M/Lambda) 2^(-j/2), j = 1..64, and over the kappa grid, which gives
    log(1/delta') (``log_confidence``).

    Parameters
    ----------
    W : array_like, shape (n, d)
        First layer; row i is unit i's weight vector w_i. Finite.
    a : array_like, shape (n,), or None
        Second layer, finite. None means a_i = 1 for all i, fixed before training (as in
        Wan et al. 2024): then a is not a parameter of the class, and v_i = ||w_i||.
    input_radius : float > 0
        B: the bound needs ||x|| <= B for every input, in training and at test time
        (inputs uniform on the sphere of radius sqrt(d) have B = sqrt(d)). Gaussian
        inputs are unbounded, and the bound does not apply to them.
    m : int >= 1
        Number of i.i.d. training samples.
    delta : float in (0, 1)
        Failure probability.
    loss : {"ramp", "clipped_squared"}
        The loss of :func:`bounded_loss`: ramp (M = 1, Lambda = 1/margin) for labels in
        {-1, +1}, or clipped squared (M = clip, Lambda = 2 sqrt(clip)).
    margin, clip : float > 0
        The loss's parameter (``margin`` for the ramp loss, ``clip`` for the clipped
        squared loss). It must be fixed before the data are seen.
    phi : {"tanh", "relu", "sigmoid", "identity"}
        The activation: L = 1 and phi(0) = 0, except the sigmoid, L = 1/4, phi(0) = 1/2.
    kappas : array_like or None
        The grid of kept fractions, in (0, 1]; each kappa keeps k = ceil(kappa n) units and
        the union bound runs over the distinct k. It must be fixed before the data are
        seen (not read off the trained weights). None: :func:`default_kappas` (n).
    train_loss : float in [0, M] or None
        L_S(f), the mean of :func:`bounded_loss` of the unpruned network over the m
        training samples. When given, ``value`` = train_loss + gap_bound.

    Returns
    -------
    CompressionBound
        The bound, each of its terms, the chosen kappa, and the per-kappa curves.

    Raises
    ------
    InvalidArgumentError
        On invalid input; the message names the argument.

    Notes
    -----
    The toolkit's own derivation, from the sup-norm pruning error, the Lipschitz loss, a
    parameter-grid cover with Hoeffding's inequality and a union bound over fixed grids,
    in the spirit of Arora, Ge, Neyshabur & Zhang (ICML 2018, Thm 2.1). Each step and its
    numerical check are in docs/generalization.md. Not checked here: that the inputs
    satisfy ||x|| <= B, that the samples are i.i.d., or that the margin and the kappa grid
    were fixed in advance; the bound is void if any of these fails.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> W, a = rng.standard_normal((64, 3)), rng.standard_normal(64)
    >>> res = compression_bound(W, a, input_radius=np.sqrt(3), m=10**6, delta=0.05,
    ...                         margin=0.5, phi="tanh")
    >>> bool(res.gap_bound > 0), res.kept in res.kept_counts
    (True, True)
    """
    loss_name = check_choice(loss, "loss", LOSSES)
    phi_name = check_choice(phi, "phi", ACTIVATIONS)
    param, big_m, lam = _loss_constants(loss_name, margin, clip)
    w, av = check_network(W, a)
    b = check_real(input_radius, "input_radius", low=0.0, low_open=True)
    m = check_int(m, "m", low=1)
    delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    if train_loss is not None:
        train_loss = check_real(train_loss, "train_loss", low=0.0, high=big_m)
    n, d = w.shape
    grid = default_kappas(n) if kappas is None else as_kappas(kappas)
    if grid.ndim != 1 or grid.size == 0:
        raise InvalidArgumentError("`kappas` must be a non-empty 1-D array")
    ks = np.unique(kept_counts(grid, n))

    act = ACTIVATIONS[phi_name]
    lip = act.lipschitz
    v = path_mass(w, av)
    with np.errstate(over="ignore"):  # inf here makes the bound inf, refused below
        eps = lip * b * (dropped_path_mass(v, ks) / n)

    # Scales of the kept units: running maxima along the order of decreasing path mass.
    order = unit_order(v)
    with np.errstate(over="ignore"):
        w_norms = np.linalg.norm(w, axis=1)
    if not np.all(np.isfinite(w_norms)):
        raise InvalidArgumentError("the row norms of `W` overflow the double range")
    if float(np.max(w_norms)) > _LARGEST_SCALE:
        raise InvalidArgumentError("the row norms of `W` must be at most 2^1000")
    if av is not None and float(np.max(np.abs(av))) > _LARGEST_SCALE:
        raise InvalidArgumentError("the entries of `a` must be at most 2^1000 in magnitude")
    omega_run = np.maximum.accumulate(w_norms[order])
    a_run = None if av is None else np.maximum.accumulate(np.abs(av)[order])
    c_index: int | None = None
    c_value = 0.0
    if av is not None and act.at_zero != 0.0:
        top = float(np.max(np.abs(av)))
        # The mean of a / max|a| lies in [-1, 1]: no overflow, whatever the entries.
        c_value = 0.0 if top == 0.0 else act.at_zero * top * float(np.mean(av / top))
        c_index = scale_index(abs(c_value))

    radii = radius_grid(big_m / lam)
    best_per_k = np.empty(ks.size)
    best: tuple[float, ...] | None = None
    best_detail: dict[str, Any] = {}
    for pos, k in enumerate(ks.tolist()):
        i_w = scale_index(float(omega_run[k - 1]))
        i_a = None if a_run is None else scale_index(float(a_run[k - 1]))
        indices = tuple(i for i in (i_a, i_w, c_index) if i is not None)
        log_conf = log_confidence(delta, int(ks.size), indices)
        row_best = math.inf
        for rho in radii:
            cover = cover_grid(
                k,
                d,
                n,
                lipschitz=lip,
                input_radius=b,
                radius=rho,
                a_scale=None if i_a is None else scale_value(i_a),
                w_scale=scale_value(i_w),
                c_scale=None if c_index is None else scale_value(c_index),
            )
            complexity = big_m * math.sqrt((cover.log_count + log_conf) / (2.0 * m))
            total = 2.0 * lam * float(eps[pos]) + 2.0 * lam * rho + complexity
            row_best = min(row_best, total)
            if best is None or total < best[0]:
                best = (total,)
                best_detail = {
                    "pos": pos,
                    "k": k,
                    "rho": rho,
                    "cover": cover,
                    "complexity": complexity,
                    "log_conf": log_conf,
                    "scales": {
                        "A": None if i_a is None else scale_value(i_a),
                        "Omega": scale_value(i_w),
                        "C": None if c_index is None else scale_value(c_index),
                    },
                }
        best_per_k[pos] = row_best

    assert best is not None  # ks is non-empty
    gap = best[0]
    if not math.isfinite(gap):
        raise InvalidArgumentError(
            "the bound overflows the double range: `input_radius` times the path masses "
            "of `W` and `a`, or `clip`, is too large"
        )
    pos = best_detail["pos"]
    value = None if train_loss is None else train_loss + gap
    settings = {
        "phi": phi_name,
        "loss": loss_name,
        ("margin" if loss_name == "ramp" else "clip"): param,
        "input_radius": b,
        "m": m,
        "delta": delta,
        "n": n,
        "d": d,
        "second_layer": "fixed" if av is None else "trained",
        "output_constant": c_value,
    }
    return CompressionBound(
        value=value,
        gap_bound=gap,
        train_loss=train_loss,
        kappa=best_detail["k"] / n,
        kept=best_detail["k"],
        compression_term=2.0 * lam * float(eps[pos]),
        cover_term=2.0 * lam * best_detail["rho"],
        complexity_term=best_detail["complexity"],
        eps=float(eps[pos]),
        radius=best_detail["rho"],
        log_cover=best_detail["cover"].log_count,
        log_confidence=best_detail["log_conf"],
        n_parameters=best_detail["cover"].n_parameters,
        scales=best_detail["scales"],
        kappas=ks / n,
        kept_counts=ks,
        eps_curve=eps,
        gap_bound_curve=best_per_k,
        loss_range=big_m,
        loss_lipschitz=lam,
        vacuous=(gap if value is None else value) >= big_m,
        settings=settings,
    )
