"""Layers that merge, reshape or regularize: addition, concatenation, flatten, resize, dropout."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from .base import Layer, Lower, MultiInputLayer

__all__ = ["AdditionLayer", "DepthConcatenationLayer", "ConcatenationLayer", "FlattenLayer",
           "Resize2dLayer", "DropoutLayer"]


class AdditionLayer(MultiInputLayer):
    kind: Literal["addition"] = "addition"
    matlab = "additionLayer"
    base_name = "addition"
    positional = ("num_inputs",)
    required = 1


class DepthConcatenationLayer(MultiInputLayer):
    kind: Literal["depth_concatenation"] = "depth_concatenation"
    matlab = "depthConcatenationLayer"
    base_name = "depthcat"
    positional = ("num_inputs",)
    required = 1


class ConcatenationLayer(MultiInputLayer):
    """Concatenates along MATLAB dimension `dim` (1 = height, 2 = width, 3 = channels)."""

    kind: Literal["concatenation"] = "concatenation"
    matlab = "concatenationLayer"
    base_name = "concat"
    positional = ("dim", "num_inputs")
    required = 2

    dim: Annotated[int, Field(ge=1, le=4)]


class FlattenLayer(Layer):
    kind: Literal["flatten"] = "flatten"
    matlab = "flattenLayer"
    base_name = "flatten"


class DropoutLayer(Layer):
    kind: Literal["dropout"] = "dropout"
    matlab = "dropoutLayer"
    base_name = "dropout"
    positional = ("probability",)

    probability: float = Field(0.5, ge=0, lt=1)


class Resize2dLayer(Layer):
    """Exactly one of `scale` and `output_size` (MATLAB's two ways to say the size)."""

    kind: Literal["resize2d"] = "resize2d"
    matlab = "resize2dLayer"
    base_name = "resize"

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
