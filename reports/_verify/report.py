"""Writing a verify run: results.json, report.md and the figures.

results.json (schema ``heavytail.verify/1``) holds, per claim, its id, verdict, the
decisive check's prediction, measurement and interval, every check and negative control,
the settings used and the seconds taken. Unbounded interval ends are written as
``null``. Nothing in it depends on the number of workers or on the clock, except the
``seconds`` fields.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .._claims.registry import all_claims
from .._kit.claim import Claim, Evidence
from .._kit.verdict import Check, ControlCheck, Rule, Verdict
from .runner import ClaimResult, VerifyRun

__all__ = [
    "SCHEMA",
    "ReportFiles",
    "claims_table",
    "results_record",
    "summary_table",
    "write_report",
]

SCHEMA = "heavytail.verify/1"

_SYMBOL = {
    Verdict.AGREE: "agree",
    Verdict.DISAGREE: "DISAGREE",
    Verdict.INCONCLUSIVE: "inconclusive",
}


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: arrays and tuples become lists, inf becomes null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return _num(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _check_record(check: Check) -> dict[str, Any]:
    m, rule = check.measurement, check.rule
    return {
        "label": check.label,
        "relation": rule.relation.value,
        "prediction": check.prediction,
        "measurement": m.estimate,
        "interval": [_num(m.low), _num(m.high)],
        "level": m.level,
        "tolerance": rule.tolerance,
        "max_width": _num(rule.max_width),
        "verdict": check.verdict.value,
        **(
            {"kind": check.kind.value, "outcome": check.outcome, "counts": check.counts}
            if isinstance(check, ControlCheck)
            else {"trend": check.trend, "sanity": check.sanity}
        ),
    }


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("heavytail", "numpy", "scipy", "statsmodels", "numba", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[dist] = "not installed"
    return out


def results_record(
    run: VerifyRun, figures: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    """The content of results.json for ``run`` (figure paths relative to the folder)."""
    claims = []
    for result in run.results:
        ev = result.evidence
        claim = run.claim(result.claim_id)
        decisive = ev.decisive
        claims.append(
            {
                "id": result.claim_id,
                "title": claim.title,
                "statement": claim.statement,
                "formula": claim.formula,
                "source": claim.source,
                "verdict": ev.verdict.value,
                "reason": ev.reason,
                "findings": claim.findings_of(ev),
                "decisive_check": decisive.label,
                "relation": decisive.rule.relation.value,
                "prediction": decisive.prediction,
                "measurement": decisive.measurement.estimate,
                "interval": [_num(decisive.measurement.low), _num(decisive.measurement.high)],
                "level": decisive.measurement.level,
                "checks": [_check_record(c) for c in ev.checks],
                "controls": [_check_record(c) for c in ev.controls],
                "controls_rejected": ev.controls_rejected,
                "power_shown": ev.power_shown,
                "settings": jsonable(ev.settings),
                "seconds": result.seconds,
                "figures": list((figures or {}).get(result.claim_id, [])),
            }
        )
    return {
        "schema": SCHEMA,
        "size": run.size,
        "seed": run.seed,
        "jobs": run.jobs,
        "seconds": run.seconds,
        "exit_status": run.exit_status,
        "versions": _versions(),
        "claims": claims,
    }


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "∞" if x > 0 else "-∞"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.3g}"
    return f"{x:.4g}"


def _interval(check: Check) -> str:
    m = check.measurement
    if m.level == 1.0 and m.low == m.high:
        return f"{_fmt(m.estimate)} (exact)"
    return f"{_fmt(m.estimate)} [{_fmt(m.low)}, {_fmt(m.high)}]"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def summary_table(run: VerifyRun) -> str:
    """A plain-text table of the run, one line per claim (for the terminal)."""
    rows = [("claim", "verdict", "decisive check", "predicted", "measured [interval]", "time")]
    for r in run.results:
        d = r.evidence.decisive
        rows.append(
            (
                r.claim_id,
                _SYMBOL[r.verdict],
                d.label,
                f"{d.rule.relation.value} {_fmt(d.prediction)}",
                _interval(d),
                _duration(r.seconds),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = {v: sum(r.verdict is v for r in run.results) for v in Verdict}
    lines.append("")
    lines.append(
        f"{counts[Verdict.AGREE]} agree, {counts[Verdict.DISAGREE]} disagree, "
        f"{counts[Verdict.INCONCLUSIVE]} inconclusive; size {run.size}, seed {run.seed}, "
        f"{_duration(run.seconds)}"
    )
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# The end of a sentence: a full stop and a space before a capital, not after an
# abbreviation the statements use ("et al.", "e.g.", "i.e.", "cf.", "Thm.", "Sec.").
_SENTENCE_END = re.compile(
    r"(?<!\bal)(?<!\be\.g)(?<!\bi\.e)(?<!\bcf)(?<!\bThm)(?<!\bSec)\.\s+(?=[A-Z])"
)


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it if it has one sentence)."""
    flat = " ".join(text.split())
    match = _SENTENCE_END.search(flat)
    return flat if match is None else flat[: match.start() + 1]


def claims_table() -> str:
    """The README's table of the claims: id, the statement's first sentence and the
    source, in registry order; the whole statement is in ``heavytail claims`` and in the
    report.

    A Markdown table (``|`` inside a cell is escaped); the README's section "The claims"
    holds it, and a test checks that the two match.
    """
    lines = ["| claim | statement (first sentence) | source |", "|---|---|---|"]
    for claim in all_claims():
        summary = first_sentence(claim.statement)
        lines.append(f"| `{claim.id}` | {_cell(summary)} | {_cell(claim.source)} |")
    return "\n".join(lines)


def _md_checks(checks: Sequence[Check], *, control: bool) -> list[str]:
    head = "| control | kind |" if control else "| check | role |"
    lines = [
        head + " predicted | measured [interval] | tolerance | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for c in checks:
        verdict = c.verdict.value
        if isinstance(c, ControlCheck):
            verdict += f" ({c.outcome})"
            role = c.kind.value
        else:
            role = "trend" if c.trend else "sanity (cannot realistically fail)" if c.sanity else ""
        tol = _fmt(c.rule.tolerance) if c.rule.tolerance > 0 else "0"
        lines.append(
            f"| {c.label} | {role} | {c.rule.relation.value} {_fmt(c.prediction)} "
            f"| {_interval(c)} | {tol} | {verdict} |"
        )
    return lines


def _rules_used(checks: tuple[Check, ...]) -> list[tuple[Rule, list[str]]]:
    """The distinct rules of ``checks``, each with the labels of the checks under it."""
    groups: list[tuple[Rule, list[str]]] = []
    for check in checks:
        for rule, labels in groups:
            if rule == check.rule:
                labels.append(check.label)
                break
        else:
            groups.append((check.rule, [check.label]))
    return groups


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _which(labels: list[str]) -> str:
    if len(labels) <= 3:
        return "; ".join(labels)
    return f"{labels[0]}, ... ({len(labels)} checks)"


def _md_claim(run: VerifyRun, result: ClaimResult, figures: list[str]) -> list[str]:
    claim = run.claim(result.claim_id)
    ev: Evidence = result.evidence
    n_dis = sum(c.verdict is Verdict.DISAGREE for c in ev.checks)
    n_inc = sum(c.verdict is Verdict.INCONCLUSIVE for c in ev.checks)
    counting = ev.counting_controls
    n_ok = sum(c.passed for c in counting)
    level = ev.checks[0].measurement.level
    lines = [
        f"## `{claim.id}`: {claim.title}",
        "",
        f"**Statement.** {claim.statement}",
        "",
        f"**Formula.** {claim.formula}",
        "",
        f"**Source.** {claim.source}",
        "",
        f"**Verdict: {ev.verdict.value}.** {len(ev.checks)} checks: "
        f"{len(ev.checks) - n_dis - n_inc} agree, {n_dis} disagree, {n_inc} inconclusive; "
        f"{n_ok} of {len(counting)} controls came out as they must "
        f"({len(ev.controls) - len(counting)} mirror controls shown, not counted). "
        f"Why: {ev.reason}. "
        f"Intervals are simultaneous over the claim's checks (each at level {level:.4g}, "
        "Bonferroni), so together they cover with probability 95%.",
        "",
    ]
    lines += [f"**Findings (generated from this run).** {claim.findings_of(ev)}", ""]
    lines += _md_checks(ev.checks, control=False)
    lines += ["", "Rules, fixed by the claim and its size before any data are drawn:", ""]
    for rule, labels in _rules_used(ev.checks):
        reason = f" Tolerance: {_sentence(rule.tolerance_reason)}" if rule.tolerance > 0 else ""
        width = (
            f" Width limit: {_sentence(rule.width_reason)}" if math.isfinite(rule.max_width) else ""
        )
        lines.append(f"- {_which(labels)}: {rule.describe()}.{reason}{width}")
    lines += [""]
    if ev.controls:
        lines += _md_checks(ev.controls, control=True)
        lines += [""]
    for path in figures:
        if path.endswith(".png"):
            lines += [f"![{claim.id}]({path})", ""]
    pdfs = [p for p in figures if p.endswith(".pdf")]
    if pdfs:
        lines += ["Vector version: " + ", ".join(f"[{Path(p).name}]({p})" for p in pdfs), ""]
    settings = ", ".join(f"{k} = {jsonable(v)}" for k, v in ev.settings.items())
    lines += [f"Settings: {settings}. Took {_duration(result.seconds)}.", ""]
    return lines


def _markdown(run: VerifyRun, figures: Mapping[str, list[str]]) -> str:
    versions = _versions()
    counts = {v: sum(r.verdict is v for r in run.results) for v in Verdict}
    lines = [
        "# heavytail verify",
        "",
        f"Size `{run.size}`, seed {run.seed}, {len(run.results)} claims on {run.jobs} "
        f"worker(s); the run took {_duration(run.seconds)} (wall clock). "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        "",
        f"Reproduce with `heavytail verify --size {run.size} --seed {run.seed}"
        + "".join(f" --claim {r.claim_id}" for r in run.results)
        + "`. The numbers depend on the seed and the size only, not on the number of workers.",
        "",
        f"**{counts[Verdict.AGREE]} agree, {counts[Verdict.DISAGREE]} disagree, "
        f"{counts[Verdict.INCONCLUSIVE]} inconclusive.** A claim *agrees* when every "
        "prediction lies in its measured interval widened by the stated tolerance, the "
        "intervals are narrow enough to be informative, and every control that counts "
        "came out as it must: a null control (no effect by construction) does not pass, "
        "a positive control (a known effect through the same pipeline) is detected, and "
        "an alternative (a nearby wrong prediction) is rejected; a mirror (the opposite "
        "rule on the same interval) is shown but not counted. It *disagrees* when a "
        "measured interval excludes a prediction beyond the tolerance, and for a trend "
        "check only where a positive control showed the pipeline could detect the effect.",
        "",
        "| claim | verdict | decisive check | predicted | measured [interval] "
        "| controls rejected | time |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in run.results:
        d = r.evidence.decisive
        counting = r.evidence.counting_controls
        n_rej = sum(c.passed for c in counting)
        lines.append(
            f"| [`{r.claim_id}`](#{_anchor(run, r.claim_id)}) | **{r.verdict.value}** | {d.label} "
            f"| {d.rule.relation.value} {_fmt(d.prediction)} | {_interval(d)} "
            f"| {n_rej}/{len(counting)} | {_duration(r.seconds)} |"
        )
    lines.append("")
    for r in run.results:
        lines += _md_claim(run, r, list(figures.get(r.claim_id, [])))
    return "\n".join(lines)


def _anchor(run: VerifyRun, claim_id: str) -> str:
    title = run.claim(claim_id).title
    text = f"{claim_id}: {title}".lower()
    keep = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return keep.replace(" ", "-")


@dataclass(frozen=True)
class ReportFiles:
    """Paths written by :func:`write_report`."""

    report: Path
    results: Path
    figures: tuple[Path, ...]


def write_report(
    run: VerifyRun,
    out: str | Path,
    *,
    registry: Mapping[str, Claim[Any, Any]] | None = None,
) -> ReportFiles:
    """Write report.md, results.json and figures/<claim>.png and .pdf under ``out``.

    Parameters
    ----------
    run : VerifyRun
        What :func:`heavytail.reports.verify` returned.
    out : str or Path
        The folder (made if missing).
    registry : mapping of str to Claim, or None
        The claims of ``run`` by id, for their statements and figures; None: the
        registry ``run`` was given (``verify(..., registry=)``), else the package's.
    """
    from .._kit.style import style

    if registry is not None:
        run = dataclasses.replace(run, registry=registry)
    folder = Path(out)
    fig_dir = folder / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, list[str]] = {}
    written: list[Path] = []
    for result in run.results:
        claim = run.claim(result.claim_id)
        with style():
            note = f"heavytail verify --size {run.size} --seed {run.seed}"
            fig = claim.figure(result.evidence, note=note)
            names = []
            for ext in ("png", "pdf"):
                path = fig_dir / f"{result.claim_id}.{ext}"
                fig.savefig(path)
                written.append(path)
                names.append(f"figures/{path.name}")
        figures[result.claim_id] = names
    results_path = folder / "results.json"
    record = results_record(run, figures)
    results_path.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    report_path = folder / "report.md"
    report_path.write_text(_markdown(run, figures) + "\n", encoding="utf-8")
    return ReportFiles(report_path, results_path, tuple(written))
