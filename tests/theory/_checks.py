"""Hand-made results of the stable tail check and of the goodness-of-fit test, for tests
of auto's decision rules."""

from __future__ import annotations

from typing import Any

from heavytail.theory import StableGoodnessOfFit
from heavytail.theory._auto_policy import AUTO_POLICY
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


def second_look(
    hill_z: float = -1.0, hill_rmse: float = 0.05, hill_k: int | None = 500
) -> StableTailCheck:
    """A tail check as the second look reads it: Hill's z and RMSE at the data's k."""
    return tail_check(
        z=-1.0,
        xi_null_mean=0.72,
        hill_k=hill_k,
        hill_z=hill_z,
        hill_xi_data=0.68,
        hill_rmse=hill_rmse,
    )


def fitted_gof(q: float, threshold: float = AUTO_POLICY.gof_threshold) -> StableGoodnessOfFit:
    """A goodness-of-fit result with statistic ``q``; ``accepted`` as
    stable_goodness_of_fit sets it (the decisions do not read it)."""
    return StableGoodnessOfFit(q, threshold, q <= threshold, 1.3, (1.0,))
