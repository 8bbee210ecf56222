"""Many networks of one architecture trained at once with batched products.

The members' parameters are stacked (``torch.func.stack_module_state``) and one step of
all of them is one call of ``vmap(grad_and_value(loss))`` over ``functional_call``: the
matrix products of E members become batched products, which keeps a GPU busy with
networks too small to fill it alone. Plain :class:`FCN` members take a faster path with
the same results up to rounding (:class:`StackedFCN`: one batched product per layer and a
hand-written backward pass), since for small networks most of a generic step is vmap's
and autograd's per-operation overhead. Each member keeps its own ``torch.Generator``
(seeded as :func:`train` seeds it), draws its own permutations and noise from it in the
same order as :func:`train`, and stops on its own: so each member's result is the one
:func:`train` gives for its seed and step size, up to floating-point rounding (batched
and single matrix products may round differently).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_int, check_real

from ._data import Dataset
from ._device import as_device, as_dtype, torch_generator
from ._ensemble_fcn import StackedFCN
from ._models import build_model
from ._noise import InjectedNoise, NoisePlan
from ._result import EnsembleResult, TrainResult
from ._stopping import StopRule, TargetsMet, decide
from ._train import (
    Schedule,
    SplitSums,
    add_noise,
    chance_level,
    check_common,
    eval_row,
    history_frame,
    progress_bar,
    settings_dict,
    show_progress,
    split_stats,
)

__all__ = ["model_factory", "train_ensemble"]


def _members(etas: Any, seeds: Any) -> tuple[list[float], list[int]]:
    """Broadcast ``etas`` and ``seeds`` (length 1 or E each) to E pairs."""
    if isinstance(etas, str) or not isinstance(etas, Sequence) or len(etas) == 0:
        raise InvalidArgumentError(
            f"`etas` must be a non-empty sequence of step sizes, got {etas!r}"
        )
    if isinstance(seeds, str) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise InvalidArgumentError(
            f"`seeds` must be a non-empty sequence of int seeds, got {seeds!r}"
        )
    eta_list = [check_real(e, "etas", low=0.0, low_open=True) for e in etas]
    seed_list = [check_int(s, "seeds", low=0) for s in seeds]
    if len(eta_list) != len(seed_list):
        if len(eta_list) == 1:
            eta_list = eta_list * len(seed_list)
        elif len(seed_list) == 1:
            seed_list = seed_list * len(eta_list)
        else:
            raise InvalidArgumentError(
                f"`etas` and `seeds` must have the same length or one of them length 1, got "
                f"{len(eta_list)} and {len(seed_list)}"
            )
    return eta_list, seed_list


def model_factory(
    spec_or_factory: str | Callable[[int], nn.Module],
    data: Dataset,
    device: torch.device,
    dtype: torch.dtype,
) -> Callable[[int], nn.Module]:
    """The function of an int seed that builds a member: ``build_model(spec, rng=seed)`` for
    ``data``'s shapes on ``device`` and ``dtype``, or the given factory itself."""
    if isinstance(spec_or_factory, str):
        spec = spec_or_factory

        def from_spec(seed: int) -> nn.Module:
            return build_model(
                spec,
                in_shape=data.in_shape,
                n_classes=data.n_classes,
                rng=seed,
                device=device,
                dtype=dtype,
            )

        return from_spec
    if callable(spec_or_factory):
        return spec_or_factory
    raise InvalidArgumentError(
        "`spec_or_factory` must be a model spec string or a callable of an int seed, got "
        f"{type(spec_or_factory).__name__}"
    )


def _build_members(
    factory: Callable[[int], nn.Module],
    seeds: Sequence[int],
    device: torch.device,
    dtype: torch.dtype,
) -> list[nn.Module]:
    """One network per seed, checked to share parameter names and shapes and to hold no
    buffers."""
    models = []
    for s in seeds:
        m = factory(s)
        if not isinstance(m, nn.Module):
            raise InvalidArgumentError(
                f"`spec_or_factory` must return a torch.nn.Module, got {type(m).__name__}"
            )
        models.append(m.to(device=device, dtype=dtype))
    shapes = [[(n, tuple(p.shape)) for n, p in m.named_parameters()] for m in models]
    if any(s != shapes[0] for s in shapes) or not shapes[0]:
        raise InvalidArgumentError(
            "`spec_or_factory` must give members with the same (non-empty) parameter names "
            "and shapes"
        )
    if any(True for m in models for _ in m.buffers()):
        raise InvalidArgumentError("`spec_or_factory` must give models without buffers")
    return models


GradAndLoss = Callable[..., tuple[Sequence[torch.Tensor], torch.Tensor]]
"""(stacked params, inputs (E, b, ...), labels (E, b)) -> (gradients, (E,) mean losses)."""
Logits = Callable[[Sequence[torch.Tensor], torch.Tensor], torch.Tensor]
"""(stacked params, inputs (m, ...) shared by the members) -> logits (E, m, C)."""


@dataclass(frozen=True)
class StackedNetworks:
    """How E networks of one architecture run when their parameters are stacked.

    ``names`` are the parameters' names (``named_parameters`` order): the stacked tensor of
    ``names[q]`` is (E, *shape of the parameter). ``model`` names the architecture.
    """

    names: tuple[str, ...]
    model: str
    grad_and_loss: GradAndLoss
    logits: Logits

    @classmethod
    def stack(cls, models: Sequence[nn.Module]) -> tuple[StackedNetworks, list[torch.Tensor]]:
        """The networks of ``models`` and their stacked parameters (detached copies).

        Small FCNs spend most of a generic step in vmap's and autograd's overhead: they take
        the batched products and hand-written backward of StackedFCN (same results up to
        rounding); any other model takes vmap over functional_call.
        """
        base = copy.deepcopy(models[0]).to("meta")
        stacked, _ = stack_module_state(models)
        names = tuple(stacked)
        params = [stacked[nm].detach() for nm in names]
        model = str(getattr(base, "spec", None) or type(base).__name__)
        fcn = StackedFCN.detect(models, names)
        if fcn is not None:
            return cls(names, model, fcn.grad_and_loss, fcn.forward), params

        def forward(p: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = functional_call(base, dict(zip(names, p, strict=True)), (x,))
            return out

        def loss(p: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(forward(p, x), y)

        return cls(
            names, model, vmap(grad_and_value(loss)), vmap(forward, in_dims=(0, None))
        ), params

    def split_sums(self, params: Sequence[torch.Tensor], data: Dataset) -> torch.Tensor:
        """(E, 4) on the device: each network's :class:`SplitSums` on the whole training
        and test sets."""
        fwd = lambda x: self.logits(params, x)  # noqa: E731
        return torch.cat(
            [
                split_stats(fwd, data.x_train, data.y_train),
                split_stats(fwd, data.x_test, data.y_test),
            ],
            dim=1,
        )


@dataclass
class Running:
    """The members still training, as stacks: row r of every tensor is member ``ids[r]``.

    A member that stops is dropped from every stack (:meth:`keep`) at the evaluation that
    stops it, so that the steps after it cost only what the running members need. Each
    member draws from its own generator and is computed independently of the others, so
    dropping one changes nothing for the rest.
    """

    ids: list[int]
    params: list[torch.Tensor]
    slots: list[list[torch.Tensor]]
    """The running means of :class:`Schedule`, one list like ``params`` per slot."""
    neg_etas: list[torch.Tensor]
    """Minus each member's step size, shaped to broadcast against each of ``params``."""
    scales: torch.Tensor
    """(E,) float64: each member's factor in front of the injected noise."""
    loss_sum: torch.Tensor
    """(E,) minibatch losses summed since the last evaluation."""
    gens: list[torch.Generator]
    perms: torch.Tensor
    """(E, n_train) the epoch's permutation of each member (empty before the first)."""

    def keep(self, rows: list[int]) -> None:
        """Keep rows ``rows`` of every stack (the members that go on), drop the others."""
        sel = torch.tensor(rows, dtype=torch.int64, device=self.loss_sum.device)
        self.params = [p.index_select(0, sel) for p in self.params]
        self.slots = [[a.index_select(0, sel) for a in slot] for slot in self.slots]
        self.neg_etas = [v.index_select(0, sel) for v in self.neg_etas]
        self.scales = self.scales.index_select(0, sel)
        self.loss_sum = self.loss_sum.index_select(0, sel)
        self.perms = self.perms.index_select(0, sel) if self.perms.numel() else self.perms
        self.gens = [self.gens[r] for r in rows]
        self.ids = [self.ids[r] for r in rows]


@dataclass(frozen=True)
class EnsembleSGD:
    """What every step of an ensemble shares: the networks, data, batches, noise, windows."""

    nets: StackedNetworks
    data: Dataset
    batch_size: int
    schedule: Schedule
    plan: NoisePlan | None
    noisy: tuple[int, ...]
    """Positions in the parameter list of the parameters that receive noise."""
    device: torch.device
    dtype: torch.dtype

    @classmethod
    def make(
        cls,
        nets: StackedNetworks,
        params: Sequence[torch.Tensor],
        data: Dataset,
        batch_size: int,
        schedule: Schedule,
        noise: InjectedNoise | None,
    ) -> EnsembleSGD:
        """The steps of ``nets`` (stacked parameters ``params``) on ``data``, on the
        device and in the dtype of ``data``."""
        plan = (
            NoisePlan(noise, [(nm, p.shape[1:]) for nm, p in zip(nets.names, params, strict=True)])
            if noise
            else None
        )
        noisy = tuple(i for i, c in enumerate(plan.chosen) if c) if plan else ()
        return cls(nets, data, batch_size, schedule, plan, noisy, data.device, data.dtype)

    def start(
        self,
        params: list[torch.Tensor],
        etas: Sequence[float],
        scales: Sequence[float],
        seeds: Sequence[int],
    ) -> Running:
        """The state before the first step of members with these step sizes, noise factors
        and seeds."""
        dev = self.device
        neg_eta = torch.tensor([-e for e in etas], device=dev, dtype=self.dtype)
        return Running(
            ids=list(range(len(etas))),
            params=params,
            slots=self.schedule.new_slots(params),
            neg_etas=[neg_eta.reshape(-1, *([1] * (p.ndim - 1))) for p in params],
            scales=torch.tensor(scales, device=dev, dtype=torch.float64),
            loss_sum=torch.zeros(len(etas), device=dev, dtype=self.dtype),
            gens=[torch_generator(s, dev, purpose="train") for s in seeds],
            perms=torch.empty(0, dtype=torch.int64, device=dev),
        )

    def step(self, run: Running, t: int, j: int) -> None:
        """Step t of every running member; j is the index of the next evaluation."""
        data, b = self.data, self.batch_size
        k = (t - 1) % (data.n_train // b)
        if k == 0:
            run.perms = torch.stack(
                [torch.randperm(data.n_train, generator=g, device=self.device) for g in run.gens]
            )
        idx = run.perms[:, k * b : (k + 1) * b]
        grads, loss = self.nets.grad_and_loss(run.params, data.x_train[idx], data.y_train[idx])
        with torch.no_grad():
            torch._foreach_addcmul_(run.params, list(grads), run.neg_etas)
            if self.plan is not None and self.plan.active:
                raws = [self.plan.draw(g, self.device) for g in run.gens]
                stacked_raw = [torch.stack(parts) for parts in zip(*raws, strict=True)]
                draws = self.plan.transform(stacked_raw, run.scales)
                add_noise([run.params[i] for i in self.noisy], draws, self.dtype)
            run.loss_sum += loss.detach()
            self.schedule.accumulate(run.slots, run.params, t, j)

    def evaluate(self, run: Running) -> list[Evaluation]:
        """Each running member's current iterate on the whole training and test sets, and
        its minibatch losses summed since the last evaluation (read from the device)."""
        with torch.no_grad():
            table = torch.cat(
                [self.nets.split_sums(run.params, self.data), run.loss_sum.reshape(-1, 1)],
                dim=1,
            ).tolist()
        return [Evaluation(SplitSums(*v[:4]), v[4]) for v in table]


class Evaluation(NamedTuple):
    """One member's evaluation: its current iterate's sums over the training and test
    sets, and its minibatch losses summed since the previous evaluation."""

    sums: SplitSums
    batch_loss_sum: float


class Stopped(NamedTuple):
    """How a member ended, and its weights then (on the CPU)."""

    status: str
    message: str
    steps: int
    final: list[torch.Tensor]
    averaged: list[torch.Tensor]
    """The running mean of the member's last iterates (its window at the last step)."""


@dataclass
class EnsembleLog:
    """What the evaluations record of each member (lists and dicts indexed by member).

    ``met``: when each member first met its targets; ``stopped``: the members that have
    ended; ``last_sums``: the last evaluation's sums of each ended member whose averaging
    window held its last step only (its averaged network is the iterate measured then).
    """

    stop: StopRule
    chance: float
    """The training accuracy of always answering the most frequent label."""
    rows: list[list[dict[str, float]]]
    met: list[TargetsMet | None]
    stopped: dict[int, Stopped]
    last_sums: dict[int, SplitSums]

    @classmethod
    def empty(cls, n_members: int, stop: StopRule, data: Dataset) -> EnsembleLog:
        chance = chance_level(data.y_train, data.n_classes)
        return cls(stop, chance, [[] for _ in range(n_members)], [None] * n_members, {}, {})

    def record(
        self, sgd: EnsembleSGD, run: Running, evaluations: Sequence[Evaluation], t: int, j: int
    ) -> list[int]:
        """Record evaluation j, at step t, of every running member and decide whether it
        stops; returns the rows of ``run`` of the members that go on."""
        data, schedule = sgd.data, sgd.schedule
        since = schedule.evals[j - 1] if j else 0
        keep = []
        for r, (i, ev) in enumerate(zip(run.ids, evaluations, strict=True)):
            row = eval_row(t, ev.batch_loss_sum / (t - since), ev.sums, data.n_train, data.n_test)
            self.rows[i].append(row)
            decision = decide(t, schedule.evals[-1], row, self.stop, self.chance, self.met[i])
            self.met[i] = decision.met
            if decision.status is None:
                keep.append(r)
                continue
            self.stopped[i] = Stopped(
                decision.status,
                decision.message,
                t,
                [p[r].cpu().clone() for p in run.params],
                [a[r].cpu().clone() for a in run.slots[schedule.slot(j)]],
            )
            if schedule.single(j):
                self.last_sums[i] = ev.sums
        return keep

    def averaged_sums(self, sgd: EnsembleSGD) -> list[SplitSums]:
        """Each member's averaged network on the whole training and test sets."""
        n_members = len(self.rows)
        if len(self.last_sums) == n_members:
            # every window held its last step only: each averaged network is the iterate
            # that the member's last evaluation measured
            return [self.last_sums[i] for i in range(n_members)]
        avg = [
            torch.stack([self.stopped[i].averaged[q] for i in range(n_members)]).to(sgd.device)
            for q in range(len(sgd.nets.names))
        ]
        with torch.no_grad():
            table = sgd.nets.split_sums(avg, sgd.data).tolist()
        return [SplitSums(*v) for v in table]


def train_ensemble(
    spec_or_factory: str | Callable[[int], nn.Module],
    data: Dataset,
    *,
    etas: Sequence[float],
    seeds: Sequence[int],
    batch_size: int,
    max_steps: int,
    noise: InjectedNoise | None = None,
    stop: StopRule | None = None,
    average_last: int | None = None,
    device: Any = None,
    dtype: Any = None,
    eval_every: int = 500,
    progress: bool | None = None,
) -> EnsembleResult:
    """Train E networks of one architecture at once; member i as ``train`` would train it.

    Member i has step size ``etas[i]`` and seed ``seeds[i]`` (a length-1 sequence is
    repeated to the other's length). Its initial weights are
    ``build_model(spec, ..., rng=seeds[i])`` (or ``factory(seeds[i])``), and its batches
    and noise come from the stream :func:`train` derives from ``rng=seeds[i]``, so that
    its :class:`TrainResult` equals
    ``train(build_model(spec, ..., rng=s), data, eta=eta, rng=s, ...)`` up to rounding.
    All members share the batch size, the noise law, the stopping rule and the schedule
    of evaluations; a member that has stopped ("converged" or "diverged") is dropped
    from the stacks, while the others go on: later steps cost only what the running
    members need.

    Members that are plain :class:`FCN` networks (any "fcn..." spec, or a factory returning
    ``FCN`` itself, not a subclass) are trained by batched matrix products with a
    hand-written backward pass; any other model by ``vmap`` over ``functional_call``. Both
    give the same results up to rounding; the first is several times faster for small
    networks, whose steps are mostly per-operation overhead.

    Parameters
    ----------
    spec_or_factory : str or callable
        A :func:`build_model` spec (built for ``data.in_shape`` and ``data.n_classes``),
        or a function of an int seed returning a ``torch.nn.Module``; all members must
        have the same parameter names and shapes, and no buffers.
    data : Dataset
        As for :func:`train`.
    etas : sequence of float
        Step sizes, > 0.
    seeds : sequence of int
        Seeds, >= 0 (ints, so that every member can be rerun alone).
    batch_size, max_steps, noise, stop, average_last, eval_every, progress
        As for :func:`train`.
    device : str, torch.device or None
        Where to train; None: the CPU.
    dtype : torch.float32, torch.float64 or None
        Float type; None: float32.

    Returns
    -------
    EnsembleResult
        ``members``, one :class:`TrainResult` each; ``to_frame()`` tabulates them.

    Examples
    --------
    >>> from heavytail.nn import teacher_student, train_ensemble
    >>> data = teacher_student(256, 128, in_features=8, n_classes=3, rng=0)
    >>> res = train_ensemble("fcn2-32", data, etas=[0.1, 0.5], seeds=[0], batch_size=32,
    ...                      max_steps=99)
    >>> res.to_frame()[["eta", "status", "steps"]].values.tolist()
    [[0.1, 'step_limit', 99], [0.5, 'step_limit', 99]]
    """
    stop, average_last = check_common(
        data, None, batch_size, max_steps, noise, stop, average_last, eval_every, progress
    )
    etas_l, seeds_l = _members(etas, seeds)
    dev, dt = as_device(device), as_dtype(dtype)
    models = _build_members(model_factory(spec_or_factory, data, dev, dt), seeds_l, dev, dt)
    data = data.to(dev, dt)
    nets, params = StackedNetworks.stack(models)
    del models
    schedule = Schedule.make(max_steps, eval_every, average_last)
    sgd = EnsembleSGD.make(nets, params, data, batch_size, schedule, noise)
    run = sgd.start(
        params,
        etas_l,
        [noise.factor(e) for e in etas_l] if noise else [0.0] * len(etas_l),
        seeds_l,
    )
    log = _train_members(sgd, run, stop, progress)
    common = settings_dict(
        eta=None,
        batch_size=batch_size,
        max_steps=max_steps,
        noise=noise,
        stop=stop,
        average_last=average_last,
        eval_every=eval_every,
        rng=None,
        device=dev,
        dtype=dt,
        data=data,
    )
    results = _results(log, log.averaged_sums(sgd), sgd, common, etas_l, seeds_l)
    return EnsembleResult(
        results,
        {
            "model": nets.model,
            **common,
            "etas": etas_l,
            "seeds": seeds_l,
            "n_members": len(etas_l),
        },
    )


def _train_members(
    sgd: EnsembleSGD, run: Running, stop: StopRule, progress: bool | None
) -> EnsembleLog:
    """Run the steps until every member has stopped; what the evaluations recorded."""
    evals = sgd.schedule.evals
    log = EnsembleLog.empty(len(run.ids), stop, sgd.data)
    bar = progress_bar(evals[-1], show_progress(progress), f"train {len(run.ids)} networks")
    j = 0
    try:
        for t in range(1, evals[-1] + 1):
            sgd.step(run, t, j)
            if t != evals[j]:
                continue
            keep = log.record(sgd, run, sgd.evaluate(run), t, j)
            run.loss_sum.zero_()
            bar.update(t - (evals[j - 1] if j else 0))
            j += 1
            if not keep:
                break
            if len(keep) < len(run.ids):
                run.keep(keep)
    finally:
        bar.close()
    return log


def _results(
    log: EnsembleLog,
    sums: Sequence[SplitSums],
    sgd: EnsembleSGD,
    common: dict[str, Any],
    etas: Sequence[float],
    seeds: Sequence[int],
) -> tuple[TrainResult, ...]:
    """One TrainResult per member, from what its evaluations recorded and its averaged
    network's ``sums``."""
    names, data = sgd.nets.names, sgd.data
    out = []
    for i in range(len(etas)):
        stopped = log.stopped[i]
        out.append(
            TrainResult(
                final_state=dict(zip(names, stopped.final, strict=True)),
                averaged_state=dict(zip(names, stopped.averaged, strict=True)),
                history=history_frame(log.rows[i]),
                status=stopped.status,
                steps=stopped.steps,
                message=stopped.message,
                **sums[i].metrics(data.n_train, data.n_test),
                settings={"model": sgd.nets.model, **common, "eta": etas[i], "rng": seeds[i]},
            )
        )
    return tuple(out)
