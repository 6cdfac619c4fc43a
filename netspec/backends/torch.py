"""IR -> `torch.nn.Module`, with MATLAB's semantics where they differ from PyTorch's.

One table (`LOWER`) maps each IR layer type to a function that builds its module from
the layer's own fields (filters, output sizes) and, for what only the analysis knows (input
channels, spatial sizes), its analyzed input/output shapes. `GraphModule` then runs the modules in
the network's topological order (a DAG, like torch.fx's interpreter over its graph).

MATLAB details kept: asymmetric 'same' padding (odd pixel bottom/right), max pooling
padded with -inf, average pooling counting padded zeros, pooling stride default 1
(already in the IR), Glorot-uniform weights and zero biases, LRN's alpha/N, channel-wise
input normalization with statistics stored as buffers (so they travel in checkpoints), and
learnable values the spec gives ('Weights', 'Bias', BN's 'TrainedMean', ...) moved from
MATLAB's layout to PyTorch's (`GIVEN`), and recurrent layers with one bias per gate set and
MATLAB's initializers (`Recurrent`). A sequence's length may stay the symbol T: every sequence
module takes any length.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..analysis.limits import check_buildable
from ..diagnostics import error
from ..ir import IMAGE, Network
from ..ir import activation as act
from ..ir import conv, input_output, norm, pool, recurrent, sequence, structure
from ..ir.base import Factor, Layer, trained
from ..ir.shape import Shape, is_known

__all__ = ["to_torch", "GraphModule", "LOWER", "UNSUPPORTED", "module_name", "output_key", "parameter_factors",
           "learnable_of", "Recurrent"]

Lowering = Callable[[Layer, list[Shape], list[Shape]], nn.Module]
LOWER: dict[type[Layer], Lowering] = {}
UNSUPPORTED: set[type[Layer]] = {input_output.ClassificationLayer, input_output.RegressionLayer,
                                 input_output.PixelClassificationLayer, input_output.DicePixelClassificationLayer}
"""IR layers with no module: loss layers (training reads them; the forward pass stops before)."""


def lowers(*classes: type[Layer]):
    def register(fn: Lowering) -> Lowering:
        for cls in classes:
            LOWER[cls] = fn
        return fn
    return register


_MODULE_DICT_NAMES = frozenset(dir(nn.ModuleDict()))
"""Names a ModuleDict uses itself (`forward`, `training`, `keys`): it refuses them as keys."""


def output_key(layer: Layer, port: str) -> str:
    """Where `GraphModule` keeps the value of `layer`'s output `port`: under the layer's name for
    its first output (a module returns a tuple for several), `name/port` for the others."""
    return layer.name if port == layer.output_names[0] else f"{layer.name}/{port}"


def module_name(layer_name: str) -> str:
    """A layer name as a submodule name: torch forbids '.' (MATLAB names may contain '-'), and
    a name ModuleDict uses itself gets a trailing '_'."""
    key = re.sub(r"[^0-9A-Za-z_]", "_", layer_name)
    return f"{key}_" if key in _MODULE_DICT_NAMES else key


# -- building blocks ---------------------------------------------------------------------

class Pad(nn.Module):
    """Explicit (possibly asymmetric) padding, before a conv or pool that then pads nothing."""

    def __init__(self, pads: tuple[int, ...], value: float | str = 0.0):
        super().__init__()
        self.pads = tuple(int(p) for p in pads)  # F.pad order: last axis first
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(self.value, str):
            mode = "replicate" if self.value == "replicate" else "reflect"
            return F.pad(x, self.pads, mode=mode)
        return F.pad(x, self.pads, value=self.value)

    def extra_repr(self) -> str:
        return f"pads={self.pads}, value={self.value}"


class SamePad1d(nn.Module):
    """MATLAB's 'same' padding of a strided 1-D window, worked out for each sequence's length T:
    ceil(T/S) outputs, total padding max(0, (ceil(T/S) - 1)·S + extent - T), the odd step at the
    end. (Stride 1 pads extent - 1 whatever T is; the lowering then pads in the layer itself.)"""

    def __init__(self, extent: int, stride: int, value: float | str = 0.0):
        super().__init__()
        self.extent, self.stride, self.value = extent, stride, value

    def forward(self, x: Tensor) -> Tensor:
        length = x.shape[-1]
        # a tensor clamp, not max(), and no floor division of a negative number (ONNX's integer Div
        # truncates): an ONNX export traced at one length keeps the padding a function of T
        steps = (length + self.stride - 1) // self.stride
        total = torch.clamp(torch.as_tensor((steps - 1) * self.stride + self.extent - length), min=0)
        pads = (total // 2, total - total // 2)
        if isinstance(self.value, str):
            return F.pad(x, pads, mode="replicate" if self.value == "replicate" else "reflect")
        return F.pad(x, pads, value=self.value)


class Crop(nn.Module):
    """MATLAB's transposed-convolution 'Cropping': keep `size` pixels from (top, left).

    The bounds are constants, so an exported graph keeps static shapes.
    """

    def __init__(self, top: int, left: int, size: tuple[int, int]):
        super().__init__()
        self.top, self.left, self.size = top, left, size

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, self.top:self.top + self.size[0], self.left:self.left + self.size[1]]


class InputNormalization(nn.Module):
    """imageInputLayer's 'zerocenter' / 'zscore' / 'rescale-*', channel-wise.

    The statistics are buffers: `netspec train` computes them from the training data,
    and they are saved (and exported) with the weights.
    """

    def __init__(self, mode: str, channels: int, spatial_dims: int, stats: dict[str, object]):
        super().__init__()
        self.mode = mode
        view = (channels, *([1] * spatial_dims))

        def buffer(value, default: float) -> Tensor:
            tensor = torch.full((channels,), default) if value is None else torch.as_tensor(value, dtype=torch.float32)
            return tensor.reshape(-1).expand(channels).clone().reshape(view) if tensor.numel() in (1, channels) \
                else tensor.reshape(view)

        self.register_buffer("mean", buffer(stats.get("mean"), 0.0))
        self.register_buffer("std", buffer(stats.get("standard_deviation"), 1.0))
        self.register_buffer("min", buffer(stats.get("min"), 0.0))
        self.register_buffer("max", buffer(stats.get("max"), 1.0))

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "zerocenter":
            return x - self.mean
        if self.mode == "zscore":
            return (x - self.mean) / self.std
        if self.mode == "rescale-symmetric":
            return (x - self.min) / (self.max - self.min) * 2 - 1
        if self.mode == "rescale-zero-one":
            return (x - self.min) / (self.max - self.min)
        return x

    def extra_repr(self) -> str:
        return self.mode


class Linear(nn.Module):
    """MATLAB's fullyConnectedLayer: sequences per time step (`per_step`); images and vectors
    whole, the result keeping the input's `spatial_dims` as 1s (an image gives 1×1×N).

    Plain arguments rather than a data kind: the exported PyTorch source defines this class
    and must run without netspec."""

    def __init__(self, in_features: int, out_features: int, bias: bool, per_step: bool, spatial_dims: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.per_step = per_step
        self.spatial_dims = spatial_dims

    def forward(self, x: Tensor) -> Tensor:
        if self.per_step:  # (N, C, T) or (N, C, T, H, W): the same weights at every time step
            steps = x.transpose(1, 2)
            return self.linear(steps.flatten(2) if steps.dim() > 3 else steps).transpose(1, 2)
        y = self.linear(x.flatten(1))
        for _ in range(self.spatial_dims):  # unsqueeze, not view: an ONNX export traces no shape arithmetic
            y = y.unsqueeze(-1)
        return y


class Add(nn.Module):
    def forward(self, *inputs: Tensor) -> Tensor:
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total


class Multiply(nn.Module):
    """multiplicationLayer: element-wise product; a size-1 axis is broadcast, in MATLAB as in torch."""

    def forward(self, *inputs: Tensor) -> Tensor:
        product = inputs[0]
        for x in inputs[1:]:
            product = product * x
        return product


class ChannelShuffle(nn.Module):
    """MATLAB's ChannelShufflingLayer: the channels as (Groups, C/Groups) blocks, transposed
    (its predict: reshape to [h w C/g g n], permute the two channel axes, reshape back), so
    output channel k is input channel (k mod g)·C/g + floor(k/g). A constant gather rather
    than reshapes: ONNX then keeps every size static."""

    def __init__(self, groups: int, channels: int):
        super().__init__()
        self.groups = groups
        self.channels = channels
        order = [(k % groups) * (channels // groups) + k // groups for k in range(channels)]
        self.register_buffer("order", torch.tensor(order), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return x.index_select(1, self.order)


class Concat(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: Tensor) -> Tensor:
        return torch.cat(inputs, dim=self.dim)


class Softmax(nn.Module):
    """Softmax over channels (dim 1) for every data kind."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(x, dim=1)


class Resize(nn.Module):
    """resize2dLayer: MATLAB's default 'half-pixel' + 'round' nearest is torch's 'nearest-exact';
    'asymmetric' + 'floor' is torch's 'nearest'."""

    def __init__(self, size: tuple[int, int], mode: str):
        super().__init__()
        self.size = size
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "bilinear":
            return F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        return F.interpolate(x, size=self.size, mode=self.mode)


class CropTo(Crop):
    """crop2dLayer: 'in' cropped to the height and width of 'ref' (whose values it does not read)."""

    def forward(self, x: Tensor, reference: Tensor | None = None) -> Tensor:
        return super().forward(x)


class MaxPoolIndices(nn.Module):
    """maxPooling2dLayer with unpooling outputs: the maxima, where each was (its position in its
    channel's H×W input plane, what MaxUnpool scatters to) and the input's size [H, W, C].

    Padding is -inf, as in MATLAB; positions counted in the padded plane are mapped back."""

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int], pads: tuple[int, int, int, int]):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.pads = tuple(int(p) for p in pads)  # (top, bottom, left, right), as MATLAB writes them

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        top, bottom, left, right = self.pads
        padded = F.pad(x, (left, right, top, bottom), value=float("-inf")) if any(self.pads) else x
        out, indices = F.max_pool2d(padded, self.kernel, self.stride, return_indices=True)
        if any(self.pads):
            width = padded.shape[-1]
            indices = (indices // width - top) * x.shape[-1] + indices % width - left
        return out, indices, torch.tensor([x.shape[2], x.shape[3], x.shape[1]], device=x.device)


class MaxUnpool(nn.Module):
    """maxUnpooling2dLayer: each value scattered to where its maximum was, zeros elsewhere, in an
    output of `size` (C, H, W) from the analysis (the 'size' input says the same), so an exported
    graph keeps static shapes."""

    def __init__(self, size: tuple[int, int, int]):
        super().__init__()
        self.size = size

    def forward(self, x: Tensor, indices: Tensor, size: Tensor | None = None) -> Tensor:
        channels, height, width = self.size
        flat = x.new_zeros((x.shape[0], channels, height * width)).scatter(2, indices.flatten(2), x.flatten(2))
        return flat.reshape(-1, channels, height, width)


class DepthToSpace(nn.Module):
    """depthToSpace2dLayer on an input of `size` (C, H, W): in 'dcr' (MATLAB's default, ONNX's DCR)
    the block position varies slowest over the input channels, in 'crd' fastest (PixelShuffle's)."""

    def __init__(self, block: tuple[int, int], mode: str, size: tuple[int, int, int]):
        super().__init__()
        self.block, self.mode, self.size = block, mode, size

    def forward(self, x: Tensor) -> Tensor:
        (bh, bw), (channels, height, width) = self.block, self.size
        depth = channels // (bh * bw)
        if self.mode == "dcr":
            x = x.reshape(-1, bh, bw, depth, height, width).permute(0, 3, 4, 1, 5, 2)
        else:
            x = x.reshape(-1, depth, bh, bw, height, width).permute(0, 1, 4, 2, 5, 3)
        return x.reshape(-1, depth, height * bh, width * bw)


class SpaceToDepth(nn.Module):
    """spaceToDepthLayer on an input of `size` (C, H, W): output channel (i·w + j)·C + c holds
    pixel (i, j) of each block of channel c (ONNX's SpaceToDepth); rows and columns past the last
    whole block are dropped, as MATLAB does."""

    def __init__(self, block: tuple[int, int], size: tuple[int, int, int]):
        super().__init__()
        self.block, self.size = block, size

    def forward(self, x: Tensor) -> Tensor:
        (bh, bw), (channels, height, width) = self.block, self.size
        rows, cols = height // bh, width // bw
        x = x[:, :, :rows * bh, :cols * bw].reshape(-1, channels, rows, bh, cols, bw).permute(0, 3, 5, 1, 2, 4)
        return x.reshape(-1, bh * bw * channels, rows, cols)


class SequenceFold(nn.Module):
    """sequenceFoldingLayer: image sequences (N, C, T, H, W) -> the images of every step
    (N·T, C, H, W) of `size` (C, H, W), and the 'miniBatchSize' port: each sample's length T at
    each of its steps (N×T; the unfolding reads N and T from its size, so they stay open in an
    export)."""

    def __init__(self, size: tuple[int, int, int]):
        super().__init__()
        self.size = size

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x.transpose(1, 2).reshape(-1, *self.size), x[:, 0, :, 0, 0] * 0 + x.shape[2]


class SequenceUnfold(nn.Module):
    """sequenceUnfoldingLayer: (N·T, C, H, W) images -> (N, C, T, H, W) sequences, N and T read
    from the size of the folding's 'miniBatchSize' (N×T: each sample's length at each step)."""

    def forward(self, x: Tensor, steps: Tensor) -> Tensor:
        return x.reshape(steps.shape[0], steps.shape[1], *x.shape[1:]).transpose(1, 2)


class FlattenSteps(nn.Module):
    """flattenLayer on image sequences: (N, C, T, H, W) -> (N, C·H·W, T), each step's image
    flattened as nn.Flatten flattens an image."""

    def forward(self, x: Tensor) -> Tensor:
        """A reshape on each side of the transpose: an exporter fuses no transposes across layers,
        and every size stays known."""
        batch, channels, steps, height, width = x.shape
        pixels = x.reshape(batch, channels, steps, height * width).transpose(2, 3)
        return pixels.reshape(batch, channels * height * width, steps)


class SelfAttention(nn.Module):
    """selfAttentionLayer on (N, C, T): queries, keys and values by fully connected maps, the
    channels split into `heads` contiguous blocks, each head softmax(QKᵀ/√d)·V with d its key
    channels (future steps masked when `causal`), the heads side by side, then the output map.
    Plain matrix products, so FlopCounterMode sees both T² products."""

    def __init__(self, channels: int, heads: int, key_channels: int, value_channels: int, output_size: int,
                 causal: bool, dropout_probability: float):
        super().__init__()
        self.channels, self.heads, self.key_channels, self.value_channels = channels, heads, key_channels, \
            value_channels
        self.output_size, self.causal, self.dropout_probability = output_size, causal, dropout_probability
        self.query = nn.Linear(channels, key_channels)
        self.key = nn.Linear(channels, key_channels)
        self.value = nn.Linear(channels, value_channels)
        self.output = nn.Linear(value_channels, output_size)
        self.dropout = nn.Dropout(dropout_probability)

    def forward(self, x: Tensor) -> Tensor:
        """Each head on its own block of channels (slices, not reshapes: an exported graph keeps
        every size known)."""
        steps = x.transpose(1, 2)
        queries, keys, values = self.query(steps), self.key(steps), self.value(steps)
        key_size, value_size = self.key_channels // self.heads, self.value_channels // self.heads
        future = None
        if self.causal:
            length = steps.shape[1]
            future = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
        heads = []
        for head in range(self.heads):
            q = queries[:, :, head * key_size:(head + 1) * key_size]
            k = keys[:, :, head * key_size:(head + 1) * key_size]
            scores = q @ k.transpose(1, 2) / key_size ** 0.5
            if future is not None:
                scores = scores.masked_fill(future, float("-inf"))
            v = values[:, :, head * value_size:(head + 1) * value_size]
            heads.append(self.dropout(torch.softmax(scores, dim=-1)) @ v)
        return self.output(torch.cat(heads, dim=2)).transpose(1, 2)


class PositionEmbedding(nn.Module):
    """positionEmbeddingLayer: (N, C, T) -> the first T columns of the learned (OutputSize,
    MaxPosition) weights, for every sample."""

    def __init__(self, output_size: int, max_position: int):
        super().__init__()
        self.output_size, self.max_position = output_size, max_position
        self.weight = nn.Parameter(torch.empty(output_size, max_position))

    def forward(self, x: Tensor) -> Tensor:
        """The columns gathered at positions counted along the input, so N and T stay open in an export."""
        positions = (torch.cumsum(x[:, 0] * 0 + 1, dim=1) - 1).long()
        return self.weight.T[positions].transpose(1, 2)


class SinusoidalEncoding(nn.Module):
    """sinusoidalPositionEncodingLayer: (N, C, T) -> (N, OutputSize, T), channel 2i of step p
    sin(p/10000^(2i/d)) and channel 2i+1 its cosine."""

    def __init__(self, output_size: int):
        super().__init__()
        self.output_size = output_size
        channel = torch.arange(output_size)
        self.register_buffer("rates", torch.pow(10000.0, -(channel - channel % 2) / output_size)[:, None],
                             persistent=False)
        self.register_buffer("phases", (channel % 2 * torch.pi / 2)[:, None], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """cos(a) as sin(a + π/2): one broadcast over (N, 1, T) positions, so an exported graph
        keeps N and T open."""
        positions = torch.cumsum(x[:, :1] * 0 + 1, dim=2) - 1
        return torch.sin(positions * self.rates + self.phases)


class TimeStep(nn.Module):
    """indexing1dLayer: (N, C, T) -> (N, C), the first or the last step."""

    def __init__(self, last: bool):
        super().__init__()
        self.last = last

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, -1] if self.last else x[:, :, 0]


class WordEmbedding(nn.Module):
    """wordEmbeddingLayer: (N, 1, T) word indices from 1 -> (N, Dimension, T). An index past
    NumWords reads the last vector ('map-to-last'), or is an error (`oov_error`)."""

    def __init__(self, num_words: int, dimension: int, oov_error: bool):
        super().__init__()
        self.num_words, self.dimension, self.oov_error = num_words, dimension, oov_error
        self.embedding = nn.Embedding(num_words, dimension)

    def forward(self, x: Tensor) -> Tensor:
        index = x[:, 0].round().long() - 1
        if self.oov_error and bool(((index < 0) | (index >= self.num_words)).any()):
            raise ValueError(f"a word index is outside 1 to {self.num_words} (OOVMode 'error')")
        return self.embedding(index.clamp(0, self.num_words - 1)).transpose(1, 2)
class Recurrent(nn.Module):
    """MATLAB's lstmLayer, bilstmLayer and gruLayer on (N, C, T) sequences: (N, D·H, T) out, or the
    last time step's (N, D·H) with `last`.

    MATLAB's parameterisation: one bias per gate set, so the recurrent biases (`bias_hh_*`) are
    zero buffers, not trained, unless `reset_gate_mode` is 'recurrent-bias-after-multiplication'
    (PyTorch's own GRU). MATLAB's gate order is PyTorch's (LSTM input, forget, cell candidate,
    output; GRU reset, update, candidate), so the weights are stacked alike. With tanh and sigmoid
    and the reset gate after the multiplication, nn.LSTM / nn.GRU run (their fused kernels); other
    activations and 'before-multiplication' run the same parameters step by step. The initial
    states `h0` (and `c0`) are buffers, (D, H), zeros unless the spec gives them."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, bidirectional: bool = False,
                 last: bool = False, state_activation: str = "tanh", gate_activation: str = "sigmoid",
                 reset_gate_mode: str = "after-multiplication"):
        super().__init__()
        self.cell, self.input_size, self.hidden_size = cell, input_size, hidden_size
        self.bidirectional, self.last = bidirectional, last
        self.state_activation, self.gate_activation = state_activation, gate_activation
        self.reset_gate_mode = reset_gate_mode
        directions = 2 if bidirectional else 1
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.core = rnn(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)
        if reset_gate_mode != "recurrent-bias-after-multiplication":
            for name in [name for name, _ in self.core.named_parameters() if name.startswith("bias_hh")]:
                zeros = torch.zeros_like(getattr(self.core, name)).detach()
                delattr(self.core, name)
                self.core.register_buffer(name, zeros)
                setattr(self.core, name, zeros)  # nn.LSTM keeps its list of weights in step
        self.register_buffer("h0", torch.zeros(directions, hidden_size))
        if cell == "lstm":
            self.register_buffer("c0", torch.zeros(directions, hidden_size))
        self.fused = (state_activation, gate_activation) == ("tanh", "sigmoid") and \
            reset_gate_mode != "before-multiplication"

    def _state(self, x: Tensor) -> Tensor:
        if self.state_activation == "tanh":
            return torch.tanh(x)
        if self.state_activation == "softsign":
            return F.softsign(x)
        return torch.relu(x)

    def _gate(self, x: Tensor) -> Tensor:
        """MATLAB's hard sigmoid is 0.2x + 0.5 clipped to [0, 1] (not PyTorch's x/6 + 1/2)."""
        return torch.sigmoid(x) if self.gate_activation == "sigmoid" else torch.clamp(0.2 * x + 0.5, 0.0, 1.0)

    def _step(self, x_t: Tensor, state: tuple[Tensor, ...], w_hh: Tensor, b_hh: Tensor) -> tuple[Tensor, ...]:
        """One time step from the step's input projection `x_t` (bias included)."""
        if self.cell == "lstm":
            h, c = state
            i, f, g, o = (x_t + F.linear(h, w_hh, b_hh)).chunk(4, 1)
            c = self._gate(f) * c + self._gate(i) * self._state(g)
            return self._gate(o) * self._state(c), c
        (h,) = state
        x_r, x_z, x_n = x_t.chunk(3, 1)
        size = self.hidden_size
        if self.reset_gate_mode == "before-multiplication":
            h_r, h_z = F.linear(h, w_hh[:2 * size], b_hh[:2 * size]).chunk(2, 1)
            r, z = self._gate(x_r + h_r), self._gate(x_z + h_z)
            n = self._state(x_n + F.linear(r * h, w_hh[2 * size:], b_hh[2 * size:]))
        else:
            h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, 1)
            r, z = self._gate(x_r + h_r), self._gate(x_z + h_z)
            n = self._state(x_n + r * h_n)
        return ((1 - z) * n + z * h,)

    def _steps(self, x: Tensor, states: tuple[Tensor, ...]) -> Tensor:
        """The recurrence step by step, each direction from its own weights; (N, T, D·H)."""
        outputs = []
        for direction in range(2 if self.bidirectional else 1):
            suffix = "_reverse" if direction else ""
            weights = [getattr(self.core, f"{kind}_l0{suffix}") for kind in ("weight_ih", "weight_hh", "bias_ih",
                                                                               "bias_hh")]
            projected = F.linear(x, weights[0], weights[2])  # every step's input product at once
            state = tuple(s[direction] for s in states)
            steps = range(x.shape[1] - 1, -1, -1) if direction else range(x.shape[1])
            hidden = []
            for t in steps:
                state = self._step(projected[:, t], state, weights[1], weights[3])
                hidden.append(state[0])
            outputs.append(torch.stack(hidden[::-1] if direction else hidden, 1))
        return torch.cat(outputs, 2)

    def forward(self, x: Tensor) -> Tensor:
        x = x.transpose(1, 2)  # (N, T, C), batch first
        batch = x.shape[0]
        states = tuple(s.unsqueeze(1).expand(-1, batch, -1).contiguous()
                       for s in ((self.h0, self.c0) if self.cell == "lstm" else (self.h0,)))
        if self.fused:
            y = self.core(x, states if self.cell == "lstm" else states[0])[0]
        else:
            y = self._steps(x, states)
        return y[:, -1] if self.last else y.transpose(1, 2)

    def extra_repr(self) -> str:
        return f"{self.cell}, last={self.last}, fused={self.fused}"


# -- given learnable values: MATLAB's layout -> PyTorch's --------------------------------------

Layout = Callable[[np.ndarray, list[Shape]], np.ndarray]


def _flat(array: np.ndarray, inputs: list[Shape]) -> np.ndarray:
    """A bias or per-channel value (1×1×C, C×1, 1×C): one value per channel, in order."""
    return array.reshape(-1, order="F")


def _grouped_weights(array: np.ndarray, inputs: list[Shape]) -> np.ndarray:
    """h×w×C/g×F/g×g -> (g·F/g)×C/g×h×w: PyTorch numbers the filters group by group."""
    h, w, per_group_in, per_group_out, groups = array.shape
    return array.transpose(4, 3, 2, 0, 1).reshape(groups * per_group_out, per_group_in, h, w)


def _grouped_bias(array: np.ndarray, inputs: list[Shape]) -> np.ndarray:
    """1×1×F/g×g -> F: filter f of group g is output channel g·F/g + f."""
    return array.reshape(array.shape[2:], order="F").T.reshape(-1)


def _fc_weights(array: np.ndarray, inputs: list[Shape]) -> np.ndarray:
    """O×I, whose I runs over MATLAB's column-major H×W×C, -> O×I over PyTorch's flattened C×H×W
    (a sequence's features are its channels: nothing to reorder)."""
    shape = inputs[0]
    step = shape.dims[1:] if shape.kind.time else shape.dims
    if len(step) == 1:
        return array
    sizes = tuple(int(d) for d in step)
    ranked = array.reshape((array.shape[0], *sizes), order="F")
    axes = (0, len(sizes), *range(1, len(sizes)))
    return ranked.transpose(axes).reshape(array.shape[0], -1)


def _recurrent_tensors(field: str) -> Callable[[Layer], tuple[str, ...]]:
    """The tensors of a `Recurrent` module that one MATLAB learnable fills, in row order: a
    bidirectional layer's forward rows, then its backward ones; a GRU's 6H bias with
    'recurrent-bias-after-multiplication', the input bias, then the recurrent one."""
    def names(layer: Layer) -> tuple[str, ...]:
        if field in ("hidden_state", "cell_state"):
            return ("h0" if field == "hidden_state" else "c0",)
        kind = {"input_weights": "weight_ih", "recurrent_weights": "weight_hh", "bias": "bias_ih"}[field]
        if field == "bias" and getattr(layer, "recurrent_bias", False):
            return ("core.bias_ih_l0", "core.bias_hh_l0")
        return (f"core.{kind}_l0", *((f"core.{kind}_l0_reverse",) if layer.directions == 2 else ()))
    return names


def _rows(array: np.ndarray, inputs: list[Shape]) -> np.ndarray:
    """MATLAB's stacked gate rows are PyTorch's: nothing to reorder."""
    return array


_RECURRENT = {field: (_recurrent_tensors(field), _rows)
              for field in ("input_weights", "recurrent_weights", "bias", "hidden_state")}
_LSTM = {**_RECURRENT, "cell_state": (_recurrent_tensors("cell_state"), _rows)}

TensorNames = str | Callable[[Layer], tuple[str, ...]]
GIVEN: dict[type[Layer], dict[str, tuple[TensorNames, Layout]]] = {
    conv.Convolution2dLayer: {"weights": ("weight", lambda a, _: a.transpose(3, 2, 0, 1)), "bias": ("bias", _flat)},
    conv.GroupedConvolution2dLayer: {"weights": ("weight", _grouped_weights), "bias": ("bias", _grouped_bias)},
    conv.TransposedConv2dLayer: {"weights": ("weight", lambda a, _: a.transpose(3, 2, 0, 1)),
                                 "bias": ("bias", _flat)},
    conv.Convolution1dLayer: {"weights": ("weight", lambda a, _: a.transpose(2, 1, 0)), "bias": ("bias", _flat)},
    conv.FullyConnectedLayer: {"weights": ("weight", _fc_weights), "bias": ("bias", _flat)},
    norm.BatchNormalizationLayer: {"offset": ("bias", _flat), "scale": ("weight", _flat),
                                   "trained_mean": ("running_mean", _flat),
                                   "trained_variance": ("running_var", _flat)},
    norm.LayerNormalizationLayer: {"offset": ("bias", _flat), "scale": ("weight", _flat)},
    sequence.SelfAttentionLayer: {
        **{f"{part}_weights": (f"{part}.weight", lambda a, _: a) for part in ("query", "key", "value", "output")},
        **{f"{part}_bias": (f"{part}.bias", _flat) for part in ("query", "key", "value", "output")}},
    sequence.PositionEmbeddingLayer: {"weights": ("weight", lambda a, _: a)},
    sequence.WordEmbeddingLayer: {"weights": ("embedding.weight", lambda a, _: a.T)},
    recurrent.LstmLayer: _LSTM,
    recurrent.BilstmLayer: _LSTM,
    recurrent.GruLayer: _RECURRENT,
}
"""Per layer type: learnable field -> (the module's tensor, or the tensors its rows fill in turn;
MATLAB's array -> that tensor's layout). MATLAB's layouts: a convolution's weights h×w×C×F, a
transposed one's h×w×F×C, 1-D FilterSize×C×F, a recurrent layer's gates stacked in rows."""


def learnable_of(layer: Layer, parameter: str) -> str:
    """The MATLAB learnable a lowered parameter holds ('linear.weight' -> 'weights', a batch norm's
    'bias' -> 'offset', 'core.weight_hh_l0_reverse' -> 'recurrent_weights'): the `GIVEN` row whose
    tensor is the parameter, or its end (a module wrapped in another)."""
    for field, (names, _) in GIVEN.get(type(layer), {}).items():
        for name in names(layer) if callable(names) else (names,):
            if parameter == name or parameter.endswith(f".{name}"):
                return field
    raise KeyError(f"{layer.matlab} '{layer.name}' has no learnable lowered to {parameter!r}")


def parameter_factors(layer: Layer, parameter: str) -> tuple[Factor, Factor]:
    """MATLAB's (learn-rate factor, L2 factor) of the parameter `parameter` of `layer`'s module
    (`Layer.learnable_factors` of the learnable it holds): a number each, or one per gate."""
    return layer.learnable_factors()[learnable_of(layer, parameter)]


def _fill(module: nn.Module, names: tuple[str, ...], value: Tensor) -> None:
    """Copy `value` into the named tensors of `module`, its rows split evenly between them."""
    tensors = module.state_dict(keep_vars=True)
    with torch.no_grad():
        for name, part in zip(names, value.chunk(len(names))):
            tensors[name].copy_(part.reshape(tensors[name].shape))


def _load_given(module: nn.Module, layer: Layer, inputs: list[Shape]) -> nn.Module:
    """Copy the learnable values the spec gives with their numbers (unknown ones keep the
    initializer's, as W203 said); their sizes were checked by the analysis (A106)."""
    sizes = layer.learnable_sizes(inputs)
    for field, (tensor_name, layout) in GIVEN.get(type(layer), {}).items():
        given = getattr(layer, field)
        if given is None or not given.known or field not in sizes:
            continue
        size = tuple(int(d) for d in sizes[field])
        array = np.asarray(given.numbers(), dtype=np.float32).reshape(size, order="F")
        names = tensor_name(layer) if callable(tensor_name) else (tensor_name,)
        _fill(module, names, torch.from_numpy(np.ascontiguousarray(layout(array, inputs))))
    return module


def _init(module: nn.Module, layer: conv.WeightedLayer, inputs: list[Shape]) -> nn.Module:
    """MATLAB's initializers: Glorot-uniform weights and zero biases unless told otherwise;
    then the values the spec gives."""
    _initialize(module.weight, layer.weights_initializer)
    if module.bias is not None:
        with torch.no_grad():
            {"zeros": nn.init.zeros_, "ones": nn.init.ones_,
             "narrow-normal": lambda b: nn.init.normal_(b, 0.0, 0.01)}[layer.bias_initializer](module.bias)
    return _load_given(module, layer, inputs)


def _initialize(weight: Tensor, rule: str) -> None:
    """One of MATLAB's weight initializers ('WeightsInitializer')."""
    with torch.no_grad():
        if rule == "glorot":
            nn.init.xavier_uniform_(weight)
        elif rule == "he":
            nn.init.kaiming_normal_(weight, nonlinearity="relu")
        elif rule == "narrow-normal":
            nn.init.normal_(weight, 0.0, 0.01)
        elif rule == "zeros":
            nn.init.zeros_(weight)
        elif rule == "ones":
            nn.init.ones_(weight)
        elif rule == "orthogonal":
            nn.init.orthogonal_(weight)


def _concrete(layer: Layer, sizes: tuple) -> tuple[int, ...]:
    """Sizes a module is built with: PyTorch needs numbers, not the analysis's formulas."""
    for size in sizes:
        if not is_known(size):
            raise error("T001", f"'{layer.name}': PyTorch needs a concrete input size, not {size}", layer.span,
                        hint="give the input layer numbers, or --input-size")
    return tuple(int(size) for size in sizes)


def _explicit_padding(layer: Layer, shape: Shape, kernel, stride, dilation, padding) -> tuple[int, ...]:
    """Per-axis (begin, end) from the IR, resolving MATLAB's 'same' and 'causal'."""
    from ..ir.shape import same_padding

    pads: list[int] = []
    strided = padding == "same" and any(s != 1 for s in stride)  # only then does 'same' depend on the size
    for axis, size in enumerate(_concrete(layer, shape.spatial) if strided else shape.spatial):
        k, s, d = kernel[axis], stride[axis], dilation[axis]
        if padding == "same":
            pads += list(same_padding(size, k, s, d))
        elif padding == "causal":
            pads += [(k - 1) * d, 0]
        else:
            pads += [padding[2 * axis], padding[2 * axis + 1]]
    return tuple(pads)


def _torch_pads(pads: tuple[int, ...]) -> tuple[int, ...]:
    """(t, b, l, r) / (l, r) in MATLAB's axis order -> F.pad's last-axis-first order."""
    result: list[int] = []
    for axis in reversed(range(len(pads) // 2)):
        result += [pads[2 * axis], pads[2 * axis + 1]]
    return tuple(result)


def _padded_1d(layer: Layer, shape: Shape, core: nn.Module, kernel: int, stride: int, dilation: int,
               value: float | str) -> nn.Module:
    """A 1-D convolution or pooling after its padding: fixed, or a strided 'same' over a sequence
    whose length is the symbol T, worked out per sequence (`SamePad1d`)."""
    if layer.padding == "same" and stride != 1 and not is_known(shape.spatial[0]):
        return nn.Sequential(SamePad1d((kernel - 1) * dilation + 1, stride, value), core)
    pads = _explicit_padding(layer, shape, (kernel,), (stride,), (dilation,), layer.padding)
    return _with_padding(core, pads, value)


def _with_padding(core: nn.Module, pads: tuple[int, ...], value: float | str = 0.0) -> nn.Module:
    """Symmetric zero padding goes into the layer itself; anything else is a Pad in front."""
    if not any(pads):
        return core
    symmetric = all(pads[i] == pads[i + 1] for i in range(0, len(pads), 2))
    if symmetric and value == 0.0 and hasattr(core, "padding") and not isinstance(core, (nn.MaxPool1d, nn.MaxPool2d)):
        core.padding = tuple(pads[0::2])
        return core
    return nn.Sequential(Pad(_torch_pads(pads), value), core)


# -- the table ---------------------------------------------------------------------------------

@lowers(input_output.ImageInputLayer, input_output.FeatureInputLayer, input_output.SequenceInputLayer)
def _input(layer, inputs, outputs) -> nn.Module:
    (shape,) = layer.output_shapes([])
    stats = {k: getattr(layer, k) for k in ("mean", "standard_deviation", "min", "max")}
    return InputNormalization(layer.normalization, int(shape.channels), len(shape.spatial), stats)


@lowers(conv.Convolution2dLayer, conv.GroupedConvolution2dLayer)
def _conv2d(layer, inputs, outputs) -> nn.Module:
    """Output channels from the IR's own fields (`out_channels`: NumFilters, or groups ×
    NumFiltersPerGroup); only the input channels come from the analysis."""
    shape = inputs[0]
    groups = int(layer.groups(inputs)) if isinstance(layer, conv.GroupedConvolution2dLayer) else 1
    core = nn.Conv2d(int(shape.channels), int(layer.out_channels(inputs)), layer.filter_size, stride=layer.stride,
                     dilation=layer.dilation_factor, groups=groups, bias=layer.bias_term)
    pads = _explicit_padding(layer, shape, layer.filter_size, layer.stride, layer.dilation_factor, layer.padding)
    return _with_padding(_init(core, layer, inputs), pads, layer.padding_value)


@lowers(conv.Convolution1dLayer)
def _conv1d(layer, inputs, outputs) -> nn.Module:
    shape = inputs[0]
    core = nn.Conv1d(int(shape.channels), layer.num_filters, layer.filter_size, stride=layer.stride,
                     dilation=layer.dilation_factor, bias=layer.bias_term)
    return _padded_1d(layer, shape, _init(core, layer, inputs), layer.filter_size, layer.stride, layer.dilation_factor,
                      layer.padding_value)


@lowers(conv.TransposedConv2dLayer)
def _transposed(layer, inputs, outputs) -> nn.Module:
    core = _init(nn.ConvTranspose2d(int(inputs[0].channels), layer.num_filters, layer.filter_size,
                                    stride=layer.stride, bias=layer.bias_term), layer, inputs)
    crops = layer.crops()
    if not any(crops):
        return core
    if crops[0] == crops[1] and crops[2] == crops[3]:
        core.padding = (crops[0], crops[2])
        return core
    height, width, _ = outputs[0].dims
    return nn.Sequential(core, Crop(crops[0], crops[2], (int(height), int(width))))


@lowers(conv.FullyConnectedLayer)
def _fully_connected(layer, inputs, outputs) -> nn.Module:
    kind = inputs[0].kind
    module = Linear(int(layer.in_features(inputs)), layer.output_size, layer.bias_term, kind.time, kind.spatial_dims)
    _init(module.linear, layer, inputs)
    return module


@lowers(norm.BatchNormalizationLayer)
def _batch_norm(layer, inputs, outputs) -> nn.Module:
    # 1d takes (N, C) and (N, C, T); 3d an image sequence's (N, C, T, H, W)
    cls = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}.get(inputs[0].kind.spatial_dims, nn.BatchNorm1d)
    return _load_given(cls(int(inputs[0].channels), eps=layer.epsilon, momentum=layer.mean_decay), layer, inputs)


@lowers(norm.LayerNormalizationLayer)
def _layer_norm(layer, inputs, outputs) -> nn.Module:
    """Normalize over all of C×H×W with a scale and offset per channel: GroupNorm with one group."""
    return _load_given(nn.GroupNorm(1, int(inputs[0].channels), eps=layer.epsilon), layer, inputs)


@lowers(norm.CrossChannelNormalizationLayer)
def _lrn(layer, inputs, outputs) -> nn.Module:
    return nn.LocalResponseNorm(layer.window_channel_size, alpha=layer.alpha, beta=layer.beta, k=layer.k)


def _recurrent_initial(rule: str, rows: int, columns: int, fan_out: int) -> Tensor:
    """A recurrent layer's weights in MATLAB's rows×columns layout, as its initializers make them:
    'glorot' uniform with variance 2/(InputSize + fan_out), fan_out counting every gate and
    direction (4H for lstmLayer, 8H for bilstmLayer); 'he' normal with variance 2/InputSize;
    'orthogonal' the Q of a QR decomposition of a unit-normal matrix."""
    weight = torch.empty(rows, columns)
    if rule == "glorot":
        bound = math.sqrt(6 / (columns + fan_out))
        return nn.init.uniform_(weight, -bound, bound)
    if rule == "he":
        return nn.init.normal_(weight, 0.0, math.sqrt(2 / columns))
    if rule == "orthogonal":
        return nn.init.orthogonal_(weight)
    if rule == "narrow-normal":
        return nn.init.normal_(weight, 0.0, 0.01)
    return weight.fill_(1.0 if rule == "ones" else 0.0)


def _recurrent_bias(layer: recurrent.RecurrentLayer) -> Tensor:
    """'unit-forget-gate': ones for the forget gate's rows (the second H of each direction's 4H), zeros
    elsewhere; 'narrow-normal' N(0, 0.01); 'zeros'; 'ones'."""
    rows = layer.bias_rows
    if layer.bias_initializer == "narrow-normal":
        return torch.randn(rows) * 0.01
    bias = torch.full((rows,), 1.0 if layer.bias_initializer == "ones" else 0.0)
    if layer.bias_initializer == "unit-forget-gate":
        hidden = layer.num_hidden_units
        for start in range(hidden, rows, layer.gates * hidden):
            bias[start:start + hidden] = 1.0
    return bias


@lowers(recurrent.LstmLayer, recurrent.BilstmLayer, recurrent.GruLayer)
def _recurrent(layer, inputs, outputs) -> nn.Module:
    """MATLAB's initializers for the stacked weights, then the values the spec gives."""
    channels, hidden = int(layer.input_channels(inputs)), layer.num_hidden_units
    module = Recurrent("lstm" if layer.gates == 4 else "gru", channels, hidden, bidirectional=layer.directions == 2,
                       last=layer.output_mode == "last", state_activation=layer.state_activation_function,
                       gate_activation=layer.gate_activation_function,
                       reset_gate_mode=getattr(layer, "reset_gate_mode", "after-multiplication"))
    rows = layer.directions * layer.gates * hidden
    initial = {"input_weights": _recurrent_initial(layer.input_weights_initializer, rows, channels, rows),
               "recurrent_weights": _recurrent_initial(layer.recurrent_weights_initializer, rows, hidden, rows),
               "bias": _recurrent_bias(layer)}
    for field, value in initial.items():
        _fill(module, _recurrent_tensors(field)(layer), value)
    return _load_given(module, layer, inputs)


ACTIVATIONS: dict[type[Layer], Callable[[Layer], nn.Module]] = {
    act.ReluLayer: lambda l: nn.ReLU(),
    act.LeakyReluLayer: lambda l: nn.LeakyReLU(l.scale),
    act.ClippedReluLayer: lambda l: nn.Hardtanh(0.0, l.ceiling),
    act.EluLayer: lambda l: nn.ELU(l.alpha),
    act.TanhLayer: lambda l: nn.Tanh(),
    act.SigmoidLayer: lambda l: nn.Sigmoid(),
    act.SwishLayer: lambda l: nn.SiLU(),
    act.GeluLayer: lambda l: nn.GELU(approximate=l.approximation),
    act.SoftmaxLayer: lambda l: Softmax(),
    structure.DropoutLayer: lambda l: nn.Dropout(l.probability),
}
for _cls, _make in ACTIVATIONS.items():
    LOWER[_cls] = (lambda make: lambda layer, inputs, outputs: make(layer))(_make)


@lowers(pool.MaxPooling2dLayer, pool.AveragePooling2dLayer)
def _pool2d(layer, inputs, outputs) -> nn.Module:
    pads = _explicit_padding(layer, inputs[0], layer.pool_size, layer.stride, (1, 1), layer.padding)
    if isinstance(layer, pool.MaxPooling2dLayer) and layer.has_unpooling_outputs:
        return MaxPoolIndices(layer.pool_size, layer.stride, pads)
    if isinstance(layer, pool.MaxPooling2dLayer):
        return _with_padding(nn.MaxPool2d(layer.pool_size, layer.stride), pads, -math.inf)
    include = layer.padding_value != "mean"
    return _with_padding(nn.AvgPool2d(layer.pool_size, layer.stride, count_include_pad=include), pads, 0.0)


@lowers(pool.MaxPooling1dLayer, pool.AveragePooling1dLayer)
def _pool1d(layer, inputs, outputs) -> nn.Module:
    if isinstance(layer, pool.MaxPooling1dLayer):
        return _padded_1d(layer, inputs[0], nn.MaxPool1d(layer.pool_size, layer.stride), layer.pool_size, layer.stride,
                          1, -math.inf)
    return _padded_1d(layer, inputs[0], nn.AvgPool1d(layer.pool_size, layer.stride, count_include_pad=True),
                      layer.pool_size, layer.stride, 1, 0.0)


@lowers(pool.GlobalAveragePooling2dLayer, pool.GlobalMaxPooling2dLayer,
        pool.GlobalAveragePooling1dLayer, pool.GlobalMaxPooling1dLayer)
def _global_pool(layer, inputs, outputs) -> nn.Module:
    average = isinstance(layer, (pool.GlobalAveragePooling2dLayer, pool.GlobalAveragePooling1dLayer))
    by_dims = {2: (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d), 1: (nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d)}
    mean, maximum = by_dims[inputs[0].kind.spatial_dims]
    return mean(1) if average else maximum(1)


@lowers(pool.MaxUnpooling2dLayer)
def _unpool(layer, inputs, outputs) -> nn.Module:
    return MaxUnpool(_concrete(layer, IMAGE.torch_order(outputs[0].dims)))


@lowers(structure.SpatialDropoutLayer)
def _spatial_dropout(layer, inputs, outputs) -> nn.Module:
    """Whole channels dropped: of an image, a sequence, or (no space to share) single features."""
    by_dims = {2: nn.Dropout2d, 1: nn.Dropout1d, 0: nn.Dropout}
    return by_dims[inputs[0].kind.spatial_dims](layer.probability)


@lowers(structure.Crop2dLayer)
def _crop2d(layer, inputs, outputs) -> nn.Module:
    top, left = _concrete(layer, layer.offsets(inputs))
    return CropTo(top, left, _concrete(layer, outputs[0].spatial))


@lowers(structure.DepthToSpace2dLayer)
def _depth_to_space(layer, inputs, outputs) -> nn.Module:
    return DepthToSpace(layer.block_size, layer.mode, _concrete(layer, IMAGE.torch_order(inputs[0].dims)))


@lowers(structure.SpaceToDepthLayer)
def _space_to_depth(layer, inputs, outputs) -> nn.Module:
    return SpaceToDepth(layer.block_size, _concrete(layer, IMAGE.torch_order(inputs[0].dims)))


@lowers(structure.FlattenLayer)
def _flatten(layer, inputs, outputs) -> nn.Module:
    if not layer.folds(inputs[0]):
        return nn.Identity()
    return FlattenSteps() if inputs[0].kind.time else nn.Flatten()


@lowers(sequence.SequenceFoldingLayer)
def _fold(layer, inputs, outputs) -> nn.Module:
    return SequenceFold(_concrete(layer, IMAGE.torch_order(outputs[0].dims)))


@lowers(sequence.SequenceUnfoldingLayer)
def _unfold(layer, inputs, outputs) -> nn.Module:
    return SequenceUnfold()


@lowers(sequence.SelfAttentionLayer)
def _self_attention(layer, inputs, outputs) -> nn.Module:
    module = SelfAttention(int(inputs[0].channels), layer.num_heads, layer.num_key_channels, layer.value_channels,
                           int(outputs[0].channels), layer.attention_mask == "causal", layer.dropout_probability)
    for projection in (module.query, module.key, module.value, module.output):
        _initialize(projection.weight, layer.weights_initializer)
        _initialize(projection.bias, layer.bias_initializer)
    return _load_given(module, layer, inputs)


@lowers(sequence.PositionEmbeddingLayer)
def _position_embedding(layer, inputs, outputs) -> nn.Module:
    module = PositionEmbedding(layer.output_size, layer.max_position)
    _initialize(module.weight, layer.weights_initializer)
    return _load_given(module, layer, inputs)


@lowers(sequence.SinusoidalPositionEncodingLayer)
def _sinusoidal(layer, inputs, outputs) -> nn.Module:
    return SinusoidalEncoding(layer.output_size)


@lowers(sequence.Indexing1dLayer)
def _indexing(layer, inputs, outputs) -> nn.Module:
    return TimeStep(layer.index == "last")


@lowers(sequence.WordEmbeddingLayer)
def _word_embedding(layer, inputs, outputs) -> nn.Module:
    module = WordEmbedding(layer.num_words, layer.dimension, layer.oov_mode == "error")
    _initialize(module.embedding.weight, layer.weights_initializer)
    return _load_given(module, layer, inputs)


@lowers(structure.AdditionLayer)
def _add(layer, inputs, outputs) -> nn.Module:
    return Add()


@lowers(structure.MultiplicationLayer)
def _multiply(layer, inputs, outputs) -> nn.Module:
    return Multiply()


@lowers(structure.ChannelShufflingLayer)
def _channel_shuffle(layer, inputs, outputs) -> nn.Module:
    return ChannelShuffle(layer.groups, int(inputs[0].channels))


@lowers(structure.DepthConcatenationLayer, structure.ConcatenationLayer)
def _concat(layer, inputs, outputs) -> nn.Module:
    if isinstance(layer, structure.DepthConcatenationLayer):
        return Concat(1)  # channels
    kind = inputs[0].kind
    return Concat(kind.torch_axis(layer.axis(kind)))


@lowers(structure.Resize2dLayer)
def _resize(layer, inputs, outputs) -> nn.Module:
    h, w, _ = outputs[0].dims
    if layer.method == "bilinear":
        mode = "bilinear"
    elif layer.geometric_transform_mode == "asymmetric" and layer.nearest_rounding_mode == "floor":
        mode = "nearest"
    else:
        mode = "nearest-exact"
    return Resize((int(h), int(w)), mode)


# -- the graph -----------------------------------------------------------------------------------

class GraphModule(nn.Module):
    """Runs the lowered layers in topological order; returns the output layers' inputs.

    `layer_names[i]` is the MATLAB name of `self.layers[module_name(...)]`; `plan` lists, per
    layer, the `output_key` of the output feeding each input port; `extra_outputs` names the keys
    of a multi-output layer's outputs after its first; `input_sizes` gives each input's size per
    sample in torch's layout (C, H, W), from the analysis the lowering ran: None for a size the
    module takes at any length (a sequence's T when nothing fixed it).
    """

    def __init__(self, network: Network, modules: dict[str, nn.Module], plan: list[tuple[str, list[str]]],
                 outputs: list[str], inputs: list[str], input_sizes: list[tuple[int | None, ...]],
                 extra_outputs: dict[str, list[str]] | None = None):
        super().__init__()
        self.network_name = network.name
        self.layers = nn.ModuleDict({module_name(name): module for name, module in modules.items()})
        self.plan = plan
        self.output_names = outputs
        self.input_names = inputs
        self.input_sizes = input_sizes
        self.extra_outputs = extra_outputs or {}
        self._schedules: dict[tuple[frozenset[str], str | None], list] = {}

    def run(self, *inputs: Tensor, capture: set[str] | None = None, until: str | None = None) -> dict[str, Tensor]:
        """The outputs and the `capture`d layers' outputs by MATLAB name; with `until`, only that
        output, and no layer after it in the plan runs (training reads the logits: the softmax
        after them is not computed)."""
        keep = frozenset((capture or set()) | ({until} if until is not None else set(self.output_names)))
        schedule = self._schedules.get((keep, until)) or self._schedule(keep, until)
        values: dict[Any, Tensor] = {("feed", name): x for name, x in zip(self.input_names, inputs)}
        for module, sources, produced, done in schedule:
            value = module(*[values[key] for key in sources])
            if len(produced) == 1:
                values[produced[0]] = value
            else:
                values.update(zip(produced, value))
            for key in done:
                del values[key]
        return {key: values[key] for key in keep}

    def _schedule(self, keep: frozenset[str], until: str | None) -> list[tuple[nn.Module, tuple, tuple, tuple]]:
        """The plan as (module, input keys, output keys, keys freed after it), resolved once per
        (kept outputs, last output): the per-call work is then only the modules' (a small
        network's step is otherwise slowed by the bookkeeping)."""
        steps = []
        for name, sources in self.plan:
            produced = (name, *self.extra_outputs.get(name, ()))
            steps.append((self.layers[module_name(name)], tuple(sources) or (("feed", name),), produced))
            if until in produced:
                break
        last_use = {key: i for i, (_, sources, produced) in enumerate(steps) for key in (*produced, *sources)}
        schedule = [(module, sources, produced,
                     tuple(key for key in dict.fromkeys((*sources, *produced)) if last_use[key] == i and key not in keep))
                    for i, (module, sources, produced) in enumerate(steps)]
        self._schedules[(keep, until)] = schedule
        return schedule

    def forward(self, *inputs: Tensor, output: str | None = None) -> Tensor | tuple[Tensor, ...]:
        """The network's outputs, or the output of layer `output` (training reads the logits)."""
        if output is not None:
            return self.run(*inputs, until=output)[output]
        kept = self.run(*inputs)
        results = tuple(kept[name] for name in self.output_names)
        return results[0] if len(results) == 1 else results


def _freeze(module: nn.Module, layer: Layer) -> nn.Module:
    """A learnable with learn-rate factor 0 (every gate's) gets no gradient: autograd then skips
    its work, as the analysis's training step assumes."""
    for name, parameter in module.named_parameters():
        if not trained(parameter_factors(layer, name)[0]):
            parameter.requires_grad_(False)
    return module


def to_torch(network: Network, *, seed: int | None = 0) -> GraphModule:
    """Lower a network; weights initialized as MATLAB does (reproducible with `seed`). A network
    too large to build is refused first, with the analyzer's figure (`check_buildable`)."""
    context = check_buildable(network)
    for name in context.order:  # the modules take a sequence of any length, but no other symbolic size
        if not context.layers[name].input_names:
            _concrete(context.layers[name], context.shapes[name][0].with_time(1).dims)
    if seed is not None:
        torch.manual_seed(seed)
    modules: dict[str, nn.Module] = {}
    plan: list[tuple[str, list[str]]] = []
    outputs: list[str] = []
    layer_of_key: dict[str, str] = {}
    extra_outputs: dict[str, list[str]] = {}
    for name in context.order:
        layer = context.layers[name]
        sources = [output_key(context.layers[edge.source], edge.source_port)
                   for edge in context.sources(name) if edge is not None]
        if not layer.output_names:  # a loss layer: the network's output is what it reads
            outputs.extend(sources)
            continue
        other = layer_of_key.setdefault(module_name(name), name)
        if other != name:
            raise error("T004", f"layers '{other}' and '{name}' both become the PyTorch module "
                        f"'{module_name(name)}'", layer.span,
                        hint="rename one: PyTorch module names keep only letters, digits and '_'")
        lower = LOWER.get(type(layer))
        if lower is None:
            raise error("T002", f"the PyTorch backend cannot lower {layer.matlab}", layer.span)
        modules[name] = _freeze(lower(layer, context.input_shapes.get(name, []), context.shapes[name] or []), layer)
        plan.append((name, sources))
        if len(layer.output_names) > 1:
            extra_outputs[name] = [output_key(layer, port) for port in layer.output_names[1:]]
        if not context.outgoing[name]:
            outputs.append(name)
    inputs = [name for name in context.order if not context.layers[name].input_names]
    shapes = [context.shapes[name][0] for name in inputs]
    sizes = [shape.kind.torch_order(tuple(int(d) if is_known(d) else None for d in shape.dims)) for shape in shapes]
    return GraphModule(network, modules, plan, outputs, inputs, sizes, extra_outputs)
