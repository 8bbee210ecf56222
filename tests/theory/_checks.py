"""Hand-made results of the stable tail check, for tests of auto's decision rules."""

from __future__ import annotations

from typing import Any

from heavytail.theory._stable_tail_check import StableTailCheck

# A tail check that sees nothing wrong: the data's tail statistic sits on the null mean,
# Hill's second look agrees; each test overrides the fields its rule reads.
_QUIET: dict[str, Any] = {
    "z": 0.0,
    "k": 1000,
    "xi_data": 0.7,
    "xi_null_mean": 0.7,
    "xi_null_sd": 0.02,
    "replicates": 40,
    "flagged": False,
    "hill_k": 500,
    "hill_z": 0.0,
    "hill_xi_data": 0.7,
    "hill_rmse": 0.05,
}


def tail_check(**fields: Any) -> StableTailCheck:
    """A :class:`StableTailCheck` with the quiet defaults above, ``fields`` overriding."""
    return StableTailCheck(**{**_QUIET, **fields})
