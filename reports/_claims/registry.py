"""The one place where claims are registered.

A claim lives in its own module ``heavytail.reports._claims.<name>``, which defines a
module-level ``CLAIM`` (a :class:`Claim`). To add a claim, write that module and add its
id and module to ``REGISTRY`` below; the order here is the order of the report.

Modules are imported only when their claim is asked for, so that running one claim (in a
worker process, say) imports that claim's code alone.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from heavytail.theory import InvalidArgumentError

from .._kit.claim import Claim

__all__ = ["CLAIM_MODULES", "REGISTRY", "all_claims", "claim_ids", "get_claim"]

#: (claim id, module defining ``CLAIM``), in report order.
REGISTRY: tuple[tuple[str, str], ...] = (
    ("compress.limit", "heavytail.reports._claims.compress_limit"),
    ("compress.rate", "heavytail.reports._claims.compress_rate"),
    ("prune.ensembles", "heavytail.reports._claims.prune_ensembles"),
    ("sgd.tail", "heavytail.reports._claims.sgd_tail"),
    ("sgd.offline", "heavytail.reports._claims.sgd_offline"),
    ("estimators.calibration", "heavytail.reports._claims.estimators_calibration"),
    ("meanfield.chaos", "heavytail.reports._claims.meanfield_chaos"),
    ("meanfield.chaos_heavy", "heavytail.reports._claims.meanfield_chaos_heavy"),
    ("meanfield.noise_compress", "heavytail.reports._claims.meanfield_noise_compress"),
    ("bound.compression", "heavytail.reports._claims.bound_compression"),
    ("meanfield.sgd_heavy", "heavytail.reports._claims.meanfield_sgd_heavy"),
    ("nn.trend", "heavytail.reports._claims.nn_trend"),
)

#: The claim modules, in report order.
CLAIM_MODULES: tuple[str, ...] = tuple(module for _, module in REGISTRY)


def claim_ids() -> tuple[str, ...]:
    """The ids of the registered claims, in report order (imports nothing)."""
    return tuple(claim_id for claim_id, _ in REGISTRY)


@cache
def _load(claim_id: str, module: str) -> Claim[Any, Any]:
    claim = importlib.import_module(module).CLAIM
    if not isinstance(claim, Claim):
        raise TypeError(f"{module}.CLAIM must be a Claim, got {type(claim).__name__}")
    if claim.id != claim_id:
        raise RuntimeError(f"{module}.CLAIM has id {claim.id!r}; the registry expects {claim_id!r}")
    return claim


def get_claim(claim_id: str) -> Claim[Any, Any]:
    """The claim with id ``claim_id`` (its module is imported on first use).

    Raises
    ------
    InvalidArgumentError
        If no claim has that id (the message lists the ids).
    """
    for registered, module in REGISTRY:
        if registered == claim_id:
            return _load(registered, module)
    listed = ", ".join(claim_ids())
    raise InvalidArgumentError(f"no claim has id {claim_id!r}; the claims are: {listed}")


def all_claims() -> tuple[Claim[Any, Any], ...]:
    """Every registered claim, in report order (imports every claim module)."""
    return tuple(get_claim(claim_id) for claim_id in claim_ids())
