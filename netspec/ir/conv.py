"""Convolutions: 1-D, 2-D, grouped/depthwise and transposed, with MATLAB's options."""


from typing import Annotated, ClassVar, Literal

from pydantic import Field, PositiveInt

from .base import (BiasInitializer, Initializer, Layer, LearnRateFactor, Lower, NumChannels,
                   Padding1d, Padding2d, Pair, Scalar)
from .data_kind import IMAGE, SEQUENCE, DataKind
from .learnable import Learnable
from .saved import INPUT, STEP_ORDER, Kept, input_or_padded
from .shape import GLOBAL, Dim, Shape, ShapeError, Window, is_known, slide

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
    weights: Learnable | None = Field(None, description="given initial weights, in MATLAB's size and order")
    bias: Learnable | None = Field(None, description="given initial bias, in MATLAB's size and order")

    learnable_options = ("weights", "bias")

    def _sizes(self, weights: tuple[Dim, ...], bias: tuple[Dim, ...]) -> dict[str, tuple[Dim, ...]]:
        return {"weights": weights, "bias": bias} if self.bias_term else {"weights": weights}

    def _channels_in(self, inputs: list[Shape], declared: object, option: str) -> Dim:
        channels = inputs[0].channels
        if declared != "auto" and is_known(channels) and channels != declared:
            raise ShapeError(f"{self.matlab} declares {option} {declared}, but its input has {channels} channels",
                             hint=f"remove '{option}' or fix the layers before it", code="A105")
        return channels

    def learnable_factors(self) -> dict[str, tuple[float, float]]:
        factors = {"weights": (self.weight_learn_rate_factor, self.weight_l2_factor)}
        return {**factors, "bias": (self.bias_learn_rate_factor, self.bias_l2_factor)} if self.bias_term else factors

    def _bias(self, outputs: list[Shape]) -> Dim:
        return outputs[0].channels if self.bias_term else 0

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        """2·MACs, plus one addition per output element for the bias."""
        return 2 * self.macs(inputs, outputs) + (outputs[0].numel if self.bias_term else 0)


class _SlidingConvolution(WeightedLayer):
    """A convolution whose window slides over the input: one shape and window rule for all."""

    data_kind: ClassVar[DataKind] = IMAGE

    def geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(kernel, stride, dilation) per spatial axis."""
        return self.filter_size, self.stride, self.dilation_factor

    def out_channels(self, inputs: list[Shape]) -> Dim:
        self._channels_in(inputs, self.num_channels, "NumChannels")
        return self.num_filters

    def _slide(self, inputs: list[Shape]) -> tuple[Shape, tuple[Window, ...]]:
        shape = self.require(inputs, self.data_kind)
        return slide(shape, *self.geometry(), self.padding, self.matlab)

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [self._slide(inputs)[0].with_channels(self.out_channels(inputs))]

    def windows(self, inputs: list[Shape]):
        return self._slide(inputs)[1]

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """Its input (padded in front when the padding is uneven or not zeros), frozen or not."""
        return (input_or_padded(inputs[0], *self.geometry(), self.padding,
                                pads_itself=self.padding_value == 0),)


class Convolution2dLayer(_SlidingConvolution):
    kind: Literal["convolution2d"] = "convolution2d"
    matlab = "convolution2dLayer"
    base_name = "conv"
    positional = ("filter_size", "num_filters")
    required = 2
    elementwise = False
    family = "conv"
    torch_counted = True

    filter_size: Pair
    num_filters: PositiveInt
    stride: Pair = (1, 1)
    dilation_factor: Pair = (1, 1)
    padding: Padding2d = (0, 0, 0, 0)
    padding_value: PaddingValue = 0.0
    num_channels: NumChannels = "auto"

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """Weights FilterSize(1)×FilterSize(2)×NumChannels×NumFilters, Bias 1×1×NumFilters."""
        return self._sizes((*self.filter_size, inputs[0].channels, self.num_filters), (1, 1, self.num_filters))

    def learnables(self, inputs: list[Shape]) -> Dim:
        fh, fw = self.filter_size
        return fh * fw * inputs[0].channels * self.num_filters + (self.num_filters if self.bias_term else 0)

    def macs(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        fh, fw = self.filter_size
        return outputs[0].numel * fh * fw * inputs[0].channels


class GroupedConvolution2dLayer(_SlidingConvolution):
    """`num_groups='channel-wise'` is depthwise: one group per input channel."""

    kind: Literal["grouped_convolution2d"] = "grouped_convolution2d"
    matlab = "groupedConvolution2dLayer"
    base_name = "groupedconv"
    positional = ("filter_size", "num_filters_per_group", "num_groups")
    required = 3
    elementwise = False
    family = "conv"
    torch_counted = True

    filter_size: Pair
    num_filters_per_group: PositiveInt
    num_groups: Annotated[Literal["channel-wise"] | PositiveInt, Lower]
    stride: Pair = (1, 1)
    dilation_factor: Pair = (1, 1)
    padding: Padding2d = (0, 0, 0, 0)
    padding_value: PaddingValue = 0.0
    num_channels_per_group: NumChannels = "auto"

    def groups(self, inputs: list[Shape]) -> Dim:
        channels = inputs[0].channels
        groups = channels if self.num_groups == "channel-wise" else self.num_groups
        if is_known(channels) and is_known(groups) and channels % groups:
            raise ShapeError(f"{self.matlab} splits {channels} input channels into {groups} groups, "
                             "which does not divide evenly", hint="NumGroups must divide the input channels",
                             code="A105")
        per_group = channels // groups
        if self.num_channels_per_group != "auto" and is_known(per_group) and per_group != self.num_channels_per_group:
            raise ShapeError(f"{self.matlab} declares NumChannelsPerGroup {self.num_channels_per_group}, "
                             f"but its input gives {per_group}", code="A105")
        return groups

    def out_channels(self, inputs: list[Shape]) -> Dim:
        return self.groups(inputs) * self.num_filters_per_group

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """Weights h×w×NumChannelsPerGroup×NumFiltersPerGroup×NumGroups,
        Bias 1×1×NumFiltersPerGroup×NumGroups."""
        groups = self.groups(inputs)
        per_group = self.num_filters_per_group
        return self._sizes((*self.filter_size, inputs[0].channels // groups, per_group, groups),
                           (1, 1, per_group, groups))

    def learnables(self, inputs: list[Shape]) -> Dim:
        fh, fw = self.filter_size
        groups = self.groups(inputs)
        out = groups * self.num_filters_per_group
        return fh * fw * (inputs[0].channels // groups) * out + (out if self.bias_term else 0)

    def macs(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        fh, fw = self.filter_size
        return outputs[0].numel * fh * fw * (inputs[0].channels // self.groups(inputs))

    def torch_weight_gradient_flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        """FlopCounterMode counts a grouped weight gradient as one convolution over all the input
        channels (torch.utils.flop_counter's `conv_backward_flop`): NumGroups × the real work."""
        return 2 * self.macs(inputs, outputs) * self.groups(inputs)


class TransposedConv2dLayer(WeightedLayer):
    """MATLAB crops the output ('Cropping') instead of padding the input."""

    kind: Literal["transposed_conv2d"] = "transposed_conv2d"
    matlab = "transposedConv2dLayer"
    matlab_class = "nnet.cnn.layer.TransposedConvolution2DLayer"
    base_name = "transconv"
    positional = ("filter_size", "num_filters")
    required = 2
    elementwise = False
    family = "conv"
    torch_counted = True

    filter_size: Pair
    num_filters: PositiveInt
    stride: Pair = (1, 1)
    cropping: Padding2d = (0, 0, 0, 0)
    num_channels: NumChannels = "auto"

    def crops(self) -> tuple[int, int, int, int]:
        """Explicit cropping; 'same' crops total F-S (odd pixel at the bottom/right), out = in·S."""
        if self.cropping != "same":
            return self.cropping  # type: ignore[return-value]
        result = []
        for f, s in zip(self.filter_size, self.stride):
            total = max(f - s, 0)
            result += [total // 2, total - total // 2]
        return tuple(result)  # type: ignore[return-value]

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, IMAGE)
        self._channels_in(inputs, self.num_channels, "NumChannels")
        crops = self.crops()
        sizes = []
        for axis, size in enumerate(shape.spatial):
            out = (size - 1) * self.stride[axis] + self.filter_size[axis] - crops[2 * axis] - crops[2 * axis + 1]
            if is_known(out) and out < 1:
                raise ShapeError(f"{self.matlab} crops more than it produces (output {out})", code="A102")
            sizes.append(out)
        return [Shape.image(sizes[0], sizes[1], self.num_filters)]

    def windows(self, inputs: list[Shape]):
        crops = self.crops()
        return tuple(Window(f, s, crops[2 * axis], 1, transposed=True)
                     for axis, (f, s) in enumerate(zip(self.filter_size, self.stride)))

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        return (INPUT,)

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """Weights h×w×NumFilters×NumChannels (outputs before inputs), Bias 1×1×NumFilters."""
        return self._sizes((*self.filter_size, self.num_filters, inputs[0].channels), (1, 1, self.num_filters))

    def learnables(self, inputs: list[Shape]) -> Dim:
        fh, fw = self.filter_size
        return fh * fw * inputs[0].channels * self.num_filters + (self.num_filters if self.bias_term else 0)

    def macs(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        """Every input pixel is scattered through the whole kernel (FlopCounterMode's count)."""
        fh, fw = self.filter_size
        return inputs[0].numel * fh * fw * self.num_filters


class Convolution1dLayer(_SlidingConvolution):
    kind: Literal["convolution1d"] = "convolution1d"
    matlab = "convolution1dLayer"
    base_name = "conv1d"
    positional = ("filter_size", "num_filters")
    required = 2
    elementwise = False
    family = "conv"
    torch_counted = True

    filter_size: Scalar
    num_filters: PositiveInt
    stride: Scalar = 1
    dilation_factor: Scalar = 1
    padding: Padding1d = (0, 0)
    padding_value: PaddingValue = 0.0
    num_channels: NumChannels = "auto"
    data_kind = SEQUENCE

    def geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        return (self.filter_size,), (self.stride,), (self.dilation_factor,)

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """Weights FilterSize×NumChannels×NumFilters, Bias 1×NumFilters."""
        return self._sizes((self.filter_size, inputs[0].channels, self.num_filters), (1, self.num_filters))

    def learnables(self, inputs: list[Shape]) -> Dim:
        return self.filter_size * inputs[0].channels * self.num_filters + (self.num_filters if self.bias_term else 0)

    def macs(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        return outputs[0].numel * self.filter_size * inputs[0].channels


class FullyConnectedLayer(WeightedLayer):
    kind: Literal["fully_connected"] = "fully_connected"
    matlab = "fullyConnectedLayer"
    base_name = "fc"
    positional = ("output_size",)
    required = 1
    elementwise = False
    family = "fc"
    torch_counted = True

    output_size: PositiveInt
    input_size: NumChannels = "auto"

    def in_features(self, inputs: list[Shape]) -> Dim:
        """Images and feature vectors are used whole; sequences one time step at a time (all of
        an image sequence's H·W·C at each step)."""
        shape = inputs[0]
        features = shape.step_numel
        if self.input_size != "auto" and is_known(features) and features != self.input_size:
            raise ShapeError(f"{self.matlab} declares InputSize {self.input_size}, but its input has "
                             f"{features} elements", code="A105")
        return features

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        """Per step: T×N; whole: 1×1×N for an image (MATLAB keeps its rank), N for a vector."""
        shape = inputs[0]
        self.in_features(inputs)
        if shape.kind.time:
            return [Shape.sequence(shape.dims[0], self.output_size)]
        return [shape.with_unit_spatial().with_channels(self.output_size)]

    def windows(self, inputs: list[Shape]):
        return None if inputs[0].kind.time else GLOBAL

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """Weights OutputSize×InputSize, Bias OutputSize×1."""
        return self._sizes((self.output_size, self.in_features(inputs)), (self.output_size, 1))

    def learnables(self, inputs: list[Shape]) -> Dim:
        return self.in_features(inputs) * self.output_size + (self.output_size if self.bias_term else 0)

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """Its input, for the weights' gradient only (none when they are frozen); a sequence's as
        the per-step product reads it, (N, T, C): a copy unless it is held so already."""
        if not self.weight_learn_rate_factor:
            return ()
        return (Kept.input_in(STEP_ORDER),) if inputs[0].kind.time else (INPUT,)

    def sequence_order(self, input_order: str) -> str:
        return STEP_ORDER

    def macs(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        steps = inputs[0].spatial[0] if inputs[0].kind.time else 1
        return steps * self.in_features(inputs) * self.output_size
