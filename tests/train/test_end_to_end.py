"""`netspec train` / `evaluate` / `predict` on a tiny image folder: the run folder and its contents."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from netspec.train.data import load_source, split_per_label

from .conftest import RUN_FILES, load_ckpt, netspec, read_rows, summary, write_spec

# 2 classes x 20 images, --split 0.8: 32 training images; batch 5 -> floor(32/5) = 6 iterations/epoch
EPOCHS, BATCH, FREQUENCY = 3, 5, 4
ITERATIONS = EPOCHS * (32 // BATCH)


@pytest.fixture(scope="module")
def run(tmp_path_factory, folder2):
    root = tmp_path_factory.mktemp("e2e")
    spec = write_spec(root / "tiny.net", fc="numClasses",
                      options=f"'sgdm', 'MaxEpochs',{EPOCHS}, 'MiniBatchSize',{BATCH}, 'InitialLearnRate',1e-3, "
                              f"'ValidationFrequency',{FREQUENCY}")
    run = root / "run"
    result = netspec("train", spec, "--data", folder2, "--out", run, "--quiet", "--set", "numClasses=2")
    assert result.code == 0, result
    assert "Traceback" not in result.err
    assert "throughput" not in result.err  # --quiet: no summary table either
    return run


def test_summary_table_unless_quiet(tmp_path, folder2):
    spec = write_spec(tmp_path / "tiny.net", fc="2", options=f"'sgdm', 'MaxEpochs',1, 'MiniBatchSize',{BATCH}")
    result = netspec("train", spec, "--data", folder2, "--out", tmp_path / "run")
    assert result.code == 0, result
    assert "throughput" in result.err and "images/s" in result.err


def test_run_folder_has_every_file(run):
    for name in RUN_FILES:
        assert (run / name).is_file(), f"{name} missing from the run folder"
    assert not list(run.glob(".*.tmp")), "temporary checkpoint files left behind"
    assert "convolution2dLayer(3,4" in (run / "spec.net").read_text()
    assert json.loads((run / "network.json").read_text())["layers"]
    options = json.loads((run / "options.json").read_text())
    assert options["solver"] == "sgdm" and options["mini_batch_size"] == BATCH
    assert options["validation_frequency"] == FREQUENCY and options["max_epochs"] == EPOCHS


def test_summary(run, folder2):
    info = summary(run)
    assert info["iterations"] == ITERATIONS == 18
    assert info["epochs"] == EPOCHS and info["stopped"] == "max-epochs"
    assert info["world_size"] == 1 and info["device"] == "cpu"
    assert info["images_per_second"] > 0
    assert info["validation"]["images"] == 8
    assert 0.0 <= info["validation"]["accuracy"] <= 1.0
    # how the run was made: spec.net alone does not rebuild the network without its --set bindings
    assert info["run"]["set"] == ["numClasses=2"] and info["run"]["split"] == 0.8
    assert info["run"]["data"] == str(folder2.resolve())


def test_checkpoints_load_weights_only(run):
    for name in ("best.pt", "last.pt"):
        payload = load_ckpt(run / name)
        assert payload["format"] == "netspec-checkpoint/1"
        assert payload["classes"] == ["a", "b"]
        assert all(torch.isfinite(v.float()).all() for v in payload["model"].values())
    last = load_ckpt(run / "last.pt")
    assert last["iteration"] == ITERATIONS and last["epoch"] == EPOCHS
    assert 1 <= load_ckpt(run / "best.pt")["iteration"] <= ITERATIONS


def test_metrics(run):
    rows = read_rows(run)
    assert list(rows[0]) == ["epoch", "iteration", "loss", "accuracy", "learn_rate", "val_loss",
                             "val_accuracy", "seconds"]
    assert [int(r["iteration"]) for r in rows] == list(range(1, ITERATIONS + 1))
    assert [int(r["epoch"]) for r in rows] == [1] * 6 + [2] * 6 + [3] * 6
    validated = [int(r["iteration"]) for r in rows if r["val_loss"] != ""]
    assert validated == [4, 8, 12, 16, 18]  # every ValidationFrequency, and at the last iteration
    assert all(r["val_accuracy"] != "" for r in rows if r["val_loss"] != "")
    assert all(float(r["learn_rate"]) == 1e-3 for r in rows)
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds == sorted(seconds)
    # metrics.json: the same rows, typed (ints for epoch/iteration, floats, null where the CSV is empty)
    as_json = json.loads((run / "metrics.json").read_text())
    assert [list(r) for r in as_json] == [list(r) for r in rows]
    for typed, text in zip(as_json, rows):
        for key, value in text.items():
            if value == "":
                assert typed[key] is None, (key, typed)
            elif key in ("epoch", "iteration"):
                assert type(typed[key]) is int and typed[key] == int(value), (key, typed)
            else:
                assert type(typed[key]) is float and typed[key] == float(value), (key, typed)
    assert [r["iteration"] for r in as_json if r["val_loss"] is not None] == validated


def test_pngs_are_valid_images(run):
    for name in ("training-progress.png", "confusion.png"):
        with Image.open(run / name) as image:
            image.verify()
        with Image.open(run / name) as image:
            assert image.format == "PNG" and min(image.size) > 100


def test_evaluate(run, folder2, tmp_path):
    confusion = tmp_path / "eval-confusion.png"
    result = netspec("evaluate", run, "--data", folder2, "-o", confusion)
    assert result.code == 0, result
    assert "accuracy" in result.out and "recall" in result.out
    for name in ("a", "b"):
        assert name in result.out
    with Image.open(confusion) as image:
        image.verify()


def test_evaluate_scores_every_image(run, folder2):
    result = netspec("evaluate", run, "--data", folder2)
    assert result.code == 0, result
    assert "(40images)" in "".join(result.out.split()), result.out
    training, validation = split_per_label(load_source(str(folder2), (8, 8, 1), split=1.0)[0], 1.0, seed=0)
    assert len(training) == 40 and len(validation) == 0  # fraction 1 keeps everything


def test_predict(run, folder2):
    images = [folder2 / "a" / "000.png", folder2 / "b" / "000.png"]
    result = netspec("predict", run, *images, "--json")
    assert result.code == 0, result
    predictions = json.loads(result.out)
    assert [p["image"] for p in predictions] == [str(p) for p in images]
    for p in predictions:
        assert p["class"] in ("a", "b") and 0.5 <= p["probability"] <= 1.0
    result = netspec("predict", run / "last.pt", images[0])
    assert result.code == 0, result
    assert result.out.startswith(f"{images[0]}: ") and "%" in result.out
