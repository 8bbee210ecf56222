"""Mean-field two-layer networks trained by (heavy-tailed) SGD, many replicates at once.

The model of docs/theory.md, section 6: f(x) = (1/n) sum_i a_i phi(w_i . x), trained by
mini-batch SGD in the mean-field scaling, with the optional alpha-stable noise injection
of Wan, Barsbey, Zaidi & Şimşekli (ICML 2024).
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from numba import get_num_threads
from numba.typed import List as TypedList

from heavytail._lib._errors import DivergenceWarning, InvalidArgumentError
from heavytail._lib._rng import RngLike, spawn_generators
from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_allocation, check_int, check_real

from ._injected_noise import InjectedNoise, noise_factor
from ._mean_field_call import call
from ._mean_field_kernel import STEPS, EvalSets, Modes, Outputs, Params, Plan
from ._mean_field_modes import ACTIVATIONS, BATCHES, LOSSES, NOISES, DataArrays
from ._mean_field_options import MeanFieldData, MeanFieldNetwork, MeanFieldRecording
from ._mean_field_run import MeanFieldRun

__all__ = ["MEAN_FIELD_BOUND", "mean_field_sgd"]


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


def _draw_inputs(gen: np.random.Generator, m: int, dim: int, law: str) -> FloatArray:
    x = gen.standard_normal((m, dim))
    if law == "sphere" and m:
        x *= math.sqrt(dim) / np.linalg.norm(x, axis=1, keepdims=True)
    return x


_Option = TypeVar("_Option", MeanFieldNetwork, MeanFieldData, MeanFieldRecording)


def _option(value: Any, cls: type[_Option], name: str) -> _Option:
    """``value``, or ``cls()`` for None; anything else is refused, naming ``name``."""
    if value is None:
        return cls()
    if not isinstance(value, cls):
        raise InvalidArgumentError(
            f"`{name}` must be a {cls.__name__} or None, got {type(value).__name__}"
        )
    return value


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
    network: MeanFieldNetwork | None = None,
    data: MeanFieldData | None = None,
    injected_noise: InjectedNoise | None = None,
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
    With ``injected_noise`` the first layer then receives scale eta^(1/alpha) L
    (Wan, Barsbey, Zaidi & Şimşekli, ICML 2024: the Euler scheme of a McKean-Vlasov SDE
    driven by alpha-stable noise; its kinds in :class:`InjectedNoise`).

    The network, its loss and its initialisation are a :class:`MeanFieldNetwork`; the
    teacher f*, the labels, the training and test sets and the batches a
    :class:`MeanFieldData`.

    Parameters
    ----------
    n_units : int
        Width n >= 1.
    dim : int
        Input dimension d >= 1.
    eta : float
        Step size, in (0, inf).
    batch_size : int
        b >= 1 (<= ``data.dataset_size`` in the finite-sum mode).
    n_steps : int
        SGD steps per replicate, >= 1.
    n_replicates : int
        R >= 1 independent networks.
    network : MeanFieldNetwork, optional
        Activation, loss, initialisation and whether a is trained; default
        ``MeanFieldNetwork()`` (tanh, squared loss, a ~ N(0, 1) trained).
    data : MeanFieldData, optional
        Teacher, label noise, input law, training and test sets, batches; default
        ``MeanFieldData()`` (online Gaussian inputs, a test set of 1000 points).
    injected_noise : InjectedNoise, optional
        Stable noise added to the first layer after every step (every kind).
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

    Propagation of chaos across replicates needs ``data.batches="shared"`` (or full batches):
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
    >>> from heavytail.simulate import InjectedNoise, MeanFieldRecording, mean_field_sgd
    >>> run = mean_field_sgd(
    ...     64, 8, eta=0.1, batch_size=8, n_steps=100, n_replicates=4,
    ...     injected_noise=InjectedNoise(1.75, 0.01, "unit"),
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
    net = _option(network, MeanFieldNetwork, "network")
    data = _option(data, MeanFieldData, "data")
    m = data.dataset_size or 0
    test_size = data.test_size
    if m and b > m:
        raise InvalidArgumentError(f"`batch_size` must be <= `dataset_size` ({m}), got {b}")
    noise_scale = 0.0
    if injected_noise is not None:
        noise_scale = noise_factor(injected_noise, eta, MEAN_FIELD_BOUND)
    record = _option(record, MeanFieldRecording, "record")
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
    shared = data.batches == "shared"
    for child in rep_root.spawn(n_rep):
        unit, own_batches = child.spawn(2)
        unit_gens.append(unit)
        batch_gens.append(copy.deepcopy(shared_gen) if shared else own_batches)

    loss_fn, label_fn = LOSSES[net.loss]
    teacher_act = ACTIVATIONS[data.teacher.activation]
    tw, tc = data.teacher.weights(dim)

    def labelled(size: int) -> tuple[FloatArray, FloatArray]:
        x = _draw_inputs(data_gen, size, dim, data.inputs)
        xi = data_gen.standard_normal(size)
        y = np.empty(size)
        call("dataset_labels", teacher_act, label_fn, tw, tc, data.label_noise, x, xi, y)
        return x, y

    x_train, y_train = labelled(m)
    x_test, y_test = labelled(test_size)
    fill, update = NOISES[None if injected_noise is None else injected_noise.kind]
    modes = Modes(
        act=ACTIVATIONS[net.activation],
        loss=loss_fn,
        fill=fill,
        update=update,
        batch=BATCHES["finite" if m else data.inputs],
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
        train_second_layer=net.train_second_layer,
        init_std=net.first_layer_std,
        random_second_layer=net.second_layer_init == "normal",
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
        DataArrays(x_train, y_train, tw, tc, data.label_noise),
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
        "network": net,
        "data": data,
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
