"""Ensembles trained at once equal their members trained alone, on both paths: the
batched hand-written FCN path and the generic vmap path (any other model)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch

from heavytail._lib._errors import InvalidArgumentError
from heavytail.nn import (
    FCN,
    Dataset,
    InjectedNoise,
    StopRule,
    build_model,
    digits,
    teacher_student,
    train,
    train_ensemble,
)
from heavytail.nn._ensemble_fcn import StackedFCN

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


class _OtherFCN(FCN):
    """An FCN subclass: train_ensemble cannot know its forward, so it takes the vmap path."""


def _generic_factory(spec: str, dtype: torch.dtype) -> Callable[[int], torch.nn.Module]:
    """Members built as ``spec`` would be, as _OtherFCN (same weights, same forward)."""

    def factory(seed: int) -> torch.nn.Module:
        net = build_model(spec, in_shape=(6,), n_classes=3, rng=seed, dtype=dtype)
        net.__class__ = _OtherFCN
        return net

    return factory


@pytest.fixture
def fast_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows at every step taken by the FCN path, by that step's member count."""
    calls: list[int] = []
    original = StackedFCN.grad_and_loss

    def counted(
        self: StackedFCN, params: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        calls.append(int(x.shape[0]))
        return original(self, params, x, y)

    monkeypatch.setattr(StackedFCN, "grad_and_loss", counted)
    return calls


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float) -> bool:
    """|a - b| <= rtol * (max |b| + 1) entrywise, where b is finite; NaN or inf where b is."""
    finite = b.isfinite()
    if not torch.equal(finite, a.isfinite()):
        return False
    if not finite.any():
        return True
    size = b[finite].abs().max() + 1
    return bool(((a[finite] - b[finite]).abs() <= rtol * size).all())


@pytest.mark.parametrize("spec", ["fcn3-16", "fcn3-16-nobias-mf"])
@pytest.mark.parametrize("noise", [None, InjectedNoise(alpha=1.75, scale=0.01, kind="unit")])
def test_each_member_equals_training_it_alone(
    data: Dataset, dtype: torch.dtype, noise: InjectedNoise | None, spec: str, fast_steps: list[int]
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
    ens = train_ensemble(spec, data, etas=ETAS, seeds=SEEDS, **kw)  # type: ignore[arg-type]
    assert len(ens) == 4
    assert len(fast_steps) == max(m.steps for m in ens.members)  # the FCN path, every step
    statuses = set()
    for member, eta, seed in zip(ens.members, ETAS, SEEDS, strict=True):
        net = build_model(spec, in_shape=(6,), n_classes=3, rng=seed, dtype=dtype)
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


def test_paper_stop_rule_members_equal_solo_runs(data: Dataset) -> None:
    # both targets, then 40 more steps, the mean of the last 30 iterates (longer than the
    # 20 steps between evaluations): each member as train gives it, float64
    stop = StopRule(train_loss=0.3, train_accuracy=0.9, all_targets=True, then_steps=40)
    kw = {
        "batch_size": 16, "max_steps": 200, "eval_every": 20, "average_last": 30,
        "dtype": torch.float64, "stop": stop,
    }  # fmt: skip
    etas, seeds = [0.3, 0.1, 1e5], [1, 2, 1]
    ens = train_ensemble("fcn3-16", data, etas=etas, seeds=seeds, **kw)  # type: ignore[arg-type]
    for member, eta, seed in zip(ens.members, etas, seeds, strict=True):
        net = build_model("fcn3-16", in_shape=(6,), n_classes=3, rng=seed, dtype=torch.float64)
        solo = train(net, data, eta=eta, rng=seed, **kw)  # type: ignore[arg-type]
        assert (member.status, member.steps, member.message) == (
            solo.status,
            solo.steps,
            solo.message,
        )
        for k in solo.final_state:
            assert _close(member.averaged_state[k], solo.averaged_state[k], RTOL[torch.float64])
    statuses = [m.status for m in ens.members]
    assert statuses[0] == "converged" and statuses[2] != "converged"  # eta = 1e5 fails
    assert "more steps" in ens.members[0].message


@pytest.mark.parametrize("spec", ["fcn1-8", "fcn2-8-mf", "fcn3-16-nobias", "fcn3-16-nobias-mf"])
def test_fcn_path_equals_generic_path(
    data: Dataset, dtype: torch.dtype, spec: str, fast_steps: list[int]
) -> None:
    noise = InjectedNoise(alpha=1.5, scale=0.01, kind="elliptic")
    kw: dict[str, Any] = {"batch_size": 16, "max_steps": 60, "eval_every": 20}
    kw |= {"average_last": 10, "noise": noise, "dtype": dtype, "stop": StopRule(chance_after=40)}
    etas, seeds = [0.3, 1.0, 1e5], [3, 4, 5]
    fast = train_ensemble(spec, data, etas=etas, seeds=seeds, **kw)
    n_fast = len(fast_steps)
    generic = train_ensemble(_generic_factory(spec, dtype), data, etas=etas, seeds=seeds, **kw)
    assert n_fast == 60 and len(fast_steps) == n_fast  # the second run took the vmap path
    assert [m.status for m in fast.members] == [m.status for m in generic.members]
    for a, b in zip(fast.members, generic.members, strict=True):
        assert a.steps == b.steps and list(a.history["step"]) == list(b.history["step"])
        for k in b.final_state:
            assert _close(a.final_state[k], b.final_state[k], RTOL[dtype])
            assert _close(a.averaged_state[k], b.averaged_state[k], RTOL[dtype])
        loss_cols = ["batch_loss", "train_loss", "test_loss"]
        assert _close(
            torch.tensor(a.history[loss_cols].values), torch.tensor(b.history[loss_cols].values),
            RTOL[dtype],
        )  # fmt: skip
    # negative control: a step size changed by 1e-3 (relative) fails the same comparison
    etas_off = [etas[0] * (1 + 1e-3), *etas[1:]]
    off = train_ensemble(spec, data, etas=etas_off, seeds=seeds, **kw)
    assert not all(
        _close(off.members[0].final_state[k], v, RTOL[dtype])
        for k, v in generic.members[0].final_state.items()
    )


def test_fcn_path_detection() -> None:
    def fcn(spec: str, seed: int = 0) -> torch.nn.Module:
        return build_model(spec, in_shape=(6,), n_classes=3, rng=seed)

    def names(net: torch.nn.Module) -> list[str]:
        return [n for n, _ in net.named_parameters()]

    for spec in ["fcn1-4", "fcn3-4-nobias", "fcn2-4-mf", "fcn3-4-nobias-mf"]:
        nets = [fcn(spec, 0), fcn(spec, 1)]
        found = StackedFCN.detect(nets, names(nets[0]))
        assert found is not None
        assert found.output_scale == (0.25 if spec.endswith("-mf") else 1.0)
        assert len(found.layers) == int(spec[3])
    plain, other = fcn("fcn2-4"), fcn("fcn2-4")
    other.__class__ = _OtherFCN
    assert StackedFCN.detect([plain, other], names(plain)) is None  # a subclass
    cnn = build_model("cnn-2", in_shape=(1, 8, 8), n_classes=3, rng=0)
    assert StackedFCN.detect([cnn], names(cnn)) is None
    # the same shapes but another output scale: not one kind of FCN
    mf = FCN(6, 3, depth=2, width=4, parametrization="mean_field", rng=0)
    assert StackedFCN.detect([plain, mf], names(plain)) is None


def test_cnn_takes_the_generic_path(fast_steps: list[int]) -> None:
    images = digits(image=True, rng=0)
    small = Dataset(
        "digits[:200]", images.x_train[:200], images.y_train[:200], images.x_test[:50],
        images.y_test[:50], n_classes=10,
    )  # fmt: skip
    kw = {"batch_size": 16, "max_steps": 10, "eval_every": 5, "dtype": torch.float64}
    ens = train_ensemble("cnn-2", small, etas=[0.1, 0.5], seeds=[7], **kw)  # type: ignore[arg-type]
    assert fast_steps == []
    for member, eta in zip(ens.members, [0.1, 0.5], strict=True):
        net = build_model("cnn-2", in_shape=(1, 8, 8), n_classes=10, rng=7, dtype=torch.float64)
        solo = train(net, small, eta=eta, rng=7, **kw)  # type: ignore[arg-type]
        for k in solo.final_state:
            assert _close(member.final_state[k], solo.final_state[k], RTOL[torch.float64])


def test_stopped_member_is_frozen_while_others_continue(
    data: Dataset, fast_steps: list[int]
) -> None:
    kw = {"batch_size": 16, "max_steps": 60, "eval_every": 20, "average_last": 5}
    stop = StopRule(chance_after=20)
    ens = train_ensemble("fcn2-8", data, etas=[1e5, 0.3], seeds=[4], stop=stop, **kw)  # type: ignore[arg-type]
    first, second = ens.members
    assert (first.status, first.steps) == ("diverged", 20)
    assert (second.status, second.steps) == ("step_limit", 60)
    # the stopped member is dropped from the stacks: 20 steps of 2 members, then 40 of 1
    assert fast_steps == [2] * 20 + [1] * 40
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
    noise = InjectedNoise(alpha=1.5, scale=0.01, kind="elliptic")
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
    noise = InjectedNoise(alpha=1.5, scale=0.01, kind="elliptic")

    def run(steps: int) -> object:
        return train_ensemble(
            "fcn2-8", data, etas=[0.05, 0.1], seeds=[0, 1], batch_size=1, max_steps=steps,
            eval_every=steps, noise=noise, device="cuda", progress=False,
        )  # fmt: skip

    # one evaluation and one permutation per member in each run (b = 1, 200 examples)
    assert sync_count(run, 200) == sync_count(run, 20)
