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


def main() -> None:
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
