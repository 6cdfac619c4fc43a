"""The `netspec` command line (typer).

Diagnostics go to stderr, results to stdout (so `--json` output stays parseable).
Exit codes: 0 ok, 1 the input has errors, 2 the command line is wrong, 3 a netspec bug.
Only the language, IR and analysis are imported at start-up; torch and onnx load
inside the commands that need them.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

# pydantic scans every installed distribution for plugins at the first model; the CLI uses none
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer  # noqa: E402

from . import collector  # noqa: E402
from .diagnostics import Diagnostic, NetspecError, Severity, SourceMap, explain_footer, render  # noqa: E402
from .tables import SHOWN_ROWS  # noqa: E402
from .backends import MIN_OPSET  # noqa: E402
from .text import printable  # noqa: E402

TYPER_SETTINGS = {"add_completion": False, "rich_markup_mode": None, "pretty_exceptions_enable": False}
app = typer.Typer(**TYPER_SETTINGS, no_args_is_help=True,
                  help="Write networks the MATLAB way; check, analyze, train and export them.")

from .visualize.cli import app as visualize_app  # noqa: E402  (typer only: torch loads in its commands)

app.add_typer(visualize_app, name="visualize",
              help="Look inside a trained network: filters, activations, Grad-CAM, deep dream (PNG).")

NetOption = Annotated[Optional[str], typer.Option("--net", help="Variable that holds the network "
                                                  "(default: lgraph, net, then layers).")]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", metavar="NAME=VALUE",
                                                        help="Bind a variable before the file runs, "
                                                        "e.g. --set numClasses=4.")]


def _byte_size(text: str) -> int:
    """'4194304', '512K', '8M', '1G' (powers of 1024; 'KiB', 'MB'... read alike) -> bytes."""
    match = re.fullmatch(r"([0-9]+)\s*([kmg]?)(i?b)?", text.strip().lower())
    if match is None or int(match[1]) == 0:
        raise typer.BadParameter(f"'{text}' is not a size: give bytes, or a number with K, M or G (e.g. 16M)")
    return int(match[1]) * 1024 ** " kmg".index(match[2] or " ")


MaxFileSizeOption = Annotated[Optional[int], typer.Option(
    "--max-file-size", metavar="SIZE", parser=_byte_size, show_default=False,
    help="Most bytes of spec netspec reads, imported files included: bytes, or with K, M or G "
         "(default 2M).")]
PathOption = Annotated[Optional[list[Path]], typer.Option(
    "--path", metavar="DIR", help="A folder (with the folders below it) that `import` may read besides the "
    "spec's own folder tree; repeatable.")]
AllOption = Annotated[bool, typer.Option("--all", help=f"Show every layer (a table of more than {SHOWN_ROWS} "
                                         f"layers shows its first and last {SHOWN_ROWS // 2} by default).")]


def _print_diagnostics(diagnostics: list[Diagnostic], sources: SourceMap | None) -> None:
    for diagnostic in diagnostics:
        sys.stderr.write(render(diagnostic, sources) + "\n\n")
    footer = explain_footer(diagnostics)
    if footer is not None:
        sys.stderr.write(footer + "\n\n")


def _load(file: Path, net: str | None, assignments: list[str] | None, max_file_size: int | None,
          folders: list[Path] | None):
    """Load one file, printing its diagnostics; None when it has errors."""
    from .language import Limits, load_file, parse_bindings

    sources = SourceMap()
    limits = Limits(search_folders=tuple(folders or ()),
                    **({} if max_file_size is None else {"source_bytes": max_file_size}))
    try:
        bindings = parse_bindings(assignments, sources)
        result = load_file(file, net=net, bindings=bindings, limits=limits, sources=sources)
    except NetspecError as exc:
        _print_diagnostics(exc.diagnostics, getattr(exc, "sources", sources))
        return None
    _print_diagnostics(result.diagnostics, result.sources)
    return result


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help=".net or .m files to check.")],
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
) -> None:
    """Parse and validate network files: exit 0, or print located diagnostics and exit 1."""
    failed = 0
    for file in files:
        result = _load(file, net, set_, max_file_size, path)
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
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .net or .m file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the IR as JSON.")] = False,
    show_all: AllOption = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
) -> None:
    """Print the network's IR: a layer listing, or the full JSON with --json."""
    result = _load(file, net, set_, max_file_size, path)
    if result is None:
        raise typer.Exit(1)
    network = result.network
    if as_json:
        typer.echo(network.model_dump_json(indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from .tables import layer_table
    from .text import printable, terminal_text

    table = Table(title=terminal_text(f"{file} — {network.name}", "table.title"))
    for column in ("#", "name", "type", "inputs"):
        table.add_column(column)
    sources: dict[str, list[str]] = {}
    for edge in network.connections:
        sources.setdefault(edge.destination, []).append(
            edge.source if edge.destination_port == "in" else f"{edge.source} → {edge.destination_port}")
    layers = network.layers

    def cells(index: int) -> list[str]:
        layer = layers[index]
        return [str(index + 1), printable(layer.name), layer.matlab,
                printable(", ".join(sources.get(layer.name, [])))]

    with collector.paused():  # a long table's rows would otherwise set off collections that walk the network
        Console().print(layer_table(table, len(layers), cells, show_all=show_all), crop=False)


def _is_whole_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() is also true of '²' (which int() refuses) and of '٣' or '５'."""
    return text.isascii() and text.isdigit()


def _input_size(text: str | None) -> tuple | None:
    """'224 224 3', '224x224x3' or 'H W 3' -> (224, 224, 3) / ('H', 'W', 3)."""
    if text is None:
        return None
    parts = text.replace("x", " ").replace("×", " ").replace(",", " ").split() if not any(
        c.isalpha() and c != "x" for c in text) else text.replace(",", " ").split()
    if not 1 <= len(parts) <= 3:
        raise typer.BadParameter("give H W C for images, T C for sequences, or C for features",
                                 param_hint="--input-size")
    size: list[int | str] = []
    for part in parts:
        if _is_whole_number(part) and int(part) > 0:
            size.append(int(part))
        elif part.isidentifier():
            size.append(part)
        else:
            raise typer.BadParameter(f"'{part}' is neither a positive whole number nor a symbol name",
                                     param_hint="--input-size")
    return tuple(size)


FORMATS = ("table", "json", "markdown", "csv")


@app.command()
def analyze(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .net or .m file.")],
    format: Annotated[str, typer.Option("--format", "-f", help="table, json, markdown or csv.")] = "table",
    input_size: Annotated[Optional[str], typer.Option(
        "--input-size", metavar="H W C", help="Override the input size (numbers, or symbols such as H W 3 "
        "for formulas).")] = None,
    dtype: Annotated[str, typer.Option(help="Element type for memory: float32, float16, bfloat16, float64, "
                                            "int8.")] = "float32",
    convention: Annotated[str, typer.Option(help="Cost column: macs (multiply-accumulates), flops (netspec's "
                                                 "table), torch (what FlopCounterMode counts).")] = "macs",
    show_all: AllOption = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
) -> None:
    """Per-layer shapes, learnables, MACs/FLOPs, memory and receptive fields, with totals,
    1×1-bottleneck savings and diagnostics. Exits 1 when the network has errors."""
    from .analysis import DTYPES, analyze as run_analysis
    from .analysis import render

    if format not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if convention not in render.CONVENTIONS:
        raise typer.BadParameter(f"choose one of {', '.join(render.CONVENTIONS)}", param_hint="--convention")
    if dtype not in DTYPES:
        raise typer.BadParameter(f"choose one of {', '.join(DTYPES)}", param_hint="--dtype")
    size = _input_size(input_size)
    result = _load(file, net, set_, max_file_size, path)
    if result is None:
        raise typer.Exit(1)
    analysis = run_analysis(result.network, input_size=size, dtype=dtype)
    if format == "json":
        typer.echo(render.as_json(analysis))
    elif format == "markdown":
        typer.echo(render.as_markdown(analysis, convention))  # type: ignore[arg-type]
    elif format == "csv":
        typer.echo(render.as_csv(analysis), nl=False)
    else:
        from rich.console import Console

        console = Console(highlight=False)
        with collector.paused():  # a long table's rows would otherwise set off collections that walk the report
            console.print(render.as_table(analysis, convention, show_all), crop=False)  # type: ignore[arg-type]
        for line in render.summary_lines(analysis, convention):  # type: ignore[arg-type]
            console.print(line)
        if analysis.bottlenecks:
            console.print(render.bottleneck_table(analysis))
    _print_diagnostics(analysis.diagnostics, result.sources)
    if analysis.has_errors:
        raise typer.Exit(1)


@app.command()
def graph(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .net or .m file.")],
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="File to write: .dot, .svg, .png or .pdf (default: DOT on stdout).")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="dot, svg, png or pdf (default: from the -o suffix).")] = None,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
) -> None:
    """Draw the network's DAG with Graphviz, shapes on the edges. DOT always; SVG/PNG/PDF
    when the Graphviz `dot` program is installed (otherwise the .dot file and how to render it).
    Exits 1 when the network has errors (the drawing is still written, unknown shapes as '?')."""
    import shlex
    import shutil

    from .analysis import analyze as run_analysis
    from .backends import graphviz as backend

    suffixes = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf"}
    if format is not None and format not in backend.FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(backend.FORMATS)}", param_hint="--format")
    if format is None:
        format = suffixes.get(output.suffix.lower()) if output is not None else "dot"
        if format is None:
            raise typer.BadParameter(f"cannot tell the format from '{output}'; name it .dot, .svg, .png or "
                                     ".pdf, or give --format", param_hint="--output")
    if output is None and format != "dot":
        raise typer.BadParameter(f"--format {format} needs a file: give -o FILE.{format}", param_hint="--output")
    result = _load(file, net, set_, max_file_size, path)
    if result is None:
        raise typer.Exit(1)
    analysis = run_analysis(result.network)
    drawing = backend.to_dot(result.network, analysis)
    if output is None:
        typer.echo(drawing.source, nl=False)
    else:
        dot = shutil.which("dot") if format != "dot" else None
        try:
            if format == "dot" or dot is not None:
                backend.write(drawing, output, format, dot=dot or "dot")
                typer.echo(f"wrote {output}", err=True)
            else:
                fallback = output.with_suffix(".dot")
                backend.write(drawing, fallback, "dot")
                typer.echo(
                    f"netspec: the Graphviz 'dot' program is not installed, so {fallback} was written instead of "
                    f"{output}.\nRender it with:\n    dot -T{format} {shlex.quote(str(fallback))} -o "
                    f"{shlex.quote(str(output))}\nafter installing Graphviz: apt-get install graphviz "
                    "(Debian/Ubuntu), brew install graphviz (macOS), or see https://graphviz.org/download/",
                    err=True)
        except (OSError, backend.RenderError) as exc:
            typer.echo(f"netspec: cannot write {output}: {exc}", err=True)
            raise typer.Exit(1)
    _print_diagnostics(analysis.diagnostics, result.sources)
    if analysis.has_errors:
        raise typer.Exit(1)


def _output_path(text: str | None, option: str) -> Path | None:
    """An output path as given; an empty one is refused (as a Path it would mean the current folder)."""
    if text is not None and not text.strip():
        raise typer.BadParameter("is empty: give a path", param_hint=option)
    return None if text is None else Path(text)


@app.command("train")
def train_command(
    file: Annotated[Optional[Path], typer.Argument(metavar="FILE", help="A .net file (not needed with --resume).")] = None,
    data: Annotated[str, typer.Option(help="builtin (MNIST subset shipped with netspec), mnist:DIR, or an "
                                           "image folder with one sub-folder per class.")] = "builtin",
    out: Annotated[Optional[str], typer.Option("--out", "-o", metavar="FOLDER",
                                               help="Run folder, new or empty (default runs/SPEC).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Train into --out even when it holds a run or other files: "
                                                 "the run's files are replaced, the others kept.")] = False,
    epochs: Annotated[Optional[int], typer.Option(help="MaxEpochs.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="MiniBatchSize.")] = None,
    lr: Annotated[Optional[float], typer.Option(help="InitialLearnRate.")] = None,
    solver: Annotated[Optional[str], typer.Option(help="sgdm, adam or rmsprop.")] = None,
    execution_environment: Annotated[Optional[str], typer.Option(help="auto, cpu or gpu.")] = None,
    validation_frequency: Annotated[Optional[int], typer.Option(help="ValidationFrequency (iterations).")] = None,
    validation_patience: Annotated[Optional[float], typer.Option(help="ValidationPatience.")] = None,
    l2: Annotated[Optional[float], typer.Option(help="L2Regularization.")] = None,
    shuffle: Annotated[Optional[str], typer.Option(help="once, every-epoch or never.")] = None,
    augment: Annotated[Optional[str], typer.Option(help="e.g. 'RandXReflection,RandRotation=[-10 10]'.")] = None,
    split: Annotated[float, typer.Option(help="Share of each class used for training; the rest validates.")] = 0.8,
    seed: Annotated[int, typer.Option(help="Random seed (weights, data order).")] = 0,
    init: Annotated[Optional[Path], typer.Option(help="Checkpoint or run folder: copy layers whose name and "
                                                     "shape match (transfer learning).")] = None,
    resume: Annotated[Optional[Path], typer.Option(help="Run folder of a stopped run to continue.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar and no summary table (summary.json has "
                                                  "the numbers).")] = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
) -> None:
    """Train a spec with its trainingOptions (flags override them); writes a run folder."""
    if file is None and resume is None:
        raise typer.BadParameter("give a .net file, or --resume RUN", param_hint="FILE")
    if resume is not None and (overwrite or out is not None):
        raise typer.BadParameter("--resume continues the run in its own folder; --out and --overwrite start "
                                 "a new one", param_hint="--resume")
    network, text = None, ""
    if resume is None:
        result = _load(file, net, set_, max_file_size, path)
        if result is None:
            raise typer.Exit(1)
        network, text = result.network, file.read_text(encoding="utf-8-sig")
    from .train.run import run_train

    overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "solver": solver,
                 "execution_environment": execution_environment, "validation_frequency": validation_frequency,
                 "validation_patience": validation_patience, "l2": l2, "shuffle": shuffle}
    run_train(network, text, file, data=data, out=_output_path(out, "--out"), overrides=overrides, seed=seed,
              init=init, resume=resume, augment=augment, split=split, quiet=quiet, bindings=set_, overwrite=overwrite)


@app.command()
def evaluate(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="Run folder or checkpoint.")],
    data: Annotated[str, typer.Option(help="builtin, mnist:DIR or an image folder.")] = "builtin",
    out: Annotated[Optional[str], typer.Option("--out", "-o", metavar="FILE", help="Also draw the confusion "
                                               "matrix: .png, .svg or .pdf (beyond 20 classes its counts go to the "
                                               "same name .csv).")] = None,
) -> None:
    """Accuracy, loss, a per-class table and the confusion matrix of a trained network."""
    from .train.run import run_evaluate

    figure = _output_path(out, "--out")
    if figure is not None and figure.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise typer.BadParameter(f"name the picture .png, .svg or .pdf, not '{figure.name}'", param_hint="--out")
    run_evaluate(run, data, figure)


@app.command()
def predict(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Run folder, checkpoint (.pt) or ONNX model (.onnx).")],
    images: Annotated[list[Path], typer.Argument(metavar="IMAGE", help="Image files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Class and probability for each image."""
    if model.suffix == ".onnx":
        from .backends.onnx_predict import predict_onnx as predict_images
    else:
        from .train.run import run_predict as predict_images
    results = predict_images(model, images)
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    for row in results:
        typer.echo(f"{printable(str(row['image']))}: {printable(row['class'])} ({100 * row['probability']:.1f}%)")


@app.command()
def export(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .net file.")],
    out_text: Annotated[str, typer.Option("--out", "-o", metavar="PATH",
                                          help="model.onnx, or model.py with --format pytorch.")],
    format: Annotated[Optional[str], typer.Option("--format", "-f", help="onnx or pytorch (default: from the "
                                                                          "suffix of -o).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace the files -o names (and model.pt beside model.py) "
                                                 "when they exist.")] = False,
    weights: Annotated[Optional[Path], typer.Option(help="Checkpoint or run folder (default: the spec's "
                                                         "initial weights, seeded).")] = None,
    opset: Annotated[int, typer.Option(help=f"ONNX opset (>= {MIN_OPSET}).")] = MIN_OPSET,
    batch: Annotated[str, typer.Option(help="'dynamic' or a fixed batch size.")] = "dynamic",
    seed: Annotated[int, typer.Option(help="Seed of the initial weights without --weights.")] = 0,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
) -> None:
    """Export a spec as ONNX (for onnxruntime and any ONNX runtime) or as PyTorch source."""
    from .files import check_writable, write_atomically

    out = _output_path(out_text, "--out")
    kind = format or ("pytorch" if out.suffix == ".py" else "onnx")
    if kind not in ("onnx", "pytorch"):
        raise typer.BadParameter("choose onnx or pytorch", param_hint="--format")
    if batch != "dynamic" and not (_is_whole_number(batch) and int(batch) > 0):
        raise typer.BadParameter("'dynamic' or a positive whole number", param_hint="--batch")
    if opset < MIN_OPSET:
        raise typer.BadParameter(f"netspec exports opset {MIN_OPSET} or newer", param_hint="--opset")
    outputs = [out, out.with_suffix(".pt")] if kind == "pytorch" and weights is not None else [out]
    for output in outputs:
        check_writable(output, folder=False)
        if output.exists() and not overwrite:
            _print_diagnostics([Diagnostic(code="F002", message=f"{output} exists; netspec does not replace an "
                                           "export unless asked", hint="add --overwrite to replace it, or choose "
                                           "another -o")], None)
            raise typer.Exit(1)
    result = _load(file, net, set_, max_file_size, path)
    if result is None:
        raise typer.Exit(1)
    network, state, classes = result.network, None, None
    if weights is not None:
        from .train import checkpoint

        payload = checkpoint.load(weights)
        trained = checkpoint.network_of(payload)
        if [layer.name for layer in trained.layers] != [layer.name for layer in network.layers]:
            _print_diagnostics([Diagnostic(code="X001", message=f"{weights} was trained from a different "
                                           "network than this spec", hint="export the spec the run was "
                                           "trained from (the run folder keeps it as spec.net)")], None)
            raise typer.Exit(1)
        network, state, classes = trained, payload["model"], payload["classes"]
    if kind == "pytorch":
        from .backends.pytorch_source import to_source

        text = to_source(network, classes=classes)
        write_atomically(out, lambda stream: stream.write(text.encode("utf-8")))
        typer.echo(f"wrote {out} (PyTorch source, {len(network.layers)} layers)")
        if state is not None:
            import torch

            weights_file = out.with_suffix(".pt")
            write_atomically(weights_file, lambda stream: torch.save(state, stream))
            typer.echo(f"wrote {weights_file} (weights: model.load_state_dict(torch.load(..., weights_only=True)))")
        return
    from .backends.onnx import to_onnx

    proto = to_onnx(network, state, classes=classes, opset=opset,
                    batch="dynamic" if batch == "dynamic" else int(batch), seed=seed)
    write_atomically(out, lambda stream: stream.write(proto.SerializeToString()))
    typer.echo(f"wrote {out} (ONNX opset {opset}, {len(proto.graph.node)} nodes, batch {batch})")


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
def schema(
    analysis: Annotated[bool, typer.Option("--analysis", help="The schema of `analyze --format json` instead.")]
    = False,
) -> None:
    """Print the JSON schema of the IR (what `parse --json` emits), or of the analysis."""
    if analysis:
        from .analysis.report import json_schema
    else:
        from .ir import Network

        json_schema = Network.model_json_schema
    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
def explain(code: Annotated[str, typer.Argument(metavar="CODE", help="A diagnostic code, e.g. E204 (any case).")]) \
        -> None:
    """What a diagnostic code means, an example that sets it off, and the fix (as `rustc --explain`)."""
    from .codes import closest_codes, explanation

    text = explanation(code)
    if text is None:
        closest = closest_codes(code)
        typer.echo(f"netspec: no diagnostic code '{printable(code)}'"
                   f"{'; the closest are ' + ', '.join(closest) if closest else ''} (every code: docs/codes.md)",
                   err=True)
        raise typer.Exit(1)
    typer.echo("\n".join(printable(line) for line in text.split("\n")))


def _join_input_size(argv: list[str]) -> list[str]:
    """Let `--input-size H W C` take up to three words, as the option is documented."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        out.append(argv[i])
        if argv[i] == "--input-size":
            words = []
            # any script's digits join (not only _is_whole_number's), so _input_size names the word it refuses
            while i + 1 < len(argv) and len(words) < 3 and (argv[i + 1].isdigit() or argv[i + 1].isidentifier()):
                i += 1
                words.append(argv[i])
            if words:
                out.append(" ".join(words))
        i += 1
    return out


def _invoked(argv: list[str]) -> tuple[typer.Typer, dict]:
    """The app to run: only the named command's, when argv names one.

    typer builds every command's parameters before it dispatches; for `netspec analyze`
    that was a tenth of the process. The command alone, run as `netspec NAME`, reads its
    arguments, help and errors exactly as it does as a sub-command.
    """
    name = argv[0] if argv else None
    for info in app.registered_commands:
        if name == (info.name or info.callback.__name__.lower().replace("_", "-")):
            single = typer.Typer(**TYPER_SETTINGS)
            single.registered_commands.append(info)
            return single, {"args": argv[1:], "prog_name": f"netspec {name}"}
    return app, {}


SHORT_COMMANDS = frozenset({"check", "parse", "analyze", "graph", "layers", "schema", "explain"})
"""Commands that end the process as soon as they are done (no torch, no worker processes)."""


def main() -> None:
    sys.argv[1:] = _join_input_size(sys.argv[1:])
    try:
        runnable, how = _invoked(sys.argv[1:])
        runnable(**how)
    except NetspecError as exc:  # a stage raised outside a command's own handling
        _print_diagnostics(exc.diagnostics, getattr(exc, "sources", None))
        sys.exit(1)
    except Exception as exc:  # a bug in netspec, not in the user's file
        if os.environ.get("NETSPEC_DEBUG"):
            raise
        sys.stderr.write(f"netspec: internal error: {type(exc).__name__}: {printable(str(exc))}\n"
                         "this is a bug in netspec; set NETSPEC_DEBUG=1 to see the traceback and please report it\n")
        sys.exit(3)
    finally:
        if sys.argv[1:2] and sys.argv[1] in SHORT_COMMANDS:
            collector.skip_final_collection()


if __name__ == "__main__":
    main()
