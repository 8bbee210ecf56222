"""``heavytail tail-index FILE``: estimate the tail index of the numbers in a file.

The file is opened once, read-only, and never written: its bytes and modification time
are the same afterwards, whatever happens (a plot path that names the input file, by a
symbolic or hard link too, is refused before anything is written).
"""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import numpy.typing as npt

from ._cli import EXIT_OK, UsageError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from heavytail.theory import TailEstimate

__all__ = ["SUFFIXES", "load_sample", "tail_index", "tail_index_figure"]

SUFFIXES = (".npy", ".npz", ".csv", ".txt")


def _read_npz(handle: io.BufferedReader, name: str, key: str | None) -> npt.NDArray[Any]:
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


def load_sample(path: str | Path, key: str | None = None) -> npt.NDArray[np.float64]:
    """Read the numbers of a .npy, .npz, .csv or .txt file as a flat float array.

    The file is opened read-only (``"rb"``); pickled objects are refused. A 2-D array
    is flattened (all its entries are one sample).

    Raises
    ------
    UsageError
        Unknown suffix, unreadable or malformed file, non-numeric or empty data.
    """
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
        raise UsageError(f"{path}: holds no numbers")
    return np.asarray(arr, dtype=np.float64).ravel()


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

    from ._style import PALETTE, PREDICTED, footnote, panels, style

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
        survival = np.arange(1, n + 1) / (n + 1)
        # Every one of the largest values, then a geometric thinning: ~2000 points.
        idx = np.unique(np.geomspace(1, n, 2000).astype(np.intp)) - 1
        right.plot(
            mags[idx],
            survival[idx],
            ".",
            color=PALETTE[0],
            markersize=2,
            label="empirical P(|X| > t)",
        )
        t0 = mags[k] if k < n else mags[-1]
        grid = np.geomspace(t0, mags[0], 50)
        right.plot(
            grid,
            (k / n) * (grid / t0) ** (-alpha),
            **PREDICTED,
            label=f"power law t^(-{alpha:.3g}) from the top {k}",
        )
        right.set(
            xscale="log",
            yscale="log",
            xlabel="t (units of the data)",
            ylabel="P(|X| > t)",
            title="Survival function of |x|",
        )
        right.legend(loc="lower left")
        fig.suptitle(
            f"Tail index of {name}: alpha = {alpha:.3g} "
            f"[{_fmt(estimate.ci[0])}, {_fmt(estimate.ci[1])}] ({estimate.estimand})"
        )
        footnote(fig, f"n = {x.size:,} values ({n:,} non-zero); method {estimate.method}.")
    return fig


def tail_index(
    file: str,
    *,
    method: str = "auto",
    key: str | None = None,
    plot: str | None = None,
    seed: int = 0,
    out: TextIO,
) -> int:
    """Estimate the tail index of the numbers in ``file``; print it; optionally plot."""
    if plot is not None:
        target = Path(plot)
        if target.suffix.lower() not in (".png", ".pdf", ".svg"):
            raise UsageError(f"--plot {plot!r} must end in .png, .pdf or .svg")
        source = Path(file)
        if target.exists() and source.exists() and os.path.samefile(target, source):
            raise UsageError("--plot must not name the input file")
        if not target.parent.exists() and str(target.parent) not in ("", "."):
            raise UsageError(f"--plot {plot!r}: folder {str(target.parent)!r} does not exist")
    x = load_sample(file, key)
    estimate = _estimate(x, method, seed)
    low, high = estimate.ci
    out.write(
        f"alpha = {estimate.alpha:.4g}  95% interval [{_fmt(low)}, {_fmt(high)}]  "
        f"({estimate.estimand}; method {estimate.method}; n = {estimate.n})\n"
    )
    route = estimate.settings.get("route")
    if route is not None:
        out.write(f"auto route: {route} (estimator {estimate.settings.get('estimator')})\n")
    for warning in estimate.warnings:
        out.write(f"warning: {warning}\n")
    if plot is not None:
        fig = tail_index_figure(x, estimate, Path(file).name)
        try:
            fig.savefig(plot)
        except OSError as exc:
            raise UsageError(f"cannot write --plot {plot!r}: {exc.strerror}") from None
        out.write(f"plot: {plot}\n")
    return EXIT_OK
