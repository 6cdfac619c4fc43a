"""Training memory (issue 16): the analyzer's estimate against one measured training step of the
lowered module (`netspec.train.memory`: the storages autograd saves, each once, plus parameters,
gradients and optimizer state after the step), layer by layer; `analyze --fit`; `train` refusing
a run beyond the device's memory. All specs at batch 1, 32 and 128: benchmarks/memory_vs_measured.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import netspec
from netspec.analysis import analyze
from netspec.analysis.limits import check_buildable
from netspec.analysis.memory import at_batch
from netspec.analysis.render import human
from netspec.analysis.report import json_schema
from netspec.backends.torch import to_torch
from netspec.cli import app
from netspec.cli.spec_commands import memory_size
from netspec.ir import LAYERS
from netspec.ir.input_output import PixelOutputLayer
from netspec.ir.recurrent import RecurrentLayer
from netspec.ir.recurrent_saved import PAGE, WORKSPACE_REGIONS, onednn_lstm_workspace, onednn_lstm_workspace_bytes
from netspec.language import load_source
from netspec.train import memory as train_memory
from netspec.train.memory import _meminfo_available, measure_training_memory

from .conftest import assert_clean_failure
from .conftest import netspec as cli_netspec

SPECS = Path(__file__).parents[2] / "specs"
runner = CliRunner()

EVERY_RULE = {
    "image": """
layers = [
    imageInputLayer([12 12 3],'Normalization','zscore','Name','in')
    convolution2dLayer(3,8,'Stride',2,'Padding','same','Name','conv_uneven')
    leakyReluLayer(0.1,'Name','leaky')
    maxPooling2dLayer(2,'Stride',1,'Padding',[0 1 0 1],'Name','max_padded')
    averagePooling2dLayer(2,'Stride',1,'Padding',[0 1 0 1],'Name','avg_padded')
    eluLayer('Name','elu')
    convolution2dLayer(1,8,'Name','c2')
    sigmoidLayer('Name','sig')
    convolution2dLayer(1,8,'Name','c3')
    swishLayer('Name','swish')
    convolution2dLayer(1,8,'Name','c4')
    geluLayer('Name','gelu')
    layerNormalizationLayer('Name','ln')
    dropoutLayer(0.3,'Name','drop')
    spatialDropoutLayer(0.3,'Name','sdrop')
    crossChannelNormalizationLayer(3,'Name','lrn')
    transposedConv2dLayer(2,4,'Stride',2,'Name','tconv')
    resize2dLayer('OutputSize',[8 8],'Name','resize')
    groupedConvolution2dLayer(3,2,2,'Padding',1,'Name','gconv')
    clippedReluLayer(6,'Name','clipped')
    maxPooling2dLayer(2,'Stride',2,'Name','max_plain')
    tanhLayer('Name','tanh')
    globalMaxPooling2dLayer('Name','gmp')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
""",
    "sequence": """
layers = [
    sequenceInputLayer(3,'MinLength',20,'Name','in')
    convolution1dLayer(3,8,'Padding','causal','Name','c1')
    reluLayer('Name','r1')
    averagePooling1dLayer(2,'Stride',2,'Name','ap')
    fullyConnectedLayer(6,'Name','fc_steps')
    reluLayer('Name','r2')
    maxPooling1dLayer(2,'Name','mp')
    convolution1dLayer(3,8,'Padding',1,'WeightLearnRateFactor',0,'BiasLearnRateFactor',0,'Name','c_frozen')
    batchNormalizationLayer('ScaleLearnRateFactor',0,'OffsetLearnRateFactor',0,'Name','bn_frozen')
    globalMaxPooling1dLayer('Name','gmp')
    globalAveragePooling1dLayer('Name','gap')
    fullyConnectedLayer(1,'Name','fc')
    regressionLayer('Name','out')];
options = trainingOptions('adam');
""",
    "graph": """
lgraph = layerGraph([
    imageInputLayer([8 8 4],'Normalization','none','Name','in')
    convolution2dLayer(3,4,'Padding',1,'WeightLearnRateFactor',0,'BiasLearnRateFactor',0,'Name','frozen1')
    reluLayer('Name','r1')
    convolution2dLayer(3,4,'Padding',1,'Name','c2')
    reluLayer('Name','r2')
    multiplicationLayer(2,'Name','mul')
    nnet.shufflenet.layer.ChannelShufflingLayer('shuffle',2)
    depthToSpace2dLayer(2,'Name','d2s')
    spaceToDepthLayer(2,'Name','s2d')
    depthConcatenationLayer(2,'Name','cat')
    batchNormalizationLayer('Name','bn')
    additionLayer(2,'Name','add')
    maxPooling2dLayer(2,'Stride',2,'HasUnpoolingOutputs',true,'Name','pool')
    maxUnpooling2dLayer('Name','unpool')
    flattenLayer('Name','flat')
    fullyConnectedLayer(5,'WeightLearnRateFactor',0,'BiasLearnRateFactor',0,'Name','fc_frozen')
    reluLayer('Name','r3')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = connectLayers(lgraph,'r1','mul/in2');
lgraph = connectLayers(lgraph,'r1','cat/in2');
lgraph = connectLayers(lgraph,'cat','add/in2');
lgraph = connectLayers(lgraph,'pool/indices','unpool/indices');
lgraph = connectLayers(lgraph,'pool/size','unpool/size');
options = trainingOptions('rmsprop');
""",
    "crop": """
lgraph = layerGraph([
    imageInputLayer([10 10 2],'Name','in')
    convolution2dLayer(3,4,'Padding','same','Name','c1')
    crop2dLayer('centercrop','Name','crop')
    concatenationLayer(3,2,'Name','cat3')
    reluLayer('Name','r')
    globalAveragePooling2dLayer('Name','gap')
    fullyConnectedLayer(2,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = addLayers(lgraph,convolution2dLayer(3,4,'Name','c_ref'));
lgraph = connectLayers(lgraph,'in','c_ref');
lgraph = connectLayers(lgraph,'c_ref','crop/ref');
lgraph = connectLayers(lgraph,'c_ref','cat3/in2');
""",
    "features": """
layers = [
    featureInputLayer(10,'Name','in')
    fullyConnectedLayer(6,'Name','fc1')
    tanhLayer('Name','t')
    dropoutLayer(0.2,'Name','d')
    fullyConnectedLayer(3,'Name','fc2')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
""",
}
"""Every layer rule, uneven and -inf padding (a padded copy kept), views, storages two layers keep,
frozen layers before and after the first that trains, each loss and each solver."""

SEQUENCE_RULES = {
    "recurrent": """
layers = [
    sequenceInputLayer(3,'MinLength',7,'Name','in')
    bilstmLayer(4,'Name','bil')
    reluLayer('Name','r')
    lstmLayer(4,'GateActivationFunction','hard-sigmoid','Name','lstm_steps')
    fullyConnectedLayer(5,'Name','fc_steps')
    gruLayer(3,'ResetGateMode','before-multiplication','StateActivationFunction','softsign', ...
        'GateActivationFunction','hard-sigmoid','Name','gru_before')
    gruLayer(3,'ResetGateMode','recurrent-bias-after-multiplication','Name','gru_fused')
    lstmLayer(3,'OutputMode','last','Name','lstm_last')
    fullyConnectedLayer(2,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
options = trainingOptions('adam');
""",
    "recurrent_steps": """
layers = [
    sequenceInputLayer(3,'MinLength',7,'Name','in')
    lstmLayer(4,'StateActivationFunction','softsign','Name','lstm_softsign')
    gruLayer(4,'StateActivationFunction','relu','GateActivationFunction','hard-sigmoid','Name','gru_steps')
    gruLayer(3,'Name','gru_fused')
    bilstmLayer(3,'StateActivationFunction','relu','OutputMode','last','Name','bil_steps')
    fullyConnectedLayer(1,'Name','fc')
    regressionLayer('Name','out')];
""",
    "attention": """
lgraph = layerGraph([
    sequenceInputLayer(1,'MinLength',7,'Name','in')
    wordEmbeddingLayer(6,10,'Name','words')
    additionLayer(2,'Name','add')
    selfAttentionLayer(2,4,'AttentionMask','causal','Name','attn')
    additionLayer(2,'Name','add2')
    selfAttentionLayer(2,4,'DropoutProbability',0.2,'Name','attn_drop')
    reluLayer('Name','relu')
    layerNormalizationLayer('Name','ln')
    indexing1dLayer('last','Name','index')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = addLayers(lgraph, positionEmbeddingLayer(6,20,'Name','pos'));
lgraph = connectLayers(lgraph,'words','pos');
lgraph = connectLayers(lgraph,'pos','add/in2');
lgraph = addLayers(lgraph, sinusoidalPositionEncodingLayer(6,'Name','posenc'));
lgraph = connectLayers(lgraph,'attn','posenc');
lgraph = connectLayers(lgraph,'posenc','add2/in2');
""",
    "folding": """
lgraph = layerGraph([
    sequenceInputLayer([6 6 2],'MinLength',7,'Name','in')
    sequenceFoldingLayer('Name','fold')
    convolution2dLayer(3,4,'Name','conv')
    reluLayer('Name','relu')
    sequenceUnfoldingLayer('Name','unfold')
    flattenLayer('Name','flat')
    gruLayer(4,'Name','gru')
    lstmLayer(3,'OutputMode','last','Name','lstm_last')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = connectLayers(lgraph,'fold/miniBatchSize','unfold/miniBatchSize');
""",
    "folding_fc": """
lgraph = layerGraph([
    sequenceInputLayer([6 6 2],'MinLength',7,'Name','in')
    sequenceFoldingLayer('Name','fold')
    convolution2dLayer(3,4,'Name','conv')
    sequenceUnfoldingLayer('Name','unfold')
    fullyConnectedLayer(5,'Name','fc_frames')
    indexing1dLayer('Name','first')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = connectLayers(lgraph,'fold/miniBatchSize','unfold/miniBatchSize');
""",
}
"""Sequences of 7 steps: every recurrent path of the lowering (oneDNN's LSTM, one and two
directions; nn.GRU's cell; the step-by-step recurrence with each activation and reset gate),
copies between the memory orders of sequences (`netspec.ir.saved`), a recurrent layer's 'last'
as a view of its whole output, self-attention (causal, dropout), embeddings and encodings,
indexing, folding and unfolding, a per-step product on image sequences, layer normalization's copy."""


def _network(name: str):
    return load_source({**EVERY_RULE, **SEQUENCE_RULES}[name], f"{name}.net").network


def _compare(network, batch: int) -> None:
    """Each layer keeps, per the estimate, the bytes the measurement finds it the first to save;
    gradients and optimizer state as torch's optimizer holds them; the total within 10%."""
    analysis = analyze(network)
    memory = at_batch(analysis.totals.training_memory, batch)
    measured = measure_training_memory(network, batch)
    by_layer = {row.name: batch * row.saved_bytes + row.saved_batch_bytes for row in analysis.layers}
    assert {name: size for name, size in by_layer.items() if size} == measured.by_layer
    assert memory.gradient_bytes == measured.gradients
    assert memory.optimizer_bytes <= measured.optimizer <= memory.optimizer_bytes + 64  # + each step count
    assert memory.activation_bytes == measured.activations
    assert abs(memory.total_bytes / measured.total - 1) <= 0.10


@pytest.mark.parametrize("name", sorted(EVERY_RULE))
@pytest.mark.parametrize("batch", [1, 2])
def test_every_rule_matches_the_measurement(name, batch):
    _compare(_network(name), batch)


def _onednn_workspaces(network, batch: int) -> dict[str, int]:
    """Per oneDNN LSTM layer: the estimate's workspace (its regions unrounded, seven pages per
    direction) less the bytes oneDNN allocates (each region rounded up to a page)."""
    inputs = check_buildable(network).input_shapes
    over = {}
    for layer in network.layers:
        if isinstance(layer, RecurrentLayer) and layer.has_cell and layer.fused:
            channels, hidden = inputs[layer.name][0].channels, layer.num_hidden_units
            estimated = 4 * batch * onednn_lstm_workspace(7, hidden, channels) + WORKSPACE_REGIONS * PAGE
            allocated = onednn_lstm_workspace_bytes(7, batch, hidden, channels)
            assert 0 < estimated - allocated <= WORKSPACE_REGIONS * PAGE
            over[layer.name] = layer.directions * (estimated - allocated)
    return over


@pytest.mark.parametrize("name", sorted(SEQUENCE_RULES))
@pytest.mark.parametrize("batch", [2, 3])
def test_sequence_rules_match_the_measurement(name, batch):
    """Exactly, but for oneDNN's workspace, whose regions the estimate counts unrounded plus seven
    pages: the measurement equals the estimate with each region rounded up to its page."""
    network = _network(name)
    analysis = analyze(network)
    memory = at_batch(analysis.totals.training_memory, batch)
    measured = measure_training_memory(network, batch)
    over = _onednn_workspaces(network, batch)
    by_layer = {row.name: batch * row.saved_bytes + row.saved_batch_bytes - over.get(row.name, 0)
                for row in analysis.layers}
    assert {name: size for name, size in by_layer.items() if size} == measured.by_layer
    assert memory.activation_bytes - sum(over.values()) == measured.activations
    steps = 8 * sum(p.requires_grad for p in to_torch(network).parameters())  # Adam's step per tensor
    assert memory.gradient_bytes == measured.gradients
    assert memory.optimizer_bytes <= measured.optimizer <= memory.optimizer_bytes + steps
    assert abs((memory.total_bytes - sum(over.values())) / measured.total - 1) <= 0.10


@pytest.mark.parametrize("name", sorted(SEQUENCE_RULES))
def test_a_batch_of_one_keeps_no_more_than_the_estimate(name):
    """At batch 1 the initial states are views of the module's buffers and (N, T, C) is (T, N, C):
    less is kept than the estimate says, never more."""
    network = _network(name)
    memory = at_batch(analyze(network).totals.training_memory, 1)
    measured = measure_training_memory(network, 1)
    over = sum(_onednn_workspaces(network, 1).values())
    assert measured.activations <= memory.activation_bytes - over


def test_the_networks_above_hold_every_layer_type_training_reads():
    """Pixel outputs aside (netspec train does not read pixel labels), no layer type goes unmeasured."""
    held = {type(layer) for name in [*EVERY_RULE, *SEQUENCE_RULES] for layer in _network(name).layers}
    pixel = {cls for cls in LAYERS.values() if issubclass(cls, PixelOutputLayer)}
    assert set(LAYERS.values()) - pixel - held == set()


@pytest.mark.parametrize("spec", ["lenet5", "mnist_matlab", "conv1d_signal", "inception_module"])
@pytest.mark.parametrize("batch", [1, 2])
def test_small_specs_match_the_measurement(spec, batch):
    _compare(netspec.load(SPECS / f"{spec}.net"), batch)


def test_frozen_layers_have_no_gradients_and_keep_nothing_before_the_first_that_trains():
    analysis = analyze(_network("graph"))
    rows = {row.name: row for row in analysis.layers}
    assert rows["frozen1"].trainable_learnables == 0 and rows["frozen1"].learnables == 4 * 4 * 9 + 4
    assert rows["c2"].trainable_learnables == rows["c2"].learnables
    assert rows["frozen1"].saved_bytes == rows["r1"].saved_bytes == 0  # nothing needs a gradient yet
    assert rows["c2"].saved_bytes == 8 * 8 * 4 * 4  # r1's output, kept for c2's weights
    assert rows["fc_frozen"].saved_bytes == 0  # its input serves only its frozen weights' gradient
    memory = analysis.totals.training_memory
    assert memory.gradient_bytes == 4 * analysis.totals.trainable_learnables
    assert memory.optimizer_bytes == memory.gradient_bytes  # rmsprop: one mean square


def test_the_estimate_grows_with_the_batch_only_through_the_activations():
    memory = analyze(netspec.load(SPECS / "mnist_matlab.net")).totals.training_memory
    one, many = at_batch(memory, 1), at_batch(memory, 100)
    assert many.total_bytes - one.total_bytes == 99 * memory.per_image_bytes
    assert memory.total_bytes == at_batch(memory, memory.batch_size).total_bytes


@pytest.mark.parametrize("text, size", [("16GiB", 16 * 2 ** 30), ("1.5 GB", 1_500_000_000), ("512MiB", 2 ** 29),
                                        ("1000000", 1_000_000), ("64kb", 64_000), ("2 TiB", 2 ** 41)])
def test_memory_sizes(text, size):
    assert memory_size(text) == size


def _analyze(*args: str):
    return runner.invoke(app, ["analyze", *map(str, args)], env={"COLUMNS": "200"})


@pytest.mark.parametrize("text", ["16 parsecs", "GiB", "-1GiB", "0", "1e9"])
def test_bad_memory_sizes_are_refused_clearly(text):
    result = _analyze(SPECS / "mnist_matlab.net", "--fit", text)
    assert result.exit_code == 2
    assert "--fit" in result.stderr and "Traceback" not in result.output


def test_fit_finds_the_largest_batch_that_fits_and_what_fills_it():
    budget = 256 * 2 ** 20
    result = _analyze(SPECS / "mnist_matlab.net", "--fit", "256MiB", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    fit, memory = document["fit"], document["totals"]["training_memory"]
    batch = fit["batch_size"]
    fixed = memory["weight_bytes"] + memory["gradient_bytes"] + memory["optimizer_bytes"] + memory["per_batch_bytes"]
    assert fixed + batch * memory["per_image_bytes"] <= budget < fixed + (batch + 1) * memory["per_image_bytes"]
    assert fit["memory"]["total_bytes"] == fixed + batch * memory["per_image_bytes"]
    measured = measure_training_memory(netspec.load(SPECS / "mnist_matlab.net"), 2)
    assert at_batch(analyze(netspec.load(SPECS / "mnist_matlab.net")).totals.training_memory, 2).total_bytes == \
        pytest.approx(measured.total, rel=0.10)
    text = _analyze(SPECS / "mnist_matlab.net", "--fit", "256MiB").stdout
    assert f"fits in 256 MiB: MiniBatchSize {batch:,}" in text
    assert f"(sgdm, batch {batch:,}): weights 581 KiB, gradients 581 KiB, optimizer 581 KiB, kept" in text


def test_the_analyze_schema_publishes_the_new_numbers():
    schema = json.dumps(json_schema())
    for name in ("training_memory", "TrainingMemory", "per_image_bytes", "optimizer_bytes", "Fit", "saved_bytes",
                 "trainable_learnables"):
        assert f'"{name}"' in schema


def test_fit_refuses_symbolic_sizes_and_a_network_that_fits_no_image(tmp_path):
    result = _analyze(SPECS / "mnist_matlab.net", "--fit", "16GiB", "--input-size", "H W 1")
    assert result.exit_code == 1 and "A401" in result.stderr and "symbolic" in result.stderr
    result = _analyze(SPECS / "mnist_matlab.net", "--fit", "1MiB")
    assert result.exit_code == 1 and "A402" in result.stderr and "not even one image fits in 1 MiB" in result.stderr


def test_train_refuses_a_run_beyond_the_memory_before_allocating(tmp_path):
    spec = tmp_path / "digits.net"
    spec.write_text("layers = [imageInputLayer([28 28 1])\n convolution2dLayer(3, 8)\n reluLayer\n"
                    " fullyConnectedLayer(10)\n softmaxLayer\n classificationLayer];\n")
    out = tmp_path / "run"
    batch = 10 ** 9  # 24 KiB kept per image: 22 TiB
    result = cli_netspec("train", spec, "--batch-size", batch, "--out", out)
    assert_clean_failure(result, "R015")
    assert f"training ≈ 22.6 TiB (sgdm, batch {batch:,})" in result.err and "RAM available" in result.err
    assert "--skip-memory-check" in result.err
    assert not out.exists()


def test_skip_memory_check_trains_anyway(tmp_path, spec, folder2, monkeypatch):
    monkeypatch.setattr(train_memory, "_meminfo_available", lambda path: 1000)
    result = cli_netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet")
    assert_clean_failure(result, "R015")
    assert "more than the 1000 B RAM available" in result.err
    result = cli_netspec("train", spec, "--data", folder2, "--out", tmp_path / "run", "--quiet", "--skip-memory-check")
    assert result.code == 0, result


def test_available_ram_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n")
    assert _meminfo_available(meminfo) == 8_000_000 * 1024
    assert 0 < _meminfo_available(Path("/proc/meminfo")) <= os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_fit_of_a_sequence_network_asks_for_its_length_and_fits_at_it():
    """T symbolic: A401 names --sequence-length; with it, the batch that fits at that length."""
    spec = SPECS / "japanese_vowels_bilstm.net"
    result = _analyze(spec, "--fit", "64MiB")
    assert result.exit_code == 1 and "A401" in result.stderr
    assert "sequence length is symbolic" in result.stderr and "--sequence-length N" in result.stderr
    result = _analyze(spec, "--fit", "64MiB", "--sequence-length", "29", "--format", "json")
    assert result.exit_code == 0, result.stderr
    fit = json.loads(result.stdout)["fit"]
    memory = analyze(netspec.load(spec), sequence_length=29).totals.training_memory
    batch = fit["batch_size"]
    assert at_batch(memory, batch).total_bytes <= 64 * 2 ** 20 < at_batch(memory, batch + 1).total_bytes
    assert fit["memory"]["total_bytes"] == at_batch(memory, batch).total_bytes


def _sequence_folder(root: Path, lengths: dict[str, list[int]]) -> Path:
    for label, sizes in lengths.items():
        (root / label).mkdir(parents=True)
        for number, size in enumerate(sizes):
            rows = "\n".join(f"{step * 0.1:.1f},{number * 0.2:.1f}" for step in range(size))
            (root / label / f"{number}.csv").write_text(rows + "\n")
    return root


@pytest.mark.parametrize("sequence_length, steps", [("'longest'", 9), ("5", 5)])
def test_train_refuses_a_sequence_network_at_its_longest_mini_batch(tmp_path, monkeypatch, sequence_length, steps):
    """The estimate at the most steps a mini-batch holds: the longest training sequence, or SequenceLength N."""
    spec = tmp_path / "vowels.net"
    spec.write_text("layers = [sequenceInputLayer(2)\n lstmLayer(4,'OutputMode','last')\n fullyConnectedLayer(2)\n"
                    f" softmaxLayer\n classificationLayer];\noptions = trainingOptions('adam','MiniBatchSize',4,"
                    f"'MaxEpochs',1,'SequenceLength',{sequence_length});\n")
    data = _sequence_folder(tmp_path / "data", {"a": [3, 4, 9, 5], "b": [6, 2, 7, 4]})
    monkeypatch.setattr(train_memory, "_meminfo_available", lambda path: 1000)
    result = cli_netspec("train", spec, "--data", data, "--out", tmp_path / "run", "--split", "1.0", "--quiet")
    assert_clean_failure(result, "R015")
    memory = at_batch(analyze(netspec.load(spec), sequence_length=steps).totals.training_memory, 4)
    assert f"would not fit at {steps} steps: training ≈ {human(memory.total_bytes, 'B', True)}" in result.err
