"""A claim's statement says what is predicted and how it is measured; what a run found is
generated from that run (``Claim.findings_of``), never written into the statement."""

from __future__ import annotations

import re

import pytest

from heavytail.reports import claim_ids, get_claim

# Words that only a report of a run's outcome uses: a finding, a verdict, a seed, a count
# of networks or runs that came out one way.
_FINDING = re.compile(
    r"\b(found at|we found|was found|were found|measured at|the verdict is|verdict:|"
    r"seed \d|(\d+) of (the )?\d+ (networks|runs|seeds) (converged|agree|disagree))\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("claim_id", claim_ids())
def test_statement_quotes_no_finding(claim_id: str) -> None:
    statement = get_claim(claim_id).statement
    hits = [m.group(0) for m in _FINDING.finditer(statement)]
    assert hits == [], f"{claim_id}: the statement reports a run's outcome: {hits}"


def test_the_pattern_catches_a_hard_coded_finding() -> None:
    """Negative control: the old style of nn.trend's statement is caught."""
    old = (
        "Found at quick size (seed 0), and the verdict is disagree: 34 of the 36 networks "
        "converged."
    )
    assert len(_FINDING.findall(old)) == 4
    assert _FINDING.search("alpha falls as eta/b grows, measured by Spearman's rho") is None
