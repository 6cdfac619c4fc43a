"""Training speed of the lowered model against a hand-written PyTorch module of the same
network, measured in one run.

    python benchmarks/train_vs_handwritten.py [--quick] [--threads N] [--rounds 31] [--block-seconds 0.25]
    python benchmarks/train_vs_handwritten.py --end-to-end [--mnist DIR] [--images N] [--rounds 5] [--threads 1]

Target (issue): netspec's training images/s at least 0.97x the hand-written module's, for
the seed MNIST net (specs/mnist_matlab.net), LeNet-5 (specs/lenet5.net) and ResNet-18 at
32x32 (specs/resnet18.net with its input changed to imageInputLayer([32 32 3]); the global
average pooling keeps fc1000 at 512 inputs). Issue 15 adds a sequence row: the Japanese Vowels
BiLSTM (specs/japanese_vowels_bilstm.net) on mini-batches of 27 sequences of 24 time steps
(a typical padded Japanese Vowels mini-batch), against nn.LSTM(bidirectional) + nn.Linear;
its target is 0.9x.

The hand-written modules are plain nn.Sequential / small modules, written the way a PyTorch
user would (padding inside Conv2d / MaxPool2d, nn.Flatten before nn.Linear), computing the
same function: the imageInputLayer's default 'zerocenter' is a subtracted buffer, as in
netspec. They are loaded with the netspec model's initial weights, and their logits are
checked against netspec's before timing; parameter counts are asserted equal.

Method: the same step for both (SGD momentum 0.9, lr 0.01, cross-entropy on the logits;
netspec's logits are `model(x, output=<layer feeding softmax>).flatten(1)`, as
netspec/train/loop.py reads them), the same pre-generated random batches, warm-up steps,
then alternating timed blocks (the first model of each round alternates) so machine-load
noise hits both alike. Each block starts from the initial weights with no momentum (the
seed MNIST net, with no normalization after its first convolution, diverges on random
data after ~10 steps at lr 0.01, so its blocks are at most 8 steps).

Reported: the median images/s of each model over the rounds and their ratio (the
verdict), the median of the per-round paired ratios, the ratio of the best blocks (load
only ever slows a block down), and the ratio of the median images per process-CPU-second
(less sensitive to other jobs when single-threaded; with several threads it also counts
OpenMP spin-waiting). On a machine shared with other jobs, --threads 1 gives far steadier
figures than torch's default of one thread per core.

--end-to-end: a whole training epoch as users feel it, on real MNIST (IDX files, --mnist DIR,
default /work/shared/data/mnist), for the seed MNIST net and LeNet-5. netspec's side is its own
training loop, called as a library (netspec.train.loop.train with the data, options and
checkpoint cadence `netspec train --data mnist:DIR --split 1.0 --epochs 1` uses: no
validation; last.pt every 50 iterations, no sooner than CHECKPOINT_SECONDS after the last); it is timed from its RunStarted event to its last StepDone event, so the epoch's
data feeding, metrics rows, events and checkpoints count, and the set-up before and the
finishing after (final checkpoints, population statistics, metrics.json) do not; the whole
`train` call's seconds are shown beside. The hand-written side is the loop a PyTorch user
writes: the images as a float tensor in memory, a random permutation (netspec's: the same
images in the same order) sliced into mini-batches, the hand-written module with netspec's
initial weights and its 'zerocenter' mean, torch.optim.SGD with the spec's trainingOptions
(learning rate, momentum, L2 as weight decay), cross-entropy, `loss.item()` per step. Both see
the same images at the same batch size. Rounds alternate which side runs first; reported are
the median images/s of each, their ratio (the verdict, target 0.97), the per-round paired
ratios, the ratio of the best rounds (load only slows a round down) and the ratio of the median
images per process-CPU-second (with one thread, less sensitive to other jobs on the machine).
Each side first runs 10 untimed steps. Defaults: 5 rounds, --threads 1, all 60,000 training
images.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from torch import Tensor, nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netspec.backends.torch import GraphModule, to_torch  # noqa: E402
from netspec.language import load_file, load_source  # noqa: E402
from netspec.train.loop import classifier_parts  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from japanese_vowels import BiLSTM  # noqa: E402
MNIST = Path("/work/shared/data/mnist")

TARGET = 0.97


# -- hand-written networks -----------------------------------------------------------------------

class ZeroCenter(nn.Module):
    """imageInputLayer's default normalization: subtract the per-channel training mean."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return x - self.mean


def mnist_handwritten() -> nn.Module:
    return nn.Sequential(
        ZeroCenter(1),
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.Flatten(),
        nn.Linear(14 * 14 * 64, 10),
    )


def lenet5_handwritten() -> nn.Module:
    return nn.Sequential(
        ZeroCenter(1),
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
        nn.Conv2d(16, 120, 5), nn.Tanh(),
        nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) \
            if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, classes: int = 1000):
        super().__init__()
        self.norm = ZeroCenter(3)
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.res2 = nn.Sequential(BasicBlock(64, 64, 1), BasicBlock(64, 64, 1))
        self.res3 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128, 1))
        self.res4 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256, 1))
        self.res5 = nn.Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(self.norm(x))
        x = self.res5(self.res4(self.res3(self.res2(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def resnet18_key(name: str) -> str | None:
    """netspec state-dict key (MATLAB layer names) -> the hand-written ResNet18's key."""
    name = name.removeprefix("layers.")
    layer, _, tensor = name.rpartition(".")
    if layer == "data":
        return "norm.mean" if tensor == "mean" else None  # std/min/max: unused by 'zerocenter'
    fixed = {"conv1": "stem.0", "bn_conv1": "stem.1", "fc1000.linear": "fc"}
    if layer in fixed:
        return f"{fixed[layer]}.{tensor}"
    match = re.fullmatch(r"(res|bn)(\d)([ab])_branch(2a|2b|1)", layer)
    if match is None:
        raise KeyError(name)
    kind, stage, letter, branch = match.groups()
    part = {("res", "2a"): "conv1", ("bn", "2a"): "bn1", ("res", "2b"): "conv2", ("bn", "2b"): "bn2",
            ("res", "1"): "shortcut.0", ("bn", "1"): "shortcut.1"}[kind, branch]
    return f"res{stage}.{'ab'.index(letter)}.{part}.{tensor}"


def in_order_keys(netspec: GraphModule, hand: nn.Module) -> dict[str, str]:
    """Sequential networks: the two state dicts list the same tensors in the same order."""
    ours = [k for k in netspec.state_dict() if not re.search(r"\.(std|min|max)$", k)]
    theirs = list(hand.state_dict())
    assert len(ours) == len(theirs), (ours, theirs)
    return dict(zip(ours, theirs))


def bilstm_keys(ours: GraphModule, hand: nn.Module) -> dict[str, str | None]:
    """netspec's recurrent module keeps nn.LSTM as `core` (its recurrent biases are zero buffers,
    the hand-written LSTM's frozen zero parameters), its fully connected layer as `linear`; the
    input layer's unused statistics and the zero initial states have no counterpart."""
    return {key: (f"lstm.{key.rsplit('.', 1)[-1]}" if ".core." in key else
                  f"fc.{key.rsplit('.', 1)[-1]}" if key.endswith(("linear.weight", "linear.bias")) else None)
            for key in ours.state_dict()}


# -- the cases ---------------------------------------------------------------------------------------

RESNET18_32 = (ROOT / "specs" / "resnet18.net").read_text(encoding="utf-8").replace(
    "imageInputLayer([224 224 3],", "imageInputLayer([32 32 3],")
assert "imageInputLayer([32 32 3]," in RESNET18_32


@dataclass
class Case:
    label: str
    load: Callable[[], object]
    hand: Callable[[], nn.Module]
    keys: Callable[[GraphModule, nn.Module], dict[str, str | None]]
    input: tuple[int, ...]  # C, H, W (C, T for sequences)
    classes: int
    batch: int
    max_steps: int | None = None  # per block: from the initial weights, the loss stays finite this long
    target: float = TARGET


CASES = [
    Case("mnist_matlab.net (seed MNIST)", lambda: load_file(ROOT / "specs" / "mnist_matlab.net").network,
         mnist_handwritten, in_order_keys, (1, 28, 28), 10, 128, max_steps=8),
    Case("lenet5.net (LeNet-5)", lambda: load_file(ROOT / "specs" / "lenet5.net").network,
         lenet5_handwritten, in_order_keys, (1, 32, 32), 10, 128),
    Case("resnet18.net at 32×32", lambda: load_source(RESNET18_32, "resnet18_32.net").network,
         ResNet18, lambda ours, hand: {k: resnet18_key(k) for k in ours.state_dict()}, (3, 32, 32), 1000, 64),
    Case("japanese_vowels_bilstm.net (T = 24)", lambda: load_file(ROOT / "specs" / "japanese_vowels_bilstm.net").network,
         BiLSTM, bilstm_keys, (12, 24), 9, 27, target=0.9),
]


def build(case: Case) -> tuple[nn.Module, Callable[[Tensor], Tensor], nn.Module, Callable[[Tensor], Tensor]]:
    """(netspec model, its logits, hand-written model, its logits), same weights, checked equal."""
    network = case.load()
    _, logits_layer, _ = classifier_parts(network)
    ours = to_torch(network, seed=0)
    torch.manual_seed(0)
    hand = case.hand()
    count = lambda m: sum(p.numel() for p in m.parameters() if p.requires_grad)  # noqa: E731
    assert count(ours) == count(hand), f"{case.label}: {count(ours):,} vs {count(hand):,} parameters"
    mapping = case.keys(ours, hand)
    state = {mapping[k]: v for k, v in ours.state_dict().items() if mapping.get(k) is not None}
    hand.load_state_dict(state, strict=True)

    def ours_logits(x: Tensor) -> Tensor:
        return ours(x, output=logits_layer).flatten(1)

    torch.manual_seed(1)
    probe = torch.randn(4, *case.input)
    ours.eval(), hand.eval()
    with torch.no_grad():
        a, b = ours_logits(probe), hand(probe)
    assert a.shape == b.shape == (4, case.classes), (a.shape, b.shape)
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), f"{case.label}: logits differ by {(a - b).abs().max()}"
    ours.train(), hand.train()
    return ours, ours_logits, hand, hand


# -- timing ------------------------------------------------------------------------------------------

class Trainer:
    def __init__(self, model: nn.Module, logits: Callable[[Tensor], Tensor], data: list[tuple[Tensor, Tensor]]):
        self.model, self.logits, self.data = model, logits, data
        self.optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
        self.initial = {k: v.clone() for k, v in model.state_dict().items()}
        self.position = 0

    def reset(self) -> None:
        """Back to the initial weights, no momentum, first batch (outside the timed blocks)."""
        self.model.load_state_dict(self.initial)
        self.optimizer.state.clear()
        self.position = 0

    def steps(self, count: int) -> tuple[float, float]:
        """Run `count` training steps; (wall seconds, process CPU seconds) taken."""
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            x, y = self.data[self.position % len(self.data)]
            self.position += 1
            self.optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(self.logits(x), y)
            loss.backward()
            self.optimizer.step()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if not torch.isfinite(loss):
            raise RuntimeError(f"loss became {loss.item()}")
        return seconds, cpu


@dataclass
class Result:
    steps: int
    hand: list[float]  # images/s, one per round
    ours: list[float]
    hand_cpu: list[float]  # images per CPU-second
    ours_cpu: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.hand)

    @property
    def best_ratio(self) -> float:
        return max(self.ours) / max(self.hand)

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(self.ours_cpu) / statistics.median(self.hand_cpu)

    @property
    def paired(self) -> list[float]:
        return [o / h for o, h in zip(self.ours, self.hand)]


def measure(case: Case, rounds: int, block_seconds: float, warmup: int) -> Result:
    ours, ours_logits, hand, hand_logits = build(case)
    torch.manual_seed(2)
    data = [(torch.randn(case.batch, *case.input), torch.randint(case.classes, (case.batch,))) for _ in range(4)]
    trainers = {"hand": Trainer(hand, hand_logits, data), "ours": Trainer(ours, ours_logits, data)}
    for trainer in trainers.values():
        trainer.steps(warmup)
        trainer.reset()
    per_step = min(trainers["hand"].steps(3)[0], trainers["ours"].steps(3)[0]) / 3
    steps = max(1, min(round(block_seconds / per_step), case.max_steps or sys.maxsize))
    speeds: dict[str, list[float]] = {"hand": [], "ours": [], "hand_cpu": [], "ours_cpu": []}
    for r in range(rounds):
        order = ("hand", "ours") if r % 2 == 0 else ("ours", "hand")
        for key in order:
            trainers[key].reset()
            seconds, cpu = trainers[key].steps(steps)
            speeds[key].append(steps * case.batch / seconds)
            speeds[f"{key}_cpu"].append(steps * case.batch / max(cpu, 1e-9))
    return Result(steps, **speeds)


# -- end to end: netspec's training loop against a hand-written one, a whole epoch on real MNIST -----

def mnist_training(folder: Path, size: tuple[int, int, int], images: int | None):
    """netspec's Dataset of the MNIST training images at the input size (the first `images`)."""
    from netspec.train.data import load_source as load_data

    training, _, _ = load_data(f"mnist:{folder}", size, split=1.0)
    return training.subset(np.arange(min(images, len(training)))) if images else training


def netspec_epoch(network, options, data, out: Path) -> tuple[float, float, float]:
    """(wall and process-CPU seconds of the epoch: RunStarted to the last StepDone, wall seconds
    of the whole `train` call)."""
    from netspec.train.events import RunStarted, StepDone
    from netspec.train.loop import TrainConfig, train
    from netspec.train.run import CHECKPOINT_SECONDS, checkpoint_interval

    marks: dict[str, tuple[float, float]] = {}

    def on_event(event: object) -> None:
        if isinstance(event, (RunStarted, StepDone)):
            marks["start" if isinstance(event, RunStarted) else "end"] = time.perf_counter(), time.process_time()

    called = time.perf_counter()
    train(TrainConfig(network=network, options=options, train=data, validation=None, out=out, seed=0,
                      checkpoint_every=checkpoint_interval(options), checkpoint_seconds=CHECKPOINT_SECONDS,
                      on_event=on_event))
    (start, start_cpu), (end, end_cpu) = marks["start"], marks["end"]
    return end - start, end_cpu - start_cpu, time.perf_counter() - called


def handwritten_epoch(model: nn.Module, initial: dict[str, Tensor], images: Tensor, labels: Tensor,
                      options) -> tuple[float, float]:
    """(wall, process-CPU) seconds of one epoch of the plain loop a PyTorch user writes, from
    netspec's initial weights, in netspec's data order (seed 0): the same numbers, so that no
    data-dependent speed (denormal floats, say) differs between the two."""
    model.load_state_dict(initial)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=options.initial_learn_rate, momentum=options.momentum,
                                weight_decay=options.l2_regularization)
    batch, total = options.mini_batch_size, 0.0
    start, start_cpu = time.perf_counter(), time.process_time()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    for step in range(len(labels) // batch):
        index = order[step * batch:(step + 1) * batch]
        x, y = images[index], labels[index]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    if not math.isfinite(total):
        raise RuntimeError(f"the hand-written loop's loss became {total}")
    return seconds, cpu


@dataclass
class EpochResult(Result):
    """Result's rounds (images/s; images per process-CPU-second) of whole epochs."""

    images: int = 0
    ours_call: list[float] = field(default_factory=list)  # seconds of the whole train() call


def measure_epoch(case: Case, folder: Path, images: int | None, rounds: int, scratch: Path) -> EpochResult:
    """Alternating rounds of one netspec epoch and one hand-written epoch over the same images."""
    from netspec.train.run import resolve_options

    network = case.load()
    options = resolve_options(network, {"epochs": 1})
    data = mnist_training(folder, case.input[1:] + case.input[:1], images)  # (H, W, C), as netspec reads
    hand = build(case)[2]
    hand_images = torch.from_numpy(data.images).float()
    with torch.no_grad():
        hand[0].mean.copy_(hand_images.mean(dim=(0, 2, 3)).reshape(hand[0].mean.shape))  # zerocenter
    initial = {k: v.clone() for k, v in hand.state_dict().items()}
    labels = torch.from_numpy(data.labels)
    batch = options.mini_batch_size
    steps = len(labels) // batch
    warm = min(len(labels), 10 * batch)  # a few untimed steps of each first
    netspec_epoch(network, options, data.subset(np.arange(warm)), scratch / "warm-up")
    handwritten_epoch(hand, initial, hand_images[:warm], labels[:warm], options)
    speeds: dict[str, list[float]] = {"hand": [], "ours": [], "hand_cpu": [], "ours_cpu": [], "ours_call": []}
    for r in range(rounds):
        for side in ("hand", "ours") if r % 2 == 0 else ("ours", "hand"):
            if side == "hand":
                seconds, cpu = handwritten_epoch(hand, initial, hand_images, labels, options)
            else:
                seconds, cpu, call = netspec_epoch(network, options, data, scratch / f"run{r}")
                speeds["ours_call"].append(call)
            speeds[side].append(steps * batch / seconds)
            speeds[f"{side}_cpu"].append(steps * batch / max(cpu, 1e-9))
    return EpochResult(steps=steps, images=len(labels), **speeds)


def end_to_end(args: argparse.Namespace, console: Console) -> None:
    import tempfile

    folder = Path(args.mnist).expanduser()
    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    if not all((folder / stem).is_file() or (folder / f"{stem}.gz").is_file() for stem in stems):
        sys.exit(f"--end-to-end needs the MNIST IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]) "
                 f"in {folder}; give their folder with --mnist DIR")
    rounds = args.rounds or 5
    load_before = os.getloadavg()
    table = Table(title=f"a whole training epoch on MNIST, netspec train's loop vs a hand-written loop "
                        f"(median of {rounds} alternating rounds)")
    for column in ("network", "images", "batch", "steps", "hand-written img/s", "netspec img/s", "ratio",
                   "paired ratio, median (min–max)", "best-round ratio", "CPU-time ratio",
                   "netspec train() call, s (median)",
                   f"ratio ≥ {TARGET}"):
        table.add_column(column, justify="left" if column == "network" else "right")
    with tempfile.TemporaryDirectory(prefix="netspec-epoch-") as scratch:
        for case in CASES[:2]:  # the MNIST-sized networks
            if args.only and args.only not in case.label:
                continue
            result = measure_epoch(case, folder, args.images, rounds, Path(scratch) / case.label.split()[0])
            paired = result.paired
            verdict = "[green]PASS[/]" if result.ratio >= TARGET else "[red]FAIL[/]"
            table.add_row(case.label, f"{result.images:,}", str(case.batch), str(result.steps),
                          f"{statistics.median(result.hand):,.0f}", f"{statistics.median(result.ours):,.0f}",
                          f"{result.ratio:.3f}", f"{statistics.median(paired):.3f} ({min(paired):.3f}–{max(paired):.3f})",
                          f"{result.best_ratio:.3f}", f"{result.cpu_ratio:.3f}",
                          f"{statistics.median(result.ours_call):.1f}", verdict)
    load_after = os.getloadavg()
    table.caption = (f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs "
                     f"({platform.processor() or platform.machine()}); load average {load_before[0]:.1f} before, "
                     f"{load_after[0]:.1f} after; SGD momentum, learning rate and L2 of the spec's trainingOptions")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 rounds, 2 warm-up steps")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 31; 5 with --quick)")
    parser.add_argument("--block-seconds", type=float, default=None,
                        help="target length of one timed block (default 0.25; at least one step)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's own default)")
    parser.add_argument("--only", default=None, help="run only the cases whose label contains this text")
    parser.add_argument("--end-to-end", action="store_true",
                        help="time a whole netspec training epoch on real MNIST against a hand-written loop")
    parser.add_argument("--mnist", default=str(MNIST), help=f"--end-to-end: the MNIST IDX folder (default {MNIST})")
    parser.add_argument("--images", type=int, default=None,
                        help="--end-to-end: train on the first N training images (default: all 60,000)")
    args = parser.parse_args()
    console = Console() if sys.stdout.isatty() else Console(width=150)
    if args.end_to_end:
        torch.set_num_threads(args.threads or 1)
        end_to_end(args, console)
        return
    rounds = args.rounds or (5 if args.quick else 31)
    block = args.block_seconds or 0.25
    warmup = 2 if args.quick else 5
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()

    table = Table(title=f"training images/s, netspec vs hand-written PyTorch (median of {rounds} alternating blocks)")
    for column in ("network", "batch", "steps/block", "hand-written img/s", "netspec img/s", "ratio",
                   "paired ratio, median (min–max)", "best-block ratio", "CPU-time ratio", "target"):
        table.add_column(column, justify="left" if column == "network" else "right")
    for case in CASES:
        if args.only and args.only not in case.label:
            continue
        result = measure(case, rounds, block, warmup)
        paired = result.paired
        verdict = f"≥ {case.target} " + ("[green]PASS[/]" if result.ratio >= case.target else "[red]FAIL[/]")
        table.add_row(case.label, str(case.batch), str(result.steps), f"{statistics.median(result.hand):,.0f}",
                      f"{statistics.median(result.ours):,.0f}", f"{result.ratio:.3f}",
                      f"{statistics.median(paired):.3f} ({min(paired):.3f}–{max(paired):.3f})",
                      f"{result.best_ratio:.3f}", f"{result.cpu_ratio:.3f}", verdict)
    load_after = os.getloadavg()
    table.caption = (f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs "
                     f"({platform.processor() or platform.machine()}); load average {load_before[0]:.1f} before, "
                     f"{load_after[0]:.1f} after; SGD momentum 0.9, lr 0.01, cross-entropy on the logits")
    console.print(table)


if __name__ == "__main__":
    main()
