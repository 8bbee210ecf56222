"""Barsbey et al.'s experimental protocol as functions: the divergence edge, the grid of
step sizes, the stopping rule, and what is recorded of each network.

Barsbey, Sefidgaran, Erdogdu, Richard & Şimşekli (NeurIPS 2021), section 5 and their code
(github.com/mbarsbey/sgd_comp_gen: main.py, all_experiment_settings.csv):

- bias-free ReLU FCNs, PyTorch's default initialisation, plain SGD, b in {50, 100};
- step sizes up to the largest that does not diverge, placed densest near it, so that
  eta/b spans about two decades;
- training until the training loss is below 5e-5 at 100% training accuracy, then 10x the
  averaging window more steps, and the analysed network is the mean of the last 1,000
  iterates.

Here:

- :func:`divergence_edge` (``_divergence_edge.py``) finds, per batch size, the largest step
  size at which short runs do not diverge, by bracketing and then bisection on a log scale
  (several step sizes per round, trained at once with :func:`train_ensemble`);
- :func:`eta_grid` places step sizes up to each edge, geometric in their distance from it
  (so densest near it);
- :class:`Protocol` holds the stopping rule and the averaging window;
- :func:`train_grid` trains every (batch size, step size, seed) and records, per network,
  its status, whether it met the stopping rule, its accuracies and each weight layer's
  distance from its initialisation, ``||W - W0||_F / ||W0||_F``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from torch import nn

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_int, check_real

from ._data import Dataset
from ._device import as_device, as_dtype
from ._divergence_edge import EdgeScan
from ._ensemble import model_factory, train_ensemble
from ._result import TrainResult
from ._stopping import StopRule

__all__ = [
    "EtaGrid",
    "GridRun",
    "Protocol",
    "distance_from_init",
    "eta_grid",
    "train_grid",
]

#: Barsbey et al.'s stopping rule and averaging (main.py): training loss < 5e-5 and 100%
#: training accuracy, then ``mc_convergence_coefficient = 10`` windows of 1,000 iterates.
PAPER_TARGET_LOSS = 5e-5
PAPER_WINDOW = 1000
PAPER_THEN_FACTOR = 10
PAPER_EVAL_EVERY = 200


# --------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class EtaGrid:
    """Step sizes per batch size: ``points`` are (batch size, step size) pairs.

    ``span_decades`` is log10 of the largest over the smallest eta/b of the grid.
    """

    points: tuple[tuple[int, float], ...]
    edges: Mapping[int, float]

    @property
    def batch_sizes(self) -> tuple[int, ...]:
        return tuple(sorted({b for b, _ in self.points}))

    def etas(self, batch_size: int) -> tuple[float, ...]:
        """The step sizes of one batch size, increasing."""
        return tuple(sorted(e for b, e in self.points if b == batch_size))

    @property
    def span_decades(self) -> float:
        ratios = [e / b for b, e in self.points]
        return math.log10(max(ratios) / min(ratios))


def eta_grid(
    edges: Mapping[int, float] | Mapping[int, EdgeScan],
    n: int,
    *,
    decades: float = 1.5,
    margin: float = 0.1,
) -> EtaGrid:
    """``n`` step sizes per batch size, up to each edge and densest near it.

    For batch size b with edge E_b, the step sizes are ``E_b (1 - d_i)``, the distances
    d_i from the edge geometric from ``margin`` (the largest step size, ``(1 - margin)
    E_b``) to ``1 - (1 - margin) 10^-decades`` (the smallest, ``decades`` decades below the
    largest). So each batch size alone spans ``decades`` decades of eta/b, and several batch
    sizes together at least that. Barsbey et al. use b in {50, 100} and about two decades.

    Parameters
    ----------
    edges : mapping of int to float or EdgeScan
        Batch size to edge (as :func:`divergence_edge` returns it).
    n : int
        Step sizes per batch size, >= 2.
    decades : float
        Span of each batch size's step sizes in decades, > 0.
    margin : float
        Relative distance of the largest step size below the edge, in (0, 1).
    """
    if not isinstance(edges, Mapping) or not edges:
        raise InvalidArgumentError("`edges` must be a non-empty mapping of batch size to edge")
    n = check_int(n, "n", low=2)
    decades = check_real(decades, "decades", low=0.0, low_open=True)
    margin = check_real(margin, "margin", low=0.0, high=1.0, low_open=True, high_open=True)
    d_lo, d_hi = margin, 1.0 - (1.0 - margin) * 10.0**-decades
    dist = np.geomspace(d_lo, d_hi, n)
    points: list[tuple[int, float]] = []
    plain: dict[int, float] = {}
    for b, e in edges.items():
        b = check_int(b, "edges (batch size)", low=1)
        edge = e.edge if isinstance(e, EdgeScan) else e
        edge = check_real(edge, "edges (edge)", low=0.0, low_open=True)
        plain[b] = edge
        points.extend((b, float(edge * (1.0 - d))) for d in dist[::-1])
    return EtaGrid(tuple(points), plain)


# ----------------------------------------------------------------------- the protocol


@dataclass(frozen=True)
class Protocol:
    """How each network of the grid is trained, and when it has converged.

    Defaults are Barsbey et al.'s (main.py): training loss below 5e-5 and 100% training
    accuracy at an evaluation (every 200 steps), then ``then_factor = 10`` averaging
    windows more, and the analysed network is the mean of the last ``window = 1000``
    iterates; at most ``max_steps`` steps.

    Attributes
    ----------
    target_loss : float
    target_accuracy : float
    window : int
        M, iterates averaged.
    then_factor : int
        K = then_factor * window steps run after the targets are met (a multiple of
        ``eval_every``).
    eval_every : int
    max_steps : int
    chance_after : int or None
        A network at chance accuracy at an evaluation from this step on has diverged
        (default 1,000: a step size past the edge can blow the weights up, late, into a
        network whose ReLUs are all dead and whose loss stays finite; Barsbey et al. stop
        such runs after 50,000 steps). None: never.
    """

    target_loss: float = PAPER_TARGET_LOSS
    target_accuracy: float = 1.0
    window: int = PAPER_WINDOW
    then_factor: int = PAPER_THEN_FACTOR
    eval_every: int = PAPER_EVAL_EVERY
    max_steps: int = 100_000
    chance_after: int | None = 1000

    def __post_init__(self) -> None:
        check_real(self.target_loss, "target_loss", low=0.0, low_open=True)
        check_real(self.target_accuracy, "target_accuracy", low=0.0, high=1.0, low_open=True)
        check_int(self.window, "window", low=1)
        check_int(self.then_factor, "then_factor", low=0)
        check_int(self.eval_every, "eval_every", low=1)
        check_int(self.max_steps, "max_steps", low=1)
        if self.then_steps % self.eval_every:
            raise InvalidArgumentError(
                f"`then_factor * window` ({self.then_steps}) must be a multiple of "
                f"`eval_every` ({self.eval_every})"
            )

    @property
    def then_steps(self) -> int:
        return self.then_factor * self.window

    @property
    def stop(self) -> StopRule:
        """The :class:`StopRule`: both targets, then K more steps."""
        return StopRule(
            train_loss=self.target_loss,
            train_accuracy=self.target_accuracy,
            chance_after=self.chance_after,
            all_targets=True,
            then_steps=self.then_steps,
        )

    def train_kwargs(self) -> dict[str, Any]:
        """The arguments of :func:`train` and :func:`train_ensemble` that it sets."""
        return {
            "stop": self.stop,
            "average_last": self.window,
            "eval_every": self.eval_every,
            "max_steps": self.max_steps,
        }


def distance_from_init(
    state: Mapping[str, torch.Tensor], init: Mapping[str, torch.Tensor]
) -> dict[str, float]:
    """``||W - W0||_F / ||W0||_F`` of each weight layer (tensors of 2 or more dimensions).

    Computed in float64; a layer with ``W0 = 0`` gets inf (or NaN if W = 0 too). Raises
    InvalidArgumentError when the two states do not hold the same layers and shapes.
    """
    out: dict[str, float] = {}
    for name, w in state.items():
        if w.ndim < 2:
            continue
        if name not in init or tuple(init[name].shape) != tuple(w.shape):
            raise InvalidArgumentError(
                f"`init` must hold layer {name!r} of shape {tuple(w.shape)}, as `state` does"
            )
        w0 = init[name].detach().cpu().double()
        num = torch.linalg.vector_norm(w.detach().cpu().double() - w0)
        den = torch.linalg.vector_norm(w0)
        out[name] = float(num / den) if float(den) > 0 else (math.inf if num > 0 else math.nan)
    if not out:
        raise InvalidArgumentError("`state` holds no weight layer (no tensor of 2+ dimensions)")
    return out


@dataclass(frozen=True)
class GridRun:
    """The networks of a grid, trained by one :class:`Protocol`.

    ``results[i]`` is the network of ``(batch_sizes[i], etas[i], seeds[i])``; ``distance[i]``
    maps each weight layer to ``||W - W0|| / ||W0||`` of its averaged weights. A network
    "converged" when it met the stopping rule (status "converged"). ``data`` names the data
    set.
    """

    batch_sizes: tuple[int, ...]
    etas: tuple[float, ...]
    seeds: tuple[int, ...]
    results: tuple[TrainResult, ...]
    distance: tuple[Mapping[str, float], ...]
    protocol: Protocol
    data: str
    seconds: float = field(default=math.nan, compare=False)

    @property
    def converged(self) -> npt.NDArray[np.bool_]:
        """Per network: whether it met the stopping rule."""
        return np.array([r.status == "converged" for r in self.results])

    def to_frame(self) -> pd.DataFrame:
        """One row per network: b, eta, eta/b, seed, status, converged, steps, accuracies,
        gap (train minus test accuracy) and one ``distance:<layer>`` column per layer."""
        rows = []
        for b, e, s, r, d in zip(
            self.batch_sizes, self.etas, self.seeds, self.results, self.distance, strict=True
        ):
            rows.append(
                {
                    "batch_size": b,
                    "eta": e,
                    "eta_over_b": e / b,
                    "seed": s,
                    "status": r.status,
                    "converged": r.status == "converged",
                    "steps": r.steps,
                    "train_loss": r.train_loss,
                    "train_accuracy": r.train_accuracy,
                    "test_accuracy": r.test_accuracy,
                    "gap": r.generalization_gap,
                    **{f"distance:{k}": v for k, v in d.items()},
                }
            )
        return pd.DataFrame(rows)


def train_grid(
    spec_or_factory: str | Callable[[int], nn.Module],
    data: Dataset,
    grid: EtaGrid,
    *,
    seeds: Sequence[int],
    protocol: Protocol | None = None,
    device: Any = None,
    dtype: Any = None,
    progress: bool | None = None,
) -> GridRun:
    """Train every (batch size, step size, seed) of ``grid`` by ``protocol``.

    The networks of one batch size are trained at once (:func:`train_ensemble`: each as
    :func:`train` would train it, up to rounding); seed s is the same network at every
    step size. Records each network's distance from its initialisation (averaged weights
    against ``build_model(spec, rng=s)`` or ``factory(s)``).
    """
    import time

    if not isinstance(grid, EtaGrid):
        raise InvalidArgumentError(f"`grid` must be an EtaGrid, got {type(grid).__name__}")
    if isinstance(seeds, str) or not isinstance(seeds, Sequence) or not seeds:
        raise InvalidArgumentError(f"`seeds` must be a non-empty sequence of ints, got {seeds!r}")
    seed_list = [check_int(s, "seeds", low=0) for s in seeds]
    protocol = Protocol() if protocol is None else protocol
    if not isinstance(protocol, Protocol):
        raise InvalidArgumentError(
            f"`protocol` must be a heavytail.nn.Protocol, got {type(protocol).__name__}"
        )
    dev, dt = as_device(device), as_dtype(dtype)
    factory = model_factory(spec_or_factory, data, dev, dt)
    inits = {s: {k: v.detach().cpu().clone() for k, v in factory(s).state_dict().items()}
             for s in seed_list}  # fmt: skip
    start = time.perf_counter()
    bs: list[int] = []
    es: list[float] = []
    ss: list[int] = []
    results: list[TrainResult] = []
    for b in grid.batch_sizes:
        members = [(e, s) for e in grid.etas(b) for s in seed_list]
        res = train_ensemble(
            spec_or_factory,
            data,
            etas=[e for e, _ in members],
            seeds=[s for _, s in members],
            batch_size=b,
            device=dev,
            dtype=dt,
            progress=progress,
            **protocol.train_kwargs(),
        )
        for (e, s), m in zip(members, res.members, strict=True):
            bs.append(b)
            es.append(e)
            ss.append(s)
            results.append(m)
    distance = tuple(
        distance_from_init(r.averaged_state, inits[s]) for r, s in zip(results, ss, strict=True)
    )
    return GridRun(
        tuple(bs),
        tuple(es),
        tuple(ss),
        tuple(results),
        distance,
        protocol,
        data.name,
        time.perf_counter() - start,
    )
