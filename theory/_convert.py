"""Conversions between the meanings of "alpha" (docs/design.md, "Meaning of alpha").

Inside heavytail, ``alpha`` is always the tail index of the magnitude's survival
function, P(|X| > t) ~ C t^(-alpha). The other quantities that go by "alpha" or that
carry the same information, and their relation to it:

============================  ==============================  =====================
quantity                      definition                      relation to alpha
============================  ==============================  =====================
survival tail index (ours)    P(|X| > t) ~ C t^(-alpha)       alpha
pdf exponent (``powerlaw``,   p(t) ~ C' t^(-a)                a = alpha + 1
Clauset et al. 2009)
extreme-value index xi        Frechet domain, GEV shape xi    xi = 1 / alpha
(Hill's gamma)
stable index                  E exp(itX) = exp(-|ct|^a)       a = alpha if alpha < 2;
                                                              a = 2 for every law of
                                                              finite variance
                                                              (alpha >= 2 or light)
eigenvalue-density exponent   rho(lambda) ~ lambda^(-mu)      mu = alpha / 2 + 1 for
(WeightWatcher, Martin &      of W^T W, W with i.i.d.         alpha < 2
Mahoney 2021)                 entries of tail index alpha
============================  ==============================  =====================

Notes on the last two:

- The stable index is the index of the stable law in whose domain of attraction X lies.
  A law of tail index alpha < 2 (with balanced tails) is attracted to the alpha-stable
  law; a law with finite variance, which includes every tail index above 2, is attracted
  to the Gaussian (stable index 2). So the map alpha -> stable index is min(alpha, 2),
  and it cannot be inverted at 2: a stable index of 2 says only that the tail index is
  at least 2 (or that the tail is lighter than any power). The boundary case alpha = 2
  (infinite variance, but Gaussian limit with a log-corrected norming) also maps to 2.
- For an N x M matrix W with i.i.d. entries of tail index alpha < 2, the eigenvalues
  lambda of W^T W / N follow a heavy-tailed density rho(lambda) ~ lambda^(-(1 + alpha/2))
  (Ben Arous & Guionnet 2008, heavy-tailed random matrices; the relation used by Martin
  & Mahoney 2021, "Implicit self-regularization in deep neural networks", JMLR 22,
  Table 1): a squared entry has tail index alpha / 2, and the largest eigenvalues track
  the largest squared entries. WeightWatcher's fitted exponent mu is the pdf exponent
  of the eigenvalues, so mu = alpha / 2 + 1. For alpha >= 2 the limiting spectrum is
  Marchenko-Pastur, with no power-law tail; Martin & Mahoney report for 2 < alpha < 4
  only an empirical, size-dependent relation, so the map is refused there.

All functions accept floats or arrays and return the same kind; they check their domains
and raise :class:`InvalidArgumentError` naming the argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._types import FloatArray

__all__ = [
    "esd_exponent_from_tail_index",
    "ev_index_from_tail_index",
    "pdf_exponent_from_tail_index",
    "stable_index_from_tail_index",
    "tail_index_from_esd_exponent",
    "tail_index_from_ev_index",
    "tail_index_from_pdf_exponent",
]


def _as_values(value: Any, name: str) -> FloatArray:
    """Real, finite values as a float64 array (0-D for a scalar), or raise naming ``name``."""
    if isinstance(value, bool | np.bool_):
        raise InvalidArgumentError(f"`{name}` must be a real number, got bool")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"`{name}` must be a real number or array: {exc}") from exc
    if arr.dtype.kind == "c":
        raise InvalidArgumentError(f"`{name}` must be real, got a complex value")
    if arr.dtype.kind not in "fiu":
        raise InvalidArgumentError(f"`{name}` must be a real number or array, got {arr.dtype}")
    out = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise InvalidArgumentError(f"`{name}` must be finite, got {value!r}")
    return out


def _require(ok: Any, name: str, rule: str, value: Any) -> None:
    if not np.all(ok):
        raise InvalidArgumentError(f"`{name}` must be {rule}, got {value!r}")


def _out(arr: FloatArray, like: Any) -> Any:
    """A float for scalar input, the array otherwise."""
    return float(arr) if np.ndim(like) == 0 else arr


def pdf_exponent_from_tail_index(alpha: Any) -> Any:
    """The pdf exponent a = alpha + 1 of a density p(t) ~ C t^(-a) (``powerlaw``'s alpha).

    If P(X > t) ~ C t^(-alpha), then p(t) = -d/dt P(X > t) ~ C alpha t^(-(alpha + 1))
    (Clauset, Shalizi & Newman 2009, eq. (2.2)). ``alpha`` > 0.
    """
    a = _as_values(alpha, "alpha")
    _require(a > 0, "alpha", "> 0", alpha)
    return _out(a + 1.0, alpha)


def tail_index_from_pdf_exponent(pdf_exponent: Any) -> Any:
    """The tail index alpha = a - 1 from a pdf exponent a > 1 (``powerlaw.Fit().alpha``)."""
    a = _as_values(pdf_exponent, "pdf_exponent")
    _require(a > 1, "pdf_exponent", "> 1 (a density t^(-a) is integrable only then)", pdf_exponent)
    return _out(a - 1.0, pdf_exponent)


# The smallest positive value whose reciprocal is a finite double: 1 / 1.797e308.
_MIN_RECIPROCAL = 1.0 / float(np.finfo(np.float64).max)


def ev_index_from_tail_index(alpha: Any) -> Any:
    """The extreme-value index xi = 1 / alpha (Hill's gamma; the GEV shape).

    ``alpha`` >= 5.56e-309 (= 1 / 1.797e308, so that 1 / alpha is a finite double).
    """
    a = _as_values(alpha, "alpha")
    _require(a > 0, "alpha", "> 0", alpha)
    _require(
        a >= _MIN_RECIPROCAL, "alpha", f">= {_MIN_RECIPROCAL:.3g} (1 / alpha overflows)", alpha
    )
    return _out(1.0 / a, alpha)


def tail_index_from_ev_index(xi: Any) -> Any:
    """The tail index alpha = 1 / xi from a positive extreme-value index.

    ``xi`` must be > 0: xi <= 0 (Gumbel or Weibull domains: light or bounded tails) means
    that no finite tail index exists, and is refused rather than mapped to inf or a
    negative number. Below 5.56e-309 (= 1 / 1.797e308) 1 / xi overflows, and is refused.
    """
    x = _as_values(xi, "xi")
    _require(x > 0, "xi", "> 0 (xi <= 0 has no finite tail index)", xi)
    _require(x >= _MIN_RECIPROCAL, "xi", f">= {_MIN_RECIPROCAL:.3g} (1 / xi overflows)", xi)
    return _out(1.0 / x, xi)


def stable_index_from_tail_index(alpha: Any) -> Any:
    """The index of the stable law attracting a law of tail index alpha: min(alpha, 2).

    Tail index alpha < 2 (balanced tails) lies in the domain of attraction of the
    alpha-stable law; alpha >= 2 (finite variance, or the boundary case alpha = 2) of the
    Gaussian, stable index 2 (Feller 1971, XVII.5; Samorodnitsky & Taqqu 1994). There is
    no inverse: stable index 2 covers every alpha >= 2. ``alpha`` > 0.
    """
    a = _as_values(alpha, "alpha")
    _require(a > 0, "alpha", "> 0", alpha)
    return _out(np.minimum(a, 2.0), alpha)


def esd_exponent_from_tail_index(alpha: Any) -> Any:
    """WeightWatcher's eigenvalue-density exponent mu = alpha / 2 + 1, for 0 < alpha < 2.

    See the module notes (Martin & Mahoney 2021, Table 1). For alpha >= 2 the limiting
    spectrum is Marchenko-Pastur with no power-law tail, so the map is refused.
    """
    a = _as_values(alpha, "alpha")
    _require(
        (a > 0) & (a < 2),
        "alpha",
        "in (0, 2) (for alpha >= 2 the ESD has no power-law tail)",
        alpha,
    )
    return _out(a / 2.0 + 1.0, alpha)


def tail_index_from_esd_exponent(mu: Any) -> Any:
    """The entries' tail index alpha = 2 (mu - 1) from an ESD exponent mu in (1, 2)."""
    m = _as_values(mu, "mu")
    _require((m > 1) & (m < 2), "mu", "in (1, 2)", mu)
    return _out(2.0 * (m - 1.0), mu)
