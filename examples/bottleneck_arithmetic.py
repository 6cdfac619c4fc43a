"""Why GoogLeNet puts a 1×1 convolution before its 5×5 ones (seed 003, "GoogLeNet (inception v1)").

    python examples/bottleneck_arithmetic.py [--quick] [--widths 8 16 32 64 128 256]

The course's arithmetic: on a 14×14×480 input, a 5×5 convolution to 48 channels costs
14·14·48·5·5·480 = 112.9 M operations; reducing to 16 channels with a 1×1 convolution
first costs 1.5 M + 3.8 M = 5.3 M. netspec's analyzer finds that pair in
specs/inception_module.net and reports it; this script prints that report, then sweeps the
reduced width r over specs generated in memory (input → 1×1 conv to r → ReLU → 5×5 conv),
each analyzed for the bottleneck's MACs and learnables against the direct 5×5 convolution.
Nothing is trained.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from netspec.analysis import analyze
from netspec.language import load_file, load_source, parse_bindings

INCEPTION = Path(__file__).resolve().parent.parent / "specs" / "inception_module.net"
WIDTHS = (8, 16, 32, 64, 128, 256)

BOTTLENECK = """
% a 1×1 reduction to r channels, then the k×k convolution (one inception branch);
% the script binds r (like --set r=32)
H = 14; Cin = 480; r = 16; k = 5; Cout = 48;
layers = [imageInputLayer([H H Cin],'Name','input')
    convolution2dLayer(1,r,'Name','reduce_1x1')
    reluLayer('Name','reduce_relu')
    convolution2dLayer(k,Cout,'Padding','same','Name','conv')];
"""


def learnables_of(analysis, *names: str) -> int:
    return sum(row.learnables for row in analysis.layers if row.name in names)


def course_example() -> dict[str, Any]:
    """The analyzer's bottleneck report on specs/inception_module.net, with the layers' learnables."""
    analysis = analyze(load_file(INCEPTION).network)
    (pair,) = analysis.bottlenecks
    return {**asdict(pair), "direct_learnables": learnables_of(analysis, "direct_5x5"),
            "bottleneck_learnables": learnables_of(analysis, pair.reduce, pair.conv)}


def sweep(widths: tuple[int, ...] = WIDTHS) -> list[dict[str, Any]]:
    """One generated inception branch per reduced width r, analyzed."""
    rows = []
    for width in widths:
        network = load_source(BOTTLENECK, f"<bottleneck r={width}>", bindings=parse_bindings([f"r={width}"])).network
        analysis = analyze(network)
        (pair,) = analysis.bottlenecks
        rows.append({**asdict(pair), "bottleneck_learnables": learnables_of(analysis, pair.reduce, pair.conv)})
    return rows


def arithmetic(widths: tuple[int, ...] = WIDTHS) -> dict[str, Any]:
    return {"course": course_example(), "sweep": sweep(widths)}


def tables(result: dict[str, Any]) -> list[Table]:
    course = result["course"]
    size = "×".join(map(str, course["output_size"]))
    example = Table(title=f"{INCEPTION.name}: {size}×{course['input_channels']} input, "
                          f"{course['kernel'][0]}×{course['kernel'][1]} convolution to {course['output_channels']}")
    for column in ("", "MACs", "learnables"):
        example.add_column(column, justify="left" if not column else "right")
    example.add_row(f"direct {course['kernel'][0]}×{course['kernel'][1]}", f"{course['direct_macs']:,}",
                    f"{course['direct_learnables']:,}")
    example.add_row(f"{course['reduce']} ({course['input_channels']} → {course['reduced_channels']})",
                    f"{course['reduce_macs']:,}", "")
    example.add_row(f"{course['conv']} ({course['reduced_channels']} → {course['output_channels']})",
                    f"{course['conv_macs']:,}", "")
    example.add_row("bottleneck pair", f"{course['bottleneck_macs']:,}", f"{course['bottleneck_learnables']:,}",
                    end_section=True)
    example.add_row("direct ÷ bottleneck", f"{course['ratio']}×",
                    f"{course['direct_learnables'] / course['bottleneck_learnables']:.2f}×")

    swept = Table(title=f"Reduced width r: {size}×{course['input_channels']} → 1×1 to r → "
                        f"{course['kernel'][0]}×{course['kernel'][1]} to {course['output_channels']}",
                  caption=f"direct {course['kernel'][0]}×{course['kernel'][1]}: {course['direct_macs']:,} MACs, "
                          f"{course['direct_learnables']:,} learnables")
    for column in ("r", "1×1 MACs", "5×5 MACs", "pair MACs", "direct ÷ pair", "pair learnables"):
        swept.add_column(column, justify="right")
    for row in result["sweep"]:
        swept.add_row(str(row["reduced_channels"]), f"{row['reduce_macs']:,}", f"{row['conv_macs']:,}",
                      f"{row['bottleneck_macs']:,}", f"{row['ratio']}×", f"{row['bottleneck_learnables']:,}")
    return [example, swept]


def conclusion(result: dict[str, Any]) -> str:
    course, rows = result["course"], result["sweep"]
    # both convolutions of the pair are linear in r: MACs per reduced channel
    per_channel = rows[0]["bottleneck_macs"] / rows[0]["reduced_channels"]
    break_even = course["direct_macs"] / per_channel
    return (f"The 1×1 reduction to {course['reduced_channels']} channels cuts the {course['kernel'][0]}×"
            f"{course['kernel'][1]} convolution from {course['direct_macs'] / 1e6:.1f} M to "
            f"{course['bottleneck_macs'] / 1e6:.2f} M MACs ({course['ratio']}×) and its learnables from "
            f"{course['direct_learnables']:,} to {course['bottleneck_learnables']:,}. The pair costs "
            f"{per_channel:,.0f} MACs per reduced channel, so it saves work as long as r < {break_even:.1f} "
            f"(of {course['input_channels']} input channels): from {rows[0]['ratio']}× at r = "
            f"{rows[0]['reduced_channels']} down to {rows[-1]['ratio']}× at r = {rows[-1]['reduced_channels']}.")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the command line, compute and print; return the results (for tests)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="widths 8, 16, 32 only")
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS), help="reduced widths r to sweep")
    args = parser.parse_args(argv)
    result = arithmetic((8, 16, 32) if args.quick else tuple(args.widths))
    console = Console()
    for view in tables(result):
        console.print(view)
    console.print(conclusion(result))
    return result


if __name__ == "__main__":
    main()
