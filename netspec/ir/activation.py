"""Element-wise activations and softmax."""


from typing import Annotated, Literal

from pydantic import NonNegativeFloat, PositiveFloat

from .base import Layer, Lower
from .saved import INPUT, OUTPUT, Kept
from .shape import Shape

__all__ = ["ReluLayer", "LeakyReluLayer", "ClippedReluLayer", "EluLayer", "TanhLayer",
           "SigmoidLayer", "SwishLayer", "GeluLayer", "SoftmaxLayer"]


def _keeps_output(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
    """ReLU, tanh, sigmoid and softmax compute their gradient from their output."""
    return (OUTPUT,)


def _keeps_input(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
    """Leaky and clipped ReLU, ELU, swish and GELU compute their gradient from their input."""
    return (INPUT,)


class ReluLayer(Layer):
    kind: Literal["relu"] = "relu"
    matlab = "reluLayer"
    base_name = "relu"
    flops_per_element = 1
    elementwise = True
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_output


class LeakyReluLayer(Layer):
    kind: Literal["leaky_relu"] = "leaky_relu"
    matlab = "leakyReluLayer"
    base_name = "leakyrelu"
    flops_per_element = 1
    elementwise = True
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_input
    positional = ("scale",)

    scale: NonNegativeFloat = 0.01


class ClippedReluLayer(Layer):
    kind: Literal["clipped_relu"] = "clipped_relu"
    matlab = "clippedReluLayer"
    base_name = "clippedrelu"
    flops_per_element = 1
    elementwise = True
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_input
    positional = ("ceiling",)
    required = 1

    ceiling: PositiveFloat


class EluLayer(Layer):
    kind: Literal["elu"] = "elu"
    matlab = "eluLayer"
    base_name = "elu"
    flops_per_element = 1
    elementwise = True
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_input
    positional = ("alpha",)

    alpha: PositiveFloat = 1.0


class TanhLayer(Layer):
    kind: Literal["tanh"] = "tanh"
    matlab = "tanhLayer"
    base_name = "tanh"
    flops_per_element = 1
    elementwise = True
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_output


class SigmoidLayer(Layer):
    kind: Literal["sigmoid"] = "sigmoid"
    matlab = "sigmoidLayer"
    base_name = "sigmoid"
    flops_per_element = 1
    elementwise = True
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_output


class SwishLayer(Layer):
    kind: Literal["swish"] = "swish"
    matlab = "swishLayer"
    base_name = "swish"
    flops_per_element = 1
    elementwise = True
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_input


class GeluLayer(Layer):
    kind: Literal["gelu"] = "gelu"
    matlab = "geluLayer"
    base_name = "gelu"
    flops_per_element = 1
    elementwise = True
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_input

    approximation: Annotated[Literal["none", "tanh"], Lower] = "none"


class SoftmaxLayer(Layer):
    kind: Literal["softmax"] = "softmax"
    matlab = "softmaxLayer"
    base_name = "softmax"
    flops_per_element = 1
    elementwise = False  # each output reads every channel at its position
    family = "activation"
    torch_counted = False
    kept_for_backward = _keeps_output
