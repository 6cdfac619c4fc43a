"""`netspec graph --collapse`, `--color` and the SVG tooltips: a graph that fits on a page.

Truth: the published block counts of ResNet-50 (3, 4, 6, 3 bottlenecks, the first of each stage
with a projection shortcut) and MobileNetV2 (its table 2: n = 1, 2, 3, 4, 3, 3, 1 inverted
residuals, the repeats after the first of each group with a shortcut), and the analyzer's own
per-layer numbers for colours and tooltips.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import pytest

import netspec
from netspec.analysis import analyze
from netspec.analysis.blocks import repeated_blocks
from netspec.backends import graphviz as backend
from netspec.language import load_source

from .test_graphviz import DOT, SPECS, invoke, needs_dot, unquote

ID = r'"(?:[^"\\]|\\.)*"|[^\s\[\]";=-][^\s\[\]";=]*'
ANY_NODE = re.compile(rf"^\t+({ID}) \[label=<(.*)>(.*)\]$")
ANY_EDGE = re.compile(rf"^\t+({ID}) -> ({ID}) \[(.*)\]$")
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


def drawn(source: str) -> tuple[list[str], list[tuple[str, str]]]:
    nodes = [unquote(m[1]) for line in source.splitlines() if (m := ANY_NODE.match(line))]
    edges = [(unquote(m[1]), unquote(m[2])) for line in source.splitlines() if (m := ANY_EDGE.match(line))]
    return nodes, edges


def repeats_of(spec: str):
    network = netspec.load(SPECS / spec)
    return network, repeated_blocks(network, analyze(network))


def test_resnet50_stages_fold_to_their_identity_blocks():
    network, repeats = repeats_of("resnet50.net")
    published = [3, 4, 6, 3]  # bottlenecks per stage; the first has the projection shortcut
    assert [repeat.count for repeat in repeats] == [n - 1 for n in published]
    for repeat, stage in zip(repeats, "2345"):
        assert repeat.shown[0] == f"res{stage}b_branch2a"
        for instance in repeat.instances[1:]:  # the same layer types, place by place
            assert [type(network.layer(n)) for n in instance] == [type(network.layer(n)) for n in repeat.shown]


def test_mobilenet_v2_folds_its_repeated_inverted_residuals():
    _, repeats = repeats_of("mobilenet_v2.net")
    published = [1, 2, 3, 4, 3, 3, 1]  # n of each bottleneck group (Sandler et al. 2018, table 2)
    assert [repeat.count for repeat in repeats] == [n - 1 for n in published if n - 1 >= 2]  # one alone: no box


def test_blocks_that_differ_in_their_input_are_not_folded():
    """The first block takes 3 channels, the others 16: same options, different learnables."""
    text = "layers = [imageInputLayer([32 32 3])\n" + "".join(
        f"convolution2dLayer(3,16,'Padding','same','Name','c{i}')\nreluLayer('Name','r{i}')\n" for i in range(5)) \
        + "fullyConnectedLayer(10)\nsoftmaxLayer\nclassificationLayer];\n"
    network = load_source(text, "blocks.net").network
    repeats = repeated_blocks(network, analyze(network))
    assert [(repeat.count, repeat.shown) for repeat in repeats] == [(4, ("c1", "r1"))]


def test_googlenet_has_no_two_alike_inception_modules():
    _, repeats = repeats_of("googlenet.net")
    assert repeats == []


@pytest.mark.parametrize("spec", ["resnet50.net", "mobilenet_v2.net", "vgg16.net", "resnet18.net"])
def test_collapsed_drawing_keeps_every_edge_it_can_show(spec):
    network = netspec.load(SPECS / spec)
    analysis = analyze(network)
    repeats = repeated_blocks(network, analysis)
    hidden = {name: shown for repeat in repeats for instance in repeat.instances[1:]
              for name, shown in zip(instance, repeat.shown)}
    source = backend.to_dot(network, analysis, collapse=True).source
    nodes, edges = drawn(source)
    assert sorted(nodes) == sorted(layer.name for layer in network.layers if layer.name not in hidden)
    expected = Counter((hidden.get(c.source, c.source), c.destination) for c in network.connections
                       if c.destination not in hidden)
    assert Counter(edges) == expected
    assert Counter(re.findall(r'label="×(\d+) ', source)) == Counter(str(r.count) for r in repeats)


def test_without_collapse_nothing_is_boxed():
    source = backend.to_dot(netspec.load(SPECS / "resnet50.net")).source
    assert "cluster" not in source and "×2 " not in source


def _fills(source: str) -> dict[str, str]:
    return {unquote(m[1]): re.search(r'fillcolor="([^"]+)"', m[3])[1]
            for line in source.splitlines() if (m := ANY_NODE.match(line))}


@pytest.mark.parametrize("measure, field", [("macs", "macs"), ("memory", "activation_bytes")])
def test_colour_by_share_follows_the_analysis(measure, field):
    network = netspec.load(SPECS / "lenet5.net")
    analysis = analyze(network)
    fills = _fills(backend.to_dot(network, analysis, color=measure).source)
    values = {r.name: getattr(r, field) for r in analysis.layers}
    darkness = {name: int(fill[3:5], 16) for name, fill in fills.items()}  # the green channel: lower is darker
    largest = max(values, key=values.get)
    assert darkness[largest] == min(darkness.values())
    for a in values:
        for b in values:
            if values[a] > values[b]:
                assert darkness[a] < darkness[b]
    assert all(fills[n] == "#ffffff" for n, v in values.items() if v == 0)
    total = sum(values.values())
    assert f"(darkest {values[largest] / total:.1%})" in backend.to_dot(network, analysis, color=measure).source


def test_colour_by_share_of_a_symbolic_size_is_a_clear_error(tmp_path):
    spec = tmp_path / "sym.net"
    spec.write_text("layers = [imageInputLayer([H W 3])\nconvolution2dLayer(3,8)\nreluLayer\n"
                    "globalAveragePooling2dLayer\nfullyConnectedLayer(2)\nsoftmaxLayer\nclassificationLayer];\n")
    result = invoke("graph", spec, "--color", "macs")
    assert result.exit_code == 1
    assert "formulas of a symbolic input size" in result.output and "Traceback" not in result.output
    assert invoke("graph", spec, "--color", "bogus").exit_code == 2


@needs_dot
def test_svg_tooltips_carry_shape_learnables_macs_and_receptive_field(tmp_path):
    output = tmp_path / "resnet18.svg"
    result = invoke("graph", SPECS / "resnet18.net", "--collapse", "--color", "macs", "-o", output)
    assert result.exit_code == 0, result.output
    network = netspec.load(SPECS / "resnet18.net")
    reports = {r.name: r for r in analyze(network).layers}
    root = ElementTree.parse(output).getroot()
    titles = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.find(f"{SVG}title").text
            link = group.find(f".//{SVG}a")
            titles[title] = link.get(f"{XLINK}title")
    assert len(titles) == len(drawn(backend.to_dot(network, collapse=True).source)[0])
    for name, tooltip in titles.items():
        report = reports[name]
        assert tooltip.splitlines() == [
            f"{name} ({report.type})", f"output {', '.join(report.output_shapes) or '—'}",
            f"learnables {report.learnables:,}", f"MACs {report.macs:,}",
            f"receptive field {report.receptive_field.display() if report.receptive_field else '—'}"]


@needs_dot
def test_tooltip_of_a_hostile_name_stays_one_node(tmp_path):
    text = ("layers = [imageInputLayer([8 8 1],'Name','in\\\\put \"x\"')\nfullyConnectedLayer(2,'Name','fc\\\\n')\n"
            "softmaxLayer\nclassificationLayer];\n")
    network = load_source(text, "hostile.net").network
    source = backend.to_dot(network).source
    svg = subprocess.run([DOT, "-Tsvg"], input=source.encode(), capture_output=True, check=True).stdout
    root = ElementTree.fromstring(svg)
    tooltips = [a.get(f"{XLINK}title") for a in root.iter(f"{SVG}a")]
    assert any(t.startswith('in\\put "x" (imageInputLayer)') for t in tooltips), tooltips
    assert any(t.startswith("fc\\n (fullyConnectedLayer)") for t in tooltips), tooltips
