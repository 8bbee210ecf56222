"""heavytail.reports: claims, the verify runner, figures and the command line.

A claim (:class:`Claim`) is one checkable statement of the theory: its run produces
:class:`Evidence`, checks of predictions against measured intervals under fixed
:class:`Rule` objects, and negative controls that the same rules must reject.
A claim's ``measure`` has three stages that :func:`staged_measure` composes: running
the grid, judging it in a :class:`CheckBook` (each check with its :class:`Control` of a
:class:`ControlKind`), and the figure's data (:class:`FigureData`, :class:`Intervals`);
its ``draw`` returns the figure's :class:`Caption` in a :class:`Layout`; the notes of
``heavytail.reports._kit.book`` show a whole claim. :func:`verify` runs registered
claims (:func:`claim_ids`, :func:`get_claim`) and :func:`write_report` writes
report.md, results.json and the figures; :func:`claims_table` is the README's table of
the claims. Sweeps (docs/sweeps.md): :func:`run_sweep` runs a checked grid
(:func:`load_sweep_config`) of a registered :class:`Experiment` into a
:class:`ResultStore`, resumably, on a local pool or Dask (:func:`open_executor`);
:func:`write_sweep_report` draws its tables and figures. The command line ``heavytail``
is :func:`main`. Importing this package does not import matplotlib or statsmodels.
"""

from ._claims.registry import all_claims as all_claims
from ._claims.registry import claim_ids as claim_ids
from ._claims.registry import get_claim as get_claim
from ._cli.main import main as main
from ._kit.book import CheckBook as CheckBook
from ._kit.book import Control as Control
from ._kit.book import FigureData as FigureData
from ._kit.book import Intervals as Intervals
from ._kit.book import staged_measure as staged_measure
from ._kit.claim import Caption as Caption
from ._kit.claim import Claim as Claim
from ._kit.claim import Evidence as Evidence
from ._kit.claim import Layout as Layout
from ._kit.stats import RateFit as RateFit
from ._kit.stats import family_level as family_level
from ._kit.stats import fit_rate as fit_rate
from ._kit.stats import kendall_trend as kendall_trend
from ._kit.stats import mean_interval as mean_interval
from ._kit.verdict import Check as Check
from ._kit.verdict import ControlKind as ControlKind
from ._kit.verdict import Measurement as Measurement
from ._kit.verdict import Relation as Relation
from ._kit.verdict import Rule as Rule
from ._kit.verdict import Verdict as Verdict
from ._kit.verdict import combine_verdicts as combine_verdicts
from ._parallel.executors import open_executor as open_executor
from ._sweeps.config import SweepConfig as SweepConfig
from ._sweeps.config import SweepConfigError as SweepConfigError
from ._sweeps.config import load_sweep_config as load_sweep_config
from ._sweeps.config import sweep_config as sweep_config
from ._sweeps.driver import SweepSummary as SweepSummary
from ._sweeps.driver import run_sweep as run_sweep
from ._sweeps.experiment import Experiment as Experiment
from ._sweeps.experiment import RunOutcome as RunOutcome
from ._sweeps.experiment import Setting as Setting
from ._sweeps.experiment import experiment_names as experiment_names
from ._sweeps.experiment import get_experiment as get_experiment
from ._sweeps.experiment import register_experiment as register_experiment
from ._sweeps.report import SweepReportFiles as SweepReportFiles
from ._sweeps.report import write_sweep_report as write_sweep_report
from ._sweeps.store import ResultStore as ResultStore
from ._sweeps.store import StoreError as StoreError
from ._sweeps.store import config_hash as config_hash
from ._verify.report import ReportFiles as ReportFiles
from ._verify.report import claims_table as claims_table
from ._verify.report import results_record as results_record
from ._verify.report import summary_table as summary_table
from ._verify.report import write_report as write_report
from ._verify.runner import ClaimResult as ClaimResult
from ._verify.runner import VerifyRun as VerifyRun
from ._verify.runner import claim_seed_sequence as claim_seed_sequence
from ._verify.runner import verify as verify

__all__ = [
    "Caption",
    "Check",
    "CheckBook",
    "Claim",
    "ClaimResult",
    "Control",
    "ControlKind",
    "Evidence",
    "Experiment",
    "FigureData",
    "Intervals",
    "Layout",
    "Measurement",
    "RateFit",
    "Relation",
    "ReportFiles",
    "ResultStore",
    "Rule",
    "RunOutcome",
    "Setting",
    "StoreError",
    "SweepConfig",
    "SweepConfigError",
    "SweepReportFiles",
    "SweepSummary",
    "Verdict",
    "VerifyRun",
    "all_claims",
    "claim_ids",
    "claim_seed_sequence",
    "claims_table",
    "combine_verdicts",
    "config_hash",
    "experiment_names",
    "family_level",
    "fit_rate",
    "get_claim",
    "get_experiment",
    "kendall_trend",
    "load_sweep_config",
    "main",
    "mean_interval",
    "open_executor",
    "register_experiment",
    "results_record",
    "run_sweep",
    "staged_measure",
    "summary_table",
    "sweep_config",
    "verify",
    "write_report",
    "write_sweep_report",
]
