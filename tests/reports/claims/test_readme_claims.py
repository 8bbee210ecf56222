"""The README's table of the claims is the one rendered from the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from heavytail.reports import claim_ids, claims_table

README = Path(__file__).resolve().parents[3] / "README.md"


def _readme_table(text: str) -> str:
    """The first table of the README's section "## The claims" ('' if there is none)."""
    lines = text.splitlines()
    start = lines.index("## The claims")
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return "\n".join(table)


def test_readme_table_matches_the_registry() -> None:
    fresh = claims_table()
    if _readme_table(README.read_text(encoding="utf-8")) != fresh:
        pytest.fail(
            "README.md's table under '## The claims' differs from the registry's; "
            "replace it with:\n\n" + fresh + "\n"
        )


def test_table_has_a_row_per_claim_with_escaped_bars() -> None:
    rows = claims_table().splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == [f"| `{i}`" for i in claim_ids()]
    for row in rows:
        # Three cells: every "|" inside a statement (|X|) is escaped.
        assert row.replace("\\|", "").count("|") == 4, row


def test_a_stale_table_is_found() -> None:
    """Negative control: a README whose table lacks a row does not match."""
    fresh = claims_table()
    stale = "## The claims\n\n" + "\n".join(fresh.splitlines()[:-1]) + "\n\ntext\n"
    assert _readme_table(stale) != fresh
    assert _readme_table("## The claims\n\n" + fresh + "\n\n## Next\n") == fresh


def test_first_sentence_stops_at_a_full_stop_not_at_an_abbreviation() -> None:
    from heavytail.reports._verify.report import first_sentence

    text = "Barsbey et al. (2021) found it, e.g. at eta = 0.1. Then more. And more."
    assert first_sentence(text) == "Barsbey et al. (2021) found it, e.g. at eta = 0.1."
    assert first_sentence("One sentence only") == "One sentence only"
    # Control: a naive split at the first full stop would cut after "al.".
    assert text.split(". ")[0] + "." != first_sentence(text)
