"""`netspec profile`: rows named after the spec's layers (those that run), positive times whose
shares make 100%, MACs equal to `analyze`'s, GFLOP/s that follow from them, and medians and
quartiles as numpy computes them. No timing thresholds: the machine's speed is not under test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import netspec
from netspec.analysis import analyze
from netspec.backends.profile import Measured
from netspec.backends.torch import UNSUPPORTED
from netspec.cli import app
from netspec.cli.reports import ProfileReport, Timing

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
runner = CliRunner()

RESIDUAL = """lgraph = layerGraph([imageInputLayer([12 12 3], 'Name', 'in', 'Normalization', 'none')
    convolution2dLayer(3, 8, 'Padding', 'same', 'Name', 'stem')
    reluLayer('Name', 'stem_relu')
    convolution2dLayer(3, 8, 'Padding', 'same', 'Name', 'branch')
    additionLayer(2, 'Name', 'add')
    globalAveragePooling2dLayer('Name', 'gap')
    fullyConnectedLayer(5, 'Name', 'fc')
    softmaxLayer('Name', 'sm')
    classificationLayer('Name', 'out')]);
lgraph = connectLayers(lgraph, 'stem_relu', 'add/in2');
"""


def profiled(spec: Path, *args) -> dict:
    result = runner.invoke(app, ["profile", str(spec), "--format", "json", "--repeat", "3", "--warmup", "1",
                                 "--device", "cpu", *map(str, args)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def check(document: dict, spec: Path, batch: int) -> None:
    network = netspec.load(str(spec))
    analysis = analyze(network)
    running = [row for row in analysis.layers if type(network.layer(row.name)) not in UNSUPPORTED]
    assert [row["name"] for row in document["layers"]] == [row.name for row in running]
    assert [row["macs"] for row in document["layers"]] == [row.macs for row in running]
    assert document["macs"] == analysis.totals.macs and document["batch_size"] == batch
    assert sum(row["share"] for row in document["layers"]) == pytest.approx(100)
    assert document["layers_ms"] == pytest.approx(sum(row["time_ms"]["median"] for row in document["layers"]))
    for row in document["layers"]:
        t = row["time_ms"]
        assert t["min"] <= t["q1"] <= t["median"] <= t["q3"] <= t["max"]
        if row["macs"]:
            assert t["median"] > 0
            assert row["gflops"] == pytest.approx(2 * row["macs"] * batch / (t["median"] / 1000) / 1e9)
        else:
            assert row["gflops"] is None
    assert document["forward_ms"]["median"] > 0 and document["repeat"] == 3 and document["warmup"] == 1


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_mnist(backend):
    document = profiled(SPECS / "mnist_matlab.net", "--batch-size", 4, "--backend", backend)
    check(document, SPECS / "mnist_matlab.net", 4)
    assert document["backend"] == backend and document["device"].startswith("cpu")
    if backend == "torch":
        assert all(row["time_ms"]["min"] > 0 for row in document["layers"]) and document["unattributed_ms"] is None
    else:  # every node's time is some layer's, the exporter's parameter copies (Identity) included
        assert document["unattributed_ms"]["max"] == 0


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_a_graph_with_a_branch(tmp_path, backend):
    spec = tmp_path / "residual.net"
    spec.write_text(RESIDUAL)
    document = profiled(spec, "--batch-size", 2, "--backend", backend)
    check(document, spec, 2)
    assert [row["name"] for row in document["layers"]][:1] == ["in"] and "add" in [r["name"] for r in document["layers"]]


def test_default_batch_is_the_specs_mini_batch_size():
    assert profiled(SPECS / "lenet5.net", "--repeat", "1")["batch_size"] == \
        analyze(netspec.load(str(SPECS / "lenet5.net"))).totals.batch_size


def test_statistics_and_shares_from_the_samples():
    samples = {"a": [0.004, 0.001, 0.002, 0.003], "b": [0.010, 0.030, 0.020, 0.040]}
    network = netspec.load(str(SPECS / "mnist_matlab.net"))
    analysis = analyze(network)
    measured = Measured("torch", "cpu", 8, 2, 4, {"conv_1": samples["a"], "conv_3": samples["b"]},
                        [0.02, 0.03, 0.04, 0.05])
    report = ProfileReport.of(measured, analysis)
    assert [row.name for row in report.layers] == ["conv_1", "conv_3"]
    a, b = (np.array(samples[k]) * 1000 for k in "ab")
    first = report.layers[0].time_ms
    assert (first.median, first.q1, first.q3) == pytest.approx(
        (np.median(a), np.percentile(a, 25), np.percentile(a, 75)))
    assert report.layers[0].share == pytest.approx(100 * np.median(a) / (np.median(a) + np.median(b)))
    assert report.layers[1].gflops == pytest.approx(2 * 3_612_672 * 8 / (np.median(b) / 1000) / 1e9)
    assert Timing.of([0.5]).model_dump() == {"median": 500, "q1": 500, "q3": 500, "min": 500, "max": 500}


def test_table_output():
    result = runner.invoke(app, ["profile", str(SPECS / "mnist_matlab.net"), "--batch-size", "2", "--repeat", "2",
                                 "--warmup", "0", "--device", "cpu"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "torch on cpu, batch 2" in result.stdout and "conv_3" in result.stdout and "100%" in result.stdout
    assert "median of 2 runs after 0 warm-up runs" in result.stdout


@pytest.mark.parametrize("args", [["--repeat", "0"], ["--warmup", "-1"], ["--batch-size", "x"],
                                  ["--backend", "tensorrt"], ["--device", "tpu"]])
def test_usage_errors(args):
    result = runner.invoke(app, ["profile", str(SPECS / "mnist_matlab.net"), *args])
    assert result.exit_code == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_refused():
    result = runner.invoke(app, ["profile", str(SPECS / "mnist_matlab.net"), "--device", "cuda"])
    assert result.exit_code == 1 and [d.code for d in result.exception.diagnostics] == ["R020"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_on_the_gpu():
    result = runner.invoke(app, ["profile", str(SPECS / "mnist_matlab.net"), "--format", "json", "--batch-size",
                                 "16", "--repeat", "3", "--warmup", "1"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["device"].startswith("cuda")
    check(document, SPECS / "mnist_matlab.net", 16)
