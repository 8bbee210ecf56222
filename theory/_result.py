"""Result type of every tail-index estimator."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["TailEstimate"]


@dataclass(frozen=True)
class TailEstimate:
    """A tail-index estimate with its 95% interval.

    Attributes
    ----------
    alpha : float
        The estimate. Inside heavytail ``alpha`` is always the tail index of the
        magnitude's survival function, P(|X| > t) ~ C t^(-alpha); for stable-law
        estimators it is the stable index, which is the same number when alpha < 2.
    ci : tuple of float
        A 95% interval (low, high) for ``alpha``. ``high`` may be ``inf`` when the data
        cannot bound the index from above (e.g. Gaussian-like data).
    method : str
        The estimator that produced ``alpha`` (for ``"auto"``, the route it chose is in
        ``settings["route"]``).
    estimand : str
        ``"tail index"`` (order-statistic estimators) or ``"stable index"``
        (estimators that assume a stable law).
    n : int
        Number of observations used.
    settings : Mapping
        The settings actually used: k, block sizes, bootstrap replicates, ...
        Read-only.
    warnings : tuple of str
        Diagnostics that cast doubt on the estimate. Empty when none fired.
    """

    alpha: float
    ci: tuple[float, float]
    method: str
    estimand: str
    n: int
    settings: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        object.__setattr__(self, "ci", (float(self.ci[0]), float(self.ci[1])))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        if not math.isfinite(self.alpha):
            raise ValueError(f"TailEstimate.alpha must be finite, got {self.alpha}")

    @property
    def xi(self) -> float:
        """The extreme-value index 1/alpha."""
        return 1.0 / self.alpha

    def __str__(self) -> str:
        lo, hi = self.ci
        flag = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        return f"alpha = {self.alpha:.3f} [{lo:.3f}, {hi:.3f}] ({self.method}{flag})"
