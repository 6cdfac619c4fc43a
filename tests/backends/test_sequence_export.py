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
import onnxruntime
import pytest
import sympy
import torch

from netspec.analysis import analyze
from netspec.backends.onnx import to_onnx
from netspec.backends.pytorch_source import to_source
from netspec.backends.torch import to_torch
from netspec.ir import SequenceInputLayer, recurrent
from netspec.language import load_source

from .test_onnx import (ATOL_OF_MAX, RTOL, SPECS, TIME, assert_analyzer_shapes, assert_onnx_matches_torch,
                        inferred_shapes, load, with_layer_outputs)

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

STRIDED_SAME = """
layers = [sequenceInputLayer(3,'Name','in')
    convolution1dLayer(3,4,'Stride',2,'Padding','same','Name','strided')
    maxPooling1dLayer(3,'Stride',2,'Padding','same','Name','max')
    averagePooling1dLayer(2,'Stride',3,'Padding','same','Name','avg')
    fullyConnectedLayer(2,'Name','fc')];
"""
"""'same' padding with a stride pads by the length (the odd step at the end or not): ceil(T/S)
steps; a window shorter than its stride pads nothing or one step."""

BILSTM_LAST = """
layers = [sequenceInputLayer(3,'Name','in')
    bilstmLayer(6,'OutputMode','last','Name','bilstm')
    fullyConnectedLayer(4,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
"""
"""MATLAB's sequence classification example, small."""

LSTM_SEQUENCE = """
layers = [sequenceInputLayer(3,'Name','in')
    lstmLayer(5,'OutputMode','sequence','Name','lstm')
    dropoutLayer(0.2,'Name','drop')
    fullyConnectedLayer(4,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
"""

GRU = """
layers = [sequenceInputLayer(3,'Name','in')
    gruLayer(5,'OutputMode','sequence','Name','gru_seq')
    gruLayer(4,'OutputMode','last','Name','gru_last')
    fullyConnectedLayer(3,'Name','fc')];
"""

VARIANTS = """
layers = [sequenceInputLayer(3,'Name','in')
    lstmLayer(5,'StateActivationFunction','softsign','GateActivationFunction','hard-sigmoid','Name','softsign')
    bilstmLayer(4,'StateActivationFunction','relu','Name','relu')
    gruLayer(4,'ResetGateMode','before-multiplication','Name','before')
    gruLayer(3,'ResetGateMode','recurrent-bias-after-multiplication','GateActivationFunction','hard-sigmoid', ...
        'OutputMode','last','Name','recurrent_bias')
    fullyConnectedLayer(2,'Name','fc')];
"""
"""The activations and reset-gate modes that PyTorch's LSTM and GRU do not have (the lowering runs
them step by step): the export writes them as attributes of ONNX's operators."""

CNN_LSTM = """
layers = [sequenceInputLayer(3,'Name','in')
    convolution1dLayer(3,6,'Stride',2,'Name','strided')
    reluLayer('Name','relu')
    bilstmLayer(4,'OutputMode','sequence','Name','bilstm')
    gruLayer(4,'OutputMode','last','Name','gru')
    fullyConnectedLayer(2,'Name','fc')];
"""
"""A recurrence over a length the convolution shortened: floor((T - 3)/2) + 1."""

NETWORKS = {"conv1d": CONV1D, "conv1d-to-sequence": CONV1D_TO_SEQUENCE, "strided": STRIDED,
            "strided-same": STRIDED_SAME,
            "bilstm-last": BILSTM_LAST, "lstm-sequence": LSTM_SEQUENCE, "gru": GRU, "variants": VARIANTS,
            "cnn-lstm": CNN_LSTM}
RECURRENT = ["bilstm-last", "lstm-sequence", "gru", "variants", "cnn-lstm"]


def network_of(name: str):
    return load_source(NETWORKS[name], f"{name}.net").network


def randomized(network, seed: int) -> torch.nn.Module:
    """The lowered module with non-trivial normalization statistics (zero means and unit
    variances would hide a statistic the export dropped) and, in the recurrent variants, initial
    states (the others start from zeros, which the export leaves to ONNX's default)."""
    model = to_torch(network, seed=seed).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.copy_(torch.rand(module.num_features, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
        if "softsign" in model.layers:
            for name, state in model.named_buffers():
                if name.endswith(("h0", "c0")):
                    state.copy_(torch.rand(state.shape, generator=generator) - 0.5)
    return model


@pytest.fixture(scope="module", params=list(NETWORKS))
def exported(request):
    network = network_of(request.param)
    model = randomized(network, seed=1)
    return network, model, to_onnx(network, model.state_dict())


def analyzed(network) -> dict[str, list]:
    """Each layer's first output in torch's layout (C, T): ints and sympy expressions in T."""
    return {row.name: [sympy.sympify(d) for d in (row.output_dims[0][-1], *row.output_dims[0][:-1])]
            for row in analyze(network).layers if row.output_dims}


def dims_of(value: onnx.ValueInfoProto) -> list:
    return [d.dim_value or d.dim_param for d in value.type.tensor_type.shape.dim]


def takes(network, length: int) -> bool:
    """Whether every layer's output has a time step at this length."""
    return all(d.subs(TIME, length) >= 1 for dims in analyzed(network).values() for d in dims)


def test_checker_accepts_the_model_and_batch_and_time_are_dynamic(exported):
    _, _, proto = exported
    onnx.checker.check_model(proto, full_check=True)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [dims[0].dim_param, dims[1].dim_value, dims[2].dim_param] == ["batch", CHANNELS, "T"]


def test_symbolic_shape_inference_gives_the_analyzer_shape_of_every_layer(exported):
    network, _, proto = exported
    if any(a.name == "auto_pad" for node in proto.graph.node for a in node.attribute):
        pytest.skip("onnxruntime's symbolic inference takes T to be a multiple of the stride under auto_pad "
                    "(symbolic_shape_infer.py says so): the runtime shapes are checked instead")
    assert_analyzer_shapes(network, proto)
    assert any(d.free_symbols for dims in analyzed(network).values() for d in dims)


def test_onnxruntime_computes_the_analyzer_shape_of_every_layer_at_every_length(exported):
    """The shapes onnxruntime computes, every layer's, for T = 1 to 40: the analyzer's formulas."""
    network, model, proto = exported
    expected = analyzed(network)
    layers = [name for name, sources in model.plan if sources]
    session = onnxruntime.InferenceSession(with_layer_outputs(proto, layers).SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    lengths = [t for t in range(1, 41) if takes(network, t)]
    for length in lengths:
        outputs = session.run(None, {"in": np.random.default_rng(length).normal(size=(2, CHANNELS, length))
                                     .astype(np.float32)})
        for name, value in zip(names, outputs):
            assert list(value.shape) == [2, *(int(d.subs(TIME, length)) for d in expected[name])], (name, length)
    assert len(lengths) > 30


def test_onnx_shape_inference_keeps_the_symbolic_length_where_the_layer_keeps_it(exported):
    """ONNX's own inference (strict: a conflict with a declared size fails) works no arithmetic on
    named dims: the batch stays symbolic, a length the analyzer says is T is 'T' or not inferred,
    and every fixed size is the analyzer's (or not inferred, after a padding computed from the
    length: a window shorter than its stride), never another name or number."""
    network, _, proto = exported
    shapes = inferred_shapes(proto)
    computed_pad = any(node.op_type == "Pad" and node.input[1] not in {i.name for i in proto.graph.initializer}
                       for node in proto.graph.node)
    for name, dims in analyzed(network).items():
        assert isinstance(shapes[name][0], str), name
        for inferred, want in zip(shapes[name][1:], dims):
            unknown = isinstance(inferred, str) and inferred.startswith("unk__")
            if want.is_Integer:
                assert inferred == int(want) or (computed_pad and unknown), (name, inferred)
            elif want == TIME:
                assert inferred == "T" or unknown, (name, inferred)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("length", LENGTHS)
def test_onnxruntime_equals_pytorch_at_every_layer(exported, length, batch):
    network, model, proto = exported
    if not takes(network, length):
        pytest.skip(f"the network takes no sequence of {length} steps")
    x = torch.randn(batch, CHANNELS, length, generator=torch.Generator().manual_seed(length)) * 3
    layers = [name for name, sources in model.plan if sources]
    expected = assert_onnx_matches_torch(model, proto, x, layers)
    # the output varies far beyond the tolerance, so one that is constant or ignores the input cannot pass
    final = expected[model.output_names[0]]
    assert final.std() > 10 * (RTOL + ATOL_OF_MAX) * np.abs(final).max()


def test_the_time_axis_of_an_output_is_named_by_the_analyzer_formula():
    network = network_of("strided")
    proto = to_onnx(network)
    (output,) = proto.graph.output
    time = sympy.sympify(output.type.tensor_type.shape.dim[2].dim_param)
    assert time.free_symbols == {TIME} and time.equals(analyzed(network)["fc"][1])


SEQUENCE_SPECS = [path for path in SPECS if "sequenceInputLayer" in path.read_text()]


@pytest.mark.parametrize("spec", SEQUENCE_SPECS, ids=[path.stem for path in SEQUENCE_SPECS])
def test_every_sequence_spec_exports_exactly_at_every_length(spec):
    """Each sequence network of specs/, every layer, for T in {1, 7, 29} and batch 1 and 3 (from
    MinLength on, and at MinLength and past it, where a spec sets one)."""
    network = load(spec)
    (shortest,) = [layer.min_length or 1 for layer in network.layers if isinstance(layer, SequenceInputLayer)]
    model = randomized(network, seed=5)
    proto = to_onnx(network, model.state_dict())
    onnx.checker.check_model(proto, full_check=True)
    dims = dims_of(proto.graph.input[0])
    assert dims[0] == "batch" and "T" in dims
    layers = [name for name, sources in model.plan if sources]
    for length in sorted({t for t in (*LENGTHS, shortest, 2 * shortest + 1) if t >= shortest and takes(network, t)}):
        for batch in (1, 3):
            size = [batch, *(d if isinstance(d, int) else length for d in dims[1:])]
            x = torch.randn(*size, generator=torch.Generator().manual_seed(length))
            assert_onnx_matches_torch(model, proto, x, layers)


@pytest.mark.parametrize("name", RECURRENT)
def test_each_recurrent_layer_is_one_onnx_rnn_operator(name):
    """No loop unrolled at the traced length: one LSTM or GRU node per layer, in its direction, with
    the layer's activations, and the initial states only where they are not zero."""
    network = network_of(name)
    model = randomized(network, seed=2)
    proto = to_onnx(network, model.state_dict())
    layers = [layer for layer in network.layers if isinstance(layer, recurrent.RecurrentLayer)]
    nodes = [node for node in proto.graph.node if node.op_type in ("LSTM", "GRU", "RNN", "Loop", "Scan")]
    assert len(nodes) == len(layers)
    for layer, node in zip(layers, nodes):
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert node.op_type == ("GRU" if isinstance(layer, recurrent.GruLayer) else "LSTM"), layer.name
        direction = b"bidirectional" if isinstance(layer, recurrent.BilstmLayer) else b"forward"
        assert attributes.get("direction", b"forward") == direction, layer.name
        assert attributes["hidden_size"] == layer.num_hidden_units
        module = model.layers[layer.name]
        gate, state = {"sigmoid": b"Sigmoid", "hard-sigmoid": b"HardSigmoid"}[module.gate_activation], \
            {"tanh": b"Tanh", "softsign": b"Softsign", "relu": b"Relu"}[module.state_activation]
        per_direction = [gate, state, state][:3 if node.op_type == "LSTM" else 2]
        if "activations" in attributes:
            assert attributes["activations"] == per_direction * (2 if module.bidirectional else 1), layer.name
        else:
            assert (gate, state) == (b"Sigmoid", b"Tanh"), layer.name  # ONNX's defaults
        if node.op_type == "GRU":
            assert attributes["linear_before_reset"] == int(layer.reset_gate_mode != "before-multiplication")
        has_state = bool(module.h0.any())
        assert (len(node.input) > 5 and node.input[5] != "") == has_state, layer.name
    assert name != "variants" or all("activations" in {a.name for a in node.attribute} for node in nodes)


def with_min_length(text: str, length: int):
    return load_source(text.replace("sequenceInputLayer(3,", f"sequenceInputLayer(3,'MinLength',{length},"),
                       "min_length.net").network


def test_min_length_leaves_the_time_axis_dynamic():
    """MinLength is the shortest sequence a MATLAB network takes (the analysis computes at it):
    the model takes longer ones too, and says the shortest in its metadata."""
    network = with_min_length(CONV1D, 9)
    model = randomized(network, seed=3)
    proto = to_onnx(network, model.state_dict())
    onnx.checker.check_model(proto, full_check=True)
    assert dims_of(proto.graph.input[0]) == ["batch", CHANNELS, "T"]
    assert {e.key: e.value for e in proto.metadata_props}["netspec.min_length"] == "9"
    assert_analyzer_shapes(network, proto)
    assert_onnx_matches_torch(model, proto, torch.randn(2, CHANNELS, 40), [name for name, _ in model.plan[1:]])


@pytest.mark.parametrize("name", ["cnn-lstm", "bilstm-last"])
def test_a_fixed_sequence_length_gives_a_static_time_axis(name):
    """`export --sequence-length 9`: every time axis a number (the analyzer's at T = 9), the
    batch still dynamic, and the model computes what the lowered module does at that length."""
    network = network_of(name)
    model = randomized(network, seed=4)
    proto = to_onnx(network, model.state_dict(), sequence_length=9)
    onnx.checker.check_model(proto, full_check=True)
    assert dims_of(proto.graph.input[0]) == ["batch", CHANNELS, 9]
    at_nine = network.model_copy(update={"layers": [
        layer.model_copy(update={"min_length": 9}) if isinstance(layer, SequenceInputLayer) else layer
        for layer in network.layers]})
    assert_analyzer_shapes(at_nine, proto)  # every layer's tensor, numbers only past the batch
    assert all(isinstance(d, int) for value in proto.graph.output for d in dims_of(value)[1:])
    assert_onnx_matches_torch(model, proto, torch.randn(2, CHANNELS, 9), [name for name, _ in model.plan[1:]])


def test_export_refuses_a_sequence_length_it_cannot_fix(tmp_path):
    (tmp_path / "images.net").write_text("layers = [imageInputLayer([8 8 1])\n    fullyConnectedLayer(2)];\n")
    (tmp_path / "seq.net").write_text(CONV1D.replace("sequenceInputLayer(3,", "sequenceInputLayer(3,'MinLength',5,"))
    for spec, out, words in (("images.net", "m.onnx", "takes no sequences"), ("seq.net", "m.onnx", "MinLength (5)"),
                             ("seq.net", "m.py", "PyTorch source takes sequences of any length")):
        result = subprocess.run([sys.executable, "-m", "netspec.cli", "export", spec, "-o", out, "--sequence-length",
                                 "4"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        assert not (tmp_path / out).exists()
    result = subprocess.run([sys.executable, "-m", "netspec.cli", "export", "seq.net", "-o", "m.onnx",
                             "--sequence-length", "6"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "length 6 fixed" in result.stderr, result.stderr


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


def test_predict_refuses_a_sequence_shorter_than_min_length(tmp_path):
    model_file = tmp_path / "min_length.onnx"
    model_file.write_bytes(to_onnx(with_min_length(CONV1D, 4)).SerializeToString())
    csv_file = tmp_path / "s.csv"
    csv_file.write_text("1,2,3\n" * 3)
    result = subprocess.run([sys.executable, "-m", "netspec.cli", "predict", str(model_file), str(csv_file)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "error[D015]" in result.stderr and "MinLength is 4" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("length, steps, words", [(4, 5, "exactly 4 time steps"), (None, 1, "cannot take")],
                         ids=["fixed-length-model", "too-short-for-a-layer"])
def test_predict_refuses_a_length_an_onnx_model_cannot_take(tmp_path, length, steps, words):
    """A model whose input has a fixed number of time steps (from another exporter) takes only
    that many; a valid convolution needs its window."""
    proto = to_onnx(network_of("strided"))
    if length is not None:
        time = proto.graph.input[0].type.tensor_type.shape.dim[2]
        time.Clear()
        time.dim_value = length
    model_file, csv_file = tmp_path / "model.onnx", tmp_path / "s.csv"
    model_file.write_bytes(proto.SerializeToString())
    csv_file.write_text("1,2,3\n" * steps)
    result = subprocess.run([sys.executable, "-m", "netspec.cli", "predict", str(model_file), str(csv_file)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "error[P005]" in result.stderr and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_trained_recurrent_network_predicts_the_same_through_onnx_as_through_pytorch(tmp_path):
    """train -> export --weights -> predict: the ONNX model, run without torch, gives the run's
    classes and probabilities for every case of a .ts file (sequences of 4 to 30 steps)."""
    spec = tmp_path / "tiny.net"
    spec.write_text("layers = [sequenceInputLayer(3)\n bilstmLayer(8,'OutputMode','last')\n fullyConnectedLayer(2)\n"
                    " softmaxLayer\n classificationLayer];\n"
                    "options = trainingOptions('adam','MaxEpochs',3,'MiniBatchSize',8,'Verbose',false);\n")
    rng = np.random.default_rng(2)
    for part, count in (("TRAIN", 24), ("TEST", 10)):
        labels = ["up", "down"] * (count // 2)
        sequences = [np.cumsum(rng.normal(0.5 if label == "up" else -0.5, 1, size=(int(rng.integers(4, 31)),
                                                                                   CHANNELS)), axis=0)
                     for label in labels]
        write_ts(tmp_path / f"tiny_{part}.ts", sequences, labels)
    run, model_file, test = tmp_path / "run", tmp_path / "tiny.onnx", tmp_path / "tiny_TEST.ts"
    netspec_cli = [sys.executable, "-m", "netspec.cli"]
    for command in (["train", str(spec), "--data", str(tmp_path / "tiny_TRAIN.ts"), "--out", str(run), "--quiet"],
                    ["export", str(spec), "--weights", str(run), "-o", str(model_file)]):
        result = subprocess.run(netspec_cli + command, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    via_torch = subprocess.run(netspec_cli + ["predict", str(run), "--json", str(test)], capture_output=True,
                               text=True, timeout=600)
    via_onnx = subprocess.run([sys.executable, "-c", NO_TORCH, str(model_file), str(test), "--json"],
                              capture_output=True, text=True, timeout=600)
    assert via_torch.returncode == 0 and via_onnx.returncode == 0, via_torch.stderr + via_onnx.stderr
    torch_rows, onnx_rows = json.loads(via_torch.stdout), json.loads(via_onnx.stdout)
    assert [r["image"] for r in onnx_rows] == [r["image"] for r in torch_rows] and len(onnx_rows) == 10
    assert [r["class"] for r in onnx_rows] == [r["class"] for r in torch_rows]
    assert all(abs(a["probability"] - b["probability"]) < 1e-4 for a, b in zip(onnx_rows, torch_rows))
    assert {r["class"] for r in onnx_rows} == {"up", "down"}  # it learned something: not one class for all
