"""Plain SGD on a classification network, with data, batches and noise on the device.

One training step (Wan et al. 2024, section 3; Barsbey et al. 2021, section 5):

    theta <- theta - eta * grad L_B(theta) + scale * eta^(1/alpha) * L,

L_B the mean cross-entropy of a minibatch B of ``batch_size`` examples and L Wan et al.'s
injected stable noise (:class:`InjectedNoise`; none by default). Batches are drawn without
replacement within an epoch: a permutation of the training set from the run's
``torch.Generator`` at the start of every epoch of ``n_train // batch_size`` steps (the
last ``n_train mod batch_size`` examples of each permutation are left out of that epoch,
as a DataLoader with ``drop_last=True`` does).

The host reads values from the device only at evaluations, every ``eval_every`` steps and
at ``max_steps``: minibatch losses are summed on the device in between. The stopping rule
(:class:`StopRule`, in ``_stopping.py``) is checked at evaluations, on the current iterate's
loss and accuracy over the whole training set. Barsbey et al.'s rule (their main.py) is
``StopRule(train_loss=5e-5, train_accuracy=1.0, all_targets=True, then_steps=10_000)``
with ``average_last=1000``: both targets met at an evaluation, then 10x the averaging
window more steps, and the network analysed is the mean of the last 1,000 iterates.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike
from heavytail._lib._validation import check_int, check_real

from ._data import Dataset
from ._device import as_device, as_dtype, torch_generator
from ._noise import InjectedNoise, NoisePlan
from ._result import HISTORY_COLUMNS, TrainResult
from ._stopping import StopRule, TargetsMet, decide

__all__ = ["train"]

EVAL_CHUNK = 8192
"""Rows per forward pass when a whole split is evaluated."""


# ---------------------------------------------------------------------------------------
# Pieces shared with train_ensemble.


@dataclass(frozen=True)
class Schedule:
    """Evaluation steps and averaging windows, known before the first step.

    Evaluations happen at multiples of ``eval_every`` and at ``max_steps``. The average for
    evaluation j is the running mean of the iterates at steps ``starts[j] .. evals[j]``,
    ``starts[j] = max(1, evals[j] - average_last + 1)``. A window of ``average_last`` steps
    holds at most ``ceil(average_last / eval_every)`` multiples of ``eval_every`` and
    ``max_steps``, so at most ``n_slots = ceil(average_last / eval_every) + 1`` windows of
    consecutive evaluations contain a step, and running means in slots j mod n_slots
    suffice (two when average_last <= eval_every).
    """

    evals: tuple[int, ...]
    starts: tuple[int, ...]
    n_slots: int = 2

    @classmethod
    def make(cls, max_steps: int, eval_every: int, average_last: int) -> Schedule:
        evals = tuple(sorted(set(range(eval_every, max_steps + 1, eval_every)) | {max_steps}))
        n_slots = -(-average_last // eval_every) + 1
        return cls(evals, tuple(max(1, e - average_last + 1) for e in evals), n_slots)

    def new_slots(self, params: Sequence[torch.Tensor]) -> list[list[torch.Tensor]]:
        """Storage of the running means, one list like ``params`` per slot."""
        return [[torch.empty_like(p) for p in params] for _ in range(self.n_slots)]

    def slot(self, j: int) -> int:
        """Slot of the running mean that evaluation j reads."""
        return j % self.n_slots

    def single(self, j: int) -> bool:
        """Whether evaluation j's window holds only its own step (the mean is the iterate)."""
        return self.starts[j] == self.evals[j]

    def accumulate(
        self, slots: list[list[torch.Tensor]], params: list[torch.Tensor], t: int, j: int
    ) -> None:
        """Fold the iterate of step t into the running means (``slots``) whose windows
        contain it; j is the next evaluation index."""
        for slot, count in self.windows(t, j):
            if count == 1:
                torch._foreach_copy_(slots[slot], params)
            else:
                torch._foreach_lerp_(slots[slot], params, 1.0 / count)

    def windows(self, t: int, j: int) -> list[tuple[int, int]]:
        """(slot, count) for the windows containing step t; j is the next evaluation index."""
        out = []
        for k in range(j, min(j + self.n_slots, len(self.evals))):
            if self.starts[k] <= t <= self.evals[k]:
                out.append((k % self.n_slots, t - self.starts[k] + 1))
        return out


def check_common(
    data: Any,
    eta: Any,
    batch_size: Any,
    max_steps: Any,
    noise: Any,
    stop: Any,
    average_last: Any,
    eval_every: Any,
    progress: Any,
) -> tuple[StopRule, int]:
    """Validate the arguments shared by train and train_ensemble.

    Returns the stop rule (None: the empty rule) and M (None: min(100, eval_every)).
    """
    if not isinstance(data, Dataset):
        raise InvalidArgumentError(
            f"`data` must be a heavytail.nn.Dataset, got {type(data).__name__}"
        )
    if eta is not None:
        check_real(eta, "eta", low=0.0, low_open=True)
    check_int(batch_size, "batch_size", low=1)
    if batch_size > data.n_train:
        raise InvalidArgumentError(
            f"`batch_size` must be <= the number of training examples {data.n_train}, "
            f"got {batch_size}"
        )
    check_int(max_steps, "max_steps", low=1)
    if noise is not None and not isinstance(noise, InjectedNoise):
        raise InvalidArgumentError(
            f"`noise` must be None or a heavytail.nn.InjectedNoise, got {type(noise).__name__}"
        )
    if stop is None:
        stop = StopRule()
    if not isinstance(stop, StopRule):
        raise InvalidArgumentError(
            f"`stop` must be None or a heavytail.nn.StopRule, got {type(stop).__name__}"
        )
    check_int(eval_every, "eval_every", low=1)
    if average_last is None:
        average_last = min(100, eval_every)
    check_int(average_last, "average_last", low=1)
    if stop.then_steps % eval_every:
        raise InvalidArgumentError(
            f"`stop.then_steps` ({stop.then_steps}) must be a multiple of `eval_every` "
            f"({eval_every}), so that a run ends exactly then_steps after the targets are met"
        )
    if progress is not None and not isinstance(progress, bool):
        raise InvalidArgumentError(
            f"`progress` must be None or a bool, got {type(progress).__name__}"
        )
    return stop, int(average_last)


def add_noise(
    params: Sequence[torch.Tensor], draws: Sequence[torch.Tensor], dtype: torch.dtype
) -> None:
    """``p += d`` for each pair, the draws cast to ``dtype`` before they are broadcast.

    A per-unit draw (noise types 1 and 3's scale) comes as an expanded view of one value
    per unit; casting the view would write out a full tensor of the weights' size every
    step. Dimensions of stride 0 are narrowed to length 1 first, so that only the distinct
    values are cast and ``add_`` broadcasts them: the same sums, entry by entry.
    """
    for p, d in zip(params, draws, strict=True):
        for dim in range(d.ndim):
            if d.stride(dim) == 0 and d.shape[dim] > 1:
                d = d.narrow(dim, 0, 1)
        p.add_(d.to(dtype))


def show_progress(progress: bool | None) -> bool:
    """progress=None means: a bar when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else progress


def chance_level(y: torch.Tensor, n_classes: int) -> float:
    """Accuracy of always answering the most frequent label of ``y``."""
    return float(torch.bincount(y, minlength=n_classes).max()) / y.shape[0]


def split_stats(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """(..., 2): summed cross-entropy and number correct over (x, y), in chunks, on device.

    ``forward`` maps a chunk of inputs to logits of shape (..., chunk, n_classes); the
    leading dims are the ensemble members.
    """
    total: torch.Tensor | None = None
    for lo in range(0, x.shape[0], EVAL_CHUNK):
        xc, yc = x[lo : lo + EVAL_CHUNK], y[lo : lo + EVAL_CHUNK]
        logits = forward(xc)
        target = yc.expand(*logits.shape[:-1])
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), target.reshape(-1), reduction="none"
        ).reshape(target.shape)
        correct = (logits.argmax(-1) == target).to(logits.dtype)
        part = torch.stack([loss.sum(-1), correct.sum(-1)], dim=-1)
        total = part if total is None else total + part
    assert total is not None
    return total


class SplitSums(NamedTuple):
    """One network's sums over the whole training and test sets at one evaluation.

    Losses are summed cross-entropies, ``*_correct`` the numbers of examples classified
    correctly (floats, as :func:`split_stats` returns them).
    """

    train_loss: float
    train_correct: float
    test_loss: float
    test_correct: float

    def metrics(self, n_train: int, n_test: int) -> dict[str, float]:
        """Mean losses and accuracies, the metric fields of :class:`TrainResult`."""
        return {
            "train_loss": self.train_loss / n_train,
            "train_accuracy": self.train_correct / n_train,
            "test_loss": self.test_loss / n_test,
            "test_accuracy": self.test_correct / n_test,
        }


def settings_dict(
    *,
    eta: float | None,
    batch_size: int,
    max_steps: int,
    noise: InjectedNoise | None,
    stop: StopRule,
    average_last: int,
    eval_every: int,
    rng: Any,
    device: torch.device,
    dtype: torch.dtype,
    data: Dataset,
) -> dict[str, Any]:
    """The settings of a run, JSON-serialisable."""
    seed: Any
    if rng is None or isinstance(rng, bool | str):
        seed = None
    elif isinstance(rng, int | np.integer):
        seed = int(rng)
    else:
        seed = f"<{type(rng).__name__}>"
    return {
        "eta": eta,
        "batch_size": batch_size,
        "max_steps": max_steps,
        "noise": None if noise is None else asdict(noise),
        "stop": asdict(stop),
        "average_last": average_last,
        "eval_every": eval_every,
        "rng": seed,
        "device": str(device),
        "dtype": str(dtype).removeprefix("torch."),
        "data": data.name,
        "n_train": data.n_train,
        "n_test": data.n_test,
    }


def history_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    """The history DataFrame, columns HISTORY_COLUMNS."""
    return pd.DataFrame(
        {
            c: pd.Series([r[c] for r in rows], dtype="int64" if c == "step" else "float64")
            for c in HISTORY_COLUMNS
        }
    )


def eval_row(
    step: int, batch_loss: float, sums: SplitSums, n_train: int, n_test: int
) -> dict[str, float]:
    """One history row (columns HISTORY_COLUMNS) of the evaluation at ``step``."""
    return {"step": step, "batch_loss": batch_loss, **sums.metrics(n_train, n_test)}


def progress_bar(total: int, enabled: bool, desc: str) -> Any:
    """A tqdm bar on stderr (disabled when not ``enabled``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, file=sys.stderr, leave=False)


# ---------------------------------------------------------------------------------------


def _model_setup(
    model: Any, device: Any, dtype: Any
) -> tuple[nn.Module, torch.device, torch.dtype]:
    if not isinstance(model, nn.Module):
        raise InvalidArgumentError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    params = list(model.parameters())
    if not params:
        raise InvalidArgumentError("`model` must have at least one parameter")
    if not all(p.requires_grad for p in params):
        raise InvalidArgumentError("`model` must have every parameter trainable (requires_grad)")
    dev = params[0].device if device is None else as_device(device)
    dt = as_dtype(
        params[0].dtype if dtype is None else dtype, "dtype" if dtype is not None else "model dtype"
    )
    if dev.type == "cuda":
        dev = as_device(dev)
    net = copy.deepcopy(model).to(device=dev, dtype=dt)
    return net, dev, dt


def train(
    model: nn.Module,
    data: Dataset,
    *,
    eta: float,
    batch_size: int,
    max_steps: int,
    noise: InjectedNoise | None = None,
    stop: StopRule | None = None,
    average_last: int | None = None,
    rng: RngLike = None,
    device: Any = None,
    dtype: Any = None,
    eval_every: int = 500,
    progress: bool | None = None,
) -> TrainResult:
    r"""Train a copy of ``model`` with plain SGD (optionally with injected stable noise).

    Each step draws a minibatch (without replacement within an epoch), takes one step of
    plain SGD on the mean cross-entropy (no momentum, no weight decay) and, with
    ``noise``, adds Wan et al.'s stable noise:
    :math:`\theta \leftarrow \theta - \eta \nabla L_B(\theta) + \sigma \eta^{1/\alpha} L`
    (Wan et al., ICML 2024, section 3; :class:`InjectedNoise`). Every ``eval_every``
    steps and at the last step the current iterate is evaluated on the whole training
    and test sets and the stopping rule is checked; the values are read from the device
    only then. The run keeps the running mean of the last ``average_last`` iterates
    (the network the papers analyse; Barsbey et al. 2021, section 5).

    Reproducibility: the same ``rng`` gives bit-identical weights on the CPU (same torch
    version and thread count). On CUDA, some kernels accumulate with atomics (scatter,
    index_add, the backward of some convolutions), so runs may differ in the last bits;
    ``torch.use_deterministic_algorithms(True)`` (with ``CUBLAS_WORKSPACE_CONFIG=:4096:8``)
    makes them repeatable at some cost in speed. Streams on CPU and CUDA differ: the same
    seed gives different batches and noise on the two devices.

    Parameters
    ----------
    model : torch.nn.Module
        The network; it is copied, never modified. Every parameter must be trainable.
    data : Dataset
        Training and test data; moved to ``device`` and ``dtype``.
    eta : float
        Step size, > 0.
    batch_size : int
        Minibatch size b, in [1, n_train].
    max_steps : int
        Largest number of steps, >= 1.
    noise : InjectedNoise or None
        Injected noise after every step; None for plain SGD.
    stop : StopRule or None
        Targets that end the run early and the chance-level divergence rule; None means
        only non-finite losses and ``max_steps`` end it.
    average_last : int or None
        M, the number of last iterates averaged, >= 1; None means min(100, eval_every).
        A run that stops before M steps averages all its iterates. Each step folds its
        iterate into ``ceil(M / eval_every) + 1`` running means at most (one copy of the
        weights each).
    rng : int, numpy Generator, SeedSequence or None
        Seed of the batches and of the noise (a child stream of it, distinct from the one
        :func:`build_model` uses, so one int may seed both).
    device : str, torch.device or None
        Where to train; None: the model's device.
    dtype : torch.float32, torch.float64 or None
        Float type; None: the model's.
    eval_every : int
        Steps between evaluations (>= 1); a few hundred keeps the device busy.
    progress : bool or None
        A tqdm progress bar; None: when stderr is a terminal.

    Returns
    -------
    TrainResult
        Final and averaged weights (on the CPU), history, status ("converged",
        "step_limit" or "diverged": never an exception), steps run, and the averaged
        network's accuracies and losses.

    Examples
    --------
    >>> from heavytail.nn import build_model, teacher_student, train
    >>> data = teacher_student(256, 128, in_features=8, n_classes=3, rng=0)
    >>> net = build_model("fcn2-32", in_shape=data.in_shape, n_classes=3, rng=0)
    >>> train(net, data, eta=0.5, batch_size=32, max_steps=200, rng=0).status
    'step_limit'
    """
    stop, average_last = check_common(
        data, eta, batch_size, max_steps, noise, stop, average_last, eval_every, progress
    )
    net, dev, dt = _model_setup(model, device, dtype)
    data = data.to(dev, dt)
    gen = torch_generator(rng, dev, purpose="train")
    schedule = Schedule.make(max_steps, eval_every, average_last)
    names = [n for n, _ in net.named_parameters()]
    params: list[torch.Tensor] = [p for _, p in net.named_parameters()]
    plan = (
        NoisePlan(noise, [(n, p.shape) for n, p in zip(names, params, strict=True)])
        if noise
        else None
    )
    noisy: list[torch.Tensor] = (
        [p for p, c in zip(params, plan.chosen, strict=True) if c] if plan else []
    )
    scale = noise.factor(eta) if noise else 0.0
    n, b = data.n_train, batch_size
    per_epoch = n // b
    chance = chance_level(data.y_train, data.n_classes)
    slots = schedule.new_slots(params)
    loss_sum = torch.zeros((), device=dev, dtype=dt)
    perm = torch.empty(0, dtype=torch.int64, device=dev)
    rows: list[dict[str, float]] = []
    status, message, last_eval, j = "step_limit", "", 0, 0
    met: TargetsMet | None = None
    sums: SplitSums | None = None
    averaged: list[torch.Tensor] = []
    bar = progress_bar(max_steps, show_progress(progress), "train")
    t = 0
    try:
        for t in range(1, max_steps + 1):
            k = (t - 1) % per_epoch
            if k == 0:
                perm = torch.randperm(n, generator=gen, device=dev)
            idx = perm[k * b : (k + 1) * b]
            loss = F.cross_entropy(net(data.x_train[idx]), data.y_train[idx])
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                torch._foreach_add_(params, list(grads), alpha=-eta)
                if plan is not None and plan.active:
                    add_noise(noisy, plan.transform(plan.draw(gen, dev), scale), dt)
                loss_sum += loss.detach()
                schedule.accumulate(slots, params, t, j)
            if t != schedule.evals[j]:
                continue
            with torch.no_grad():
                values = torch.cat(
                    [
                        split_stats(net, data.x_train, data.y_train),
                        split_stats(net, data.x_test, data.y_test),
                        loss_sum.reshape(1),
                    ]
                ).tolist()
            sums, batch_loss_sum = SplitSums(*values[:4]), values[4]
            row = eval_row(t, batch_loss_sum / (t - last_eval), sums, n, data.n_test)
            rows.append(row)
            loss_sum.zero_()
            bar.update(t - last_eval)
            bar.set_postfix(loss=f"{row['batch_loss']:.4g}", acc=f"{row['train_accuracy']:.3f}")
            last_eval = t
            decision, message, met = decide(t, max_steps, row, stop, chance, met)
            if decision is not None:
                status = decision
                averaged = slots[schedule.slot(j)]
                break
            j += 1
    finally:
        bar.close()
    final_state = {nm: p.detach().cpu().clone() for nm, p in zip(names, params, strict=True)}
    avg_state = {nm: a.detach().cpu().clone() for nm, a in zip(names, averaged, strict=True)}
    if schedule.single(j):
        # the window holds the last step only: the averaged network is the current iterate,
        # which the last evaluation has just measured (the same computation, same numbers)
        assert sums is not None
        metrics = sums
    else:
        with torch.no_grad():
            torch._foreach_copy_(params, averaged)
            metrics = SplitSums(
                *torch.cat(
                    [
                        split_stats(net, data.x_train, data.y_train),
                        split_stats(net, data.x_test, data.y_test),
                    ]
                ).tolist()
            )
    return TrainResult(
        final_state=final_state,
        averaged_state=avg_state,
        history=history_frame(rows),
        status=status,
        steps=t,
        message=message,
        **metrics.metrics(n, data.n_test),
        settings={
            "model": str(getattr(model, "spec", None) or type(model).__name__),
            **settings_dict(
                eta=eta,
                batch_size=b,
                max_steps=max_steps,
                noise=noise,
                stop=stop,
                average_last=average_last,
                eval_every=eval_every,
                rng=rng,
                device=dev,
                dtype=dt,
                data=data,
            ),
        },
    )
