"""What the experiments share: ``eps``, ``hill_fraction`` and ``seed``, Hill's k and
estimate, and the domains of the step size and of the injected noise.

Each domain is that of the library function the setting feeds
(``tests/reports/sweeps/test_sweep_domains.py`` checks each bound against the function),
so that a value the function would refuse, or quietly change, is refused by the sweep's
config check before any run starts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._noise_kinds import NOISE_KINDS, NoiseKind
from heavytail.theory import estimate_tail_index, k_of_fraction

from ..experiment import MetricValue, Setting

__all__ = [
    "POSITIVE",
    "STABLE_INDEX",
    "Setting",
    "common_settings",
    "hill_k",
    "hill_metrics",
    "noise_alpha_setting",
    "noise_kind_setting",
]

#: A step size or a scale: > 0 (``sgd_linear_regression``, ``mean_field_sgd``,
#: ``heavytail.nn.train``, ``heavytail.simulate.InjectedNoise.scale``).
POSITIVE: dict[str, Any] = {"low": 0, "low_open": True}
#: An injected noise's stable index: (0, 2] (``heavytail.simulate.InjectedNoise``,
#: ``heavytail.nn.InjectedNoise``), or 0 for no noise.
STABLE_INDEX: dict[str, Any] = {"low": 0, "high": 2, "low_open": True, "off": 0}


def hill_k(fraction: float, n: int, of: str) -> int:
    """k = round(``fraction`` n) (:func:`heavytail.theory.k_of_fraction`, the rule the claims
    use too), refused (never raised to 2) when below 2; ``of``: what n is."""
    try:
        return k_of_fraction(n, fraction, minimum=2)
    except InvalidArgumentError:
        k = round(fraction * n)
        raise InvalidArgumentError(
            f"hill_fraction = {fraction!r} of the {n} magnitudes ({of}) gives k = {k}; "
            f"Hill's estimator needs k >= 2, so hill_fraction >= {2 / n:.3g}"
        ) from None


def hill_metrics(magnitudes: npt.ArrayLike, fraction: float, of: str) -> dict[str, MetricValue]:
    """Hill's tail index of ``|magnitudes|`` (flattened) from its top ``fraction``
    (k from :func:`hill_k`; ``of``: what the magnitudes are): ``tail_index``, its 95%
    interval ``tail_index_low`` and ``tail_index_high``, and ``tail_k``."""
    x = np.abs(np.ravel(magnitudes))
    k = hill_k(fraction, x.size, of)
    est = estimate_tail_index(x, method="hill", k=k)
    return {
        "tail_index": est.alpha,
        "tail_index_low": est.ci[0],
        "tail_index_high": est.ci[1],
        "tail_k": k,
    }


def noise_alpha_setting() -> Setting:
    """``noise_alpha``: the injected noise's stable index, in (0, 2], or 0 for none (every
    experiment that injects noise declares it the same way)."""
    return Setting(
        "noise_alpha",
        "float",
        0.0,
        "injected stable noise index, in (0, 2]; 0: none",
        **STABLE_INDEX,
    )


def noise_kind_setting(default: NoiseKind) -> Setting:
    """``noise_kind``: how the injected noise is drawn, one of the kinds that
    ``heavytail.simulate.InjectedNoise`` and ``heavytail.nn.InjectedNoise`` take ("unit",
    "iid", "elliptic": Wan et al.'s types 1, 2, 3)."""
    return Setting(
        "noise_kind",
        "str",
        default,
        'injected noise kind: "unit", "iid" or "elliptic" (Wan et al.\'s types 1, 2, 3)',
        choices=NOISE_KINDS,
    )


def common_settings() -> tuple[Setting, ...]:
    """``eps``, ``hill_fraction`` and ``seed``, shared by the experiments that measure tails.

    ``eps`` is narrower than :func:`heavytail.theory.prunable_fraction`'s [0, 1]: at 0 it
    counts the units that are exactly zero, and at 1 it is trivially 1.0; neither is a
    compressibility measurement.
    """
    return (
        Setting(
            "eps",
            "float",
            0.1,
            "relative error of the prunable fraction, in (0, 1) (0 would count the units "
            "that are exactly zero, 1 gives 1.0 trivially)",
            low=0,
            high=1,
            low_open=True,
            high_open=True,
        ),
        Setting(
            "hill_fraction",
            "float",
            0.1,
            "share of the largest magnitudes used by Hill's estimator, in (0, 1]; it must "
            "give k >= 2",
            low=0,
            high=1,
            low_open=True,
        ),
        Setting("seed", "int", 0, "the run's seed (>= 0): its only randomness", low=0),
    )
