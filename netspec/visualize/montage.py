"""The pictures of `netspec visualize`: tiles in a near-square grid, heat-map overlays, PNG bytes.

Built with numpy and Pillow pixel by pixel (matplotlib only lends its colormap), so a picture's
size follows from its grid: `GAP` pixels around every tile, a `TITLE_HEIGHT` band on top, and the
canvas widened (tiles centred) only when the title needs more room.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["Picture", "TILE_PIXELS", "VIEW_PIXELS", "GAP", "TITLE_HEIGHT", "grid_shape", "enlargement",
           "enlarge", "rescale", "montage", "heat_overlay", "png_bytes"]

TILE_PIXELS = 48
"""Tiles smaller than this are enlarged (nearest neighbour) so a 3×3 kernel stays visible."""
VIEW_PIXELS = 224
"""Whole images (Grad-CAM panels, dreams) are enlarged to at least this size: 28×28 becomes 224×224."""
GAP = 2
TITLE_HEIGHT = 22
TITLE_MARGIN = 8
BACKGROUND = 255


@dataclass(frozen=True)
class Picture:
    image: Image.Image
    tiles: int
    grid: tuple[int, int]  # rows, columns
    tile: tuple[int, int]  # height, width in pixels, after enlargement

    def describe(self) -> str:
        width, height = self.image.size
        return (f"{width}×{height} px, {self.tiles} tile{'s' if self.tiles != 1 else ''} "
                f"in a {self.grid[0]}×{self.grid[1]} grid of {self.tile[0]}×{self.tile[1]} px")


def grid_shape(count: int) -> tuple[int, int]:
    """(rows, columns) as near square as possible, filled row by row (MATLAB's montage)."""
    columns = math.ceil(math.sqrt(count))
    return math.ceil(count / columns), columns


def enlargement(height: int, width: int, at_least: int) -> int:
    """The whole-number factor that brings the larger side to `at_least` pixels (1 when it is already)."""
    return max(1, math.ceil(at_least / max(height, width)))


def enlarge(array: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement of the first two axes: every value becomes a factor×factor block."""
    return array.repeat(factor, axis=0).repeat(factor, axis=1)


def rescale(array: np.ndarray, per_item: bool = False) -> np.ndarray:
    """MATLAB's mat2gray: min-max to [0, 1], over the whole array or each item along axis 0 apart.
    A constant array (or item) becomes 0."""
    axes = tuple(range(1, array.ndim)) if per_item else None
    low = array.min(axis=axes, keepdims=True)
    span = array.max(axis=axes, keepdims=True) - low
    return np.divide(array - low, span, out=np.zeros(array.shape, dtype=np.float64), where=span > 0)


def _font() -> ImageFont.FreeTypeFont:
    """DejaVu Sans from matplotlib's data: Pillow's default font has no '×' for the shapes."""
    import matplotlib

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), 12)


def montage(tiles: np.ndarray, title: str, at_least: int = TILE_PIXELS) -> Picture:
    """Tiles (N, h, w) grey or (N, h, w, 3) colour, values in [0, 1], in a near-square grid
    under a title; grey tiles give a greyscale PNG, colour tiles an RGB one."""
    count, height, width = tiles.shape[:3]
    factor = enlargement(height, width, at_least)
    tile_h, tile_w = height * factor, width * factor
    rows, columns = grid_shape(count)
    font = _font()
    text_width = math.ceil(ImageDraw.Draw(Image.new("L", (1, 1))).textlength(title, font=font))
    grid_width = columns * (tile_w + GAP) + GAP
    canvas_width = max(grid_width, text_width + 2 * TITLE_MARGIN)
    left = (canvas_width - grid_width) // 2
    colour = tiles.ndim == 4
    canvas = np.full((TITLE_HEIGHT + rows * (tile_h + GAP) + GAP, canvas_width, *((3,) if colour else ())),
                     BACKGROUND, dtype=np.uint8)
    pixels = np.round(np.clip(tiles, 0, 1) * 255).astype(np.uint8)
    for index, tile in enumerate(pixels):
        row, column = divmod(index, columns)
        top = TITLE_HEIGHT + GAP + row * (tile_h + GAP)
        start = left + GAP + column * (tile_w + GAP)
        canvas[top:top + tile_h, start:start + tile_w] = enlarge(tile, factor)
    image = Image.fromarray(canvas, "RGB" if colour else "L")
    ImageDraw.Draw(image).text((canvas_width // 2, TITLE_HEIGHT // 2), title, fill=0, font=font, anchor="mm")
    return Picture(image, count, (rows, columns), (tile_h, tile_w))


def heat_overlay(image: np.ndarray, heat: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """An RGB image (H, W, 3) in [0, 1] under a jet-coloured heat map (H, W) in [0, 1], as MATLAB's
    gradCAM examples draw it (`imagesc(map, 'AlphaData', 0.5); colormap jet`)."""
    import matplotlib

    return (1 - opacity) * image + opacity * matplotlib.colormaps["jet"](heat)[..., :3]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
