"""Time heavytail's mean-field simulator against the papers' way and against the floor.

Two workloads, online data (x ~ N(0, I_d), labels from the default 4-unit tanh teacher
plus noise 0.1), tanh units, squared loss, trained second layer, eta = 0.05, type-1
alpha-stable noise (alpha = 1.75, sigma = 0.01) after every step:

- wide: one network, n = 4096, d = 32, b = 32, 2000 steps;
- narrow: 256 networks, n = 256, d = 16, b = 16, 2000 steps.

Three ways, in one process, calls interleaved round by round (the order rotates):

- ``heavytail``: :func:`heavytail.simulate.mean_field_sgd`.
- ``reference``, the way the papers' code does it: a ``torch.nn.Module`` on the CPU
  (two bias-free ``nn.Linear`` layers, tanh), ``torch.optim.SGD`` at lr = eta * n (the
  mean-field step on n times the loss), a fresh batch and its teacher labels from torch
  each step, and ``scipy.stats.levy_stable.rvs`` for the n noise scalars of every step,
  added in place; one network after another, torch on its default threads. The narrow
  workload runs ``--ref-replicates`` networks (default 8) and scales the time by
  256 / that: the networks are independent and identical in cost.
- ``floor``: what no implementation of this model can skip, and nothing else: the same
  two matrix products per step and network (X_B W^T and D^T X_B, numpy, same shapes;
  numpy's BLAS threads for the wide one, one stacked ``np.matmul`` over the 256 networks
  per product and step for the narrow one), plus drawing the same noise with heavytail's
  numba sampler over the same threads (per-network streams in ``prange``).

Printed per workload: best wall-clock seconds of each way, the ratios the targets are
stated in (reference / heavytail >= 5; heavytail / floor <= 2), CPU seconds, and the
achieved rate of the two products, 4 b n d flops per step and network, next to the
machine's dgemm rate (numpy, 2048 x 2048, all BLAS threads) and the floor's own rate.

``--matmul`` also times the two products alone, per step, on one thread: BLAS dgemm
called from numba (what heavytail does) against plain numba loops (rows of units, 4-way
unrolled, blocked by 128 to n units), the choice docs/performance.md records.

Run: ``.venv/bin/python benchmarks/bench_mean_field.py [--steps S] [--repeats R]
[--ref-replicates K] [--matmul]``; ``--quick`` is 100 steps, one round, 2 reference
networks: a smoke test, not a measurement.
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
from _harness import best_times, machine, timed
from numba import prange
from numba.typed import List as TypedList

from heavytail.simulate import InjectedNoise, MeanFieldData, Teacher, mean_field_sgd
from heavytail.simulate._numba import kernel
from heavytail.simulate._stable_kernel import symmetric_stable

FloatArray = npt.NDArray[np.float64]

ETA = 0.05
ALPHA = 1.75
SIGMA = 0.01
LABEL_NOISE = 0.1
WORKLOADS = {  # name: (n, d, b, replicates)
    "wide": (4096, 32, 32, 1),
    "narrow": (256, 16, 16, 256),
}


# ------------------------------------------------------------------------- heavytail


def heavytail(n: int, d: int, b: int, reps: int, steps: int, seed: int) -> FloatArray:
    run = mean_field_sgd(
        n, d, eta=ETA, batch_size=b, n_steps=steps, n_replicates=reps,
        data=MeanFieldData(test_size=0, label_noise=LABEL_NOISE),
        injected_noise=InjectedNoise(ALPHA, SIGMA, "unit"), rng=seed,
    )  # fmt: skip
    return run.w


# ----------------------------------------------------------------------------- floor


@kernel(parallel=True)
def _floor_noise(gens: Any, alpha: float, out: FloatArray) -> None:
    """out[r, :] = n standard symmetric stable draws from gens[r], networks in prange."""
    for r in prange(out.shape[0]):
        rr = np.int64(r)
        gen = gens[rr]
        for i in range(out.shape[1]):
            out[rr, i] = symmetric_stable(gen, alpha)


def floor(n: int, d: int, b: int, reps: int, steps: int, seed: int) -> float:
    """The two products per step and network, and the noise draws; nothing else."""
    gen = np.random.default_rng(seed)
    gens = TypedList(gen.spawn(reps))
    x = gen.standard_normal((reps, b, d))
    w = gen.standard_normal((reps, n, d)) / math.sqrt(d)
    dmat = gen.standard_normal((reps, b, n))
    z = np.empty((reps, b, n))
    g = np.empty((reps, n, d))
    noise = np.empty((reps, n))
    wt = w.transpose(0, 2, 1)
    dt = dmat.transpose(0, 2, 1)
    for _ in range(steps):
        if reps == 1:
            np.dot(x[0], wt[0], out=z[0])
            np.dot(dt[0], x[0], out=g[0])
        else:
            np.matmul(x, wt, out=z)
            np.matmul(dt, x, out=g)
        _floor_noise(gens, ALPHA, noise)
    return float(z[0, 0, 0] + g[0, 0, 0] + noise[0, 0])


# ------------------------------------------------------------------------- reference


def reference(n: int, d: int, b: int, reps: int, steps: int, seed: int) -> float:
    """The papers' way: nn.Module + optim.SGD + levy_stable.rvs each step, per network."""
    import torch
    from scipy.stats import levy_stable

    torch.manual_seed(seed)  # nn.Linear's default initialisation draws from here
    teacher_v, teacher_c = Teacher().weights(d)
    tv = torch.tensor(teacher_v, dtype=torch.float64)
    tc = torch.tensor(teacher_c, dtype=torch.float64)
    scale = SIGMA * ETA ** (1 / ALPHA)
    total = 0.0
    for r in range(reps):

        class TwoLayer(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.hidden = torch.nn.Linear(d, n, bias=False, dtype=torch.float64)
                self.out = torch.nn.Linear(n, 1, bias=False, dtype=torch.float64)

            def forward(self, x: Any) -> Any:
                return self.out(torch.tanh(self.hidden(x))).squeeze(-1) / n

        model = TwoLayer()
        opt = torch.optim.SGD(model.parameters(), lr=ETA * n)
        gen = torch.Generator().manual_seed(seed + r)
        rs = np.random.default_rng(seed + r)
        for _ in range(steps):
            x = torch.randn(b, d, generator=gen, dtype=torch.float64)
            y = torch.tanh(x @ tv.T) @ tc / 2.0 + LABEL_NOISE * torch.randn(
                b, generator=gen, dtype=torch.float64
            )
            loss = 0.5 * ((model(x) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            noise = levy_stable.rvs(ALPHA, 0.0, size=n, random_state=rs)
            with torch.no_grad():
                model.hidden.weight += scale * torch.from_numpy(noise)[:, None]
        total += float(model.hidden.weight.detach()[0, 0])
    return total


# ---------------------------------------------------------------------------- timing


def dgemm_rate(size: int = 2048, repeats: int = 3) -> float:
    """GFLOP/s of numpy's dgemm on two size x size matrices (all BLAS threads)."""
    gen = np.random.default_rng(0)
    a, c = gen.standard_normal((size, size)), gen.standard_normal((size, size))
    best = best_times([lambda: a @ c], repeats).best[0]
    return 2 * size**3 / best / 1e9


# ------------------------------------------------------------- BLAS against loops


@kernel()
def _axpy4(y: FloatArray, c0: float, r0: FloatArray, c1: float, r1: FloatArray, c2: float,
           r2: FloatArray, c3: float, r3: FloatArray, first: bool) -> None:  # fmt: skip
    """y = [y +] c0 r0 + c1 r1 + c2 r2 + c3 r3 on 1-D rows (vectorised by LLVM)."""
    if first:
        for i in range(y.shape[0]):
            y[i] = c0 * r0[i] + c1 * r1[i] + c2 * r2[i] + c3 * r3[i]
    else:
        for i in range(y.shape[0]):
            y[i] = y[i] + c0 * r0[i] + c1 * r1[i] + c2 * r2[i] + c3 * r3[i]


@kernel()
def _loops(x: FloatArray, wt: FloatArray, dm: FloatArray, z: FloatArray, gt: FloatArray,
           block: int, steps: int) -> None:  # fmt: skip
    """Z = X W^T and G^T = X^T D, with W^T (d, n) stored by rows and the units in blocks;
    d and b must be multiples of 4."""
    b, d = x.shape
    n = wt.shape[1]
    for _ in range(steps):
        for i0 in range(0, n, block):
            i1 = min(i0 + block, n)
            for p in range(b):
                for k in range(0, d, 4):
                    _axpy4(z[p, i0:i1], x[p, k], wt[k, i0:i1], x[p, k + 1], wt[k + 1, i0:i1],
                           x[p, k + 2], wt[k + 2, i0:i1], x[p, k + 3], wt[k + 3, i0:i1],
                           k == 0)  # fmt: skip
            for k in range(d):
                for p in range(0, b, 4):
                    _axpy4(gt[k, i0:i1], x[p, k], dm[p, i0:i1], x[p + 1, k], dm[p + 1, i0:i1],
                           x[p + 2, k], dm[p + 2, i0:i1], x[p + 3, k], dm[p + 3, i0:i1],
                           p == 0)  # fmt: skip


@kernel()
def _blas(x: FloatArray, w: FloatArray, dm: FloatArray, z: FloatArray, g: FloatArray,
          block: int, steps: int) -> None:  # fmt: skip
    """The two products by BLAS, units in blocks stored one after the other (as heavytail
    does, so that each product stays on one OpenBLAS thread)."""
    b = x.shape[0]
    n = w.shape[0]
    for _ in range(steps):
        for i0 in range(0, n, block):
            i1 = min(i0 + block, n)
            zb = z.reshape(b * n)[b * i0 : b * i1].reshape((b, i1 - i0))
            db = dm.reshape(b * n)[b * i0 : b * i1].reshape((b, i1 - i0))
            np.dot(x, w[i0:i1].T, zb)
            np.dot(db.T, x, g[i0:i1])


def matmul_variants(steps: int) -> None:
    """Per-step time of the two products, BLAS from numba against numba loops."""
    print("\nthe two products of a step, one network, numba threads 1 (ms per step):")
    print(f"{'workload':>8} | {'BLAS':>7} | loops, blocks of 128 | 512 | n")
    numba.set_num_threads(1)
    for name, (n, d, b, _) in WORKLOADS.items():
        gen = np.random.default_rng(1)
        x = gen.standard_normal((b, d))
        w = gen.standard_normal((n, d))
        dm = gen.standard_normal((b, n))
        z, g = np.empty((b, n)), np.empty((n, d))
        wt, gt = np.ascontiguousarray(w.T), np.empty((d, n))
        block = max(1, min(n, max(16, 2**18 // (b * d))))  # heavytail's unit block
        _blas(x, w, dm, z, g, block, 1)
        cols = []
        t, _ = timed(partial(_blas, x, w, dm, z, g, block, steps))
        cols.append(t / steps * 1e3)
        ref_z = x @ w.T
        for block in (128, 512, n):
            _loops(x, wt, dm, z, gt, block, 1)
            t, _ = timed(partial(_loops, x, wt, dm, z, gt, block, steps))
            cols.append(t / steps * 1e3)
            assert np.allclose(z, ref_z) and np.allclose(gt.T, dm.T @ x)
            z = np.empty((b, n))
        print(f"{name:>8} | {cols[0]:>7.3f} | " + " | ".join(f"{c:>11.3f}" for c in cols[1:]))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test, not a measurement")
    parser.add_argument("--steps", type=int, default=None, help="steps (default 2000)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 2)")
    parser.add_argument("--ref-replicates", type=int, default=None,
                        help="networks the reference runs for the narrow workload (8)")  # fmt: skip
    parser.add_argument("--matmul", action="store_true", help="also time BLAS against loops")
    args = parser.parse_args()
    steps = args.steps or (100 if args.quick else 2000)
    repeats = args.repeats or (1 if args.quick else 2)
    ref_reps = args.ref_replicates or (2 if args.quick else 8)
    import torch

    print(
        f"bench_mean_field: {steps} steps, best of {repeats}, "
        + machine(
            f"numba threads = {numba.get_num_threads()}",
            f"torch threads = {torch.get_num_threads()}",
        )
        + (" (quick: not a measurement)" if args.quick else "")
    )
    rate = dgemm_rate()
    print(f"machine dgemm rate (numpy, 2048 x 2048): {rate:.1f} GFLOP/s")

    # compile (or load from the disk cache) and warm up before timing
    for n, d, b, reps in WORKLOADS.values():
        heavytail(n, d, b, reps, 2, 0)
        floor(n, d, b, reps, 2, 0)
    reference(8, 2, 2, 1, 2, 0)

    header = (
        f"{'workload':>8} | {'heavytail':>9} {'floor':>7} {'reference':>9} | "
        f"{'ref/ht':>6} {'ht/floor':>8} | {'ht GFLOP/s':>10} {'floor GFLOP/s':>13} | "
        f"{'CPU s: ht':>9} {'floor':>7} {'ref':>7}"
    )
    print("\nwall-clock seconds (best of the rounds), target ratios, rates, CPU seconds:")
    print(header)
    print("-" * len(header))
    for name, (n, d, b, reps) in WORKLOADS.items():
        ref_k = 1 if reps == 1 else min(reps, ref_reps)
        shape = (n, d, b)
        fns: list[Callable[[], object]] = [
            partial(heavytail, *shape, reps, steps, 1),
            partial(floor, *shape, reps, steps, 1),
            partial(reference, *shape, ref_k, steps, 1),
        ]
        times = best_times(fns, repeats)
        (ht, fl, ref), (c_ht, c_fl, c_ref) = times.best, times.best_cpu
        ref *= reps / ref_k
        c_ref *= reps / ref_k
        flops = 4.0 * b * n * d * steps * reps
        note = f" (reference: {ref_k} networks, x {reps // ref_k})" if ref_k < reps else ""
        print(
            f"{name:>8} | {ht:>9.2f} {fl:>7.2f} {ref:>9.2f} | {ref / ht:>6.1f} {ht / fl:>8.2f} "
            f"| {flops / ht / 1e9:>10.1f} {flops / fl / 1e9:>13.1f} | {c_ht:>9.2f} "
            f"{c_fl:>7.2f} {c_ref:>7.2f}{note}",
            flush=True,
        )
    if args.matmul:
        matmul_variants(max(20, steps // 10))


if __name__ == "__main__":
    main()
