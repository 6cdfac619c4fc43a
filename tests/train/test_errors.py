"""Bad input: a located, coded message on stderr, exit status 1, never a traceback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from .conftest import load_ckpt, make_folder, netspec, read_rows, run_process, summary, write_spec

OPTIONS = "'sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'InitialLearnRate',1e-3"


def _assert_clean_failure(result, code: str):
    assert result.code == 1, result
    assert f"error[{code}]" in result.err, result
    assert "Traceback" not in result.err + result.out
    assert "internal error" not in result.err


@pytest.fixture
def spec(tmp_path):
    return write_spec(tmp_path / "tiny.net", options=OPTIONS)


def _bad_data(tmp_path, case: str):
    data = tmp_path / "data"
    if case == "missing":
        return data
    data.mkdir()
    if case == "empty":
        return data
    make_folder(data, classes=("a",), n=4)
    if case == "class-without-images":
        (data / "b").mkdir()
        (data / "b" / "notes.txt").write_text("not an image")
    elif case == "unreadable-image":
        make_folder(data, classes=("b",), n=4)
        (data / "b" / "x.png").write_bytes(bytes(range(256)) * 3)
    elif case == "too-many-classes":
        make_folder(data, classes=("b", "c"), n=4)
    return data


@pytest.mark.parametrize("case, code", [
    ("missing", "D006"),
    ("empty", "D007"),
    ("class-without-images", "D008"),
    ("unreadable-image", "D004"),
    ("too-many-classes", "R003"),  # 3 class folders, fullyConnectedLayer(2)
])
def test_bad_data_folder(tmp_path, spec, case, code):
    data = _bad_data(tmp_path, case)
    result = netspec("train", spec, "--data", data, "--out", tmp_path / "run", "--quiet")
    _assert_clean_failure(result, code)
    if case == "too-many-classes":
        assert "3 classes" in result.err and "2 outputs" in result.err


class Process:
    def __init__(self, root, folder2):
        root.mkdir(exist_ok=True)
        spec = write_spec(root / "tiny.net", options=OPTIONS)
        data = _bad_data(root, "unreadable-image")
        self.future = ThreadPoolExecutor(1).submit(run_process, "train", spec, "--data", data, "--out",
                                                   root / "run", "--quiet")


def start_background(root, folder2):
    return {"process": Process(root, folder2)}


@pytest.mark.background
def test_bad_data_as_a_process(background):
    """The installed console script, end to end: the same message, exit 1, no traceback."""
    result = background["process"].future.result(timeout=240)
    assert result.returncode == 1, result.stderr
    assert "error[D004]" in result.stderr and "x.png" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, code", [
    (["--init", "nowhere"], "C001"),
    (["--augment", "RandFlip"], "R010"),
    (["--augment", "RandRotation=[10]"], "R010"),
    (["--batch-size", "0"], "R007"),
    (["--shuffle", "sometimes"], "R007"),
])
def test_bad_options(tmp_path, spec, folder2, args, code):
    result = netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet", *args)
    _assert_clean_failure(result, code)


def test_bad_paths(tmp_path, spec):
    _assert_clean_failure(netspec("train", "--resume", tmp_path / "nowhere"), "C001")
    _assert_clean_failure(netspec("evaluate", tmp_path / "nowhere", "--data", tmp_path), "C001")
    _assert_clean_failure(netspec("predict", tmp_path / "nowhere", tmp_path / "x.png"), "C001")
    _assert_clean_failure(netspec("train", spec, "--data", f"mnist:{tmp_path}", "--quiet"), "D001")
    (tmp_path / "fake.pt").write_bytes(b"not a checkpoint")
    _assert_clean_failure(netspec("predict", tmp_path / "fake.pt", tmp_path / "x.png"), "C002")


@pytest.mark.parametrize("split", ["1.5", "0", "-0.2"])
def test_split_out_of_range(tmp_path, spec, folder2, split):
    result = netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet", "--split", split)
    _assert_clean_failure(result, "D010")
    assert not (tmp_path / "run").exists()


def test_split_one_trains_on_everything(tmp_path, spec, folder2):
    result = netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet", "--split", "1")
    assert result.code == 0, result
    assert summary(tmp_path / "run")["iterations"] == 40 // 8  # no validation share held out


def test_evaluate_on_other_classes(tmp_path, spec, folder2, folder3):
    assert netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet").code == 0
    _assert_clean_failure(netspec("evaluate", tmp_path / "run", "--data", folder3), "R008")


def test_nan_loss_keeps_last_checkpoint(tmp_path, spec, folder2):
    run = tmp_path / "run"
    result = netspec("train", spec, "--data", folder2, "--out", run, "--quiet", "--lr", "1e30",
                     "--validation-frequency", "1")
    _assert_clean_failure(result, "R004")
    assert "nan" in result.err.lower() or "inf" in result.err.lower()
    assert "last.pt" in result.err
    payload = load_ckpt(run / "last.pt")  # written at iteration 1, before the loss blew up
    assert payload["format"] == "netspec-checkpoint/1"
    assert 1 <= payload["iteration"] < 4
    assert all(torch.isfinite(v.float()).all() for v in payload["model"].values())
    assert not list(run.glob(".*.tmp"))
    assert [int(r["iteration"]) for r in read_rows(run)] == list(range(1, payload["iteration"] + 1))
    # the checkpoint is usable
    assert netspec("predict", run / "last.pt", folder2 / "a" / "000.png").code == 0
