"""The verify runner: runs claims on an executor, each with its own random stream.

Each claim's randomness is a ``SeedSequence`` built from the run's seed and a hash of the
claim's id, so a claim's numbers depend on the seed and the size only: not on how many
workers run, in what order the claims finish, or which other claims were selected.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_choice, check_int

from .._claims.registry import claim_ids, get_claim
from .._kit.claim import SIZE_NAMES, Claim, Evidence
from .._kit.verdict import Verdict
from .._parallel.executors import open_executor
from .._parallel.threads import single_threaded_blas

__all__ = [
    "ClaimResult",
    "VerifyRun",
    "claim_seed_sequence",
    "run_claim",
    "verify",
]


def claim_seed_sequence(seed: int, claim_id: str) -> np.random.SeedSequence:
    """The random stream of claim ``claim_id`` in a run seeded with ``seed``.

    ``SeedSequence(seed, spawn_key=K)`` with ``K`` four 32-bit words of the SHA-256 of the
    id: a child stream of the run's seed that is the same whichever claims run, and
    independent between claims.
    """
    s = check_int(seed, "seed", low=0)
    digest = hashlib.sha256(claim_id.encode("utf-8")).digest()
    key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return np.random.SeedSequence(s, spawn_key=key)


@dataclass(frozen=True)
class ClaimResult:
    """One claim run: its evidence, verdict and cost.

    Attributes
    ----------
    claim_id : str
    size : str
        The size name (``"smoke"``, ``"quick"`` or ``"full"``).
    seed : int
        The run's seed (the claim's stream is derived from it and the id).
    evidence : Evidence
    seconds : float
        Wall-clock seconds the claim took in its worker.
    """

    claim_id: str
    size: str
    seed: int
    evidence: Evidence
    seconds: float

    @property
    def verdict(self) -> Verdict:
        """The claim's verdict (see :attr:`Evidence.verdict`)."""
        return self.evidence.verdict


def run_claim(
    claim_id: str, size: str, seed: int, claim: Claim[Any, Any] | None = None
) -> ClaimResult:
    """Run one claim at ``size`` with the stream derived from ``seed`` and its id.

    ``claim``: the claim itself (one not in the registry); None looks ``claim_id`` up in
    the registry (in the worker, so that only the id travels).
    """
    claim = get_claim(claim_id) if claim is None else claim
    rng = np.random.default_rng(claim_seed_sequence(seed, claim_id))
    start = time.perf_counter()
    evidence = claim.run(size, rng)
    return ClaimResult(claim_id, size, seed, evidence, time.perf_counter() - start)


@dataclass(frozen=True)
class VerifyRun:
    """A whole verify run.

    Attributes
    ----------
    results : tuple of ClaimResult
        In registry order (whatever order they finished in).
    size : str
    seed : int
    seconds : float
        Wall-clock seconds of the whole run.
    jobs : int
        Workers used (does not change any number).
    registry : mapping or None
        The claims by id when the run was given its own (see :func:`verify`); None for
        the package's registry.
    """

    results: tuple[ClaimResult, ...]
    size: str
    seed: int
    seconds: float
    jobs: int
    registry: Mapping[str, Claim[Any, Any]] | None = None

    def claim(self, claim_id: str) -> Claim[Any, Any]:
        """The claim behind ``claim_id``: from the run's own registry, if it had one."""
        return get_claim(claim_id) if self.registry is None else self.registry[claim_id]

    @property
    def exit_status(self) -> int:
        """1 if any claim disagrees, else 0."""
        return int(any(r.verdict is Verdict.DISAGREE for r in self.results))


def _run_on(
    pool: Executor | None,
    ids: Sequence[str],
    size: str,
    seed: int,
    collect: Callable[[ClaimResult], None],
    registry: Mapping[str, Claim[Any, Any]] | None,
) -> None:
    """Run the claims ``ids`` on ``pool`` (None: here, one after the other)."""

    def own(claim_id: str) -> Claim[Any, Any] | None:
        return None if registry is None else registry[claim_id]

    if pool is None:
        for claim_id in ids:
            collect(run_claim(claim_id, size, seed, own(claim_id)))
        return
    with single_threaded_blas():  # a pool's workers may start on submission
        futures: list[Future[ClaimResult]] = [
            pool.submit(run_claim, claim_id, size, seed, own(claim_id)) for claim_id in ids
        ]
    for future in as_completed(futures):
        collect(future.result())


def verify(
    claims: Sequence[str] | None = None,
    *,
    size: str = "quick",
    seed: int = 0,
    jobs: int = 1,
    executor: Executor | None = None,
    on_done: Callable[[ClaimResult], None] | None = None,
    registry: Mapping[str, Claim[Any, Any]] | None = None,
) -> VerifyRun:
    """Run claims and collect their results.

    Parameters
    ----------
    claims : sequence of str or None
        Claim ids (each at most once); None runs every registered claim.
    size : {"smoke", "quick", "full"}
        The size of every claim's run.
    seed : int
        Non-negative seed of the run.
    jobs : int
        Number of worker processes of the local pool (>= 1). With 1 the claims run in
        this process, one after the other. Ignored when ``executor`` is given.
    executor : concurrent.futures.Executor or None
        Where to run the claims instead of a local pool, e.g. a Dask client's
        ``get_executor()``. It must be able to pickle :func:`run_claim`'s arguments.
    on_done : callable or None
        Called with each result as it finishes (progress display).
    registry : mapping of str to Claim, or None
        Claims by id to run instead of the package's registered ones (a claim of one's
        own, or a test's); with a process pool its claims must pickle.

    Returns
    -------
    VerifyRun
    """
    size = check_choice(size, "size", SIZE_NAMES)
    seed = check_int(seed, "seed", low=0)
    jobs = check_int(jobs, "jobs", low=1)
    ids = _selected(claims, registry)
    start = time.perf_counter()
    done: dict[str, ClaimResult] = {}

    def collect(result: ClaimResult) -> None:
        done[result.claim_id] = result
        if on_done is not None:
            on_done(result)

    if executor is None:
        # The one local pool of the package (spawned workers, one BLAS thread each, that
        # die with this process); None for one job: the claims run here, in order.
        with open_executor("local", jobs=min(jobs, len(ids))) as local:
            _run_on(local, ids, size, seed, collect, registry)
    else:
        _run_on(executor, ids, size, seed, collect, registry)
    results = tuple(done[i] for i in ids)
    return VerifyRun(results, size, seed, time.perf_counter() - start, jobs, registry)


def _selected(
    claims: Iterable[str] | None, registry: Mapping[str, Claim[Any, Any]] | None
) -> list[str]:
    known = list(claim_ids()) if registry is None else list(registry)
    if claims is None:
        return known
    ids: list[str] = []
    for claim_id in claims:
        if registry is None:
            get_claim(claim_id)  # raises, listing the valid ids
        elif claim_id not in registry:
            raise InvalidArgumentError(
                f"unknown claim {claim_id!r}; the claims are: {', '.join(known)}"
            )
        if claim_id not in ids:
            ids.append(claim_id)
    return ids
