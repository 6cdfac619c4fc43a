"""Diagnostics shared by every stage: a located message, rendered like rustc's.

Errors are data (sqlglot's lesson): a stage collects `Diagnostic`s and raises one
`NetspecError` carrying them, the CLI renders them with the source excerpt.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from pydantic import BaseModel, ConfigDict

__all__ = ["Span", "Severity", "Diagnostic", "NetspecError", "SourceMap", "render", "suggest"]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file, 1-based lines and columns, end column exclusive.

    A plain dataclass (pydantic validates it inside the IR): the interpreter makes
    many of them, so they must be cheap.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    note = "note"


class Diagnostic(BaseModel):
    """One finding: what is wrong, where, and (separately) how to fix it."""

    model_config = ConfigDict(defer_build=True)  # a clean file never builds one

    severity: Severity = Severity.error
    code: str
    message: str
    span: Span | None = None
    label: str | None = None
    notes: list[str] = []
    hint: str | None = None

    def with_note(self, note: str) -> "Diagnostic":
        return self.model_copy(update={"notes": [*self.notes, note]})


class NetspecError(Exception):
    """The only exception netspec lets escape for a bad input."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        where = f"{first.span}: " if first and first.span else ""
        super().__init__(f"{where}{first.message}" if first else "netspec error")

    @property
    def diagnostic(self) -> Diagnostic:
        return self.diagnostics[0]


def error(code: str, message: str, span: Span | None = None, *, hint: str | None = None,
          label: str | None = None, notes: Iterable[str] = ()) -> NetspecError:
    """Build (not raise) a one-diagnostic error, so call sites read `raise error(...)`."""
    return NetspecError(Diagnostic(code=code, message=message, span=span, hint=hint,
                                   label=label, notes=list(notes)))


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """Elm-style 'did you mean': the closest candidate, compared case-insensitively."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


class SourceMap:
    """The text of every file a run read, for rendering excerpts."""

    def __init__(self) -> None:
        self._texts: dict[str, list[str]] = {}

    def add(self, file: str, text: str) -> None:
        self._texts[file] = text.splitlines()

    def line(self, file: str, number: int) -> str | None:
        lines = self._texts.get(file)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def render(diagnostic: Diagnostic, sources: SourceMap | None = None) -> str:
    """Rust's layout: header, `--> file:line:col`, the line with carets, notes, help."""
    out = [f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"]
    span = diagnostic.span
    gutter = " " * (len(str(span.line)) if span else 1)
    if span is not None:
        out.append(f"{gutter}--> {span.file}:{span.line}:{span.column}")
        text = sources.line(span.file, span.line) if sources else None
        if text is not None:
            text = text.replace("\t", " ")  # columns count characters: keep carets aligned
            width = span.end_column - span.column if span.end_line == span.line else len(text) - span.column + 1
            width = max(1, width)
            label = f" {diagnostic.label}" if diagnostic.label else ""
            out.append(f"{gutter} |")
            out.append(f"{span.line} | {text}")
            out.append(f"{gutter} | {' ' * (span.column - 1)}{'^' * width}{label}")
    for note in diagnostic.notes:
        out.append(f"{gutter} = note: {note}")
    if diagnostic.hint:
        out.append(f"{gutter} = help: {diagnostic.hint}")
    return "\n".join(out)
