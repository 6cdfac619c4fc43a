"""One focused test per construct of the language (SPEC §2): each asserts the evaluated
value (through `LoadResult.variables`) or the resulting network."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from netspec.diagnostics import NetspecError
from netspec.language import load_file, load_source, parse, parse_bindings
from netspec.language.values import Cell, Char, FunctionHandle, Graph, LayerArray, Matrix, Opaque, Str

TAIL = "\nlayers = reluLayer;\n"
"""Appended to value-only snippets so the file has a network."""


def run(text: str, **kwargs):
    return load_source(textwrap.dedent(text), "x.net", **kwargs)


def variables(text: str, **kwargs) -> dict:
    return run(textwrap.dedent(text) + TAIL, **kwargs).variables


def py(value):
    """A language value as plain Python: scalar -> float/bool, row -> list, matrix -> list of rows."""
    if isinstance(value, Matrix):
        conv = bool if value.logical else float
        if value.rows == 1 and value.cols == 1:
            return conv(value.data[0])
        if value.rows <= 1:
            return [conv(x) for x in value.data]
        return [[conv(value.at(r, c)) for c in range(value.cols)] for r in range(value.rows)]
    if isinstance(value, (Char, Str)):
        return value.text
    if isinstance(value, Cell):
        return [py(item) for item in value.items]
    raise TypeError(type(value))


def v(text: str, name: str = "x", **kwargs):
    return py(variables(text, **kwargs)[name])


def names(network) -> list[str]:
    return [layer.name for layer in network.layers]


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# -- comments, continuation, separators -------------------------------------------------------

def test_line_comment():
    assert v("x = 1; % x = 2\n% x = 3\n") == 1.0


def test_block_comment():
    assert v("""
        x = 1;
        %{
        x = 2;
        layers = undefinedThing;
        %}
        """) == 1.0


def test_line_continuation():
    assert v("x = 1 + ...\n    2 ... a comment after the dots\n    + 3;\n") == 6.0


def test_continuation_inside_call():
    net = run("""
        layers = [imageInputLayer([8 8 1]) convolution2dLayer(3, 4, ...
            'Padding', 1, ...
            'Name', 'c')];
        """).network
    assert net.layer("c").padding == (1, 1, 1, 1)


def test_statement_separators():
    vs = variables("a = 1; b = 2, c = 3\nd = a + b + c;")
    assert py(vs["d"]) == 6.0


# -- literals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [("3", 3.0), ("1e-4", 1e-4), (".5", 0.5), ("2.5E2", 250.0),
                                            ("1.", 1.0)])
def test_numbers(text, expected):
    assert v(f"x = {text};") == expected


def test_single_quoted_char_with_escape():
    value = variables("x = 'it''s';")["x"]
    assert isinstance(value, Char) and value.text == "it's"


def test_double_quoted_string_with_escape():
    value = variables('x = "say ""hi""";')["x"]
    assert isinstance(value, Str) and value.text == 'say "hi"'


def test_double_quoted_string_may_contain_single_quote():
    assert v('x = "it\'s";') == "it's"


def test_true_false_inf_nan():
    vs = variables("t = true; f = false; i = Inf; n = NaN; m = -Inf;")
    assert py(vs["t"]) is True and py(vs["f"]) is False
    assert py(vs["i"]) == math.inf and py(vs["m"]) == -math.inf
    assert math.isnan(py(vs["n"]))


def test_percent_inside_strings():
    vs = variables("x = 'a % b'; y = \"50%\"; z = sprintf('%d%%', 5);")
    assert py(vs["x"]) == "a % b" and py(vs["y"]) == "50%" and py(vs["z"]) == "5%"


# -- arrays -------------------------------------------------------------------------------------

def test_row_vector_with_spaces():
    assert v("x = [3 3];") == [3.0, 3.0]


def test_row_vector_with_commas():
    assert v("x = [1,1];") == [1.0, 1.0]


def test_concatenation_of_vector_and_scalar():
    assert v("inputSize = [28 28];\nx = [inputSize 1];") == [28.0, 28.0, 1.0]


def test_numeric_matrix_and_2d_indexing():
    vs = variables("cfg = [1 16 1 1; 6 24 2 2]; x = cfg(2,3); r = cfg(1,:); c = cfg(:,2); s = size(cfg);")
    assert py(vs["cfg"]) == [[1.0, 16.0, 1.0, 1.0], [6.0, 24.0, 2.0, 2.0]]
    assert py(vs["x"]) == 2.0
    assert py(vs["r"]) == [1.0, 16.0, 1.0, 1.0]
    assert py(vs["c"]) == [[16.0], [24.0]]
    assert py(vs["s"]) == [2.0, 4.0]


def test_matrix_rows_by_newline():
    assert v("x = [1 2\n3 4];") == [[1.0, 2.0], [3.0, 4.0]]


def test_matrix_trailing_semicolon_before_bracket():
    assert v("x = [1 2; 3 4;];") == [[1.0, 2.0], [3.0, 4.0]]


def test_linear_indexing_is_column_major():
    assert v("m = [1 2; 3 4]; x = m(2);") == 3.0


@pytest.mark.parametrize("text, expected", [
    ("1:2:9", [1.0, 3.0, 5.0, 7.0, 9.0]),
    ("1:4", [1.0, 2.0, 3.0, 4.0]),
    ("5:-2:1", [5.0, 3.0, 1.0]),
    ("0:0.25:1", [0.0, 0.25, 0.5, 0.75, 1.0]),
])
def test_ranges(text, expected):
    assert v(f"x = {text};") == expected


def test_empty_range():
    value = variables("x = 3:1;")["x"]
    assert isinstance(value, Matrix) and value.numel == 0


# -- operators --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1+2*3", 7.0),
    ("(1+2)*3", 9.0),
    ("-2^2", -4.0),
    ("2^-1", 0.5),
    ("2^3^2", 64.0),  # MATLAB's ^ is left-associative
    ("10/4", 2.5),
    ("7-2-1", 4.0),
    ("-3+5", 2.0),
    ("2*-3", -6.0),
    ("1 - -1", 2.0),
    ("+4", 4.0),
])
def test_arithmetic_and_precedence(text, expected):
    assert v(f"x = {text};") == expected


def test_elementwise_operators():
    vs = variables("a = [1 2 3] .* [4 5 6]; b = [4 6] ./ [2 3]; c = [1 2 3] .^ 2; d = [1 2] * 2; e = [2 4] / 2;"
                   " f = [1 2] + 1;")
    assert py(vs["a"]) == [4.0, 10.0, 18.0]
    assert py(vs["b"]) == [2.0, 2.0]
    assert py(vs["c"]) == [1.0, 4.0, 9.0]
    assert py(vs["d"]) == [2.0, 4.0]
    assert py(vs["e"]) == [1.0, 2.0]
    assert py(vs["f"]) == [2.0, 3.0]


@pytest.mark.parametrize("text, expected", [
    ("[1 2 3] + [10; 20]", [[11.0, 12.0, 13.0], [21.0, 22.0, 23.0]]),  # MATLAB's implicit expansion
    ("[10; 20] - [1 2 3]", [[9.0, 8.0, 7.0], [19.0, 18.0, 17.0]]),
    ("[1 2; 3 4] .* [10 100]", [[10.0, 200.0], [30.0, 400.0]]),
    ("[1 2; 3 4] ./ [1; 2]", [[1.0, 2.0], [1.5, 2.0]]),
    ("[1 2 3] == [1; 2]", [[True, False, False], [False, True, False]]),
    ("mod([5 6 7], [2; 3])", [[1.0, 0.0, 1.0], [2.0, 0.0, 1.0]]),
    ("max([1 5], [3; 4])", [[3.0, 5.0], [4.0, 5.0]]),
])
def test_implicit_expansion(text, expected):
    assert v(f"x = {text};") == expected


def test_implicit_expansion_of_empty_operands():
    x = variables("x = zeros(1, 0) + [1; 2; 3];")["x"]
    assert (x.rows, x.cols) == (3, 0)


def test_matrix_product():
    vs = variables("a = [1 2; 3 4; 5 6] * [1 0 2; 0 1 3]; b = [1 2 3] * [4; 5; 6]; c = [1; 2] * [3 4];")
    assert py(vs["a"]) == [[1.0, 2.0, 8.0], [3.0, 4.0, 18.0], [5.0, 6.0, 28.0]]
    assert py(vs["b"]) == 32.0
    assert py(vs["c"]) == [[3.0, 4.0], [6.0, 8.0]]


@pytest.mark.parametrize("text, expected", [
    ("3 == 3", True), ("3 ~= 3", False), ("2 < 3", True), ("3 <= 3", True), ("2 > 3", False), ("3 >= 4", False),
])
def test_comparisons(text, expected):
    assert v(f"x = {text};") is expected


def test_elementwise_comparison():
    assert v("x = [1 5 3] > 2;") == [False, True, True]


@pytest.mark.parametrize("text, expected", [
    ("true && false", False), ("false || true", True), ("~true", False), ("~0", True),
    ("true & false", False), ("true | false", True), ("~(1 > 2) && 3 > 2", True),
    ("1 < 2 && 2 < 3 || false", True),
])
def test_logic(text, expected):
    assert v(f"x = {text};") is expected


def test_elementwise_logic():
    assert v("x = [1 0 1] & [1 1 0];") == [True, False, False]


def test_short_circuit_and_does_not_evaluate_right():
    result = run("x = false && undefinedFn();" + TAIL)
    assert py(result.variables["x"]) is False
    assert result.diagnostics == []


def test_short_circuit_or_does_not_evaluate_right():
    result = run("x = true || undefinedFn();" + TAIL)
    assert py(result.variables["x"]) is True
    assert result.diagnostics == []


def test_end_in_indexing():
    vs = variables("z = [10 20 30 40]; a = z(end); b = z(end-1); c = z(end-1:end); d = z(2:end);"
                   " m = [1 2 3; 4 5 6]; e = m(end, end); f = m(end); g = m(1, end-1);")
    assert py(vs["a"]) == 40.0
    assert py(vs["b"]) == 30.0
    assert py(vs["c"]) == [30.0, 40.0]
    assert py(vs["d"]) == [20.0, 30.0, 40.0]
    assert py(vs["e"]) == 6.0
    assert py(vs["f"]) == 6.0
    assert py(vs["g"]) == 2.0


def test_bracket_whitespace_rule():
    vs = variables("a = 5; b = 2; two = [a -b]; one = [a - b]; one2 = [a-b]; one3 = [a -  b]; "
                   "two2 = [a +b]; call = [a abs(-b)]; p = [a (-b)];")
    assert py(vs["two"]) == [5.0, -2.0]
    assert py(vs["one"]) == 3.0
    assert py(vs["one2"]) == 3.0
    assert py(vs["one3"]) == 3.0
    assert py(vs["two2"]) == [5.0, 2.0]
    assert py(vs["call"]) == [5.0, 2.0]
    assert py(vs["p"]) == [5.0, -2.0]


def test_transpose():
    vs = variables("v = [1 2 3]; t = v'; m = [1 2; 3 4]'; d = v.';")
    assert py(vs["t"]) == [[1.0], [2.0], [3.0]]
    assert py(vs["m"]) == [[1.0, 3.0], [2.0, 4.0]]
    assert py(vs["d"]) == [[1.0], [2.0], [3.0]]


def test_transpose_versus_string_in_brackets():
    vs = variables("x = 'a'; s = [x' 'bc']; v = [1 2 3]; c = {v' 'str'};")
    assert py(vs["s"]) == "abc"
    c = vs["c"]
    assert isinstance(c, Cell) and c.numel == 2
    assert py(c.items[0]) == [[1.0], [2.0], [3.0]]
    assert py(c.items[1]) == "str"


# -- variables, cells ---------------------------------------------------------------------------

def test_variables_and_reassignment():
    assert v("x = 1; y = x + 1; x = y * 10;") == 20.0


def test_indexed_assignment_grows():
    assert v("x = [1 2]; x(4) = 7;") == [1.0, 2.0, 0.0, 7.0]


def test_cell_arrays():
    vs = variables("c = {'conv1', 'conv2', 'fc'}; x = c{2}; n = numel(c); d = c(1:2); e = {};"
                   " c{4} = 'out'; m = {1, 'a'; 2, 'b'}; y = m{2, 2};")
    assert py(vs["c"]) == ["conv1", "conv2", "fc", "out"]
    assert py(vs["x"]) == "conv2"
    assert py(vs["n"]) == 3.0
    assert isinstance(vs["d"], Cell) and py(vs["d"]) == ["conv1", "conv2"]
    assert isinstance(vs["e"], Cell) and vs["e"].numel == 0
    assert py(vs["y"]) == "b"


def test_struct_fields():
    vs = variables("s.a = 3; s.b = 'x'; y = s.a + 1;")
    assert py(vs["y"]) == 4.0


# -- layer constructors -------------------------------------------------------------------------

def test_constructor_positional_then_name_value_pairs():
    net = run("layers = convolution2dLayer(5, 20, 'Stride', 2, 'Padding', 'same', 'Name', 'c1');").network
    layer = net.layer("c1")
    assert layer.kind == "convolution2d"
    assert layer.filter_size == (5, 5) and layer.num_filters == 20
    assert layer.stride == (2, 2) and layer.padding == "same"


def test_constructor_name_equals_value_form():
    net = run("layers = convolution2dLayer(3, 8, Stride=2, Padding=1, Name='c');").network
    layer = net.layer("c")
    assert layer.stride == (2, 2) and layer.padding == (1, 1, 1, 1)


def test_name_value_after_positional_mixed_forms():
    net = run("layers = fullyConnectedLayer(10, 'Name', 'fc1', WeightLearnRateFactor=10);").network
    layer = net.layer("fc1")
    assert layer.output_size == 10 and layer.weight_learn_rate_factor == 10


def test_option_names_case_insensitive():
    net = run("layers = convolution2dLayer(3, 8, 'stride', 2, 'PADDING', 1, 'name', 'c', "
              "'weightLearnRateFactor', 0);").network
    layer = net.layer("c")
    assert layer.stride == (2, 2) and layer.padding == (1, 1, 1, 1) and layer.weight_learn_rate_factor == 0


def test_option_values_case_insensitive():
    net = run("layers = convolution2dLayer(3, 8, 'Padding', 'SAME', 'WeightsInitializer', 'He');").network
    assert net.layers[0].padding == "same" and net.layers[0].weights_initializer == "he"


def test_constructor_without_parentheses():
    net = run("layers = [reluLayer; softmaxLayer()];").network
    assert [l.kind for l in net.layers] == ["relu", "softmax"]


def test_name_value_string_quotes():
    net = run('layers = reluLayer("Name", "r");').network
    assert names(net) == ["r"]


# -- layer arrays -------------------------------------------------------------------------------

MNIST = """
inputSize = [28 28];
layers = [imageInputLayer([inputSize 1])
    convolution2dLayer(3,16,'Padding',1)
    batchNormalizationLayer
    reluLayer
    maxPooling2dLayer(2,'Stride',2)
    convolution2dLayer(3,32,'Padding',1)
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
"""


def test_column_form_layer_array():
    net = run(MNIST).network
    assert [l.kind for l in net.layers] == [
        "image_input", "convolution2d", "batch_normalization", "relu", "max_pooling2d", "convolution2d",
        "fully_connected", "softmax", "classification"]
    assert net.layers[0].input_size == (28, 28, 1)
    assert len(net.connections) == 8
    assert net.connections[0].source == "imageinput" and net.connections[0].destination == "conv_1"


def test_row_form_layer_array():
    net = run("layers = [imageInputLayer([4 4 1]) reluLayer, fullyConnectedLayer(2) softmaxLayer];").network
    assert [l.kind for l in net.layers] == ["image_input", "relu", "fully_connected", "softmax"]


def test_semicolon_then_newline_separators_and_trailing_semicolon():
    net = run("""
        layers = [imageInputLayer([4 4 1]);
            reluLayer;
            fullyConnectedLayer(2);
            softmaxLayer;];
        """).network
    assert len(net.layers) == 4 and len(net.connections) == 3


def test_tabs_as_whitespace():
    net = run("layers = [\timageInputLayer([4\t4\t1])\n\treluLayer\t\n];\n").network
    assert net.layers[0].input_size == (4, 4, 1) and len(net.layers) == 2


def test_nested_arrays_and_splicing():
    net = run("""
        inputLayers = [imageInputLayer([8 8 1], 'Name', 'in')];
        middle = [convolution2dLayer(3, 4, 'Name', 'c1'); [reluLayer('Name', 'r1'); reluLayer('Name', 'r2')]];
        finalLayers = [fullyConnectedLayer(2, 'Name', 'fc')
                       softmaxLayer('Name', 'sm')];
        layers = [inputLayers; middle; finalLayers];
        """).network
    assert names(net) == ["in", "c1", "r1", "r2", "fc", "sm"]


def test_layer_array_spliced_row_and_column():
    net = run("""
        block = [convolution2dLayer(3, 4) reluLayer];
        layers = [imageInputLayer([8 8 1]); block; block'];
        """).network
    assert [l.kind for l in net.layers] == ["image_input", "convolution2d", "relu", "convolution2d", "relu"]


def test_slicing_layer_arrays():
    vs = variables(MNIST.replace("layers =", "all =") + """
        first3 = all(1:3);
        lastOne = all(end);
        beforeLast = all(1:end-3);
        """)
    assert [l.kind for l in vs["first3"].layers] == ["image_input", "convolution2d", "batch_normalization"]
    assert [l.kind for l in vs["lastOne"].layers] == ["classification"]
    assert len(vs["beforeLast"].layers) == 6


def test_deleting_layers():
    net = run(MNIST + "layers(end-2:end) = [];\n").network
    assert len(net.layers) == 6 and net.layers[-1].kind == "convolution2d"


def test_appending_layers_with_end_plus_one():
    net = run(MNIST + "layers(end-2:end) = [];\nlayers(end+1) = fullyConnectedLayer(4, 'Name', 'new');\n").network
    assert net.layers[-1].name == "new" and len(net.layers) == 7


def test_layers_upper_case_slice():
    net = run("net = alexnet;\nLayers = net.Layers;\nlayers = Layers(1:end-3);\n", net="layers").network
    assert len(net.layers) == 22 and net.layers[-1].name == "drop7"


def test_replacing_an_element_of_a_layer_array():
    net = run(MNIST + "layers(7) = fullyConnectedLayer(3, 'Name', 'fc3');\n").network
    assert net.layers[6].name == "fc3" and net.layers[6].output_size == 3


# -- property access ----------------------------------------------------------------------------

def test_layer_property_access():
    vs = variables(MNIST.replace("layers =", "arr =") + """
        n = arr(2).NumFilters;
        fs = arr(2).FilterSize;
        nm = arr(2).Name;
        isz = arr(1).InputSize;
        ins = arr(1).InputSize(1:2);
        """)
    assert py(vs["n"]) == 16.0
    assert py(vs["fs"]) == [3.0, 3.0]
    assert py(vs["nm"]) == ""  # unnamed until the array becomes a network, as in MATLAB
    assert py(vs["isz"]) == [28.0, 28.0, 1.0]
    assert py(vs["ins"]) == [28.0, 28.0]


def test_setting_a_layer_property():
    net = run(MNIST + "layers(2).Name = 'x';\nlayers(7).OutputSize = 4;\n").network
    assert net.layers[1].name == "x"
    assert net.layers[6].output_size == 4


def test_network_properties():
    vs = variables("""
        net = alexnet;
        L = net.Layers;
        n = numel(net.Layers);
        lastName = net.Layers(end).Name;
        sz = net.Layers(1).InputSize;
        lg = layerGraph(net.Layers);
        endName = lg.Layers(end).Name;
        """)
    assert isinstance(vs["L"], LayerArray)
    assert py(vs["n"]) == 25.0
    assert py(vs["lastName"]) == "output"
    assert py(vs["sz"]) == [227.0, 227.0, 3.0]
    assert py(vs["endName"]) == "output"


# -- wrong-case constructors ----------------------------------------------------------------------

def test_wrong_case_constructor_accepted_with_warning():
    result = run("layers = [imageInputLayer([4 4 1]); FullyConnectedLayer(2); softmaxLayer; ClassificationLayer];")
    assert [l.kind for l in result.network.layers][-1] == "classification"
    assert result.network.layers[1].kind == "fully_connected"
    assert codes(result).count("W104") == 2
    warning = next(d for d in result.diagnostics if d.code == "W104")
    assert warning.severity.value == "warning" and "classificationLayer" in " ".join(
        d.message for d in result.diagnostics)
    assert warning.span is not None and warning.span.line == 1


# -- graphs ----------------------------------------------------------------------------------------

GRAPH = """
layers = [imageInputLayer([32 32 3],'Name','in')
  convolution2dLayer(3,16,'Padding','same','Name','c1')
  reluLayer('Name','r1')
  additionLayer(2,'Name','add')
  fullyConnectedLayer(10,'Name','fc')];
lgraph = layerGraph(layers);
lgraph = addLayers(lgraph, convolution2dLayer(1,16,'Name','skip'));
lgraph = connectLayers(lgraph, 'in', 'skip');
lgraph = connectLayers(lgraph, 'skip', 'add/in2');
"""


def edges(network) -> set[tuple[str, str, str, str]]:
    return {(c.source, c.source_port, c.destination, c.destination_port) for c in network.connections}


def test_layer_graph_chains_an_array():
    net = run("lgraph = layerGraph([imageInputLayer([4 4 1],'Name','a'); reluLayer('Name','b')]);").network
    assert edges(net) == {("a", "out", "b", "in")}


def test_add_and_connect_layers():
    net = run(GRAPH).network
    assert names(net) == ["in", "c1", "r1", "add", "fc", "skip"]
    assert edges(net) == {
        ("in", "out", "c1", "in"), ("c1", "out", "r1", "in"), ("r1", "out", "add", "in1"),
        ("add", "out", "fc", "in"), ("in", "out", "skip", "in"), ("skip", "out", "add", "in2")}
    assert net.inputs == ["in"] and net.outputs == ["fc"]


def test_add_layers_chains_the_added_array():
    net = run(GRAPH + "lgraph = addLayers(lgraph, [reluLayer('Name','x'); tanhLayer('Name','y')]);\n").network
    assert ("x", "out", "y", "in") in edges(net)


def test_disconnect_layers():
    net = run(GRAPH + "lgraph = disconnectLayers(lgraph, 'skip', 'add/in2');\n").network
    assert ("skip", "out", "add", "in2") not in edges(net)
    assert len(net.connections) == 5


def test_remove_layers():
    net = run(GRAPH + "lgraph = removeLayers(lgraph, 'skip');\n").network
    assert "skip" not in names(net)
    assert all("skip" not in (c.source, c.destination) for c in net.connections)
    net = run(GRAPH + "lgraph = removeLayers(lgraph, {'skip', 'fc'});\n").network
    assert names(net) == ["in", "c1", "r1", "add"]


def test_replace_layer():
    net = run(GRAPH + "lgraph = replaceLayer(lgraph, 'r1', leakyReluLayer(0.2, 'Name', 'lr'));\n").network
    assert "r1" not in names(net)
    assert net.layer("lr").scale == 0.2
    assert {("c1", "out", "lr", "in"), ("lr", "out", "add", "in1")} <= edges(net)


def test_replace_layer_with_an_array():
    net = run(GRAPH + "lgraph = replaceLayer(lgraph, 'r1', [batchNormalizationLayer('Name','bn'); "
              "reluLayer('Name','r')]);\n").network
    assert {("c1", "out", "bn", "in"), ("bn", "out", "r", "in"), ("r", "out", "add", "in1")} <= edges(net)


def test_dlnetwork_is_a_graph_constructor():
    result = run("layers = [imageInputLayer([4 4 1]); reluLayer];\nnet = dlnetwork(layers);\n", net="net")
    assert isinstance(result.variables["net"], Graph)
    assert result.network.name == "net" and len(result.network.layers) == 2


def test_dlnetwork_of_a_layer_graph():
    result = run(GRAPH + "net = dlnetwork(lgraph);\n", net="net")
    assert len(result.network.layers) == 6


def test_empty_layer_graph_then_add_layers():
    net = run("""
        lgraph = layerGraph();
        lgraph = addLayers(lgraph, [imageInputLayer([4 4 1], 'Name', 'in'); reluLayer('Name', 'r')]);
        """).network
    assert edges(net) == {("in", "out", "r", "in")}


# -- control flow ----------------------------------------------------------------------------------

def test_for_loop():
    vs = variables("t = 0;\nfor i = 1:4\n    t = t + i;\nend\nfor k = [2 4 6], t = t + k; end")
    assert py(vs["t"]) == 22.0


def test_for_loop_builds_layers():
    net = run("""
        layers = imageInputLayer([32 32 3]);
        for i = 1:3
            layers = [layers
                convolution2dLayer(3, 2^(i+3), 'Padding', 'same', 'Name', sprintf('conv%d', i))
                reluLayer('Name', "relu" + i)];
        end
        """).network
    assert names(net)[1:] == ["conv1", "relu1", "conv2", "relu2", "conv3", "relu3"]
    assert [net.layer(f"conv{i}").num_filters for i in (1, 2, 3)] == [16, 32, 64]


def test_for_loop_over_matrix_columns():
    vs = variables("cfg = [1 16; 6 24];\ns = 0;\nfor col = cfg\n    s = s + col(2);\nend")
    assert py(vs["s"]) == 30.0


def test_break_and_continue():
    vs = variables("""
        s = 0;
        for i = 1:10
            if mod(i, 2) == 0
                continue
            end
            if i > 7
                break
            end
            s = s + i;
        end
        """)
    assert py(vs["s"]) == 1 + 3 + 5 + 7


@pytest.mark.parametrize("x, expected", [(20, "big"), (5, "mid"), (1, "small")])
def test_if_elseif_else(x, expected):
    assert v(f"""
        n = {x};
        if n > 10
            x = 'big';
        elseif n > 3
            x = 'mid';
        else
            x = 'small';
        end
        """) == expected


def test_while():
    assert v("x = 1;\nwhile x < 100\n    x = x * 3;\nend") == 243.0


@pytest.mark.parametrize("subject, expected", [("'adam'", 2.0), ("'rmsprop'", 1.0), ("'other'", 3.0),
                                               ("4", 4.0)])
def test_switch(subject, expected):
    assert v(f"""
        switch {subject}
            case {{'sgdm', 'rmsprop'}}
                x = 1;
            case 'adam'
                x = 2;
            case 4
                x = 4;
            otherwise
                x = 3;
        end
        """) == expected


# -- functions -------------------------------------------------------------------------------------

def test_function_at_end_of_file():
    net = run("""
        layers = [imageInputLayer([8 8 1], 'Name', 'in'); convBlock('b1', 4); convBlock('b2', 8)];
        function out = convBlock(tag, n)
            out = [convolution2dLayer(3, n, 'Padding', 'same', 'Name', [tag '_conv'])
                   batchNormalizationLayer('Name', [tag '_bn'])
                   reluLayer('Name', [tag '_relu'])];
        end
        """).network
    assert names(net) == ["in", "b1_conv", "b1_bn", "b1_relu", "b2_conv", "b2_bn", "b2_relu"]
    assert net.layer("b2_conv").num_filters == 8


def test_function_with_multiple_outputs():
    vs = variables("""
        [a, b] = twoThings(3);
        [c, ~] = twoThings(1);
        function [x, y] = twoThings(v)
            x = v * 2;
            y = v + 100;
        end
        """)
    assert py(vs["a"]) == 6.0 and py(vs["b"]) == 103.0 and py(vs["c"]) == 2.0


def test_function_scope_is_local():
    vs = variables("""
        x = 1;
        y = f(5);
        function r = f(v)
            x = 99;
            r = v + 1;
        end
        """)
    assert py(vs["x"]) == 1.0 and py(vs["y"]) == 6.0
    assert py(vs["x"]) == 1.0


def test_recursive_function():
    assert v("x = fact(5);\nfunction r = fact(n)\n  if n <= 1\n    r = 1;\n  else\n    r = n * fact(n - 1);\n  end\nend\n") \
        == 120.0


def test_function_without_outputs_or_args():
    result = run("noop;\nlayers = reluLayer;\nfunction noop\n  disp('hi');\nend\n")
    assert len(result.network.layers) == 1


# -- string helpers ------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("sprintf('conv_%d', 3)", "conv_3"),
    ("sprintf('%s_%d_%s', 'res', 2, 'a')", "res_2_a"),
    ("sprintf('%03d', 7)", "007"),
    ("sprintf('%.2f', 0.5)", "0.50"),
    ("num2str(12)", "12"),
    ("num2str(0.5)", "0.5"),
    ("strcat('conv', '1', '_', 'relu')", "conv1_relu"),
    ("strcat('a ', 'b')", "ab"),
    ("['res' num2str(2) 'a' '_branch']", "res2a_branch"),
    ("\"conv\" + 3", "conv3"),
    ("\"fc\" + 2 + \"_\" + 'x'", "fc2_x"),
    # MATLAB prints non-finite values as NaN/Inf whatever the conversion, and a fraction given
    # to a whole-number conversion with %e
    ("sprintf('%x', NaN)", "NaN"), ("sprintf('%o', Inf)", "Inf"), ("sprintf('%5d|', -Inf)", " -Inf|"),
    ("sprintf('%-5X|', NaN)", "NaN  |"), ("sprintf('%.2f', Inf)", "Inf"), ("num2str(NaN, '%x')", "NaN"),
    ("sprintf('%d', 1.5)", "1.500000e+00"), ("sprintf('%x', 2.5)", "2.500000e+00"), ("sprintf('%x', 255)", "ff"),
    ("sprintf('%*d', 1.5)", "1.500000e+00"), ("num2str([pi NaN], 3)", "3.14  NaN"),
])
def test_string_helpers(expr, expected):
    assert v(f"x = {expr};") == expected


def test_string_number_concatenation_is_a_string():
    assert isinstance(variables('i = 2; x = "conv" + i;')["x"], Str)


def test_char_concatenation_with_tag():
    assert v("tag = 'res2a'; x = [tag '_bn'];") == "res2a_bn"


# -- numeric helpers --------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("floor(2.7)", 2.0), ("ceil(2.1)", 3.0), ("round(2.5)", 3.0), ("round(-2.5)", -3.0),
    ("max(3, 7)", 7.0), ("max([4 9 2])", 9.0), ("min([4 2 9])", 2.0), ("min(5, 1)", 1.0),
    ("numel([1 2 3])", 3.0), ("numel([1 2; 3 4])", 4.0), ("length([1 2; 3 4; 5 6])", 3.0),
    ("size([1 2 3; 4 5 6])", [2.0, 3.0]), ("size([1 2 3; 4 5 6], 1)", 2.0), ("size([1 2 3; 4 5 6], 2)", 3.0),
    ("zeros(1, 3)", [0.0, 0.0, 0.0]), ("ones(2)", [[1.0, 1.0], [1.0, 1.0]]), ("mod(7, 3)", 1.0),
    ("mod(-1, 3)", 2.0), ("isempty([])", True), ("isempty(3)", False), ("isempty('')", True),
    ("floor([1.5 2.5])", [1.0, 2.0]), ("numel('abc')", 3.0),
])
def test_numeric_helpers(expr, expected):
    assert v(f"x = {expr};") == expected


@pytest.mark.parametrize("expr, expected", [
    ("zeros([2 3])", [[0.0] * 3] * 2), ("ones([1 2])", [1.0, 1.0]), ("zeros([2 3 1])", [[0.0] * 3] * 2),
    ("ones(1, 2, 'single')", [1.0, 1.0]), ("zeros(2, 'like', 5)", [[0.0] * 2] * 2),
])
def test_size_arguments_as_matlab_reads_them(expr, expected):
    """A size vector, trailing singleton dimensions and a class name after the sizes, as MATLAB."""
    assert v(f"x = {expr};") == expected


@pytest.mark.parametrize("expr, message", [
    ("zeros([NaN 2])", "expected a whole number, got NaN"),
    ("repmat(1, 2, 3, 4)", "two dimensions, not 3"),
])
def test_size_arguments_netspec_cannot_hold_are_located_errors(expr, message):
    """A 3-D array is unknown to netspec: an error only for a network that needs it."""
    with pytest.raises(NetspecError) as caught:
        run(f"x = {expr};\nlayers = fullyConnectedLayer(x(1) + 1);\n")
    assert message in caught.value.diagnostic.message and caught.value.diagnostic.span is not None


def test_size_with_two_outputs():
    vs = variables("[r, c] = size(ones(2, 5));")
    assert py(vs["r"]) == 2.0 and py(vs["c"]) == 5.0


# -- trainingOptions -----------------------------------------------------------------------------

def test_training_options_sgdm_defaults():
    result = run("layers = reluLayer;\noptions = trainingOptions('sgdm');\n")
    t = result.network.training
    assert t.solver == "sgdm" and t.initial_learn_rate == 0.01 and t.momentum == 0.9
    assert t.max_epochs == 30 and t.mini_batch_size == 128 and t.l2_regularization == 1e-4
    assert t.learn_rate_schedule == "none" and t.learn_rate_drop_factor == 0.1 and t.learn_rate_drop_period == 10
    assert t.shuffle == "once" and t.validation_frequency == 50 and t.validation_patience == math.inf
    assert t.verbose is True and t.verbose_frequency == 50 and t.plots == "none"
    assert t.execution_environment == "auto" and t.gradient_threshold == math.inf


@pytest.mark.parametrize("solver, squared", [("adam", 0.999), ("rmsprop", 0.9)])
def test_training_options_adaptive_solver_defaults(solver, squared):
    t = run(f"layers = reluLayer;\noptions = trainingOptions('{solver}');\n").network.training
    assert t.solver == solver and t.initial_learn_rate == 0.001 and t.epsilon == 1e-8
    assert t.squared_gradient_decay_factor == squared
    if solver == "adam":
        assert t.gradient_decay_factor == 0.9


def test_training_options_values_and_both_forms():
    result = run("""
        layers = reluLayer;
        options = trainingOptions('sgdm', 'MaxEpochs', 3, 'ValidationFrequency', 30, ...
            'Verbose', false, 'Plots', 'training-progress', InitialLearnRate=1e-4, ...
            'learnRateSchedule', 'piecewise', 'Shuffle', 'every-epoch', MiniBatchSize=64);
        e = options.MaxEpochs;
        """)
    t = result.network.training
    assert (t.max_epochs, t.validation_frequency, t.verbose, t.plots) == (3, 30, False, "training-progress")
    assert t.initial_learn_rate == 1e-4 and t.learn_rate_schedule == "piecewise"
    assert t.shuffle == "every-epoch" and t.mini_batch_size == 64
    assert py(result.variables["e"]) == 3.0


def test_last_training_options_wins():
    t = run("layers = reluLayer;\na = trainingOptions('sgdm');\nb = trainingOptions('adam');\n").network.training
    assert t.solver == "adam"


def test_no_training_options():
    assert run("layers = reluLayer;").network.training is None


# -- import -------------------------------------------------------------------------------------

def test_import_other_file(tmp_path):
    (tmp_path / "blocks.net").write_text(textwrap.dedent("""
        width = 16;
        stem = [imageInputLayer([32 32 3], 'Name', 'in'); convolution2dLayer(3, width, 'Name', 'stem')];
        function out = head(n)
            out = [fullyConnectedLayer(n, 'Name', 'fc'); softmaxLayer('Name', 'sm')];
        end
        """))
    main = tmp_path / "main.net"
    main.write_text('import "blocks.net"\nlayers = [stem; reluLayer("Name", "r"); head(width / 4)];\n')
    result = load_file(main)
    assert names(result.network) == ["in", "stem", "r", "fc", "sm"]
    assert result.network.layer("fc").output_size == 4
    assert py(result.variables["width"]) == 16.0


def test_import_single_quoted_and_nested_folder(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.net").write_text("n = 3;\n")
    (tmp_path / "main.net").write_text("import 'lib/a.net'\nlayers = fullyConnectedLayer(n);\n")
    assert load_file(tmp_path / "main.net").network.layers[0].output_size == 3


# -- pretrained architectures ------------------------------------------------------------------------

def test_alexnet_first_22_layers_end_at_drop7():
    result = run("net = alexnet;\nlayers = net.Layers(1:22);\n", net="layers")
    assert len(result.network.layers) == 22
    assert result.network.layers[-1].name == "drop7"
    assert result.network.layers[0].input_size == (227, 227, 3)


@pytest.mark.parametrize("function, count, size", [
    ("alexnet", 25, (227, 227, 3)), ("vgg16", 41, (224, 224, 3)), ("vgg19", 47, (224, 224, 3)),
    ("googlenet", 144, (224, 224, 3)), ("resnet18", 71, (224, 224, 3)), ("resnet50", 177, (224, 224, 3)),
    ("squeezenet", 68, (227, 227, 3)), ("mobilenetv2", 154, (224, 224, 3)),
    # MATLAB's `numel(net.Layers)` and `net.Layers(1).InputSize` (the image input sizes of the
    # "Pretrained Deep Neural Networks" table: 299-by-299 for Inception-v3 and Xception, 256 for
    # DarkNet-53)
    ("resnet101", 347, (224, 224, 3)), ("inceptionv3", 315, (299, 299, 3)),
    ("densenet201", 708, (224, 224, 3)), ("efficientnetb0", 290, (224, 224, 3)),
    ("xception", 170, (299, 299, 3)), ("shufflenet", 172, (224, 224, 3)), ("darknet53", 184, (256, 256, 3)),
])
def test_pretrained_architectures(function, count, size):
    result = run(f"net = {function};\nL = net.Layers;\nn = numel(L);\n")
    assert isinstance(result.variables["net"], Graph)
    assert py(result.variables["n"]) == count
    assert len(result.network.layers) == count
    assert result.network.layers[0].input_size == size
    assert result.network.layers[-1].kind == "classification"
    assert result.diagnostics == []


@pytest.mark.parametrize("function, connections, names", [
    # MATLAB's `size(net.Connections, 1)` and some of its layer names (first, a middle one, last)
    ("resnet101", 379, ["data", "res4b22_relu", "ClassificationLayer_predictions"]),
    ("densenet201", 805, ["input_1", "conv4_block48_concat", "ClassificationLayer_fc1000"]),
    ("efficientnetb0", 363, ["ImageInput", "Conv__442", "classification"]),
    ("xception", 181, ["input_1", "block14_sepconv1_channel-wise", "ClassificationLayer_predictions"]),
    ("shufflenet", 187, ["Input_gpu_0|data_0", "shuffle_191to193", "ClassificationLayer_node_203"]),
    ("darknet53", 206, ["input", "res23", "output"]),
    ("inceptionv3", 349, ["input_1", "concatenate_2", "ClassificationLayer_predictions"]),
])
def test_pretrained_architectures_connect_as_matlab_names_them(function, connections, names):
    network = run(f"net = {function};\n").network
    layer_names = [layer.name for layer in network.layers]
    assert len(network.connections) == connections
    assert layer_names[0] == names[0] and names[1] in layer_names and layer_names[-1] == names[2]


@pytest.mark.parametrize("call, layers, head, outputs", [
    ("imagePretrainedNetwork", 68, "conv10", 1000),                      # SqueezeNet by default
    ('imagePretrainedNetwork("resnet101")', 347, "fc1000", 1000),
    ('imagePretrainedNetwork("inceptionv3", NumClasses=5)', 315, "predictions", 5),
    ("imagePretrainedNetwork('darknet53', 'NumClasses', 7, 'Weights', 'none')", 184, "conv53", 7),
    ("imagePretrainedNetwork(NumClasses=3)", 68, "conv10", 3),          # a convolution is the head
    ('imagePretrainedNetwork("efficientnetb0", NumClasses=2)', 290, "efficientnet-b0|model|head|dense|MatMul", 2),
])
def test_image_pretrained_network_and_its_num_classes(call, layers, head, outputs):
    """NumClasses replaces the learnable layer of the classification head (keeping its name)."""
    network = run(f"net = {call};\n").network
    assert len(network.layers) == layers
    layer = network.layer(head)
    assert (layer.output_size if hasattr(layer, "output_size") else layer.num_filters) == outputs


def test_image_pretrained_network_also_returns_the_class_names():
    result = run('[net, classNames] = imagePretrainedNetwork("shufflenet", NumClasses=4);\n', net="net")
    assert isinstance(result.variables["classNames"], Opaque)
    assert result.network.layer("node_202").output_size == 4


def test_image_pretrained_network_num_classes_from_data_asks_for_a_binding():
    text = """
        imds = imageDatastore('x');
        numClasses = numel(categories(imds.Labels));
        net = imagePretrainedNetwork("googlenet", NumClasses=numClasses);
        """
    with pytest.raises(NetspecError) as info:
        run(text)
    diagnostic = next(d for d in info.value.diagnostics if d.severity.value == "error")
    assert diagnostic.code == "E405" and "--set numClasses=" in (diagnostic.hint or "")
    assert run(text, bindings=parse_bindings(["numClasses=6"])).network.layer("loss3-classifier").output_size == 6


@pytest.mark.parametrize("call, code, words", [
    ('imagePretrainedNetwork("resnet5")', "E141", "did you mean 'resnet50'"),
    ('imagePretrainedNetwork("nasnetlarge")', "E141", "does not ship MATLAB's 'nasnetlarge'"),
    ('imagePretrainedNetwork("resnet50", NumClasses=0)', "E206", "NumClasses"),
    ('imagePretrainedNetwork("resnet50", NumResponses=1)', "E141", "NumResponses"),
    ('imagePretrainedNetwork("resnet50", Weights="imagenet")', "E206", "Weights"),
])
def test_image_pretrained_network_mistakes_are_located(call, code, words):
    with pytest.raises(NetspecError) as info:
        run(f"net = {call};\n")
    diagnostic = info.value.diagnostic
    assert diagnostic.code == code and diagnostic.span is not None
    assert words in diagnostic.message + (diagnostic.hint or "")


def test_transfer_learning_pattern():
    net = run("""
        net = alexnet;
        layersTransfer = net.Layers(1:end-3);
        numClasses = 5;
        layers = [layersTransfer
            fullyConnectedLayer(numClasses, 'WeightLearnRateFactor', 20, 'BiasLearnRateFactor', 20)
            softmaxLayer
            classificationLayer];
        """, net="layers").network
    assert len(net.layers) == 25
    assert net.layers[-3].output_size == 5 and net.layers[-3].name == "fc"
    assert net.layers[-2].name == "softmax" and net.layers[-1].name == "classoutput"


# -- unknown functions, --set ------------------------------------------------------------------

def test_unknown_function_is_opaque_with_warning():
    result = run("d = someDataLoader('folder');\nlayers = reluLayer;\n")
    assert isinstance(result.variables["d"], Opaque)
    assert codes(result) == ["W105"]
    assert "someDataLoader" in result.diagnostics[0].message
    assert result.diagnostics[0].span.line == 1


def test_data_functions_do_not_stop_the_file():
    result = run("""
        imds = imageDatastore('Panneaux', 'IncludeSubfolders', true, 'LabelSource', 'foldernames');
        [trainImgs, valImgs] = splitEachLabel(imds, 0.8, 'randomized');
        figure; imshow(readimage(imds, 1));
        layers = [imageInputLayer([8 8 1]); fullyConnectedLayer(2)];
        options = trainingOptions('sgdm', 'ValidationData', valImgs);
        """)
    assert isinstance(result.variables["imds"], Opaque)
    assert len(result.network.layers) == 2
    assert result.network.training.validation_data == "valImgs"


def test_network_depending_on_unknown_fails_naming_the_variable():
    text = """
        imds = imageDatastore('x');
        numClasses = numel(categories(imds.Labels));
        layers = [imageInputLayer([28 28 1]); fullyConnectedLayer(numClasses); softmaxLayer; classificationLayer];
        """
    with pytest.raises(NetspecError) as info:
        run(text)
    diagnostic = next(d for d in info.value.diagnostics if d.severity.value == "error")
    assert "numClasses" in diagnostic.message
    assert "--set numClasses=" in (diagnostic.hint or "")
    assert diagnostic.span is not None


def test_set_binding_fixes_the_unknown():
    text = """
        imds = imageDatastore('x');
        numClasses = numel(categories(imds.Labels));
        layers = [imageInputLayer([28 28 1]); fullyConnectedLayer(numClasses); softmaxLayer; classificationLayer];
        """
    result = run(text, bindings=parse_bindings(["numClasses=4"]))
    assert result.network.layers[1].output_size == 4
    assert py(result.variables["numClasses"]) == 4.0


def test_set_binding_overrides_the_file():
    result = run("n = 10;\nlayers = fullyConnectedLayer(n);\n", bindings=parse_bindings(["n=3"]))
    assert result.network.layers[0].output_size == 3


def test_set_binding_accepts_expressions():
    b = parse_bindings(["inputSize=[64 64]", "solver='adam'", "k=2*3"])
    assert py(b["inputSize"]) == [64.0, 64.0] and py(b["solver"]) == "adam" and py(b["k"]) == 6.0


def test_unknown_variable_used_in_loop_is_skipped_with_warning():
    result = run("n = unknownCount();\nlayers = reluLayer;\nfor i = 1:n\n  layers = [layers; reluLayer];\nend\n")
    assert len(result.network.layers) == 1
    assert "W101" in codes(result)


# -- command syntax, anonymous functions ---------------------------------------------------------

def test_command_syntax():
    result = run("""
        clear all
        close all
        clc
        hold on
        x = 3;
        save myNet x
        format long
        layers = reluLayer;
        """)
    assert py(result.variables["x"]) == 3.0
    assert result.diagnostics == []


@pytest.mark.parametrize("line, words", [
    ("save /tmp/netspec-never-written.mat model", ["/tmp/netspec-never-written.mat", "model"]),
    ("load data/train-2.mat", ["data/train-2.mat"]),
    ("cd ../x", ["../x"]),
    ("cd ..", [".."]),
    ("addpath ../helpers", ["../helpers"]),
    ("load C:\\data\\x.mat", ["C:\\data\\x.mat"]),
    ("save ~/x.mat", ["~/x.mat"]),
    ("save 'my file.mat' model", ["my file.mat", "model"]),
    ("load -ascii x.txt", ["-ascii", "x.txt"]),
    ("warning off all", ["off", "all"]),
])
def test_command_syntax_with_paths(line: str, words: list[str]):
    """MATLAB's command syntax: the words run to the end of the statement, a path is one word;
    netspec evaluates nothing of it (no file is read or written)."""
    tree = parse(f"{line}\n")
    assert [str(token) for token in tree.children[0].children] == [line.split()[0], *words]
    result = run(f"model = 3;\n{line}\nlayers = reluLayer;\n")
    assert result.diagnostics == [] and result.network is not None
    assert not Path("/tmp/netspec-never-written.mat").exists()


def test_command_names_stay_variables_and_calls():
    assert v("save = 3; x = save;", "x") == 3.0
    assert v("x = 2;\nload (x)\n") == 2.0


def test_anonymous_functions_are_values():
    vs = variables("f = @(x) x + 1; y = f(4); g = @(a, b) a * b; z = g(3, 5); h = @sin;"
                   " rf = @(loc)imresize(imread(loc), [8 8]);")
    assert isinstance(vs["f"], FunctionHandle) and vs["f"].params == ["x"]
    assert py(vs["y"]) == 5.0 and py(vs["z"]) == 15.0
    assert isinstance(vs["h"], FunctionHandle) and vs["h"].name == "sin"
    assert isinstance(vs["rf"], FunctionHandle)


def test_function_handle_assigned_to_field_of_opaque():
    result = run("images = imageDatastore('x');\nimages.ReadFcn = @(loc)imresize(imread(loc),[8 8]);\n"
                 "layers = reluLayer;\n")
    assert isinstance(result.variables["images"], Opaque)


# -- MATLAB default names and ports ------------------------------------------------------------

def test_default_layer_names():
    net = run("""
        layers = [imageInputLayer([28 28 1])
            convolution2dLayer(3, 8)
            batchNormalizationLayer
            reluLayer
            convolution2dLayer(3, 8)
            maxPooling2dLayer(2)
            fullyConnectedLayer(10)
            softmaxLayer
            classificationLayer];
        """).network
    assert names(net) == ["imageinput", "conv_1", "batchnorm", "relu", "conv_2", "maxpool", "fc", "softmax",
                          "classoutput"]


def test_default_names_repeat_with_suffix():
    net = run("layers = [imageInputLayer([8 8 1]); reluLayer; reluLayer; reluLayer; fullyConnectedLayer(2); "
              "fullyConnectedLayer(2)];").network
    assert names(net) == ["imageinput", "relu_1", "relu_2", "relu_3", "fc_1", "fc_2"]


def test_default_names_avoid_explicit_names():
    net = run("layers = [reluLayer('Name', 'relu_1'); reluLayer; reluLayer];").network
    assert names(net) == ["relu_1", "relu_2", "relu_3"]


def test_port_names():
    net = run("""
        lgraph = layerGraph([imageInputLayer([8 8 3], 'Name', 'in'); reluLayer('Name', 'r')]);
        lgraph = addLayers(lgraph, additionLayer(3, 'Name', 'add'));
        lgraph = addLayers(lgraph, depthConcatenationLayer(2, 'Name', 'cat'));
        lgraph = connectLayers(lgraph, 'r', 'add/in1');
        lgraph = connectLayers(lgraph, 'in', 'add/in2');
        lgraph = connectLayers(lgraph, 'r/out', 'add/in3');
        lgraph = connectLayers(lgraph, 'add', 'cat/in1');
        lgraph = connectLayers(lgraph, 'in', 'cat/in2');
        """).network
    assert net.layer("add").input_names == ["in1", "in2", "in3"]
    assert net.layer("r").input_names == ["in"] and net.layer("r").output_names == ["out"]
    assert net.layer("in").input_names == []
    assert edges(net) >= {("r", "out", "add", "in1"), ("in", "out", "add", "in2"), ("r", "out", "add", "in3"),
                          ("add", "out", "cat", "in1"), ("in", "out", "cat", "in2")}


def test_array_into_multi_input_layer_uses_in1():
    net = run("layers = [imageInputLayer([8 8 1]); additionLayer(2)];").network
    assert edges(net) == {("imageinput", "out", "addition", "in1")}


# -- which variable is the network ---------------------------------------------------------------

def test_network_lookup_order_lgraph_first():
    text = ("layers = [imageInputLayer([8 8 1]); reluLayer];\nnet = [imageInputLayer([8 8 1]); tanhLayer];\n"
            "lgraph = layerGraph([imageInputLayer([8 8 1]); sigmoidLayer]);\n")
    assert run(text).network.name == "lgraph"
    assert run(text).network.layers[1].kind == "sigmoid"


def test_network_lookup_order_net_before_layers():
    text = "layers = [imageInputLayer([8 8 1]); reluLayer];\nnet = [imageInputLayer([8 8 1]); tanhLayer];\n"
    network = run(text).network
    assert network.name == "net" and network.layers[1].kind == "tanh"


def test_network_lookup_layers_last():
    assert run("layers = [imageInputLayer([8 8 1]); reluLayer];\n").network.name == "layers"


def test_net_argument_overrides_the_lookup():
    text = "layers = [imageInputLayer([8 8 1]); reluLayer];\nmyNet = [imageInputLayer([8 8 1]); tanhLayer];\n"
    network = run(text, net="myNet").network
    assert network.name == "myNet" and network.layers[1].kind == "tanh"


def test_no_network_variable_is_an_error():
    with pytest.raises(NetspecError):
        run("x = 3;\n")


# -- files ----------------------------------------------------------------------------------------

def test_m_file_accepted(tmp_path):
    path = tmp_path / "mynet.m"
    path.write_text(MNIST)
    result = load_file(path)
    assert len(result.network.layers) == 9
    assert result.network.source == str(path)


def test_windows_line_endings(tmp_path):
    path = tmp_path / "crlf.net"
    path.write_bytes(MNIST.replace("\n", "\r\n").encode())
    assert len(load_file(path).network.layers) == 9


def test_netspec_load_with_set(tmp_path):
    import netspec

    path = tmp_path / "n.net"
    path.write_text("numClasses = numel(categories(x));\nlayers = fullyConnectedLayer(numClasses);\n")
    network = netspec.load(path, set={"numClasses": "7"})
    assert network.layers[0].output_size == 7


def test_layer_spans_are_recorded():
    net = run("layers = [imageInputLayer([8 8 1])\n    reluLayer];").network
    assert net.layers[1].span.line == 2 and net.layers[1].span.file == "x.net"


def test_continuation_and_comments_inside_brackets():
    vs = variables("s = 'a...b';\ny = [1 2 ... comment\n 3];\nz = {'a', ...\n'b'};\nw = [1 2 % comment\n3 4];\n")
    assert py(vs["s"]) == "a...b"
    assert py(vs["y"]) == [1.0, 2.0, 3.0]
    assert py(vs["z"]) == ["a", "b"]
    assert py(vs["w"]) == [[1.0, 2.0], [3.0, 4.0]]


def test_block_comment_markers_must_stand_alone():
    vs = variables("x = 1; %{ not a block comment\ny = 2;\n")
    assert py(vs["y"]) == 2.0


# -- MATLAB details that were once wrong -------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("x = 0; for i=1:3 x = x + i; end", 6.0),
    ("x = 0; if 1 > 0 x = 2; end", 2.0),
    ("x = 0; while x < 3 x = x + 1; end", 3.0),
])
def test_one_line_blocks_without_comma(text, expected):
    assert v(text) == expected


def test_nested_block_comments():
    assert v("x = 1;\n%{\nouter\n%{\ninner\n%}\nx = 2;\n%}\n") == 1.0


def test_prod():
    assert v("x = prod([2 3 4]);") == 24.0


def test_rem():
    assert v("x = rem(-7, 3);") == -1.0


def test_integer_conversion_rounds():
    assert v("x = int32(3.6);") == 4.0


def test_column_wise_reductions():
    vs = variables("a = max([1 5 3; 7 2 9]); b = min([1 5 3; 7 2 9]); c = sum([1 2; 3 4]);")
    assert py(vs["a"]) == [7.0, 5.0, 9.0]
    assert py(vs["b"]) == [1.0, 2.0, 3.0]
    assert py(vs["c"]) == [4.0, 6.0]


def test_char_matrix_is_a_clear_error():
    """netspec has no char matrices: stacking text in rows is refused with a hint, not truncated."""
    with pytest.raises(NetspecError) as info:
        v("m = ['ab'; 'cd']; x = m(2, :);")
    assert info.value.diagnostics[-1].code == "E122"
    assert "cell array" in info.value.diagnostics[-1].hint


def test_strcat_with_cells():
    assert v("x = strcat({'a', 'b'}, '_x');") == ["a_x", "b_x"]
