"""Bringing MATLAB code as it is (issue 14) from the command line: a function file called with
`--args` or `--set`, helpers in sibling files, and the message that says which network was chosen."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from netspec.cli import app

runner = CliRunner()

FUNCTION_FILE = """function lgraph = buildNet(numClasses, width)
% builds a small classifier; the caller gives the class count and the width
layers = [imageInputLayer([32 32 3])
    convolution2dLayer(3, width, 'Padding', 'same')
    reluLayer
    fullyConnectedLayer(numClasses)
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);
end
"""

HELPER = """function [lgraph, out] = addBlock(lgraph, in, n, filters)
conv = convolution2dLayer(3, filters, 'Padding', 'same', 'Name', "conv" + n);
relu = reluLayer('Name', "relu" + n);
lgraph = addLayers(lgraph, [conv; relu]);
lgraph = connectLayers(lgraph, in, "conv" + n);
out = "relu" + n;
"""

SCRIPT = """stem = [imageInputLayer([28 28 1], 'Name', 'input')];
layers3 = layerGraph(stem);
[layers3, last] = addBlock(layers3, 'input', 1, 8);
[layers3, last] = addBlock(layers3, last, 2, 16);
head = [fullyConnectedLayer(10, 'Name', 'fc'); softmaxLayer('Name', 'sm'); classificationLayer('Name', 'out')];
layers3 = addLayers(layers3, head);
layers3 = connectLayers(layers3, last, 'fc');
options = trainingOptions('sgdm', 'MaxEpochs', 2);
[net, info] = trainNetwork(XTrain, YTrain, layers3, options);
"""


def invoke(*args) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_function_file_with_args_says_which_network(tmp_path: Path):
    (tmp_path / "buildNet.m").write_text(FUNCTION_FILE)
    code, out, err = invoke("check", tmp_path / "buildNet.m", "--args", "10, 16")
    assert code == 0, err
    assert out.strip() == f"{tmp_path / 'buildNet.m'}: ok (6 layers, 5 connections; network lgraph (output of buildNet))"
    code, out, err = invoke("analyze", tmp_path / "buildNet.m", "--args", "10, 16", "--format", "json")
    assert code == 0, err
    # conv 3x3x3x16 + bias, fc (32*32*16 -> 10) + bias: counted by hand from MATLAB's definitions
    assert json.loads(out)["totals"]["learnables"] == 3 * 3 * 3 * 16 + 16 + 32 * 32 * 16 * 10 + 10


def test_a_parameter_no_argument_gives_is_named_and_set_binds_it(tmp_path: Path):
    (tmp_path / "buildNet.m").write_text(FUNCTION_FILE)
    code, _, err = invoke("check", tmp_path / "buildNet.m", "--args", "10")
    assert code == 1 and "error[E405]" in err and "--set width=VALUE" in err, err
    code, out, err = invoke("check", tmp_path / "buildNet.m", "--args", "10", "--set", "width=4")
    assert code == 0 and "(6 layers, 5 connections" in out, err


def test_script_with_helper_files_gives_the_network_handed_to_trainNetwork(tmp_path: Path):
    (tmp_path / "addBlock.m").write_text(HELPER)
    (tmp_path / "train_it.m").write_text(SCRIPT)
    code, out, err = invoke("check", tmp_path / "train_it.m", "--format", "json")
    assert code == 0, err
    checked = json.loads(out)["files"][0]
    assert (checked["variable"], checked["chosen_because"]) == ("layers3", "given to trainNetwork at line 9")
    assert (checked["layers"], checked["connections"]) == (8, 7)
    code, out, err = invoke("check", tmp_path / "train_it.m")
    assert code == 0 and out.rstrip().endswith("network layers3 (given to trainNetwork at line 9))"), err


def test_bad_args_are_located_in_the_args_text(tmp_path: Path):
    (tmp_path / "buildNet.m").write_text(FUNCTION_FILE)
    code, _, err = invoke("check", tmp_path / "buildNet.m", "--args", "10, [1 2")
    assert code == 1 and "--args" in err and "Traceback" not in err, err
