"""Constructs of real public MATLAB network files that issue 14's second part reads (each test a
minimal file of our own): class names and weights that come from pixel-label data, a text the code
compares an unbound parameter with, MATLAB's transfer-learning helpers over `lgraph.Connections`
(a table), string arrays, a network loaded from a .mat file, an encoder netspec does not build
(segnetLayers is tested with the other toolbox functions in test_toolbox.py); and syntax MATLAB
accepts that real files write: `~` parameters, `1./x`, `@pkg.fn`, `parfor`/`spmd`, nested functions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from netspec.analysis import analyze
from netspec.diagnostics import NetspecError, Severity
from netspec.language import load_file, load_source, parse_bindings
from netspec.language.values import FunctionHandle


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(exc: NetspecError):
    return [d for d in exc.diagnostics if d.severity is Severity.error][-1]


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# -- class names and weights from data ---------------------------------------------------------

PIXEL_NET = """\
    tbl = countEachLabel(pxds);
    classWeights = 1 ./ (tbl.PixelCount / sum(tbl.PixelCount));
    layers = [imageInputLayer([32 32 3])
        convolution2dLayer(3, 16, 'Padding', 1)
        reluLayer
        convolution2dLayer(1, 4)
        softmaxLayer
        pixelClassificationLayer({option}, tbl.Name, 'ClassWeights', classWeights)];
"""


@pytest.mark.parametrize("option", ["'Classes'", "'ClassNames'"])
def test_class_names_and_weights_from_pixel_label_data_leave_the_network_readable(option):
    result = load_source(textwrap.dedent(PIXEL_NET.format(option=option)), "seg.m")
    output = result.network.layers[-1]
    assert type(output).__name__ == "PixelClassificationLayer"
    assert (output.classes, output.class_weights) == ("auto", "none")
    assert codes(result).count("W205") == 2
    assert result.network.layers[3].num_filters == 4


def test_known_class_names_given_as_classnames_are_the_classes():
    result = load_source("layers = [imageInputLayer([8 8 3]); convolution2dLayer(1, 2); softmaxLayer\n"
                         "    pixelClassificationLayer('ClassNames', {'sky', 'road'}, 'ClassWeights', [0.25 0.75])];\n")
    output = result.network.layers[-1]
    assert (output.classes, output.class_weights) == (["sky", "road"], [0.25, 0.75])


def test_class_weights_from_data_of_a_classification_layer_are_left_unset():
    result = load_source("w = load('weights.mat');\nlayers = [featureInputLayer(4); fullyConnectedLayer(3)\n"
                         "    softmaxLayer; classificationLayer('ClassWeights', w.weights)];\n")
    assert result.network.layers[-1].class_weights == "none" and "W205" in codes(result)


# -- a text the code compares an unbound parameter with ---------------------------------------

def test_a_parameter_compared_with_text_suggests_a_text_that_runs_a_branch(tmp_path):
    path = write(tmp_path, "trainNet.m", """\
        function net = trainNet(poolType)
        if isequal(poolType, 'average')
            pool = averagePooling2dLayer(2, 'Stride', 2);
        end
        if isequal(poolType, 'max')
            pool = maxPooling2dLayer(2, 'Stride', 2);
        end
        layers = [imageInputLayer([8 8 1]); convolution2dLayer(3, 4); pool; fullyConnectedLayer(2)
            softmaxLayer; classificationLayer];
        net = trainNetwork(zeros(8), [], layers, []);
        end
        """)
    with pytest.raises(NetspecError) as caught:
        load_file(path)
    hint = error_of(caught.value).hint
    assert """--set "poolType='average'\"""" in hint
    result = load_file(path, bindings=parse_bindings(["poolType='average'"]))
    assert type(result.network.layers[2]).__name__ == "AveragePooling2dLayer"


def test_switch_cases_and_equality_are_texts_to_suggest(tmp_path):
    path = write(tmp_path, "f.m", """\
        function layers = f(act, mode)
        switch act
            case {"tanh", 'relu'}
                a = tanhLayer;
        end
        if mode == "wide"
            n = 8;
        end
        layers = [featureInputLayer(3); fullyConnectedLayer(n); a];
        end
        """)
    with pytest.raises(NetspecError) as caught:
        load_file(path)
    assert """--set "mode='wide'\"""" in error_of(caught.value).hint
    warnings = {d.hint for d in caught.value.diagnostics if d.code == "W102"}
    assert """bind it with --set "act='tanh'\"""" in warnings


# -- MATLAB's transfer-learning helpers: lgraph.Connections, string arrays, properties ---------

TRANSFER_SCRIPT = """\
    layers = [imageInputLayer([16 16 3], 'Name', 'in')
        convolution2dLayer(3, 8, 'Name', 'conv')
        reluLayer('Name', 'relu')
        dropoutLayer(0.5, 'Name', 'drop')
        fullyConnectedLayer(5, 'Name', 'fc')
        softmaxLayer('Name', 'prob')
        classificationLayer('Name', 'out')];
    lgraph = layerGraph(layers);
    [learnable, output] = lastLearnable(lgraph);
    lgraph = replaceLayer(lgraph, learnable.Name, fullyConnectedLayer(3, 'Name', 'fc3'));
    layers = lgraph.Layers;
    connections = lgraph.Connections;
    layers(1:2) = freezeAll(layers(1:2));
    lgraph = rebuild(layers, connections);
    net = trainNetwork(imds, lgraph, opts);
"""

LAST_LEARNABLE = """\
    function [learnable, output] = lastLearnable(lgraph)
    % walks back from the output layer along string arrays of the connections' ends
    src = string(lgraph.Connections.Source);
    dst = string(lgraph.Connections.Destination);
    names = string({lgraph.Layers.Name}');
    isOutput = arrayfun(@(l) isa(l, 'nnet.cnn.layer.ClassificationOutputLayer') | ...
        isa(l, 'nnet.layer.ClassificationLayer'), lgraph.Layers);
    if sum(isOutput) ~= 1
        error('one output');
    end
    output = lgraph.Layers(isOutput);
    idx = find(isOutput);
    while true
        kind = class(lgraph.Layers(idx));
        % ismember of two char rows tests each character (MATLAB's own helper relies on it)
        if ismember(kind, ['nnet.cnn.layer.FullyConnectedLayer', 'nnet.cnn.layer.Convolution2DLayer'])
            learnable = lgraph.Layers(idx);
            return
        end
        d = find(names(idx) == dst);
        idx = find(src(d) == names);
    end
    end
"""

REBUILD = """\
    function lgraph = rebuild(layers, connections)
    lgraph = layerGraph();
    for i = 1:numel(layers)
        lgraph = addLayers(lgraph, layers(i));
    end
    for c = 1:height(connections)
        lgraph = connectLayers(lgraph, connections.Source{c}, connections.Destination{c});
    end
    end
"""

FREEZE = """\
    function layers = freezeAll(layers)
    for ii = 1:size(layers, 1)
        props = properties(layers(ii));
        for p = 1:numel(props)
            propName = props{p};
            if ~isempty(regexp(propName, 'LearnRateFactor$', 'once'))
                layers(ii).(propName) = 0;
            end
        end
    end
    end
"""


def test_transfer_learning_helpers_over_the_connections_table_read_as_in_matlab(tmp_path):
    write(tmp_path, "lastLearnable.m", LAST_LEARNABLE)
    write(tmp_path, "rebuild.m", REBUILD)
    write(tmp_path, "freezeAll.m", FREEZE)
    result = load_file(write(tmp_path, "main.m", TRANSFER_SCRIPT))
    network = result.network
    assert [layer.name for layer in network.layers] == ["in", "conv", "relu", "drop", "fc3", "prob", "out"]
    assert [(c.source, c.destination) for c in network.connections] == [
        ("in", "conv"), ("conv", "relu"), ("relu", "drop"), ("drop", "fc3"), ("fc3", "prob"), ("prob", "out")]
    conv = network.layers[1]
    assert (conv.weight_learn_rate_factor, conv.bias_learn_rate_factor) == (0, 0)
    assert network.layers[4].weight_learn_rate_factor == 1  # only the first two were frozen
    assert result.choice.variable == "lgraph"


def test_connections_name_the_port_of_a_layer_with_several():
    result = load_source("""\
        lgraph = layerGraph([imageInputLayer([8 8 3], 'Name', 'in'); convolution2dLayer(1, 3, 'Name', 'c')
            additionLayer(2, 'Name', 'add')]);
        lgraph = connectLayers(lgraph, 'in', 'add/in2');
        t = lgraph.Connections;
        rows = height(t); vars = width(t); dims = size(t);
        last = t.Destination{end};
        firstSource = t.Source{1};
        """)
    v = result.variables
    assert (v["rows"].data, v["vars"].data, v["dims"].data) == ([3.0], [2.0], [3.0, 2.0])
    assert (v["last"].text, v["firstSource"].text) == ("add/in2", "in")


def test_string_arrays_compare_element_by_element():
    v = load_source("""\
        names = string({'a', 'b', 'c'}');
        hits = find(names == "b");
        other = ["x" "b"] ~= 'b';
        joined = ["p" "q"] + "_1";
        n = numel(joined);
        layers = reluLayer;
        """).variables
    assert v["hits"].data == [2.0]
    assert (v["other"].data, v["other"].logical) == ([1.0, 0.0], True)
    assert [item.text for item in v["joined"].items] == ["p_1", "q_1"] and v["n"].data == [2.0]


@pytest.mark.parametrize("call, expected", [
    ("regexp('WeightLearnRateFactor', 'LearnRateFactor$', 'once')", [7.0]),
    ("regexp('BiasL2Factor', 'LearnRateFactor$', 'once')", []),
    ("regexp('conv_12_a', '\\d+')", [6.0]),
    ("regexpi('ReLU', 'relu', 'once')", [1.0]),
])
def test_regexp_start_indices(call, expected):
    assert load_source(f"x = {call};\nlayers = reluLayer;\n").variables["x"].data == expected


def test_regexp_matches_and_slow_patterns():
    v = load_source("""\
        m = regexp('conv1_relu2', '[a-z]+\\d', 'match');
        first = regexp('conv1_relu2', '[a-z]+', 'match', 'once');
        nested = regexp('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab', '(a+)+$');
        repeats = regexp('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab', 'a*a*c');
        layers = reluLayer;
        """).variables
    assert [item.text for item in v["m"].items] == ["conv1", "relu2"] and v["first"].text == "conv"
    # patterns that could take exponential or polynomial time are not run: the result is unknown
    assert type(v["nested"]).__name__ == "Opaque" and type(v["repeats"]).__name__ == "Opaque"


def test_properties_of_a_layer_are_its_matlab_property_names():
    v = load_source("p = properties(convolution2dLayer(3, 8));\nlayers = reluLayer;\n").variables
    names = [item.text for item in v["p"].items]
    assert v["p"].shape() == (len(names), 1)
    assert {"Name", "FilterSize", "NumFilters", "WeightLearnRateFactor", "BiasLearnRateFactor",
            "NumInputs", "InputNames"} <= set(names)


# -- a network loaded from a .mat file the repository does not hold --------------------------

LOADED_LAYERS = """\
    load net
    layersTransfer = net(1:end-3);
    layers = [layersTransfer
        fullyConnectedLayer(2, 'Name', 'fc9')
        softmaxLayer('Name', 'softmax')
        classificationLayer('Name', 'output')];
    net2 = trainNetwork(imds, layers, opts);
"""


def test_layers_loaded_by_a_file_named_after_a_pretrained_network_suggest_its_layers(tmp_path):
    path = write(tmp_path, "alexcheck.m", LOADED_LAYERS)
    with pytest.raises(NetspecError) as caught:
        load_file(path)
    diagnostic = error_of(caught.value)
    assert diagnostic.code == "E405" and "perhaps `load` at line 1 loads it" in diagnostic.message
    assert diagnostic.hint.endswith('--set "net=alexnet().Layers"')
    layers = load_file(path, bindings=parse_bindings(["net=alexnet().Layers"])).network.layers
    assert len(layers) == 25 - 3 + 3 and layers[-3].name == "fc9"


def test_a_loaded_network_of_a_file_not_named_after_one_suggests_no_binding(tmp_path):
    with pytest.raises(NetspecError) as caught:
        load_file(write(tmp_path, "check.m", LOADED_LAYERS))
    assert "--set" not in (error_of(caught.value).hint or "")


# -- an encoder from a toolbox function netspec does not model --------------------------------

def test_an_unknown_encoder_is_a_network_and_the_error_names_the_function():
    with pytest.raises(NetspecError) as caught:
        load_source("""\
            [encoder, outputNames] = pretrainedEncoderNetwork('googlenet', 4);
            decoder = blockedNetwork(@(k) [transposedConv2dLayer(2, 8, 'Stride', 2); reluLayer], 4);
            net = encoderDecoderNetwork([224 224 3], encoder, decoder, 'OutputChannels', 3);
            """)
    diagnostic = error_of(caught.value)
    assert diagnostic.code == "E406" and "`pretrainedEncoderNetwork`" in diagnostic.message
    assert "--set" not in diagnostic.hint and "unet(imageSize, numClasses)" in diagnostic.hint


# -- a class of constants ----------------------------------------------------------------------

CONSTANTS_CLASS = """\
    classdef NetConstants
        % sizes shared by the model files
        properties (Constant)
            imgSize = [32 32 3];   % height, width, channels
            widths = [8 ...
                      16];
        end
        properties (Constant = true, Access = public)
            name = 'small';
        end
    end
"""

USES_CONSTANTS = """\
    function layers = buildNet(numClasses)
    layers = [imageInputLayer(NetConstants.imgSize, 'Name', NetConstants.name)
        convolution2dLayer(3, NetConstants.widths(2))
        reluLayer
        fullyConnectedLayer(numClasses)
        softmaxLayer
        classificationLayer];
    end
"""


def test_a_class_of_constant_properties_is_read_as_matlab_reads_it(tmp_path):
    write(tmp_path, "NetConstants.m", CONSTANTS_CLASS)
    layers = load_file(write(tmp_path, "buildNet.m", USES_CONSTANTS), arguments="4").network.layers
    assert (layers[0].input_size, layers[0].name, layers[1].num_filters) == ((32, 32, 3), "small", 16)


@pytest.mark.parametrize("extra", [
    "    properties\n        depth = 3;\n    end\n",
    "    methods\n        function n = count(obj)\n            n = 1;\n        end\n    end\n",
])
def test_a_class_with_more_than_constants_is_not_read(tmp_path, extra):
    without_last_end = textwrap.dedent(CONSTANTS_CLASS).rstrip().removesuffix("end")
    write(tmp_path, "NetConstants.m", without_last_end + extra + "end\n")
    with pytest.raises(NetspecError) as caught:
        load_file(write(tmp_path, "buildNet.m", USES_CONSTANTS), arguments="4")
    assert error_of(caught.value).code == "E409"


def test_a_constant_that_reads_its_own_class_is_unknown_not_endless(tmp_path):
    write(tmp_path, "Loop.m", "classdef Loop\n    properties (Constant)\n        n = Loop.n + 1;\n    end\nend\n")
    with pytest.raises(NetspecError) as caught:
        load_file(write(tmp_path, "main.m", "layers = [featureInputLayer(Loop.n); reluLayer];\n"))
    assert error_of(caught.value).code in ("E405", "E409")


def test_height_and_width_written_bare_are_names_of_the_users():
    result = load_source("layers = [imageInputLayer([height width 3]); convolution2dLayer(3, 4)];\n"
                         "rows = height(zeros(5, 2));\n")
    assert result.network.layers[0].input_size == ("height", "width", 3)
    assert result.variables["rows"].data == [5.0]


def test_a_text_compared_with_another_variable_is_not_suggested(tmp_path):
    path = write(tmp_path, "f.m", """\
        function layers = f(n)
        mode = 'wide';
        if strcmp(mode, 'wide') && n > 3
            w = 8;
        end
        layers = [featureInputLayer(3); fullyConnectedLayer(w)];
        end
        """)
    with pytest.raises(NetspecError) as caught:
        load_file(path)
    hint = error_of(caught.value).hint
    assert "--set n=VALUE" in hint and "'wide'" not in hint


# -- syntax MATLAB accepts ---------------------------------------------------------------------

LSTM_HEAD = """\
    layers = [sequenceInputLayer(3)
        lstmLayer({hidden})
        fullyConnectedLayer(2)
        softmaxLayer
        classificationLayer];
"""
LSTM_TYPES = ["SequenceInputLayer", "LstmLayer", "FullyConnectedLayer", "SoftmaxLayer", "ClassificationLayer"]


def lstm_learnables(hidden: int) -> int:
    """An LSTM of `hidden` units on 3 features (4 gates: input and recurrent weights, bias), then 2 classes."""
    return 4 * hidden * (3 + hidden) + 4 * hidden + (2 * hidden + 2)


def assert_lstm_network(result, hidden: int) -> None:
    net = result.network
    assert [type(layer).__name__ for layer in net.layers] == LSTM_TYPES
    assert net.layers[1].num_hidden_units == hidden
    assert analyze(net).totals.learnables == lstm_learnables(hidden)


def test_an_ignored_input_parameter_takes_its_argument_and_binds_no_name():
    result = load_source(textwrap.dedent(LSTM_HEAD.format(hidden="units(7, 2)")) + textwrap.dedent("""\
        [~, cols] = size(zeros(2, 5));
        pick = @(~, b) b;
        last = pick(1, 9);
        function w = units(~, k)
        w = 10 * k + nargin;
        end
        """))
    assert_lstm_network(result, 22)
    assert result.variables["cols"].data == [5.0] and result.variables["last"].data == [9.0]


@pytest.mark.parametrize("text, expected", [
    ("1./[1 2 4]", [1.0, 0.5, 0.25]),
    ("1./(1+exp(-[0 0]))", [0.5, 0.5]),
    ("2.\\[2 4]", [1.0, 2.0]),
    ("3.*[1 2]", [3.0, 6.0]),
    ("2.^[1 3]", [2.0, 8.0]),
    ("[1.' 2.5' 3.]", [1.0, 2.5, 3.0]),
    ("[1. 1.e3 .5 1.5e-1 2e1]", [1.0, 1000.0, 0.5, 0.15, 20.0]),
])
def test_a_dot_between_a_number_and_an_operator_belongs_to_the_operator(text, expected):
    result = load_source(f"g = {text};\n" + textwrap.dedent(LSTM_HEAD.format(hidden="8 * numel(g)")))
    assert result.variables["g"].data == pytest.approx(expected)
    assert_lstm_network(result, 8 * len(expected))


def test_a_handle_to_a_package_function_is_a_value_netspec_does_not_call():
    result = load_source(textwrap.dedent(LSTM_HEAD.format(hidden=8)) +
                         "options = trainingOptions('adam', 'OutputFcn', @mytools.saveDetails);\n"
                         "h = @mytools.sub.report;\n")
    assert_lstm_network(result, 8)
    assert result.variables["h"] == FunctionHandle(name="mytools.sub.report")


@pytest.mark.parametrize("header", ["parfor k = 1:3", "parfor (k = 1:3)", "parfor (k = 1:3, 2)", "for (k = 1:3)"])
def test_parfor_runs_as_a_for_loop(header):
    result = load_source(textwrap.dedent(f"""\
        widths = zeros(1, 3);
        {header}
            widths(k) = 4 * k;
        end
        """) + textwrap.dedent(LSTM_HEAD.format(hidden="sum(widths)")))
    assert_lstm_network(result, 24)
    assert result.variables["k"].data == [3.0]


@pytest.mark.parametrize("header", ["spmd", "spmd (2)", "spmd(2, 4)"])
def test_an_spmd_body_runs_once_on_the_client(header):
    result = load_source(textwrap.dedent(f"""\
        passes = 0;
        {header}
            passes = passes + labindex * numlabs;
        end
        """) + textwrap.dedent(LSTM_HEAD.format(hidden="16 * passes")))
    assert_lstm_network(result, 16)
    assert not result.diagnostics


def test_a_nested_function_is_callable_from_its_parent(tmp_path):
    path = write(tmp_path, "nestedLstm.m", """\
        function layers = nestedLstm()
        n = hidden(3);
        layers = [sequenceInputLayer(3)
            lstmLayer(n)
            fullyConnectedLayer(2)
            softmaxLayer
            classificationLayer];
            function h = hidden(k)
                h = 10 * k;
            end
        end
        """)
    assert_lstm_network(load_file(path), 30)


def test_a_nested_function_shares_the_variables_its_parent_uses(tmp_path):
    path = write(tmp_path, "shared.m", """\
        function layers = shared(units)
        scale = 1;
        widen();
        layers = [sequenceInputLayer(3); lstmLayer(units * scale); head()];
            function widen()
                scale = scale * 2;
                scratch = 7;
            end
            function h = head()
                h = [fullyConnectedLayer(classes()); softmaxLayer; classificationLayer];
                function c = classes()
                    c = numel(units) + 1;
                end
            end
        end
        """)
    result = load_file(path, arguments="6")
    assert_lstm_network(result, 12)
    assert result.variables["scale"].data == [2.0] and "scratch" not in result.variables


def test_nested_functions_in_a_scripts_local_function(tmp_path):
    path = write(tmp_path, "main.m", LSTM_HEAD.format(hidden="build(5)") + """\
        function n = build(k)
        n = 0;
        add();
        add();
            function add()
                n = n + k;
            end
        end
        """)
    assert_lstm_network(load_file(path), 10)


def test_a_handle_to_a_nested_function_calls_it_in_its_parents_workspace(tmp_path):
    path = write(tmp_path, "handles.m", """\
        function layers = handles()
        base = 10;
        widths = arrayfun(@twice, [1 2]);
        plus = @(k) twice(k) + base;
        layers = [sequenceInputLayer(3)
            lstmLayer(widths(2) + plus(1))
            fullyConnectedLayer(2)
            softmaxLayer
            classificationLayer];
            function y = twice(x)
                y = 2 * x + base;
            end
        end
        """)
    assert_lstm_network(load_file(path), 14 + 22)
