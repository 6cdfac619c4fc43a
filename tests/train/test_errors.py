"""Bad input: a located, coded message on stderr, exit status 1, never a traceback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from .conftest import (ONE_EPOCH, assert_clean_failure, load_ckpt, make_folder, netspec,
                       read_rows, run_process, summary, write_spec)


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
    assert_clean_failure(result, code)
    if case == "too-many-classes":
        assert "3 classes" in result.err and "2 outputs" in result.err


class Process:
    def __init__(self, root, folder2):
        root.mkdir(exist_ok=True)
        spec = write_spec(root / "tiny.net", options=ONE_EPOCH)
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
    assert_clean_failure(result, code)


def test_bad_paths(tmp_path, spec):
    assert_clean_failure(netspec("train", "--resume", tmp_path / "nowhere"), "C001")
    assert_clean_failure(netspec("evaluate", tmp_path / "nowhere", "--data", tmp_path), "C001")
    assert_clean_failure(netspec("predict", tmp_path / "nowhere", tmp_path / "x.png"), "C001")
    assert_clean_failure(netspec("train", spec, "--data", f"mnist:{tmp_path}", "--quiet"), "D001")
    (tmp_path / "fake.pt").write_bytes(b"not a checkpoint")
    assert_clean_failure(netspec("predict", tmp_path / "fake.pt", tmp_path / "x.png"), "C002")


@pytest.mark.parametrize("split", ["1.5", "0", "-0.2"])
def test_split_out_of_range(tmp_path, spec, folder2, split):
    result = netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet", "--split", split)
    assert_clean_failure(result, "D010")
    assert not (tmp_path / "run").exists()


def test_split_one_trains_on_everything(tmp_path, spec, folder2):
    result = netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet", "--split", "1")
    assert result.code == 0, result
    assert summary(tmp_path / "run")["iterations"] == 40 // 8  # no validation share held out


def test_evaluate_on_other_classes(tmp_path, spec, folder2, folder3):
    assert netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet").code == 0
    assert_clean_failure(netspec("evaluate", tmp_path / "run", "--data", folder3), "R008")


def test_nan_loss_keeps_last_checkpoint(tmp_path, spec, folder2):
    run = tmp_path / "run"
    result = netspec("train", spec, "--data", folder2, "--out", run, "--quiet", "--lr", "1e30",
                     "--validation-frequency", "1")
    assert_clean_failure(result, "R004")
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


UNBUILDABLE = {  # specs `check` accepts, with the analyzer's figure each refusal must name
    "filters": ("layers = [imageInputLayer([8 8 1])\n    convolution2dLayer(3,1e12)\n    reluLayer\n"
                "    fullyConnectedLayer(2)\n    softmaxLayer\n    classificationLayer];\n",
                "'conv'", "10,000,000,000,000 parameters", "36.4 TiB"),
    "input": ("layers = [imageInputLayer([1e9 1e9 3])\n    convolution2dLayer(3,8)\n    reluLayer\n"
              "    fullyConnectedLayer(2)\n    softmaxLayer\n    classificationLayer];\n",
              "'imageinput'", "3,000,000,000,000,000,000 values per image", "10.4 EiB"),
}


@pytest.mark.parametrize("case", UNBUILDABLE)
@pytest.mark.parametrize("command", ["train", "export-onnx", "export-pytorch"])
def test_specs_too_large_to_build_are_refused_before_allocating(tmp_path, folder2, case, command):
    import time

    text, layer, count, figure = UNBUILDABLE[case]
    spec = tmp_path / "huge.net"
    spec.write_text(text)
    assert netspec("check", spec).code == 0
    args = {"train": ["train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet"],
            "export-onnx": ["export", spec, "-o", tmp_path / "huge.onnx"],
            "export-pytorch": ["export", spec, "-o", tmp_path / "huge.py"]}[command]
    started = time.perf_counter()
    result = netspec(*args)
    assert time.perf_counter() - started < 10
    assert_clean_failure(result, "T003")
    assert layer in result.err and count in result.err and figure in result.err, result
    assert f"{spec}:2:" in result.err if case == "filters" else f"{spec}:1:" in result.err
    assert not any(tmp_path.glob("huge.onnx")) and not any(tmp_path.glob("huge.py"))
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, folder2):
    root = tmp_path_factory.mktemp("trained")
    spec = write_spec(root / "tiny.net", options=ONE_EPOCH)
    assert netspec("train", spec, "--data", folder2, "--out", root / "run", "--quiet").code == 0
    return spec, root / "run"


def _set_tensor(payload, key, value):
    payload["model"][key] = value


BAD_CHECKPOINTS = {  # case: (change to a valid checkpoint's payload, code, words the message must hold)
    "missing-model": (lambda p: p.pop("model"), "C003", "'model'"),
    "missing-optimizer": (lambda p: p.pop("optimizer"), "C003", "'optimizer'"),
    "network-not-json": (lambda p: p.update(network="{not json"), "C004", "network"),
    "network-not-a-network": (lambda p: p.update(network='{"name": 3}'), "C004", "network"),
    "empty-classes": (lambda p: p.update(classes=[]), "C003", "class"),
    "classes-not-names": (lambda p: p.update(classes=[1, 2]), "C003", "class"),
    "fewer-classes-than-outputs": (lambda p: p.update(classes=["a"]), "C003", "2 outputs"),
    "wrong-shape": (lambda p: _set_tensor(p, "layers.conv.weight", torch.zeros(3, 1, 3, 3)), "C005",
                    "layers.conv.weight"),
    "missing-tensor": (lambda p: p["model"].pop("layers.fc.linear.bias"), "C005", "layers.fc.linear.bias"),
    "not-a-tensor": (lambda p: _set_tensor(p, "layers.conv.bias", [0.0] * 4), "C003", "layers.conv.bias"),
    "run-not-json": (lambda p: p.update(run="{oops"), "C003", "'run'"),
}


@pytest.mark.parametrize("case", BAD_CHECKPOINTS)
def test_checkpoints_holding_the_wrong_things_are_refused_at_load(tmp_path, folder2, trained_run, case):
    spec, run = trained_run
    change, code, words = BAD_CHECKPOINTS[case]
    payload = load_ckpt(run / "last.pt")
    change(payload)
    bad = tmp_path / "bad.pt"
    torch.save(payload, bad)
    image = folder2 / "a" / "000.png"
    for args in (["predict", bad, image], ["evaluate", bad, "--data", folder2],
                 ["export", spec, "--weights", bad, "-o", tmp_path / "m.onnx"],
                 ["export", spec, "--weights", bad, "-o", tmp_path / "m.py"],
                 ["train", spec, "--data", folder2, "--init", bad, "--out", tmp_path / "new", "--quiet"],
                 ["train", "--resume", bad, "--quiet"],
                 ["visualize", "filters", bad, "-o", tmp_path / "f.png"]):
        result = netspec(*args)
        assert_clean_failure(result, code)
        assert str(bad) in result.err and words in result.err, (args, result)
    assert not any(tmp_path.glob("m.*")) and not (tmp_path / "f.png").exists()


@pytest.mark.parametrize("break_state", [
    lambda state: state["state"][0].update(momentum_buffer=torch.zeros(3)),
    lambda state: state.update(param_groups=[]),
    lambda state: state.update(state={0: "oops"}),
], ids=["buffer-shape", "no-groups", "not-a-buffer"])
def test_an_optimizer_state_that_does_not_fit_is_refused_on_resume(tmp_path, trained_run, break_state):
    """torch loads a momentum buffer of the wrong shape without a word and fails at the next step."""
    _, run = trained_run
    payload = load_ckpt(run / "last.pt")
    break_state(payload["optimizer"])
    bad = tmp_path / "run" / "last.pt"
    bad.parent.mkdir()
    torch.save(payload, bad)
    result = netspec("train", "--resume", bad, "--quiet")
    assert_clean_failure(result, "C005")
    assert str(bad) in result.err and "optimizer state" in result.err, result


def test_a_network_larger_than_the_machines_memory_is_refused(tmp_path, monkeypatch):
    """Every layer is under the per-layer limit; together they outgrow a 1 GiB machine."""
    from netspec.analysis import limits

    monkeypatch.setattr(limits, "_physical_memory", lambda: 2 ** 30)
    spec = tmp_path / "wide.net"
    spec.write_text("layers = [imageInputLayer([8 8 1])\n    fullyConnectedLayer(3e6)\n    reluLayer\n"
                    "    fullyConnectedLayer(100)\n    softmaxLayer\n    classificationLayer];\n")
    result = netspec("export", spec, "-o", tmp_path / "wide.onnx")
    assert_clean_failure(result, "T003")
    assert "parameters take 1.84 GiB as float32" in result.err and "1 GiB of memory" in result.err, result
    assert "'fc_2' alone holds 1.12 GiB" in result.err and f"{spec}:4:" in result.err, result
    assert not (tmp_path / "wide.onnx").exists()


@pytest.mark.parametrize("output", ["pixelClassificationLayer", "dicePixelClassificationLayer('Name','dice')"])
def test_a_segmentation_network_is_refused_before_any_data_is_read(tmp_path, output):
    """A pixel-classification network learns from pixel labels, which `netspec train` does not read yet:
    a located error (exit 1) rather than a failure inside the data or the loss."""
    spec = tmp_path / "segment.net"
    spec.write_text("layers = [imageInputLayer([8 8 1])\n    convolution2dLayer(3,2,'Padding','same')\n"
                    f"    softmaxLayer\n    {output}];\n", encoding="utf-8")
    result = netspec("train", spec, "--data", tmp_path / "no-such-folder", "--out", tmp_path / "run", "--quiet")
    assert_clean_failure(result, "R014")
    assert f"{spec}:4:5" in result.err and "pixel-label data" in result.err
    assert not (tmp_path / "run").exists()
