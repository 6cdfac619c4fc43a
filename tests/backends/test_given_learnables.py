"""Learnable values a spec gives ('Weights', 'Bias', BN's statistics) are the exported model's.

Each network is exported to ONNX and run in onnxruntime; the reference is computed here, in numpy,
from the arrays as MATLAB lays them out (conv weights h×w×C×F, FC weights O×I over the input's
column-major H×W×C, ...), so the MATLAB -> PyTorch layout conversion is checked against MATLAB's
definition, not against itself.
"""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

from netspec.backends.onnx import to_onnx
from netspec.language import load_source

RNG = np.random.default_rng(14)


def literal(array: np.ndarray) -> str:
    """A MATLAB expression for `array`: its column-major numbers reshaped to its size."""
    numbers = " ".join(repr(float(x)) for x in array.flatten(order="F"))
    if array.ndim == 2:
        rows = "; ".join(" ".join(repr(float(x)) for x in row) for row in array)
        return f"[{rows}]"
    return f"reshape([{numbers}], {', '.join(str(d) for d in array.shape)})"


def run_onnx(text: str, x_hwc: np.ndarray) -> np.ndarray:
    """The exported network's output for one H×W×C image (fed as NCHW)."""
    network = load_source(text, "given.net").network
    proto = to_onnx(network)
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = x_hwc.transpose(2, 0, 1)[None].astype(np.float32)
    return session.run(None, {session.get_inputs()[0].name: x})[0][0]


def network(input_size: tuple[int, ...], *layers: str) -> str:
    body = "\n    ".join(layers)
    size = " ".join(map(str, input_size))
    return (f"layers = [imageInputLayer([{size}], 'Normalization', 'none')\n    {body}\n"
            "    regressionLayer];\n")


def conv_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> np.ndarray:
    """MATLAB's convolution2dLayer (a correlation) of an H×W×C image, weights h×w×C×F: output F×H'×W'."""
    x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    fh, fw, _, filters = w.shape
    out_h, out_w = (x.shape[0] - fh) // stride + 1, (x.shape[1] - fw) // stride + 1
    y = np.zeros((filters, out_h, out_w))
    for f in range(filters):
        for i in range(out_h):
            for j in range(out_w):
                window = x[i * stride:i * stride + fh, j * stride:j * stride + fw, :]
                y[f, i, j] = np.sum(window * w[:, :, :, f]) + b[f]
    return y


def test_conv2d_weights_and_bias_are_the_exported_convolution():
    w, b = RNG.standard_normal((3, 2, 3, 4)), RNG.standard_normal(4)
    x = RNG.standard_normal((6, 5, 3))
    text = network((6, 5, 3), f"convolution2dLayer([3 2], 4, 'Stride', 2, 'Padding', 1, 'Weights', {literal(w)}, "
                              f"'Bias', {literal(b.reshape(1, 1, 4))})")
    np.testing.assert_allclose(run_onnx(text, x), conv_reference(x, w, b, stride=2, pad=1), rtol=1e-4, atol=1e-5)


def test_grouped_convolution_weights_per_group():
    """h×w×C/g×F/g×g: group g's filters see only its C/g channels and are output channels g·F/g + f."""
    groups, per_in, per_out = 2, 2, 3
    w, b = RNG.standard_normal((3, 3, per_in, per_out, groups)), RNG.standard_normal((per_out, groups))
    x = RNG.standard_normal((5, 5, per_in * groups))
    text = network((5, 5, 4), f"groupedConvolution2dLayer(3, {per_out}, {groups}, 'Weights', {literal(w)}, "
                              f"'Bias', {literal(b.reshape(1, 1, per_out, groups))})")
    expected = np.concatenate([conv_reference(x[:, :, g * per_in:(g + 1) * per_in], w[..., g], b[:, g])
                               for g in range(groups)])
    np.testing.assert_allclose(run_onnx(text, x), expected, rtol=1e-4, atol=1e-5)


def test_transposed_convolution_weights_are_h_w_filters_channels():
    w, b = RNG.standard_normal((2, 3, 4, 3)), RNG.standard_normal(4)  # h×w×NumFilters×NumChannels
    x = RNG.standard_normal((3, 2, 3))
    text = network((3, 2, 3), f"transposedConv2dLayer([2 3], 4, 'Stride', 2, 'Weights', {literal(w)}, "
                              f"'Bias', {literal(b.reshape(1, 1, 4))})")
    out = np.zeros((4, (3 - 1) * 2 + 2, (2 - 1) * 2 + 3)) + b[:, None, None]
    for i in range(3):  # every input pixel scatters its channels through the kernel
        for j in range(2):
            out[:, 2 * i:2 * i + 2, 2 * j:2 * j + 3] += np.einsum("c,uvfc->fuv", x[i, j], w)
    np.testing.assert_allclose(run_onnx(text, x), out, rtol=1e-4, atol=1e-5)


def test_fully_connected_weights_multiply_matlabs_column_major_input():
    """MATLAB's FC on an image: W (O×H·W·C) times the image read column-major (x(:)), plus b."""
    w, b = RNG.standard_normal((3, 2 * 4 * 2)), RNG.standard_normal(3)
    x = RNG.standard_normal((2, 4, 2))
    text = network((2, 4, 2), f"fullyConnectedLayer(3, 'Weights', {literal(w)}, 'Bias', {literal(b[:, None])})")
    np.testing.assert_allclose(run_onnx(text, x).reshape(-1), w @ x.flatten(order="F") + b, rtol=1e-4, atol=1e-5)


def test_batch_normalization_statistics_in_inference():
    mean, variance = RNG.standard_normal(3), RNG.uniform(0.5, 2.0, 3)
    offset, scale = RNG.standard_normal(3), RNG.standard_normal(3)
    x = RNG.standard_normal((4, 4, 3))
    per_channel = {name: literal(v.reshape(1, 1, 3)) for name, v in
                   (("TrainedMean", mean), ("TrainedVariance", variance), ("Offset", offset), ("Scale", scale))}
    options = ", ".join(f"'{name}', {value}" for name, value in per_channel.items())
    text = network((4, 4, 3), f"batchNormalizationLayer({options}, 'Epsilon', 1e-3)")
    expected = scale * (x - mean) / np.sqrt(variance + 1e-3) + offset
    np.testing.assert_allclose(run_onnx(text, x), expected.transpose(2, 0, 1), rtol=1e-4, atol=1e-5)


def test_property_assignment_and_constant_arrays_are_the_weights():
    """`layers(2).Weights = ...` after construction, `zeros(1,1,F) + c`, `ones(...)*c`."""
    w = RNG.standard_normal((2, 2, 1, 2))
    x = RNG.standard_normal((3, 3, 1))
    text = network((3, 3, 1), "convolution2dLayer(2, 2)") + (
        f"layers(2).Weights = {literal(w)};\nlayer = layers(2);\nlayer.Bias = zeros(1, 1, 2) + 0.5;\n"
        "layers(2) = layer;\n")
    np.testing.assert_allclose(run_onnx(text, x), conv_reference(x, w, np.full(2, 0.5)), rtol=1e-4, atol=1e-5)


def test_unknown_values_keep_the_initializer_and_say_so():
    text = network((4, 4, 1), "convolution2dLayer(3, 2, 'Weights', randn([3 3 1 2]) * 0.01, "
                              "'WeightsInitializer', 'ones')")
    result = load_source(text, "given.net")
    (note,) = [d for d in result.diagnostics if d.code == "W203"]
    assert "randn" in note.message and "3×3×1×2" in note.message and note.span.line == 2
    from netspec.backends.torch import to_torch

    weight = to_torch(result.network).state_dict()["layers.conv.weight"]
    assert weight.shape == (2, 1, 3, 3) and bool((weight == 1).all())


@pytest.mark.parametrize("layer, given, expected", [
    ("convolution2dLayer(3, 8, 'Weights', randn([5 5 1 8]))", "5×5×1×8", "3×3×1×8"),
    ("convolution2dLayer(3, 8, 'Bias', zeros(1, 1, 4))", "1×1×4", "1×1×8"),
    ("convolution2dLayer(3, 8, 'Weights', zeros(3, 3, 2, 8))", "3×3×2×8", "3×3×1×8"),
    ("fullyConnectedLayer(4, 'Weights', ones(4, 10))", "4×10", "4×36"),
    ("fullyConnectedLayer(4, 'Bias', ones(1, 4))", "1×4", "4×1"),
    ("batchNormalizationLayer('TrainedMean', zeros(1, 1, 2))", "1×1×2", "1×1"),  # MATLAB drops trailing 1s
])
def test_wrong_sizes_are_located_errors_with_both_sizes(layer, given, expected):
    from netspec.analysis import analyze

    text = network((6, 6, 1), layer)
    (problem,) = [d for d in analyze(load_source(text, "given.net").network).diagnostics if d.code == "A106"]
    assert f"is {given}, but this layer's" in problem.message and problem.message.endswith(f"are {expected}")
    option = problem.message.split("'")[3]
    assert problem.span.line == 2 and text.splitlines()[1][problem.span.column - 1:].startswith(
        layer.split(f"'{option}', ")[1][:5])


def test_wrong_size_by_assignment_points_at_the_assignment():
    from netspec.analysis import analyze

    text = network((6, 6, 1), "convolution2dLayer(3, 8)") + "layers(2).Weights = randn([5 5 1 8]);\n"
    (problem,) = [d for d in analyze(load_source(text, "given.net").network).diagnostics if d.code == "A106"]
    assert problem.span.line == 4 and "5×5×1×8" in problem.message and "3×3×1×8" in problem.message


def run_torch(text: str, x) -> np.ndarray:
    """The lowered network's output for one sample `x` in PyTorch's layout (C×T for a sequence)."""
    import torch

    from netspec.backends.torch import to_torch

    model = to_torch(load_source(text, "given.net").network).eval()
    with torch.no_grad():
        return model(torch.tensor(x[None], dtype=torch.float32))[0].numpy()


def test_conv1d_weights_are_filter_channels_filters():
    w, b = RNG.standard_normal((3, 2, 4)), RNG.standard_normal(4)  # FilterSize×NumChannels×NumFilters
    x = RNG.standard_normal((2, 7))  # C×T
    text = (f"layers = [sequenceInputLayer(2, 'MinLength', 7)\n    convolution1dLayer(3, 4, 'Weights', {literal(w)}, "
            f"'Bias', {literal(b[None])})\n    regressionLayer];\n")
    expected = np.array([[np.sum(x[:, t:t + 3].T * w[:, :, f]) + b[f] for t in range(5)] for f in range(4)])
    np.testing.assert_allclose(run_torch(text, x), expected, rtol=1e-4, atol=1e-5)


def test_layer_normalization_offset_and_scale():
    offset, scale = RNG.standard_normal(3), RNG.standard_normal(3)
    x = RNG.standard_normal((3, 4, 4))  # C×H×W
    text = network((4, 4, 3), f"layerNormalizationLayer('Offset', {literal(offset.reshape(1, 1, 3))}, "
                              f"'Scale', {literal(scale.reshape(1, 1, 3))})")
    normalized = (x - x.mean()) / np.sqrt(x.var() + 1e-5)
    np.testing.assert_allclose(run_torch(text, x), scale[:, None, None] * normalized + offset[:, None, None],
                               rtol=1e-4, atol=1e-5)


def test_every_layer_with_given_learnables_has_a_layout():
    from netspec.backends.torch import GIVEN
    from netspec.ir import LAYERS

    with_options = {cls: set(cls.learnable_options) for cls in LAYERS.values() if cls.learnable_options}
    assert {cls: set(fields) for cls, fields in GIVEN.items()} == with_options


def test_netspec_export_without_weights_writes_the_given_values(tmp_path):
    import onnx
    from onnx import numpy_helper
    from typer.testing import CliRunner

    from netspec.cli import app

    w = RNG.standard_normal((2, 3))
    spec = tmp_path / "fc.net"
    spec.write_text("layers = [featureInputLayer(3)\n"
                    f"    fullyConnectedLayer(2, 'Weights', {literal(w)}, 'Bias', [0.25; -0.25])\n"
                    "    regressionLayer];\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["export", str(spec), "-o", str(tmp_path / "fc.onnx")])
    assert result.exit_code == 0, result.output
    arrays = [numpy_helper.to_array(t) for t in onnx.load(tmp_path / "fc.onnx").graph.initializer]
    assert any(a.shape == (2, 3) and np.allclose(a, w) or a.shape == (3, 2) and np.allclose(a, w.T) for a in arrays)
    assert any(a.shape == (2,) and np.allclose(a, [0.25, -0.25]) for a in arrays)
