"""`--init RUN`: transfer learning copies the layers whose name and shape match."""

from __future__ import annotations

import pytest
import torch

from .conftest import load_ckpt, make_folder, netspec, summary, write_spec

OPTIONS = "'sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'InitialLearnRate',1e-3"


def test_init_copies_matching_layers_only(tmp_path, folder2, folder3):
    first = tmp_path / "first"
    spec1 = write_spec(tmp_path / "two.net", fc=2, options=OPTIONS)
    assert netspec("train", spec1, "--data", folder2, "--out", first, "--quiet").code == 0

    # same conv (frozen, so its weights stay what --init copied), a 3-way classifier instead of 2
    spec2 = write_spec(tmp_path / "three.net", fc=3, options=OPTIONS,
                       conv=",'WeightLearnRateFactor',0,'BiasLearnRateFactor',0")
    second = tmp_path / "second"
    result = netspec("train", spec2, "--data", folder3, "--out", second, "--quiet", "--init", first, "--seed", "7")
    assert result.code == 0, result
    initialized = summary(second)["initialized_layers"]
    assert "conv" in initialized
    assert "fc" not in initialized
    source, target = load_ckpt(first / "best.pt")["model"], load_ckpt(second / "last.pt")["model"]
    assert torch.equal(target["layers.conv.weight"], source["layers.conv.weight"])
    assert torch.equal(target["layers.conv.bias"], source["layers.conv.bias"])
    assert target["layers.fc.linear.weight"].shape[0] == 3 and source["layers.fc.linear.weight"].shape[0] == 2
    assert load_ckpt(second / "last.pt")["classes"] == ["a", "b", "c"]

    # a checkpoint file works as well as a run folder
    third = tmp_path / "third"
    result = netspec("train", spec2, "--data", folder3, "--out", third, "--quiet", "--init", first / "last.pt")
    assert result.code == 0, result
    assert torch.equal(load_ckpt(third / "last.pt")["model"]["layers.conv.weight"],
                       load_ckpt(first / "last.pt")["model"]["layers.conv.weight"])


@pytest.mark.parametrize("reset, mean", [
    (None, 100.0),  # ResetInputNormalization defaults to true: statistics of the new data
    ("true", 100.0),
    ("false", 210.0),  # false: the --init checkpoint's statistics are kept
])
def test_init_keeps_input_statistics_of_the_new_data(tmp_path, reset, mean):
    bright = make_folder(tmp_path / "bright", constant={"a": 200, "b": 220})
    dark = make_folder(tmp_path / "dark", constant={"a": 50, "b": 150})
    spec = write_spec(tmp_path / "net.net", options=OPTIONS)
    assert netspec("train", spec, "--data", bright, "--out", tmp_path / "first", "--quiet").code == 0
    assert load_ckpt(tmp_path / "first" / "last.pt")["model"]["layers.imageinput.mean"].item() == \
        pytest.approx(210.0)
    options = OPTIONS + (f", 'ResetInputNormalization',{reset}" if reset is not None else "")
    spec2 = write_spec(tmp_path / "net2.net", options=options)
    result = netspec("train", spec2, "--data", dark, "--out", tmp_path / "second", "--quiet",
                     "--init", tmp_path / "first")
    assert result.code == 0, result
    assert load_ckpt(tmp_path / "second" / "last.pt")["model"]["layers.imageinput.mean"].item() == \
        pytest.approx(mean)
