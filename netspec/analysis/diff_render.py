"""A `NetworkDiff` as a rich table or markdown (`netspec diff --format`); JSON is `diff.to_json`."""

from __future__ import annotations

from ..text import printable, terminal_text
from .diff import Delta, LayerDiff, NetworkDiff
from .render import grouped, human

__all__ = ["as_table", "as_markdown", "summary_lines"]

MARKS = {"added": "+", "removed": "-", "changed": "~", "unchanged": ""}
COLUMNS = ("", "layer", "type", "options", "output", "Δ learnables", "Δ MACs", "Δ activations", "RF")


def signed(delta: Delta, binary: bool = False) -> str:
    """+528, -9,216, 0; bytes as +12.2 KiB; '?' when a side is a formula."""
    value = delta.delta
    if value is None:
        return "?"
    text = human(abs(value), "B", binary=True) if binary else grouped(abs(value))
    return ("+" if value > 0 else "-" if value < 0 else "") + text


def _both(before: str | None, after: str | None) -> str:
    """'12', '8 → 12', or the one side there is."""
    if before is None or after is None or before == after:
        return after or before or "—"
    return f"{before} → {after}"


def _options(row: LayerDiff) -> str:
    """`NumFilters 64 → 16; ...`; an added or removed layer's own options as `NumFilters 16`."""
    if row.status in ("added", "removed"):
        return "; ".join(f"{o.option} {o.after if row.status == 'added' else o.before}" for o in row.options)
    return "; ".join(f"{o.option} {o.before} → {o.after}" for o in row.options)


def _cells(row: LayerDiff) -> list[str]:
    return [MARKS[row.status], printable(row.name), row.type, printable(_options(row)),
            _both(row.output_before, row.output_after), signed(row.learnables), signed(row.macs),
            signed(row.activation_bytes, binary=True), _both(row.receptive_field_before, row.receptive_field_after)]


def _shown(result: NetworkDiff, show_all: bool) -> list[LayerDiff]:
    return [row for row in result.layers if show_all or row.differs]


def _ratio(delta: Delta) -> str:
    if delta.delta is None or not isinstance(delta.before, int) or not delta.before:
        return ""
    return f", {100 * delta.delta / delta.before:+.1f}%"


def summary_lines(result: NetworkDiff, show_all: bool = False) -> list[str]:
    t = result.totals
    hidden = len(result.layers) - len(_shown(result, show_all))
    unchanged = sum(row.status == "unchanged" for row in result.layers)
    lines = [f"{t.added} added, {t.removed} removed, {t.changed} changed, {unchanged} unchanged"
             + (f" ({hidden} with no difference not shown: --all)" if hidden else "")]
    lines.append(f"layers {t.layers.before} → {t.layers.after}")
    for label, delta in (("learnables", t.learnables), ("MACs", t.macs)):
        lines.append(f"{label} {grouped(delta.before)} → {grouped(delta.after)} ({signed(delta)}{_ratio(delta)})")
    a = t.activation_bytes
    lines.append(f"activations ({result.dtype}) {human(a.before, 'B', True)} → {human(a.after, 'B', True)} per "
                 f"sample ({signed(a, binary=True)}{_ratio(a)})")
    lines.append(f"largest receptive field short of global: {_both(t.receptive_field_before, t.receptive_field_after)}")
    return lines


def as_table(result: NetworkDiff, show_all: bool = False):
    from rich.table import Table

    t = result.totals
    table = Table(title=terminal_text(f"{result.before} → {result.after}", "bold"), show_footer=True,
                  footer_style="bold")
    footers = ["", "total", "", "", "", signed(t.learnables), signed(t.macs), signed(t.activation_bytes, True), ""]
    for column, footer in zip(COLUMNS, footers):
        table.add_column(column, footer=footer, justify="right" if column.startswith("Δ") or column == "RF" else "left")
    for row in _shown(result, show_all):
        table.add_row(*_cells(row))
    return table


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def as_markdown(result: NetworkDiff, show_all: bool = False) -> str:
    t = result.totals
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|---|---|---|---|---:|---:|---:|---:|"]
    lines += ["| " + " | ".join(_markdown_cell(cell) for cell in _cells(row)) + " |"
              for row in _shown(result, show_all)]
    lines.append(f"| | **total** | | | | **{signed(t.learnables)}** | **{signed(t.macs)}** | "
                 f"**{signed(t.activation_bytes, True)}** | |")
    title = _markdown_cell(printable(f"{result.before} → {result.after}"))
    return "\n".join([f"**{title}**", "", *lines, "", *(f"- {line}" for line in summary_lines(result, show_all))])
