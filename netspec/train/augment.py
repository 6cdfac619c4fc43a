"""imageDataAugmenter's random transforms, applied to a batch on its device."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from ..diagnostics import error

__all__ = ["Augmenter", "parse_augmentation"]


@dataclass
class Augmenter:
    """RandXReflection, RandYReflection, RandRotation [deg], RandXTranslation/RandYTranslation
    [pixels], RandScale [factor] — MATLAB's names and meanings."""

    x_reflection: bool = False
    y_reflection: bool = False
    rotation: tuple[float, float] = (0.0, 0.0)
    x_translation: tuple[float, float] = (0.0, 0.0)
    y_translation: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)

    def __call__(self, x: Tensor) -> Tensor:
        n, _, height, width = x.shape
        device = x.device
        if self.x_reflection:
            flip = torch.rand(n, device=device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        if self.y_reflection:
            flip = torch.rand(n, device=device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(2), x)
        if self.rotation == (0.0, 0.0) and self.scale == (1.0, 1.0) and \
                self.x_translation == (0.0, 0.0) and self.y_translation == (0.0, 0.0):
            return x

        def uniform(bounds: tuple[float, float]) -> Tensor:
            return torch.empty(n, device=device).uniform_(bounds[0], bounds[1])

        angle = uniform(self.rotation) * math.pi / 180
        scale = uniform(self.scale)
        tx = uniform(self.x_translation) * 2 / width
        ty = uniform(self.y_translation) * 2 / height
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos, -sin, -tx], 1), torch.stack([sin, cos, -ty], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _pair(name: str, text: str) -> tuple[float, float]:
    try:
        values = [float(v) for v in text.strip("[]").replace(",", " ").split()]
    except ValueError:
        values = []
    if len(values) != 2 or values[0] > values[1]:
        raise error("R010", f"augmentation {name} takes a range [low high], got '{text}'",
                    hint=f"for example {name}=[-10 10]")
    return values[0], values[1]


def parse_augmentation(text: str | None) -> Augmenter | None:
    """'RandXReflection,RandRotation=[-10 10],RandScale=[0.9 1.1]' -> Augmenter."""
    if not text:
        return None
    augmenter = Augmenter()
    for part in filter(None, (p.strip() for p in text.split(";" if ";" in text else ","))):
        name, _, value = part.partition("=")
        key = name.strip().lower()
        if key == "randxreflection":
            augmenter.x_reflection = value.strip().lower() not in ("false", "0")
        elif key == "randyreflection":
            augmenter.y_reflection = value.strip().lower() not in ("false", "0")
        elif key == "randrotation":
            augmenter.rotation = _pair(name, value)
        elif key == "randxtranslation":
            augmenter.x_translation = _pair(name, value)
        elif key == "randytranslation":
            augmenter.y_translation = _pair(name, value)
        elif key == "randscale":
            augmenter.scale = _pair(name, value)
        else:
            raise error("R010", f"unknown augmentation '{name}'",
                        hint="use RandXReflection, RandYReflection, RandRotation, RandXTranslation, "
                             "RandYTranslation, RandScale")
    return augmenter
