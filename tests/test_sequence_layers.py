"""Sequence networks: the time axis (symbolic T, 'MinLength', --sequence-length) and the recurrent
layers (lstmLayer, bilstmLayer, gruLayer) in the IR, the analysis and the PyTorch lowering.

The truths are independent of netspec's own formulas: MATLAB's documented learnable sizes
(lstmLayer(100) on 12 features: 4·100·(12 + 100 + 1) = 45,200), `sum(p.numel())` of the lowered
module, its forward shapes, FlopCounterMode, and a numpy implementation of MATLAB's equations
(its documentation pages' gate formulas) run on weights given in the spec in MATLAB's layout.

FlopCounterMode and recurrent layers: on the CPU torch runs an LSTM through oneDNN's fused kernel
(`mkldnn_rnn_layer`), one op FlopCounterMode has no formula for, so it counts 0; with oneDNN off
(`native_kernels`) torch's own kernel runs the input and recurrent matrix products, which it counts.
netspec's torch convention is that count. A GRU always runs the native kernel on the CPU.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
from torch.utils.flop_counter import FlopCounterMode

from netspec.analysis import analyze
from netspec.analysis.report import to_json
from netspec.backends.torch import Recurrent, to_torch
from netspec.diagnostics import NetspecError
from netspec.language import load_source

ROOT = Path(__file__).parents[1]
T = sympy.Symbol("T", positive=True, integer=True)
RNG = np.random.default_rng(15)


@contextlib.contextmanager
def native_kernels():
    """torch's own CPU kernels (not oneDNN's fused LSTM), whose matrix products FlopCounterMode sees."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags' note about oneDNN TF32 on Intel GPUs
        with torch.backends.mkldnn.flags(enabled=False):
            yield


def network(*layers: str, channels: int = 12, length: str = ""):
    body = "\n".join(layers)
    text = f"layers = [sequenceInputLayer({channels}{length})\n{body}];\n"
    return load_source(text, "seq.net").network


def layer_row(analysis, index: int = 1):
    return analysis.layers[index]


# -- learnables and states: MATLAB's documented sizes, and the lowered module's numel ----------------

@pytest.mark.parametrize("layer, learnables, states", [
    ("lstmLayer(100)", 4 * 100 * (12 + 100 + 1), 2 * 100),  # 45,200: InputWeights 4H×C, RecurrentWeights 4H×H, Bias 4H
    ("bilstmLayer(100)", 8 * 100 * (12 + 100 + 1), 4 * 100),  # 90,400: 8H×C, 8H×H, 8H×1
    ("gruLayer(100)", 3 * 100 * (12 + 100 + 1), 100),  # 33,900: 3H×C, 3H×H, 3H×1
    ("gruLayer(100,'ResetGateMode','before-multiplication')", 33_900, 100),
    ("gruLayer(100,'ResetGateMode','recurrent-bias-after-multiplication')", 3 * 100 * (12 + 100) + 6 * 100, 100),
])
def test_learnables_are_matlabs_and_the_lowered_modules(layer, learnables, states):
    net = network(layer, length=",'MinLength',7")
    row = layer_row(analyze(net))
    assert (row.learnables, row.states) == (learnables, states)
    module = to_torch(net).layers[net.layers[1].name]
    assert sum(p.numel() for p in module.parameters() if p.requires_grad) == learnables
    assert sum(p.numel() for p in module.parameters()) == learnables  # the fixed-zero biases are buffers
    assert sum(b.numel() for name, b in module.named_buffers() if name in ("h0", "c0")) == states
    for name, buffer in module.named_buffers():
        if "bias_hh" in name:
            assert not buffer.any() and "recurrent-bias" not in layer, name


def test_japanese_vowels_specs_analyze_as_documented():
    bilstm = analyze(load_source((ROOT / "specs/japanese_vowels_bilstm.net").read_text(), "jv.net").network)
    assert not bilstm.has_errors
    assert bilstm.totals.learnables == 90_400 + 200 * 9 + 9 == 92_209
    assert bilstm.totals.states == 400
    assert [row.output_shapes for row in bilstm.layers[:3]] == [["T×12"], ["200"], ["9"]]
    assert sympy.sympify(bilstm.totals.macs, locals={"T": T}) == 8 * 100 * (12 + 100) * T + 200 * 9
    gru = analyze(load_source((ROOT / "specs/japanese_vowels_gru.net").read_text(), "jv.net").network,
                  sequence_length=29)
    assert (gru.totals.learnables, gru.totals.states, gru.totals.macs) == (34_809, 100, 33_600 * 29 + 900)
    assert gru.network and bilstm.layers[1].receptive_field.is_global


# -- shapes: symbolic T, MinLength, --sequence-length; forward shapes for T in {1, 7, 29} -------------

LAYERS = [
    "convolution1dLayer(3,8,'Padding','same')\nlstmLayer(16)\nfullyConnectedLayer(5)",
    "bilstmLayer(10,'OutputMode','last')\nfullyConnectedLayer(9)\nsoftmaxLayer",
    "gruLayer(6,'ResetGateMode','before-multiplication')\ngruLayer(4,'OutputMode','last')",
    "lstmLayer(5,'StateActivationFunction','softsign','GateActivationFunction','hard-sigmoid')\n"
    "bilstmLayer(3,'StateActivationFunction','relu')\nglobalAveragePooling1dLayer",
]


@pytest.mark.parametrize("layers", LAYERS)
@pytest.mark.parametrize("length", [1, 7, 29])
def test_forward_shapes_are_the_analyzers(layers, length):
    net = network(layers, channels=3)
    analysis = analyze(net, sequence_length=length)
    assert not analysis.has_errors, analysis.diagnostics
    model = to_torch(net).eval()
    values = model.run(torch.randn(2, 3, length), capture={name for name, _ in model.plan})
    for row in analysis.layers[1:]:
        dims = row.output_dims[0]
        torch_dims = (dims[1], dims[0]) if len(dims) == 2 else tuple(dims)
        assert tuple(values[row.name].shape) == (2, *torch_dims), row.name


def test_time_is_symbolic_unless_fixed():
    net = network("convolution1dLayer(3,8)\nlstmLayer(16)\nlstmLayer(4,'OutputMode','last')")
    symbolic = analyze(net)
    assert [row.output_shapes[0] for row in symbolic.layers] == ["T×12", "(T - 2)×8", "(T - 2)×16", "4"]
    assert symbolic.layers[2].output_dims == [["T - 2", 16]]
    macs = sympy.sympify(symbolic.layers[2].macs, locals={"T": T})
    assert macs == (T - 2) * 4 * 16 * (8 + 16)
    assert json.loads(to_json(symbolic))["totals"]["macs"] == symbolic.totals.macs  # formulas are JSON text
    fixed = analyze(net, sequence_length=10)
    assert fixed.layers[2].macs == macs.subs(T, 10) == 8 * 4 * 16 * 24
    assert fixed.layers[2].activation_bytes == 8 * 16 * 4
    minimum = analyze(network("lstmLayer(16)", length=",'MinLength',20"))
    assert minimum.layers[0].output_shapes == ["20×12"]
    assert analyze(network("lstmLayer(16)", length=",'MinLength',20"), sequence_length=3).layers[1].output_dims \
        == [[3, 16]]


def test_a_window_longer_than_a_fixed_sequence_is_an_error_but_not_with_symbolic_t():
    net = network("convolution1dLayer(5,4)")
    assert not analyze(net).has_errors  # T is any length
    assert {d.code for d in analyze(net, sequence_length=3).diagnostics} == {"A102", "A006"}


def test_compound_dims_are_parenthesized_in_shape_strings():
    net = load_source("layers = [imageInputLayer([H W 3])\nconvolution2dLayer(3,8)];\n", "img.net").network
    assert analyze(net).layers[1].output_shapes == ["(H - 2)×(W - 2)×8"]


def test_receptive_field_along_time_then_global_after_a_recurrent_layer():
    analysis = analyze(network("convolution1dLayer(3,4)\nconvolution1dLayer(5,4,'DilationFactor',2)\n"
                               "bilstmLayer(4)\nfullyConnectedLayer(2)"))
    fields = [row.receptive_field for row in analysis.layers]
    assert [f.axes[0].size for f in fields[:3]] == [1, 3, 3 + 4 * 2]
    assert fields[3].is_global and fields[4].is_global


# -- costs: MACs per sequence, FlopCounterMode ---------------------------------------------------------

@pytest.mark.parametrize("layer", [
    "lstmLayer(20)", "bilstmLayer(20,'OutputMode','last')", "gruLayer(20)",
    "gruLayer(20,'ResetGateMode','before-multiplication')",
    "gruLayer(20,'ResetGateMode','recurrent-bias-after-multiplication','OutputMode','last')",
    "lstmLayer(20,'GateActivationFunction','hard-sigmoid')", "bilstmLayer(20,'StateActivationFunction','softsign')",
])
@pytest.mark.parametrize("length", [1, 7, 29])
def test_torch_convention_is_flop_counter_mode(layer, length):
    net = network(layer, "fullyConnectedLayer(3)")
    analysis = analyze(net, sequence_length=length)
    model = to_torch(net).eval()
    with torch.no_grad(), native_kernels(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 12, length))
    assert counter.get_total_flops() == analysis.totals.torch_flops == 2 * analysis.totals.macs
    gates = 3 if "gru" in layer else 4
    directions = 2 if "bilstm" in layer else 1
    assert analysis.layers[1].macs == length * directions * gates * 20 * (12 + 20)


def test_a_gru_is_counted_without_turning_anything_off():
    net = network("gruLayer(16)")
    model = to_torch(net).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 12, 9))
    assert counter.get_total_flops() == analyze(net, sequence_length=9).totals.torch_flops == 2 * 9 * 3 * 16 * 28


# -- MATLAB's equations, in numpy, against the lowered module on given weights --------------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0, 1)


def softsign(x):
    return x / (1 + np.abs(x))


STATE = {"tanh": np.tanh, "softsign": softsign, "relu": lambda x: np.maximum(x, 0)}
GATE = {"sigmoid": sigmoid, "hard-sigmoid": hard_sigmoid}


def matlab_lstm(x, w, r, b, hidden, state="tanh", gate="sigmoid", reverse=False):
    """lstmLayer's documented step: gates [i; f; g; o] = W x + R h + b; c = f⊙c + i⊙g; h = o⊙σs(c)."""
    h, c = np.zeros(hidden), np.zeros(hidden)
    out = np.zeros((x.shape[0], hidden))
    for t in (range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])):
        z = w @ x[t] + r @ h + b
        i, f, g, o = np.split(z, 4)
        c = GATE[gate](f) * c + GATE[gate](i) * STATE[state](g)
        h = GATE[gate](o) * STATE[state](c)
        out[t] = h
    return out


def matlab_gru(x, w, r, b, hidden, mode):
    """gruLayer's documented step for each ResetGateMode: gates [r; z; h̃], h = (1 - z)⊙h̃ + z⊙h."""
    h = np.zeros(hidden)
    out = np.zeros((x.shape[0], hidden))
    b_w, b_r = (b[:3 * hidden], b[3 * hidden:]) if mode == "recurrent-bias-after-multiplication" \
        else (b, np.zeros(3 * hidden))
    w_r, w_z, w_h = np.split(w, 3)
    r_r, r_z, r_h = np.split(r, 3)
    (bw_r, bw_z, bw_h), (br_r, br_z, br_h) = np.split(b_w, 3), np.split(b_r, 3)
    for t in range(x.shape[0]):
        reset = sigmoid(w_r @ x[t] + bw_r + r_r @ h + br_r)
        update = sigmoid(w_z @ x[t] + bw_z + r_z @ h + br_z)
        if mode == "before-multiplication":
            candidate = np.tanh(w_h @ x[t] + bw_h + r_h @ (reset * h))
        else:
            candidate = np.tanh(w_h @ x[t] + bw_h + reset * (r_h @ h + br_h))
        h = (1 - update) * candidate + update * h
        out[t] = h
    return out


def literal(array: np.ndarray) -> str:
    rows = "; ".join(" ".join(repr(float(v)) for v in row) for row in np.atleast_2d(array))
    return f"[{rows}]"


def given(layer: str, hidden: int, w, r, b, extra: str = "") -> str:
    return (f"{layer}({hidden},'InputWeights',{literal(w)},'RecurrentWeights',{literal(r)},"
            f"'Bias',{literal(b.reshape(-1, 1))}{extra})")


def run(layer_text: str, x: np.ndarray) -> np.ndarray:
    """The lowered network's output for one T×C sequence, as T×channels (or the 'last' vector)."""
    net = network(layer_text, channels=x.shape[1])
    with torch.no_grad():
        y = to_torch(net).eval()(torch.tensor(x.T[None], dtype=torch.float32))[0].numpy()
    return y.T if y.ndim == 2 else y


@pytest.mark.parametrize("state, gate", [("tanh", "sigmoid"), ("softsign", "hard-sigmoid"), ("relu", "sigmoid")])
def test_lstm_is_matlabs_lstm(state, gate):
    hidden, channels = 3, 2
    x = RNG.normal(size=(6, channels))
    w, r, b = RNG.normal(size=(4 * hidden, channels)), RNG.normal(size=(4 * hidden, hidden)), RNG.normal(size=4 * hidden)
    text = given("lstmLayer", hidden, w, r, b,
                 f",'StateActivationFunction','{state}','GateActivationFunction','{gate}'")
    np.testing.assert_allclose(run(text, x), matlab_lstm(x, w, r, b, hidden, state, gate), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("state", ["tanh", "softsign"])  # the fused kernel, and the step-by-step one
def test_bilstm_stacks_forward_then_backward_and_last_is_the_last_step(state):
    hidden, channels = 2, 3
    x = RNG.normal(size=(5, channels))
    w, r, b = RNG.normal(size=(8 * hidden, channels)), RNG.normal(size=(8 * hidden, hidden)), RNG.normal(size=8 * hidden)
    forward = matlab_lstm(x, w[:4 * hidden], r[:4 * hidden], b[:4 * hidden], hidden, state)
    backward = matlab_lstm(x, w[4 * hidden:], r[4 * hidden:], b[4 * hidden:], hidden, state, reverse=True)
    expected = np.concatenate([forward, backward], 1)
    text = given("bilstmLayer", hidden, w, r, b, f",'StateActivationFunction','{state}'")
    np.testing.assert_allclose(run(text, x), expected, rtol=1e-4, atol=1e-5)
    last = text[:-1] + ",'OutputMode','last')"
    np.testing.assert_allclose(run(last, x), expected[-1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["after-multiplication", "before-multiplication",
                                  "recurrent-bias-after-multiplication"])
def test_gru_is_matlabs_gru_in_every_reset_gate_mode(mode):
    hidden, channels = 3, 2
    x = RNG.normal(size=(6, channels))
    biases = 6 if mode == "recurrent-bias-after-multiplication" else 3
    w, r, b = RNG.normal(size=(3 * hidden, channels)), RNG.normal(size=(3 * hidden, hidden)), \
        RNG.normal(size=biases * hidden)
    text = given("gruLayer", hidden, w, r, b, f",'ResetGateMode','{mode}'")
    np.testing.assert_allclose(run(text, x), matlab_gru(x, w, r, b, hidden, mode), rtol=1e-4, atol=1e-5)


def test_given_initial_states_start_the_recurrence():
    hidden = 2
    h0, c0 = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    net = network(f"lstmLayer({hidden},'HiddenState',{literal(h0.reshape(-1, 1))},"
                  f"'CellState',{literal(c0.reshape(-1, 1))})", channels=1)
    module = to_torch(net).layers[net.layers[1].name]
    assert module.h0.flatten().tolist() == h0.tolist() and module.c0.flatten().tolist() == c0.tolist()
    x = torch.zeros(1, 1, 1)
    weights = module.core.weight_hh_l0.detach().numpy()
    gates = weights @ h0 + module.core.bias_ih_l0.detach().numpy()
    i, f, g, o = np.split(gates, 4)
    expected = sigmoid(o) * np.tanh(sigmoid(f) * c0 + sigmoid(i) * np.tanh(g))
    np.testing.assert_allclose(module(x)[0, :, 0].detach().numpy(), expected, rtol=1e-5)


# -- MATLAB's initializers -------------------------------------------------------------------------------

def test_initializers_are_matlabs():
    hidden, channels = 50, 12
    module = to_torch(network(f"bilstmLayer({hidden})")).layers["bilstm"]
    core = module.core
    bound = np.sqrt(6 / (channels + 8 * hidden))  # glorot: numOut = 8·NumHiddenUnits for bilstmLayer
    for weight in (core.weight_ih_l0, core.weight_ih_l0_reverse):
        assert weight.abs().max() <= bound and weight.abs().max() > 0.9 * bound
    stacked = torch.cat([core.weight_hh_l0, core.weight_hh_l0_reverse]).detach()  # 8H×H, orthogonal columns
    torch.testing.assert_close(stacked.T @ stacked, torch.eye(hidden), atol=1e-5, rtol=0)
    forget = torch.zeros(4 * hidden)
    forget[hidden:2 * hidden] = 1  # 'unit-forget-gate'
    for bias in (core.bias_ih_l0, core.bias_ih_l0_reverse):
        assert torch.equal(bias.detach(), forget)
    gru = to_torch(network("gruLayer(8,'BiasInitializer','ones','InputWeightsInitializer','zeros')")).layers["gru"]
    assert torch.equal(gru.core.bias_ih_l0.detach(), torch.ones(24)) and not gru.core.weight_ih_l0.any()


def test_the_fused_and_step_kernels_agree():
    module = Recurrent("lstm", 3, 4, bidirectional=True).eval()
    x = torch.randn(2, 3, 9)
    fused = module(x)
    module.fused = False
    torch.testing.assert_close(module(x), fused, rtol=1e-5, atol=1e-6)


# -- mistakes ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, code, words", [
    ("lstmLayer(4,'HasStateInputs',true)", "E206", "state ports"),
    ("gruLayer(4,'HasStateOutputs',1)", "E206", "HasStateOutputs"),
    ("lstmLayer(4,'InputWeightsLearnRateFactor',[1 2 3])", "E206", "1-by-4"),
    ("gruLayer(4,'ResetGateMode','sideways')", "E206", "ResetGateMode"),
    ("lstmLayer(4,'StateActivationFunction','sigmoid')", "E206", "StateActivationFunction"),
])
def test_options_matlab_refuses_are_refused_where_given(text, code, words):
    with pytest.raises(NetspecError) as caught:
        load_source(f"layers = [sequenceInputLayer(3)\n{text}];\n", "bad.net")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == code and words in diagnostic.message
    assert diagnostic.span.line == 2


@pytest.mark.parametrize("text, code", [
    ("layers = [imageInputLayer([8 8 1])\nlstmLayer(4)];", "A104"),
    ("layers = [sequenceInputLayer(3)\nlstmLayer(4,'InputSize',5)];", "A105"),
    ("layers = [sequenceInputLayer(3)\ngruLayer(2,'InputWeights',ones(6,4))];", "A106"),
    ("layers = [sequenceInputLayer(3)\nbilstmLayer(2,'HiddenState',zeros(2,1))];", "A106"),
])
def test_shape_mistakes_are_located(text, code):
    analysis = analyze(load_source(text + "\n", "bad.net").network)
    assert code in [d.code for d in analysis.diagnostics]


def test_cli_sequence_length():
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "netspec", *args], capture_output=True, text=True, cwd=ROOT)

    symbolic = json.loads(cli("analyze", "specs/japanese_vowels_bilstm.net", "--format", "json").stdout)
    assert symbolic["totals"]["macs"] == "89600*T + 1800" and symbolic["sequence_length"] is None
    fixed = cli("analyze", "specs/japanese_vowels_bilstm.net", "--sequence-length", "29", "--format", "json")
    assert json.loads(fixed.stdout)["totals"]["macs"] == 89_600 * 29 + 1_800
    table = cli("analyze", "specs/japanese_vowels_bilstm.net", "--sequence-length", "7")
    assert "7×12" in table.stdout and "per sequence" in table.stdout
    assert ",627200," in cli("analyze", "specs/japanese_vowels_bilstm.net", "--sequence-length", "7",
                            "--format", "csv").stdout
    drawing = cli("graph", "specs/japanese_vowels_bilstm.net", "--sequence-length", "7").stdout
    assert "BiLSTM 100, last" in drawing and "7×12" in drawing
    refused = cli("analyze", "specs/japanese_vowels_bilstm.net", "--sequence-length", "0")
    assert refused.returncode == 2 and "positive whole number" in refused.stderr


def test_the_pytorch_source_export_runs_recurrent_layers():
    from netspec.backends.pytorch_source import to_source

    net = network("bilstmLayer(5,'StateActivationFunction','softsign')\n"
                  "gruLayer(4,'ResetGateMode','recurrent-bias-after-multiplication','OutputMode','last')\n"
                  "fullyConnectedLayer(2)", channels=3)
    model = to_torch(net, seed=3).eval()
    namespace: dict = {}
    exec(compile(to_source(net), "generated.py", "exec"), namespace)
    generated = namespace["Net"]().eval()
    generated.load_state_dict(model.state_dict())  # the same keys, the fixed-zero biases included
    x = torch.randn(2, 3, 11)
    with torch.no_grad():
        assert torch.equal(generated(x), model(x))


def test_training_takes_each_learnables_factors():
    from netspec.train.loop import training_factors

    net = network("lstmLayer(4,'InputWeightsLearnRateFactor',2,'RecurrentWeightsL2Factor',0.5,"
                  "'BiasLearnRateFactor',[3 3 3 3])\ngruLayer(2,'InputWeightsL2Factor',[1 2 1])")
    lstm, gru = net.layers[1], net.layers[2]
    module = to_torch(net).layers["lstm"]
    factors = {name: training_factors(lstm, name) for name, _ in module.named_parameters()}
    assert factors == {"core.weight_ih_l0": (2.0, 1.0), "core.weight_hh_l0": (1.0, 0.5), "core.bias_ih_l0": (3.0, 0.0)}
    with pytest.raises(NetspecError) as caught:
        training_factors(gru, "core.weight_ih_l0")
    assert caught.value.diagnostics[0].code == "R007" and "InputWeightsL2Factor" in caught.value.diagnostics[0].message


@pytest.mark.parametrize("layer", ["convolution1dLayer(4,3,'Stride',3,'Padding','same','DilationFactor',2)",
                                   "maxPooling1dLayer(3,'Stride',2,'Padding','same')",
                                   "averagePooling1dLayer(2,'Stride',3,'Padding','same')"])
def test_strided_same_windows_take_any_length(layer):
    """MATLAB's 'same' with a stride pads by the length; over the symbol T the module works it out per
    sequence, and equals the module built for that fixed length."""
    open_ended = to_torch(network(layer, channels=2), seed=1).eval()
    for length in (1, 7, 29, 30):
        fixed_net = network(layer, channels=2, length=f",'MinLength',{length}")
        fixed = to_torch(fixed_net, seed=1).eval()
        x = torch.randn(2, 2, length)
        expected = analyze(fixed_net).layers[1].output_dims[0]
        with torch.no_grad():
            y = open_ended(x)
            assert tuple(y.shape) == (2, expected[1], expected[0])
            torch.testing.assert_close(y, fixed(x))


def test_branches_a_constant_apart_in_t_cannot_be_added():
    """T - 2 steps and T steps differ whatever T is: A103, as with numbers; T and T add."""
    text = ("layers = [sequenceInputLayer(3,'Name','in')\nconvolution1dLayer(3,3,'Name','c')\n"
            "additionLayer(2,'Name','add')];\nlgraph = layerGraph(layers);\n"
            "lgraph = connectLayers(lgraph, 'in', 'add/in2');\n")
    codes = {d.code for d in analyze(load_source(text, "add.net").network).diagnostics}
    assert "A103" in codes
    same = text.replace("convolution1dLayer(3,3,'Name','c')", "convolution1dLayer(3,3,'Padding','same','Name','c')")
    assert "A103" not in {d.code for d in analyze(load_source(same, "add.net").network).diagnostics}


def test_training_memory_counts_what_a_recurrent_layer_keeps_at_every_step():
    """adam, batch 27, 29 steps: the BiLSTM keeps what oneDNN keeps at every step
    (`netspec.ir.recurrent_saved`), the classifier the whole output sequence its last step views;
    the estimate is within 1% of the measured training step (each rule exactly:
    tests/train/test_training_memory.py)."""
    from netspec.analysis.memory import at_batch
    from netspec.train.memory import measure_training_memory

    spec = (ROOT / "specs/japanese_vowels_bilstm.net").read_text()
    bilstm = analyze(load_source(spec, "jv.net").network, sequence_length=29)
    assert bilstm.totals.activation_bytes == (29 * 12 + 200 + 9 + 9) * 4
    fixed = load_source(spec.replace("sequenceInputLayer(inputSize)", "sequenceInputLayer(inputSize,'MinLength',29)"),
                        "jv.net").network
    memory = at_batch(bilstm.totals.training_memory, 27)
    assert memory == at_batch(analyze(fixed).totals.training_memory, 27)
    assert abs(memory.total_bytes / measure_training_memory(fixed, 27).total - 1) < 0.01