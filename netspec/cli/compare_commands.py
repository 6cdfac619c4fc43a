"""Commands that put numbers side by side: `diff` (two networks, statically; no torch) and
`profile` (measured time per layer beside the analysis' MACs)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .. import collector
from .options import (AllOption, ArgsOption, JsonOption, MaxFileSizeOption, NetOption, PathOption, SetOption,
                      SpecOptions, format_option, is_whole_number)
from .output import Output, choose

if TYPE_CHECKING:
    from ..language import LoadResult
    from .reports import ProfileReport

__all__ = ["diff", "profile"]

DIFF_FORMATS = ("table", "json", "markdown")
DiffFormat = format_option(*DIFF_FORMATS)
NetsOption = Annotated[Optional[list[str]], typer.Option(
    "--net", metavar="VARIABLE", help="Variable that holds a network: once for both files, once per file, or "
    "twice with one file (its two networks); default: each file's network, as `check` chooses it.")]


def _targets(files: list[Path], nets: list[str] | None) -> list[tuple[Path, str | None]]:
    """The two (file, variable) to compare, from one file with two --net or two files with 0-2."""
    nets = nets or []
    if len(files) == 1 and len(nets) == 2:
        return [(files[0], nets[0]), (files[0], nets[1])]
    if len(files) == 1:
        raise typer.BadParameter("give two files, or one file and two --net (its two networks)", param_hint="FILE")
    if len(files) != 2:
        raise typer.BadParameter(f"compares two networks, got {len(files)} files", param_hint="FILE")
    if len(nets) > 2:
        raise typer.BadParameter(f"give at most two (one per file), got {len(nets)}", param_hint="--net")
    chosen = nets * 2 if len(nets) == 1 else nets or [None, None]
    return list(zip(files, chosen))


def diff(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Two .net or .m files, or one with two --net.")],
    format: DiffFormat = "table",
    as_json: JsonOption = False,
    show_all: Annotated[bool, typer.Option("--all", help="Show the layers with no difference too.")] = False,
    nets: NetsOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
    args: ArgsOption = None,
) -> None:
    """Layers added, removed and changed between two networks (options old → new), and what that does
    to learnables, MACs, activation memory and receptive fields, per layer and in total. Layers are
    paired by name; MATLAB's default names (conv_1, conv_2...) by order and type. Exits 1 when a
    network has errors."""
    from ..analysis import analyze as run_analysis
    from ..analysis import diff as compare
    from ..analysis import diff_render

    out = Output.of(format, DIFF_FORMATS, as_json=as_json)
    spec = SpecOptions(None, set_, max_file_size, path, args)
    targets = _targets(files, nets)
    results = [replace(spec, net=net).load(file, None) for file, net in targets]
    _print_once(out, [(d, result) for result in results for d in result.diagnostics])
    if any(result.network is None for result in results):
        raise typer.Exit(1)
    networks = [result.network for result in results]
    analyses = [run_analysis(network) for network in networks]  # type: ignore[arg-type]
    result = compare.diff(networks[0], networks[1], analyses[0], analyses[1])  # type: ignore[arg-type]
    if out.json:
        out.document(compare.to_json(result))
    elif out.format == "markdown":
        out.text(diff_render.as_markdown(result, show_all))
    else:
        with collector.paused():
            out.show(diff_render.as_table(result, show_all), crop=False)
        for line in diff_render.summary_lines(result, show_all):
            out.show(line)
    _print_once(out, [(d, r) for analysis, r in zip(analyses, results) for d in analysis.diagnostics])
    if any(analysis.has_errors for analysis in analyses):
        raise typer.Exit(1)


def _print_once(out: Output, found: list[tuple[object, LoadResult]]) -> None:
    """Diagnostics of both networks, each once (one file read twice reports its warnings twice)."""
    shown: list[object] = []
    for diagnostic, result in found:
        if diagnostic not in shown:
            shown.append(diagnostic)
            out.diagnostics([diagnostic], result.sources)  # type: ignore[list-item]


PROFILE_FORMATS = ("table", "json")
ProfileFormat = format_option(*PROFILE_FORMATS)


def _positive(option: str, least: int = 1):
    """A parser of a whole-number option that names the option and the least value when refusing one."""
    def parse(text: str | int) -> int:
        text = str(text)  # typer parses the default (an int) too
        if not is_whole_number(text) or int(text) < least:
            raise typer.BadParameter(f"'{text}' is not a whole number ≥ {least}", param_hint=option)
        return int(text)
    return parse


def profile(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .net or .m file.")],
    batch_size: Annotated[Optional[int], typer.Option(
        "--batch-size", metavar="N", parser=_positive("--batch-size"),
        help="Samples per forward pass (default: the spec's MiniBatchSize).")] = None,
    backend: Annotated[str, typer.Option(help="torch (the lowered module, per-layer hooks) or onnx (the "
                                              "exported model in onnxruntime, its profiler).")] = "torch",
    repeat: Annotated[int, typer.Option(metavar="K", parser=_positive("--repeat"),
                                        help="Measured runs: the median and spread of K.")] = 10,
    warmup: Annotated[int, typer.Option(metavar="W", parser=_positive("--warmup", 0),
                                        help="Runs before the measured ones.")] = 3,
    device: Annotated[str, typer.Option(help="auto (the GPU when there is one), cpu or cuda.")] = "auto",
    format: ProfileFormat = "table",
    as_json: JsonOption = False,
    show_all: AllOption = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
    args: ArgsOption = None,
) -> None:
    """Run the lowered network on random input and measure each layer's time, beside its MACs, the
    GFLOP/s it achieves and its share of the total: which layer is slow for its cost."""
    from ..analysis import analyze as run_analysis
    from ..backends import profile as backend_profile
    from .reports import ProfileReport

    out = Output.of(format, PROFILE_FORMATS, as_json=as_json)
    choose(backend, backend_profile.BACKENDS, "--backend")
    choose(device, ("auto", "cpu", "cuda"), "--device")
    result = SpecOptions(net, set_, max_file_size, path, args).load(file, out)
    if result.network is None:
        raise typer.Exit(1)
    analysis = run_analysis(result.network)
    out.diagnostics(analysis.diagnostics, result.sources)
    if analysis.has_errors:
        raise typer.Exit(1)
    if device == "cuda" and backend_profile.resolve_device("auto") != "cuda":
        from ..diagnostics import error

        raise error("R020", "--device cuda asks for a CUDA GPU, and PyTorch sees none here",
                    hint="leave out --device (the GPU when there is one), or give --device cpu")
    batch = batch_size or analysis.totals.batch_size
    measured = backend_profile.profile(result.network, backend=backend, batch=batch, repeat=repeat, warmup=warmup,
                                       device=device)
    report = ProfileReport.of(measured, analysis)
    if out.json:
        out.document(report)
        return
    with collector.paused():
        out.show(_profile_table(report, show_all), crop=False)
    for line in _profile_summary(report):
        out.show(line)


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:,.1f}"


def _profile_table(report: ProfileReport, show_all: bool):
    from rich.table import Table

    from ..analysis.render import grouped
    from ..tables import layer_table
    from ..text import printable, terminal_text

    table = Table(title=terminal_text(f"{report.network} — {report.backend} on {report.device}, batch "
                                      f"{report.batch_size}", "bold"), show_footer=True, footer_style="bold")
    total_gflops = f"{report.gflops:,.1f}" if report.gflops is not None else "—"
    for column, footer in (("#", ""), ("name", "total"), ("type", f"{len(report.layers)} layers"),
                           ("MACs", grouped(report.macs)), ("time (ms)", _ms(report.layers_ms)), ("IQR (ms)", ""),
                           ("min–max (ms)", ""), ("GFLOP/s", total_gflops), ("share", "100%")):
        table.add_column(column, footer=footer, justify="left" if column in ("name", "type") else "right")
    layers = report.layers

    def cells(index: int) -> list[str]:
        row = layers[index]
        t = row.time_ms
        return [str(index + 1), printable(row.name), row.type, grouped(row.macs), _ms(t.median),
                f"{_ms(t.q1)}–{_ms(t.q3)}", f"{_ms(t.min)}–{_ms(t.max)}",
                f"{row.gflops:,.1f}" if row.gflops is not None else "—", f"{row.share:.1f}%"]

    return layer_table(table, len(layers), cells, show_all=show_all)


def _profile_summary(report: ProfileReport) -> list[str]:
    forward = report.forward_ms
    lines = [f"median of {report.repeat} runs after {report.warmup} warm-up runs",
             f"whole forward pass {_ms(forward.median)} ms (min–max {_ms(forward.min)}–{_ms(forward.max)}), "
             f"its layers {_ms(report.layers_ms)} ms"]
    if report.unattributed_ms is not None:
        lines.append(f"onnxruntime nodes of no layer: {_ms(report.unattributed_ms.median)} ms")
    return lines
