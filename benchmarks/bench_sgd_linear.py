"""Time heavytail's SGD simulator against a numpy reference and against the floor.

Workload (online SGD on least squares with Gaussian data, x_0 = 0, eta = 0.1,
sigma = noise_std = 1, x* = 0): dim 1 and 10, batch size b = 1 and 5; 2e5 chains x 500
steps at dim 1, and 2e4 chains x 500 steps at dim 10 (a step there draws (d + 1) b = 11 or
55 normals per chain instead of 2 or 10; 2e4 chains keep the numpy reference's per-step
arrays in memory comfortably and the whole script within a few minutes).

Three ways, in the same process, with the calls interleaved round by round (and a
fourth at dim 1):

- ``heavytail``: :func:`heavytail.simulate.sgd_linear_regression`.
- ``numpy``: a plain numpy reference vectorised across chains: each step draws the
  batch for all chains at once (features (n, b, d), label noise (n, b)) from one
  Generator and updates all chains with two ``einsum`` calls. numpy's generator is
  single-threaded, so this runs on one core.
- ``floor``: a numba kernel that only draws the same number of standard normals,
  n_steps b (d + 1) per chain, from the same kind of Generator (PCG64 children spawned
  the same way), over the same fixed chunks of chains in ``prange`` on the same threads,
  and sums them without storing them. No simulator can beat drawing its randomness.
- ``general`` (dim 1 only, 1 thread): heavytail with its online dim-1 kernel (the
  iterate in a scalar) replaced by the general kernel, which gives the same numbers to
  the bit. ``general/fast`` is the time it takes over heavytail's at 1 thread: what the
  dim-1 fast path earns.

Printed per setting: the best time of each way (seconds), at 1 and 2 numba threads for
the two numba ways (``numba.set_num_threads``; the chunks are fixed, so the work is the
same), and the ratios the targets are stated in:

- ``numpy / ht``: numpy reference time over heavytail's at 2 threads. Target >= 3.
- ``ht / floor``: heavytail's time over the floor's, both at 2 threads. Target <= 1.5
  at dim 1.
- ``speed-up``: heavytail's 1-thread time over its 2-thread time. Target >= 1.7
  (the floor's own speed-up is printed next to it: the machine's limit).

A second table gives CPU times (summed over threads), which a loaded machine distorts far
less than wall time: the work ratios numpy / heavytail and heavytail / floor on one
thread, and heavytail's CPU time at 2 threads over 1 thread (near 1: the parallel version
does no extra work, so on two free cores its speed-up is limited only by balance).

It also prints the stationary variance of the final iterates for heavytail and numpy
next to the theory's eta noise^2 / (2b - (b + d + 1) eta sigma^2), a sanity check that
both simulate the same model.

Run: ``.venv/bin/python benchmarks/bench_sgd_linear.py [--quick] [--repeats R]``.
``--quick`` runs 2e4 chains x 100 steps (2e3 at dim 10), one repeat: a smoke test, not a
measurement.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from _harness import best_times, machine
from numba import prange
from numba.typed import List as TypedList

from heavytail.simulate import CHUNK_SIZE, _sgd_linear, sgd_linear_regression
from heavytail.simulate._numba import kernel
from heavytail.simulate._sgd_linear_kernel import sgd_kernel

ETA = 0.1
MAX_THREADS = numba.get_num_threads()  # NUMBA_NUM_THREADS, read once at import
FloatArray = npt.NDArray[np.float64]


@kernel(parallel=True)
def _floor_kernel(
    gens: Any, chunk_size: int, n_chains: int, per_chain: int, out: FloatArray
) -> None:
    """Draw ``per_chain`` normals for each chain, chunk by chunk, and sum them per chunk."""
    for c in prange(len(gens)):
        gen = gens[np.int64(c)]  # a signed index: prange's own is unsigned
        first = np.int64(c) * chunk_size
        n_here = min(np.int64(chunk_size), n_chains - first)
        s = 0.0
        for _ in range(n_here * per_chain):
            s += gen.standard_normal()
        out[c] = s


def floor(n_chains: int, n_steps: int, b: int, dim: int, seed: int) -> float:
    """The floor: the simulator's normal draws, and nothing else."""
    n_chunks = math.ceil(n_chains / CHUNK_SIZE)
    _, *gens = np.random.default_rng(seed).spawn(n_chunks + 1)
    out = np.empty(n_chunks)
    _floor_kernel(TypedList(gens), CHUNK_SIZE, n_chains, n_steps * b * (dim + 1), out)
    return float(out.sum())


def numpy_reference(n_chains: int, n_steps: int, b: int, dim: int, seed: int) -> FloatArray:
    """Online SGD for all chains at once, plainly in numpy (sigma = noise_std = 1, x* = 0)."""
    gen = np.random.default_rng(seed)
    x = np.zeros((n_chains, dim))
    for _ in range(n_steps):
        a = gen.standard_normal((n_chains, b, dim))
        z = gen.standard_normal((n_chains, b))
        resid = np.einsum("nbd,nd->nb", a, x) - z  # a . x - y, with y = a . x* + z
        x -= (ETA / b) * np.einsum("nbd,nb->nd", a, resid)
    return x


def heavytail(n_chains: int, n_steps: int, b: int, dim: int, seed: int) -> FloatArray:
    """heavytail's simulator on the same workload."""
    return sgd_linear_regression(
        ETA, b, dim=dim, n_chains=n_chains, n_steps=n_steps, rng=seed
    ).iterates


def heavytail_general(n_chains: int, n_steps: int, b: int, dim: int, seed: int) -> FloatArray:
    """heavytail without its dim-1 fast path: the general kernel takes its place."""
    fast = _sgd_linear.online_1d_kernel
    _sgd_linear.online_1d_kernel = sgd_kernel
    try:
        return heavytail(n_chains, n_steps, b, dim, seed)
    finally:
        _sgd_linear.online_1d_kernel = fast


def with_threads(n: int, fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        numba.set_num_threads(n)
        try:
            return fn()
        finally:
            numba.set_num_threads(MAX_THREADS)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke-test workload")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 3; 1 quick)")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    n_steps = 100 if args.quick else 500
    chains = {1: 20_000, 10: 2_000} if args.quick else {1: 200_000, 10: 20_000}
    threads = MAX_THREADS
    print(
        f"bench_sgd_linear: {n_steps} steps, eta = {ETA}, best of {repeats}, "
        + machine(f"numba threads = {threads}")
        + (" (quick: not a measurement)" if args.quick else "")
    )
    if threads < 2:
        print("note: fewer than 2 numba threads; the thread columns repeat the 1-thread time")
    top = min(2, threads)

    # compile (or load from the cache) before timing
    heavytail(10, 2, 1, 1, 0)
    heavytail_general(10, 2, 1, 1, 0)
    floor(10, 2, 1, 1, 0)

    header = (
        f"{'dim':>3} {'b':>2} {'chains':>7} | {'ht 1t':>7} {'ht 2t':>7} {'floor 1t':>8} "
        f"{'floor 2t':>8} {'numpy':>7} | {'numpy/ht':>8} {'ht/floor':>8} {'speed-up':>8} "
        f"{'floor su':>8} | {'var ht':>7} {'var np':>7} {'theory':>7}"
    )
    cpu_header = (
        f"{'dim':>3} {'b':>2} {'chains':>7} | {'ht 1t':>7} {'ht 2t':>7} {'floor 1t':>8} "
        f"{'floor 2t':>8} {'numpy':>7} | {'numpy/ht1':>9} {'ht1/floor1':>10} {'ht2/ht1':>7}"
    )
    cpu_lines = []
    fast_lines = []
    print("wall-clock seconds (best of the rounds) and the target ratios:")
    print(header)
    print("-" * len(header))
    for dim in (1, 10):
        n = chains[dim]
        for b in (1, 5):
            fns: list[Callable[[], object]] = [
                with_threads(1, partial(heavytail, n, n_steps, b, dim, 1)),
                with_threads(top, partial(heavytail, n, n_steps, b, dim, 1)),
                with_threads(1, partial(floor, n, n_steps, b, dim, 1)),
                with_threads(top, partial(floor, n, n_steps, b, dim, 1)),
                partial(numpy_reference, n, n_steps, b, dim, 1),
            ]
            if dim == 1:
                fns.append(with_threads(1, partial(heavytail_general, n, n_steps, b, dim, 1)))
            times = best_times(fns, repeats)
            wall, cpu = times.best, times.best_cpu
            ht1, ht2, fl1, fl2, ref = wall[:5]
            c_ht1, c_ht2, c_fl1, c_fl2, c_ref = cpu[:5]
            if dim == 1:
                fast_lines.append(
                    f"{dim:>3} {b:>2} {n:>7} | {wall[5]:>9.3f} {ht1:>7.3f} {wall[5] / ht1:>12.2f} "
                    f"| {cpu[5]:>9.3f} {c_ht1:>7.3f} {cpu[5] / c_ht1:>12.2f}"
                )
            v_ht = float(np.var(heavytail(n, n_steps, b, dim, 2)))
            v_np = float(np.var(numpy_reference(n, n_steps, b, dim, 2)))
            v_th = ETA / (2 * b - (b + dim + 1) * ETA)
            print(
                f"{dim:>3} {b:>2} {n:>7} | {ht1:>7.3f} {ht2:>7.3f} {fl1:>8.3f} {fl2:>8.3f} "
                f"{ref:>7.3f} | {ref / ht2:>8.2f} {ht2 / fl2:>8.2f} {ht1 / ht2:>8.2f} "
                f"{fl1 / fl2:>8.2f} | {v_ht:>7.4f} {v_np:>7.4f} {v_th:>7.4f}",
                flush=True,
            )
            cpu_lines.append(
                f"{dim:>3} {b:>2} {n:>7} | {c_ht1:>7.3f} {c_ht2:>7.3f} {c_fl1:>8.3f} "
                f"{c_fl2:>8.3f} {c_ref:>7.3f} | {c_ref / c_ht1:>9.2f} {c_ht1 / c_fl1:>10.2f} "
                f"{c_ht2 / c_ht1:>7.2f}"
            )
    print()
    print(
        "CPU seconds (all threads; unlike wall time, barely affected by other jobs on "
        "the machine). numpy/ht1 and ht1/floor1 compare work done on one thread; "
        "ht2/ht1 near 1 means the second thread adds no extra work:"
    )
    print(cpu_header)
    print("-" * len(cpu_header))
    print("\n".join(cpu_lines))
    print()
    print(
        "the dim-1 fast path, 1 thread: the general kernel in its place (same numbers) "
        "against heavytail, wall-clock and CPU seconds:"
    )
    fast_header = (
        f"{'dim':>3} {'b':>2} {'chains':>7} | {'general':>9} {'ht 1t':>7} {'general/fast':>12} "
        f"| {'general':>9} {'ht 1t':>7} {'general/fast':>12}"
    )
    print(fast_header)
    print("-" * len(fast_header))
    print("\n".join(fast_lines))


if __name__ == "__main__":
    main()
