"""`netspec export --format pytorch` writes spec text (layer names, class names, the spec's path)
into Python source: hostile text must stay text. Each generated module must parse to the same
structure as a plain one (one class Net, one statement per layer in forward, nothing more at the
top level), read back its text exactly (docstring, CLASSES), and import and run without creating
a file. Option values that torch prints as `inf`/`nan` must be written as literals too."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspec.backends.pytorch_source import to_source
from netspec.backends.torch import to_torch
from netspec.language import load_source

PAYLOAD = "open('pwned', 'w')"
HOSTILE = [
    f"a\n{PAYLOAD}\n",
    f"b\r{PAYLOAD}#",
    f"c\r\n{PAYLOAD}\r\n",
    f"d\u2028{PAYLOAD}",
    f"e\x85{PAYLOAD}",
    f"f\x0c\n{PAYLOAD}",
    f'g"""\n{PAYLOAD}\n"""',
    f"h'''\n{PAYLOAD}\n'''",
    "i\\",
    'j\\"',
    f"k # \n{PAYLOAD}",
    "l\x00\x1b[2J\x07",
    "m é 名前 😀 \u202e",
]
"""Layer names, class names and path pieces: line breaks Python or editors honour, quotes that
close a docstring or a string, a trailing backslash, comments, NUL and terminal controls."""


def matlab_text(text: str) -> str:
    """`text` as a netspec expression (char codes), whatever characters it holds."""
    return f"char([{' '.join(str(ord(c)) for c in text)}])"


def network_of(names: list[str], source: str = "t.net"):
    """input -> relu -> fc -> softmax, the layers named `names` (four of them)."""
    constructors = ["imageInputLayer([4 4 1], 'Normalization', 'none', 'Name', {})", "reluLayer('Name', {})",
                    "fullyConnectedLayer(2, 'Name', {})", "softmaxLayer('Name', {})"]
    rows = "\n".join(c.format(matlab_text(n)) for c, n in zip(constructors, names))
    return load_source(f"layers = [{rows}];\n", source).network


PLAIN = network_of(["input", "relu", "fc", "softmax"])


def shape(source: str) -> list:
    """What a module does, whatever its texts: top-level statement kinds, class names, and per
    function of Net its statement kinds."""
    tree = ast.parse(source)
    net = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Net")
    functions = {f.name: [type(s).__name__ for s in f.body] for f in net.body if isinstance(f, ast.FunctionDef)}
    return [[type(node).__name__ for node in tree.body],
            [node.name for node in tree.body if isinstance(node, ast.ClassDef)], functions]


def hostile_names(text: str) -> list[str]:
    """Four distinct layer names carrying `text` (their letters keep the PyTorch keys apart)."""
    return [f"in{text}", f"act{text}", f"fc{text}", f"out{text}"]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_texts_stay_text(text: str):
    network = network_of(hostile_names(text), source=f"specs/{text}.net")
    classes = [text, f"{text}2"]
    source = to_source(network, classes=classes)
    tree = ast.parse(source)
    assert shape(source) == shape(to_source(PLAIN, classes=["a", "b"]))
    assert ast.get_docstring(tree, clean=False).startswith(f"specs/{text}.net, as a standalone PyTorch module")
    net = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Net")
    assert ast.get_docstring(net, clean=False) == "layers: 4 layers."
    classes_node = next(node for node in tree.body if isinstance(node, ast.Assign)
                        and node.targets[0].id == "CLASSES")
    assert ast.literal_eval(classes_node.value) == classes
    forward = next(f for f in net.body if isinstance(f, ast.FunctionDef) and f.name == "forward")
    assert len(forward.body) == len(network.layers) + 1  # one assignment per layer, then return


def test_a_path_with_undecodable_bytes_is_written_as_escapes():
    """A path from the command line keeps bytes that are not UTF-8 as lone surrogates (os.fsdecode)."""
    path = os.fsdecode(b"specs/\xff.net")
    source = to_source(network_of(["input", "relu", "fc", "softmax"], source=path))
    assert ast.get_docstring(ast.parse(source.encode("utf-8")), clean=False).startswith(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
def test_any_layer_name_or_class_keeps_the_module_shape(text: str):
    source = to_source(network_of(hostile_names(text), source=f"{text}.net"), classes=[text])
    assert shape(source) == shape(to_source(PLAIN, classes=["a"]))


def test_hostile_modules_import_and_run_without_creating_a_file(tmp_path: Path):
    for index, text in enumerate(HOSTILE):
        source = to_source(network_of(hostile_names(text), source=f"{text}.net"), classes=[text])
        (tmp_path / f"generated_{index}.py").write_text(source, encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    run = ("import importlib, sys, torch\n"
           "for name in sys.argv[1:]:\n"
           "    module = importlib.import_module(name)\n"
           "    module.Net().eval()(torch.zeros(1, 1, 4, 4))\n")
    done = subprocess.run([sys.executable, "-B", "-c", run, *(p.stem for p in before)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("layer, literal", [
    ("clippedReluLayer(Inf)", "max_val=float('inf')"),
    ("leakyReluLayer(Inf)", "negative_slope=float('inf')"),
    ("crossChannelNormalizationLayer(3, 'Alpha', NaN)", "alpha=float('nan')"),
    ("maxPooling2dLayer(3, 'Padding', [0 1 0 1])", "float('-inf')"),
])
def test_non_finite_options_are_written_as_literals(layer: str, literal: str):
    network = load_source(f"layers = [imageInputLayer([4 4 3], 'Normalization', 'none')\n{layer}];\n",
                          "t.net").network
    source = to_source(network)
    assert literal in source
    namespace: dict = {}
    exec(compile(source, "generated.py", "exec"), namespace)  # the file as a user runs it
    generated = namespace["Net"]().eval()
    lowered = to_torch(network, seed=0).eval()
    generated.load_state_dict(lowered.state_dict())
    x = torch.rand(1, 3, 4, 4)
    with torch.no_grad():
        torch.testing.assert_close(generated(x), lowered(x), rtol=0, atol=0, equal_nan=True)
