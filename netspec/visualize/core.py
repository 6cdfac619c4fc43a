"""The tensors behind `netspec visualize`: kernels, activations, Grad-CAM and deep dream.

Everything runs the lowered module (`GraphModule.run`) on raw 0–255 pixels, as `netspec predict`
does: the input layer's normalization is part of the module. Shapes and channel counts come
from the analyzer, so what the pictures show agrees with `netspec analyze`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..analysis import analyze
from ..analysis.report import LayerReport
from ..backends.torch import GraphModule, module_name
from ..diagnostics import NetspecError, error, suggest
from ..ir import Network, conv
from ..train import checkpoint
from ..images import read_image
from ..train.loop import classifier_parts
from ..train.run import image_input_size

__all__ = ["Trained", "GradCam", "Dream", "load", "convolution", "kernels", "image_layer", "read", "activations",
           "class_index", "gradcam", "class_target", "channel_target", "dream"]

CONVOLUTIONS = (conv.Convolution2dLayer, conv.GroupedConvolution2dLayer, conv.TransposedConv2dLayer)
"""Layers with filters to draw (checkpoints hold image networks, so 1-D convolutions never occur)."""
DREAM_STEP = 2.0
"""Mean absolute change of a pixel per gradient-ascent step, in 0–255 units."""
DREAM_NOISE = (128.0, 32.0)
"""The dream starts from Gaussian noise with this mean and standard deviation (0–255 units)."""


@dataclass
class Trained:
    """A checkpoint's network, its lowered module (eval mode, weights frozen) and the analyzer's rows."""

    network: Network
    model: GraphModule
    classes: list[str]
    rows: dict[str, LayerReport]
    input_size: tuple[int, int, int]

    @property
    def order(self) -> list[str]:
        """Layer names in the order the module runs them (topological; loss layers have no module)."""
        return [name for name, _ in self.model.plan]

    def dims(self, name: str) -> list:
        """The analyzed output of a layer: [H, W, C] for images, [T, C], [C], or [] for a loss layer."""
        row = self.rows[name]
        return list(row.output_dims[0]) if row.output_dims else []


def load(source: Path) -> Trained:
    payload = checkpoint.load(source)
    network, model = checkpoint.model_of(payload)
    model.requires_grad_(False)
    rows = {row.name: row for row in analyze(network).layers}
    return Trained(network, model, payload["classes"], rows, image_input_size(network))


def _known(trained: Trained, name: str, fitting: list[str], kind: str) -> LayerReport:
    """The analyzer's row of a layer the user named, or an error that suggests a close name and
    lists the layers that fit the command."""
    if name in trained.rows:
        return trained.rows[name]
    close = suggest(name, trained.rows)
    raise error("V001", f"the network has no layer named '{name}'",
                hint=f"did you mean '{close}'?" if close else None,
                notes=[f"{kind}: {_listing(fitting)}"] if fitting else [])


def _listing(names: list[str]) -> str:
    """At most a dozen names: enough to pick from without flooding the terminal for ResNet-50."""
    return ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def _wrong_layer(name: str, why: str, fitting: list[str], kind: str) -> NetspecError:
    return error("V002", f"'{name}' {why}", notes=[f"{kind}: {_listing(fitting)}"] if fitting else [])


# -- filters ---------------------------------------------------------------------------------

def convolution(trained: Trained, name: str | None) -> str:
    """The named convolution layer, or the first one the network runs."""
    layers = {layer.name: layer for layer in trained.network.layers}
    fitting = [n for n in trained.order if isinstance(layers[n], CONVOLUTIONS)]
    if name is None:
        if not fitting:
            raise error("V002", f"'{trained.network.name}' has no convolution layer whose filters could be shown")
        return fitting[0]
    _known(trained, name, fitting, "convolution layers")
    if not isinstance(layers[name], CONVOLUTIONS):
        raise _wrong_layer(name, f"is a {layers[name].matlab}, not a convolution: it has no filters to show",
                           fitting, "convolution layers")
    return name


def kernels(trained: Trained, name: str) -> np.ndarray:
    """A convolution's weights, one row per filter: (filters, input channels per group, kh, kw)."""
    module = trained.model.layers[module_name(name)]
    core = next(m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    weight = core.weight.detach()
    if isinstance(core, nn.ConvTranspose2d):  # torch keeps (in, out, kh, kw) for transposed convolutions
        weight = weight.transpose(0, 1)
    return weight.double().numpy()


# -- activations -------------------------------------------------------------------------------

def image_layer(trained: Trained, name: str) -> list[int]:
    """The H×W×C output of the named layer: activations are shown as H×W maps, one per channel."""
    fitting = [n for n in trained.order if len(trained.dims(n)) == 3]
    row = _known(trained, name, fitting, "layers with an H×W×C output")
    dims = trained.dims(name)
    if len(dims) != 3:
        what = f"outputs {row.output_shapes[0]}" if dims else "is an output layer, with no activations"
        raise _wrong_layer(name, f"{what}; activations are shown for layers with an H×W×C output",
                           fitting, "layers with an H×W×C output")
    return dims


def read(trained: Trained, path: Path) -> np.ndarray:
    """An image file as the network reads it: uint8 (C, H, W) at the input layer's size
    (resized and converted as `netspec predict` does)."""
    return read_image(path, trained.input_size)


def _batch(image: np.ndarray) -> Tensor:
    return torch.from_numpy(image)[None].float()


def activations(trained: Trained, image: np.ndarray, name: str) -> np.ndarray:
    """The named layer's output for one image, (C, H, W) (MATLAB's `activations(..., 'OutputAs', 'channels')`)."""
    height, width, channels = image_layer(trained, name)
    with torch.no_grad():
        output = trained.model.run(_batch(image), capture={name})[name]
    return output[0].reshape(channels, height, width).double().numpy()


# -- Grad-CAM ------------------------------------------------------------------------------------

def _logits(trained: Trained, purpose: str) -> str:
    """The layer whose output are the class scores before softmax."""
    kind, logits, _ = classifier_parts(trained.network)
    if kind != "classification" or logits is None:
        raise error("V004", f"{purpose} needs class scores, but '{trained.network.name}' is a {kind} network")
    return logits


def class_index(trained: Trained, name: str) -> int:
    """The position of a class given by name, as `netspec predict` prints it."""
    if name in trained.classes:
        return trained.classes.index(name)
    close = suggest(name, trained.classes)
    raise error("V003", f"'{name}' is not a class of this network",
                hint=f"did you mean '{close}'?" if close else None,
                notes=[f"classes: {_listing(trained.classes)}"])


@dataclass
class GradCam:
    heat: np.ndarray  # (H, W) at the input size, in [0, 1]
    layer: str
    class_index: int
    probabilities: np.ndarray


def _maps(trained: Trained) -> list[str]:
    """Layers whose output is a spatial map (H×W×C, larger than 1×1), in the order the network runs."""
    return [n for n in trained.order if len(dims := trained.dims(n)) == 3 and dims[0] * dims[1] > 1]


def gradcam(trained: Trained, image: np.ndarray, class_name: str | None, layer: str | None) -> GradCam:
    """Grad-CAM (Selvaraju et al., 2017): the chosen layer's maps weighted by the spatial mean of
    the class score's gradient, summed, ReLU'd, upsampled bilinearly to the input size.

    The class score is the logit (before softmax); the class is the predicted one unless named;
    the layer defaults to the last one with a spatial output (H×W larger than 1×1), as MATLAB's
    gradCAM chooses its feature layer."""
    logits = _logits(trained, "Grad-CAM")
    fitting = _maps(trained)
    if layer is None:
        if not fitting:
            raise error("V002", f"'{trained.network.name}' has no layer with a spatial output for Grad-CAM")
        layer = fitting[-1]
    else:
        _known(trained, layer, fitting, "layers with a spatial output")
        if layer not in fitting:
            shape = trained.rows[layer].output_shapes
            raise _wrong_layer(layer, f"outputs {shape[0] if shape else 'nothing'}: Grad-CAM needs a spatial "
                               "map (H×W larger than 1×1)", fitting, "layers with a spatial output")
    with torch.enable_grad():
        kept = trained.model.run(_batch(image).requires_grad_(), capture={layer, logits})
        maps, scores = kept[layer], kept[logits].flatten(1)
        index = int(scores[0].argmax()) if class_name is None else class_index(trained, class_name)
        (gradient,) = torch.autograd.grad(scores[0, index], maps, allow_unused=True)
    if gradient is None:
        raise _wrong_layer(layer, "does not feed the class scores", fitting, "layers with a spatial output")
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * maps.detach()).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=trained.input_size[:2], mode="bilinear", align_corners=False)[0, 0]
    peak = float(cam.max())
    heat = (cam / peak if peak > 0 else cam).double().numpy()
    return GradCam(heat, layer, index, torch.softmax(scores.detach()[0], 0).double().numpy())


# -- deep dream ------------------------------------------------------------------------------------

def class_target(trained: Trained, class_name: str) -> tuple[str, int]:
    """(layer, channel) for a class: its score before softmax."""
    return _logits(trained, "Dreaming a class"), class_index(trained, class_name)


def channel_target(trained: Trained, layer: str, channel: int) -> tuple[str, int]:
    """(layer, channel) for the 1-based channel of a layer, as MATLAB's deepDreamImage numbers them."""
    fitting = [n for n in trained.order if trained.dims(n)]
    _known(trained, layer, fitting, "layers")
    dims = trained.dims(layer)
    if not dims:
        raise _wrong_layer(layer, "is an output layer, with no channels to dream", fitting, "layers")
    channels = int(dims[-1])
    if not 1 <= channel <= channels:
        raise error("V005", f"'{layer}' has {channels} channels (numbered from 1), not {channel}",
                    hint=f"--channel takes 1 to {channels}")
    return layer, channel - 1


@dataclass
class Dream:
    image: np.ndarray  # uint8 (C, H, W), stretched to 0..255
    before: float  # the target's score on the starting noise
    after: float  # ... and on the image as written


def dream(trained: Trained, target: tuple[str, int], *, iterations: int, levels: int, scale: float,
          seed: int) -> Dream:
    """deepDreamImage: gradient ascent on the input pixels, from seeded noise, coarse to fine.

    Level k of L optimises an image `scale`^(L-1-k) times smaller than the input, resized
    (bilinear) to the input size for each forward pass, so networks with fully connected layers
    work too; each step moves the pixels by DREAM_STEP on average along the gradient, and keeps
    them within 0..255. The result is stretched to 0..255 (MATLAB's 'OutputScaling' 'linear')."""
    layer, channel = target
    height, width, channels = trained.input_size

    def score(pixels: Tensor) -> Tensor:
        if pixels.shape[-2:] != (height, width):
            pixels = F.interpolate(pixels, size=(height, width), mode="bilinear", align_corners=False)
        return trained.model.run(pixels, capture={layer})[layer][:, channel].mean()

    sizes = [(max(1, round(height / scale ** k)), max(1, round(width / scale ** k))) for k in reversed(range(levels))]
    generator = torch.Generator().manual_seed(seed)
    mean, deviation = DREAM_NOISE
    pixels = (mean + deviation * torch.randn(1, channels, *sizes[0], generator=generator)).clamp(0, 255)
    with torch.no_grad():
        before = float(score(pixels))
    for size in sizes:
        if pixels.shape[-2:] != size:
            pixels = F.interpolate(pixels, size=size, mode="bilinear", align_corners=False)
        pixels = pixels.detach().requires_grad_()
        for _ in range(iterations):
            with torch.enable_grad():
                (gradient,) = torch.autograd.grad(score(pixels), pixels)
            with torch.no_grad():
                pixels += DREAM_STEP * gradient / gradient.abs().mean().clamp_min(1e-12)
                pixels.clamp_(0, 255)
    low, high = pixels.min(), pixels.max()
    stretched = (pixels - low) / (high - low) * 255 if high > low else torch.zeros_like(pixels)
    image = stretched.detach().round().to(torch.uint8)
    with torch.no_grad():
        after = float(score(image.float()))
    return Dream(image[0].numpy(), before, after)
