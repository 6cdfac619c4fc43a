"""Malformed `.net` inputs: every one must end in a located, helpful diagnostic.

Each case asserts the error's code, a key part of its message, the exact line:column it
points at, the hint where one exists, and that `render` shows the source line with a caret
under that column (SPEC §2: "every diagnostic carries file, line, column, a caret excerpt,
and a suggestion where one exists"; "a wrong file never produces a Python traceback").

Cases marked xfail(strict=True) assert the behaviour a user needs where netspec does not
give it yet; they are bug reports for the language owner and must be un-marked when fixed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netspec.diagnostics import Diagnostic, NetspecError, Severity, SourceMap, Span, render
from netspec.language import Limits, load_file, load_source, parse_bindings


# -- helpers ------------------------------------------------------------------------------

@dataclass
class Case:
    text: str
    code: str
    message: str | tuple[str, ...]  # a key part of the message (any one of a tuple)
    line: int
    column: int
    hint: str | None = None
    kwargs: dict = field(default_factory=dict)
    bug: str | None = None      # a known defect in one aspect of the diagnostic ...
    bug_in: str | None = None   # ... "code", "message", "position" or "hint"; the others must hold


def _fail(text: str, file: str = "x.net", **kwargs) -> NetspecError:
    with pytest.raises(NetspecError) as info:
        load_source(text, file, **kwargs)
    return info.value


def _sources(exc: NetspecError, file: str, text: str) -> SourceMap:
    sources = getattr(exc, "sources", None)
    if sources is None:
        sources = SourceMap()
        sources.add(file, text)
    return sources


def _check_render(diagnostic, sources: SourceMap, source_line: str) -> str:
    """The rendered text holds the source line and a caret line under the column."""
    shown = render(diagnostic, sources)
    span = diagnostic.span
    assert f"{span.file}:{span.line}:{span.column}" in shown
    assert f"{span.line} | {source_line.replace(chr(9), ' ')}" in shown, shown
    assert f" | {' ' * (span.column - 1)}^" in shown, shown
    return shown


def _check(case: Case, file: str = "x.net") -> None:
    exc = _fail(case.text, file, **case.kwargs)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.severity is Severity.error
    assert diagnostic.span is not None, f"{diagnostic.code} has no location"
    span = diagnostic.span
    messages = (case.message,) if isinstance(case.message, str) else case.message
    holds = {
        "code": diagnostic.code == case.code,
        "message": any(m in diagnostic.message for m in messages),
        "position": (span.file, span.line, span.column) == (file, case.line, case.column),
        "hint": case.hint is None or (diagnostic.hint is not None and case.hint in diagnostic.hint),
    }
    seen = (f"{diagnostic.code} at {span.line}:{span.column}: {diagnostic.message!r} "
            f"(help: {diagnostic.hint!r})")
    for aspect, ok in holds.items():
        if aspect != case.bug_in:
            assert ok, f"wrong {aspect}: {seen}"
    source_line = case.text.splitlines()[span.line - 1]
    _check_render(diagnostic, _sources(exc, file, case.text), source_line)
    if case.bug_in is not None:
        if holds[case.bug_in]:
            pytest.fail(f"fixed: {case.bug_in} is now right; remove the bug marker ({case.bug})")
        pytest.xfail(f"{case.bug} [{seen}]")


def xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


def case(id: str, text: str, code: str, message, line: int, column: int, hint: str | None = None,
         marks=(), bug: str | None = None, bug_in: str | None = None, **kwargs):
    return pytest.param(Case(text, code, message, line, column, hint, kwargs, bug, bug_in), id=id, marks=marks)


# A ten-layer network (the course's MNIST network, seed 003) used by several cases.
MNIST = """layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3,16,'Padding',1)
    batchNormalizationLayer
    reluLayer
    maxPooling2dLayer(2,'Stride',2)
    convolution2dLayer(3,32,'Padding',1)
    convolution2dLayer(3,64,'Padding',1)
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
"""

# A named chain with a two-input addition whose in1 is fed by 'relu' (lines 1-7).
GRAPH = """layers = [imageInputLayer([28 28 1],'Name','in')
    convolution2dLayer(3,16,'Name','conv')
    reluLayer('Name','relu')
    additionLayer(2,'Name','add')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')];
lgraph = layerGraph(layers);
"""

CONV = "layers = [imageInputLayer([28 28 1])\n    convolution2dLayer({})];\n"


# -- syntax: characters, strings, brackets, blocks -----------------------------------------

SYNTAX = [
    case("unexpected-character-dollar", "x = 3 $ 4;\nlayers = reluLayer;\n",
         "E100", "unexpected character `$`", 1, 7, hint="typo or a stray character"),
    case("unexpected-character-hash", "x = 1 # a Python comment\nlayers = reluLayer;\n",
         "E100", "unexpected character `#`", 1, 7),
    case("unexpected-character-unicode", "layers = reluLayer;\nx = 2 × 3;\n",
         "E100", "unexpected character `×`", 2, 7),
    case("unterminated-char-string", CONV.format("3,16,'Padding','same)"),
         "E101", "unterminated string", 2, 39, hint="close it with '"),
    case("unterminated-double-quoted-string", 'layers = reluLayer("Name", "abc);\n',
         "E101", "unterminated string", 1, 28, hint='close it with "'),
    case("unclosed-paren-at-end-of-line", "x = (1 + 2\nlayers = reluLayer;\n",
         "E102", "unclosed `(`", 1, 5, hint="close it with `)`"),
    case("unclosed-paren-in-layer-call", "layers = [imageInputLayer([28 28 1])\n    reluLayer('Name', 'r'\n];\n",
         "E102", "unclosed `(`", 2, 14, hint="`...`"),
    case("unclosed-bracket-at-end-of-file", "layers = [imageInputLayer([28 28 1])\n    reluLayer\n",
         "E102", "unclosed `[`", 1, 10, hint="add the matching `]`"),
    case("unclosed-brace", "names = {'a', 'b'\nlayers = reluLayer;\n",
         "E102", "unclosed `{`", 1, 9, hint="add the matching `}`"),
    case("unclosed-block-comment", "layers = reluLayer;\n  %{\nlayers = [layers; reluLayer];\n",
         "E106", "unclosed block comment", 2, 3, hint="`%}`"),
    case("mismatched-paren-bracket", "x = (1 + 2];\nlayers = reluLayer;\n",
         "E103", "`]` does not match `(`", 1, 11),
    case("mismatched-in-layer-call", "layers = [imageInputLayer([28 28 1])\n    convolution2dLayer(3,16];\n",
         "E103", "`]` does not match `(`", 2, 28),
    case("unmatched-closing-paren", "x = 1);\nlayers = reluLayer;\n",
         "E103", "unmatched `)`", 1, 6, hint="remove this `)`"),
    case("for-without-end", "layers = reluLayer;\nfor i = 1:3\n  layers = [layers; reluLayer];\n",
         "E111", "missing `end` for this `for`", 2, 1, hint="add `end`"),
    case("if-without-end", "layers = reluLayer;\nif true\n  x = 1;\n",
         "E111", "missing `end` for this `if`", 2, 1, hint="add `end`"),
    case("while-without-end", "x = 0;\nwhile x < 3\n  x = x + 1;\n",
         "E111", "missing `end` for this `while`", 2, 1),
    case("function-without-end", "layers = f();\nfunction y = f()\n  y = reluLayer;\n",
         "E111", "missing `end` for this `function`", 2, 1, hint="add `end`"),
    case("stray-end", "layers = reluLayer;\nend\n",
         "E110", "`end` without a matching block", 2, 1, hint="remove this `end`"),
    case("assignment-in-if-condition", "x = 3;\nif x = 3\n  layers = reluLayer;\nend\n",
         "E105", "unexpected `=`", 2, 6, hint="use `==`"),
    case("lone-binary-operator", "x = 3 +\nlayers = reluLayer;\n",
         "E105", "unexpected end of statement", 1, 8, hint="ends before it is complete"),
    case("for-without-equals", "for i 1:3\n  x = i;\nend\nlayers = reluLayer;\n",
         "E105", "unexpected `1`", 1, 7, hint="a for loop reads `for NAME = VALUES`"),
    case("function-outputs-without-equals", "layers = f();\nfunction [a, b] f()\n  a = reluLayer; b = 1;\nend\n",
         "E105", "unexpected `f`", 2, 17, hint="function [a, b] = name(args)"),
    case("function-without-name", "layers = reluLayer;\nfunction = f()\nend\n",
         "E105", "unexpected `=`", 2, 10),
    case("two-numbers-without-operator", "x = 3 4;\nlayers = reluLayer;\n",
         "E105", "unexpected `4`", 1, 7),
    case("end-as-a-value", "x = [1 2 3];\ny = end;\nlayers = reluLayer;\n",
         "E117", "`end` is used outside of indexing", 2, 5, hint="last index"),
    case("end-in-function-argument", "x = zeros(end);\nlayers = reluLayer;\n",
         "E117", "`end` is used outside of indexing", 1, 11, hint="last index"),
    case("function-defined-twice",
         "layers = f();\nfunction y = f()\n y = reluLayer;\nend\nfunction y = f()\n y = reluLayer;\nend\n",
         "E112", "function `f` is defined twice", 5, 1, hint="rename one"),
    case("function-inside-a-block-of-a-function",
         "layers = f();\nfunction y = f()\n y = reluLayer;\n if true\n  function z = g()\n   z = 1;\n  end\n end\nend\n",
         "E116", "a function cannot be defined inside a block of another function", 5, 3, hint="nested function"),
    case("multiple-outputs-to-a-number", "[a, 3] = size([1 2]);\nlayers = reluLayer;\n",
         "E113", "only variable names can receive multiple outputs", 1, 5),
]


# -- evaluation: indexing, operators, functions ----------------------------------------------

EVALUATION = [
    case("index-out-of-bounds", MNIST + "layers = layers(30);\n",
         "E131", "index 30 is out of bounds: the array has 10 elements", 11, 17),
    case("index-zero", "x = [1 2 3];\ny = x(0);\nlayers = reluLayer;\n",
         "E131", "positive whole number, got 0", 2, 7, hint="start at 1"),
    case("index-fraction", "x = [1 2 3];\ny = x(1.5);\nlayers = reluLayer;\n",
         "E131", "positive whole number, got 1.5", 2, 7),
    case("index-with-text", "x = [1 2 3];\ny = x('a');\nlayers = reluLayer;\n",
         "E130", "cannot index with text 'a'", 2, 7),
    case("brace-index-of-non-cell", "x = [1 2 3];\ny = x{2};\nlayers = reluLayer;\n",
         "E126", "brace indexing needs a cell array", 2, 5, hint="parentheses"),
    case("sizes-do-not-agree", "x = [1 2] + [1 2 3];\nlayers = reluLayer;\n",
         "E120", "sizes do not agree for `+`: 1x2 and 1x3", 1, 5),
    case("cell-as-condition", "x = {1, 2};\nif x\n  y = 1;\nend\nlayers = reluLayer;\n",
         "E115", "a cell array cannot be used as a condition", 2, 4),
    case("loop-over-options", "s = trainingOptions('sgdm');\nfor i = s\nend\nlayers = reluLayer;\n",
         "E114", "cannot loop over", 2, 9),
    case("number-in-layer-array", "x = [reluLayer 3];\nlayers = reluLayer;\n",
         "E121", "cannot put a number in a layer array", 1, 16, hint="a layer array holds layers only"),
    case("number-in-multiline-layer-array",
         "layers = [imageInputLayer([28 28 1])\n    reluLayer\n    5\n    softmaxLayer];\n",
         "E121", "cannot put a number in a layer array", 3, 5, hint="a layer array holds layers only"),
    case("matrix-with-a-non-number-on-a-later-row",
         "x = [1 2\n     3 trainingOptions('sgdm')];\nlayers = reluLayer;\n",
         "E121", "cannot put a training options in a numeric array", 2, 8),
    case("text-joined-with-a-layer", "x = ['relu_' 'a' reluLayer];\nlayers = reluLayer;\n",
         "E121", "cannot put a char array in a layer array", 1, 6),
    case("implicit-expansion-of-incompatible-sizes", "x = [1 2; 3 4] + [1 2 3];\nlayers = reluLayer;\n",
         "E120", "sizes do not agree for `+`: 2x2 and 1x3", 1, 5),
    case("layer-property-typo", "layers = [imageInputLayer([8 8 1])\n    reluLayer];\nn = layers(2).Nme;\n",
         "E125", "reluLayer has no property 'Nme'", 3, 5, hint="did you mean 'Name'"),
    case("function-called-with-too-many-arguments", "layers = f(1, 2);\nfunction y = f(a)\n  y = reluLayer;\nend\n",
         "E143", "`f` takes 1 argument, got 2", 1, 10, hint="function f(a)"),
    case("function-called-with-name-value", "layers = f(a=1);\nfunction y = f(a)\n  y = reluLayer;\nend\n",
         "E142", "`f` takes positional arguments only", 1, 10),
    case("function-does-not-set-output", "layers = f(1);\nfunction y = f(a)\n  z = reluLayer;\nend\n",
         "E144", "`f` did not set its output `y`", 1, 10, hint="assign y = ..."),
    case("builtin-bad-argument", "n = NaN;\nx = zeros(1, n);\nlayers = reluLayer;\n",
         "E141", "zeros: expected a whole number, got NaN", 2, 14),
    case("char-of-negative-code", "x = char(-1);\nlayers = reluLayer;\n",
         "E141", "char: -1 is not a character code", 1, 10),
    case("char-of-infinity", "x = char(Inf);\nlayers = reluLayer;\n",
         "E141", "char: Inf is not a character code", 1, 10),
    case("char-of-nan", "x = char(NaN);\nlayers = reluLayer;\n",
         "E141", "char: NaN is not a character code", 1, 10),
    case("char-beyond-unicode", "x = char([72 1114112]);\nlayers = reluLayer;\n",
         "E141", "char: 1114112 is not a character code", 1, 10),
    case("sprintf-percent-c-negative", "x = sprintf('%c', -1);\nlayers = reluLayer;\n",
         "E141", "sprintf: -1 is not a character code", 1, 19),
    case("mod-sizes-do-not-agree", "x = mod([1 2 3], [1 2]);\nlayers = reluLayer;\n",
         "E141", "mod: sizes do not agree for `mod`: 1x3 and 1x2", 1, 5),
    case("rem-sizes-do-not-agree", "x = rem([1 2 3], [1 2]);\nlayers = reluLayer;\n",
         "E141", "rem: sizes do not agree for `rem`: 1x3 and 1x2", 1, 5),
    case("max-sizes-do-not-agree", "x = max([1 2 3], [1 2]);\nlayers = reluLayer;\n",
         "E141", "max: sizes do not agree for `max`: 1x3 and 1x2", 1, 5),
    case("min-sizes-do-not-agree", "y = 1;\n  x = min([1 2; 3 4], [1 2 3]);\nlayers = reluLayer;\n",
         "E141", "min: sizes do not agree for `min`: 2x2 and 1x3", 2, 7),
    case("set-layer-property-wrong-type", "layers = reluLayer('Name', 'a');\nlayers(1).Name = 5;\n",
         "E206", "invalid Name for reluLayer: input should be a valid string", 2, 1),
]


# -- layer constructors: arity, options, values ----------------------------------------------

LAYER_ARGUMENTS = [
    case("unknown-option-with-suggestion", CONV.format("3,16,'Stide',2"),
         "E204", "unknown option 'Stide' for convolution2dLayer", 2, 29, hint="did you mean 'Stride'?"),
    case("unknown-option-name-value-form", "layers = convolution2dLayer(3,16,Stide=2);\n",
         "E204", "unknown option 'Stide' for convolution2dLayer", 1, 34, hint="did you mean 'Stride'?"),
    case("unknown-option-after-tab", "layers = [imageInputLayer([28 28 1])\n\tconvolution2dLayer(3,16,'Stide',2)];\n",
         "E204", "unknown option 'Stide'", 2, 26, hint="did you mean 'Stride'?"),
    case("unknown-option-lists-the-options", "layers = reluLayer('Zzzzqq', 1);\n",
         "E204", "unknown option 'Zzzzqq' for reluLayer", 1, 20, hint="reluLayer takes: Name"),
    case("unknown-training-option", "layers = reluLayer;\nopts = trainingOptions('sgdm', 'MaxEpohcs', 3);\n",
         "E204", "unknown option 'MaxEpohcs' for trainingOptions", 2, 32, hint="did you mean 'MaxEpochs'?"),
    case("ambiguous-option-prefix", "layers = lstmLayer(8, 'OutputM', 'last', 'Input', 1);\n",
         "E204", "ambiguous option 'Input' for lstmLayer: it matches 'InputSize', 'InputWeights', "
         "'InputWeightsInitializer', 'InputWeightsL2Factor' and 'InputWeightsLearnRateFactor'", 1, 42,
         hint="write enough of the name to tell them apart"),
    case("missing-positional-argument", CONV.format("3"),
         "E201", "convolution2dLayer needs 2 positional arguments, got 1", 2, 5,
         hint="convolution2dLayer(FilterSize, NumFilters"),
    case("too-many-positional-arguments", "layers = convolution2dLayer(3,16,4);\n",
         "E201", "convolution2dLayer takes at most 2 positional arguments", 1, 34),
    case("positional-argument-to-relu", "layers = reluLayer(3);\n",
         "E201", "reluLayer takes at most 0 positional arguments", 1, 20),
    case("option-without-value", CONV.format("3,16,'Stride'"),
         "E203", "option 'Stride' of convolution2dLayer has no value", 2, 29, hint="'Stride', VALUE"),
    case("text-where-a-number-is-needed", CONV.format("'three',16"),
         "E205", "invalid FilterSize for convolution2dLayer: expected a number, got text 'three'", 2, 24),
    case("numeric-text-is-not-a-number", "layers = fullyConnectedLayer('10');\n",
         "E205", "invalid OutputSize for fullyConnectedLayer: expected a number, got text '10'", 1, 30,
         hint="write the number without quotes: 10"),
    case("numeric-text-is-not-a-probability", "layers = dropoutLayer('0.3');\n",
         "E205", "invalid Probability for dropoutLayer: expected a number, got text '0.3'", 1, 23,
         hint="write the number without quotes: 0.3"),
    case("numeric-text-name-value", CONV.format("3,16,'Stride','2'"),
         "E205", "invalid Stride for convolution2dLayer: expected a number, got text '2'", 2, 38,
         hint="write the number without quotes: 2"),
    case("negative-filter-count", CONV.format("3,-16"),
         "E206", "invalid NumFilters for convolution2dLayer: input should be greater than 0 (got -16)", 2, 26),
    case("zero-stride", CONV.format("3,16,'Stride',0"),
         "E206", "invalid Stride for convolution2dLayer: input should be greater than 0 (got 0)", 2, 38),
    case("unknown-padding-name", CONV.format("3,16,'Padding','sme'"),
         "E206", "invalid Padding for convolution2dLayer: padding is a number, [tb lr], [t b l r] or 'same' "
         "(got 'sme')", 2, 39),
    case("padding-vector-of-three", CONV.format("3,16,'Padding',[1 2 3]"),
         "E206", "padding is a number, [tb lr], [t b l r] or 'same' (got [1 2 3])", 2, 39),
    case("negative-padding", CONV.format("3,16,'Padding',-1"),
         "E206", "invalid Padding for convolution2dLayer: padding must not be negative (got -1)", 2, 39),
    case("negative-padding-vector", CONV.format("3,16,'Padding',[1 -1]"),
         "E206", "invalid Padding for convolution2dLayer: padding must not be negative", 2, 39),
    case("zero-fully-connected-outputs", "layers = fullyConnectedLayer(0);\n",
         "E206", "input should be greater than 0 (got 0)", 1, 30),
    case("infinite-fully-connected-outputs", "layers = fullyConnectedLayer(Inf);\n",
         "E206", "finite number (got Inf)", 1, 30),
    case("dropout-probability-above-one", "layers = dropoutLayer(1.5);\n",
         "E206", "invalid Probability for dropoutLayer: input should be less than 1 (got 1.5)", 1, 23),
    case("layer-name-not-text", "layers = reluLayer('Name', 3);\n",
         "E206", "invalid Name for reluLayer", 1, 28),
    case("layer-name-not-text-vector", "layers = reluLayer('Name', [1 2]);\n",
         "E206", "invalid Name for reluLayer: input should be a valid string (got [1 2])", 1, 28),
    case("addition-layer-with-one-input", "layers = additionLayer(1);\n",
         "E206", "invalid NumInputs for additionLayer: input should be greater than or equal to 2 (got 1)", 1, 24),
    case("momentum-with-adam", "layers = reluLayer;\nopts = trainingOptions('adam','Momentum',0.9);\n",
         "E207", "'Momentum' applies only to solver 'sgdm'", 2, 42),
    case("unknown-solver", "layers = reluLayer;\nopts = trainingOptions('sgd');\n",
         "E206", "'sgdm', 'adam' or 'rmsprop' (got 'sgd')", 2, 24, hint="allowed: 'sgdm', 'adam' or 'rmsprop'"),
]


# -- arrays and graphs -------------------------------------------------------------------------

GRAPHS = [
    case("duplicate-layer-names", "layers = [imageInputLayer([28 28 1])\n    reluLayer('Name','a')\n    reluLayer('Name','a')];\n",
         "E301", "duplicate layer name 'a'", 3, 5, hint="rename one"),
    case("layers-after-output-layer", "layers = [imageInputLayer([28 28 1])\n    softmaxLayer\n    classificationLayer\n    reluLayer];\n",
         "E302", "'classoutput' (classificationLayer) has no output to connect to 'relu'", 3, 5,
         hint="move the output layer to the end"),
    case("input-layer-in-the-middle", "layers = [imageInputLayer([28 28 1])\n    reluLayer\n    imageInputLayer([28 28 1])\n    softmaxLayer];\n",
         "E302", "(imageInputLayer) takes no input, but follows 'relu'", 3, 5),
    case("connect-unknown-destination", GRAPH + "lgraph = connectLayers(lgraph,'conv','ad/in2');\n",
         "E303", "no layer named 'ad' in the graph", 8, 38, hint="did you mean 'add'?"),
    case("connect-unknown-source", GRAPH + "lgraph = connectLayers(lgraph,'cnv','add/in2');\n",
         "E303", "no layer named 'cnv' in the graph", 8, 31, hint="did you mean 'conv'?"),
    case("connect-unknown-port", GRAPH + "lgraph = connectLayers(lgraph,'conv','add/in3');\n",
         "E304", "'add' (additionLayer) has no input port 'in3'", 8, 38, hint="did you mean 'add/in2'?"),
    case("connect-without-port-to-two-inputs", GRAPH + "lgraph = connectLayers(lgraph,'conv','add');\n",
         "E304", "'add' has 2 inputs; name the port", 8, 38, hint="'add/in1', 'add/in2'"),
    case("connect-already-connected-input", GRAPH + "lgraph = connectLayers(lgraph,'conv','add/in1');\n",
         "E305", "'add/in1' is already connected (from 'relu')", 8, 38, hint="disconnectLayers"),
    case("disconnect-unconnected", GRAPH + "lgraph = disconnectLayers(lgraph,'in','sm');\n",
         "E306", "'in' is not connected to 'sm'", 8, 34),
    case("remove-unknown-layer", GRAPH + "lgraph = removeLayers(lgraph,'rlu');\n",
         "E303", "no layer named 'rlu' in the graph", 8, 30, hint="did you mean 'relu'?"),
]


# -- unknown values: functions and variables the network depends on -------------------------------

UNKNOWN = [
    case("network-depends-on-unknown-function",
         "imds = imageDatastore('data');\nnumClasses = numel(categories(imds.Labels));\n"
         "layers = [imageInputLayer([28 28 1])\n    fullyConnectedLayer(numClasses)];\n",
         "E405", "depends on `numClasses`, which netspec cannot compute", 2, 20, hint="--set numClasses=VALUE"),
    case("undefined-variable-used-by-layer",
         "layers = [imageInputLayer([28 28 1])\n    fullyConnectedLayer(numClasses)\n    softmaxLayer];\n",
         "E407", "the network `layers` depends on `numClasses`, which is never defined", 2, 25,
         hint="define it in the file, or bind it: --set numClasses=VALUE"),
    case("undefined-variable-through-another-variable",
         "n = numClasses * 2;\nlayers = [imageInputLayer([28 28 1])\n    fullyConnectedLayer(n)];\n",
         "E407", "depends on `numClasses`, which is never defined", 1, 5, hint="--set numClasses=VALUE"),
    case("misspelled-layer-constructor", CONV.format("3,16").replace("convolution2dLayer", "convolution2dLayr"),
         "E406", "the network `layers` depends on `convolution2dLayr`, which is not a function netspec knows",
         2, 5, hint="did you mean `convolution2dLayer`?"),
    case("misspelled-layer-constructor-in-a-graph",
         "layers = [imageInputLayer([28 28 1])\n    reluLayr('Name','r')];\nlgraph = layerGraph(layers);\n",
         "E406", "the network `lgraph` depends on `reluLayr`, which is not a function netspec knows", 2, 5,
         hint="did you mean `reluLayer`?"),
]


# -- limits: hostile specs end fast --------------------------------------------------------------

LIMITS = [
    case("runaway-while-loop", "x = 0;\nwhile true\n  x = x + 1;\nend\nlayers = reluLayer;\n",
         "E501", "the spec ran more than 10,000 steps", 2, 1, hint="bounds loops", limits=Limits(steps=10_000)),
    case("runaway-for-loop", "x = 0;\n  for i = 1:100000\n    x = x + i;\n  end\nlayers = reluLayer;\n",
         "E501", "the spec ran more than 10,000 steps", 2, 3, hint="bounds loops", limits=Limits(steps=10_000)),
    case("runaway-recursion", "layers = f(1);\nfunction y = f(n)\n  y = f(n + 1);\nend\n",
         "E504", "calls nest more than 64 deep", 3, 7),
    case("runaway-anonymous-recursion", "f = @(g, n) g(g, n + 1);\nx = f(f, 1);\nlayers = reluLayer;\n",
         "E504", "calls nest too deep", 1, 13),
    case("huge-zeros", "x = zeros(1e5,1e5);\nlayers = reluLayer;\n",
         "E502", "larger than netspec allows", 1, 5),
    case("huge-range", "x = 1:1e12;\nlayers = reluLayer;\n",
         "E502", "the range 1:1:1e+12 has more elements than netspec allows (1,000,000)", 1, 5),
    case("range-just-over-the-limit", "x = 0:1000000;\nlayers = reluLayer;\n",
         "E502", "the range has 1,000,001 elements, more than netspec allows (1,000,000)", 1, 5),
    case("infinite-range", "x = 1:Inf;\nlayers = reluLayer;\n",
         "E502", "the range 1:1:inf has more elements than netspec allows (1,000,000)", 1, 5),
    case("infinite-range-with-step", "x = 0:0.5:Inf;\nlayers = reluLayer;\n",
         "E502", "has more elements than netspec allows", 1, 5),
    case("range-from-minus-infinity", "x = -Inf:0;\nlayers = reluLayer;\n",
         "E502", "has more elements than netspec allows", 1, 5),
    case("range-of-overflowed-numbers", "x = 1e400:1e400;\nlayers = reluLayer;\n",
         "E502", "has more elements than netspec allows", 1, 5),
    case("huge-zeros-just-over-the-limit", "x = zeros(1001, 1000);\nlayers = reluLayer;\n",
         "E502", "zeros: an array of 1001x1000 elements is larger than netspec allows (1,000,000)", 1, 5),
    case("matrix-product-too-much-work", "a = ones(1000, 1000);\nx = a * a;\nlayers = reluLayer;\n",
         "E501", "the product 1000x1000 * 1000x1000 is more work than netspec allows", 2, 5,
         hint="bounds the work"),
    case("matrix-product-result-too-large", "a = ones(2000, 1);\nx = a * a';\nlayers = reluLayer;\n",
         "E502", "the product 2000x1 * 1x2000 would have 4,000,000 elements, more than netspec allows", 2, 5),
    case("implicit-expansion-too-large", "a = 1:2000;\nx = a + a';\nlayers = reluLayer;\n",
         "E502", "`+` of 1x2000 and 2000x1 would give 2000x2000 elements, more than netspec allows", 2, 5,
         hint="bounds array sizes"),
    case("string-concatenation-too-large",
         's = "a";\nfor k = 1:21\n  s = s + s;\nend\nlayers = reluLayer;\n',
         "E502", "the string would have 1,048,576 characters, more than netspec allows", 3, 7),
    case("sprintf-width-over-the-limit", "s = sprintf('%1001d', 1);\nlayers = reluLayer;\n",
         "E502", "sprintf: field widths and precisions are limited to 1000", 1, 5),
    case("huge-index-assignment", "x = [1 2 3];\nx(1e9) = 1;\nlayers = reluLayer;\n",
         "E502", "index too large", 2, 3),
    case("too-many-layers", "layers = imageInputLayer([28 28 1]);\nfor i = 1:100\n  layers = [layers; reluLayer];\nend\n",
         "E503", "more than 50 layers were created", 3, 21, hint="bounds the size", limits=Limits(layers=50)),
]

ALL = SYNTAX + EVALUATION + LAYER_ARGUMENTS + GRAPHS + UNKNOWN + LIMITS


@pytest.mark.parametrize("case", ALL)
def test_error(case: Case):
    _check(case)


def test_arrays_at_the_size_limit_load():
    """MAX_ELEMENTS is 1,000,000: an array of exactly that many elements is allowed."""
    result = load_source("x = zeros(1000, 1000);\ny = 1:1000000;\nlayers = reluLayer;\n", "x.net")
    assert result.network is not None and not result.diagnostics


def test_there_are_enough_cases():
    assert len(ALL) >= 45


# -- behaviours beyond one diagnostic -------------------------------------------------------------

def test_misspelled_constructor_warns_with_suggestion_first():
    """The typo is not fatal by itself (unknown functions are opaque); the warning names the fix."""
    text = CONV.format("3,16").replace("convolution2dLayer", "convolution2dLayr")
    exc = _fail(text)
    warnings = [d for d in exc.diagnostics if d.severity is Severity.warning]
    assert [d.code for d in warnings] == ["W105"]
    assert "convolution2dLayr" in warnings[0].message
    assert warnings[0].hint == "did you mean `convolution2dLayer`?"
    assert (warnings[0].span.line, warnings[0].span.column) == (2, 5)
    _check_render(warnings[0], exc.sources, "    convolution2dLayr(3,16)];")


def test_misspelled_constructor_unused_is_only_a_warning():
    result = load_source("x = convolution2dLayr(3,16);\nlayers = reluLayer;\n", "x.net")
    assert [d.code for d in result.diagnostics] == ["W105"]
    assert result.network is not None


def test_undefined_variable_warns_with_a_binding_hint():
    exc = _fail("layers = [imageInputLayer([28 28 1])\n    fullyConnectedLayer(numClasses)];\n")
    warnings = [d for d in exc.diagnostics if d.severity is Severity.warning]
    assert [d.code for d in warnings] == ["W105"]
    assert warnings[0].message.startswith("unknown variable or function `numClasses`")
    assert warnings[0].hint is not None and "--set numClasses=VALUE" in warnings[0].hint
    assert (warnings[0].span.line, warnings[0].span.column) == (2, 25)
    _check_render(warnings[0], exc.sources, "    fullyConnectedLayer(numClasses)];")


def test_undefined_variable_warning_makes_no_far_fetched_guess():
    exc = _fail("layers = [imageInputLayer([28 28 1])\n    fullyConnectedLayer(numClasses)];\n")
    warning = next(d for d in exc.diagnostics if d.code == "W105")
    assert "did you mean" not in (warning.hint or ""), warning.hint


def test_wrong_case_constructor_is_accepted_with_warning():
    result = load_source("layers = [imageInputLayer([28 28 1])\n    ClassificationLayer];\n", "x.net")
    assert [d.code for d in result.diagnostics] == ["W104"]
    assert "classificationLayer" in result.diagnostics[0].message
    assert (result.diagnostics[0].span.line, result.diagnostics[0].span.column) == (2, 5)


def test_error_reports_the_first_problem_only_once():
    exc = _fail(CONV.format("3,16,'Stide',2"))
    assert [d.code for d in exc.diagnostics] == ["E204"]


# -- network selection (E4xx): no single source line to point at ------------------------------------

def test_no_network_variable():
    exc = _fail("x = 3;\ny = 'relu';\n")
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E402"
    assert "defines no network" in diagnostic.message and "lgraph, net, layers" in diagnostic.message
    assert diagnostic.hint == "assign the layers to a variable named `layers` or `lgraph`"
    assert "`layers` or `lgraph`" in render(diagnostic, exc.sources)


def test_without_a_usual_name_the_last_layer_variable_is_the_network():
    """Issue 14 changed this: a file whose layers sit in `y` is read (it was E402, pick --net y)."""
    result = load_source("x = 3;\ny = reluLayer;\n", "x.net")
    assert result.network.name == "y"
    assert result.choice.describe() == "y (the last variable assigned a layer array at line 2)"


def test_net_names_missing_variable():
    exc = _fail("lgraph = layerGraph(reluLayer);\n", net="lgraf")
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E401"
    assert "no variable 'lgraf'" in diagnostic.message
    assert diagnostic.hint == "did you mean 'lgraph'?"


def test_net_names_missing_variable_without_close_match():
    exc = _fail("layers = reluLayer;\n", net="zzz")
    assert exc.diagnostics[-1].code == "E401"
    assert "no variable 'zzz'" in exc.diagnostics[-1].message


def test_network_emptied():
    exc = _fail("layers = reluLayer;\nlayers(1) = [];\n")
    assert exc.diagnostics[-1].code == "E403"
    assert "has no layers" in exc.diagnostics[-1].message


def test_network_variable_is_not_a_network():
    exc = _fail("x = 1;\nlayers = 3;\n")
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E404"
    assert "`layers` is a number, not a network" in diagnostic.message
    assert diagnostic.hint and "--net" in diagnostic.hint


def test_network_variable_is_not_a_network_is_located():
    exc = _fail("x = 1;\nlayers = 3;\n")
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.span is not None and (diagnostic.span.line, diagnostic.span.column) == (2, 1)


@pytest.mark.parametrize("text, line", [
    pytest.param("layers = reluLayer;\nlayers = 3;\nx = 1;\n", 2, id="the-last-assignment"),
    pytest.param("layers = reluLayer;\nif true\nlayers = 'relu';\nend\n", 3, id="inside-an-if"),
    pytest.param("[a, layers] = size([1 2]);\n", 1, id="multiple-outputs"),
    pytest.param("layers = reluLayer;\nfor layers = 1:3\nend\n", 2, id="a-loop-variable"),
    pytest.param("layers = reluLayer;\nlayers = f(layers);\nfunction y = f(x)\n  layers = 1;\n  y = 2;\nend\n", 2,
                 id="not-inside-a-function"),
])
def test_network_variable_is_not_a_network_points_at_its_last_assignment(text: str, line: int):
    diagnostic = _fail(text).diagnostics[-1]
    assert diagnostic.code == "E404"
    assert (diagnostic.span.line, diagnostic.span.column) == (line, 1), diagnostic
    assert diagnostic.label and "last set here" in diagnostic.label


def test_network_variable_is_not_a_network_in_an_imported_file(tmp_path: Path):
    (tmp_path / "base.net").write_text("x = 1;\nlayers = 3;\n")
    main = tmp_path / "main.net"
    main.write_text('import "base.net"\ny = 2;\n')
    with pytest.raises(NetspecError) as info:
        load_file(main)
    span = info.value.diagnostics[-1].span
    assert (Path(span.file).name, span.line, span.column) == ("base.net", 2, 1)


def test_network_variable_bound_by_set_has_no_assignment_to_show():
    bindings = parse_bindings(["layers=3"])
    diagnostic = _fail("x = 1;\nlayers = reluLayer;\n", bindings=bindings).diagnostics[-1]
    assert diagnostic.code == "E404" and diagnostic.span is None


def test_network_emptied_points_at_the_deletion():
    diagnostic = _fail("layers = reluLayer;\nlayers(1) = [];\n").diagnostics[-1]
    assert diagnostic.code == "E403"
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 1)


def test_missing_equals_in_for_is_labelled_with_what_is_expected():
    diagnostic = _fail("for i 1:3\n  x = i;\nend\nlayers = reluLayer;\n").diagnostics[-1]
    assert diagnostic.label == "expected `=` here"


def test_for_header_on_one_line_with_its_body_still_loads():
    result = load_source("x = 0;\nfor i = 1:3 x = x + i; end\nlayers = reluLayer;\n", "x.net")
    assert result.variables["x"].data == [6.0]


def test_undefined_variable_through_another_variable_names_both():
    diagnostic = _fail("n = numClasses * 2;\nlayers = [imageInputLayer([28 28 1])\n"
                       "    fullyConnectedLayer(n)];\n").diagnostics[-1]
    assert "`n` gets its value from `numClasses`" in diagnostic.notes


def test_matrix_product_work_counts_before_the_product_is_computed():
    """Products that fit one by one still stop at the work budget, before the one that would pass it."""
    exc = _fail("a = ones(200, 200);\nfor k = 1:10\n  x = a * a;\nend\nlayers = reluLayer;\n",
                limits=Limits(work=20_000_000))
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E501" and (diagnostic.span.line, diagnostic.span.column) == (3, 7)


# -- parser notes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    pytest.param("x = 3;\nif x = 3\nend\nlayers = reluLayer;\n", id="after-an-operand"),
    pytest.param("x = 3 +\n", id="after-an-operator"),
])
def test_expected_tokens_are_shown_as_written(text: str):
    exc = _fail(text)
    notes = " ".join(exc.diagnostics[-1].notes)
    assert notes.startswith("expected one of: "), notes
    for internal in ("`amp`", "`andand`", "`backslash`", "`at`", "`end_index`", "`caret`", "`colon`",
                     "`string`", "`name`", "`number`"):
        assert internal not in notes, notes


def test_expected_tokens_after_an_operand_name_the_operators():
    notes = " ".join(_fail("x = 3;\nif x = 3\nend\nlayers = reluLayer;\n").diagnostics[-1].notes)
    for written in ("`&`", "`&&`", "`\\`", "`|`", "`^`", "`:`"):
        assert written in notes, notes


# -- imports (E6xx) --------------------------------------------------------------------------------

def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _load_fail(path: Path) -> NetspecError:
    with pytest.raises(NetspecError) as info:
        load_file(path)
    return info.value


def test_import_missing_file(tmp_path: Path):
    main = _write(tmp_path / "main.net", 'import "missing.net"\nlayers = reluLayer;\n')
    exc = _load_fail(main)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E604"
    assert "cannot import 'missing.net': no such file" in diagnostic.message
    assert (diagnostic.span.file, diagnostic.span.line, diagnostic.span.column) == (str(main), 1, 8)
    assert str(tmp_path) in diagnostic.hint
    _check_render(diagnostic, exc.sources, 'import "missing.net"')


def test_import_non_net_file(tmp_path: Path):
    _write(tmp_path / "data.csv", "1,2\n")
    main = _write(tmp_path / "main.net", 'y = 1;\n  import "data.csv"\nlayers = reluLayer;\n')
    exc = _load_fail(main)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E601"
    assert "import reads only .net and .m files, not 'data.csv'" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 10)
    _check_render(diagnostic, exc.sources, '  import "data.csv"')


def test_import_folder(tmp_path: Path):
    (tmp_path / "blocks.net").mkdir()
    main = _write(tmp_path / "main.net", 'import "blocks.net"\nlayers = reluLayer;\n')
    exc = _load_fail(main)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code in ("E604", "E001")
    assert diagnostic.span is not None and diagnostic.span.line == 1


def test_import_cycle(tmp_path: Path):
    a = _write(tmp_path / "a.net", 'import "b.net"\nlayers = reluLayer;\n')
    b = _write(tmp_path / "b.net", 'x = 1;\nimport "a.net"\n')
    exc = _load_fail(a)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E602"
    assert "import cycle" in diagnostic.message
    assert diagnostic.span.file in (str(a), str(b))
    line = Path(diagnostic.span.file).read_text().splitlines()[diagnostic.span.line - 1]
    assert line.lstrip().startswith("import")
    _check_render(diagnostic, exc.sources, line)


def test_import_cycle_is_reported_where_it_closes(tmp_path: Path):
    a = _write(tmp_path / "a.net", 'import "b.net"\nlayers = reluLayer;\n')
    b = _write(tmp_path / "b.net", 'x = 1;\nimport "a.net"\n')
    diagnostic = _load_fail(a).diagnostics[-1]
    assert (diagnostic.span.file, diagnostic.span.line, diagnostic.span.column) == (str(b), 2, 8)
    assert "'a.net'" in diagnostic.message
    assert diagnostic.notes == ["a.net -> b.net -> a.net"]


def test_longer_import_cycle_is_reported_where_it_closes(tmp_path: Path):
    p = _write(tmp_path / "p.net", 'import "q.net"\nlayers = reluLayer;\n')
    _write(tmp_path / "q.net", 'import "r.net"\n')
    r = _write(tmp_path / "r.net", 'y = 2;\nimport "p.net"\n')
    exc = _load_fail(p)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E602"
    assert diagnostic.message == "'p.net' is already being imported (an import cycle)"
    assert (diagnostic.span.file, diagnostic.span.line, diagnostic.span.column) == (str(r), 2, 8)
    assert diagnostic.notes == ["p.net -> q.net -> r.net -> p.net"]
    _check_render(diagnostic, exc.sources, 'import "p.net"')


def test_importing_one_file_twice_is_not_a_cycle(tmp_path: Path):
    _write(tmp_path / "b.net", "x = 1;\n")
    main = _write(tmp_path / "main.net", 'import "b.net"\nimport "b.net"\nlayers = reluLayer;\n')
    assert load_file(main).network is not None


def test_unquoted_import_is_a_package_import_with_a_hint():
    """`import missing.net` is MATLAB's package import (ignored); the hint shows the file form."""
    result = load_source("x = 1;\n  import missing.net\nlayers = reluLayer;\n", "x.net")
    assert [d.code for d in result.diagnostics] == ["W103"]
    warning = result.diagnostics[0]
    assert "MATLAB package imports are ignored" in warning.message
    assert warning.hint == 'to import a file, quote it: import "missing.net"'
    assert (warning.span.line, warning.span.column) == (2, 3)
    sources = SourceMap()
    sources.add("x.net", "x = 1;\n  import missing.net\nlayers = reluLayer;\n")
    _check_render(warning, sources, "  import missing.net")


def test_self_import(tmp_path: Path):
    a = _write(tmp_path / "self.net", 'import "self.net"\nlayers = reluLayer;\n')
    diagnostic = _load_fail(a).diagnostics[-1]
    assert diagnostic.code == "E602"
    assert (diagnostic.span.file, diagnostic.span.line, diagnostic.span.column) == (str(a), 1, 8)


def test_error_inside_imported_file_points_into_it(tmp_path: Path):
    bad = _write(tmp_path / "blocks.net", "x = 1;\nblock = [reluLayer\n  convolution2dLayer(3)];\n")
    main = _write(tmp_path / "main.net", 'import "blocks.net"\nlayers = block;\n')
    exc = _load_fail(main)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E201"
    assert (diagnostic.span.file, diagnostic.span.line, diagnostic.span.column) == (str(bad), 3, 3)
    _check_render(diagnostic, exc.sources, "  convolution2dLayer(3)];")


def _project(tmp_path: Path, main_text: str) -> Path:
    """tmp/project/main.net beside tmp/secret.m, a file a spec must not read (its one line is
    bad syntax, which an import would show in its excerpt)."""
    _write(tmp_path / "secret.m", "hunter2 = = 1\n")
    (tmp_path / "project").mkdir()
    return _write(tmp_path / "project" / "main.net", main_text)


@pytest.mark.parametrize("target", ["{secret}", "../secret.m", "sub/../../secret.m", "link.m", "linked/secret.m"])
def test_import_outside_the_spec_folder_is_refused_unread(tmp_path: Path, target: str):
    main = _project(tmp_path, f'import "{target.format(secret=tmp_path / "secret.m")}"\nlayers = reluLayer;\n')
    (main.parent / "link.m").symlink_to(tmp_path / "secret.m")
    (main.parent / "linked").symlink_to(tmp_path, target_is_directory=True)
    exc = _load_fail(main)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E605" and "outside the spec's folder" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (1, 8)
    assert str(main.parent) in diagnostic.hint
    assert "hunter2" not in _check_render(diagnostic, exc.sources, main.read_text().splitlines()[0])


def test_import_outside_the_working_folder_from_text_is_refused(tmp_path: Path):
    diagnostic = _fail(f'import "{_write(tmp_path / "b.net", "x = 1;")}"\nlayers = reluLayer;\n',
                       file="<string>").diagnostics[-1]
    assert diagnostic.code == "E605"


def test_imports_stay_free_inside_the_folder_tree_and_the_search_folders(tmp_path: Path):
    main = _project(tmp_path, 'import "sub/a.net"\nimport "../lib/c.net"\nlayers = [a; c];\n')
    (main.parent / "sub").mkdir()
    _write(main.parent / "sub" / "a.net", 'import "../b.net"\na = [b; reluLayer("Name", "a")];\n')
    _write(main.parent / "b.net", 'b = reluLayer("Name", "b");\n')
    (tmp_path / "lib").mkdir()
    _write(tmp_path / "lib" / "c.net", 'c = reluLayer("Name", "c");\n')
    assert _load_fail(main).diagnostics[-1].code == "E605"  # lib is not a search folder yet
    result = load_file(main, limits=Limits(search_folders=(tmp_path / "lib",)))
    assert [layer.name for layer in result.network.layers] == ["b", "a", "c"]


@pytest.mark.parametrize("name, message", [
    ("a\x00.m", "a file name cannot hold a NUL character"),
    ("a" * 300 + ".net", "File name too long"),
    ("loop.net", "its symbolic links form a loop"),
])
def test_import_of_a_name_the_system_refuses_is_located(tmp_path: Path, name: str, message: str):
    (tmp_path / "loop.net").symlink_to(tmp_path / "loop.net")
    main = _write(tmp_path / "main.net", f'import "{name}"\nlayers = reluLayer;\n')
    exc = _load_fail(main)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E604" and message in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (1, 8)
    assert "\x00" not in render(diagnostic, exc.sources)


def test_byte_order_marks_are_not_text(tmp_path: Path):
    bom = "\ufeff"
    _write(tmp_path / "blocks.net", f"{bom}block = reluLayer('Name', 'r');\n")
    main = _write(tmp_path / "main.net", f'{bom}import "blocks.net"\nlayers = block;\n')
    assert [layer.name for layer in load_file(main).network.layers] == ["r"]
    bad = _write(tmp_path / "bad.net", f"{bom}y = (1;\nlayers = reluLayer;\n")
    diagnostic = _load_fail(bad).diagnostics[-1]
    assert (diagnostic.span.line, diagnostic.span.column) == (1, 5)


# -- --set bindings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment, message", [
    ("numClasses", "--set expects NAME=VALUE, got 'numClasses'"),
    ("=4", "--set expects NAME=VALUE, got '=4'"),
    ("1x=3", "--set expects NAME=VALUE, got '1x=3'"),
    ("num classes=3", "--set expects NAME=VALUE"),
    ("numClasses=", "--set numClasses= has no value"),
    ("numClasses=  ", "--set numClasses= has no value"),
], ids=["no-equals", "no-name", "name-starts-with-digit", "name-with-space", "no-value", "blank-value"])
def test_set_malformed(assignment: str, message: str):
    with pytest.raises(NetspecError) as info:
        parse_bindings([assignment])
    diagnostic = info.value.diagnostics[-1]
    assert diagnostic.code == "E010"
    assert message in diagnostic.message
    assert diagnostic.hint and "--set" in diagnostic.hint


def test_set_value_with_syntax_error_is_located_in_the_value():
    sources = SourceMap()
    with pytest.raises(NetspecError) as info:
        parse_bindings(["inputSize=[64 64"], sources)
    diagnostic = info.value.diagnostics[-1]
    assert diagnostic.code == "E102"
    assert "unclosed `[`" in diagnostic.message
    assert diagnostic.span is not None and "inputSize" in diagnostic.span.file
    source_line = sources.line(diagnostic.span.file, diagnostic.span.line)
    assert source_line is not None and source_line[diagnostic.span.column - 1] == "["
    _check_render(diagnostic, sources, source_line)


def test_set_binding_wins_over_the_file():
    bindings = parse_bindings(["numClasses=4"])
    text = "numClasses = numel(categories(imds.Labels));\nlayers = fullyConnectedLayer(numClasses);\n"
    result = load_source(text, "x.net", bindings=bindings)
    assert result.network.layers[0].output_size == 4


# -- spec text shown in a terminal ------------------------------------------------------------------

CONTROLS = "\x1b]0;pwned\x07\x1b[2J\x9b"
"""Retitle the terminal, clear the screen, and the one-byte CSI."""


def test_render_escapes_terminal_controls_and_keeps_the_caret_under_the_column():
    text = f"n = '{CONTROLS}'; y = (1;\nlayers = reluLayer;\n"
    exc = _fail(text)
    shown = render(exc.diagnostics[-1], _sources(exc, "x.net", text))
    assert not {"\x1b", "\x07", "\x9b"} & set(shown), repr(shown)
    source_line, caret_line = shown.splitlines()[3:5]
    assert source_line == r"1 | n = '\x1b]0;pwned\x07\x1b[2J\x9b'; y = (1;"
    assert caret_line.index("^") == source_line.index("(")


def test_render_escapes_every_part_of_a_diagnostic():
    from netspec.diagnostics import Diagnostic, Span

    sources = SourceMap()
    sources.add(f"a{CONTROLS}.net", f"x\t= '{CONTROLS}' + q\n")
    diagnostic = Diagnostic(code="E999", message=f"m{CONTROLS}", label=f"l{CONTROLS}", notes=[f"n{CONTROLS}"],
                            hint=f"h{CONTROLS}", span=Span(f"a{CONTROLS}.net", 1, 5, 1, 22))
    shown = render(diagnostic, sources)
    assert not {"\x1b", "\x07", "\x9b"} & set(shown), repr(shown)
    escaped = r"\x1b]0;pwned\x07\x1b[2J\x9b"
    for part in ("error[E999]: m", "--> a", "l", "= note: n", "= help: h"):
        assert f"{part}{escaped}" in shown, (part, shown)
    source_line, caret_line = shown.splitlines()[3:5]
    assert caret_line.index("^") == source_line.index("'") and caret_line.count("^") == len(escaped) + 2


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0c", "\x0b", "\x1c", "\x85", "\r"])
def test_the_excerpt_is_the_line_the_lexer_counts(separator: str):
    """Python's splitlines() also breaks at these; netspec's lines end at newlines only."""
    text = f"x = 1; % a{separator}b\ny = (1;\nlayers = reluLayer;\n"
    exc = _fail(text)
    _check_render(exc.diagnostics[-1], _sources(exc, "x.net", text), "y = (1;")


# -- format conversions ------------------------------------------------------------------------------

FORMATS = st.from_regex(r"\A[a-z%]{0,2}%[-+ 0#]{0,2}([0-9]{1,3}|\*)?(\.[0-9]{1,3})?[diuoxXfeEgGcs%]\Z")
SPECIAL = st.sampled_from(["NaN", "Inf", "-Inf", "1.5", "-2", "0", "1e300", "-1e-300", "55296", "1114112", "65",
                           "'text'", "[]", "[1 NaN Inf]", "2^53 + 1"])


@settings(max_examples=300, deadline=None)
@given(FORMATS, SPECIAL, st.sampled_from(["sprintf({f}, {v})", "num2str({v}, {f})", "sprintf({f}, {v}, {v})"]))
def test_format_conversions_end_in_text_or_a_located_error(fmt: str, value: str, call: str):
    text = f"x = {call.format(f=repr(fmt), v=value)};\nlayers = reluLayer;\n"
    try:
        load_source(text, "x.net")
    except NetspecError as exc:
        assert exc.diagnostics[-1].span is not None


def test_text_cannot_hold_a_lone_surrogate():
    """U+D800-DFFF cannot be written out as UTF-8 (a layer name, a JSON file, the terminal)."""
    diagnostic = _fail("x = char(55296);\nlayers = reluLayer;\n").diagnostics[-1]
    assert "55296 is not a character code" in diagnostic.message and diagnostic.span is not None
    assert load_source("x = ['a' 55296 98];\nlayers = reluLayer;\n", "x.net").variables["x"].text == "ab"


# -- the CLI ----------------------------------------------------------------------------------------

def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netspec.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_cli_check_renders_like_rustc(tmp_path: Path):
    _write(tmp_path / "bad.net", CONV.format("3,16,'Stide',2"))
    run = _cli("check", "bad.net", cwd=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "error[E204]: unknown option 'Stide' for convolution2dLayer" in run.stderr
    assert "--> bad.net:2:29" in run.stderr
    assert "2 |     convolution2dLayer(3,16,'Stide',2)];" in run.stderr
    assert "  |                             ^^^^^^^ not an option of this function" in run.stderr
    assert "= help: did you mean 'Stride'?" in run.stderr


def test_cli_set_malformed_and_missing_net(tmp_path: Path):
    _write(tmp_path / "ok.net", "layers = [imageInputLayer([28 28 1])\n    fullyConnectedLayer(numClasses)];\n")
    run = _cli("check", "ok.net", "--set", "numClasses", cwd=tmp_path)
    assert run.returncode == 1 and "error[E010]" in run.stderr and "Traceback" not in run.stderr
    run = _cli("check", "ok.net", "--set", "numClasses=4", "--net", "lgraph", cwd=tmp_path)
    assert run.returncode == 1 and "error[E401]" in run.stderr and "Traceback" not in run.stderr
    run = _cli("check", "ok.net", cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "error[E407]: the network `layers` depends on `numClasses`, which is never defined" in run.stderr
    assert "--> ok.net:2:25" in run.stderr
    assert "= help: define it in the file, or bind it: --set numClasses=VALUE" in run.stderr
    run = _cli("check", "ok.net", "--set", "numClasses=4", cwd=tmp_path)
    assert run.returncode == 0, run.stderr


def test_cli_missing_file(tmp_path: Path):
    run = _cli("check", "nope.net", cwd=tmp_path)
    assert run.returncode == 1
    assert "error[E001]" in run.stderr and "Traceback" not in run.stderr


# -- hostile specs with the default limits must end fast (SPEC §2) -----------------------------------

class _TooSlow(Exception):
    pass


def _within(seconds: int, text: str) -> NetspecError | None:
    """Load with default limits; fail the test (not hang the suite) past `seconds` of CPU time.

    The budget is this process's CPU time, not wall time, so that other work on a busy (2-core) box
    does not decide the outcome; on an idle box the two are the same.
    """
    def alarm(signum, frame):
        raise _TooSlow(f"still running after {seconds} s of CPU time")
    previous = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        load_source(text, "x.net")
    except NetspecError as exc:
        return exc
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    return None


@dataclass
class Hostile:
    text: str
    code_bug: str | None = None  # ends fast, but not with an E5xx limit code (a known defect)


def hostile(id: str, text: str, code_bug: str | None = None, marks=()):
    return pytest.param(Hostile(text, code_bug), id=id, marks=marks)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
@pytest.mark.parametrize("spec", [
    hostile("string-doubling-with-strcat",
            "s = 'ab';\nfor k = 1:26\n  s = strcat(s, s);\nend\nlayers = reluLayer;\n"),
    hostile("sprintf-width", "s = sprintf('%100000000d', 1);\nlayers = reluLayer;\n"),
    hostile("zeros-too-large", "x = zeros(1e5, 1e5);\nlayers = reluLayer;\n"),
    hostile("matrix-product-too-much-work", "a = ones(1000, 1000);\nx = a * a;\nlayers = reluLayer;\n"),
    hostile("matrix-products-in-a-loop",
            "a = ones(271, 271);\nfor k = 1:100\n  x = a * a;\nend\nlayers = reluLayer;\n"),
    hostile("layer-array-grown-by-a-runaway-loop",
            "layers = imageInputLayer([28 28 1]);\ni = 1;\nwhile i <= 3\n  layers = [layers; reluLayer];\nend\n"),
])
def test_hostile_spec_ends_fast_with_default_limits(spec: Hostile):
    """An E5xx limit error within 10 s of CPU time, with the default Limits."""
    exc = _within(10, spec.text)
    assert exc is not None, "loaded without error"
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.severity is Severity.error and diagnostic.span is not None, diagnostic
    if spec.code_bug is None:
        assert diagnostic.code.startswith("E50"), diagnostic
    elif diagnostic.code.startswith("E50"):
        pytest.fail(f"fixed: {diagnostic.code} is a limit code now; remove code_bug ({spec.code_bug})")
    else:
        pytest.xfail(f"{spec.code_bug} [{diagnostic.code}: {diagnostic.message!r}]")


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_while_true_ends_fast_at_its_keyword_with_default_limits():
    """`while true, end` within 10 s of CPU time; E501 points at the `while` keyword."""
    assert Limits().steps == 500_000
    exc = _within(10, "x = 0;\n  while true\n  end\nlayers = reluLayer;\n")
    assert exc is not None
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E501"
    assert diagnostic.message == "the spec ran more than 500,000 steps"
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 3)
    assert diagnostic.hint and "bounds loops" in diagnostic.hint


@pytest.mark.parametrize("digit", ["٣", "５", "²", "߃"])
def test_digits_of_other_scripts_are_not_numbers(digit: str) -> None:
    """MATLAB reads 0-9 only; Python's `\\d` would have read `x = ٣` as 3."""
    exc = _fail(f"x = {digit};\nlayers = reluLayer;\n")
    assert exc.diagnostic.code == "E100" and exc.diagnostic.span.column == 5
    assert "unexpected character" in exc.diagnostic.message


@pytest.mark.parametrize("nested", [
    "x = " + "(" * 20_000 + "1" + ")" * 20_000 + ";",
    "x = " + "-" * 20_000 + "1;",
    "x = " + "{" * 3_000 + "1" + "}" * 3_000 + ";",
    "if true\n" * 3_000 + "x = 1;\n" + "end\n" * 3_000,
], ids=["parentheses", "unary minus", "cells", "if blocks"])
def test_nesting_deeper_than_the_stack_is_a_located_error(nested: str) -> None:
    """Python's stack ends the evaluation; the error points at the statement that was running."""
    text = f"y = 1;\n{nested}\nlayers = reluLayer;\n"
    exc = _fail(text)
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E505" and diagnostic.span is not None
    assert 2 <= diagnostic.span.line <= text.count("\n") - 1
    assert "^" in render(diagnostic, exc.sources)


def test_a_long_line_is_shown_around_its_span_with_the_caret_in_place() -> None:
    """A warning on a 2 MB one-line array must not print 2 MB; the caret stays under the span."""
    line = "x = [" + " 1" * 100_000 + " foo" + " 2" * 1_000 + "];"
    sources = SourceMap()
    sources.add("a.net", line + "\n")
    column = line.index("foo") + 1
    diagnostic = Diagnostic(code="W105", message="unknown " + "A" * 50_000, label="here",
                            span=Span("a.net", 1, column, 1, column + 3))
    text = render(diagnostic, sources)
    assert len(text) < 2_000 and "…(49,008 characters)…" in text.splitlines()[0]
    shown, carets = text.splitlines()[3:5]
    assert shown.startswith("1 | …") and shown.endswith("…")
    assert shown.index("foo") - len("1 | ") == carets.index("^^^") - len("  | ")


@pytest.mark.parametrize("merge, count", [("additionLayer(1e12)", "1e12"), ("concatenationLayer(3, 5000)", "5000"),
                                          ("depthConcatenationLayer(4097)", "4097")])
def test_a_merge_layer_with_more_inputs_than_netspec_holds_is_a_located_error(merge: str, count: str) -> None:
    """Each input is a port object: `additionLayer(1e12)` once ran out of memory building them."""
    exc = _fail(f"layers = [imageInputLayer([8 8 1])\n    {merge}];\n")
    assert exc.diagnostic.code == "E206" and "less than or equal to 4096" in exc.diagnostic.message
    assert (exc.diagnostic.span.line, exc.diagnostic.span.column) == (2, merge.index(count) + 5)


def test_no_suggestion_is_searched_for_a_name_no_one_would_mistype() -> None:
    """difflib's cost grows with the product of the lengths: a 400,000-character option took seconds."""
    from netspec.diagnostics import suggest

    assert suggest("Stide", ["Stride", "Padding"]) == "Stride"
    assert suggest("S" * 101, ["S" * 100]) is None
    exc = _fail("layers = [convolution2dLayer(3, 4, '" + "\x1b[2J" * 100_000 + "', 1)];\n")
    assert exc.diagnostic.code == "E204"
    assert "did you mean" not in (exc.diagnostic.hint or "")
