"""Options more than one command takes, defined once: how a spec is read (`--net`, `--set`,
`--args`, `--max-file-size`, `--path`), how the result is printed (`--format`, `--json`, `--quiet`),
`--all`, and the parsers behind them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..tables import SHOWN_ROWS

if TYPE_CHECKING:
    from ..language import LoadResult
    from .output import Output

__all__ = ["NetOption", "SetOption", "ArgsOption", "MaxFileSizeOption", "PathOption", "AllOption", "JsonOption", "QuietOption",
           "format_option", "SpecOptions", "is_whole_number", "output_path", "SequenceLengthOption",
           "FixedSequenceLengthOption"]


def _byte_size(text: str) -> int:
    """'4194304', '512K', '8M', '1G' (powers of 1024; 'KiB', 'MB'... read alike) -> bytes."""
    match = re.fullmatch(r"([0-9]+)\s*([kmg]?)(i?b)?", text.strip().lower())
    if match is None or int(match[1]) == 0:
        raise typer.BadParameter(f"'{text}' is not a size: give bytes, or a number with K, M or G (e.g. 16M)")
    return int(match[1]) * 1024 ** " kmg".index(match[2] or " ")


def is_whole_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() is also true of '²' (which int() refuses) and of '٣' or '５'."""
    return text.isascii() and text.isdigit()


def output_path(text: str | None, option: str) -> Path | None:
    """An output path as given; an empty one is refused (as a Path it would mean the current folder)."""
    if text is not None and not text.strip():
        raise typer.BadParameter("is empty: give a path", param_hint=option)
    return None if text is None else Path(text)


# -- reading a spec ------------------------------------------------------------------------------

NetOption = Annotated[Optional[str], typer.Option("--net", help="Variable that holds the network "
                                                  "(default: the one given to trainNetwork, dlnetwork, plot...; "
                                                  "else lgraph, net, layers; else the last one built).")]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", metavar="NAME=VALUE",
                                                        help="Bind a variable before the file runs, "
                                                        "e.g. --set numClasses=4.")]
MaxFileSizeOption = Annotated[Optional[int], typer.Option(
    "--max-file-size", metavar="SIZE", parser=_byte_size, show_default=False,
    help="Most bytes of spec netspec reads, imported files included: bytes, or with K, M or G "
         "(default 2M).")]
ArgsOption = Annotated[Optional[str], typer.Option(
    "--args", metavar="ARGS", help="Arguments of a function file's function, as MATLAB writes them: "
    "--args \"256, [64 64 3], 'Name', 3\" (parameters left out stay unknown; --set binds one by name).")]
PathOption = Annotated[Optional[list[Path]], typer.Option(
    "--path", metavar="DIR", help="A folder (with the folders below it) where `import` and calls of functions "
    "in other files may look, besides the spec's own folder; repeatable.")]


@dataclass(frozen=True)
class SpecOptions:
    """What `--net`, `--set`, `--max-file-size`, `--path` and `--args` ask of reading a spec."""

    net: str | None = None
    assignments: list[str] | None = None
    max_file_size: int | None = None
    folders: list[Path] | None = None
    arguments: str | None = None

    def load(self, file: Path, out: Output | None) -> LoadResult:
        """Load one file and print its diagnostics (unless `out` is None: the caller prints them); the
        result's network is None when it has errors."""
        from ..diagnostics import NetspecError, SourceMap
        from ..language import Limits, LoadResult, load_file, parse_bindings

        sources = SourceMap()
        limits = Limits(search_folders=tuple(self.folders or ()),
                        **({} if self.max_file_size is None else {"source_bytes": self.max_file_size}))
        try:
            bindings = parse_bindings(self.assignments, sources)
            result = load_file(file, net=self.net, bindings=bindings, arguments=self.arguments, limits=limits,
                               sources=sources)
        except NetspecError as exc:
            result = LoadResult(None, {}, exc.diagnostics, getattr(exc, "sources", sources))
        if out is not None:
            out.diagnostics(result.diagnostics, result.sources)
        return result


# -- printing the result -------------------------------------------------------------------------

def format_option(*choices: str) -> Any:
    """`--format/-f` with these choices, the first the default (give it as the parameter's default)."""
    listed = f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else f"{choices[0]} (the only one)"
    return Annotated[str, typer.Option("--format", "-f", help=f"{listed}.")]


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON: the same as --format json.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print no result and no notes: only errors, "
                                                                 "diagnostics and the exit code.")]
AllOption = Annotated[bool, typer.Option("--all", help=f"Show every layer (a table of more than {SHOWN_ROWS} "
                                         f"layers shows its first and last {SHOWN_ROWS // 2} by default).")]


# -- sizes ---------------------------------------------------------------------------------------

def _sequence_length(text: str) -> int:
    """--sequence-length: a positive whole number of time steps."""
    if not is_whole_number(text.strip()) or int(text) == 0:
        raise typer.BadParameter(f"'{text}' is not a number of time steps: give a positive whole number")
    return int(text)


SequenceLengthOption = Annotated[Optional[int], typer.Option(
    "--sequence-length", metavar="N", parser=_sequence_length, show_default=False,
    help="Time steps of every sequence input (default: the input's MinLength, else the symbol T, so shapes "
         "and costs are formulas in T).")]
FixedSequenceLengthOption = Annotated[Optional[int], typer.Option(
    "--sequence-length", metavar="N", parser=_sequence_length, show_default=False,
    help="ONNX: every sequence exactly N time steps, a fixed time axis for runtimes that need one "
         "(default: any length, the axis dynamic).")]
