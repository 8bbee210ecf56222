"""The kinds of injected heavy-tailed noise, named once for every simulator and trainer.

Wan, Barsbey, Zaidi & Şimşekli (ICML 2024, arXiv 2306.08125) add, after each SGD step,
``scale * eta^(1/alpha) * L`` to the weights, with L built from standard symmetric
alpha-stable variables (docs/theory.md, sections 3 and 6). Their three noise types are
named here by what they draw; ``heavytail.simulate.InjectedNoise`` and
``heavytail.nn.InjectedNoise`` take ``kind`` among :data:`NOISE_KINDS`, the sweeps offer
the same names, and the docstrings of both classes include :data:`NOISE_KINDS_DOC`.
"""

from __future__ import annotations

from typing import Any, Literal

from ._errors import InvalidArgumentError

__all__ = ["NOISE_KINDS", "NOISE_KINDS_DOC", "NoiseKind", "check_noise_kind"]

NoiseKind = Literal["unit", "iid", "elliptic"]

NOISE_KINDS: tuple[NoiseKind, ...] = ("unit", "iid", "elliptic")
"""The kinds in the order of Wan et al.'s type numbers: ``NOISE_KINDS[t - 1]`` is type t."""

NOISE_KINDS_DOC = """\
kind : {"unit", "iid", "elliptic"}
    How L is drawn (unit i of the weights is its row w_i; L has the shape of the weights
    and every entry of L is standard symmetric alpha-stable,
    E exp(i t L_ij) = exp(-|t|^alpha), N(0, 2) at alpha = 2):

    - ``"unit"`` (Wan et al.'s type 1): one scalar L_i per unit, added to every entry of
      the unit, w_i += s L_i (1, ..., 1);
    - ``"iid"`` (type 2): independent entries L_ij;
    - ``"elliptic"`` (type 3): one elliptic (sub-Gaussian) stable vector per unit,
      L_i = sqrt(2 A_i) G_i with A_i positive (alpha/2)-stable,
      E exp(-lambda A) = exp(-lambda^(alpha/2)), and G_i ~ N(0, I): rotation invariant,
      the entries of a unit dependent through A_i (Samorodnitsky & Taqqu 1994,
      Prop. 2.5.2).
"""
"""The numpydoc entry of ``kind``, for :func:`heavytail._lib._doc.fill_doc`."""


def check_noise_kind(kind: Any) -> NoiseKind:
    """Return ``kind`` if it is one of :data:`NOISE_KINDS`, else raise naming ``kind``."""
    if not isinstance(kind, str) or kind not in NOISE_KINDS:
        raise InvalidArgumentError(
            f"`kind` must be one of {', '.join(repr(k) for k in NOISE_KINDS)} (Wan et al.'s "
            f"noise types 1, 2, 3), got {kind!r}"
        )
    return kind
