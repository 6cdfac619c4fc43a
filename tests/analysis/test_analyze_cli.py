"""`netspec analyze`: formats, --dtype, --convention, --input-size (numeric and symbolic),
no torch/onnx import, and the FLOPs table (SPEC §1, §5)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from typer.testing import CliRunner

import netspec
from netspec.analysis import Analysis, analyze
from netspec.analysis.report import from_json, json_schema
from netspec.cli import app

SPECS = Path(__file__).parents[2] / "specs"
SPEC_FILES = sorted(SPECS.glob("*.net"))

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["analyze", *map(str, args)], env={"COLUMNS": "200"})


def as_analysis(*args: str) -> Analysis:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return from_json(result.stdout)


def run_netspec(*args: str) -> subprocess.CompletedProcess:
    """The real entry point (`netspec.cli:main`), which also joins `--input-size H W C`'s three
    words: CliRunner bypasses main(), so --input-size tests go through a subprocess."""
    return subprocess.run([sys.executable, "-m", "netspec.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})


def analysis_of(*args: str) -> Analysis:
    proc = run_netspec("analyze", *args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return from_json(proc.stdout)


# --------------------------------------------------------------------------------------------
# formats
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_json_validates_and_equals_the_library(path):
    result = invoke(path, "--format", "json", "--set", "numClasses=4")
    assert result.exit_code == 0, result.stderr
    parsed = from_json(result.stdout)
    direct = analyze(netspec.load(path, set={"numClasses": "4"}))
    assert parsed.totals == direct.totals
    assert [r.name for r in parsed.layers] == [r.name for r in direct.layers]
    assert parsed.layers == direct.layers


def test_json_follows_the_published_schema():
    """`netspec schema --analysis` describes what `analyze --format json` writes, symbolic sizes included."""
    jsonschema = pytest.importorskip("jsonschema")
    published = runner.invoke(app, ["schema", "--analysis"])
    assert published.exit_code == 0, published.output
    document = json.loads(published.stdout)
    assert document == json_schema()
    for args in ([SPECS / "googlenet.net"], [SPECS / "inception_module.net"], [SPECS / "conv1d_signal.net"],
                 [SPECS / "resnet18.net", "--input-size", "H W 3"]):
        proc = run_netspec("analyze", *args, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        jsonschema.validate(json.loads(proc.stdout), document)
    broken = json.loads(invoke(SPECS / "mnist_matlab.net", "--format", "json").stdout)
    broken["layers"][0]["learnables"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, document)


def test_csv_has_a_header_and_one_row_per_layer():
    a = as_analysis(SPECS / "resnet18.net")
    result = invoke(SPECS / "resnet18.net", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["index", "name", "type"]
    for column in ("learnables", "macs", "flops", "torch_flops", "activation_bytes", "receptive_field"):
        assert column in header
    assert len(body) == len(a.layers) == 71
    assert [r[header.index("name")] for r in body] == [r.name for r in a.layers]
    assert sum(int(r[header.index("learnables")]) for r in body) == 11_689_512
    assert sum(int(r[header.index("macs")]) for r in body) == a.totals.macs


def test_markdown_has_the_totals_row():
    result = invoke(SPECS / "vgg16.net", "--format", "markdown")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| # | name | type | output | learnables | MACs |")
    totals = [line for line in lines if "**total**" in line]
    assert len(totals) == 1
    assert "**138,357,544**" in totals[0] and "**15,470,264,320**" in totals[0]
    assert "41 layers" in totals[0]
    # one table row per layer between the header and the totals row
    body = lines[2:lines.index(totals[0])]
    assert len(body) == 41


def test_table_format_prints_totals():
    result = invoke(SPECS / "mnist_matlab.net")
    assert result.exit_code == 0
    assert "148,778" in result.stdout and "4,754,176" in result.stdout
    assert result.stderr == ""


# --------------------------------------------------------------------------------------------
# --dtype, --convention
# --------------------------------------------------------------------------------------------

def test_float16_halves_activation_bytes():
    f32 = as_analysis(SPECS / "alexnet.net", "--dtype", "float32")
    f16 = as_analysis(SPECS / "alexnet.net", "--dtype", "float16")
    assert f32.bytes_per_element == 4 and f16.bytes_per_element == 2
    assert f16.totals.activation_bytes * 2 == f32.totals.activation_bytes
    assert f16.totals.parameter_bytes * 2 == f32.totals.parameter_bytes
    for a, b in zip(f16.layers, f32.layers):
        assert a.activation_bytes * 2 == b.activation_bytes
        assert a.activation_elements == b.activation_elements
    # float32: 4 bytes per element of 55×55×96 after conv1
    conv1 = next(r for r in f32.layers if r.name == "conv1")
    assert conv1.activation_bytes == 55 * 55 * 96 * 4


def test_unknown_dtype_is_a_usage_error():
    result = invoke(SPECS / "alexnet.net", "--dtype", "float7")
    assert result.exit_code != 0
    assert "float32" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("spec", ["mnist_matlab", "lenet5", "alexnet", "vgg16"])
def test_torch_convention_is_twice_the_macs(spec):
    # conv/fc-only compute: FlopCounterMode counts 2 FLOPs per MAC and nothing else (SPEC §5)
    path = SPECS / f"{spec}.net"
    macs = invoke(path, "--format", "markdown", "--convention", "macs")
    torch = invoke(path, "--format", "markdown", "--convention", "torch")
    assert macs.exit_code == torch.exit_code == 0
    assert "FLOPs (torch)" in torch.stdout.splitlines()[0]
    a = as_analysis(path)
    total = next(line for line in torch.stdout.splitlines() if "**total**" in line)
    assert f"**{2 * a.totals.macs:,}**" in total
    assert a.totals.torch_flops == 2 * a.totals.macs
    for row in a.layers:
        assert row.torch_flops == 2 * row.macs
    # the per-layer column too
    body = [line.split("|") for line in torch.stdout.splitlines()[2:] if line.startswith("| ") and "**" not in line]
    by_name = {cells[2].strip(): cells[6].strip() for cells in body}
    for row in a.layers:
        assert by_name[row.name] == f"{2 * row.macs:,}"


def test_table_convention_flops_column_title():
    result = invoke(SPECS / "mnist_matlab.net", "--convention", "flops")
    assert result.exit_code == 0
    assert "FLOPs" in result.stdout
    a = as_analysis(SPECS / "mnist_matlab.net")
    assert f"{a.totals.flops:,}" in result.stdout


# --------------------------------------------------------------------------------------------
# --input-size
# --------------------------------------------------------------------------------------------

def test_input_size_override_changes_shapes():
    a = analysis_of(SPECS / "vgg16.net", "--input-size", "64", "64", "3")
    rows = {r.name: r for r in a.layers}
    assert rows["input"].output_dims == [[64, 64, 3]]
    assert rows["conv1_1"].output_dims == [[64, 64, 64]]
    assert rows["pool5"].output_dims == [[2, 2, 512]]
    assert rows["fc6"].learnables == 2 * 2 * 512 * 4096 + 4096
    assert a.input_size == [64, 64, 3]
    # convolutions keep their parameters; MACs scale with the area (64/224)^2 for convs
    default = as_analysis(SPECS / "vgg16.net")
    d_rows = {r.name: r for r in default.layers}
    assert rows["conv3_3"].learnables == d_rows["conv3_3"].learnables
    assert rows["conv3_3"].macs * 224 * 224 == d_rows["conv3_3"].macs * 64 * 64


def test_input_size_too_small_is_an_error():
    proc = run_netspec("analyze", SPECS / "vgg16.net", "--input-size", "16", "16", "3")
    assert proc.returncode == 1  # pool5 would be 0×0
    assert "A102" in proc.stderr and "pool5" in proc.stderr
    assert "conv1_1" in proc.stdout  # still prints what it could compute


@pytest.mark.parametrize("spec", ["vgg16", "mnist_matlab", "resnet50"])
def test_symbolic_input_size_gives_formulas(spec):
    path = SPECS / f"{spec}.net"
    numeric = as_analysis(path)
    size = numeric.layers[0].output_dims[0]  # H, W, C of the spec's input layer
    sym = analysis_of(path, "--input-size", "H", "W", size[2])
    assert sym.input_size == ["H", "W", size[2]]
    H, W = sympy.symbols("H W", positive=True, integer=True)
    at = {H: size[0], W: size[1]}

    def value(formula):
        if isinstance(formula, int):
            return formula
        expr = sympy.sympify(formula, locals={"H": H, "W": W})
        assert expr.free_symbols <= {H, W}
        return int(expr.subs(at))

    assert isinstance(sym.totals.macs, str) and "H" in sym.totals.macs
    for field in ("macs", "flops", "torch_flops", "learnables", "activation_elements", "activation_bytes"):
        assert value(getattr(sym.totals, field)) == getattr(numeric.totals, field), field
    for s, n in zip(sym.layers, numeric.layers):
        assert value(s.macs) == n.macs, s.name
        assert [[value(d) for d in dims] for dims in s.output_dims] == n.output_dims, s.name


# --------------------------------------------------------------------------------------------
# no torch, no onnx
# --------------------------------------------------------------------------------------------

PROBE = r"""
import json, sys
HEAVY = ("torch", "torchvision", "onnx", "onnxruntime")
attempted = []

class Spy:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            attempted.append(name)
        return None

sys.meta_path.insert(0, Spy())
sys.argv = ["netspec", "analyze", sys.argv[1]]
from netspec.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
sys.stderr.write("\nPROBE " + json.dumps({"code": code, "attempted": attempted, "loaded": loaded}) + "\n")
"""


def test_analyze_imports_neither_torch_nor_onnx():
    proc = subprocess.run([sys.executable, "-c", PROBE, str(SPECS / "resnet50.net")], capture_output=True,
                          text=True, timeout=120)
    line = next(l for l in proc.stderr.splitlines() if l.startswith("PROBE "))
    probe = json.loads(line[len("PROBE "):])
    assert probe["code"] in (0, None)
    assert probe["loaded"] == []
    assert probe["attempted"] == []
    assert "25,557,032" in proc.stdout


# --------------------------------------------------------------------------------------------
# FLOPs = 2·MACs + the per-element table (SPEC §5), mnist_matlab by hand
# --------------------------------------------------------------------------------------------

# (layer, output elements, MACs, per-element FLOPs) for SPEC §1's network at 28×28×1:
#   input 'zerocenter' normalization: 1 subtraction per element;
#   conv / fc: a bias add per output element;  batch norm (inference form): 1 per element;
#   relu, softmax: 1 per element;  max pooling 2×2: 4 compares per output element.
MNIST_BY_HAND = [
    ("imageinput", 28 * 28 * 1, 0, 28 * 28 * 1),
    ("conv_1", 28 * 28 * 16, 28 * 28 * 16 * 3 * 3 * 1, 28 * 28 * 16),
    ("batchnorm", 28 * 28 * 16, 0, 28 * 28 * 16),
    ("relu", 28 * 28 * 16, 0, 28 * 28 * 16),
    ("maxpool", 14 * 14 * 16, 0, 14 * 14 * 16 * 2 * 2),
    ("conv_2", 14 * 14 * 32, 14 * 14 * 32 * 3 * 3 * 16, 14 * 14 * 32),
    ("conv_3", 14 * 14 * 64, 14 * 14 * 64 * 3 * 3 * 32, 14 * 14 * 64),
    ("fc", 10, 14 * 14 * 64 * 10, 10),
    ("softmax", 10, 0, 10),
    ("classoutput", 0, 0, 0),  # the loss is not inference work
]


def test_mnist_flops_by_hand():
    a = analyze(netspec.load(SPECS / "mnist_matlab.net"))
    assert [r.name for r in a.layers] == [name for name, *_ in MNIST_BY_HAND]
    for report, (name, elements, macs, per_element) in zip(a.layers, MNIST_BY_HAND):
        assert report.activation_elements == elements, name
        assert report.macs == macs, name
        assert report.flops == 2 * macs + per_element, name
    assert sum(m for _, _, m, _ in MNIST_BY_HAND) == 4_754_176 == a.totals.macs
    assert a.totals.flops == 2 * 4_754_176 + sum(p for *_, p in MNIST_BY_HAND) == 9_578_148  # 9,508,352 + 69,796
    assert a.totals.torch_flops == 2 * 4_754_176


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_flops_minus_two_macs_follows_the_table(path):
    # SPEC §5's per-element table, from the IR's fields (not from the layer classes' methods)
    net = netspec.load(path, set={"numClasses": "4"})
    length = 7  # a sequence input that 'MinLength' does not fix is analyzed at 7 steps
    a = analyze(net, sequence_length=length if any(getattr(l, "min_length", 0) is None for l in net.layers) else None)
    by_name = {r.name: r for r in a.layers}
    for layer in net.layers:
        r = by_name[layer.name]
        extra = r.flops - 2 * r.macs
        out = r.activation_elements
        kind = layer.kind
        if kind in ("convolution2d", "grouped_convolution2d", "convolution1d", "fully_connected",
                    "transposed_conv2d"):
            assert extra == (out if layer.bias_term else 0), layer.name
        elif kind in ("batch_normalization", "relu", "clipped_relu", "leaky_relu", "tanh", "sigmoid", "softmax",
                      "elu", "swish", "gelu", "layer_normalization"):
            assert extra == out, layer.name
        elif kind == "self_attention":  # a bias per projected element; scaling and softmax per score
            steps, out_channels = r.output_dims[0]
            values = layer.num_key_channels if layer.num_value_channels == "auto" else layer.num_value_channels
            projected = 2 * layer.num_key_channels + values + out_channels
            assert extra == steps * projected + 2 * layer.num_heads * steps * steps, layer.name
        elif kind in ("max_pooling2d", "average_pooling2d"):
            assert extra == out * layer.pool_size[0] * layer.pool_size[1], layer.name
        elif kind in ("max_pooling1d", "average_pooling1d"):
            assert extra == out * layer.pool_size, layer.name
        elif kind.startswith("global_"):
            source = by_name[r.inputs[0].split("/")[0]]
            assert extra == source.activation_elements, layer.name  # one add/compare per input element
        elif kind == "addition":
            assert extra == (layer.num_inputs - 1) * out, layer.name
        elif kind == "cross_channel_normalization":
            assert extra == (layer.window_channel_size + 3) * out, layer.name
        elif kind in ("dropout", "depth_concatenation", "concatenation", "flatten", "classification",
                      "regression", "sequence_folding", "sequence_unfolding", "sinusoidal_position_encoding",
                      "position_embedding", "indexing1d", "word_embedding"):
            assert extra == 0, layer.name
        elif kind in ("lstm", "bilstm", "gru"):  # per step and direction, the recurrent module's table
            per_unit = {"lstm": 17, "bilstm": 17, "gru": 14}[kind]
            assert extra == length * (2 if kind == "bilstm" else 1) * per_unit * layer.num_hidden_units, layer.name
        elif kind in ("image_input", "sequence_input", "feature_input"):
            assert extra == {"none": 0, "zscore": 2}.get(layer.normalization, 1) * out, layer.name
        else:
            pytest.fail(f"no FLOPs rule in this test for {layer.matlab}")
