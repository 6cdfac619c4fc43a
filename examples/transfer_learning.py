"""Transfer learning with frozen layers, at MNIST scale (seed 003, "transfert learning").

    python examples/transfer_learning.py [--quick] [--sizes 5 10 20 50] [--out DIR]

The course retrains AlexNet's last layer to recognise traffic signs: the first layers
extract features, only the classifier is specific to the task. The same idea on the
built-in MNIST subset, as image folders (`DIR/<label>/*.png`, what `--data DIR` reads):

1. base: examples/transfer_base.net (the course's MNIST network) learns digits 0-4;
2. transfer: examples/transfer_new_head.net learns digits 5-9 from a few images per class,
   its feature layers copied from the base run (`--init`) and frozen (learn-rate factor 0),
   a new classifier learning at 10x the rate;
3. scratch: the same network and options, every layer learning, no `--init`.

Each is scored on 100 MNIST test images per class it never saw. The script then checks, by
loading both checkpoints with `torch.load(weights_only=True)`, that fine-tuning left every
frozen learnable bit-identical to the base run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from rich.console import Console
from rich.table import Table

from netspec.backends.torch import module_name, to_torch
from netspec.ir import Network
from netspec.language import load_file, parse_bindings
from netspec.train.data import BUILTIN, load_source as load_data
from netspec.train.run import run_predict, run_train

HERE = Path(__file__).resolve().parent
BASE_SPEC, TRANSFER_SPEC = HERE / "transfer_base.net", HERE / "transfer_new_head.net"
BASE_DIGITS, NEW_DIGITS = range(0, 5), range(5, 10)
LEARN_RATE_FACTORS = ("weight_learn_rate_factor", "bias_learn_rate_factor",
                      "scale_learn_rate_factor", "offset_learn_rate_factor")


def write_digits(folder: Path, images: np.ndarray, labels: np.ndarray, digits: range, per_class: int) -> Path:
    """The first `per_class` images of each digit as PNGs in folder/<digit>/ (an imageDatastore)."""
    for digit in digits:
        (folder / str(digit)).mkdir(parents=True, exist_ok=True)
        for i, index in enumerate(np.flatnonzero(labels == digit)[:per_class]):
            Image.fromarray(images[index, 0]).save(folder / str(digit) / f"{i:04d}.png")
    return folder


def accuracy_on(run: Path, folder: Path) -> float:
    """Share of folder/<label>/*.png that the run's network classifies as <label>."""
    images = sorted(folder.glob("*/*.png"))
    predictions = run_predict(run, images)
    return float(np.mean([row["class"] == path.parent.name for row, path in zip(predictions, images)]))


def frozen_layers(network: Network) -> list[str]:
    """Layers whose every learn-rate factor is 0."""
    frozen = []
    for layer in network.layers:
        factors = [getattr(layer, name) for name in LEARN_RATE_FACTORS if hasattr(layer, name)]
        if factors and all(factor == 0 for factor in factors):
            frozen.append(layer.name)
    return frozen


def compare_frozen(network: Network, base_checkpoint: Path, tuned_checkpoint: Path) -> dict[str, Any]:
    """Frozen learnables bit-identical to the base run? (And did BN's running statistics move?)"""
    module = to_torch(network, seed=None)
    base = torch.load(base_checkpoint, map_location="cpu", weights_only=True)["model"]
    tuned = torch.load(tuned_checkpoint, map_location="cpu", weights_only=True)["model"]
    frozen = frozen_layers(network)
    prefixes = tuple(f"layers.{module_name(name)}." for name in frozen)
    learnables = [key for key, _ in module.named_parameters() if key.startswith(prefixes)]
    statistics = [key for key, _ in module.named_buffers() if key.endswith(("running_mean", "running_var"))
                  and key.startswith(prefixes)]
    return {"layers": frozen, "values": sum(base[key].numel() for key in learnables),
            "identical": all(torch.equal(base[key], tuned[key]) for key in learnables),
            "statistics_moved": any(not torch.equal(base[key], tuned[key]) for key in statistics)}


def transfer(out: Path, sizes: tuple[int, ...] = (5, 10, 20, 50), base_per_class: int = 600, base_epochs: int = 4,
             epochs: int = 10, test_per_class: int = 100, seed: int = 0) -> dict[str, Any]:
    """Train the base, then per size (training images per new class) the transfer and scratch runs."""
    train, _, test = load_data(BUILTIN, (28, 28, 1), split=1.0)
    base_test = write_digits(out / "data" / "test_0-4", test.images, test.labels, BASE_DIGITS, test_per_class)
    new_test = write_digits(out / "data" / "test_5-9", test.images, test.labels, NEW_DIGITS, test_per_class)

    def train_run(network: Network, spec: Path, data: Path, run: Path, epochs: int, split: float = 1.0,
                  init: Path | None = None) -> dict[str, Any]:
        return run_train(network, spec.read_text(encoding="utf-8"), spec, data=str(data), out=run,
                         overrides={"epochs": epochs}, seed=seed, init=init, resume=None, augment=None,
                         split=split, overwrite=True)  # --out DIR again: fresh runs

    base_data = write_digits(out / "data" / "train_0-4", train.images, train.labels, BASE_DIGITS, base_per_class)
    base_run = out / "base"
    train_run(load_file(BASE_SPEC).network, BASE_SPEC, base_data, base_run, base_epochs, split=0.8)
    base = {"images_per_class": base_per_class, "epochs": base_epochs,
            "test_accuracy": accuracy_on(base_run, base_test)}

    frozen_network = load_file(TRANSFER_SPEC).network
    scratch_network = load_file(TRANSFER_SPEC, bindings=parse_bindings(["featureLearnRateFactor=1"])).network
    rows = []
    for size in sizes:
        data = write_digits(out / "data" / f"train_5-9_{size}", train.images, train.labels, NEW_DIGITS, size)
        transfer_run, scratch_run = out / f"transfer_{size}", out / f"scratch_{size}"
        transferred = train_run(frozen_network, TRANSFER_SPEC, data, transfer_run, epochs, init=base_run / "last.pt")
        train_run(scratch_network, TRANSFER_SPEC, data, scratch_run, epochs)
        rows.append({"images_per_class": size, "iterations": transferred["iterations"],
                     "transfer_accuracy": accuracy_on(transfer_run, new_test),
                     "scratch_accuracy": accuracy_on(scratch_run, new_test),
                     "copied_layers": transferred["initialized_layers"],
                     "frozen": compare_frozen(frozen_network, base_run / "last.pt", transfer_run / "last.pt")})
    return {"base": base, "runs": rows, "epochs": epochs, "test_per_class": test_per_class}


def table(result: dict[str, Any]) -> Table:
    base = result["base"]
    frozen = result["runs"][0]["frozen"]
    view = Table(title=f"Digits 5-9 from a few images: frozen features of a 0-4 network vs from scratch "
                       f"({result['epochs']} epochs)",
                 caption=f"base: digits 0-4, {base['images_per_class']} images per class, {base['epochs']} "
                         f"epochs: {100 * base['test_accuracy']:.1f}% on its test images. Test: "
                         f"{result['test_per_class']} unseen MNIST test images per class. Frozen: "
                         f"{', '.join(frozen['layers'])}.")
    for column in ("images / class", "iterations", "transfer", "scratch", "gain", "frozen learnables"):
        view.add_column(column, justify="right")
    for row in result["runs"]:
        check = row["frozen"]
        view.add_row(str(row["images_per_class"]), str(row["iterations"]),
                     f"{100 * row['transfer_accuracy']:.1f}%", f"{100 * row['scratch_accuracy']:.1f}%",
                     f"{100 * (row['transfer_accuracy'] - row['scratch_accuracy']):+.1f}",
                     f"{check['values']:,} {'identical' if check['identical'] else 'CHANGED'}")
    return view


def conclusion(result: dict[str, Any]) -> str:
    rows = result["runs"]
    gains = [100 * (row["transfer_accuracy"] - row["scratch_accuracy"]) for row in rows]
    wins = sum(gain > 0 for gain in gains)
    smallest = rows[0]
    identical = all(row["frozen"]["identical"] for row in rows)
    moved = any(row["frozen"]["statistics_moved"] for row in rows)
    return (f"Transfer beats training from scratch at {wins} of {len(rows)} sizes; with "
            f"{smallest['images_per_class']} images per class it reaches "
            f"{100 * smallest['transfer_accuracy']:.1f}% against {100 * smallest['scratch_accuracy']:.1f}% "
            f"({gains[0]:+.1f} points); the gain at {rows[-1]['images_per_class']} images per class is "
            f"{gains[-1]:+.1f} points. "
            + ("The frozen layers' learnables are bit-identical to the base run after fine-tuning"
               if identical else "Some frozen learnables CHANGED during fine-tuning")
            + (" (batch normalization's running statistics, which are not learnables, followed the new "
               "digits)." if moved else "."))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the command line, compute and print; return the results (for tests)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small base, one size, few epochs (a smoke test)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20, 50],
                        help="training images per new class")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the image folders and run folders here (default: a temporary folder, deleted)")
    args = parser.parse_args(argv)
    settings = (dict(sizes=(10,), base_per_class=60, base_epochs=2, epochs=3, test_per_class=20) if args.quick
                else dict(sizes=tuple(args.sizes)))
    with tempfile.TemporaryDirectory(prefix="netspec-transfer-") as temporary:
        result = transfer(args.out or Path(temporary), **settings)
    console = Console()
    console.print(table(result))
    console.print(conclusion(result))
    return result


if __name__ == "__main__":
    main()
