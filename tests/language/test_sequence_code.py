"""What public MATLAB sequence-network code does that netspec misread: a function file returning a
prediction rather than the network, an early `return` under a condition on data files, unknown
sizes inside a vector InputSize, 1-D image sequences, and package functions with several
outputs. Each test is a minimal file of our own that reproduces one construct."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from netspec.analysis import analyze
from netspec.diagnostics import NetspecError, Severity
from netspec.language import load_file, load_source, parse_bindings

LSTM = """\
    layers = [sequenceInputLayer(3)
        lstmLayer(8, 'OutputMode', 'last')
        fullyConnectedLayer(2)
        softmaxLayer
        classificationLayer];
"""
LSTM_KINDS = ["sequence_input", "lstm", "fully_connected", "softmax", "classification"]
LSTM_LEARNABLES = 4 * 8 * (3 + 8 + 1) + 8 * 2 + 2


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(text: str, **kwargs):
    return load_source(textwrap.dedent(text), "x.m", **kwargs)


def failure(text: str, **kwargs):
    with pytest.raises(NetspecError) as caught:
        run(text, **kwargs)
    return [d for d in caught.value.diagnostics if d.severity is Severity.error][-1]


def kinds(result) -> list[str]:
    return [layer.kind for layer in result.network.layers]


def warnings(result, code: str) -> list[str]:
    return [d.message for d in result.diagnostics if d.code == code]


# -- A: a function file whose output is computed from the network ------------------------------------

def test_a_function_file_that_returns_a_prediction_is_read_through_the_layers_it_trains(tmp_path):
    path = write(tmp_path, "fitAndPredict.m", """\
        function yhat = fitAndPredict(X)
        mu = mean(X);
        layers = [sequenceInputLayer(1)
            lstmLayer(10)
            fullyConnectedLayer(1)
            regressionLayer];
        net = trainNetwork(X, X, layers, trainingOptions('adam'));
        yhat = predict(net, X) + mu;
        end
        """)
    result = load_file(path)
    assert kinds(result) == ["sequence_input", "lstm", "fully_connected", "regression"]
    assert result.choice.describe() == "layers (given to trainNetwork at line 7)"
    assert analyze(result.network).totals.learnables == 4 * 10 * (1 + 10 + 1) + 10 + 1


def test_an_output_a_skipped_loop_left_unknown_does_not_hide_the_network_trained(tmp_path):
    path = write(tmp_path, "forecast.m", """\
        function [y0, y] = forecast(X)
        layers = [sequenceInputLayer(1); lstmLayer(10); fullyConnectedLayer(1); regressionLayer];
        net = trainNetwork(X, X, layers, trainingOptions('adam'));
        y0 = predict(net, X);
        for i = 1:numel(X)
            [net, y(:, i)] = predictAndUpdateState(net, X(:, i));
        end
        end
        """)
    result = load_file(path)
    assert len(result.network.layers) == 4
    assert result.choice.describe() == "layers (given to trainNetwork at line 3)"


def test_a_function_file_with_an_unknown_output_and_no_network_still_says_why(tmp_path):
    path = write(tmp_path, "score.m", """\
        function yhat = score(X)
        model = load('model.mat');
        yhat = predict(model.net, X);
        end
        """)
    with pytest.raises(NetspecError) as caught:
        load_file(path)
    assert caught.value.diagnostic.code == "E405"


def test_a_function_output_that_stands_for_layers_is_still_the_network(tmp_path):
    """An output netspec could not build (a width from an unset parameter) stays the one reported."""
    path = write(tmp_path, "build.m", """\
        function layers = build(width)
        layers = [sequenceInputLayer(3); lstmLayer(width)];
        other = [sequenceInputLayer(3); lstmLayer(4)];
        end
        """)
    with pytest.raises(NetspecError) as caught:
        load_file(path)
    assert caught.value.diagnostic.code == "E405" and "`width`" in caught.value.diagnostic.message


# -- B: `return` or `error` reached only because an unknown condition was taken as false -----------------

def test_an_early_return_when_the_data_file_is_missing_does_not_end_the_file():
    result = run("""\
        if exist('data.mat', 'file')
            load('data.mat');
        else
            disp('prepare the data first');
            return;
        end
        """ + LSTM)
    assert kinds(result) == LSTM_KINDS
    assert analyze(result.network).totals.learnables == LSTM_LEARNABLES
    assert warnings(result, "W102") == ["this `if` depends on `exist`, which netspec cannot compute; treated as true, "
                                        "since the `else` branch ends in `return`"]


def test_an_error_branch_is_left_for_the_one_branch_that_goes_on():
    result = run("""\
        if isfile('train.csv')
            T = readtable('train.csv');
        elseif false
            T = [];
        else
            error('no training data');
        end
        """ + LSTM)
    assert kinds(result) == LSTM_KINDS
    assert warnings(result, "W102")[0].endswith("treated as true, since the `else` branch ends in `error`")


def test_a_switch_whose_otherwise_ends_runs_its_one_other_case(tmp_path):
    path = write(tmp_path, "pick.m", """\
        function layers = pick(mode)
        switch mode
            case 'lstm'
                hidden = lstmLayer(8, 'OutputMode', 'last');
            otherwise
                error('unknown mode %s', mode);
        end
        layers = [sequenceInputLayer(3); hidden; fullyConnectedLayer(2)];
        end
        """)
    result = load_file(path)
    assert kinds(result) == ["sequence_input", "lstm", "fully_connected"]
    assert "its one `case` that does not end the run is taken" in warnings(result, "W102")[0]


def test_no_branch_is_guessed_among_several_that_go_on():
    """`if strcmp(mode, 'lstm') ... elseif strcmp(mode, 'gru') ... else error`: binding decides."""
    diagnostic = failure("""\
        if strcmp(mode, 'lstm')
            hidden = lstmLayer(8);
        elseif strcmp(mode, 'gru')
            hidden = gruLayer(8);
        else
            error('unknown mode');
        end
        layers = [sequenceInputLayer(3); hidden];
        """)
    assert diagnostic.code == "E407" and "`mode`" in diagnostic.message


def test_a_network_built_only_under_an_unknown_condition_is_still_an_error():
    diagnostic = failure("""\
        if exist('pretrained.mat', 'file')
        """ + textwrap.indent(textwrap.dedent(LSTM), "    ") + "end\n")
    assert diagnostic.code == "E405" and "`exist`" in diagnostic.message


def test_a_return_under_an_unknown_condition_without_else_is_skipped_as_before():
    result = run("if isempty(XTrain)\n    return;\nend\n" + textwrap.dedent(LSTM))
    assert kinds(result) == LSTM_KINDS
    assert warnings(result, "W102")[0].endswith("treated as false")


# -- D: unknown sizes inside a vector InputSize ----------------------------------------------------------

SYMVEC = """\
    numFeatures = size(XTrain{1}, 1);
    layers = [sequenceInputLayer([numFeatures 1 1], 'Name', 'input')
        sequenceFoldingLayer('Name', 'fold')
        convolution2dLayer([3 1], 8, 'Padding', 'same', 'Name', 'conv')
        sequenceUnfoldingLayer('Name', 'unfold')
        flattenLayer('Name', 'flatten')
        gruLayer(16, 'OutputMode', 'last', 'Name', 'gru')
        fullyConnectedLayer(1, 'Name', 'fc')
        regressionLayer('Name', 'out')];
    lgraph = layerGraph(layers);
    lgraph = connectLayers(lgraph, 'fold/miniBatchSize', 'unfold/miniBatchSize');
"""


def test_a_size_computed_from_data_in_a_vector_input_size_asks_for_its_variable():
    diagnostic = failure(SYMVEC)
    assert (diagnostic.code, diagnostic.hint) == ("E405", "bind it: --set numFeatures=VALUE")
    assert diagnostic.message.endswith("depends on `numFeatures`, which netspec cannot compute: `XTrain` is never "
                                       "defined")


def test_the_suggested_binding_reads_it():
    result = run(SYMVEC, bindings=parse_bindings(["numFeatures=12"]))
    assert kinds(result)[:3] == ["sequence_input", "sequence_folding", "convolution2d"] and len(kinds(result)) == 8
    assert result.network.layers[0].input_size == (12, 1, 1)


def test_a_symbol_in_an_input_size_that_takes_numbers_asks_for_it():
    diagnostic = failure("layers = [sequenceInputLayer([H 1 1]); gruLayer(4)];\n")
    assert diagnostic.code == "E206" and diagnostic.hint == "bind it: --set H=VALUE"
    assert diagnostic.message == "invalid InputSize for sequenceInputLayer: it takes numbers, not the symbol `H`"


def test_only_an_undefined_name_itself_is_a_symbol_of_a_size():
    """`[2*H W 1]` is no `[H W 1]`; `[sequenceInputLayer(n)]` holds a layer, not a size."""
    result = run("layers = [imageInputLayer([H W 1]); reluLayer];\n")
    assert result.network.layers[0].input_size == ("H", "W", 1)
    assert failure("layers = [imageInputLayer([2*H W 1]); reluLayer];\n").code == "E407"
    assert failure("n = size(X, 1);\nlayers = [sequenceInputLayer(n)];\n").code == "E407"


def test_a_value_perhaps_loaded_that_reaches_the_network_unnamed_says_how_to_bind_it():
    diagnostic = failure("load data.mat\nlayers = [sequenceInputLayer(size(XTrain, 1)); lstmLayer(4)];\n")
    assert diagnostic.code == "E405" and "perhaps `load` at line 1 loads it" in diagnostic.message
    assert diagnostic.hint == "assign the unknown value to a variable, then bind it with --set NAME=VALUE"


# -- C: what sequenceInputLayer's InputSize means ----------------------------------------------------------

@pytest.mark.parametrize("size, form, images", [("[81 128]", "[H C]", "1-D images"),
                                                ("[16 16 8 1]", "[H W D C]", "3-D images")])
def test_image_sequences_netspec_does_not_read_are_refused_as_such(size, form, images):
    diagnostic = failure(f"layers = [sequenceInputLayer({size})\n    convolution1dLayer(3, 16)];\n")
    assert diagnostic.code == "E208"
    assert diagnostic.message == (f"InputSize {size} of sequenceInputLayer: a {len(size.split())}-element InputSize, "
                                  f"{form}, is a sequence of {images} in MATLAB, which netspec does not read yet")
    assert diagnostic.span.line == 1 and "sequenceInputLayer([H W C])" in diagnostic.hint


@pytest.mark.parametrize("size, read", [("12", 12), ("[12]", 12), ("[28 28 1]", (28, 28, 1))])
def test_vector_and_2d_image_sequences_are_read(size, read):
    assert run(f"layers = [sequenceInputLayer({size}); flattenLayer];\n").network.layers[0].input_size == read


# -- E: package functions ---------------------------------------------------------------------------------

def test_several_outputs_of_a_package_function_are_unknown_values():
    result = run("[a, b] = mypkg.loader('x.mat');\n" + textwrap.dedent(LSTM))
    assert kinds(result) == LSTM_KINDS
    assert warnings(result, "W105") == ["unknown function `mypkg.loader`: netspec treats its result as unknown"]


def test_a_network_that_needs_a_package_function_output_names_it():
    diagnostic = failure("[a, b] = mypkg.loader(3);\nlayers = [sequenceInputLayer(3); lstmLayer(b)];\n")
    assert (diagnostic.code, diagnostic.hint) == ("E405", "give it a value on the command line: --set b=VALUE")
    assert diagnostic.notes == ["`mypkg.loader` is a function netspec does not know"]
    inline = failure("layers = [sequenceInputLayer(3); lstmLayer(mypkg.sub.width(3))];\n")
    assert inline.code == "E406" and inline.message.endswith("depends on `mypkg.sub.width`, which is not a function "
                                                             "netspec knows")
    assert "the function `width` of the MATLAB package `mypkg.sub` (a `+mypkg` folder)" in inline.hint


def test_a_struct_field_called_is_still_indexing():
    result = run("s.w = [4 8];\nlayers = [sequenceInputLayer(3); lstmLayer(s.w(2))];\n")
    assert result.network.layers[1].num_hidden_units == 8


def test_an_undefined_struct_indexed_with_end_is_no_package_call():
    result = run("t = IS.time(end);\n" + textwrap.dedent(LSTM))
    assert kinds(result) == LSTM_KINDS
    assert warnings(result, "W105") == ["unknown variable or function `IS`: netspec treats it as unknown"]
