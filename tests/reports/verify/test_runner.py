"""The verify runner: per-claim streams, determinism across workers, registry order."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from heavytail.reports import claim_ids, claim_seed_sequence, get_claim, results_record, verify
from heavytail.reports._claims.registry import REGISTRY
from heavytail.theory import InvalidArgumentError

from .._toy import toy_claim


def test_registry_order_and_lookup() -> None:
    ids = claim_ids()
    # The first claims, in report order; later claims follow them, each after the claim
    # it builds on.
    assert ids[:4] == ("compress.limit", "compress.rate", "prune.ensembles", "sgd.tail")
    assert ids.index("estimators.calibration") > ids.index("sgd.tail")
    assert len(set(ids)) == len(ids)
    # Each claim lives in heavytail.reports._claims.<id with "." as "_">.
    for claim_id, module in REGISTRY:
        assert module == "heavytail.reports._claims." + claim_id.replace(".", "_")
    assert get_claim("compress.rate").id == "compress.rate"
    with pytest.raises(InvalidArgumentError, match=r"the claims are: compress\.limit, "):
        get_claim("compress.nope")


def test_claim_streams_depend_on_seed_and_id_only() -> None:
    def first(seed: int, claim_id: str) -> int:
        return int(np.random.default_rng(claim_seed_sequence(seed, claim_id)).integers(2**62))

    assert first(0, "compress.rate") == first(0, "compress.rate")
    assert first(0, "compress.rate") != first(1, "compress.rate")
    assert first(0, "compress.rate") != first(0, "compress.limit")
    with pytest.raises(InvalidArgumentError, match="`seed`"):
        claim_seed_sequence(-1, "compress.rate")


def _numbers(run: object) -> list[dict[str, object]]:
    record = results_record(run)  # type: ignore[arg-type]
    return [{k: v for k, v in c.items() if k != "seconds"} for c in record["claims"]]


def test_same_numbers_in_process_and_in_a_worker_process() -> None:
    """--jobs 1 runs in this process, --jobs 2 in a spawned worker: same numbers."""
    one = verify(["compress.rate"], size="smoke", seed=3, jobs=1)
    two = verify(["compress.rate"], size="smoke", seed=3, jobs=2)
    assert _numbers(one) == _numbers(two)
    assert (one.jobs, two.jobs) == (1, 2)


def test_results_come_in_registry_order_whatever_finishes_first() -> None:
    slow, fast = toy_claim("compress.limit", delay=0.3), toy_claim("compress.rate")
    toys = {"compress.limit": slow, "compress.rate": fast}
    done: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        run = verify(
            ["compress.rate", "compress.limit", "compress.rate"],  # duplicates dropped
            size="smoke",
            seed=0,
            executor=pool,
            on_done=lambda r: done.append(r.claim_id),
            registry=toys,
        )
    assert done == ["compress.rate", "compress.limit"]  # the fast one finished first
    assert [r.claim_id for r in run.results] == ["compress.rate", "compress.limit"]
    # Each claim's numbers are those of its own stream, in whatever order it ran.
    alone = verify(["compress.limit"], size="smoke", seed=0, registry=toys)
    assert alone.results[0].evidence.checks == run.results[1].evidence.checks


def test_exit_status_is_one_when_a_claim_disagrees() -> None:
    toys = {
        "compress.limit": toy_claim("compress.limit"),
        "compress.rate": toy_claim("compress.rate", truth=5.0),  # predicted 0: wrong
    }
    run = verify(["compress.limit", "compress.rate"], size="smoke", seed=0, registry=toys)
    assert [r.verdict.value for r in run.results] == ["agree", "disagree"]
    assert run.exit_status == 1


def test_verify_validates() -> None:
    with pytest.raises(InvalidArgumentError, match="`size`"):
        verify(["compress.rate"], size="huge")
    with pytest.raises(InvalidArgumentError, match="no claim has id"):
        verify(["nope"], size="smoke")
    with pytest.raises(InvalidArgumentError, match="`jobs`"):
        verify(["compress.rate"], size="smoke", jobs=0)


def test_worker_processes_get_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from heavytail.reports._parallel.threads import BLAS_THREAD_VARIABLES, single_threaded_blas

    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # set by the user: left alone
    with single_threaded_blas():
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1" == os.environ["OMP_NUM_THREADS"]
        assert os.environ["MKL_NUM_THREADS"] == "3"
    assert "OPENBLAS_NUM_THREADS" not in os.environ and "OMP_NUM_THREADS" not in os.environ
    assert os.environ["MKL_NUM_THREADS"] == "3"


def test_a_claim_outside_the_registry_is_refused_by_name() -> None:
    toys = {"toy.mean": toy_claim("compress.rate")}
    with pytest.raises(InvalidArgumentError, match=r"unknown claim 'compress\.rate'.*toy\.mean"):
        verify(["compress.rate"], size="smoke", registry=toys)
    # Control: the id the registry holds runs.
    assert verify(["toy.mean"], size="smoke", registry=toys).results[0].claim_id == "toy.mean"
