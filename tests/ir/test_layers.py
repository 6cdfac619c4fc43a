"""Every layer of the catalogue (SPEC §3), constructed from MATLAB syntax with only its
required arguments, has MATLAB's defaults and default name. Adding a layer class without
a row here fails `test_every_registered_layer_is_covered`."""

from __future__ import annotations

import math
from typing import get_args

import pytest

from netspec.diagnostics import NetspecError
from netspec.ir import CONSTRUCTORS, LAYERS, Layer
from netspec.ir.base import TRAITS, Family
from netspec.language import load_source

WEIGHTED = {
    "weights_initializer": "glorot", "bias_initializer": "zeros", "weight_learn_rate_factor": 1.0,
    "bias_learn_rate_factor": 1.0, "weight_l2_factor": 1.0, "bias_l2_factor": 0.0, "bias_term": True,
    "weights": None, "bias": None,
}
RECURRENT = {  # MATLAB's defaults of lstmLayer, bilstmLayer and gruLayer (their documentation pages)
    "output_mode": "sequence", "has_state_inputs": False, "has_state_outputs": False, "input_size": "auto",
    "state_activation_function": "tanh", "gate_activation_function": "sigmoid",
    "input_weights_initializer": "glorot", "recurrent_weights_initializer": "orthogonal",
    "input_weights_learn_rate_factor": 1.0, "recurrent_weights_learn_rate_factor": 1.0,
    "bias_learn_rate_factor": 1.0, "input_weights_l2_factor": 1.0, "recurrent_weights_l2_factor": 1.0,
    "bias_l2_factor": 0.0, "input_weights": None, "recurrent_weights": None, "bias": None, "hidden_state": None,
}
LSTM = {**RECURRENT, "bias_initializer": "unit-forget-gate", "cell_state": None}
AFFINE_NORM = {
    "epsilon": 1e-5, "num_channels": "auto", "scale_learn_rate_factor": 1.0, "offset_learn_rate_factor": 1.0,
    "scale_l2_factor": 1.0, "offset_l2_factor": 1.0, "offset": None, "scale": None,
}
INPUT_STATS = {"normalization_dimension": "auto", "mean": None, "standard_deviation": None, "min": None,
               "max": None}

# kind -> (MATLAB expression with only the required arguments, default name, expected fields)
CASES: dict[str, tuple[str, str, dict]] = {
    "relu": ("reluLayer", "relu", {}),
    "leaky_relu": ("leakyReluLayer", "leakyrelu", {"scale": 0.01}),
    "clipped_relu": ("clippedReluLayer(6)", "clippedrelu", {"ceiling": 6}),
    "elu": ("eluLayer", "elu", {"alpha": 1.0}),
    "tanh": ("tanhLayer", "tanh", {}),
    "sigmoid": ("sigmoidLayer", "sigmoid", {}),
    "swish": ("swishLayer", "swish", {}),
    "gelu": ("geluLayer", "gelu", {"approximation": "none"}),
    "softmax": ("softmaxLayer", "softmax", {}),
    "convolution2d": ("convolution2dLayer(3, 16)", "conv", {
        "filter_size": (3, 3), "num_filters": 16, "stride": (1, 1), "dilation_factor": (1, 1),
        "padding": (0, 0, 0, 0), "padding_value": 0.0, "num_channels": "auto", **WEIGHTED}),
    "grouped_convolution2d": ("groupedConvolution2dLayer(3, 4, 2)", "groupedconv", {
        "filter_size": (3, 3), "num_filters_per_group": 4, "num_groups": 2, "stride": (1, 1),
        "dilation_factor": (1, 1), "padding": (0, 0, 0, 0), "padding_value": 0.0,
        "num_channels_per_group": "auto", **WEIGHTED}),
    "transposed_conv2d": ("transposedConv2dLayer(4, 8)", "transconv", {
        "filter_size": (4, 4), "num_filters": 8, "stride": (1, 1), "cropping": (0, 0, 0, 0),
        "num_channels": "auto", **WEIGHTED}),
    "convolution1d": ("convolution1dLayer(5, 32)", "conv1d", {
        "filter_size": 5, "num_filters": 32, "stride": 1, "dilation_factor": 1, "padding": (0, 0),
        "padding_value": 0.0, "num_channels": "auto", **WEIGHTED}),
    "fully_connected": ("fullyConnectedLayer(10)", "fc", {"output_size": 10, "input_size": "auto", **WEIGHTED}),
    "image_input": ("imageInputLayer([28 28 1])", "imageinput", {
        "input_size": (28, 28, 1), "normalization": "zerocenter", **INPUT_STATS}),
    "feature_input": ("featureInputLayer(12)", "input", {
        "input_size": 12, "normalization": "none", **INPUT_STATS}),
    "sequence_input": ("sequenceInputLayer(3)", "sequenceinput", {
        "input_size": 3, "min_length": None, "normalization": "none", **INPUT_STATS}),
    "classification": ("classificationLayer", "classoutput", {"classes": "auto", "class_weights": "none"}),
    "regression": ("regressionLayer", "regressionoutput", {"response_names": []}),
    "pixel_classification": ("pixelClassificationLayer", "classoutput", {"classes": "auto", "class_weights": "none"}),
    "dice_pixel_classification": ("dicePixelClassificationLayer", "classoutput", {"classes": "auto"}),
    "batch_normalization": ("batchNormalizationLayer", "batchnorm", {
        **AFFINE_NORM, "mean_decay": 0.1, "variance_decay": 0.1, "trained_mean": None, "trained_variance": None}),
    "layer_normalization": ("layerNormalizationLayer", "layernorm", AFFINE_NORM),
    "cross_channel_normalization": ("crossChannelNormalizationLayer(5)", "crossnorm", {
        "window_channel_size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}),
    "max_pooling2d": ("maxPooling2dLayer(2)", "maxpool", {
        "pool_size": (2, 2), "stride": (1, 1), "padding": (0, 0, 0, 0), "has_unpooling_outputs": False}),
    "max_unpooling2d": ("maxUnpooling2dLayer", "maxunpool", {}),
    "average_pooling2d": ("averagePooling2dLayer(3)", "avgpool", {
        "pool_size": (3, 3), "stride": (1, 1), "padding": (0, 0, 0, 0), "padding_value": 0.0}),
    "max_pooling1d": ("maxPooling1dLayer(2)", "maxpool1d", {"pool_size": 2, "stride": 1, "padding": (0, 0)}),
    "average_pooling1d": ("averagePooling1dLayer(2)", "avgpool1d", {
        "pool_size": 2, "stride": 1, "padding": (0, 0), "padding_value": 0.0}),
    "global_average_pooling2d": ("globalAveragePooling2dLayer", "gapool", {}),
    "global_max_pooling2d": ("globalMaxPooling2dLayer", "gmpool", {}),
    "global_average_pooling1d": ("globalAveragePooling1dLayer", "gapool1d", {}),
    "global_max_pooling1d": ("globalMaxPooling1dLayer", "gmpool1d", {}),
    "addition": ("additionLayer(2)", "addition", {"num_inputs": 2}),
    "depth_concatenation": ("depthConcatenationLayer(2)", "depthcat", {"num_inputs": 2}),
    "concatenation": ("concatenationLayer(3, 2)", "concat", {"dim": 3, "num_inputs": 2}),
    "multiplication": ("multiplicationLayer(2)", "multiplication", {"num_inputs": 2}),
    "channel_shuffling": ("nnet.shufflenet.layer.ChannelShufflingLayer('shuffle', 4)", "shuffle", {"groups": 4}),
    "flatten": ("flattenLayer", "flatten", {}),
    "dropout": ("dropoutLayer", "dropout", {"probability": 0.5}),
    "spatial_dropout": ("spatialDropoutLayer", "spatialdropout", {"probability": 0.5}),
    "crop2d": ("crop2dLayer('centercrop')", "crop", {"location": "centercrop"}),
    # MATLAB names the Image Processing Toolbox's custom layers 'layer' when they have no name
    "depth_to_space2d": ("depthToSpace2dLayer(2)", "layer", {"block_size": (2, 2), "mode": "dcr"}),
    "space_to_depth": ("spaceToDepthLayer(2)", "layer", {"block_size": (2, 2)}),
    "sequence_folding": ("sequenceFoldingLayer", "seqfold", {}),
    "sequence_unfolding": ("sequenceUnfoldingLayer", "sequnfold", {}),
    "self_attention": ("selfAttentionLayer(4, 64)", "selfattention", {
        "num_heads": 4, "num_key_channels": 64, "num_value_channels": "auto", "output_size": "auto",
        "has_padding_mask_input": False, "attention_mask": "none", "dropout_probability": 0.0,
        "has_scores_output": False, "weights_initializer": "glorot", "bias_initializer": "zeros",
        "weight_learn_rate_factor": 1.0, "bias_learn_rate_factor": 1.0, "weight_l2_factor": 1.0,
        "bias_l2_factor": 0.0, "query_weights": None, "key_weights": None, "value_weights": None,
        "output_weights": None, "query_bias": None, "key_bias": None, "value_bias": None, "output_bias": None}),
    "position_embedding": ("positionEmbeddingLayer(64, 100)", "posembed", {
        "output_size": 64, "max_position": 100, "position_dimension": "auto", "weights_initializer": "narrow-normal",
        "weight_learn_rate_factor": 1.0, "weight_l2_factor": 1.0, "weights": None}),
    "sinusoidal_position_encoding": ("sinusoidalPositionEncodingLayer(64)", "posenc", {
        "output_size": 64, "positions": "auto"}),
    "indexing1d": ("indexing1dLayer", "index1d", {"index": "first", "has_padding_mask_input": False}),
    "word_embedding": ("wordEmbeddingLayer(300, 5000)", "wordembed", {
        "dimension": 300, "num_words": 5000, "oov_mode": "map-to-last", "weights_initializer": "narrow-normal",
        "weight_learn_rate_factor": 1.0, "weight_l2_factor": 1.0, "weights": None}),
    "lstm": ("lstmLayer(100)", "lstm", {"num_hidden_units": 100, **LSTM}),
    "bilstm": ("bilstmLayer(100)", "bilstm", {"num_hidden_units": 100, **LSTM}),
    "gru": ("gruLayer(100)", "gru", {"num_hidden_units": 100, **RECURRENT, "bias_initializer": "zeros",
                                     "reset_gate_mode": "after-multiplication"}),
    # resize2dLayer has no required positional argument but needs Scale or OutputSize
    "resize2d": ("resize2dLayer('Scale', 2)", "resize", {
        "scale": (2.0, 2.0), "output_size": None, "method": "nearest", "geometric_transform_mode": "half-pixel",
        "nearest_rounding_mode": "round"}),
}


def make(expression: str):
    """The single layer of `layers = EXPRESSION;` (named as MATLAB names it in a network)."""
    network = load_source(f"layers = {expression};\n", "layer.net").network
    assert len(network.layers) == 1
    return network.layers[0]


def test_every_registered_layer_is_covered():
    assert set(CASES) == set(LAYERS), "add a row to CASES for every layer class (and only those)"


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_every_layer_states_its_traits_in_its_own_class(kind):
    """No trait has a default, and none is inherited: a new layer that forgets one fails here."""
    cls = LAYERS[kind]
    assert [trait for trait in TRAITS if trait not in vars(cls)] == [], f"{cls.__name__}: set these traits"
    assert isinstance(cls.elementwise, bool) and isinstance(cls.torch_counted, bool)
    assert cls.family in get_args(Family)


def test_traits_have_no_default():
    assert not any(hasattr(Layer, trait) for trait in TRAITS)


def test_trait_values():
    """Element-wise: what a 1×1 bottleneck passes through; torch-counted: FlopCounterMode's ops."""
    assert {k for k, cls in LAYERS.items() if cls.elementwise} == {
        "batch_normalization", "relu", "leaky_relu", "clipped_relu", "elu", "tanh", "sigmoid", "swish", "gelu",
        "dropout", "spatial_dropout"}
    assert {k for k, cls in LAYERS.items() if cls.torch_counted} == {
        "convolution2d", "grouped_convolution2d", "transposed_conv2d", "convolution1d", "fully_connected",
        "self_attention", "lstm", "bilstm", "gru"}
    families = {}
    for kind, cls in LAYERS.items():
        families.setdefault(cls.family, set()).add(kind)
    assert families["merge"] == {"addition", "depth_concatenation", "concatenation", "multiplication"}
    assert families["fc"] == {"fully_connected", "self_attention"}
    assert families["recurrent"] == {"lstm", "bilstm", "gru"}
    assert families["other"] == {"flatten", "dropout", "resize2d", "channel_shuffling", "spatial_dropout", "crop2d",
                                 "depth_to_space2d", "space_to_depth", "sequence_folding", "sequence_unfolding",
                                 "position_embedding", "sinusoidal_position_encoding", "indexing1d", "word_embedding"}
    assert "softmax" in families["activation"] and "classification" in families["io"]


def test_constructors_registry_matches_layers():
    assert set(CONSTRUCTORS) == {cls.matlab for cls in LAYERS.values()}
    for name, cls in CONSTRUCTORS.items():
        assert cls.matlab == name and LAYERS[cls.model_fields["kind"].default] is cls


@pytest.mark.parametrize("kind", sorted(CASES))
def test_defaults(kind):
    expression, default_name, expected = CASES[kind]
    layer = make(expression)
    assert layer.kind == kind
    assert type(layer) is LAYERS[kind]
    assert layer.name == default_name == type(layer).base_name
    assert layer.span is not None and layer.span.line == 1
    fields = {f for f in type(layer).model_fields if f not in ("kind", "name", "span")}
    assert set(expected) == fields, f"{kind}: assert every field's default"
    for field, value in expected.items():
        assert getattr(layer, field) == value, f"{kind}.{field}"


@pytest.mark.parametrize("kind", sorted(k for k, cls in LAYERS.items() if cls.required))
def test_required_arguments_are_required(kind):
    with pytest.raises(NetspecError) as info:
        make(LAYERS[kind].matlab + "()")
    assert info.value.diagnostic.code == "E201"
    assert info.value.diagnostic.span is not None


@pytest.mark.parametrize("kind", sorted(CASES))
def test_name_option_and_case_insensitive_constructor_options(kind):
    expression, _, _ = CASES[kind]
    if expression.endswith(")"):
        inner = expression[expression.index("(") + 1:-1]
        call = f"{expression[:expression.index('(')]}({inner}, 'nAmE', 'custom')"
    else:
        call = f"{expression}('Name', 'custom')"
    assert make(call).name == "custom"


# -- specific MATLAB semantics ------------------------------------------------------------------

def test_pooling_stride_defaults_to_one():
    assert make("maxPooling2dLayer(2)").stride == (1, 1)
    assert make("averagePooling2dLayer([3 2])").stride == (1, 1)
    assert make("averagePooling2dLayer([3 2])").pool_size == (3, 2)


@pytest.mark.parametrize("padding, expected", [
    ("1", (1, 1, 1, 1)),
    ("[1 2]", (1, 1, 2, 2)),  # [top/bottom left/right]
    ("[1 2 3 4]", (1, 2, 3, 4)),  # [top bottom left right]
    ("0", (0, 0, 0, 0)),
    ("'same'", "same"),
    ("'Same'", "same"),
])
@pytest.mark.parametrize("constructor", ["convolution2dLayer(3, 8", "groupedConvolution2dLayer(3, 2, 2",
                                         "maxPooling2dLayer(3", "averagePooling2dLayer(3"])
def test_padding_forms(constructor, padding, expected):
    assert make(f"{constructor}, 'Padding', {padding})").padding == expected


def test_transposed_cropping_forms():
    assert make("transposedConv2dLayer(4, 8, 'Cropping', 1)").cropping == (1, 1, 1, 1)
    assert make("transposedConv2dLayer(4, 8, 'Cropping', [1 2])").cropping == (1, 1, 2, 2)
    assert make("transposedConv2dLayer(4, 8, 'Cropping', 'same')").cropping == "same"


@pytest.mark.parametrize("padding, expected", [("2", (2, 2)), ("[1 3]", (1, 3)), ("'same'", "same"),
                                               ("'causal'", "causal")])
def test_padding_1d_forms(padding, expected):
    assert make(f"convolution1dLayer(3, 4, 'Padding', {padding})").padding == expected


def test_scalar_sizes_expand_to_pairs():
    layer = make("convolution2dLayer(5, 8, 'Stride', 2, 'DilationFactor', 3)")
    assert layer.filter_size == (5, 5) and layer.stride == (2, 2) and layer.dilation_factor == (3, 3)
    layer = make("convolution2dLayer([3 1], 8, 'Stride', [2 1], 'DilationFactor', [1 2])")
    assert layer.filter_size == (3, 1) and layer.stride == (2, 1) and layer.dilation_factor == (1, 2)
    assert make("maxPooling2dLayer(3, 'Stride', 2)").stride == (2, 2)
    assert make("transposedConv2dLayer(4, 8, 'Stride', 2)").stride == (2, 2)


def test_grouped_convolution_channel_wise():
    layer = make("groupedConvolution2dLayer(3, 1, 'channel-wise', 'Stride', 2, 'Padding', 'same')")
    assert layer.num_groups == "channel-wise" and layer.num_filters_per_group == 1
    assert make("groupedConvolution2dLayer(3, 1, 'Channel-Wise')").num_groups == "channel-wise"


@pytest.mark.parametrize("constructor", ["convolution2dLayer(3, 8", "groupedConvolution2dLayer(3, 2, 2",
                                         "transposedConv2dLayer(3, 8", "convolution1dLayer(3, 8",
                                         "fullyConnectedLayer(8"])
def test_bias_term_false(constructor):
    assert make(f"{constructor}, 'BiasTerm', false)").bias_term is False
    assert make(f"{constructor})").bias_term is True


def test_weight_options():
    layer = make("convolution2dLayer(3, 8, 'WeightsInitializer', 'he', 'BiasInitializer', 'narrow-normal', "
                 "'WeightLearnRateFactor', 0, 'BiasLearnRateFactor', 2, 'WeightL2Factor', 0.5, 'BiasL2Factor', 1)")
    assert layer.weights_initializer == "he" and layer.bias_initializer == "narrow-normal"
    assert (layer.weight_learn_rate_factor, layer.bias_learn_rate_factor) == (0, 2)
    assert (layer.weight_l2_factor, layer.bias_l2_factor) == (0.5, 1)


def test_image_input_two_element_size_is_grayscale():
    assert make("imageInputLayer([28 28])").input_size == (28, 28, 1)


def test_image_input_normalization_options():
    assert make("imageInputLayer([8 8 3], 'Normalization', 'none')").normalization == "none"
    assert make("imageInputLayer([8 8 3], 'Normalization', 'zscore')").normalization == "zscore"


def test_positional_optional_arguments():
    assert make("dropoutLayer(0.3)").probability == 0.3
    assert make("leakyReluLayer(0.2)").scale == 0.2
    assert make("eluLayer(0.5)").alpha == 0.5
    assert make("crossChannelNormalizationLayer(5, 'Alpha', 2e-5, 'Beta', 0.5, 'K', 1)").k == 1


def test_cross_channel_normalization_options():
    layer = make("crossChannelNormalizationLayer(5, 'Alpha', 2e-5, 'Beta', 0.5, 'K', 1)")
    assert (layer.alpha, layer.beta, layer.k) == (2e-5, 0.5, 1)


def test_batch_normalization_epsilon_option():
    assert make("batchNormalizationLayer('Epsilon', 1e-3)").epsilon == 1e-3


def test_resize_output_size():
    layer = make("resize2dLayer('OutputSize', [32 32], 'Method', 'bilinear')")
    assert layer.output_size == (32, 32) and layer.scale is None and layer.method == "bilinear"


def test_resize_needs_exactly_one_size():
    with pytest.raises(NetspecError):
        make("resize2dLayer")
    with pytest.raises(NetspecError):
        make("resize2dLayer('Scale', 2, 'OutputSize', [4 4])")


def test_classification_layer_classes():
    layer = make("classificationLayer('Classes', {'cat', 'dog'})")
    assert layer.classes == ["cat", "dog"]


@pytest.mark.parametrize("expression, location, mode", [
    ("crop2dLayer('centercrop')", "centercrop", "centercrop"),
    ("crop2dLayer('CenterCrop')", "centercrop", "centercrop"),
    ("crop2dLayer([3 4])", (3, 4), "custom"),
    ("crop2dLayer(2)", (2, 2), "custom"),  # MATLAB's crop2dLayer repeats a scalar location
])
def test_crop2d_location_forms(expression, location, mode):
    layer = make(expression)
    assert (layer.location, layer.mode) == (location, mode)


def test_depth_to_space_mode_and_block_forms():
    layer = make("depthToSpace2dLayer([2 1], 'Mode', 'CRD')")
    assert (layer.block_size, layer.mode) == ((2, 1), "crd")
    assert make("spaceToDepthLayer([3 2])").block_size == (3, 2)


def test_spatial_dropout_probability_by_name_and_by_position():
    assert make("spatialDropoutLayer('Probability', 0.25)").probability == 0.25
    assert make("spatialDropoutLayer(Probability=0.25)").probability == 0.25
    assert make("spatialDropoutLayer(0.1)").probability == 0.1  # the form of MATLAB's TCN example layer


def test_pixel_classification_options():
    layer = make("pixelClassificationLayer('Classes', {'sky', 'road'}, 'ClassWeights', [1 4])")
    assert (layer.classes, layer.class_weights) == (["sky", "road"], [1.0, 4.0])
    assert make("dicePixelClassificationLayer('Classes', [\"a\" \"b\" \"c\"])").classes == ["a", "b", "c"]


def test_pixel_classification_class_names_option_is_the_classes():
    """`ClassNames` is what 'Classes' was called until R2019b; MATLAB still accepts it."""
    result = load_source("layers = pixelClassificationLayer('ClassNames', {'a', 'b'}, 'ClassWeights', [1 2]);\n",
                         "layer.net")
    assert (result.network.layers[0].classes, result.network.layers[0].class_weights) == (["a", "b"], [1.0, 2.0])
    assert result.diagnostics == []


def test_invalid_values_are_rejected():
    for expression in ("dropoutLayer(1.5)", "convolution2dLayer(0, 8)", "convolution2dLayer(3, 8, 'Stride', -1)",
                       "convolution2dLayer(3, 8, 'Padding', 'valid')", "maxPooling2dLayer([2 2 2])",
                       "convolution2dLayer(3, 8, 'WeightsInitializer', 'bogus')", "crop2dLayer('middle')",
                       "crop2dLayer([0 1])", "crop2dLayer([1 2 3])", "depthToSpace2dLayer(2, 'Mode', 'rdc')",
                       "spatialDropoutLayer('Probability', 1)",
                       "pixelClassificationLayer('Classes', {'a', 'b'}, 'ClassWeights', [1 2 3])"):
        with pytest.raises(NetspecError) as info:
            make(expression)
        assert info.value.diagnostic.span is not None, expression


def test_unknown_option_suggests_the_right_one():
    with pytest.raises(NetspecError) as info:
        make("convolution2dLayer(3, 8, 'Stide', 2)")
    diagnostic = info.value.diagnostic
    assert diagnostic.code == "E204" and "Stride" in (diagnostic.hint or "")


# -- ports ------------------------------------------------------------------------------------------

def test_port_names_of_multi_input_layers():
    assert make("additionLayer(3)").input_names == ["in1", "in2", "in3"]
    assert make("depthConcatenationLayer(4)").input_names == ["in1", "in2", "in3", "in4"]
    concat = make("concatenationLayer(3, 2)")
    assert concat.input_names == ["in1", "in2"] and concat.dim == 3 and concat.num_inputs == 2
    assert make("multiplicationLayer(3)").input_names == ["in1", "in2", "in3"]
    for expression in ("additionLayer(3)", "depthConcatenationLayer(4)", "concatenationLayer(3, 2)",
                       "multiplicationLayer(2)"):
        assert make(expression).output_names == ["out"]


MULTI_PORT = {  # kind: (MATLAB expression, its InputNames, its OutputNames), from MATLAB's documentation
    "crop2d": ("crop2dLayer([1 1])", ["in", "ref"], ["out"]),
    "max_unpooling2d": ("maxUnpooling2dLayer", ["in", "indices", "size"], ["out"]),
    "max_pooling2d": ("maxPooling2dLayer(2, 'HasUnpoolingOutputs', true)", ["in"], ["out", "indices", "size"]),
    "sequence_folding": ("sequenceFoldingLayer", ["in"], ["out", "miniBatchSize"]),
    "sequence_unfolding": ("sequenceUnfoldingLayer", ["in", "miniBatchSize"], ["out"]),
}


@pytest.mark.parametrize("kind", sorted(MULTI_PORT))
def test_ports_of_layers_with_several(kind):
    expression, inputs, outputs = MULTI_PORT[kind]
    layer = make(expression)
    assert (layer.input_names, layer.output_names) == (inputs, outputs)


def test_max_pooling_has_one_output_without_unpooling_outputs():
    assert make("maxPooling2dLayer(2, 'HasUnpoolingOutputs', false)").output_names == ["out"]


@pytest.mark.parametrize("kind", sorted(CASES))
def test_single_ports(kind):
    layer = make(CASES[kind][0])
    if kind in ("addition", "depth_concatenation", "concatenation", "multiplication", "crop2d", "max_unpooling2d",
                "sequence_folding", "sequence_unfolding"):
        return  # several ports: test_port_names_of_multi_input_layers, test_ports_of_layers_with_several
    cls = LAYERS[kind]
    if kind.endswith("_input"):
        assert layer.input_names == []
    else:
        assert layer.input_names == ["in"]
    if kind in ("classification", "regression", "pixel_classification", "dice_pixel_classification"):
        assert layer.output_names == []
    else:
        assert layer.output_names == ["out"]
    assert cls.matlab.endswith("Layer")


def test_integer_values_become_floats_for_float_fields():
    layer = make("clippedReluLayer(6)")
    assert isinstance(layer.ceiling, float) and not math.isinf(layer.ceiling)


# -- multiplication (broadcasting) and channel shuffle ---------------------------------------------

def shapes_of(text: str) -> dict[str, list]:
    from netspec.analysis import analyze
    report = analyze(load_source(text, "t.net").network)
    return {row.name: row.output_dims for row in report.layers} | {
        "errors": [d.code for d in report.diagnostics if d.severity.value == "error"]}


MULTIPLY = """
lgraph = layerGraph([imageInputLayer([6 6 8],'Name','in'); {gate}; multiplicationLayer(2,'Name','m')]);
lgraph = connectLayers(lgraph,'in','m/in2');
"""


@pytest.mark.parametrize("gate, product", [
    ("globalAveragePooling2dLayer('Name','g')", [6, 6, 8]),         # 1×1×8 scales 6×6×8 (squeeze-excitation)
    ("convolution2dLayer(1,1,'Name','g')", [6, 6, 8]),              # 6×6×1 scales every channel
    ("convolution2dLayer(1,8,'Name','g')", [6, 6, 8]),              # same sizes
])
def test_multiplication_broadcasts_singleton_dimensions(gate, product):
    shapes = shapes_of(MULTIPLY.format(gate=gate))
    assert shapes["m"] == [product] and shapes["errors"] == []


@pytest.mark.parametrize("gate", ["convolution2dLayer(1,4,'Name','g')",            # 4 channels against 8
                                  "maxPooling2dLayer(2,'Stride',2,'Name','g')"])  # 3×3 against 6×6
def test_multiplication_refuses_sizes_that_are_neither_equal_nor_one(gate):
    shapes = shapes_of(MULTIPLY.format(gate=gate))
    assert shapes["errors"] == ["A103"] and shapes["m"] == []


def test_channel_shuffle_keeps_the_shape_and_needs_groups_to_divide_the_channels():
    ok = shapes_of("layers = [imageInputLayer([5 5 12]); nnet.shufflenet.layer.ChannelShufflingLayer('s', 4)];")
    assert ok["s"] == [[5, 5, 12]] and ok["errors"] == []
    bad = shapes_of("layers = [imageInputLayer([5 5 10]); nnet.shufflenet.layer.ChannelShufflingLayer('s', 4)];")
    assert bad["errors"] == ["A105"]


def test_a_package_qualified_constructor_is_called_only_when_no_variable_shadows_it():
    layer = make("nnet.shufflenet.layer.ChannelShufflingLayer('shuffle_8to10', 4)")
    assert layer.name == "shuffle_8to10" and layer.groups == 4 and layer.display_type() == layer.matlab
    network = load_source("nnet.x = 3;\nn = nnet.x;\nlayers = fullyConnectedLayer(n);\n", "t.net").network
    assert network.layers[0].output_size == 3
