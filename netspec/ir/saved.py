"""What a layer's lowered PyTorch operations keep for the backward pass (`Layer.kept_for_backward`).

Autograd does not keep every layer's output: a convolution keeps its input, ReLU its output,
batch norm its input and two statistics per channel, max pooling its input and the int64
position of each maximum, a concatenation nothing. Each layer class states its own rule with
these records; `netspec.analysis.memory` resolves them to storages (a view shares its input's,
a tensor two layers keep is counted once) and adds them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .shape import Dim, Shape, axis_padding

__all__ = ["Kept", "INPUT", "OUTPUT", "INDEX_BYTES", "input_or_padded", "CHANNEL_ORDER", "STEP_ORDER", "TIME_ORDER"]

INDEX_BYTES = 8
"""PyTorch keeps positions (max pooling's argmax, the loss's targets) as int64."""

CHANNEL_ORDER, STEP_ORDER, TIME_ORDER = "channels", "steps", "time"
"""The memory order of a lowered sequence (`Layer.sequence_order`): (N, C, T), as the input
layer, convolutions and pooling write it; (N, T, C), as a product per time step writes it
(fully connected, attention, embeddings, the step-by-step recurrence); (T, N, C), as nn.LSTM
and nn.GRU write it. A product per step reads (N, T, C) in place and copies the others; nn.LSTM
and nn.GRU read (T, N, C) in place and copy the others. (At batch 1 the last two are the same
order, and nothing is copied between them: the estimate then counts a copy too many.)"""


@dataclass(frozen=True)
class Kept:
    """One tensor kept for the backward pass: one of the layer's inputs or outputs (by port
    index), or a tensor of its own (`elements` per image, or per batch)."""

    source: Literal["input", "output", "new"]
    port: int = 0
    elements: Dim = 0
    index: bool = False
    """int64 positions rather than values of the activations' type."""
    per_batch: bool = False
    """Held once per batch (batch norm's batch statistics), not per image."""
    boolean: bool = False
    """One byte per element (a bool mask) rather than the activations' type."""
    order: str = ""
    """For an input: the memory order the operation reads it in (`STEP_ORDER`, `TIME_ORDER`); an
    input held in another order is kept as the copy the operation makes of it."""

    @staticmethod
    def new(elements: Dim, *, index: bool = False, per_batch: bool = False, boolean: bool = False) -> "Kept":
        return Kept("new", elements=elements, index=index, per_batch=per_batch, boolean=boolean)

    @staticmethod
    def input_in(order: str, port: int = 0) -> "Kept":
        """An input as an operation reads it in `order`: itself, or a copy in that order."""
        return Kept("input", port=port, order=order)


INPUT = Kept("input")
OUTPUT = Kept("output")


def input_or_padded(shape: Shape, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                    padding: Any, *, pads_itself: bool) -> Kept:
    """What a sliding convolution or pooling keeps of its input: the input itself, or the padded
    copy where the lowering pads in front of the operation (`backends.torch._with_padding`: padding
    that differs between an axis's two ends, and any padding the operation cannot take itself,
    `pads_itself` False: max pooling's -inf, a PaddingValue other than 0)."""
    pads = [axis_padding(size, axis, kernel[axis], stride[axis], dilation[axis], padding)
            for axis, size in enumerate(shape.spatial)]
    if not any(begin or end for begin, end in pads):
        return INPUT
    if pads_itself and all(begin == end for begin, end in pads):
        return INPUT
    elements: Dim = shape.channels
    for size, (begin, end) in zip(shape.spatial, pads):
        elements = elements * (size + begin + end)
    return Kept.new(elements)
