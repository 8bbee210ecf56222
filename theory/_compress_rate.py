"""Rates for power tails: the exponent of the relative error and its finite-n mean.

docs/theory.md, section 1 ("Rate"); derivations in docs/compressibility.md, sections 2
and 3. For i.i.d. entries with P(|X| > t) ~ c t^(-alpha), alpha < p, the relative best
k-term error decays like n^(1/p - 1/alpha) (:func:`compressibility_exponent`), and for
exact Pareto entries its mean has a closed form through the negative moments of a
positive (alpha/p)-stable law (:func:`expected_relative_error`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import special

from heavytail._lib._errors import EstimationError, EstimationWarning, InvalidArgumentError
from heavytail._lib._validation import check_int, check_real

from ._compress import check_kappa, check_p, check_reciprocal, kept_count

__all__ = ["compressibility_exponent", "expected_relative_error"]


def compressibility_exponent(alpha: float, p: float = 2.0) -> float:
    r"""Exponent r in relative error ~ n^r (a random O(1) factor) for tail index alpha.

    For i.i.d. entries with P(|X| > t) ~ c t^(-alpha):

    .. math::

        r = \frac1p - \frac1\alpha \quad (\alpha < p), \qquad r = 0 \quad (\alpha \ge p).

    For alpha < p the error tends to 0 like n^r (docs/theory.md, section 1, "Rate";
    derivation in docs/compressibility.md, section 2). For alpha > p it tends to G_p > 0 (see
    :func:`limit_relative_error`). At alpha = p the error still tends to 0, but like
    (log n)^(-1/p), slower than any power, so the exponent is 0.

    Parameters
    ----------
    alpha : float
        Tail index of |X|, finite and at least 1 / 1.797e308 = 5.56e-309 (so that
        1 / alpha is a finite double).
    p : float, optional
        Norm index, finite and at least 5.56e-309, for the same reason.

    Returns
    -------
    float
        r <= 0, finite.

    Raises
    ------
    InvalidArgumentError
        ``alpha`` or ``p`` outside its domain; the message names it.

    Examples
    --------
    >>> compressibility_exponent(1.0)
    -0.5
    """
    alpha = check_reciprocal(alpha, "alpha")
    p = check_reciprocal(p, "p")
    return 1.0 / p - 1.0 / alpha if alpha < p else 0.0


# Above this p / alpha, q / beta = q^2 in the stable moments overflows a double.
_MAX_Q = 1e150


def _log_negative_stable_moment(q: float, beta: float) -> float:
    """log E[S^-q] for the positive beta-stable S with E exp(-lam S) = exp(-Gamma(1-beta) lam^beta).

    E S^-q = Gamma(1 + q / beta) / Gamma(1 + q) Gamma(1 - beta)^(-q / beta), from
    S^-q = (1 / Gamma(q)) int_0^inf lam^(q-1) e^(-lam S) d lam (docs/compressibility.md,
    section 3). In logs: for small beta the factors overflow separately.
    """
    with np.errstate(all="ignore"):  # overflow is reported by the caller's check
        return float(
            special.gammaln(1.0 + q / beta)
            - special.gammaln(1.0 + q)
            - (q / beta) * special.gammaln(1.0 - beta)
        )


def expected_relative_error(
    alpha: float,
    n: int,
    kappa: float,
    p: float = 2.0,
    *,
    correction: bool = True,
) -> float:
    r"""Predicted mean relative error of n i.i.d. exact-Pareto entries, alpha < p.

    For P(|X| > t) = (t / t0)^(-alpha), t >= t0 (the error does not depend on t0), and
    q = p / alpha > 1, k = the kept count of :func:`relative_error`, the derivation in
    docs/compressibility.md (section 3) gives

    .. math::

        E\Big[\frac{\sigma_k(x)_p}{\|x\|_p}\Big] \approx A^{1/p}
        \Big(M(1/p) + \frac{r}{p} M(1/p + 1)\Big),

        A = \frac{(k + \tfrac12)^{1-q} - (n + \tfrac12)^{1-q}}{q - 1}, \quad
        r = \frac{(n + \tfrac12)^{1-q}}{q - 1}, \quad
        M(s) = \frac{\Gamma(1 + s q)}{\Gamma(1 + s)}\,\Gamma(1 - 1/q)^{-s q}.

    A is the (nearly deterministic) sum of the n - k smallest |X_i|^p in the units of
    the Renyi representation, M(s) = E S^-s is a negative moment of the positive
    (alpha/p)-stable limit S of the whole sum, and the r term is the first-order
    correction for the part of S that n terms do not reach. As n grows the value is
    n^(1/p - 1/alpha) ((kappa^(1-q) - 1) / (q - 1))^(1/p) M(1/p) (1 + o(1)): the rate of
    :func:`compressibility_exponent`.

    The mean (not the median) is predicted because it has this closed form through the
    negative moments of S, because the error lies in [0, 1] so every moment exists, and
    because a mean over replicates has a normal-theory interval to test it against.

    Parameters
    ----------
    alpha : float
        Tail index, in (0, p): the compressible regime. For alpha >= p use
        :func:`limit_relative_error` with ``scipy.stats.pareto(alpha)``.
    n : int
        Vector length, >= 1.
    kappa : float
        Fraction kept, in (0, 1].
    p : float, optional
        Norm index, finite and > 0.
    correction : bool, optional
        Include the first-order finite-n correction (default). False gives the leading
        term A^(1/p) M(1/p) alone.

    Returns
    -------
    float
        The predicted mean, in [0, 1].

    Raises
    ------
    InvalidArgumentError
        Arguments outside their domains, or alpha >= p.
    EstimationError
        When p / alpha > 1e150: the moments of the stable limit overflow a double.

    Warns
    -----
    EstimationWarning
        When the correction exceeds 10% of the leading term: the neglected second-order
        term is then of order 1% or more, and the approximation should not be trusted
        (alpha close to p, or small n).

    Examples
    --------
    >>> round(expected_relative_error(1.0, 10_000, 0.1), 4)
    0.0191
    """
    alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
    n = check_int(n, "n", low=1)
    kappa = check_kappa(kappa)
    p = check_p(p)
    if not isinstance(correction, bool | np.bool_):
        raise InvalidArgumentError(
            f"`correction` must be True or False, got {type(correction).__name__}"
        )
    if not alpha < p:
        raise InvalidArgumentError(
            f"`alpha` must be in (0, p) = (0, {p:g}) (the compressible regime), got {alpha!r}; "
            "for alpha >= p use limit_relative_error"
        )
    k = kept_count(kappa, n)
    if k == n:
        return 0.0
    q = p / alpha
    if not q < _MAX_Q:
        raise EstimationError(
            f"`alpha` = {alpha!r} is too small against p = {p:g}: the moments of the "
            "stable limit overflow"
        )
    if not q > 1.0:
        raise EstimationError(
            f"`alpha` = {alpha!r} is within rounding of p = {p:g}: p / alpha is 1 in double "
            "precision, where the finite-n terms diverge"
        )
    beta = 1.0 / q
    # log A, A = ((k + 1/2)^(1-q) - (n + 1/2)^(1-q)) / (q - 1), without underflow when q
    # is large: (k + 1/2)^(1-q) (1 - ((n + 1/2) / (k + 1/2))^(1-q)) / (q - 1). The log of
    # (n + 1/2) / (k + 1/2) from the exact integer n - k: for n near 2^53, n + 0.5 and
    # k + 0.5 may round to the same double.
    log_ratio = (1.0 - q) * math.log1p((n - k) / (k + 0.5))  # < 0
    log_a = (1.0 - q) * math.log(k + 0.5) + math.log(-math.expm1(log_ratio)) - math.log(q - 1.0)
    log_lead = _log_negative_stable_moment(1.0 / p, beta)
    if not math.isfinite(log_lead):
        # 1 / p huge: log M(1/p) = log Gamma(1 + q / p) - ... overflows.
        raise EstimationError(
            f"`p` = {p!r} is too small (with `alpha` = {alpha!r}): the negative moment "
            "M(1/p) of the stable limit overflows a double"
        )
    log_mean = log_lead
    if correction:
        # log of the correction's ratio to the leading moment: (r / p) M(1/p + 1) / M(1/p).
        log_r = (1.0 - q) * math.log(n + 0.5) - math.log(q - 1.0)
        log_rel = log_r - math.log(p) + _log_negative_stable_moment(1.0 / p + 1.0, beta) - log_lead
        if math.isnan(log_rel):
            raise EstimationError(
                f"`p` = {p!r} is too small (with `alpha` = {alpha!r}): the moment "
                "M(1/p + 1) of the finite-n correction overflows a double"
            )
        rel = math.exp(min(log_rel, 700.0))
        if rel > 0.1:
            warnings.warn(
                f"the finite-n correction is {rel:.3g} times the leading term "
                f"(alpha = {alpha:g}, p = {p:g}, n = {n}): the approximation is unreliable",
                EstimationWarning,
                stacklevel=2,
            )
        log_mean += math.log1p(rel)
    log_value = log_a / p + log_mean
    return float(math.exp(min(log_value, 0.0)))
