"""Parse + evaluate speed of every spec, of generated 10,000-layer specs, and of whole
`netspec check` processes, against a peer measured in the same run.

    python benchmarks/parse_speed.py [--repeat 5] [--layers 10000]

Targets (issue 2): a generated 10,000-layer spec in under 1 s (issue 12: 100,000 layers in
under 10 s; --layers N checks N / 10,000 s); `netspec check specs/resnet50.net` as a whole
process in under 0.5 s, with torch and onnx never imported. The peer row is
`python -c "import torch"`: the least any tool that builds the PyTorch model to count its
layers must pay before its first layer. The generated specs are also what
`benchmarks/large_networks.py` runs as whole processes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = Path(sys.executable).with_name("netspec")
NETSPEC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "netspec.cli"]
"""The console script a user runs (`-m netspec.cli` would run the package as __main__, compiled again in every process)."""
sys.path.insert(0, str(ROOT))

from netspec.language import Limits, load_file, parse_bindings  # noqa: E402

LAYERS = 10_000


def literal_spec(layers: int = LAYERS) -> str:
    """`layers` layers written out one per line, in a single column array."""
    lines = ["layers = [imageInputLayer([32 32 16])"]
    for i in range(1, layers - 1):
        if i % 2:
            lines.append(f"    convolution2dLayer(3, 16, 'Padding', 'same', 'Name', 'conv{i}')")
        else:
            lines.append(f"    reluLayer('Name', 'relu{i}')")
    lines.append("    softmaxLayer];")
    return "\n".join(lines) + "\n"


def loop_spec(layers: int = LAYERS) -> str:
    """`layers` layers built the way deep MATLAB networks are written: a block function in a loop."""
    return f"""layers = imageInputLayer([32 32 16], 'Name', 'input');
for i = 1:{(layers - 1) // 3}
    layers = [layers; block(i)];
end
""" + """function out = block(i)
    out = [convolution2dLayer(3, 16, 'Padding', 'same', 'Name', sprintf('conv%d', i))
           batchNormalizationLayer('Name', sprintf('bn%d', i))
           reluLayer('Name', sprintf('relu%d', i))];
end
"""


def residual_spec(layers: int = LAYERS) -> str:
    """About `layers` layers in residual blocks, a layer graph edited in a loop as ResNets are written
    (addLayers, then connectLayers for the block's input and its shortcut)."""
    blocks = (layers - 3) // 6
    return f"""lgraph = layerGraph([imageInputLayer([32 32 16], 'Name', 'input'); reluLayer('Name', 'relu0')]);
for i = 1:{blocks}
    lgraph = addLayers(lgraph, [convolution2dLayer(3, 16, 'Padding', 'same', 'Name', sprintf('conv%da', i))
                                batchNormalizationLayer('Name', sprintf('bn%d', i))
                                reluLayer('Name', sprintf('relu%da', i))
                                convolution2dLayer(3, 16, 'Padding', 'same', 'Name', sprintf('conv%db', i))
                                additionLayer(2, 'Name', sprintf('add%d', i))
                                reluLayer('Name', sprintf('relu%d', i))]);
    lgraph = connectLayers(lgraph, sprintf('relu%d', i - 1), sprintf('conv%da', i));
    lgraph = connectLayers(lgraph, sprintf('relu%d', i - 1), sprintf('add%d/in2', i));
end
lgraph = addLayers(lgraph, softmaxLayer('Name', 'softmax'));
lgraph = connectLayers(lgraph, 'relu{blocks}', 'softmax');
"""


GENERATED = {"written out": literal_spec, "loop + function": loop_spec, "residual graph, loop": residual_spec}
"""The generated specs, by how they are written."""


def timed(fn, repeat: int) -> tuple[float, object]:
    result = fn()  # warm-up: grammar cache, pydantic schemas
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def process_time(command: list[str], repeat: int) -> float:
    subprocess.run(command, cwd=ROOT, capture_output=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--layers", type=int, default=LAYERS, help="size of the generated specs")
    args = parser.parse_args()
    console = Console()
    bindings = parse_bindings(["numClasses=4"])

    table = Table(title="parse + evaluate, in process (median)")
    table.add_column("spec")
    table.add_column("layers", justify="right")
    table.add_column("time", justify="right")
    table.add_column("layers/s", justify="right")
    for spec in sorted((ROOT / "specs").glob("*.net")):
        seconds, result = timed(lambda: load_file(spec, bindings=bindings), args.repeat)
        count = len(result.network.layers)
        table.add_row(spec.name, f"{count:,}", f"{seconds * 1000:.1f} ms", f"{count / seconds:,.0f}")
    target_s = args.layers / 10_000
    with tempfile.TemporaryDirectory() as tmp:
        for label, generate in GENERATED.items():
            path = Path(tmp) / "generated.net"
            path.write_text(generate(args.layers))
            limits = Limits(source_bytes=max(Limits().source_bytes, path.stat().st_size))  # 100k lines: 5 MB
            seconds, result = timed(lambda: load_file(path, limits=limits), max(1, args.repeat // 2))
            count = len(result.network.layers)
            verdict = f"[green]< {target_s:g} s[/]" if seconds < target_s else f"[red]> {target_s:g} s[/]"
            table.add_row(f"{args.layers // 1000}k layers, {label} ({verdict})", f"{count:,}",
                          f"{seconds * 1000:.0f} ms", f"{count / seconds:,.0f}")
    console.print(table)

    check = [*NETSPEC, "check", "specs/resnet50.net"]
    probe = [sys.executable, "-c",
             "import sys, runpy; sys.argv=['netspec','check','specs/resnet50.net'];"
             "from netspec.cli import app\n"
             "try: app()\nexcept SystemExit: pass\n"
             "print('torch' in sys.modules or 'onnx' in sys.modules)"]
    imported = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    netspec_s = process_time(check, args.repeat)
    peer_s = process_time([sys.executable, "-c", "import torch"], args.repeat)
    python_s = process_time([sys.executable, "-c", "pass"], args.repeat)
    whole = Table(title="whole process (median)")
    for column in ("command", "time", "vs netspec"):
        whole.add_column(column, justify="right" if column != "command" else "left")
    verdict = "[green]< 0.5 s[/]" if netspec_s < 0.5 else "[red]> 0.5 s[/]"
    whole.add_row(f"netspec check specs/resnet50.net ({verdict}; torch/onnx imported: {imported})",
                  f"{netspec_s:.3f} s", "1.00×")
    whole.add_row("peer: python -c 'import torch'", f"{peer_s:.3f} s", f"{peer_s / netspec_s:.2f}×")
    whole.add_row("python -c pass (interpreter start)", f"{python_s:.3f} s", f"{python_s / netspec_s:.2f}×")
    console.print(whole)


if __name__ == "__main__":
    main()
