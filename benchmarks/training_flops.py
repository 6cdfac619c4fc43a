"""One training step's FLOPs: `netspec analyze --convention torch` against FlopCounterMode.

    python benchmarks/training_flops.py [--batch 2]

For every spec in specs/ (numClasses = 4) and the zoo networks, netspec's training-step total
(forward, backward to the inputs, backward to the learnables) against FlopCounterMode around
one `model(x).sum().backward()` of the lowered module, input without gradient, on PyTorch's
`meta` device (shapes only: the count is the same as on the CPU, tests/backends/
test_training_compute.py shows it). Columns: GFLOPs per image (forward, backward to inputs,
backward to learnables, the step), backward / forward, whether the totals agree exactly, the step in
2·MACs (`--convention macs` × 2: FlopCounterMode counts a grouped weight gradient as if ungrouped,
so depthwise networks do far less work than it says), and the time netspec's analysis takes in
process against building the module and counting its step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import netspec  # noqa: E402
from netspec.analysis import analyze  # noqa: E402
from netspec.backends.torch import to_torch  # noqa: E402
from netspec.language import load_source  # noqa: E402

ZOO = ("resnet18", "mobilenetv2", "googlenet", "squeezenet", "shufflenet", "efficientnetb0", "resnet50",
       "inceptionv3", "densenet201", "xception", "darknet53", "vgg19")


def _networks():
    for path in sorted((ROOT / "specs").glob("*.net")):
        yield path.name, netspec.load(str(path), set={"numClasses": "4"})
    for name in ZOO:
        yield f"zoo {name}", load_source(f"net = {name};\n", "zoo.net").network


def _measured(network, batch: int) -> int:
    with torch.device("meta"):
        model = to_torch(network, seed=0)
        inputs = [torch.zeros(batch, *size) for size in model.input_sizes]
    with FlopCounterMode(display=False) as counter:
        outputs = model(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        sum(output.sum() for output in outputs).backward()
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    batch = parser.parse_args().batch
    print("| network | forward | ∂inputs | ∂learnables | step (GFLOPs/image) | backward / forward | "
          "= FlopCounterMode | 2·MACs step | netspec | FlopCounterMode |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    agreed = 0
    rows = 0
    for name, network in _networks():
        start = time.perf_counter()
        step = analyze(network, convention="torch").totals.training
        computed = time.perf_counter() - start
        real = 2 * analyze(network, convention="macs").totals.training.training_step
        start = time.perf_counter()
        measured = _measured(network, batch)
        counted = time.perf_counter() - start
        same = measured == batch * step.training_step
        agreed += same
        rows += 1
        print(f"| {name} | {step.forward / 1e9:.3f} | {step.backward_input / 1e9:.3f} | "
              f"{step.backward_weights / 1e9:.3f} | {step.training_step / 1e9:.3f} | "
              f"{(step.backward_input + step.backward_weights) / step.forward:.2f} | "
              f"{'yes' if same else f'NO ({measured} vs {batch * step.training_step})'} | "
              f"{real / 1e9:.3f} | {computed * 1e3:.0f} ms | {counted:.2f} s |")
    print(f"\n{agreed} of {rows} networks: netspec's training step = FlopCounterMode's, batch {batch}")


if __name__ == "__main__":
    main()
