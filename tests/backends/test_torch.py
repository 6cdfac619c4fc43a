"""PyTorch lowering against the analyzer and MATLAB's semantics (SPEC §3, §5, §8).

Per spec in `specs/` (numClasses = 4):
  * every layer's forward output shape (batch 2) = the analyzer's `output_dims`, in torch layout;
  * parameters (model and per layer) = learnables, BN running statistics = states;
  * `FlopCounterMode` (batch 1) = the analyzer's MACs (total / 2) and `torch_flops` per layer (with
    oneDNN's fused RNN kernel off, so torch runs an LSTM as the matrix products FlopCounterMode sees;
    see tests/test_sequence_layers.py);
A sequence input without 'MinLength' is analyzed and fed at SEQUENCE_LENGTH steps.
  * receptive fields = the footprint of an output unit's input gradient.

The first three compare netspec with itself on channel counts (the lowering sizes its modules from the
analyzer's shapes: a depthwise `groups` both got wrong would pass them), so each weighted module is
also checked against the layer's own MATLAB options and the tensor torch feeds it (section 2b).

Receptive-field measurement (what this file chose, and why). A max pooling routes the gradient
to one element per window, so the footprint of one output unit is sparse and its extremes are
rarely reached. The test therefore works on a copy of the lowered model in which every max
pooling is an average pooling of the same kernel, stride and padding (its -inf `Pad` becomes a
zero `Pad`): the geometry, which is all a receptive field is about, is unchanged, and every
position of every window gets a non-zero gradient. All convolution weights are 1/fan-in, biases
0, BN is in eval mode with its initial statistics, and the input is positive and tiny (1e-5), so
ReLU, clipped ReLU, tanh and LRN are all in a regime with non-zero derivative and sums of positive
terms cannot cancel. One output unit per batch element gets a gradient of one (all channels);
along each spatial axis the non-zero input rows must span exactly
    [u·jump - padding, u·jump - padding + size - 1]  clipped to the input,
for unit u = 0, 1 and a central unit c (the unit whose field is the most inside the input, so
both of its ends are seen where the field fits), and the distance between the footprints of
units 0 and 1 must be the jump. Only the graph up to the measured layers is run. (A padded
intermediate layer whose padding stands for real pixels, e.g. a padded dilated convolution after
a stride, hides those pixels from the footprint: the tiny cases below avoid that on purpose.)
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

import netspec
from netspec.analysis import analyze
from netspec.analysis.report import Analysis, LayerReport
from netspec.backends.torch import LOWER, UNSUPPORTED, GraphModule, Pad, module_name, to_torch
from netspec.ir import LAYERS, Network, conv, input_output, norm, recurrent, sequence
from netspec.ir.shape import Shape
from netspec.language import load_source

SPECS = Path(__file__).parents[2] / "specs"
SPEC_FILES = sorted(SPECS.glob("*.net"))
BINDINGS = {"numClasses": "4"}
SEQUENCE_LENGTH = 7
"""Time steps of a sequence input that 'MinLength' does not fix (its length is the symbol T)."""


# -- helpers -------------------------------------------------------------------------------------

def torch_shape(dims: list) -> tuple[int, ...]:
    """MATLAB order (H, W, C) / (T, C) / (T, H, W, C) / (C) -> torch's (C, H, W) / (C, T) / (C, T, H, W) /
    (C), batch excluded."""
    assert all(isinstance(d, int) for d in dims), f"expected concrete sizes, got {dims}"
    if len(dims) in (3, 4):
        return (dims[-1], *dims[:-1])
    if len(dims) == 2:
        return (dims[1], dims[0])
    return tuple(dims)


@dataclass
class Built:
    name: str
    network: Network
    analysis: Analysis
    model: GraphModule

    @property
    def reports(self) -> dict[str, LayerReport]:
        return {layer.name: layer for layer in self.analysis.layers}

    def inputs(self, batch: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        reports = self.reports
        return [torch.randn(batch, *torch_shape(reports[name].output_dims[0]), generator=generator)
                for name in self.model.input_names]


def build(network: Network, name: str = "t") -> Built:
    open_ended = any(isinstance(layer, input_output.SequenceInputLayer) and layer.min_length is None
                     for layer in network.layers)
    analysis = analyze(network, sequence_length=SEQUENCE_LENGTH if open_ended else None)
    assert not analysis.has_errors, analysis.diagnostics
    return Built(name, network, analysis, to_torch(network, seed=0).eval())


@contextlib.contextmanager
def native_kernels():
    """torch's own CPU kernels: oneDNN's fused LSTM is one op FlopCounterMode has no formula for (it
    counts 0); torch's native LSTM runs the matrix products it counts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags' note about oneDNN TF32 on Intel GPUs
        with torch.backends.mkldnn.flags(enabled=False):
            yield


def tiny(text: str) -> Built:
    return build(load_source(text, "t.net").network)


@pytest.fixture(scope="module", params=SPEC_FILES, ids=lambda p: p.name)
def spec(request) -> Built:
    """One spec lowered at a time (module scope: pytest groups the tests by spec)."""
    network = netspec.load(str(request.param), set=BINDINGS)
    return build(network, request.param.name)


# -- 1. forward shapes at every layer ------------------------------------------------------------

def test_forward_shapes_match_analyzer_at_every_layer(spec: Built):
    torch.manual_seed(0)
    names = {name for name, _ in spec.model.plan}
    with torch.no_grad():
        values = spec.model.run(*spec.inputs(2), capture=names)
    checked = 0
    for report in spec.analysis.layers:
        if not report.output_dims:  # loss layers: no module
            assert module_name(report.name) not in spec.model.layers
            continue
        value = values[report.name]  # a layer's first output (a folding's images)
        assert tuple(value.shape[1:]) == torch_shape(report.output_dims[0]), report.name
        if len(report.output_dims) == 1:  # every element counted: folded images are T per sample
            assert value.numel() == 2 * report.activation_elements, report.name
        assert torch.isfinite(value).all(), report.name
        checked += 1
    assert checked == len(spec.model.plan) == len(values)
    # forward() returns what the output (loss) layer reads: a softmax, one row per sample
    (name,) = spec.model.output_names
    if spec.reports[name].type == "softmaxLayer":
        sums = values[name].sum(1)
        torch.testing.assert_close(sums, torch.ones_like(sums))


# -- 2. learnables and states --------------------------------------------------------------------

def test_learnables_and_states_match_analyzer(spec: Built):
    model = spec.model
    assert sum(p.numel() for p in model.parameters()) == spec.analysis.totals.learnables
    states_total = 0
    for report in spec.analysis.layers:
        key = module_name(report.name)
        if key not in model.layers:
            assert report.learnables == 0 and report.states == 0
            continue
        module = model.layers[key]
        assert sum(p.numel() for p in module.parameters()) == report.learnables, report.name
        stats = sum(b.numel() for n, b in module.named_buffers()
                    if n.rsplit(".", 1)[-1] in ("running_mean", "running_var", "h0", "c0"))
        assert stats == report.states, report.name
        states_total += stats
    assert states_total == spec.analysis.totals.states


# -- 2b. weighted modules against the IR's own fields, without the analyzer --------------------------

@dataclass
class Expected:
    """What a weighted layer's module must be: its core module's attributes, the channels of its
    output tensor, and its parameter count."""

    attributes: dict[str, object]
    out_channels: int
    parameters: int


WEIGHTED_CORES = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm,
                  nn.LSTM, nn.GRU)


def ir_input(layer) -> torch.Tensor:
    """One sample of an input layer's data, sized from its own InputSize (torch layout)."""
    if isinstance(layer, input_output.ImageInputLayer):
        height, width, channels = layer.input_size
        return torch.randn(1, channels, height, width)
    if isinstance(layer, input_output.SequenceInputLayer) and isinstance(layer.input_size, tuple):
        height, width, channels = layer.input_size
        return torch.randn(1, channels, layer.min_length or SEQUENCE_LENGTH, height, width)
    if isinstance(layer, input_output.SequenceInputLayer):
        return torch.randn(1, layer.input_size, layer.min_length or SEQUENCE_LENGTH)
    return torch.randn(1, layer.input_size)


def ir_expectation(layer, x: torch.Tensor) -> Expected | None:
    """The module a layer's MATLAB options call for, given its input `x` as torch feeds it (written
    out here from MATLAB's definitions, reading neither the analyzer nor the IR's own formulas);
    None for a layer without weights."""
    channels = x.shape[1]

    def declared(value, actual: int, option: str) -> None:
        assert value in ("auto", actual), f"{layer.name}: {option} {value}, but torch feeds it {actual}"

    if isinstance(layer, (conv.Convolution2dLayer, conv.GroupedConvolution2dLayer, conv.Convolution1dLayer)):
        one_d = isinstance(layer, conv.Convolution1dLayer)
        as_tuple = (lambda v: (v,)) if one_d else tuple
        if isinstance(layer, conv.GroupedConvolution2dLayer):
            groups = channels if layer.num_groups == "channel-wise" else layer.num_groups
            declared(layer.num_channels_per_group, channels // groups, "NumChannelsPerGroup")
            out = groups * layer.num_filters_per_group
        else:
            declared(layer.num_channels, channels, "NumChannels")
            groups, out = 1, layer.num_filters
        kernel = as_tuple(layer.filter_size)
        return Expected({"in_channels": channels, "out_channels": out, "groups": groups, "kernel_size": kernel,
                         "stride": as_tuple(layer.stride), "dilation": as_tuple(layer.dilation_factor)},
                        out, math.prod(kernel) * (channels // groups) * out + out * layer.bias_term)
    if isinstance(layer, conv.TransposedConv2dLayer):
        declared(layer.num_channels, channels, "NumChannels")
        out = layer.num_filters
        return Expected({"in_channels": channels, "out_channels": out, "groups": 1,
                         "kernel_size": tuple(layer.filter_size), "stride": tuple(layer.stride)},
                        out, math.prod(layer.filter_size) * channels * out + out * layer.bias_term)
    if isinstance(layer, conv.FullyConnectedLayer):
        # a sequence (N, C, T) is used per time step, an image sequence (N, C, T, H, W) one image at a time
        features = channels if x.dim() == 3 else x[0, :, 0].numel() if x.dim() == 5 else x[0].numel()
        declared(layer.input_size, features, "InputSize")
        out = layer.output_size
        return Expected({"in_features": features, "out_features": out}, out, features * out + out * layer.bias_term)
    if isinstance(layer, norm.BatchNormalizationLayer):
        declared(layer.num_channels, channels, "NumChannels")
        return Expected({"num_features": channels}, channels, 2 * channels)
    if isinstance(layer, norm.LayerNormalizationLayer):
        declared(layer.num_channels, channels, "NumChannels")
        return Expected({"num_groups": 1, "num_channels": channels}, channels, 2 * channels)
    if isinstance(layer, sequence.SelfAttentionLayer):  # its core: the output map; MATLAB's count of all four
        keys = layer.num_key_channels
        values = keys if layer.num_value_channels == "auto" else layer.num_value_channels
        out = channels if layer.output_size == "auto" else layer.output_size
        return Expected({"in_features": values, "out_features": out}, out,
                        (2 * keys + values) * (channels + 1) + out * (values + 1))
    if isinstance(layer, recurrent.RecurrentLayer):  # MATLAB: G gates × D directions, one bias per gate set
        declared(layer.input_size, channels, "InputSize")
        hidden, bidirectional = layer.num_hidden_units, isinstance(layer, recurrent.BilstmLayer)
        gates = 3 if isinstance(layer, recurrent.GruLayer) else 4
        biases = 2 if getattr(layer, "reset_gate_mode", "") == "recurrent-bias-after-multiplication" else 1
        rows = (2 if bidirectional else 1) * gates * hidden
        return Expected({"input_size": channels, "hidden_size": hidden, "bidirectional": bidirectional},
                        rows // gates, rows * (channels + hidden) + biases * rows)
    return None


def assert_modules_match_the_ir(built: Built) -> None:
    """Every weighted module against `ir_expectation`, fed the tensors torch's own forward makes."""
    model = built.model
    feed = {name: ir_input(built.network.layer(name)) for name in model.input_names}
    with torch.no_grad():
        values = model.run(*feed.values(), capture={name for name, _ in model.plan})
    checked = 0
    for name, sources in model.plan:
        layer = built.network.layer(name)
        expected = ir_expectation(layer, values[sources[0]] if sources else feed[name])
        if expected is None:
            continue
        module = model.layers[module_name(name)]
        *_, core = [m for m in module.modules() if isinstance(m, WEIGHTED_CORES)]  # attention: its output map
        for attribute, value in expected.attributes.items():
            assert getattr(core, attribute) == value, f"{name}: {attribute} {getattr(core, attribute)}, IR {value}"
        assert values[name].shape[1] == expected.out_channels, name
        parameters = sum(p.numel() for p in module.parameters())
        assert parameters == expected.parameters, f"{name}: {parameters} parameters, IR {expected.parameters}"
        checked += parameters
    assert checked == sum(p.numel() for p in model.parameters())  # no parameter escaped the check


def test_weighted_modules_match_the_ir_fields_and_the_tensors_torch_feeds_them(spec: Built):
    assert_modules_match_the_ir(spec)


@pytest.mark.parametrize("text", [
    "layers=[imageInputLayer([9 9 4],'Normalization','none')\n"
    "convolution2dLayer([3 2],6,'Stride',[1 2],'DilationFactor',[2 1],'NumChannels',4)\n"
    "groupedConvolution2dLayer(3,2,3,'Padding','same','BiasTerm',false)\n"
    "groupedConvolution2dLayer(3,2,'channel-wise','NumChannelsPerGroup',1)\n"
    "batchNormalizationLayer\nlayerNormalizationLayer\n"
    "transposedConv2dLayer(3,5,'Stride',2,'Cropping','same')\nfullyConnectedLayer(3)];",
    "layers=[sequenceInputLayer(3,'MinLength',12)\nconvolution1dLayer(3,4,'DilationFactor',2)\n"
    "batchNormalizationLayer\nfullyConnectedLayer(2,'InputSize',4)];",
    "layers=[featureInputLayer(5)\nfullyConnectedLayer(3)\nbatchNormalizationLayer];",
], ids=["2-d", "1-d", "features"])
def test_every_weighted_kind_matches_the_ir_fields(text):
    assert_modules_match_the_ir(tiny(text))


@pytest.mark.parametrize("layer, given, out", [
    (conv.Convolution2dLayer(filter_size=3, num_filters=6), Shape.image(8, 8, 4), 6),
    (conv.GroupedConvolution2dLayer(filter_size=3, num_filters_per_group=2, num_groups="channel-wise"),
     Shape.image(8, 8, 4), 8),
    (conv.GroupedConvolution2dLayer(filter_size=3, num_filters_per_group=3, num_groups=2), Shape.image(8, 8, 4), 6),
    (conv.TransposedConv2dLayer(filter_size=3, num_filters=5), Shape.image(8, 8, 4), 5),
    (conv.Convolution1dLayer(filter_size=3, num_filters=7), Shape.sequence(10, 4), 7),
], ids=["conv2d", "depthwise", "grouped", "transposed", "conv1d"])
def test_convolutions_size_their_outputs_from_the_ir_fields_not_the_analysis(layer, given, out):
    """Handed an output shape with the wrong channels, a convolution's lowering still builds what its
    options ask for: only the input channels come from the analysis."""
    wrong = [given.with_channels(999)]
    (core,) = [m for m in LOWER[type(layer)](layer, [given], wrong).modules() if isinstance(m, WEIGHTED_CORES)]
    assert (core.in_channels, core.out_channels) == (4, out)


# -- 3. MACs = FlopCounterMode / 2 -----------------------------------------------------------------

def test_macs_match_flop_counter(spec: Built):
    with torch.no_grad(), native_kernels(), FlopCounterMode(display=False) as counter:
        spec.model(*spec.inputs(1))
    total = counter.get_total_flops()
    assert total % 2 == 0 and total // 2 == spec.analysis.totals.macs
    assert total == spec.analysis.totals.torch_flops
    counts = counter.get_flop_counts()
    for report in spec.analysis.layers:
        counted = sum(counts.get(f"GraphModule.layers.{module_name(report.name)}", {}).values())
        assert counted == report.torch_flops, report.name
        assert counted == 2 * report.macs, report.name


# -- 4. receptive fields = gradient footprints ------------------------------------------------------

def _geometry_copy(model: GraphModule) -> GraphModule:
    """The model with max pooling as average pooling (same geometry), constant positive weights."""
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(parent, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
            elif isinstance(child, nn.MaxPool1d):
                setattr(parent, child_name, nn.AvgPool1d(child.kernel_size, child.stride, child.padding))
            elif isinstance(child, Pad) and child.value == -math.inf:
                child.value = 0.0
    assert not any(isinstance(m, (nn.MaxPool1d, nn.MaxPool2d)) for m in model.modules())
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.zero_()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


def _run_until(model: GraphModule, inputs: list[torch.Tensor], targets: set[str]) -> dict[str, torch.Tensor]:
    """The plan of `model` executed only as far as the last of `targets`."""
    feed = dict(zip(model.input_names, inputs))
    values: dict[str, torch.Tensor] = {}
    found: dict[str, torch.Tensor] = {}
    for name, sources in model.plan:
        module = model.layers[module_name(name)]
        value = module(feed[name]) if not sources else module(*(values[s] for s in sources))
        keys = [name, *model.extra_outputs.get(name, [])]
        values.update(zip(keys, value) if len(keys) > 1 else [(name, value)])
        if name in targets:
            found[name] = values[name]
            if len(found) == len(targets):
                break
    return found


def _number(text) -> Fraction:
    return Fraction(str(text))


POSITION_ONLY = ("sinusoidalPositionEncodingLayer", "positionEmbeddingLayer")
"""Layers whose output depends on their input's length only: no gradient footprint to measure."""


def _pick_layers(built: Built) -> list[LayerReport]:
    """The last layer before any 'global' field, two windowed layers a third and two thirds in (any
    layers when none slides a window), and the first merge (addition / concatenation), where the
    field is the max over paths. Only layers on the input's own axes (not folded images)."""
    (input_name,) = built.model.input_names
    axes = len(built.reports[input_name].output_dims[0]) - 1
    local = [r for r in built.analysis.layers
             if r.output_dims and r.receptive_field is not None and not r.receptive_field.is_global
             and len(r.receptive_field.axes) == axes and r.inputs and r.type not in POSITION_ONLY
             and not r.output_shapes[0].endswith("images)")]
    windowed = [r for r in local if "onvolution" in r.type or "ooling" in r.type] or local
    picks = {local[-1].name, windowed[len(windowed) // 3].name, windowed[2 * len(windowed) // 3].name}
    merges = [r for r in local if len(r.inputs) > 1]
    picks |= {merges[0].name} if merges else set()
    return [r for r in local if r.name in picks]


def _expected(unit: int, size: int, jump: int, padding: int, n_in: int) -> tuple[int, int]:
    start = unit * jump - padding
    return max(0, start), min(n_in - 1, start + size - 1)


def assert_fields_are_gradient_footprints(built: Built, layers: list[LayerReport]) -> int:
    """Measure the footprints of 3 units per layer (one batch element each); return the checks made."""
    model = _geometry_copy(built.model)
    (input_name,) = model.input_names
    input_dims = built.reports[input_name].output_dims[0]
    spatial_in = list(input_dims[:-1])
    torch.manual_seed(0)
    units_per_layer = 3
    x = ((0.5 + 0.5 * torch.rand(1, *torch_shape(input_dims))) * 1e-5)
    x = x.repeat(units_per_layer, *[1] * (x.dim() - 1)).requires_grad_(True)
    outputs = _run_until(model, [x], {r.name for r in layers})
    checks = 0
    for report in layers:
        y = outputs[report.name]
        axes = report.receptive_field.axes
        assert len(axes) == len(spatial_in) == y.dim() - 2, report.name
        sizes = [int(_number(a.size)) for a in axes]
        jumps = [int(_number(a.jump)) for a in axes]
        pads = [int(_number(a.padding)) for a in axes]
        units = []  # per axis: the unit each batch element measures
        for axis, n_out in enumerate(y.shape[2:]):
            n_in = spatial_in[axis]
            central = max(range(n_out), key=lambda u: min(u * jumps[axis] - pads[axis],
                                                          n_in - 1 - (u * jumps[axis] - pads[axis] + sizes[axis] - 1)))
            units.append([0, min(1, n_out - 1), central])
        seed = torch.zeros_like(y)
        for b in range(units_per_layer):
            seed[(b, slice(None), *[units[axis][b] for axis in range(len(units))])] = 1.0
        (grad,) = torch.autograd.grad(y, x, seed, retain_graph=True)
        for axis in range(len(spatial_in)):
            spans = []
            for b in range(units_per_layer):
                per_position = grad[b].abs().sum(0)  # channels out
                other = [d for d in range(per_position.dim()) if d != axis]
                profile = per_position.sum(other) if other else per_position
                nonzero = torch.nonzero(profile).flatten()
                assert nonzero.numel(), f"{report.name}: empty footprint (unit {units[axis][b]}, axis {axis})"
                span = (int(nonzero.min()), int(nonzero.max()))
                expected = _expected(units[axis][b], sizes[axis], jumps[axis], pads[axis], spatial_in[axis])
                assert span == expected, (f"{built.name}/{report.name} axis {axis} unit {units[axis][b]}: "
                                          f"footprint {span}, analyzer field {expected} "
                                          f"(size {sizes[axis]}, jump {jumps[axis]}, padding {pads[axis]})")
                spans.append(span)
                checks += 1
            # jump = distance between the footprints of units 0 and 1, read where they are not clipped
            if units[axis][1] == 1:
                if spans[0][0] > 0:
                    assert spans[1][0] - spans[0][0] == jumps[axis], report.name
                elif spans[1][1] < spatial_in[axis] - 1:
                    assert spans[1][1] - spans[0][1] == jumps[axis], report.name
    return checks


def assert_global_fields_see_every_step(built: Built) -> int:
    """A 'global' field on a sequence: the last time step's output (or the whole 'last' output of a
    recurrent layer) has a gradient from every input step. Returns the layers checked."""
    (input_name,) = built.model.input_names
    x = torch.randn(1, *torch_shape(built.reports[input_name].output_dims[0])).requires_grad_(True)
    global_layers = [r for r in built.analysis.layers if r.output_dims and r.receptive_field is not None
                     and r.receptive_field.is_global]
    outputs = built.model.run(x, capture={r.name for r in global_layers})
    for report in global_layers:
        y = outputs[report.name]
        unit = y[..., -1] if y.dim() == 3 else y
        weights = torch.arange(1.0, unit.shape[1] + 1)  # not a plain sum, which a softmax holds at 1
        (gradient,) = torch.autograd.grad((unit * weights).sum(), x, retain_graph=True)
        assert (gradient[0].abs().sum(0) > 0).all(), report.name
    return len(global_layers)


def test_receptive_fields_are_gradient_footprints(spec: Built):
    if not any("onvolution" in r.type or "ooling" in r.type for r in spec.analysis.layers):
        assert assert_global_fields_see_every_step(spec) >= 2  # a recurrent network: 'global' from the start
        return
    layers = _pick_layers(spec)
    if spec.name == "cnn_lstm_folding.net":  # its windows act on folded images: the unfolding sees them again
        assert [r.name for r in layers] == ["unfold"]
        assert assert_fields_are_gradient_footprints(spec, layers) == 9
        return
    assert len(layers) >= 2
    assert assert_fields_are_gradient_footprints(spec, layers) >= 6


@pytest.mark.parametrize("text, layer, field", [
    # symmetric 'same' and explicit padding, dilation, stride, and a 1-D causal convolution
    ("layers=[imageInputLayer([17 17 1],'Normalization','none')\n"
     "convolution2dLayer(3,2,'Padding','same','Name','a')\n"
     "maxPooling2dLayer(3,'Stride',2,'Padding',[0 1 0 1],'Name','p')\n"
     "convolution2dLayer(3,2,'DilationFactor',2,'Name','d')];", "d", (13, 2, 1)),
    ("layers=[sequenceInputLayer(1,'MinLength',40,'Name','s')\n"
     "convolution1dLayer(3,2,'Padding','causal','Name','c1')\n"
     "convolution1dLayer(3,2,'Padding','causal','DilationFactor',2,'Name','c2')];", "c2", (7, 1, 6)),
])
def test_small_receptive_fields(text, layer, field):
    built = tiny(text)
    report = built.reports[layer]
    axis = report.receptive_field.axes[0]
    assert (int(axis.size), int(axis.jump), int(axis.padding)) == field
    assert assert_fields_are_gradient_footprints(built, [report]) > 0


# -- 5. MATLAB semantics on tiny specs ---------------------------------------------------------------

def _module(built: Built, name: str) -> nn.Module:
    return built.model.layers[module_name(name)]


def _weights(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    core = [m for m in module.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    assert len(core) == 1
    return core[0].weight.detach(), None if core[0].bias is None else core[0].bias.detach()


def _out(built: Built, x: torch.Tensor, name: str) -> torch.Tensor:
    with torch.no_grad():
        return built.model.run(x, capture={name})[name]


@pytest.mark.parametrize("size, filt, stride, pads", [
    (6, 4, 1, (1, 2)),   # even kernel, stride 1: total 3 -> 1 top/left, 2 bottom/right
    (6, 3, 2, (0, 1)),   # stride 2 on an even input: total 1 -> all of it bottom/right
    (7, 2, 2, (0, 1)),
    (5, 3, 1, (1, 1)),   # symmetric
])
def test_same_padding_puts_the_odd_pixel_bottom_right(size, filt, stride, pads):
    built = tiny(f"layers=[imageInputLayer([{size} {size} 2],'Normalization','none')\n"
                 f"convolution2dLayer({filt},3,'Stride',{stride},'Padding','same','Name','c')];")
    x = torch.randn(2, 2, size, size)
    y = _out(built, x, "c")
    w, b = _weights(_module(built, "c"))
    top, bottom = pads
    expected = F.conv2d(F.pad(x, (top, bottom, top, bottom)), w, b, stride=stride)
    assert y.shape[-1] == math.ceil(size / stride)
    torch.testing.assert_close(y, expected)
    # and not the other way round, when it is asymmetric
    if top != bottom:
        other = F.conv2d(F.pad(x, (bottom, top, bottom, top)), w, b, stride=stride)
        assert not torch.allclose(y, other)


def test_explicit_asymmetric_padding_t_b_l_r():
    built = tiny("layers=[imageInputLayer([5 6 1],'Normalization','none')\n"
                 "convolution2dLayer([2 3],2,'Padding',[0 1 2 0],'Name','c')];")
    x = torch.randn(1, 1, 5, 6)
    y = _out(built, x, "c")
    w, b = _weights(_module(built, "c"))
    torch.testing.assert_close(y, F.conv2d(F.pad(x, (2, 0, 0, 1)), w, b))
    assert tuple(y.shape) == (1, 2, *built.reports["c"].output_dims[0][:2])


def test_max_pooling_padding_never_wins():
    built = tiny("layers=[imageInputLayer([5 5 2],'Normalization','none')\n"
                 "maxPooling2dLayer(3,'Padding',1,'Name','sym')\n"
                 "maxPooling2dLayer(3,'Stride',2,'Padding',[0 1 0 1],'Name','asym')];")
    x = -1.0 - torch.rand(2, 2, 5, 5)  # all negative: a zero-padded max would return 0 at the border
    with torch.no_grad():
        values = built.model.run(x, capture={"sym", "asym"})
    sym, asym = values["sym"], values["asym"]
    assert (sym < 0).all() and (asym < 0).all()
    manual = F.max_pool2d(F.pad(x, (1, 1, 1, 1), value=-math.inf), 3, stride=1)
    torch.testing.assert_close(sym, manual)
    torch.testing.assert_close(asym, F.max_pool2d(F.pad(sym, (0, 1, 0, 1), value=-math.inf), 3, stride=2))
    assert tuple(asym.shape) == (2, 2, 2, 2)


def test_average_pooling_counts_padded_zeros():
    built = tiny("layers=[imageInputLayer([4 4 1],'Normalization','none')\n"
                 "averagePooling2dLayer(3,'Padding',1,'Name','sym')];")
    y = _out(built, torch.ones(1, 1, 4, 4), "sym")[0, 0]
    assert y[0, 0].item() == pytest.approx(4 / 9)
    assert y[0, 1].item() == pytest.approx(6 / 9)
    assert y[1, 1].item() == pytest.approx(1.0)
    built = tiny("layers=[imageInputLayer([3 3 1],'Normalization','none')\n"
                 "averagePooling2dLayer(2,'Stride',2,'Padding',[0 1 0 1],'Name','asym')];")
    y = _out(built, torch.ones(1, 1, 3, 3), "asym")[0, 0]
    torch.testing.assert_close(y, torch.tensor([[1.0, 0.5], [0.5, 0.25]]))


@pytest.mark.parametrize("layer", ["maxPooling2dLayer(2)", "averagePooling2dLayer(2)"])
def test_pooling_stride_defaults_to_one_2d(layer):
    built = tiny(f"layers=[imageInputLayer([28 28 1],'Normalization','none')\n{layer}];")
    name = built.model.plan[-1][0]
    assert built.reports[name].output_dims == [[27, 27, 1]]
    x = torch.randn(2, 1, 28, 28)
    y = _out(built, x, name)
    pool = F.max_pool2d if layer.startswith("max") else F.avg_pool2d
    torch.testing.assert_close(y, pool(x, 2, stride=1))


@pytest.mark.parametrize("layer", ["maxPooling1dLayer(2)", "averagePooling1dLayer(2)"])
def test_pooling_stride_defaults_to_one_1d(layer):
    built = tiny(f"layers=[sequenceInputLayer(3,'MinLength',28)\n{layer}];")
    name = built.model.plan[-1][0]
    assert built.reports[name].output_dims == [[27, 3]]
    x = torch.randn(2, 3, 28)
    pool = F.max_pool1d if layer.startswith("max") else F.avg_pool1d
    torch.testing.assert_close(_out(built, x, name), pool(x, 2, stride=1))


@pytest.mark.parametrize("layer, channels, expected_out, learnables", [
    ("groupedConvolution2dLayer(3,4,2,'Name','g')", 8, 8, 3 * 3 * 4 * 4 * 2 + 8),
    ("groupedConvolution2dLayer(3,1,'channel-wise','Name','g')", 6, 6, 3 * 3 * 1 * 6 + 6),
    ("groupedConvolution2dLayer(3,2,'channel-wise','Name','g')", 6, 12, 3 * 3 * 1 * 12 + 12),
    ("groupedConvolution2dLayer(3,2,3,'BiasTerm',false,'Name','g')", 6, 6, 3 * 3 * 2 * 2 * 3),
])
def test_grouped_and_depthwise_parameter_counts(layer, channels, expected_out, learnables):
    built = tiny(f"layers=[imageInputLayer([7 7 {channels}],'Normalization','none')\n{layer}];")
    report = built.reports["g"]
    assert report.learnables == learnables
    module = _module(built, "g")
    assert sum(p.numel() for p in module.parameters()) == learnables
    assert report.output_dims == [[5, 5, expected_out]]
    x = torch.randn(2, channels, 7, 7)
    y = _out(built, x, "g")
    w, b = _weights(module)
    groups = {"'channel-wise'": channels}.get(layer.split(",")[2], None) or int(layer.split(",")[2])
    torch.testing.assert_close(y, F.conv2d(x, w, b, groups=groups))


@pytest.mark.parametrize("options, size, crop", [
    ("'Stride',2", 12, None),                     # (5-1)*2 + 4
    ("'Stride',2,'Cropping','same'", 10, (1, 1)),  # in*S, crop F-S = 2 split evenly
    ("'Stride',2,'Cropping',1", 10, (1, 1)),
    ("'Stride',2,'Cropping',[0 2 1 1]", 10, None),
])
def test_transposed_conv_output_size_and_values(options, size, crop):
    built = tiny("layers=[imageInputLayer([5 5 2],'Normalization','none')\n"
                 f"transposedConv2dLayer(4,3,{options},'Name','t')];")
    assert built.reports["t"].output_dims == [[size, size, 3]]
    assert built.reports["t"].learnables == 4 * 4 * 2 * 3 + 3
    x = torch.randn(2, 2, 5, 5)
    y = _out(built, x, "t")
    assert tuple(y.shape) == (2, 3, size, size)
    w, b = _weights(_module(built, "t"))
    full = F.conv_transpose2d(x, w, b, stride=2)  # 12 x 12
    if "[0 2 1 1]" in options:
        torch.testing.assert_close(y, full[:, :, 0:10, 1:11])
    else:
        t = crop[0] if crop else 0
        torch.testing.assert_close(y, full[:, :, t:t + size, t:t + size])


def test_transposed_conv_same_with_odd_total_crop():
    built = tiny("layers=[imageInputLayer([5 5 1],'Normalization','none')\n"
                 "transposedConv2dLayer(3,1,'Stride',2,'Cropping','same','Name','t')];")
    assert built.reports["t"].output_dims == [[10, 10, 1]]
    x = torch.randn(1, 1, 5, 5)
    y = _out(built, x, "t")
    w, b = _weights(_module(built, "t"))
    full = F.conv_transpose2d(x, w, b, stride=2)  # 11 x 11, crop 1: netspec crops it bottom/right
    torch.testing.assert_close(y, full[:, :, :10, :10])


@pytest.mark.parametrize("n, options, alpha, beta, k", [
    (5, "", 1e-4, 0.75, 2.0),
    (3, ",'Alpha',0.5,'Beta',0.6,'K',1", 0.5, 0.6, 1.0),
])
def test_lrn_matches_matlab_formula(n, options, alpha, beta, k):
    built = tiny("layers=[imageInputLayer([3 4 7],'Normalization','none')\n"
                 f"crossChannelNormalizationLayer({n}{options},'Name','lrn')];")
    x = torch.randn(2, 7, 3, 4, dtype=torch.float64) * 20
    y = _out(built, x.float(), "lrn").double()
    expected = torch.empty_like(x)
    half = (n - 1) // 2
    for c in range(7):
        window = x[:, max(0, c - half):min(7, c + half + 1)]
        ss = (window ** 2).sum(1)
        expected[:, c] = x[:, c] / (k + alpha / n * ss) ** beta
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)


def test_conv1d_causal_padding():
    built = tiny("layers=[sequenceInputLayer(2,'MinLength',20)\n"
                 "convolution1dLayer(3,4,'Padding','causal','DilationFactor',2,'Name','c')];")
    assert built.reports["c"].output_dims == [[20, 4]]
    x = torch.randn(2, 2, 20)
    y = _out(built, x, "c")
    w, b = _weights(_module(built, "c"))
    torch.testing.assert_close(y, F.conv1d(F.pad(x, (4, 0)), w, b, dilation=2))
    later = x.clone()
    later[:, :, 10:] += 1.0  # the future does not leak into the past
    torch.testing.assert_close(_out(built, later, "c")[:, :, :10], y[:, :, :10])
    assert not torch.allclose(_out(built, later, "c")[:, :, 10:], y[:, :, 10:])


def test_conv1d_same_padding_on_sequences():
    built = tiny("layers=[sequenceInputLayer(1,'MinLength',9)\n"
                 "convolution1dLayer(4,2,'Padding','same','Name','c')];")
    x = torch.randn(1, 1, 9)
    w, b = _weights(_module(built, "c"))
    torch.testing.assert_close(_out(built, x, "c"), F.conv1d(F.pad(x, (1, 2)), w, b))


def test_activations_matlab_defaults():
    built = tiny("layers=[featureInputLayer(5,'Normalization','none')\n"
                 "clippedReluLayer(6,'Name','clip')\n"
                 "leakyReluLayer('Name','leaky')\n"
                 "dropoutLayer('Name','drop')];")
    x = torch.tensor([[-2.0, -1.0, 0.5, 6.5, 100.0]])
    with torch.no_grad():
        values = built.model.run(x, capture={"clip", "leaky", "drop"})
    torch.testing.assert_close(values["clip"], torch.tensor([[0.0, 0.0, 0.5, 6.0, 6.0]]))
    leaky = tiny("layers=[featureInputLayer(3,'Normalization','none')\nleakyReluLayer('Name','l')];")
    torch.testing.assert_close(_out(leaky, torch.tensor([[-1.0, -100.0, 2.0]]), "l"),
                               torch.tensor([[-0.01, -1.0, 2.0]]))
    dropout = _module(built, "drop")
    assert isinstance(dropout, nn.Dropout) and dropout.p == 0.5  # MATLAB's default probability
    torch.testing.assert_close(values["drop"], values["leaky"])  # identity in eval mode
    big = torch.ones(1, 5000)
    dropout.train()
    assert (dropout(big) == 0).any()
    dropout.eval()


def test_fully_connected_on_a_sequence_acts_per_time_step():
    built = tiny("layers=[sequenceInputLayer(3,'MinLength',6)\nfullyConnectedLayer(4,'Name','fc')];")
    assert built.reports["fc"].output_dims == [[6, 4]]
    assert built.reports["fc"].learnables == 3 * 4 + 4
    x = torch.randn(2, 3, 6)
    y = _out(built, x, "fc")
    w, b = _weights(_module(built, "fc"))
    assert tuple(y.shape) == (2, 4, 6)
    for t in range(6):
        torch.testing.assert_close(y[:, :, t], x[:, :, t] @ w.T + b)


def test_fully_connected_on_an_image_flattens_to_1x1():
    built = tiny("layers=[imageInputLayer([3 2 2],'Normalization','none')\nfullyConnectedLayer(5,'Name','fc')];")
    assert built.reports["fc"].output_dims == [[1, 1, 5]]
    assert built.reports["fc"].learnables == 3 * 2 * 2 * 5 + 5
    y = _out(built, torch.randn(2, 2, 3, 2), "fc")
    assert tuple(y.shape) == (2, 5, 1, 1)


def test_glorot_uniform_bounds_and_zero_biases():
    built = tiny("layers=[imageInputLayer([8 8 8],'Normalization','none')\n"
                 "convolution2dLayer(3,16,'Name','c')\n"
                 "fullyConnectedLayer(30,'Name','fc')];")
    for name, fan_in, fan_out in (("c", 3 * 3 * 8, 3 * 3 * 16), ("fc", 6 * 6 * 16, 30)):
        w, b = _weights(_module(built, name))
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert w.abs().max() <= bound + 1e-7, name
        assert w.abs().max() > 0.95 * bound, name  # uniform over the whole range, not narrower
        assert abs(w.mean().item()) < 0.1 * bound
        assert b is not None and torch.count_nonzero(b) == 0, name


def test_seed_reproducibility():
    network = load_source("layers=[imageInputLayer([8 8 3])\nconvolution2dLayer(3,4)\n"
                          "batchNormalizationLayer\nreluLayer\nfullyConnectedLayer(5)];", "t.net").network
    first, second = to_torch(network, seed=7).state_dict(), to_torch(network, seed=7).state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    third = to_torch(network, seed=8).state_dict()
    assert any(not torch.equal(first[k], third[k]) for k in first if k.endswith("weight") and first[k].dim() > 1)


def test_bias_term_false_drops_the_bias():
    built = tiny("layers=[imageInputLayer([8 8 4],'Normalization','none')\n"
                 "convolution2dLayer(3,4,'BiasTerm',false,'Name','c')\n"
                 "groupedConvolution2dLayer(3,1,'channel-wise','BiasTerm',false,'Name','g')\n"
                 "transposedConv2dLayer(2,2,'Stride',2,'BiasTerm',false,'Name','t')\n"
                 "fullyConnectedLayer(3,'BiasTerm',false,'Name','fc')];")
    expected = {"c": 3 * 3 * 4 * 4, "g": 3 * 3 * 4, "t": 2 * 2 * 4 * 2, "fc": 8 * 8 * 2 * 3}
    for name, count in expected.items():
        w, b = _weights(_module(built, name))
        assert b is None, name
        assert built.reports[name].learnables == count == w.numel(), name
    with torch.no_grad():
        assert torch.count_nonzero(built.model(torch.zeros(1, 4, 8, 8))) == 0  # no bias anywhere


def test_batch_norm_inference_form():
    built = tiny("layers=[imageInputLayer([4 4 3],'Normalization','none')\n"
                 "batchNormalizationLayer('Name','bn')];")
    bn = _module(built, "bn")
    assert bn.eps == pytest.approx(1e-5)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([1.0, 2.0, 3.0]))
        bn.running_var.copy_(torch.tensor([4.0, 1.0, 0.25]))
        bn.weight.copy_(torch.tensor([2.0, 1.0, 1.0]))
        bn.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    x = torch.randn(2, 3, 4, 4)
    mean, var = bn.running_mean.view(1, 3, 1, 1), bn.running_var.view(1, 3, 1, 1)
    expected = (x - mean) / torch.sqrt(var + 1e-5) * bn.weight.view(1, 3, 1, 1) + bn.bias.view(1, 3, 1, 1)
    torch.testing.assert_close(_out(built, x, "bn"), expected)


def test_layer_normalization_on_images_normalizes_each_sample_over_c_h_w():
    built = tiny("layers=[imageInputLayer([3 4 5],'Normalization','none')\nlayerNormalizationLayer('Name','ln')];")
    module = _module(built, "ln")
    assert built.reports["ln"].learnables == 2 * 5 == sum(p.numel() for p in module.parameters())
    with torch.no_grad():
        module.weight.copy_(torch.arange(1.0, 6.0))
        module.bias.copy_(torch.arange(5.0) / 10)
    x = torch.randn(2, 5, 3, 4) * 3 + 1
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    var = x.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
    expected = (x - mean) / torch.sqrt(var + 1e-5) * module.weight.view(1, 5, 1, 1) + module.bias.view(1, 5, 1, 1)
    torch.testing.assert_close(_out(built, x, "ln"), expected)


def test_global_pooling_and_flatten():
    built = tiny("layers=[imageInputLayer([3 4 5],'Normalization','none')\n"
                 "globalMaxPooling2dLayer('Name','gmp')\nflattenLayer('Name','flat')];")
    x = torch.randn(2, 5, 3, 4)
    with torch.no_grad():
        values = built.model.run(x, capture={"gmp", "flat"})
    torch.testing.assert_close(values["gmp"], x.amax(dim=(2, 3), keepdim=True))
    assert built.reports["flat"].output_dims == [[5]]
    torch.testing.assert_close(values["flat"], x.amax(dim=(2, 3)))
    built = tiny("layers=[sequenceInputLayer(3,'MinLength',7)\nglobalAveragePooling1dLayer('Name','gap')];")
    x = torch.randn(2, 3, 7)
    assert built.reports["gap"].output_dims == [[1, 3]]
    torch.testing.assert_close(_out(built, x, "gap"), x.mean(dim=2, keepdim=True))


@pytest.mark.parametrize("dim, torch_dim, dims", [(1, 2, [8, 5, 3]), (2, 3, [4, 10, 3]), (3, 1, [4, 5, 6])])
def test_concatenation_layer_dim_is_matlab_h_w_c(dim, torch_dim, dims):
    built = tiny("lgraph = layerGraph([imageInputLayer([4 5 2],'Normalization','none','Name','in')\n"
                 f"    convolution2dLayer(1,3,'Name','a')\n    concatenationLayer({dim},2,'Name','cat')]);\n"
                 "lgraph = addLayers(lgraph, convolution2dLayer(1,3,'Name','b'));\n"
                 "lgraph = connectLayers(lgraph,'in','b');\n"
                 "lgraph = connectLayers(lgraph,'b','cat/in2');")
    assert built.reports["cat"].output_dims == [dims]
    x = torch.randn(2, 2, 4, 5)
    with torch.no_grad():
        values = built.model.run(x, capture={"a", "b", "cat"})
    torch.testing.assert_close(values["cat"], torch.cat([values["a"], values["b"]], dim=torch_dim))


def test_resize_nearest_upscale_by_two():
    built = tiny("layers=[imageInputLayer([3 4 1],'Normalization','none')\nresize2dLayer('Scale',2,'Name','r')];")
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    assert built.reports["r"].output_dims == [[6, 8, 1]]
    torch.testing.assert_close(_out(built, x, "r"), x.repeat_interleave(2, 2).repeat_interleave(2, 3))


def test_resize_nearest_asymmetric_floor_downscale():
    built = tiny("layers=[imageInputLayer([8 8 1],'Normalization','none')\n"
                 "resize2dLayer('Scale',0.5,'GeometricTransformMode','asymmetric',"
                 "'NearestRoundingMode','floor','Name','r')];")
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    torch.testing.assert_close(_out(built, x, "r"), x[:, :, 0::2, 0::2])


def test_resize_nearest_default_is_half_pixel_round():
    # MATLAB (dlresize): x_in = (x_out + 0.5) / scale - 0.5, rounded: output k reads input 2k + 1.
    built = tiny("layers=[imageInputLayer([8 8 1],'Normalization','none')\nresize2dLayer('Scale',0.5,'Name','r')];")
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    torch.testing.assert_close(_out(built, x, "r"), x[:, :, 1::2, 1::2])


def test_multiplication_scales_each_channel_by_its_squeeze_excitation_gate():
    built = tiny("lgraph = layerGraph([imageInputLayer([6 5 8],'Normalization','none','Name','in')\n"
                 "    globalAveragePooling2dLayer('Name','g')\n    multiplicationLayer(2,'Name','m')]);\n"
                 "lgraph = connectLayers(lgraph,'in','m/in2');")
    x = torch.randn(2, 8, 6, 5)
    torch.testing.assert_close(_out(built, x, "m"), x * x.mean(dim=(2, 3), keepdim=True))


def matlab_channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """MATLAB's ChannelShufflingLayer predict, in MATLAB's column-major [h w c n] layout:
    reshape to [h w c/g g n], permute(Z, [1 2 4 3 5]), reshape back."""
    array = x.permute(2, 3, 1, 0).numpy()
    h, w, c, n = array.shape
    z = array.reshape((h, w, c // groups, groups, n), order="F").transpose(0, 1, 3, 2, 4)
    return torch.from_numpy(z.reshape((h, w, c, n), order="F").copy()).permute(3, 2, 0, 1)


@pytest.mark.parametrize("channels, groups", [(12, 4), (12, 3), (8, 8)])
def test_channel_shuffle_is_matlabs_reshape_permute_reshape(channels, groups):
    built = tiny(f"layers=[imageInputLayer([3 4 {channels}],'Normalization','none')\n"
                 f"nnet.shufflenet.layer.ChannelShufflingLayer('s',{groups})];")
    x = torch.randn(2, channels, 3, 4)
    y = _out(built, x, "s")
    torch.testing.assert_close(y, matlab_channel_shuffle(x, groups))
    per_group = channels // groups  # output channel k reads input channel (k mod g)·C/g + floor(k/g)
    torch.testing.assert_close(y, x[:, [(k % groups) * per_group + k // groups for k in range(channels)]])


# -- 5b. MATLAB's pretrained architectures (netspec/zoo) ---------------------------------------------

NEW_ZOO = ["resnet101", "inceptionv3", "densenet201", "efficientnetb0", "xception", "shufflenet", "darknet53"]


@pytest.mark.parametrize("name", NEW_ZOO)
def test_pretrained_architectures_lower_at_the_analyzed_shapes(name):
    """Built on the meta device (shapes only, no memory, no arithmetic): the module's parameters
    are the analyzer's learnables, every layer's output has the analyzed shape, and the forward
    pass ends in the 1×1×1000 class scores."""
    network = load_source(f"net = {name};\n", "zoo.net").network
    reports = {row.name: row for row in analyze(network).layers}
    with torch.device("meta"):
        model = to_torch(network)
        names = [layer for layer, _ in model.plan]
        values = model.run(torch.zeros(2, *model.input_sizes[0]), capture=set(names))
    assert sum(p.numel() for p in model.parameters()) == sum(row.learnables for row in reports.values())
    for layer in names:
        assert tuple(values[layer].shape[1:]) == torch_shape(reports[layer].output_dims[0]), layer
    assert tuple(values[model.output_names[0]].shape) == (2, 1000, 1, 1)


def test_shufflenet_runs():
    """The one whose channel shuffle is new, for real (the smallest of them)."""
    built = build(load_source("net = shufflenet;\n", "zoo.net").network, "shufflenet")
    with torch.no_grad():
        scores = built.model(*built.inputs(1, torch.Generator().manual_seed(0)))
    assert scores.shape == (1, 1000, 1, 1) and torch.isfinite(scores).all()
    torch.testing.assert_close(scores.sum(), torch.tensor(1.0))  # softmax over the 1000 classes


# -- 6. dispatch coverage --------------------------------------------------------------------------

def test_every_ir_layer_is_lowered_or_declared_unsupported():
    missing = [kind for kind, cls in LAYERS.items() if cls not in LOWER and cls not in UNSUPPORTED]
    assert not missing
    assert not (set(LOWER) & UNSUPPORTED)


# -- 7. layer names as module keys -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["forward", "training", "to", "keys", "_modules"])
def test_a_layer_named_like_a_module_dict_attribute_lowers(name):
    """ModuleDict refuses its own attribute names as keys; the key gets a trailing '_'."""
    built = tiny(f"layers=[imageInputLayer([2 2 1],'Normalization','none')\nreluLayer('Name','{name}')];")
    assert module_name(name) == f"{name}_" and isinstance(built.model.layers[f"{name}_"], nn.ReLU)


def test_layer_names_that_share_a_module_key_are_a_located_error():
    text = "layers=[imageInputLayer([2 2 1],'Normalization','none')\nreluLayer('Name','a-b')\nreluLayer('Name','a.b')];"
    with pytest.raises(netspec.NetspecError) as info:
        to_torch(load_source(text, "t.net").network)
    diagnostic = info.value.diagnostic
    assert diagnostic.code == "T004" and "'a-b' and 'a.b'" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 1)


# -- 8. the layers of segmentation and super-resolution files (issue 14) ---------------------------

SEGMENTATION = """
lgraph = layerGraph([imageInputLayer([12 10 3],'Normalization','none','Name','in')
    convolution2dLayer(3,4,'Padding','same','Name','c1')
    maxPooling2dLayer(2,'Stride',2,'HasUnpoolingOutputs',true,'Name','pool')
    convolution2dLayer(3,4,'Padding','same','Name','c2')
    maxUnpooling2dLayer('Name','unpool')
    spatialDropoutLayer('Probability',0.3,'Name','sdrop')
    convolution2dLayer(1,8,'Name','c3')
    depthToSpace2dLayer(2,'Name','d2s')
    spaceToDepthLayer([2 1],'Name','s2d')
    crop2dLayer('centercrop','Name','crop')
    softmaxLayer('Name','sm')
    pixelClassificationLayer('Name','px')]);
lgraph = connectLayers(lgraph,'pool/indices','unpool/indices');
lgraph = connectLayers(lgraph,'pool/size','unpool/size');
lgraph = connectLayers(lgraph,'in','crop/ref');
"""


def test_new_layers_forward_shapes_numel_and_size_output_match_the_analyzer():
    built = tiny(SEGMENTATION)
    names = {name for name, _ in built.model.plan} | {"pool/indices", "pool/size"}
    with torch.no_grad():
        values = built.model.run(*built.inputs(2), capture=names)
    for name, _ in built.model.plan:
        report = built.reports[name]
        keys = [name, *built.model.extra_outputs.get(name, [])]
        assert len(keys) == len(report.output_dims), name
        for key, dims in zip(keys, report.output_dims):
            if key == "pool/size":  # the size itself: the pooling input's H, W, C
                assert values[key].tolist() == dims == [12, 10, 4]
            else:
                assert tuple(values[key].shape) == (2, *torch_shape(dims)), key
        parameters = sum(p.numel() for p in _module(built, name).parameters())
        assert parameters == report.learnables, name
    assert [built.reports[n].output_dims for n in ("unpool", "d2s", "s2d", "crop")] == [
        [[12, 10, 4]], [[24, 20, 2]], [[12, 20, 4]], [[12, 10, 4]]]
    assert built.model.output_names == ["sm"]  # the pixel classification layer reads the softmax


@pytest.mark.parametrize("size, options, pads", [
    (6, "2,'Stride',2", (0, 0, 0, 0)),
    (7, "3,'Stride',2,'Padding','same'", (1, 1, 1, 1)),   # out 4: total padding 2, one on each side
    (6, "3,'Stride',2,'Padding','same'", (0, 1, 0, 1)),   # out 3: total padding 1, bottom/right (MATLAB)
    (7, "3,'Stride',2,'Padding',[2 0 0 1]", (2, 0, 0, 1)),
])
def test_max_unpooling_puts_each_maximum_back_where_max_pooling_found_it(size, options, pads):
    built = tiny(f"lgraph = layerGraph([imageInputLayer([{size} {size} 3],'Normalization','none','Name','in')\n"
                 f"    maxPooling2dLayer({options},'HasUnpoolingOutputs',true,'Name','pool')\n"
                 "    maxUnpooling2dLayer('Name','unpool')]);\n"
                 "lgraph = connectLayers(lgraph,'pool/indices','unpool/indices');\n"
                 "lgraph = connectLayers(lgraph,'pool/size','unpool/size');")
    layer = built.network.layer("pool")
    top, bottom, left, right = pads
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        values = built.model.run(x, capture={"pool", "unpool"})
    # independent truth: PyTorch's own pooling and unpooling of the -inf-padded input, cropped back
    padded = F.pad(x, (left, right, top, bottom), value=-math.inf)
    pooled, indices = F.max_pool2d(padded, layer.pool_size, layer.stride, return_indices=True)
    unpooled = F.max_unpool2d(pooled, indices, layer.pool_size, layer.stride, output_size=padded.shape[-2:])
    torch.testing.assert_close(values["pool"], pooled)
    torch.testing.assert_close(values["unpool"], unpooled[:, :, top:top + size, left:left + size])
    assert built.reports["unpool"].output_dims == [[size, size, 3]]


@pytest.mark.parametrize("location, size, reference, top, left", [
    # MATLAB's centre (Crop2DCenterCropStrategy, and the Cropping2D its TensorFlow exporter writes):
    # top-left = floor(in/2) - floor(ref/2), which for 6 -> 3 is 2, not floor((6-3)/2) = 1
    ("'centercrop'", (7, 8), (4, 5), 1, 2),
    ("'centercrop'", (6, 6), (3, 3), 2, 2),
    ("'centercrop'", (6, 7), (6, 7), 0, 0),
    # [x y]: the window's top-left corner at column x, row y, counted from 1
    ("[3 2]", (7, 8), (4, 5), 1, 2),
    ("[1 1]", (7, 8), (4, 5), 0, 0),
    ("[4 4]", (7, 8), (4, 5), 3, 3),
])
def test_crop2d_takes_matlab_s_window(location, size, reference, top, left):
    (h, w), (rh, rw) = size, reference
    built = tiny(f"lgraph = layerGraph([imageInputLayer([{h} {w} 2],'Normalization','none','Name','in')\n"
                 f"    crop2dLayer({location},'Name','crop')]);\n"
                 f"lgraph = addLayers(lgraph, convolution2dLayer([{h - rh + 1} {w - rw + 1}],1,'Name','ref'));\n"
                 "lgraph = connectLayers(lgraph,'in','ref');\nlgraph = connectLayers(lgraph,'ref','crop/ref');")
    assert built.reports["crop"].output_dims == [[rh, rw, 2]]
    x = torch.randn(2, 2, h, w)
    torch.testing.assert_close(_out(built, x, "crop"), x[:, :, top:top + rh, left:left + rw])


def test_crop2d_receptive_field_is_a_gradient_footprint():
    """The crop shifts the field of 'in' (here behind a space-to-depth); 'ref' gives only a size."""
    built = tiny("lgraph = layerGraph([imageInputLayer([12 12 1],'Normalization','none','Name','in')\n"
                 "    convolution2dLayer(3,2,'Padding','same','Name','a')\n"
                 "    spaceToDepthLayer(2,'Name','s2d')\n    crop2dLayer('centercrop','Name','crop')]);\n"
                 "lgraph = addLayers(lgraph, convolution2dLayer(9,1,'Name','ref'));\n"
                 "lgraph = connectLayers(lgraph,'in','ref');\nlgraph = connectLayers(lgraph,'ref','crop/ref');")
    axis = built.reports["crop"].receptive_field.axes[0]
    assert (int(axis.size), int(axis.jump), int(axis.padding)) == (4, 2, -1)  # s2d's field, one unit on
    assert assert_fields_are_gradient_footprints(built, [built.reports["s2d"], built.reports["crop"]]) > 0
    assert not [d for d in built.analysis.diagnostics if d.code == "A201"]  # 'ref' is no path of the field


def _matlab_array(rows: int, cols: int, channels: int) -> torch.Tensor:
    """MATLAB's reshape(1:numel, rows, cols, channels) (column-major), as one (1, C, H, W) sample."""
    return torch.arange(1.0, rows * cols * channels + 1).reshape(channels, cols, rows).transpose(1, 2)[None]


def test_depth_to_space_reproduces_matlab_s_documented_example():
    """https://www.mathworks.com/help/images/ref/depthtospace.html: X = reshape(1:48,2,2,12),
    Z = depthToSpace(X,2) (the default mode, 'dcr') gives these three 4×4 channels."""
    built = tiny("layers=[imageInputLayer([2 2 12],'Normalization','none')\ndepthToSpace2dLayer(2,'Name','d')];")
    expected = torch.tensor([[[1, 13, 3, 15], [25, 37, 27, 39], [2, 14, 4, 16], [26, 38, 28, 40]],
                             [[5, 17, 7, 19], [29, 41, 31, 43], [6, 18, 8, 20], [30, 42, 32, 44]],
                             [[9, 21, 11, 23], [33, 45, 35, 47], [10, 22, 12, 24], [34, 46, 36, 48]]],
                            dtype=torch.float32)
    torch.testing.assert_close(_out(built, _matlab_array(2, 2, 12), "d"), expected[None])


def test_space_to_depth_reproduces_matlab_s_documented_example():
    """https://www.mathworks.com/help/images/ref/spacetodepth.html: X = reshape(1:48,4,4,3),
    Z = spaceToDepth(X,2) gives these twelve 2×2 channels."""
    built = tiny("layers=[imageInputLayer([4 4 3],'Normalization','none')\nspaceToDepthLayer(2,'Name','s')];")
    expected = torch.tensor([[[1, 9], [3, 11]], [[17, 25], [19, 27]], [[33, 41], [35, 43]],
                             [[5, 13], [7, 15]], [[21, 29], [23, 31]], [[37, 45], [39, 47]],
                             [[2, 10], [4, 12]], [[18, 26], [20, 28]], [[34, 42], [36, 44]],
                             [[6, 14], [8, 16]], [[22, 30], [24, 32]], [[38, 46], [40, 48]]], dtype=torch.float32)
    torch.testing.assert_close(_out(built, _matlab_array(4, 4, 3), "s"), expected[None])


def test_depth_to_space_crd_is_pytorch_s_pixel_shuffle_and_inverts_space_to_depth():
    built = tiny("layers=[imageInputLayer([3 4 18],'Normalization','none')\n"
                 "depthToSpace2dLayer(3,'Mode','CRD','Name','d')];")
    x = torch.randn(2, 18, 3, 4)
    torch.testing.assert_close(_out(built, x, "d"), F.pixel_shuffle(x, 3))
    round_trip = tiny("layers=[imageInputLayer([6 8 2],'Normalization','none')\n"
                      "spaceToDepthLayer([3 2],'Name','s')\ndepthToSpace2dLayer([3 2],'Name','d')];")
    x = torch.randn(2, 2, 6, 8)
    torch.testing.assert_close(_out(round_trip, x, "d"), x)  # dcr undoes spaceToDepth's order


def test_space_to_depth_drops_the_rows_and_columns_past_the_last_block():
    built = tiny("layers=[imageInputLayer([5 7 1],'Normalization','none')\nspaceToDepthLayer(2,'Name','s')];")
    assert built.reports["s"].output_dims == [[2, 3, 4]]  # floor(5/2) × floor(7/2) × 1·2·2
    x = torch.randn(1, 1, 5, 7)
    whole = tiny("layers=[imageInputLayer([4 6 1],'Normalization','none')\nspaceToDepthLayer(2,'Name','s')];")
    torch.testing.assert_close(_out(built, x, "s"), _out(whole, x[:, :, :4, :6], "s"))


@pytest.mark.parametrize("input_layer, shape, channel_axes", [
    ("imageInputLayer([6 5 40],'Normalization','none')", (3, 40, 6, 5), (2, 3)),
    ("sequenceInputLayer(40,'MinLength',9)", (3, 40, 9), (2,)),
])
def test_spatial_dropout_drops_whole_channels_and_is_the_identity_at_inference(input_layer, shape, channel_axes):
    built = tiny(f"layers=[{input_layer}\nspatialDropoutLayer('Probability',0.25,'Name','sd')];")
    module = _module(built, "sd")
    x = torch.rand(*shape) + 1
    torch.testing.assert_close(_out(built, x, "sd"), x)  # eval
    module.train()
    torch.manual_seed(3)
    y = module(x)
    module.eval()
    ratio = y / x
    plane_min, plane_max = ratio.amin(dim=channel_axes), ratio.amax(dim=channel_axes)
    torch.testing.assert_close(plane_min, plane_max)  # one factor per sample and channel
    kept = plane_min != 0
    torch.testing.assert_close(plane_min[kept], torch.full_like(plane_min[kept], 1 / 0.75))  # scaled by 1/(1-p)
    assert 0 < (~kept).sum() < kept.sum()  # some of the 120 channels dropped, fewer than kept


def test_receptive_fields_through_unpooling_and_depth_to_space():
    """By hand: c (3×3, same) r=3 j=1 p=1; pool 2/2: r=4 j=2 p=1; unpool (windows of 2, from the
    sizes) gives back j=1; depthToSpace(2) halves the jump, as a transposed convolution of stride 2."""
    built = tiny("lgraph = layerGraph([imageInputLayer([8 8 1],'Normalization','none','Name','in')\n"
                 "    convolution2dLayer(3,4,'Padding','same','Name','c')\n"
                 "    maxPooling2dLayer(2,'Stride',2,'HasUnpoolingOutputs',true,'Name','pool')\n"
                 "    maxUnpooling2dLayer('Name','unpool')\n    depthToSpace2dLayer(2,'Name','d2s')]);\n"
                 "lgraph = connectLayers(lgraph,'pool/indices','unpool/indices');\n"
                 "lgraph = connectLayers(lgraph,'pool/size','unpool/size');")
    fields = {name: built.reports[name].receptive_field.axes[0] for name in ("pool", "unpool", "d2s")}
    assert {name: (a.size, a.jump, a.padding) for name, a in fields.items()} == {
        "pool": (4, "2", "1"), "unpool": (4, "1", "1"), "d2s": (4, "1/2", "1")}
    assert not [d for d in built.analysis.diagnostics if d.code == "A201"]  # nor 'indices' and 'size'


def test_reading_a_layer_runs_the_graph_up_to_it():
    """`model(x, output=name)` (training reads the logits) stops there: the softmax after them is
    not computed; the network's outputs and captured layers are the full run's."""
    text = ("layers = [imageInputLayer([6 6 2],'Normalization','none')\n"
            "    convolution2dLayer(3,4,'Name','conv')\n    reluLayer('Name','relu')\n"
            "    fullyConnectedLayer(3,'Name','fc')\n    softmaxLayer('Name','sm')\n    classificationLayer];\n")
    model = to_torch(load_source(text, "t.net").network, seed=0).eval()
    calls: list[str] = []
    for key, module in model.layers.items():
        module.register_forward_hook(lambda *_, key=key: calls.append(key))
    x = torch.randn(2, 2, 6, 6)
    logits = model(x, output="fc")
    assert calls == ["imageinput", "conv", "relu", "fc"]
    calls.clear()
    kept = model.run(x, capture={"relu"})
    assert calls == ["imageinput", "conv", "relu", "fc", "sm"] and set(kept) == {"relu", "sm"}
    torch.testing.assert_close(kept["sm"], torch.softmax(logits.flatten(1), 1).reshape(kept["sm"].shape))
    torch.testing.assert_close(model(x), kept["sm"])
    torch.testing.assert_close(kept["relu"], model(x, output="relu"))
