"""Normalization layers: batch, layer and cross-channel (LRN)."""


from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from .base import Layer, LearnRateFactor, NumChannels
from .data_kind import IMAGE
from .learnable import Learnable
from .saved import CHANNEL_ORDER, INPUT, Kept
from .shape import GLOBAL, Dim, Shape, ShapeError, is_known

__all__ = ["BatchNormalizationLayer", "LayerNormalizationLayer", "CrossChannelNormalizationLayer"]


class _AffineNormalization(Layer):
    epsilon: PositiveFloat = 1e-5
    num_channels: NumChannels = "auto"
    scale_learn_rate_factor: LearnRateFactor = 1.0
    offset_learn_rate_factor: LearnRateFactor = 1.0
    scale_l2_factor: LearnRateFactor = 1.0
    offset_l2_factor: LearnRateFactor = 1.0
    offset: Learnable | None = Field(None, description="given initial offset (β), in MATLAB's size")
    scale: Learnable | None = Field(None, description="given initial scale (γ), in MATLAB's size")

    learnable_options = ("offset", "scale")
    flops_per_element = 1

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """One value per channel: 1×1×C for an image, C×1 for features and sequences."""
        channels = inputs[0].channels
        size = (1, 1, channels) if inputs[0].kind is IMAGE else (channels, 1)
        return {field: size for field in self.learnable_options}

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        channels = inputs[0].channels
        if self.num_channels != "auto" and is_known(channels) and channels != self.num_channels:
            raise ShapeError(f"{self.matlab} declares NumChannels {self.num_channels}, but its input has "
                             f"{channels} channels", code="A105")
        return [inputs[0]]

    def learnables(self, inputs: list[Shape]) -> Dim:
        """A scale and an offset per channel."""
        return 2 * inputs[0].channels

    def learnable_factors(self) -> dict[str, tuple[float, float]]:
        return {"scale": (self.scale_learn_rate_factor, self.scale_l2_factor),
                "offset": (self.offset_learn_rate_factor, self.offset_l2_factor)}


class BatchNormalizationLayer(_AffineNormalization):
    """2C learnables (scale, offset) and 2C states (running mean and variance)."""

    kind: Literal["batch_normalization"] = "batch_normalization"
    matlab = "batchNormalizationLayer"
    base_name = "batchnorm"
    elementwise = True
    family = "norm"
    torch_counted = False
    ignored_options = frozenset({"scaleinitializer", "offsetinitializer"})
    learnable_options = ("offset", "scale", "trained_mean", "trained_variance")

    mean_decay: float = Field(0.1, ge=0, le=1)
    variance_decay: float = Field(0.1, ge=0, le=1)
    trained_mean: Learnable | None = Field(None, description="given running mean, in MATLAB's size")
    trained_variance: Learnable | None = Field(None, description="given running variance, in MATLAB's size")

    def states(self, inputs: list[Shape]) -> Dim:
        """The running mean and variance per channel."""
        return 2 * inputs[0].channels

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """Its input, and the batch's mean and inverse deviation per channel."""
        return (INPUT, Kept.new(2 * inputs[0].channels, per_batch=True))


class LayerNormalizationLayer(_AffineNormalization):
    """Normalizes over all of a sample's H×W×C: every output depends on every input."""

    kind: Literal["layer_normalization"] = "layer_normalization"
    matlab = "layerNormalizationLayer"
    base_name = "layernorm"
    elementwise = False
    family = "norm"
    torch_counted = False
    ignored_options = frozenset({"scaleinitializer", "offsetinitializer", "operationdimension"})

    def windows(self, inputs: list[Shape]):
        return GLOBAL

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """Its input, and each image's mean and inverse deviation (GroupNorm with one group); a
        sequence's input as GroupNorm reads it, (N, C, T): a copy unless it is held so already."""
        return (Kept.input_in(CHANNEL_ORDER) if inputs[0].kind.time else INPUT, Kept.new(2))


class CrossChannelNormalizationLayer(Layer):
    """Local response normalization across `window_channel_size` channels (AlexNet's LRN)."""

    kind: Literal["cross_channel_normalization"] = "cross_channel_normalization"
    matlab = "crossChannelNormalizationLayer"
    base_name = "crossnorm"
    positional = ("window_channel_size",)
    required = 1
    elementwise = False
    family = "norm"
    torch_counted = False

    window_channel_size: PositiveInt
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0

    @property
    def flops_per_element(self) -> int:  # type: ignore[override]
        """Sum of squares over the window, then scale, power and divide."""
        return self.window_channel_size + 3

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """PyTorch's LocalResponseNorm is composed of small operations: its input, the squares padded
        across channels (average pooling keeps them), and the scale before and after the power."""
        shape = inputs[0]
        padded = shape.numel // shape.channels * (shape.channels + self.window_channel_size - 1)
        return (INPUT, Kept.new(padded), Kept.new(shape.numel), Kept.new(shape.numel))
