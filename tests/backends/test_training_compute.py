"""One training step's compute (`analyze --convention torch`) against torch's FlopCounterMode.

Truth: FlopCounterMode around one `model(x).sum().backward()` (input without gradient, batch 2) of the
lowered module and of the exported `model.py`, for every spec in `specs/`, zoo networks and small
networks made here (frozen layers, every counted layer kind); the analysis is per sample, the count
is of 2 samples. Per layer, each module is run on its own on the values it got in the full pass, its
inputs wanting a gradient exactly where torch's autograd said so: forward alone, forward + backward
to its inputs (its parameters held), forward + backward to its parameters (its inputs held), each
against the analysis's forward, backward_input and backward_weights.

The torch convention counts what torch's own kernels run: oneDNN's fused LSTM (which FlopCounterMode
counts as nothing) is switched off while counting; a sequence whose length the spec leaves open is
counted at LENGTH steps.

FlopCounterMode counts from shapes, and autograd decides what to differentiate the same way on
every device, so the networks too large for the 2-core CPU in a test run on PyTorch's `meta`
device (shapes, no arithmetic); a mid-size network shows that the two counts agree.
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import netspec
from netspec.analysis import analyze
from netspec.analysis.report import Analysis
from netspec.backends.pytorch_source import to_source
from netspec.backends.torch import GraphModule, module_name, to_torch
from netspec.ir import Network
from netspec.language import load_source

SPECS = Path(__file__).parents[2] / "specs"
BATCH = 2

FROZEN = """
layers = [
    imageInputLayer([12 12 3])
    convolution2dLayer(3, 8, 'Name', 'c1', 'WeightLearnRateFactor', 0, 'BiasLearnRateFactor', 0)
    batchNormalizationLayer('Name', 'bn1', 'ScaleLearnRateFactor', 0)
    reluLayer('Name', 'r1')
    groupedConvolution2dLayer(3, 2, 'channel-wise', 'Name', 'dw', 'WeightLearnRateFactor', 0)
    groupedConvolution2dLayer(3, 4, 2, 'Name', 'g2')
    transposedConv2dLayer(3, 5, 'Name', 'up', 'Stride', 2, 'Cropping', [0 1 0 1])
    fullyConnectedLayer(4, 'Name', 'fc', 'BiasLearnRateFactor', 0)
    softmaxLayer
    classificationLayer];
"""
"""Frozen from the input on: no gradient anywhere until bn1's offset trains; dw then passes input
gradients but computes no weight gradient; g2 is grouped (torch counts its weight gradient ×groups)."""

ALL_FROZEN_FIRST = """
layers = [
    imageInputLayer([10 10 2], 'Normalization', 'none')
    convolution2dLayer(3, 4, 'Name', 'c1', 'WeightLearnRateFactor', 0, 'BiasLearnRateFactor', 0)
    convolution2dLayer(3, 4, 'Name', 'c2', 'WeightLearnRateFactor', 0, 'BiasLearnRateFactor', 0)
    convolution2dLayer(3, 4, 'Name', 'c3')
    convolution2dLayer(1, 3, 'Name', 'c4', 'WeightLearnRateFactor', 0, 'BiasLearnRateFactor', 0)
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
"""
"""Two frozen layers compute nothing backward; c4 is frozen after a trained layer: input gradient only."""

SEQUENCE = """
layers = [
    sequenceInputLayer(6)
    convolution1dLayer(3, 8, 'Padding', 'causal', 'Name', 'c1')
    layerNormalizationLayer('Name', 'ln', 'OffsetLearnRateFactor', 0)
    reluLayer
    fullyConnectedLayer(5, 'Name', 'fc', 'WeightLearnRateFactor', 0)
    fullyConnectedLayer(3, 'Name', 'fc2', 'BiasTerm', false)
    softmaxLayer
    classificationLayer];
"""
"""1-D convolution, a per-time-step fully connected layer, frozen weights with a trained bias."""

MERGE = """
lgraph = layerGraph([imageInputLayer([8 8 3], 'Name', 'in')
    convolution2dLayer(3, 4, 'Padding', 'same', 'Name', 'frozen', 'WeightLearnRateFactor', 0, ...
        'BiasLearnRateFactor', 0)
    additionLayer(2, 'Name', 'add')
    convolution2dLayer(1, 4, 'Name', 'after')
    fullyConnectedLayer(2, 'Name', 'fc')
    softmaxLayer('Name', 'sm')
    classificationLayer('Name', 'out')]);
lgraph = addLayers(lgraph, convolution2dLayer(1, 4, 'Name', 'side'));
lgraph = connectLayers(lgraph, 'in', 'side');
lgraph = connectLayers(lgraph, 'side', 'add/in2');
"""
"""A merge of a frozen path and a trained one: 'after' passes input gradients because of 'side' only."""

RECURRENT = """
lgraph = layerGraph([
    sequenceInputLayer(6, 'Name', 'in')
    fullyConnectedLayer(8, 'Name', 'fc')
    additionLayer(2, 'Name', 'add')
    selfAttentionLayer(2, 4, 'Name', 'biases', 'WeightLearnRateFactor', 0)
    selfAttentionLayer(2, 4, 'Name', 'frozen', 'AttentionMask', 'causal', 'WeightLearnRateFactor', 0, ...
        'BiasLearnRateFactor', 0)
    lstmLayer(5, 'Name', 'held', 'InputWeightsLearnRateFactor', 0, 'RecurrentWeightsLearnRateFactor', 0, ...
        'BiasLearnRateFactor', [0 0 0 0])
    gruLayer(4, 'Name', 'gru', 'ResetGateMode', 'before-multiplication', 'InputWeightsLearnRateFactor', 0, ...
        'RecurrentWeightsLearnRateFactor', 0)
    bilstmLayer(3, 'Name', 'bilstm', 'StateActivationFunction', 'softsign')
    gruLayer(3, 'Name', 'gru2', 'ResetGateMode', 'recurrent-bias-after-multiplication', 'OutputMode', 'last')
    fullyConnectedLayer(2, 'Name', 'out')
    softmaxLayer('Name', 'sm')
    classificationLayer('Name', 'loss')]);
lgraph = addLayers(lgraph, [positionEmbeddingLayer(8, 10, 'Name', 'pos', 'WeightLearnRateFactor', 0)
    fullyConnectedLayer(8, 'Name', 'afterpos')]);
lgraph = connectLayers(lgraph, 'fc', 'pos');
lgraph = connectLayers(lgraph, 'afterpos', 'add/in2');
"""
"""Attention and recurrent layers trained, frozen but passing input gradients, and training only
their biases (the gradient through the states or the attention products is then the biases'); a
frozen position embedding passes no gradient ('afterpos' computes none to its input); a GRU whose
reset gate multiplies the initial state."""

TINY = {"frozen": FROZEN, "frozen_first": ALL_FROZEN_FIRST, "sequence": SEQUENCE, "merge": MERGE,
        "recurrent": RECURRENT}
ZOO = ["resnet18", "mobilenetv2", "googlenet", "squeezenet", "shufflenet", "efficientnetb0"]


def _network(case: str) -> Network:
    if case.endswith(".net"):
        return netspec.load(str(SPECS / case), set={"numClasses": "4"})
    if case in TINY:
        return load_source(TINY[case], f"{case}.net").network
    return load_source(f"net = {case};\n", "zoo.net").network


CASES = sorted(p.name for p in SPECS.glob("*.net")) + list(TINY) + ZOO


CPU_FLOPS = 10**10
"""Training steps of 2 samples up to this many FLOPs run on the CPU, larger ones on `meta`."""
LENGTH = 7
"""Time steps of a sequence whose length the spec leaves open (the lowered module takes any)."""


@contextlib.contextmanager
def _counting():
    """FlopCounterMode on torch's own CPU kernels: oneDNN's fused LSTM is one operation it has no
    formula for (the torch convention counts what torch's own kernels run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags' note about oneDNN on other devices
        with torch.backends.mkldnn.flags(enabled=False), FlopCounterMode(display=False) as counter:
            yield counter


def _inputs(model: nn.Module, sizes: list[tuple[int, ...]]) -> list[torch.Tensor]:
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(0)
    return [(torch.rand(BATCH, *(LENGTH if d is None else d for d in size), generator=generator) * 255).to(device)
            for size in sizes]


def _lowered(network: Network, device: str) -> GraphModule:
    with torch.device(device):
        return to_torch(network, seed=0)


def _step_flops(model: nn.Module, inputs: list[torch.Tensor]) -> int:
    """FlopCounterMode around one forward and backward, the loss the sum of every output."""
    with _counting() as counter:
        outputs = model(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        sum(output.sum() for output in outputs).backward()
    return counter.get_total_flops()


@pytest.fixture(scope="module", params=CASES)
def built(request) -> tuple[Network, Analysis, GraphModule]:
    network = _network(request.param)
    analysis = analyze(network, convention="torch")
    if not isinstance(analysis.totals.training.training_step, int):  # T open: counted at LENGTH steps
        analysis = analyze(network, convention="torch", sequence_length=LENGTH)
    assert not analysis.has_errors, analysis.diagnostics
    device = "cpu" if BATCH * analysis.totals.training.training_step <= CPU_FLOPS else "meta"
    return network, analysis, _lowered(network, device)


def test_the_meta_device_counts_what_the_cpu_counts():
    network = _network("resnet18.net")
    counts = {device: _step_flops(model, _inputs(model, model.input_sizes))
              for device in ("cpu", "meta") for model in [_lowered(network, device)]}
    assert counts["cpu"] == counts["meta"] > 0


def test_training_step_equals_flop_counter(built):
    _, analysis, model = built
    step = analysis.totals.training
    assert step.convention == "torch"
    assert _step_flops(model, _inputs(model, model.input_sizes)) == BATCH * step.training_step
    assert step.training_step == step.forward + step.backward_input + step.backward_weights
    assert step.forward == analysis.totals.torch_flops


def test_exported_source_counts_the_same(built, tmp_path):
    network, analysis, model = built
    path = tmp_path / "model.py"
    path.write_text(to_source(network), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("exported_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with torch.device(next(model.parameters()).device):
        exported = module.Net()
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {name for name, p in exported.named_parameters() if not p.requires_grad}
    assert _step_flops(exported, _inputs(model, model.input_sizes)) == BATCH * analysis.totals.training.training_step


def _counted(run) -> int:
    with _counting() as counter:
        run()
    return counter.get_total_flops()


def _module_step(module: nn.Module, inputs: list[torch.Tensor], train_inputs: bool, train_parameters: bool) -> int:
    """One module's forward and backward: gradients to the inputs autograd wanted them for
    (`train_inputs`), to its parameters as lowered (`train_parameters`); the others held."""
    held = [(p, p.requires_grad) for p in module.parameters()]
    for parameter, wanted in held:
        parameter.requires_grad_(wanted and train_parameters)
    given = [x.detach().requires_grad_(x.requires_grad and train_inputs) for x in inputs]

    def run():
        outputs = module(*given)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        differentiable = [o for o in outputs if o.requires_grad]
        if differentiable:
            sum(o.sum() for o in differentiable).backward()

    try:
        return _counted(run)
    finally:
        for parameter, wanted in held:
            parameter.requires_grad_(wanted)


def test_every_layer_counts_what_flop_counter_counts(built):
    """Per layer: forward, backward to the learnables (its inputs held), and what the gradient to
    the inputs adds to that: measured apart. Where the two gradients share work (the gradient
    through a recurrent layer's states, or an attention layer's products) it is the learnables'
    when any trains, so the inputs' share is what they add."""
    _, analysis, model = built
    reports = {row.name: row for row in analysis.layers}
    keys = {name for name, _ in model.plan} | {key for keys in model.extra_outputs.values() for key in keys}
    values = model.run(*_inputs(model, model.input_sizes), capture=keys)
    for name, sources in model.plan:
        module, row = model.layers[module_name(name)], reports[name]
        inputs = [values[source] for source in sources] or _inputs(model, [model.input_sizes[
            model.input_names.index(name)]])
        forward = _module_step(module, inputs, False, False)
        weights = _module_step(module, inputs, False, True)
        assert forward == BATCH * row.forward, name
        assert weights - forward == BATCH * row.backward_weights, name
        assert _module_step(module, inputs, True, True) - weights == BATCH * row.backward_input, name
        assert row.training_step == row.forward + row.backward_input + row.backward_weights, name


def test_trained_learnables_are_the_parameters_autograd_trains(built):
    """The analysis's trained learnables (learn-rate factor above 0) are the lowered parameters the
    lowering left wanting a gradient: one mapping of factors serves both."""
    _, analysis, model = built
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trained == analysis.totals.trainable_learnables


def test_the_lowering_freezes_what_the_spec_freezes():
    """FROZEN's learn-rate factors of 0: c1's weights and bias, bn1's scale, dw's weights, fc's bias."""
    model = to_torch(_network("frozen"), seed=0)
    frozen = {(key, name.rsplit(".", 1)[-1]) for key, module in model.layers.items()
              for name, parameter in module.named_parameters() if not parameter.requires_grad}
    assert frozen == {("c1", "weight"), ("c1", "bias"), ("bn1", "weight"), ("dw", "weight"), ("fc", "bias")}
