"""Property tests: a mangled or random `.net` text never escapes as a Python traceback.

Whatever the input, `load_source` either returns a result or raises `NetspecError`
(SPEC §2: "A wrong file never produces a Python traceback"; "a hostile spec ends with a
clear error, fast").  Valid specs are taken from `specs/` and from inline snippets (so the
test keeps running if the specs change), then mutated: a span deleted, random characters
from a MATLAB-ish alphabet inserted, a line duplicated, two lines swapped, the text
truncated.
"""

from __future__ import annotations

import math
import string
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspec.diagnostics import NetspecError, render
from netspec.language import Limits, load_source, parse_bindings

SPECS = Path(__file__).parents[2] / "specs"

INLINE = [
    # the course's MNIST network (seed 003), verbatim
    """inputSize = [28 28];
layers = [imageInputLayer([inputSize 1])
    convolution2dLayer(3,16,'Padding',1)
    batchNormalizationLayer
    reluLayer
    maxPooling2dLayer(2,'Stride',2)
    convolution2dLayer(3,32,'Padding',1)
    convolution2dLayer(3,64,'Padding',1)
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
options = trainingOptions('sgdm', 'MaxEpochs',3, 'ValidationFrequency',30, ...
    'Verbose',false, 'Plots','training-progress');
""",
    # a DAG with connectLayers, a loop, a local function and a cell array
    """%{
A small residual network.
%}
names = {'a', 'b'};
layers = [imageInputLayer([32 32 3],'Name','in')
    convolution2dLayer(3,16,'Padding','same','Name','conv')
    reluLayer('Name','relu')];
lgraph = layerGraph(layers);
for k = 1:numel(names)
    lgraph = addBlock(lgraph, names{k}, 16);
end
lgraph = addLayers(lgraph, [globalAveragePooling2dLayer('Name','gap')
    fullyConnectedLayer(numClasses,'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]);
lgraph = connectLayers(lgraph, 'add_b', 'gap');

function g = addBlock(g, tag, n)
    % one residual block after the graph's last layer
    last = g.Layers(end).Name;
    block = [convolution2dLayer(3, n, 'Padding', 1, 'Name', ['conv_' tag])
        batchNormalizationLayer('Name', sprintf('bn_%s', tag))
        additionLayer(2, 'Name', strcat('add_', tag))];
    g = addLayers(g, block);
    g = connectLayers(g, last, ['conv_' tag]);
    g = connectLayers(g, last, "add_" + tag + "/in2");
end
""",
    # matrices, ranges, indexing, while/if/switch, deletion, Name=Value
    """cfg = [1 16 1 1; 6 24 2 2; 6 32 3 2];
x = 0; i = 1;
while i <= size(cfg, 1) && x < 100
    if mod(cfg(i,2), 2) == 0, x = x + cfg(i,2); elseif cfg(i,1) > 3, x = x - 1; else x = -x; end
    i = i + 1;
end
switch 'adam'
    case {'sgdm', 'adam'}
        solver = 'adam';
    otherwise
        solver = 'sgdm';
end
layers = [featureInputLayer(10)
    fullyConnectedLayer(max(1, floor(x / 2)), Name="fc1")
    leakyReluLayer(0.1)
    dropoutLayer(.5)
    fullyConnectedLayer(numClasses)
    softmaxLayer
    classificationLayer];
layers(end-2:end-2) = [];
opts = trainingOptions(solver, 'InitialLearnRate', 1e-3, 'MaxEpochs', numel(2:3:9) + 2);
""",
]


def _corpus() -> list[str]:
    texts = list(INLINE)
    if SPECS.is_dir():
        texts.extend(p.read_text(encoding="utf-8") for p in sorted(SPECS.glob("*.net")))
    return texts


CORPUS = _corpus()
ALPHABET = "()[]{};,'\"=+-*/:.% \n~@" + string.ascii_letters + string.digits
BINDINGS = parse_bindings(["numClasses=4"])
LIMITS = Limits(steps=20_000, layers=5_000)
SECONDS = 5.0  # generous for a 2-core CI box; a typical load takes a few milliseconds


def _load(text: str) -> None:
    """The property itself: returns, or raises NetspecError with renderable diagnostics."""
    start = time.perf_counter()
    try:
        load_source(text, "fuzz.net", bindings=BINDINGS, limits=LIMITS)
    except NetspecError as exc:
        assert exc.diagnostics, "a NetspecError must carry at least one diagnostic"
        sources = getattr(exc, "sources", None)
        for diagnostic in exc.diagnostics:
            render(diagnostic, sources)  # rendering must not crash either
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"took {elapsed:.1f}s"


# -- mutations -----------------------------------------------------------------------

@st.composite
def _delete_span(draw, text: str) -> str:
    if not text:
        return text
    start = draw(st.integers(0, len(text) - 1))
    length = draw(st.integers(1, 40))
    return text[:start] + text[start + length:]


@st.composite
def _insert(draw, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    chunk = draw(st.text(alphabet=ALPHABET, min_size=1, max_size=8))
    return text[:at] + chunk + text[at:]


@st.composite
def _replace_char(draw, text: str) -> str:
    if not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    return text[:at] + draw(st.sampled_from(ALPHABET)) + text[at + 1:]


@st.composite
def _duplicate_line(draw, text: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines)))
    lines.insert(j, lines[i])
    return "\n".join(lines)


@st.composite
def _swap_lines(draw, text: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


@st.composite
def _truncate(draw, text: str) -> str:
    return text[:draw(st.integers(0, len(text)))]


MUTATIONS = [_delete_span, _insert, _replace_char, _duplicate_line, _swap_lines, _truncate]


@st.composite
def mutated_specs(draw) -> str:
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        mutation = draw(st.sampled_from(MUTATIONS))
        text = draw(mutation(text))
    return text


def _known_bug(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def test_corpus_is_valid():
    """The unmutated inputs load, so the mutations start from working specs."""
    assert len(CORPUS) >= len(INLINE)
    for text in CORPUS:
        result = load_source(text, "fuzz.net", bindings=BINDINGS, limits=LIMITS)
        assert result.network is not None and result.network.layers


@SETTINGS
@given(mutated_specs())
def test_mutated_specs_fail_cleanly(text: str):
    _load(text)


@SETTINGS
@given(st.text(alphabet=ALPHABET, max_size=200))
def test_random_text_fails_cleanly(text: str):
    _load(text)


# -- statements built from the language's own pieces -------------------------------------------
# Character-level mutations rarely get past the parser; these reach the builtins, operators and
# layer constructors with awkward values (Inf, NaN, empty, text, layers where numbers go).

ATOMS = ["0", "1", "2", "-1", "0.5", "Inf", "-Inf", "NaN", "1e400", "1e9", "true", "[]", "''", "{}",
         "'ab'", '"s"', "[1 2 3]", "[1 2; 3 4]", "{1, 'a'}", "x", "end", "reluLayer", "[reluLayer; reluLayer]",
         "'Name'", "'Stride'", "'Padding'", "'same'", "'sgdm'", "'add/in2'"]
FUNCTIONS = ["zeros", "ones", "numel", "size", "max", "min", "floor", "ceil", "round", "mod", "rem", "isempty",
             "length", "sprintf", "num2str", "strcat", "repmat", "sum", "prod", "abs", "char", "double",
             "cell", "fliplr", "layerGraph", "connectLayers", "addLayers", "trainingOptions",
             "convolution2dLayer", "fullyConnectedLayer", "maxPooling2dLayer", "imageInputLayer",
             "additionLayer", "dropoutLayer", "batchNormalizationLayer"]
OPERATORS = ["+", "-", "*", "/", "^", ".*", "./", ".^", ":", "==", "~=", "<", "&&", "||", "&", "|"]


def _expressions():
    def extend(inner):
        return st.one_of(
            st.builds(lambda f, a: f"{f}({', '.join(a)})", st.sampled_from(FUNCTIONS), st.lists(inner, max_size=4)),
            st.builds(lambda a, o, b: f"{a} {o} {b}", inner, st.sampled_from(OPERATORS), inner),
            st.builds(lambda a: f"[{' '.join(a)}]", st.lists(inner, max_size=3)),
            st.builds(lambda a: f"{{{', '.join(a)}}}", st.lists(inner, max_size=3)),
            st.builds(lambda a: f"x({', '.join(a)})", st.lists(inner, min_size=1, max_size=2)),
            st.builds(lambda a: f"x{{{a}}}", inner),
            st.builds(lambda a, f: f"{a}.{f}", inner, st.sampled_from(["Name", "Layers", "FilterSize"])),
        )
    return st.recursive(st.sampled_from(ATOMS), extend, max_leaves=8)


EXPRESSIONS = _expressions()
STATEMENTS = st.one_of(
    st.builds(lambda e: f"x = {e};", EXPRESSIONS),
    st.builds(lambda i, e: f"x({i}) = {e};", EXPRESSIONS, EXPRESSIONS),
    st.builds(lambda i: f"x({i}) = [];", EXPRESSIONS),
    st.builds(lambda e: f"for i = {e}\n  y = i;\nend", EXPRESSIONS),
    st.builds(lambda e: f"if {e}\n  y = 1;\nend", EXPRESSIONS),
    st.builds(lambda e: f"layers = {e};", EXPRESSIONS),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(st.lists(STATEMENTS, min_size=1, max_size=4))
def test_generated_statements_fail_cleanly(statements: list[str]):
    _load("x = [1 2 3];\n" + "\n".join(statements) + "\n")


# Minimal reproducers of tracebacks found by the properties above (all fixed); each must return or
# raise NetspecError.
@pytest.mark.parametrize("text", [
    "x = 1:Inf;\nlayers = reluLayer;\n",
    "x = 1e400:1e400;\nlayers = reluLayer;\n",
    "x = -Inf:0;\nlayers = reluLayer;\n",
    "x = 0:0.5:Inf;\nlayers = reluLayer;\n",
    "x = 1:NaN;\nlayers = reluLayer;\n",
    "x = 1:0:Inf;\nlayers = reluLayer;\n",
    "x = 1:Inf:10;\nlayers = reluLayer;\n",
    "x = char(-1);\nlayers = reluLayer;\n",
    "x = char(Inf);\nlayers = reluLayer;\n",
    "x = char(NaN);\nlayers = reluLayer;\n",
    "x = char([72 1114112]);\nlayers = reluLayer;\n",
    "x = sprintf('%c', -1);\nlayers = reluLayer;\n",
    "x = sprintf('%c', NaN);\nlayers = reluLayer;\n",
    "x = sprintf('%100000000d', 1);\nlayers = reluLayer;\n",
    "x = sprintf('%.100000000f', 1);\nlayers = reluLayer;\n",
    "x = mod([1 2 3], [1 2]);\nlayers = reluLayer;\n",
    "x = rem([1 2 3], [1 2]);\nlayers = reluLayer;\n",
    "x = max([1 2 3], [1 2]);\nlayers = reluLayer;\n",
    "x = min([1 2; 3 4], [1 2 3]);\nlayers = reluLayer;\n",
    "x = mod(Inf, 3);\nlayers = reluLayer;\n",
    "x = rem(NaN, 3);\nlayers = reluLayer;\n",
    "x = mod(-Inf, 0);\nlayers = reluLayer;\n",
    "x = ones(1000, 1000) * ones(1000, 1000);\nlayers = reluLayer;\n",
], ids=lambda text: text.split(";\n")[0])
def test_found_tracebacks(text: str):
    _load(text)


# The values those inputs give, where MATLAB defines one.
def _value(expression: str) -> list[float]:
    result = load_source(f"x = {expression};\nlayers = reluLayer;\n", "x.net")
    return result.variables["x"].data


def _same(got: list[float], want: list[float]) -> bool:
    return len(got) == len(want) and all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, want))


@pytest.mark.parametrize("expression, want", [
    ("mod(Inf, 3)", [math.nan]),
    ("mod(-Inf, 3)", [math.nan]),
    ("rem(Inf, 3)", [math.nan]),
    ("mod(NaN, 3)", [math.nan]),
    ("rem(NaN, 3)", [math.nan]),
    ("mod(3, NaN)", [math.nan]),
    ("mod([1 Inf 7], 3)", [1.0, math.nan, 1.0]),
    ("mod(5, 0)", [5.0]),                      # MATLAB: mod(a, 0) is a
    pytest.param("rem(5, 0)", [math.nan]),     # MATLAB: "rem(a,0) is NaN"
    ("1:0:Inf", []),                           # a zero step gives an empty range
    ("1:NaN", [math.nan]),                     # MATLAB: a NaN operand gives NaN
    ("NaN:2:5", [math.nan]),
    ("1:Inf:10", [1.0]),                       # j, j+i, ..., j+m*i with m = fix((k-j)/i) = 0
], ids=str)
def test_found_tracebacks_give_matlab_values(expression: str, want: list[float]):
    got = _value(expression)
    assert _same(got, want), got


@pytest.mark.parametrize("text", [
    "",
    "\n\n",
    "%",
    "%{",
    "...",
    "'",
    "\"",
    "end",
    "x = (",
    "[",
    "{",
    "@",
    "~",
    "x = @(a) a; layers = x(reluLayer);",
    "layers = reluLayer'';",
    "layers = [reluLayer; reluLayer](1);",
    "a.b.c = 1; layers = a;",
    "layers = {reluLayer}; layers{1}.Name = 'x';",
], ids=repr)
def test_edge_inputs_fail_cleanly(text: str):
    _load(text)
