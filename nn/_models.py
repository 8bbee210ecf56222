"""Network architectures and the model-spec grammar of :func:`build_model`.

Spec grammar (case-sensitive, parts joined by ``-``)::

    fcn<depth>-<width>[-nobias][-mf]    fully connected, ReLU (FCN)
    cnn-<width>[-nobias]                small VGG-style CNN (CNN)

``depth`` is the number of weight layers (the papers' FCN4 is "fcn4-<width>": three hidden
layers of ``width`` units and the output layer), ``width`` >= 1; ``-nobias`` drops every
bias, ``-mf`` is the mean-field parametrization (output layer scaled by 1/width). Examples:
"fcn4-2048", "fcn2-512-nobias-mf", "cnn-16".

Initial weights are drawn from a ``torch.Generator`` derived from ``rng`` (never from
torch's global generator), on the CPU in float64 and then cast and moved, so that the same
``rng`` gives the same model on every device and in both dtypes (up to the cast).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._rng import RngLike
from heavytail._lib._validation import check_choice, check_int

from ._device import as_device, as_dtype, torch_generator

__all__ = ["CNN", "FCN", "SPEC_GRAMMAR", "build_model"]

SPEC_GRAMMAR = "'fcn<depth>-<width>[-nobias][-mf]' or 'cnn-<width>[-nobias]'"
_FCN_RE = re.compile(r"fcn([1-9][0-9]*)-([1-9][0-9]*)(-nobias)?(-mf)?")
_CNN_RE = re.compile(r"cnn-([1-9][0-9]*)(-nobias)?")


def _init_uniform(
    module: nn.Module, gen: torch.Generator, dtype: torch.dtype, device: torch.device
) -> None:
    """Fill every weight and bias of ``module`` with U(-b, b), b = 1/sqrt(fan_in).

    This is the law of PyTorch's default initialisation of ``nn.Linear`` and ``nn.Conv2d``
    (kaiming_uniform with a = sqrt(5)), drawn from ``gen`` on the CPU in float64.
    """
    for sub in module.modules():
        if isinstance(sub, nn.Linear | nn.Conv2d):
            fan_in = sub.weight[0].numel()
            bound = 1.0 / math.sqrt(fan_in)
            for p in (sub.weight, sub.bias):
                if p is None:
                    continue
                draw = torch.empty(p.shape, dtype=torch.float64).uniform_(
                    -bound, bound, generator=gen
                )
                with torch.no_grad():
                    p.copy_(draw.to(device=device, dtype=dtype))


def _materialise(module: nn.Module, device: torch.device, dtype: torch.dtype) -> None:
    """Turn the meta tensors the layers were built with into real (uninitialised) ones."""
    module.to_empty(device=device)
    module.to(dtype=dtype)


class FCN(nn.Module):
    """Fully connected ReLU network with ``depth`` weight layers.

    ``f(x) = c W_depth relu(... relu(W_1 x + b_1) ...) + b_depth`` with hidden layers of
    ``width`` units; ``c = 1`` ("standard") or ``c = 1/width`` ("mean_field", the papers'
    mean-field 1/n output; Barsbey et al. 2021, section 4; Wan et al. 2024, eq. 1). Inputs
    are flattened, so any input shape works.

    Initialisation: every layer U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default law),
    except the output weights of the mean-field parametrization, U(-1, 1): O(1) entries,
    since the 1/width factor already scales the output.

    Parameters
    ----------
    in_features : int
        Number of input features (>= 1), after flattening.
    n_classes : int
        Number of outputs (>= 1).
    depth : int
        Number of weight layers (>= 1); ``depth - 1`` hidden layers.
    width : int
        Hidden width (>= 1).
    bias : bool
        Whether every layer has a bias.
    parametrization : {"standard", "mean_field"}
        Output scale 1 or 1/width.
    rng : int, numpy Generator, SeedSequence or None
        Seed of the initial weights (keyword-only).
    device, dtype
        Where and in which float type (float32 or float64) the weights live.

    Examples
    --------
    >>> net = FCN(784, 10, depth=4, width=32, rng=0)
    >>> [tuple(p.shape) for p in net.parameters()][::2]
    [(32, 784), (32, 32), (32, 32), (10, 32)]
    """

    spec: str | None = None
    """The :func:`build_model` spec the network was built from, if any."""

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        *,
        depth: int,
        width: int,
        bias: bool = True,
        parametrization: str = "standard",
        rng: RngLike = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        in_features = check_int(in_features, "in_features", low=1)
        n_classes = check_int(n_classes, "n_classes", low=1)
        depth = check_int(depth, "depth", low=1)
        width = check_int(width, "width", low=1)
        check_choice(parametrization, "parametrization", ("standard", "mean_field"))
        dev, dt = as_device(device), as_dtype(dtype)
        super().__init__()
        sizes = [in_features] + [width] * (depth - 1) + [n_classes]
        self.layers = nn.ModuleList(
            nn.Linear(a, b, bias=bool(bias), device="meta") for a, b in itertools.pairwise(sizes)
        )
        self.parametrization = parametrization
        self.output_scale = 1.0 / width if parametrization == "mean_field" else 1.0
        _materialise(self, dev, dt)
        gen = torch_generator(rng, torch.device("cpu"), purpose="init")
        _init_uniform(self, gen, dt, dev)
        if parametrization == "mean_field" and depth > 1:
            out = cast(nn.Linear, self.layers[-1]).weight
            draw = torch.empty(out.shape, dtype=torch.float64).uniform_(-1.0, 1.0, generator=gen)
            with torch.no_grad():
                out.copy_(draw.to(device=dev, dtype=dt))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the flattened inputs ``x`` (batch first)."""
        h = x.flatten(1)
        for layer in self.layers[:-1]:
            h = torch.relu(layer(h))
        out: torch.Tensor = self.layers[-1](h)
        if self.output_scale != 1.0:
            out = out * self.output_scale
        return out


class CNN(nn.Module):
    """Small VGG-style CNN: three blocks of 3x3 conv, ReLU and 2x2 max-pool, then a linear head.

    Block channels are ``[width, 2 width, 4 width]`` (convolutions padded to keep the size,
    pooling halving it, rounding down), after which the ``4 width x s x s`` feature map
    (s = image_size // 8) is flattened into one linear layer to ``n_classes`` logits. Inputs
    are ``(batch, in_channels, image_size, image_size)``. Initialisation: PyTorch's default
    law U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from ``rng``.

    Parameters
    ----------
    in_channels : int
        Input channels (>= 1).
    n_classes : int
        Number of outputs (>= 1).
    width : int
        Channels of the first block (>= 1).
    image_size : int
        Side of the square input images, >= 8 (three halvings).
    bias : bool
        Whether the convolutions and the head have biases.
    rng, device, dtype
        As for :class:`FCN`.

    Examples
    --------
    >>> net = CNN(1, 10, width=4, image_size=8, rng=0)
    >>> net(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """

    spec: str | None = None
    """The :func:`build_model` spec the network was built from, if any."""

    def __init__(
        self,
        in_channels: int,
        n_classes: int,
        *,
        width: int,
        image_size: int,
        bias: bool = True,
        rng: RngLike = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        in_channels = check_int(in_channels, "in_channels", low=1)
        n_classes = check_int(n_classes, "n_classes", low=1)
        width = check_int(width, "width", low=1)
        image_size = check_int(image_size, "image_size", low=8)
        dev, dt = as_device(device), as_dtype(dtype)
        super().__init__()
        chans = [in_channels, width, 2 * width, 4 * width]
        blocks: list[nn.Module] = []
        for a, b in itertools.pairwise(chans):
            blocks += [
                nn.Conv2d(a, b, 3, padding=1, bias=bool(bias), device="meta"),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
        self.features = nn.Sequential(*blocks)
        side = image_size // 8
        self.head = nn.Linear(4 * width * side * side, n_classes, bias=bool(bias), device="meta")
        self.image_size = image_size
        _materialise(self, dev, dt)
        _init_uniform(self, torch_generator(rng, torch.device("cpu"), purpose="init"), dt, dev)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the images ``x`` (batch, channels, side, side)."""
        out: torch.Tensor = self.head(self.features(x).flatten(1))
        return out


def _bad_spec(spec: object, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"`spec` must match {SPEC_GRAMMAR} ({why}), got {spec!r}")


def build_model(
    spec: str,
    *,
    in_shape: Sequence[int],
    n_classes: int,
    dtype: Any = None,
    device: Any = None,
    rng: RngLike = None,
) -> nn.Module:
    """Build the network named by ``spec``, with initial weights drawn from ``rng``.

    Grammar::

        fcn<depth>-<width>[-nobias][-mf]   FCN: depth weight layers, hidden width,
                                           no biases, mean-field (1/width) output
        cnn-<width>[-nobias]               CNN: conv blocks [width, 2 width, 4 width]

    Parameters
    ----------
    spec : str
        Model name in the grammar above, e.g. "fcn4-2048", "fcn2-512-nobias-mf", "cnn-16".
    in_shape : sequence of int
        Shape of one input: any for an FCN (it is flattened); ``(channels, side, side)``
        with side >= 8 for a CNN.
    n_classes : int
        Number of outputs (>= 1).
    dtype : torch.float32, torch.float64 or None (float32)
    device : str, torch.device or None (CPU)
    rng : int, numpy Generator, SeedSequence or None
        Seed of the initial weights; the same seed gives the same weights.

    Returns
    -------
    torch.nn.Module
        An :class:`FCN` or a :class:`CNN`, with the attribute ``spec`` set to ``spec``.

    Raises
    ------
    InvalidArgumentError
        A spec outside the grammar (the message quotes it and gives the grammar), an input
        shape that does not suit the architecture, a bad dtype or device.

    Examples
    --------
    >>> net = build_model("fcn2-16-nobias", in_shape=(64,), n_classes=10, rng=0)
    >>> sum(p.numel() for p in net.parameters())
    1184
    """
    if not isinstance(spec, str):
        raise _bad_spec(spec, f"a string, not {type(spec).__name__}")
    shape = tuple(in_shape) if isinstance(in_shape, Sequence | torch.Size) else None
    if not shape or not all(isinstance(s, int) and s >= 1 for s in shape):
        raise InvalidArgumentError(
            f"`in_shape` must be a non-empty sequence of positive ints, got {in_shape!r}"
        )
    n_classes = check_int(n_classes, "n_classes", low=1)
    net: FCN | CNN
    if m := _FCN_RE.fullmatch(spec):
        net = FCN(
            math.prod(shape),
            n_classes,
            depth=int(m[1]),
            width=int(m[2]),
            bias=m[3] is None,
            parametrization="mean_field" if m[4] else "standard",
            rng=rng,
            device=device,
            dtype=dtype,
        )
    elif m := _CNN_RE.fullmatch(spec):
        if len(shape) != 3 or shape[1] != shape[2] or shape[1] < 8:
            raise InvalidArgumentError(
                "`in_shape` must be (channels, side, side) with side >= 8 for a CNN spec "
                f"{spec!r}, got {shape!r}"
            )
        net = CNN(
            shape[0],
            n_classes,
            width=int(m[1]),
            image_size=shape[1],
            bias=m[2] is None,
            rng=rng,
            device=device,
            dtype=dtype,
        )
    else:
        raise _bad_spec(spec, "unknown architecture or misplaced suffix")
    net.spec = spec  # recorded in the settings of training results
    return net
