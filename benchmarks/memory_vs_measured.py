"""Training memory: `netspec analyze`'s estimate against one measured training step (issue 16).

    python benchmarks/memory_vs_measured.py [--batch 1 32 128] [--specs lenet5 resnet18 ...] [--layers]

For each spec and batch size, the estimate (`netspec.analysis`: weights, gradients, optimizer
state, activations kept for the backward pass) beside the measurement of the lowered module on
the CPU (`netspec.train.memory.measure_training_memory`: the storages autograd saves, counted
once each, plus parameters, gradients and optimizer state after one step). Target: every ratio
within 0.90-1.10. `--layers` lists the layers whose kept bytes differ. With a CUDA GPU,
`--cuda` also runs the step there and compares the estimate with `torch.cuda.max_memory_allocated`
(which also holds the backward pass's temporaries, so expect a ratio below 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import netspec  # noqa: E402
from netspec.analysis import analyze  # noqa: E402
from netspec.analysis.memory import training_memory  # noqa: E402
from netspec.analysis.render import human  # noqa: E402
from netspec.train.memory import measure_training_memory  # noqa: E402

DEFAULT_SPECS = sorted(path.stem for path in (ROOT / "specs").glob("*.net"))


def estimate(analysis, batch: int):
    t = analysis.totals
    totals = {"learnables": t.learnables, "states": t.states, "trainable_learnables": t.trainable_learnables,
              "saved_bytes": t.training_memory.per_image_bytes, "saved_batch_bytes": t.training_memory.per_batch_bytes}
    return training_memory(totals, batch_size=batch, solver=t.solver, bytes_per_element=analysis.bytes_per_element)


def differing_layers(analysis, measured, batch: int) -> list[str]:
    rows = []
    for layer in analysis.layers:
        expected = batch * layer.saved_bytes + layer.saved_batch_bytes
        got = measured.by_layer.get(layer.name, 0)
        if expected != got:
            rows.append(f"    {layer.name} ({layer.type}): estimate {expected}, measured {got}")
    return rows


def cuda_peak(network, batch: int) -> int | None:
    import torch

    if not torch.cuda.is_available():
        return None
    from netspec.train.memory import cuda_training_peak

    return cuda_training_peak(network, batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32, 128])
    parser.add_argument("--specs", nargs="+", default=DEFAULT_SPECS)
    parser.add_argument("--layers", action="store_true", help="list the layers whose kept bytes differ")
    parser.add_argument("--cuda", action="store_true", help="also compare with torch.cuda.max_memory_allocated")
    args = parser.parse_args()
    table = Table("spec", "batch", "estimate", "measured", "ratio", *(["CUDA peak", "est/peak"] if args.cuda else []))
    worst = 0.0
    for name in args.specs:
        network = netspec.load((ROOT / "specs" / f"{name}.net") if "/" not in name else Path(name))
        analysis = analyze(network)
        for batch in args.batch:
            memory = estimate(analysis, batch)
            measured = measure_training_memory(network, batch)
            ratio = memory.total_bytes / measured.total
            worst = max(worst, abs(ratio - 1))
            cells = [name, str(batch), human(memory.total_bytes, "B", True), human(measured.total, "B", True),
                     f"{ratio:.3f}"]
            if args.cuda:
                peak = cuda_peak(network, batch)
                cells += [human(peak, "B", True), f"{memory.total_bytes / peak:.3f}"] if peak else ["-", "-"]
            table.add_row(*cells)
            if args.layers:
                for line in differing_layers(analysis, measured, batch):
                    print(line)
            del measured
    Console(width=140).print(table)
    print(f"largest deviation: {worst:.1%} (target 10%)")
    return 0 if worst <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
