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
from typing import Any

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
from ._train import (
    Met,
    Schedule,
    StopRule,
    add_noise,
    chance_level,
    check_common,
    decide,
    eval_row,
    history_frame,
    progress_bar,
    settings_dict,
    show_progress,
    split_stats,
)

__all__ = ["train_ensemble"]


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
    factory: Callable[[int], nn.Module]
    if isinstance(spec_or_factory, str):
        spec = spec_or_factory

        def from_spec(seed: int) -> nn.Module:
            return build_model(
                spec,
                in_shape=data.in_shape,
                n_classes=data.n_classes,
                rng=seed,
                device=dev,
                dtype=dt,
            )

        factory = from_spec
    elif callable(spec_or_factory):
        factory = spec_or_factory
    else:
        raise InvalidArgumentError(
            "`spec_or_factory` must be a model spec string or a callable of an int seed, got "
            f"{type(spec_or_factory).__name__}"
        )
    models = []
    for s in seeds_l:
        m = factory(s)
        if not isinstance(m, nn.Module):
            raise InvalidArgumentError(
                f"`spec_or_factory` must return a torch.nn.Module, got {type(m).__name__}"
            )
        models.append(m.to(device=dev, dtype=dt))
    shapes = [[(n, tuple(p.shape)) for n, p in m.named_parameters()] for m in models]
    if any(s != shapes[0] for s in shapes) or not shapes[0]:
        raise InvalidArgumentError(
            "`spec_or_factory` must give members with the same (non-empty) parameter names "
            "and shapes"
        )
    if any(True for m in models for _ in m.buffers()):
        raise InvalidArgumentError("`spec_or_factory` must give models without buffers")
    data = data.to(dev, dt)
    n_members = len(models)
    base = copy.deepcopy(models[0]).to("meta")
    stacked, _ = stack_module_state(models)
    names = list(stacked)
    params = [stacked[nm].detach() for nm in names]
    fcn = StackedFCN.detect(models, names)
    del models

    def forward(p: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = functional_call(base, dict(zip(names, p, strict=True)), (x,))
        return out

    def loss_fn(p: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(forward(p, x), y)

    # Small FCNs spend most of a generic step in vmap's and autograd's overhead: they take
    # the batched products and hand-written backward of StackedFCN (same results up to
    # rounding); any other model takes vmap over functional_call.
    step_fn: Callable[..., tuple[Sequence[torch.Tensor], torch.Tensor]]
    eval_fn: Callable[[Sequence[torch.Tensor], torch.Tensor], torch.Tensor]
    if fcn is not None:
        step_fn, eval_fn = fcn.grad_and_loss, fcn.forward
    else:
        step_fn, eval_fn = vmap(grad_and_value(loss_fn)), vmap(forward, in_dims=(0, None))

    gens = [torch_generator(s, dev, purpose="train") for s in seeds_l]
    plan = (
        NoisePlan(noise, [(nm, p.shape[1:]) for nm, p in zip(names, params, strict=True)])
        if noise
        else None
    )
    noisy_idx = [i for i, c in enumerate(plan.chosen) if c] if plan else []
    neg_eta = torch.tensor([-e for e in etas_l], device=dev, dtype=dt)
    neg_etas = [neg_eta.reshape(-1, *([1] * (p.ndim - 1))) for p in params]
    scales = torch.tensor(
        [noise.scale(e) for e in etas_l] if noise else [0.0] * n_members,
        device=dev,
        dtype=torch.float64,
    )
    schedule = Schedule.make(max_steps, eval_every, average_last)
    n, b = data.n_train, batch_size
    per_epoch = n // b
    chance = chance_level(data.y_train, data.n_classes)
    slots = schedule.new_slots(params)
    loss_sum = torch.zeros(n_members, device=dev, dtype=dt)
    # ids[r]: the member whose parameters are row r of the stacks. A member that stops
    # is dropped from every stack (compact) at the evaluation that stops it, so that the
    # steps after it cost only what the running members need. Each member draws from its
    # own generator and is computed independently of the others, so dropping one changes
    # nothing for the rest.
    ids = list(range(n_members))
    perms = torch.empty(0, dtype=torch.int64, device=dev)
    rows: list[list[dict[str, float]]] = [[] for _ in range(n_members)]
    done: dict[int, tuple[str, str, int, list[torch.Tensor], list[torch.Tensor]]] = {}
    met: list[Met | None] = [None] * n_members
    last_stats: dict[int, list[float]] = {}
    last_eval, j = 0, 0
    bar = progress_bar(max_steps, show_progress(progress), f"train {n_members} networks")

    def compact(keep: list[int]) -> None:
        nonlocal params, slots, neg_etas, scales, loss_sum, gens, perms, ids
        sel = torch.tensor(keep, dtype=torch.int64, device=dev)
        params = [p.index_select(0, sel) for p in params]
        slots = [[a.index_select(0, sel) for a in slot] for slot in slots]
        neg_etas = [v.index_select(0, sel) for v in neg_etas]
        scales, loss_sum = scales.index_select(0, sel), loss_sum.index_select(0, sel)
        perms = perms.index_select(0, sel) if perms.numel() else perms
        gens = [gens[r] for r in keep]
        ids = [ids[r] for r in keep]

    try:
        for t in range(1, max_steps + 1):
            k = (t - 1) % per_epoch
            if k == 0:
                perms = torch.stack([torch.randperm(n, generator=g, device=dev) for g in gens])
            idx = perms[:, k * b : (k + 1) * b]
            grads, loss = step_fn(params, data.x_train[idx], data.y_train[idx])
            with torch.no_grad():
                torch._foreach_addcmul_(params, list(grads), neg_etas)
                if plan is not None and plan.active:
                    raws = [plan.draw(g, dev) for g in gens]
                    stacked_raw = [torch.stack(parts) for parts in zip(*raws, strict=True)]
                    draws = plan.transform(stacked_raw, scales)
                    add_noise([params[i] for i in noisy_idx], draws, dt)
                loss_sum += loss.detach()
                schedule.accumulate(slots, params, t, j)
            if t != schedule.evals[j]:
                continue
            with torch.no_grad():
                fwd = lambda x: eval_fn(params, x)  # noqa: E731
                stats = torch.cat(
                    [
                        split_stats(fwd, data.x_train, data.y_train),
                        split_stats(fwd, data.x_test, data.y_test),
                        loss_sum.reshape(-1, 1),
                    ],
                    dim=1,
                ).tolist()
            keep = []
            for r, i in enumerate(ids):
                row = eval_row(t, stats[r][4] / (t - last_eval), stats[r], n, data.n_test)
                rows[i].append(row)
                decision, message, met[i] = decide(t, max_steps, row, stop, chance, met[i])
                if decision is None:
                    keep.append(r)
                    continue
                done[i] = (
                    decision,
                    message,
                    t,
                    [p[r].cpu().clone() for p in params],
                    [a[r].cpu().clone() for a in slots[schedule.slot(j)]],
                )
                if schedule.single(j):
                    last_stats[i] = stats[r][:4]
            loss_sum.zero_()
            bar.update(t - last_eval)
            last_eval = t
            j += 1
            if not keep:
                break
            if len(keep) < len(ids):
                compact(keep)
    finally:
        bar.close()
    if len(last_stats) == n_members:
        # every window held its last step only: each averaged network is the iterate that
        # the member's last evaluation measured
        metrics = [last_stats[i] for i in range(n_members)]
    else:
        avg = [
            torch.stack([done[i][4][q] for i in range(n_members)]).to(dev)
            for q in range(len(names))
        ]
        with torch.no_grad():
            fwd_avg = lambda x: eval_fn(avg, x)  # noqa: E731
            metrics = torch.cat(
                [
                    split_stats(fwd_avg, data.x_train, data.y_train),
                    split_stats(fwd_avg, data.x_test, data.y_test),
                ],
                dim=1,
            ).tolist()
    common = settings_dict(
        eta=None,
        batch_size=b,
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
    model_name = str(getattr(base, "spec", None) or type(base).__name__)
    members = []
    for i in range(n_members):
        status, message, steps, final, averaged = done[i]
        members.append(
            TrainResult(
                final_state=dict(zip(names, final, strict=True)),
                averaged_state=dict(zip(names, averaged, strict=True)),
                history=history_frame(rows[i]),
                status=status,
                steps=steps,
                message=message,
                train_loss=metrics[i][0] / n,
                train_accuracy=metrics[i][1] / n,
                test_loss=metrics[i][2] / data.n_test,
                test_accuracy=metrics[i][3] / data.n_test,
                settings={"model": model_name, **common, "eta": etas_l[i], "rng": seeds_l[i]},
            )
        )
    return EnsembleResult(
        tuple(members),
        {"model": model_name, **common, "etas": etas_l, "seeds": seeds_l, "n_members": n_members},
    )
