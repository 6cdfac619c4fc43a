"""ONNX export against independent truth: onnx.checker, ONNX shape inference, onnxruntime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import sympy
import torch
from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
from PIL import Image

import netspec
from netspec.analysis import analyze
from netspec.backends.onnx import to_onnx
from netspec.backends.torch import GraphModule, to_torch
from netspec.ir import SequenceInputLayer, SoftmaxLayer
from netspec.language import load_source

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.net"))


def load(path: Path):
    return netspec.load(path, set={"numClasses": "4"})


def inferred_shapes(proto: onnx.ModelProto) -> dict[str, list]:
    """ONNX's shape inference, with its data propagation: sizes a graph computes from its input's
    shape (a folded sequence unfolded, a reshape keeping the batch open) are known too."""
    graph = onnx.shape_inference.infer_shapes(proto, strict_mode=True, data_prop=True).graph
    values = list(graph.value_info) + list(graph.output) + list(graph.input)
    return {v.name: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim] for v in values}


TIME = sympy.Symbol("T")
"""The analyzer's symbolic sequence length, as its report and the exported model write it."""


def symbolic_dims(proto: onnx.ModelProto) -> dict[str, list]:
    """onnxruntime's symbolic shape inference (sympy arithmetic on named dims, Conv's and
    pooling's length formulas included): tensor -> dims, each an int or a sympy expression."""
    inferred = SymbolicShapeInference.infer_shapes(proto, auto_merge=False, guess_output_rank=False)
    values = list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)
    return {v.name: [d.dim_value if d.HasField("dim_value") else sympy.sympify(d.dim_param)
                     for d in v.type.tensor_type.shape.dim] for v in values}


def assert_analyzer_shapes(network, proto: onnx.ModelProto) -> None:
    """Every layer has a tensor of its name with the analyzer's shape, the batch axis symbolic.
    A model with a named time axis is read with onnxruntime's symbolic inference (ONNX's own works
    no arithmetic on named dims), compared at every length the analyzer's formula takes (1 to 99)
    or, where 'MinLength' fixed the analyzer's length, at that length."""
    timed = any(d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim[1:])
    shapes = symbolic_dims(proto) if timed else inferred_shapes(proto)
    fixed = {TIME: layer.min_length for layer in network.layers
             if isinstance(layer, SequenceInputLayer) and layer.min_length is not None}
    for row in analyze(network).layers:
        if not row.output_dims:
            continue  # a loss layer has no output tensor
        assert row.name in shapes, f"no tensor named after layer {row.name}"
        found, dims = shapes[row.name], row.output_dims[0]
        assert not sympy.sympify(found[0]).is_number, row.name  # the batch axis stays symbolic (T·batch folded)
        expected = [sympy.sympify(d) for d in (dims[-1], *dims[:-1])]
        assert len(found) == 1 + len(expected), row.name
        for inferred, want in zip(found[1:], expected):
            inferred = sympy.sympify(inferred).subs(fixed)
            lengths = [t for t in range(1, 100) if want.subs(TIME, t) >= 1] if want.free_symbols else [1]
            assert all(inferred.subs(TIME, t) == want.subs(TIME, t) for t in lengths), (row.name, found, dims)


RTOL = 1e-4
ATOL_OF_MAX = 1e-5
"""onnxruntime against torch, per tensor: |onnx - torch| <= RTOL·|torch| + ATOL_OF_MAX·max|torch|.
Relative, so it holds a Glorot-initialised MobileNetV2's logits (~1e-10) to the same standard as
a trained network's, where an absolute 1e-4 on its softmax (1/1000 each) would pass any output."""


def with_layer_outputs(proto: onnx.ModelProto, layers: list[str]) -> onnx.ModelProto:
    """A copy of `proto` that also outputs the tensors named after `layers` (typed by shape inference)."""
    model = onnx.shape_inference.infer_shapes(proto)
    typed = {v.name: v for v in model.graph.value_info}
    outputs = {o.name for o in model.graph.output}
    model.graph.output.extend(typed[name] for name in layers if name not in outputs)
    return model


def exciting_input(proto: onnx.ModelProto, batch: int, length: int = 29) -> torch.Tensor:
    """Pixel values spread over 0-255, as MATLAB feeds them (the input layer normalizes them);
    `length` steps where a sequence's length is symbolic."""
    dims = [d.dim_value or length for d in proto.graph.input[0].type.tensor_type.shape.dim[1:]]
    return torch.rand(batch, *dims, generator=torch.Generator().manual_seed(batch)) * 255


def compared_layers(network, model: GraphModule) -> tuple[str, list[str]]:
    """(the logits layer, what to compare): the logits (what the softmax reads; the output of a
    network without one), three layers a quarter, half and three quarters through the graph, and
    the network's outputs."""
    softmax = next((layer.name for layer in network.layers if isinstance(layer, SoftmaxLayer)), None)
    logits = next((edge.source for edge in network.connections if edge.destination == softmax),
                  model.output_names[0])
    inner = [name for name, sources in model.plan if sources]
    quarters = [inner[len(inner) * k // 4] for k in (1, 2, 3)]
    return logits, list(dict.fromkeys([logits, *quarters, *model.output_names]))


def assert_onnx_matches_torch(model: GraphModule, proto: onnx.ModelProto, x: torch.Tensor,
                              layers: list[str]) -> dict[str, np.ndarray]:
    """onnxruntime's tensor of each of `layers` against torch's, within RTOL / ATOL_OF_MAX;
    returns torch's tensors."""
    session = onnxruntime.InferenceSession(with_layer_outputs(proto, layers).SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    actual = dict(zip(names, session.run(None, {session.get_inputs()[0].name: x.numpy()})))
    with torch.no_grad():
        expected = {name: value.numpy() for name, value in model.run(x, capture=set(layers)).items()}
    for name in layers:
        scale = float(np.abs(expected[name]).max())
        np.testing.assert_allclose(actual[name], expected[name], rtol=RTOL, atol=ATOL_OF_MAX * scale, err_msg=name)
    return expected


@pytest.fixture(scope="module", params=SPECS, ids=[p.stem for p in SPECS])
def exported(request):
    network = load(request.param)
    model = to_torch(network, seed=1).eval()
    proto = to_onnx(network, model.state_dict())
    return network, model, proto


def test_checker_accepts_the_model_with_full_check(exported):
    _, _, proto = exported
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version >= 17


def test_shape_inference_gives_the_analyzer_shape_for_every_layer(exported):
    network, _, proto = exported
    assert_analyzer_shapes(network, proto)


@pytest.mark.parametrize("batch", [1, 7])
def test_onnxruntime_equals_pytorch_on_logits_and_inner_layers(exported, batch):
    network, model, proto = exported
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"  # dynamic batch axis
    logits_layer, layers = compared_layers(network, model)
    expected = assert_onnx_matches_torch(model, proto, exciting_input(proto, batch), layers)
    # the logits vary far beyond the tolerance, over the classes and from one image to the next,
    # so an output that is constant, or that ignores the input, cannot pass
    logits = expected[logits_layer].reshape(batch, -1)
    tolerance = (RTOL + ATOL_OF_MAX) * np.abs(logits).max()
    assert logits.std(axis=1).min() > 10 * tolerance
    assert batch == 1 or logits.std(axis=0).max() > 10 * tolerance


def test_parity_check_fails_on_one_perturbed_weight():
    """One weight of the first convolution off by 1% of that layer's largest: the comparison fails."""
    network = load(ROOT / "specs" / "mnist_matlab.net")
    model = to_torch(network, seed=1).eval()
    proto = to_onnx(network, model.state_dict())
    first_conv = next(node for node in proto.graph.node if node.op_type == "Conv")
    weight = next(init for init in proto.graph.initializer if init.name == first_conv.input[1])
    values = onnx.numpy_helper.to_array(weight).copy()
    values.flat[0] += 0.01 * np.abs(values).max()
    weight.CopyFrom(onnx.numpy_helper.from_array(values, weight.name))
    with pytest.raises(AssertionError):
        assert_onnx_matches_torch(model, proto, exciting_input(proto, 2), compared_layers(network, model)[1])


def test_nodes_are_named_after_layers(exported):
    network, _, proto = exported
    names = {node.name for node in proto.graph.node}
    for layer in network.layers:
        if layer.output_names and layer.input_names:
            assert layer.name in names


EVERY_KIND = """
lgraph = layerGraph([imageInputLayer([9 9 3],'Name','in','Normalization','zscore')
    convolution2dLayer(3,4,'Padding','same','Stride',2,'Name','same_odd')
    crossChannelNormalizationLayer(3,'Name','lrn')
    groupedConvolution2dLayer(3,2,2,'Padding',[0 1 0 1],'Name','grouped')
    groupedConvolution2dLayer(3,1,'channel-wise','Padding','same','Name','depthwise')
    transposedConv2dLayer(3,4,'Stride',2,'Cropping',[0 1 0 1],'Name','up')
    maxPooling2dLayer(3,'Stride',2,'Padding',[0 1 0 1],'Name','maxpool')
    averagePooling2dLayer(2,'Stride',1,'Padding','same','Name','avgpool')
    batchNormalizationLayer('Name','bn')
    leakyReluLayer(0.1,'Name','leaky')
    additionLayer(2,'Name','add')
    depthConcatenationLayer(2,'Name','cat')
    eluLayer('Name','elu')
    clippedReluLayer(6,'Name','relu6')
    globalAveragePooling2dLayer('Name','gap')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = disconnectLayers(lgraph,'leaky','add/in1');
lgraph = addLayers(lgraph,[tanhLayer('Name','tanh'); swishLayer('Name','swish')]);
lgraph = connectLayers(lgraph,'bn','tanh');
lgraph = connectLayers(lgraph,'leaky','add/in1');
lgraph = connectLayers(lgraph,'swish','add/in2');
lgraph = disconnectLayers(lgraph,'add','cat/in1');
lgraph = connectLayers(lgraph,'add','cat/in1');
lgraph = connectLayers(lgraph,'bn','cat/in2');
"""

SIGNAL = """
layers = [sequenceInputLayer(2,'MinLength',20,'Name','in')
    convolution1dLayer(5,4,'Padding','causal','Name','causal')
    maxPooling1dLayer(2,'Stride',2,'Name','pool')
    convolution1dLayer(3,4,'Padding','same','DilationFactor',2,'Name','dilated')
    averagePooling1dLayer(2,'Stride',2,'Padding',[0 1],'Name','avg')
    globalMaxPooling1dLayer('Name','gmp')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
"""


SEGMENTATION = """
lgraph = layerGraph([imageInputLayer([12 10 3],'Name','in')
    convolution2dLayer(3,4,'Padding','same','Name','c1')
    maxPooling2dLayer(3,'Stride',2,'Padding','same','HasUnpoolingOutputs',true,'Name','pool')
    convolution2dLayer(3,4,'Padding','same','Name','c2')
    maxUnpooling2dLayer('Name','unpool')
    spatialDropoutLayer('Name','sdrop')
    convolution2dLayer(1,8,'Name','c3')
    depthToSpace2dLayer(2,'Name','d2s')
    depthToSpace2dLayer([1 2],'Mode','crd','Name','crd')
    spaceToDepthLayer([2 1],'Name','s2d')
    spaceToDepthLayer([2 3],'Name','s2d2')
    crop2dLayer('centercrop','Name','crop')
    crop2dLayer([2 1],'Name','crop_at')
    depthConcatenationLayer(2,'Name','cat')
    softmaxLayer('Name','sm')
    pixelClassificationLayer('Name','px')]);
lgraph = connectLayers(lgraph,'pool/indices','unpool/indices');
lgraph = connectLayers(lgraph,'pool/size','unpool/size');
lgraph = connectLayers(lgraph,'c2','crop/ref');
lgraph = addLayers(lgraph, convolution2dLayer(4,1,'Name','small'));
lgraph = connectLayers(lgraph,'c2','small');
lgraph = connectLayers(lgraph,'small','crop_at/ref');
lgraph = connectLayers(lgraph,'small','cat/in2');
"""
"""maxPooling2dLayer's three outputs (with 'same' padding on the bottom and right only: 12×10 -> 6×5),
maxUnpooling2dLayer, spatial dropout, both depth-to-space modes, space-to-depth with a remainder
(40 columns in blocks of 3), both crop modes."""


UNET = "lgraph = unetLayers([92 92 1], 2, 'EncoderDepth', 2, 'ConvolutionPadding', 'valid', " \
       "'NumFirstEncoderFilters', 4);\n"
"""MATLAB's U-Net with 'valid' convolutions: its skip connections go through center crops."""


@pytest.mark.parametrize("text", [EVERY_KIND, SIGNAL, SEGMENTATION, UNET],
                         ids=["2-d layers", "1-d layers", "segmentation", "unetLayers"])
def test_every_layer_kind_exports_exactly(text):
    network = load_source(text, "kinds.net").network
    model = to_torch(network, seed=2).eval()
    with torch.no_grad():  # make BN's statistics and the input normalization non-trivial
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    proto = to_onnx(network, model.state_dict())
    onnx.checker.check_model(proto, full_check=True)
    assert_analyzer_shapes(network, proto)
    # every layer but the input one (its normalized output has no tensor of its name: the graph input has it)
    assert_onnx_matches_torch(model, proto, exciting_input(proto, 3), [name for name, sources in model.plan if sources])


SHUFFLE_AND_EXCITE = """
lgraph = layerGraph([imageInputLayer([7 7 8],'Name','in')
    groupedConvolution2dLayer(1,3,4,'Name','gconv')
    nnet.shufflenet.layer.ChannelShufflingLayer('shuffle',4)
    swishLayer('Name','act')
    multiplicationLayer(2,'Name','excite')
    globalAveragePooling2dLayer('Name','gap')
    fullyConnectedLayer(3,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = addLayers(lgraph,[globalAveragePooling2dLayer('Name','squeeze'); sigmoidLayer('Name','gate')]);
lgraph = connectLayers(lgraph,'act','squeeze');
lgraph = connectLayers(lgraph,'gate','excite/in2');
"""


def test_channel_shuffle_and_broadcast_multiplication_export_exactly():
    network = load_source(SHUFFLE_AND_EXCITE, "se.net").network
    model = to_torch(network, seed=3).eval()
    proto = to_onnx(network, model.state_dict())
    onnx.checker.check_model(proto, full_check=True)
    shapes = inferred_shapes(proto)
    assert shapes["shuffle"][1:] == [12, 7, 7] and shapes["gate"][1:] == [12, 1, 1]
    assert shapes["excite"][1:] == [12, 7, 7]
    assert_onnx_matches_torch(model, proto, exciting_input(proto, 2), ["shuffle", "gate", "excite", "fc"])


def test_channel_shuffle_and_multiplication_in_the_pytorch_source_export():
    from netspec.backends.pytorch_source import to_source

    network = load_source(SHUFFLE_AND_EXCITE, "se.net").network
    model = to_torch(network, seed=4).eval()
    namespace: dict = {}
    exec(compile(to_source(network), "generated.py", "exec"), namespace)
    generated = namespace["Net"]().eval()
    generated.load_state_dict(model.state_dict())
    x = torch.rand(2, 8, 7, 7) * 255
    with torch.no_grad():
        assert torch.equal(generated(x), model(x))


def test_asymmetric_same_padding_survives_as_onnx_pads():
    network = load_source("layers = [imageInputLayer([8 8 1],'Normalization','none')\n"
                          "convolution2dLayer(4,1,'Padding','same','Name','c')];", "pad.net").network
    proto = to_onnx(network)
    conv = next(node for node in proto.graph.node if node.op_type == "Conv")
    pads = next(onnx.helper.get_attribute_value(a) for a in conv.attribute if a.name == "pads")
    assert pads == [1, 1, 2, 2]  # total 3 per axis: the odd pixel bottom/right (MATLAB)
    assert not any(node.op_type == "Pad" for node in proto.graph.node)


def _digits(folder: Path) -> None:
    rng = np.random.default_rng(0)
    for label in ("bars", "dots"):
        (folder / label).mkdir(parents=True)
        for i in range(12):
            image = rng.integers(0, 60, (8, 8), dtype=np.uint8)
            if label == "bars":
                image[:, 2:4] = 255
            else:
                image[2:4, 2:4] = 255
                image[5:7, 5:7] = 255
            Image.fromarray(image).save(folder / label / f"{i}.png")


def test_trained_checkpoint_predicts_the_same_classes_in_onnx(tmp_path):
    spec = tmp_path / "tiny.net"
    spec.write_text("layers = [imageInputLayer([8 8 1])\n convolution2dLayer(3,4,'Padding','same')\n"
                    " reluLayer\n fullyConnectedLayer(2)\n softmaxLayer\n classificationLayer];\n"
                    "options = trainingOptions('adam','MaxEpochs',3,'MiniBatchSize',4,'Verbose',false);\n")
    _digits(tmp_path / "data")
    run, model_file = tmp_path / "run", tmp_path / "tiny.onnx"
    netspec_cli = [sys.executable, "-m", "netspec.cli"]
    for command in (["train", str(spec), "--data", str(tmp_path / "data"), "--out", str(run), "--quiet"],
                    ["export", str(spec), "--weights", str(run), "-o", str(model_file)]):
        result = subprocess.run(netspec_cli + command, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    images = sorted((tmp_path / "data").rglob("*.png"))
    via_torch = subprocess.run(netspec_cli + ["predict", str(run), "--json", *map(str, images)],
                               capture_output=True, text=True, timeout=600)
    via_onnx = subprocess.run(netspec_cli + ["predict", str(model_file), "--json", *map(str, images)],
                              capture_output=True, text=True, timeout=600)
    assert via_torch.returncode == 0 and via_onnx.returncode == 0, via_onnx.stderr
    torch_rows, onnx_rows = json.loads(via_torch.stdout), json.loads(via_onnx.stdout)
    assert [r["class"] for r in onnx_rows] == [r["class"] for r in torch_rows]
    assert all(abs(a["probability"] - b["probability"]) < 1e-4 for a, b in zip(onnx_rows, torch_rows))
    metadata = {e.key: e.value for e in onnx.load(str(model_file)).metadata_props}
    assert json.loads(metadata["netspec.classes"]) == ["bars", "dots"]


def test_a_path_with_undecodable_bytes_still_exports():
    """A path from the command line keeps bytes that are not UTF-8 as lone surrogates (os.fsdecode),
    which protobuf cannot store: the model's text shows them as escapes."""
    network = load_source("layers = [imageInputLayer([4 4 1]) reluLayer];\n", os.fsdecode(b"specs/\xff.net")).network
    proto = onnx.load_from_string(to_onnx(network).SerializeToString())
    onnx.checker.check_model(proto)
    metadata = {e.key: e.value for e in proto.metadata_props}
    assert metadata["netspec.source"] == "specs/\\udcff.net" and proto.doc_string.startswith("specs/\\udcff.net")


def test_predict_with_onnx_does_not_import_torch(tmp_path):
    network = load(ROOT / "specs" / "mnist_matlab.net")
    model_file = tmp_path / "m.onnx"
    model_file.write_bytes(to_onnx(network).SerializeToString())
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(image)
    probe = ("import sys; from netspec.cli import main; sys.argv = ['netspec', 'predict', sys.argv[1], sys.argv[2]]\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe, str(model_file), str(image)], capture_output=True,
                            text=True, timeout=300)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_pytorch_source_export_reproduces_the_module(tmp_path):
    from netspec.backends.pytorch_source import to_source

    network = load(ROOT / "specs" / "googlenet.net")
    model = to_torch(network, seed=5).eval()
    namespace: dict = {}
    exec(compile(to_source(network), "generated.py", "exec"), namespace)  # the generated file, as a user runs it
    generated = namespace["Net"]().eval()
    generated.load_state_dict(model.state_dict())
    x = torch.rand(2, 3, 224, 224) * 255
    with torch.no_grad():
        assert torch.equal(generated(x), model(x))


def test_pytorch_source_export_reproduces_multi_output_layers():
    """The generated `forward` unpacks maxPooling2dLayer's three outputs into their own variables."""
    from netspec.backends.pytorch_source import to_source

    network = load_source(SEGMENTATION, "segmentation.net").network
    model = to_torch(network, seed=5).eval()
    source = to_source(network)
    assert "x_pool, x_pool_indices, x_pool_size = self.layers['pool'](x_c1)" in source
    namespace: dict = {}
    exec(compile(source, "generated.py", "exec"), namespace)
    generated = namespace["Net"]().eval()
    generated.load_state_dict(model.state_dict())
    x = torch.rand(2, 3, 12, 10) * 255
    with torch.no_grad():
        assert torch.equal(generated(x), model(x))


def test_trained_mnist_network_predicts_the_same_test_classes_in_onnx(tmp_path):
    """The seed network, trained (one epoch of the built-in MNIST subset), exported, and run
    by onnxruntime on the 1,000 test images, predicts what PyTorch predicts."""
    from netspec.train import checkpoint
    from netspec.train.data import load_source as load_data

    run = tmp_path / "run"
    command = [sys.executable, "-m", "netspec.cli", "train", str(ROOT / "specs" / "mnist_matlab.net"),
               "--epochs", "1", "--out", str(run), "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    payload = checkpoint.load(run)
    network = checkpoint.network_of(payload)
    model = to_torch(network, seed=None).eval()
    model.load_state_dict(payload["model"])
    proto = to_onnx(network, payload["model"], classes=payload["classes"])
    _, _, test = load_data("builtin", (28, 28, 1))
    images = torch.from_numpy(test.images).float()
    with torch.no_grad():
        expected = model(images).flatten(1).argmax(1).numpy()
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    actual = session.run(None, {session.get_inputs()[0].name: images.numpy()})[0].reshape(len(images), -1)
    assert (actual.argmax(1) == expected).all()
    assert (expected == test.labels).mean() > 0.8  # it did learn: the comparison is not between two random nets


@pytest.mark.parametrize("classes", ["['a', 'b']", '{"a": 1}', "[]", "[1, 2]", '["a"]'],
                         ids=["not-json", "not-a-list", "empty", "not-names", "fewer-than-outputs"])
def test_onnx_class_metadata_that_is_not_one_name_per_output_is_refused(tmp_path, monkeypatch, capsys, classes):
    from netspec.cli import main

    network = load_source("layers = [imageInputLayer([8 8 1])\n fullyConnectedLayer(2)\n softmaxLayer\n"
                          " classificationLayer];\n").network
    proto = to_onnx(network, classes=["a", "b"])
    next(entry for entry in proto.metadata_props if entry.key == "netspec.classes").value = classes
    model_file, image = tmp_path / "tiny.onnx", tmp_path / "x.png"
    model_file.write_bytes(proto.SerializeToString())
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(image)
    monkeypatch.setattr(sys, "argv", ["netspec", "predict", str(model_file), str(image)])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 1, err
    assert "error[P004]" in err and str(model_file) in err and "netspec.classes" in err
    assert "Traceback" not in err
