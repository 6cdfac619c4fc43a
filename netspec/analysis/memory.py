"""Training memory before training: weights, gradients, optimizer state, and the activations
autograd keeps for the backward pass, as PyTorch keeps them; and the largest batch that fits.

Not every layer's output: each layer states what its lowered operations keep
(`Layer.kept_for_backward`), and this pass resolves those tensors to storages the way PyTorch
holds them (a flatten's or crop's output is a view of its input; a tensor kept by two layers,
a convolution's input that a ReLU keeps as its output, is held once) and counts only the layers
the loss reads (training takes the logits, so the softmax after them keeps nothing), and none
that no gradient passes (before the first layer that trains, autograd records nothing).
`netspec.train.memory.measure_training_memory` measures the same on the lowered module; the
tests hold the two within 10%.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..ir import ClassificationLayer, Layer, SoftmaxLayer
from ..ir.base import InputLayer
from ..ir.saved import CHANNEL_ORDER, INDEX_BYTES, Kept
from ..ir.shape import TIME, Dim, Shape, is_known
from ..diagnostics import error
from .context import Context, number
from .render import human, training_line
from .report import Analysis, Fit, TrainingMemory

__all__ = ["kept_activations", "training_memory", "at_batch", "largest_batch", "fit", "OPTIMIZER_SLOTS"]

OPTIMIZER_SLOTS = {"sgdm": 1, "adam": 2, "rmsprop": 1}
"""Tensors the size of the trainable parameters each solver keeps: momentum; Adam's two moments;
RMSProp's mean square."""

Storage = tuple[str, ...]


def kept_activations(ctx: Context) -> None:
    """Per analyzed layer: its trainable learnables, an input's normalization statistics, and the
    bytes per image (`saved_bytes`) and per batch (`saved_batch_bytes`) of the storages it is the
    first, in running order, to keep."""
    read = _read_by_loss(ctx)
    held = _Held()
    gradient: dict[str, bool] = {}
    counted: set[Storage] = set()
    for name in ctx.order:
        layer, outputs, costs = ctx.layers[name], ctx.shapes.get(name), ctx.costs.get(name)
        if outputs is None or costs is None:
            continue
        inputs = ctx.input_shapes[name]
        sources = [(edge.source, edge.source_port) for edge in ctx.sources(name) if edge is not None]
        trainable = layer.trainable_learnables(inputs) if inputs else 0
        gradient[name] = any(gradient.get(source, False) for source, _ in sources) or _nonzero(trainable)
        held.add(name, layer, inputs, outputs, sources)
        per_image: Dim = 0
        per_batch: Dim = 0
        if gradient[name] and name in read:
            for number_, kept in enumerate(layer.kept_for_backward(inputs, outputs)):
                key, elements = held.resolve(kept, number_, name, layer, inputs, sources)
                if key in counted:
                    continue
                counted.add(key)
                size = elements * (INDEX_BYTES if kept.index else 1 if kept.boolean else ctx.bytes_per_element)
                if kept.per_batch:
                    per_batch += size
                else:
                    per_image += size
        costs.update(trainable_learnables=trainable, saved_bytes=per_image, saved_batch_bytes=per_batch,
                     statistics=layer.statistics_held(outputs) if isinstance(layer, InputLayer) else 0)


def _nonzero(value: Dim) -> bool:
    return bool(value) if is_known(value) else True


class _Held:
    """The storage each layer output lives in, its elements per image and its memory order."""

    def __init__(self) -> None:
        self.storage: dict[tuple[str, str], Storage] = {}
        self.elements: dict[Storage, Dim] = {}
        self.order: dict[tuple[str, str], str] = {}

    def add(self, name: str, layer: Layer, inputs: list[Shape], outputs: list[Shape],
            sources: list[tuple[str, str]]) -> None:
        """A view (`shares_input_storage`) lives in its input's storage; every other output in its own."""
        sizes = layer.storage_elements(inputs, outputs)
        input_order = self.order.get(sources[0], CHANNEL_ORDER) if sources else CHANNEL_ORDER
        for port, size in zip(layer.output_names, sizes):
            shared = layer.shares_input_storage and port == layer.output_names[0] and sources
            self.storage[(name, port)] = self.storage[sources[0]] if shared else (name, port)
            self.elements.setdefault(self.storage[(name, port)], size)
            self.order[(name, port)] = layer.sequence_order(input_order)

    def resolve(self, kept: Kept, number_: int, name: str, layer: Layer, inputs: list[Shape],
                sources: list[tuple[str, str]]) -> tuple[Storage, Dim]:
        """(the storage a kept tensor is, its elements per image or batch): an input read in
        another memory order than it is held in is a copy of its own."""
        if kept.source == "new":
            return (name, "kept", str(number_)), kept.elements
        if kept.source == "input":
            source = sources[kept.port]
            if kept.order and self.order[source] != kept.order:
                return (name, "copy", str(number_)), inputs[kept.port].numel
            return self.storage[source], self.elements[self.storage[source]]
        key = self.storage[(name, layer.output_names[kept.port])]
        return key, self.elements[key]


def _read_by_loss(ctx: Context) -> set[str]:
    """The layers a training step computes a gradient through: the loss layer and what its
    logits come from (a classifier's softmax is skipped, as `netspec train` takes the logits),
    or, without a loss layer, everything the network outputs come from."""
    losses = [name for name in ctx.order if not ctx.layers[name].output_names]
    if losses:
        loss = losses[0]
        feeding = [e.source for e in ctx.sources(loss) if e is not None]
        if isinstance(ctx.layers[loss], ClassificationLayer) and feeding and \
                isinstance(ctx.layers[feeding[0]], SoftmaxLayer):
            feeding = [e.source for e in ctx.sources(feeding[0]) if e is not None]
        ends, read = feeding, {loss}
    else:
        ends, read = [name for name in ctx.order if not ctx.outgoing[name]], set()
    stack = list(ends)
    while stack:
        name = stack.pop()
        if name not in read:
            read.add(name)
            stack.extend(e.source for e in ctx.sources(name) if e is not None)
    return read


def training_memory(totals: dict[str, Any], *, batch_size: int, solver: str, bytes_per_element: int) \
        -> TrainingMemory:
    """Weights (learnables, states and input statistics), gradients and optimizer state of the
    trainable learnables, and the kept activations of `batch_size` images."""
    trainable = totals["trainable_learnables"]
    weights = (totals["learnables"] + totals["states"] + totals["statistics"]) * bytes_per_element
    gradients = trainable * bytes_per_element
    optimizer = OPTIMIZER_SLOTS[solver] * gradients
    activations = batch_size * totals["saved_bytes"] + totals["saved_batch_bytes"]
    return TrainingMemory(batch_size=batch_size, solver=solver, weight_bytes=number(weights),
                          gradient_bytes=number(gradients), optimizer_bytes=number(optimizer),
                          activation_bytes=number(activations),
                          total_bytes=number(weights + gradients + optimizer + activations),
                          per_image_bytes=number(totals["saved_bytes"]),
                          per_batch_bytes=number(totals["saved_batch_bytes"]))


def at_batch(memory: TrainingMemory, batch_size: int) -> TrainingMemory:
    """The same estimate at another batch size (the activations grow with it, nothing else does)."""
    activations = batch_size * memory.per_image_bytes + memory.per_batch_bytes  # type: ignore[operator]
    fixed = memory.weight_bytes + memory.gradient_bytes + memory.optimizer_bytes  # type: ignore[operator]
    return replace(memory, batch_size=batch_size, activation_bytes=activations, total_bytes=fixed + activations)


def largest_batch(memory: TrainingMemory, budget: int) -> int | None:
    """The largest batch whose estimate fits in `budget` bytes: 0 when not even one image fits,
    None when nothing is kept per image (any batch fits)."""
    fixed = at_batch(memory, 0).total_bytes
    if memory.per_image_bytes == 0:
        return None if fixed <= budget else 0  # type: ignore[operator]
    return max(0, (budget - fixed) // memory.per_image_bytes)  # type: ignore[operator]


def fit(analysis: Analysis, budget: int) -> Fit:
    """`netspec analyze --fit`: the largest MiniBatchSize whose estimate fits in `budget` bytes, and
    the estimate there. A symbolic input size has no number to fit (A401); a network whose
    weights, gradients and optimizer state leave no room for one image fits no batch (A402)."""
    import sympy

    memory = analysis.totals.training_memory
    if not isinstance(memory.total_bytes, int):
        if {str(s) for s in sympy.sympify(memory.total_bytes).free_symbols} == {TIME}:
            raise error("A401", f"--fit needs numbers, but the sequence length is symbolic: the training memory "
                        f"is a formula in {TIME}, {memory.total_bytes} B at the spec's MiniBatchSize",
                        hint="give the longest sequence a mini-batch holds: --sequence-length N "
                             "(or 'MinLength' in sequenceInputLayer)")
        raise error("A401", "--fit needs numbers, but the input size is symbolic: the training memory is a formula",
                    hint="give numbers: --input-size 224 224 3, or numbers in the input layer")
    batch = largest_batch(memory, budget)
    if batch == 0:
        one = at_batch(memory, 1)
        raise error("A402", f"not even one image fits in {human(budget, 'B', True)}: {training_line(one)}",
                    hint="a device with more memory, fewer or smaller layers, or frozen layers "
                         "('WeightLearnRateFactor', 0) that need no gradients")
    return Fit(budget_bytes=budget, batch_size=batch, memory=at_batch(memory, batch or 1))
