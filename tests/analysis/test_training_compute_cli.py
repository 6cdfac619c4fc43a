"""`netspec analyze`'s training compute: --convention, --batch-size, --train-size, --training, JSON,
CSV and the summary lines. The torch convention's numbers are proven against FlopCounterMode in
tests/backends/test_training_compute.py; here the other conventions are worked out by hand."""

from __future__ import annotations

import csv
import io

import jsonschema
import pytest

from netspec.analysis import analyze
from netspec.analysis.render import human
from netspec.analysis.report import json_schema
from netspec.language import load_source

from .test_analyze_cli import SPECS, as_analysis, invoke

SMALL = """
layers = [
    imageInputLayer([4 4 1], 'Normalization', 'none')
    convolution2dLayer(3, 2, 'Name', 'conv')
    reluLayer('Name', 'relu')
    fullyConnectedLayer(3, 'Name', 'fc')
    softmaxLayer('Name', 'softmax')
    classificationLayer];
options = trainingOptions('sgdm', 'MiniBatchSize', 16);
net = trainNetwork(images, layers, options);
"""

DEPTHWISE = """
layers = [
    imageInputLayer([8 8 4])
    convolution2dLayer(1, 4, 'Name', 'pw')
    groupedConvolution2dLayer(3, 1, 'channel-wise', 'Name', 'dw')
    fullyConnectedLayer(2, 'Name', 'fc', 'WeightLearnRateFactor', 0, 'BiasLearnRateFactor', 0)
    softmaxLayer
    classificationLayer];
"""


def _analysis(text: str, **options):
    return analyze(load_source(text, "t.net").network, **options)


def _rows(analysis) -> dict:
    return {row.name: row for row in analysis.layers}


def test_macs_by_hand():
    """A product's input gradient and weight gradient are products of the same size; the first layer
    after the input has no input gradient, a frozen layer no weight gradient."""
    rows = _rows(_analysis(DEPTHWISE, convention="macs"))
    pw, dw, fc = 8 * 8 * 4 * 4, 6 * 6 * 4 * 9, 6 * 6 * 4 * 2  # output elements × window × input channels
    assert (rows["pw"].forward, rows["pw"].backward_input, rows["pw"].backward_weights) == (pw, 0, pw)
    assert (rows["dw"].forward, rows["dw"].backward_input, rows["dw"].backward_weights) == (dw, dw, dw)
    assert (rows["fc"].forward, rows["fc"].backward_input, rows["fc"].backward_weights) == (fc, fc, 0)


def test_torch_counts_a_grouped_weight_gradient_as_ungrouped():
    """torch.utils.flop_counter's conv_backward_flop: the weight gradient over all input channels."""
    rows = _rows(_analysis(DEPTHWISE, convention="torch"))
    dw = 6 * 6 * 4 * 9
    assert (rows["dw"].forward, rows["dw"].backward_input, rows["dw"].backward_weights) == (2 * dw, 2 * dw,
                                                                                              2 * dw * 4)


def test_flops_by_hand():
    """SPEC §5's table, forward and backward: conv 2×2×2 out of 3×3×1 windows (72 MACs, 8 outputs),
    relu 8 elements, fc 8 -> 3 (24 MACs), softmax 3 elements."""
    analysis = _analysis(SMALL, convention="flops")
    rows = _rows(analysis)
    assert (rows["conv"].forward, rows["conv"].backward_input, rows["conv"].backward_weights) == \
        (2 * 72 + 8, 0, 2 * 72 + 8)  # no input gradient: nothing trained before it
    assert (rows["relu"].forward, rows["relu"].backward_input, rows["relu"].backward_weights) == (8, 8, 0)
    assert (rows["fc"].forward, rows["fc"].backward_input, rows["fc"].backward_weights) == \
        (2 * 24 + 3, 2 * 24, 2 * 24 + 3)
    assert (rows["softmax"].forward, rows["softmax"].backward_input) == (3, 3)
    step = analysis.totals.training
    assert (step.forward, step.backward_input, step.backward_weights) == (152 + 8 + 51 + 3, 8 + 48 + 3, 152 + 51)
    assert step.forward == analysis.totals.flops
    assert step.per_iteration == 16 * step.training_step  # the spec's MiniBatchSize


RECURRENT = """
layers = [
    sequenceInputLayer(2, 'MinLength', 5)
    fullyConnectedLayer(2, 'Name', 'fc')
    lstmLayer(3, 'Name', 'trained')
    lstmLayer(3, 'Name', 'frozen', 'InputWeightsLearnRateFactor', 0, 'RecurrentWeightsLearnRateFactor', 0, ...
        'BiasLearnRateFactor', 0)
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
"""


@pytest.mark.parametrize("convention", ["macs", "flops"])
def test_recurrent_gradients_by_hand(convention):
    """Two LSTMs of 3 hidden units (12 gate rows) over 5 steps, after a trained layer: the input
    product 5·12·C, the recurrent 5·12·3 = 180; the gradient through the states (4 steps, the
    initial state held: 144, and in FLOPs each step's 17 element-wise derivatives per unit: 255) goes
    with the learnables when they train, with the inputs when frozen; FLOPs add the bias's 5·12."""
    rows = _rows(_analysis(RECURRENT, convention=convention))
    trained, frozen = rows["trained"], rows["frozen"]
    if convention == "macs":
        assert (trained.forward, trained.backward_input, trained.backward_weights) == (300, 120, 120 + 180 + 144)
        assert (frozen.forward, frozen.backward_input, frozen.backward_weights) == (360, 180 + 144, 0)
    else:
        assert (trained.forward, trained.backward_input, trained.backward_weights) == \
            (600 + 255, 240, 240 + 360 + 288 + 255 + 60)
        assert (frozen.forward, frozen.backward_input, frozen.backward_weights) == (720 + 255, 360 + 288 + 255, 0)


@pytest.mark.parametrize("train_size, iterations, samples", [(1000, 31, 992), (20, 1, 20), (64, 2, 64)])
def test_an_epoch_is_what_netspec_train_runs(train_size, iterations, samples):
    """`netspec train` runs train_size // batch full batches (one batch of everything when fewer)."""
    a = as_analysis(SPECS / "mnist_matlab.net", "--batch-size", "32", "--train-size", str(train_size))
    step = a.totals.training
    assert a.totals.batch_size == 32 and step.per_iteration == 32 * step.training_step
    assert (step.train_size, step.iterations_per_epoch, step.per_epoch) == (train_size, iterations,
                                                                            samples * step.training_step)


def test_json_per_layer_and_total_follow_the_schema():
    result = invoke(SPECS / "transfer_alexnet.net", "--set", "numClasses=5", "--convention", "torch",
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    import json

    document = json.loads(result.stdout)
    jsonschema.validate(document, json_schema())
    totals = document["totals"]
    assert totals["batch_size"] == 10 and totals["training"]["convention"] == "torch"  # MiniBatchSize 10
    assert totals["training"]["forward"] == totals["torch_flops"]
    for part in ("forward", "backward_input", "backward_weights", "training_step"):
        assert sum(layer[part] for layer in document["layers"]) == totals["training"][part]
    assert totals["training"]["per_epoch"] is None


def test_csv_has_the_step_columns():
    result = invoke(SPECS / "resnet18.net", "--format", "csv", "--convention", "macs")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    a = as_analysis(SPECS / "resnet18.net")
    assert sum(int(row["training_step"]) for row in rows) == a.totals.training.training_step
    assert sum(int(row["forward"]) for row in rows) == a.totals.macs


def test_training_table_and_summary_lines():
    a = as_analysis(SPECS / "lenet5.net", "--convention", "torch", "--train-size", "600")
    result = invoke(SPECS / "lenet5.net", "--convention", "torch", "--train-size", "600", "--training")
    assert result.exit_code == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "∂inputs" in line)
    assert "∂learnables" in header and "training step" in header and "RF" not in header
    total = next(line for line in result.stdout.splitlines() if "total" in line)
    step = a.totals.training
    for value in (step.forward, step.backward_input, step.backward_weights, step.training_step):
        assert human(value) in total
    assert (f"training step: {human(step.training_step)} FLOPs (torch) per image (forward {human(step.forward)}, "
            f"∂inputs {human(step.backward_input)}, ∂learnables {human(step.backward_weights)}); "
            f"batch {a.totals.batch_size}: {human(step.per_iteration)}") in result.stdout
    assert f"training epoch: {human(step.per_epoch)} FLOPs (torch) (600 samples: " in result.stdout


@pytest.mark.parametrize("option", ["--batch-size", "--train-size"])
def test_sizes_must_be_positive(option):
    result = invoke(SPECS / "lenet5.net", option, "0")
    assert result.exit_code == 2 and option in result.stderr and "Traceback" not in result.stderr
