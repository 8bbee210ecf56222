"""The heavy-tailed noise that both simulators can add after every SGD step."""

from __future__ import annotations

import math
from dataclasses import dataclass

from heavytail._lib._doc import fill_doc
from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._noise_kinds import NOISE_KINDS_DOC, NoiseKind, check_noise_kind
from heavytail._lib._validation import check_real

__all__ = ["InjectedNoise", "noise_factor"]


@fill_doc({"kind": NOISE_KINDS_DOC})
@dataclass(frozen=True)
class InjectedNoise:
    """Heavy-tailed noise added after every SGD step (Wan et al., ICML 2024).

    After each step, x <- x + scale * eta^(1/alpha) * L (docs/theory.md, section 6), the
    Euler scheme of an SDE driven by alpha-stable noise. Taken by
    :func:`sgd_linear_regression` (the iterate x is one unit) and by
    :func:`mean_field_sgd` (unit i is the row w_i of the first layer; the second layer
    receives no noise).

    Parameters
    ----------
    alpha : float
        Stable index, in (0, 2]. A draw of L exceeds the simulator's divergence bound
        with probability of order bound^(-alpha), which long runs reach for very small
        alpha; such chains or replicates are reported as diverged.
    scale : float
        The factor in front of eta^(1/alpha) L, in (0, inf).
    %(kind)s
    """

    alpha: float
    scale: float
    kind: NoiseKind = "iid"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "alpha", check_real(self.alpha, "alpha", low=0.0, high=2.0, low_open=True)
        )
        object.__setattr__(self, "scale", check_real(self.scale, "scale", low=0.0, low_open=True))
        check_noise_kind(self.kind)


def noise_factor(noise: InjectedNoise, eta: float, bound: float) -> float:
    """scale * eta^(1/alpha), refused unless it lies in (1e-300, ``bound``).

    Computed in log space: for small alpha the factor can overflow (noise beyond the
    divergence bound at every step) or underflow to 0 (noise silently switched off);
    both are refused, naming ``injected_noise``.
    """
    if not isinstance(noise, InjectedNoise):
        raise InvalidArgumentError(
            f"`injected_noise` must be a heavytail.simulate.InjectedNoise or None, got "
            f"{type(noise).__name__}"
        )
    log_factor = math.log(noise.scale) + math.log(eta) / noise.alpha
    if not math.log(1e-300) < log_factor < math.log(bound):
        raise InvalidArgumentError(
            "`injected_noise` factor scale * eta^(1/alpha) must be in "
            f"(1e-300, {bound:g}), got exp({log_factor:.4g}) with "
            f"alpha = {noise.alpha:g}, eta = {eta:g}"
        )
    return math.exp(log_factor)
