"""Normalization layers: batch, layer and cross-channel (LRN)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from .base import Layer, LearnRateFactor, NumChannels

__all__ = ["BatchNormalizationLayer", "LayerNormalizationLayer", "CrossChannelNormalizationLayer"]


class _AffineNormalization(Layer):
    epsilon: PositiveFloat = 1e-5
    num_channels: NumChannels = "auto"
    scale_learn_rate_factor: LearnRateFactor = 1.0
    offset_learn_rate_factor: LearnRateFactor = 1.0
    scale_l2_factor: LearnRateFactor = 1.0
    offset_l2_factor: LearnRateFactor = 1.0


class BatchNormalizationLayer(_AffineNormalization):
    """2C learnables (scale, offset) and 2C states (running mean and variance)."""

    kind: Literal["batch_normalization"] = "batch_normalization"
    matlab = "batchNormalizationLayer"
    base_name = "batchnorm"
    ignored_options = frozenset({"scaleinitializer", "offsetinitializer", "trainedmean",
                                 "trainedvariance", "scale", "offset"})

    mean_decay: float = Field(0.1, ge=0, le=1)
    variance_decay: float = Field(0.1, ge=0, le=1)


class LayerNormalizationLayer(_AffineNormalization):
    kind: Literal["layer_normalization"] = "layer_normalization"
    matlab = "layerNormalizationLayer"
    base_name = "layernorm"
    ignored_options = frozenset({"scaleinitializer", "offsetinitializer", "scale", "offset",
                                 "operationdimension"})


class CrossChannelNormalizationLayer(Layer):
    """Local response normalization across `window_channel_size` channels (AlexNet's LRN)."""

    kind: Literal["cross_channel_normalization"] = "cross_channel_normalization"
    matlab = "crossChannelNormalizationLayer"
    base_name = "crossnorm"
    positional = ("window_channel_size",)
    required = 1

    window_channel_size: PositiveInt
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0
