"""Ensembles trained at once with torch.func equal their members trained alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from heavytail._lib._errors import InvalidArgumentError
from heavytail.nn import (
    Dataset,
    InjectedNoise,
    StopRule,
    build_model,
    teacher_student,
    train,
    train_ensemble,
)

# Batched and single matrix products may round differently (another blocking of the
# sums), so members agree with solo runs to rounding, amplified over the steps. Measured
# on these runs (relative to each tensor's largest entry): at most 1.3e-14 in float64 and
# 2e-7 in float32; the tolerances leave a factor of about 500 for other BLAS builds.
RTOL = {torch.float64: 1e-11, torch.float32: 1e-4}

ETAS = [0.3, 1.0, 1e5, 0.05]
SEEDS = [1, 1, 1, 2]


@pytest.fixture(scope="module")
def data() -> Dataset:
    return teacher_student(200, 100, in_features=6, n_classes=3, rng=0)


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float) -> bool:
    """|a - b| <= rtol * (max |b| + 1) entrywise, where b is finite; NaN or inf where b is."""
    finite = b.isfinite()
    if not torch.equal(finite, a.isfinite()):
        return False
    if not finite.any():
        return True
    size = b[finite].abs().max() + 1
    return bool(((a[finite] - b[finite]).abs() <= rtol * size).all())


@pytest.mark.parametrize("noise", [None, InjectedNoise(kind=1, alpha=1.75, sigma=0.01)])
def test_each_member_equals_training_it_alone(
    data: Dataset, dtype: torch.dtype, noise: InjectedNoise | None
) -> None:
    kw = {
        "batch_size": 16,
        "max_steps": 100,
        "eval_every": 20,
        "average_last": 10,
        "noise": noise,
        "dtype": dtype,
        "stop": StopRule(train_accuracy=0.9, chance_after=40),
    }
    ens = train_ensemble("fcn3-16", data, etas=ETAS, seeds=SEEDS, **kw)  # type: ignore[arg-type]
    assert len(ens) == 4
    statuses = set()
    for member, eta, seed in zip(ens.members, ETAS, SEEDS, strict=True):
        net = build_model("fcn3-16", in_shape=(6,), n_classes=3, rng=seed, dtype=dtype)
        solo = train(net, data, eta=eta, rng=seed, **kw)  # type: ignore[arg-type]
        assert (member.status, member.steps) == (solo.status, solo.steps)
        statuses.add(member.status)
        for k in solo.final_state:
            assert _close(member.final_state[k], solo.final_state[k], RTOL[dtype])
            assert _close(member.averaged_state[k], solo.averaged_state[k], RTOL[dtype])
        assert list(member.history["step"]) == list(solo.history["step"])
        cols = ["train_accuracy", "test_accuracy"]
        # accuracies are counts over 100-200 examples: equal unless a logit tie flips
        assert (member.history[cols] - solo.history[cols]).abs().max().max() <= 0.011
        assert member.settings["eta"] == eta and member.settings["rng"] == seed
    # the members stop on their own: one diverges at 40, others converge or run on
    assert "diverged" in statuses and len({m.steps for m in ens.members}) > 1


def test_stopped_member_is_frozen_while_others_continue(data: Dataset) -> None:
    kw = {"batch_size": 16, "max_steps": 60, "eval_every": 20, "average_last": 5}
    stop = StopRule(chance_after=20)
    ens = train_ensemble("fcn2-8", data, etas=[1e5, 0.3], seeds=[4], stop=stop, **kw)  # type: ignore[arg-type]
    first, second = ens.members
    assert (first.status, first.steps) == ("diverged", 20)
    assert (second.status, second.steps) == ("step_limit", 60)
    # without the diverged member, the other member's run is unchanged
    alone = train_ensemble("fcn2-8", data, etas=[0.3], seeds=[4], stop=stop, **kw)  # type: ignore[arg-type]
    for k, v in alone.members[0].final_state.items():
        assert _close(second.final_state[k], v, RTOL[torch.float32])


def test_factory_broadcast_and_frame(data: Dataset) -> None:
    def factory(seed: int) -> torch.nn.Module:
        return build_model("fcn2-8-nobias", in_shape=(6,), n_classes=3, rng=seed)

    ens = train_ensemble(factory, data, etas=[0.1], seeds=[0, 1, 2], batch_size=8, max_steps=10)
    frame = ens.to_frame()
    assert list(frame["seed"]) == [0, 1, 2] and list(frame["eta"]) == [0.1] * 3
    assert list(frame.columns[:5]) == ["member", "seed", "eta", "status", "steps"]
    assert (frame["generalization_gap"] == frame["train_accuracy"] - frame["test_accuracy"]).all()
    assert ens.settings["model"] == "fcn2-8-nobias" and ens.settings["n_members"] == 3


def test_ensemble_on_device(data: Dataset, device: torch.device) -> None:
    noise = InjectedNoise(kind=3, alpha=1.5, sigma=0.01)
    kw = {"batch_size": 16, "max_steps": 40, "eval_every": 20, "noise": noise, "device": device}
    ens = train_ensemble("fcn2-16", data, etas=[0.1, 0.3], seeds=[5, 6], **kw)  # type: ignore[arg-type]
    for member, eta, seed in zip(ens.members, [0.1, 0.3], [5, 6], strict=True):
        net = build_model("fcn2-16", in_shape=(6,), n_classes=3, rng=seed)
        solo = train(net, data, eta=eta, rng=seed, **kw)  # type: ignore[arg-type]
        for k in solo.final_state:
            assert _close(member.final_state[k], solo.final_state[k], RTOL[torch.float32])


def test_bad_arguments_named(data: Dataset) -> None:
    kw = {"batch_size": 8, "max_steps": 5}
    with pytest.raises(InvalidArgumentError, match="`etas` and `seeds` must have the same"):
        train_ensemble("fcn2-4", data, etas=[0.1, 0.2], seeds=[1, 2, 3], **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="`etas`"):
        train_ensemble("fcn2-4", data, etas=[0.1, -1.0], seeds=[1], **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="`seeds`"):
        train_ensemble("fcn2-4", data, etas=[0.1], seeds=[], **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="`spec`"):
        train_ensemble("fcn-4", data, etas=[0.1], seeds=[1], **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"same .*parameter names"):
        train_ensemble(
            lambda s: build_model(f"fcn2-{4 + s}", in_shape=(6,), n_classes=3, rng=s),
            data, etas=[0.1], seeds=[0, 1], **kw,  # type: ignore[arg-type]
        )  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="`batch_size`"):
        train_ensemble("fcn2-4", data, etas=[0.1], seeds=[1], batch_size=0, max_steps=5)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_ensemble_no_host_sync_in_the_inner_loop(
    data: Dataset, sync_count: Callable[[Callable[[int], object], int], int]
) -> None:
    noise = InjectedNoise(kind=3, alpha=1.5, sigma=0.01)

    def run(steps: int) -> object:
        return train_ensemble(
            "fcn2-8", data, etas=[0.05, 0.1], seeds=[0, 1], batch_size=1, max_steps=steps,
            eval_every=steps, noise=noise, device="cuda", progress=False,
        )  # fmt: skip

    # one evaluation and one permutation per member in each run (b = 1, 200 examples)
    assert sync_count(run, 200) == sync_count(run, 20)
