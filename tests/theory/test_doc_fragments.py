"""Shared docstring fragments (heavytail._lib._doc.fill_doc)."""

from __future__ import annotations

import pytest

from heavytail._lib._doc import fill_doc
from heavytail.theory import (
    sgd_log_h_monte_carlo,
    sgd_lyapunov_exponent,
    sgd_lyapunov_exponent_monte_carlo,
    sgd_tail_index,
    sgd_tail_index_monte_carlo,
)


def test_a_slot_is_replaced_at_its_indent() -> None:
    @fill_doc({"p": "x : int\n    Its meaning.\n\ny : float"})
    def f() -> None:
        """Do.

        Parameters
        ----------
        %(p)s
        """

    assert f.__doc__ == (
        "Do.\n\n        Parameters\n        ----------\n        x : int\n"
        "            Its meaning.\n\n        y : float\n        "
    )


def test_an_unknown_slot_fails_at_definition() -> None:
    with pytest.raises(KeyError, match="nope"):

        @fill_doc({})
        def f() -> None:
            """%(nope)s"""


@pytest.mark.parametrize(
    "func",
    [
        sgd_log_h_monte_carlo,
        sgd_lyapunov_exponent,
        sgd_lyapunov_exponent_monte_carlo,
        sgd_tail_index,
        sgd_tail_index_monte_carlo,
    ],
)
def test_public_docstrings_have_no_slot_left(func: object) -> None:
    doc = func.__doc__ or ""
    assert "%(" not in doc
    assert "batch_size : int" in doc
