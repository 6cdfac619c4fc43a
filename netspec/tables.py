"""One-row-per-layer tables (`netspec analyze`, `netspec parse`) that stay fast at 100,000 layers.

rich lays a table out by measuring, wrapping and padding every cell as a renderable: about
0.5 ms a row, 5 s for 10,000 layers, where their CSV rows take 0.03 s. So a table
longer than `SHOWN_ROWS` shows its first and last rows, a row of `…` where the others
are, and a caption saying how many are hidden; `--all` shows every row, drawn line by
line in rich's own box characters at the table's natural width (one line per layer, as
rich draws a table that fits; wider than the terminal if need be, for a file or a pager).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.table import Table

__all__ = ["SHOWN_ROWS", "layer_table"]

SHOWN_ROWS = 200
"""Longer tables show their first and last SHOWN_ROWS // 2 rows unless every row is asked for."""

GAP = "…"


def layer_table(table: Table, count: int, cells: Callable[[int], Sequence[str]], *,
                show_all: bool = False) -> RenderableType:
    """`table` (its columns and titles set, no rows yet) with the `count` rows `cells(index)` gives.

    Cells are plain text (never read as rich markup); only the rows shown are formatted.
    """
    from rich.text import Text

    def add(index: int) -> None:
        table.add_row(*(Text(cell) for cell in cells(index)))

    if count <= SHOWN_ROWS:
        for index in range(count):
            add(index)
        return table
    if show_all:
        return _NaturalWidthTable(table, [cells(index) for index in range(count)])
    half = SHOWN_ROWS // 2
    for index in range(half):
        add(index)
    table.add_row(*(GAP for _ in table.columns))
    for index in range(count - half, count):
        add(index)
    table.caption = f"{count - 2 * half:,} of {count:,} layers not shown (use --all)"
    return table


class _NaturalWidthTable:
    """A long table drawn as rich draws it when it fits, without rich's per-cell layout.

    For `layer_table`'s tables: a box, a header, edges, one space of padding. Each column is
    as wide as its widest cell; each row is one line. Print it with `crop=False`, so lines
    wider than the terminal are not cut.
    """

    def __init__(self, table: Table, rows: list[Sequence[str]]) -> None:
        self.table = table
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.cells import cell_len
        from rich.segment import Segment
        from rich.style import Style

        def width_of(text: str) -> int:  # an ASCII string's width is its length (isascii() is O(1))
            return len(text) if text.isascii() else cell_len(text)

        table, columns = self.table, self.table.columns
        headers = [str(column.header) for column in columns]
        footers = [str(column.footer) for column in columns] if table.show_footer else None
        widths = [width_of(header) for header in headers]
        for row in [*self.rows, *([footers] if footers else [])]:
            widths = [max(width, width_of(cell)) for width, cell in zip(widths, row)]
        rights = [column.justify == "right" for column in columns]
        padded = [width + 2 for width in widths]

        def line(row: Sequence[str], left: str, vertical: str, right: str) -> str:
            texts = [" " * (width - width_of(cell)) + cell if is_right else cell + " " * (width - width_of(cell))
                     for cell, width, is_right in zip(row, widths, rights)]
            return f"{left} {f' {vertical} '.join(texts)} {right}"

        box = table.box.substitute(options, safe=console.safe_box)
        table_options = options.update(width=sum(padded) + len(padded) + 1, height=None)
        if table.title:
            title = (console.render_str(table.title, style=Style.pick_first(table.title_style, "table.title"),
                                        highlight=False) if isinstance(table.title, str) else table.title)
            yield from console.render(title, table_options.update(justify=table.title_justify))
        newline = Segment.line()
        yield Segment(box.get_top(padded))
        yield newline
        yield Segment(line(headers, box.head_left, box.head_vertical, box.head_right),
                      console.get_style(table.header_style or ""))
        yield newline
        yield Segment(box.get_row(padded, "head"))
        yield newline
        for row in self.rows:
            yield Segment(line(row, box.mid_left, box.mid_vertical, box.mid_right))
            yield newline
        if footers:
            yield Segment(box.get_row(padded, "foot"))
            yield newline
            yield Segment(line(footers, box.foot_left, box.foot_vertical, box.foot_right),
                          console.get_style(table.footer_style or ""))
            yield newline
        yield Segment(box.get_bottom(padded))
        yield newline
