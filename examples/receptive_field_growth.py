"""How the receptive field grows with depth, and whether to go deeper or use wider filters
(seed 000, "Champs réceptifs"), answered by netspec's analyzer alone: nothing is trained.

    python examples/receptive_field_growth.py [--quick] [--channels 64] [--max-depth 6]

The course asks: how does the receptive field evolve with the depth of the network? (it
grows, even without pooling) Is it better to increase the depth or the filter width? (depth
limits the number of parameters). Every network here is a spec generated in memory: a stack
of `depth` k×k stride-1 convolutions (C → C channels, 'same' padding, ReLU after each),
analyzed for its receptive field and learnables. The script checks the analyzer against the
closed form r = 1 + depth·(k − 1), then groups the stacks that see the same field: three
3×3 layers see 7×7 like one 7×7 layer with 27·C² weights instead of 49·C². A last table
shows what pooling changes: each layer after a stride-s layer widens the field s times more
(the jump, or effective stride).
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from netspec.analysis import analyze
from netspec.language import load_source, parse_bindings

KERNELS = (3, 5, 7)

STACK = """
% depth k×k convolutions, C -> C channels; the script binds C, k and depth (like --set)
C = 64; k = 3; depth = 3;
layers = imageInputLayer([64 64 C]);
for i = 1:depth
    layers = [layers
        convolution2dLayer(k,C,'Padding','same','Name',sprintf('conv%d',i))
        reluLayer('Name',sprintf('relu%d',i))];
end
"""

POOLED = """
% VGG-like: two 3×3 convolutions, 2×2 max-pooling, twice, then one more 3×3 convolution
layers = [imageInputLayer([64 64 3],'Name','input')
    convolution2dLayer(3,64,'Padding','same','Name','conv1_1')
    convolution2dLayer(3,64,'Padding','same','Name','conv1_2')
    maxPooling2dLayer(2,'Stride',2,'Name','pool1')
    convolution2dLayer(3,128,'Padding','same','Name','conv2_1')
    convolution2dLayer(3,128,'Padding','same','Name','conv2_2')
    maxPooling2dLayer(2,'Stride',2,'Name','pool2')
    convolution2dLayer(3,256,'Padding','same','Name','conv3_1')];
"""


def stack(kernel: int, depth: int, channels: int) -> dict[str, Any]:
    """One generated stack, analyzed: its last layer's receptive field and the total learnables."""
    bindings = parse_bindings([f"k={kernel}", f"depth={depth}", f"C={channels}"])
    analysis = analyze(load_source(STACK, f"<stack {kernel}x{kernel}x{depth}>", bindings=bindings).network)
    field = analysis.layers[-1].receptive_field
    sizes = {axis.size for axis in field.axes}
    assert len(sizes) == 1, f"a square stack has a square field, got {field.display()}"
    size = sizes.pop()
    closed_form = 1 + depth * (kernel - 1)
    assert size == closed_form, f"{kernel}x{kernel}x{depth}: analyzer {size}, closed form {closed_form}"
    learnables = analysis.totals.learnables
    return {"kernel": kernel, "depth": depth, "receptive_field": size, "learnables": learnables,
            "weights_per_c2": (learnables - depth * channels) // channels ** 2}


def pooled_growth() -> list[dict[str, Any]]:
    """Per layer of the VGG-like spec: the analyzer's field size and jump, checked against the
    recursion r ← r + (k − 1)·j, j ← j·s over the layers' own window and stride."""
    network = load_source(POOLED, "<vgg-like>").network
    rows, size, jump = [], 1, 1
    for layer, report in zip(network.layers, analyze(network).layers):
        window = (getattr(layer, "filter_size", None) or getattr(layer, "pool_size", None) or (None,))[0]
        stride = (getattr(layer, "stride", None) or (None,))[0]
        size, jump = size + ((window or 1) - 1) * jump, jump * (stride or 1)
        axis = report.receptive_field.axes[0]
        assert (axis.size, int(axis.jump)) == (size, jump), f"{layer.name}: {axis} vs recursion {size}, {jump}"
        rows.append({"layer": layer.name, "type": layer.matlab, "window": window, "stride": stride,
                     "receptive_field": axis.size, "jump": int(axis.jump)})
    return rows


def growth(channels: int = 64, max_depth: int = 6) -> dict[str, Any]:
    """Every k×k stack up to `max_depth`; stacks with the same field; the pooled network's growth."""
    stacks = [stack(k, d, channels) for k in KERNELS for d in range(1, max_depth + 1)]
    same_field: dict[int, list[dict[str, Any]]] = {}
    for row in stacks:
        same_field.setdefault(row["receptive_field"], []).append(row)
    same_field = {r: sorted(rows, key=lambda row: row["learnables"])
                  for r, rows in sorted(same_field.items()) if len(rows) > 1}
    return {"channels": channels, "stacks": stacks, "same_field": same_field, "pooled": pooled_growth()}


def tables(result: dict[str, Any]) -> list[Table]:
    channels = result["channels"]
    by_depth = Table(title=f"Stacked k×k convolutions, {channels} → {channels} channels, stride 1: "
                           "receptive field · learnables")
    by_depth.add_column("depth", justify="right")
    for k in KERNELS:
        by_depth.add_column(f"{k}×{k} filters", justify="right")
    depths = sorted({row["depth"] for row in result["stacks"]})
    cell = {(row["kernel"], row["depth"]): row for row in result["stacks"]}
    for d in depths:
        by_depth.add_row(str(d), *[f"{cell[k, d]['receptive_field']}×{cell[k, d]['receptive_field']} · "
                                   f"{cell[k, d]['learnables']:,}" for k in KERNELS])

    same = Table(title="Same receptive field, different stacks (cheapest first)")
    for column in ("field", "stack", "learnables", "weights", "vs cheapest"):
        same.add_column(column, justify="left" if column == "stack" else "right")
    for r, rows in result["same_field"].items():
        for i, row in enumerate(rows):
            same.add_row(f"{r}×{r}" if i == 0 else "", f"{row['depth']} × ({row['kernel']}×{row['kernel']})",
                         f"{row['learnables']:,}", f"{row['weights_per_c2']}·C²",
                         f"{row['learnables'] / rows[0]['learnables']:.2f}×", end_section=i == len(rows) - 1)

    pooled = Table(title="With pooling: the jump multiplies what each later layer adds")
    for column in ("layer", "type", "window", "stride", "field", "jump"):
        pooled.add_column(column, justify="left" if column in ("layer", "type") else "right")
    for row in result["pooled"]:
        pooled.add_row(row["layer"], row["type"], *[str(row[key] or "—") for key in ("window", "stride")],
                       f"{row['receptive_field']}×{row['receptive_field']}", str(row["jump"]))
    return [by_depth, same, pooled]


def conclusion(result: dict[str, Any]) -> str:
    groups = result["same_field"]
    smallest_kernel_wins = all(rows[0]["kernel"] == min(row["kernel"] for row in rows) for rows in groups.values())
    r7 = {row["kernel"]: row for row in groups.get(7, [])}
    example = (f" Three 3×3 layers see 7×7 with {r7[3]['learnables']:,} learnables ({r7[3]['weights_per_c2']}·C² "
               f"weights), one 7×7 layer with {r7[7]['learnables']:,} ({r7[7]['weights_per_c2']}·C²): "
               f"{r7[7]['learnables'] / r7[3]['learnables']:.2f}× more." if 3 in r7 and 7 in r7 else "")
    pooled = result["pooled"]
    last_conv = [row for row in pooled if row["type"] == "convolution2dLayer"][-1]
    first_conv = next(row for row in pooled if row["type"] == "convolution2dLayer")
    verdict = ("the stack of the smallest filters has the fewest learnables" if smallest_kernel_wins
               else "the smallest filters are not always the cheapest")
    return (f"Every convolution widens the field by k − 1 pixels, so it grows linearly with depth, without "
            f"pooling (checked: r = 1 + depth·(k − 1) for all {len(result['stacks'])} stacks). For every field "
            f"that several stacks reach, {verdict}: depth buys field more cheaply than width, and adds a ReLU "
            f"per layer.{example} After pooling, a 3×3 layer adds {2 * last_conv['jump']} pixels instead of "
            f"{2 * first_conv['jump']} (jump {last_conv['jump']}): {last_conv['layer']} sees "
            f"{last_conv['receptive_field']}×{last_conv['receptive_field']}.")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the command line, compute and print; return the results (for tests)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="depths 1 to 3 only")
    parser.add_argument("--channels", type=int, default=64, help="C, the channels of every layer")
    parser.add_argument("--max-depth", type=int, default=6)
    args = parser.parse_args(argv)
    result = growth(args.channels, 3 if args.quick else args.max_depth)
    console = Console()
    for view in tables(result):
        console.print(view)
    console.print(conclusion(result))
    return result


if __name__ == "__main__":
    main()
