"""The layer catalogue: every layer model, and the discriminated union over them."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from . import activation, conv, io, norm, pool, structure  # noqa: F401  (registers the layers)
from .base import LAYERS, Layer

__all__ = ["LAYERS", "AnyLayer", "CONSTRUCTORS"]

AnyLayer = Annotated[Union[tuple(LAYERS.values())], Field(discriminator="kind")]  # type: ignore[valid-type]

CONSTRUCTORS: dict[str, type[Layer]] = {cls.matlab: cls for cls in LAYERS.values()}
"""MATLAB constructor name (`convolution2dLayer`) -> layer model."""
