"""MATLAB's functions that real network files call around the network (`isa`, `find`, `arrayfun`,
`cellfun`, `ismember`, file names, tests on text), checked against the examples of MATLAB's
documentation (quoted in each test), and what they give for values netspec cannot compute."""

from __future__ import annotations

import textwrap

import pytest

from netspec.diagnostics import NetspecError
from netspec.ir import CONSTRUCTORS
from netspec.language import Limits, load_source
from netspec.language.values import Opaque

from .test_constructs import py, variables

LAYERS = """layers = [imageInputLayer([28 28 1]); convolution2dLayer(3, 8); batchNormalizationLayer; reluLayer
    fullyConnectedLayer(10); softmaxLayer; classificationLayer];
"""


def v(text: str, name: str = "x"):
    return py(variables(text)[name])


def error_of(text: str):
    with pytest.raises(NetspecError) as caught:
        load_source(textwrap.dedent(text) + "\nlayers = reluLayer;\n", "x.net")
    return next(d for d in caught.value.diagnostics if d.severity.value == "error")


# -- isa and class ------------------------------------------------------------------------------

@pytest.mark.parametrize("constructor, expected", [
    ("convolution2dLayer(3, 8)", "nnet.cnn.layer.Convolution2DLayer"),
    ("batchNormalizationLayer", "nnet.cnn.layer.BatchNormalizationLayer"),
    ("reluLayer", "nnet.cnn.layer.ReLULayer"),
    ("leakyReluLayer", "nnet.cnn.layer.LeakyReLULayer"),
    ("fullyConnectedLayer(10)", "nnet.cnn.layer.FullyConnectedLayer"),
    ("classificationLayer", "nnet.cnn.layer.ClassificationOutputLayer"),
    ("regressionLayer", "nnet.cnn.layer.RegressionOutputLayer"),
    ("transposedConv2dLayer(2, 4)", "nnet.cnn.layer.TransposedConvolution2DLayer"),
    ("maxPooling2dLayer(2)", "nnet.cnn.layer.MaxPooling2DLayer"),
    ("globalAveragePooling2dLayer", "nnet.cnn.layer.GlobalAveragePooling2DLayer"),
])
def test_class_of_a_layer_is_matlabs_class_name(constructor, expected):
    """MATLAB displays e.g. `layer = Convolution2DLayer with properties:` and class(layer) is
    'nnet.cnn.layer.Convolution2DLayer' (the class pages of each layer, Deep Learning Toolbox)."""
    assert v(f"x = class({constructor});") == expected


def test_every_layer_class_has_its_own_matlab_class_name():
    names = [cls.matlab_class for cls in CONSTRUCTORS.values()]
    assert len(set(names)) == len(names) and all(n.startswith("nnet.") and n.endswith("Layer") for n in names)


def test_class_of_a_mixed_layer_array_and_of_networks():
    values = variables(LAYERS + """
        a = class(layers); g = class(layerGraph(layers)); d = class(dlnetwork(layerGraph(layers(1:end-1))));
        s = class(trainNetwork(1, 2, layers, trainingOptions('adam')));
        o = class(trainingOptions('sgdm'));""")
    assert [py(values[n]) for n in "agdso"] == ["nnet.cnn.layer.Layer", "nnet.cnn.LayerGraph", "dlnetwork",
                                               "SeriesNetwork", "nnet.cnn.TrainingOptionsSGDM"]


def test_isa_numeric_groups():
    """https://www.mathworks.com/help/matlab/ref/isa.html: `A = 3.14159; tf = isa(A,'double')` gives
    1, `tf = isa(A,'float')` gives 1, `isa(A,'numeric')` 1; an integer class is 'integer'."""
    values = variables("A = 3.14159; a = isa(A,'double'); b = isa(A,'float'); c = isa(A,'numeric');"
                       "d = isa(A,'integer'); e = isa(true,'logical'); f = isa(true,'numeric');"
                       "g = isa('t','char'); h = isa(\"t\",'string'); i = isa({},'cell'); j = isa(@sin,'function_handle');"
                       "k = isa(struct('a',1),'struct');")
    assert [py(values[n]) for n in "abcdefghijk"] == [True, True, True, False, True, False, True, True, True,
                                                     True, True]


def test_isa_layer_classes_and_arrayfun_over_a_graphs_layers():
    """The idiom of real files: find the fully connected layers of a network by their class."""
    values = variables(LAYERS + """
        lgraph = layerGraph(layers);
        isFc = arrayfun(@(L) isa(L,'nnet.cnn.layer.FullyConnectedLayer'), lgraph.Layers);
        idx = find(isFc);
        isLayer = isa(layers(2), 'nnet.cnn.layer.Layer');
        isNet = isa(lgraph, 'nnet.cnn.LayerGraph');""")
    assert py(values["isFc"]) == [[False], [False], [False], [False], [True], [False], [False]]
    assert py(values["idx"]) == 5.0 and py(values["isLayer"]) is True and py(values["isNet"]) is True


def test_an_index_found_by_class_edits_the_network():
    network = load_source(LAYERS + """
        idx = find(arrayfun(@(l) isa(l, 'nnet.cnn.layer.FullyConnectedLayer'), layers));
        layers(idx) = fullyConnectedLayer(2);""", "x.net").network
    assert network.layers[4].output_size == 2


def test_class_and_isa_of_unknown_values_are_unknown():
    values = variables("data = load('d.mat'); a = isa(data, 'double'); b = class(data);"
                       "c = isnan(data); d = isscalar(data); e = isvector(data); f = isfield(data, 'x');"
                       "g = isempty(data);")
    assert all(isinstance(values[n], Opaque) for n in "abcdefg")


# -- find ------------------------------------------------------------------------------------------

def test_find_documented_examples():
    """https://www.mathworks.com/help/matlab/ref/find.html: `X = [1 0 2; 0 1 1; 0 0 4]; k = find(X)`
    gives [1;5;7;8;9]; `k2 = find(~X)` gives [2;3;4;6]; `[row,col] = find(...)` the subscripts."""
    values = variables("X = [1 0 2; 0 1 1; 0 0 4]; k = find(X); k2 = find(~X); [row, col] = find(X);"
                       "[r, c, w] = find([0 7 0 -1]);")
    assert py(values["k"]) == [[1.0], [5.0], [7.0], [8.0], [9.0]]
    assert py(values["k2"]) == [[2.0], [3.0], [4.0], [6.0]]
    assert py(values["row"]) == [[1.0], [2.0], [1.0], [2.0], [3.0]]
    assert py(values["col"]) == [[1.0], [2.0], [3.0], [3.0], [3.0]]
    assert (py(values["r"]), py(values["c"]), py(values["w"])) == ([1.0, 1.0], [2.0, 4.0], [7.0, -1.0])


def test_find_first_and_last_n():
    """find.html: `k = find(X,n)` the first n indices, `find(X,n,'last')` the last n; a row in, a row out;
    (MATLAB Answers 404375: `A = [0 1 1 0 1 0]; k = find(A,1,'last')` gives 5)."""
    values = variables("A = [0 1 1 0 1 0]; a = find(A,1,'last'); b = find(A,2); c = find(A, 2, 'first');"
                       "d = find([0 0]); e = find(0);")
    assert (py(values["a"]), py(values["b"]), py(values["c"])) == (5.0, [2.0, 3.0], [2.0, 3.0])
    assert (values["d"].rows, values["d"].cols, values["e"].rows, values["e"].cols) == (1, 0, 1, 0)


def test_find_rejects_a_wrong_direction():
    diagnostic = error_of("k = find([1 0 1], 1, 'middle');")
    assert diagnostic.code == "E141" and "'first' or 'last'" in diagnostic.message and diagnostic.span.column == 22


# -- arrayfun and cellfun ---------------------------------------------------------------------------

def test_cellfun_documented_examples():
    """https://www.mathworks.com/help/matlab/ref/cellfun.html: `C = {'Monday','Tuesday','Wednesday',
    'Thursday','Friday'}; A = cellfun(@(x) x(1:3),C,'UniformOutput',false)` gives {'Mon','Tue','Wed',
    'Thu','Fri'}; the legacy `cellfun('isempty', C)` takes the function by name."""
    values = variables("C = {'Monday','Tuesday','Wednesday','Thursday','Friday'};"
                       "A = cellfun(@(x) x(1:3),C,'UniformOutput',false);"
                       "e = cellfun('isempty', {1, [], 'a', ''}); n = cellfun(@numel, {1:10, [2; 4; 6], []});"
                       "[nrows, ncols] = cellfun(@size, {1:10, [2; 4; 6], []});")
    assert py(values["A"]) == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert py(values["e"]) == [False, True, False, True] and py(values["n"]) == [10.0, 3.0, 0.0]
    assert (py(values["nrows"]), py(values["ncols"])) == ([1.0, 3.0, 0.0], [10.0, 1.0, 0.0])


def test_arrayfun_keeps_the_shape_and_takes_several_arrays():
    """https://www.mathworks.com/help/matlab/ref/arrayfun.html: the output has the size of the inputs;
    with 'UniformOutput', false a cell array of that size."""
    values = variables("a = arrayfun(@(x) x^2, [1 2; 3 4]); b = arrayfun(@(x, y) x + y, [1 2 3], [10 20 30]);"
                       "c = arrayfun(@(n) zeros(1, n), 1:3, 'UniformOutput', false); d = arrayfun(@(x) x, []);")
    assert py(values["a"]) == [[1.0, 4.0], [9.0, 16.0]] and py(values["b"]) == [11.0, 22.0, 33.0]
    assert py(values["c"]) == [0.0, [0.0, 0.0], [0.0, 0.0, 0.0]]
    assert (values["d"].rows, values["d"].cols) == (0, 0)


def test_arrayfun_options_are_checked():
    diagnostic = error_of("x = arrayfun(@(n) n, 1:3, 'UniformOutput', false, 'Verbose', 1);")
    assert diagnostic.code == "E141" and "'UniformOutput' and 'ErrorHandler'" in diagnostic.message
    assert diagnostic.span.column == 51
    assert error_of("x = arrayfun(@(n) n, 1:3, 'UniformOutput');").code == "E141"


def test_arrayfun_names_a_non_uniform_result():
    diagnostic = error_of("x = arrayfun(@(n) zeros(1, n), 1:3);")
    assert diagnostic.code == "E141" and "element 2" in diagnostic.message and "UniformOutput" in diagnostic.hint


def test_arrayfun_of_unknown_data_is_unknown_and_its_steps_are_bounded():
    values = variables("data = load('d.mat'); a = arrayfun(@(x) x + 1, data);"
                       "b = cellfun(@isempty, {1, data});")
    assert isinstance(values["a"], Opaque) and isinstance(values["b"], Opaque)
    with pytest.raises(NetspecError) as caught:
        load_source("x = arrayfun(@(k) k, 1:50);\nlayers = reluLayer;", "x.net", limits=Limits(steps=20))
    assert caught.value.diagnostics[0].code == "E501"


# -- ismember ----------------------------------------------------------------------------------------

def test_ismember_documented_examples():
    """https://www.mathworks.com/help/matlab/ref/double.ismember.html: `A = [5 3 4 2]; B = [2 4 4 4 6 8];
    Lia = ismember(A,B)` gives [0 0 1 1]; Locb holds the lowest index in B of each member, 0 elsewhere."""
    values = variables("A = [5 3 4 2]; B = [2 4 4 4 6 8]; Lia = ismember(A,B); [tf, Locb] = ismember(A,B);")
    assert py(values["Lia"]) == [False, False, True, True] and py(values["Locb"]) == [0.0, 0.0, 2.0, 1.0]


def test_ismember_of_text():
    values = variables("a = ismember('relu', {'tanh', 'relu'}); [b, loc] = ismember({'x', 'tanh'}, {'tanh', 'relu'});"
                       "c = ismember(\"relu\", {'relu'}); d = ismember('abc', 'cde');")
    assert py(values["a"]) is True and py(values["b"]) == [False, True] and py(values["loc"]) == [0.0, 1.0]
    assert py(values["c"]) is True and py(values["d"]) == [False, False, True]


# -- file names ---------------------------------------------------------------------------------------

def test_fileparts_documented_examples():
    """https://www.mathworks.com/help/matlab/ref/fileparts.html: `file = "H:\\user4\\matlab\\myfile.txt";
    [filepath,name,ext] = fileparts(file)` gives "H:\\user4\\matlab", "myfile", ".txt";
    `fileparts("/home/jsmith/.cshrc")` gives "/home/jsmith", "", ".cshrc"."""
    values = variables('[p, n, e] = fileparts("H:\\user4\\matlab\\myfile.txt"); [q, m, f] = fileparts(\'/home/jsmith/.cshrc\');'
                       "r = fileparts('net.m'); [s, t] = fileparts('/top.m');")
    assert [py(values[k]) for k in "pneqmfrst"] == ["H:\\user4\\matlab", "myfile", ".txt", "/home/jsmith", "", ".cshrc",
                                                    "", "/", "top"]
    assert type(values["p"]).__name__ == "Str" and type(values["q"]).__name__ == "Char"


def test_fullfile_documented_example():
    """https://www.mathworks.com/help/matlab/ref/fullfile.html: `f = fullfile('myfolder','mysubfolder',
    'myfile.m')` gives 'myfolder/mysubfolder/myfile.m' (on UNIX); empty parts and doubled separators go."""
    values = variables("f = fullfile('myfolder','mysubfolder','myfile.m'); g = fullfile('a/', '', '/b');"
                       "h = fullfile('d', {'x.m', 'y.m'});")
    assert py(values["f"]) == "myfolder/mysubfolder/myfile.m" and py(values["g"]) == "a/b"
    assert py(values["h"]) == ["d/x.m", "d/y.m"]


def test_text_functions_of_cell_arrays_holding_unknown_values_are_unknown():
    values = variables("files = dir('data'); a = fullfile({files.folder}, {files.name});"
                       "b = contains({files.name}, '.png'); c = ismember({files.name}, {'a'}); d = upper({files.name});")
    assert all(isinstance(values[n], Opaque) for n in "abcd")


def test_mfilename_and_pwd_name_the_file_as_given():
    """https://www.mathworks.com/help/matlab/ref/mfilename.html: mfilename is the file's name without
    its extension; mfilename('fullpath') adds its folder (without the extension)."""
    result = load_source("a = mfilename; b = mfilename('fullpath'); c = pwd; d = toolboxdir('vision');\n"
                         "layers = reluLayer;", "nets/build.m")
    assert [py(result.variables[k]) for k in "abc"] == ["build", "nets/build", "nets"]
    assert isinstance(result.variables["d"], Opaque)


# -- tests on values and text ---------------------------------------------------------------------

def test_isnan_isscalar_isvector_isfield():
    """isnan.html: `A = 1./[-2 -1 0 1 2]; A = A - A` ... isnan gives 1 where NaN; isvector.html: a
    1-by-N or N-by-1 array, N nonnegative (`isvector(zeros(1,0))` is 1); isfield.html:
    `isfield(S, {'a','x'})` gives one logical per name."""
    values = variables("a = isnan([1 NaN Inf]); b = isscalar(5); c = isscalar([1 2]); d = isvector(zeros(1, 0));"
                       "e = isvector([]); f = isvector(ones(2)); S = struct('a', 1); g = isfield(S, {'a', 'x'});"
                       "h = isfield(S, 'a'); i = isfield(5, 'a');")
    assert py(values["a"]) == [False, True, False]
    assert [py(values[k]) for k in "bcdef"] == [True, False, True, False, False]
    assert py(values["g"]) == [True, False] and py(values["h"]) is True and py(values["i"]) is False


def test_text_tests_documented_examples():
    """https://www.mathworks.com/help/matlab/ref/contains.html: `str = ["Mary Ann Jones","Paul Jay Burns",
    "John Paul Smith"]; TF = contains(str,"Paul")` gives [0 1 1] (a cell array of text here: netspec has
    no string arrays); `contains(str, pattern, 'IgnoreCase', true)` ignores case."""
    values = variables("str = {'Mary Ann Jones','Paul Jay Burns','John Paul Smith'}; a = contains(str, \"Paul\");"
                       "b = contains('Relu_1', 'relu', 'IgnoreCase', true); c = startsWith('conv_1', {'fc', 'conv'});"
                       "d = endsWith({'a.m', 'b.net'}, '.m'); e = strcmp({'fc', 'conv'}, 'fc'); f = strcmpi('FC', 'fc');"
                       "g = strcmp(1, 1); h = lower({'FC', 'Conv'}); i = isequal([1 2], [1 2]);")
    assert py(values["a"]) == [False, True, True] and py(values["b"]) is True and py(values["c"]) is True
    assert py(values["d"]) == [True, False] and py(values["e"]) == [True, False] and py(values["f"]) is True
    assert py(values["g"]) is False and py(values["h"]) == ["fc", "conv"] and py(values["i"]) is True


# -- cat, horzcat, vertcat ------------------------------------------------------------------------

def test_cat_is_the_brackets_along_its_dimension():
    """MATLAB's doc: A = [1 2; 3 4]; B = [4 5; 6 7]; C1 = cat(1,A,B) is 4x2, C2 = cat(2,A,B) 2x4."""
    setup = "A = [1 2; 3 4]; B = [4 5; 6 7];\n"
    assert v(setup + "x = cat(1, A, B);") == [[1, 2], [3, 4], [4, 5], [6, 7]]
    assert v(setup + "x = cat(2, A, B);") == [[1, 2, 4, 5], [3, 4, 6, 7]]
    assert v(setup + "x = horzcat(A, B);") == v(setup + "x = [A B];")
    assert v(setup + "x = vertcat(A, B);") == v(setup + "x = [A; B];")


def test_vertcat_of_layers_is_a_layer_array():
    names = [layer.matlab for layer in variables("x = vertcat(convolution2dLayer(3, 8), reluLayer);")["x"].layers]
    assert names == ["convolution2dLayer", "reluLayer"]


def test_cat_along_a_third_dimension_is_unknown_and_a_bad_dimension_is_located():
    """cat(3, A, B) is 2x2x2 in MATLAB: more dimensions than netspec holds, so unknown, not an error."""
    assert isinstance(variables("x = cat(3, [1 2; 3 4], [4 5; 6 7]);")["x"], Opaque)
    diagnostic = error_of("x = cat(0, 1);")
    assert diagnostic.code == "E205" and (diagnostic.span.line, diagnostic.span.column) == (1, 9)


# -- class tests, round to digits, error ---------------------------------------------------------

@pytest.mark.parametrize("call, expected", [
    ("ischar('a')", True), ("ischar(\"a\")", False), ("isstring(\"a\")", True), ("isstring('a')", False),
    ("iscell({1, 'a'})", True), ("iscell([1 2])", False), ("isstruct(struct('a', 1))", True),
    ("isstruct({})", False), ("islogical(true)", True), ("islogical(1)", False), ("islogical([1 2] > 1)", True),
])
def test_class_tests_tell_text_from_strings_and_cells_from_arrays(call, expected):
    """ischar is true for a character vector only, isstring for a string only (MATLAB's pages of both)."""
    assert v(f"x = {call};") is expected


def test_round_to_digits_as_matlabs_examples():
    """round(pi, 3) is 3.1420; round(863178137, -2) is 863178100; halves go away from zero."""
    assert v("x = round(pi, 3);") == pytest.approx(3.142)
    assert v("x = round(863178137, -2);") == 863178100
    assert v("x = round([-2.5 2.5 0.125], 2);") == pytest.approx([-2.5, 2.5, 0.13])


def test_error_reached_stops_the_file_with_its_message():
    diagnostic = error_of("""\
        numClasses = 1;
        if numClasses < 2
            error('demo:classes', 'need at least %d classes, got %d', 2, numClasses);
        end""")
    assert diagnostic.code == "E149"
    assert diagnostic.message == "error: 'need at least 2 classes, got 1' (MATLAB stops here too)"
    assert diagnostic.span.line == 3


def test_error_in_a_try_runs_the_catch_without_a_warning():
    result = load_source("try\n  error('no data');\ncatch err\n  n = 3;\nend\n"
                         "layers = [featureInputLayer(4); fullyConnectedLayer(n)];\n", "x.net")
    assert [layer.output_size for layer in result.network.layers[1:]] == [3]
    assert not result.diagnostics


def test_a_cell_of_values_picked_by_an_unknown_index_has_an_unknown_size():
    """`{c{idx}}` holds as many cells as idx selects: with idx unknown, its numel is unknown (it
    used to be a 1×1 cell, numel 1: a wrong number that reached the network silently)."""
    with pytest.raises(NetspecError) as caught:
        load_source("c = {1, 2, 3};\nidx = randperm(3);\nn = numel({c{idx(1:2)}});\n"
                    "layers = [featureInputLayer(4); fullyConnectedLayer(n)];\n", "x.net")
    diagnostic = caught.value.diagnostics[-1]
    assert diagnostic.code == "E405" and "`n`" in diagnostic.message and diagnostic.hint == "bind it: --set n=VALUE"
    assert v("c = {1, 2, 3}; x = numel({c{[1 3]}});") == 2  # known indices: known size
    assert v("c = {1, 2, 3}; k = 2; x = numel({c{k}});") == 1


def test_min_and_max_along_a_dimension():
    """max(A, [], 2) gives each row's maximum, max(A, [], 'all') the whole array's (MATLAB's max page)."""
    assert v("x = max([1 5; 7 2], [], 2);") == [[5], [7]]
    assert v("x = min([1 5; 7 2], [], 1);") == [1, 2]
    assert v("x = max([1 5; 7 2], [], 'all');") == 7
    assert v("[m, i] = min([4 2 8], [], 2); x = i;") == 2
