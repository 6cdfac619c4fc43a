"""Constructs of real public MATLAB network files that issue 14's second part reads (each test a
minimal file of our own): class names and weights that come from pixel-label data, a text the code
compares an unbound parameter with, MATLAB's transfer-learning helpers over `lgraph.Connections`
(a table), string arrays, segnetLayers, a network loaded from a .mat file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from netspec.diagnostics import NetspecError, Severity
from netspec.language import load_file, load_source, parse_bindings


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
