"""Time heavytail.nn's training against the papers' way of writing it, and against the floor.

Workload (the papers' MNIST setting, on synthetic data of the same shape): FCN4 of width
2048 (784 -> 2048 -> 2048 -> 2048 -> 10, biases), 60000 x 784 Gaussian inputs with
teacher labels in 10 classes (:func:`heavytail.nn.teacher_student`), plain SGD at
eta = 0.01, b = 100, 2000 steps, type-1 stable noise alpha = 1.75, sigma = 0.01 after
every step.

Mode ``single`` (one network), three ways in one process, calls interleaved round by
round (the order rotates):

- ``heavytail``: :func:`heavytail.nn.train`, data and noise on the device, evaluations of
  the whole training and test sets every ``--eval-every`` steps and at the last step
  (``average_last=1``: the averaged network is the last iterate, measured once).
- ``reference``, the way the papers' code does it: the data in a CPU ``TensorDataset``
  read by a shuffling ``DataLoader`` (drop_last), each batch copied to the device, an
  ``nn.Module`` and ``torch.optim.SGD``, ``loss.item()`` every step, and the type-1 noise
  drawn with ``scipy.stats.levy_stable.rvs`` on the CPU (one scalar per unit of every
  parameter tensor, the same law) and copied to the device every step; and evaluations at
  the same steps as heavytail's, as the papers' ``eval`` does them (the whole training and
  test sets through ``DataLoader``s of batches of 100, ``.item()`` per batch, in
  ``torch.no_grad``).
- ``floor``: the matrix products of the training steps and of the evaluations and
  nothing else: per layer and step the forward product and the two backward products
  (weights and inputs; none for the first layer's inputs), and per evaluation the forward
  products over the training and test sets, the same shapes and dtype on the same
  device.

Printed: best wall-clock seconds of each way, steps per second, reference / heavytail,
and the achieved FLOP/s of heavytail's step next to the floor's (flops counted as
2 m k n per product of the floor), i.e. heavytail / floor time.

Mode ``ensemble``: E networks (``--members``, default 16) of widths 128, 256 and 512 on
the same data and noise, at step sizes spread over [0.005, 0.02], trained at once by
:func:`heavytail.nn.train_ensemble` (``together``: its batched FCN path) and as E
sequential :func:`heavytail.nn.train` runs, and with ``--vmap`` also at once by
train_ensemble's generic path (``vmap``: the same networks as an FCN subclass, which it
treats as any other model: vmap over functional_call); printed as runs x steps per second
and the ratios of the times to ``together``.

Mode ``claim``: the three ways at the setting of the claim ``nn.trend``: E = 24
networks "fcn3-64-nobias" on scikit-learn's digits (1,347 training images), b = 8, step
sizes spread over [0.1, 0.4], no noise, on one torch thread, where a step's cost is
almost all fixed per-step overhead rather than flops.

Mode ``target``: the claim ``nn.trend``'s own ensemble at quick size (36 networks, step
sizes 0.1-0.4 x 6 seeds, b = 8, each to training loss 0.01, at most 4,000 steps,
evaluations every 250, one torch thread), timed whole: the best of ``--repeats`` runs,
with the members' mean and largest step counts (members stop at different steps; a
stopped member is dropped from the stacks). Not part of ``all``.

Run: ``.venv/bin/python benchmarks/bench_nn_train.py [--mode single|ensemble|claim|target|both|all]
[--device cpu|cuda] [--dtype float32|float64] [--steps S] [--width W] [--n-train N]
[--members E] [--ens-widths 128,256,512] [--vmap] [--repeats R]`` (``both``: single and
ensemble; ``all``, the default: the three modes). ``--quick`` (width 64, 2000
examples, 20 steps, 2 members of width 32, one round) is a smoke test, not a measurement.
CUDA float32 products run in full float32 (torch's default, TF32 off) in every way.
"""

from __future__ import annotations

import argparse
import functools
import itertools
from collections.abc import Callable
from typing import Any

import _harness
import numpy as np
import torch

from heavytail.nn import (
    FCN,
    Dataset,
    InjectedNoise,
    StopRule,
    build_model,
    digits,
    teacher_student,
    torch_threads,
    train,
    train_ensemble,
)

ETA = 0.01
ALPHA = 1.75
SIGMA = 0.01
BATCH = 100
IN_FEATURES = 784
N_CLASSES = 10
DEPTH = 4


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ------------------------------------------------------------------------- heavytail


def eval_steps(steps: int, eval_every: int) -> list[int]:
    """The steps at which both ways evaluate: multiples of eval_every, and the last."""
    return sorted(set(range(eval_every, steps + 1, eval_every)) | {steps})


def heavytail(
    data: Dataset,
    width: int,
    steps: int,
    device: torch.device,
    dtype: torch.dtype,
    eval_every: int | None = None,
) -> float:
    net = build_model(f"fcn{DEPTH}-{width}", in_shape=data.in_shape, n_classes=N_CLASSES, rng=0)
    res = train(
        net, data, eta=ETA, batch_size=BATCH, max_steps=steps, rng=1, device=device,
        dtype=dtype, noise=InjectedNoise(ALPHA, SIGMA, "unit"), eval_every=eval_every or steps,
        average_last=1, progress=False,
    )  # fmt: skip
    return res.train_loss


# ------------------------------------------------------------------------- reference


def paper_eval(
    model: torch.nn.Module, loader: Any, device: torch.device, dtype: torch.dtype
) -> tuple[float, float]:
    """Mean loss and accuracy over a loader, as the papers' ``exp_utils.eval`` computes them."""
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for xb, yb in loader:
            xb, yb = xb.to(device=device, dtype=dtype), yb.to(device)
            out = model(xb)
            total += torch.nn.functional.cross_entropy(out, yb, reduction="sum").item()
            correct += int((out.argmax(1) == yb).sum().item())
            n += yb.shape[0]
    return total / n, correct / n


def reference(
    data_cpu: Dataset,
    width: int,
    steps: int,
    device: torch.device,
    dtype: torch.dtype,
    eval_every: int | None = None,
) -> float:
    """The papers' way: DataLoader, nn.Module + optim.SGD, .item() and scipy noise each step,
    and evaluations over DataLoaders at heavytail's evaluation steps."""
    from scipy.stats import levy_stable
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)  # nn.Linear's default initialisation and the DataLoader shuffle
    sizes = [IN_FEATURES] + [width] * (DEPTH - 1) + [N_CLASSES]
    layers: list[torch.nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(device=device, dtype=dtype)
    opt = torch.optim.SGD(model.parameters(), lr=ETA)
    loader = DataLoader(
        TensorDataset(data_cpu.x_train, data_cpu.y_train), batch_size=BATCH, shuffle=True,
        drop_last=True,
    )  # fmt: skip
    train_eval = DataLoader(TensorDataset(data_cpu.x_train, data_cpu.y_train), batch_size=BATCH)
    test_eval = DataLoader(TensorDataset(data_cpu.x_test, data_cpu.y_test), batch_size=BATCH)
    evals = set(eval_steps(steps, eval_every or steps))
    rs = np.random.default_rng(1)
    scale = SIGMA * ETA ** (1 / ALPHA)
    losses = []
    step = 0
    while step < steps:
        for xb, yb in loader:
            xb, yb = xb.to(device=device, dtype=dtype), yb.to(device)
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            with torch.no_grad():
                for p in model.parameters():
                    noise = levy_stable.rvs(ALPHA, 0.0, size=p.shape[0], random_state=rs)
                    lead = torch.from_numpy(noise).to(device=device, dtype=dtype)
                    p.add_(scale * lead.reshape(-1, *([1] * (p.ndim - 1))))
            step += 1
            if step in evals:
                paper_eval(model, train_eval, device, dtype)
                paper_eval(model, test_eval, device, dtype)
            if step == steps:
                break
    return float(np.mean(losses))


# ----------------------------------------------------------------------------- floor


def step_products(width: int) -> list[tuple[int, int, int]]:
    """(m, k, n) of every matrix product of one training step of the FCN."""
    sizes = [IN_FEATURES] + [width] * (DEPTH - 1) + [N_CLASSES]
    prods = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        prods.append((BATCH, fan_in, fan_out))  # forward: X W^T
        prods.append((fan_out, BATCH, fan_in))  # weight gradient: G^T X
        if i > 0:
            prods.append((BATCH, fan_out, fan_in))  # input gradient: G W
    return prods


def eval_products(width: int, n_examples: int) -> list[tuple[int, int, int]]:
    """(m, k, n) of the forward products of one evaluation over n_examples."""
    sizes = [IN_FEATURES] + [width] * (DEPTH - 1) + [N_CLASSES]
    return [(n_examples, fan_in, fan_out) for fan_in, fan_out in itertools.pairwise(sizes)]


def _products(
    shapes: list[tuple[int, int, int]], device: torch.device, dtype: torch.dtype
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    gen = torch.Generator(device=device).manual_seed(0)
    return [
        (
            torch.randn(m, k, generator=gen, device=device, dtype=dtype),
            torch.randn(k, n, generator=gen, device=device, dtype=dtype),
            torch.empty(m, n, device=device, dtype=dtype),
        )
        for m, k, n in shapes
    ]


def floor(
    width: int,
    steps: int,
    device: torch.device,
    dtype: torch.dtype,
    n_eval: int = 0,
    eval_every: int | None = None,
) -> float:
    """The products of ``steps`` training steps, and of a forward pass over ``n_eval``
    examples at each evaluation step (none when n_eval = 0)."""
    mats = _products(step_products(width), device, dtype)
    evals = set(eval_steps(steps, eval_every or steps)) if n_eval else set()
    emats = _products(eval_products(width, n_eval), device, dtype) if n_eval else []
    for t in range(1, steps + 1):
        for a, b, c in mats:
            torch.mm(a, b, out=c)
        if t in evals:
            for a, b, c in emats:
                torch.mm(a, b, out=c)
    sync(device)
    return float(mats[0][2][0, 0])


# ---------------------------------------------------------------------------- timing


def best_times(fns: list[Callable[[], object]], repeats: int, device: torch.device) -> list[float]:
    """Best wall-clock seconds of each function over ``repeats`` rounds (the harness's
    interleaving), the device synchronised around each call."""
    return _harness.best_times(fns, repeats, sync=functools.partial(sync, device)).best


def run_single(
    args: argparse.Namespace, data: Dataset, data_cpu: Dataset, dev: torch.device, dt: torch.dtype
) -> None:
    w, s, e = args.width, args.steps, args.eval_every or args.steps
    n_eval = data.n_train + data.n_test
    fns: list[Callable[[], object]] = [
        lambda: heavytail(data, w, s, dev, dt, e),
        lambda: reference(data_cpu, w, s, dev, dt, e),
        lambda: floor(w, s, dev, dt, n_eval, e),
        lambda: floor(w, s, dev, dt),
    ]
    # warm-up (kernels, allocator, DataLoader) at a few steps, not timed
    for f in (
        lambda: heavytail(data, w, 5, dev, dt),
        lambda: reference(data_cpu, w, 5, dev, dt),
        lambda: floor(w, 5, dev, dt, n_eval),
    ):
        f()
    t_ht, t_ref, t_floor, t_steps = best_times(fns, args.repeats, dev)
    n_evals = len(eval_steps(s, e))
    flops = (
        sum(2 * m * k * n for m, k, n in step_products(w)) * s
        + sum(2 * m * k * n for m, k, n in eval_products(w, n_eval)) * n_evals
    )
    print(
        f"\nsingle: FCN{DEPTH} width {w}, {data.n_train} x {IN_FEATURES}, b = {BATCH}, "
        f"{s} steps, {n_evals} evaluation(s) of {n_eval} examples, type-1 alpha = {ALPHA}"
    )
    print(f"{'way':<13}{'seconds':>10}{'steps/s':>11}{'GFLOP/s':>11}")
    for name, t in (("heavytail", t_ht), ("reference", t_ref), ("floor", t_floor)):
        print(f"{name:<13}{t:>10.3f}{s / t:>11.1f}{flops / t / 1e9:>11.1f}")
    print(f"{'steps floor':<13}{t_steps:>10.3f}{s / t_steps:>11.1f}{'':>11}")
    print(
        f"reference / heavytail = {t_ref / t_ht:.2f}   heavytail / floor = {t_ht / t_floor:.2f}"
        f"   (floor: the products of the steps and the evaluations; of the steps alone "
        f"{t_steps:.3f} s)"
    )


class VmapFCN(FCN):
    """An FCN subclass: train_ensemble cannot know its forward, so it takes the vmap path."""


def compare_ensemble(
    data: Dataset,
    specs: list[str],
    etas: list[float],
    kw: dict[str, Any],
    repeats: int,
    dev: torch.device,
    with_vmap: bool,
) -> None:
    """Print the times of E = len(etas) networks of each spec trained together (and by the
    vmap path) and sequentially, as runs x steps per second and ratios to ``together``."""
    e, s = len(etas), kw["max_steps"]
    seeds = list(range(e))
    names = ["together", "vmap", "sequential"] if with_vmap else ["together", "sequential"]
    print(
        f"{'spec':>16}"
        + "".join(f"{n + ' s':>14}" for n in names)
        + "".join(f"{n + ' runs*steps/s':>26}" for n in names)
        + "".join(f"{n + '/together':>20}" for n in names[1:])
    )
    for spec in specs:

        def factory(seed: int, spec: str = spec) -> torch.nn.Module:
            net = build_model(spec, in_shape=data.in_shape, n_classes=data.n_classes, rng=seed)
            net.__class__ = VmapFCN
            return net

        def together(steps: int = s, model: Any = spec) -> object:
            return train_ensemble(
                model, data, etas=etas, seeds=seeds,
                **{**kw, "max_steps": steps, "eval_every": steps},
            )  # fmt: skip

        def sequential(steps: int = s, spec: str = spec) -> object:
            for eta, seed in zip(etas, seeds, strict=True):
                net = build_model(spec, in_shape=data.in_shape, n_classes=data.n_classes, rng=seed)
                train(
                    net, data, eta=float(eta), rng=seed,
                    **{**kw, "max_steps": steps, "eval_every": steps},
                )  # fmt: skip
            return None

        ways: dict[str, Callable[[int], object]] = {
            "together": together,
            "vmap": functools.partial(together, model=factory),
            "sequential": sequential,
        }
        fns = [ways[n] for n in names]
        for f in fns:
            f(5)  # warm-up, not timed
        times = best_times([functools.partial(f, s) for f in fns], repeats, dev)
        print(
            f"{spec:>16}"
            + "".join(f"{t:>14.3f}" for t in times)
            + "".join(f"{e * s / t:>26.1f}" for t in times)
            + "".join(f"{t / times[0]:>20.2f}" for t in times[1:])
        )


def run_ensemble(
    args: argparse.Namespace, data: Dataset, dev: torch.device, dt: torch.dtype
) -> None:
    e, s = args.members, args.steps
    etas = [float(v) for v in np.linspace(0.005, 0.02, e)]
    kw: dict[str, Any] = {
        "batch_size": BATCH, "max_steps": s, "noise": InjectedNoise(ALPHA, SIGMA, "unit"),
        "eval_every": s, "average_last": 1, "device": dev, "dtype": dt, "progress": False,
    }  # fmt: skip
    print(f"\nensemble: {e} networks FCN{DEPTH} at once against {e} sequential runs, {s} steps")
    specs = [f"fcn{DEPTH}-{w}" for w in args.ens_widths]
    compare_ensemble(data, specs, etas, kw, args.repeats, dev, args.vmap)


CLAIM_MEMBERS = 24
CLAIM_SPEC = "fcn3-64-nobias"
CLAIM_BATCH = 8


def run_claim(args: argparse.Namespace, dev: torch.device, dt: torch.dtype) -> None:
    with torch_threads(1):  # as the claim trains
        data = digits(rng=0, device=dev, dtype=dt)
        s = args.steps
        etas = [float(v) for v in np.linspace(0.1, 0.4, CLAIM_MEMBERS)]
        kw: dict[str, Any] = {
            "batch_size": CLAIM_BATCH, "max_steps": s, "eval_every": s, "average_last": 1,
            "device": dev, "dtype": dt, "progress": False,
        }  # fmt: skip
        print(
            f"\nclaim: {CLAIM_MEMBERS} networks {CLAIM_SPEC} on digits ({data.n_train} "
            f"training images), b = {CLAIM_BATCH}, {s} steps, one torch thread"
        )
        compare_ensemble(data, [CLAIM_SPEC], etas, kw, args.repeats, dev, True)


def run_target(args: argparse.Namespace, dev: torch.device, dt: torch.dtype) -> None:
    with torch_threads(1):  # as the claim trains
        data = digits(rng=0, device=dev, dtype=dt)
        step_sizes = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
        etas = [e for e in step_sizes for _ in range(6)]
        seeds = [s for _ in step_sizes for s in range(6)]
        times = _harness.best_times(
            [
                lambda: train_ensemble(
                    "fcn3-64-nobias",
                    data,
                    etas=etas,
                    seeds=seeds,
                    batch_size=8,
                    max_steps=4000,
                    stop=StopRule(train_loss=0.01),
                    average_last=100,
                    eval_every=250,
                    device=dev,
                    dtype=dt,
                    progress=False,
                )
            ],
            args.repeats,
            sync=functools.partial(sync, dev),
        )
        steps = [m.steps for m in times.values[0].members]
        print(
            f"\ntarget: {len(etas)} networks fcn3-64-nobias on digits to training loss 0.01, "
            f"one torch thread: best of {args.repeats} {times.best[0]:.2f} s; steps per member "
            f"mean {np.mean(steps):.0f}, largest {max(steps)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--mode",
        choices=["single", "ensemble", "claim", "target", "both", "all"],
        default="all",
    )
    parser.add_argument(
        "--vmap", action="store_true", help="ensemble mode: also time train_ensemble's vmap path"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="single mode: evaluation interval of both ways (default: once, at the last step)",
    )
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument(
        "--n-test",
        type=int,
        default=10000,
        help="test examples; heavytail's time includes passes over train and test sets",
    )
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument(
        "--ens-widths", type=lambda s: [int(v) for v in s.split(",")], default=[128, 256, 512]
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny sizes, one round")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.width, args.n_train, args.members, args.repeats = 20, 64, 2000, 2, 1
        args.ens_widths = [32]
    dev = torch.device(args.device)
    dt = getattr(torch, args.dtype)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(
        f"bench_nn_train {_harness.utc_stamp()}, "
        f"torch {torch.__version__}, device {dev} ({name}), {args.dtype}, "
        f"{torch.get_num_threads()} CPU threads"
    )
    data_cpu = teacher_student(
        args.n_train,
        args.n_test if not args.quick else 500,
        in_features=IN_FEATURES,
        n_classes=N_CLASSES,
        rng=0,
    )
    data = data_cpu.to(dev, dt)
    if args.mode in ("single", "both", "all"):
        run_single(args, data, data_cpu, dev, dt)
    if args.mode in ("ensemble", "both", "all"):
        run_ensemble(args, data, dev, dt)
    if args.mode in ("claim", "all"):
        run_claim(args, dev, dt)
    if args.mode == "target":
        run_target(args, dev, dt)


if __name__ == "__main__":
    main()
