"""What `netspec train`, `evaluate` and `predict` do, behind the CLI's argument parsing."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from ..diagnostics import error
from ..ir import Network, TrainingOptions
from . import checkpoint, plots
from .augment import parse_augmentation
from .data import BUILTIN, Dataset, fit_images, load_source, read_image
from .loop import TrainConfig, classifier_parts, predict_batches, train

__all__ = ["run_train", "run_evaluate", "run_predict", "default_run_folder", "image_input_size"]

OVERRIDES = {"epochs": "max_epochs", "batch_size": "mini_batch_size", "lr": "initial_learn_rate",
             "solver": "solver", "execution_environment": "execution_environment",
             "validation_frequency": "validation_frequency", "validation_patience": "validation_patience",
             "l2": "l2_regularization", "shuffle": "shuffle", "momentum": "momentum"}


def image_input_size(network: Network) -> tuple[int, int, int]:
    from ..ir import ImageInputLayer

    for layer in network.layers:
        if isinstance(layer, ImageInputLayer):
            size = layer.input_size
            if not all(isinstance(d, int) for d in size):
                raise error("R005", f"'{layer.name}' has a symbolic size {size}; training needs numbers",
                            layer.span)
            return size  # type: ignore[return-value]
    raise error("R006", f"netspec train reads images, but '{network.name}' has no imageInputLayer",
                hint="1-D and feature networks can be analyzed and exported; training them is not supported yet")


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
              split: float, quiet: bool, bindings: list[str] | None = None) -> dict[str, Any]:
    console = Console(stderr=True)
    resumed = None
    if resume is not None:
        resumed = checkpoint.load(resume, prefer="last")
        network = checkpoint.network_of(resumed)
        spec_text = resumed.get("spec", spec_text)
        options = TrainingOptions.model_validate_json(resumed["options"])
        extra = json.loads(resumed.get("run", "{}"))
        data, split, seed, augment = extra.get("data", data), extra.get("split", split), \
            resumed.get("seed", seed), extra.get("augment", augment)
        bindings = extra.get("set", [])
        out = Path(resumed["path"]).parent
        if resumed["epoch"] >= options.max_epochs or resumed.get("stale", 0) >= options.validation_patience:
            console.print(f"{out} already finished its {options.max_epochs} epochs; nothing to resume")
            return json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    else:
        options = resolve_options(network, overrides)
        out = out or default_run_folder(spec_path or Path(network.name))
    size = image_input_size(network)
    training, validation, test = load_source(data, size, split=split, seed=seed)
    if len(training) == 0:
        raise error("D009", f"the data source '{data}' has no training images")
    config = TrainConfig(network=network, options=options, train=training, validation=validation, out=out,
                         spec_text=spec_text, seed=seed, init=init, resume=resumed,
                         augmenter=parse_augmentation(augment), quiet=quiet,
                         checkpoint_every=max(1, min(options.validation_frequency, 50)),
                         extra={"data": _absolute(data), "split": split, "augment": augment,
                                "set": list(bindings or [])})
    summary = train(config)
    if int(os.environ.get("RANK", "0")) != 0:
        return summary
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
        (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if not quiet:
        _print_summary(console, out, summary)
    return summary


def _print_summary(console: Console, out: Path, summary: dict[str, Any]) -> None:
    table = Table(title=f"netspec train — {out}", show_header=False, title_style="bold")
    table.add_column(justify="right", style="bold")
    table.add_column()
    rows = [("iterations", f"{summary['iterations']:,} ({summary['epochs']} epochs, stopped: {summary['stopped']})"),
            ("time", f"{summary['seconds']:.1f} s on {summary.get('device_name', summary['device'])}"),
            ("throughput", f"{summary['images_per_second']:,.0f} images/s"
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
                         + f"{summary[key]['images']:,} images (loss {summary[key]['loss']:.4f})"))
    rows.append(("files", "best.pt, last.pt, metrics.csv, training-progress.png, confusion.png, summary.json"))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


def _evaluate(payload: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    network, model = checkpoint.model_of(payload)
    kind, logits_layer, _ = classifier_parts(network)
    scores = predict_batches(model, torch.from_numpy(dataset.images), logits_layer, torch.device("cpu"))
    target = torch.from_numpy(dataset.labels)
    if kind != "classification":
        loss = 0.5 * torch.nn.functional.mse_loss(scores.squeeze(-1), target.float()).item()
        return {"accuracy": math.nan, "loss": loss, "confusion": np.zeros((0, 0), dtype=np.int64)}
    loss = torch.nn.functional.cross_entropy(scores, target).item()
    predicted = scores.argmax(1).numpy()
    return {"accuracy": float((predicted == dataset.labels).mean()), "loss": loss,
            "confusion": plots.confusion_matrix(dataset.labels, predicted, len(payload["classes"]))}


def run_evaluate(source: Path, data: str, out: Path | None) -> dict[str, Any]:
    payload = checkpoint.load(source)
    network = checkpoint.network_of(payload)
    size = image_input_size(network)
    folder = data != BUILTIN and not data.startswith("mnist:")
    training, validation, test = load_source(data, size, split=1.0 if folder else 0.8)
    dataset = test if test is not None else training
    classes = payload["classes"]
    if dataset.classes != classes:
        raise error("R008", f"the data's classes {dataset.classes[:6]} differ from the network's {classes[:6]}",
                    hint="evaluate on data with the same class folders the network was trained on")
    metrics = _evaluate(payload, dataset)
    console = Console()
    matrix = metrics["confusion"]
    table = Table(title=f"{payload['path']} on {data} ({len(dataset):,} images): accuracy "
                        f"{100 * metrics['accuracy']:.2f}%, loss {metrics['loss']:.4f}", title_style="bold")
    for column in ("class", "images", "correct", "recall", "precision"):
        table.add_column(column, justify="right" if column != "class" else "left")
    for i, name in enumerate(classes):
        total, correct, predicted = matrix[i].sum(), matrix[i, i], matrix[:, i].sum()
        table.add_row(name, f"{total:,}", f"{correct:,}", f"{100 * correct / max(total, 1):.1f}%",
                      f"{100 * correct / max(predicted, 1):.1f}%")
    console.print(table)
    confusion = Table(title="confusion (rows: true, columns: predicted)")
    confusion.add_column("")
    for name in classes:
        confusion.add_column(name, justify="right")
    for i, name in enumerate(classes):
        confusion.add_row(name, *[str(v) if v else "·" for v in matrix[i]])
    console.print(confusion)
    if out is not None:
        plots.confusion_figure(matrix, classes, out, network.name)
    return {"accuracy": metrics["accuracy"], "loss": metrics["loss"], "images": len(dataset)}


def run_predict(source: Path, images: list[Path]) -> list[dict[str, Any]]:
    payload = checkpoint.load(source)
    network, model = checkpoint.model_of(payload)
    size = image_input_size(network)
    batch = np.concatenate([fit_images(read_image(path)[None], size) for path in images])
    kind, logits_layer, _ = classifier_parts(network)
    scores = predict_batches(model, torch.from_numpy(batch), logits_layer, torch.device("cpu"))
    probabilities = torch.softmax(scores, dim=1) if kind == "classification" else scores
    results = []
    for path, row in zip(images, probabilities):
        index = int(row.argmax())
        results.append({"image": str(path), "class": payload["classes"][index],
                        "probability": float(row[index])})
    return results
