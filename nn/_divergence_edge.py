"""The edge of divergence: the largest step size at which SGD does not diverge.

Barsbey, Sefidgaran, Erdogdu, Richard & Şimşekli (NeurIPS 2021), section 5, take step sizes
up to the largest that does not diverge (the first step of their protocol,
``_protocol.py``). Here:

- :func:`bracket_edge` finds the edge of any predicate "these step sizes diverge", by
  bracketing and then bisection on a log scale, several step sizes per round;
- :func:`divergence_edge` finds it, per batch size, for short runs of SGD on a network
  (the step sizes of a round trained at once with :func:`train_ensemble`);
- :class:`EdgeScan` is what a scan found and tried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from heavytail._lib._errors import InvalidArgumentError
from heavytail._lib._validation import check_int, check_real

from ._data import Dataset
from ._device import as_device, as_dtype
from ._ensemble import model_factory, train_ensemble
from ._stopping import StopRule
from ._train import split_stats

__all__ = ["EdgeScan", "bracket_edge", "divergence_edge", "initial_loss"]


@dataclass(frozen=True)
class EdgeScan:
    """Result of a divergence-edge scan.

    Attributes
    ----------
    edge : float
        The largest step size found not to diverge: every step size tried below
        ``diverging`` did not diverge.
    diverging : float
        The smallest step size found to diverge; ``edge < diverging <= edge * (1 + rtol)``.
    tried : tuple of (float, bool)
        Every step size tried and whether it diverged, in the order tried.
    rounds : int
        Rounds of runs (each round tries several step sizes at once).
    batch_size : int or None
        The batch size (None for :func:`bracket_edge` on its own).
    rule : str
        The definition of divergence used, in words.
    """

    edge: float
    diverging: float
    tried: tuple[tuple[float, bool], ...]
    rounds: int
    batch_size: int | None = None
    rule: str = ""


def bracket_edge(
    diverges: Callable[[Sequence[float]], Sequence[bool]],
    eta0: float,
    *,
    rtol: float = 0.05,
    per_round: int = 3,
    grow: float = 4.0,
    max_rounds: int = 40,
) -> EdgeScan:
    """The edge of divergence of a step size, by bracketing then bisection on a log scale.

    ``diverges(etas)`` runs each step size and says which diverged. A round tries
    ``per_round`` step sizes at once. Bracketing: from ``eta0``, a ladder of step sizes
    ``grow`` apart goes up until one diverges (or down until one does not). Refining: the
    bracket (lo, hi) of the largest step size that did not diverge below the smallest that
    did is cut at ``per_round`` points geometric inside it, until ``hi / lo <= 1 + rtol``.
    Every step size tried below the final ``hi`` did not diverge, so the result does not
    depend on which of several crossings a non-monotone problem would show first above it.

    Raises InvalidArgumentError when no bracket is found within ``max_rounds`` rounds (every
    step size diverges, or none does, over ``grow ** (per_round * max_rounds)``).
    """
    eta0 = check_real(eta0, "eta0", low=0.0, low_open=True)
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    per_round = check_int(per_round, "per_round", low=1)
    grow = check_real(grow, "grow", low=1.0, low_open=True)
    max_rounds = check_int(max_rounds, "max_rounds", low=1)
    tried: list[tuple[float, bool]] = []

    def run(etas: list[float]) -> list[bool]:
        out = [bool(d) for d in diverges(etas)]
        if len(out) != len(etas):
            raise InvalidArgumentError(
                f"`diverges` must return one bool per step size ({len(etas)}), got {len(out)}"
            )
        tried.extend(zip(etas, out, strict=True))
        return out

    def bracket() -> tuple[float, float] | None:
        bad = [e for e, d in tried if d]
        if not bad:
            return None
        hi = min(bad)
        good = [e for e, d in tried if not d and e < hi]
        return (max(good), hi) if good else None

    rounds = 0
    first = run([eta0])
    up = not first[0]
    edge = eta0
    while bracket() is None:
        if rounds >= max_rounds:
            raise InvalidArgumentError(
                f"no divergence edge found from `eta0` = {eta0:g} within {max_rounds} rounds: "
                f"{'every step size up to' if up else 'even'} {edge:g} "
                f"{'converged' if up else 'diverged'}"
            )
        ladder = [edge * grow ** (k if up else -k) for k in range(1, per_round + 1)]
        run(ladder)
        edge = ladder[-1]
        rounds += 1
    found = bracket()
    assert found is not None
    lo, hi = found
    while hi / lo > 1.0 + rtol:
        if rounds >= max_rounds:
            raise InvalidArgumentError(
                f"the divergence edge was bracketed in [{lo:g}, {hi:g}] but not to `rtol` = "
                f"{rtol:g} within {max_rounds} rounds"
            )
        ratio = hi / lo
        run([lo * ratio ** (k / (per_round + 1)) for k in range(1, per_round + 1)])
        rounds += 1
        found = bracket()
        assert found is not None
        lo, hi = found
    return EdgeScan(edge=lo, diverging=hi, tried=tuple(tried), rounds=rounds)


def initial_loss(net: nn.Module, data: Dataset) -> float:
    """Mean cross-entropy of ``net`` on the training set of ``data`` (on net's device)."""
    p = next(net.parameters())
    d = data.to(p.device, p.dtype)
    with torch.no_grad():
        return float(split_stats(net, d.x_train, d.y_train)[0]) / d.n_train


def divergence_edge(
    spec_or_factory: str | Callable[[int], nn.Module],
    data: Dataset,
    *,
    batch_size: int,
    eta0: float = 0.1,
    seeds: Sequence[int] = (0,),
    steps: int = 200,
    n_evals: int = 4,
    loss_factor: float = 2.0,
    rtol: float = 0.05,
    per_round: int = 3,
    max_rounds: int = 40,
    device: Any = None,
    dtype: Any = None,
) -> EdgeScan:
    """The largest step size at which short runs of SGD do not diverge, at one batch size.

    Divergence, precisely: a run of ``steps`` SGD steps (batch size ``batch_size``, seed
    s: the network ``build_model(spec, rng=s)`` and its batches as :func:`train` draws
    them) diverges if, at any of its ``n_evals`` evaluations (evenly spaced, the last at
    ``steps``), its training loss (mean cross-entropy over the whole training set) is NaN,
    infinite, or above ``loss_factor`` times the loss of the untrained network of the same
    seed; or if at its last evaluation its training accuracy is no better than chance
    (always answering the most frequent label: a step so large that every ReLU died leaves
    a constant network whose loss stays near the initial one, which Barsbey et al.'s
    main.py also counts as divergence). A step size diverges if the run of any seed does.
    The scan is :func:`bracket_edge` on that predicate, the step sizes of a round trained
    at once by :func:`train_ensemble`.

    Divergence can come late: a scan of a few hundred steps overestimates the edge that
    the long runs of the protocol meet. On scikit-learn's digits (fcn3-32-nobias, b = 25
    and 50, a grid of 6 step sizes from 0.09 to 0.9 of the edge, seeds 0 and 1, targets
    loss 1e-3 and 100% accuracy), 100-step scans put the edge at 1.68 and 2.0, and all 16
    networks at 0.62-0.9 of it diverged (at chance by step 1,000-1,100); 2,000-step scans
    put it at 1.09 and 0.92, all 12 networks at 0.09-0.62 of it converged, and 8 of the
    12 at 0.76-0.9 diverged, after 1,100-10,800 steps. Scan for about as many steps as a
    run near the edge needs to meet its targets, and expect divergences near the edge.

    Parameters
    ----------
    spec_or_factory : str or callable
        As for :func:`train_ensemble`.
    data : Dataset
    batch_size : int
    eta0 : float
        First step size tried, > 0.
    seeds : sequence of int
        Seeds of the runs at each step size (>= 0).
    steps : int
        Length of each run, >= 1.
    n_evals : int
        Evaluations per run, in [1, steps].
    loss_factor : float
        A loss above ``loss_factor`` times the initial loss counts as divergence (> 1).
    rtol, per_round, max_rounds
        As for :func:`bracket_edge`.
    device, dtype
        As for :func:`train_ensemble` (CPU and float32 by default).

    Returns
    -------
    EdgeScan
        ``edge`` (the largest step size that did not diverge), ``diverging``, every step
        size tried, and the rule in words.
    """
    batch_size = check_int(batch_size, "batch_size", low=1)
    steps = check_int(steps, "steps", low=1)
    n_evals = check_int(n_evals, "n_evals", low=1, high=steps)
    loss_factor = check_real(loss_factor, "loss_factor", low=1.0, low_open=True)
    if isinstance(seeds, str) or not isinstance(seeds, Sequence) or not seeds:
        raise InvalidArgumentError(f"`seeds` must be a non-empty sequence of ints, got {seeds!r}")
    seed_list = [check_int(s, "seeds", low=0) for s in seeds]
    dev, dt = as_device(device), as_dtype(dtype)
    factory = model_factory(spec_or_factory, data, dev, dt)
    limits = {s: loss_factor * initial_loss(factory(s), data) for s in seed_list}
    eval_every = max(steps // n_evals, 1)

    def diverges(etas: Sequence[float]) -> list[bool]:
        members = [(e, s) for e in etas for s in seed_list]
        res = train_ensemble(
            spec_or_factory,
            data,
            etas=[e for e, _ in members],
            seeds=[s for _, s in members],
            batch_size=batch_size,
            max_steps=steps,
            eval_every=eval_every,
            average_last=1,
            stop=StopRule(chance_after=steps),
            device=dev,
            dtype=dt,
            progress=False,
        )
        bad = []
        for (_, s), m in zip(members, res.members, strict=True):
            losses = m.history["train_loss"].to_numpy(dtype=np.float64)
            bad.append(m.status == "diverged" or not bool(np.all(losses <= limits[s])))
        per_eta = np.array(bad).reshape(len(etas), len(seed_list))
        return [bool(row.any()) for row in per_eta]

    scan = bracket_edge(diverges, eta0, rtol=rtol, per_round=per_round, max_rounds=max_rounds)
    rule = (
        f"a run of {steps} steps diverges if its training loss, at any of {n_evals} "
        f"evaluations, is not finite or above {loss_factor:g} x its initial loss, or if its "
        f"training accuracy is at chance at the last; a step size diverges if the run of any "
        f"of {len(seed_list)} seed(s) does"
    )
    return EdgeScan(scan.edge, scan.diverging, scan.tried, scan.rounds, batch_size, rule)
