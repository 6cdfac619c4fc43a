"""Input layers (where data enters) and output layers (where the loss is taken)."""


from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PositiveInt, field_validator

from .base import InputLayer, Lower, OutputLayer
from .shape import Shape, symbol

__all__ = ["ImageInputLayer", "FeatureInputLayer", "SequenceInputLayer", "ClassificationLayer",
           "RegressionLayer", "Normalization"]

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


class SequenceInputLayer(_NormalizedInput):
    """1-D signals: `input_size` channels; `min_length` is the length shapes are computed at."""

    kind: Literal["sequence_input"] = "sequence_input"
    matlab = "sequenceInputLayer"
    base_name = "sequenceinput"
    elementwise = False
    family = "io"
    torch_counted = False
    positional = ("input_size",)
    required = 1
    ignored_options = frozenset({"splitcomplexinputs"})

    input_size: PositiveInt
    min_length: PositiveInt = 1

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [Shape.sequence(self.min_length, self.input_size)]


class ClassificationLayer(OutputLayer):
    kind: Literal["classification"] = "classification"
    matlab = "classificationLayer"
    base_name = "classoutput"
    elementwise = False
    family = "io"
    torch_counted = False

    classes: Literal["auto"] | list[str] = "auto"
    class_weights: Literal["none"] | list[Annotated[float, Field(gt=0)]] = "none"

    @field_validator("classes", mode="before")
    @classmethod
    def _classes(cls, value):
        return [value] if isinstance(value, str) and value != "auto" else value


class RegressionLayer(OutputLayer):
    kind: Literal["regression"] = "regression"
    matlab = "regressionLayer"
    base_name = "regressionoutput"
    elementwise = False
    family = "io"
    torch_counted = False

    response_names: list[str] = []
