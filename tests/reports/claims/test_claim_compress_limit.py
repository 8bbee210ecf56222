"""Claim compress.limit at a small size: predictions, verdicts, negative controls, figure."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from heavytail.reports import Evidence, Verdict
from heavytail.reports._claims.compress_limit import CLAIM, KAPPAS, LAWS, LimitSize

from ._helpers import (
    assert_controls_are_alternatives_and_checks_values,
    evidence_fixture,
    rerun_with_same_seed,
)

# Large enough for the rules to have power (every control rejected), small enough for a
# test: 12 replicates of 1e5 entries per law (smoke size is smaller: machinery only).
POWERED = LimitSize(1_000, 100_000, 3, 12)


evidence = evidence_fixture(CLAIM, POWERED, 0)


def test_predictions_match_closed_forms(evidence: Evidence) -> None:
    """Independent references: G_2(kappa)^2 = 1 - kappa^(1/3) for Pareto(3) (Q(u) = u^-1/3),
    1 - kappa - 2 tau phi(tau) with tau = Phi^-1(1 - kappa / 2) for the Gaussian, and a
    quadrature of the density for Laplace and Student t(5)."""
    by_label = {c.label: c.prediction for c in evidence.checks}
    for kappa in KAPPAS:
        pareto = math.sqrt(1.0 - kappa ** (1.0 / 3.0))
        assert by_label[f"Pareto (alpha 3), κ = {kappa:g}"] == pytest.approx(pareto, rel=1e-7)
        tau = stats.norm.isf(kappa / 2.0)
        gauss = math.sqrt(1.0 - kappa - 2.0 * tau * stats.norm.pdf(tau))
        assert by_label[f"Gaussian, κ = {kappa:g}"] == pytest.approx(gauss, rel=1e-7)
        # Laplace and Student t(5): E[X^2 1{|X| <= tau}] / E X^2 by quadrature of the
        # density (not of the quantile function, as the claim's limit does).
        for name, law, second in (
            ("Laplace", stats.laplace(), 2.0),
            ("Student t (df 5)", stats.t(5.0), 5 / 3),
        ):
            tau = law.isf(kappa / 2.0)
            part = (
                2.0
                * integrate.quad(
                    lambda x, law=law: x * x * law.pdf(x), 0.0, tau, epsabs=0.0, epsrel=1e-12
                )[0]
            )
            ref = math.sqrt(part / second)
            assert by_label[f"{name}, κ = {kappa:g}"] == pytest.approx(ref, rel=1e-9)


def test_no_check_disagrees_and_every_control_is_rejected(evidence: Evidence) -> None:
    assert len(evidence.checks) == len(LAWS) * len(KAPPAS)
    assert not [c.label for c in evidence.checks if c.verdict is Verdict.DISAGREE]
    # The controls: the nearest other law's limit (16) and the compressible limit 0 (4).
    assert len(evidence.controls) == 20
    escaped = [c.label for c in evidence.controls if c.verdict is not Verdict.DISAGREE]
    assert not escaped, escaped
    assert evidence.controls_rejected


def test_only_pareto_has_a_tolerance(evidence: Evidence) -> None:
    for check in evidence.checks:
        tol = check.rule.tolerance
        if check.label.startswith("Pareto"):
            assert tol == pytest.approx(0.15 * POWERED.n_max ** (-1 / 3))
            assert "upper envelope" in check.rule.tolerance_reason
        else:
            assert tol == 0.0


def test_a_shifted_prediction_is_rejected(evidence: Evidence) -> None:
    """Power of the rule beyond the controls: G + 0.02 (a 2-3% error) disagrees for the
    three laws with a finite fourth moment, whose intervals at this size are narrower."""
    for check in evidence.checks:
        if not check.label.startswith("Pareto"):
            assert check.rule.judge(check.prediction + 0.02, check.measurement) is Verdict.DISAGREE


def test_same_seed_same_numbers(evidence: Evidence) -> None:
    again = rerun_with_same_seed(CLAIM, POWERED, 0, evidence)
    np.testing.assert_array_equal(again.data.error.estimate, evidence.data.error.estimate)


def test_figure(evidence: Evidence) -> None:
    fig = CLAIM.figure(evidence, note="seed 0")
    axes = fig.get_axes()
    assert len(axes) == len(LAWS)
    assert all(ax.get_xscale() == "log" for ax in axes)
    assert [ax.get_title() for ax in axes] == [law.label for law in LAWS]
    assert "n = 1,000..100,000" in fig.get_supxlabel()
    from matplotlib.figure import Figure

    other = Figure()
    grid = other.subplots(2, 2)
    assert CLAIM.figure(evidence, grid) is other
    with pytest.raises(ValueError, match="4 Axes"):
        CLAIM.figure(evidence, grid[0])


def test_controls_are_alternatives_that_count_and_checks_are_values(evidence: Evidence) -> None:
    assert_controls_are_alternatives_and_checks_values(evidence)
