"""What the command line's tests expect of an error: one line on stderr, no traceback."""

from __future__ import annotations

import pytest


def one_error_line(capsys: pytest.CaptureFixture[str], *needles: str) -> None:
    """stderr holds exactly one line, heavytail's error, containing every needle."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("heavytail: error: ") and "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
