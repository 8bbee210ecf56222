"""Plain SGD with injected noise, stopping rules and averaging (heavytail.nn._train)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from heavytail._lib._errors import InvalidArgumentError
from heavytail.nn import (
    Dataset,
    InjectedNoise,
    StopRule,
    build_model,
    teacher_student,
    train,
)
from heavytail.nn._device import torch_generator
from heavytail.nn._train import Schedule


@pytest.fixture(scope="module")
def data() -> Dataset:
    return teacher_student(200, 100, in_features=6, n_classes=3, rng=0)


def _net(seed: int = 1, dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    return build_model("fcn3-16", in_shape=(6,), n_classes=3, rng=seed, dtype=dtype)


def _replay(
    model: torch.nn.Module,
    data: Dataset,
    *,
    eta: float,
    b: int,
    steps: int,
    noise: InjectedNoise,
    seed: int,
) -> list[list[torch.Tensor]]:
    """The iterates of the documented algorithm, written out step by step.

    Per step: a new permutation at each epoch start, one SGD step on the mean
    cross-entropy, then type-2 noise sigma eta^(1/alpha) L with L from the CMS formula
    applied to uniforms then exponentials drawn for all entries (in parameter order).
    """
    net = copy.deepcopy(model).double()
    x, y = data.x_train.double(), data.y_train
    gen = torch_generator(seed, torch.device("cpu"), purpose="train")
    per_epoch = x.shape[0] // b
    a, s = noise.alpha, noise.scale * eta ** (1 / noise.alpha)
    iterates = []
    perm = torch.empty(0, dtype=torch.int64)
    for t in range(steps):
        if t % per_epoch == 0:
            perm = torch.randperm(x.shape[0], generator=gen)
        idx = perm[(t % per_epoch) * b : (t % per_epoch + 1) * b]
        net.zero_grad()
        F.cross_entropy(net(x[idx]), y[idx]).backward()
        params = list(net.parameters())
        total = sum(p.numel() for p in params)
        u = torch.rand(total, generator=gen, dtype=torch.float64)
        w = torch.empty(total, dtype=torch.float64).exponential_(generator=gen)
        v = math.pi * (u - 0.5 + 2.0**-54)
        ell = (
            torch.sin(a * v)
            / torch.cos(v) ** (1 / a)
            * (torch.cos((1 - a) * v) / w) ** ((1 - a) / a)
        )
        offset = 0
        with torch.no_grad():
            for p in params:
                assert p.grad is not None
                p.sub_(eta * p.grad)
                p.add_(s * ell[offset : offset + p.numel()].reshape(p.shape))
                offset += p.numel()
        iterates.append([p.detach().clone() for p in params])
    return iterates


def test_steps_noise_epochs_and_averaging_replay(data: Dataset) -> None:
    noise = InjectedNoise(alpha=1.6, scale=0.02, kind="iid")
    model = _net(dtype=torch.float64)
    # n = 200, b = 64: 3 steps per epoch, so step 4 starts a new permutation; evaluations
    # at 3, 6, 7 with windows 1-3, 4-6 and 5-7 (two overlap: both running means are used)
    res = train(
        model, data, eta=0.2, batch_size=64, max_steps=7, noise=noise, rng=3,
        eval_every=3, average_last=3, dtype=torch.float64, progress=False,
    )  # fmt: skip
    its = _replay(model, data, eta=0.2, b=64, steps=7, noise=noise, seed=3)
    names = list(res.final_state)
    for i, name in enumerate(names):
        # the same operations in another order (autograd.grad and foreach against
        # backward and in-place updates): agreement to float64 rounding
        torch.testing.assert_close(res.final_state[name], its[-1][i], rtol=1e-12, atol=1e-14)
        mean = (its[4][i] + its[5][i] + its[6][i]) / 3
        torch.testing.assert_close(res.averaged_state[name], mean, rtol=1e-12, atol=1e-14)
    assert list(res.history["step"]) == [3, 6, 7]
    assert res.status == "step_limit" and res.steps == 7


def test_schedule_windows() -> None:
    s = Schedule.make(max_steps=23, eval_every=10, average_last=5)
    assert s.evals == (10, 20, 23) and s.starts == (6, 16, 19)
    assert s.windows(5, 0) == [] and s.windows(6, 0) == [(0, 1)]
    assert s.windows(19, 1) == [(1, 4), (0, 1)]  # windows of 20 and 23 overlap
    assert Schedule.make(5, 10, 10).starts == (1,)  # a short run averages all its iterates


def test_same_seed_identical_weights(data: Dataset, dtype: torch.dtype) -> None:
    noise = InjectedNoise(alpha=1.75, scale=0.01, kind="unit")
    kw = {"eta": 0.1, "batch_size": 16, "max_steps": 30, "noise": noise, "eval_every": 10}
    a = train(_net(), data, rng=7, dtype=dtype, average_last=5, **kw)  # type: ignore[arg-type]
    b = train(_net(), data, rng=7, dtype=dtype, average_last=5, **kw)  # type: ignore[arg-type]
    c = train(_net(), data, rng=8, dtype=dtype, average_last=5, **kw)  # type: ignore[arg-type]
    for k in a.final_state:
        assert a.final_state[k].dtype == dtype
        assert torch.equal(a.final_state[k], b.final_state[k])
        assert torch.equal(a.averaged_state[k], b.averaged_state[k])
        assert not torch.equal(a.final_state[k], c.final_state[k])
    assert a.history.equals(b.history)


def test_runs_on_device(data: Dataset, device: torch.device, dtype: torch.dtype) -> None:
    noise = InjectedNoise(alpha=1.5, scale=0.01, kind="elliptic")
    kw = {"eta": 0.3, "batch_size": 16, "max_steps": 40, "noise": noise, "eval_every": 20}
    a = train(_net(), data, rng=2, device=device, dtype=dtype, average_last=10, **kw)  # type: ignore[arg-type]
    b = train(_net(), data, rng=2, device=device, dtype=dtype, average_last=10, **kw)  # type: ignore[arg-type]
    assert a.settings["device"].startswith(device.type)
    for k in a.final_state:
        assert a.final_state[k].device.type == "cpu"
        # CUDA kernels may accumulate in another order from run to run (see `train`)
        torch.testing.assert_close(a.final_state[k], b.final_state[k], rtol=1e-5, atol=1e-6)
    assert 0.5 < a.train_accuracy <= 1.0  # chance is 0.375 on these labels


def test_averaging_window_longer_than_eval_every(data: Dataset) -> None:
    # M = 7 iterates averaged with evaluations every 3 steps: windows of evaluations 9, 12
    # and 13 overlap in up to ceil(7 / 3) + 1 = 4 running means
    noise = InjectedNoise(alpha=1.6, scale=0.02, kind="iid")
    model = _net(dtype=torch.float64)
    res = train(
        model, data, eta=0.2, batch_size=64, max_steps=13, noise=noise, rng=3,
        eval_every=3, average_last=7, dtype=torch.float64, progress=False,
    )  # fmt: skip
    assert Schedule.make(13, 3, 7).n_slots == 4
    its = _replay(model, data, eta=0.2, b=64, steps=13, noise=noise, seed=3)
    for i, name in enumerate(res.final_state):
        # float64, a handful of steps on a 16-unit network: rounding of order 1e-15
        mean = sum(its[k][i] for k in range(6, 13)) / 7
        torch.testing.assert_close(res.averaged_state[name], mean, rtol=1e-12, atol=1e-14)
        # control: the last 6 iterates are not the last 7
        wrong = sum(its[k][i] for k in range(7, 13)) / 6
        assert not torch.allclose(res.averaged_state[name], wrong, rtol=1e-12, atol=1e-14)


def test_schedule_many_slots_cover_each_step_once() -> None:
    s = Schedule.make(max_steps=50, eval_every=4, average_last=10)
    assert s.n_slots == 4
    for j, (lo, hi) in enumerate(zip(s.starts, s.evals, strict=True)):
        for t in range(lo, hi + 1):
            j_next = next(k for k, e in enumerate(s.evals) if e >= t)
            found = [c for slot, c in s.windows(t, j_next) if slot == j % s.n_slots]
            assert found == [t - lo + 1]  # evaluation j's mean counts step t exactly once


def test_all_targets_then_steps(data: Dataset) -> None:
    kw = {"eta": 0.3, "batch_size": 16, "max_steps": 400, "eval_every": 20, "rng": 1}
    net = _net(dtype=torch.float64)
    either = train(net, data, stop=StopRule(train_loss=0.2, train_accuracy=0.92), **kw)  # type: ignore[arg-type]
    both = train(
        net, data, stop=StopRule(train_loss=0.2, train_accuracy=0.92, all_targets=True), **kw
    )  # type: ignore[arg-type]
    h = both.history
    ok = (h["train_loss"] <= 0.2) & (h["train_accuracy"] >= 0.92)
    first = int(h["step"][ok].iloc[0])
    assert both.status == "converged" and both.steps == first
    # control: with either target enough, the run stops at the first evaluation that meets
    # one of them, earlier here (the accuracy target is met before the loss target)
    assert either.steps < both.steps
    # then_steps: the same run goes on 60 steps after the targets are met, and its average
    # is over the last 10 iterates of those
    more = train(
        net,
        data,
        average_last=10,
        stop=StopRule(train_loss=0.2, train_accuracy=0.92, all_targets=True, then_steps=60),
        **kw,
    )  # type: ignore[arg-type]
    assert more.status == "converged" and more.steps == first + 60
    assert f"at step {first}, then 60 more steps" in more.message
    # until the targets are met the two runs are the same run
    n = len(h)
    assert more.history.iloc[:n].equals(h)
    # control: a step limit before the 60 steps are done is not "converged"
    short = train(
        net,
        data,
        average_last=10,
        stop=StopRule(train_loss=0.2, train_accuracy=0.92, all_targets=True, then_steps=60),
        **{**kw, "max_steps": first + 40},
    )  # type: ignore[arg-type]
    assert short.status == "step_limit" and "40 of the 60 steps" in short.message


def test_stop_rule_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="then_steps"):
        StopRule(then_steps=10)
    with pytest.raises(InvalidArgumentError, match="then_steps"):
        StopRule(train_loss=0.1, then_steps=-1)
    with pytest.raises(InvalidArgumentError, match="all_targets"):
        StopRule(train_loss=0.1, all_targets=1)  # type: ignore[arg-type]


def test_type1_noise_added_as_broadcast_equals_full_tensor(data: Dataset) -> None:
    from heavytail.nn._noise import NoisePlan
    from heavytail.nn._train import add_noise

    net = _net()
    named = [(n, p.shape) for n, p in net.named_parameters()]
    plan = NoisePlan(InjectedNoise(alpha=1.5, scale=0.1, kind="unit"), named)
    gen = torch_generator(0, torch.device("cpu"), purpose="train")
    draws = plan.transform(plan.draw(gen, torch.device("cpu")), 0.1)
    params = [p.detach().clone() for p in net.parameters()]
    expected = [p + d.to(torch.float32) for p, d in zip(params, draws, strict=True)]
    add_noise(params, draws, torch.float32)
    for p, e in zip(params, expected, strict=True):
        assert torch.equal(p, e)  # the same float32 sums entry by entry
    assert any(d.stride(-1) == 0 for d in draws if d.ndim == 2)  # per-unit draws: broadcast


def test_converges_to_target_and_control(data: Dataset) -> None:
    kw = {"eta": 0.3, "batch_size": 16, "max_steps": 200, "eval_every": 20, "rng": 1}
    res = train(_net(dtype=torch.float64), data, stop=StopRule(train_accuracy=0.9), **kw)  # type: ignore[arg-type]
    assert res.status == "converged" and res.steps % 20 == 0 and res.steps < 200
    assert res.history["train_accuracy"].iloc[-1] >= 0.9
    assert (res.history["train_accuracy"].iloc[:-1] < 0.9).all()
    # control: an unreachable loss target runs to the step limit
    res = train(_net(dtype=torch.float64), data, stop=StopRule(train_loss=1e-9), **kw)  # type: ignore[arg-type]
    assert res.status == "step_limit" and res.steps == 200 and len(res.history) == 10


def test_divergence_is_a_status(data: Dataset) -> None:
    kw = {"batch_size": 16, "max_steps": 100, "eval_every": 20, "rng": 1}
    # noise of scale 1e300 overflows the weights: non-finite loss, no exception
    huge = InjectedNoise(alpha=1.0, scale=1e300, kind="iid")
    res = train(_net(), data, eta=0.1, noise=huge, **kw)  # type: ignore[arg-type]
    assert res.status == "diverged" and res.steps == 20 and "non-finite" in res.message
    # constant inputs make every network a constant classifier: at chance at step 40
    blank = Dataset("blank", torch.zeros(200, 6), data.y_train, data.x_test, data.y_test, 3)
    res = train(_net(), blank, eta=0.1, stop=StopRule(chance_after=40), **kw)  # type: ignore[arg-type]
    assert res.status == "diverged" and res.steps == 40 and "chance" in res.message
    # control: the same run on the real inputs is above chance and runs on
    res = train(_net(), data, eta=0.3, stop=StopRule(chance_after=40), **kw)  # type: ignore[arg-type]
    assert res.status == "step_limit"


def test_metrics_are_those_of_the_averaged_network(data: Dataset) -> None:
    res = train(_net(), data, eta=0.3, batch_size=16, max_steps=40, eval_every=20, rng=0)
    net = _net()
    net.load_state_dict(res.state_dict(averaged=True))
    with torch.no_grad():
        acc = (net(data.x_test).argmax(1) == data.y_test).double().mean().item()
        loss = F.cross_entropy(net(data.x_train), data.y_train).item()
    assert res.test_accuracy == pytest.approx(acc, abs=1e-12)  # a ratio of counts
    assert res.train_loss == pytest.approx(loss, rel=1e-5)  # float32 sums in another order
    assert res.generalization_gap == res.train_accuracy - res.test_accuracy


def test_model_not_modified_and_progress(data: Dataset, capsys: pytest.CaptureFixture[str]) -> None:
    net = _net()
    before = copy.deepcopy(net.state_dict())
    train(net, data, eta=0.3, batch_size=16, max_steps=10, eval_every=5, progress=True, rng=0)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert "train" in capsys.readouterr().err
    train(net, data, eta=0.3, batch_size=16, max_steps=10, eval_every=5, progress=False, rng=0)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"eta": 0.0}, "`eta`"),
        ({"eta": float("nan")}, "`eta`"),
        ({"batch_size": 0}, "`batch_size`"),
        ({"batch_size": 201}, "`batch_size` must be <= the number of training examples 200"),
        ({"max_steps": 0}, "`max_steps`"),
        ({"dtype": torch.float16}, "`dtype`"),
        ({"device": "npu"}, "`device`"),
        ({"average_last": 0}, "`average_last`"),
        (
            {"stop": StopRule(train_loss=0.1, then_steps=15)},
            "`stop.then_steps` .15. must be a multiple",
        ),
        ({"noise": 1.5}, "`noise`"),
        ({"stop": 0.9}, "`stop`"),
        ({"rng": -1}, "`rng`"),
        ({"progress": "yes"}, "`progress`"),
    ],
)
def test_bad_arguments_named(data: Dataset, change: dict[str, object], match: str) -> None:
    kw: dict[str, object] = {"eta": 0.1, "batch_size": 8, "max_steps": 5, "eval_every": 10}
    kw.update(change)
    with pytest.raises(InvalidArgumentError, match=match):
        train(_net(), data, **kw)  # type: ignore[arg-type]


def test_bad_model_and_data_named(data: Dataset) -> None:
    with pytest.raises(InvalidArgumentError, match="`model`"):
        train("fcn2-3", data, eta=0.1, batch_size=8, max_steps=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="`data`"):
        train(_net(), (data.x_train, data.y_train), eta=0.1, batch_size=8, max_steps=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="`train_accuracy`"):
        StopRule(train_accuracy=1.5)


def test_no_global_torch_rng_used(data: Dataset) -> None:
    before = torch.random.get_rng_state()
    train(
        _net(),
        data,
        eta=0.1,
        batch_size=8,
        max_steps=5,
        rng=0,
        noise=InjectedNoise(1.5, 0.1, "unit"),
    )
    assert torch.equal(before, torch.random.get_rng_state())


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_no_host_sync_in_the_inner_loop(
    data: Dataset, sync_count: Callable[[Callable[[int], object], int], int]
) -> None:
    noise = InjectedNoise(alpha=1.5, scale=0.01, kind="unit")

    def run(steps: int) -> object:
        # b = 1: one epoch of 200 steps, so both runs draw one permutation
        return train(
            _net(), data, eta=0.05, batch_size=1, max_steps=steps, eval_every=steps,
            noise=noise, rng=0, device="cuda", progress=False,
        )  # fmt: skip

    # one evaluation in each run: the synchronisations cannot depend on the step count
    assert sync_count(run, 200) == sync_count(run, 20)
