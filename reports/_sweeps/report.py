"""Tables and standard figures from a results store (``heavytail report``).

From whatever the store holds, per experiment:

- ``<experiment>_runs.csv``: one row per done run, its settings then its metrics;
- ``<experiment>_summary.csv``: per combination of settings other than ``seed``, the
  count, mean and standard deviation of every numeric metric;
- ``failed.csv``: every failed run, its settings and the last line of its traceback;

and these figures (PNG), each only when the experiment's runs have its columns:

- tail index against eta / b (``tail_index``, ``eta``, ``batch_size``), with
  ``predicted_tail_index`` dashed when present;
- prunable fraction against tail index (``prunable_fraction``, ``tail_index``);
- generalization gap against tail index (``gap``, ``tail_index``);
- test error against width (``width`` and ``test_error``, or else ``test_loss``).

The scatter figures give Kendall's tau of the runs in their title (a description, not a
test). A figure that cannot be drawn is listed with the columns it lacked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .store import ResultStore

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["SweepReportFiles", "sweep_tables", "write_sweep_report"]


@dataclass(frozen=True)
class SweepReportFiles:
    """What :func:`write_sweep_report` wrote.

    Attributes
    ----------
    tables : tuple of Path
        The CSV files.
    figures : tuple of Path
        The PNG files.
    skipped : tuple of str
        One line per figure not drawn, naming the experiment and the missing columns.
    stray : tuple of Path
        Files in the store's arrays folder that no run names
        (:meth:`ResultStore.stray_files`); none were read.
    """

    tables: tuple[Path, ...]
    figures: tuple[Path, ...]
    skipped: tuple[str, ...]
    stray: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ExperimentTable:
    """The done runs of one experiment: the table and which columns are settings."""

    experiment: str
    runs: pd.DataFrame
    settings: tuple[str, ...]
    metrics: tuple[str, ...]

    @property
    def varying(self) -> tuple[str, ...]:
        """Settings that take more than one value in these runs."""
        return tuple(s for s in self.settings if self.runs[s].nunique(dropna=False) > 1)


def sweep_tables(store: ResultStore) -> tuple[list[ExperimentTable], pd.DataFrame]:
    """The done runs per experiment, and the failed runs (one table)."""
    import pandas as pd

    done: dict[str, list[dict[str, Any]]] = {}
    settings: dict[str, dict[str, None]] = {}
    metrics: dict[str, dict[str, None]] = {}
    failed: list[dict[str, Any]] = []
    for run in store.rows():
        base = {"config_hash": run.config_hash, "experiment": run.experiment}
        if run.status == "failed":
            last = (run.error or "").strip().splitlines()
            failed.append({**base, **run.config, "error": last[-1] if last else ""})
            continue
        settings.setdefault(run.experiment, {}).update(dict.fromkeys(run.config))
        metrics.setdefault(run.experiment, {}).update(dict.fromkeys(run.metrics))
        done.setdefault(run.experiment, []).append(
            {**base, **run.config, **run.metrics, "seconds": run.seconds, "version": run.version}
        )
    tables = [
        ExperimentTable(
            name,
            pd.DataFrame.from_records(rows),
            tuple(settings[name]),
            tuple(metrics[name]),
        )
        for name, rows in sorted(done.items())
    ]
    return tables, pd.DataFrame.from_records(failed)


def _summary(table: ExperimentTable) -> pd.DataFrame:
    import pandas as pd

    numeric = [m for m in table.metrics if pd.api.types.is_numeric_dtype(table.runs[m])]
    keys = [s for s in table.settings if s != "seed"]
    grouped = table.runs.groupby(keys, dropna=False, sort=True)[numeric]
    out = grouped.agg(["count", "mean", "std"])
    out.columns = [f"{metric}_{stat}" for metric, stat in out.columns]
    return out.reset_index()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name)


def _series(table: ExperimentTable, exclude: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """The runs split by every varying setting not in ``exclude`` (nor the seed)."""
    keys = [s for s in table.varying if s not in exclude and s != "seed"]
    if not keys:
        return [("", table.runs)]
    groups = []
    for values, frame in table.runs.groupby(keys, sort=True):
        vals = values if isinstance(values, tuple) else (values,)
        label = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in zip(keys, vals, strict=True)
        )
        groups.append((label, frame))
    return groups


def _draw_mean_sd(ax: Axes, frame: pd.DataFrame, x: str, y: str, series: int, label: str) -> None:
    """Error bars of ``y``'s mean ± sd over the runs of ``frame`` at each value of ``x``
    (the sd of one run is drawn as 0), in the colour of series number ``series``."""
    from .._kit.style import MEASURED, PALETTE

    stats = frame.groupby(x, sort=True)[y].agg(["mean", "std", "count"]).reset_index()
    stats = stats.fillna({"std": 0.0})
    ax.errorbar(
        stats[x],
        stats["mean"],
        yerr=stats["std"],
        color=PALETTE[series % len(PALETTE)],
        label=label or "measured",
        **MEASURED,
    )


def _draw_tail_vs_eta(table: ExperimentTable, ax: Axes) -> str:
    from .._kit.style import PREDICTED

    runs = table.runs.assign(eta_over_b=table.runs["eta"] / table.runs["batch_size"])
    view = ExperimentTable(table.experiment, runs, table.settings, table.metrics)
    for i, (label, frame) in enumerate(_series(view, ("eta",))):
        _draw_mean_sd(ax, frame, "eta_over_b", "tail_index", i, label)
        if "predicted_tail_index" in frame:
            pred = frame.groupby("eta_over_b", sort=True)["predicted_tail_index"].mean().dropna()
            ax.plot(pred.index, pred.to_numpy(), **PREDICTED)
    ax.set_xscale("log")
    ax.set_xlabel("eta / b")
    ax.set_ylabel("tail index (Hill), mean ± sd over seeds")
    ax.legend()
    dashed = " (dashed: predicted)" if "predicted_tail_index" in runs else ""
    return f"tail index against eta / b{dashed}"


def _scatter(y: str, ylabel: str) -> Callable[[ExperimentTable, Axes], str]:
    def draw(table: ExperimentTable, ax: Axes) -> str:
        from scipy.stats import kendalltau

        from .._kit.style import PALETTE

        for i, (label, frame) in enumerate(_series(table, ("eta", "batch_size"))):
            ax.scatter(
                frame["tail_index"],
                frame[y],
                s=12,
                color=PALETTE[i % len(PALETTE)],
                label=label or None,
            )
        tau = kendalltau(table.runs["tail_index"], table.runs[y]).statistic
        ax.set_xlabel("tail index (Hill)")
        ax.set_ylabel(ylabel)
        if len(_series(table, ("eta", "batch_size"))) > 1:
            ax.legend()
        tau_text = "undefined" if not math.isfinite(tau) else f"{tau:+.2f}"
        return f"{ylabel} against tail index, one point per run (Kendall tau {tau_text})"

    return draw


def _draw_error_vs_width(table: ExperimentTable, ax: Axes) -> str:
    y = "test_error" if "test_error" in table.runs else "test_loss"
    for i, (label, frame) in enumerate(_series(table, ("width",))):
        _draw_mean_sd(ax, frame, "width", y, i, label)
    ax.set_xscale("log")
    ax.set_xlabel("width n")
    ax.set_ylabel(f"{y.replace('_', ' ')}, mean ± sd over seeds")
    ax.legend()
    return f"{y.replace('_', ' ')} against width"


#: (file stem, required columns (any one of a tuple), draw function)
_FIGURES: tuple[
    tuple[str, tuple[str | tuple[str, ...], ...], Callable[[ExperimentTable, Axes], str]], ...
] = (
    ("tail_index_vs_eta_over_b", ("tail_index", "eta", "batch_size"), _draw_tail_vs_eta),
    (
        "prunable_fraction_vs_tail_index",
        ("prunable_fraction", "tail_index"),
        _scatter("prunable_fraction", "prunable fraction"),
    ),
    ("gap_vs_tail_index", ("gap", "tail_index"), _scatter("gap", "generalization gap")),
    ("error_vs_width", ("width", ("test_error", "test_loss")), _draw_error_vs_width),
)


def _missing(table: ExperimentTable, needs: Sequence[str | tuple[str, ...]]) -> list[str]:
    cols = set(table.runs.columns)
    missing = []
    for need in needs:
        options = (need,) if isinstance(need, str) else need
        if not any(c in cols and table.runs[c].notna().any() for c in options):
            missing.append(" or ".join(options))
    return missing


def _figure(table: ExperimentTable, draw: Callable[[ExperimentTable, Axes], str]) -> Figure:
    from .._kit.style import footnote, panels, style

    with style():
        fig, (ax,) = panels(None, 1, width=4.4, height=3.4)
        title = draw(table, ax)
        ax.set_title(f"{table.experiment}: {title}", fontsize=8)
        seeds = table.runs["seed"].nunique() if "seed" in table.runs else 1
        footnote(
            fig,
            f"{len(table.runs)} runs, {seeds} seed(s); settings varied: "
            f"{', '.join(table.varying) or 'none'}",
        )
    return fig


def write_sweep_report(store: str | Path, out: str | Path) -> SweepReportFiles:
    """Write the CSV tables and the standard figures of ``store`` into ``out``.

    Parameters
    ----------
    store : str or Path
        An existing results store (opened read-only).
    out : str or Path
        The output folder (created if missing, once the store has been read whole);
        figures go to ``out/figures``.

    Raises
    ------
    StoreError
        When the store cannot be read or a row's JSON is damaged (naming the run).

    Returns
    -------
    SweepReportFiles
    """
    folder = Path(out)
    with ResultStore(store, readonly=True) as db:  # read whole before anything is written
        tables, failed = sweep_tables(db)
        stray = tuple(db.stray_files())
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    figures: list[Path] = []
    skipped: list[str] = []
    for table in tables:
        stem = _slug(table.experiment)
        runs_csv = folder / f"{stem}_runs.csv"
        table.runs.to_csv(runs_csv, index=False)
        summary_csv = folder / f"{stem}_summary.csv"
        _summary(table).to_csv(summary_csv, index=False)
        written += [runs_csv, summary_csv]
        for name, needs, draw in _FIGURES:
            missing = _missing(table, needs)
            if missing:
                skipped.append(f"{table.experiment}: {name} (no column {', '.join(missing)})")
                continue
            path = folder / "figures" / f"{stem}_{name}.png"
            _figure(table, draw).savefig(path)
            figures.append(path)
    if len(failed):
        failed_csv = folder / "failed.csv"
        failed.to_csv(failed_csv, index=False)
        written.append(failed_csv)
    return SweepReportFiles(tuple(written), tuple(figures), tuple(skipped), stray)
