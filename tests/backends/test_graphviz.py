"""`netspec graph` and the Graphviz backend: one node per layer, one edge per connection,
the analyzer's shapes on the edges, DOT always, SVG/PNG where Graphviz's `dot` is installed,
the .dot fallback (with how to render it) where it is not, and no lost files on failure."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from collections import Counter
from typing import get_args
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

import netspec
from netspec import files
from netspec.analysis import analyze
from netspec.backends import graphviz as backend
from netspec.cli import app
from netspec.diagnostics import NetspecError
from netspec.ir import LAYERS
from netspec.ir.base import Family
from netspec.language import load_source

from .test_pytorch_source_safety import matlab_text

ROOT = Path(__file__).parents[2]
SPECS = ROOT / "specs"
SPEC_FILES = sorted(SPECS.glob("*.net"))
BINDINGS = {"transfer_alexnet.net": {"numClasses": "4"}}
DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's `dot` program is not installed "
                               "(apt-get install graphviz / brew install graphviz); CI installs it")

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def spec_args(path: Path) -> list[str]:
    return [f"--set={k}={v}" for k, v in BINDINGS.get(path.name, {}).items()]


# -- reading DOT back ---------------------------------------------------------------------------

ID = r'"(?:[^"\\]|\\.)*"|[^\s\[\]";=-][^\s\[\]";=]*'
NODE = re.compile(rf"^\t({ID}) \[label=<(.*)>(.*)\]$")
EDGE = re.compile(rf"^\t({ID}) -> ({ID}) \[(.*)\]$")
ATTR = re.compile(rf"(\w+)=({ID})")


def unquote(text: str) -> str:
    return re.sub(r'\\(.)', r"\1", text[1:-1]) if text.startswith('"') else text


def parse_dot(source: str):
    """(node ids, [(source, destination, attributes)]) from the DOT text the backend writes."""
    nodes, edges = [], []
    for line in source.splitlines():
        if match := EDGE.match(line):
            attrs = {key: unquote(value) for key, value in ATTR.findall(match[3])}
            edges.append((unquote(match[1]), unquote(match[2]), attrs))
        elif match := NODE.match(line):
            nodes.append(unquote(match[1]))
    return nodes, edges


# -- the table ----------------------------------------------------------------------------------

def test_every_ir_layer_class_has_a_row():
    assert set(backend.LABELS) == set(LAYERS.values()), set(LAYERS.values()) ^ set(backend.LABELS)
    for cls, label in backend.LABELS.items():
        assert cls.family in backend.FAMILIES, cls.__name__
        assert callable(label), cls.__name__


def test_every_family_has_a_style():
    assert set(backend.FAMILIES) == set(get_args(Family))


LABELS = {
    "convolution2dLayer(3,64,'Stride',2,'Padding','same')": "conv 3×3, 64, /2, pad same",
    "convolution2dLayer(3,16,'Padding',1)": "conv 3×3, 16, pad 1",
    "convolution2dLayer([1 7],8,'DilationFactor',2)": "conv 1×7, 8, dil 2",
    "groupedConvolution2dLayer(3,4,2)": "gconv 3×3, 2×4",
    "groupedConvolution2dLayer(3,1,'channel-wise','Stride',2,'Padding',1)": "dwconv 3×3, /2, pad 1",
    "transposedConv2dLayer(4,8,'Stride',2,'Cropping','same')": "tconv 4×4, 8, ×2, crop same",
    "convolution1dLayer(5,32,'Padding','causal')": "conv1d 5, 32, pad causal",
    "fullyConnectedLayer(1000)": "fc 1000",
    "maxPooling2dLayer(3,'Stride',2)": "max 3×3 /2",
    "maxPooling2dLayer(3,'Stride',2,'Padding',[0 1 0 1])": "max 3×3 /2, pad [0 1 0 1]",
    "averagePooling2dLayer(5,'Stride',3)": "avg 5×5 /3",
    "maxPooling1dLayer(2,'Stride',2)": "max 2 /2",
    "averagePooling1dLayer(3)": "avg 3",
    "globalAveragePooling2dLayer": "global avg",
    "globalMaxPooling2dLayer": "global max",
    "globalAveragePooling1dLayer": "global avg",
    "globalMaxPooling1dLayer": "global max",
    "batchNormalizationLayer": "batch norm",
    "layerNormalizationLayer": "layer norm",
    "crossChannelNormalizationLayer(5)": "LRN 5",
    "reluLayer": "relu",
    "leakyReluLayer": "leaky relu 0.01",
    "clippedReluLayer(6)": "relu ≤ 6",
    "eluLayer": "elu",
    "tanhLayer": "tanh",
    "sigmoidLayer": "sigmoid",
    "swishLayer": "swish",
    "geluLayer": "gelu",
    "softmaxLayer": "softmax",
    "additionLayer(2)": "+",
    "depthConcatenationLayer(4)": "concat",
    "concatenationLayer(3,2)": "concat dim 3",
    "multiplicationLayer(2)": "×",
    "nnet.shufflenet.layer.ChannelShufflingLayer('s',4)": "channel shuffle 4",
    "flattenLayer": "flatten",
    "dropoutLayer": "dropout 0.5",
    "resize2dLayer('Scale',2)": "resize ×2, nearest",
    "imageInputLayer([224 224 3])": "input 224×224×3",
    "imageInputLayer([28 28])": "input 28×28×1",
    "featureInputLayer(10)": "input 10",
    "sequenceInputLayer(3)": "input T×3",
    "classificationLayer": "cross-entropy",
    "regressionLayer": "mean squared error",
    "pixelClassificationLayer": "pixel cross-entropy",
    "pixelClassificationLayer('Classes', {'a', 'b'}, 'ClassWeights', [1 3])": "pixel cross-entropy, weighted",
    "dicePixelClassificationLayer": "generalized Dice",
    "maxPooling2dLayer(2,'Stride',2,'HasUnpoolingOutputs',true)": "max 2×2 /2, indices",
    "maxUnpooling2dLayer": "max unpool",
    "spatialDropoutLayer('Probability',0.2)": "spatial dropout 0.2",
    "crop2dLayer('centercrop')": "crop centre",
    "crop2dLayer([3 4])": "crop at [3 4]",
    "depthToSpace2dLayer(2)": "depth to space 2×2, dcr",
    "depthToSpace2dLayer([2 1],'Mode','CRD')": "depth to space 2×1, crd",
    "spaceToDepthLayer(4)": "space to depth 4×4",
    "sequenceInputLayer([28 28 1])": "input T×28×28×1",
    "sequenceFoldingLayer": "fold steps",
    "sequenceUnfoldingLayer": "unfold steps",
    "selfAttentionLayer(4,64)": "attention 4 heads, 64 keys",
    "selfAttentionLayer(2,8,'NumValueChannels',6,'OutputSize',5,'AttentionMask','causal')":
        "attention 2 heads, 8 keys, 6 values, out 5, causal",
    "positionEmbeddingLayer(64,100)": "position embedding 64, ≤100",
    "sinusoidalPositionEncodingLayer(64)": "sinusoidal positions 64",
    "indexing1dLayer": "first step",
    "indexing1dLayer('last')": "last step",
    "wordEmbeddingLayer(300,5000)": "word embedding 300, 5000 words",
    "lstmLayer(100)": "LSTM 100",
    "bilstmLayer(100,'OutputMode','last')": "BiLSTM 100, last",
    "gruLayer(64)": "GRU 64",
    "gruLayer(8,'ResetGateMode','before-multiplication')": "GRU 8, reset before ×",
    "gruLayer(8,'ResetGateMode','recurrent-bias-after-multiplication')": "GRU 8, recurrent bias",
}


@pytest.mark.parametrize("expression", LABELS)
def test_label(expression):
    layer = load_source(f"layers = {expression};\n", "label.net").network.layers[0]
    assert backend.LABELS[type(layer)](layer) == LABELS[expression]


def test_labels_cover_every_kind():
    kinds = {load_source(f"layers = {e};\n", "label.net").network.layers[0].kind for e in LABELS}
    assert kinds == set(LAYERS)


def test_families_are_distinct():
    fills = {family: style["fillcolor"] for family, style in backend.FAMILIES.items()}
    assert len(set(fills.values())) == len(fills)
    assert backend.FAMILIES["merge"]["shape"] != "box"


# -- every spec ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_spec_nodes_edges_and_shapes(path):
    network = netspec.load(path, set=BINDINGS.get(path.name))
    analysis = analyze(network)
    nodes, edges = parse_dot(backend.to_dot(network, analysis).source)
    assert sorted(nodes) == sorted(layer.name for layer in network.layers)
    assert Counter((s, d) for s, d, _ in edges) == Counter((c.source, c.destination) for c in network.connections)
    reports = {report.name: report for report in analysis.layers}
    labelled = Counter((s, d, a["label"]) for s, d, a in edges)
    expected = Counter()
    for c in network.connections:
        ports = network.layer(c.source).output_names
        label = reports[c.source].output_shapes[ports.index(c.source_port)]
        if len(ports) > 1:  # a layer with several outputs: which one
            label = f"{c.source_port}: {label}"
        if len(network.layer(c.destination).input_names) > 1:  # merges: which port
            label += f" → {c.destination_port}"
        expected[(c.source, c.destination, label)] += 1
    assert labelled == expected


def test_inputs_outputs_and_merges_are_distinct():
    network = netspec.load(SPECS / "resnet50.net")
    graph = backend.to_dot(network)
    source = graph.source
    assert "rankdir=TB" in source
    lines = {unquote(m[1]): m[0] for line in source.splitlines() if (m := NODE.match(line))}
    assert "shape=invhouse" in lines["input"]
    assert "shape=house" in lines[network.outputs[0]]
    assert "shape=hexagon" in lines["res2a"] and "additionLayer" in lines["res2a"]
    assert "conv 7×7, 64, /2, pad 3" in lines["conv1"] and "convolution2dLayer" in lines["conv1"]


def test_each_node_is_styled_by_its_class_family():
    network = netspec.load(SPECS / "resnet50.net")
    source = backend.to_dot(network).source
    lines = {unquote(m[1]): m[0] for line in source.splitlines() if (m := NODE.match(line))}
    assert 'fillcolor="#c6dbef"' in lines["conv1"] and 'fillcolor="#fdd9b5"' in lines["bn_conv1"]
    for layer in network.layers:
        assert f'fillcolor="{backend.FAMILIES[layer.family]["fillcolor"]}"' in lines[layer.name], layer.name


def test_unknown_shapes_show_a_question_mark(tmp_path):
    text = ("layers = [imageInputLayer([8 8 3],'Name','in')\n    convolution2dLayer(3,4,'Name','a')\n"
            "    additionLayer(2,'Name','add')\n    reluLayer('Name','r')];\n"
            "lgraph = layerGraph(layers);\nlgraph = connectLayers(lgraph,'in','add/in2');\n")
    path = tmp_path / "mismatch.net"
    path.write_text(text)
    out = tmp_path / "mismatch.dot"
    result = invoke("graph", path, "-o", out)
    assert result.exit_code == 1  # the analysis error is reported ...
    assert "A103" in result.stderr
    _, edges = parse_dot(out.read_text())  # ... and the drawing still shows where
    labels = {(s, d): a["label"] for s, d, a in edges}
    assert labels[("add", "r")] == "?" and labels[("a", "add")] == "6×6×4 → in1"


HOSTILE_NAMES = ["a\\", 'b"', "<c>", 'd\n[image="/etc/hosts"]', "e\x1b]0;t\x07", "\\x1b", 'f\\"g', "h\u2028i",
                 "<<b>j</b>>", "k\\N"]
"""Layer names that end a DOT string early, read as HTML, expand as `\\N`, or hold characters
neither DOT nor SVG may carry; `\\x1b` spelled out must stay apart from a real ESC."""


def hostile_network():
    """input -> one relu per hostile name, from a file whose name reads as HTML and as `\\N`."""
    rows = ["imageInputLayer([8 8 1],'Name','in')", *(f"reluLayer('Name',{matlab_text(n)})" for n in HOSTILE_NAMES)]
    return load_source("layers = [" + "\n".join(rows) + "];\n", "specs/<x\\N>").network


def test_hostile_names_stay_one_node_each():
    network = hostile_network()
    source = backend.to_dot(network).source
    nodes, edges = parse_dot(source)
    assert len(nodes) == len(set(nodes)) == len(network.layers)
    assert len(edges) == len(network.connections)
    assert all(char in "\t\n" or char.isprintable() for char in source)
    assert 'label="<x\\\\N>"' in source  # a plain label, its backslash doubled: no HTML, no \N


@needs_dot
def test_hostile_names_render_to_well_formed_svg():
    network = hostile_network()
    done = subprocess.run([DOT, "-Tsvg"], input=backend.to_dot(network).source.encode(), capture_output=True,
                          timeout=120)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode(errors="replace")
    svg = ElementTree.fromstring(done.stdout)
    groups = [g.get("class") for g in svg.iter("{http://www.w3.org/2000/svg}g")]
    assert groups.count("node") == len(network.layers) and groups.count("edge") == len(network.connections)
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "<x\\N>" in texts and "e\\x1b]0;t\\x07" in texts and "<<b>j</b>>" in texts


# -- the command --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_cli_writes_dot(tmp_path, path):
    out = tmp_path / f"{path.stem}.dot"
    result = invoke("graph", path, "-o", out, *spec_args(path))
    assert result.exit_code == 0, result.stderr
    nodes, edges = parse_dot(out.read_text(encoding="utf-8"))
    network = netspec.load(path, set=BINDINGS.get(path.name))
    assert len(nodes) == len(network.layers) and len(edges) == len(network.connections)


def test_cli_dot_on_stdout():
    result = invoke("graph", SPECS / "mnist_matlab.net")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("digraph")
    assert len(parse_dot(result.stdout)[0]) == 10


def test_cli_format_errors(tmp_path):
    result = invoke("graph", SPECS / "mnist_matlab.net", "-o", tmp_path / "net.jpg")
    assert result.exit_code == 2 and "--format" in result.stderr
    result = invoke("graph", SPECS / "mnist_matlab.net", "--format", "gif", "-o", tmp_path / "net.gif")
    assert result.exit_code == 2
    result = invoke("graph", SPECS / "mnist_matlab.net", "--format", "svg")
    assert result.exit_code == 2
    assert not list(tmp_path.iterdir())


def test_cli_explicit_format_wins_over_suffix(tmp_path):
    out = tmp_path / "net.txt"
    result = invoke("graph", SPECS / "mnist_matlab.net", "--format", "dot", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("digraph")


def test_cli_bad_spec(tmp_path):
    bad = tmp_path / "bad.net"
    bad.write_text('layers = [imageInputLayer([28 28 1])\n    convolution2dLayer(3, 8, "Stide", 2)];\n')
    out = tmp_path / "bad.dot"
    result = invoke("graph", bad, "-o", out)
    assert result.exit_code == 1
    assert f"{bad}:2:30" in result.stderr and "Stride" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists()


def test_cli_needs_set_for_transfer_alexnet(tmp_path):
    result = invoke("graph", SPECS / "transfer_alexnet.net", "-o", tmp_path / "t.dot")
    assert result.exit_code == 1 and "--set numClasses=" in result.stderr


@needs_dot
@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_dot_accepts_every_spec(path):
    source = backend.to_dot(netspec.load(path, set=BINDINGS.get(path.name))).source
    done = subprocess.run([DOT, "-Tcanon"], input=source.encode(), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Warning" not in done.stderr and b"Error" not in done.stderr, done.stderr.decode()


@needs_dot
def test_cli_renders_svg_png_pdf(tmp_path):
    for name, magic in (("net.svg", b"<svg"), ("net.png", b"\x89PNG"), ("net.pdf", b"%PDF")):
        out = tmp_path / name
        result = invoke("graph", SPECS / "googlenet.net", "-o", out)
        assert result.exit_code == 0, result.stderr
        assert magic in out.read_bytes()[:400], name
    svg = html.unescape((tmp_path / "net.svg").read_text(encoding="utf-8"))
    assert "inception_3a-output" in svg and "28×28×256" in svg and "28×28×32 → in4" in svg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.pdf", "net.png", "net.svg"]  # no temp files


def test_cli_without_dot_writes_dot_and_says_how_to_render(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    out = tmp_path / "out.svg"
    result = invoke("graph", SPECS / "inception_module.net", "-o", out)
    assert result.exit_code == 1, result.stderr  # what was asked for was not made: a user error (issue 13)
    assert "internal error" not in result.stderr
    assert not out.exists()
    fallback = tmp_path / "out.dot"
    assert fallback.read_text().startswith("digraph")
    assert f"dot -Tsvg {fallback} -o {out}" in result.stderr
    assert "apt-get install graphviz" in result.stderr and "brew install graphviz" in result.stderr


def test_cli_without_dot_keeps_an_existing_dot_file(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    fallback = tmp_path / "out.dot"
    fallback.write_text("my own drawing")
    result = invoke("graph", SPECS / "inception_module.net", "-o", tmp_path / "out.png")
    assert result.exit_code == 1
    assert fallback.read_text() == "my own drawing"
    assert "apt-get install graphviz" in result.stderr and "was not written" in result.stderr


def test_failed_render_keeps_the_existing_file(tmp_path, monkeypatch):
    out = tmp_path / "net.png"
    out.write_bytes(b"old picture")
    # a `dot` that fails: the Python interpreter rejects `-Tpng`
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: sys.executable)
    result = invoke("graph", SPECS / "mnist_matlab.net", "-o", out)
    assert result.exit_code == 1
    assert "cannot write" in result.stderr
    assert out.read_bytes() == b"old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["net.png"]


def test_write_is_atomic(tmp_path, monkeypatch):
    graph = backend.to_dot(netspec.load(SPECS / "mnist_matlab.net"))
    out = tmp_path / "net.dot"
    out.write_text("old")

    def explode(source, destination):  # the file is written, then the rename fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", explode)
    with pytest.raises(NetspecError) as caught:
        backend.write(graph, out, "dot")
    monkeypatch.undo()
    assert caught.value.diagnostic.code == "F001" and "No space left" in caught.value.diagnostic.message
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["net.dot"]
    backend.write(graph, out, "dot")
    assert out.read_text(encoding="utf-8") == graph.source


def test_graph_does_not_import_torch(tmp_path):
    out = tmp_path / "net.dot"
    code = ("import sys\nfrom netspec.cli import main\n"
            f"sys.argv = ['netspec', 'graph', 'specs/resnet50.net', '-o', {str(out)!r}]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print('HEAVY', ','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'onnx', 'onnxruntime', 'torchvision'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.exists()
    line = next(line for line in result.stdout.splitlines() if line.startswith("HEAVY"))
    assert line == "HEAVY ", line


def test_backends_load_lazily():
    import netspec.backends as backends

    assert backends.graphviz is backend
    with pytest.raises(AttributeError):
        backends.no_such_backend  # noqa: B018
