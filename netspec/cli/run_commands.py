"""Commands that build and run a network: `train`, `evaluate`, `predict`, `export`.
torch (or onnx, onnxruntime) loads inside each command, never at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..backends import MIN_OPSET
from .options import (ArgsOption, FixedSequenceLengthOption, JsonOption, MaxFileSizeOption, NetOption, PathOption,
                      QuietOption, SetOption, SpecOptions, format_option, is_whole_number, output_path)
from .output import Output

if TYPE_CHECKING:
    from rich.table import Table

    from ..ir import Network
    from .reports import Evaluation

__all__ = ["train_command", "evaluate", "predict", "export"]


def train_command(
    file: Annotated[Optional[Path], typer.Argument(metavar="FILE", help="A .net file (not needed with --resume).")] = None,
    data: Annotated[str, typer.Option(help="builtin (MNIST subset shipped with netspec; Japanese Vowels for a "
                                           "sequence network), mnist:DIR, or an image folder with one sub-folder "
                                           "per class; for a sequence network a .ts file (the _TEST.ts beside it is "
                                           "the test set) or a folder of per-class CSV folders.")] = "builtin",
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
    sort_by_length: Annotated[bool, typer.Option(help="Sequences: train on them shortest first (MATLAB's "
                                                      "sequence-classification example sorts them so; with "
                                                      "--shuffle never, mini-batches pad little).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary table "
                                                              "(summary.json has the numbers).")] = False,
    skip_memory_check: Annotated[bool, typer.Option(help="Train even when the estimated training memory "
                                                         "exceeds the device's free memory.")] = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
    args: ArgsOption = None,
) -> None:
    """Train a spec with its trainingOptions (flags override them); writes a run folder."""
    if file is None and resume is None:
        raise typer.BadParameter("give a .net file, or --resume RUN", param_hint="FILE")
    if resume is not None and (overwrite or out is not None):
        raise typer.BadParameter("--resume continues the run in its own folder; --out and --overwrite start "
                                 "a new one", param_hint="--resume")
    output = Output(quiet=quiet)
    network, text = None, ""
    if resume is None:
        network = SpecOptions(net, set_, max_file_size, path, args).load(file, output).network
        if network is None:
            raise typer.Exit(1)
        text = file.read_text(encoding="utf-8-sig")
    from ..train.run import run_train

    overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "solver": solver,
                 "execution_environment": execution_environment, "validation_frequency": validation_frequency,
                 "validation_patience": validation_patience, "l2": l2, "shuffle": shuffle}
    with output.training_progress() as progress:
        summary = run_train(network, text, file, data=data, out=output_path(out, "--out"), overrides=overrides,
                            seed=seed, init=init, resume=resume, augment=augment, split=split, bindings=set_,
                            overwrite=overwrite, sort_by_length=sort_by_length, memory_check=not skip_memory_check,
                            on_event=progress)
    if summary is not None:
        output.status(_summary_table(summary))


def _summary_table(summary: dict[str, Any]) -> Table:
    """What `run_train` returns (summary.json and the run folder) as `netspec train` shows it."""
    from rich.table import Table

    unit = summary.get("unit", "images")  # images, or sequences
    table = Table(title=f"netspec train — {summary['folder']}", show_header=False, title_style="bold")
    table.add_column(justify="right", style="bold")
    table.add_column()
    rows = [("iterations", f"{summary['iterations']:,} ({summary['epochs']} epochs, stopped: {summary['stopped']})"),
            ("time", f"{summary['seconds']:.1f} s on {summary.get('device_name', summary['device'])}"),
            ("throughput", f"{summary['images_per_second']:,.0f} {unit}/s"
             + (f", {summary['achieved_flops_per_second'] / 1e9:,.2f} GFLOP/s achieved"
                if summary.get("achieved_flops_per_second") else "")
             + (f", MFU {100 * summary['mfu']:.1f}%" if summary.get("mfu") else "")),
            ("final mini-batch", (f"loss {summary['final_loss']:.4f}" if summary["final_loss"] is not None else "—")
             + (f", accuracy {100 * summary['final_accuracy']:.1f}%"
                if summary["final_accuracy"] is not None else ""))]
    for key in ("validation", "test"):
        if key in summary:
            accuracy = summary[key]["accuracy"]
            rows.append((key, (f"accuracy {100 * accuracy:.2f}% on " if accuracy is not None else "")
                         + f"{summary[key]['images']:,} {unit} (loss {summary[key]['loss']:.4f})"))
    rows.append(("files", ", ".join(summary["files"])))
    for key, value in rows:
        table.add_row(key, value)
    return table


EVALUATE_FORMATS = ("table", "json")
EvaluateFormat = format_option(*EVALUATE_FORMATS)


def evaluate(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="Run folder or checkpoint.")],
    data: Annotated[str, typer.Option(help="builtin, mnist:DIR or an image folder.")] = "builtin",
    out: Annotated[Optional[str], typer.Option("--out", "-o", metavar="FILE", help="Also draw the confusion "
                                               "matrix: .png, .svg or .pdf (beyond 20 classes its counts go to the "
                                               "same name .csv).")] = None,
    format: EvaluateFormat = "table",
    as_json: JsonOption = False,
) -> None:
    """Accuracy, loss, a per-class table and the confusion matrix of a trained network."""
    output = Output.of(format, EVALUATE_FORMATS, as_json=as_json)
    figure = output_path(out, "--out")
    if figure is not None and figure.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise typer.BadParameter(f"name the picture .png, .svg or .pdf, not '{figure.name}'", param_hint="--out")
    from ..train.run import run_evaluate

    from .reports import Evaluation

    evaluation = Evaluation.model_validate(run_evaluate(run, data, figure))
    if output.json:
        output.document(evaluation)
    else:
        _show_evaluation(output, evaluation)
    if evaluation.confusion_csv is not None:
        output.wrote(evaluation.confusion_csv, "confusion matrix: true, predicted, count of every non-zero cell")
    if evaluation.figure is not None:
        output.wrote(evaluation.figure, "confusion matrix")


FULL_PER_CLASS_TABLE = 30
"""Classes; above, `evaluate` shows the SHOWN_AT_EACH_END classes of lowest and of highest recall
(a table of thousands of rows reads as none)."""
SHOWN_AT_EACH_END = 10


def _show_evaluation(output: Output, evaluation: Evaluation) -> None:
    """The title line with accuracy and loss, the per-class table and the confusion matrix (or
    where it went)."""
    from rich.table import Table

    from ..text import terminal_text

    loss = f"loss {evaluation.loss:.4f}" if evaluation.loss is not None else "loss —"
    title = terminal_text(f"{evaluation.model} on {evaluation.data} ({evaluation.images:,} {evaluation.unit}): "
                          + (f"accuracy {100 * evaluation.accuracy:.2f}%, " if evaluation.accuracy is not None
                             else "") + loss)
    scores = evaluation.classes
    if not scores:  # regression: no classes to count
        output.show(title)
        return
    output.show(title, soft_wrap=True)  # a line of its own: as the title of the narrow table it would wrap
    table = Table()
    for column in ("class", evaluation.unit, "correct", "recall", "precision"):
        table.add_column(column, justify="right" if column != "class" else "left")
    shown: list[int | None] = list(range(len(scores)))
    if len(scores) > FULL_PER_CLASS_TABLE:
        by_recall = sorted(shown, key=lambda i: scores[i].recall)
        shown = [*by_recall[:SHOWN_AT_EACH_END], None, *by_recall[-SHOWN_AT_EACH_END:]]
        table.caption = (f"{len(scores):,} classes: the {SHOWN_AT_EACH_END} with the lowest recall, then the "
                         f"{SHOWN_AT_EACH_END} with the highest")
    for i in shown:
        if i is None:
            table.add_row(f"… {len(scores) - 2 * SHOWN_AT_EACH_END:,} more", "", "", "", "")
            continue
        score = scores[i]
        table.add_row(terminal_text(score.name), f"{score.images:,}", f"{score.correct:,}",
                      f"{100 * score.recall:.1f}%", f"{100 * score.precision:.1f}%")
    output.show(table)
    if evaluation.confusion is not None:
        confusion = Table(title="confusion (rows: true, columns: predicted)")
        confusion.add_column("")
        for score in scores:
            confusion.add_column(terminal_text(score.name), justify="right")
        for score, row in zip(scores, evaluation.confusion):
            confusion.add_row(terminal_text(score.name), *[str(v) if v else "·" for v in row])
        output.show(confusion)
    elif evaluation.confusion_csv is not None:
        output.show(f"confusion matrix ({len(scores):,} × {len(scores):,}): too large to print; every non-zero "
                    f"cell (true, predicted, count) is in {evaluation.confusion_csv}", soft_wrap=True)


PREDICT_FORMATS = ("text", "json")
PredictFormat = format_option(*PREDICT_FORMATS)


def predict(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Run folder, checkpoint (.pt) or ONNX model (.onnx).")],
    images: Annotated[list[Path], typer.Argument(metavar="FILE", help="Image files; for a sequence network, CSV "
                                                                      "files (one sequence each) or .ts files.")],
    format: PredictFormat = "text",
    as_json: JsonOption = False,
) -> None:
    """Class and probability for each image or sequence."""
    from ..text import printable

    output = Output.of(format, PREDICT_FORMATS, as_json=as_json)
    if model.suffix == ".onnx":
        from ..backends.onnx_predict import predict_onnx as predict_images
    else:
        from ..train.run import run_predict as predict_images
    from .reports import Predictions

    predictions = Predictions.model_validate(predict_images(model, images))
    if output.json:
        output.document(predictions)
        return
    for row in predictions.root:
        output.text(f"{printable(row.image)}: {printable(row.class_name)} ({100 * row.probability:.1f}%)")


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
    sequence_length: FixedSequenceLengthOption = None,
    quiet: QuietOption = False,
    net: NetOption = None,
    set_: SetOption = None,
    max_file_size: MaxFileSizeOption = None,
    path: PathOption = None,
    args: ArgsOption = None,
) -> None:
    """Export a spec as ONNX (for onnxruntime and any ONNX runtime) or as PyTorch source."""
    from ..diagnostics import Diagnostic
    from ..files import check_writable, write_atomically

    output = Output(quiet=quiet)
    out = output_path(out_text, "--out")
    kind = format or ("pytorch" if out.suffix == ".py" else "onnx")
    _check_export_options(kind, batch, opset, sequence_length)
    outputs = [out, out.with_suffix(".pt")] if kind == "pytorch" and weights is not None else [out]
    for written in outputs:
        check_writable(written, folder=False)
        if written.exists() and not overwrite:
            output.diagnostics([Diagnostic(code="F002", message=f"{written} exists; netspec does not replace an "
                                           "export unless asked", hint="add --overwrite to replace it, or choose "
                                           "another -o")])
            raise typer.Exit(1)
    network = SpecOptions(net, set_, max_file_size, path, args).load(file, output).network
    if network is None:
        raise typer.Exit(1)
    state, classes = None, None
    if weights is not None:
        from ..train import checkpoint

        payload = checkpoint.load(weights)
        trained = checkpoint.network_of(payload)
        if [layer.name for layer in trained.layers] != [layer.name for layer in network.layers]:
            output.diagnostics([Diagnostic(code="X001", message=f"{weights} was trained from a different "
                                           "network than this spec", hint="export the spec the run was "
                                           "trained from (the run folder keeps it as spec.net)")])
            raise typer.Exit(1)
        network, state, classes = trained, payload["model"], payload["classes"]
    if sequence_length is not None:
        _check_fixed_length(network, sequence_length)
    if kind == "pytorch":
        from ..backends.pytorch_source import to_source

        text = to_source(network, classes=classes)
        write_atomically(out, lambda stream: stream.write(text.encode("utf-8")))
        output.wrote(out, f"PyTorch source, {len(network.layers)} layers")
        if state is not None:
            import torch

            weights_file = out.with_suffix(".pt")
            write_atomically(weights_file, lambda stream: torch.save(state, stream))
            output.wrote(weights_file, "weights: model.load_state_dict(torch.load(..., weights_only=True))")
        return
    from ..backends.onnx import to_onnx

    proto = to_onnx(network, state, classes=classes, opset=opset,
                    batch="dynamic" if batch == "dynamic" else int(batch), seed=seed, sequence_length=sequence_length)
    write_atomically(out, lambda stream: stream.write(proto.SerializeToString()))
    lengths = [d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim[1:] if d.dim_param]
    output.wrote(out, f"ONNX opset {opset}, {len(proto.graph.node)} nodes, batch {batch}"
                      + "".join(f", length {name} dynamic" for name in lengths)
                      + (f", length {sequence_length} fixed" if sequence_length is not None else ""))


def _check_export_options(kind: str, batch: str, opset: int, sequence_length: int | None) -> None:
    if kind not in ("onnx", "pytorch"):
        raise typer.BadParameter("choose onnx or pytorch", param_hint="--format")
    if batch != "dynamic" and not (is_whole_number(batch) and int(batch) > 0):
        raise typer.BadParameter("'dynamic' or a positive whole number", param_hint="--batch")
    if opset < MIN_OPSET:
        raise typer.BadParameter(f"netspec exports opset {MIN_OPSET} or newer", param_hint="--opset")
    if sequence_length is not None and kind == "pytorch":
        raise typer.BadParameter("the PyTorch source takes sequences of any length; this fixes an ONNX model's",
                                 param_hint="--sequence-length")


def _check_fixed_length(network: Network, length: int) -> None:
    """--sequence-length needs a sequence input, and no shorter sequence than its MinLength."""
    from ..ir import SequenceInputLayer

    inputs = [layer for layer in network.layers if isinstance(layer, SequenceInputLayer)]
    if not inputs:
        raise typer.BadParameter("the network takes no sequences (it has no sequenceInputLayer)",
                                 param_hint="--sequence-length")
    shortest = max(layer.min_length or 1 for layer in inputs)
    if length < shortest:
        raise typer.BadParameter(f"{length} time steps is shorter than the input layer's MinLength ({shortest})",
                                 param_hint="--sequence-length")
