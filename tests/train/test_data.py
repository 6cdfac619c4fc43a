"""Data sources: mnist:DIR IDX files (gz and raw), image folders resized and converted to the input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from netspec.train.data import load_source

from .conftest import load_ckpt, make_folder, make_mnist, netspec, summary, write_spec

OPTIONS = "'sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'InitialLearnRate',1e-3"


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_idx_source(tmp_path, compress):
    folder = make_mnist(tmp_path / "mnist", compress=compress)
    training, validation, test = load_source(f"mnist:{folder}", (8, 8, 1), split=0.75, seed=0)
    assert training.classes == [str(d) for d in range(10)]
    assert training.images.shape[1:] == (1, 8, 8) and training.images.dtype == np.uint8
    assert len(training) + len(validation) == 30 and len(test) == 10
    assert sorted(set(training.labels.tolist())) == [0, 1, 2]
    # 28x28 resized to 8x8 keeps the bright band of each digit's class
    first = test.images[test.labels == 0][0, 0]
    assert first[:, :2].mean() > first[:, -2:].mean() + 100


def test_train_on_mnist_dir(tmp_path):
    folder = make_mnist(tmp_path / "mnist")
    spec = write_spec(tmp_path / "m.net", fc=10, options=OPTIONS)
    run = tmp_path / "run"
    result = netspec("train", spec, "--data", f"mnist:{folder}", "--out", run, "--quiet")
    assert result.code == 0, result
    info = summary(run)
    assert info["test"]["images"] == 10  # the t10k files are the test set
    assert info["iterations"] == 24 // 8  # 3 labels x 10 images, 80% of each label trains
    assert load_ckpt(run / "last.pt")["classes"] == [str(d) for d in range(10)]
    assert (run / "confusion.png").is_file()
    result = netspec("evaluate", run, "--data", f"mnist:{folder}")
    assert result.code == 0 and "(10images)" in "".join(result.out.split()), result


def test_rgb_folder_feeds_grey_input_resized(tmp_path):
    folder = tmp_path / "rgb"
    for name, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        (folder / name).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((20, 12, 3), colour, dtype=np.uint8)).save(folder / name / f"{i}.png")
    training, validation, test = load_source(str(folder), (8, 8, 1), split=0.5, seed=0)
    assert test is None
    assert training.images.shape == (6, 1, 8, 8) and validation.images.shape == (6, 1, 8, 8)
    assert training.classes == ["blue", "red"]
    grey = {training.classes[label]: int(image.max()) for image, label in zip(training.images, training.labels)}
    assert grey == {"red": round(255 * 0.2989), "blue": round(255 * 0.1140)}  # rgb2gray's weights
    assert all(int(image.min()) == int(image.max()) for image in training.images)


def test_grey_folder_feeds_rgb_input(tmp_path):
    folder = make_folder(tmp_path / "grey", n=4, size=(10, 10))
    training, _, _ = load_source(str(folder), (6, 6, 3), split=0.5, seed=0)
    assert training.images.shape == (4, 3, 6, 6)
    assert (training.images[:, 0] == training.images[:, 1]).all() and \
        (training.images[:, 1] == training.images[:, 2]).all()


def test_train_on_rgb_images_of_another_size(tmp_path):
    folder = make_folder(tmp_path / "data", n=10, size=(16, 12), rgb=True)
    spec = write_spec(tmp_path / "g.net", options=OPTIONS)  # imageInputLayer([8 8 1])
    run = tmp_path / "run"
    result = netspec("train", spec, "--data", folder, "--out", run, "--quiet")
    assert result.code == 0, result
    assert summary(run)["iterations"] == 16 // 8
    assert load_ckpt(run / "last.pt")["model"]["layers.imageinput.mean"].numel() == 1
    result = netspec("predict", run, folder / "a" / "000.png", "--json")
    assert result.code == 0, result


def _black_png(path, width: int, height: int) -> None:
    """A valid all-black 1-bit PNG of any size, compressed row by row: Pillow would hold every
    pixel in memory to write it (400 MB for 20000×20000), the file is under 100 KB."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row, compressor = bytes(1 + (width + 7) // 8), zlib.compressobj(9)  # filter byte, then packed bits
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_a_clean_error_naming_the_file_and_its_size(tmp_path):
    folder = make_folder(tmp_path / "data", n=4)
    _black_png(folder / "b" / "bomb.png", 20000, 20000)
    assert (folder / "b" / "bomb.png").stat().st_size < 500_000
    spec = write_spec(tmp_path / "s.net", options=OPTIONS)
    result = netspec("train", spec, "--data", folder, "--out", tmp_path / "run", "--quiet")
    assert result.code == 1, result
    assert "error[D011]" in result.err and "bomb.png" in result.err and "400000000 pixels" in result.err, result
    assert "Traceback" not in result.err and "internal error" not in result.err


SIXTEEN_BIT = np.linspace(0, 65535, 64).round().astype(np.uint16).reshape(4, 16)


@pytest.mark.parametrize("name, image, expected", [
    ("ramp.png", Image.fromarray(SIXTEEN_BIT), np.round(SIXTEEN_BIT / 257)),  # opens as I;16
    ("ramp.tif", Image.fromarray(SIXTEEN_BIT.astype(">u2")), np.round(SIXTEEN_BIT / 257)),  # I;16B
    ("ramp.pgm", Image.fromarray(SIXTEEN_BIT), np.round(SIXTEEN_BIT / 257)),  # opens as I (32-bit)
    ("ramp.tif", Image.fromarray((SIXTEEN_BIT / 65535).astype(np.float32)), np.round(SIXTEEN_BIT / 65535 * 255)),
], ids=["png-I;16", "tiff-I;16B", "pgm-I", "tiff-F"])
def test_16_bit_and_float_images_are_scaled_to_0_255_as_im2uint8_does(tmp_path, name, image, expected):
    (tmp_path / "data" / "ramp").mkdir(parents=True)
    image.save(tmp_path / "data" / "ramp" / name)
    training, _, _ = load_source(str(tmp_path / "data"), (4, 16, 1), split=1.0)
    assert training.images.shape == (1, 1, 4, 16)
    assert np.array_equal(training.images[0, 0], expected.astype(np.uint8))


def _save_big(path, mode: str) -> None:
    """6000×6000: white left half, black right half."""
    image = Image.new(mode, (6000, 6000))
    if mode == "P":
        image.putpalette([0, 0, 0, 255, 255, 255])
    image.paste(1 if mode in ("1", "P") else 255, (0, 0, 3000, 6000))
    image.save(path, quality=95) if path.suffix == ".jpg" else image.save(path)


@pytest.mark.parametrize("mode, name, bytes_per_pixel", [
    ("1", "big.png", 3),  # decoded (1 byte a pixel), as grey (1)
    ("P", "big.png", 6),  # decoded (1), as RGB (3)
    ("L", "big.jpg", 1),  # decoded at 1/8 scale
])
def test_big_images_are_reduced_as_soon_as_they_are_decoded(tmp_path, mode, name, bytes_per_pixel):
    """36 megapixels read for an 8×8 input: the peak memory stays near the decoded image (it was
    11 bytes a pixel, 4 for the JPEG), and the result is the picture resized. The peak is the
    process's own (VmHWM starts afresh at exec; ru_maxrss would include pytest's)."""
    import subprocess
    import sys

    (tmp_path / "data" / "big").mkdir(parents=True)
    _save_big(tmp_path / "data" / "big" / name, mode)
    probe = ("import re, sys\nfrom netspec.train.data import load_source\n"
             "peak = lambda: int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1]) * 1024\n"
             "before = peak()\n"
             "training, _, _ = load_source(sys.argv[1], (8, 8, 1), split=1.0)\n"
             "print(peak() - before, *training.images[0, 0, 4].tolist())")
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "data")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    grown, *row = map(int, result.stdout.split())
    assert grown < bytes_per_pixel * 6000 * 6000
    assert row[:3] == [255] * 3 and row[-3:] == [0] * 3
