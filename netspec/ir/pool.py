"""Pooling: local max/average (MATLAB's stride default is 1) and global pooling."""


from typing import Annotated, ClassVar, Literal

from .base import Layer, Lower, Padding1d, Padding2d, Pair, Scalar
from .data_kind import IMAGE, SEQUENCE, DataKind
from .saved import INPUT, Kept, input_or_padded
from .shape import GLOBAL, Dim, Shape, ShapeError, Window, ceildiv, is_known, slide

__all__ = ["MaxPooling2dLayer", "AveragePooling2dLayer", "MaxPooling1dLayer", "AveragePooling1dLayer",
           "GlobalAveragePooling2dLayer", "GlobalMaxPooling2dLayer", "GlobalAveragePooling1dLayer",
           "GlobalMaxPooling1dLayer", "MaxUnpooling2dLayer", "WINDOWED_POOLING"]

AveragePaddingValue = float | Annotated[Literal["mean"], Lower]


def _kept_by_pooling(layer: "_Pooling2d | _Pooling1d", inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
    """Max pooling keeps its (padded) input and the int64 position of each maximum; average
    pooling its input, padded in front only where the padding is uneven."""
    maximum = isinstance(layer, (MaxPooling2dLayer, MaxPooling1dLayer))
    kept = input_or_padded(inputs[0], *layer.geometry(), layer.padding, pads_itself=not maximum)
    if not maximum:
        return (kept,)
    if isinstance(layer, MaxPooling2dLayer) and layer.has_unpooling_outputs and kept is INPUT:
        return (kept, Kept("output", port=1, index=True))  # the kept positions are the 'indices' output
    return (kept, Kept.new(outputs[0].numel, index=True))


class _Pooling2d(Layer):
    """Max/average pooling over windows: one compare or add per window element."""

    def geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(window, stride, dilation) per spatial axis."""
        return self.pool_size, self.stride, (1, 1)

    def _slide(self, inputs: list[Shape]) -> tuple[Shape, tuple[Window, ...]]:
        shape = self.require(inputs, IMAGE)
        return slide(shape, *self.geometry(), self.padding, self.matlab)

    kept_for_backward = _kept_by_pooling

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [self._slide(inputs)[0]]

    def windows(self, inputs: list[Shape]):
        return self._slide(inputs)[1]

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        return outputs[0].numel * self.pool_size[0] * self.pool_size[1]


class _Pooling1d(Layer):
    def geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(window, stride, dilation) of the one spatial axis."""
        return (self.pool_size,), (self.stride,), (1,)

    def _slide(self, inputs: list[Shape]) -> tuple[Shape, tuple[Window, ...]]:
        shape = self.require(inputs, SEQUENCE)
        return slide(shape, *self.geometry(), self.padding, self.matlab)

    kept_for_backward = _kept_by_pooling

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [self._slide(inputs)[0]]

    def windows(self, inputs: list[Shape]):
        return self._slide(inputs)[1]

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        return outputs[0].numel * self.pool_size


def _kept_by_global_max(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
    """Global max pooling keeps its input and where each channel's maximum was (global average
    pooling is a mean, which keeps nothing)."""
    return (INPUT, Kept.new(outputs[0].numel, index=True))


class _GlobalPooling(Layer):
    """Every output sees its whole channel: the image or sequence shrinks to 1 (MATLAB: 1×1×C)."""

    kinds: ClassVar[tuple[DataKind, ...]] = (IMAGE,)

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, *self.kinds)
        return [shape.with_unit_spatial()]

    def windows(self, inputs: list[Shape]):
        return GLOBAL

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        return inputs[0].numel


class MaxPooling2dLayer(_Pooling2d):
    """Pads with -inf: padding never wins the max. With HasUnpoolingOutputs it also gives where
    each maximum was ('indices') and the size of its input ('size'), for maxUnpooling2dLayer."""

    kind: Literal["max_pooling2d"] = "max_pooling2d"
    matlab = "maxPooling2dLayer"
    base_name = "maxpool"
    elementwise = False
    family = "pool"
    torch_counted = False
    positional = ("pool_size",)
    required = 1

    pool_size: Pair
    stride: Pair = (1, 1)
    padding: Padding2d = (0, 0, 0, 0)
    has_unpooling_outputs: bool = False

    @property
    def output_names(self) -> list[str]:
        return ["out", "indices", "size"] if self.has_unpooling_outputs else ["out"]

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        out = self._slide(inputs)[0]
        return [out, out, Shape.size_of(inputs[0])] if self.has_unpooling_outputs else [out]


class AveragePooling2dLayer(_Pooling2d):
    """Counts padded zeros (MATLAB's PaddingValue 0)."""

    kind: Literal["average_pooling2d"] = "average_pooling2d"
    matlab = "averagePooling2dLayer"
    base_name = "avgpool"
    elementwise = False
    family = "pool"
    torch_counted = False
    positional = ("pool_size",)
    required = 1

    pool_size: Pair
    stride: Pair = (1, 1)
    padding: Padding2d = (0, 0, 0, 0)
    padding_value: AveragePaddingValue = 0.0


class MaxPooling1dLayer(_Pooling1d):
    kind: Literal["max_pooling1d"] = "max_pooling1d"
    matlab = "maxPooling1dLayer"
    base_name = "maxpool1d"
    elementwise = False
    family = "pool"
    torch_counted = False
    positional = ("pool_size",)
    required = 1

    pool_size: Scalar
    stride: Scalar = 1
    padding: Padding1d = (0, 0)


class AveragePooling1dLayer(_Pooling1d):
    kind: Literal["average_pooling1d"] = "average_pooling1d"
    matlab = "averagePooling1dLayer"
    base_name = "avgpool1d"
    elementwise = False
    family = "pool"
    torch_counted = False
    positional = ("pool_size",)
    required = 1

    pool_size: Scalar
    stride: Scalar = 1
    padding: Padding1d = (0, 0)
    padding_value: AveragePaddingValue = 0.0


class GlobalAveragePooling2dLayer(_GlobalPooling):
    kind: Literal["global_average_pooling2d"] = "global_average_pooling2d"
    matlab = "globalAveragePooling2dLayer"
    base_name = "gapool"
    elementwise = False
    family = "pool"
    torch_counted = False


class GlobalMaxPooling2dLayer(_GlobalPooling):
    kind: Literal["global_max_pooling2d"] = "global_max_pooling2d"
    matlab = "globalMaxPooling2dLayer"
    base_name = "gmpool"
    elementwise = False
    family = "pool"
    torch_counted = False
    kept_for_backward = _kept_by_global_max


class GlobalAveragePooling1dLayer(_GlobalPooling):
    kind: Literal["global_average_pooling1d"] = "global_average_pooling1d"
    matlab = "globalAveragePooling1dLayer"
    base_name = "gapool1d"
    elementwise = False
    family = "pool"
    torch_counted = False
    kinds = (SEQUENCE,)


class GlobalMaxPooling1dLayer(_GlobalPooling):
    kind: Literal["global_max_pooling1d"] = "global_max_pooling1d"
    matlab = "globalMaxPooling1dLayer"
    base_name = "gmpool1d"
    elementwise = False
    family = "pool"
    torch_counted = False
    kinds = (SEQUENCE,)
    kept_for_backward = _kept_by_global_max


class MaxUnpooling2dLayer(Layer):
    """Puts each value of 'in' back where its max pooling found it ('indices'), zeros elsewhere,
    at the size the pooling's input had ('size')."""

    kind: Literal["max_unpooling2d"] = "max_unpooling2d"
    matlab = "maxUnpooling2dLayer"
    base_name = "maxunpool"
    elementwise = False
    family = "pool"
    torch_counted = False
    size_inputs = frozenset({"indices", "size"})

    @property
    def input_names(self) -> list[str]:
        return ["in", "indices", "size"]

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        values = self.require(inputs, IMAGE)
        indices, size = inputs[1], inputs[2]
        if indices.kind is not IMAGE or any(is_known(a) and is_known(b) and a != b
                                            for a, b in zip(indices.dims, values.dims)):
            raise ShapeError(f"maxUnpooling2dLayer's 'indices' ({indices}) differ from its 'in' ({values})",
                             hint="connect the 'indices' output of the max pooling whose output is unpooled",
                             code="A103")
        if not size.kind.holds_size:
            raise ShapeError(f"maxUnpooling2dLayer's 'size' input is {size}, not a size",
                             hint="connect the 'size' output of a maxPooling2dLayer with 'HasUnpoolingOutputs' true",
                             code="A104")
        height, width, channels = size.dims
        if is_known(channels) and is_known(values.channels) and channels != values.channels:
            raise ShapeError(f"maxUnpooling2dLayer unpools {values.channels} channels to a size of {channels}",
                             code="A105")
        return [Shape.image(height, width, values.channels)]

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """The scatter keeps the positions it scattered to."""
        return (Kept("input", port=1, index=True),)

    def windows(self, inputs: list[Shape]):
        """The pooling run backwards. Its window is not known here, so it is what the sizes imply:
        ceil(out/in) pixels from each input pixel (exact for windows that do not overlap, as
        SegNet's 2×2, stride 2)."""
        values, size = inputs[0], inputs[2]
        windows = []
        for before, after in zip(values.spatial, size.spatial):
            step = ceildiv(after, before) if is_known(before) and is_known(after) else 1
            windows.append(Window(step, step, 0, transposed=True))
        return tuple(windows)


WINDOWED_POOLING = (_Pooling2d, _Pooling1d)
"""Pooling with a window and a stride (not global): what the stride-past-window check looks at."""
