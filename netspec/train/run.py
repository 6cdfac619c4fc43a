"""What `netspec train`, `evaluate` and `predict` do, behind the CLI's argument parsing."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..analysis.limits import check_buildable
from ..datasets import sequences
from ..datasets.sequences import SequenceDataset
from ..diagnostics import error, render
from ..files import check_writable, write_text, writing
from ..images import read_image
from ..ir import Network, SequenceInputLayer, TrainingOptions
from ..text import spreadsheet_text
from . import checkpoint, plots
from .augment import parse_augmentation
from .data import BUILTIN, Dataset, load_source, split_per_label, validation_warning
from .events import EventHandler, ignore
from .feed import inputs_of
from .loop import (EVALUATION_CSV, RUN_FILES, TrainConfig, classifier_parts, loss_and_accuracy,
                   predict_batches, refuse_pixel_labels, train)
from .memory import padded_length, refuse_beyond_memory

__all__ = ["run_train", "run_evaluate", "run_predict", "default_run_folder", "image_input_size", "sequence_input",
           "checkpoint_interval"]

OVERRIDES = {"epochs": "max_epochs", "batch_size": "mini_batch_size", "lr": "initial_learn_rate",
             "solver": "solver", "execution_environment": "execution_environment",
             "validation_frequency": "validation_frequency", "validation_patience": "validation_patience",
             "l2": "l2_regularization", "shuffle": "shuffle", "momentum": "momentum"}

PRINTED_CONFUSION = 20  # classes; above, the confusion matrix goes to a CSV file only


def sequence_input(network: Network) -> SequenceInputLayer | None:
    """The network's sequenceInputLayer, or None: then it trains on images."""
    return next((layer for layer in network.layers if isinstance(layer, SequenceInputLayer)), None)


CHECKPOINT_SECONDS = 10.0
"""`netspec train` writes last.pt no more often than this (a small network runs 50 iterations in
a second; a checkpoint each time cost it ~1% of its speed): a kill loses at most this much work
or `checkpoint_interval` iterations, whichever is longer."""


def checkpoint_interval(options: TrainingOptions) -> int:
    """Iterations between last.pt saves: at each validation, and at least every 50."""
    return max(1, min(options.validation_frequency, 50))


def image_input_size(network: Network) -> tuple[int, int, int]:
    from ..ir import ImageInputLayer

    for layer in network.layers:
        if isinstance(layer, ImageInputLayer):
            size = layer.input_size
            if not all(isinstance(d, int) for d in size):
                raise error("R005", f"'{layer.name}' has a symbolic size {size}; training needs numbers",
                            layer.span)
            return size  # type: ignore[return-value]
    raise error("R006", f"netspec train reads images and sequences, but '{network.name}' has no imageInputLayer "
                "or sequenceInputLayer", hint="feature networks can be analyzed and exported; training them is not "
                                              "supported yet")


def _absolute(source: str) -> str:
    """Data sources as absolute paths, so --resume works from any folder."""
    if source == BUILTIN:
        return source
    if source.startswith("mnist:"):
        return "mnist:" + str(Path(source[len("mnist:"):]).expanduser().resolve())
    return str(Path(source).expanduser().resolve())


def default_run_folder(spec: Path) -> Path:
    base = Path("runs") / spec.stem
    candidate, index = base, 1
    while candidate.exists():
        index += 1
        candidate = Path(f"{base}-{index}")
    return candidate


def _check_run_folder(out: Path, overwrite: bool) -> None:
    """Before any work: a new run never lands on an earlier one (or on other files) unless
    --overwrite says so, and its folder must be one this process can create and write."""
    with writing(out):
        occupied = out.is_dir() and any(out.iterdir())
    if occupied and not overwrite:
        if any((out / name).is_file() for name in ("last.pt", "best.pt")):
            raise error("R012", f"the folder {out} already holds a training run",
                        hint=f"continue it with `netspec train --resume {out}`, replace it with --overwrite, "
                             "or choose another --out")
        raise error("R012", f"the folder {out} is not empty",
                    hint="choose a new or empty folder for --out, or give --overwrite (netspec then replaces "
                         "its own files there and leaves the others)")
    check_writable(out, folder=True)


def _finished(out: Path) -> dict[str, Any] | None:
    """The summary of a run whose every final file is in place (summary.json is written last)."""
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if all((out / name).is_file() for name in summary.get("files", [])) else None


def resolve_options(network: Network, overrides: dict[str, Any]) -> TrainingOptions:
    """The spec's trainingOptions (MATLAB's sgdm defaults without one), then CLI overrides."""
    options = network.training or TrainingOptions(solver="sgdm")
    data = options.model_dump(exclude={"span"})
    given = {OVERRIDES[k]: v for k, v in overrides.items() if v is not None}
    if "solver" in given and given["solver"] != options.solver:
        data = {"solver": given["solver"], **{k: v for k, v in data.items()
                                             if k not in ("solver", "initial_learn_rate",
                                                          "squared_gradient_decay_factor")}}
    from pydantic import ValidationError

    try:
        return TrainingOptions.model_validate({**data, **given})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise error("R007", f"invalid training option {first['loc'][0]}: {first['msg']}") from None


def run_train(network: Network, spec_text: str, spec_path: Path | None, *, data: str, out: Path | None,
              overrides: dict[str, Any], seed: int, init: Path | None, resume: Path | None, augment: str | None,
              split: float, bindings: list[str] | None = None, overwrite: bool = False,
              sort_by_length: bool = False, memory_check: bool = True,
              on_event: EventHandler = ignore) -> dict[str, Any] | None:
    """Train into a new run folder (an occupied one only with `overwrite`), or continue the run
    `resume` names: its training where it stopped, or its finishing where a kill cut it short.
    `on_event` is told what the training does (netspec.train.events). Returns the run's summary
    (what summary.json holds, and `folder`: the run folder); None on the ranks of a
    multi-process run other than the first, which reports for them all. A run whose estimated
    training memory exceeds the device's free memory is refused first, unless not `memory_check`."""
    resumed = None
    if resume is not None:
        resumed = checkpoint.load(resume, prefer="last")
        network = checkpoint.network_of(resumed)
        spec_text = resumed.get("spec", spec_text)
        options = TrainingOptions.model_validate_json(resumed["options"])
        extra = json.loads(resumed.get("run", "{}"))
        data, split, seed, augment = extra.get("data", data), extra.get("split", split), \
            resumed.get("seed", seed), extra.get("augment", augment)
        bindings, sort_by_length = extra.get("set", []), extra.get("sort_by_length", False)
        out = Path(resumed["path"]).parent
        finished = _finished(out)
        if finished is not None:
            sys.stderr.write(f"{out} already finished ({finished.get('stopped', 'max-epochs')}); nothing to resume\n")
            return {**finished, "folder": str(out)}
    else:
        refuse_pixel_labels(network)  # before the data: a segmentation data set is not what it reads
        options = resolve_options(network, overrides)
        out = out or default_run_folder(spec_path or Path(network.name))
        _check_run_folder(out, overwrite)
    check_buildable(network)  # before the data is read at the input layer's size
    sequential = sequence_input(network) is not None
    if memory_check and not sequential:
        refuse_beyond_memory(network, options)
    training, validation, test = _training_data(network, data, split, seed, augment)
    if memory_check and sequential and len(training):  # a sequence's length comes with the data
        refuse_beyond_memory(network, options, padded_length(training.lengths, options))
    if sort_by_length:
        training = _sorted_by_length(network, training)
    if len(training) == 0:
        raise error("D009", f"the data source '{data}' has no training images")
    if resume is None and (warning := validation_warning(validation, split)) is not None:
        sys.stderr.write(render(warning) + "\n\n")
    config = TrainConfig(network=network, options=options, train=training, validation=validation, out=out,
                         spec_text=spec_text, seed=seed, init=init, resume=resumed,
                         augmenter=parse_augmentation(augment), on_event=on_event,
                         checkpoint_every=checkpoint_interval(options), checkpoint_seconds=CHECKPOINT_SECONDS,
                         extra={"data": _absolute(data), "split": split, "augment": augment,
                                "set": list(bindings or []), "sort_by_length": sort_by_length})
    summary = train(config)
    if int(os.environ.get("RANK", "0")) != 0:
        return None
    plots.training_progress(out / "metrics.csv", out / "training-progress.png")
    report_set = test if test is not None else validation
    if report_set is not None and len(report_set):
        payload = checkpoint.load(out)
        metrics = _evaluate(payload, report_set)
        summary["test" if test is not None else "validation"] = {
            "accuracy": metrics["accuracy"] if math.isfinite(metrics["accuracy"]) else None,
            "loss": metrics["loss"], "images": len(report_set)}
        title = Path(network.source).stem if network.source else network.name
        if metrics["confusion"].size:
            plots.confusion_figure(metrics["confusion"], report_set.classes, out / "confusion.png",
                                   f"{title} ({'test' if test is not None else 'validation'})")
    summary["files"] = [name for name in RUN_FILES if name != "summary.json" and (out / name).is_file()] \
        + ["summary.json"]
    write_text(out / "summary.json", json.dumps(summary, indent=2))  # last: the run is finished
    return {**summary, "folder": str(out)}


def _training_data(network: Network, data: str, split: float, seed: int, augment: str | None
                   ) -> tuple[Dataset | SequenceDataset, Dataset | SequenceDataset, Dataset | SequenceDataset | None]:
    """(training, validation, test-or-None) at the input layer's size: images, or sequences checked
    against sequenceInputLayer (channels, MinLength, no missing value)."""
    layer = sequence_input(network)
    if layer is None:
        return load_source(data, image_input_size(network), split=split, seed=seed)
    if augment:
        raise error("R017", "--augment transforms images; this network reads sequences", layer.span,
                    hint="train without --augment")
    train, test = sequences.load_sequences(data)
    for dataset in (train, test) if test is not None else (train,):
        sequences.check_sequences(dataset, layer.input_size, layer.min_length)
    training, validation = split_per_label(train, split, seed)
    return training, validation, test


def _sorted_by_length(network: Network, training: Dataset | SequenceDataset) -> SequenceDataset:
    """The training sequences shortest first, as MATLAB's sequence-classification example sorts them
    before trainNetwork: with Shuffle 'never', each mini-batch then pads little."""
    if not isinstance(training, SequenceDataset):
        raise error("R016", "--sort-by-length orders sequences; this network reads images",
                    hint="train without --sort-by-length")
    return training.subset(np.argsort(training.lengths, kind="stable"))


def _sequences_to_score(network: Network, data: str) -> SequenceDataset:
    """evaluate's sequences: the bundled test set (builtin), the .ts file itself, or a CSV folder."""
    layer = sequence_input(network)
    if data == BUILTIN:
        dataset = sequences.japanese_vowels()[1]
    elif sequences.is_sequence_file(data):
        dataset = sequences.read_ts(Path(data).expanduser())
    else:
        dataset = sequences.read_csv_folder(Path(data).expanduser())
    sequences.check_sequences(dataset, layer.input_size, layer.min_length)
    return dataset


def _evaluate(payload: dict[str, Any], dataset: Dataset | SequenceDataset) -> dict[str, Any]:
    network, model = checkpoint.model_of(payload)
    kind, logits_layer, _ = classifier_parts(network)
    scores = predict_batches(model, inputs_of(dataset), logits_layer, torch.device("cpu"))
    loss, accuracy = loss_and_accuracy(kind, scores, torch.from_numpy(dataset.labels))
    if kind != "classification":  # accuracy is NaN
        return {"accuracy": accuracy, "loss": loss.item(), "confusion": np.zeros((0, 0), dtype=np.int64)}
    predicted = scores.argmax(1).numpy()
    return {"accuracy": float((predicted == dataset.labels).mean()), "loss": loss.item(),
            "confusion": plots.confusion_matrix(dataset.labels, predicted, len(payload["classes"]))}


def run_evaluate(source: Path, data: str, out: Path | None) -> dict[str, Any]:
    """Scores of the network `source` holds on `data`: the fields of `netspec evaluate --format json`
    (netspec.cli.reports.Evaluation). Beyond PRINTED_CONFUSION classes the confusion matrix goes to
    a CSV file instead; `out` names a picture of it to draw."""
    payload = checkpoint.load(source)
    network = checkpoint.network_of(payload)
    if sequence_input(network) is not None:
        dataset = _sequences_to_score(network, data)
    else:
        folder = data != BUILTIN and not data.startswith("mnist:")
        training, validation, test = load_source(data, image_input_size(network), split=1.0 if folder else 0.8)
        dataset = test if test is not None else training
    classes = payload["classes"]
    if dataset.classes != classes:
        raise error("R008", f"the data's classes {dataset.classes[:6]} differ from the network's {classes[:6]}",
                    hint="evaluate on data with the same class folders the network was trained on")
    confusion_csv = None
    if len(classes) > PRINTED_CONFUSION:
        confusion_csv = out.with_suffix(".csv") if out is not None else Path(payload["path"]).parent / EVALUATION_CSV
        check_writable(confusion_csv, folder=False)
    if out is not None:
        check_writable(out, folder=False)
    metrics = _evaluate(payload, dataset)
    matrix = metrics["confusion"]
    if matrix.size and confusion_csv is not None:
        _write_confusion(matrix, classes, confusion_csv)
    if matrix.size and out is not None:
        plots.confusion_figure(matrix, classes, out, network.name)
    return {"model": str(payload["path"]), "data": data, "images": len(dataset),
            "unit": "sequences" if isinstance(dataset, SequenceDataset) else "images",
            "accuracy": metrics["accuracy"] if math.isfinite(metrics["accuracy"]) else None,
            "loss": metrics["loss"] if math.isfinite(metrics["loss"]) else None,
            "classes": _class_scores(classes, matrix),
            "confusion": matrix.tolist() if matrix.size and confusion_csv is None else None,
            "confusion_csv": str(confusion_csv) if matrix.size and confusion_csv is not None else None,
            "figure": str(out) if matrix.size and out is not None else None}


def _write_confusion(matrix: np.ndarray, classes: list[str], csv_path: Path) -> None:
    """The matrix in long form, one row per non-zero cell: small however many classes there are."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["true", "predicted", "count"])
    for i, j in zip(*np.nonzero(matrix)):
        writer.writerow([spreadsheet_text(classes[i]), spreadsheet_text(classes[j]), int(matrix[i, j])])
    write_text(csv_path, text.getvalue())


def _class_scores(classes: list[str], matrix: np.ndarray) -> list[dict[str, Any]]:
    """Images, correct, recall and precision per class (none for a regression network)."""
    if not matrix.size:
        return []
    totals, correct, predicted = matrix.sum(axis=1), np.diagonal(matrix), matrix.sum(axis=0)
    return [{"name": name, "images": int(totals[i]), "correct": int(correct[i]),
             "recall": float(correct[i] / max(totals[i], 1)), "precision": float(correct[i] / max(predicted[i], 1))}
            for i, name in enumerate(classes)]


def _sequences_to_predict(network: Network, paths: list[Path]) -> SequenceDataset:
    """Every case of each .ts file (named file:line), and the one sequence of each CSV file."""
    layer = sequence_input(network)
    dataset = sequences.read_sequence_files(paths)
    sequences.check_sequences(dataset, layer.input_size, layer.min_length)
    return dataset


def run_predict(source: Path, images: list[Path]) -> list[dict[str, Any]]:
    """Class and probability of each image, or of each sequence (a CSV file, or every case of a .ts file)."""
    payload = checkpoint.load(source)
    network, model = checkpoint.model_of(payload)
    if sequence_input(network) is not None:
        dataset = _sequences_to_predict(network, images)
        inputs, names = dataset, dataset.origins
    else:
        size = image_input_size(network)
        inputs, names = torch.from_numpy(np.stack([read_image(path, size) for path in images])), list(map(str, images))
    kind, logits_layer, _ = classifier_parts(network)
    scores = predict_batches(model, inputs, logits_layer, torch.device("cpu"))
    probabilities = torch.softmax(scores, dim=1) if kind == "classification" else scores
    results = []
    for name, row in zip(names, probabilities):
        index = int(row.argmax())
        results.append({"image": name, "class": payload["classes"][index],
                        "probability": float(row[index])})
    return results
