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

from .text import printable

__all__ = ["Span", "Severity", "Diagnostic", "NetspecError", "SourceMap", "render", "explain_footer", "suggest"]


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


SUGGESTED_LENGTH = 100
"""Longer words get no 'did you mean': no one mistypes them, and difflib's cost grows with
the product of the lengths (a 400,000-character option name took seconds)."""


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """Elm-style 'did you mean': the closest candidate, compared case-insensitively."""
    if len(word) > SUGGESTED_LENGTH:
        return None
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
        # lines end at "\n" only, as the lexer counts them (splitlines() also breaks at \f, \u2028, ...)
        self._texts[file] = [line.removesuffix("\r") for line in text.split("\n")]

    def line(self, file: str, number: int) -> str | None:
        lines = self._texts.get(file)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


EXCERPT_WIDTH = 160
"""Characters of a source line shown around a span: a 2 MB one-line array is shown in part."""
TEXT_WIDTH = 1_000
"""Characters of a message, label, note or hint: a 100,000-character name is shown in part."""


def _shortened(text: str) -> str:
    text = printable(text)
    if len(text) <= TEXT_WIDTH:
        return text
    half = TEXT_WIDTH // 2
    return f"{text[:half]}…({len(text) - 2 * half:,} characters)…{text[-half:]}"


def _excerpt(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The part of a source line shown (escaped), and the caret's offset and width in it for
    the span from `start` to `end` (0-based, end exclusive)."""
    first, last = 0, len(text)
    if len(text) > EXCERPT_WIDTH:
        first = max(0, min(start - EXCERPT_WIDTH // 3, len(text) - EXCERPT_WIDTH))
        last = first + EXCERPT_WIDTH
    head, tail = ("…" if first > 0 else ""), ("…" if last < len(text) else "")
    part, start, end = text[first:last], start - first, min(end, last) - first
    offset = len(head) + len(printable(part[:start]))
    width = max(1, len(printable(part[start:end])))
    return head + printable(part) + tail, offset, width


def render(diagnostic: Diagnostic, sources: SourceMap | None = None) -> str:
    """Rust's layout: header, `--> file:line:col`, the line with carets, notes, help.

    Spec text shows through `printable` (a spec must not drive the terminal); the carets
    are placed in the escaped line. A long line shows the part around the span.
    """
    out = [f"{diagnostic.severity.value}[{diagnostic.code}]: {_shortened(diagnostic.message)}"]
    span = diagnostic.span
    gutter = " " * (len(str(span.line)) if span else 1)
    if span is not None:
        out.append(f"{gutter}--> {printable(span.file)}:{span.line}:{span.column}")
        text = sources.line(span.file, span.line) if sources else None
        if text is not None:
            text = text.replace("\t", " ")  # columns count characters: keep carets aligned
            end = span.end_column if span.end_line == span.line else len(text) + 1
            shown, offset, width = _excerpt(text, span.column - 1, end - 1)
            label = f" {_shortened(diagnostic.label)}" if diagnostic.label else ""
            out.append(f"{gutter} |")
            out.append(f"{span.line} | {shown}")
            out.append(f"{gutter} | {' ' * offset}{'^' * width}{label}")
    for note in diagnostic.notes:
        out.append(f"{gutter} = note: {_shortened(note)}")
    if diagnostic.hint:
        out.append(f"{gutter} = help: {_shortened(diagnostic.hint)}")
    return "\n".join(out)


def explain_footer(diagnostics: Iterable[Diagnostic]) -> str | None:
    """rustc's closing line under a run's diagnostics: the `netspec explain` command for their
    codes, the errors' first. None when there is nothing to explain."""
    ranked = sorted(diagnostics, key=lambda d: d.severity is not Severity.error)
    codes = list(dict.fromkeys(d.code for d in ranked))
    if not codes:
        return None
    if len(codes) == 1:
        return f"For more information about this {ranked[0].severity.value}, try `netspec explain {codes[0]}`."
    return (f"For more information about {', '.join(codes)}, try `netspec explain CODE` "
            f"(e.g. `netspec explain {codes[0]}`).")
