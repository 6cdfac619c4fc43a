"""Learnable values in the language: the 'Weights'/'Bias'/BN options, property assignment, and the
arrays of more than two dimensions they are written with (`zeros(1,1,32)`, `reshape`, `randn`)."""

from __future__ import annotations

import textwrap

import pytest

from netspec.diagnostics import NetspecError
from netspec.ir import Network
from netspec.language import load_source
from netspec.language.values import Matrix, Opaque


def run(text: str):
    return load_source(textwrap.dedent(text), "x.net")


def layer_of(text: str, index: int = 0):
    return run(text).network.layers[index]


@pytest.mark.parametrize("expression, size, numbers", [
    ("zeros(2, 3, 4)", (2, 3, 4), [0.0] * 24),
    ("ones([1 1 3]) * 2 - 0.5", (1, 1, 3), [1.5] * 3),
    ("-reshape(1:8, 2, [], 2)", (2, 2, 2), [-float(i) for i in range(1, 9)]),
    ("reshape(1:6, 1, 1, 6) / 2", (1, 1, 6), [i / 2 for i in range(1, 7)]),
])
def test_arrays_of_more_dimensions_keep_their_size_and_numbers(expression, size, numbers):
    value = run(f"x = {expression};\nlayers = reluLayer;\n").variables["x"]
    assert isinstance(value, Opaque) and value.size == size and value.values == numbers


def test_random_arrays_keep_their_size_only():
    values = run("x = randn([5 5 3 32]) * 0.01;\ny = rand(4, 2);\nz = randn(3, 3, 3) > 0;\n"
                 "layers = reluLayer;\n").variables
    assert (values["x"].size, values["x"].values) == ((5, 5, 3, 32), None)
    assert values["y"].size == (4, 2) and values["z"].size is None  # a comparison is no longer numbers


def test_reshape_to_two_dimensions_is_a_matrix():
    value = run("x = reshape(1:6, [], 2);\nlayers = reluLayer;\n").variables["x"]
    assert isinstance(value, Matrix) and (value.rows, value.cols, value.data) == (3, 2, [1, 2, 3, 4, 5, 6])


def test_reshape_of_the_wrong_count_is_a_located_error():
    with pytest.raises(NetspecError) as caught:
        run("x = reshape(1:6, 4, 2);\n")
    assert "cannot reshape 6 elements into 4x2" in caught.value.diagnostic.message
    assert caught.value.diagnostic.span.line == 1


def test_options_and_assignments_give_the_layers_learnables():
    network = run("""
        layers = [convolution2dLayer(3, 2, 'Weights', zeros(3, 3, 1, 2), 'Bias', reshape([1 2], 1, 1, 2))
            batchNormalizationLayer('TrainedMean', zeros(1,1,2), 'TrainedVariance', ones(1,1,2), ...
                Scale=reshape([3 4], 1, 1, 2))
            fullyConnectedLayer(2)];
        layers(3).Weights = [1 2; 3 4];
        layers(3).Bias = [0; 0];
    """).network
    conv, bn, fc = network.layers
    assert (conv.weights.size, conv.weights.fill, conv.bias.values) == ((3, 3, 1, 2), 0.0, [1.0, 2.0])
    assert conv.weights.span.line == 2 and conv.weights.span.column > 30
    assert (bn.trained_mean.fill, bn.trained_variance.fill, bn.scale.values, bn.offset) == (0.0, 1.0, [3.0, 4.0], None)
    assert (fc.weights.size, fc.weights.values, fc.bias.fill) == ((2, 2), [1.0, 3.0, 2.0, 4.0], 0.0)
    assert fc.weights.span.line == 6


def test_the_ir_keeps_learnables_through_json():
    network = run("layers = fullyConnectedLayer(2, 'Weights', [1 2 3; 4 5 6], 'Bias', zeros(2, 1));\n").network
    assert Network.model_validate_json(network.model_dump_json()) == network


def test_reading_a_given_property_gives_its_value():
    variables = run("""
        layer = fullyConnectedLayer(2, 'Weights', [1 2; 3 4]);
        w = layer.Weights;
        b = layer.Bias;
        layers = layer;
    """).variables
    assert (variables["w"].rows, variables["w"].data) == (2, [1.0, 3.0, 2.0, 4.0])
    assert isinstance(variables["b"], Opaque)


def test_unknown_learnables_leave_the_layer_known_and_note_it():
    result = run("""
        data = load('pretrained.mat');
        layers = [imageInputLayer([8 8 1])
            convolution2dLayer(3, 4, 'Weights', data.W, 'Bias', data.b)];
    """)
    assert len(result.network.layers) == 2
    notes = [d for d in result.diagnostics if d.code == "W203"]
    # the origin as netspec traces it: the field W of what `load` returned
    assert len(notes) == 2 and "`load.W`" in notes[0].message and notes[0].span.line == 4
    assert result.network.layers[1].weights.size is None and not result.network.layers[1].weights.known


def test_an_empty_learnable_is_not_set():
    assert layer_of("layers = convolution2dLayer(3, 4, 'Weights', []);\n").weights is None


def test_text_is_not_a_learnable():
    with pytest.raises(NetspecError) as caught:
        run("layers = convolution2dLayer(3, 4, 'Bias', 'zeros');\n")
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == "E205" and "invalid Bias for convolution2dLayer" in diagnostic.message
    assert diagnostic.span.column == 43


def test_batch_normalization_statistics_are_no_longer_ignored():
    result = run("layers = batchNormalizationLayer('TrainedMean', zeros(1,1,4), 'ScaleInitializer', 'ones');\n")
    assert [d.code for d in result.diagnostics] == ["W201"]  # only the initializer is still ignored
    assert result.network.layers[0].trained_mean.size == (1, 1, 4)


def test_a_graphs_layers_are_read_only_as_in_matlab():
    with pytest.raises(NetspecError) as caught:
        run("lgraph = layerGraph(convolution2dLayer(3, 4));\nlgraph.Layers(1).Weights = zeros(3, 3, 1, 4);\n")
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == "E135" and diagnostic.span.line == 2 and "replaceLayer" in diagnostic.hint


def test_a_layer_taken_out_changed_and_replaced_keeps_its_weights():
    network = run("""
        lgraph = layerGraph([imageInputLayer([4 4 1]); convolution2dLayer(1, 2, 'Name', 'c')]);
        layer = lgraph.Layers(2);
        layer.Weights = reshape([2 3], 1, 1, 1, 2);
        lgraph = replaceLayer(lgraph, 'c', layer);
    """).network
    assert network.layers[1].weights.values == [2.0, 3.0] and network.layers[1].weights.size == (1, 1, 1, 2)


def test_a_normalization_statistic_from_data_is_left_for_training_to_compute():
    """MATLAB computes an input layer's Mean from the training data when it is not given; one netspec
    cannot compute (loaded from a file) is left unset with W204, and the layer stays known."""
    result = run("""
        stats = load('statistics.mat');
        layers = [imageInputLayer([8 8 1], 'Mean', stats.mu, 'StandardDeviation', 2)
            convolution2dLayer(3, 4)];
    """)
    first = result.network.layers[0]
    assert first.mean is None and first.standard_deviation == 2
    notes = [d for d in result.diagnostics if d.code == "W204"]
    assert len(notes) == 1 and notes[0].span.line == 3 and "Mean of imageInputLayer" in notes[0].message
