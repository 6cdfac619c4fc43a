"""Gaps found on public MATLAB code: shortened option names (MATLAB's partial matching), layers'
learn-rate and L2 factors set by function, `deal`, `mean`/`std`/`var`, `append`, a string plus
numbers, and assignments that grow or delete inside structs."""

from __future__ import annotations

import math
import textwrap

import pytest

from netspec.diagnostics import NetspecError
from netspec.language import load_file, load_source
from netspec.language.values import Cell, Opaque, Str

from .test_constructs import py, variables

SEQUENCE = """layers = [sequenceInputLayer(3)
    lstmLayer(8, 'OutputMode', 'last')
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
"""


def load(text: str):
    return load_source(textwrap.dedent(text), "x.net")


def error_of(text: str):
    with pytest.raises(NetspecError) as caught:
        load_source(textwrap.dedent(text) + "\nlayers = reluLayer;\n", "x.net")
    return next(d for d in caught.value.diagnostics if d.severity.value == "error")


# -- partial option names ------------------------------------------------------------------------

def test_training_options_take_an_unambiguous_prefix():
    """trainingOptions parses its options with inputParser's PartialMatching: 'MaxEpoch' is MaxEpochs."""
    result = load(SEQUENCE + "options = trainingOptions('adam', 'MaxEpoch', 20, 'MiniBatch', 16, "
                  "'initiallearn', 0.01);\n")
    options = result.variables["options"].options
    assert (options.max_epochs, options.mini_batch_size, options.initial_learn_rate) == (20, 16, 0.01)


def test_layer_options_take_a_prefix_in_any_case():
    network = load("""layers = [sequenceInputLayer(3)
        lstmLayer(8, 'OutputM', 'last', 'inputweightsL2', 3)
        fullyConnectedLayer(2, 'biasLearn', 0)
        softmaxLayer
        classificationLayer];
        """).network
    lstm, fc = network.layers[1], network.layers[2]
    assert lstm.output_mode == "last" and lstm.input_weights_l2_factor == 3
    assert fc.bias_learn_rate_factor == 0


def test_an_exact_name_wins_over_longer_ones():
    """'Name' is an option, and also begins no other; 'Bias' begins BiasInitializer, BiasL2Factor...
    but as a whole name it is the Bias option."""
    network = load("layers = [featureInputLayer(2); fullyConnectedLayer(2, 'Bias', [1; 2], 'Name', 'fc')];\n").network
    assert network.layers[1].name == "fc" and network.layers[1].bias is not None


def test_an_ambiguous_prefix_names_the_candidates():
    diagnostic = error_of("opts = trainingOptions('sgdm', 'Valid', 3);")
    assert diagnostic.code == "E204" and diagnostic.message.startswith("ambiguous option 'Valid' for trainingOptions")
    assert "'ValidationFrequency'" in diagnostic.message and "'ValidationPatience'" in diagnostic.message


def test_a_misspelled_option_still_gets_a_suggestion():
    diagnostic = error_of("x = convolution2dLayer(3, 16, 'Stides', 2);")
    assert diagnostic.code == "E204" and diagnostic.hint == "did you mean 'Stride'?"


def test_an_ignored_training_option_is_matched_by_prefix_too():
    result = load(SEQUENCE + "options = trainingOptions('adam', 'DispatchInBack', true, 'MaxEpochs', 2);\n")
    assert [d.code for d in result.diagnostics] == ["W201"] and result.variables["options"].options.max_epochs == 2


def test_arguments_block_name_value_prefixes(tmp_path):
    path = tmp_path / "makeNet.m"
    path.write_text(textwrap.dedent("""\
        function layers = makeNet(n, opts)
          arguments
            n (1,1) double
            opts.HiddenUnits (1,1) double = 4
            opts.HiddenMode = 'last'
            opts.Dropout (1,1) double = 0.1
          end
          layers = [sequenceInputLayer(n); lstmLayer(opts.HiddenUnits, 'OutputMode', opts.HiddenMode)
              dropoutLayer(opts.Dropout)];
        end
        """), encoding="utf-8")
    network = load_file(path, arguments="3, 'hiddenU', 12, 'Drop', 0.5").network
    assert network.layers[1].num_hidden_units == 12 and network.layers[2].probability == 0.5
    with pytest.raises(NetspecError) as caught:
        load_file(path, arguments="3, 'Hidden', 12")
    diagnostic = caught.value.diagnostics[-1]
    assert diagnostic.code == "E148"
    assert "'Hidden' is ambiguous, it matches HiddenMode, HiddenUnits" in diagnostic.message


def test_cellfun_uniform_output_prefix():
    assert py(variables("x = cellfun(@(c) [c c], {1, 2}, 'Uni', 0);")["x"]) == [[1.0, 1.0], [2.0, 2.0]]


# -- setL2Factor, setLearnRateFactor, getL2Factor, getLearnRateFactor ------------------------------

def test_set_l2_factor_on_an_element_of_a_layer_array():
    """setL2Factor(layer, 'InputWeights', 2) is layer.InputWeightsL2Factor = 2."""
    network = load(SEQUENCE + "layers(2) = setL2Factor(layers(2), 'InputWeights', 2);\n").network
    lstm = network.layers[1]
    assert lstm.input_weights_l2_factor == 2 and lstm.recurrent_weights_l2_factor == 1


def test_set_learn_rate_factor_weights_maps_to_the_weight_option():
    result = load("""\
        conv = convolution2dLayer(3, 8);
        frozen = setLearnRateFactor(conv, 'Weights', 0);
        bn = setL2Factor(batchNormalizationLayer, 'Offset', 0.5);
        w = getLearnRateFactor(frozen, 'Weights'); b = getLearnRateFactor(frozen, 'Bias');
        o = getL2Factor(bn, 'Offset');
        layers = [imageInputLayer([8 8 1]); frozen; bn];
        """)
    conv, bn = result.network.layers[1], result.network.layers[2]
    assert conv.weight_learn_rate_factor == 0 and conv.bias_learn_rate_factor == 1
    assert result.variables["conv"].layers[0].weight_learn_rate_factor == 1  # a copy: the original is unchanged
    assert bn.offset_l2_factor == 0.5 and bn.scale_l2_factor == 1
    assert [py(result.variables[n]) for n in "wbo"] == [0.0, 1.0, 0.5]


def test_set_factor_of_a_layer_in_a_network():
    """setL2Factor(net, layerName, parameterName, factor) for a dlnetwork."""
    result = load("""\
        net = dlnetwork([featureInputLayer(4); fullyConnectedLayer(3, 'Name', 'fc')]);
        net = setL2Factor(net, 'fc', 'Weights', 4);
        f = getL2Factor(net, 'fc', 'Weights');
        """)
    fc = result.variables["net"].layers["fc"]
    assert fc.weight_l2_factor == 4 and py(result.variables["f"]) == 4.0


def test_an_unknown_parameter_name_is_a_clear_error():
    diagnostic = error_of("x = setL2Factor(lstmLayer(4), 'Weights', 2);")
    assert diagnostic.code == "E141" and "lstmLayer has no learnable parameter 'Weights'" in diagnostic.message
    assert diagnostic.hint == "its learnable parameters: InputWeights, RecurrentWeights, Bias"
    assert "has no learnable parameters" in error_of("x = setL2Factor(reluLayer, 'Weights', 2);").hint


def test_a_negative_factor_is_refused():
    assert error_of("x = setLearnRateFactor(convolution2dLayer(3, 8), 'Bias', -1);").code == "E141"


# -- deal, mean, std, var, append ------------------------------------------------------------------

def test_deal_gives_each_output_its_input_or_copies_one():
    values = variables("[a, b] = deal(3, 16); [c, d] = deal(5); [e, f] = deal(load('x.mat'), 2);")
    assert [py(values[n]) for n in "abcd"] == [3.0, 16.0, 5.0, 5.0]
    assert isinstance(values["e"], Opaque) and py(values["f"]) == 2.0
    assert error_of("[a, b] = deal(1, 2, 3);").code == "E141"


def test_deal_feeds_a_network():
    text = SEQUENCE.replace("(3)", "(nIn)").replace("(8,", "(nHidden,")
    network = load("[nIn, nHidden] = deal(3, 16);\n" + text).network
    assert network.layers[1].num_hidden_units == 16


def test_mean_along_the_first_non_singleton_dimension():
    """mean.html: a vector gives a scalar, a matrix the mean of each column; `mean(A, 2)` of each row."""
    values = variables("a = mean([1 2 3 4]); b = mean([1; 2; 6]); c = mean([0 1 1; 2 3 2; 1 3 2; 4 2 2]);"
                       "d = mean([0 1 1; 2 3 2], 2); e = mean([1 2; 3 4], 'all'); f = mean([]);"
                       "g = mean([1 NaN 3], 'omitnan');")
    assert [py(values[n]) for n in "abcde"] == [2.5, 3.0, [1.75, 2.25, 1.75], [[2 / 3], [7 / 3]], 2.5]
    assert math.isnan(py(values["f"])) and py(values["g"]) == 2.0


def test_std_normalizes_by_n_minus_one():
    """std.html: `A = [4 -5 1; 2 3 5; -9 1 7]; S = std(A)` gives [7.0000 4.1633 3.0551];
    `std([6 4 23 -3; 9 -10 4 11; 2 8 -5 1], 0, 2)` gives [11.0303; 9.4692; ...]; std(x, 1) by N;
    a scalar's is 0."""
    values = variables("s = std([4 -5 1; 2 3 5; -9 1 7]); t = std([2 4 4 4 5 5 7 9], 1); u = std(7);"
                       "v = var([1 2 3 4]); w = std([1 2; 3 6], 0, 2);"
                       "r = std([6 4 23 -3; 9 -10 4 11; 2 8 -5 1], 0, 2);"
                       "[S, M] = std([1 3]);")
    assert py(values["s"]) == pytest.approx([7.0, 4.163332, 3.055050], abs=1e-6)
    assert values["r"].data[:2] == pytest.approx([11.0303, 9.4692], abs=1e-4)
    assert (py(values["S"]), py(values["M"])) == (pytest.approx(math.sqrt(2)), 2.0)
    assert (py(values["t"]), py(values["u"])) == (2.0, 0.0)
    assert py(values["v"]) == pytest.approx(5 / 3) and values["w"].data == pytest.approx([0.7071068, 2.1213203])
    assert (values["w"].rows, values["w"].cols) == (2, 1)


def test_append_keeps_blanks_and_a_string_makes_a_string():
    values = variables("a = append('a', \"b\"); b = append('data ', 'set'); c = append({'x', 'y'}, '_1');")
    assert isinstance(values["a"], Str) and py(values["a"]) == "ab"
    assert py(values["b"]) == "data set" and py(values["c"]) == ["x_1", "y_1"]
    assert error_of("x = append('a', 1);").code == "E141"


# -- a string plus numbers ------------------------------------------------------------------------

def test_a_string_plus_a_numeric_array_is_a_string_array():
    values = variables('names = "Observation " + (1:3); b = [0.5; 2] + "x"; c = "n" + 4;')
    names = values["names"]
    assert isinstance(names, Cell) and (names.rows, names.cols) == (1, 3)
    assert py(names) == ["Observation 1", "Observation 2", "Observation 3"]
    assert (values["b"].rows, py(values["b"])) == (2, ["0.5x", "2x"]) and py(values["c"]) == "n4"


# -- growing and deleting inside structs ----------------------------------------------------------

def test_a_struct_stored_in_an_empty_array():
    """`el = []; el(1) = struct(...)` is the struct; `el(2) = ...` a struct array netspec does not hold:
    unknown, which stops nothing unless the network needs it."""
    result = load("el = []; el(1) = struct('a', 1); a = el.a; g = []; g(2) = struct('a', 1);\n" + SEQUENCE)
    assert py(result.variables["a"]) == 1.0 and isinstance(result.variables["g"], Opaque)
    assert len(result.network.layers) == 5
    assert error_of("s = struct('a', 1); s(2) = struct('b', 2);").code == "E136"  # dissimilar structures


def test_deleting_rows_of_a_field():
    values = variables("d.data = [1 2; 3 4; 5 6]; d.data(1:2, :) = []; x = d.data;"
                       "c = {1:4, 'ab'}; c{1}(2) = []; y = c{1}; s.inner.v = [1 2 3]; s.inner.v(end) = [];")
    assert py(values["x"]) == [5.0, 6.0] and py(values["y"]) == [1.0, 3.0, 4.0]
    assert py(values["s"].fields["inner"].fields["v"]) == [1.0, 2.0]
    assert error_of("d.x = [1 2; 3 4]; d.x(1, 2) = [];").code == "E139"


def test_colon_assignment_creates_a_missing_field():
    """MATLAB sizes each `:` of an array that does not exist (or is []) from the value stored."""
    values = variables("s(1).a = 1; s(1).t(:,:) = (1:3)'; x = []; x(:, 1) = [1; 2]; y(2, :) = [1 2 3];")
    t = values["s"].fields["t"]
    assert (t.rows, t.cols, py(t)) == (3, 1, [[1.0], [2.0], [3.0]])
    assert py(values["x"]) == [[1.0], [2.0]] and py(values["y"]) == [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]


def test_cell_takes_a_size_vector():
    values = variables("a = cell([2 3]); b = cell(3, 1); c = cell(1:6); d = cell();")
    assert (values["a"].rows, values["a"].cols, values["b"].rows, values["b"].cols) == (2, 3, 3, 1)
    assert isinstance(values["c"], Opaque) and "6" in values["c"].reason  # 1x2x3x4x5x6: six dimensions
    assert (values["d"].rows, values["d"].cols) == (0, 0)
    assert error_of("c = cell([10000 10000]);").code == "E502"


def test_an_initializer_given_as_a_function_warns_and_keeps_the_default():
    """MATLAB takes `'WeightsInitializer', @(sz) ...` (a function of the size); netspec never runs
    user functions: the layer keeps its default initializer, with a warning saying so."""
    result = load_source("layers = [imageInputLayer([8 8 1])\n"
                         "    convolution2dLayer(3, 4, 'WeightsInitializer', @(sz) 0.01*randn(sz))\n"
                         "    fullyConnectedLayer(2, 'BiasInitializer', @zeros)];\n", "x.net")
    conv, fc = result.network.layers[1], result.network.layers[2]
    assert conv.weights_initializer == "glorot" and fc.bias_initializer == "zeros"
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("W203", 2), ("W203", 3)]
    assert "'glorot'" in result.diagnostics[0].message
