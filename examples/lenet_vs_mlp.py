"""LeNet-5 against a fully connected network with the same number of learnables (seed 004's TD).

    python examples/lenet_vs_mlp.py [--quick] [--epochs N] [--normalization zscore] [--out DIR]

The exercise: "implement LeNet on MNIST; compare its performance with a fully connected
model that has an equivalent number of parameters". LeNet-5 is specs/lenet5.net (32×32
input: netspec resizes the 28×28 digits to the input layer's size); the fully connected
network is examples/mlp_like_lenet.net (28×28 input, two tanh hidden layers), sized so the
analyzer counts within 1% of LeNet's learnables. Both train on netspec's built-in MNIST
subset (4,800 training, 1,200 validation, 1,000 test images) with the same trainingOptions,
the same seed and the same input normalization, and are scored on the 1,000 test images.

The input normalization is set on both networks (zscore by default): MATLAB's default
'zerocenter' only subtracts the mean pixel, so inputs span about -34..221 and saturate the
fully connected network's first tanh layer; the comparison would be about input scaling
rather than convolutions (`--normalization zerocenter` shows it).
`--quick` trains one epoch (the test's setting); the default trains 20.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, get_args

from rich.console import Console
from rich.table import Table

from netspec.analysis import analyze
from netspec.ir import ImageInputLayer, Network
from netspec.language import load_file
from netspec.train.run import run_train

HERE = Path(__file__).resolve().parent
NETWORKS = {"LeNet-5": HERE.parent / "specs" / "lenet5.net", "fully connected": HERE / "mlp_like_lenet.net"}
NORMALIZATIONS = get_args(ImageInputLayer.model_fields["normalization"].annotation)
# MATLAB's sgdm defaults, written out: both networks get exactly these
OPTIONS = {"solver": "sgdm", "lr": 0.01, "momentum": 0.9, "batch_size": 128, "l2": 1e-4}


def load_network(spec: Path, normalization: str) -> Network:
    """The spec's network, its input layer normalizing as asked (the same for both networks)."""
    network = load_file(spec).network
    for layer in network.layers:
        if isinstance(layer, ImageInputLayer):
            layer.normalization = normalization  # validated assignment
    return network


def compare(epochs: int, out: Path, normalization: str = "zscore", seed: int = 0) -> dict[str, Any]:
    """Analyze and train both networks (run folders in `out`); per network: learnables, MACs,
    test accuracy and loss, training time."""
    results: dict[str, Any] = {}
    for label, spec in NETWORKS.items():
        network = load_network(spec, normalization)
        totals = analyze(network).totals
        note = f"% examples/lenet_vs_mlp.py set the input layer's Normalization to '{normalization}'\n"
        run = out / spec.stem
        summary = run_train(network, note + spec.read_text(encoding="utf-8"), spec, data="builtin", out=run,
                            overrides={**OPTIONS, "epochs": epochs}, seed=seed, init=None, resume=None,
                            augment=None, split=0.8, overwrite=True)  # --out DIR again: fresh runs
        results[label] = {"spec": str(spec), "run": str(run), "learnables": totals.learnables,
                          "macs": totals.macs, "test_accuracy": summary["test"]["accuracy"],
                          "test_loss": summary["test"]["loss"], "test_images": summary["test"]["images"],
                          "seconds": summary["seconds"], "iterations": summary["iterations"]}
    return {"epochs": epochs, "normalization": normalization, "networks": results}


def conclusion(result: dict[str, Any]) -> str:
    lenet, dense = result["networks"]["LeNet-5"], result["networks"]["fully connected"]
    gap = 100 * (lenet["test_accuracy"] - dense["test_accuracy"])
    size_gap = 100 * (dense["learnables"] - lenet["learnables"]) / lenet["learnables"]
    if abs(gap) < 0.05:
        verdict = "both networks are equally accurate"
    else:
        verdict = f"{'LeNet-5' if gap > 0 else 'the fully connected network'} is {abs(gap):.1f} points more accurate"
    errors = (1 - dense["test_accuracy"]) / max(1 - lenet["test_accuracy"], 1e-9)
    return (f"With {size_gap:+.2f}% learnables, {verdict} ({100 * lenet['test_accuracy']:.1f}% vs "
            f"{100 * dense['test_accuracy']:.1f}%: the fully connected network makes {errors:.1f}× LeNet's "
            f"test errors). LeNet uses each weight {lenet['macs'] / lenet['learnables']:.1f} times per image, "
            f"the fully connected network {dense['macs'] / dense['learnables']:.1f} times: a convolution shares "
            f"its weights across positions, so the same parameter budget buys "
            f"{lenet['macs'] / dense['macs']:.1f}× the computation.")


def table(result: dict[str, Any]) -> Table:
    epochs = f"{result['epochs']} epoch{'s' if result['epochs'] != 1 else ''}"
    view = Table(title=f"MNIST subset, {epochs}, sgdm lr {OPTIONS['lr']}, batch {OPTIONS['batch_size']}, "
                       f"input '{result['normalization']}'",
                 caption=" vs ".join(Path(row["spec"]).name for row in result["networks"].values()))
    for column in ("network", "learnables", "MACs/image", "test acc.", "test loss", "time"):
        view.add_column(column, justify="left" if column == "network" else "right")
    for label, row in result["networks"].items():
        view.add_row(label, f"{row['learnables']:,}", f"{row['macs']:,}", f"{100 * row['test_accuracy']:.2f}%",
                     f"{row['test_loss']:.4f}", f"{row['seconds']:.1f} s")
    return view


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the command line, compute and print; return the results (for tests)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one epoch (a smoke test)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default 20, 1 with --quick)")
    parser.add_argument("--normalization", choices=NORMALIZATIONS, default="zscore")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the two run folders here (default: a temporary folder, deleted)")
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 20)
    with tempfile.TemporaryDirectory(prefix="netspec-lenet-vs-mlp-") as temporary:
        result = compare(epochs, args.out or Path(temporary), args.normalization)
    console = Console()
    console.print(table(result))
    console.print(conclusion(result))
    return result


if __name__ == "__main__":
    main()
