"""Analysis diagnostics (SPEC §5): code, severity, message substance and the located layer.

Each case is a small inline spec; the span must point at the constructor call of the layer the
diagnostic is about (line:column, 1-based), or be absent for network-level findings.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from netspec.analysis import analyze
from netspec.cli import app
from netspec.language import load_source

runner = CliRunner()


def diagnose(text: str):
    result = load_source(text, "t.net")
    return analyze(result.network)


def only(analysis, code: str):
    found = [d for d in analysis.diagnostics if d.code == code]
    assert len(found) == 1, analysis.diagnostics
    return found[0]


def at(diagnostic) -> str | None:
    span = diagnostic.span
    return f"{span.file}:{span.line}:{span.column}" if span else None


# (id, spec text, code, severity, substrings of the message, "line:col" of the layer or None,
#  substring of the hint or None)
CASES = [
    ("addition_channel_mismatch", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    convolution2dLayer(3,16,'Padding',1,'Name','c1')
    additionLayer(2,'Name','add')
    softmaxLayer
    classificationLayer]);
lgraph = connectLayers(lgraph,'in','add/in2');
""", "A103", "error", ["'add'", "additionLayer", "8×8×16 (in1)", "8×8×3 (in2)"], "3:5", "same H×W×C"),

    ("depth_concatenation_mismatch", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    convolution2dLayer(3,16,'Name','c1')
    depthConcatenationLayer(2,'Name','cat')
    softmaxLayer
    classificationLayer]);
lgraph = connectLayers(lgraph,'in','cat/in2');
""", "A103", "error", ["'cat'", "depthConcatenationLayer", "6×6×16 (in1)", "8×8×3 (in2)"], "3:5", "agree"),

    ("output_size_below_one", """\
layers = [imageInputLayer([4 4 1])
    convolution2dLayer(5,8)
    softmaxLayer
    classificationLayer];
""", "A102", "error", ["'conv'", "output height of 0", "input is 4", "spans 5"], "2:5", "smaller window"),

    ("missing_input_layer", """\
layers = [convolution2dLayer(3,8)
    reluLayer
    softmaxLayer
    classificationLayer];
""", "A002", "error", ["no input layer"], None, "imageInputLayer"),

    ("unconnected_input_port", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    additionLayer(2,'Name','add')
    softmaxLayer
    classificationLayer]);
""", "A003", "error", ["'add/in2'", "not connected"], "2:5", "connectLayers"),

    ("dangling_layer", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    reluLayer('Name','r')
    softmaxLayer
    classificationLayer]);
lgraph = addLayers(lgraph, reluLayer('Name','extra'));
lgraph = connectLayers(lgraph,'in','extra');
""", "A005", "warning", ["'extra'", "goes nowhere"], "5:28", "removeLayers"),

    ("unused_input", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    reluLayer('Name','r')
    softmaxLayer
    classificationLayer]);
lgraph = addLayers(lgraph, imageInputLayer([8 8 3],'Name','in2'));
""", "A004", "warning", ["'in2'", "not used"], "5:28", None),

    ("no_output_layer", """\
layers = [imageInputLayer([8 8 3])
    fullyConnectedLayer(10)
    softmaxLayer];
""", "A006", "warning", ["no output layer", "classificationLayer"], None, "classificationLayer"),

    ("softmax_missing", """\
layers = [imageInputLayer([8 8 3])
    fullyConnectedLayer(10)
    classificationLayer];
""", "A301", "error", ["classificationLayer 'classoutput'", "softmaxLayer", "fullyConnectedLayer 'fc'"],
     "3:5", "insert softmaxLayer"),

    ("cycle", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    convolution2dLayer(3,3,'Padding',1,'Name','c1')
    additionLayer(2,'Name','add')
    reluLayer('Name','r')
    softmaxLayer
    classificationLayer]);
lgraph = connectLayers(lgraph,'r','add/in2');
""", "A001", "error", ["cycle", "'add'", "'r'"], "3:5", "disconnectLayers"),

    ("declared_num_channels", """\
layers = [imageInputLayer([8 8 3])
    convolution2dLayer(3,8,'NumChannels',4)
    softmaxLayer
    classificationLayer];
""", "A105", "error", ["'conv'", "NumChannels 4", "3 channels"], "2:5", "NumChannels"),

    ("batchnorm_num_channels", """\
layers = [imageInputLayer([8 8 3])
    batchNormalizationLayer('NumChannels',4)
    softmaxLayer
    classificationLayer];
""", "A105", "error", ["'batchnorm'", "NumChannels 4", "3 channels"], "2:5", None),

    ("groups_do_not_divide", """\
layers = [imageInputLayer([8 8 6])
    groupedConvolution2dLayer(3,2,4)
    softmaxLayer
    classificationLayer];
""", "A105", "error", ["'groupedconv'", "6 input channels", "4 groups", "does not divide"], "2:5",
     "NumGroups must divide"),

    ("pool_stride_past_window", """\
layers = [imageInputLayer([8 8 3])
    maxPooling2dLayer(2,'Stride',3)
    softmaxLayer
    classificationLayer];
""", "A303", "warning", ["'maxpool'", "(3, 3)", "(2, 2)", "never seen"], "2:5", "stride no larger"),

    ("wrong_input_kind", """\
layers = [sequenceInputLayer(3,'MinLength',20)
    convolution2dLayer(3,8)
    softmaxLayer
    classificationLayer];
""", "A104", "error", ["'conv'", "convolution2dLayer needs an image", "20×3"], "2:5", "flattenLayer"),

    ("crop_window_outside_input", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    convolution2dLayer(3,3,'Name','c')
    crop2dLayer([2 1],'Name','crop')]);
lgraph = connectLayers(lgraph,'in','crop/ref');
""", "A102", "error", ["'crop'", "rows 1 to 8", "outside its input of 6×6×3"], "3:5", "'ref'"),

    ("crop_at_corner_past_the_edge", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    crop2dLayer([4 1],'Name','crop')]);
lgraph = addLayers(lgraph, convolution2dLayer(3,3,'Name','c'));
lgraph = connectLayers(lgraph,'in','c');
lgraph = connectLayers(lgraph,'c','crop/ref');
""", "A102", "error", ["'crop'", "columns 4 to 9", "8×8×3"], "2:5", None),

    ("depth_to_space_channels", """\
layers = [imageInputLayer([8 8 6])
    depthToSpace2dLayer(2)];
""", "A105", "error", ["'layer'", "2×2 = 4 channels", "input has 6"], "2:5", "multiple of h·w"),

    ("space_to_depth_block_too_large", """\
layers = [imageInputLayer([3 8 1])
    spaceToDepthLayer([4 2])];
""", "A102", "error", ["'layer'", "4×2", "3×8×1"], "2:5", None),

    ("unpool_size_from_elsewhere", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    maxPooling2dLayer(2,'Stride',2,'HasUnpoolingOutputs',true,'Name','pool')
    maxUnpooling2dLayer('Name','unpool')]);
lgraph = connectLayers(lgraph,'pool/indices','unpool/indices');
lgraph = connectLayers(lgraph,'in','unpool/size');
""", "A104", "error", ["'unpool'", "'size' input is 8×8×3, not a size"], "3:5", "'HasUnpoolingOutputs'"),

    ("unpool_indices_of_another_size", """\
lgraph = layerGraph([imageInputLayer([8 8 3],'Name','in')
    maxPooling2dLayer(2,'Stride',2,'HasUnpoolingOutputs',true,'Name','pool')
    convolution2dLayer(3,3,'Name','c')
    maxUnpooling2dLayer('Name','unpool')]);
lgraph = connectLayers(lgraph,'pool/indices','unpool/indices');
lgraph = connectLayers(lgraph,'pool/size','unpool/size');
""", "A103", "error", ["'unpool'", "'indices' (4×4×3)", "'in' (2×2×3)"], "4:5", "'indices' output"),

    ("pixel_classification_of_a_vector", """\
layers = [imageInputLayer([8 8 3])
    fullyConnectedLayer(2)
    flattenLayer
    softmaxLayer
    pixelClassificationLayer];
""", "A104", "error", ["'classoutput'", "pixelClassificationLayer needs an image"], "5:5", None),
]


@pytest.mark.parametrize("name, text, code, severity, substrings, where, hint", CASES, ids=[c[0] for c in CASES])
def test_diagnostic(name, text, code, severity, substrings, where, hint):
    analysis = diagnose(text)
    d = only(analysis, code)
    assert d.severity.value == severity
    for part in substrings:
        assert part in d.message, (part, d.message)
    assert at(d) == (f"t.net:{where}" if where else None)
    if hint is not None:
        assert d.hint and hint in d.hint, d.hint
    # a warning alone does not make the analysis fail (the CLI exits 0 then)
    assert analysis.has_errors == (severity == "error")


def test_clean_network_has_no_diagnostics():
    analysis = diagnose("""\
layers = [imageInputLayer([8 8 3])
    convolution2dLayer(3,8,'Padding','same')
    maxPooling2dLayer(2,'Stride',2)
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
""")
    assert analysis.diagnostics == []
    assert not analysis.has_errors


def test_error_leaves_later_layers_unanalyzed_but_reported():
    # after an error the analysis goes on: the failing layer and those after it are 'analyzed=False'
    analysis = diagnose(CASES[2][1])  # output size < 1 at conv
    rows = {r.name: r for r in analysis.layers}
    assert rows["imageinput"].analyzed and rows["imageinput"].output_dims == [[4, 4, 1]]
    assert not rows["conv"].analyzed and not rows["softmax"].analyzed
    assert rows["conv"].output_shapes == []


def test_cycle_is_located_and_not_a_traceback():
    analysis = diagnose(next(c[1] for c in CASES if c[0] == "cycle"))
    d = only(analysis, "A001")
    assert d.span is not None and d.span.line == 3  # additionLayer('add'), the first layer on the cycle


def test_wrong_input_size_arity():
    # --input-size with the wrong number of entries for the input kind (A007)
    result = load_source("layers = [imageInputLayer([8 8 3])\n    reluLayer];\n", "t.net")
    analysis = analyze(result.network, input_size=(8, 3))
    d = only(analysis, "A007")
    assert d.severity.value == "error" and "H W C" in d.message
    assert at(d) == "t.net:1:11"


# --------------------------------------------------------------------------------------------
# The CLI: errors -> exit 1, the table still printed on stdout, diagnostics on stderr;
# warnings only -> exit 0.
# --------------------------------------------------------------------------------------------

def test_cli_errors_exit_1_but_print_the_table(tmp_path):
    path = tmp_path / "bad.net"
    path.write_text(CASES[0][1])  # A103 at the addition
    result = runner.invoke(app, ["analyze", str(path)], env={"COLUMNS": "200"})  # rich: no elision
    assert result.exit_code == 1
    assert "c1" in result.stdout and "convolution2dLayer" in result.stdout  # the table
    assert "learnables" in result.stdout
    assert "A103" in result.stderr and "error" in result.stderr
    assert f"{path}:3:5" in result.stderr and "^" in result.stderr
    assert "A103" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown"])
def test_cli_errors_exit_1_in_every_format(tmp_path, fmt):
    path = tmp_path / "bad.net"
    path.write_text(CASES[0][1])
    result = runner.invoke(app, ["analyze", str(path), "--format", fmt])
    assert result.exit_code == 1
    assert "c1" in result.stdout
    assert "A103" in result.stderr


def test_cli_warnings_only_exit_0(tmp_path):
    path = tmp_path / "warn.net"
    path.write_text(next(c[1] for c in CASES if c[0] == "pool_stride_past_window"))
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "maxpool" in result.stdout
    assert "warning[A303]" in result.stderr
    assert "error" not in result.stderr


def test_cli_no_output_layer_is_a_warning(tmp_path):
    path = tmp_path / "nohead.net"
    path.write_text(next(c[1] for c in CASES if c[0] == "no_output_layer"))
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 0
    assert "A006" in result.stderr
