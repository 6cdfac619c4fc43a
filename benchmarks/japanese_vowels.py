"""Japanese Vowels with the BiLSTM of MATLAB's sequence-classification example: test accuracy
of `netspec train` after its epochs on the CPU, and its training speed against a hand-written
PyTorch BiLSTM trained the same way in the same run.

    python benchmarks/japanese_vowels.py [--epochs 50] [--seeds 0 1 2] [--threads 1]

Target (issue 15): test accuracy >= 94% after 50 epochs (MATLAB's example reports about 95%),
and netspec's sequences/s >= 0.9x the hand-written loop's.

netspec: `netspec train specs/japanese_vowels_bilstm.net --split 1` on the bundled data (the
270 training sequences, as MATLAB's example; no validation), scored on the 370 test sequences.
Hand-written: nn.LSTM(12, 100, bidirectional) and nn.Linear(200, 9), MATLAB's initializers
(Glorot input weights, orthogonal recurrent weights, unit-forget-gate bias, PyTorch's second
bias fixed at zero), the spec's trainingOptions (adam, mini-batch, L2, GradientThreshold per
learnable, shuffling), mini-batches padded on the right to their longest sequence, the output of
the last (padded) time step; test sequences scored unpadded. Both train single-threaded with
`--threads 1` (a machine shared with other jobs gives steadier figures), one after the other:
the timings are of one run, noisy on a busy machine.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from torch import Tensor, nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netspec.datasets.sequences import SequenceDataset, japanese_vowels, pad_to  # noqa: E402
from netspec.ir import TrainingOptions  # noqa: E402
from netspec.language import load_file  # noqa: E402

SPEC = ROOT / "specs" / "japanese_vowels_bilstm.net"
ACCURACY_TARGET, SPEED_TARGET = 0.94, 0.9


class BiLSTM(nn.Module):
    """sequenceInputLayer(12), bilstmLayer(100,'OutputMode','last'), fullyConnectedLayer(9)."""

    def __init__(self, channels: int = 12, hidden: int = 100, classes: int = 9):
        super().__init__()
        self.lstm = nn.LSTM(channels, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, classes)
        for name, parameter in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                for gate in parameter.data.chunk(4):  # MATLAB: Glorot over the 4H-by-C matrix
                    nn.init.uniform_(gate, -math.sqrt(6 / (4 * hidden + channels)), math.sqrt(6 / (4 * hidden + channels)))
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(parameter)
            elif name.startswith("bias_ih"):
                parameter.data.zero_()
                parameter.data[hidden:2 * hidden] = 1  # unit-forget-gate (PyTorch's gate order i, f, g, o)
            else:  # bias_hh: MATLAB has one bias per gate set
                parameter.data.zero_()
                parameter.requires_grad_(False)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: Tensor) -> Tensor:  # (N, C, T)
        y, _ = self.lstm(x.transpose(1, 2))
        return self.fc(y[:, -1])


def clip_per_learnable(model: BiLSTM, threshold: float) -> None:
    """GradientThresholdMethod 'l2norm': each MATLAB learnable (both directions of a weight together)."""
    groups: dict[str, list[nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if parameter.grad is not None:
            groups.setdefault(name.replace("_reverse", ""), []).append(parameter)
    for group in groups.values():
        torch.nn.utils.clip_grad_norm_(group, threshold)


def hand_written(train: SequenceDataset, test: SequenceDataset, options: TrainingOptions, seed: int
                 ) -> tuple[float, float]:
    """(test accuracy, training sequences/s) of the plain PyTorch loop."""
    torch.manual_seed(seed)
    model = BiLSTM()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=options.initial_learn_rate,
                                 betas=(options.gradient_decay_factor, options.squared_gradient_decay_factor),
                                 eps=options.epsilon, weight_decay=options.l2_regularization)
    generator = torch.Generator().manual_seed(seed)
    batch, count = options.mini_batch_size, len(train)
    order = torch.randperm(count, generator=generator) if options.shuffle != "never" else torch.arange(count)
    seen, started = 0, time.perf_counter()
    for _ in range(options.max_epochs):
        for i in range(count // batch):
            members = order[i * batch:(i + 1) * batch].tolist()
            x = torch.from_numpy(pad_to([train.sequences[m] for m in members],
                                        int(train.lengths[members].max())))
            y = torch.from_numpy(train.labels[members])
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            clip_per_learnable(model, options.gradient_threshold)
            optimizer.step()
            seen += len(members)
        if options.shuffle == "every-epoch":
            order = torch.randperm(count, generator=generator)
    speed = seen / (time.perf_counter() - started)
    model.eval()
    correct = 0
    with torch.no_grad():
        for sequence, label in zip(test.sequences, test.labels):
            correct += int(model(torch.from_numpy(sequence.T[None].copy())).argmax() == label)
    return correct / len(test), speed


def with_netspec(epochs: int | None, seed: int) -> tuple[float, float]:
    """(test accuracy, training sequences/s) of `netspec train` on the bundled data."""
    from netspec.train.run import run_train

    network = load_file(SPEC).network
    with tempfile.TemporaryDirectory() as folder:
        summary = run_train(network, SPEC.read_text(), SPEC, data="builtin", out=Path(folder) / "run",
                            overrides={"epochs": epochs}, seed=seed, init=None, resume=None, augment=None, split=1.0)
    return summary["test"]["accuracy"], summary["images_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=None, help="MaxEpochs (default: the spec's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--hand-only", action="store_true", help="only the hand-written loop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = load_file(SPEC).network.training or TrainingOptions(solver="sgdm")
    if args.epochs:
        options = options.model_copy(update={"max_epochs": args.epochs})
    train, test = japanese_vowels()
    load_before = os.getloadavg()
    table = Table(title=f"Japanese Vowels, {SPEC.name}: {options.max_epochs} epochs on the CPU, "
                        f"{len(train)} training / {len(test)} test sequences")
    for column in ("seed", "netspec test accuracy", "hand-written test accuracy", "netspec seq/s",
                   "hand-written seq/s", "speed ratio", f"accuracy ≥ {ACCURACY_TARGET:.0%}", f"ratio ≥ {SPEED_TARGET}"):
        table.add_column(column, justify="right")
    ratios = []
    for seed in args.seeds:
        hand_accuracy, hand_speed = hand_written(train, test, options, seed)
        ours_accuracy, ours_speed = (math.nan, math.nan) if args.hand_only else with_netspec(args.epochs, seed)
        ratios.append(ours_speed / hand_speed)
        table.add_row(str(seed), f"{100 * ours_accuracy:.2f}%", f"{100 * hand_accuracy:.2f}%", f"{ours_speed:,.0f}",
                      f"{hand_speed:,.0f}", f"{ratios[-1]:.3f}",
                      "[green]PASS[/]" if ours_accuracy >= ACCURACY_TARGET else "[red]FAIL[/]",
                      "[green]PASS[/]" if ratios[-1] >= SPEED_TARGET else "[red]FAIL[/]")
    load_after = os.getloadavg()
    table.caption = (f"median speed ratio {statistics.median(ratios):.3f}; torch {torch.__version__}, "
                     f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs ({platform.machine()}); load "
                     f"average {load_before[0]:.1f} before, {load_after[0]:.1f} after; one run each, noisy")
    (Console() if sys.stdout.isatty() else Console(width=160)).print(table)


if __name__ == "__main__":
    main()
