"""`netspec visualize` on a network trained here, on pictures whose evidence we planted.

Class 'topleft' has a bright blob somewhere in the top-left quadrant, class 'none' only noise:
Grad-CAM must find the blob, a dream must raise its class's score, and every montage must hold
one tile per filter or channel of the analyzer's shape.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from train.conftest import ENV, netspec

from netspec.visualize import core
from netspec.visualize.montage import GAP, TILE_PIXELS, TITLE_HEIGHT, VIEW_PIXELS, enlargement

torch.set_num_threads(1)

SIDE = 16
SPEC = """layers = [imageInputLayer([16 16 3])
    convolution2dLayer(3,8,'Padding','same')
    reluLayer
    maxPooling2dLayer(2,'Stride',2)
    convolution2dLayer(3,8,'Padding','same')
    reluLayer
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
options = trainingOptions('adam', 'MaxEpochs',10, 'MiniBatchSize',16, 'InitialLearnRate',0.01);
"""
CLASSES = ["none", "topleft"]
LAYOUT = re.compile(r"\((\d+)×(\d+) px, (\d+) tiles? in a (\d+)×(\d+) grid of (\d+)×(\d+) px\)")


def planted(rng: np.random.Generator, blob: bool) -> np.ndarray:
    """A noisy (16, 16, 3) uint8 image, with a Gaussian blob in the top-left quadrant when `blob`."""
    pixels = rng.integers(0, 70, (SIDE, SIDE, 3)).astype(float)
    if blob:
        y, x = rng.uniform(2.5, 5.5, 2)
        rows, columns = np.mgrid[:SIDE, :SIDE]
        bump = np.exp(-((rows - y) ** 2 + (columns - x) ** 2) / (2 * 1.5 ** 2))
        pixels += 180 * bump[..., None] * np.array([1.0, 0.8, 0.4])
    return np.clip(pixels, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("visualize")
    rng = np.random.default_rng(0)
    for name in CLASSES:
        folder = root / "data" / name
        folder.mkdir(parents=True)
        for i in range(40):
            Image.fromarray(planted(rng, name == "topleft")).save(folder / f"{i:03d}.png")
    Image.fromarray(planted(rng, True)).save(root / "topleft.png")
    (root / "spec.net").write_text(SPEC, encoding="utf-8")
    result = netspec("train", root / "spec.net", "--data", root / "data", "--out", root / "run", "--quiet")
    assert result.code == 0, result
    return root


@pytest.fixture(scope="module")
def run(root) -> Path:
    return root / "run"


@pytest.fixture(scope="module")
def trained(run) -> core.Trained:
    return core.load(run)


def channels(trained: core.Trained, layer: str) -> int:
    return int(trained.rows[layer].output_dims[0][-1])


def layout(result, out: Path) -> tuple[Image.Image, int, tuple[int, int], tuple[int, int]]:
    """The PNG the command wrote, checked against the size it printed; its tiles, grid and tile size."""
    assert result.code == 0, result
    match = LAYOUT.search(result.err)  # "wrote FILE (...)" lines go to stderr, as every command's do
    assert match and result.out == "", result
    width, height, tiles, rows, columns, tile_h, tile_w = map(int, match.groups())
    image = Image.open(out)
    assert image.format == "PNG" and image.size == (width, height)
    assert rows * columns >= tiles > (rows - 1) * columns and columns - rows in (0, 1)  # near square
    assert height == TITLE_HEIGHT + rows * (tile_h + GAP) + GAP
    assert width >= columns * (tile_w + GAP) + GAP
    return image, tiles, (rows, columns), (tile_h, tile_w)


def tile_pixels(image: Image.Image, index: int, grid: tuple[int, int], tile: tuple[int, int]) -> np.ndarray:
    pixels = np.asarray(image)
    row, column = divmod(index, grid[1])
    left = (image.width - (grid[1] * (tile[1] + GAP) + GAP)) // 2 + GAP + column * (tile[1] + GAP)
    top = TITLE_HEIGHT + GAP + row * (tile[0] + GAP)
    return pixels[top:top + tile[0], left:left + tile[1]]


def test_the_network_learned_the_planted_evidence(trained):
    rng = np.random.default_rng(7)
    labels = [i % 2 for i in range(20)]
    images = np.stack([planted(rng, bool(label)).transpose(2, 0, 1) for label in labels])
    with torch.no_grad():
        scores = trained.model(torch.from_numpy(images).float())
    predicted = scores.flatten(1).argmax(1).numpy()
    assert trained.classes == CLASSES
    assert (predicted == np.array(labels)).mean() >= 0.9


def test_filters_of_a_colour_layer_are_rgb_tiles_each_stretched(run, trained, tmp_path):
    out = tmp_path / "filters.png"
    image, tiles, grid, tile = layout(netspec("visualize", "filters", run, "-o", out), out)
    assert image.mode == "RGB"
    assert tiles == channels(trained, "conv_1") == 8  # the default: the first convolution
    assert tile == (3 * enlargement(3, 3, TILE_PIXELS),) * 2
    for index in range(tiles):  # min-max per filter: every tile spans black to white
        pixels = tile_pixels(image, index, grid, tile)
        assert pixels.min() == 0 and pixels.max() == 255


def test_filters_of_other_layers_are_grey(run, trained, tmp_path):
    out = tmp_path / "conv2.png"
    result = netspec("visualize", "filters", run, "--layer", "conv_2", "--input-channel", "3", "-o", out)
    image, tiles, _, _ = layout(result, out)
    assert image.mode == "L" and tiles == channels(trained, "conv_2")
    assert "input channel 3 of 8" in result.err


@pytest.mark.parametrize("layer", ["relu_1", "maxpool", "fc"])
def test_activations_one_tile_per_channel(run, root, trained, tmp_path, layer):
    out = tmp_path / f"{layer}.png"
    result = netspec("visualize", "activations", run, root / "topleft.png", "--layer", layer, "-o", out)
    image, tiles, grid, tile = layout(result, out)
    height, width, count = trained.rows[layer].output_dims[0]
    assert tiles == count and tile == (height * enlargement(height, width, TILE_PIXELS),) * 2
    assert trained.rows[layer].output_shapes[0] in result.err  # e.g. 16×16×8
    pixels = np.stack([tile_pixels(image, i, grid, tile) for i in range(tiles)])
    assert pixels.min() == 0 and pixels.max() == 255  # mat2gray over the whole output


def test_gradcam_finds_the_planted_blob(trained):
    rng = np.random.default_rng(11)
    shares = []
    for _ in range(8):
        result = core.gradcam(trained, planted(rng, True).transpose(2, 0, 1), "topleft", None)
        assert result.layer == "relu_2"  # the last layer with a spatial output (8×8×8)
        assert result.heat.shape == (SIDE, SIDE) and result.heat.max() == pytest.approx(1.0)
        shares.append(result.heat[:SIDE // 2, :SIDE // 2].sum() / result.heat.sum())
    assert np.mean(shares) > 0.6 and np.mean(np.array(shares) > 0.5) >= 0.75, shares


def test_gradcam_picture(run, root, tmp_path):
    out = tmp_path / "cam.png"
    result = netspec("visualize", "gradcam", run, root / "topleft.png", "-o", out)
    image, tiles, grid, tile = layout(result, out)
    assert image.mode == "RGB" and tiles == 2 and grid == (1, 2)
    assert tile == (VIEW_PIXELS, VIEW_PIXELS)  # 16×16 enlarged 14 times
    assert re.search(r"class 'topleft' \(\d+\.\d%, predicted 'topleft'\), layer relu_2 8×8×8", result.err)
    # the left panel is the image itself, enlarged
    original = np.asarray(Image.open(root / "topleft.png"))
    assert np.array_equal(tile_pixels(image, 0, grid, tile)[::14, ::14], original)


def test_dream_raises_its_class_score_deterministically(run, trained, tmp_path):
    target = core.class_target(trained, "topleft")
    first = core.dream(trained, target, iterations=10, levels=3, scale=1.4, seed=0)
    again = core.dream(trained, target, iterations=10, levels=3, scale=1.4, seed=0)
    other = core.dream(trained, target, iterations=10, levels=3, scale=1.4, seed=1)
    assert np.array_equal(first.image, again.image) and not np.array_equal(first.image, other.image)
    assert first.after > first.before + 1
    out = tmp_path / "dream.png"
    result = netspec("visualize", "dream", run, "--class", "topleft", "-o", out)
    assert result.code == 0, result
    image = Image.open(out)
    assert image.size == (224, 224) and image.mode == "RGB"  # 16×16 enlarged 14 times
    written = np.array(image)[::14, ::14].transpose(2, 0, 1)
    assert np.array_equal(written, first.image)
    with torch.no_grad():
        score = float(trained.model.run(torch.from_numpy(written)[None].float(), capture={"fc"})["fc"].flatten()[1])
    assert score == pytest.approx(first.after, abs=1e-4)
    assert f"score {first.before:.2f} on the starting noise, {first.after:.2f} on the dream" in result.err


def test_dream_of_a_channel(run, tmp_path):
    out = tmp_path / "channel.png"
    result = netspec("visualize", "dream", run, "--layer", "conv_2", "--channel", "2", "--levels", "1", "-o", out)
    assert result.code == 0, result
    assert result.err.startswith("conv_2 channel 2: score")


def test_missing_folders_are_created(run, tmp_path):
    out = tmp_path / "new" / "deeper" / "filters.png"
    assert netspec("visualize", "filters", run, "-o", out).code == 0
    assert out.is_file() and not list(out.parent.glob(".*.tmp"))


@pytest.mark.parametrize("args, code, shown", [
    (["filters", "{run}", "--layer", "conv1"], 1, ["error[V001]", "did you mean 'conv_1'?"]),
    (["filters", "{run}", "--layer", "relu_1"], 1, ["error[V002]", "convolution layers: conv_1, conv_2"]),
    (["filters", "{run}", "--layer", "conv_2", "--input-channel", "9"], 1, ["error[V005]"]),
    (["activations", "{run}", "{image}", "--layer", "classoutput"], 1, ["error[V002]"]),
    (["activations", "{run}", "{root}/missing.png", "--layer", "fc"], 2, ["does not exist"]),
    (["gradcam", "{run}", "{image}", "--layer", "fc"], 1, ["error[V002]", "1×1×2"]),
    (["gradcam", "{run}", "{image}", "--class", "TopLeft"], 1, ["error[V003]", "did you mean 'topleft'?"]),
    (["dream", "{run}"], 2, ["--class NAME, or --layer NAME --channel N"]),
    (["dream", "{run}", "--layer", "fc", "--channel", "3"], 1, ["error[V005]", "--channel takes 1 to 2"]),
    (["dream", "{root}/nowhere", "--class", "none"], 1, ["error[C001]"]),
])
def test_mistakes_are_reported_without_traceback(run, root, tmp_path, args, code, shown):
    out = tmp_path / "out.png"
    words = [a.format(run=run, root=root, image=root / "topleft.png") for a in args]
    result = netspec("visualize", *words, "-o", out)
    assert result.code == code, result
    for text in shown:
        assert text in result.err, result
    assert "Traceback" not in result.err and not (tmp_path / "out.png").exists()


def test_a_png_is_required(run, tmp_path):
    result = netspec("visualize", "filters", run, "-o", tmp_path / "filters.jpg")
    assert result.code == 2 and "filters.png" in result.err


def test_registering_the_sub_app_imports_nothing_heavy():
    code = ("import sys, netspec.cli\n"
            "print(sorted(m for m in ('torch', 'numpy', 'PIL', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result
