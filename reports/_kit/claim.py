"""Claims: one checkable statement each, with its run, its evidence and its figure.

A claim module builds its :class:`Claim` with the helpers of
:mod:`heavytail.reports._kit.book`, whose notes show a whole claim.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from heavytail._lib._rng import RngLike, as_generator
from heavytail.theory import InvalidArgumentError

from .verdict import Check, ControlCheck, ControlKind, Verdict, combine_verdicts

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Caption", "Claim", "Evidence", "Layout", "default_findings"]

P = TypeVar("P")
D = TypeVar("D")

SIZE_NAMES = ("smoke", "quick", "full")


@dataclass(frozen=True)
class Evidence(Generic[D]):
    """What a claim's run produced.

    Attributes
    ----------
    checks : tuple of Check
        Each prediction of the claim against its measurement (with a 95% interval,
        simultaneous over the claim's checks), under the rule the claim fixed beforehand.
    controls : tuple of ControlCheck
        Controls judged by the claim's rules, each with its kind
        (:class:`~heavytail.reports._kit.verdict.ControlKind`): null controls (no effect
        by construction) must not agree, positive controls (a known effect) must be
        detected, alternative predictions must be rejected; mirrors are shown only. A
        plain :class:`Check` given here is taken as an alternative.
    data : D
        The raw data behind the figure: a frozen dataclass of the claim
        (:class:`heavytail.reports._kit.book.FigureData`), or None.
    settings : Mapping
        Every setting used (sizes, grids, replicate counts, estimator options). Read-only.
    """

    checks: tuple[Check, ...]
    controls: tuple[ControlCheck, ...]
    data: D
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "controls", tuple(_as_control(c) for c in self.controls))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        if not self.checks:
            raise InvalidArgumentError("`checks` must hold at least one check")

    def __reduce__(self) -> tuple[type[Evidence[D]], tuple[Any, ...]]:
        # The read-only settings cannot be pickled; rebuild from a plain dict (so that
        # evidence can come back from a worker process).
        return (type(self), (self.checks, self.controls, self.data, dict(self.settings)))

    @property
    def counting_controls(self) -> tuple[ControlCheck, ...]:
        """The controls that count as evidence (all but mirrors)."""
        return tuple(c for c in self.controls if c.counts)

    @property
    def controls_rejected(self) -> bool:
        """Whether there is a control that counts and every one came out as it must.

        No counting control at all is False: nothing shows that the run could fail.
        """
        counting = self.counting_controls
        return bool(counting) and all(c.passed for c in counting)

    @property
    def power_shown(self) -> bool:
        """Whether a positive control exists and every positive control was detected."""
        positives = [c for c in self.controls if c.kind is ControlKind.POSITIVE]
        return bool(positives) and all(c.passed for c in positives)

    @property
    def verdict(self) -> Verdict:
        """The claim's verdict (:attr:`reason` says why).

        - *disagree* if a check disagrees, except where every disagreeing check is a
          trend check and no positive control showed the pipeline can detect the
          effect: then *inconclusive*, for want of power;
        - otherwise *inconclusive* if a check is inconclusive, if there is no control
          that counts, if one of them did not come out as it must, or if every check is
          a sanity check;
        - otherwise *agree*.
        """
        return self._judged()[0]

    @property
    def reason(self) -> str:
        """Why the verdict is what it is, in one sentence."""
        return self._judged()[1]

    def _judged(self) -> tuple[Verdict, str]:
        verdict = combine_verdicts(c.verdict for c in self.checks)
        if verdict is Verdict.DISAGREE:
            against = [c for c in self.checks if c.verdict is Verdict.DISAGREE]
            if all(c.trend for c in against) and not self.power_shown:
                return Verdict.INCONCLUSIVE, (
                    "no power: a trend check disagrees, but no positive control showed "
                    "that the pipeline detects the effect"
                )
            return verdict, f"{_count(against)} excluded the prediction"
        if verdict is Verdict.INCONCLUSIVE:
            n = sum(c.verdict is Verdict.INCONCLUSIVE for c in self.checks)
            return verdict, f"{_count(n)} too wide to tell, and none disagrees"
        if not self.counting_controls:
            return Verdict.INCONCLUSIVE, "no control that counts (null, positive or alternative)"
        failed = [c for c in self.counting_controls if not c.passed]
        if failed:
            kinds = sorted({c.kind.value for c in failed})
            return Verdict.INCONCLUSIVE, (
                f"{len(failed)} control(s) did not come out as they must ({', '.join(kinds)})"
            )
        if all(c.sanity for c in self.checks):
            return Verdict.INCONCLUSIVE, "only sanity checks, which cannot realistically fail"
        return Verdict.AGREE, "every check agrees and every control came out as it must"

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
class Layout:
    """The panels of a claim's figure: how many, in how many columns, and their size.

    Attributes
    ----------
    n_panels : int
        Number of panels (>= 1).
    ncols : int or None
        Columns of the grid (None: one row).
    width, height : float
        Size of one panel, in inches.
    """

    n_panels: int = 1
    ncols: int | None = None
    width: float = 3.6
    height: float = 3.0

    def __post_init__(self) -> None:
        if isinstance(self.n_panels, bool) or not isinstance(self.n_panels, int):
            raise InvalidArgumentError(f"`n_panels` must be an int, got {self.n_panels!r}")
        if self.n_panels < 1:
            raise InvalidArgumentError(f"`n_panels` must be >= 1, got {self.n_panels}")


@dataclass(frozen=True)
class Caption:
    """The texts of a new figure: its title, and a footnote saying what was simulated.

    A claim's ``draw`` returns it; :meth:`Claim.figure` writes it on a figure it made
    (not on Axes it was given), the footnote followed by the caller's note.
    """

    title: str
    footnote: str


@dataclass(frozen=True)
class Claim(Generic[P, D]):
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
    measure : callable
        ``measure(params, rng) -> Evidence[D]``: simulates, measures and judges.
    draw : callable
        ``draw(evidence, axes) -> Caption``: draws ``evidence.data`` into the
        ``layout.n_panels`` Axes and returns the title and footnote of a new figure.
    layout : Layout
        The panels of the figure.
    findings : callable or None
        ``findings(evidence) -> str``: what this run found, in words built from its
        numbers (the statement says what is predicted and how it is measured, and never
        quotes a measured number). None: :func:`default_findings`.
    """

    id: str
    title: str
    statement: str
    formula: str
    source: str
    sizes: Mapping[str, P]
    measure: Callable[[P, np.random.Generator], Evidence[D]]
    draw: Callable[[Evidence[D], Sequence[Axes]], Caption]
    layout: Layout = Layout()
    findings: Callable[[Evidence[D]], str] | None = None

    def __post_init__(self) -> None:
        missing = [s for s in SIZE_NAMES if s not in self.sizes]
        if missing:
            raise InvalidArgumentError(f"claim {self.id!r} lacks sizes {missing}")
        object.__setattr__(self, "sizes", MappingProxyType(dict(self.sizes)))

    def params(self, size: str | P) -> P:
        """The parameters of ``size``: a size name, or parameters given directly."""
        if isinstance(size, str):
            if size not in self.sizes:
                listed = ", ".join(repr(s) for s in self.sizes)
                raise InvalidArgumentError(f"`size` must be one of {listed}, got {size!r}")
            return self.sizes[size]
        return size

    def findings_of(self, evidence: Evidence[D]) -> str:
        """What the run behind ``evidence`` found, generated from its numbers."""
        if self.findings is None:
            return default_findings(evidence)
        return self.findings(evidence)

    def run(self, size: str | P, rng: RngLike = None) -> Evidence[D]:
        """Simulate, measure and judge the claim at ``size`` with randomness ``rng``."""
        return self.measure(self.params(size), as_generator(rng))

    def figure(
        self, evidence: Evidence[D], ax: Axes | Sequence[Axes] | None = None, *, note: str = ""
    ) -> Figure:
        """The claim's figure for ``evidence``; never shown, the caller saves or discards it.

        ``ax``: None for a new figure in the report style, with the claim's title and a
        footnote saying what was simulated, followed by ``note`` (e.g. the command and
        seed of the run); or the Axes to draw into (one per panel), left untitled.
        """
        from .style import footnote, panels, style

        if ax is None:
            lay = self.layout
            with style():
                fig, axes = panels(
                    None, lay.n_panels, ncols=lay.ncols, width=lay.width, height=lay.height
                )
                caption = self.draw(evidence, axes)
                fig.suptitle(caption.title)
                footnote(fig, f"{caption.footnote} {note}".rstrip())
            return fig
        if isinstance(ax, np.ndarray):
            given = list(ax.ravel())
        elif isinstance(ax, Sequence):
            given = list(ax)
        else:
            given = [ax]
        if len(given) != self.layout.n_panels:
            raise InvalidArgumentError(
                f"`ax` must hold {self.layout.n_panels} Axes for claim {self.id!r}, "
                f"got {len(given)}"
            )
        fig, axes = panels(given, self.layout.n_panels)
        self.draw(evidence, axes)
        return fig


def _as_control(check: Check) -> ControlCheck:
    if isinstance(check, ControlCheck):
        return check
    return ControlCheck(check.label, check.prediction, check.measurement, check.rule)


def _count(checks: Sequence[Check] | int) -> str:
    n = checks if isinstance(checks, int) else len(checks)
    return "one check" if n == 1 else f"{n} checks"


def _g(x: float) -> str:
    return f"{x:.3g}"


def default_findings(evidence: Evidence[Any]) -> str:
    """Findings in words from ``evidence`` alone: the verdict and why, the decisive
    check's numbers, and how each kind of control came out."""
    d = evidence.decisive
    m = d.measurement
    parts = [
        f"This run's verdict is {evidence.verdict.value}: {evidence.reason}.",
        f"Decisive check, {d.label}: predicted {d.rule.relation.value} {_g(d.prediction)}, "
        f"measured {_g(m.estimate)} [{_g(m.low)}, {_g(m.high)}].",
    ]
    by_kind: dict[str, list[ControlCheck]] = {}
    for c in evidence.controls:
        by_kind.setdefault(c.kind.value, []).append(c)
    if by_kind:
        said = []
        for kind, controls in by_kind.items():
            ok = sum(c.passed for c in controls)
            word = "detected" if kind == ControlKind.POSITIVE.value else "rejected"
            said.append(f"{ok} of {len(controls)} {kind} controls {word}")
        parts.append("Controls: " + "; ".join(said) + ".")
    return " ".join(parts)
