"""The same rng gives bit-identical mean-field runs whatever the number of threads.

numba reads NUMBA_NUM_THREADS (and OpenBLAS its OPENBLAS_NUM_THREADS) once, when loaded,
so each setting runs in its own subprocess. Each subprocess runs many replicates (spread
over threads), one wide network (its blocks of units spread over threads), both data
modes and input laws, both losses, the three noise kinds, records and a divergence, and
prints a SHA-256 of every output array.
"""

from __future__ import annotations

from .._reference import run_script_with_threads

SCRIPT = r"""
import hashlib, sys, warnings
import numba
from heavytail.simulate import (
    InjectedNoise, MeanFieldData, MeanFieldNetwork, MeanFieldRecording, mean_field_sgd,
)
from heavytail.theory import DivergenceWarning

rec = MeanFieldRecording(weight_steps=(0, 7), loss_steps=(3, 7), n_probe=2)
runs = [
    dict(n_units=64, dim=4, batch_size=4, n_replicates=37,
         data=MeanFieldData(dataset_size=30, test_size=20),
         injected_noise=InjectedNoise(1.5, 0.05, "unit")),
    dict(n_units=64, dim=4, batch_size=3, n_replicates=9,
         network=MeanFieldNetwork(loss="logistic"),
         data=MeanFieldData(inputs="sphere", batches="shared", test_size=20),
         injected_noise=InjectedNoise(1.2, 0.05, "elliptic")),
    dict(n_units=1500, dim=16, batch_size=40, n_replicates=1,
         network=MeanFieldNetwork(activation="relu"), data=MeanFieldData(test_size=20),
         injected_noise=InjectedNoise(1.75, 0.02, "iid")),
    dict(n_units=8, dim=2, batch_size=2, n_replicates=5, eta=40.0,
         network=MeanFieldNetwork(activation="identity"),
         data=MeanFieldData(dataset_size=8, test_size=20)),
]
print("threads", numba.get_num_threads())
for seed in map(int, sys.argv[1:]):
    for kw in runs:
        kw = dict(eta=0.2, n_steps=7, record=rec) | kw
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            run = mean_field_sgd(**kw, rng=seed)
        for name in ("w", "a", "w_records", "train_loss", "test_loss", "probe_outputs",
                     "divergence_step"):
            value = getattr(run, name)
            if value is not None:
                print(name, hashlib.sha256(value.tobytes()).hexdigest(), run.n_diverged,
                      run.settings["driver"].replace(" ", "_"))
"""


def _run(numba_threads: int, blas_threads: int, *seeds: int) -> list[str]:
    return run_script_with_threads(
        SCRIPT, seeds, NUMBA_NUM_THREADS=numba_threads, OPENBLAS_NUM_THREADS=blas_threads
    )


def test_bit_identical_across_thread_counts() -> None:
    one = _run(1, 1, 123)
    two = _run(2, 2, 123, 124)
    assert len(one) == 26  # every recorded array of every run was hashed
    assert one == two[:26]
    # the runs cover both drivers and a divergence
    drivers = {line.split()[3] for line in one}
    assert drivers == {"run_parallel,_step_serial", "run_serial,_step_blocks_parallel"}
    assert int(one[-1].split()[2]) > 0
    # negative control: the hashes tell seeds apart (final weights of every run differ,
    # except the diverged run, whose weights are all NaN)
    finals = [(a, b) for a, b in zip(one, two[26:], strict=True) if a.startswith("w ")]
    assert len(finals) == 4
    assert all(a.split()[1] != b.split()[1] for a, b in finals[:3])
