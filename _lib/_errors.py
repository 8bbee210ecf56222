"""The one module of heavytail's exceptions and warnings.

Every error is a subclass of a builtin (``ValueError``), so that callers who catch the
builtin keep working; every warning is our own class, so that users can filter them.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "DivergenceWarning",
    "EstimationError",
    "EstimationWarning",
    "HeavytailError",
    "HeavytailWarning",
    "InvalidArgumentError",
    "NoStationaryLawError",
]


class HeavytailError(Exception):
    """Base class of every error raised by heavytail."""


class InvalidArgumentError(HeavytailError, ValueError):
    """An argument breaks its documented rule; the message names the argument and the rule."""


class EstimationError(HeavytailError, ValueError):
    """The data are valid but the requested quantity cannot be estimated from them.

    Example: an extreme-value index estimate that is not positive, so that no finite
    tail index exists for the data.
    """


class NoStationaryLawError(HeavytailError, ValueError):
    """A recursion has no stationary law at these parameters (top Lyapunov exponent >= 0)."""


class HeavytailWarning(UserWarning):
    """Base class of every warning issued by heavytail."""


class EstimationWarning(HeavytailWarning):
    """An estimate was produced, but a diagnostic casts doubt on it."""


class DivergenceWarning(HeavytailWarning, RuntimeWarning):
    """Some simulated chains overflowed; they are counted and marked, never dropped."""


class ConvergenceWarning(HeavytailWarning, RuntimeWarning):
    """A numerical routine stopped before reaching its tolerance."""
