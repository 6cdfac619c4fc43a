"""The MATLAB people actually write (issue 14): function files, functions without `end`, the
folder as the path, multi-output calls, data preparation on unknown values, which variable is
the network, `arguments` blocks, nargin/varargin/exist, try/catch, legacy encodings, and
`--set` suggestions that work when followed. Each test is a minimal file of our own that
reproduces one construct real public network definitions use."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from netspec.diagnostics import NetspecError, Severity
from netspec.language import Limits, load_file, load_source, parse_bindings
from netspec.language.values import Char, Matrix, Opaque

CONV_NET = """\
    layers = [imageInputLayer([28 28 1])
        convolution2dLayer(3, 8)
        reluLayer
        fullyConnectedLayer(numClasses)
        softmaxLayer
        classificationLayer];
"""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).encode(encoding))
    return path


def fail(path: Path, **kwargs) -> NetspecError:
    with pytest.raises(NetspecError) as caught:
        load_file(path, **kwargs)
    return caught.value


def error_of(exc: NetspecError):
    return [d for d in exc.diagnostics if d.severity is Severity.error][-1]


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


def bind(*pairs: str) -> dict:
    return parse_bindings(list(pairs))


# -- function files ---------------------------------------------------------------------------

def test_a_function_file_without_parameters_is_its_network(tmp_path):
    path = write(tmp_path, "buildNet.m", """\
        function lgraph = buildNet()
        numClasses = 10;
        """ + textwrap.indent(CONV_NET, "") + """\
        lgraph = layerGraph(layers);
        end
        """)
    result = load_file(path)
    assert len(result.network.layers) == 6 and result.network.layers[3].output_size == 10
    assert result.choice.describe() == "lgraph (output of buildNet)"


def test_an_unset_parameter_is_named_and_binding_it_gets_past_it(tmp_path):
    path = write(tmp_path, "buildNet.m", "function layers = buildNet(numClasses)\n" + CONV_NET + "end\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E405" and "`numClasses`" in diagnostic.message
    assert "--set numClasses=VALUE" in diagnostic.hint and "--args" in diagnostic.hint
    assert any("parameter of `buildNet`" in note for note in diagnostic.notes)
    result = load_file(path, bindings=bind("numClasses=7"))
    assert result.network.layers[3].output_size == 7


def test_arguments_are_matlab_expressions(tmp_path):
    path = write(tmp_path, "buildNet.m", """\
        function layers = buildNet(numClasses, inputSize)
        layers = [imageInputLayer(inputSize)
            fullyConnectedLayer(numClasses)];
        end
        """)
    result = load_file(path, arguments="3, [32 32 3]")
    assert result.network.layers[0].input_size == (32, 32, 3) and result.network.layers[1].output_size == 3


def test_a_binding_wins_over_an_argument(tmp_path):
    path = write(tmp_path, "f.m", "function layers = f(n)\nlayers = fullyConnectedLayer(n);\nend\n")
    assert load_file(path, arguments="3", bindings=bind("n=5")).network.layers[0].output_size == 5


def test_arguments_that_are_not_a_list_of_values_are_a_located_error(tmp_path):
    path = write(tmp_path, "f.m", "function layers = f(n)\nlayers = fullyConnectedLayer(n);\nend\n")
    diagnostic = error_of(fail(path, arguments="3); x = (4"))
    assert diagnostic.code == "E011" and diagnostic.span.file == "--args"


def test_arguments_for_a_script_are_refused(tmp_path):
    path = write(tmp_path, "script.m", "layers = reluLayer;\n")
    assert error_of(fail(path, arguments="3")).code == "E011"


def test_the_network_is_the_first_output_that_holds_one(tmp_path):
    path = write(tmp_path, "block.m", """\
        function [outName, lgraph] = block()
        outName = 'relu';
        lgraph = layerGraph([imageInputLayer([8 8 1]); reluLayer('Name', 'relu')]);
        end
        """)
    result = load_file(path)
    assert result.choice.variable == "lgraph" and len(result.network.layers) == 2


def test_code_after_the_functions_of_a_function_file_is_an_error(tmp_path):
    path = write(tmp_path, "f.m", "function layers = f()\nlayers = reluLayer;\nend\nx = 3;\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E146" and diagnostic.span.line == 4


def test_a_script_calls_a_function_file_of_its_folder(tmp_path):
    write(tmp_path, "residualBlock.m", """\
        function [lgraph, out] = residualBlock(lgraph, in, n)
        out = sprintf('add_%d', n);
        lgraph = addLayers(lgraph, [convolution2dLayer(3, 4, 'Padding', 'same', 'Name', sprintf('conv_%d', n))
            additionLayer(2, 'Name', out)]);
        lgraph = connectLayers(lgraph, in, sprintf('conv_%d', n));
        lgraph = connectLayers(lgraph, in, [out '/in2']);
        end
        """)
    path = write(tmp_path, "main.m", """\
        lgraph = layerGraph(imageInputLayer([8 8 4], 'Name', 'in'));
        [lgraph, out] = residualBlock(lgraph, 'in', 1);
        [lgraph, out] = residualBlock(lgraph, out, 2);
        """)
    result = load_file(path)
    assert [layer.name for layer in result.network.layers] == ["in", "conv_1", "add_1", "conv_2", "add_2"]
    assert result.variables["out"] == Char("add_2")


def test_a_helper_files_local_functions_are_its_own(tmp_path):
    write(tmp_path, "helper.m", "function y = helper()\ny = twice(2);\nend\nfunction y = twice(x)\ny = 2 * x;\nend\n")
    path = write(tmp_path, "main.m", "n = helper();\nm = twice(1);\nlayers = fullyConnectedLayer(n);\n")
    result = load_file(path)
    assert result.network.layers[0].output_size == 4
    assert isinstance(result.variables["m"], Opaque) and "W105" in codes(result)


# -- functions without end --------------------------------------------------------------------

def test_functions_of_a_function_file_may_all_end_without_end(tmp_path):
    path = write(tmp_path, "net.m", """\
        function layers = net()
        layers = [imageInputLayer([8 8 1]); block(4)];
        if true
            layers = [layers; reluLayer];
        end

        function b = block(n)
        b = fullyConnectedLayer(n);
        """)
    assert [type(layer).__name__ for layer in load_file(path).network.layers] == \
        ["ImageInputLayer", "FullyConnectedLayer", "ReluLayer"]


def test_mixing_functions_with_and_without_end_is_still_an_error(tmp_path):
    path = write(tmp_path, "net.m", "function layers = net()\nlayers = block();\nend\nfunction b = block()\n"
                                    "b = reluLayer;\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E111" and diagnostic.span.line == 4


# -- the folder is the path -------------------------------------------------------------------

def test_a_net_file_is_found_when_no_m_file_is(tmp_path):
    write(tmp_path, "head.net", "function h = head(n)\nh = [fullyConnectedLayer(n); softmaxLayer];\nend\n")
    write(tmp_path, "width.net", "function w = width()\nw = 1;\nend\n")
    write(tmp_path, "width.m", "function w = width()\nw = 2;\nend\n")
    path = write(tmp_path, "main.m", "layers = [imageInputLayer([4 4 1]); head(width())];\n")
    assert load_file(path).network.layers[1].output_size == 2


def test_search_folders_and_addpath_folders_are_on_the_path(tmp_path):
    write(tmp_path / "elsewhere", "fromSearch.m", "function n = fromSearch()\nn = 3;\nend\n")
    write(tmp_path / "project" / "helpers", "fromHelpers.m", "function n = fromHelpers()\nn = 4;\nend\n")
    write(tmp_path / "project" / "lib" / "deep", "fromGenpath.m", "function n = fromGenpath()\nn = 5;\nend\n")
    path = write(tmp_path / "project", "main.m", """\
        addpath('helpers')
        addpath(genpath('lib'));
        layers = [fullyConnectedLayer(fromSearch()); fullyConnectedLayer(fromHelpers())
                  fullyConnectedLayer(fromGenpath())];
        """)
    result = load_file(path, limits=Limits(search_folders=(tmp_path / "elsewhere",)))
    assert [layer.output_size for layer in result.network.layers] == [3, 4, 5]
    assert not any(d.code == "W105" for d in result.diagnostics)


def test_nothing_outside_the_folder_tree_is_read(tmp_path):
    write(tmp_path, "outside.m", "function n = outside()\nn = 3;\nend\n")
    path = write(tmp_path / "project", "main.m", "addpath('..')\nn = outside();\nlayers = reluLayer;\n")
    result = load_file(path)
    assert isinstance(result.variables["n"], Opaque)
    assert codes(result) == ["W107", "W105"]
    assert result.sources.line(str(tmp_path / "outside.m"), 1) is None  # never read


def test_a_script_on_the_path_runs_in_the_callers_workspace(tmp_path):
    write(tmp_path, "settings.m", "numClasses = 6;\n")
    path = write(tmp_path, "main.m", "settings\nrun('settings.m')\nlayers = fullyConnectedLayer(numClasses);\n")
    assert load_file(path).network.layers[0].output_size == 6


def test_a_script_does_not_hide_a_toolbox_function_called_with_outputs(tmp_path):
    write(tmp_path, "alexnet.m", "x = 1;\n")
    path = write(tmp_path, "main.m", "base = alexnet;\nlayers = base.Layers(1:3);\n")
    assert len(load_file(path).network.layers) == 3


def test_files_on_the_path_share_the_source_budget(tmp_path):
    write(tmp_path, "helper.m", "function n = helper()\n% " + "x" * 2000 + "\nn = 3;\nend\n")
    path = write(tmp_path, "main.m", "layers = fullyConnectedLayer(helper());\n")
    diagnostic = error_of(fail(path, limits=Limits(source_bytes=1500)))
    assert diagnostic.code == "E507" and "helper.m" in diagnostic.message


def test_a_custom_layer_class_on_the_path_is_one_located_error(tmp_path):
    write(tmp_path, "scaleLayer.m", "% a custom layer\nclassdef scaleLayer < nnet.layer.Layer\nend\n")
    path = write(tmp_path, "main.m", "layers = [imageInputLayer([4 4 1])\n    scaleLayer('s')];\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E409" and "`scaleLayer`" in diagnostic.message and "classdef" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 5)


def test_a_classdef_file_is_refused(tmp_path):
    path = write(tmp_path, "myLayer.m", "%% a layer\n\nclassdef myLayer < nnet.layer.Layer\nend\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E004" and "classdef" in diagnostic.message


# -- multiple outputs and data preparation ----------------------------------------------------

def test_multiple_outputs_of_calls_netspec_does_not_evaluate(tmp_path):
    path = write(tmp_path, "main.m", """\
        [XTrain, YTrain, XTest, YTest] = prepareData('data');
        layers = [imageInputLayer([8 8 1]); reluLayer];
        [net, info] = trainNetwork(XTrain, YTrain, layers, trainingOptions('adam'));
        [~, s.count, c{2}] = prepareData('more');
        """)
    result = load_file(path)
    assert all(isinstance(result.variables[name], Opaque) for name in ("XTrain", "YTest", "info"))
    assert isinstance(result.variables["s"].fields["count"], Opaque)
    assert codes(result) == ["W105"]  # one warning for prepareData
    assert result.choice.describe() == "layers (given to trainNetwork at line 3)"


def test_data_preparation_on_unknown_values_leaves_unknown_values(tmp_path):
    path = write(tmp_path, "main.m", """\
        raw = readmatrix('signals.csv');
        XTrain = zeros(28, 28, 1, 1500);
        XTrain(1, :, 1, :) = raw(1:1500, :)';
        s.timestamp = datetime('now');
        t.values(3) = raw(1);
        Y = zeros(size(raw));
        Y(2, 3) = 7;
        known = zeros(2, 2);
        known(1, :) = raw(1, 1:2);
        layers = [imageInputLayer([28 28 1]); reluLayer];
        """)
    result = load_file(path)
    assert all(isinstance(result.variables[name], Opaque) for name in ("XTrain", "Y", "known"))
    assert len(result.network.layers) == 2


def test_the_size_of_an_array_netspec_does_not_hold_is_known(tmp_path):
    """MATLAB: size(zeros(28,28,1,100)) is [28 28 1 100]; [h, w] = size(...) folds the rest into w."""
    path = write(tmp_path, "main.m", """\
        X = zeros(28, 28, 1, 60000);
        sz = size(X);
        [h, rest] = size(X);
        layers = [imageInputLayer(sz(1:3)); fullyConnectedLayer(rest / 60000)];
        """)
    layers = load_file(path).network.layers
    assert layers[0].input_size == (28, 28, 1) and layers[1].output_size == 28


def test_an_unknown_value_the_network_needs_still_stops_it(tmp_path):
    path = write(tmp_path, "main.m", """\
        X = readmatrix('images.csv');
        sz = size(X);
        layers = imageInputLayer(sz(1:3));
        """)
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E405" and "`sz`" in diagnostic.message and diagnostic.span.line == 1


def test_an_unknown_index_into_layers_names_the_index(tmp_path):
    path = write(tmp_path, "main.m", """\
        layers = [imageInputLayer([8 8 1]); fullyConnectedLayer(4); reluLayer];
        idx = indexOfLayer(layers, 'fc');
        layers(idx) = fullyConnectedLayer(2);
        """)
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E405" and diagnostic.hint == "give it a value on the command line: --set idx=VALUE"
    assert load_file(path, bindings=bind("idx=2")).network.layers[1].output_size == 2


# -- which variable is the network ------------------------------------------------------------

def test_the_network_handed_to_training_wins(tmp_path):
    path = write(tmp_path, "main.m", """\
        layers = [imageInputLayer([8 8 1]); reluLayer];
        layers3 = [imageInputLayer([8 8 1]); reluLayer; fullyConnectedLayer(2)];
        options = trainingOptions('sgdm');
        net = trainNetwork(XTrain, YTrain, layers3, options);
        """)
    result = load_file(path)
    assert result.network.name == "layers3" and len(result.network.layers) == 3
    assert result.choice.describe() == "layers3 (given to trainNetwork at line 4)"


@pytest.mark.parametrize("call, function", [("analyzeNetwork(cnn)", "analyzeNetwork"), ("plot(cnn)", "plot"),
                                            ("dlnet = dlnetwork(cnn);", "dlnetwork")])
def test_other_calls_a_network_is_handed_to(tmp_path, call, function):
    path = write(tmp_path, "main.m", "layers = reluLayer;\ncnn = layerGraph([imageInputLayer([8 8 1]); reluLayer]);\n"
                                     f"{call}\nplot(rand(3))\n")
    assert load_file(path).choice.describe() == f"cnn (given to {function} at line 3)"


def test_a_network_trained_in_a_helper_file_is_the_one_handed_to_it(tmp_path):
    write(tmp_path, "trainModel.m", "function net = trainModel(layers, X, Y)\n"
                                    "net = trainNetwork(X, Y, layers, trainingOptions('adam'));\nend\n")
    path = write(tmp_path, "main.m", "myNet = [imageInputLayer([8 8 1]); reluLayer];\nnet = trainModel(myNet, 1, 2);\n"
                                     "lgraph = layerGraph(reluLayer);\n")
    assert load_file(path).choice.describe() == "layers (given to trainNetwork at line 2 of trainModel.m)"


def test_without_a_call_the_usual_names_then_the_last_layers_assigned(tmp_path):
    named = write(tmp_path, "named.m", "net = [imageInputLayer([8 8 1]); reluLayer];\nother = reluLayer;\n")
    assert load_file(named).choice.describe() == "net (named like a network)"
    unnamed = write(tmp_path, "unnamed.m", "a = reluLayer;\nlgraph_2 = layerGraph([imageInputLayer([8 8 1]); "
                                           "reluLayer]);\nx = 3;\n")
    assert load_file(unnamed).choice.describe() == "lgraph_2 (the last variable assigned a layer graph at line 2)"


def test_an_explicit_name_wins_and_a_wrong_one_lists_the_networks(tmp_path):
    path = write(tmp_path, "main.m", "a = reluLayer;\ncnnModel = [imageInputLayer([8 8 1]); reluLayer];\n"
                                     "trainNetwork(1, 2, cnnModel, 3);\n")
    assert load_file(path, net="a").choice.describe() == "a (chosen with --net)"
    diagnostic = error_of(fail(path, net="zzz"))
    assert diagnostic.code == "E401" and diagnostic.hint == "the file's networks: a, cnnModel"


# -- arguments blocks, nargin, varargin, exist -------------------------------------------------

ARGUMENTS_FILE = """\
    function layers = makeNet(numClasses, opts)
    arguments
        numClasses (1,1) double {mustBeInteger, mustBePositive} = 10
        opts.Width (1,1) double {mustBeMember(opts.Width, [8 16 32])} = 16
        opts.Name (1,:) char = ''
        opts.Activation string = "relu"
    end
    layers = [imageInputLayer([28 28 1], 'Name', [opts.Name 'in'])
        convolution2dLayer(3, opts.Width)
        fullyConnectedLayer(numClasses)];
    end
    """


def test_arguments_defaults_and_name_value_arguments(tmp_path):
    path = write(tmp_path, "makeNet.m", ARGUMENTS_FILE)
    layers = load_file(path).network.layers
    assert (layers[0].name, layers[1].num_filters, layers[2].output_size) == ("in", 16, 10)
    layers = load_file(path, arguments="4, 'Width', 32, Name='x_'").network.layers
    assert (layers[0].name, layers[1].num_filters, layers[2].output_size) == ("x_in", 32, 4)


@pytest.mark.parametrize("arguments, message", [
    ("-2", "argument `numClasses` of `makeNet` must be positive"),
    ("2.5", "argument `numClasses` of `makeNet` must be integer"),
    ("[1 2]", "argument `numClasses` of `makeNet` must be 1-by-1, not 1-by-2"),
    ("'ten'", "argument `numClasses` of `makeNet` must be of class double, not a char array"),
    ("3, 'Width', 12", "argument `opts.Width` of `makeNet` must be a member of this set: 8, 16, 32"),
])
def test_arguments_validation_is_a_located_error(tmp_path, arguments, message):
    path = write(tmp_path, "makeNet.m", ARGUMENTS_FILE)
    diagnostic = error_of(fail(path, arguments=arguments))
    assert diagnostic.code == "E147" and diagnostic.message == message
    assert diagnostic.span.file == "--args" and diagnostic.notes[0].startswith("declared in the arguments block of")


def test_an_unknown_name_value_argument_is_an_error_with_a_suggestion(tmp_path):
    path = write(tmp_path, "makeNet.m", ARGUMENTS_FILE)
    diagnostic = error_of(fail(path, arguments="3, 'Widht', 8"))
    assert diagnostic.code == "E148" and diagnostic.hint == "did you mean 'Width'?"


def test_an_arguments_block_converts_as_matlab_does(tmp_path):
    path = write(tmp_path, "f.m", """\
        function layers = f(name, sz, flag)
        arguments
            name char
            sz (1,:) double
            flag (1,1) double = true
        end
        layers = fullyConnectedLayer(flag + 1, 'Name', name);
        end
        """)
    result = load_file(path, arguments='"fc", [2; 3]')
    assert result.variables["name"] == Char("fc") and result.variables["sz"] == Matrix(1, 2, [2.0, 3.0])
    assert result.variables["flag"] == Matrix.scalar(1.0) and result.network.layers[0].output_size == 2


def test_nargin_varargin_and_exist_give_optional_arguments_their_defaults(tmp_path):
    path = write(tmp_path, "f.m", """\
        function layers = f(numClasses, varargin)
        if nargin < 1
            numClasses = 5;
        end
        if ~exist('dropout', 'var')
            dropout = 0.5;
        end
        extra = numel(varargin);
        layers = [fullyConnectedLayer(numClasses); dropoutLayer(dropout); fullyConnectedLayer(extra + 1)];
        end
        """)
    layers = load_file(path).network.layers
    assert (layers[0].output_size, layers[1].probability, layers[2].output_size) == (5, 0.5, 1)
    layers = load_file(path, arguments="3, 'a', 2", bindings=bind("dropout=0.2")).network.layers
    assert (layers[0].output_size, layers[1].probability, layers[2].output_size) == (3, 0.2, 3)


def test_a_called_function_reading_a_missing_argument_is_matlabs_error(tmp_path):
    path = write(tmp_path, "main.m", "layers = f();\nfunction l = f(n)\nl = fullyConnectedLayer(n);\nend\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E145" and (diagnostic.span.line, diagnostic.span.column) == (3, 25)


# -- try/catch --------------------------------------------------------------------------------

def test_the_try_body_runs_and_the_catch_body_does_not():
    result = load_source("try\n  data = load('x.mat');\n  n = 4;\ncatch\n  n = 2;\nend\n"
                         "layers = fullyConnectedLayer(n);\n", "x.m")
    assert result.network.layers[0].output_size == 4 and codes(result) == []


def test_the_catch_body_runs_when_netspec_fails_in_the_try_body():
    result = load_source("try\n  bad = convolution2dLayer(3, 8, 'Stide', 2);\n  n = 4;\ncatch ME\n  n = 2;\n"
                         "  msg = ME.message;\nend\nlayers = fullyConnectedLayer(n);\n", "x.m")
    assert result.network.layers[0].output_size == 2
    assert codes(result) == ["W106"] and "E204" in result.diagnostics[0].message
    assert "Stide" in result.variables["msg"].text


def test_budget_errors_are_never_caught():
    with pytest.raises(NetspecError) as caught:
        load_source("try\n  while true\n  end\ncatch\nend\nlayers = reluLayer;\n", "x.m", limits=Limits(steps=1000))
    assert error_of(caught.value).code == "E501"


# -- encodings --------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, comment", [
    ("cp1252", "% réseau de neurones: entrée, couches cachées, sortie, données d'entraînement"),
    ("gbk", "% 卷积神经网络：加载训练数据集，定义网络层，设置训练参数，开始训练"),
    ("shift_jis", "% 畳み込みニューラルネットワークのトレーニング、データの読み込みとネットワークの定義"),
])
def test_legacy_encodings_are_read_with_one_warning(tmp_path, encoding, comment):
    path = write(tmp_path, "net.m", f"{comment}\n{comment}\nlayers = reluLayer; % {comment[2:12]}\n", encoding)
    result = load_file(path)
    assert codes(result) == ["W001"] and "is not UTF-8" in result.diagnostics[0].message
    assert result.sources.line(str(path), 1) == comment


def test_utf8_with_a_byte_order_mark_is_plain_utf8(tmp_path):
    path = tmp_path / "net.m"
    path.write_bytes("\ufeff% é\nlayers = reluLayer;\n".encode("utf-8"))
    assert codes(load_file(path)) == []


def test_binary_input_is_a_clear_error(tmp_path):
    path = tmp_path / "model.mlx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E003" and "binary" in diagnostic.message and ".mlx" in diagnostic.hint


# -- --set suggestions that work ----------------------------------------------------------------

def test_a_class_count_from_data_suggests_the_count_and_binding_it_works(tmp_path):
    path = write(tmp_path, "main.m", """\
        imdsTrain = imageDatastore('train', 'LabelSource', 'foldernames');
        numClasses = numel(categories(imdsTrain.Labels));
        net = [imageInputLayer([8 8 1]); fullyConnectedLayer(numClasses); softmaxLayer];
        net = trainNetwork(imdsTrain, net, trainingOptions('adam'));
        """)
    diagnostic = error_of(fail(path))
    assert diagnostic.hint == "give it a value on the command line: --set numClasses=VALUE"
    assert load_file(path, bindings=bind("numClasses=3")).network.layers[1].output_size == 3


def test_a_size_of_data_never_suggests_the_data_variable(tmp_path):
    path = write(tmp_path, "main.m", "YTrain = load('y.mat');\n"
                                     "layers = [featureInputLayer(4); fullyConnectedLayer(size(YTrain, 2))];\n")
    diagnostic = error_of(fail(path))
    assert "YTrain" not in (diagnostic.hint or "") and "--set NAME=VALUE" in diagnostic.hint


def test_a_network_loaded_from_a_file_never_suggests_binding_the_network(tmp_path):
    path = write(tmp_path, "main.m", "net = load('model.mat');\nlgraph = layerGraph(net.net);\n"
                                     "lgraph = removeLayers(lgraph, 'fc');\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E405" and "--set" not in (diagnostic.hint or "")


def test_a_variable_only_a_skipped_branch_sets_is_named_by_the_condition(tmp_path):
    path = write(tmp_path, "f.m", """\
        function layers = f(poolType)
        if strcmp(poolType, 'max')
            pool = maxPooling2dLayer(2);
        elseif strcmp(poolType, 'average')
            pool = averagePooling2dLayer(2);
        end
        layers = [imageInputLayer([8 8 1]); pool];
        end
        """)
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E405" and """--set "poolType='max'\"""" in diagnostic.hint
    assert type(load_file(path, bindings=bind("poolType='average'")).network.layers[1]).__name__ \
        == "AveragePooling2dLayer"


def test_data_a_skipped_loop_builds_is_unknown_and_named_by_its_range(tmp_path):
    path = write(tmp_path, "main.m", """\
        numBlocks = countBlocks('cfg.json');
        widths = [];
        for i = 1:numBlocks
            widths = [widths 8 * i];
        end
        layers = [imageInputLayer([8 8 1]); fullyConnectedLayer(widths(end))];
        """)
    diagnostic = error_of(fail(path))
    assert diagnostic.hint == "give it a value on the command line: --set numBlocks=VALUE"
    assert load_file(path, bindings=bind("numBlocks=3")).network.layers[1].output_size == 24


def test_names_a_load_without_outputs_may_define_are_explained_by_it(tmp_path):
    path = write(tmp_path, "main.m", "load trainedNet\ninputSize = net.Layers(1).InputSize;\n"
                                     "layers = [imageInputLayer(inputSize); fullyConnectedLayer(numClasses)];\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E405" and "perhaps `load` at line 1 loads it" in diagnostic.message
    result = load_file(path, bindings=bind("inputSize=[8 8 1]", "numClasses=2"))
    assert result.network.layers[1].output_size == 2


def test_end_inside_the_parentheses_of_a_name_netspec_does_not_know(tmp_path):
    path = write(tmp_path, "main.m", "load net\nlayersTransfer = net(1:end-3);\nlayers = reluLayer;\n")
    result = load_file(path)
    assert isinstance(result.variables["layersTransfer"], Opaque) and codes(result) == ["W105"]


def test_an_output_left_unset_by_skipped_code_is_unknown_not_an_error(tmp_path):
    path = write(tmp_path, "main.m", """\
        [a, b] = split(load('data.mat'));
        layers = reluLayer;
        function [a, b] = split(data)
        if data.ok
            a = 1;
            b = 2;
        end
        end
        """)
    result = load_file(path)
    assert isinstance(result.variables["a"], Opaque) and isinstance(result.variables["b"], Opaque)


def test_a_while_loop_that_keeps_skipping_undecidable_code_stops(tmp_path):
    path = write(tmp_path, "main.m", """\
        labels = load('labels.mat');
        count = 0;
        while count < 3
            if labels.ok
                count = count + 1;
            end
        end
        layers = reluLayer;
        """)
    result = load_file(path)
    assert "W108" in codes(result) and result.variables["count"] == Matrix.scalar(0.0)


def test_an_undefined_layer_is_never_suggested_for_binding(tmp_path):
    path = write(tmp_path, "main.m", "layers = [imageInputLayer([8 8 1]); poolingLayer; reluLayer];\n")
    diagnostic = error_of(fail(path))
    assert diagnostic.code == "E407" and diagnostic.hint == "define it in the file"
