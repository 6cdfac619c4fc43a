"""Pooling: local max/average (MATLAB's stride default is 1) and global pooling."""

from __future__ import annotations

from typing import Annotated, Literal

from .base import Layer, Lower, Padding1d, Padding2d, Pair, Scalar

__all__ = ["MaxPooling2dLayer", "AveragePooling2dLayer", "MaxPooling1dLayer", "AveragePooling1dLayer",
           "GlobalAveragePooling2dLayer", "GlobalMaxPooling2dLayer", "GlobalAveragePooling1dLayer",
           "GlobalMaxPooling1dLayer"]

AveragePaddingValue = float | Annotated[Literal["mean"], Lower]


class MaxPooling2dLayer(Layer):
    """Pads with -inf: padding never wins the max."""

    kind: Literal["max_pooling2d"] = "max_pooling2d"
    matlab = "maxPooling2dLayer"
    base_name = "maxpool"
    positional = ("pool_size",)
    required = 1
    ignored_options = frozenset({"hasunpoolingoutputs"})

    pool_size: Pair
    stride: Pair = (1, 1)
    padding: Padding2d = (0, 0, 0, 0)


class AveragePooling2dLayer(Layer):
    """Counts padded zeros (MATLAB's PaddingValue 0)."""

    kind: Literal["average_pooling2d"] = "average_pooling2d"
    matlab = "averagePooling2dLayer"
    base_name = "avgpool"
    positional = ("pool_size",)
    required = 1

    pool_size: Pair
    stride: Pair = (1, 1)
    padding: Padding2d = (0, 0, 0, 0)
    padding_value: AveragePaddingValue = 0.0


class MaxPooling1dLayer(Layer):
    kind: Literal["max_pooling1d"] = "max_pooling1d"
    matlab = "maxPooling1dLayer"
    base_name = "maxpool1d"
    positional = ("pool_size",)
    required = 1

    pool_size: Scalar
    stride: Scalar = 1
    padding: Padding1d = (0, 0)


class AveragePooling1dLayer(Layer):
    kind: Literal["average_pooling1d"] = "average_pooling1d"
    matlab = "averagePooling1dLayer"
    base_name = "avgpool1d"
    positional = ("pool_size",)
    required = 1

    pool_size: Scalar
    stride: Scalar = 1
    padding: Padding1d = (0, 0)
    padding_value: AveragePaddingValue = 0.0


class GlobalAveragePooling2dLayer(Layer):
    kind: Literal["global_average_pooling2d"] = "global_average_pooling2d"
    matlab = "globalAveragePooling2dLayer"
    base_name = "gapool"


class GlobalMaxPooling2dLayer(Layer):
    kind: Literal["global_max_pooling2d"] = "global_max_pooling2d"
    matlab = "globalMaxPooling2dLayer"
    base_name = "gmpool"


class GlobalAveragePooling1dLayer(Layer):
    kind: Literal["global_average_pooling1d"] = "global_average_pooling1d"
    matlab = "globalAveragePooling1dLayer"
    base_name = "gapool1d"


class GlobalMaxPooling1dLayer(Layer):
    kind: Literal["global_max_pooling1d"] = "global_max_pooling1d"
    matlab = "globalMaxPooling1dLayer"
    base_name = "gmpool1d"
