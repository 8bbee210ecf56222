"""report.md, results.json and the figures written for a run."""

from __future__ import annotations

import json
import re

import pytest

from heavytail.reports import (
    ReportFiles,
    VerifyRun,
    results_record,
    summary_table,
    verify,
    write_report,
)

from .._toy import toy_claim

TOYS = {
    "compress.limit": toy_claim("compress.limit"),
    "compress.rate": toy_claim("compress.rate", truth=5.0),  # disagrees
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[VerifyRun, ReportFiles]:
    run = verify(["compress.limit", "compress.rate"], size="smoke", seed=7, registry=TOYS)
    return run, write_report(run, tmp_path_factory.mktemp("report"))


def test_results_json_has_every_field(written: tuple[VerifyRun, ReportFiles]) -> None:
    run, files = written
    tmp_path = files.report.parent
    record = json.loads(files.results.read_text(encoding="utf-8"))
    assert record["schema"] == "heavytail.verify/1"
    assert (record["size"], record["seed"], record["exit_status"]) == ("smoke", 7, 1)
    assert [c["id"] for c in record["claims"]] == ["compress.limit", "compress.rate"]
    for claim, result in zip(record["claims"], run.results, strict=True):
        for key in (
            "id",
            "verdict",
            "prediction",
            "measurement",
            "interval",
            "settings",
            "seconds",
        ):
            assert key in claim
        check = result.evidence.checks[0]
        assert claim["prediction"] == check.prediction
        assert claim["measurement"] == check.measurement.estimate
        assert claim["interval"] == [check.measurement.low, check.measurement.high]
        assert claim["settings"] == {"n": 100, "law": "N(truth, 1)", "interval_level": 0.95}
        assert claim["controls"][0]["verdict"] == "disagree"
        assert claim["figures"] == [f"figures/{claim['id']}.png", f"figures/{claim['id']}.pdf"]
    assert [c["verdict"] for c in record["claims"]] == ["agree", "disagree"]
    for name in ("compress.limit.png", "compress.limit.pdf", "compress.rate.png"):
        assert (tmp_path / "figures" / name).stat().st_size > 1000


def test_report_md_reads_alone(written: tuple[VerifyRun, ReportFiles]) -> None:
    run, files = written
    text = files.report.read_text(encoding="utf-8")
    claim = TOYS["compress.rate"]
    for needed in (
        "# heavytail verify",
        "1 agree, 1 disagree, 0 inconclusive",
        claim.statement,
        claim.formula,
        claim.source,
        "**Verdict: disagree.**",
        "![compress.rate](figures/compress.rate.png)",
        "| mean + 3 | alternative | = 3 |",
        "heavytail verify --size smoke --seed 7 --claim compress.limit --claim compress.rate",
        "Width limit: an interval of width 1 says little",
    ):
        assert needed in text, needed
    table = summary_table(run)
    assert re.search(r"^compress\.rate +DISAGREE ", table, re.MULTILINE)
    assert "size smoke, seed 7" in table


def test_same_seed_same_record() -> None:
    def numbers(seed: int) -> list[object]:
        run = verify(["compress.limit"], size="smoke", seed=seed, registry=TOYS)
        claims = results_record(run)["claims"]
        return [{k: v for k, v in c.items() if k != "seconds"} for c in claims]

    assert numbers(1) == numbers(1)
    assert numbers(1) != numbers(2)
