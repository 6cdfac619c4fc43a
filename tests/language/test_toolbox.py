"""The toolboxes' network-building functions (netspec/language/toolbox.py) against MATLAB's
documentation: the layer and connection counts its examples display, the names of the inputs and
outputs, and (as independent truth for the arithmetic) PyTorch's parameter count and output size of
the lowered network."""

from __future__ import annotations

import pytest
import torch

from netspec.analysis import analyze
from netspec.backends.torch import to_torch
from netspec.diagnostics import NetspecError
from netspec.ir import Convolution2dLayer, ImageInputLayer
from netspec.language import load_source, parse_bindings


def network(text: str, **kwargs):
    return load_source(text, "t.net", **kwargs).network


def learnable_tables(net) -> int:
    """Rows of MATLAB's Learnables table: a Weights and a Bias row per convolution."""
    return 2 * sum(1 for layer in net.layers if hasattr(layer, "weights_initializer"))


def error_of(text: str):
    """The error a file stops with (warnings before it aside)."""
    with pytest.raises(NetspecError) as info:
        network(text)
    return next(d for d in info.value.diagnostics if d.severity.value == "error")


# -- counts MATLAB's documentation displays ------------------------------------------------------

def test_unet_layers_documented_example():
    """https://www.mathworks.com/help/vision/ref/unetlayers.html: unetLayers([480 640 3],5,
    'EncoderDepth',3) displays InputNames {'ImageInputLayer'}, OutputNames {'Segmentation-Layer'},
    Layers [46x1], Connections [48x2]."""
    net = network("lgraph = unetLayers([480 640 3], 5, 'EncoderDepth', 3);")
    assert (len(net.layers), len(net.connections)) == (46, 48)
    assert net.inputs == ["ImageInputLayer"] and net.outputs == ["Segmentation-Layer"]
    assert net.layer("Segmentation-Layer").matlab == "pixelClassificationLayer"


def test_unet_documented_example():
    """https://www.mathworks.com/help/vision/ref/unet.html: unet([480 640 3],5,EncoderDepth=3)
    displays Layers [48×1], Connections [53×2], Learnables [36×3], InputNames
    {'encoderImageInputLayer'}, OutputNames {'FinalNetworkSoftmax-Layer'}."""
    net = network("net = unet([480 640 3], 5, EncoderDepth=3);")
    assert (len(net.layers), len(net.connections), learnable_tables(net)) == (48, 53, 36)
    assert net.inputs == ["encoderImageInputLayer"] and net.outputs == ["FinalNetworkSoftmax-Layer"]


def test_blocked_network_documented_example():
    """https://www.mathworks.com/help/images/ref/blockednetwork.html: four blocks of the unetBlock
    below with NamePrefix "encoder_" display Layers [20×1], Connections [19×2], Learnables [16×3],
    InputNames {'encoder_Block1Layer1'}, OutputNames {'encoder_Block4Layer5'}."""
    net = network('unetBlock = @(block) [\n    convolution2dLayer(3,2^(5+block))\n    reluLayer\n'
                  '    convolution2dLayer(3,2^(5+block))\n    reluLayer\n    maxPooling2dLayer(2,"Stride",2)];\n'
                  'net = blockedNetwork(unetBlock,4,"NamePrefix","encoder_");\n')
    assert (len(net.layers), len(net.connections), learnable_tables(net)) == (20, 19, 16)
    assert net.layers[0].name == "encoder_Block1Layer1" and net.outputs == ["encoder_Block4Layer5"]
    assert [layer.num_filters for layer in net.layers if isinstance(layer, Convolution2dLayer)] == [
        64, 64, 128, 128, 256, 256, 512, 512]


ENCODER_DECODER = """
encoderBlock = @(block) [
    convolution2dLayer(3,2^(5+block),"Padding",'same')
    reluLayer
    convolution2dLayer(3,2^(5+block),"Padding",'same')
    reluLayer
    maxPooling2dLayer(2,"Stride",2)];
encoder = blockedNetwork(encoderBlock,4,"NamePrefix","encoder_");
decoderBlock = @(block) [
    transposedConv2dLayer(2,2^(10-block),'Stride',2)
    convolution2dLayer(3,2^(10-block),"Padding",'same')
    reluLayer
    convolution2dLayer(3,2^(10-block),"Padding",'same')
    reluLayer];
decoder = blockedNetwork(decoderBlock,4,"NamePrefix","decoder_");
bridge = [
    convolution2dLayer(3,1024,"Padding",'same')
    reluLayer
    convolution2dLayer(3,1024,"Padding",'same')
    reluLayer
    dropoutLayer(0.5)];
inputSize = [224 224 3];
unet = encoderDecoderNetwork(inputSize,encoder,decoder, ...
    "OutputChannels",3, ...
    "SkipConnections","concatenate", ...
    "LatentNetwork",bridge);
"""


def test_encoder_decoder_network_documented_example():
    """https://www.mathworks.com/help/images/ref/encoderdecodernetwork.html (its U-Net example,
    above) displays Layers [55×1], Connections [62×2], Learnables [46×3], InputNames
    {'encoderImageInputLayer'}."""
    net = network(ENCODER_DECODER, net="unet")
    assert (len(net.layers), len(net.connections), learnable_tables(net)) == (55, 62, 46)
    assert net.inputs == ["encoderImageInputLayer"] and net.outputs == ["encoderDecoderFinalConvLayer"]
    analysis = analyze(net)
    assert not analysis.has_errors
    rows = {row.name: row for row in analysis.layers}
    assert rows["encoderDecoderFinalConvLayer"].output_dims == [[224, 224, 3]]
    # the innermost skip connection is number 1: the deepest encoder features into the first decoder block
    merge = {edge.destination_port: edge.source for edge in net.connections
             if edge.destination == "encoderDecoderSkipConnectionFeatureMerge1"}
    assert merge == {"in1": "encoderDecoderSkipConnectionCrop1", "in2": "decoder_Block1Layer1"}
    assert next(e.source for e in net.connections if e.destination == "encoderDecoderSkipConnectionCrop1"
                and e.destination_port == "in") == "encoder_Block4Layer4"
    assert rows["encoderDecoderSkipConnectionFeatureMerge1"].output_dims == [[28, 28, 1024]]


# -- the arithmetic, against PyTorch -------------------------------------------------------------

@pytest.mark.parametrize("text, output", [
    ("lgraph = unetLayers([32 32 1], 2, 'EncoderDepth', 2);", (2, 32, 32)),
    ("net = unet([32 48 3], 3, EncoderDepth=2, NumFirstEncoderFilters=8);", (3, 32, 48)),
    # 'valid' convolutions: MATLAB's example size 572 gives the U-Net paper's 388 (572 - 184)
    ("lgraph = unetLayers([572 572 1], 2, 'ConvolutionPadding', 'valid', 'NumFirstEncoderFilters', 4);",
     (2, 388, 388)),
    ("net = unet([92 92 1], 2, EncoderDepth=2, ConvolutionPadding='valid', NumFirstEncoderFilters=4);",
     (2, 52, 52)),
])
def test_unet_learnables_and_output_size_match_pytorch(text, output):
    net = network(text)
    analysis = analyze(net)
    assert not analysis.has_errors, analysis.diagnostics
    model = to_torch(net, seed=0).eval()
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.learnables
    size = net.layers[0].input_size
    with torch.no_grad():
        y = model(torch.rand(1, size[2], size[0], size[1]))
    assert tuple(y.shape) == (1, *output)
    torch.testing.assert_close(y.sum(1), torch.ones_like(y.sum(1)))  # a softmax per pixel


def test_unet_layers_second_output_is_the_output_size():
    result = load_source("[lgraph, outputSize] = unetLayers([572 572 3], 5, 'ConvolutionPadding', 'valid');\n",
                         "t.net")
    assert result.variables["outputSize"].data == [388.0, 388.0, 5.0]
    rows = {row.name: row for row in analyze(result.network).layers}
    assert rows["Final-ConvolutionLayer"].output_dims == [[388, 388, 5]]


def test_unet_layers_matlab_options_and_names():
    net = network("lgraph = unetLayers([64 64], 3, 'EncoderDepth', 1, 'NumOutputChannels', 16, 'FilterSize', 5);")
    assert net.layer("ImageInputLayer").input_size == (64, 64, 1)
    first = net.layer("Encoder-Stage-1-Conv-1")
    assert (first.num_filters, first.filter_size, first.weights_initializer, first.padding) == (
        16, (5, 5), "he", "same")
    up = net.layer("Decoder-Stage-1-UpConv")
    assert (up.num_filters, up.stride, up.bias_learn_rate_factor) == (16, (2, 2), 2)
    assert net.layer("Bridge-Conv-1").num_filters == 32
    skip = {e.destination_port: e.source for e in net.connections
            if e.destination == "Decoder-Stage-1-DepthConcatenation"}
    assert skip == {"in1": "Decoder-Stage-1-UpReLU", "in2": "Encoder-Stage-1-ReLU-2"}


def test_unet_default_encoder_filters_differ_from_unet_layers():
    """unetLayers' NumFirstEncoderFilters defaults to 64 (unetLayers.m), unet's to 32."""
    layers = network("lgraph = unetLayers([32 32 1], 2, 'EncoderDepth', 1);")
    net = network("net = unet([32 32 1], 2, EncoderDepth=1);")
    assert layers.layer("Encoder-Stage-1-Conv-1").num_filters == 64
    assert net.layer("Encoder-Stage-1-Conv-1").num_filters == 32


@pytest.mark.parametrize("text, message, hint", [
    ("lgraph = unetLayers([30 30 3], 2);", "does not halve evenly 4 times", "use [32 32 3]"),
    ("lgraph = unetLayers([34 44 3], 2, 'EncoderDepth', 2);", "does not halve evenly 2 times", "use [32 44 3]"),
    ("lgraph = unetLayers([500 500 3], 5, 'ConvolutionPadding', 'valid');", "'valid' convolutions",
     "use [492 492 3]"),
    ("lgraph = unetLayers([32 32 3], 2, 'FilterSize', 4);", "must be odd", None),
    ("lgraph = unetLayers([32 32 3], 1);", "NumClasses", None),
    ("net = unet([32 32 3], 2, EncoderNetwork=3);", "'EncoderNetwork' is not supported", None),
])
def test_unet_arguments_matlab_refuses(text, message, hint):
    diagnostic = error_of(text)
    assert message in diagnostic.message and diagnostic.span is not None
    if hint is not None:
        assert hint in (diagnostic.hint or "")


def test_unet_with_an_unknown_class_count_asks_for_it_and_binding_it_works():
    text = "numClasses = numel(categories(imds.Labels));\nlgraph = unetLayers([32 32 3], numClasses);\n"
    diagnostic = error_of(text)
    assert diagnostic.code == "E405" and "numClasses" in (diagnostic.hint or "")
    net = network(text, bindings=parse_bindings(["numClasses=4"]))
    assert net.layer("Final-ConvolutionLayer").num_filters == 4


# -- blockedNetwork and encoderDecoderNetwork --------------------------------------------------

def test_blocked_network_names_and_captured_variables():
    """An anonymous function keeps the variables it was made with (MATLAB captures them)."""
    net = network("width = 8;\nblock = @(i) [convolution2dLayer(3, width*i) reluLayer];\nwidth = 100;\n"
                  "net = blockedNetwork(block, 3);\n")
    assert [layer.name for layer in net.layers] == ["Block1Layer1", "Block1Layer2", "Block2Layer1", "Block2Layer2",
                                                    "Block3Layer1", "Block3Layer2"]
    assert [layer.num_filters for layer in net.layers if isinstance(layer, Convolution2dLayer)] == [8, 16, 24]
    assert sorted((e.source, e.destination) for e in net.connections) == [
        ("Block1Layer1", "Block1Layer2"), ("Block1Layer2", "Block2Layer1"), ("Block2Layer1", "Block2Layer2"),
        ("Block2Layer2", "Block3Layer1"), ("Block3Layer1", "Block3Layer2")]


def test_blocked_network_prefixes_named_layers_too():
    net = network("net = blockedNetwork(@(i) [convolution2dLayer(3, 8*i, 'Name', ['c' num2str(i)]) reluLayer], 3, "
                  "NamePrefix='enc_');\n")
    assert [layer.name for layer in net.layers] == ["enc_c1", "enc_Block1Layer2", "enc_c2", "enc_Block2Layer2",
                                                    "enc_c3", "enc_Block3Layer2"]
    assert ("enc_Block1Layer2", "enc_c2") in [(e.source, e.destination) for e in net.connections]


def test_blocked_network_repeated_layer_name_is_matlab_s_error():
    diagnostic = error_of("net = blockedNetwork(@(i) convolution2dLayer(3, 8, 'Name', 'c'), 2);\n")
    assert diagnostic.code == "E301" and "'c'" in diagnostic.message


def test_encoder_decoder_network_without_skips_adds_the_input_latent_and_final_layers():
    net = network("enc = blockedNetwork(@(i) [convolution2dLayer(3,4,'Padding','same') "
                  "maxPooling2dLayer(2,'Stride',2)], 2, 'NamePrefix', 'e');\n"
                  "dec = blockedNetwork(@(i) [transposedConv2dLayer(2,4,'Stride',2) reluLayer], 2, "
                  "'NamePrefix', 'd');\n"
                  "net = encoderDecoderNetwork([16 16 1], enc, dec, 'LatentNetwork', reluLayer, "
                  "'FinalNetwork', [convolution2dLayer(1,2) softmaxLayer('Name','sm')]);\n")
    names = [layer.name for layer in net.layers]
    assert names[0] == "encoderImageInputLayer" and isinstance(net.layers[0], ImageInputLayer)
    assert net.layers[0].normalization == "none"
    assert "LatentNetworkLayer1" in names and names[-2:] == ["FinalNetworkLayer1", "FinalNetworksm"]
    assert len(net.connections) == len(net.layers) - 1  # one chain
    assert not analyze(net).has_errors


def test_encoder_decoder_network_refuses_a_layer_name_in_both_networks():
    diagnostic = error_of("enc = blockedNetwork(@(i) maxPooling2dLayer(2,'Stride',2), 1);\n"
                          "dec = blockedNetwork(@(i) transposedConv2dLayer(2,4,'Stride',2), 1);\n"
                          "net = encoderDecoderNetwork([16 16 1], enc, dec);\n")
    assert diagnostic.code == "E301" and "'Block1Layer1'" in diagnostic.message


def test_encoder_decoder_network_needs_networks():
    diagnostic = error_of("net = encoderDecoderNetwork([16 16 1], reluLayer, reluLayer);\n")
    assert "dlnetwork or layerGraph" in diagnostic.message


# -- repmat ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, rows, cols, data", [
    ("repmat([1 2], 2, 2)", 2, 4, [1, 1, 2, 2, 1, 1, 2, 2]),
    ("repmat([1; 2], [1 3])", 2, 3, [1, 2, 1, 2, 1, 2]),
    ("repmat(7, 2)", 2, 2, [7, 7, 7, 7]),
    ("repmat([1 2], 0, 1)", 0, 2, []),
])
def test_repmat_tiles_as_matlab(expression, rows, cols, data):
    value = load_source(f"x = {expression};\nlayers = reluLayer;\n", "t.net").variables["x"]
    assert (value.rows, value.cols, value.data) == (rows, cols, [float(v) for v in data])


def test_repmat_keeps_logical_cells_and_text():
    variables = load_source("a = repmat(true, 1, 3);\nb = repmat({'x', 2}, 2, 1);\nc = repmat('ab', 1, 2);\n"
                            "layers = reluLayer;\n", "t.net").variables
    assert variables["a"].logical and variables["a"].data == [1.0, 1.0, 1.0]
    assert (variables["b"].rows, variables["b"].cols) == (2, 2)
    assert variables["c"].text == "abab"


def test_repmat_of_unnamed_layers_names_each_copy():
    net = network("block = [convolution2dLayer(3, 4, 'Padding', 'same'); reluLayer];\n"
                  "layers = [imageInputLayer([8 8 1]); repmat(block, 3, 1)];\n")
    assert [layer.name for layer in net.layers] == ["imageinput", "conv_1", "relu_1", "conv_2", "relu_2", "conv_3",
                                                    "relu_3"]
    assert not analyze(net).has_errors


def test_repmat_of_named_layers_clashes_as_in_matlab():
    diagnostic = error_of("layers = [imageInputLayer([8 8 1]); repmat(reluLayer('Name', 'r'), 2, 1)];\n")
    assert diagnostic.code == "E301" and "duplicate layer name 'r'" in diagnostic.message


@pytest.mark.parametrize("text, message", [
    ("x = repmat([1 2]);", "the number of copies"),
    ("x = repmat(\"ab\", 2);", "string arrays"),
    ("x = repmat('ab', 2, 1);", "char matrices"),
    ("x = repmat(1, 2000, 2000);", "more than netspec allows"),
])
def test_repmat_refusals(text, message):
    assert message in error_of(text).message


# -- segnetLayers --------------------------------------------------------------------------------

def test_segnet_layers_documented_example():
    """https://www.mathworks.com/help/vision/ref/segnetlayers.html: segnetLayers([480 640 3],5,4)
    displays InputNames {'inputImage'}, OutputNames {'pixelLabels'}, Layers [59x1], Connections [66x2]."""
    net = network("lgraph = segnetLayers([480 640 3], 5, 4);")
    assert (len(net.layers), len(net.connections)) == (59, 66)
    assert net.inputs == ["inputImage"] and net.outputs == ["pixelLabels"]
    unpool = {(e.source, e.source_port, e.destination_port) for e in net.connections
              if e.destination == "decoder3_unpool"}
    assert unpool == {("decoder4_relu_1", "out", "in"), ("encoder3_maxpool", "indices", "indices"),
                      ("encoder3_maxpool", "size", "size")}
    assert net.layer("decoder1_conv1").num_filters == 5 and net.layer("decoder2_conv1").num_filters == 64


@pytest.mark.parametrize("text, output", [
    ("lgraph = segnetLayers([32 32], 2, 2);", (2, 32, 32)),
    ("lgraph = segnetLayers([24 40 3], 3, 3, 'NumConvolutionLayers', [1 2 3], 'NumOutputChannels', [4 8 16], "
     "'FilterSize', 5);", (3, 24, 40)),
])
def test_segnet_learnables_and_output_size_match_pytorch(text, output):
    net = network(text)
    analysis = analyze(net)
    assert not analysis.has_errors, analysis.diagnostics
    model = to_torch(net, seed=0).eval()
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.learnables
    size = net.layers[0].input_size
    with torch.no_grad():
        y = model(torch.rand(1, size[2], size[0], size[1]))
    assert tuple(y.shape) == (1, *output)


def test_segnet_learnables_by_hand():
    """Depth 2, 64 channels, grayscale, 2 classes: 3x3 convolutions with their biases and the batch
    normalizations' scale and offset (biases are learnables even with their rate fixed at 0)."""
    conv = lambda c_in, c_out: 9 * c_in * c_out + c_out  # noqa: E731
    expected = (conv(1, 64) + conv(64, 64) + conv(64, 64) + conv(64, 64)  # encoder
                + conv(64, 64) + conv(64, 64) + conv(64, 64) + conv(64, 2)  # decoder
                + 2 * (7 * 64 + 2))  # batch normalizations
    net = network("lgraph = segnetLayers([32 32], 2, 2);")
    assert analyze(net).totals.learnables == expected
    conv1 = net.layer("encoder1_conv1")
    assert (conv1.padding, conv1.weights_initializer, conv1.bias_learn_rate_factor) == ((1, 1, 1, 1), "he", 0)


@pytest.mark.parametrize("text, message", [
    ("lgraph = segnetLayers([32 32 3], 2, 'vgg16');", "pretrained 'vgg16' form"),
    ("lgraph = segnetLayers([32 32 3], 2, 2, 'NumOutputChannels', [8 16 32]);",
     "'NumOutputChannels' has 3 values for an encoder depth of 2"),
    ("lgraph = segnetLayers([32 32 3], 2, 2, 'FilterSize', 4);", "odd"),
])
def test_segnet_arguments_netspec_refuses(text, message):
    assert message in error_of(text).message


def test_segnet_output_layer_replaced_with_class_weights_from_data():
    """The pixel-label workflow: the classes and weights come from countEachLabel of the data."""
    net = network("""\
        lgraph = segnetLayers([32 32], 2, 2);
        tbl = countEachLabel(trainingData);
        classWeights = 1 ./ (tbl.PixelCount / sum(tbl.PixelCount));
        pxLayer = pixelClassificationLayer('Name', 'labels', 'ClassNames', tbl.Name, 'ClassWeights', classWeights);
        lgraph = removeLayers(lgraph, 'pixelLabels');
        lgraph = addLayers(lgraph, pxLayer);
        lgraph = connectLayers(lgraph, 'softmax', 'labels');
        """)
    assert net.outputs == ["labels"] and len(net.layers) == 31
