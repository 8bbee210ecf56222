"""The tables of the estimators' calibration (docs/calibration.py), as text or Markdown.

One function per table: the summaries (:func:`format_tables`), each method without and
with ``center="median"`` (:func:`format_centring`), one method before and after
(:func:`format_comparison`), the targets (:func:`format_targets`) and the warnings' rates
(:func:`format_warning_rates`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .calibration_run import CENTER_SUFFIX, Record, sort_key, split_method
from .calibration_summary import Summary, TargetCheck, WarningRate, fmt, summarise

__all__ = [
    "format_centring",
    "format_comparison",
    "format_tables",
    "format_targets",
    "format_warning_rates",
]


def format_warning_rates(rates: Sequence[WarningRate], markdown: bool = False) -> str:
    """The rates of each kind of warning (:func:`.calibration_summary.warning_rates`)."""
    cols = ("method", "warning", "fires on right answers", "fires on wrong answers (power)")
    rows = [
        (
            w.method,
            w.kind,
            f"{w.false_alarm:.3f} of {w.right}",
            "-" if w.power is None else f"{w.power:.3f} of {w.wrong}",
        )
        for w in rates
    ]
    return "\n".join(_table(cols, rows, markdown))


def format_tables(summaries: Sequence[Summary], markdown: bool = False) -> str:
    """The calibration table: one block per n, one row per (case, method)."""
    cols = (
        "case",
        "method",
        "runs",
        "fail",
        "median",
        "bias",
        "RMSE",
        "cover",
        "warned",
        "silent-wrong",
        "false-alarm",
        "hi=inf",
        "seconds",
    )
    lines: list[str] = []
    for n in sorted({s.n for s in summaries}):
        lines.append(f"\nn = {n:g}\n" if not markdown else f"\n#### n = {n:.0e}\n")
        rows = [
            (
                s.case,
                s.method,
                str(s.runs),
                str(s.failed),
                fmt(s.median_alpha),
                fmt(s.bias, "+.3f"),
                fmt(s.rmse),
                fmt(s.coverage, ".2f"),
                fmt(s.warned, ".2f"),
                fmt(s.silent_wrong, ".2f"),
                fmt(s.false_alarm, ".2f"),
                fmt(s.unbounded, ".2f"),
                fmt(s.seconds, ".3f"),
            )
            for s in summaries
            if s.n == n
        ]
        lines.extend(_table(cols, rows, markdown))
    return "\n".join(lines)


def format_centring(summaries: Sequence[Summary], markdown: bool = False) -> str:
    """Each method without and with ``center="median"`` side by side (pairs only)."""
    by = {(s.case, s.n, s.method): s for s in summaries}
    cols = ("case", "n", "method", "bias", "RMSE", "cover", "warned", "silent-wrong")
    rows = []
    for s in summaries:
        base, center = split_method(s.method)
        other = by.get((s.case, s.n, base + CENTER_SUFFIX))
        if center is not None or other is None:
            continue

        def pair(a: float | None, b: float | None, spec: str) -> str:
            return f"{fmt(a, spec)} -> {fmt(b, spec)}"

        rows.append(
            (
                s.case,
                f"{s.n:g}",
                base,
                pair(s.bias, other.bias, "+.3f"),
                pair(s.rmse, other.rmse, ".3f"),
                pair(s.coverage, other.coverage, ".2f"),
                pair(s.warned, other.warned, ".2f"),
                pair(s.silent_wrong, other.silent_wrong, ".2f"),
            )
        )
    return "\n".join(_table(cols, rows, markdown))


def format_comparison(
    before: Sequence[Record], after: Sequence[Record], method: str, markdown: bool = False
) -> str:
    """``method`` on the same (case, n) before and after: coverage, silent wrong answers,
    warnings on right answers, RMSE and unbounded intervals (pairs present in both)."""
    b = {(s.case, s.n): s for s in summarise(r for r in before if r.method == method)}
    a = {(s.case, s.n): s for s in summarise(r for r in after if r.method == method)}
    cols = ("case", "n", "cover", "silent-wrong", "false-alarm", "RMSE", "hi=inf")
    rows = []
    for key in sorted(set(a) & set(b), key=lambda k: sort_key((k[0], k[1], 0, method))):
        x, y = b[key], a[key]
        rows.append(
            (
                key[0],
                f"{key[1]:g}",
                f"{fmt(x.coverage, '.2f')} -> {fmt(y.coverage, '.2f')}",
                f"{fmt(x.silent_wrong, '.2f')} -> {fmt(y.silent_wrong, '.2f')}",
                f"{fmt(x.false_alarm, '.2f')} -> {fmt(y.false_alarm, '.2f')}",
                f"{fmt(x.rmse)} -> {fmt(y.rmse)}",
                f"{fmt(x.unbounded, '.2f')} -> {fmt(y.unbounded, '.2f')}",
            )
        )
    return "\n".join(_table(cols, rows, markdown))


def format_targets(checks: Sequence[TargetCheck], markdown: bool = False) -> str:
    """The targets' checks, with their verdicts and notes."""
    cols = ("case", "n", "target", "value", "rule", "verdict", "paired RMSE difference [95%]")
    rows = [
        (
            c.case,
            f"{c.n:g}",
            c.target,
            fmt(c.value, ".4f"),
            c.rule,
            "pass" if c.passed else "FAIL",
            c.note,
        )
        for c in checks
    ]
    return "\n".join(_table(cols, rows, markdown))


def _table(cols: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return out
    widths = [
        max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)
    ]
    out = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    out += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return out
