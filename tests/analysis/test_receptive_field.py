"""Receptive fields, checked against an independent brute force (SPEC §5, §8).

The brute force below reads only the IR (`netspec.ir` layer fields and connections); it does
not import `netspec.analysis`. Per spatial axis, it computes the SET of input positions that
output unit p of a layer depends on, over an unbounded (infinitely padded) input: output p of
a sliding window with kernel F, stride S, dilation D and leading padding P reads input
positions p·S - P + k·D (k = 0..F-1), and the set of unit p is the union of the sets of those
positions one layer down, unioned over every path at merges. Sets are plain Python sets of
ints: exact, whatever their shape (dilations leave holes). From them:

    size    = max(set(0)) - min(set(0)) + 1
    jump    = min(set(1)) - min(set(0))
    padding = -min(set(0))            (the first unit's field starts at -padding)

Global pooling, fully connected layers on images and flattening an image make every output
see the whole input: 'global'. Shapes are recomputed here too (only to know each layer's
input size, which MATLAB's 'same' padding depends on), and cross-checked with the analyzer's.
"""

from __future__ import annotations

import csv
import io

import math
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import netspec
from netspec.ir import Network
from netspec.ir.base import InputLayer, OutputLayer
from netspec.language import load_source

SPECS = Path(__file__).parents[2] / "specs"
SPEC_FILES = sorted(SPECS.glob("*.net"))

GLOBAL = "global"

ELEMENTWISE = {"relu", "leaky_relu", "clipped_relu", "elu", "tanh", "sigmoid", "swish", "gelu", "softmax",
               "batch_normalization", "cross_channel_normalization", "dropout"}
"""Layers whose output at a position reads only that position (channel-wise work)."""
WINDOWED_2D = {"convolution2d", "grouped_convolution2d", "max_pooling2d", "average_pooling2d"}
WINDOWED_1D = {"convolution1d", "max_pooling1d", "average_pooling1d"}
GLOBAL_POOLS = {"global_average_pooling2d", "global_max_pooling2d", "global_average_pooling1d",
                "global_max_pooling1d"}

SEQUENCE_LENGTH = 7
"""Time steps of a sequence input that 'MinLength' does not fix (the analysis's symbol T)."""


POSITIONS = {"sinusoidal_position_encoding", "position_embedding", "word_embedding"}
"""Layers whose output at a time step is the vector of that step (its position, its word)."""


def layer_is_image_sequence(brute: "BruteForce", name: str) -> bool:
    """An image sequence: time, H and W (an unfolding's output, or a sequence input of images)."""
    return len(brute.sizes[name]) == 3


def _pair(value) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class BruteForce:
    """Dependency sets of output units on input positions, per layer and spatial axis."""

    def __init__(self, network: Network):
        self.layers = {layer.name: layer for layer in network.layers}
        self.incoming: dict[str, dict[str, str]] = {name: {} for name in self.layers}
        for edge in network.connections:
            self.incoming[edge.destination][edge.destination_port] = edge.source
        self.order = self._topological(network)
        self.sizes: dict[str, tuple[int, ...]] = {}      # spatial output size per layer
        self.global_: dict[str, bool] = {}
        self.windows: dict[str, list[tuple[int, int, int, int]]] = {}  # per axis (F, S, D, pad_begin)
        self.memo: dict[tuple[str, int, int], frozenset[int]] = {}
        self.axis_of: dict[str, list[int | None]] = {}  # folding: the input axis of each output axis
        for name in self.order:
            self._setup(name)

    # -- graph --------------------------------------------------------------------------
    def _topological(self, network: Network) -> list[str]:
        indegree = {name: len(ports) for name, ports in self.incoming.items()}
        children: dict[str, list[str]] = {name: [] for name in self.layers}
        for edge in network.connections:
            children[edge.source].append(edge.destination)
        ready = [name for name, d in indegree.items() if d == 0]
        order = []
        while ready:
            name = ready.pop()
            order.append(name)
            for child in children[name]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        assert len(order) == len(self.layers), "the brute force needs an acyclic, fully connected graph"
        return order

    def sources(self, name: str) -> list[str]:
        layer = self.layers[name]
        return [self.incoming[name][port] for port in layer.input_names]

    # -- per-layer geometry ------------------------------------------------------------------
    def _setup(self, name: str) -> None:
        layer = self.layers[name]
        kind = layer.kind
        if isinstance(layer, InputLayer):
            self.global_[name] = False
            if kind == "image_input":
                self.sizes[name] = tuple(layer.input_size[:2])
            elif kind == "sequence_input":  # time, then an image sequence's H and W
                image = layer.input_size[:2] if isinstance(layer.input_size, tuple) else ()
                self.sizes[name] = (layer.min_length or SEQUENCE_LENGTH, *image)
            else:  # feature input: no spatial axis
                self.sizes[name] = ()
            return
        srcs = self.sources(name)
        self.global_[name] = any(self.global_[s] for s in srcs)
        size_in = self.sizes[srcs[0]]
        if kind in WINDOWED_2D or kind in WINDOWED_1D:
            one_d = kind in WINDOWED_1D
            kernel = _pair(getattr(layer, "filter_size", None) or layer.pool_size)
            stride = _pair(layer.stride)
            dilation = _pair(getattr(layer, "dilation_factor", 1))
            padding = layer.padding
            axes, out = [], []
            for axis, n in enumerate(size_in):
                f = kernel[axis] if len(kernel) > 1 else kernel[0]
                s = stride[axis] if len(stride) > 1 else stride[0]
                d = dilation[axis] if len(dilation) > 1 else dilation[0]
                extent = (f - 1) * d + 1
                if padding == "same":
                    total = max(0, (math.ceil(n / s) - 1) * s + extent - n)
                    begin, end = total // 2, total - total // 2  # odd pixel bottom/right
                elif padding == "causal":
                    begin, end = extent - 1, 0
                else:
                    begin, end = padding[2 * axis], padding[2 * axis + 1]
                axes.append((f, s, d, begin))
                out.append((n + begin + end - extent) // s + 1)
            assert one_d == (len(size_in) == 1)
            self.windows[name] = axes
            self.sizes[name] = tuple(out)
        elif kind == "transposed_conv2d":
            cropping = layer.cropping
            axes, out = [], []
            for axis, n in enumerate(size_in):
                f, s = layer.filter_size[axis], layer.stride[axis]
                if cropping == "same":
                    total = max(f - s, 0)
                    begin, end = total // 2, total - total // 2
                else:
                    begin, end = cropping[2 * axis], cropping[2 * axis + 1]
                axes.append((f, s, 1, begin))
                out.append((n - 1) * s + f - begin - end)
            self.windows[name] = axes
            self.sizes[name] = tuple(out)
        elif kind in GLOBAL_POOLS:
            self.global_[name] = True
            self.sizes[name] = tuple(1 for _ in size_in)
        elif kind in ("lstm", "bilstm", "gru"):  # the state carries every earlier step (and later, backwards)
            self.global_[name] = True
            self.sizes[name] = () if layer.output_mode == "last" else size_in
        elif kind == "fully_connected":
            if len(size_in) == 1:  # a sequence: applied per time step, element-wise along time
                self.sizes[name] = size_in
            else:  # an image (1×1×out) or a feature vector: every output reads every input
                self.global_[name] = True
                self.sizes[name] = tuple(1 for _ in size_in)
        elif kind == "flatten" and layer_is_image_sequence(self, srcs[0]):  # each step's image flattened
            self.axis_of[name] = [0]
            self.sizes[name] = size_in[:1]
        elif kind == "flatten":
            if len(size_in) == 2:  # H×W×C -> one feature vector
                self.global_[name] = True
                self.sizes[name] = ()
            else:
                self.sizes[name] = size_in
        elif kind in ELEMENTWISE or kind in ("addition", "depth_concatenation") or isinstance(layer, OutputLayer):
            self.sizes[name] = size_in
        elif kind in POSITIONS:  # the vector of each position, at that position
            self.sizes[name] = size_in
        elif kind in ("self_attention", "layer_normalization"):  # every step reads every step
            self.global_[name] = True
            self.sizes[name] = size_in
        elif kind == "indexing1d":  # one step, as a vector
            self.sizes[name] = ()
        elif kind == "sequence_folding":  # the images of the steps: time set aside
            self.axis_of[name] = [1, 2]
            self.sizes[name] = size_in[1:]
        elif kind == "sequence_unfolding":  # each step again its own image
            self.axis_of[name] = [None, 0, 1]
            folding = self.incoming[name]["miniBatchSize"]
            self.sizes[name] = (self.sizes[self.sources(folding)[0]][0], *size_in)
        elif kind == "concatenation" and layer.dim == len(size_in) + 1:  # along channels
            self.sizes[name] = size_in
        else:
            raise NotImplementedError(f"brute force: no rule for {layer.matlab} ({name})")

    # -- dependency sets -----------------------------------------------------------------
    def depends(self, name: str, axis: int, p: int) -> frozenset[int]:
        """Input positions (along `axis`) that output unit p of `name` depends on."""
        key = (name, axis, p)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        layer = self.layers[name]
        if isinstance(layer, InputLayer):
            result = frozenset((p,))
        elif name in self.axis_of:  # an axis of the first input, or a step that sees only itself
            source_axis = self.axis_of[name][axis]
            result = frozenset((p,)) if source_axis is None else self.depends(self.sources(name)[0], source_axis, p)
        elif name in self.windows:
            f, s, d, begin = self.windows[name][axis]
            (src,) = self.sources(name)
            if layer.kind == "transposed_conv2d":
                # uncropped output t = p + crop_begin receives input i through tap k when t = i·S + k
                t = p + begin
                positions = range(-((f - 1 - t) // s), t // s + 1)  # ceil((t-F+1)/S) .. floor(t/S)
            else:
                positions = (p * s - begin + k * d for k in range(f))
            result = frozenset().union(*(self.depends(src, axis, q) for q in positions))
        else:  # element-wise, merges (union over every path), output layers
            result = frozenset().union(*(self.depends(src, axis, p) for src in self.sources(name)))
        self.memo[key] = result
        return result

    def field(self, name: str):
        """GLOBAL, or per axis (size, jump, padding) from the dependency sets of units 0 and 1."""
        if self.global_[name]:
            return GLOBAL
        axes = []
        for axis in range(len(self.sizes[name])):
            unit0, unit1 = self.depends(name, axis, 0), self.depends(name, axis, 1)
            axes.append((max(unit0) - min(unit0) + 1, min(unit1) - min(unit0), -min(unit0)))
        return axes


def analyzed(network: Network):
    from netspec.analysis import analyze  # the system under test, not used by the brute force

    open_ended = any(getattr(layer, "min_length", 0) is None for layer in network.layers)
    return analyze(network, sequence_length=SEQUENCE_LENGTH if open_ended else None)


def assert_fields_agree(network: Network, *, skip: frozenset[str] = frozenset()) -> int:
    brute = BruteForce(network)
    analysis = analyzed(network)
    assert not analysis.has_errors, analysis.diagnostics
    checked = 0
    for report in analysis.layers:
        if report.name in skip:
            continue
        expected = brute.field(report.name)
        rf = report.receptive_field
        assert rf is not None, report.name
        if expected == GLOBAL:
            assert rf.is_global, f"{report.name}: brute force says global, analyzer {rf}"
            continue
        assert not rf.is_global, f"{report.name}: analyzer says global, brute force {expected}"
        got = [(axis.size, Fraction(axis.jump), Fraction(axis.padding)) for axis in rf.axes]
        assert got == [(r, Fraction(j), Fraction(p)) for r, j, p in expected], report.name
        # the shapes recomputed here agree with the analyzer's (spatial part)
        if report.output_dims and not isinstance(network.layer(report.name), OutputLayer):
            assert tuple(report.output_dims[0][:-1]) == brute.sizes[report.name], report.name
        checked += 1
    return checked


@pytest.fixture(autouse=True)
def _deep_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    yield
    sys.setrecursionlimit(limit)



def _spec_param(path: Path):
    marks = []
    return pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", [_spec_param(p) for p in SPEC_FILES])
def test_every_spec_matches_brute_force(path):
    network = netspec.load(path, set={"numClasses": "4"})
    checked = assert_fields_agree(network)
    assert checked >= 1  # every spec has at least one non-global layer


def test_brute_force_reproduces_published_fields():
    # the brute force itself agrees with Araujo et al. (Distill 2019): AlexNet 195, VGG-16 212
    for spec, layer, size in (("alexnet", "pool5", 195), ("vgg16", "pool5", 212)):
        field = BruteForce(netspec.load(SPECS / f"{spec}.net")).field(layer)
        assert [(r, j) for r, j, _ in field] == [(size, 32)] * 2


# Features the specs do not exercise: dilation, [t b l r] padding, 'same' with a stride and an
# odd total, grouped convolution, rectangular windows and strides, 1-D causal padding, a fully
# connected layer on a sequence (per time step, so not global).
INLINE = {
    "dilated_asymmetric_same": """
layers = [imageInputLayer([17 16 3])
    convolution2dLayer([3 5],4,'DilationFactor',[2 1],'Padding',[1 0 2 1])
    maxPooling2dLayer(3,'Stride',2,'Padding','same')
    groupedConvolution2dLayer(3,2,2,'Stride',[2 1],'Padding','same')
    averagePooling2dLayer([2 3],'Stride',[1 2],'Padding',[1 0 0 1])
    convolution2dLayer(3,8,'Padding','same','Stride',2,'DilationFactor',2)
    batchNormalizationLayer
    reluLayer
    globalAveragePooling2dLayer
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
""",
    "depthwise_residual": """
lgraph = layerGraph([imageInputLayer([15 15 8],'Name','in')
    groupedConvolution2dLayer(3,1,'channel-wise','Padding','same','Name','dw')
    convolution2dLayer(1,8,'Name','pw')
    additionLayer(2,'Name','add')
    convolution2dLayer(4,8,'Stride',3,'Padding','same','Name','down')
    flattenLayer('Name','flat')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = connectLayers(lgraph,'in','add/in2');
""",
    "sequence_causal": """
layers = [sequenceInputLayer(2,'MinLength',50)
    convolution1dLayer(3,4,'Padding','causal','DilationFactor',2)
    maxPooling1dLayer(3,'Stride',2,'Padding','same')
    convolution1dLayer(4,4,'Padding','same','Stride',2)
    averagePooling1dLayer(2,'Padding',[1 0])
    fullyConnectedLayer(5)
    globalMaxPooling1dLayer
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
""",
}


@pytest.mark.parametrize("name", [
    pytest.param(n)
    for n in sorted(INLINE)])
def test_inline_networks_match_brute_force(name):
    network = load_source(INLINE[name], f"{name}.net").network
    assert assert_fields_agree(network) >= 3


def test_dilation_leaves_holes_but_size_spans_them():
    network = load_source("layers = [imageInputLayer([9 9 1])\n"
                          "    convolution2dLayer(3,1,'DilationFactor',3)];\n", "d.net").network
    brute = BruteForce(network)
    conv = network.layers[1].name
    assert sorted(brute.depends(conv, 0, 0)) == [0, 3, 6]
    assert brute.field(conv) == [(7, 1, 0), (7, 1, 0)]
    assert assert_fields_agree(network) == 2


# A transposed convolution: output t (before cropping) = Σ input i through tap k = t - i·S.
# Unit 0's field on an unbounded input starts at -(floor((F-1-crop_begin)/S)); cropping the start
# moves the first unit RIGHT, so the effective padding can only shrink with more cropping.
TRANSPOSED = """
layers = [imageInputLayer([6 6 1])
    transposedConv2dLayer(4,1,'Stride',2,'Cropping',{crop})];
"""


@pytest.mark.parametrize("crop, padding", [(0, 1), (2, 0)])
def test_transposed_conv_brute_force_itself(crop, padding):
    network = load_source(TRANSPOSED.format(crop=crop), "t.net").network
    brute = BruteForce(network)
    conv = network.layers[1].name
    field = brute.field(conv)
    assert field[0][2] == padding
    assert field[0][0] == 2  # each output of a 4-tap, stride-2 transposed conv sees 2 inputs
    assert brute.sizes[conv] == ((6 - 1) * 2 + 4 - 2 * crop,) * 2


@pytest.mark.parametrize("crop", [0, 2])
def test_transposed_conv_padding_matches_brute_force(crop):
    network = load_source(TRANSPOSED.format(crop=crop), "t.net").network
    brute = BruteForce(network)
    conv = network.layers[1].name
    rf = analyzed(network).layers[1].receptive_field
    assert [Fraction(axis.padding) for axis in rf.axes] == [Fraction(a[2]) for a in brute.field(conv)]
    assert [axis.size for axis in rf.axes] == [a[0] for a in brute.field(conv)]


def test_merge_of_paths_not_centred_alike_warns():
    # Two 3-wide windows, one padded at the start, one at the end: both keep the size, but unit 0
    # of one sees {-2,-1,0} and of the other {0,1,2}. The union is 5 wide; SPEC §5 asks for the
    # max over paths (3) with a diagnostic, which is what the analyzer reports.
    network = load_source("""
lgraph = layerGraph([imageInputLayer([8 8 1],'Name','in')
    convolution2dLayer([3 1],1,'Padding',[2 0 0 0],'Name','a')
    depthConcatenationLayer(2,'Name','cat')]);
lgraph = addLayers(lgraph,convolution2dLayer([3 1],1,'Padding',[0 2 0 0],'Name','b'));
lgraph = connectLayers(lgraph,'in','b');
lgraph = connectLayers(lgraph,'b','cat/in2');
""", "m.net").network
    brute = BruteForce(network)
    assert sorted(brute.depends("cat", 0, 0)) == [-2, -1, 0, 1, 2]
    analysis = analyzed(network)
    warnings = [d for d in analysis.diagnostics if d.code == "A201"]
    assert len(warnings) == 1 and warnings[0].severity.value == "warning"
    assert "'cat'" in warnings[0].message and "not centred alike" in warnings[0].message
    cat = next(r for r in analysis.layers if r.name == "cat")
    assert cat.receptive_field.axes[0].size == 3
    # the other axis is centred alike (1-wide windows): union = max = 1
    assert cat.receptive_field.axes[1].size == brute.field("cat")[1][0] == 1


def test_a_jump_too_long_to_write_out_is_reported_approximately():
    # 800 strides of 10**6: the last jump is 10**4800, past the 4,300 digits Python writes out
    network = load_source("""
layers = imageInputLayer([4 4 1], 'Name', 'in');
for i = 1:800
    layers = [layers; maxPooling2dLayer(1, 'Stride', 1000000, 'Padding', 'same', 'Name', sprintf('p%d', i))];
end
""", "s.net").network
    from netspec.analysis import render

    analysis = analyzed(network)
    jumps = [report.receptive_field.axes[0].jump for report in analysis.layers]
    assert jumps[:3] == ["1", "1000000", "1000000000000"]  # exact while short
    assert jumps[-1] == "1.00e4800"
    assert all(axis.size == 1 for report in analysis.layers for axis in report.receptive_field.axes)
    rows = list(csv.DictReader(io.StringIO(render.as_csv(analysis))))
    assert rows[-1]["receptive_field"] == "1" and render.as_json(analysis)
