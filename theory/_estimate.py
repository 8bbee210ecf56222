"""``estimate_tail_index``: one entry point to every estimator of the tail index.

The method's name picks the estimator, and its options are checked against the ones
that estimator takes. The "auto" rule, which avoids the traps of docs/theory.md,
section 4, is :func:`auto_estimator` (:mod:`._auto_estimate`, whose notes describe
it step by step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_choice

from ._auto_estimate import auto_estimator
from ._auto_route import (
    _xi_se_deterministic as _xi_se_deterministic,  # docs/route_rules.py reads it here
)
from ._block_sum import block_sum_estimator
from ._hill import hill_estimator
from ._moment import moment_estimator
from ._pickands import pickands_estimator
from ._quantile import quantile_estimator
from ._result import TailEstimate

__all__ = ["METHODS", "estimate_tail_index"]

METHODS = ("auto", "hill", "pickands", "moment", "block_sum", "quantile")


def estimate_tail_index(x: Any, method: str = "auto", **options: Any) -> TailEstimate:
    """Estimate the tail index alpha of |X| from a sample.

    Parameters
    ----------
    x : array_like
        The sample: 1-D, real and finite (2-D (n, d) only for ``"block_sum"``, whose
        multivariate version uses vector norms).
    method : {"auto", "hill", "pickands", "moment", "block_sum", "quantile"}
        - ``"hill"``, ``"pickands"``, ``"moment"``: order-statistic estimators of the
          tail index (options: ``k``, ``k_grid``; k chosen by the minimum-KS rule when
          not given).
        - ``"block_sum"``: Mohammadi-Mohammadpour-Ogata (2015) for centred, strictly
          stable data (option: ``block_size``).
        - ``"quantile"``: McCulloch's (1986) quantile fit of a stable law (options:
          ``n_boot``, ``rng``).
        - ``"auto"``: chooses between the stable-law route and the tail-exponent route
          by a goodness-of-fit test (:func:`stable_goodness_of_fit`), and cross-checks
          (options: ``n_boot``, ``rng``; at least 100 observations). See the module
          notes.

        Only ``"quantile"`` and ``"auto"`` draw random numbers (bootstrap), so only they
        accept ``rng``; passing ``rng`` to another method is an unknown-option error.
    **options
        Passed to the chosen estimator; unknown options are an error. Every method
        accepts the keyword ``center``: None (default; |x| is read from 0, bit for bit
        as without the option), ``"median"`` (the sample median is subtracted first) or a
        real number (subtracted first). Layer weights and other data with a non-zero
        location need it: a shift biases the order-statistic estimators and the
        block-sum estimator at finite n (docs/estimators.md, "Centring", gives the
        measured bias). Given a centre, the data are taken as centred there (no
        "uncentred" warning). It is recorded in ``settings["center"]`` and
        ``settings["center_value"]``. For ``"quantile"`` the location does not matter:
        the fit estimates it.

    Returns
    -------
    TailEstimate
        ``alpha``, its 95% interval ``ci``, the ``method``, the ``estimand`` ("tail
        index" or "stable index"), the ``settings`` used and the ``warnings``. For
        ``"auto"``, ``settings["route"]`` is ``"stable"`` or ``"tail"`` and
        ``settings["estimator"]`` names the estimator behind ``alpha``.

    Raises
    ------
    InvalidArgumentError
        Bad ``x``, ``method`` or options.
    EstimationError
        Valid data from which the chosen estimator cannot produce a finite estimate.

    Examples
    --------
    >>> from heavytail.theory import estimate_tail_index, sample_stable
    >>> x = sample_stable(1.5, 20_000, rng=0)
    >>> est = estimate_tail_index(x, rng=0)
    >>> est.settings["route"], abs(est.alpha - 1.5) < 0.1
    ('stable', True)
    """
    check_choice(method, "method", METHODS)
    estimator, allowed = _DISPATCH[method]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        listed = ", ".join(f"`{name}`" for name in unknown)
        valid = ", ".join(f"`{name}`" for name in allowed) or "none"
        raise InvalidArgumentError(
            f"unknown option(s) {listed} for method {method!r}; valid options: {valid}"
        )
    return estimator(x, **options)


_DISPATCH: Mapping[str, tuple[Callable[..., TailEstimate], tuple[str, ...]]] = {
    "auto": (auto_estimator, ("n_boot", "rng", "center")),
    "hill": (hill_estimator, ("k", "k_grid", "center")),
    "pickands": (pickands_estimator, ("k", "k_grid", "center")),
    "moment": (moment_estimator, ("k", "k_grid", "center")),
    "block_sum": (block_sum_estimator, ("block_size", "center")),
    "quantile": (quantile_estimator, ("n_boot", "rng", "center")),
}
