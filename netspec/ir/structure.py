"""Layers that merge, reshape or regularize: addition, multiplication, concatenation, flatten,
resize, crop, depth-to-space and space-to-depth, dropout, channel shuffle."""


from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, PositiveFloat, PositiveInt, model_validator

from .base import Layer, Lower, MultiInputLayer, Pair
from .data_kind import IMAGE, DataKind
from .shape import GLOBAL, Dim, Shape, ShapeError, Window, differ, floordiv, is_known

__all__ = ["AdditionLayer", "DepthConcatenationLayer", "ConcatenationLayer", "FlattenLayer",
           "Resize2dLayer", "DropoutLayer", "SpatialDropoutLayer", "Crop2dLayer", "DepthToSpace2dLayer",
           "SpaceToDepthLayer", "MultiplicationLayer", "ChannelShufflingLayer"]


def _describe(inputs: list[Shape], names: list[str]) -> str:
    return ", ".join(f"{shape} ({name})" for shape, name in zip(inputs, names))


class AdditionLayer(MultiInputLayer):
    kind: Literal["addition"] = "addition"
    matlab = "additionLayer"
    base_name = "addition"
    positional = ("num_inputs",)
    required = 1
    elementwise = False
    family = "merge"
    torch_counted = False

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        first = inputs[0]
        if any(shape.kind != first.kind or any(differ(a, b) for a, b in zip(shape.dims, first.dims))
               or len(shape.dims) != len(first.dims) for shape in inputs[1:]):
            raise ShapeError(f"additionLayer inputs differ in shape: {_describe(inputs, self.input_names)}",
                             hint="every input of an addition must have the same H×W×C "
                                  "(a 1×1 convolution with a stride can match a shortcut)", code="A103")
        return [first]

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        return (len(inputs) - 1) * outputs[0].numel


class MultiplicationLayer(MultiInputLayer):
    """Element-wise product. MATLAB: the inputs are "either same across all dimensions or same
    across at least one dimension with other dimensions as singleton dimensions", so a 1×1×C gate
    scales an H×W×C map (EfficientNet's squeeze-and-excitation)."""

    kind: Literal["multiplication"] = "multiplication"
    matlab = "multiplicationLayer"
    base_name = "multiplication"
    positional = ("num_inputs",)
    required = 1
    elementwise = False
    family = "merge"
    torch_counted = False

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        first = inputs[0]
        if any(shape.kind != first.kind or len(shape.dims) != len(first.dims) for shape in inputs):
            raise self._unmatched(inputs)
        dims: list[Dim] = []
        for sizes in zip(*(shape.dims for shape in inputs)):
            wide = [size for size in sizes if not (is_known(size) and size == 1)]  # a 1 is broadcast
            known = {size for size in wide if is_known(size)}
            if len(known) > 1:
                raise self._unmatched(inputs)
            dims.append(known.pop() if known else wide[0] if wide else 1)
        return [Shape(first.kind, tuple(dims))]

    def _unmatched(self, inputs: list[Shape]) -> ShapeError:
        return ShapeError(f"multiplicationLayer inputs cannot be multiplied: {_describe(inputs, self.input_names)}",
                          hint="each dimension must be the same in every input, or 1 in some of them "
                               "(a 1×1×C gate scales an H×W×C map)", code="A103")

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        return (len(inputs) - 1) * outputs[0].numel


def _concatenate(layer: Layer, inputs: list[Shape], axis: int) -> Shape:
    first = inputs[0]
    for shape in inputs[1:]:
        if shape.kind != first.kind or len(shape.dims) != len(first.dims) or any(
                i != axis and differ(a, b) for i, (a, b) in enumerate(zip(shape.dims, first.dims))):
            raise ShapeError(f"{layer.matlab} inputs differ outside the concatenated dimension: "
                             f"{_describe(inputs, layer.input_names)}",
                             hint="concatenated inputs must agree in every other dimension "
                                  "(check strides and padding of the branches)", code="A103")
    dims = list(first.dims)
    dims[axis] = sum((shape.dims[axis] for shape in inputs), 0)
    return Shape(first.kind, tuple(dims))


class DepthConcatenationLayer(MultiInputLayer):
    kind: Literal["depth_concatenation"] = "depth_concatenation"
    matlab = "depthConcatenationLayer"
    base_name = "depthcat"
    positional = ("num_inputs",)
    required = 1
    elementwise = False
    family = "merge"
    torch_counted = False

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [_concatenate(self, inputs, len(inputs[0].dims) - 1)]


class ConcatenationLayer(MultiInputLayer):
    """Concatenates along MATLAB dimension `dim` (1 = height, 2 = width, 3 = channels)."""

    kind: Literal["concatenation"] = "concatenation"
    matlab = "concatenationLayer"
    base_name = "concat"
    positional = ("dim", "num_inputs")
    required = 2
    elementwise = False
    family = "merge"
    torch_counted = False

    dim: Annotated[int, Field(ge=1, le=4)]

    def axis(self, kind: DataKind) -> int | None:
        """The concatenated axis: MATLAB numbers H, W, C for images, C first for sequences and features."""
        return kind.matlab_dims.get(self.dim)

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        kind = inputs[0].kind
        axis = self.axis(kind)
        if axis is None:
            raise ShapeError(f"concatenationLayer cannot concatenate {kind} inputs along dimension {self.dim}",
                             code="A104")
        return [_concatenate(self, inputs, axis)]


class FlattenLayer(Layer):
    """H×W×C -> a feature vector of H·W·C; sequences keep their time axis (an image sequence
    T×H×W×C becomes a sequence T×(H·W·C))."""

    kind: Literal["flatten"] = "flatten"
    matlab = "flattenLayer"
    base_name = "flatten"
    elementwise = False
    family = "other"
    torch_counted = False

    @staticmethod
    def folds(shape: Shape) -> bool:
        """Whether the input has axes to fold into the channels (an image's H and W, also at
        each step of an image sequence)."""
        return len(shape.spatial) > (1 if shape.kind.time else 0)

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = inputs[0]
        if not self.folds(shape):
            return [shape]
        if shape.kind.time:
            return [Shape.sequence(shape.dims[0], shape.step_numel)]
        return [Shape.feature(shape.step_numel).repeated(shape.repeat)]

    def windows(self, inputs: list[Shape]):
        return GLOBAL if self.folds(inputs[0]) and not inputs[0].kind.time else None

    def field_axes(self, inputs: list[Shape]):
        """An image sequence keeps its time axis; each step's H and W are folded away."""
        return (0,) if self.folds(inputs[0]) and inputs[0].kind.time else None


class DropoutLayer(Layer):
    kind: Literal["dropout"] = "dropout"
    matlab = "dropoutLayer"
    base_name = "dropout"
    positional = ("probability",)
    elementwise = True
    family = "other"
    torch_counted = False

    probability: float = Field(0.5, ge=0, lt=1)


class Resize2dLayer(Layer):
    """Exactly one of `scale` and `output_size` (MATLAB's two ways to say the size)."""

    kind: Literal["resize2d"] = "resize2d"
    matlab = "resize2dLayer"
    base_name = "resize"
    elementwise = False
    family = "other"
    torch_counted = False

    scale: tuple[PositiveFloat, PositiveFloat] | None = None
    output_size: tuple[PositiveInt, PositiveInt] | None = None
    method: Annotated[Literal["nearest", "bilinear"], Lower] = "nearest"
    geometric_transform_mode: Annotated[Literal["half-pixel", "asymmetric"], Lower] = "half-pixel"
    nearest_rounding_mode: Annotated[Literal["round", "floor", "onnx-10"], Lower] = "round"

    @model_validator(mode="before")
    @classmethod
    def _expand(cls, data):
        if isinstance(data, dict):
            scale = data.get("scale")
            if isinstance(scale, (int, float)) and not isinstance(scale, bool):
                data = {**data, "scale": (scale, scale)}
        return data

    @model_validator(mode="after")
    def _one_size(self):
        if (self.scale is None) == (self.output_size is None):
            raise ValueError("give exactly one of 'Scale' and 'OutputSize'")
        return self

    flops_per_element = 1

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, IMAGE)
        if self.output_size is not None:
            return [shape.with_spatial(self.output_size)]
        sizes = tuple(floordiv(size * int(round(scale * 1_000_000)), 1_000_000)
                      for size, scale in zip(shape.spatial, self.scale))
        return [shape.with_spatial(sizes)]


class SpatialDropoutLayer(Layer):
    """Drops whole channels (every pixel or time step of a channel) while training; the identity
    after. MATLAB's R2024a layer takes Probability by name only; the positional form is the one
    MATLAB's temporal convolutional network example defined for itself before."""

    kind: Literal["spatial_dropout"] = "spatial_dropout"
    matlab = "spatialDropoutLayer"
    base_name = "spatialdropout"
    positional = ("probability",)
    elementwise = True
    family = "other"
    torch_counted = False

    probability: float = Field(0.5, ge=0, lt=1)


def _crop_location(value: Any) -> Any:
    """'centercrop', or [x y] (a scalar is [x x]): where MATLAB puts the window's top-left corner."""
    if isinstance(value, str):
        if value.lower() != "centercrop":
            raise ValueError("the location is 'centercrop' or [x y]")
        return "centercrop"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value, value]
    return value


class Crop2dLayer(Layer):
    """Crops 'in' to the height and width of 'ref': at its centre ('centercrop'), or with the
    window's top-left corner at [x y] (x the column, y the row, from 1), as MATLAB does."""

    kind: Literal["crop2d"] = "crop2d"
    matlab = "crop2dLayer"
    base_name = "crop"
    positional = ("location",)
    required = 1
    elementwise = False
    family = "other"
    torch_counted = False
    size_inputs = frozenset({"ref"})

    location: Annotated[Literal["centercrop"] | tuple[PositiveInt, PositiveInt], BeforeValidator(_crop_location)]

    @property
    def mode(self) -> str:
        """MATLAB's read-only Mode: 'centercrop', or 'custom' for an [x y] location."""
        return "centercrop" if self.location == "centercrop" else "custom"

    @property
    def input_names(self) -> list[str]:
        return ["in", "ref"]

    def offsets(self, inputs: list[Shape]) -> tuple[Dim, Dim]:
        """(top, left) of the window in 'in'. The centre is MATLAB's: floor(in/2) - floor(ref/2)
        (Crop2DCenterCropStrategy, also what its TensorFlow exporter writes)."""
        if self.location == "centercrop":
            return tuple(floordiv(size, 2) - floordiv(ref, 2)  # type: ignore[return-value]
                         for size, ref in zip(inputs[0].spatial, inputs[1].spatial))
        x, y = self.location
        return y - 1, x - 1

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, IMAGE)
        reference = inputs[1]
        if reference.kind is not IMAGE:
            raise ShapeError(f"crop2dLayer's 'ref' must be an image, but it is {reference}", code="A104")
        for axis, (size, wanted, start) in enumerate(zip(shape.spatial, reference.spatial, self.offsets(inputs))):
            end = start + wanted
            if all(is_known(v) for v in (size, wanted, start)) and (start < 0 or end > size):
                lines = ("rows", "columns")[axis]
                raise ShapeError(f"crop2dLayer's window ({lines} {start + 1} to {end}) lies outside its input of "
                                 f"{shape}", hint="the 'ref' input must not be larger than 'in' there", code="A102")
        return [shape.with_spatial(reference.spatial)]

    def windows(self, inputs: list[Shape]):
        """A shift: output pixel p is input pixel p + offset."""
        return tuple(Window(1, 1, -offset) for offset in self.offsets(inputs))


class _Rearrange(Layer):
    """Moves pixels between space and channels in blocks of `block_size` [height width]."""

    block_size: Pair

    to_space: ClassVar[bool]
    """Channels become pixels (the output is larger), or pixels channels."""

    def windows(self, inputs: list[Shape]):
        """A block of output pixels comes from one input pixel, or one output pixel from a block."""
        return tuple(Window(block, block, 0, transposed=self.to_space) for block in self.block_size)


class DepthToSpace2dLayer(_Rearrange):
    """H×W×(C·h·w) -> (H·h)×(W·w)×C. 'dcr' (MATLAB's default, ONNX's DCR): the block position
    varies slowest over the input channels; 'crd': the output channel does (PyTorch's PixelShuffle)."""

    kind: Literal["depth_to_space2d"] = "depth_to_space2d"
    matlab = "depthToSpace2dLayer"
    base_name = "layer"
    positional = ("block_size",)
    required = 1
    elementwise = False
    family = "other"
    torch_counted = False

    to_space = True

    mode: Annotated[Literal["dcr", "crd"], Lower] = "dcr"

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, IMAGE)
        height, width = self.block_size
        channels = shape.channels
        if is_known(channels) and channels % (height * width):
            raise ShapeError(f"depthToSpace2dLayer moves blocks of {height}×{width} = {height * width} channels, "
                             f"but its input has {channels}", hint="the input channels must be a multiple of h·w",
                             code="A105")
        size_h, size_w = shape.spatial
        return [Shape.image(size_h * height, size_w * width, channels // (height * width))]


class SpaceToDepthLayer(_Rearrange):
    """H×W×C -> floor(H/h)×floor(W/w)×(C·h·w), the block position varying slowest over the output
    channels (TensorFlow's and ONNX's SpaceToDepth); rows and columns past the last whole block
    are dropped, as MATLAB does."""

    kind: Literal["space_to_depth"] = "space_to_depth"
    matlab = "spaceToDepthLayer"
    base_name = "layer"
    positional = ("block_size",)
    required = 1
    elementwise = False
    family = "other"
    torch_counted = False
    to_space = False

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, IMAGE)
        sizes = tuple(floordiv(size, block) for size, block in zip(shape.spatial, self.block_size))
        if any(is_known(size) and size < 1 for size in sizes):
            raise ShapeError(f"spaceToDepthLayer's blocks of {self.block_size[0]}×{self.block_size[1]} do not fit "
                             f"in its input of {shape}", code="A102")
        height, width = self.block_size
        return [Shape.image(*sizes, shape.channels * height * width)]


class ChannelShufflingLayer(Layer):
    """ShuffleNet's channel shuffle, as MATLAB's pretrained `shufflenet` holds it (a class of the
    support package, built as `nnet.shufflenet.layer.ChannelShufflingLayer(name, groups)`): the
    channels, seen as `groups` rows of C/groups, are read column by column."""

    kind: Literal["channel_shuffling"] = "channel_shuffling"
    matlab = "nnet.shufflenet.layer.ChannelShufflingLayer"
    base_name = "shuffle"
    positional = ("name", "groups")
    required = 2
    elementwise = False
    family = "other"
    torch_counted = False

    groups: PositiveInt

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, IMAGE)
        if is_known(shape.channels) and shape.channels % self.groups:
            raise ShapeError(f"ChannelShufflingLayer splits {shape.channels} channels into {self.groups} groups, "
                             "which does not divide evenly", hint="Groups must divide the input channels",
                             code="A105")
        return [shape]
