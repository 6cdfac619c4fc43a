"""Export of sequence networks against independent truth: the full ONNX checker, ONNX's and
onnxruntime's (symbolic) shape inference against the analyzer's shapes in the symbolic length T,
onnxruntime against the lowered PyTorch module for T in {1, 7, 29} and batch 1 and 3,
`netspec predict model.onnx` on CSV and .ts files with torch made unimportable, and the
PyTorch source export against the lowered module."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
import sympy
import torch
from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

from netspec.analysis import analyze
from netspec.backends.onnx import to_onnx
from netspec.backends.pytorch_source import to_source
from netspec.backends.torch import to_torch
from netspec.language import load_source

from .test_onnx import assert_onnx_matches_torch, inferred_shapes

LENGTHS = (1, 7, 29)
CHANNELS = 3

CONV1D = """
layers = [sequenceInputLayer(3,'Name','in')
    convolution1dLayer(3,8,'Padding','same','Name','same')
    reluLayer('Name','relu')
    convolution1dLayer(2,8,'Padding','causal','DilationFactor',2,'Name','causal')
    layerNormalizationLayer('Name','ln')
    maxPooling1dLayer(2,'Stride',1,'Padding','same','Name','pool')
    fullyConnectedLayer(6,'Name','step_fc')
    tanhLayer('Name','tanh')
    globalAveragePooling1dLayer('Name','gap')
    fullyConnectedLayer(4,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
"""
"""Sequence to label: the length survives every layer until the global pooling over time."""

CONV1D_TO_SEQUENCE = """
layers = [sequenceInputLayer(3,'Name','in')
    convolution1dLayer(3,5,'Padding','same','Name','same')
    batchNormalizationLayer('Name','bn')
    reluLayer('Name','relu')
    fullyConnectedLayer(4,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
"""
"""Sequence to sequence: a class per time step."""

STRIDED = """
layers = [sequenceInputLayer(3,'Name','in')
    convolution1dLayer(3,4,'Stride',2,'Name','strided')
    averagePooling1dLayer(2,'Stride',2,'Name','avg')
    fullyConnectedLayer(2,'Name','fc')];
"""
"""The length shrinks: floor((T - 3)/2) + 1, then halved again; needs T >= 5."""

NETWORKS = {"conv1d": CONV1D, "conv1d-to-sequence": CONV1D_TO_SEQUENCE, "strided": STRIDED}


def network_of(name: str):
    return load_source(NETWORKS[name], f"{name}.net").network


def randomized(network, seed: int) -> torch.nn.Module:
    """The lowered module with non-trivial normalization statistics (zero means and unit
    variances would hide a statistic the export dropped)."""
    model = to_torch(network, seed=seed).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.copy_(torch.rand(module.num_features, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    return model


@pytest.fixture(scope="module", params=list(NETWORKS))
def exported(request):
    network = network_of(request.param)
    model = randomized(network, seed=1)
    return network, model, to_onnx(network, model.state_dict())


def length_symbol(network) -> sympy.Symbol:
    (symbol,) = analyze(network).layers[0].output_dims[0][0].free_symbols
    return symbol


def test_checker_accepts_the_model_and_batch_and_time_are_dynamic(exported):
    network, _, proto = exported
    onnx.checker.check_model(proto, full_check=True)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [dims[0].dim_param, dims[1].dim_value, dims[2].dim_param] == ["batch", CHANNELS, str(length_symbol(network))]


def symbolic_dims(proto: onnx.ModelProto) -> dict[str, list]:
    """onnxruntime's symbolic shape inference (sympy arithmetic on named dims, Conv's and
    pooling's length formulas included): tensor -> dims, each an int or a sympy expression."""
    inferred = SymbolicShapeInference.infer_shapes(proto, auto_merge=False, guess_output_rank=False)
    values = list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)
    return {v.name: [d.dim_value if d.HasField("dim_value") else sympy.sympify(d.dim_param)
                     for d in v.type.tensor_type.shape.dim] for v in values}


def same_dim(inferred, analyzed, symbol: sympy.Symbol) -> bool:
    """Equal as functions of the length, wherever the network takes it (every layer's length >= 1)."""
    inferred = inferred.subs(sympy.Symbol(str(symbol)), symbol) if isinstance(inferred, sympy.Basic) else inferred
    values = [(sympy.sympify(inferred).subs(symbol, t), sympy.sympify(analyzed).subs(symbol, t))
              for t in range(1, 100)]
    return all(a == b for a, b in values if b >= 1)


def test_symbolic_shape_inference_gives_the_analyzer_shape_of_every_layer(exported):
    network, _, proto = exported
    symbol = length_symbol(network)
    dims = symbolic_dims(proto)
    rows = [row for row in analyze(network).layers if row.output_dims]
    for row in rows:
        analyzed = row.output_dims[0]
        inferred = dims[row.name]
        assert isinstance(inferred[0], sympy.Symbol) and str(inferred[0]) == "batch", row.name
        expected = [analyzed[-1], *analyzed[:-1]]  # (C, T) in torch's layout
        assert len(inferred) == 1 + len(expected), row.name
        assert all(same_dim(i, e, symbol) for i, e in zip(inferred[1:], expected)), (row.name, inferred, expected)
    assert any(not isinstance(row.output_dims[0][0], int) for row in rows)


def test_onnx_shape_inference_keeps_the_symbolic_length_where_the_layer_keeps_it(exported):
    """ONNX's own inference (strict: a conflict with a declared size fails) works no arithmetic on
    named dims, so only layers that pass the length on unchanged keep the name 'T'; every fixed
    size equals the analyzer's."""
    network, _, proto = exported
    symbol = length_symbol(network)
    shapes = inferred_shapes(proto)
    for row in analyze(network).layers:
        if not row.output_dims:
            continue
        analyzed = row.output_dims[0]
        expected = [analyzed[-1], *analyzed[:-1]]
        for inferred, want in zip(shapes[row.name][1:], expected):
            if isinstance(want, int):
                assert inferred == want, row.name
            elif want == symbol and inferred != str(symbol):
                assert inferred.startswith("unk__"), (row.name, inferred)  # not inferred; never a wrong name
    outputs = {o.name: [d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim] for o in proto.graph.output}
    for name, dims in outputs.items():
        assert dims[0] == "batch", name


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("length", LENGTHS)
def test_onnxruntime_equals_pytorch_at_every_layer(exported, length, batch):
    network, model, proto = exported
    symbol = length_symbol(network)
    if any(isinstance(d, sympy.Basic) and d.subs(symbol, length) < 1
           for row in analyze(network).layers for d in (row.output_dims[0] if row.output_dims else [])):
        pytest.skip(f"{network.name} takes no sequence of {length} steps")
    x = torch.randn(batch, CHANNELS, length, generator=torch.Generator().manual_seed(length)) * 3
    layers = [name for name, sources in model.plan if sources]
    expected = assert_onnx_matches_torch(model, proto, x, layers)
    final = expected[model.output_names[0]]
    assert np.abs(final).max() > 0 and final.std() > 1e-3  # an output that ignores the input cannot pass


def test_the_time_axis_of_an_output_is_named_by_the_analyzer_formula():
    network = network_of("strided")
    proto = to_onnx(network)
    (output,) = proto.graph.output
    symbol = length_symbol(network)
    time = sympy.sympify(output.type.tensor_type.shape.dim[2].dim_param).subs(sympy.Symbol(str(symbol)), symbol)
    analyzed = next(row for row in analyze(network).layers if row.name == "fc").output_dims[0][0]
    assert [time.subs(symbol, t) for t in range(5, 40)] == [analyzed.subs(symbol, t) for t in range(5, 40)]


def test_a_fixed_length_exports_a_fixed_time_axis():
    network = load_source(CONV1D.replace("sequenceInputLayer(3,", "sequenceInputLayer(3,'MinLength',9,"),
                          "fixed.net").network
    proto = to_onnx(network)
    onnx.checker.check_model(proto, full_check=True)
    assert [d.dim_value or d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim] == \
        ["batch", CHANNELS, 9]


@pytest.mark.parametrize("name", list(NETWORKS))
def test_pytorch_source_export_reproduces_the_module(name):
    network = network_of(name)
    model = randomized(network, seed=4)
    source = to_source(network)
    assert "sequences are (N, C, T)" in source
    namespace: dict = {}
    exec(compile(source, "generated.py", "exec"), namespace)  # the generated file, as a user runs it
    generated = namespace["Net"]().eval()
    generated.load_state_dict(model.state_dict())
    for length in (7, 29):
        x = torch.randn(3, CHANNELS, length)
        with torch.no_grad():
            assert torch.equal(generated(x), model(x))


NO_TORCH = """
import sys


class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"{name} is not importable here")


sys.meta_path.insert(0, NoTorch())
from netspec.cli import main

sys.argv = ["netspec", "predict", *sys.argv[1:]]
main()
"""
"""`netspec predict` in a process where importing torch fails."""


def write_ts(path, sequences: list[np.ndarray], labels: list[str]) -> None:
    """A time-series archive file: a case a line, its channels separated by ':', the label last."""
    lines = ["@problemName tiny", "@timeStamps false", "@univariate false", f"@dimensions {CHANNELS}",
             "@equalLength false", f"@classLabel true {' '.join(sorted(set(labels)))}", "@data"]
    for sequence, label in zip(sequences, labels):
        lines.append(":".join(",".join(f"{v:.6f}" for v in channel) for channel in sequence.T) + f":{label}")
    path.write_text("\n".join(lines) + "\n")


def test_predict_reads_csv_and_ts_files_without_torch(tmp_path):
    network = network_of("conv1d")
    model = randomized(network, seed=6)
    classes = ["a", "b", "c", "d"]
    model_file = tmp_path / "seq.onnx"
    model_file.write_bytes(to_onnx(network, model.state_dict(), classes=classes).SerializeToString())
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(length, CHANNELS)).round(6).astype(np.float32) for length in (1, 7, 29, 12)]
    csv_file = tmp_path / "one.csv"
    csv_file.write_text("c1,c2,c3\n" + "\n".join(",".join(f"{v:.6f}" for v in row) for row in sequences[0]) + "\n")
    ts_file = tmp_path / "many_TEST.ts"
    write_ts(ts_file, sequences[1:], ["a", "b", "a"])
    result = subprocess.run([sys.executable, "-c", NO_TORCH, str(model_file), str(csv_file), str(ts_file), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["image"] for row in rows] == [str(csv_file)] + [f"{ts_file}:{line}" for line in (8, 9, 10)]
    with torch.no_grad():
        expected = [model(torch.from_numpy(s.T.copy())[None])[0] for s in sequences]
    assert [row["class"] for row in rows] == [classes[int(p.argmax())] for p in expected]
    assert all(abs(row["probability"] - float(p.max())) < 1e-4 for row, p in zip(rows, expected))
    assert len({row["class"] for row in rows}) > 1 or len({round(row["probability"], 3) for row in rows}) > 1


def test_predict_gives_a_class_per_time_step_of_a_sequence_to_sequence_network(tmp_path):
    network = network_of("conv1d-to-sequence")
    model = randomized(network, seed=7)
    model_file = tmp_path / "steps.onnx"
    model_file.write_bytes(to_onnx(network, model.state_dict(), classes=["w", "x", "y", "z"]).SerializeToString())
    sequence = np.random.default_rng(1).normal(size=(5, CHANNELS)).astype(np.float32)
    csv_file = tmp_path / "s.csv"
    csv_file.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in sequence) + "\n")
    result = subprocess.run([sys.executable, "-c", NO_TORCH, str(model_file), str(csv_file), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    with torch.no_grad():
        scores = model(torch.from_numpy(sequence.T.copy())[None])[0].T  # (T, classes)
    assert [row["image"] for row in rows] == [f"{csv_file}@{t}" for t in range(1, 6)]
    assert [row["class"] for row in rows] == ["wxyz"[int(i)] for i in scores.argmax(1)]
    np.testing.assert_allclose([row["probability"] for row in rows], scores.max(1).values.numpy(), atol=1e-4)


@pytest.mark.parametrize("files, code, words", [
    (["x.png"], "D012", "no time step"),
    (["five_channels.csv"], "D014", "5 channels"),
], ids=["not-a-sequence-file", "other-channels"])
def test_predict_refuses_what_a_sequence_model_cannot_take(tmp_path, files, code, words):
    model_file = tmp_path / "seq.onnx"
    model_file.write_bytes(to_onnx(network_of("conv1d")).SerializeToString())
    (tmp_path / "five_channels.csv").write_text("1,2,3,4,5\n6,7,8,9,10\n")
    (tmp_path / "x.png").write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "netspec.cli", "predict", str(model_file),
                             *(str(tmp_path / f) for f in files)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and f"error[{code}]" in result.stderr and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_predict_refuses_another_length_than_a_fixed_length_model_takes(tmp_path):
    network = load_source(CONV1D.replace("sequenceInputLayer(3,", "sequenceInputLayer(3,'MinLength',4,"),
                          "fixed.net").network
    model_file = tmp_path / "fixed.onnx"
    model_file.write_bytes(to_onnx(network).SerializeToString())
    csv_file = tmp_path / "s.csv"
    csv_file.write_text("1,2,3\n4,5,6\n")
    result = subprocess.run([sys.executable, "-m", "netspec.cli", "predict", str(model_file), str(csv_file)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "error[P005]" in result.stderr and "exactly 4 time steps" in result.stderr
    assert "Traceback" not in result.stderr
