"""Smoke size asks for seconds of work: a small fraction of quick's, for every claim.

No clock is read: each claim's work is counted in the unit that its run time is
proportional to (values drawn and processed), from its parameters alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from heavytail.reports import claim_ids, get_claim
from heavytail.reports._claims.calibration_cases import TARGET_N
from heavytail.reports._claims.compress_limit import LAWS, LimitSize
from heavytail.reports._claims.compress_rate import ALPHAS, RateSize
from heavytail.reports._claims.estimators_calibration import CalibrationSize, _cases
from heavytail.reports._claims.sgd_offline import CONTROL_ETAS


def _calibration(s: Any) -> float:
    # One "auto" run per seed and case, on a sample of n values.
    runs = sum(s.warn_seeds if c.target == "warn" else s.seeds for c in _cases(s))
    return float(runs * s.n)


#: Work of a claim at a size: the count its run time is proportional to. A new claim
#: adds its count here.
WORK: dict[str, Callable[[Any], float]] = {
    # Entries drawn and sorted: one vector of n_max per replicate and law.
    "compress.limit": lambda s: float(len(LAWS) * s.replicates * s.n_max),
    # The same per replicate and alpha.
    "compress.rate": lambda s: float(len(s.alphas) * s.replicates * s.n_max),
    # Entries of every matrix (3 ensembles), each pruned at columns_grid budgets.
    "prune.ensembles": lambda s: float(
        3 * len(s.alphas) * s.replicates * s.d * s.n * s.columns_grid
    ),
    # Chain-steps, online and finite-sum.
    "sgd.tail": lambda s: float(
        len(s.settings) * s.n_chains * s.n_steps
        + len(s.finite_sizes) * s.finite_chains * s.finite_steps
    ),
    "estimators.calibration": _calibration,
    # Unit-steps of every replicate: shared-batch widths and independent-batch widths.
    "meanfield.chaos": lambda s: float(
        (sum(s.widths) + sum(s.control_widths)) * s.replicates * s.n_steps
    ),
    # The same for each cell (alpha, noise type); the controls draw no steps.
    "meanfield.chaos_heavy": lambda s: float(4 * sum(s.widths) * s.replicates * s.n_steps),
    # Network-steps: at these widths a step's cost is mostly fixed overhead, not its flops.
    # (batch size, eta, seed) networks, each up to max_steps steps.
    "nn.trend": lambda s: float(len(s.batch_sizes) * s.n_eta * s.seeds * s.max_steps),
    # Unit-steps of the trained networks (three noises), and the drawn noise-only units.
    "bound.compression": lambda s: float(
        3 * sum(s.widths) * s.replicates * s.n_steps + 3 * sum(s.law_widths) * s.replicates
    ),
    # Unit-steps of every (eta, replicate), each run for 2T steps.
    "meanfield.sgd_heavy": lambda s: float(
        2 * sum(s.widths) * len(s.etas) * s.replicates * s.n_steps
    ),
    # Unit-steps of the heavy and Gaussian replicates of the four (alpha, type) cells.
    "meanfield.noise_compress": lambda s: float(
        4 * sum(s.widths) * (s.replicates + s.gaussian_replicates) * s.n_steps
    ),
    # Chain-steps: every data set size, then the online controls and references.
    "sgd.offline": lambda s: float(
        s.datasets
        * s.n_chains
        * (
            sum(s.steps(m) for m in s.dataset_sizes)
            + s.min_steps * (1 + len(CONTROL_ETAS) + len(s.dataset_sizes))
        )
    ),
}

#: Quick takes about 5 CPU-minutes for all claims (278 s in the quick report at seed 0);
#: smoke must take seconds, so each claim gets at most 1/50 of its quick work (about 6
#: CPU-seconds in all). Before smoke was shrunk, calibration asked for 11% of quick,
#: compress.rate for 5% and compress.limit for 3.75%.
SMOKE_FRACTION = 1 / 50


def test_every_registered_claim_has_a_work_count() -> None:
    assert set(WORK) == set(claim_ids())


@pytest.mark.parametrize("claim_id", sorted(WORK))
def test_smoke_is_a_small_fraction_of_quick(claim_id: str) -> None:
    claim, work = get_claim(claim_id), WORK[claim_id]
    smoke, quick = work(claim.sizes["smoke"]), work(claim.sizes["quick"])
    assert 0 < smoke <= SMOKE_FRACTION * quick, f"{claim_id}: smoke is {smoke / quick:.2%} of quick"
    assert quick < work(claim.sizes["full"])  # full is the largest size


#: The smoke sizes before they were shrunk (calibration: 3 runs per case at n = 1e5).
FORMER_SMOKE = {
    "compress.limit": LimitSize(1_000, 100_000, 3, 12),
    "compress.rate": RateSize(ALPHAS, 100, 10_000, 4, 150),
    "estimators.calibration": CalibrationSize(TARGET_N, 3, 3, False, n_boot=200),
}


@pytest.mark.parametrize("claim_id", sorted(FORMER_SMOKE))
def test_the_former_smoke_sizes_fail_the_bound(claim_id: str) -> None:
    """Negative control: the sizes that made smoke take a minute are refused."""
    work = WORK[claim_id]
    quick = work(get_claim(claim_id).sizes["quick"])
    assert work(FORMER_SMOKE[claim_id]) > SMOKE_FRACTION * quick
