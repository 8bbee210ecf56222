"""``heavytail analyze CHECKPOINT``: tail indices and compressibility of a trained network.

Prints the per-layer table of :func:`heavytail.nn.analyze`, and writes it as
``DIR/analysis.csv`` with the figures ``DIR/figures/tail_index.png``,
``DIR/figures/prunable.png`` and one ``DIR/figures/survival_<layer>.png`` per layer. A
state dict is enough for the weight columns; ``--arch`` and ``--data`` add the accuracy
after pruning and the generalization gap. Bad arguments and unusable files end with one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .main import EXIT_OK, UsageError, _prepare_out, _seed

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMAND", "register", "run"]

COMMAND = "analyze"


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


def register(sub: Any) -> None:
    """Add the ``analyze`` subparser to ``sub``."""
    parser = sub.add_parser(
        COMMAND,
        help="tail indices and prunable fractions of a trained network, layer by layer",
        description=(
            "Per layer: the tail index of the entries, of the rows as vectors and of the "
            "row norms, each with its 95% interval; the fraction of entries, rows and "
            "singular values removable at relative error --eps; with --arch and --data, "
            "test accuracy after pruning each layer and the generalization gap. Prints the "
            "table and writes DIR/analysis.csv and DIR/figures/*.png."
        ),
    )
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="a state dict: .pt, .pth or .safetensors"
    )
    parser.add_argument(
        "--arch", metavar="SPEC", help="architecture of the checkpoint, e.g. fcn4-2048 or cnn-16"
    )
    parser.add_argument(
        "--data",
        metavar="DIR|digits",
        help="'digits', or a folder with MNIST IDX files or CIFAR python batches",
    )
    parser.add_argument(
        "--data-seed",
        type=_seed,
        default=0,
        metavar="N",
        help="seed of the digits train/test split; use the one the model was trained on "
        "(default 0)",
    )
    parser.add_argument(
        "--eps",
        type=_fraction,
        default=0.1,
        help="relative error for the prunable fractions, in (0, 1) (default 0.1)",
    )
    parser.add_argument("--out", default="heavytail-analyze", metavar="DIR", help="output folder")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--device",
        default=None,
        metavar="DEV",
        help="where the accuracy columns are computed: cpu (default) or cuda",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def load_data(spec: str, seed: int) -> Any:
    """The Dataset named by ``--data``: "digits" or a folder of MNIST or CIFAR files."""
    from heavytail.nn import digits, load_cifar, load_mnist
    from heavytail.theory import InvalidArgumentError

    if spec == "digits":
        return digits(rng=seed, image=True)
    folder = Path(spec)
    if not folder.is_dir():
        raise UsageError(f"--data {spec!r} is neither 'digits' nor an existing folder")
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


def format_table(table: pd.DataFrame) -> str:
    """The table as printed: estimates with intervals, fractions, accuracies."""
    import pandas as pd

    shown = pd.DataFrame(
        {
            "layer": table["name"],
            "shape": table["shape"],
            "alpha entries": [_estimate(r, "entries") for _, r in table.iterrows()],
            "alpha rows": [_estimate(r, "rows") for _, r in table.iterrows()],
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
    folder = _prepare_out(args.out)

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
        )
    except InvalidArgumentError as exc:
        raise UsageError(str(exc)) from None
    csv = folder / "analysis.csv"
    table.to_csv(csv, index=False)
    files = _write_figures(table, state, folder / "figures")
    out.write(format_table(table) + "\n")
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
