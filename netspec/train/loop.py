"""`netspec train`: MATLAB's trainNetwork semantics on PyTorch.

The spec's `trainingOptions` drive the run (solver, learning rate and schedule, L2,
mini-batch size, epochs, shuffling, validation frequency and patience, gradient
clipping, output network); per-layer learn-rate and L2 factors become optimizer
parameter groups (factor 0 freezes). The run folder keeps the resolved spec and IR,
metrics, plots, atomic best/last checkpoints and a summary; `--resume` continues a
killed run at the exact iteration, with the same data order and random state.
Under `torchrun`, the ranks share each mini-batch with DDP, as MATLAB's multi-GPU
training does (MiniBatchSize is the global batch, each rank takes its slice), and rank 0 writes.
The run reports what happens through `TrainConfig.on_event` (netspec.train.events); it draws nothing.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..analysis import analyze
from ..backends.torch import GraphModule, learnable_of, module_name, parameter_factors, to_torch
from ..diagnostics import error
from ..files import remove_temporaries, write_text, writing
from ..ir import ClassificationLayer, Network, RegressionLayer, SoftmaxLayer, TrainingOptions
from ..ir.input_output import PixelOutputLayer
from ..ir.base import InputLayer, Layer
from . import checkpoint
from .augment import Augmenter
from ..datasets.sequences import SequenceDataset
from .data import Dataset
from .feed import ImageFeed, SequenceFeed, Step, example_input, feed_for, inference_batches, inputs_of, statistics_input
from .events import CheckpointSaved, EventHandler, RunFinished, RunStarted, StepDone, ValidationDone, ignore
from .state import RunState

__all__ = ["TrainConfig", "train", "classifier_parts", "loss_and_accuracy", "predict_batches", "device_for", "RUN_FILES",
           "EVALUATION_CSV"]

EVALUATION_CSV = "evaluate-confusion.csv"
RUN_FILES = ["spec.net", "network.json", "options.json", "metrics.csv", "last.pt", "best.pt", "metrics.json",
             "training-progress.png", "confusion.png", "summary.json", EVALUATION_CSV]
"""What netspec writes in a run folder; summary.json, written last, says the run is finished."""


@dataclass
class TrainConfig:
    network: Network
    options: TrainingOptions
    train: Dataset | SequenceDataset
    validation: Dataset | SequenceDataset | None
    out: Path
    spec_text: str = ""
    seed: int = 0
    init: Path | None = None
    resume: dict[str, Any] | None = None
    augmenter: Augmenter | None = None
    checkpoint_every: int = 50
    checkpoint_seconds: float = 0.0
    """last.pt is written every `checkpoint_every` iterations and at every epoch's end, but no
    sooner than this after the previous one (and always when the run finishes)."""
    extra: dict[str, Any] = field(default_factory=dict)
    on_event: EventHandler = ignore
    """Told what the run does (the lead process only); the command line draws its progress bar from it."""


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


def refuse_pixel_labels(network: Network) -> None:
    """A semantic segmentation network learns from a label per pixel: data netspec does not read yet."""
    for layer in network.layers:
        if isinstance(layer, PixelOutputLayer):
            raise error("R014", f"'{layer.name}' ({layer.matlab}) learns from a label for every pixel, and "
                        "netspec train does not read pixel-label data yet", layer.span,
                        label="a semantic segmentation output",
                        hint="netspec check, analyze, graph and export read this network; train it where its "
                             "pixel labels are (MATLAB's pixelLabelDatastore)")


def classifier_parts(network: Network) -> tuple[str, str | None, str]:
    """(loss kind, layer whose output are the logits, output layer) for the loss."""
    refuse_pixel_labels(network)
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


def training_factors(layer: Layer, parameter: str) -> tuple[float, float]:
    """The (learn-rate, L2) factors training applies to a lowered parameter (`parameter_factors`),
    one number per tensor: per-gate factors that differ are R007."""
    factors = parameter_factors(layer, parameter)
    for factor, kind in zip(factors, ("LearnRateFactor", "L2Factor")):
        if isinstance(factor, tuple) and len(set(factor)) > 1:
            option = f"{layer.matlab_option(learnable_of(layer, parameter))}{kind}"
            raise error("R007", f"'{layer.name}': {option} gives each gate its own factor "
                        f"({' '.join(f'{f:g}' for f in factor)}); netspec train applies one per weight matrix",
                        layer.span, hint=f"give {option} as one number")
    return tuple(float(f[0] if isinstance(f, tuple) else f) for f in factors)  # type: ignore[return-value]


def _parameter_groups(model: GraphModule, network: Network, options: TrainingOptions) -> list[dict[str, Any]]:
    """One group per (learn-rate factor, L2 factor): MATLAB's per-layer factors. The lowering froze
    the parameters of factor 0 (`to_torch`): they are in no group. A group's `l2` (L2Regularization
    x the factor) becomes the optimizer's weight decay, or is added by `_regularize` when the
    gradients are clipped (`_optimizer`)."""
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for layer in network.layers:
        key = module_name(layer.name)
        if key not in model.layers:
            continue
        for pname, parameter in model.layers[key].named_parameters():
            if parameter.requires_grad:
                groups.setdefault(training_factors(layer, pname), []).append(parameter)
    return [{"params": params, "lr": options.initial_learn_rate * lr, "lr_factor": lr,
             "l2": options.l2_regularization * l2} for (lr, l2), params in groups.items()]


def _optimizer(groups: list[dict[str, Any]], options: TrainingOptions) -> torch.optim.Optimizer:
    """MATLAB adds the L2 term to the gradient before it clips it; torch's weight decay adds it
    after (inside the update). So with a GradientThreshold `_regularize` adds it before `_clip`,
    and without one the weight decay does, in the update's own pass over the weights."""
    decay = math.isinf(options.gradient_threshold)
    groups = [{**group, "weight_decay": group["l2"] if decay else 0.0} for group in groups]
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


@torch.no_grad()
def _regularize(optimizer: torch.optim.Optimizer) -> None:
    """MATLAB's L2 regularization: L2Regularization x the learnable's L2 factor x its weights added
    to its gradient, before the gradient is clipped (one operation per group)."""
    for group in optimizer.param_groups:
        if group.get("l2"):  # absent from the groups of a checkpoint written before it existed
            trained = [p for p in group["params"] if p.grad is not None]
            torch._foreach_add_([p.grad for p in trained], trained, alpha=group["l2"])


def _clip(model: nn.Module, options: TrainingOptions) -> None:
    threshold = options.gradient_threshold
    parameters = [p for p in model.parameters() if p.grad is not None]
    if options.gradient_threshold_method == "global-l2norm":
        torch.nn.utils.clip_grad_norm_(parameters, threshold)
    elif options.gradient_threshold_method == "l2norm":
        for learnable in _matlab_learnables(model):  # MATLAB clips each learnable's gradient on its own
            torch.nn.utils.clip_grad_norm_(learnable, threshold)
    else:
        torch.nn.utils.clip_grad_value_(parameters, threshold)


def _matlab_learnables(model: nn.Module) -> list[list[nn.Parameter]]:
    """The parameters with a gradient, grouped as MATLAB's learnables: a bidirectional layer's two
    directions (PyTorch's `*_reverse` parameters) are one learnable in MATLAB (bilstmLayer's
    InputWeights are 8*H-by-C), so their gradient norm is taken together."""
    groups: dict[str, list[nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if parameter.grad is not None:
            groups.setdefault(name.replace("_reverse", ""), []).append(parameter)
    return list(groups.values())


def _normalization_statistics(model: GraphModule, network: Network, data: Tensor) -> None:
    """MATLAB computes the input layer's statistics from the training data, per channel
    (`data`: every image, or every time step of the sequences: feed.statistics_input)."""
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


def predict_batches(model: GraphModule, inputs: Tensor | SequenceDataset, logits_layer: str | None,
                    device: torch.device, batch: int = 256) -> Tensor:
    """Class scores (logits where the network has them), in eval mode, in the order of `inputs`:
    uint8 images, or sequences (run unpadded, those of one length together: feed.inference_batches)."""
    outputs, order = [], []
    model.eval()
    with torch.no_grad():
        for indices, x in inference_batches(inputs, batch):
            kept = model.run(x.to(device).float(), capture={logits_layer} if logits_layer else None)
            y = kept[logits_layer] if logits_layer else next(iter(kept.values()))
            outputs.append(y.flatten(1).float().cpu())
            order.append(torch.from_numpy(np.asarray(indices)))
    if not outputs:
        return torch.empty(0)
    scores = torch.empty_like(torch.cat(outputs))
    scores[torch.cat(order)] = torch.cat(outputs)
    return scores


BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _population_statistics(model: GraphModule, inputs: Tensor | SequenceDataset, batch: int,
                           device: torch.device, channels_last: bool) -> None:
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
            for _, x in inference_batches(inputs, batch):
                x = x.to(device).float()
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
    FLUSH_SECONDS = 0.5
    """The most a row waits to reach the disk (flushing every row cost a small network ~1% of its speed)."""

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
        self._handle: io.TextIOWrapper | None = None
        self._csv: csv.DictWriter | None = None
        self._flushed = time.monotonic()

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
        """Append the row. The file stays open between rows (opening it for each one costs as much
        as the row) and reaches the disk at least every FLUSH_SECONDS and before each checkpoint
        (`flush`): a reader sees every row within that time, and after a kill every row that
        --resume keeps (those the last checkpoint covers) is on disk."""
        row = {k: row.get(k, "") for k in self.COLUMNS}
        self.rows.append(self._typed(row))
        with writing(self.path):
            if self._handle is None:
                self._handle = self.path.open("a", newline="")
                self._csv = csv.DictWriter(self._handle, self.COLUMNS)
            self._csv.writerow(row)
        if time.monotonic() - self._flushed >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._handle is not None:
            with writing(self.path):
                self._handle.flush()
        self._flushed = time.monotonic()

    def close(self) -> None:
        if self._handle is not None:
            with writing(self.path):
                self._handle.close()
            self._handle = None


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


@dataclass
class _Run:
    """What a run works with and does not change: its processes and device, the model as trained,
    the data, the loss, and where it reports."""

    config: TrainConfig
    device: torch.device
    rank: int
    world: int
    """Processes sharing each mini-batch (torchrun); 1 without."""
    trained: nn.Module
    """The model, wrapped for DDP when several processes share each mini-batch."""
    loss_kind: str
    logits_layer: str | None
    feed: ImageFeed | SequenceFeed
    """The training data, as the epochs' steps and their mini-batches."""
    validation: Dataset | SequenceDataset | None
    """None without validation images."""
    channels_last: bool
    bf16: bool
    initialized: list[str]
    """The layers --init copied."""
    writer: _Writer | None
    """The lead's metrics file."""
    report: EventHandler
    """The caller's handler on the lead process; `ignore` on the others."""
    started: float
    """perf_counter() when the run would have started had it never stopped: resumes count earlier seconds."""

    @property
    def lead(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def plan(self, order: Tensor) -> list[Step]:
        """The steps of the epoch whose data order is `order` (this process's share of each)."""
        return self.feed.plan(order, self.config.options.mini_batch_size, self.rank, self.world)

    def total_steps(self, order: Tensor) -> int:
        """Exact, but where SequenceLength N splits mini-batches that a new order pads to other lengths."""
        return len(self.plan(order)) * self.config.options.max_epochs


def train(config: TrainConfig) -> dict[str, Any]:
    """Run (or resume) training, then put the final checkpoints (population statistics) and
    metrics.json in place; returns the summary for summary.json. Resuming a run killed while it
    finished does no iteration and redoes the finishing, which writes the same files again."""
    run, state = _set_up(config)
    options = config.options
    run.report(RunStarted(total_steps=run.total_steps(state.order), epochs=options.max_epochs,
                          steps_per_epoch=len(run.plan(state.order)),
                          epoch=state.epoch + 1, resumed_at=state.iteration if config.resume is not None else None,
                          unit=_unit(config.train)))
    out_of_patience = state.stale >= options.validation_patience  # a resumed run that had stopped
    state.model.train()
    while not out_of_patience and state.epoch < options.max_epochs:
        out_of_patience = _train_epoch(run, state)
        if not out_of_patience:
            _end_epoch(run, state)
    return _finish(run, state, "validation-patience" if out_of_patience else "max-epochs")


def _set_up(config: TrainConfig) -> tuple[_Run, RunState]:
    """Join the other processes, build the model and its optimizer, start (or restore) the run's
    state, and prepare the run folder (the lead)."""
    options = config.options
    device, rank, world = _join_processes(options)
    loss_kind, logits_layer, _ = classifier_parts(config.network)
    model, initialized, channels_last = _build_model(config, device, loss_kind, logits_layer)
    optimizer = _optimizer(_parameter_groups(model, config.network, options), options)
    generator = torch.Generator().manual_seed(config.seed)
    count = len(config.train)
    order = torch.randperm(count, generator=generator) if options.shuffle != "never" else torch.arange(count)
    state = RunState(model, optimizer, generator, order)
    if config.resume is not None:
        state.restore(config.resume)
    trained: nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if options.mini_batch_size < world:
        raise error("R011", f"MiniBatchSize {options.mini_batch_size} is smaller than the {world} processes that "
                    "share each batch", hint=f"use --batch-size {world} or more, or fewer processes")
    writer = None
    if rank == 0:
        _prepare_folder(config.out, new_run=config.resume is None)
        write_text(config.out / "spec.net", config.spec_text)
        write_text(config.out / "network.json", config.network.model_dump_json(indent=2))
        write_text(config.out / "options.json", options.model_dump_json(indent=2))
        writer = _Writer(config.out / "metrics.csv", state.iteration if config.resume is not None else None)
    validation = config.validation if config.validation is not None and len(config.validation) else None
    run = _Run(config=config, device=device, rank=rank, world=world, trained=trained, loss_kind=loss_kind,
               logits_layer=logits_layer, feed=feed_for(config.train, options), validation=validation,
               channels_last=channels_last,
               bf16=device.type == "cuda" and torch.cuda.is_bf16_supported(), initialized=initialized,
               writer=writer, report=config.on_event if rank == 0 else ignore,
               started=time.perf_counter() - state.elapsed)
    return run, state


def _join_processes(options: TrainingOptions) -> tuple[torch.device, int, int]:
    """(device, this process's rank, processes): under torchrun, the process group is joined here."""
    device = device_for(options.execution_environment)
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device, 0, 1
    import torch.distributed as dist

    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device, dist.get_rank(), dist.get_world_size()


def _build_model(config: TrainConfig, device: torch.device, loss_kind: str,
                 logits_layer: str | None) -> tuple[GraphModule, list[str], bool]:
    """The lowered network, checked against the data's classes and, for a new run, initialized
    from --init and the data's statistics, on the device: (model, layers --init copied, channels-last)."""
    network = config.network
    torch.manual_seed(config.seed)
    model = to_torch(network, seed=config.seed)
    if loss_kind == "classification":
        _check_classes(model, config.train, logits_layer)
    initialized: list[str] = []
    if config.resume is None:
        if config.init is not None:
            initialized = _load_matching(model, config.init)
        if config.options.reset_input_normalization or config.init is None:
            _normalization_statistics(model, network, statistics_input(config.train))
    model.to(device)
    channels_last = device.type == "cuda" and isinstance(config.train, Dataset) and config.train.images.ndim == 4
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return model, initialized, channels_last


def _check_classes(model: GraphModule, data: Dataset | SequenceDataset, logits_layer: str | None) -> None:
    """A classifier needs two classes or more, and one output per class."""
    classes = data.classes
    if len(classes) < 2:
        raise error("R013", f"the data has one class ({classes[0]}): classification needs at least 2",
                    hint="add a sub-folder of images for each other class")
    outputs = model.run(example_input(data), capture={logits_layer})[logits_layer]
    if outputs[0].numel() != len(classes):
        raise error("R003", f"the data has {len(classes)} classes but the network ends with "
                    f"{outputs[0].numel()} outputs", hint="set the last fullyConnectedLayer's OutputSize to "
                    f"{len(classes)} (or bind it: --set numClasses={len(classes)})")


def _train_epoch(run: _Run, state: RunState) -> bool:
    """The epoch's remaining mini-batches, each validated and checkpointed when due; True when the
    validation patience ran out."""
    config, options = run.config, run.config.options
    _set_learn_rate(state.optimizer, _learn_rate(options, state.epoch))
    plan = run.plan(state.order)
    for step, (x, y) in _batches(run, state, plan):
        _step(run, state, step, x, y)
        run.report(StepDone(epoch=state.epoch + 1, iteration=state.iteration, loss=state.last_loss,
                            accuracy=state.last_accuracy, images_per_second=state.seen / max(state.elapsed, 1e-9)))
        row = _row(state)
        if _validation_due(run, state, last=state.epoch + 1 == options.max_epochs and step + 1 == len(plan)):
            _validate(run, state, row)
        if run.writer is not None:
            run.writer.add(row)
        if run.lead and state.iteration % config.checkpoint_every == 0 \
                and time.monotonic() - state.saved_at >= config.checkpoint_seconds:
            _save(run, state, "last.pt")
        if state.stale >= options.validation_patience:
            return True
    return False


def _batches(run: _Run, state: RunState, plan: list[Step]) -> Iterator[tuple[int, list[Tensor]]]:
    """(step, this process's slice of the step's mini-batch) for the rest of the epoch."""
    steps = range(state.position, len(plan))
    return zip(steps, run.feed.loader(plan[state.position:]))


def _step(run: _Run, state: RunState, step: int, x: Tensor, y: Tensor) -> None:
    """Train on one mini-batch (bf16 autocast where the GPU has it) and count it in the state."""
    options = run.config.options
    x = x.to(run.device, non_blocking=True).float()
    y = y.to(run.device, non_blocking=True)
    if run.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    if run.config.augmenter is not None:
        x = run.config.augmenter(x)
    with torch.autocast(run.device.type, dtype=torch.bfloat16) if run.bf16 else contextlib.nullcontext():
        scores = run.trained(x, output=run.logits_layer).flatten(1)
    loss, accuracy = loss_and_accuracy(run.loss_kind, scores, y)
    loss_value, accuracy = _whole_batch(run, loss, accuracy, len(y))
    if not math.isfinite(loss_value):
        raise error("R004", f"the loss became {loss_value} at iteration {state.iteration + 1}",
                    hint="lower the learning rate (--lr), add 'GradientThreshold', or check the data; "
                         f"the last good checkpoint is {run.config.out / 'last.pt'}")
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if not math.isinf(options.gradient_threshold):
        _regularize(state.optimizer)
        _clip(state.model, options)
    state.optimizer.step()
    state.iteration += 1
    state.position = step + 1
    state.seen += min(options.mini_batch_size, len(run.feed.labels))
    state.last_loss, state.last_accuracy = loss_value, accuracy
    state.elapsed = time.perf_counter() - run.started


def _whole_batch(run: _Run, loss: Tensor, accuracy: float, count: int) -> tuple[float, float]:
    """The mini-batch's loss and accuracy (the step's one read of the loss). Under DDP each rank
    holds a slice of it: the slices' sums are added across the ranks, so metrics.csv reports the
    whole batch, as one process would, and a loss that is not finite stops every rank at once."""
    if not run.distributed:
        return loss.item(), accuracy
    import torch.distributed as dist

    sums = torch.cat([(loss.detach().float() * count).reshape(1),
                      torch.tensor([accuracy * count, count], dtype=torch.float32, device=loss.device)])
    dist.all_reduce(sums)
    total_loss, correct, total = sums.tolist()
    return total_loss / total, correct / total


def loss_and_accuracy(kind: str, scores: Tensor, target: Tensor) -> tuple[Tensor, float]:
    """The output layer's loss (cross-entropy, or MATLAB's half mean squared error) and the
    accuracy (NaN for regression)."""
    if kind == "classification":
        return F.cross_entropy(scores.float(), target), (scores.argmax(1) == target).sum().item() / len(target)
    return 0.5 * F.mse_loss(scores.float().squeeze(-1), target.float()), math.nan


def _percent(fraction: float) -> str:
    """An accuracy as metrics.csv writes it: empty for regression."""
    return f"{100 * fraction:.4g}" if not math.isnan(fraction) else ""


def _row(state: RunState) -> dict[str, Any]:
    """The iteration's metrics.csv row (validation adds its columns)."""
    group = state.optimizer.param_groups[0]
    return {"epoch": state.epoch + 1, "iteration": state.iteration, "loss": f"{state.last_loss:.6g}",
            "accuracy": _percent(state.last_accuracy),
            "learn_rate": f"{group['lr'] / group.get('lr_factor', 1):.6g}", "seconds": f"{state.elapsed:.3f}"}


def _validation_due(run: _Run, state: RunState, last: bool) -> bool:
    """Every ValidationFrequency iterations, and at the run's `last` one."""
    return run.validation is not None and (state.iteration % run.config.options.validation_frequency == 0 or last)


def _validate(run: _Run, state: RunState, row: dict[str, Any]) -> None:
    """The lead scores the validation images into the row and keeps the best weights (best.pt);
    then every process takes the lead's patience count, so that all stop at the same iteration."""
    if run.lead:
        scores = predict_batches(state.model, inputs_of(run.validation), run.logits_layer, run.device)
        state.model.train()
        loss_tensor, accuracy = loss_and_accuracy(run.loss_kind, scores, torch.from_numpy(run.validation.labels))
        loss = loss_tensor.item()
        row.update(val_loss=f"{loss:.6g}", val_accuracy=_percent(accuracy))
        best = loss < state.best_loss
        if best:
            state.best_loss, state.best_iteration, state.stale = loss, state.iteration, 0
        else:
            state.stale += 1
        run.report(ValidationDone(iteration=state.iteration, loss=loss, accuracy=accuracy, best=best))
        if best:
            _save(run, state, "best.pt")
    if run.distributed:
        import torch.distributed as dist

        flag = torch.tensor([float(state.stale)], device=run.device if run.device.type == "cuda" else "cpu")
        dist.broadcast(flag, 0)
        state.stale = int(flag.item())


def _save(run: _Run, state: RunState, name: str) -> None:
    """Checkpoint the state into the run folder (the lead only calls this), the metrics rows it
    covers on disk first."""
    if run.writer is not None:
        run.writer.flush()
    path = run.config.out / name
    checkpoint.save(path, state.payload(run.config))
    if name == "last.pt":
        state.saved_at = time.monotonic()
    run.report(CheckpointSaved(path=path, iteration=state.iteration))


def _end_epoch(run: _Run, state: RunState) -> None:
    """Count the epoch, draw the next data order (Shuffle 'every-epoch') and checkpoint (the lead,
    unless the last checkpoint is younger than `checkpoint_seconds`: an epoch may last a second)."""
    state.epoch += 1
    state.position = 0
    if run.config.options.shuffle == "every-epoch":
        state.order = torch.randperm(len(run.feed.labels), generator=state.generator)
    if run.lead and time.monotonic() - state.saved_at >= run.config.checkpoint_seconds:
        _save(run, state, "last.pt")


def _finish(run: _Run, state: RunState, stopped: str) -> dict[str, Any]:
    """The final checkpoints and metrics.json (the lead), the summary; the process group is left."""
    if run.lead:
        _final_checkpoints(run, state)
    summary = _summary(run, state, stopped)
    if run.writer is not None:
        run.writer.close()
        write_text(run.config.out / "metrics.json", json.dumps(run.writer.rows, indent=1))
    if run.distributed:
        import torch.distributed as dist

        dist.destroy_process_group()
    run.report(RunFinished(summary=copy.deepcopy(summary)))
    return summary


def _final_checkpoints(run: _Run, state: RunState) -> None:
    """last.pt, and best.pt (the last state when nothing validated), with MATLAB's population
    statistics in their batch normalizations where the options ask for them."""
    options, out = run.config.options, run.config.out
    population = options.batch_normalization_statistics == "population"
    if population:
        _population_statistics(state.model, inputs_of(run.config.train), options.mini_batch_size, run.device,
                               run.channels_last)
    _save(run, state, "last.pt")
    if run.validation is None or not (out / "best.pt").exists():
        _save(run, state, "best.pt")
    elif population and any(isinstance(m, BATCH_NORMS) for m in state.model.modules()):
        best = checkpoint.load(out / "best.pt")
        kept = copy.deepcopy(state.model)
        kept.load_state_dict(best["model"])
        _population_statistics(kept, inputs_of(run.config.train), options.mini_batch_size, run.device,
                               run.channels_last)
        checkpoint.save(out / "best.pt", {**{k: v for k, v in best.items() if k != "path"},
                                         "model": kept.state_dict()})
        run.report(CheckpointSaved(path=out / "best.pt", iteration=best["iteration"]))


def _macs_per_example(config: TrainConfig) -> object:
    """The analyzer's MACs of one training example: for sequences, at their mean length (the
    time axis is a symbol otherwise)."""
    data = config.train
    length = round(float(data.lengths.mean())) if isinstance(data, SequenceDataset) and len(data) else None
    return analyze(config.network, sequence_length=length).totals.macs


def _unit(data: Dataset | SequenceDataset) -> str:
    """What the run's counts and speeds count."""
    return "sequences" if isinstance(data, SequenceDataset) else "images"


def _summary(run: _Run, state: RunState, stopped: str) -> dict[str, Any]:
    """What summary.json says of the training (run_train adds the evaluation and the file list)."""
    device, seen, elapsed = run.device, state.seen, state.elapsed
    macs = _macs_per_example(run.config)
    summary = {
        "network": run.config.network.name, "iterations": state.iteration,
        "epochs": state.epoch + (stopped == "validation-patience"), "stopped": stopped,
        "images_per_second": seen / elapsed if elapsed > 0 else None, "seconds": elapsed,
        "unit": _unit(run.config.train),
        "final_loss": _finite(state.last_loss), "final_accuracy": _finite(state.last_accuracy),
        "best_validation_loss": state.best_loss if math.isfinite(state.best_loss) else None,
        "best_iteration": state.best_iteration, "device": str(device), "world_size": run.world, "bf16": run.bf16,
        "channels_last": run.channels_last,
        "achieved_flops_per_second": 3 * 2 * (macs if isinstance(macs, int) else 0) * seen / elapsed
        if elapsed > 0 else None,
        "initialized_layers": run.initialized,
        "run": run.config.extra,  # data source, split, augmentation and --set bindings: spec.net alone may not rebuild it
    }
    if device.type == "cuda":
        from .hardware import peak_flops

        peak = peak_flops(torch.cuda.get_device_name(device), bf16=run.bf16)
        summary["device_name"] = torch.cuda.get_device_name(device)
        summary["mfu"] = summary["achieved_flops_per_second"] / peak if peak else None
    return summary
