"""The networks of claim ``bound.compression``: the setting, the training and the bounds.

Two designs, each an array of runs (run, width, replicate), the runs in the order of
:data:`RUNS`: the noises of :data:`NOISES`, the null (Gaussian noise, another seed) and the
planted positive control (the Gaussian networks with a planted few-unit mass). The trained
design trains mean-field networks with injected noise; the noise-only design draws the law
of the same weights without the gradient, to reach larger widths.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_int
from heavytail.simulate import (
    InjectedNoise,
    MeanFieldData,
    MeanFieldNetwork,
    MeanFieldRun,
    Teacher,
    mean_field_sgd,
)
from heavytail.theory import (
    CompressionBound,
    bounded_loss,
    compression_bound,
    network_output,
    sample_stable,
)

from .._kit.book import FigureData
from .._kit.validation import check_increasing

__all__ = [
    "BoundGrid",
    "BoundSize",
    "Design",
    "fresh_test_sets",
    "noise_only_weights",
    "noise_scale",
    "planted",
    "run_grid",
    "train",
]

IntArray = npt.NDArray[np.int64]

# The setting, fixed before any run (the claim's statement gives the reasons).
#: The noises compared: (label, stable index). 0.8 is on the side alpha < 1 where the
#: ell_1 error of the path masses vanishes relative to their sum; 1.5 on the side (1, 2)
#: where it does not; 2 is the Gaussian, the reference of both.
NOISES: tuple[tuple[str, float], ...] = (("α = 0.8", 0.8), ("α = 1.5", 1.5), ("Gaussian", 2.0))
LIGHT, HEAVY, GAUSS = 0, 1, 2  # indices in NOISES: the alpha < 1 side, the (1, 2) side
#: Runs in the data arrays after the noises: the null (Gaussian, other seed) and the
#: planted positive control (the Gaussian runs with a planted heavy part).
NULL, PLANTED = len(NOISES), len(NOISES) + 1
RUNS = (*(label for label, _ in NOISES), "null: Gaussian, other seed", "planted")
#: The stable index of each noise run, the null's included (Gaussian).
RUN_ALPHAS = (*(alpha for _, alpha in NOISES), 2.0)
DIM = 8
TEACHER = Teacher(n_units=4, activation="tanh", seed=0)
LABEL_NOISE = 0.1
ETA = 0.1
BATCH = 16
MARGIN = 0.5
DELTA = 0.05
#: Training-set size of every trained network.
DATASET_SIZE = 300
#: The injected noise summed over a run has NOISE_FACTOR times the scale 1/sqrt(d) of one
#: initial coordinate: the noise, not the initialisation, sets the column norms.
NOISE_FACTOR = 10.0
#: Planted control: all but ceil(sqrt(n)) units (those of largest path mass) have their
#: second-layer weight multiplied by this factor.
PLANT_SHRINK = 1e-3
#: "Pruning pays": log2 of the chosen kept fraction is at most -1/4, half a step of the
#: grid kappa = 2^(-j/2). The realised fraction ceil(kappa n) / n lies within 1/n above
#: the grid point, so the threshold halfway between j = 0 and j = 1 tells them apart for
#: every n >= 8.
LOG2_KAPPA_PAYS = -0.25


def noise_scale(n_steps: int, alpha: float) -> float:
    """sigma with sigma (eta T)^(1/alpha) = NOISE_FACTOR / sqrt(d): the injected noise
    summed over the run has NOISE_FACTOR times the scale of one initial coordinate."""
    steps = check_int(n_steps, "n_steps", low=1)
    return NOISE_FACTOR / (math.sqrt(DIM) * (ETA * steps) ** (1.0 / alpha))


@dataclass(frozen=True)
class BoundSize:
    """Parameters of one size of ``bound.compression``.

    Attributes
    ----------
    widths : tuple of int
        Widths n of the trained networks, increasing (at least two).
    law_widths : tuple of int
        Widths of the noise-only networks (the law of the trained weights without the
        drift), increasing (at least two).
    replicates : int
        Independent runs per point; the noises of a replicate share the training set,
        the initialisation and the batches.
    n_steps : int
        SGD steps of every run.
    test_size : int
        Fresh test points per run, to estimate its population loss.
    """

    widths: tuple[int, ...]
    law_widths: tuple[int, ...]
    replicates: int
    n_steps: int
    test_size: int

    def __post_init__(self) -> None:
        for name in ("widths", "law_widths"):
            values = getattr(self, name)
            check_increasing(values, name)
            for n in values:
                check_int(n, f"{name}[i]", low=4)
        check_int(self.replicates, "replicates", low=3)
        check_int(self.n_steps, "n_steps", low=1)
        check_int(self.test_size, "test_size", low=2)


def train(n: int, alpha: float, params: BoundSize, seed: int) -> MeanFieldRun:
    """``params.replicates`` networks trained on one training set of DATASET_SIZE points."""
    return mean_field_sgd(
        n,
        DIM,
        eta=ETA,
        batch_size=BATCH,
        n_steps=params.n_steps,
        n_replicates=params.replicates,
        network=MeanFieldNetwork(
            activation="tanh", loss="logistic", train_second_layer=True, second_layer_init="normal"
        ),
        data=MeanFieldData(
            teacher=TEACHER,
            label_noise=LABEL_NOISE,
            inputs="sphere",
            dataset_size=DATASET_SIZE,
            test_size=0,
        ),
        injected_noise=InjectedNoise(alpha, noise_scale(params.n_steps, alpha), "unit"),
        rng=seed,
    )


def fresh_test_sets(params: BoundSize, seed: int) -> tuple[FloatArray, FloatArray]:
    """One fresh test set per replicate, from the simulator's own data law (a one-step
    run's test set, split): x (replicate, point, d) and y (replicate, point)."""
    r, t = params.replicates, params.test_size
    run = mean_field_sgd(
        1,
        DIM,
        eta=ETA,
        batch_size=1,
        n_steps=1,
        network=MeanFieldNetwork(loss="logistic"),
        data=MeanFieldData(
            teacher=TEACHER, label_noise=LABEL_NOISE, inputs="sphere", test_size=r * t
        ),
        rng=seed,
    )
    return run.x_test.reshape(r, t, DIM), run.y_test.reshape(r, t)


def noise_only_weights(n: int, alpha: float, seed: int) -> tuple[FloatArray, FloatArray]:
    """The trained networks' law with the gradient switched off: W = W_0 + the injected
    noise summed over the run, a = a_0.

    W_0 ~ N(0, 1/d) and a_0 ~ N(0, 1) as the simulator draws them; the sum of T i.i.d.
    stable steps sigma eta^(1/alpha) L_t is sigma (eta T)^(1/alpha) L exactly, that is
    NOISE_FACTOR / sqrt(d) times a standard symmetric alpha-stable L. One seed gives every
    alpha the same W_0, a_0 and uniform stream (paired).
    """
    init, noise = np.random.default_rng(seed).spawn(2)
    w0 = init.standard_normal((n, DIM)) / math.sqrt(DIM)
    a0 = init.standard_normal(n)
    w = w0 + NOISE_FACTOR / math.sqrt(DIM) * sample_stable(alpha, (n, DIM), rng=noise)
    return w, a0


def planted(w: FloatArray, a: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The positive control: the same network with all but its ceil(sqrt(n)) units of
    largest path mass scaled down by PLANT_SHRINK in the second layer, so that a few
    units carry the mass and pruning provably pays: the bound keeps about sqrt(n)
    units, and its ratio to the unplanted network's falls like n^(-1/4)."""
    n = a.size
    k = math.ceil(math.sqrt(n))
    mass = np.abs(a) * np.linalg.norm(w, axis=1)
    keep = np.argsort(-mass, kind="stable")[:k]
    out = a * PLANT_SHRINK
    out[keep] = a[keep]
    return w, out


def _ramp(outputs: FloatArray, y: FloatArray) -> float:
    return float(bounded_loss(outputs, y, margin=MARGIN).mean())


def _bound(w: FloatArray, a: FloatArray, train_loss: float | None = None) -> CompressionBound:
    return compression_bound(
        w,
        a,
        input_radius=math.sqrt(DIM),
        m=DATASET_SIZE,
        delta=DELTA,
        margin=MARGIN,
        phi="tanh",
        train_loss=train_loss,
    )


@dataclass(frozen=True, eq=False)
class Design(FigureData):
    """The bounds of one design's networks, arrays of shape (run, width, replicate).

    Attributes
    ----------
    name : str
        ``"trained"`` or ``"noise-only law"``.
    widths : ndarray of int
    bound : ndarray
        The bound on L_D(f) - L_S(f).
    kappa : ndarray
        The kept fraction the bound chose.
    """

    name: str
    widths: IntArray
    bound: FloatArray
    kappa: FloatArray


@dataclass(frozen=True, eq=False)
class BoundGrid:
    """The bounds of both designs; per trained run, the losses.

    Attributes
    ----------
    trained, law : Design
        The trained networks and the noise-only networks.
    log_ratio : ndarray, shape (run, width, replicate)
        Trained networks: log_cover / q at the chosen point (the average log count per
        parameter).
    train_loss, test_loss : ndarray, shape (noise, width, replicate)
        Ramp loss on the training set and on the run's own fresh test set.
    curve_kappas : ndarray
        The kept fractions of the bound's grid at the largest noise-only width.
    curves : ndarray, shape (run, kappa)
        The bound at each kept fraction there, first replicate.
    params : BoundSize
    """

    trained: Design
    law: Design
    log_ratio: FloatArray
    train_loss: FloatArray
    test_loss: FloatArray
    curve_kappas: FloatArray
    curves: FloatArray
    params: BoundSize

    @property
    def designs(self) -> tuple[Design, Design]:
        """The trained design, then the noise-only one."""
        return self.trained, self.law


def run_grid(params: BoundSize, rng: np.random.Generator) -> BoundGrid:
    """Train and bound the networks of both designs."""
    reps = params.replicates
    seeds = rng.integers(0, 2**63, size=(len(params.widths), 3))
    law_seeds = rng.integers(0, 2**63, size=(len(params.law_widths), reps, 2))
    trained, log_ratio, train_loss, test_loss = _trained(params, seeds)
    law, curve_kappas, curves = _noise_only(params, law_seeds)
    return BoundGrid(trained, law, log_ratio, train_loss, test_loss, curve_kappas, curves, params)


def _trained(
    params: BoundSize, seeds: npt.NDArray[np.int64]
) -> tuple[Design, FloatArray, FloatArray, FloatArray]:
    """The trained design, the log count per parameter, and the train and test losses;
    ``seeds[i]``: the noises' seed, the null's and the test sets' at width i."""
    ns, reps = np.array(params.widths), params.replicates
    shape = (len(RUNS), ns.size, reps)
    gap_bound, kappa, ell = np.empty(shape), np.empty(shape), np.empty(shape)
    train_loss = np.empty((len(NOISES), ns.size, reps))
    test_loss = np.empty_like(train_loss)
    for i, n in enumerate(params.widths):
        x_test, y_test = fresh_test_sets(params, int(seeds[i, 2]))
        for e, alpha in enumerate(RUN_ALPHAS):
            seed = int(seeds[i, 1] if e == NULL else seeds[i, 0])  # noises paired, null not
            run = train(n, alpha, params, seed)
            if run.n_diverged:
                raise RuntimeError(f"{run.n_diverged} replicates diverged at n = {n}")
            assert run.x_train is not None and run.y_train is not None  # finite-sum mode
            f_train = run.outputs(run.x_train) if e < NULL else None
            for r in range(reps):
                loss = None
                if f_train is not None:
                    loss = _ramp(f_train[r], run.y_train)
                    train_loss[e, i, r] = loss
                    out = network_output(run.w[r], run.a[r], x_test[r], "tanh")
                    test_loss[e, i, r] = _ramp(out, y_test[r])
                b = _bound(run.w[r], run.a[r], loss)
                gap_bound[e, i, r], kappa[e, i, r] = b.gap_bound, b.kappa
                ell[e, i, r] = b.log_cover / b.n_parameters
                if e == GAUSS:
                    p = _bound(*planted(run.w[r], run.a[r]))
                    gap_bound[PLANTED, i, r], kappa[PLANTED, i, r] = p.gap_bound, p.kappa
                    ell[PLANTED, i, r] = p.log_cover / p.n_parameters
    design = Design("trained", ns.astype(np.int64), gap_bound, kappa)
    return design, ell, train_loss, test_loss


def _noise_only(
    params: BoundSize, seeds: npt.NDArray[np.int64]
) -> tuple[Design, FloatArray, FloatArray]:
    """The noise-only design, and the bound against the kept fraction at the largest
    width (first replicate); ``seeds[i, r]``: the noises' seed and the null's."""
    law_ns, reps = np.array(params.law_widths), params.replicates
    law_shape = (len(RUNS), law_ns.size, reps)
    law_bound, law_kappa = np.empty(law_shape), np.empty(law_shape)
    curves: list[FloatArray] = [np.empty(0)] * len(RUNS)
    curve_kappas = np.empty(0)
    for (i, n), r in itertools.product(enumerate(params.law_widths), range(reps)):
        for e, alpha in enumerate(RUN_ALPHAS):
            seed = int(seeds[i, r, 1 if e == NULL else 0])
            w, a = noise_only_weights(n, alpha, seed)
            nets = [(e, w, a)] + ([(PLANTED, *planted(w, a))] if e == GAUSS else [])
            for k, ww, aa in nets:
                b = _bound(ww, aa)
                law_bound[k, i, r], law_kappa[k, i, r] = b.gap_bound, b.kappa
                if i == law_ns.size - 1 and r == 0:
                    curve_kappas = np.asarray(b.kappas)
                    curves[k] = np.asarray(b.gap_bound_curve)
    design = Design("noise-only law", law_ns.astype(np.int64), law_bound, law_kappa)
    return design, curve_kappas, np.array(curves)
