"""Barsbey et al.'s protocol: the divergence edge, the step-size grid, the stopping rule and
the distance from initialisation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from heavytail.nn import (
    EdgeScan,
    EtaGrid,
    Protocol,
    StopRule,
    bracket_edge,
    build_model,
    digits,
    distance_from_init,
    divergence_edge,
    eta_grid,
    train,
    train_grid,
)
from heavytail.theory import InvalidArgumentError

LAMBDAS = np.array([1.0, 2.0, 5.0])
N_STEPS = 100
FACTOR = 2.0


def _gd_loss_ratio(eta: float, lambdas: np.ndarray) -> float:
    """Loss after N_STEPS of gradient descent on 0.5 x' diag(lambdas) x from x = 1, over the
    initial loss: each coordinate is multiplied by (1 - eta lambda) per step."""
    with np.errstate(over="ignore"):  # far above the edge the loss is inf: diverged
        return float(np.sum(lambdas * (1 - eta * lambdas) ** (2 * N_STEPS)) / np.sum(lambdas))


def _quadratic(lambdas: np.ndarray) -> tuple[list[float], object]:
    calls: list[float] = []

    def diverges(etas: Sequence[float]) -> list[bool]:
        calls.extend(etas)
        return [_gd_loss_ratio(e, lambdas) > FACTOR for e in etas]

    return calls, diverges


def test_bracket_edge_finds_the_gradient_descent_edge() -> None:
    # Gradient descent on a quadratic diverges for eta > 2 / lambda_max. After N steps the
    # loss exceeds FACTOR x its start exactly above eta*, the root of ratio(eta) = FACTOR
    # (monotone above 1 / lambda_max), which lies within (FACTOR * 1.6)^(1/2N) - 1 = 0.6% of
    # 2 / lambda_max for these lambdas (1.6 = sum / max).
    star = brentq(lambda e: _gd_loss_ratio(e, LAMBDAS) - FACTOR, 1 / 5.0, 3 / 5.0, xtol=1e-14)
    assert abs(star * 5.0 / 2 - 1) < 0.006
    calls, diverges = _quadratic(LAMBDAS)
    scan = bracket_edge(diverges, 0.01, rtol=0.01, per_round=3)
    assert scan.edge <= star < scan.diverging  # the bracket holds the analytic edge
    assert scan.diverging / scan.edge <= 1.01
    assert all(not d for e, d in scan.tried if e < scan.diverging)
    assert [e for e, _ in scan.tried] == calls
    # control: the edge of a problem 10% stiffer lies outside this bracket
    star_stiff = brentq(
        lambda e: _gd_loss_ratio(e, 1.1 * LAMBDAS) - FACTOR, 1 / 5.5, 3 / 5.5, xtol=1e-14
    )
    assert not (scan.edge <= star_stiff < scan.diverging)


def test_bracket_edge_from_above_and_errors() -> None:
    _, diverges = _quadratic(LAMBDAS)
    scan = bracket_edge(diverges, 100.0, rtol=0.02, per_round=2)  # starts diverged
    assert scan.edge <= 0.4013 < scan.diverging and scan.diverging / scan.edge <= 1.02
    with pytest.raises(InvalidArgumentError, match="no divergence edge"):
        bracket_edge(lambda etas: [False] * len(etas), 1.0, max_rounds=3)
    with pytest.raises(InvalidArgumentError, match="one bool per step size"):
        bracket_edge(lambda etas: [True], 1.0, per_round=2)
    with pytest.raises(InvalidArgumentError, match="eta0"):
        bracket_edge(diverges, 0.0)


def test_bracket_edge_non_monotone_keeps_the_lowest_crossing() -> None:
    # diverges on (1, 2) and above 10 only: the edge is the first crossing, near 1
    def diverges(etas: Sequence[float]) -> list[bool]:
        return [1.0 < e < 2.0 or e > 10.0 for e in etas]

    scan = bracket_edge(diverges, 0.1, rtol=0.01, grow=2.0, per_round=4)
    assert scan.edge <= 1.0 < scan.diverging <= 1.01 * scan.edge


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return digits(rng=0)


def test_divergence_edge_on_a_network(data) -> None:  # type: ignore[no-untyped-def]
    torch.set_num_threads(1)
    scan = divergence_edge(
        "fcn2-16-nobias", data, batch_size=50, eta0=0.5, steps=60, rtol=0.05, seeds=(0, 1)
    )
    assert isinstance(scan, EdgeScan) and scan.batch_size == 50 and "chance" in scan.rule
    assert scan.edge < scan.diverging <= 1.05 * scan.edge
    # rerun the documented rule by hand with train: at the edge no seed diverges, at
    # `diverging` one does
    net0 = {s: build_model("fcn2-16-nobias", in_shape=(64,), n_classes=10, rng=s) for s in (0, 1)}

    def by_hand(eta: float) -> bool:
        out = []
        for s, net in net0.items():
            with torch.no_grad():
                start = float(torch.nn.functional.cross_entropy(net(data.x_train), data.y_train))
            res = train(
                net, data, eta=eta, batch_size=50, max_steps=60, eval_every=15, rng=s,
                average_last=1, stop=StopRule(chance_after=60), progress=False,
            )  # fmt: skip
            losses = res.history["train_loss"].to_numpy()
            out.append(res.status == "diverged" or not bool(np.all(losses <= 2.0 * start)))
        return any(out)

    assert not by_hand(scan.edge)
    assert by_hand(scan.diverging)


def test_eta_grid_spacing_and_span() -> None:
    grid = eta_grid({50: 2.0, 100: 1.5}, 6, decades=1.5, margin=0.1)
    assert isinstance(grid, EtaGrid) and grid.batch_sizes == (50, 100)
    for b, edge in ((50, 2.0), (100, 1.5)):
        etas = np.array(grid.etas(b))
        assert etas.size == 6 and etas.max() == pytest.approx(0.9 * edge, rel=1e-12)
        # each batch size spans exactly `decades`
        assert math.log10(etas.max() / etas.min()) == pytest.approx(1.5, rel=1e-12)
        # distances from the edge are geometric: densest near it
        dist = edge - etas[::-1]
        ratios = dist[1:] / dist[:-1]
        assert np.allclose(ratios, ratios[0], rtol=1e-12) and ratios[0] > 1
        gaps = np.diff(etas)
        assert np.all(np.diff(gaps) < 0)  # the gaps shrink toward the edge
    # eta/b over both batch sizes: 1.5 decades and log10 of the ratio of the edges / b
    expected = 1.5 + math.log10((2.0 / 50) / (1.5 / 100))
    assert grid.span_decades == pytest.approx(expected, rel=1e-12)
    assert grid.span_decades >= 1.5
    # control: one decade asked, one decade given
    assert eta_grid({50: 2.0}, 6, decades=1.0).span_decades == pytest.approx(1.0, rel=1e-12)
    scan = EdgeScan(edge=2.0, diverging=2.05, tried=(), rounds=0)
    assert eta_grid({50: scan}, 3).etas(50) == eta_grid({50: 2.0}, 3).etas(50)
    for bad, match in (({}, "edges"), ({50: -1.0}, "edge"), ({0: 1.0}, "batch size")):
        with pytest.raises(InvalidArgumentError, match=match):
            eta_grid(bad, 3)
    with pytest.raises(InvalidArgumentError, match="margin"):
        eta_grid({50: 1.0}, 3, margin=1.0)


def test_protocol_defaults_are_the_papers() -> None:
    p = Protocol()
    stop = p.stop
    assert (stop.train_loss, stop.train_accuracy, stop.all_targets) == (5e-5, 1.0, True)
    assert stop.then_steps == 10_000 and p.train_kwargs()["average_last"] == 1000
    assert p.train_kwargs()["eval_every"] == 200
    with pytest.raises(InvalidArgumentError, match="multiple of `eval_every`"):
        Protocol(window=150, then_factor=1, eval_every=200)


def test_distance_from_init() -> None:
    w0 = {"a.weight": torch.ones(2, 2), "a.bias": torch.ones(2)}
    w = {"a.weight": torch.tensor([[1.0, 1.0], [1.0, 3.0]]), "a.bias": torch.zeros(2)}
    # ||W - W0|| = 2, ||W0|| = 2: distance 1; biases are not layers
    assert distance_from_init(w, w0) == {"a.weight": 1.0}
    assert distance_from_init(w0, w0) == {"a.weight": 0.0}
    with pytest.raises(InvalidArgumentError, match=r"a\.weight"):
        distance_from_init(w, {"a.weight": torch.ones(3, 2)})
    with pytest.raises(InvalidArgumentError, match="no weight layer"):
        distance_from_init({"b": torch.ones(3)}, {"b": torch.ones(3)})


def test_train_grid_records_each_network(data) -> None:  # type: ignore[no-untyped-def]
    torch.set_num_threads(1)
    grid = eta_grid({50: 1.0, 100: 0.8}, 2, decades=0.5)
    proto = Protocol(
        target_loss=0.3, target_accuracy=0.9, window=20, then_factor=2, eval_every=20,
        max_steps=400,
    )  # fmt: skip
    run = train_grid("fcn2-16-nobias", data, grid, seeds=[0, 1], protocol=proto)
    frame = run.to_frame()
    assert len(frame) == 8 and run.data == "digits"
    assert set(frame["batch_size"]) == {50, 100}
    assert list(frame["converged"]) == [s == "converged" for s in frame["status"]]
    assert frame["converged"].any()
    layers = ["distance:layers.0.weight", "distance:layers.1.weight"]
    assert all(c in frame for c in layers) and (frame[layers] > 0).all().all()
    # one network by hand: train alone, distance from build_model(spec, rng=seed)
    i = 3
    b, eta, seed = run.batch_sizes[i], run.etas[i], run.seeds[i]
    net = build_model("fcn2-16-nobias", in_shape=(64,), n_classes=10, rng=seed)
    solo = train(net, data, eta=eta, batch_size=b, rng=seed, progress=False, **proto.train_kwargs())
    assert solo.status == run.results[i].status and solo.steps == run.results[i].steps
    by_hand = distance_from_init(solo.averaged_state, net.state_dict())
    for k, v in by_hand.items():
        # float32 training, batched against single products: relative 1e-4 (as
        # tests/nn/test_ensemble.py measures members against solo runs)
        assert run.distance[i][k] == pytest.approx(v, rel=1e-4)
    # converged networks met both targets, then ran 2 windows more
    for r in run.results:
        if r.status == "converged":
            assert "then 40 more steps" in r.message
