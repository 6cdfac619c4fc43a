"""Convolutions: 1-D, 2-D, grouped/depthwise and transposed, with MATLAB's options."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt

from .base import (BiasInitializer, Initializer, Layer, LearnRateFactor, Lower, NumChannels,
                   Padding1d, Padding2d, Pair, Scalar)

__all__ = ["Convolution2dLayer", "Convolution1dLayer", "GroupedConvolution2dLayer",
           "TransposedConv2dLayer", "FullyConnectedLayer", "WeightedLayer"]

PaddingValue = float | Annotated[
    Literal["replicate", "symmetric-include-edge", "symmetric-exclude-edge"], Lower
]


class WeightedLayer(Layer):
    """Options every layer with weights and a bias shares (MATLAB's defaults)."""

    weights_initializer: Initializer = "glorot"
    bias_initializer: BiasInitializer = "zeros"
    weight_learn_rate_factor: LearnRateFactor = 1.0
    bias_learn_rate_factor: LearnRateFactor = 1.0
    weight_l2_factor: LearnRateFactor = 1.0
    bias_l2_factor: LearnRateFactor = 0.0
    bias_term: bool = Field(True, description="netspec extension: False drops the bias (PyTorch bias=False)")


class Convolution2dLayer(WeightedLayer):
    kind: Literal["convolution2d"] = "convolution2d"
    matlab = "convolution2dLayer"
    base_name = "conv"
    positional = ("filter_size", "num_filters")
    required = 2

    filter_size: Pair
    num_filters: PositiveInt
    stride: Pair = (1, 1)
    dilation_factor: Pair = (1, 1)
    padding: Padding2d = (0, 0, 0, 0)
    padding_value: PaddingValue = 0.0
    num_channels: NumChannels = "auto"


class GroupedConvolution2dLayer(WeightedLayer):
    """`num_groups='channel-wise'` is depthwise: one group per input channel."""

    kind: Literal["grouped_convolution2d"] = "grouped_convolution2d"
    matlab = "groupedConvolution2dLayer"
    base_name = "groupedconv"
    positional = ("filter_size", "num_filters_per_group", "num_groups")
    required = 3

    filter_size: Pair
    num_filters_per_group: PositiveInt
    num_groups: Annotated[Literal["channel-wise"] | PositiveInt, Lower]
    stride: Pair = (1, 1)
    dilation_factor: Pair = (1, 1)
    padding: Padding2d = (0, 0, 0, 0)
    padding_value: PaddingValue = 0.0
    num_channels_per_group: NumChannels = "auto"


class TransposedConv2dLayer(WeightedLayer):
    """MATLAB crops the output ('Cropping') instead of padding the input."""

    kind: Literal["transposed_conv2d"] = "transposed_conv2d"
    matlab = "transposedConv2dLayer"
    base_name = "transconv"
    positional = ("filter_size", "num_filters")
    required = 2

    filter_size: Pair
    num_filters: PositiveInt
    stride: Pair = (1, 1)
    cropping: Padding2d = (0, 0, 0, 0)
    num_channels: NumChannels = "auto"


class Convolution1dLayer(WeightedLayer):
    kind: Literal["convolution1d"] = "convolution1d"
    matlab = "convolution1dLayer"
    base_name = "conv1d"
    positional = ("filter_size", "num_filters")
    required = 2

    filter_size: Scalar
    num_filters: PositiveInt
    stride: Scalar = 1
    dilation_factor: Scalar = 1
    padding: Padding1d = (0, 0)
    padding_value: PaddingValue = 0.0
    num_channels: NumChannels = "auto"


class FullyConnectedLayer(WeightedLayer):
    kind: Literal["fully_connected"] = "fully_connected"
    matlab = "fullyConnectedLayer"
    base_name = "fc"
    positional = ("output_size",)
    required = 1

    output_size: PositiveInt
    input_size: NumChannels = "auto"
