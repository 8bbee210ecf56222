"""Mean-field two-layer networks trained by (heavy-tailed) SGD, many replicates at once.

The model of docs/theory.md, section 6: f(x) = (1/n) sum_i a_i phi(w_i . x), trained by
mini-batch SGD in the mean-field scaling, with the optional alpha-stable noise injection
of Wan, Barsbey, Zaidi & Şimşekli (ICML 2024).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from numba import get_num_threads
from numba.typed import List as TypedList

from heavytail._lib._errors import DivergenceWarning, InvalidArgumentError
from heavytail._lib._rng import RngLike, spawn_generators
from heavytail._lib._validation import (
    as_sample,
    check_allocation,
    check_choice,
    check_int,
    check_real,
)

from ._mean_field_kernel import STEPS, EvalSets, Modes, Outputs, Params, Plan, call
from ._mean_field_modes import ACTIVATIONS, BATCHES, LOSSES, NOISES, DataArrays
from ._mean_field_options import Activation, MeanFieldNoise, MeanFieldRecording, Teacher

__all__ = [
    "MEAN_FIELD_BOUND",
    "MeanFieldNoise",
    "MeanFieldRecording",
    "MeanFieldRun",
    "Teacher",
    "mean_field_sgd",
]

FloatArray = npt.NDArray[np.float64]

MEAN_FIELD_BOUND = 1e50
"""A replicate diverges when an entry of W or a is non-finite or exceeds this in absolute
value. Below it, the pre-activations, the outputs, the squared loss and the gradients of
one more step stay far inside the double range for any sane ``dim`` (relu makes the
output quadratic and the gradient cubic in the weights: 1e150 * dim^2)."""

# Units are processed in blocks small enough that OpenBLAS runs each block's product on
# one thread (it does when m n k <= 2^18), so that all parallelism is numba's: over
# replicates when there are several, else over the blocks of the one network. Blocks
# and rows depend on the problem only; every way of running them gives the same numbers.
_BLAS_ONE_THREAD = 2**18


def _unit_block(n: int, b: int, dim: int) -> int:
    """Units per block: b * block * dim <= 2^18, at least 16 units, at most n."""
    return max(1, min(n, max(16, _BLAS_ONE_THREAD // (b * dim))))


@dataclass(frozen=True, eq=False)  # arrays: == would be elementwise
class MeanFieldRun:
    """Result of :func:`mean_field_sgd`. Arrays are read-only; R = n_replicates.

    Attributes
    ----------
    w : ndarray, shape (R, n, dim)
        Final first layer; row i of replicate r is unit i. NaN for diverged replicates.
    a : ndarray, shape (R, n)
        Final second layer (all ones when fixed). NaN for diverged replicates.
    diverged : ndarray of bool, shape (R,)
        True for a replicate that left the finite range (see :data:`MEAN_FIELD_BOUND`).
    divergence_step : ndarray of int, shape (R,)
        The step at which a replicate diverged, -1 for the others.
    weight_steps : ndarray of int, shape (K,)
        Steps of ``w_records`` / ``a_records``.
    w_records, a_records : ndarray, shapes (R, K, n, dim) and (R, K, n), or None
        Weights at ``weight_steps``; NaN from a replicate's divergence on.
    loss_steps : ndarray of int, shape (L,)
        Steps of the losses and probes.
    train_loss : ndarray, shape (R, L), or None
        Mean loss on the training set (finite-sum mode only).
    test_loss : ndarray, shape (R, L), or None
        Mean loss on the test set (an estimate of the population loss).
    probe_outputs : ndarray, shape (R, L, n_probe), or None
        Network outputs at the first ``n_probe`` test points.
    x_train, y_train : ndarray, shapes (m, dim) and (m,), or None
        The training set shared by all replicates (None online).
    x_test, y_test : ndarray, shapes (test_size, dim) and (test_size,)
        The test set shared by all replicates.
    teacher_w, teacher_c : ndarray, shapes (k, dim) and (k,)
        The teacher's weights.
    settings : Mapping
        Every argument as used, plus ``bound``, ``unit_block`` (units per block of the
        products and sums) and ``driver`` (how replicates and blocks were spread over
        threads; the numbers do not depend on it).
    """

    w: FloatArray
    a: FloatArray
    diverged: npt.NDArray[np.bool_]
    divergence_step: npt.NDArray[np.int64]
    weight_steps: npt.NDArray[np.int64]
    w_records: FloatArray | None
    a_records: FloatArray | None
    loss_steps: npt.NDArray[np.int64]
    train_loss: FloatArray | None
    test_loss: FloatArray | None
    probe_outputs: FloatArray | None
    x_train: FloatArray | None
    y_train: FloatArray | None
    x_test: FloatArray
    y_test: FloatArray
    teacher_w: FloatArray
    teacher_c: FloatArray
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def n_diverged(self) -> int:
        """How many replicates diverged."""
        return int(np.count_nonzero(self.diverged))

    @property
    def generalization_gap(self) -> FloatArray | None:
        """test_loss - train_loss, shape (R, L); None unless both were recorded."""
        if self.train_loss is None or self.test_loss is None:
            return None
        return self.test_loss - self.train_loss

    def unit_norms(self, w: npt.ArrayLike | None = None) -> FloatArray:
        """Euclidean norms ||w_i|| of the units, shape w.shape[:-1] (default: final w).

        These are the column norms of the first layer written as a dim x n matrix, the
        quantity node pruning ranks (docs/theory.md, section 2).
        """
        arr = self.w if w is None else np.asarray(w, dtype=np.float64)
        return np.sqrt(np.einsum("...j,...j->...", arr, arr))

    def outputs(
        self, x: npt.ArrayLike, w: npt.ArrayLike | None = None, a: npt.ArrayLike | None = None
    ) -> FloatArray:
        """Network outputs f(x_p) of every replicate, shape (R, len(x)).

        ``w`` (R, n, dim) and ``a`` (R, n) default to the final weights; pass a record,
        e.g. ``w_records[:, j]``, ``a_records[:, j]``, for another step. Replicates whose
        weights hold NaN (diverged) give NaN.
        """
        dim = self.w.shape[2]
        xs = as_sample(x, "x", ndim=2)
        if xs.shape[1] != dim:
            raise InvalidArgumentError(f"`x` must have {dim} columns, got {xs.shape[1]}")
        ws = self.w if w is None else np.asarray(w, dtype=np.float64)
        av = self.a if a is None else np.asarray(a, dtype=np.float64)
        if ws.shape != self.w.shape or av.shape != self.a.shape:
            raise InvalidArgumentError(
                f"`w` and `a` must have shapes {self.w.shape} and {self.a.shape}, got "
                f"{ws.shape} and {av.shape}"
            )
        bad = np.asarray(~(np.isfinite(ws).all(axis=(1, 2)) & np.isfinite(av).all(axis=1)))
        ws = np.ascontiguousarray(np.where(bad[:, None, None], 0.0, ws))
        av = np.ascontiguousarray(np.where(bad[:, None], 0.0, av))
        out = np.empty((ws.shape[0], xs.shape[0]))
        act = ACTIVATIONS[self.settings["activation"]]
        block = self.settings["unit_block"]
        call("network_outputs", act, block, ws, av, np.ascontiguousarray(xs), out)
        out[bad] = np.nan
        return out


def _draw_inputs(gen: np.random.Generator, m: int, dim: int, law: str) -> FloatArray:
    x = gen.standard_normal((m, dim))
    if law == "sphere" and m:
        x *= math.sqrt(dim) / np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _noise_scale(noise: MeanFieldNoise | None, eta: float) -> float:
    """sigma * eta^(1/alpha), or 0 without noise."""
    if noise is None:
        return 0.0
    if not isinstance(noise, MeanFieldNoise):
        raise InvalidArgumentError(
            f"`injected_noise` must be a MeanFieldNoise or None, got {type(noise).__name__}"
        )
    # sigma eta^(1/alpha) in log space: for small alpha it can overflow (noise beyond the
    # divergence bound at every step) or underflow to 0 (noise silently switched off)
    log_scale = math.log(noise.scale) + math.log(eta) / noise.alpha
    if not math.log(1e-300) < log_scale < math.log(MEAN_FIELD_BOUND):
        raise InvalidArgumentError(
            "`injected_noise` scale sigma * eta^(1/alpha) must be in "
            f"(1e-300, {MEAN_FIELD_BOUND:g}), got exp({log_scale:.4g}) with "
            f"alpha = {noise.alpha:g}, eta = {eta:g}"
        )
    return math.exp(log_scale)


def _slots(steps: tuple[int, ...], n_steps: int, name: str) -> npt.NDArray[np.int64]:
    if steps and steps[-1] > n_steps:
        raise InvalidArgumentError(f"`{name}` must be <= n_steps ({n_steps}), got {steps[-1]}")
    slot = np.full(n_steps + 1, -1, dtype=np.int64)
    slot[list(steps)] = np.arange(len(steps))
    return slot


def _check_memory(
    n: int,
    dim: int,
    b: int,
    n_steps: int,
    n_rep: int,
    m: int,
    test_size: int,
    record: MeanFieldRecording,
) -> None:
    """Refuse a run whose arrays would not fit in memory, naming what sizes them."""
    n_w, n_l = len(record.weight_steps), len(record.loss_steps)
    concurrent = min(n_rep, max(1, get_num_threads()))
    rows = min(256, max(1, m, test_size))  # at most params.eval_rows
    check_allocation(
        [
            (
                f"`n_steps` = {n_steps}",
                "the per-step recording plan (2 x (n_steps + 1) int64)",
                16 * (n_steps + 1),
            ),
            (
                f"`n_replicates` x `n_units` x (`dim` + 1) = {n_rep} x {n} x {dim + 1}",
                "the weights (float64)",
                8 * n_rep * n * (dim + 1),
            ),
            (
                f"`n_replicates` x len(`weight_steps`) x `n_units` x (`dim` + 1) = "
                f"{n_rep} x {n_w} x {n} x {dim + 1}",
                "the recorded weights (float64)",
                8 * n_rep * n_w * n * (dim + 1),
            ),
            (
                f"`n_replicates` x len(`loss_steps`) x (2 + `n_probe`) = "
                f"{n_rep} x {n_l} x {2 + record.n_probe}",
                "the recorded losses (float64)",
                8 * n_rep * n_l * (2 + record.n_probe),
            ),
            (
                f"(`dataset_size` + `test_size`) x (`dim` + 2) = {m + test_size} x {dim + 2}",
                "the data sets (float64)",
                8 * (m + test_size) * (dim + 2),
            ),
            (
                f"`batch_size` x `n_units` x `dim` = {b} x {n} x {dim}",
                f"the work arrays of the replicates run at once ({concurrent}, float64)",
                8 * concurrent * (3 * b * n + 2 * n * dim + b * dim + b + m + 3 * rows * n),
            ),
        ]
    )


def mean_field_sgd(
    n_units: int,
    dim: int,
    *,
    eta: float,
    batch_size: int,
    n_steps: int,
    n_replicates: int = 1,
    activation: Activation = "tanh",
    loss: Literal["squared", "logistic"] = "squared",
    train_second_layer: bool = True,
    second_layer_init: Literal["normal", "ones"] = "normal",
    first_layer_std: float = 1.0,
    teacher: Teacher | None = None,
    label_noise: float = 0.1,
    inputs: Literal["gaussian", "sphere"] = "gaussian",
    dataset_size: int | None = None,
    test_size: int = 1000,
    batches: Literal["independent", "shared"] = "independent",
    injected_noise: MeanFieldNoise | None = None,
    record: MeanFieldRecording | None = None,
    rng: RngLike = None,
) -> MeanFieldRun:
    r"""Train independent replicates of a mean-field two-layer network by SGD.

    Each replicate is the network

    .. math::

        f(x) = \frac{1}{n} \sum_{i=1}^n a_i\, \phi(w_i \cdot x), \qquad
        w_i \in \mathbb{R}^{d},

    trained on the loss L_B = (1/b) sum_{p in B} l(f(x_p), y_p) of mini-batches B of b
    points. Mean-field scaling (docs/theory.md, section 6; Mei, Montanari & Nguyen 2018;
    De Bortoli, Durmus, Fontaine & Şimşekli 2020): each unit steps by eta times its
    gradient of n L_B,

    .. math::

        w_i \leftarrow w_i - \eta \frac{1}{b} \sum_{p \in B} l'(f(x_p), y_p)\,
              a_i \phi'(w_i \cdot x_p)\, x_p, \qquad
        a_i \leftarrow a_i - \eta \frac{1}{b} \sum_{p \in B} l'(f(x_p), y_p)\,
              \phi(w_i \cdot x_p),

    both from the same (old) weights, so a unit moves O(eta) per step whatever n is.
    With ``injected_noise`` the first layer then receives sigma eta^(1/alpha) L
    (Wan, Barsbey, Zaidi & Şimşekli, ICML 2024: the Euler scheme of a McKean-Vlasov SDE
    driven by alpha-stable noise; types in :class:`MeanFieldNoise`).

    Initialisation: w_i i.i.d. N(0, first_layer_std^2 I_d / d); a_i i.i.d. N(0, 1)
    (``second_layer_init="normal"``) or a_i = 1 (``"ones"``; with
    ``train_second_layer=False`` this is Wan et al.'s fixed second layer).

    Data: inputs x ~ N(0, I_d) (``inputs="gaussian"``) or uniform on the sphere of
    radius sqrt(d) (``"sphere"``, bounded inputs). Labels y = f*(x) + label_noise * xi
    with xi ~ N(0, 1) for the squared loss l = (f - y)^2 / 2, and
    y = sign(f*(x) + label_noise * xi) in {-1, 1} for the logistic loss
    l = log(1 + exp(-y f)); f* is the :class:`Teacher`.

    Parameters
    ----------
    n_units : int
        Width n >= 1.
    dim : int
        Input dimension d >= 1.
    eta : float
        Step size, in (0, inf).
    batch_size : int
        b >= 1 (<= dataset_size in the finite-sum mode).
    n_steps : int
        SGD steps per replicate, >= 1.
    n_replicates : int
        R >= 1 independent networks.
    activation : {"tanh", "relu", "sigmoid", "identity"}
        phi; relu' is taken as 0 at 0.
    loss : {"squared", "logistic"}
        The loss, which also sets the labels (real, or signs).
    train_second_layer : bool
        Whether a is trained.
    second_layer_init : {"normal", "ones"}
        a_i ~ N(0, 1) or a_i = 1.
    first_layer_std : float
        The initial w_i ~ N(0, first_layer_std^2 I_d / d), in (0, inf).
    teacher : Teacher, optional
        The labelling network; default ``Teacher()`` (4 tanh units, seed 0).
    label_noise : float
        Standard deviation of the label noise, in [0, inf).
    inputs : {"gaussian", "sphere"}
        The input law.
    dataset_size : int, optional
        None (default): online mode, every step draws b fresh points. An int m: one
        training set of m points is drawn once and shared by all replicates; each epoch
        reshuffles it (Fisher-Yates) and takes floor(m / b) batches of b points without
        replacement; the m mod b points left over wait for a later epoch. b == m is
        full-batch gradient descent, in index order.
    test_size : int
        Points of the test set shared by all replicates, >= 0; losses on it estimate the
        population loss.
    batches : {"independent", "shared"}
        "independent": each replicate draws its own batches (its own online points or
        its own shuffles). "shared": every replicate sees the same sequence of batches,
        so that replicates differ only by their initialisation and their injected
        noise, the setting in which propagation of chaos applies across replicates.
    injected_noise : MeanFieldNoise, optional
        Stable noise added to the first layer after every step.
    record : MeanFieldRecording, optional
        Weights at chosen steps, losses and probe outputs at chosen steps.
    rng : int, Generator, SeedSequence or None
        Randomness. Spawned into a data stream (training and test sets), a stream for
        shared batches, and one stream per replicate; each replicate's stream is split
        into its unit stream (initialisation: n d normals for W unit by unit, then n for
        a when random; then each step's noise) and its batch stream. The same ``rng``
        gives bit-identical results whatever the number of threads, and replicate r does
        not depend on how many replicates follow it.

    Returns
    -------
    MeanFieldRun
        Final weights, divergence flags, records, the data sets and the settings.

    Raises
    ------
    InvalidArgumentError
        For any argument outside its domain, naming the argument and the rule.

    Warns
    -----
    DivergenceWarning
        When some replicates diverged (an entry of W or a non-finite or above
        :data:`MEAN_FIELD_BOUND`, or a recorded loss non-finite). They are stopped at that
        step, marked and counted; their final weights and later records are NaN.

    Notes
    -----
    With ``activation="identity"`` and ``train_second_layer=False`` (a_i = 1) every
    unit receives the same update, and u = (1/n) sum_i w_i follows SGD on least
    squares with step eta: u <- u - (eta / b) sum_p x_p (x_p . u - y_p)
    (``tests/simulate/test_mean_field_theory.py`` checks full-batch descent against the
    least-squares solution, and online SGD against the stationary variance given in
    :func:`sgd_linear_regression`'s Notes).

    Propagation of chaos across replicates needs ``batches="shared"`` (or full batches):
    with independent batches, every unit of a replicate feels that replicate's batch
    noise, a common noise that averages over units do not wash out.

    Computation: units are processed in blocks (``settings["unit_block"]``, chosen from
    b and d so that each block's products X_B W^T and D^T X_B stay on one BLAS thread);
    activations are vectorised (``simulate/_mean_field_math.py``). Several replicates
    run on numba threads; a single wide one spreads its blocks over them. Not checked
    here: whether eta is small enough for a mean-field limit, or ``n_steps`` long enough
    to train. Wan et al.'s theorem asks for eta <= n^(-alpha/2 - 1), out of reach at
    useful widths.

    Examples
    --------
    >>> from heavytail.simulate import MeanFieldNoise, MeanFieldRecording, mean_field_sgd
    >>> run = mean_field_sgd(
    ...     64, 8, eta=0.1, batch_size=8, n_steps=100, n_replicates=4,
    ...     injected_noise=MeanFieldNoise(1.75, 0.01),
    ...     record=MeanFieldRecording(loss_steps=(0, 100)), rng=0,
    ... )
    >>> run.w.shape, run.a.shape, run.test_loss.shape, run.n_diverged
    ((4, 64, 8), (4, 64), (4, 2), 0)
    """
    n = check_int(n_units, "n_units", low=1)
    dim = check_int(dim, "dim", low=1)
    eta = check_real(eta, "eta", low=0.0, low_open=True)
    b = check_int(batch_size, "batch_size", low=1)
    n_steps = check_int(n_steps, "n_steps", low=1)
    n_rep = check_int(n_replicates, "n_replicates", low=1)
    check_choice(activation, "activation", tuple(ACTIVATIONS))
    check_choice(loss, "loss", tuple(LOSSES))
    if not isinstance(train_second_layer, bool):
        raise InvalidArgumentError(
            f"`train_second_layer` must be a bool, got {type(train_second_layer).__name__}"
        )
    check_choice(second_layer_init, "second_layer_init", ("normal", "ones"))
    first_layer_std = check_real(first_layer_std, "first_layer_std", low=0.0, low_open=True)
    if teacher is None:
        teacher = Teacher()
    elif not isinstance(teacher, Teacher):
        raise InvalidArgumentError(
            f"`teacher` must be a Teacher or None, got {type(teacher).__name__}"
        )
    label_noise = check_real(label_noise, "label_noise", low=0.0)
    check_choice(inputs, "inputs", ("gaussian", "sphere"))
    m = 0
    if dataset_size is not None:
        m = check_int(dataset_size, "dataset_size", low=1)
        if b > m:
            raise InvalidArgumentError(f"`batch_size` must be <= `dataset_size` ({m}), got {b}")
    test_size = check_int(test_size, "test_size", low=0)
    check_choice(batches, "batches", ("independent", "shared"))
    noise_scale = _noise_scale(injected_noise, eta)
    if record is None:
        record = MeanFieldRecording()
    elif not isinstance(record, MeanFieldRecording):
        raise InvalidArgumentError(
            f"`record` must be a MeanFieldRecording or None, got {type(record).__name__}"
        )
    _check_memory(n, dim, b, n_steps, n_rep, m, test_size, record)
    weight_slot = _slots(record.weight_steps, n_steps, "weight_steps")
    loss_slot = _slots(record.loss_steps, n_steps, "loss_steps")
    if record.loss_steps and m == 0 and test_size == 0:
        raise InvalidArgumentError(
            "`loss_steps` needs a data set to evaluate: `test_size` > 0 or a `dataset_size`"
        )
    if record.n_probe > test_size:
        raise InvalidArgumentError(
            f"`n_probe` must be <= `test_size` ({test_size}), got {record.n_probe}"
        )

    data_gen, shared_gen, rep_root = spawn_generators(rng, 3)
    unit_gens = []
    batch_gens = []
    for child in rep_root.spawn(n_rep):
        unit, own_batches = child.spawn(2)
        unit_gens.append(unit)
        batch_gens.append(own_batches if batches == "independent" else copy.deepcopy(shared_gen))

    loss_fn, label_fn = LOSSES[loss]
    teacher_act = ACTIVATIONS[teacher.activation]
    tw, tc = teacher.weights(dim)

    def labelled(size: int) -> tuple[FloatArray, FloatArray]:
        x = _draw_inputs(data_gen, size, dim, inputs)
        xi = data_gen.standard_normal(size)
        y = np.empty(size)
        call("dataset_labels", teacher_act, label_fn, tw, tc, label_noise, x, xi, y)
        return x, y

    x_train, y_train = labelled(m)
    x_test, y_test = labelled(test_size)
    fill, update = NOISES[0 if injected_noise is None else injected_noise.noise_type]
    modes = Modes(
        act=ACTIVATIONS[activation],
        loss=loss_fn,
        fill=fill,
        update=update,
        batch=BATCHES["finite" if m else inputs],
        teacher_act=teacher_act,
        label=label_fn,
    )

    n_w, n_l, n_probe = len(record.weight_steps), len(record.loss_steps), record.n_probe
    out = Outputs(
        w=np.empty((n_rep, n, dim)),
        a=np.empty((n_rep, n)),
        w_records=np.full((n_rep, n_w, n, dim), np.nan),
        a_records=np.full((n_rep, n_w, n), np.nan),
        train_loss=np.full((n_rep, n_l if m else 0), np.nan),
        test_loss=np.full((n_rep, n_l if test_size else 0), np.nan),
        probe=np.full((n_rep, n_l, n_probe), np.nan),
        div_step=np.full(n_rep, -1, dtype=np.int64),
    )
    block = _unit_block(n, b, dim)
    params = Params(
        n_steps=n_steps,
        eta=eta,
        batch_size=b,
        train_second_layer=train_second_layer,
        init_std=first_layer_std,
        random_second_layer=second_layer_init == "normal",
        noise_alpha=2.0 if injected_noise is None else injected_noise.alpha,
        noise_scale=noise_scale,
        bound=MEAN_FIELD_BOUND,
        unit_block=block,
        eval_rows=max(1, min(256, max(m, test_size), _BLAS_ONE_THREAD // (block * dim))),
    )
    if n_rep > 1:
        driver, step = "run_parallel", "serial"
    elif n > block:
        driver, step = "run_serial", "blocks_parallel"
    else:
        driver, step = "run_serial", "serial"
    call(
        driver,
        TypedList(unit_gens),
        TypedList(batch_gens),
        modes,
        STEPS[step],
        DataArrays(x_train, y_train, tw, tc, label_noise),
        EvalSets(x_train, y_train, x_test, y_test),
        params,
        Plan(weight_slot, loss_slot),
        out,
    )

    diverged = out.div_step >= 0
    n_div = int(np.count_nonzero(diverged))
    if n_div:
        warnings.warn(
            f"{n_div} of {n_rep} replicates diverged (an entry of W or a non-finite or above "
            f"{MEAN_FIELD_BOUND:g} in absolute value, or a non-finite loss); they are marked "
            "in `diverged` and their weights are NaN",
            DivergenceWarning,
            stacklevel=2,
        )

    settings = {
        "n_units": n,
        "dim": dim,
        "eta": eta,
        "batch_size": b,
        "n_steps": n_steps,
        "n_replicates": n_rep,
        "activation": activation,
        "loss": loss,
        "train_second_layer": train_second_layer,
        "second_layer_init": second_layer_init,
        "first_layer_std": first_layer_std,
        "teacher": teacher,
        "label_noise": label_noise,
        "inputs": inputs,
        "dataset_size": dataset_size,
        "test_size": test_size,
        "batches": batches,
        "injected_noise": injected_noise,
        "record": record,
        "bound": MEAN_FIELD_BOUND,
        "unit_block": block,
        "driver": f"{driver}, step {step}",
    }
    return MeanFieldRun(
        w=out.w,
        a=out.a,
        diverged=diverged,
        divergence_step=out.div_step,
        weight_steps=np.asarray(record.weight_steps, dtype=np.int64),
        w_records=out.w_records if n_w else None,
        a_records=out.a_records if n_w else None,
        loss_steps=np.asarray(record.loss_steps, dtype=np.int64),
        train_loss=out.train_loss if (m and n_l) else None,
        test_loss=out.test_loss if (test_size and n_l) else None,
        probe_outputs=out.probe if n_probe else None,
        x_train=x_train if m else None,
        y_train=y_train if m else None,
        x_test=x_test,
        y_test=y_test,
        teacher_w=tw,
        teacher_c=tc,
        settings=settings,
    )
