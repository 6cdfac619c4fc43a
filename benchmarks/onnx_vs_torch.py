"""Inference latency: onnxruntime (CPU) against PyTorch eager on the same exported networks.

    python benchmarks/onnx_vs_torch.py [--repeat 20] [--specs mnist_matlab resnet50 ...]

For each spec, the lowered PyTorch module and its `netspec export` ONNX model (same
weights) run on the same inputs at batch 1 and 32 (sequences: 29 time steps); the timed
calls alternate between the two so machine load hits both alike. Target (issue 5): onnxruntime no slower than
PyTorch eager at batch 1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import netspec  # noqa: E402
from netspec.backends.onnx import to_onnx  # noqa: E402
from netspec.backends.torch import to_torch  # noqa: E402

DEFAULT_SPECS = ["mnist_matlab", "lenet5", "alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "mobilenet_v2",
                 "japanese_vowels_bilstm", "japanese_vowels_gru"]
SEQUENCE_LENGTH = 29
"""Time steps fed to a sequence network (its ONNX time axis is dynamic): Japanese Vowels' longest."""


def median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10, help="timed calls per engine, batch and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--specs", nargs="*", default=DEFAULT_SPECS)
    args = parser.parse_args()
    console = Console()
    table = Table(title=f"inference latency, median ms (torch {torch.__version__}, onnxruntime "
                        f"{onnxruntime.__version__}, {torch.get_num_threads()} threads)")
    for column in ("spec", "batch", "torch eager", "onnxruntime", "ort / torch", "target"):
        table.add_column(column, justify="left" if column == "spec" else "right")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    for name in args.specs:
        network = netspec.load(ROOT / "specs" / f"{name}.net", set={"numClasses": "4"})
        model = to_torch(network, seed=0).eval()
        session = onnxruntime.InferenceSession(to_onnx(network, model.state_dict()).SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])
        feed = session.get_inputs()[0]
        for batch in (1, 32):
            sizes = [d if isinstance(d, int) else SEQUENCE_LENGTH for d in feed.shape[1:]]
            x = torch.rand(batch, *sizes) * (255 if len(sizes) == 3 else 1)  # images: pixel values
            array = x.numpy()
            with torch.no_grad():
                reference = model(x).numpy()
            assert np.abs(session.run(None, {feed.name: array})[0] - reference).max() < 1e-3
            repeat = max(2, args.repeat // (8 if batch == 32 and name in ("vgg16", "resnet50") else 1))
            torch_ms, ort_ms = [], []
            for _ in range(args.rounds):
                with torch.no_grad():
                    torch_ms.append(median_ms(lambda: model(x), repeat))
                ort_ms.append(median_ms(lambda: session.run(None, {feed.name: array}), repeat))
            t, o = statistics.median(torch_ms), statistics.median(ort_ms)
            verdict = ("[green]≤ torch[/]" if o <= t else "[red]> torch[/]") if batch == 1 else ""
            table.add_row(name, str(batch), f"{t:.2f}", f"{o:.2f}", f"{o / t:.2f}×", verdict)
    console.print(table)


if __name__ == "__main__":
    main()
