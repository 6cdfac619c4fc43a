"""Spec text on its way to a terminal or a spreadsheet: what either would act on, made inert.

A layer name, a string or a source line can hold ESC and BEL (which clear the screen or
retitle the terminal), line breaks (which forge extra output lines) or bidi overrides
(which reorder what is shown). Every place that prints spec text passes it through
`printable`; rich output also goes through `terminal_text`, so `[bold]` in a name is text.
A CSV cell holding a layer or class name goes through `spreadsheet_text`: a spreadsheet runs a
cell that starts like a formula (`=HYPERLINK(...)`, `@SUM(...)`).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["printable", "spreadsheet_text", "terminal_text"]

_ACTIVE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories a terminal acts on or cannot encode: controls, format characters (bidi
overrides, zero-width), lone surrogates, line and paragraph separators."""


def printable(text: str) -> str:
    """`text` with every such character written as its Python escape (`\\x1b`, `\\u2028`)."""
    if text.isprintable():  # the usual case; isprintable() is False for every category above
        return text
    return "".join(ascii(char)[1:-1] if unicodedata.category(char) in _ACTIVE else char for char in text)


def terminal_text(text: str, style: str = "") -> Text:
    """`printable(text)` as a rich `Text`: shown as written, never read as rich markup. A table
    title needs its style here (`"table.title"`): rich styles only titles given as strings."""
    from rich.text import Text

    return Text(printable(text), style=style)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """`text` as a CSV cell a spreadsheet shows instead of evaluating: one that starts like a
    formula gets a leading apostrophe (OWASP's advice on CSV injection); a number (`-1`) stays."""
    if not text.startswith(_FORMULA_STARTS):
        return text
    try:
        float(text)
    except ValueError:
        return "'" + text
    return text
