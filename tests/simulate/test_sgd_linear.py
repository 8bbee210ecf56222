"""The SGD simulator against a plain-Python reference, and its modes, recordings and checks.

The reference below runs one chain at a time in the draw order documented in
``heavytail.simulate._sgd_linear_kernel`` and does the arithmetic with numpy vector
operations (``A.T @ (A x - y)``): it shares no code with the kernel, so agreement to
rounding checks the recursion, the modes, the recordings and the random streams together.
(numba's Generator methods return the same numbers as numpy's for the same state.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heavytail.simulate import (
    CHUNK_SIZE,
    DIVERGENCE_BOUND,
    InjectedNoise,
    Recording,
    SharedDataset,
    _sgd_linear,
    sgd_linear_regression,
)
from heavytail.simulate._sgd_linear_kernel import sgd_kernel
from heavytail.theory import DivergenceWarning, InvalidArgumentError, sgd_lyapunov_exponent

from .._reference import positive_stable, symmetric_stable

FloatArray = npt.NDArray[np.float64]

# Agreement with the reference: the kernel sums in a different order than numpy's
# matrix products, so the two differ by rounding, amplified at most by the contraction
# factors along a chain (|1 - c X| < 10 here over 60 steps). 1e-9 relative is far above
# that and far below any real difference (a wrong draw changes the numbers at O(1)).
RTOL = 1e-9


@dataclass
class ChainRef:
    """One chain: final iterate (NaN if it diverged), every iterate up to then, the step
    at which it diverged (-1 if it did not)."""

    x: FloatArray
    path: list[FloatArray]
    diverged_at: int


def _draw_points(
    gen: np.random.Generator, n: int, dim: int, sigma: float, noise_std: float, x_star: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """n points in the kernel's order: each point's dim features, then its label noise."""
    a = np.empty((n, dim))
    y = np.empty(n)
    for p in range(n):
        a[p] = sigma * gen.standard_normal(dim)
        y[p] = a[p] @ x_star + noise_std * gen.standard_normal()
    return a, y


def reference_chain(
    gen: np.random.Generator,
    *,
    eta: float,
    b: int,
    dim: int,
    sigma: float,
    noise_std: float,
    x_star: FloatArray,
    n_steps: int,
    m: int = 0,
    dataset: tuple[FloatArray, FloatArray] | None = None,
    inject: tuple[str, float, float] | None = None,
    bound: float = 1e150,
) -> ChainRef:
    """Run one chain from ``gen``; ``m > 0`` is the finite-sum mode.

    ``dataset`` is the shared dataset, or None to draw the chain's own (finite-sum) one.
    ``inject`` is (kind, alpha, sigma_inj).
    """
    if m and dataset is None:
        dataset = _draw_points(gen, m, dim, sigma, noise_std, x_star)
    x = np.zeros(dim)
    path: list[FloatArray] = []
    perm = np.arange(m)
    pos = m
    for k in range(1, n_steps + 1):
        if m == 0:
            a, y = _draw_points(gen, b, dim, sigma, noise_std, x_star)
        else:
            assert dataset is not None
            if pos + b > m:
                if b < m:
                    for i in range(m - 1, 0, -1):  # Fisher-Yates, as documented
                        j = gen.integers(0, i + 1)
                        perm[i], perm[j] = perm[j], perm[i]
                pos = 0
            idx = perm[pos : pos + b]
            a, y = dataset[0][idx], dataset[1][idx]
            pos += b
        x = x - (eta / b) * (a.T @ (a @ x - y))
        if inject is not None:
            kind, alpha, scale = inject
            factor = scale * eta ** (1.0 / alpha)
            if kind == "unit":  # one scalar for the whole iterate
                x = x + factor * symmetric_stable(gen, alpha)
            elif kind == "iid":
                x = x + factor * np.array([symmetric_stable(gen, alpha) for _ in range(dim)])
            else:
                r = math.sqrt(2.0 * positive_stable(gen, 0.5 * alpha))
                x = x + factor * r * gen.standard_normal(dim)
        if not np.all(np.abs(x) <= bound):
            return ChainRef(x=np.full(dim, np.nan), path=path, diverged_at=k)
        path.append(x.copy())
    return ChainRef(x=x, path=path, diverged_at=-1)


def _chunk_generators(seed: int, n_chains: int) -> tuple[np.random.Generator, list[Any]]:
    """The streams the simulator documents: one for a shared dataset, then one per chunk."""
    n_chunks = -(-n_chains // CHUNK_SIZE)
    data_gen, *chunk_gens = np.random.default_rng(seed).spawn(n_chunks + 1)
    return data_gen, chunk_gens


def _reference_run(seed: int, n_chains: int, chains: list[int], **kw: Any) -> dict[int, ChainRef]:
    """Reference chains ``chains`` (sorted) of a run, replaying each chunk's stream."""
    data_gen, gens = _chunk_generators(seed, n_chains)
    shared = kw.pop("shared", False)
    dataset = None
    if shared:
        dataset = _draw_shared(data_gen, kw["m"], kw["dim"], kw["sigma"], kw["noise_std"],
                               kw["x_star"])  # fmt: skip
    out: dict[int, ChainRef] = {}
    done_in_chunk: dict[int, int] = {}
    for i in chains:
        c = i // CHUNK_SIZE
        # chains of a chunk run one after another on the chunk's stream: replay the
        # chains before i in the chunk to put the stream where the kernel has it
        start = done_in_chunk.get(c, c * CHUNK_SIZE)
        for j in range(start, i + 1):
            ref = reference_chain(gens[c], dataset=dataset, **kw)
            if j == i:
                out[i] = ref
        done_in_chunk[c] = i + 1
    return out


def _draw_shared(
    gen: np.random.Generator, m: int, dim: int, sigma: float, noise_std: float, x_star: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The shared dataset as documented: all features at once, then all label noises."""
    a = sigma * gen.standard_normal((m, dim))
    return a, a @ x_star + noise_std * gen.standard_normal(m)


CASES: dict[str, dict[str, Any]] = {
    # online, dim 1: the kernel's scalar fast path; b = 3
    "online-1d": dict(eta=0.4, b=3, dim=1, sigma=1.3, noise_std=0.7, x_star=np.array([0.5])),
    # online, dim 3: the general path
    "online-3d": dict(eta=0.3, b=2, dim=3, sigma=1.0, noise_std=1.0,
                      x_star=np.array([1.0, -2.0, 0.5])),
    # finite-sum, one dataset per chain, m not a multiple of b (leftover points)
    "finite-own": dict(eta=0.2, b=3, dim=2, sigma=1.0, noise_std=0.5,
                       x_star=np.array([1.0, 1.0]), m=11),
    # finite-sum on one shared dataset
    "finite-shared": dict(eta=0.2, b=4, dim=2, sigma=0.8, noise_std=1.0,
                          x_star=np.array([0.0, 3.0]), m=12, shared=True),
    # full batch: gradient descent on each chain's dataset, no shuffle
    "full-batch": dict(eta=0.1, b=6, dim=2, sigma=1.0, noise_std=1.0,
                       x_star=np.array([1.0, 0.0]), m=6),
    # injected noise, i.i.d. coordinates, on the 1-D fast path and on the general path
    "inject-iid-1d": dict(eta=0.3, b=1, dim=1, sigma=1.0, noise_std=1.0,
                          x_star=np.array([0.0]), inject=("iid", 1.5, 0.2)),
    "inject-iid-2d": dict(eta=0.3, b=1, dim=2, sigma=1.0, noise_std=1.0,
                          x_star=np.array([0.0, 1.0]), inject=("iid", 0.7, 0.1)),
    # one scalar per step added to every coordinate (the iterate is one unit), both paths
    "inject-unit-1d": dict(eta=0.3, b=1, dim=1, sigma=1.0, noise_std=1.0,
                           x_star=np.array([0.0]), inject=("unit", 1.5, 0.2)),
    "inject-unit-3d": dict(eta=0.3, b=2, dim=3, sigma=1.0, noise_std=1.0,
                           x_star=np.array([0.0, 1.0, -1.0]), inject=("unit", 1.3, 0.1)),
    # elliptic injection, both paths
    "inject-ell-1d": dict(eta=0.3, b=2, dim=1, sigma=1.0, noise_std=1.0,
                          x_star=np.array([2.0]), inject=("elliptic", 1.2, 0.3)),
    "inject-ell-3d": dict(eta=0.2, b=2, dim=3, sigma=1.0, noise_std=1.0,
                          x_star=np.zeros(3), inject=("elliptic", 1.8, 0.3)),
}  # fmt: skip


def _simulate(case: dict[str, Any], seed: int, n_chains: int, n_steps: int, **kw: Any) -> Any:
    inject = case.get("inject")
    m = case.get("m")
    return sgd_linear_regression(
        case["eta"],
        case["b"],
        dim=case["dim"],
        sigma=case["sigma"],
        noise_std=case["noise_std"],
        x_star=case["x_star"],
        dataset_size=None if m is None else (SharedDataset(m) if case.get("shared") else m),
        injected_noise=None if inject is None else InjectedNoise(inject[1], inject[2], inject[0]),
        n_chains=n_chains,
        n_steps=n_steps,
        rng=seed,
        **kw,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_matches_the_python_reference(name: str) -> None:
    case = CASES[name]
    seed, n_chains, n_steps, burn_in, every = 7, CHUNK_SIZE + 5, 40, 10, 3
    run = _simulate(
        case, seed, n_chains, n_steps, burn_in=burn_in,
        record=Recording(trajectory_every=every, polyak_average=True),
    )  # fmt: skip
    # both chunks; the last chain of the first chunk in one case only (replaying the
    # 1023 chains before it in Python is the slow part of this test)
    chains = [0, 1, CHUNK_SIZE, CHUNK_SIZE + 4]
    if name == "online-3d":
        chains.insert(2, CHUNK_SIZE - 1)
    kw = {k: v for k, v in case.items() if k not in ("b",)}
    refs = _reference_run(seed, n_chains, chains, b=case["b"], n_steps=n_steps, **kw)
    assert run.n_diverged == 0
    steps = np.arange(burn_in + every, n_steps + 1, every)
    np.testing.assert_array_equal(run.recorded_steps, steps)
    for i, ref in refs.items():
        assert ref.diverged_at == -1
        path = np.array(ref.path)
        scale = np.abs(path).max()
        np.testing.assert_allclose(run.iterates[i], ref.x, rtol=RTOL, atol=RTOL * scale)
        assert run.trajectory is not None and run.polyak_average is not None
        np.testing.assert_allclose(run.trajectory[i], path[steps - 1], rtol=RTOL, atol=RTOL * scale)
        np.testing.assert_allclose(
            run.polyak_average[i], path[burn_in:].mean(axis=0), rtol=RTOL, atol=RTOL * scale
        )
    if case.get("shared"):
        data_gen, _ = _chunk_generators(seed, n_chains)
        a, y = _draw_shared(data_gen, case["m"], case["dim"], case["sigma"], case["noise_std"],
                            case["x_star"])  # fmt: skip
        np.testing.assert_array_equal(run.features, a)
        np.testing.assert_array_equal(run.labels, y)
    else:
        assert run.features is None and run.labels is None


def test_reference_check_has_power() -> None:
    """Negative control: the comparison above fails for a slightly different model."""
    case = CASES["online-3d"]
    run = _simulate(case, 7, 10, 40)
    kw = {k: v for k, v in case.items() if k not in ("b", "eta")}
    wrong_eta = _reference_run(7, 10, [0], b=2, eta=0.3 * (1 + 1e-6), n_steps=40, **kw)[0]
    wrong_seed = _reference_run(8, 10, [0], b=2, eta=0.3, n_steps=40, **kw)[0]
    right = _reference_run(7, 10, [0], b=2, eta=0.3, n_steps=40, **kw)[0]
    np.testing.assert_allclose(run.iterates[0], right.x, rtol=RTOL)
    for wrong in (wrong_eta, wrong_seed):
        assert not np.allclose(run.iterates[0], wrong.x, rtol=RTOL, atol=0.0)


def test_first_chains_do_not_depend_on_later_ones() -> None:
    case = CASES["inject-iid-2d"]
    small = _simulate(case, 3, CHUNK_SIZE + 1, 30)
    large = _simulate(case, 3, 3 * CHUNK_SIZE, 30)
    np.testing.assert_array_equal(small.iterates, large.iterates[: CHUNK_SIZE + 1])


def test_same_seed_same_numbers_and_other_seed_other_numbers() -> None:
    case = CASES["finite-own"]
    a = _simulate(case, 11, 50, 30).iterates
    b = _simulate(case, 11, 50, 30).iterates
    c = _simulate(case, 12, 50, 30).iterates
    np.testing.assert_array_equal(a, b)
    assert not np.any(a == c)


def test_full_batch_converges_to_least_squares_on_the_shared_dataset() -> None:
    """b = m is gradient descent: every chain reaches the least-squares fit of the data.

    Independent of the reference: x_ls from ``np.linalg.lstsq``. GD with step eta = 0.5
    contracts the error x - x_ls by max |1 - eta lambda| <= 0.85 per step (lambda the
    eigenvalues of A^T A / m, all in (0.3, 2) for this seed), so after 400 steps it is
    below 0.85^400 = 5e-29 of |x_ls|: only rounding (1e-12 relative is generous) remains.
    """
    m, dim = 40, 3
    run = sgd_linear_regression(
        0.5, m, dim=dim, n_chains=3, n_steps=400, x_star=[1.0, -1.0, 2.0],
        dataset_size=SharedDataset(m), rng=5,
    )  # fmt: skip
    assert run.features is not None and run.labels is not None
    x_ls = np.linalg.lstsq(run.features, run.labels, rcond=None)[0]
    lam = np.linalg.eigvalsh(run.features.T @ run.features / m)
    assert lam.min() > 0.3 and lam.max() < 2.0
    np.testing.assert_allclose(run.iterates, np.tile(x_ls, (3, 1)), rtol=1e-12, atol=1e-12)
    # the noise is real: x_ls is not x_star, so the test would notice a wrong target
    assert np.abs(x_ls - [1.0, -1.0, 2.0]).max() > 1e-2


def test_one_epoch_uses_every_point_once() -> None:
    """Batches without replacement, epoch by epoch.

    With m = K b and a tiny eta, K steps from x_0 = 0 give, to first order in eta,
    x_K = (eta / b) sum_{i <= m} a_i y_i: every point once, whatever the order (the
    order enters at O(eta^2), relative size eta K max|a|^2 < 1e-4 here). Sampling with
    replacement would miss about a third of the points (relative change O(1)); the check
    runs over 200 chains, each with its own shuffle.
    """
    m, b, dim, eta = 12, 3, 2, 1e-6
    run = sgd_linear_regression(
        eta, b, dim=dim, n_chains=200, n_steps=m // b, x_star=[1.0, -1.0],
        dataset_size=SharedDataset(m), rng=9,
    )  # fmt: skip
    assert run.features is not None and run.labels is not None
    first_order = (eta / b) * run.features.T @ run.labels
    np.testing.assert_allclose(run.iterates, np.tile(first_order, (200, 1)), rtol=1e-4)
    # negative control: one point fewer (what a batch drawn with replacement misses)
    drop_one = (eta / b) * run.features[1:].T @ run.labels[1:]
    assert not np.allclose(run.iterates[0], drop_one, rtol=1e-4)


def test_per_chain_datasets_differ_and_shared_dataset_chains_agree_under_gd() -> None:
    own = sgd_linear_regression(0.1, 5, dim=2, n_chains=4, n_steps=50, dataset_size=5, rng=1)
    shared = sgd_linear_regression(
        0.1, 5, dim=2, n_chains=4, n_steps=50, dataset_size=SharedDataset(5), rng=1
    )
    # full batch on one dataset: deterministic after the dataset, so all chains agree
    np.testing.assert_array_equal(shared.iterates, np.tile(shared.iterates[0], (4, 1)))
    assert len({tuple(row) for row in own.iterates}) == 4


# ---------------------------------------------------------------------------- fast path


@pytest.mark.parametrize(
    "noise",
    [
        None,
        InjectedNoise(1.5, 0.05),
        InjectedNoise(1.4, 0.05, "unit"),
        InjectedNoise(1.2, 0.05, "elliptic"),
    ],
)
def test_dim1_fast_path_is_bit_identical_to_the_general_path(
    monkeypatch: pytest.MonkeyPatch, noise: InjectedNoise | None
) -> None:
    """The online dim-1 kernel keeps the iterate in a scalar; the general kernel, run in
    its place, must give the same numbers to the bit (same draws, same arithmetic in the
    same order), records and divergence steps included."""
    kw: dict[str, Any] = dict(
        n_chains=CHUNK_SIZE + 50, n_steps=370, burn_in=20, x_star=[0.5], sigma=1.0,
        noise_std=0.7, injected_noise=noise, rng=5,
        record=Recording(trajectory_every=7, polyak_average=True),
    )  # fmt: skip
    with pytest.warns(DivergenceWarning):  # eta = 8: about half the chains diverge
        fast = sgd_linear_regression(8.0, 1, **kw)
    monkeypatch.setattr(_sgd_linear, "online_1d_kernel", sgd_kernel)
    with pytest.warns(DivergenceWarning):
        general = sgd_linear_regression(8.0, 1, **kw)
    assert 100 < fast.n_diverged < CHUNK_SIZE  # both outcomes are compared
    for name in ("iterates", "divergence_step", "trajectory", "polyak_average"):
        np.testing.assert_array_equal(getattr(general, name), getattr(fast, name))
    # negative control: the comparison sees a change in the last bit of eta
    with pytest.warns(DivergenceWarning):
        nudged = sgd_linear_regression(np.nextafter(8.0, 9.0), 1, **kw)
    assert not np.array_equal(nudged.iterates, general.iterates, equal_nan=True)


# ---------------------------------------------------------------------------- divergence


def test_divergence_is_marked_counted_and_warned() -> None:
    """rho > 0: log|x_k| grows like rho k, so chains cross DIVERGENCE_BOUND = e^345.4.

    eta = 8, b = 1, dim 1: rho = E log|1 - 8 X|, X ~ chi2_1, is 0.93 (from theory), and
    the per-step variance of log|1 - 8 X| is about 2.7, so the crossing step is about
    345.4 / 0.93 = 371 with a spread of about sqrt(371 * 2.7) / 0.93 = 34 steps: after
    1000 steps (19 spreads later) every chain has crossed.
    """
    rho = sgd_lyapunov_exponent(8.0, 1)
    assert 0.8 < rho < 1.1
    with pytest.warns(DivergenceWarning, match=r"^300 of 300 chains diverged"):
        run = sgd_linear_regression(8.0, 1, n_chains=300, n_steps=1000, rng=2)
    assert run.n_diverged == 300 and run.diverged.all()
    assert np.isnan(run.iterates).all()
    # the median crossing step is log(1e150) / rho up to the first step's offset
    # (log|x_1| = O(1)) and the median's noise (34 / sqrt(300) = 2 steps): 10% is
    # 37 steps; a bound at 1e100 or 1e200, or a wrong step count, would be far outside
    expected = math.log(DIVERGENCE_BOUND) / rho
    med = float(np.median(run.divergence_step))
    assert 0.9 * expected < med < 1.1 * expected, (med, expected)


def test_partial_divergence_keeps_every_chain() -> None:
    """Some chains diverge and others do not: both kinds are kept, in their rows."""
    n_steps = 370  # about the median crossing step (see the test above)
    with pytest.warns(DivergenceWarning, match="chains diverged") as rec:
        run = sgd_linear_regression(
            8.0, 1, n_chains=400, n_steps=n_steps, rng=4,
            record=Recording(trajectory_every=10, polyak_average=True),
        )  # fmt: skip
    n_div = run.n_diverged
    assert 50 < n_div < 350
    assert str(rec[0].message).startswith(f"{n_div} of 400 chains diverged")
    assert run.iterates.shape == (400, 1)
    div = run.diverged
    np.testing.assert_array_equal(np.isnan(run.iterates[:, 0]), div)
    assert np.all(np.abs(run.iterates[~div]) <= DIVERGENCE_BOUND)
    assert np.all((run.divergence_step[div] >= 1) & (run.divergence_step[div] <= n_steps))
    assert np.all(run.divergence_step[~div] == -1)
    # records before the divergence step are kept, the ones from it on are NaN
    assert run.trajectory is not None and run.recorded_steps is not None
    for i in np.flatnonzero(div)[:20]:
        before = run.recorded_steps < run.divergence_step[i]
        assert np.isfinite(run.trajectory[i, before]).all()
        assert np.isnan(run.trajectory[i, ~before]).all()
    assert run.polyak_average is not None
    np.testing.assert_array_equal(np.isnan(run.polyak_average[:, 0]), div)


def test_no_warning_without_divergence() -> None:
    run = sgd_linear_regression(0.5, 1, n_chains=100, n_steps=100, rng=0)  # warnings are errors
    assert run.n_diverged == 0 and not run.diverged.any()
    assert np.all(run.divergence_step == -1) and np.isfinite(run.iterates).all()


# ---------------------------------------------------------------------------- results


def test_result_arrays_are_read_only_and_settings_recorded() -> None:
    run = sgd_linear_regression(0.5, 2, dim=2, n_chains=5, n_steps=10, record="average", rng=0)
    assert run.iterates.shape == (5, 2)
    with pytest.raises(ValueError, match="read-only"):
        run.iterates[0, 0] = 1.0
    assert run.polyak_average is not None and run.trajectory is None
    assert run.settings["eta"] == 0.5 and run.settings["batch_size"] == 2
    assert run.settings["record"] == Recording(polyak_average=True)
    with pytest.raises(TypeError):
        run.settings["eta"] = 1.0  # type: ignore[index]


def test_record_shorthands() -> None:
    run = sgd_linear_regression(
        0.5, 1, n_chains=3, n_steps=20, burn_in=5, record=("trajectory", 5), rng=0
    )
    assert run.trajectory is not None and run.trajectory.shape == (3, 3, 1)
    np.testing.assert_array_equal(run.recorded_steps, [10, 15, 20])
    np.testing.assert_array_equal(run.trajectory[:, -1], run.iterates)


# ---------------------------------------------------------------------------- input checks

GOOD: dict[str, Any] = dict(eta=0.5, batch_size=2, n_chains=4, n_steps=5)


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        (dict(eta=0.0), "eta"),
        (dict(eta=-1.0), "eta"),
        (dict(eta=math.nan), "eta"),
        (dict(eta=math.inf), "eta"),
        (dict(batch_size=0), "batch_size"),
        (dict(batch_size=-2), "batch_size"),
        (dict(batch_size=2.0), "batch_size"),
        (dict(n_chains=0), "n_chains"),
        (dict(n_chains=-1), "n_chains"),
        (dict(n_steps=0), "n_steps"),
        (dict(n_steps=-5), "n_steps"),
        (dict(dim=0), "dim"),
        (dict(dim=-1), "dim"),
        (dict(sigma=0.0), "sigma"),
        (dict(sigma=-1.0), "sigma"),
        (dict(noise_std=-0.1), "noise_std"),
        (dict(x_star=[1.0, 2.0]), "x_star"),
        (dict(x_star=[math.nan]), "x_star"),
        (dict(dataset_size=0), "dataset_size"),
        (dict(dataset_size=1), "batch_size"),  # b = 2 > m = 1
        (dict(dataset_size=SharedDataset(1)), "batch_size"),
        (dict(injected_noise="stable"), "injected_noise"),
        # sigma_inj eta^(1/alpha): 2^500 = 3e150 is above the bound, 0.5^1000 = 9e-302 below 1e-300
        (dict(eta=2.0, injected_noise=InjectedNoise(0.002, 1.0)), "injected_noise"),
        (dict(eta=0.5, injected_noise=InjectedNoise(0.001, 1.0)), "injected_noise"),
        (dict(burn_in=-1), "burn_in"),
        (dict(burn_in=6), "burn_in"),
        (dict(burn_in=5, record="average"), "burn_in"),
        (dict(record="mean"), "record"),
        (dict(record=("trajectory", 0)), r"record\[1\]"),
        (dict(record=("trajectory", 6)), "trajectory_every"),
        (dict(rng=-1), "rng"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(changes: dict[str, Any], name: str) -> None:
    kw = {**GOOD, **changes}
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        sgd_linear_regression(**kw)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: InjectedNoise(0.0, 1.0), "alpha"),
        (lambda: InjectedNoise(2.5, 1.0), "alpha"),
        (lambda: InjectedNoise(1.5, 0.0), "scale"),
        (lambda: InjectedNoise(1.5, 1.0, "gaussian"), "kind"),  # type: ignore[arg-type]
        (lambda: InjectedNoise(1.5, 1.0, 2), "kind"),  # type: ignore[arg-type]
        (lambda: Recording(), "Recording"),
        (lambda: Recording(trajectory_every=0), "trajectory_every"),
        (lambda: Recording(polyak_average=1), "polyak_average"),  # type: ignore[arg-type]
        (lambda: SharedDataset(0), "size"),
    ],
)
def test_bad_options_are_refused(make: Any, name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        make()


# ---------------------------------------------------------------------------- invariances

# The draws are standard normals scaled by sigma and noise_std, so with the same seed the
# chains of two settings correspond draw for draw; these identities then hold up to
# rounding (relative 1e-9: a few hundred roundings of 1e-16, amplified along 30 steps
# by factors |1 - c X| of order 1).


@settings(max_examples=15)
@given(
    c=st.floats(0.25, 4.0),
    seed=st.integers(0, 2**32 - 1),
    dim=st.sampled_from([1, 3]),
    b=st.integers(1, 4),
    m=st.sampled_from([None, 9]),
)
def test_scaling_sigma_and_eta_scales_the_iterates(
    c: float, seed: int, dim: int, b: int, m: int | None
) -> None:
    """With x* = 0, (eta, sigma) -> (eta / c^2, c sigma) keeps M_k = I - (eta/b) sum a a^T
    and divides q_k = (eta/b) sum a_i noise z_i by c: every iterate is divided by c."""
    kw: dict[str, Any] = dict(dim=dim, n_chains=7, n_steps=30, dataset_size=m, rng=seed)
    base = sgd_linear_regression(0.2, b, sigma=1.0, **kw)
    scaled = sgd_linear_regression(0.2 / c**2, b, sigma=c, **kw)
    np.testing.assert_allclose(scaled.iterates, base.iterates / c, rtol=1e-9, atol=0.0)


@settings(max_examples=15)
@given(
    s=st.floats(0.1, 10.0),
    seed=st.integers(0, 2**32 - 1),
    dim=st.sampled_from([1, 2]),
    b=st.integers(1, 3),
)
def test_iterates_are_linear_in_the_label_noise(s: float, seed: int, dim: int, b: int) -> None:
    """With x* = 0 and x_0 = 0, x_k = sum_j M_k ... M_{j+1} q_j is linear in noise_std."""
    kw: dict[str, Any] = dict(dim=dim, n_chains=5, n_steps=30, rng=seed)
    one = sgd_linear_regression(0.3, b, noise_std=1.0, **kw)
    many = sgd_linear_regression(0.3, b, noise_std=s, **kw)
    np.testing.assert_allclose(many.iterates, s * one.iterates, rtol=1e-9, atol=0.0)
    # and with no label noise the iterates stay exactly at x_0 = x* = 0
    none = sgd_linear_regression(0.3, b, noise_std=0.0, **kw)
    assert np.all(none.iterates == 0.0)
