"""``heavytail tail-index FILE``: estimate the tail index of the numbers in a file.

The file is opened once, read-only, and never written: its bytes and modification time
are the same afterwards, whatever happens (a plot path that names the input file, by a
symbolic or hard link too, is refused before anything is written).

An array with more than one column (or more than two axes) is refused unless the user
says what it is: ``--column J`` for one column of a table, ``--pool`` for all its entries
as one sample. Pooling silently would be wrong for the usual table, whose columns are
different quantities (a heavy-tailed column pooled with a light one gives the tail of
neither), while a weight matrix is pooled on purpose; only the user knows which the file
is. With ``--pool`` the output says how many entries of what shape were pooled. A single
column or row (shape (n, 1) or (1, n)) is one sample and needs neither.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import numpy.typing as npt

from heavytail._lib._validation import folder_problem

from .command import Command
from .common import EXIT_OK, UsageError, add_seed, non_negative_int

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from heavytail.theory import TailEstimate

__all__ = [
    "COMMAND",
    "SUFFIXES",
    "load_sample",
    "select_sample",
    "tail_index",
    "tail_index_figure",
]

SUFFIXES = (".npy", ".npz", ".csv", ".txt")


# What a damaged .npz can raise while it is opened or one of its arrays is read: a zip
# that is not one, or whose member fails its CRC-32 check (BadZipFile), a compressed
# stream that does not inflate (zlib.error), a truncated one (EOFError), and a
# compression method that zipfile cannot read (NotImplementedError).
_NPZ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


def _read_npz(handle: io.BufferedReader, name: str, key: str | None) -> npt.NDArray[Any]:
    magic = handle.read(6)
    handle.seek(0)
    if magic == b"\x93NUMPY":
        raise UsageError(f"{name}: is a .npy file with a .npz name; rename it to .npy")
    if not magic.startswith(b"PK\x03\x04"):
        raise UsageError(f"{name}: not a .npz file (it is not a zip archive)")
    try:
        with np.load(handle, allow_pickle=False) as archive:
            names = list(archive.files)
            if key is None:
                if len(names) != 1:
                    listed = ", ".join(names) if names else "none"
                    raise UsageError(
                        f"{name} holds {len(names)} arrays ({listed}); choose one with --key"
                    )
                key = names[0]
            if key not in names:
                raise UsageError(f"{name} has no array {key!r}; it holds: {', '.join(names)}")
            return np.asarray(archive[key])
    except _NPZ_ERRORS as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{name}: a damaged .npz archive: {first}") from None


def _read_text(handle: io.BufferedReader, suffix: str) -> npt.NDArray[Any]:
    text = handle.read().decode("utf-8")
    if not text.strip():
        return np.empty(0)
    delimiter = "," if suffix == ".csv" else None
    return np.loadtxt(io.StringIO(text), delimiter=delimiter, ndmin=1, dtype=np.float64)


def _read_npy(handle: io.BufferedReader) -> npt.NDArray[Any]:
    if handle.read(6) != b"\x93NUMPY":
        raise ValueError("not a .npy file (it lacks the NumPy header)")
    handle.seek(0)
    return np.asarray(np.load(handle, allow_pickle=False))


def load_sample(
    path: str | Path,
    key: str | None = None,
    *,
    column: int | None = None,
    pool: bool = False,
) -> npt.NDArray[np.float64]:
    """Read the numbers of a .npy, .npz, .csv or .txt file as a flat float array.

    The file is opened read-only (``"rb"``); pickled objects are refused. An array with
    one non-trivial axis is the sample; for any other shape, ``column`` (of a 2-D array)
    or ``pool`` (every entry) must say which numbers are meant (see the module notes).

    Raises
    ------
    UsageError
        Unknown suffix, unreadable or malformed file, non-numeric or empty data, or an
        array of several columns with neither ``column`` nor ``pool``.
    """
    arr = _load_array(path, key)
    return select_sample(arr, str(path), column=column, pool=pool)[0]


def select_sample(
    arr: npt.NDArray[Any], name: str, *, column: int | None = None, pool: bool = False
) -> tuple[npt.NDArray[np.float64], str | None]:
    """The sample of ``arr`` as a flat float array, and a note saying what was taken.

    The note is None when the array is one sample already (one non-trivial axis).
    """
    if column is not None and pool:
        raise UsageError("--column and --pool exclude each other: give one")
    shape = tuple(int(n) for n in arr.shape)
    if column is not None:
        if arr.ndim != 2:
            raise UsageError(f"--column needs a 2-D array; {name} holds one of shape {shape}")
        if not 0 <= column < shape[1]:
            raise UsageError(
                f"--column {column} is not a column of {name}: shape {shape}, columns 0 to "
                f"{shape[1] - 1}"
            )
        note = f"column {column} of a {shape} array ({shape[0]} values)"
        return np.asarray(arr[:, column], dtype=np.float64), note
    if sum(n > 1 for n in shape) <= 1:
        return np.asarray(arr, dtype=np.float64).ravel(), None
    if pool:
        note = f"pooled the {arr.size} entries of a {shape} array as one sample"
        return np.asarray(arr, dtype=np.float64).ravel(), note
    hint = "--column J for one column, or --pool for all entries as one sample"
    if arr.ndim != 2:
        hint = "--pool for all entries as one sample"
    raise UsageError(f"{name} holds an array of shape {shape}, not one sample: choose {hint}")


def _load_array(path: str | Path, key: str | None) -> npt.NDArray[Any]:
    """The array in ``path``, checked to be real numbers and non-empty (any shape)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; use one of "
            + ", ".join(SUFFIXES)
        )
    if key is not None and suffix != ".npz":
        raise UsageError("--key applies to .npz files only")
    try:
        with open(p, "rb") as handle, warnings.catch_warnings():
            # numpy warns (instead of failing) on an empty text file: make it an error.
            warnings.simplefilter("error")
            if suffix == ".npy":
                data = _read_npy(handle)
            elif suffix == ".npz":
                data = _read_npz(handle, str(path), key)
            else:
                data = _read_text(handle, suffix)
    except UsageError:
        raise
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder, not a file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except (OSError, ValueError, UnicodeDecodeError, UserWarning, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"{path}: cannot read it as a {suffix} array of numbers: {first}"
        ) from None
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise UsageError(f"{path}: the data must be real numbers, got dtype {arr.dtype}")
    if arr.size == 0:
        shape = f" (an array of shape {arr.shape})" if arr.ndim > 1 else ""
        raise UsageError(f"{path}: holds no numbers{shape}")
    return arr


def _estimate(x: npt.NDArray[np.float64], method: str, seed: int) -> TailEstimate:
    from heavytail.theory import EstimationError, InvalidArgumentError, estimate_tail_index

    options: dict[str, Any] = {"rng": seed} if method in ("auto", "quantile") else {}
    try:
        return estimate_tail_index(x, method, **options)
    except (InvalidArgumentError, EstimationError) as exc:
        raise UsageError(f"cannot estimate the tail index: {exc}") from None


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.4g}"


def tail_index_figure(x: npt.NDArray[np.float64], estimate: TailEstimate, name: str) -> Figure:
    """Hill plot (alpha against k) and empirical survival function of |x| on log-log axes.

    The survival panel draws the power law ``(k/n) (t / X_(k+1))^(-alpha)`` of the
    estimate through the order statistic where the tail fit starts (k from the
    estimate's settings when it has one, else 5% of n).
    """
    from heavytail.theory import hill_plot

    from .._kit.style import PALETTE, PREDICTED, footnote, panels, style
    from .analyze_figures import power_law_line, survival_axes

    mags = np.sort(np.abs(x))[::-1]
    mags = mags[mags > 0]
    n = mags.size
    alpha = estimate.alpha
    k_raw = estimate.settings.get("k")
    k = int(k_raw) if isinstance(k_raw, int | np.integer) and 1 <= k_raw < n else max(1, n // 20)
    with style():
        fig, (left, right) = panels(None, 2, width=4.0, height=3.2)
        hp = hill_plot(x)
        left.fill_between(hp.k, hp.ci_low, hp.ci_high, color=PALETTE[0], alpha=0.2, linewidth=0)
        left.plot(hp.k, hp.alpha, color=PALETTE[0], linewidth=1.0, label="Hill estimate (95% band)")
        left.axhline(alpha, **PREDICTED, label=f"{estimate.method}: alpha = {alpha:.3g}")
        left.axhspan(*estimate.ci, color="0.5", alpha=0.12, label="its 95% interval")
        top = float(np.nanmax(hp.ci_high[np.isfinite(hp.ci_high)], initial=alpha))
        left.set(
            xscale="log",
            xlabel="k (number of largest |x| used)",
            ylabel="tail index alpha",
            title="Hill plot",
            ylim=(0.0, min(top, 4.0 * alpha) * 1.05),
        )
        left.legend(loc="upper right")
        survival_axes(
            right,
            mags,
            "empirical P(|X| > t)",
            xlabel="t (units of the data)",
            ylabel="P(|X| > t)",
            title="Survival function of |x|",
        )
        label = f"power law t^(-{alpha:.3g}) from the top {k}"
        power_law_line(right, mags, min(k, n - 1), k / n, alpha, label)
        right.legend(loc="lower left")
        fig.suptitle(
            f"Tail index of {name}: alpha = {alpha:.3g} "
            f"[{_fmt(estimate.ci[0])}, {_fmt(estimate.ci[1])}] ({estimate.estimand})"
        )
        footnote(fig, f"n = {x.size:,} values ({n:,} non-zero); method {estimate.method}.")
    return fig


def _check_plot_target(plot: str, file: str) -> None:
    """Refuse a --plot path that cannot be written, before any estimate is computed.

    The folder must exist and take a new file (a temporary file is created there and
    removed at once); an existing target must be a file that can be opened for writing
    (opened for appending, which changes neither its bytes nor its modification time).
    """
    target = Path(plot)
    if target.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise UsageError(f"--plot {plot!r} must end in .png, .pdf or .svg")
    source = Path(file)
    if target.exists() and source.exists() and os.path.samefile(target, source):
        raise UsageError("--plot must not name the input file")
    folder = target.parent
    if (problem := folder_problem(folder)) is not None:
        raise UsageError(f"--plot {plot!r}: {problem}")
    if target.is_dir():
        raise UsageError(f"--plot {plot!r} is a folder, not a file")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
        if target.exists():
            with open(target, "ab"):
                pass
    except OSError as exc:
        raise UsageError(f"cannot write --plot {plot!r}: {exc.strerror}") from None


def tail_index(
    file: str,
    *,
    method: str = "auto",
    key: str | None = None,
    plot: str | None = None,
    seed: int = 0,
    column: int | None = None,
    pool: bool = False,
    out: TextIO,
) -> int:
    """Estimate the tail index of the numbers in ``file``; print it; optionally plot.

    ``column`` and ``pool`` choose the sample of an array of several columns (see the
    module notes); what was taken is printed as a note.
    """
    if plot is not None:
        _check_plot_target(plot, file)
    if column is not None and pool:
        raise UsageError("--column and --pool exclude each other: give one")
    x, taken = select_sample(_load_array(file, key), file, column=column, pool=pool)
    estimate = _estimate(x, method, seed)
    low, high = estimate.ci
    out.write(
        f"alpha = {estimate.alpha:.4g}  95% interval [{_fmt(low)}, {_fmt(high)}]  "
        f"({estimate.estimand}; method {estimate.method}; n = {estimate.n})\n"
    )
    route = estimate.settings.get("route")
    if route is not None:
        out.write(f"auto route: {route} (estimator {estimate.settings.get('estimator')})\n")
    if taken is not None:
        out.write(f"note: {taken}\n")
    for warning in estimate.warnings:
        out.write(f"warning: {warning}\n")
    # What "auto" found and put into its answer (a joined interval, an infinite upper
    # end): not warnings, but the reasons the interval is what it is.
    for note in estimate.settings.get("notes", ()):
        out.write(f"note: {note}\n")
    if plot is not None:
        fig = tail_index_figure(x, estimate, Path(file).name)
        try:
            fig.savefig(plot)
        except OSError as exc:
            raise UsageError(f"cannot write --plot {plot!r}: {exc.strerror}") from None
        out.write(f"plot: {plot}\n")
    return EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``tail-index``."""
    parser.add_argument("file", metavar="FILE", help="a .npy, .npz, .csv or .txt file")
    parser.add_argument(
        "--method",
        default="auto",
        metavar="M",
        help="auto (default), hill, pickands, moment, block_sum or quantile",
    )
    parser.add_argument("--key", metavar="NAME", help="the array to use in a .npz with several")
    parser.add_argument(
        "--plot", metavar="OUT.png", help="write a Hill plot and a survival-function plot"
    )
    add_seed(parser, "seed of the bootstrap")
    parser.add_argument(
        "--column",
        type=non_negative_int,
        default=None,
        metavar="J",
        help="use column J (from 0) of a 2-D array, e.g. one column of a table",
    )
    parser.add_argument(
        "--pool",
        action="store_true",
        help="use every entry of an array of several columns as one sample (e.g. a weight "
        "matrix); the output says so",
    )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``heavytail tail-index`` with parsed ``args``; return the exit status."""
    return tail_index(
        args.file,
        method=args.method,
        key=args.key,
        plot=args.plot,
        seed=args.seed,
        column=args.column,
        pool=args.pool,
        out=out,
    )


COMMAND = Command(
    name="tail-index",
    help="estimate the tail index of the numbers in a file",
    description=(
        "Estimate the tail index alpha of |X| from a .npy, .npz, .csv or .txt file "
        "(the file is only read). An array of several columns is refused unless "
        "--column or --pool says which numbers are the sample."
    ),
    add_arguments=add_arguments,
    run=run,
)
