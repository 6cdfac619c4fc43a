"""The `netspec` command line (typer).

Diagnostics go to stderr, results to stdout (so `--json` output stays parseable).
Exit codes: 0 ok, 1 the input has errors, 2 the command line is wrong, 3 a netspec bug.
Only the language, IR and analysis are imported at start-up; torch and onnx load
inside the commands that need them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .diagnostics import Diagnostic, NetspecError, Severity, SourceMap, render

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False,
                  help="Write networks the MATLAB way; check, analyze, train and export them.")

NetOption = Annotated[Optional[str], typer.Option("--net", help="Variable that holds the network "
                                                  "(default: lgraph, net, then layers).")]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", metavar="NAME=VALUE",
                                                        help="Bind a variable before the file runs, "
                                                        "e.g. --set numClasses=4.")]


def _print_diagnostics(diagnostics: list[Diagnostic], sources: SourceMap | None) -> None:
    for diagnostic in diagnostics:
        sys.stderr.write(render(diagnostic, sources) + "\n\n")


def _load(file: Path, net: str | None, assignments: list[str] | None):
    """Load one file, printing its diagnostics; None when it has errors."""
    from .language import load_file, parse_bindings

    sources = SourceMap()
    try:
        bindings = parse_bindings(assignments, sources)
        result = load_file(file, net=net, bindings=bindings, sources=sources)
    except NetspecError as exc:
        _print_diagnostics(exc.diagnostics, getattr(exc, "sources", sources))
        return None
    _print_diagnostics(result.diagnostics, result.sources)
    return result


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help=".net or .m files to check.")],
    net: NetOption = None,
    set_: SetOption = None,
) -> None:
    """Parse and validate network files: exit 0, or print located diagnostics and exit 1."""
    failed = 0
    for file in files:
        result = _load(file, net, set_)
        if result is None:
            failed += 1
            continue
        network = result.network
        warnings = sum(d.severity is Severity.warning for d in result.diagnostics)
        note = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        typer.echo(f"{file}: ok ({len(network.layers)} layers, {len(network.connections)} connections{note})")
    if failed:
        typer.echo(f"{failed} of {len(files)} file{'s' if len(files) != 1 else ''} failed", err=True)
        raise typer.Exit(1)


@app.command("parse")
def parse_command(
    file: Annotated[Path, typer.Argument(help="A .net or .m file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the IR as JSON.")] = False,
    net: NetOption = None,
    set_: SetOption = None,
) -> None:
    """Print the network's IR: a layer listing, or the full JSON with --json."""
    result = _load(file, net, set_)
    if result is None:
        raise typer.Exit(1)
    network = result.network
    if as_json:
        typer.echo(network.model_dump_json(indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{file} — {network.name}")
    for column in ("#", "name", "type", "inputs"):
        table.add_column(column)
    sources: dict[str, list[str]] = {}
    for edge in network.connections:
        sources.setdefault(edge.destination, []).append(
            edge.source if edge.destination_port == "in" else f"{edge.source} → {edge.destination_port}")
    for index, layer in enumerate(network.layers, start=1):
        table.add_row(str(index), layer.name, layer.matlab, ", ".join(sources.get(layer.name, [])))
    Console().print(table)


def _input_size(text: str | None) -> tuple | None:
    """'224 224 3', '224x224x3' or 'H W 3' -> (224, 224, 3) / ('H', 'W', 3)."""
    if text is None:
        return None
    parts = text.replace("x", " ").replace("×", " ").replace(",", " ").split() if not any(
        c.isalpha() and c != "x" for c in text) else text.replace(",", " ").split()
    if not 1 <= len(parts) <= 3:
        raise typer.BadParameter("give H W C for images, T C for sequences, or C for features",
                                 param_hint="--input-size")
    size: list[int | str] = []
    for part in parts:
        if part.isdigit() and int(part) > 0:
            size.append(int(part))
        elif part.isidentifier():
            size.append(part)
        else:
            raise typer.BadParameter(f"'{part}' is neither a positive whole number nor a symbol name",
                                     param_hint="--input-size")
    return tuple(size)


FORMATS = ("table", "json", "markdown", "csv")


@app.command()
def analyze(
    file: Annotated[Path, typer.Argument(help="A .net or .m file.")],
    format: Annotated[str, typer.Option("--format", "-f", help="table, json, markdown or csv.")] = "table",
    input_size: Annotated[Optional[str], typer.Option(
        "--input-size", metavar="H W C", help="Override the input size (numbers, or symbols such as H W 3 "
        "for formulas).")] = None,
    dtype: Annotated[str, typer.Option(help="Element type for memory: float32, float16, bfloat16, float64, "
                                            "int8.")] = "float32",
    convention: Annotated[str, typer.Option(help="Cost column: macs (multiply-accumulates), flops (netspec's "
                                                 "table), torch (what FlopCounterMode counts).")] = "macs",
    net: NetOption = None,
    set_: SetOption = None,
) -> None:
    """Per-layer shapes, learnables, MACs/FLOPs, memory and receptive fields, with totals,
    1×1-bottleneck savings and diagnostics. Exits 1 when the network has errors."""
    from .analysis import DTYPES, analyze as run_analysis
    from .analysis import render

    if format not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if convention not in render.CONVENTIONS:
        raise typer.BadParameter(f"choose one of {', '.join(render.CONVENTIONS)}", param_hint="--convention")
    if dtype not in DTYPES:
        raise typer.BadParameter(f"choose one of {', '.join(DTYPES)}", param_hint="--dtype")
    size = _input_size(input_size)
    result = _load(file, net, set_)
    if result is None:
        raise typer.Exit(1)
    analysis = run_analysis(result.network, input_size=size, dtype=dtype)
    if format == "json":
        typer.echo(render.as_json(analysis))
    elif format == "markdown":
        typer.echo(render.as_markdown(analysis, convention))  # type: ignore[arg-type]
    elif format == "csv":
        typer.echo(render.as_csv(analysis), nl=False)
    else:
        from rich.console import Console

        console = Console(highlight=False)
        console.print(render.as_table(analysis, convention))  # type: ignore[arg-type]
        for line in render.summary_lines(analysis, convention):  # type: ignore[arg-type]
            console.print(line)
        if analysis.bottlenecks:
            console.print(render.bottleneck_table(analysis))
    _print_diagnostics(analysis.diagnostics, result.sources)
    if analysis.has_errors:
        raise typer.Exit(1)


@app.command()
def layers(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a markdown table.")] = False,
) -> None:
    """List every layer constructor netspec reads, with its options and MATLAB defaults."""
    from .ir.catalogue import catalogue_markdown, catalogue_rows

    if markdown:
        typer.echo(catalogue_markdown())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="netspec layer catalogue (every layer also takes 'Name')")
    for column in ("constructor", "default name", "options (default)"):
        table.add_column(column)
    for row in catalogue_rows():
        table.add_row(*row)
    Console().print(table)


@app.command()
def schema() -> None:
    """Print the JSON schema of the IR (what `parse --json` emits)."""
    from .ir import Network

    typer.echo(json.dumps(Network.model_json_schema(), indent=2))


def _join_input_size(argv: list[str]) -> list[str]:
    """Let `--input-size H W C` take up to three words, as the option is documented."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        out.append(argv[i])
        if argv[i] == "--input-size":
            words = []
            while i + 1 < len(argv) and len(words) < 3 and (argv[i + 1].isdigit() or argv[i + 1].isidentifier()):
                i += 1
                words.append(argv[i])
            if words:
                out.append(" ".join(words))
        i += 1
    return out


def main() -> None:
    sys.argv[1:] = _join_input_size(sys.argv[1:])
    try:
        app()
    except NetspecError as exc:  # a stage raised outside a command's own handling
        _print_diagnostics(exc.diagnostics, getattr(exc, "sources", None))
        sys.exit(1)
    except Exception as exc:  # a bug in netspec, not in the user's file
        if os.environ.get("NETSPEC_DEBUG"):
            raise
        sys.stderr.write(f"netspec: internal error: {type(exc).__name__}: {exc}\n"
                         "this is a bug in netspec; set NETSPEC_DEBUG=1 to see the traceback and please report it\n")
        sys.exit(3)


if __name__ == "__main__":
    main()
