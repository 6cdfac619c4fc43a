"""The one way out of every command: results on stdout, everything else on stderr.

A command builds one `Output` from its `--format`, `--json` and `--quiet` and writes through
it: the result (a table, text, or JSON), files written, notes, errors and diagnostics. So JSON
on stdout stays parseable whatever else happens, `--quiet` silences the same things
everywhere, and no command makes a console of its own.

Modes: human (the command's own `--format`: table, text, markdown, csv...), json, quiet
(nothing on stdout and no notes: only errors and diagnostics, and the exit code).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ..diagnostics import Diagnostic, SourceMap
    from .progress import TrainingProgress

__all__ = ["Output", "choose"]


def choose(value: str, choices: Sequence[str], option: str) -> str:
    """`value` when it is one of `choices`; otherwise the usage error (exit 2) that lists them."""
    if value not in choices:
        raise typer.BadParameter(f"choose one of {', '.join(choices)}", param_hint=option)
    return value


class Output:
    """Where a command's words go. `format` is one of the command's --format choices."""

    def __init__(self, format: str = "text", *, quiet: bool = False) -> None:
        self.format = format
        self.quiet = quiet

    @classmethod
    def of(cls, format: str, choices: Sequence[str], *, as_json: bool = False, quiet: bool = False) -> Output:
        """The output a command's options ask for: `--json` is `--format json`; `--quiet` prints no
        result, so it cannot be asked together with a format other than the default."""
        format = "json" if as_json else choose(format, choices, "--format")
        if quiet and format != choices[0]:
            raise typer.BadParameter(f"prints no result, so it does not go with --format {format}",
                                     param_hint="--quiet")
        return cls(format, quiet=quiet)

    @property
    def json(self) -> bool:
        return self.format == "json"

    # -- stdout: the result ---------------------------------------------------------------
    def text(self, text: str, *, newline: bool = True) -> None:
        """Result text as is (a line, markdown, CSV, DOT)."""
        if not self.quiet:
            typer.echo(text, nl=newline)

    def document(self, document: Any) -> None:
        """A JSON result: a pydantic model, JSON text already written, or plain JSON data."""
        if self.quiet:
            return
        if isinstance(document, str):
            text = document
        elif hasattr(document, "model_dump_json"):
            text = document.model_dump_json(indent=2, by_alias=True)
        else:
            text = json.dumps(document, indent=2)
        typer.echo(text)

    def show(self, renderable: Any, **options: Any) -> None:
        """A rich table or text (rich markup off, spec text already made printable)."""
        if not self.quiet:
            self._stdout.print(renderable, **options)

    # -- stderr: what happened on the way ------------------------------------------------
    def wrote(self, path: Path | str, detail: str = "") -> None:
        """`wrote PATH (detail)`: every file a command writes is announced the same way."""
        self.note(f"wrote {path}" + (f" ({detail})" if detail else ""))

    def note(self, text: str) -> None:
        """A line for the user that is not the result (silenced by --quiet)."""
        if not self.quiet:
            typer.echo(text, err=True)

    def status(self, renderable: Any) -> None:
        """A rich table about what was done (train's summary), beside the result, not the result."""
        if not self.quiet:
            self._stderr.print(renderable)

    def training_progress(self) -> TrainingProgress:
        """The bar `netspec train` draws from the run's events, on stderr beside the notes."""
        from .progress import TrainingProgress

        return TrainingProgress(console=self._stderr, disable=self.quiet)

    def error(self, text: str) -> None:
        """`netspec: text`, even with --quiet."""
        typer.echo(f"netspec: {text}", err=True)

    def diagnostics(self, diagnostics: list[Diagnostic], sources: SourceMap | None = None) -> None:
        """Located diagnostics in rustc's layout, even with --quiet (they say why the exit code is 1).
        Without `sources` (an error raised after the load: analysis, lowering, training), the files
        the spans point into are read again for their excerpts."""
        if not diagnostics:
            return
        from ..diagnostics import explain_footer, render

        if sources is None:
            sources = _sources_of(diagnostics)
        for diagnostic in diagnostics:
            sys.stderr.write(render(diagnostic, sources) + "\n\n")
        footer = explain_footer(diagnostics)
        if footer is not None:
            sys.stderr.write(footer + "\n\n")

    # rich consoles follow sys.stdout / sys.stderr as they are when printing (a test may swap them)
    @cached_property
    def _stdout(self) -> Console:
        from rich.console import Console

        return Console(highlight=False)

    @cached_property
    def _stderr(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False)


EXCERPT_FILE_BYTES = 2 * 1024 * 1024
"""A file read again for an excerpt is read only this far (a load's default limit)."""


def _sources_of(diagnostics: list[Diagnostic]) -> SourceMap:
    """The text of each file the diagnostics point into, as the loader read it (a file gone,
    grown past EXCERPT_FILE_BYTES or not text gives no excerpt, only its location)."""
    from ..diagnostics import NetspecError, SourceMap
    from ..language.source_files import read_source

    sources = SourceMap()
    for file in dict.fromkeys(d.span.file for d in diagnostics if d.span is not None):
        try:
            sources.add(file, read_source(Path(file), 0, EXCERPT_FILE_BYTES).text)
        except NetspecError:
            continue
    return sources

