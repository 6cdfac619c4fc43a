"""Input layers (where data enters) and output layers (where the loss is taken)."""


from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PositiveInt, field_validator, model_validator

from .base import InputLayer, Lower, NotSupported, OutputLayer
from .data_kind import IMAGE
from .saved import INPUT, Kept
from .shape import TIME, Shape, symbol

__all__ = ["ImageInputLayer", "FeatureInputLayer", "SequenceInputLayer", "ClassificationLayer",
           "RegressionLayer", "PixelClassificationLayer", "DicePixelClassificationLayer", "PixelOutputLayer",
           "Normalization"]

Normalization = Annotated[
    Literal["zerocenter", "zscore", "rescale-symmetric", "rescale-zero-one", "none"], Lower
]
Statistic = float | list[float] | None
Size = PositiveInt | Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
"""A size, or a symbol name (`H`) that the analysis keeps as a formula."""


def _image_size(value):
    """`[h w]` is a grayscale image: MATLAB reads it as `[h w 1]`."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return [*value, 1]
    return value


class _NormalizedInput(InputLayer):
    """MATLAB's input normalization options, shared by every input layer."""

    data_statistics = ("mean", "standard_deviation", "min", "max")

    normalization: Normalization = "none"
    normalization_dimension: Annotated[Literal["auto", "channel", "element", "all"], Lower] = "auto"
    mean: Statistic = None
    standard_deviation: Statistic = None
    min: Statistic = None
    max: Statistic = None


class ImageInputLayer(_NormalizedInput):
    kind: Literal["image_input"] = "image_input"
    matlab = "imageInputLayer"
    base_name = "imageinput"
    elementwise = False
    family = "io"
    torch_counted = False
    positional = ("input_size",)
    required = 1
    ignored_options = frozenset({"dataaugmentation", "splitcomplexinputs"})

    input_size: Annotated[tuple[Size, Size, Size], BeforeValidator(_image_size)]
    normalization: Normalization = "zerocenter"

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [Shape.image(*(symbol(d) for d in self.input_size))]


class FeatureInputLayer(_NormalizedInput):
    kind: Literal["feature_input"] = "feature_input"
    matlab = "featureInputLayer"
    base_name = "input"
    elementwise = False
    family = "io"
    torch_counted = False
    positional = ("input_size",)
    required = 1
    ignored_options = frozenset({"splitcomplexinputs"})

    input_size: PositiveInt

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [Shape.feature(self.input_size)]


_UNREAD_SEQUENCES = {2: ("[H C]", "1-D images"), 4: ("[H W D C]", "3-D images")}
"""InputSize lengths of sequenceInputLayer MATLAB reads and netspec does not yet: what they mean."""


def _sequence_size(value):
    """`[C]` is `C`: a vector sequence; `[H W C]` an image sequence. MATLAB also takes `[H C]`
    (1-D images) and `[H W D C]` (3-D images), which netspec does not read yet: refused as such."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return value[0]
    if isinstance(value, (list, tuple)) and len(value) in _UNREAD_SEQUENCES:
        form, images = _UNREAD_SEQUENCES[len(value)]
        raise NotSupported(f"a {len(value)}-element InputSize, {form}, is a sequence of {images} in MATLAB, "
                           "which netspec does not read yet")
    return value


class SequenceInputLayer(_NormalizedInput):
    """Vector sequences (`input_size` C channels) or image sequences (`input_size` [H W C]) over
    T time steps. T is the symbol `T` (shapes and costs are formulas in it) unless 'MinLength'
    fixes it (MATLAB's default is 1, the shortest sequence a network must take; netspec computes
    the shapes at the length given)."""

    kind: Literal["sequence_input"] = "sequence_input"
    matlab = "sequenceInputLayer"
    base_name = "sequenceinput"
    elementwise = False
    family = "io"
    torch_counted = False
    positional = ("input_size",)
    required = 1
    ignored_options = frozenset({"splitcomplexinputs"})

    input_size: Annotated[PositiveInt | tuple[PositiveInt, PositiveInt, PositiveInt], BeforeValidator(_sequence_size)]
    min_length: PositiveInt | None = Field(None, description="the length shapes are computed at; "
                                           "not given, the length is the symbol T")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [self.sequence_of(symbol(TIME) if self.min_length is None else self.min_length)]

    def sequence_of(self, steps) -> Shape:
        """A sample of `steps` time steps: T×C, or T×H×W×C for an image sequence."""
        if isinstance(self.input_size, tuple):
            return Shape.image_sequence(steps, *self.input_size)
        return Shape.sequence(steps, self.input_size)


Classes = Literal["auto"] | list[str]
ClassWeights = Literal["none"] | list[Annotated[float, Field(gt=0)]]


def _class_list(value):
    """A single class name is a list of one ('auto' stays the keyword)."""
    return [value] if isinstance(value, str) and value != "auto" else value


class ClassificationLayer(OutputLayer):
    kind: Literal["classification"] = "classification"
    matlab = "classificationLayer"
    matlab_class = "nnet.cnn.layer.ClassificationOutputLayer"
    base_name = "classoutput"
    elementwise = False
    family = "io"
    torch_counted = False

    data_labels = ("classes", "class_weights")

    classes: Annotated[Classes, BeforeValidator(_class_list)] = "auto"
    class_weights: ClassWeights = "none"

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """Cross-entropy on the logits (training skips the softmax): their log-softmax, each image's
        int64 class, and the batch's total weight."""
        return (Kept.new(inputs[0].numel), Kept.new(1, index=True), Kept.new(1, per_batch=True))


class PixelOutputLayer(OutputLayer):
    """A loss on every pixel of an image (semantic segmentation): training needs a label per pixel."""

    classes: Annotated[Classes, BeforeValidator(_class_list)] = "auto"

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        self.require(inputs, IMAGE)
        return []


class PixelClassificationLayer(PixelOutputLayer):
    """Cross-entropy per pixel, optionally weighted per class."""

    kind: Literal["pixel_classification"] = "pixel_classification"
    matlab = "pixelClassificationLayer"
    base_name = "classoutput"
    elementwise = False
    family = "io"
    torch_counted = False
    option_aliases = {"classnames": "classes"}  # the name 'Classes' had before R2019b
    data_labels = ("classes", "class_weights")

    class_weights: ClassWeights = "none"

    @model_validator(mode="after")
    def _one_weight_per_class(self):
        if self.class_weights != "none" and self.classes != "auto" and len(self.class_weights) != len(self.classes):
            raise ValueError(f"'ClassWeights' has {len(self.class_weights)} weights for {len(self.classes)} classes")
        return self


class DicePixelClassificationLayer(PixelOutputLayer):
    """Generalized Dice loss over the pixels."""

    kind: Literal["dice_pixel_classification"] = "dice_pixel_classification"
    matlab = "dicePixelClassificationLayer"
    base_name = "classoutput"
    elementwise = False
    family = "io"
    torch_counted = False
    data_labels = ("classes",)


class RegressionLayer(OutputLayer):
    kind: Literal["regression"] = "regression"
    matlab = "regressionLayer"
    matlab_class = "nnet.cnn.layer.RegressionOutputLayer"
    base_name = "regressionoutput"
    elementwise = False
    family = "io"
    torch_counted = False

    response_names: list[str] = []

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """The mean squared error keeps the predictions and the targets."""
        return (INPUT, Kept.new(inputs[0].numel))
