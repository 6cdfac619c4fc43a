"""`netspec train`: MATLAB's trainNetwork semantics on PyTorch.

The spec's `trainingOptions` drive the run (solver, learning rate and schedule, L2,
mini-batch size, epochs, shuffling, validation frequency and patience, gradient
clipping, output network); per-layer learn-rate and L2 factors become optimizer
parameter groups (factor 0 freezes). The run folder keeps the resolved spec and IR,
metrics, plots, atomic best/last checkpoints and a summary; `--resume` continues a
killed run at the exact iteration, with the same data order and random state.
Under `torchrun`, the ranks share each mini-batch with DDP, as MATLAB's multi-GPU
training does (MiniBatchSize is the global batch, each rank takes its slice), and rank 0 writes.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from ..analysis import analyze
from ..backends.torch import GraphModule, module_name, to_torch
from ..diagnostics import error
from ..files import remove_temporaries, write_text, writing
from ..ir import ClassificationLayer, Network, RegressionLayer, SoftmaxLayer, TrainingOptions
from ..ir.base import InputLayer
from . import checkpoint
from .augment import Augmenter
from .data import Dataset

__all__ = ["TrainConfig", "train", "classifier_parts", "predict_batches", "device_for", "RUN_FILES",
           "EVALUATION_CSV"]

EVALUATION_CSV = "evaluate-confusion.csv"
RUN_FILES = ["spec.net", "network.json", "options.json", "metrics.csv", "last.pt", "best.pt", "metrics.json",
             "training-progress.png", "confusion.png", "summary.json", EVALUATION_CSV]
"""What netspec writes in a run folder; summary.json, written last, says the run is finished."""


@dataclass
class TrainConfig:
    network: Network
    options: TrainingOptions
    train: Dataset
    validation: Dataset | None
    out: Path
    spec_text: str = ""
    seed: int = 0
    init: Path | None = None
    resume: dict[str, Any] | None = None
    augmenter: Augmenter | None = None
    checkpoint_every: int = 50
    quiet: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def device_for(environment: str) -> torch.device:
    if environment == "cpu":
        return torch.device("cpu")
    if environment in ("gpu", "multi-gpu", "parallel"):
        if not torch.cuda.is_available():
            raise error("R001", f"ExecutionEnvironment '{environment}' needs a CUDA GPU, and none is available",
                        hint="use --execution-environment cpu (or auto)")
    if torch.cuda.is_available():
        rank = int(os.environ.get("LOCAL_RANK", 0))
        return torch.device("cuda", rank)
    return torch.device("cpu")


def classifier_parts(network: Network) -> tuple[str, str | None, str]:
    """(loss kind, layer whose output are the logits, output layer) for the loss."""
    for layer in network.layers:
        if isinstance(layer, (ClassificationLayer, RegressionLayer)):
            feeding = next((c.source for c in network.connections if c.destination == layer.name), None)
            if isinstance(layer, RegressionLayer):
                return "regression", feeding, layer.name
            source = network.layer(feeding) if feeding else None
            if isinstance(source, SoftmaxLayer):
                logits = next((c.source for c in network.connections if c.destination == source.name), None)
                return "classification", logits, layer.name
            return "classification", feeding, layer.name
    raise error("R002", f"'{network.name}' has no output layer to train against",
                hint="end the network with softmaxLayer and classificationLayer (or regressionLayer)")


def _parameter_groups(model: GraphModule, network: Network, options: TrainingOptions) -> list[dict[str, Any]]:
    """One group per (learn-rate factor, L2 factor): MATLAB's per-layer factors."""
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for layer in network.layers:
        key = module_name(layer.name)
        if key not in model.layers:
            continue
        for pname, parameter in model.layers[key].named_parameters():
            is_bias = pname.endswith("bias")
            prefix = ("offset" if is_bias else "scale") if hasattr(layer, "scale_learn_rate_factor") else \
                ("bias" if is_bias else "weight")
            lr_factor = float(getattr(layer, f"{prefix}_learn_rate_factor", 1.0))
            l2_factor = float(getattr(layer, f"{prefix}_l2_factor", 1.0))
            if lr_factor == 0:
                parameter.requires_grad_(False)
                continue
            groups.setdefault((lr_factor, l2_factor), []).append(parameter)
    return [{"params": params, "lr": options.initial_learn_rate * lr, "lr_factor": lr,
             "weight_decay": options.l2_regularization * l2} for (lr, l2), params in groups.items()]


def _optimizer(groups: list[dict[str, Any]], options: TrainingOptions) -> torch.optim.Optimizer:
    if options.solver == "sgdm":
        return torch.optim.SGD(groups, lr=options.initial_learn_rate, momentum=options.momentum)
    if options.solver == "adam":
        return torch.optim.Adam(groups, lr=options.initial_learn_rate, eps=options.epsilon,
                                betas=(options.gradient_decay_factor, options.squared_gradient_decay_factor))
    return torch.optim.RMSprop(groups, lr=options.initial_learn_rate, eps=options.epsilon,
                               alpha=options.squared_gradient_decay_factor)


def _learn_rate(options: TrainingOptions, epoch: int) -> float:
    """MATLAB's piecewise schedule drops the rate every LearnRateDropPeriod epochs."""
    if options.learn_rate_schedule == "piecewise":
        return options.initial_learn_rate * options.learn_rate_drop_factor ** (epoch // options.learn_rate_drop_period)
    return options.initial_learn_rate


def _set_learn_rate(optimizer: torch.optim.Optimizer, rate: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = rate * group.get("lr_factor", 1.0)


def _clip(model: nn.Module, options: TrainingOptions) -> None:
    threshold = options.gradient_threshold
    if math.isinf(threshold):
        return
    parameters = [p for p in model.parameters() if p.grad is not None]
    if options.gradient_threshold_method == "global-l2norm":
        torch.nn.utils.clip_grad_norm_(parameters, threshold)
    elif options.gradient_threshold_method == "l2norm":
        for parameter in parameters:  # MATLAB clips each learnable's gradient on its own
            torch.nn.utils.clip_grad_norm_([parameter], threshold)
    else:
        torch.nn.utils.clip_grad_value_(parameters, threshold)


def _normalization_statistics(model: GraphModule, network: Network, images: np.ndarray) -> None:
    """MATLAB computes the input layer's statistics from the training data, per channel."""
    data = torch.from_numpy(images).float()
    dims = [0, *range(2, data.ndim)]
    for layer in network.layers:
        if not isinstance(layer, InputLayer) or module_name(layer.name) not in model.layers:
            continue
        module = model.layers[module_name(layer.name)]
        view = module.mean.shape
        if layer.mean is None:
            module.mean.copy_(data.mean(dim=dims).reshape(view))
        if layer.standard_deviation is None:
            module.std.copy_(data.std(dim=dims).clamp_min(1e-8).reshape(view))
        if layer.min is None:
            module.min.copy_(data.amin(dim=dims).reshape(view))
        if layer.max is None:
            module.max.copy_(data.amax(dim=dims).reshape(view))


def _load_matching(model: GraphModule, path: Path) -> list[str]:
    """--init: copy every tensor whose layer name and shape match (transfer learning)."""
    payload = checkpoint.load(path)
    source = payload["model"]
    target = model.state_dict()
    copied = [k for k, v in source.items() if k in target and target[k].shape == v.shape]
    target.update({k: source[k] for k in copied})
    model.load_state_dict(target)
    return sorted({k.split(".")[1] for k in copied if k.startswith("layers.")})


def _restore_optimizer(optimizer: torch.optim.Optimizer, resume: dict[str, Any]) -> None:
    """The checkpoint's optimizer state, refused (C005) unless every buffer fits its parameter:
    torch accepts mismatched buffers here and fails only at the next step."""
    try:
        optimizer.load_state_dict(resume["optimizer"])
        for group in optimizer.param_groups:
            for parameter in group["params"]:
                for buffer in optimizer.state.get(parameter, {}).values():
                    if isinstance(buffer, Tensor) and buffer.dim() and buffer.shape != parameter.shape:
                        raise ValueError(f"a buffer of shape {tuple(buffer.shape)} for a parameter of shape "
                                         f"{tuple(parameter.shape)}")
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError, AttributeError) as exc:
        raise error("C005", f"{resume['path']}: its optimizer state does not fit this network ({exc})",
                    hint="resume from the run's own last.pt, or start a new run") from None


def predict_batches(model: GraphModule, images: Tensor, logits_layer: str | None, device: torch.device,
                    batch: int = 256) -> Tensor:
    """Class scores (logits where the network has them) for uint8 images, in eval mode."""
    outputs = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(images), batch):
            x = images[start:start + batch].to(device).float()
            kept = model.run(x, capture={logits_layer} if logits_layer else None)
            y = kept[logits_layer] if logits_layer else next(iter(kept.values()))
            outputs.append(y.flatten(1).float().cpu())
    return torch.cat(outputs) if outputs else torch.empty(0)


BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _population_statistics(model: GraphModule, images: Tensor, batch: int, device: torch.device,
                           channels_last: bool) -> None:
    """MATLAB's default BatchNormalizationStatistics 'population': after training, one more pass
    over the training data sets each batch normalization's mean and variance to those of all its
    inputs (the running averages of training only approximate them). Every layer normalizes with
    its batch statistics during the pass, as in training, so each one sees the inputs it was
    trained on. The pass counts no training batch (num_batches_tracked stays), so doing it again
    (a resume finishing a run) gives the same checkpoint."""
    norms = [m for m in model.modules() if isinstance(m, BATCH_NORMS)]
    if not norms:
        return
    moments: dict[nn.Module, list] = {m: [0, 0.0, 0.0] for m in norms}  # count, sum, sum of squares

    def accumulate(module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        x = inputs[0].detach().double().transpose(0, 1).reshape(inputs[0].shape[1], -1)
        entry = moments[module]
        entry[0] += x.shape[1]
        entry[1] = entry[1] + x.sum(1)
        entry[2] = entry[2] + (x * x).sum(1)

    hooks = [m.register_forward_pre_hook(accumulate) for m in norms]
    tracked = [m.num_batches_tracked.clone() for m in norms]
    was_training = model.training
    model.eval()
    for m in norms:
        m.train()
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch):
                x = images[start:start + batch].to(device).float()
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                model(x)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    for m, batches in zip(norms, tracked):
        m.num_batches_tracked.copy_(batches)
    for m, (count, total, squares) in moments.items():
        mean = total / count
        m.running_mean.copy_(mean.to(m.running_mean))
        m.running_var.copy_((squares / count - mean * mean).clamp_min(0).to(m.running_var))


class _Writer:
    """Rank 0's metrics file (CSV, one row per iteration; validation rows too)."""

    COLUMNS = ["epoch", "iteration", "loss", "accuracy", "learn_rate", "val_loss", "val_accuracy", "seconds"]

    def __init__(self, path: Path, keep_until: int | None):
        self.path = path
        kept = []
        if keep_until is not None and path.exists():
            with path.open(newline="") as handle:  # a row cut short by a kill has empty (None) fields
                kept = [r for r in csv.DictReader(handle) if None not in r.values()
                        and r["iteration"].isdigit() and int(r["iteration"]) <= keep_until]
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, self.COLUMNS)
        writer.writeheader()
        writer.writerows(kept)  # the kept rows' text as written ("0" stays "0", not "0.0")
        write_text(path, text.getvalue())  # a kill while resuming keeps the rows already there
        self.rows = [self._typed(r) for r in kept]

    @staticmethod
    def _typed(row: dict[str, Any]) -> dict[str, Any]:
        """CSV text back to numbers (metrics.json keeps one type per column)."""
        typed: dict[str, Any] = {}
        for key in _Writer.COLUMNS:
            value = row.get(key, "")
            if value in ("", None):
                typed[key] = None
            elif key in ("epoch", "iteration"):
                typed[key] = int(value)
            else:
                typed[key] = float(value)
        return typed

    def add(self, row: dict[str, Any]) -> None:
        row = {k: row.get(k, "") for k in self.COLUMNS}
        self.rows.append(self._typed(row))
        with writing(self.path), self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, self.COLUMNS).writerow(row)


def _prepare_folder(out: Path, new_run: bool) -> None:
    """The run folder, rid of the temporary files a kill -9 left mid-write and, for a new run
    (the CLI lets one into a folder holding a run only with --overwrite), of the earlier run's files:
    a stale summary.json would call the new run finished."""
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
        for name in reversed(RUN_FILES) if new_run else []:  # summary.json before what it vouches for
            (out / name).unlink(missing_ok=True)
    remove_temporaries(out, RUN_FILES)


def _finite(value: float) -> float | None:
    """JSON has no NaN: unknown numbers are null."""
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def train(config: TrainConfig) -> dict[str, Any]:
    """Run (or resume) training, then put the final checkpoints (population statistics) and
    metrics.json in place; returns the summary for summary.json. Resuming a run killed while it
    finished does no iteration and redoes the finishing, which writes the same files again."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    options = config.options
    device = device_for(options.execution_environment)
    rank, world = 0, 1
    if distributed:
        import torch.distributed as dist

        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
    lead = rank == 0
    network = config.network
    loss_kind, logits_layer, _ = classifier_parts(network)
    torch.manual_seed(config.seed)
    model = to_torch(network, seed=config.seed)
    classes = config.train.classes
    if loss_kind == "classification" and len(classes) < 2:
        raise error("R013", f"the data has one class ({classes[0]}): classification needs at least 2",
                    hint="add a sub-folder of images for each other class")
    if loss_kind == "classification":
        outputs = model.run(torch.zeros(1, *config.train.images.shape[1:]), capture={logits_layer})[logits_layer]
        if outputs[0].numel() != len(classes):
            raise error("R003", f"the data has {len(classes)} classes but the network ends with "
                        f"{outputs[0].numel()} outputs", hint="set the last fullyConnectedLayer's OutputSize to "
                        f"{len(classes)} (or bind it: --set numClasses={len(classes)})")
    resume = config.resume
    initialized: list[str] = []
    if resume is None:
        if config.init is not None:
            initialized = _load_matching(model, config.init)
        if options.reset_input_normalization or config.init is None:
            _normalization_statistics(model, network, config.train.images)
    model.to(device)
    channels_last = device.type == "cuda" and config.train.images.ndim == 4
    if channels_last:
        model.to(memory_format=torch.channels_last)
    groups = _parameter_groups(model, network, options)
    optimizer = _optimizer(groups, options)
    if resume is not None:
        model.load_state_dict(resume["model"])
        _restore_optimizer(optimizer, resume)
    trained = model
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    images = torch.from_numpy(config.train.images)
    labels = torch.from_numpy(config.train.labels)
    count = len(labels)
    batch = options.mini_batch_size
    if batch < world:
        raise error("R011", f"MiniBatchSize {batch} is smaller than the {world} processes that share each batch",
                    hint=f"use --batch-size {world} or more, or fewer processes")
    per_epoch = max(1, count // batch)
    total = per_epoch * options.max_epochs
    generator = torch.Generator().manual_seed(config.seed)
    epoch, iteration, position = 0, 0, 0
    order = torch.randperm(count, generator=generator) if options.shuffle != "never" else torch.arange(count)
    best_loss, best_iteration, stale = math.inf, 0, 0
    seen, elapsed = 0, 0.0  # images trained on and training seconds, over every resume of the run
    last_loss, last_acc = math.nan, math.nan
    if resume is not None:
        epoch, iteration, position = resume["epoch"], resume["iteration"], resume["position"]
        order = resume["order"]
        generator.set_state(resume["generator"])
        torch.set_rng_state(resume["torch_rng"])
        best_loss, best_iteration, stale = resume["best_loss"], resume["best_iteration"], resume["stale"]
        seen, elapsed = resume.get("images_seen", 0), resume.get("seconds", 0.0)
        last_loss, last_acc = resume.get("last_loss", math.nan), resume.get("last_accuracy", math.nan)
    out = config.out
    if lead:
        _prepare_folder(out, new_run=resume is None)
        write_text(out / "spec.net", config.spec_text)
        write_text(out / "network.json", network.model_dump_json(indent=2))
        write_text(out / "options.json", options.model_dump_json(indent=2))
    writer = _Writer(out / "metrics.csv", iteration if resume is not None else None) if lead else None
    analysis = analyze(network)
    macs = analysis.totals.macs if isinstance(analysis.totals.macs, int) else 0
    validation = config.validation if config.validation is not None and len(config.validation) else None
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()

    def payload() -> dict[str, Any]:
        return {"network": network.model_dump_json(), "classes": classes, "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "epoch": epoch, "iteration": iteration,
                "position": position, "order": order, "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(), "best_loss": best_loss, "best_iteration": best_iteration,
                "stale": stale, "options": options.model_dump_json(), "seed": config.seed,
                "spec": config.spec_text, "run": json.dumps(config.extra), "images_seen": seen,
                "seconds": elapsed, "last_loss": last_loss, "last_accuracy": last_acc}

    def validate() -> tuple[float, float]:
        scores = predict_batches(model, torch.from_numpy(validation.images), logits_layer, device)
        target = torch.from_numpy(validation.labels)
        model.train()
        if loss_kind == "classification":
            loss = F.cross_entropy(scores, target).item()
            return loss, (scores.argmax(1) == target).float().mean().item()
        return 0.5 * F.mse_loss(scores.squeeze(-1), target.float()).item(), math.nan

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.4f}"),
                        TextColumn("acc {task.fields[acc]:5.1f}%"), TextColumn("{task.fields[speed]:,.0f} img/s"),
                        TimeRemainingColumn(), disable=config.quiet or not lead, transient=False)
    started = time.perf_counter() - elapsed
    stopped = "validation-patience" if stale >= options.validation_patience else "max-epochs"
    model.train()
    with progress:
        task = progress.add_task("train", total=total, completed=iteration, epoch=epoch + 1,
                                 epochs=options.max_epochs, loss=0.0, acc=0.0, speed=0.0)
        while epoch < options.max_epochs and stopped == "max-epochs":
            _set_learn_rate(optimizer, _learn_rate(options, epoch))
            steps = list(range(position, per_epoch))
            # the loader gets its own generator: making an iterator must not consume the global
            # random stream (augmentation and dropout draw from it, and --resume replays it)
            loader = DataLoader(TensorDataset(images, labels), generator=torch.Generator(),
                                batch_sampler=[order[i * batch:(i + 1) * batch][rank::world].tolist()
                                               for i in steps])
            for step, (x, y) in zip(steps, loader):
                x = x.to(device, non_blocking=True).float()
                y = y.to(device, non_blocking=True)
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                if config.augmenter is not None:
                    x = config.augmenter(x)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    scores = trained(x, output=logits_layer).flatten(1)
                if loss_kind == "classification":
                    loss = F.cross_entropy(scores.float(), y)
                    accuracy = (scores.argmax(1) == y).float().mean().item()
                else:
                    loss = 0.5 * F.mse_loss(scores.float().squeeze(-1), y.float())
                    accuracy = math.nan
                if not torch.isfinite(loss):
                    raise error("R004", f"the loss became {loss.item()} at iteration {iteration + 1}",
                                hint="lower the learning rate (--lr), add 'GradientThreshold', or check the data; "
                                     f"the last good checkpoint is {out / 'last.pt'}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                _clip(model, options)
                optimizer.step()
                iteration += 1
                position = step + 1
                seen += min(batch, count)
                last_loss, last_acc = loss.item(), accuracy
                elapsed = time.perf_counter() - started
                row = {"epoch": epoch + 1, "iteration": iteration, "loss": f"{last_loss:.6g}",
                       "accuracy": f"{100 * accuracy:.4g}" if not math.isnan(accuracy) else "",
                       "learn_rate": f"{optimizer.param_groups[0]['lr'] / optimizer.param_groups[0].get('lr_factor', 1):.6g}",
                       "seconds": f"{elapsed:.3f}"}
                if validation is not None and lead and (iteration % options.validation_frequency == 0
                                                        or iteration == total):
                    val_loss, val_acc = validate()
                    row.update(val_loss=f"{val_loss:.6g}", val_accuracy=f"{100 * val_acc:.4g}"
                               if not math.isnan(val_acc) else "")
                    if val_loss < best_loss:
                        best_loss, best_iteration, stale = val_loss, iteration, 0
                        checkpoint.save(out / "best.pt", payload())
                    else:
                        stale += 1
                if distributed and validation is not None and (iteration % options.validation_frequency == 0
                                                               or iteration == total):
                    import torch.distributed as dist

                    flag = torch.tensor([float(stale)], device=device if device.type == "cuda" else "cpu")
                    dist.broadcast(flag, 0)  # rank 0 validates; every rank must stop together
                    stale = int(flag.item())
                if writer is not None:
                    writer.add(row)
                if lead and (iteration % config.checkpoint_every == 0):
                    checkpoint.save(out / "last.pt", payload())
                progress.update(task, completed=iteration, epoch=epoch + 1, loss=last_loss,
                                acc=100 * accuracy if not math.isnan(accuracy) else 0.0,
                                speed=seen / max(elapsed, 1e-9))
                if stale >= options.validation_patience:
                    stopped = "validation-patience"
                    break
            if stopped == "validation-patience":
                break
            epoch += 1
            position = 0
            if options.shuffle == "every-epoch":
                order = torch.randperm(count, generator=generator)
            if lead:
                checkpoint.save(out / "last.pt", payload())
    if lead:
        population = options.batch_normalization_statistics == "population"
        if population:
            _population_statistics(model, images, batch, device, channels_last)
        checkpoint.save(out / "last.pt", payload())
        if validation is None or not (out / "best.pt").exists():
            checkpoint.save(out / "best.pt", payload())
        elif population and any(isinstance(m, BATCH_NORMS) for m in model.modules()):
            best = checkpoint.load(out / "best.pt")
            kept = copy.deepcopy(model)
            kept.load_state_dict(best["model"])
            _population_statistics(kept, images, batch, device, channels_last)
            checkpoint.save(out / "best.pt", {**{k: v for k, v in best.items() if k != "path"},
                                             "model": kept.state_dict()})
    summary = {
        "network": network.name, "iterations": iteration, "epochs": epoch + (stopped == "validation-patience"),
        "stopped": stopped,
        "images_per_second": seen / elapsed if elapsed > 0 else None, "seconds": elapsed,
        "final_loss": _finite(last_loss), "final_accuracy": _finite(last_acc), "best_validation_loss": best_loss
        if math.isfinite(best_loss) else None, "best_iteration": best_iteration,
        "device": str(device), "world_size": world, "bf16": use_bf16, "channels_last": channels_last,
        "achieved_flops_per_second": 3 * 2 * macs * seen / elapsed if elapsed > 0 else None,
        "initialized_layers": initialized,
        "run": config.extra,  # data source, split, augmentation and --set bindings: spec.net alone may not rebuild it
    }
    if device.type == "cuda":
        from .hardware import peak_flops

        peak = peak_flops(torch.cuda.get_device_name(device), bf16=use_bf16)
        summary["device_name"] = torch.cuda.get_device_name(device)
        summary["mfu"] = summary["achieved_flops_per_second"] / peak if peak else None
    if writer is not None:
        write_text(out / "metrics.json", json.dumps(writer.rows, indent=1))
    if distributed:
        import torch.distributed as dist

        dist.destroy_process_group()
    return summary
