"""Reading an image file as a network reads it: decoded with a bounded memory, scaled to
0..255 as MATLAB's im2uint8, resized and converted to the input layer's channels.

Below both training (`train.data`) and inference without torch (`backends.onnx_predict`,
`visualize`), so that neither reaches up the pipeline for it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .diagnostics import error

__all__ = ["read_image", "fit_images", "REDUCING_GAP"]


REDUCING_GAP = 3
"""An image more than twice this many times the input size (per axis) is reduced by a whole
factor as it is decoded, to no less than this many times the input size, before the final
resize: Pillow's `resize(reducing_gap=3)`, whose results it documents as indistinguishable
from a direct resize. Memory then stays near the decoded image itself."""


def read_image(path: Path, size: tuple[int, int, int]) -> np.ndarray:
    """An image file as the network reads it: uint8 (C, H, W) at the input layer's size (H, W, C).

    Grey images (1-bit, 8-bit, 16-bit, 32-bit and float) give one channel, all others RGB;
    16-bit and float pixels are scaled to 0..255 as MATLAB's im2uint8 does. Pillow refuses an
    image over twice Image.MAX_IMAGE_PIXELS (179 megapixels by default) as a decompression
    bomb: error D011; anything smaller is read, reduced early (see REDUCING_GAP)."""
    from PIL import Image, UnidentifiedImageError

    enough = (size[1] * REDUCING_GAP, size[0] * REDUCING_GAP)  # (width, height), as Pillow counts
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # memory is bounded below instead
            with Image.open(path) as image:
                image.draft(None, enough)  # JPEG: decode at 1/2, 1/4 or 1/8 scale where that is still enough
                mode = _reducible_mode(image.mode)
                decoded = image.convert(mode) if image.mode != mode else image
                factors = (max(1, decoded.width // enough[0]), max(1, decoded.height // enough[1]))
                array = _im2uint8(np.asarray(decoded.reduce(factors) if factors != (1, 1) else decoded))
    except Image.DecompressionBombError as exc:
        raise error("D011", f"the image {path} is too large to read", notes=[str(exc)],
                    hint=f"netspec reads images of up to {2 * Image.MAX_IMAGE_PIXELS:,} pixels; shrink it first, "
                         "e.g. `magick IMAGE -resize 4096x4096 SMALLER.png`") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise error("D004", f"cannot read image {path}: {exc}",
                    hint="remove the file, or convert it to PNG or JPEG") from None
    return fit_images(array[None], size)[0]


def _reducible_mode(mode: str) -> str:
    """The mode an image is read in, one `Image.reduce` takes: grey stays grey (16-bit as
    32-bit 'I', 1-bit as 'L'), everything else becomes RGB."""
    if mode.startswith("I;16"):
        return "I"
    if mode == "1":
        return "L"
    return mode if mode in ("L", "I", "F") else "RGB"


def _im2uint8(array: np.ndarray) -> np.ndarray:
    """(H, W[, C]) pixels -> uint8 (H, W, C) as MATLAB's im2uint8: 8-bit as they are, integers by
    the 16-bit range (x/257; Pillow's 32-bit 'I' holds 16-bit PNG and PGM), floats from 0..1."""
    if array.dtype != np.uint8:
        scaled = np.clip(array, 0, 1) * 255 if array.dtype.kind == "f" else np.clip(array, 0, 65535) / 257
        array = np.floor(scaled + 0.5).astype(np.uint8)  # MATLAB rounds halves up
    return array[:, :, None] if array.ndim == 2 else array


def fit_images(images: np.ndarray, size: tuple[int, int, int]) -> np.ndarray:
    """(N, H, W[, C]) uint8 -> (N, C, h, w) at the input layer's size: resize, then gray <-> RGB."""
    from PIL import Image

    height, width, channels = size
    if images.ndim == 3:
        images = images[:, :, :, None]
    out = np.empty((len(images), channels, height, width), dtype=np.uint8)
    for i, image in enumerate(images):
        if image.shape[:2] != (height, width):
            mode = "L" if image.shape[2] == 1 else "RGB"
            resized = Image.fromarray(image[:, :, 0] if mode == "L" else image, mode).resize(
                (width, height), Image.BILINEAR)
            image = np.asarray(resized)
            image = image[:, :, None] if image.ndim == 2 else image
        if image.shape[2] != channels:
            if channels == 1:
                image = np.round(image[:, :, :3] @ np.array([0.2989, 0.5870, 0.1140]))[:, :, None].astype(np.uint8)
            elif image.shape[2] == 1:
                image = np.repeat(image, channels, axis=2)
            else:
                raise error("D005", f"cannot convert {image.shape[2]}-channel images to {channels} channels")
        out[i] = image.transpose(2, 0, 1)
    return out
