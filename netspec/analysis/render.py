"""An `Analysis` as a rich table, markdown, CSV or JSON (`netspec analyze --format`)."""

from __future__ import annotations

import csv
import io
from typing import Literal

from ..text import printable, spreadsheet_text, terminal_text
from .report import STEP_PARTS, Analysis, LayerReport, Number, TrainingMemory, to_json

__all__ = ["CONVENTIONS", "as_table", "as_markdown", "as_csv", "as_json", "human", "training_lines"]

Convention = Literal["macs", "flops", "torch"]
CONVENTIONS: dict[str, tuple[str, str]] = {
    "macs": ("MACs", "macs"),
    "flops": ("FLOPs", "flops"),
    "torch": ("FLOPs (torch)", "torch_flops"),
}
"""--convention -> (column title, report field)."""


def grouped(value: Number) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def human(value: Number, unit: str = "", binary: bool = False) -> str:
    """4,089,184,256 -> '4.09 G'; bytes with binary=True -> '97.7 MiB'."""
    if not isinstance(value, int):  # a formula: in the unit, unscaled
        return f"{value} {unit}".strip()
    base, prefixes = (1024.0, ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]) if binary else \
        (1000.0, ["", "K", "M", "G", "T", "P", "E"])
    size = float(value)
    for prefix in prefixes:
        if abs(size) < base or prefix == prefixes[-1]:
            text = f"{size:.0f}" if prefix == "" or abs(size) >= 100 else f"{size:.3g}"  # 1020 MiB, not 1.02e+03
            return f"{text} {prefix}{unit}".strip()
        size /= base
    return str(value)


def _cost(row: LayerReport, convention: Convention) -> Number:
    return getattr(row, CONVENTIONS[convention][1])


def _rf(row: LayerReport) -> str:
    return row.receptive_field.display() if row.receptive_field else "—"


def _shape(row: LayerReport) -> str:
    return ", ".join(row.output_shapes) if row.output_shapes else ("—" if row.analyzed else "?")


STEP_COLUMNS = {"forward": "forward", "backward_input": "∂inputs", "backward_weights": "∂learnables",
                "training_step": "training step"}
"""--training's columns: one training step per image, split as autograd runs it."""


def as_table(analysis: Analysis, convention: Convention = "macs", show_all: bool = False, training: bool = False):
    """The rich table `netspec analyze` prints; past `tables.SHOWN_ROWS` layers, only its ends unless `show_all`.
    With `training`, one training step's columns (in the analysis's convention) replace the cost,
    activation and receptive-field columns."""
    from rich.table import Table

    from ..tables import layer_table

    title, field = CONVENTIONS[convention]
    totals = analysis.totals
    heading = f"{analysis.source or analysis.network} — {analysis.network}"
    if training:
        heading += (f" — one training step, {CONVENTIONS[analysis.totals.training.convention][0]} per "
                    f"{sample_name(analysis)}")
    table = Table(title=terminal_text(heading, "bold"), show_footer=True, footer_style="bold")
    table.add_column("#", justify="right", footer="")
    table.add_column("name", footer="total")
    table.add_column("type", footer=f"{totals.layers} layers")
    table.add_column("output", footer="")
    table.add_column("learnables", justify="right", footer=grouped(totals.learnables))
    if training:
        for part, column in STEP_COLUMNS.items():
            table.add_column(column, justify="right", footer=human(getattr(totals.training, part)))
    else:
        table.add_column(title, justify="right", footer=grouped(getattr(totals, field)))
        table.add_column("activations", justify="right", footer=human(totals.activation_bytes, "B", binary=True))
        table.add_column("RF", justify="right", footer="")
    layers = analysis.layers

    def cells(index: int) -> list[str]:
        row = layers[index]
        first = [str(index + 1), printable(row.name), row.type, _shape(row), grouped(row.learnables)]
        if training:
            return first + [human(getattr(row, part)) for part in STEP_COLUMNS]
        return first + [grouped(_cost(row, convention)), human(row.activation_bytes, "B", binary=True), _rf(row)]

    return layer_table(table, len(layers), cells, show_all=show_all)


SAMPLES = {"sequenceInputLayer": "sequence", "featureInputLayer": "observation"}
"""What one sample of a network's input is called, by its input layer (an image otherwise)."""


def sample_name(analysis: Analysis) -> str:
    """'image', 'sequence' or 'observation': what the costs are counted per."""
    return next((SAMPLES[row.type] for row in analysis.layers if row.type in SAMPLES), "image")


def _both(value: Number) -> str:
    """'4,754,176 (4.75 M)'; a formula once."""
    return f"{grouped(value)} ({human(value)})" if isinstance(value, int) else str(value)


def training_lines(analysis: Analysis) -> list[str]:
    """One training step's work: per image and its parts, per iteration and, given a training set, per epoch."""
    t = analysis.totals
    step = t.training
    title = CONVENTIONS[step.convention][0]
    lines = [f"training step: {human(step.training_step)} {title} per {sample_name(analysis)} (forward {human(step.forward)}, "
             f"∂inputs {human(step.backward_input)}, ∂learnables {human(step.backward_weights)}); "
             f"batch {t.batch_size}: {human(step.per_iteration)}"]
    if step.per_epoch is not None:
        lines.append(f"training epoch: {human(step.per_epoch)} {title} ({grouped(step.train_size)} samples: "
                     f"{grouped(step.iterations_per_epoch)} iteration{'s' if step.iterations_per_epoch != 1 else ''} "
                     f"of {min(t.batch_size, step.train_size)})")
    return lines


def summary_lines(analysis: Analysis, convention: Convention = "macs") -> list[str]:
    title, field = CONVENTIONS[convention]
    t = analysis.totals
    per = sample_name(analysis)
    lines = [
        f"learnables {_both(t.learnables)}" + (f", states {grouped(t.states)}" if t.states else ""),
        f"{title} {_both(getattr(t, field))} per {per}; MACs {human(t.macs)}, FLOPs {human(t.flops)}, torch FLOPs {human(t.torch_flops)}",
        f"memory ({analysis.dtype}): parameters {human(t.parameter_bytes, 'B', True)}, activations "
        f"{human(t.activation_bytes, 'B', True)} per {per} ({human(t.training_memory.per_image_bytes, 'B', True)} "
        "kept for backward)",
        training_line(t.training_memory),
    ]
    lines += training_lines(analysis)
    if analysis.fit is not None:
        lines += fit_lines(analysis)
    if analysis.bottleneck_totals:
        b = analysis.bottleneck_totals
        count = len(analysis.bottlenecks)
        lines.append(f"1×1 bottlenecks: {count} reduction{'s' if count != 1 else ''}, direct {grouped(b['direct_macs'])} "
                     f"vs bottleneck {grouped(b['bottleneck_macs'])} MACs, saved {grouped(b['saved_macs'])}")
    return lines


def bottleneck_table(analysis: Analysis):
    from rich.table import Table

    table = Table(title="1×1 bottlenecks: direct k×k convolution vs 1×1 reduction + k×k", title_style="bold")
    for column in ("reduce", "conv", "channels", "kernel", "output", "direct MACs", "bottleneck MACs", "saved",
                   "ratio"):
        table.add_column(column, justify="left" if column in ("reduce", "conv") else "right")
    for b in analysis.bottlenecks:
        table.add_row(terminal_text(b.reduce), terminal_text(b.conv),
                      f"{b.input_channels}→{b.reduced_channels}→{b.output_channels}", "×".join(map(str, b.kernel)),
                      "×".join(map(str, b.output_size)), grouped(b.direct_macs),
                      f"{grouped(b.reduce_macs)} + {grouped(b.conv_macs)} = {grouped(b.bottleneck_macs)}",
                      grouped(b.saved_macs), f"{b.ratio}×")
    return table


def _markdown_cell(text: str) -> str:
    """Spec text in a markdown table cell: a `|` would end the cell, a control character the line."""
    return printable(text).replace("|", "\\|")


def training_line(memory: TrainingMemory) -> str:
    """A training step's memory and what fills it: weights, gradients, optimizer state, and the
    activations kept for the backward pass."""
    b = lambda value: human(value, "B", True)  # noqa: E731
    return (f"training ≈ {b(memory.total_bytes)} ({memory.solver}, batch {grouped(memory.batch_size)}): weights "
            f"{b(memory.weight_bytes)}, gradients {b(memory.gradient_bytes)}, optimizer {b(memory.optimizer_bytes)}, "
            f"kept {b(memory.activation_bytes)}")


def fit_lines(analysis: Analysis) -> list[str]:
    """`--fit`'s answer: the largest MiniBatchSize that fits, and what fills the memory then."""
    fit = analysis.fit
    assert fit is not None
    budget = human(fit.budget_bytes, "B", True)
    if fit.batch_size is None:
        return [f"fits in {budget}: any MiniBatchSize (no activation is kept per image)", training_line(fit.memory)]
    return [f"fits in {budget}: MiniBatchSize {grouped(fit.batch_size)}", training_line(fit.memory)]


def as_markdown(analysis: Analysis, convention: Convention = "macs") -> str:
    title, field = CONVENTIONS[convention]
    lines = [f"| # | name | type | output | learnables | {title} | activations | RF |",
             "|---:|---|---|---|---:|---:|---:|---:|"]
    for index, row in enumerate(analysis.layers, start=1):
        lines.append(f"| {index} | {_markdown_cell(row.name)} | {row.type} | {_shape(row)} | "
                     f"{grouped(row.learnables)} | {grouped(_cost(row, convention))} | "
                     f"{human(row.activation_bytes, 'B', True)} | {_rf(row)} |")
    t = analysis.totals
    lines.append(f"| | **total** | {t.layers} layers | | **{grouped(t.learnables)}** | "
                 f"**{grouped(getattr(t, field))}** | {human(t.activation_bytes, 'B', True)} | |")
    lines.append("")
    lines += [f"- {line}" for line in summary_lines(analysis, convention)]
    if analysis.bottlenecks:
        lines += ["", "| reduce | conv | channels | direct MACs | bottleneck MACs | saved | ratio |",
                  "|---|---|---|---:|---:|---:|---:|"]
        for b in analysis.bottlenecks:
            lines.append(f"| {_markdown_cell(b.reduce)} | {_markdown_cell(b.conv)} | "
                         f"{b.input_channels}→{b.reduced_channels}→{b.output_channels} | {grouped(b.direct_macs)} | "
                         f"{grouped(b.bottleneck_macs)} | {grouped(b.saved_macs)} | {b.ratio}× |")
    return "\n".join(lines)


def as_csv(analysis: Analysis) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", "name", "type", "inputs", "output", "learnables", "states", "macs", "flops",
                     "torch_flops", "activation_elements", "activation_bytes", "receptive_field", *STEP_PARTS])
    for index, row in enumerate(analysis.layers, start=1):
        writer.writerow([index, spreadsheet_text(row.name), row.type, spreadsheet_text(" ".join(row.inputs)),
                         " ".join(row.output_shapes),
                         row.learnables, row.states, row.macs, row.flops, row.torch_flops, row.activation_elements,
                         row.activation_bytes, _rf(row), *(getattr(row, part) for part in STEP_PARTS)])
    return out.getvalue()


def as_json(analysis: Analysis) -> str:
    return to_json(analysis)
