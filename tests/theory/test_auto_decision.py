"""The decisions of "auto" (theory/_auto.py), from hand-made statistics.

Each route and each reason is reached from statistics written here, and every threshold
is tested from both sides: a statistic at the threshold and one a rounding step beyond it
(``math.nextafter``) must give the two different answers. The thresholds are read from
the policy, never restated.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import pytest
from scipy import optimize

from heavytail.theory._auto import (
    RouteDecision,
    RouteReason,
    combined_z,
    decide_route,
    estimators_agree,
    stable_law_fits,
)
from heavytail.theory._auto_policy import AUTO_POLICY, AutoPolicy
from heavytail.theory._stable_tail_check import StableTailCheck

from ._checks import fitted_gof, second_look

P = AUTO_POLICY


def _up(v: float) -> float:
    return math.nextafter(v, math.inf)


def _down(v: float) -> float:
    return math.nextafter(v, -math.inf)


def _hill_z_at(q: float, target: float) -> float:
    """The tail z < 0 at which combined_z(q, z) = target (combined_z grows with |z|)."""
    return float(optimize.brentq(lambda z: combined_z(q, z) - target, -40.0, 0.0, xtol=1e-15))


def test_first_look_rejects_above_the_threshold_or_when_undefined() -> None:
    undefined = decide_route(fitted_gof(math.inf), None)
    assert undefined == RouteDecision("tail", RouteReason.GOF_UNDEFINED)
    above = decide_route(fitted_gof(_up(P.gof_threshold)), second_look())
    assert above == RouteDecision("tail", RouteReason.GOF_REJECTS)
    assert not above.rerouted  # rejected at the first look, not by the second
    # Negative control: Q at the threshold passes (Q <= threshold), and with a quiet tail
    # the data stay on the stable route.
    at = decide_route(fitted_gof(P.gof_threshold), second_look(hill_z=0.0))
    assert at.route == "stable"
    assert stable_law_fits(fitted_gof(P.gof_threshold))
    assert not stable_law_fits(fitted_gof(_up(P.gof_threshold)))
    assert not stable_law_fits(fitted_gof(math.inf))


@pytest.mark.parametrize(
    "tail",
    [
        None,
        second_look(hill_k=None),
        second_look(hill_z=math.nan),
        second_look(hill_rmse=math.nan),
        second_look(hill_z=math.inf),
    ],
    ids=["no tail check", "no Hill k", "z undefined", "RMSE undefined", "z infinite"],
)
def test_no_second_look_without_a_finite_tail_statistic(tail: StableTailCheck | None) -> None:
    # Even with a Q that would reject at the second look (20, with z = -3.5 below).
    decision = decide_route(fitted_gof(20.0), tail)
    assert decision == RouteDecision("stable", RouteReason.NO_SECOND_LOOK, None)
    # Negative control: the same Q with a finite tail statistic is rerouted.
    assert decide_route(fitted_gof(20.0), second_look(hill_z=-3.5)).rerouted


def test_gate_hill_rmse_at_and_beyond_the_threshold() -> None:
    strong = -6.0  # combined z far beyond reroute_z with Q = 20
    assert combined_z(20.0, strong) > P.reroute_z + 1
    open_gate = decide_route(fitted_gof(20.0), second_look(strong, hill_rmse=P.reroute_hill_rmse))
    assert open_gate.route == "tail"
    assert open_gate.reason is RouteReason.BODY_AND_TAIL_REJECT
    shut = decide_route(fitted_gof(20.0), second_look(strong, hill_rmse=_up(P.reroute_hill_rmse)))
    assert shut.route == "stable"
    assert shut.reason is RouteReason.HILL_INACCURATE
    # The z is computed (and recorded) either way.
    assert shut.combined_z == open_gate.combined_z == combined_z(20.0, strong)


@pytest.mark.parametrize("q", [0.5, 8.0, 20.0, 24.9])
def test_combined_z_at_and_beyond_reroute_z(q: float) -> None:
    # The tail z that puts the combined z on the threshold, for a few Q that pass the
    # first look; one rounding step of the combined z either side decides.
    z_star = _hill_z_at(q, P.reroute_z)
    at = RouteDecision("stable", RouteReason.TAIL_CONSISTENT, P.reroute_z)
    # The policy's own threshold, set to the combined z that the statistics give.
    exact = combined_z(q, z_star)
    assert exact == pytest.approx(P.reroute_z, abs=1e-9)  # brentq's root, to xtol
    on = dataclasses.replace(P, reroute_z=exact)
    below = dataclasses.replace(P, reroute_z=_down(exact))
    assert decide_route(fitted_gof(q), second_look(z_star), on) == dataclasses.replace(
        at, combined_z=exact
    )
    rerouted = decide_route(fitted_gof(q), second_look(z_star), below)
    assert (rerouted.route, rerouted.reason) == ("tail", RouteReason.BODY_AND_TAIL_REJECT)
    # With the default policy: a tail z 1e-6 inside or outside the root.
    assert (
        decide_route(fitted_gof(q), second_look(z_star + 1e-6)).reason
        is RouteReason.TAIL_CONSISTENT
    )
    assert (
        decide_route(fitted_gof(q), second_look(z_star - 1e-6)).reason
        is RouteReason.BODY_AND_TAIL_REJECT
    )


def test_the_sign_of_the_tail_z_does_not_decide() -> None:
    # A tail heavier than the fitted law's is as much evidence as a lighter one.
    lighter = decide_route(fitted_gof(20.0), second_look(-3.5))
    heavier = decide_route(fitted_gof(20.0), second_look(3.5))
    assert lighter == heavier
    assert lighter.rerouted


def test_the_decision_reads_every_threshold_from_its_policy() -> None:
    # Statistics that the default policy reroutes; each field moved past them flips the
    # answer to the reason that field governs.
    gof, tail = fitted_gof(20.0), second_look(-3.5, 0.05)
    assert decide_route(gof, tail).reason is RouteReason.BODY_AND_TAIL_REJECT
    cases = {
        "gof_threshold": (19.0, RouteReason.GOF_REJECTS),
        "reroute_hill_rmse": (0.04, RouteReason.HILL_INACCURATE),
        "reroute_z": (10.0, RouteReason.TAIL_CONSISTENT),
    }
    for name, (value, reason) in cases.items():
        change: dict[str, Any] = {name: value}
        policy = dataclasses.replace(P, **change)
        assert decide_route(gof, tail, policy).reason is reason, name


def test_estimators_agree_at_and_beyond_the_threshold() -> None:
    assert estimators_agree(P.disagreement_z)
    assert estimators_agree(0.0)
    assert not estimators_agree(_up(P.disagreement_z))
    assert not estimators_agree(2.0, dataclasses.replace(P, disagreement_z=1.5))


def test_decisions_are_pure() -> None:
    # The same statistics give the same decision, and the inputs are left as they were.
    gof, tail = fitted_gof(20.0), second_look(-3.5)
    before = (dataclasses.astuple(gof), dataclasses.astuple(tail))
    assert decide_route(gof, tail) == decide_route(gof, tail)
    assert (dataclasses.astuple(gof), dataclasses.astuple(tail)) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        decide_route(gof, tail).route = "stable"  # type: ignore[misc]


def test_every_reason_is_reachable() -> None:
    # The reasons above, collected: each one is produced by some statistics.
    seen = {
        decide_route(fitted_gof(math.inf), None).reason,
        decide_route(fitted_gof(30.0), None).reason,
        decide_route(fitted_gof(20.0), None).reason,
        decide_route(fitted_gof(20.0), second_look(-3.5, 0.5)).reason,
        decide_route(fitted_gof(2.0), second_look(-0.5)).reason,
        decide_route(fitted_gof(20.0), second_look(-3.5)).reason,
        decide_route(fitted_gof(2.0), second_look(-0.5), one_sided_alpha=1.2).reason,
    }
    assert seen == set(RouteReason)


def test_policy_fields_each_name_their_source() -> None:
    for f in dataclasses.fields(AutoPolicy):
        source = AutoPolicy.source(f.name)
        # The commit that set the value, and more than a bare name.
        assert re.search(r"\b[Cc]ommits? [0-9a-f]{7}\b", source), f.name
        assert len(source) > 60, f.name
    with pytest.raises(KeyError, match="no field 'nope'"):
        AutoPolicy.source("nope")
    with pytest.raises(dataclasses.FrozenInstanceError):
        P.reroute_z = 3.0  # type: ignore[misc]


def test_bias_factor_follows_rho() -> None:
    # 1 / (1 - 4^rho): the drift from k to k/4 is that fraction of the bias at k.
    assert P.bias_factor == 1.0 / (1.0 - 4.0**P.bias_rho)
    assert dataclasses.replace(P, bias_rho=-1.0).bias_factor == pytest.approx(4.0 / 3.0)
