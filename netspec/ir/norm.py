"""Normalization layers: batch, layer and cross-channel (LRN)."""


from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from .base import Layer, LearnRateFactor, NumChannels
from .shape import GLOBAL, Dim, Shape, ShapeError, is_known

__all__ = ["BatchNormalizationLayer", "LayerNormalizationLayer", "CrossChannelNormalizationLayer"]


class _AffineNormalization(Layer):
    epsilon: PositiveFloat = 1e-5
    num_channels: NumChannels = "auto"
    scale_learn_rate_factor: LearnRateFactor = 1.0
    offset_learn_rate_factor: LearnRateFactor = 1.0
    scale_l2_factor: LearnRateFactor = 1.0
    offset_l2_factor: LearnRateFactor = 1.0

    flops_per_element = 1

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        channels = inputs[0].channels
        if self.num_channels != "auto" and is_known(channels) and channels != self.num_channels:
            raise ShapeError(f"{self.matlab} declares NumChannels {self.num_channels}, but its input has "
                             f"{channels} channels", code="A105")
        return [inputs[0]]

    def learnables(self, inputs: list[Shape]) -> Dim:
        """A scale and an offset per channel."""
        return 2 * inputs[0].channels


class BatchNormalizationLayer(_AffineNormalization):
    """2C learnables (scale, offset) and 2C states (running mean and variance)."""

    kind: Literal["batch_normalization"] = "batch_normalization"
    matlab = "batchNormalizationLayer"
    base_name = "batchnorm"
    elementwise = True
    family = "norm"
    torch_counted = False
    ignored_options = frozenset({"scaleinitializer", "offsetinitializer", "trainedmean",
                                 "trainedvariance", "scale", "offset"})

    mean_decay: float = Field(0.1, ge=0, le=1)
    variance_decay: float = Field(0.1, ge=0, le=1)

    def states(self, inputs: list[Shape]) -> Dim:
        """The running mean and variance per channel."""
        return 2 * inputs[0].channels


class LayerNormalizationLayer(_AffineNormalization):
    """Normalizes over all of a sample's H×W×C: every output depends on every input."""

    kind: Literal["layer_normalization"] = "layer_normalization"
    matlab = "layerNormalizationLayer"
    base_name = "layernorm"
    elementwise = False
    family = "norm"
    torch_counted = False
    ignored_options = frozenset({"scaleinitializer", "offsetinitializer", "scale", "offset",
                                 "operationdimension"})

    def windows(self, inputs: list[Shape]):
        return GLOBAL


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
