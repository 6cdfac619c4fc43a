"""Commands that read a spec or the catalogue and never run a network: `check`, `parse`,
`analyze`, `graph`, `layers`, `schema`, `explain`. They import neither torch nor onnx."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import collector
from .options import (AllOption, ArgsOption, JsonOption, MaxFileSizeOption, NetOption, PathOption, QuietOption,
                      SequenceLengthOption, SetOption, SpecOptions, format_option, is_whole_number)
from ..text import printable
from .output import Output, choose

__all__ = ["check", "parse_command", "analyze", "graph", "layers", "schema"]

CHECK_FORMATS = ("text", "json")
CheckFormat = format_option(*CHECK_FORMATS)


def check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help=".net or .m files to check.")],
    format: CheckFormat = "text",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
    args: ArgsOption = None,
) -> None:
    """Parse and validate network files: exit 0, or print located diagnostics and exit 1."""
    from ..diagnostics import Severity

    out = Output.of(format, CHECK_FORMATS, as_json=as_json, quiet=quiet)
    spec = SpecOptions(net, set_, max_file_size, path, args)
    checked, failed = [], 0
    for file in files:
        result = spec.load(file, out)
        network = result.network
        failed += network is None
        if out.json:
            checked.append((file, result))
        elif network is not None:
            warnings = sum(d.severity is Severity.warning for d in result.diagnostics)
            note = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
            chosen = f"; network {printable(result.choice.describe())}" if result.choice else ""
            out.text(f"{file}: ok ({len(network.layers)} layers, {len(network.connections)} connections{note}{chosen})")
    if out.json:
        from .reports import CheckReport, FileCheck

        out.document(CheckReport(files=[FileCheck.of(file, result) for file, result in checked], failed=failed))
    if failed:
        out.note(f"{failed} of {len(files)} file{'s' if len(files) != 1 else ''} failed")
        raise typer.Exit(1)


PARSE_FORMATS = ("table", "json")
ParseFormat = format_option(*PARSE_FORMATS)


def parse_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .net or .m file.")],
    format: ParseFormat = "table",
    as_json: JsonOption = False,
    show_all: AllOption = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
    args: ArgsOption = None,
) -> None:
    """Print the network's IR: a layer listing, or the full JSON with --format json."""
    out = Output.of(format, PARSE_FORMATS, as_json=as_json)
    network = SpecOptions(net, set_, max_file_size, path, args).load(file, out).network
    if network is None:
        raise typer.Exit(1)
    if out.json:
        out.document(network)
        return
    from rich.table import Table

    from ..tables import layer_table
    from ..text import terminal_text

    table = Table(title=terminal_text(f"{file} — {network.name}", "table.title"))
    for column in ("#", "name", "type", "inputs"):
        table.add_column(column)
    sources: dict[str, list[str]] = {}
    for edge in network.connections:
        sources.setdefault(edge.destination, []).append(
            edge.source if edge.destination_port == "in" else f"{edge.source} → {edge.destination_port}")
    layers = network.layers

    def cells(index: int) -> list[str]:
        layer = layers[index]
        return [str(index + 1), printable(layer.name), layer.matlab,
                printable(", ".join(sources.get(layer.name, [])))]

    with collector.paused():  # a long table's rows would otherwise set off collections that walk the network
        out.show(layer_table(table, len(layers), cells, show_all=show_all), crop=False)


def _input_size(text: str | None) -> tuple | None:
    """'224 224 3', '224x224x3' or 'H W 3' -> (224, 224, 3) / ('H', 'W', 3)."""
    if text is None:
        return None
    parts = text.replace("x", " ").replace("×", " ").replace(",", " ").split() if not any(
        c.isalpha() and c != "x" for c in text) else text.replace(",", " ").split()
    if not 1 <= len(parts) <= 4:
        raise typer.BadParameter("give H W C for images, T C for sequences, T H W C for image sequences, or C for "
                                 "features",
                                 param_hint="--input-size")
    size: list[int | str] = []
    for part in parts:
        if is_whole_number(part) and int(part) > 0:
            size.append(int(part))
        elif part.isidentifier():
            size.append(part)
        else:
            raise typer.BadParameter(f"'{part}' is neither a positive whole number nor a symbol name",
                                     param_hint="--input-size")
    return tuple(size)


def _dtype(text: str) -> str:
    """--dtype, checked where the analysis checks it (`analysis.bytes_per_element`)."""
    from ..analysis import bytes_per_element

    try:
        bytes_per_element(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return text


MEMORY_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4,
                "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4}
"""--fit's units: decimal (kB, MB, GB, TB) and binary (KiB, MiB, GiB, TiB); a plain number is bytes."""


def memory_size(text: str) -> int:
    """'16GiB', '1.5 GB', '512MiB' or '1000000' -> bytes; anything else a BadParameter naming the units."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in MEMORY_UNITS:
        raise typer.BadParameter(f"'{printable(text)}' is not a memory size: write a number and a unit, e.g. 16GiB, "
                                 "512MiB, 8GB or 1000000 (bytes); units: KiB MiB GiB TiB, kB MB GB TB",
                                 param_hint="--fit")
    size = int(float(match.group(1)) * MEMORY_UNITS[unit])
    if size < 1:
        raise typer.BadParameter(f"'{printable(text)}' is no memory at all", param_hint="--fit")
    return size


ANALYZE_FORMATS = ("table", "json", "markdown", "csv")
AnalyzeFormat = format_option(*ANALYZE_FORMATS)


def analyze(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .net or .m file.")],
    format: AnalyzeFormat = "table",
    as_json: JsonOption = False,
    input_size: Annotated[Optional[str], typer.Option(
        "--input-size", metavar="H W C", help="Override the input size (numbers, or symbols such as H W 3 "
        "for formulas).")] = None,
    sequence_length: SequenceLengthOption = None,
    dtype: Annotated[str, typer.Option(parser=_dtype, help="Element type for memory: float32, float16, bfloat16, "
                                                           "float64, int8.")] = "float32",
    convention: Annotated[str, typer.Option(help="Cost column: macs (multiply-accumulates), flops (netspec's "
                                                 "table), torch (what FlopCounterMode counts; recurrent layers as "
                                                 "torch's native kernel runs them).")] = "macs",
    batch_size: Annotated[Optional[int], typer.Option(
        min=1, help="Batch of the per-iteration figures (default: the spec's MiniBatchSize).")] = None,
    train_size: Annotated[Optional[int], typer.Option(
        min=1, metavar="N", help="Training samples: adds one epoch's training compute.")] = None,
    training: Annotated[bool, typer.Option(
        "--training", help="Per-layer columns of one training step: forward, backward to the inputs and to "
        "the learnables, in --convention.")] = False,
    fit: Annotated[Optional[str], typer.Option(
        "--fit", metavar="SIZE", help="Memory of a device (16GiB, 80GB, bytes): print the largest MiniBatchSize "
        "whose training memory fits, and what fills it.")] = None,
    show_all: AllOption = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
    args: ArgsOption = None,
) -> None:
    """Per-layer shapes, learnables, MACs/FLOPs, memory and receptive fields, with totals, one
    training step's compute, 1×1-bottleneck savings and diagnostics. Exits 1 when the network has errors."""
    from ..analysis import analyze as run_analysis
    from ..analysis import render

    out = Output.of(format, ANALYZE_FORMATS, as_json=as_json)
    choose(convention, tuple(render.CONVENTIONS), "--convention")
    size = _input_size(input_size)
    budget = memory_size(fit) if fit is not None else None
    result = SpecOptions(net, set_, max_file_size, path, args).load(file, out)
    if result.network is None:
        raise typer.Exit(1)
    analysis = run_analysis(result.network, input_size=size, dtype=dtype, convention=convention,
                            batch_size=batch_size, train_size=train_size, sequence_length=sequence_length)
    if budget is not None and not analysis.has_errors:
        from ..analysis.memory import fit as fit_batch
        from ..diagnostics import NetspecError

        try:
            analysis.fit = fit_batch(analysis, budget)
        except NetspecError as exc:
            out.diagnostics([*analysis.diagnostics, *exc.diagnostics], result.sources)
            raise typer.Exit(1) from None
    if out.json:
        out.document(render.as_json(analysis))
    elif out.format == "markdown":
        out.text(render.as_markdown(analysis, convention))  # type: ignore[arg-type]
    elif out.format == "csv":
        out.text(render.as_csv(analysis), newline=False)
    else:
        with collector.paused():  # a long table's rows would otherwise set off collections that walk the report
            out.show(render.as_table(analysis, convention, show_all, training), crop=False)  # type: ignore[arg-type]
        for line in render.summary_lines(analysis, convention):  # type: ignore[arg-type]
            out.show(line)
        if analysis.bottlenecks:
            out.show(render.bottleneck_table(analysis))
    out.diagnostics(analysis.diagnostics, result.sources)
    if analysis.has_errors:
        raise typer.Exit(1)


GRAPHVIZ_INSTALL = ("apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS), "
                    "or see https://graphviz.org/download/")


def graph(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .net or .m file.")],
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="File to write: .dot, .svg, .png or .pdf (default: DOT on stdout).")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="dot, svg, png or pdf (default: from the -o suffix).")] = None,
    sequence_length: SequenceLengthOption = None,
    collapse: Annotated[bool, typer.Option(
        "--collapse", help="Draw each run of repeated blocks once, in a box marked ×N.")] = False,
    color: Annotated[str, typer.Option(
        "--color", help="Fill by: family (default), macs or memory (each layer's share, darker is more).")] = "family",
    quiet: QuietOption = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
    args: ArgsOption = None,
) -> None:
    """Draw the network's DAG with Graphviz, shapes on the edges. DOT always; SVG/PNG/PDF
    when the Graphviz `dot` program is installed (otherwise the .dot file and how to render it).
    Exits 1 when the network has errors (the drawing is still written, unknown shapes as '?')."""
    import shlex
    import shutil

    from ..analysis import analyze as run_analysis
    from ..backends import graphviz as backend

    out = Output(quiet=quiet)
    choose(color, backend.COLORINGS, "--color")
    suffixes = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf"}
    if format is not None:
        choose(format, backend.FORMATS, "--format")
    else:
        format = suffixes.get(output.suffix.lower()) if output is not None else "dot"
        if format is None:
            raise typer.BadParameter(f"cannot tell the format from '{output}'; name it .dot, .svg, .png or "
                                     ".pdf, or give --format", param_hint="--output")
    if output is None and format != "dot":
        raise typer.BadParameter(f"--format {format} needs a file: give -o FILE.{format}", param_hint="--output")
    result = SpecOptions(net, set_, max_file_size, path, args).load(file, out)
    if result.network is None:
        raise typer.Exit(1)
    analysis = run_analysis(result.network, sequence_length=sequence_length)
    try:
        drawing = backend.to_dot(result.network, analysis, collapse=collapse, color=color)
    except ValueError as exc:  # shares of a symbolic size
        out.diagnostics(analysis.diagnostics, result.sources)
        out.error(str(exc))
        raise typer.Exit(1)
    if output is None:
        out.text(drawing.source, newline=False)
    else:
        dot = shutil.which("dot") if format != "dot" else None
        try:
            if format == "dot" or dot is not None:
                backend.write(drawing, output, format, dot=dot or "dot")
                out.wrote(output)
            else:  # a user error (exit 1) that still leaves the drawing, unless a file of that name exists
                fallback = output.with_suffix(".dot")
                wrote = not fallback.exists()
                if wrote:
                    backend.write(drawing, fallback, "dot")
                out.error(f"the Graphviz 'dot' program is not installed, so {output} was not written"
                          + (f"; {fallback} was written instead.\nRender it with:\n    dot -T{format} "
                             f"{shlex.quote(str(fallback))} -o {shlex.quote(str(output))}\nafter installing"
                             if wrote else ".\nInstall") + f" Graphviz: {GRAPHVIZ_INSTALL}")
                raise typer.Exit(1)
        except (OSError, backend.RenderError) as exc:
            out.error(f"cannot write {output}: {exc}")
            raise typer.Exit(1)
    out.diagnostics(analysis.diagnostics, result.sources)
    if analysis.has_errors:
        raise typer.Exit(1)


LAYERS_FORMATS = ("table", "json", "markdown")
LayersFormat = format_option(*LAYERS_FORMATS)


def layers(
    format: LayersFormat = "table",
    as_json: JsonOption = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a markdown table: the same as "
                                                              "--format markdown.")] = False,
) -> None:
    """List every layer constructor netspec reads, with its options and MATLAB defaults."""
    from ..ir.catalogue import catalogue_entries, catalogue_markdown, catalogue_rows

    out = Output.of("markdown" if markdown else format, LAYERS_FORMATS, as_json=as_json)
    if out.json:
        from .reports import Catalogue

        out.document(Catalogue(catalogue_entries()))
    elif out.format == "markdown":
        out.text(catalogue_markdown())
    else:
        from rich.table import Table

        table = Table(title="netspec layer catalogue (every layer also takes 'Name')")
        for column in ("constructor", "default name", "options (default)"):
            table.add_column(column)
        for row in catalogue_rows():
            table.add_row(*row)
        out.show(table)


REPORTING_COMMANDS = ("check", "parse", "analyze", "layers", "evaluate", "predict", "schema", "diff", "profile")
"""The commands that print JSON with --format json; `schema --for` publishes each one's schema."""
SchemaFormat = format_option("json")


def schema(
    command: Annotated[Optional[str], typer.Option(
        "--for", metavar="COMMAND", help=f"The schema of `COMMAND --format json`: {', '.join(REPORTING_COMMANDS)} "
                                         "(default: parse, the IR).")] = None,
    analysis: Annotated[bool, typer.Option("--analysis", help="The schema of `analyze --format json`: the "
                                                              "same as --for analyze.")] = False,
    format: SchemaFormat = "json",
    as_json: JsonOption = False,
) -> None:
    """Print the JSON schema of what a command prints with --format json: by default the IR's
    (what `parse --format json` emits)."""
    import json

    from .reports import SCHEMAS

    out = Output.of(format, ("json",), as_json=as_json)
    if analysis and command not in (None, "analyze"):
        raise typer.BadParameter(f"--analysis is --for analyze, not --for {command}", param_hint="--analysis")
    chosen = choose(command or ("analyze" if analysis else "parse"), REPORTING_COMMANDS, "--for")
    out.document(json.dumps(SCHEMAS[chosen](), indent=2))


def explain(code: Annotated[str, typer.Argument(metavar="CODE", help="A diagnostic code, e.g. E204 (any case).")]) \
        -> None:
    """What a diagnostic code means, an example that sets it off, and the fix (as `rustc --explain`)."""
    from ..codes import closest_codes, explanation

    out = Output()
    text = explanation(code)
    if text is None:
        closest = closest_codes(code)
        out.error(f"no diagnostic code '{printable(code)}'"
                  f"{'; the closest are ' + ', '.join(closest) if closest else ''} (every code: docs/codes.md)")
        raise typer.Exit(1)
    out.text("\n".join(printable(line) for line in text.split("\n")))
