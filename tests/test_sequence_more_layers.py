"""The sequence layers other than the recurrent ones (issue 15): image sequences and their folding,
self-attention, position embeddings and encodings, indexing along time, word embeddings.

The truths they are held to: PyTorch's own parameter counts, forward shapes and FlopCounterMode
on the lowered module at fixed lengths T; MATLAB's definitions written out here in numpy from
MATLAB-layout weights the spec gives (attention, embeddings), or PyTorch's reference operators
(scaled_dot_product_attention, conv2d applied step by step); and the sizes MATLAB's documentation
gives for each learnable.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

import netspec
from netspec.analysis import analyze
from netspec.backends.pytorch_source import to_source
from netspec.backends.torch import module_name, to_torch
from netspec.diagnostics import NetspecError
from netspec.ir import IMAGE_SEQUENCE, Network, SequenceInputLayer, TrainingOptions
from netspec.language import load_source
from netspec.train.loop import _parameter_groups

SPECS = Path(__file__).resolve().parents[1] / "specs"
T = sympy.Symbol("T", positive=True, integer=True)


def formula(text) -> sympy.Expr:
    """A count the analysis reports as text, read back with its T."""
    return sympy.sympify(text, locals={"T": T})


def codes(analysis) -> set[str]:
    return {diagnostic.code for diagnostic in analysis.diagnostics}


def network(text: str) -> Network:
    return load_source(text, "t.net").network


def at_length(net: Network, steps: int) -> Network:
    """The network with its sequence input analyzed and lowered at `steps` time steps."""
    layers = [layer.model_copy(update={"min_length": steps}) if isinstance(layer, SequenceInputLayer) else layer
              for layer in net.layers]
    return net.model_copy(update={"layers": layers})


def reports(net: Network, **options) -> dict:
    analysis = analyze(net, **options)
    assert not analysis.has_errors, analysis.diagnostics
    return {layer.name: layer for layer in analysis.layers}


def sample(net: Network, batch: int = 1) -> torch.Tensor:
    """Random data for the network's one input, in torch's layout (N, C, T) / (N, C, T, H, W)."""
    (shape,) = [layer.output_shapes([])[0] for layer in net.layers if isinstance(layer, SequenceInputLayer)]
    return torch.randn(batch, *shape.kind.torch_order(shape.dims))


def flop_count(model, x: torch.Tensor) -> tuple[int, dict]:
    """FlopCounterMode's count, on torch's own CPU kernels (oneDNN's fused LSTM is one op it has no
    formula for)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags' note about oneDNN on other devices
        with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False), FlopCounterMode(display=False) as counter:
            model(x)
    return counter.get_total_flops(), counter.get_flop_counts()


def assert_matches_torch(net: Network, steps: int) -> None:
    """At `steps` time steps: parameters = learnables, every layer's forward shape = the analyzer's,
    FlopCounterMode = the analyzer's torch FLOPs, in total and per layer."""
    net = at_length(net, steps)
    analysis = analyze(net)
    assert not analysis.has_errors, analysis.diagnostics
    model = to_torch(net).eval()
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.learnables
    x = sample(net, batch=2)
    with torch.no_grad():
        values = model.run(x, capture={name for name, _ in model.plan})
    for report in analysis.layers:
        if report.output_dims:
            dims = report.output_dims[0]
            assert tuple(values[report.name].shape[1:]) == (dims[-1], *dims[:-1]), report.name
    total, counts = flop_count(model, x[:1])
    assert total == analysis.totals.torch_flops == 2 * analysis.totals.macs
    for report in analysis.layers:
        counted = sum(counts.get(f"GraphModule.layers.{module_name(report.name)}", {}).values())
        assert counted == report.torch_flops, report.name


def matlab_array(array: np.ndarray) -> str:
    """A MATLAB expression for `array` (any rank), column-major as MATLAB stores it."""
    values = " ".join(repr(float(v)) for v in array.reshape(-1, order="F"))
    sizes = " ".join(str(d) for d in array.shape)
    return f"reshape([{values}], [{sizes}])"


# -- image sequences, folding and unfolding -------------------------------------------------------------

FOLDED = """
layers = [sequenceInputLayer([12 10 3], 'Name', 'in', 'MinLength', {steps})
    sequenceFoldingLayer('Name', 'fold')
    convolution2dLayer(3, 4, 'Padding', 'same', 'Stride', 2, 'Name', 'conv')
    batchNormalizationLayer('Name', 'bn')
    reluLayer('Name', 'relu')
    maxPooling2dLayer(2, 'Name', 'pool')
    sequenceUnfoldingLayer('Name', 'unfold')
    flattenLayer('Name', 'flatten')
    fullyConnectedLayer(5, 'Name', 'fc')];
lgraph = layerGraph(layers);
lgraph = connectLayers(lgraph, 'fold/miniBatchSize', 'unfold/miniBatchSize');
"""


def test_image_sequence_input_is_t_h_w_c_with_image_normalization():
    layer = network("layers = sequenceInputLayer([28 28 1], 'Normalization', 'zscore', 'Mean', 2, "
                    "'StandardDeviation', 4);").layers[0]
    assert layer.input_size == (28, 28, 1) and layer.normalization == "zscore"
    (shape,) = layer.output_shapes([])
    assert shape.kind is IMAGE_SEQUENCE and shape.dims == (T, 28, 28, 1) and str(shape) == "T×28×28×1"
    assert network("layers = sequenceInputLayer([5]);").layers[0].input_size == 5
    model = to_torch(network("layers = [sequenceInputLayer([4 3 2], 'Normalization', 'zscore', 'Mean', 2, "
                             "'StandardDeviation', 4, 'MinLength', 3) reluLayer];")).eval()
    x = torch.randn(2, 2, 3, 4, 3)
    with torch.no_grad():
        torch.testing.assert_close(model.run(x, capture={"sequenceinput"})["sequenceinput"], (x - 2) / 4)


def test_folded_layers_count_every_step_with_symbolic_and_fixed_t():
    symbolic = reports(network(FOLDED.format(steps=1)), input_size=("T", 12, 10, 3))
    per_step = 6 * 5 * 4 * 3 * 3 * 3  # 6×5×4 outputs of a 3×3×3 window
    assert symbolic["conv"].macs == str(per_step * T) and symbolic["conv"].output_shapes == ["6×5×4 (T images)"]
    assert symbolic["fold"].output_shapes == ["12×10×3 (T images)", "[T]"]
    assert symbolic["unfold"].output_shapes == ["T×5×4×4"] and symbolic["flatten"].output_shapes == ["T×80"]
    assert symbolic["fc"].macs == str(80 * 5 * T) and symbolic["fc"].learnables == 80 * 5 + 5
    assert symbolic["bn"].learnables == 8 and symbolic["bn"].states == 8
    for steps in (1, 7, 29):
        fixed = reports(network(FOLDED.format(steps=steps)))
        assert fixed["conv"].macs == per_step * steps and fixed["conv"].activation_elements == 6 * 5 * 4 * steps
        assert_matches_torch(network(FOLDED.format(steps=steps)), steps)


def test_folding_acts_on_each_step_alone_and_unfolding_restores_the_sequence():
    net = network(FOLDED.format(steps=7))
    model = to_torch(net).eval()
    x = torch.randn(2, 3, 7, 12, 10)
    with torch.no_grad():
        values = model.run(x, capture={"fold", "fold/miniBatchSize", "conv", "unfold"})
        assert torch.equal(values["fold/miniBatchSize"], torch.full((2, 7), 7.0))  # each sample's T, per step
        conv = model.layers["conv"]
        per_step = torch.stack([conv(x[:, :, t]) for t in range(7)], dim=2)  # the convolution, step by step
        by_sample = values["conv"].unflatten(0, (2, 7)).transpose(1, 2)
        torch.testing.assert_close(by_sample, per_step)
        identity = to_torch(network(
            "layers = [sequenceInputLayer([4 3 2], 'MinLength', 5, 'Name', 'in') sequenceFoldingLayer('Name', 'f') "
            "sequenceUnfoldingLayer('Name', 'u')];\nlgraph = layerGraph(layers);\n"
            "lgraph = connectLayers(lgraph, 'f/miniBatchSize', 'u/miniBatchSize');")).eval()
        y = torch.randn(3, 2, 5, 4, 3)
        assert torch.equal(identity(y), y)


def test_flatten_on_an_image_sequence_keeps_time_and_fc_reads_each_step_whole():
    text = "layers = [sequenceInputLayer([4 3 2], 'MinLength', 6) flattenLayer('Name', 'flat') " \
           "fullyConnectedLayer(7, 'Name', 'fc')];"
    found = reports(network(text))
    assert found["flat"].output_shapes == ["6×24"] and found["fc"].learnables == 24 * 7 + 7
    direct = reports(network(text.replace("flattenLayer('Name', 'flat') ", "")))
    assert direct["fc"].output_shapes == ["6×7"] and direct["fc"].macs == 6 * 24 * 7
    assert_matches_torch(network(text), 6)
    assert_matches_torch(network(text.replace("flattenLayer('Name', 'flat') ", "")), 6)


def test_unfolded_receptive_field_is_the_images_field_and_one_step():
    found = reports(network(FOLDED.format(steps=9)))
    assert [(a.size, a.jump) for a in found["conv"].receptive_field.axes] == [(3, "2"), (3, "2")]
    unfolded = found["unfold"].receptive_field.axes
    assert [(a.size, a.jump) for a in unfolded] == [(1, "1"), (5, "2"), (5, "2")]
    assert [(a.size, a.jump) for a in found["flatten"].receptive_field.axes] == [(1, "1")]


def test_unfolding_what_was_not_folded_is_a107():
    bad = FOLDED.format(steps=4) + "lgraph = disconnectLayers(lgraph, 'pool', 'unfold/in');\n" \
                                   "lgraph = connectLayers(lgraph, 'in', 'unfold/in');\n"
    analysis = analyze(network(bad))
    assert [d.code for d in analysis.diagnostics if d.severity == "error"] == ["A107"]
    missing = analyze(network(FOLDED.format(steps=4).replace(
        "lgraph = connectLayers(lgraph, 'fold/miniBatchSize', 'unfold/miniBatchSize');", "")))
    assert "A003" in [d.code for d in missing.diagnostics]


def test_convolution_on_unfolded_image_sequences_asks_for_the_folding():
    analysis = analyze(network("layers = [sequenceInputLayer([8 8 1]) convolution2dLayer(3, 4)];"))
    assert codes(analysis) == {"A104", "A006"}


# -- the CNN-LSTM example ---------------------------------------------------------------------------------

def test_cnn_lstm_folding_spec():
    net = netspec.load(str(SPECS / "cnn_lstm_folding.net"))
    symbolic = analyze(net, input_size=("T", 28, 28, 1))
    assert not symbolic.has_errors
    # conv 520 + BN 40 + LSTM 4·200·(2,880 + 200 + 1) + fc 2,010; BN's 40 and the LSTM's 400 states
    assert symbolic.totals.learnables == 2_467_370 and symbolic.totals.states == 440
    assert formula(symbolic.totals.macs) == (288_000 + 2_464_000) * T + 2_000
    found = {layer.name: layer for layer in symbolic.layers}
    assert found["pool"].output_shapes == ["12×12×20 (T images)"]
    assert found["flatten"].output_shapes == ["T×2880"] and found["lstm"].output_shapes == ["200"]
    assert found["fold"].output_shapes == ["28×28×1 (T images)", "[T]"]
    for steps in (1, 7):
        assert_matches_torch(net, steps)


# -- self-attention -----------------------------------------------------------------------------------

ATTENTION = "layers = [sequenceInputLayer({channels}, 'MinLength', {steps}, 'Name', 'in') selfAttentionLayer({args}, " \
            "'Name', 'attn')];"


@pytest.mark.parametrize("channels, args, learnables", [
    # MATLAB: query and key weights K×C, value weights V×C, output weights O×V, a bias per row
    (12, "4, 64", 3 * (64 * 12 + 64) + 12 * 64 + 12),
    (12, "2, 8, 'NumValueChannels', 6, 'OutputSize', 5", 2 * (8 * 12 + 8) + (6 * 12 + 6) + 5 * 6 + 5),
    (3136, "4, 784", 4 * 784 * 3136 + 3 * 784 + 3136),  # MATLAB Answers 2179666: 9.8 M
    (3136, "8, 392", 4 * 392 * 3136 + 3 * 392 + 3136),  # ... and 4.9 M
])
def test_attention_learnables_are_matlabs(channels, args, learnables):
    net = network(ATTENTION.format(channels=channels, steps=3, args=args))
    found = reports(net)
    assert found["attn"].learnables == learnables
    assert sum(p.numel() for p in to_torch(net).parameters()) == learnables


@pytest.mark.parametrize("args", ["4, 64", "2, 8, 'NumValueChannels', 6, 'OutputSize', 5, 'AttentionMask', 'causal'",
                                  "1, 12"])
def test_attention_macs_are_a_formula_in_t_and_flop_counter_agrees(args):
    symbolic = reports(network(ATTENTION.format(channels=12, steps=1, args=args)), input_size=("T", 12))
    layer = network(ATTENTION.format(channels=12, steps=1, args=args)).layer("attn")
    keys, values = layer.num_key_channels, layer.value_channels
    out = 12 if layer.output_size == "auto" else layer.output_size
    expected = T * (12 * (2 * keys + values) + values * out) + T**2 * (keys + values)
    assert formula(symbolic["attn"].macs) == expected
    assert symbolic["attn"].receptive_field.is_global
    for steps in (1, 7, 29):
        assert_matches_torch(network(ATTENTION.format(channels=12, steps=steps, args=args)), steps)


def matlab_attention(x: np.ndarray, weights: dict, heads: int, causal: bool) -> np.ndarray:
    """MATLAB's selfAttentionLayer on one C×T observation: Q = Wq·X + bq (K×T) and likewise K and V,
    the rows split into `heads` blocks, head h: V_h·softmax over keys of (K_hᵀ·Q_h)/√(K/heads),
    the heads stacked, then Wo·(...) + bo."""
    q = weights["QueryWeights"] @ x + weights["QueryBias"]
    k = weights["KeyWeights"] @ x + weights["KeyBias"]
    v = weights["ValueWeights"] @ x + weights["ValueBias"]
    steps = x.shape[1]
    outputs = []
    for qh, kh, vh in zip(np.split(q, heads), np.split(k, heads), np.split(v, heads)):
        scores = kh.T @ qh / math.sqrt(qh.shape[0])  # keys × queries
        if causal:
            scores = np.where(np.arange(steps)[:, None] > np.arange(steps)[None, :], -np.inf, scores)
        scores = np.exp(scores - scores.max(axis=0))
        outputs.append(vh @ (scores / scores.sum(axis=0)))
    return weights["OutputWeights"] @ np.concatenate(outputs) + weights["OutputBias"]


@pytest.mark.parametrize("causal", [False, True])
def test_attention_given_matlab_weights_computes_matlabs_attention(causal):
    rng = np.random.default_rng(0)
    channels, heads, keys, values, out, steps = 5, 2, 6, 4, 3, 7
    weights = {"QueryWeights": rng.normal(size=(keys, channels)), "KeyWeights": rng.normal(size=(keys, channels)),
               "ValueWeights": rng.normal(size=(values, channels)), "OutputWeights": rng.normal(size=(out, values)),
               "QueryBias": rng.normal(size=(keys, 1)), "KeyBias": rng.normal(size=(keys, 1)),
               "ValueBias": rng.normal(size=(values, 1)), "OutputBias": rng.normal(size=(out, 1))}
    given = ", ".join(f"'{name}', {matlab_array(value)}" for name, value in weights.items())
    mask = ", 'AttentionMask', 'causal'" if causal else ""
    net = network(f"layers = [sequenceInputLayer({channels}, 'MinLength', {steps}) selfAttentionLayer({heads}, "
                  f"{keys}, 'NumValueChannels', {values}, 'OutputSize', {out}{mask}, {given}, 'Name', 'attn')];")
    model = to_torch(net).eval()
    x = rng.normal(size=(channels, steps))
    with torch.no_grad():
        y = model(torch.tensor(x[None], dtype=torch.float32))[0].double().numpy()
    np.testing.assert_allclose(y, matlab_attention(x, weights, heads, causal), rtol=1e-4, atol=1e-4)
    # and PyTorch's own reference operator on the module's projections agrees
    attention = model.layers["attn"]
    xt = torch.tensor(x.T[None], dtype=torch.float32)
    with torch.no_grad():
        split = [attention.query(xt), attention.key(xt), attention.value(xt)]
        q, k, v = (t.unflatten(2, (heads, -1)).transpose(1, 2) for t in split)
        reference = F.scaled_dot_product_attention(q, k, v, is_causal=causal).transpose(1, 2).flatten(2)
        np.testing.assert_allclose(attention.output(reference)[0].T.numpy(), y, rtol=1e-4, atol=1e-4)


def test_attention_given_weights_of_the_wrong_size_are_a106():
    analysis = analyze(network("layers = [sequenceInputLayer(5) selfAttentionLayer(2, 6, 'QueryWeights', "
                               "zeros(5, 6))];"))
    (error,) = [d for d in analysis.diagnostics if d.severity == "error"]
    assert error.code == "A106" and "QueryWeights' is 5×6, but this layer's QueryWeights are 6×5" in error.message


@pytest.mark.parametrize("options, words", [
    ("'HasScoresOutput', true", "HasScoresOutput"),
    ("'HasPaddingMaskInput', true", "HasPaddingMaskInput"),
    ("'NumValueChannels', 6", "NumValueChannels 6"),
    ("'AttentionMask', 'future'", "AttentionMask"),
])
def test_attention_options_netspec_cannot_honour_are_clear_errors(options, words):
    with pytest.raises(NetspecError) as info:
        network(f"layers = selfAttentionLayer(4, 64, {options});")
    assert info.value.diagnostic.code in ("E206", "E205") and words.split()[0] in info.value.diagnostic.message


def test_attention_defaults_and_learn_rate_factors_reach_training_groups():
    layer = network("layers = selfAttentionLayer(4, 64);").layers[0]
    assert (layer.num_value_channels, layer.output_size, layer.attention_mask, layer.dropout_probability) == (
        "auto", "auto", "none", 0.0)
    net = network("layers = [sequenceInputLayer(8) selfAttentionLayer(2, 8, 'WeightLearnRateFactor', 0, "
                  "'Name', 'attn')];")
    model = to_torch(net)
    groups = _parameter_groups(model, net, TrainingOptions(solver='adam'))
    trained = {id(p) for group in groups for p in group["params"]}
    for name, parameter in model.layers["attn"].named_parameters():
        assert (id(parameter) in trained) == name.endswith("bias"), name


# -- positions ---------------------------------------------------------------------------------------

def test_position_embedding_reads_the_first_t_columns_of_its_weights():
    weights = np.arange(4 * 10, dtype=float).reshape(4, 10)
    net = network(f"layers = [sequenceInputLayer(3, 'MinLength', 6) positionEmbeddingLayer(4, 10, 'Weights', "
                  f"{matlab_array(weights)}, 'Name', 'pos')];")
    found = reports(net)
    assert found["pos"].learnables == 40 and found["pos"].output_shapes == ["6×4"]
    model = to_torch(net).eval()
    assert sum(p.numel() for p in model.parameters()) == 40
    with torch.no_grad():
        y = model(torch.randn(2, 3, 6))
    np.testing.assert_array_equal(y[1].detach().numpy(), weights[:, :6])
    assert network("layers = positionEmbeddingLayer(4, 10);").layers[0].weights_initializer == "narrow-normal"


def test_positions_past_max_position_are_a108_and_symbolic_t_is_not_checked():
    text = "layers = [sequenceInputLayer(3, 'MinLength', {steps}) positionEmbeddingLayer(4, 10)];"
    assert codes(analyze(network(text.format(steps=11)))) == {"A108", "A006"}
    assert not analyze(network(text.format(steps=10))).has_errors
    assert not analyze(network(text.format(steps=1)), input_size=("T", 3)).has_errors


def test_sinusoidal_encoding_is_sin_and_cos_of_position_over_10000_powers():
    net = network("layers = [sequenceInputLayer(3, 'MinLength', 9) sinusoidalPositionEncodingLayer(6, 'Name', 'p')];")
    found = reports(net)
    assert found["p"].learnables == 0 and found["p"].output_shapes == ["9×6"] and found["p"].macs == 0
    with torch.no_grad():
        y = to_torch(net).eval()(torch.randn(2, 3, 9))[0].double().numpy()
    position = np.arange(9)
    for i in range(3):
        angle = position / 10000 ** (2 * i / 6)
        np.testing.assert_allclose(y[2 * i], np.sin(angle), atol=1e-5)
        np.testing.assert_allclose(y[2 * i + 1], np.cos(angle), atol=1e-5)
    with pytest.raises(NetspecError) as info:
        network("layers = sinusoidalPositionEncodingLayer(5);")
    assert info.value.diagnostic.code == "E206" and "even" in info.value.diagnostic.message


# -- indexing, word embedding ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, step", [("", 0), ("'first'", 0), ("'last'", -1), ("'Index', 'last'", -1)])
def test_indexing1d_takes_one_step_first_by_default(args, step):
    net = network(f"layers = [sequenceInputLayer(5, 'MinLength', 8) indexing1dLayer({args})];")
    found = reports(net)
    assert found["index1d"].output_shapes == ["5"] and found["index1d"].receptive_field.axes == []
    x = torch.randn(3, 5, 8)
    with torch.no_grad():
        assert torch.equal(to_torch(net).eval()(x), x[:, :, step])


def test_word_embedding_maps_indices_from_one_to_the_columns_of_its_weights():
    weights = np.arange(3 * 5, dtype=float).reshape(3, 5)
    net = network(f"layers = [sequenceInputLayer(1, 'MinLength', 4) wordEmbeddingLayer(3, 5, 'Weights', "
                  f"{matlab_array(weights)}, 'Name', 'emb')];")
    found = reports(net)
    assert found["emb"].learnables == 15 and found["emb"].output_shapes == ["4×3"]
    model = to_torch(net).eval()
    assert sum(p.numel() for p in model.parameters()) == 15
    with torch.no_grad():
        y = model(torch.tensor([[[1.0, 5.0, 2.0, 9.0]]]))[0].numpy()
    np.testing.assert_array_equal(y, weights[:, [0, 4, 1, 4]])  # 9 is past NumWords: the last column
    strict = to_torch(network("layers = [sequenceInputLayer(1) wordEmbeddingLayer(3, 5, 'OOVMode', 'error')];"))
    with pytest.raises(ValueError, match="outside 1 to 5"):
        strict(torch.tensor([[[6.0]]]))
    assert codes(analyze(network("layers = [sequenceInputLayer(2) wordEmbeddingLayer(3, 5)];"))) == {"A105", "A006"}


# -- the attention classifier ------------------------------------------------------------------------------

def test_attention_classifier_spec():
    net = netspec.load(str(SPECS / "attention_classifier.net"))
    symbolic = analyze(net, input_size=("T", 12))
    assert not symbolic.has_errors
    assert symbolic.totals.learnables == 18_185
    assert formula(symbolic.totals.macs) == 128 * T**2 + 17_152 * T + 576
    found = {layer.name: layer for layer in symbolic.layers}
    assert found["attention"].output_shapes == ["T×64"] and found["gap"].output_shapes == ["1×64"]
    assert found["fc"].output_shapes == ["1×9"]
    for steps in (1, 7, 29):
        assert_matches_torch(net, steps)


@pytest.mark.parametrize("text", [(SPECS / "attention_classifier.net").read_text(), FOLDED.format(steps=3)],
                         ids=["attention", "folding"])
def test_exported_pytorch_source_runs_as_the_lowered_module(text, tmp_path):
    net = at_length(network(text), 3)
    model = to_torch(net).eval()
    namespace: dict = {}
    exec(compile(to_source(net), str(tmp_path / "model.py"), "exec"), namespace)
    exported = namespace["Net"]().eval()
    exported.load_state_dict(model.state_dict())
    x = sample(net, batch=2)
    with torch.no_grad():
        torch.testing.assert_close(exported(x), model(x))
