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
