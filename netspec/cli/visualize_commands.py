"""`netspec visualize`: pictures of what a trained network learned and what it looks at
(the pictures are made by `netspec.visualize`).

Only typer is imported here; torch, numpy and Pillow load inside the commands, so registering
this sub-app keeps `netspec check` and `netspec analyze` free of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..text import printable
from .options import QuietOption
from .output import Output

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

__all__ = ["filters", "activations", "gradcam", "dream"]

RunArgument = Annotated[Path, typer.Argument(metavar="RUN", help="Run folder or checkpoint (.pt).")]
ImageArgument = Annotated[Path, typer.Argument(metavar="IMAGE",
    help="Image file, resized to the input layer as `netspec predict` does.", exists=True, dir_okay=False)]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="PNG file to write (missing folders are created).")]
ClassOption = Annotated[Optional[str], typer.Option("--class", help="Class name, as `netspec predict` prints it.")]


def _check_png(out: Path) -> None:
    if out.suffix.lower() != ".png":
        raise typer.BadParameter(f"netspec visualize writes PNG: name the file {out.with_suffix('.png').name}",
                                 param_hint="--out")


def _write(image: Image.Image, out: Path) -> None:
    """Atomically, like `netspec export`: an existing file survives a failed write."""
    from ..files import write_atomically
    from ..visualize.montage import png_bytes

    write_atomically(out, lambda stream: stream.write(png_bytes(image)))


def _rgb(pixels: np.ndarray) -> np.ndarray:
    """uint8 (C, H, W) -> (H, W, 3) in [0, 1]; images that are not RGB show the mean of their channels."""
    import numpy as np

    view = pixels.transpose(1, 2, 0) / 255.0
    return view if view.shape[2] == 3 else np.repeat(view.mean(axis=2, keepdims=True), 3, axis=2)


def filters(
    run: RunArgument,
    out: OutOption,
    layer: Annotated[Optional[str], typer.Option(help="Convolution layer (default: the first one).")] = None,
    input_channel: Annotated[Optional[int], typer.Option(
        min=1, help="Input channel to show, from 1 (default: colour for 3 input channels, else "
                    "channel 1).")] = None,
    quiet: QuietOption = False,
) -> None:
    """A convolution's filters, one tile per filter, each stretched to black..white on its own.

    A layer reading 3 channels shows them as colour (RGB); otherwise each tile is one input
    channel of the filter (the first, or --input-channel), in grey."""
    from ..diagnostics import error
    from ..visualize import core
    from ..visualize.montage import montage, rescale

    _check_png(out)
    trained = core.load(run)
    name = core.convolution(trained, layer)
    weights = core.kernels(trained, name)
    count, inputs = weights.shape[:2]
    size = "×".join(str(d) for d in (*weights.shape[2:], inputs))
    if inputs == 3 and input_channel is None:
        tiles, shown = weights.transpose(0, 2, 3, 1), "in colour (RGB)"
    else:
        channel = input_channel or 1
        if channel > inputs:
            raise error("V005", f"'{name}' reads {inputs} input channel{'s' if inputs != 1 else ''}, not {channel}",
                        hint=f"--input-channel takes 1 to {inputs}")
        tiles = weights[:, channel - 1]
        shown = "in grey" if inputs == 1 else f"input channel {channel} of {inputs}"
    picture = montage(rescale(tiles, per_item=True), f"{name}: {count} filters of {size}, {shown}")
    _write(picture.image, out)
    Output(quiet=quiet).note(f"wrote {out} ({picture.describe()}): {printable(name)}, {count} filters of {size}, "
                             f"{shown}")


def activations(
    run: RunArgument,
    image: ImageArgument,
    layer: Annotated[str, typer.Option(help="Layer whose output to show (an H×W×C output).")],
    out: OutOption,
    quiet: QuietOption = False,
) -> None:
    """One tile per channel of a layer's output for an image: MATLAB's
    `activations(net, img, layer, 'OutputAs', 'channels')` then `montage(mat2gray(act))`.

    The whole output is stretched to black..white at once, as mat2gray does, so a weakly
    responding channel looks dark next to a strong one."""
    from ..visualize import core
    from ..visualize.montage import montage, rescale

    _check_png(out)
    trained = core.load(run)
    maps = core.activations(trained, core.read(trained, image), layer)
    shape = trained.rows[layer].output_shapes[0]
    picture = montage(rescale(maps), f"{layer} ({shape}) for {image.name}")
    _write(picture.image, out)
    Output(quiet=quiet).note(f"wrote {out} ({picture.describe()}): {printable(layer)} {shape}, one tile per channel")


def gradcam(
    run: RunArgument,
    image: ImageArgument,
    out: OutOption,
    class_name: ClassOption = None,
    layer: Annotated[Optional[str], typer.Option(
        help="Layer to explain (default: the last one whose output is larger than 1×1).")] = None,
    quiet: QuietOption = False,
) -> None:
    """Where the network looks: Grad-CAM of a class score (default: the predicted class) at a layer,
    as a jet heat map over the image, beside the image.

    The score is the class's logit (the input of softmax); the layer's channels are weighted by
    the spatial mean of the score's gradient, summed, kept positive and upsampled bilinearly to
    the input size."""
    import numpy as np

    from ..visualize import core
    from ..visualize.montage import VIEW_PIXELS, heat_overlay, montage

    _check_png(out)
    trained = core.load(run)
    pixels = core.read(trained, image)
    result = core.gradcam(trained, pixels, class_name, layer)
    name = trained.classes[result.class_index]
    probability = 100 * result.probabilities[result.class_index]
    predicted = trained.classes[int(result.probabilities.argmax())]
    shape = trained.rows[result.layer].output_shapes[0]
    view = _rgb(pixels)
    picture = montage(np.stack([view, heat_overlay(view, result.heat)]),
                      f"Grad-CAM of '{name}' ({probability:.1f}%) at {result.layer} {shape}", at_least=VIEW_PIXELS)
    _write(picture.image, out)
    Output(quiet=quiet).note(f"class '{printable(name)}' ({probability:.1f}%, predicted '{printable(predicted)}'), "
                             f"layer {printable(result.layer)} {shape}: wrote {out} ({picture.describe()})")


def dream(
    run: RunArgument,
    out: OutOption,
    class_name: ClassOption = None,
    layer: Annotated[Optional[str], typer.Option(help="Dream a channel of this layer instead of a class "
                                                      "(with --channel).")] = None,
    channel: Annotated[Optional[int], typer.Option(min=1, help="Channel of --layer, from 1.")] = None,
    iterations: Annotated[int, typer.Option(min=1, help="Gradient steps per pyramid level (NumIterations).")] = 10,
    levels: Annotated[int, typer.Option(min=1, help="Pyramid levels, coarse to fine (PyramidLevels).")] = 3,
    scale: Annotated[float, typer.Option(min=1.0, help="Size ratio between levels (PyramidScale).")] = 1.4,
    seed: Annotated[int, typer.Option(help="Seed of the starting noise.")] = 0,
    quiet: QuietOption = False,
) -> None:
    """deepDreamImage: the input that most raises a class's score (or a layer's channel), by gradient
    ascent on the pixels from seeded noise, coarse to fine over an image pyramid.

    The PNG is the dreamed image at the input size, stretched to black..white and enlarged
    (nearest neighbour) by a whole factor to at least 224 pixels: a 28×28 input gives 224×224."""
    from PIL import Image

    from ..visualize import core
    from ..visualize.montage import VIEW_PIXELS, enlarge, enlargement

    _check_png(out)
    if (class_name is None) == (layer is None):
        raise typer.BadParameter("give --class NAME, or --layer NAME --channel N", param_hint="--class")
    if (layer is None) != (channel is None):
        raise typer.BadParameter("--layer and --channel go together", param_hint="--channel")
    trained = core.load(run)
    target = core.class_target(trained, class_name) if class_name is not None else \
        core.channel_target(trained, layer, channel)
    result = core.dream(trained, target, iterations=iterations, levels=levels, scale=scale, seed=seed)
    height, width, channels = trained.input_size
    factor = enlargement(height, width, VIEW_PIXELS)
    pixels = result.image.transpose(1, 2, 0)
    picture = Image.fromarray(enlarge(pixels, factor)) if channels == 3 else \
        Image.fromarray(enlarge(pixels.mean(axis=2).round().astype("uint8"), factor), "L")
    _write(picture, out)
    what = f"class '{class_name}'" if class_name is not None else f"{layer} channel {channel}"
    Output(quiet=quiet).note(f"{what}: score {result.before:.2f} on the starting noise, {result.after:.2f} on the "
                             f"dream; wrote {out} ({picture.width}×{picture.height} px, the {height}×{width} input "
                             f"×{factor})")
