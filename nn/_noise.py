"""Symmetric alpha-stable noise drawn with torch on the device, and Wan et al.'s injected noise.

Scale convention (docs/theory.md, section 3): a standard symmetric alpha-stable variable X
has E exp(i t X) = exp(-|t|^alpha), alpha in (0, 2]; alpha = 2 is N(0, 2), alpha = 1 the
standard Cauchy. This is the law of ``heavytail.theory.sample_stable(alpha, n)``.

Wan, Barsbey, Zaidi & Şimşekli (ICML 2024, arXiv 2306.08125) add, after each SGD step,
``scale * eta^(1/alpha) * L`` to the weights, the Euler scheme of an SDE driven by
alpha-stable Lévy noise (docs/theory.md, section 6). Unit i of a weight tensor is its
slice ``p[i]`` along the first axis (the incoming weights of output neuron i of a linear
layer, or filter i of a convolution; a bias has one scalar per unit). Their three noise
types are the kinds ``"unit"``, ``"iid"`` and ``"elliptic"`` of :class:`InjectedNoise`,
the same names and definitions as ``heavytail.simulate.InjectedNoise``.
Draws are made and transformed in float64 on the device, then cast to the weights' dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from heavytail._lib._doc import fill_doc
from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._noise_kinds import NOISE_KINDS_DOC, NoiseKind, check_noise_kind
from heavytail._lib._rng import RngLike
from heavytail._lib._validation import check_choice, check_int, check_real

from ._device import as_device, as_dtype, torch_generator

__all__ = ["InjectedNoise", "NoisePlan", "symmetric_stable"]

# torch.rand gives U on a grid of 2^-53 in [0, 1) (CUDA may return 1.0); half a cell moves U
# to the midpoint of its cell, so angles stay inside the open interval where the transform
# is finite (as in heavytail.theory.sample_stable).
_HALF_CELL = 2.0**-54
_TOP = 1.0 - 2.0**-53
# An exponential draw of exactly 0 (probability about 2^-53) becomes a tiny positive draw.
_ZERO_EXPONENTIAL = 2.0**-64


def _cms_symmetric(u: torch.Tensor, w: torch.Tensor, alpha: float) -> torch.Tensor:
    """Chambers-Mallows-Stuck, beta = 0 (Samorodnitsky & Taqqu eq. 1.7.2).

    V = pi (U - 1/2), W ~ Exp(1):
    X = sin(alpha V) / cos(V)^(1/alpha) * (cos((1 - alpha) V) / W)^((1 - alpha) / alpha).
    Exact at alpha = 1 (tan V) and alpha = 2 (2 sqrt(W) sin V ~ N(0, 2)).
    """
    v = math.pi * (u.clamp(max=_TOP) - 0.5 + _HALF_CELL)
    w = w.clamp(min=_ZERO_EXPONENTIAL)
    if alpha == 1.0:
        return torch.tan(v)
    if alpha == 2.0:
        return 2.0 * torch.sqrt(w) * torch.sin(v)
    return (
        torch.sin(alpha * v)
        / torch.cos(v) ** (1.0 / alpha)
        * (torch.cos((1.0 - alpha) * v) / w) ** ((1.0 - alpha) / alpha)
    )


def _kanter_positive(u: torch.Tensor, w: torch.Tensor, a: float) -> torch.Tensor:
    """Positive a-stable, E exp(-s A) = exp(-s^a), a in (0, 1] (Kanter 1975).

    U' = pi U in (0, pi): A = sin(a U') / sin(U')^(1/a) * (sin((1 - a) U') / W)^((1 - a)/a);
    the point mass 1 at a = 1.
    """
    if a == 1.0:
        return torch.ones_like(u)
    t = math.pi * (u.clamp(max=_TOP) + _HALF_CELL)
    w = w.clamp(min=_ZERO_EXPONENTIAL)
    return (
        torch.sin(a * t)
        / torch.sin(t) ** (1.0 / a)
        * (torch.sin((1.0 - a) * t) / w) ** ((1.0 - a) / a)
    )


def _uniform_exponential(
    n: int, gen: torch.Generator, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """n uniforms, then n standard exponentials, float64, from ``gen`` (in that order)."""
    u = torch.rand(n, generator=gen, device=device, dtype=torch.float64)
    w = torch.empty(n, device=device, dtype=torch.float64).exponential_(generator=gen)
    return u, w


def symmetric_stable(
    alpha: float,
    size: int | Sequence[int],
    *,
    rng: RngLike | torch.Generator = None,
    device: Any = None,
    dtype: Any = None,
) -> torch.Tensor:
    """Standard symmetric alpha-stable draws made by torch on ``device``.

    E exp(i t X) = exp(-|t|^alpha), the law of ``heavytail.theory.sample_stable(alpha, size)``
    (S1 parametrization, scale 1, beta 0). Method: Chambers, Mallows & Stuck (1976), one
    uniform angle and one standard exponential per draw (all uniforms first, then the
    exponentials) and a pure transform, in float64, then cast to ``dtype``. alpha = 1
    (Cauchy, tan V) and alpha = 2 (N(0, 2), 2 sqrt(W) sin V) are computed by their exact
    special forms. Not checked: alpha below about 0.5, where float64 draws may overflow.

    Parameters
    ----------
    alpha : float
        Stable index, in (0, 2].
    size : int or sequence of int
        Output shape.
    rng : int, numpy Generator, SeedSequence, torch.Generator or None
        A torch.Generator (on ``device``) is used and advanced as is; anything else is
        turned into one.
    device, dtype
        Where and in which float type (float32 default, or float64) the result lives.

    Examples
    --------
    >>> x = symmetric_stable(1.5, 1000, rng=0, dtype=torch.float64)
    >>> x.shape, bool(x.isfinite().all())
    (torch.Size([1000]), True)
    """
    a = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    shape = (size,) if isinstance(size, int) else tuple(size)
    shape = tuple(check_int(s, "size", low=0) for s in shape)
    dev, dt = as_device(device), as_dtype(dtype)
    if isinstance(rng, torch.Generator):
        if rng.device.type != dev.type:
            raise InvalidArgumentError(
                f"`rng` is a torch.Generator on {rng.device}, but `device` is {dev}"
            )
        gen = rng
    else:
        gen = torch_generator(rng, dev, purpose="train")
    n = math.prod(shape)
    u, w = _uniform_exponential(n, gen, dev)
    return _cms_symmetric(u, w, a).to(dt).reshape(shape)


@fill_doc({"kind": NOISE_KINDS_DOC})
@dataclass(frozen=True)
class InjectedNoise:
    """Wan et al.'s noise, ``scale * eta^(1/alpha) * L`` added after every SGD step.

    Wan, Barsbey, Zaidi & Şimşekli (ICML 2024, arXiv 2306.08125), section 3 (docs/theory.md,
    section 6). Unit i of a parameter tensor is its slice ``p[i]`` along the first axis.

    Attributes
    ----------
    alpha : float
        Stable index, in (0, 2] (2: Gaussian N(0, 2) entries).
    scale : float
        Noise scale, >= 0 (0 draws nothing and adds nothing).
    %(kind)s
    layers : {"all", "first"}
        Which parameters receive noise: all, or those of the first layer (its weight and
        bias), the layer of Wan et al.'s theorem.

    Examples
    --------
    >>> InjectedNoise(alpha=1.75, scale=0.003).factor(0.01)  # 0.003 * 0.01^(1/1.75)
    0.00021...
    """

    alpha: float
    scale: float
    kind: NoiseKind = "unit"
    layers: str = "all"

    def __post_init__(self) -> None:
        check_noise_kind(self.kind)
        alpha = check_real(self.alpha, "alpha", low=0.0, high=2.0, low_open=True)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "scale", check_real(self.scale, "scale", low=0.0))
        check_choice(self.layers, "layers", ("all", "first"))

    def factor(self, eta: float) -> float:
        """scale * eta^(1/alpha), the factor in front of L for step size ``eta``."""
        return float(self.scale * eta ** (1.0 / self.alpha))


class NoisePlan:
    """How one draw of injected noise is laid out over a network's parameters.

    Built from the parameter names and shapes (in ``named_parameters`` order). Per step it
    draws, from one torch.Generator, flat float64 blocks (kinds "unit" and "iid": N
    uniforms then N exponentials, N = number of units or of entries; "elliptic": the same
    for the A_i, then the normals of all entries), and turns them into one noise tensor per
    parameter. The transform works on any leading batch shape, so that an ensemble can
    stack the raw draws of its members (each from its own generator) and transform them at
    once.
    """

    def __init__(self, noise: InjectedNoise, named_shapes: Sequence[tuple[str, torch.Size]]):
        self.noise = noise
        names = [n for n, _ in named_shapes]
        if noise.layers == "first" and names:
            prefix = names[0].rpartition(".")[0]
            chosen = [n.rpartition(".")[0] == prefix for n in names]
        else:
            chosen = [True] * len(names)
        self.chosen = tuple(chosen)
        self.shapes = tuple(
            torch.Size(s) for (_, s), c in zip(named_shapes, chosen, strict=True) if c
        )
        self.units = tuple(s[0] if len(s) else 1 for s in self.shapes)
        self.numels = tuple(max(math.prod(s), 1) for s in self.shapes)
        self.n_units = sum(self.units)
        self.n_entries = sum(self.numels)

    @property
    def active(self) -> bool:
        """Whether any noise is drawn (scale > 0 and some parameter chosen)."""
        return self.noise.scale > 0 and bool(self.shapes)

    def draw(self, gen: torch.Generator, device: torch.device) -> tuple[torch.Tensor, ...]:
        """The raw float64 draws of one step, in the documented order."""
        kind = self.noise.kind
        if kind == "unit":
            return _uniform_exponential(self.n_units, gen, device)
        if kind == "iid":
            return _uniform_exponential(self.n_entries, gen, device)
        u, w = _uniform_exponential(self.n_units, gen, device)
        g = torch.randn(self.n_entries, generator=gen, device=device, dtype=torch.float64)
        return u, w, g

    def transform(
        self, raw: Sequence[torch.Tensor], scale: torch.Tensor | float
    ) -> list[torch.Tensor]:
        """Noise tensors ``scale * L``, one per chosen parameter, shaped (*batch, *p.shape).

        ``raw`` are the blocks of :meth:`draw` with any leading batch shape; ``scale`` is a
        float or a float64 tensor of the batch shape.
        """
        kind, alpha = self.noise.kind, self.noise.alpha
        batch = raw[0].shape[:-1]
        if kind == "elliptic":
            per_unit = torch.sqrt(2.0 * _kanter_positive(raw[0], raw[1], alpha / 2.0))
        else:
            per_unit = _cms_symmetric(raw[0], raw[1], alpha)
        if isinstance(scale, torch.Tensor):
            per_unit = per_unit * scale.reshape(*batch, 1)
        else:
            per_unit = per_unit * scale
        out: list[torch.Tensor] = []
        if kind == "iid":
            for block, shape in zip(per_unit.split(self.numels, dim=-1), self.shapes, strict=True):
                out.append(block.reshape(*batch, *shape))
            return out
        blocks = per_unit.split(self.units, dim=-1)
        gauss = raw[2].split(self.numels, dim=-1) if kind == "elliptic" else (None,) * len(blocks)
        for block, g, shape in zip(blocks, gauss, self.shapes, strict=True):
            lead = block.reshape(*batch, *shape[:1], *([1] * max(len(shape) - 1, 0)))
            if g is None:
                out.append(lead.expand(*batch, *shape))
            else:
                out.append(lead * g.reshape(*batch, *shape))
        return out
