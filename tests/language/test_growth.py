"""Layer arrays and graphs grown a step at a time share their storage (so n layers cost O(n),
not O(n²)); every value still keeps exactly the layers and connections it had."""

from __future__ import annotations

import textwrap

import pytest

from netspec.diagnostics import NetspecError
from netspec.language import Limits, load_source


def run(text: str, **kwargs):
    return load_source(textwrap.dedent(text), "x.net", **kwargs)


def names(value) -> list[str]:
    return [layer.name for layer in value.layers]


def test_arrays_grown_from_the_same_array_keep_their_own_layers():
    variables = run("""
        x = [imageInputLayer([8 8 3], 'Name', 'in'); reluLayer('Name', 'r0')];
        a = [x; reluLayer('Name', 'a1')];
        a = [a; reluLayer('Name', 'a2')];
        b = [x; reluLayer('Name', 'b1')];
        c = [a; reluLayer('Name', 'c1')];
        d = [a; reluLayer('Name', 'd1')];
        layers = x;
    """).variables
    assert names(variables["x"]) == ["in", "r0"]
    assert names(variables["a"]) == ["in", "r0", "a1", "a2"]
    assert names(variables["b"]) == ["in", "r0", "b1"]
    assert names(variables["c"]) == ["in", "r0", "a1", "a2", "c1"]
    assert names(variables["d"]) == ["in", "r0", "a1", "a2", "d1"]


def test_an_array_spliced_into_itself():
    variables = run("""
        x = [reluLayer('Name', 'a'); reluLayer('Name', 'b')];
        y = [x; x];
        layers = imageInputLayer([8 8 3]);
    """).variables
    assert names(variables["x"]) == ["a", "b"]
    assert names(variables["y"]) == ["a", "b", "a", "b"]


def test_end_plus_one_appends_without_changing_a_copy():
    variables = run("""
        layers = imageInputLayer([8 8 3], 'Name', 'in');
        before = layers;
        layers(end+1) = reluLayer('Name', 'r1');
        other = before;
        other(end+1) = reluLayer('Name', 'o1');
        layers(end+1) = reluLayer('Name', 'r2');
        layers(2) = reluLayer('Name', 'swapped');
    """).variables
    assert names(variables["before"]) == ["in"]
    assert names(variables["other"]) == ["in", "o1"]
    assert names(variables["layers"]) == ["in", "swapped", "r2"]


def test_a_loop_charges_the_layers_it_adds_not_the_whole_array_again():
    """1,000 layers one at a time: 1,000 layers of work (copying the array each time was 500,500)."""
    text = """
        layers = imageInputLayer([8 8 3], 'Name', 'in');
        for i = 1:1000
            layers = [layers; reluLayer('Name', sprintf('r%d', i))];
        end
    """
    network = run(text, limits=Limits(work=20_000)).network
    assert len(network.layers) == 1001
    assert [c.destination for c in network.connections][-2:] == ["r999", "r1000"]


def test_a_copied_array_still_counts_as_work():
    """Growing an older array copies it: that copy is charged (a hostile loop still ends)."""
    text = """
        x = [imageInputLayer([8 8 3], 'Name', 'in'); reluLayer('Name', 'r')];
        x = [x; x; x; x; x; x; x; x; x; x];
        x = [x; x; x; x; x; x; x; x; x; x];
        y = [x; reluLayer('Name', 'y')];
        for i = 1:100
            z = [x; reluLayer('Name', 'z')];
        end
        layers = y;
    """
    with pytest.raises(NetspecError) as caught:
        run(text, limits=Limits(work=10_000))
    assert caught.value.diagnostics[0].code == "E501"


GRAPH = """
    g0 = layerGraph([imageInputLayer([8 8 3], 'Name', 'in'); reluLayer('Name', 'r')]);
    g0 = addLayers(g0, additionLayer(2, 'Name', 'add'));
    g0 = connectLayers(g0, 'r', 'add/in1');
"""


def graph_names(graph) -> list[str]:
    return list(graph.layers)


def edges(graph) -> list[tuple[str, str]]:
    return [(e.source, f"{e.destination}/{e.destination_port}") for e in graph.connections]


def test_graphs_edited_from_the_same_graph_keep_their_own_connections():
    variables = run(GRAPH + """
        g1 = connectLayers(g0, 'in', 'add/in2');
        g2 = connectLayers(g0, 'r', 'add/in2');
        lgraph = g2;
    """).variables
    assert edges(variables["g0"]) == [("in", "r/in"), ("r", "add/in1")]
    assert edges(variables["g1"]) == [("in", "r/in"), ("r", "add/in1"), ("in", "add/in2")]
    assert edges(variables["g2"]) == [("in", "r/in"), ("r", "add/in1"), ("r", "add/in2")]


def test_graphs_given_the_same_name_from_the_same_graph_are_no_duplicates():
    variables = run(GRAPH + """
        g1 = addLayers(g0, reluLayer('Name', 'extra'));
        g2 = addLayers(g0, softmaxLayer('Name', 'extra'));
        g1 = connectLayers(g1, 'add', 'extra');
        lgraph = g1;
    """).variables
    assert graph_names(variables["g0"]) == ["in", "r", "add"]
    assert graph_names(variables["g1"]) == ["in", "r", "add", "extra"]
    assert variables["g1"].layers["extra"].matlab == "reluLayer"
    assert variables["g2"].layers["extra"].matlab == "softmaxLayer"
    assert edges(variables["g2"]) == edges(variables["g0"])


def test_a_connected_input_is_refused_only_in_the_graph_that_connected_it():
    with pytest.raises(NetspecError) as caught:
        run(GRAPH + "g1 = connectLayers(g0, 'in', 'add/in2');\ng1 = connectLayers(g1, 'r', 'add/in2');\n")
    assert caught.value.diagnostics[0].code == "E305"
    variables = run(GRAPH + """
        g1 = connectLayers(g0, 'in', 'add/in2');
        g2 = connectLayers(g0, 'r', 'add/in2');
        lgraph = g1;
    """).variables
    assert ("r", "add/in2") in edges(variables["g2"])


def test_unnamed_layers_added_to_a_graph_get_names_it_does_not_have():
    variables = run(GRAPH + """
        g1 = addLayers(g0, reluLayer);
        g1 = addLayers(g1, reluLayer);
        lgraph = g1;
    """).variables
    assert graph_names(variables["g1"]) == ["in", "r", "add", "relu", "relu_1"]
