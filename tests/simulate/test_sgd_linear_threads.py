"""The same rng gives bit-identical runs whatever the number of numba threads.

numba reads NUMBA_NUM_THREADS once, when it is first imported, so each thread count runs
in its own subprocess that sets the variable before importing anything. Each subprocess
runs every mode (online at dim 1 and 3, finite-sum with own and shared datasets,
injected noise of both kinds, recordings, divergence) on several chunks of chains, and
prints a SHA-256 of every output array.
"""

from __future__ import annotations

import numpy as np

from .._reference import run_script_with_threads

SCRIPT = r"""
import hashlib, sys, warnings
import numba
from heavytail.simulate import (
    CHUNK_SIZE, InjectedNoise, Recording, SharedDataset, sgd_linear_regression,
)
from heavytail.theory import DivergenceWarning

runs = [
    dict(eta=0.8, batch_size=1, n_chains=3 * CHUNK_SIZE + 17, n_steps=60,
         record=Recording(trajectory_every=7, polyak_average=True), burn_in=5),
    dict(eta=0.3, batch_size=2, dim=3, n_chains=2 * CHUNK_SIZE + 3, n_steps=40,
         injected_noise=InjectedNoise(1.3, 0.2, "elliptic")),
    dict(eta=0.2, batch_size=3, dim=2, n_chains=2 * CHUNK_SIZE + 1, n_steps=30,
         dataset_size=10, injected_noise=InjectedNoise(0.9, 0.1, "iid")),
    dict(eta=0.2, batch_size=4, dim=2, n_chains=2 * CHUNK_SIZE + 1, n_steps=30,
         dataset_size=SharedDataset(9), record="average"),
    dict(eta=8.0, batch_size=1, n_chains=2 * CHUNK_SIZE + 5, n_steps=370),
]
print("threads", numba.get_num_threads())
for seed in map(int, sys.argv[1:]):
    for kw in runs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            run = sgd_linear_regression(**kw, rng=seed)
        for name in ("iterates", "divergence_step", "trajectory", "polyak_average", "features"):
            value = getattr(run, name)
            if value is not None:
                print(name, hashlib.sha256(value.tobytes()).hexdigest(), run.n_diverged)
"""


def _run_with_threads(n: int, *seeds: int) -> list[str]:
    return run_script_with_threads(SCRIPT, seeds, NUMBA_NUM_THREADS=n)


def test_bit_identical_across_thread_counts() -> None:
    one = _run_with_threads(1, 123)
    two, changed = np.split(np.array(_run_with_threads(2, 123, 124)), 2)
    assert len(one) == 14  # every recorded array of every run was hashed
    assert one == list(two)
    # the divergence run does diverge partly, so the comparison covers that path too
    n_div = int(one[-1].split()[-1])
    assert 0 < n_div < 2 * 1024 + 5
    # negative control: the hashes do tell runs apart (another seed changes every run's
    # iterates; divergence steps of runs without divergence stay all -1)
    assert [line.split()[0] for line in changed] == [line.split()[0] for line in two]
    pairs = [(a, b) for a, b in zip(changed, two, strict=True) if a.startswith("iterates")]
    assert len(pairs) == 5
    assert all(a.split()[1] != b.split()[1] for a, b in pairs)
