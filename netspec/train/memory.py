"""Training memory as PyTorch holds it, measured, and the memory a device has free.

`measure_training_memory` is the truth the analyzer's estimate (`netspec.analysis.memory`) is
checked against: one training step of the lowered module as `netspec train` takes it (its
parameter groups, frozen layers, optimizer and loss), counting every tensor autograd keeps for
the backward pass (`torch.autograd.graph.saved_tensors_hooks`) while it is still kept, plus the
parameters, buffers, gradients and optimizer state after the step; each storage once, however
many tensors view it. `available_memory` is what `netspec train` compares the estimate with.
"""

from __future__ import annotations

import os
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from ..analysis.limits import check_buildable
from ..backends.torch import GraphModule, module_name, to_torch
from ..ir import Network, TrainingOptions

__all__ = ["MeasuredMemory", "measure_training_memory", "available_memory", "refuse_beyond_memory",
           "padded_length"]


@dataclass
class MeasuredMemory:
    """Bytes of unique storages after one training step, by what holds them."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    """Kept for the backward pass when the loss was computed (storages not already counted above)."""
    by_layer: dict[str, int] = field(default_factory=dict)
    """`activations` by the layer (spec name; the output layer, or 'loss' without one, for the loss)
    whose operation first saved each storage."""
    cuda_peak: int | None = None
    """On a GPU: `torch.cuda.max_memory_allocated` over the step (weights included; also the
    transient buffers and workspaces the estimate leaves out); None on the CPU."""

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations


class _SavedStorages:
    """Every storage autograd saves, with the layer that saved it, for as long as it is kept:
    a saved tensor is packed into a small object the graph owns, which dies with the graph node."""

    def __init__(self) -> None:
        self.layer = ""
        self.live: dict[int, tuple[int, int, str]] = {}

    def pack(self, tensor: Tensor) -> object:
        holder = _Held(tensor.detach())  # a view without the graph: keeping it keeps no node alive
        storage = tensor.untyped_storage()
        self.live[id(holder)] = (storage.data_ptr(), storage.nbytes(), self.layer)
        weakref.finalize(holder, self.live.pop, id(holder), None)
        return holder

    @staticmethod
    def unpack(holder: "_Held") -> Tensor:
        return holder.tensor


class _Held:
    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: Tensor):
        self.tensor = tensor


def _storages(tensors) -> dict[int, int]:
    return {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors if t is not None}


def _batch(network: Network, model: GraphModule, batch_size: int, loss_kind: str, logits: str | None) \
        -> tuple[Tensor, Tensor]:
    """Random images, and a class (one per logit) or a response for each."""
    x = torch.rand(batch_size, *model.input_sizes[0])
    if loss_kind == "classification":
        classes = check_buildable(network).shapes[logits][0].numel  # type: ignore[index]
        return x, torch.randint(0, classes, (batch_size,))
    return x, torch.rand(batch_size)


def measure_training_memory(network: Network, batch_size: int, *, seed: int = 0,
                            device: str = "cpu") -> MeasuredMemory:
    """One training step of `network` on random data of `batch_size`, in float32, as `netspec
    train` takes it (its parameter groups, frozen layers, optimizer and loss), measured; on a
    `device` 'cuda' the allocator's peak over the step too."""
    from .loop import _optimizer, _parameter_groups, classifier_parts, loss_and_accuracy

    options = network.training or TrainingOptions(solver="sgdm")
    model = to_torch(network, seed=seed).train().to(device)
    has_loss = any(not layer.output_names for layer in network.layers)
    loss_kind, logits, loss_layer = classifier_parts(network) if has_loss else ("none", None, "loss")
    optimizer = _optimizer(_parameter_groups(model, network, options), options)
    x, y = (tensor.to(device) for tensor in _batch(network, model, batch_size, loss_kind, logits))
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    saved = _SavedStorages()
    spec_name = {module_name(layer.name): layer.name for layer in network.layers}
    hooks = [module.register_forward_pre_hook(lambda *_, layer=spec_name[key]: setattr(saved, "layer", layer))
             for key, module in model.layers.items()]
    with torch.autograd.graph.saved_tensors_hooks(saved.pack, saved.unpack):
        scores = model(x, output=logits) if logits else model(x)
        saved.layer = loss_layer
        if loss_kind == "none":
            loss = sum(output.sum() for output in (scores if isinstance(scores, tuple) else (scores,)))
        else:
            loss = loss_and_accuracy(loss_kind, scores.flatten(1), y)[0]
    for hook in hooks:
        hook.remove()
    kept = _unique_by_layer(saved.live.values(), exclude=_storages([*model.parameters(), *model.buffers()]))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    measured = _count(model, optimizer, kept)
    if cuda:
        torch.cuda.synchronize(device)
        measured.cuda_peak = torch.cuda.max_memory_allocated(device)
    return measured


def _unique_by_layer(saved, exclude: dict[int, int]) -> dict[str, int]:
    """Bytes of the saved storages not in `exclude` (the weights), each once, by the first layer saving it."""
    by_layer: dict[str, int] = defaultdict(int)
    seen = set(exclude)
    for pointer, nbytes, layer in saved:
        if pointer not in seen:
            seen.add(pointer)
            by_layer[layer] += nbytes
    return dict(by_layer)


def _count(model: nn.Module, optimizer: torch.optim.Optimizer, kept: dict[str, int]) -> MeasuredMemory:
    weights = _storages([*model.parameters(), *model.buffers()])
    gradients = {k: v for k, v in _storages(p.grad for p in model.parameters()).items() if k not in weights}
    state = [value for values in optimizer.state.values() for value in values.values() if isinstance(value, Tensor)]
    optimizer_bytes = {k: v for k, v in _storages(state).items() if k not in weights and k not in gradients}
    return MeasuredMemory(weights=sum(weights.values()), gradients=sum(gradients.values()),
                          optimizer=sum(optimizer_bytes.values()), activations=sum(kept.values()), by_layer=kept)


def refuse_beyond_memory(network: Network, options: TrainingOptions, sequence_length: int | None = None) -> None:
    """Before anything is allocated: refuse (R015) a run whose estimated training memory, at the
    batch each process takes, exceeds what its device has free. A sequence network is estimated at
    `sequence_length` steps (`padded_length` of its training data); symbolic sizes are left to the
    checks that refuse them."""
    from ..analysis import analyze
    from ..analysis.memory import at_batch, largest_batch
    from ..analysis.render import human, training_line
    from ..diagnostics import error
    from .loop import device_for

    analysis = analyze(network.model_copy(update={"training": options}), sequence_length=sequence_length)
    memory = analysis.totals.training_memory
    if analysis.has_errors or not isinstance(memory.total_bytes, int):
        return
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    memory = at_batch(memory, -(-options.mini_batch_size // processes))
    device = device_for(options.execution_environment)
    free, where = available_memory(device)
    if memory.total_bytes <= free:
        return
    fits = largest_batch(memory, free)
    steps = f" at {sequence_length:,} steps" if sequence_length else ""
    raise error("R015", f"'{network.name}' would not fit{steps}: {training_line(memory)}, more than the "
                f"{human(free, 'B', True)} {where}",
                hint=(f"MiniBatchSize {fits:,} fits: --batch-size {fits}" if fits else
                      "not even one image fits: use a device with more memory")
                + "; or pass --skip-memory-check to try anyway")


def padded_length(lengths, options: TrainingOptions) -> int:
    """The most time steps a training mini-batch holds: its longest sequence ('longest'; also the
    bound for 'shortest', which cuts to the batch's shortest), or SequenceLength N when shorter."""
    longest = int(max(lengths))
    return min(longest, options.sequence_length) if isinstance(options.sequence_length, int) else longest


def available_memory(device: torch.device) -> tuple[int, str]:
    """(bytes free for a run, where the figure comes from) on `device`: the GPU's free memory
    (`torch.cuda.mem_get_info`), or the RAM the kernel reports available (/proc/meminfo)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free, f"free on {torch.cuda.get_device_name(device)}"
    return _meminfo_available(Path("/proc/meminfo")), "RAM available"


def _meminfo_available(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise OSError(f"{path} has no MemAvailable line")
