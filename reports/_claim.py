"""Claims: one checkable statement each, with its run, its rules and its figure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from heavytail._lib._rng import RngLike, as_generator
from heavytail.theory import InvalidArgumentError

from ._verdict import Check, Rule, Verdict, combine_verdicts

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Claim", "Evidence"]

P = TypeVar("P")

SIZE_NAMES = ("smoke", "quick", "full")


@dataclass(frozen=True)
class Evidence:
    """What a claim's run produced.

    Attributes
    ----------
    checks : tuple of Check
        Each prediction of the claim against its measurement (with a 95% interval,
        simultaneous over the claim's checks), under the rule the claim fixed beforehand.
    controls : tuple of Check
        Negative controls: deliberately wrong predictions judged by the same rules on the
        same measurements. Each must come out *disagree*; one that does not shows that the
        run had no power to tell right from wrong.
    data : Mapping
        The raw data behind the figure (arrays, labels). Read-only.
    settings : Mapping
        Every setting used (sizes, grids, replicate counts, estimator options). Read-only.
    """

    checks: tuple[Check, ...]
    controls: tuple[Check, ...]
    data: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "controls", tuple(self.controls))
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        if not self.checks:
            raise InvalidArgumentError("`checks` must hold at least one check")

    def __reduce__(self) -> tuple[type[Evidence], tuple[Any, ...]]:
        # The read-only mappings cannot be pickled; rebuild from plain dicts (so that
        # evidence can come back from a worker process).
        return (type(self), (self.checks, self.controls, dict(self.data), dict(self.settings)))

    @property
    def controls_rejected(self) -> bool:
        """Whether there is a negative control and every one came out *disagree*.

        No control at all counts as not rejected: nothing shows that the run could fail.
        """
        return bool(self.controls) and all(c.verdict is Verdict.DISAGREE for c in self.controls)

    @property
    def verdict(self) -> Verdict:
        """The claim's verdict.

        *disagree* if any check disagrees; otherwise *inconclusive* if any check is
        inconclusive, or if there is no negative control or one escaped rejection (the
        run could not tell a wrong prediction from the right one); otherwise *agree*.
        """
        verdict = combine_verdicts(c.verdict for c in self.checks)
        if verdict is Verdict.AGREE and not self.controls_rejected:
            return Verdict.INCONCLUSIVE
        return verdict

    @property
    def decisive(self) -> Check:
        """The check that decides the verdict: the most discrepant one.

        Among equally discrepant checks (all compatible, say), the one whose verdict is
        least favourable comes first, then the widest interval relative to its limit.
        """
        order = {Verdict.DISAGREE: 0, Verdict.INCONCLUSIVE: 1, Verdict.AGREE: 2}

        def key(c: Check) -> tuple[int, float, float]:
            limit = c.rule.max_width
            rel_width = c.measurement.width / limit if np.isfinite(limit) else 0.0
            return (order[c.verdict], -c.discrepancy, -rel_width)

        return min(self.checks, key=key)


@dataclass(frozen=True)
class Claim(Generic[P]):
    """A checkable statement of the theory.

    Attributes
    ----------
    id : str
        Dotted identifier, e.g. ``"compress.rate"``.
    title : str
        A few words for tables.
    statement : str
        The claim in words, including the tolerances and why they are needed.
    formula : str
        The claim as a formula (plain text with Unicode).
    source : str
        Paper and theorem or section, or the docs/ note that derives it.
    sizes : Mapping[str, P]
        Parameters for each size: ``"smoke"`` (seconds; checks the machinery, verdicts
        usually inconclusive), ``"quick"`` (a few minutes for all claims on a 2-core
        laptop) and ``"full"`` (a workstation).
    rules : Mapping[str, Rule]
        The verdict rules, by name, fixed before any run (for the report).
    measure : callable
        ``measure(params, rng) -> Evidence``: simulates, measures and judges.
    plot : callable
        ``plot(evidence, ax, note) -> Figure``: the claim's figure from
        ``evidence.data``. ``ax`` is None (a new figure, with a footnote saying what was
        simulated, followed by ``note``) or a sequence of ``n_panels`` Axes to draw into.
    n_panels : int
        Number of panels of the figure.
    """

    id: str
    title: str
    statement: str
    formula: str
    source: str
    sizes: Mapping[str, P]
    rules: Mapping[str, Rule]
    measure: Callable[[P, np.random.Generator], Evidence]
    plot: Callable[[Evidence, Sequence[Axes] | None, str], Figure]
    n_panels: int = 1

    def __post_init__(self) -> None:
        missing = [s for s in SIZE_NAMES if s not in self.sizes]
        if missing:
            raise InvalidArgumentError(f"claim {self.id!r} lacks sizes {missing}")
        object.__setattr__(self, "sizes", MappingProxyType(dict(self.sizes)))
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))

    def params(self, size: str | P) -> P:
        """The parameters of ``size``: a size name, or parameters given directly."""
        if isinstance(size, str):
            if size not in self.sizes:
                listed = ", ".join(repr(s) for s in self.sizes)
                raise InvalidArgumentError(f"`size` must be one of {listed}, got {size!r}")
            return self.sizes[size]
        return size

    def run(self, size: str | P, rng: RngLike = None) -> Evidence:
        """Simulate, measure and judge the claim at ``size`` with randomness ``rng``."""
        return self.measure(self.params(size), as_generator(rng))

    def figure(
        self, evidence: Evidence, ax: Axes | Sequence[Axes] | None = None, *, note: str = ""
    ) -> Figure:
        """The claim's figure for ``evidence``; never shown, the caller saves or discards it.

        ``ax``: None for a new figure, or the Axes to draw into (one per panel). ``note``
        is appended to a new figure's footnote (e.g. the command and seed of the run).
        """
        if ax is None:
            return self.plot(evidence, None, note)
        if isinstance(ax, np.ndarray):
            axes = list(ax.ravel())
        elif isinstance(ax, Sequence):
            axes = list(ax)
        else:
            axes = [ax]
        if len(axes) != self.n_panels:
            raise InvalidArgumentError(
                f"`ax` must hold {self.n_panels} Axes for claim {self.id!r}, got {len(axes)}"
            )
        return self.plot(evidence, axes, note)
