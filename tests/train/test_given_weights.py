"""Learnable values given in the spec are the weights training starts from."""

from __future__ import annotations

import numpy as np
import torch

from .conftest import load_ckpt, netspec, write_spec

OPTIONS = "'sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'InitialLearnRate',1e-3"


def test_training_starts_from_the_given_weights(tmp_path, folder2):
    """A frozen convolution keeps what the spec gave: its trained weights are the given ones,
    in PyTorch's F×C×h×w order (MATLAB's h×w×C×F)."""
    weights = np.arange(1, 37, dtype=float).reshape((3, 3, 1, 4), order="F") / 100
    numbers = " ".join(str(x) for x in weights.flatten(order="F"))
    conv = (f",'Weights',reshape([{numbers}],3,3,1,4),'Bias',reshape([1 2 3 4],1,1,4),"
            "'WeightLearnRateFactor',0,'BiasLearnRateFactor',0")
    spec = write_spec(tmp_path / "given.net", options=OPTIONS, conv=conv)
    result = netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet")
    assert result.code == 0, result
    model = load_ckpt(tmp_path / "run" / "last.pt")["model"]
    assert torch.allclose(model["layers.conv.weight"], torch.tensor(weights.transpose(3, 2, 0, 1), dtype=torch.float32))
    assert model["layers.conv.bias"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_unknown_given_values_train_from_the_initializer_with_a_note(tmp_path, folder2):
    spec = write_spec(tmp_path / "random.net", options=OPTIONS, conv=",'Weights',randn([3 3 1 4])*0.01")
    result = netspec("train", spec, "--data", folder2, "--out", tmp_path / "run")
    assert result.code == 0, result
    assert "W203" in result.err and "randn" in result.err
