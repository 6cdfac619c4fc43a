"""The container protocol (`values.Container`): every kind of array answers selection, stores,
deletion and `for` the same way, and a store or a deletion leaves the value it started from as it was."""

from __future__ import annotations

import textwrap

import pytest

from netspec.diagnostics import NetspecError
from netspec.language import load_source
from netspec.language.values import Cell, Char, Container, LayerArray, Matrix, size_of

NETWORK = "\nlayers = [imageInputLayer([8 8 1], 'Name', 'in'); reluLayer('Name', 'r1'); reluLayer('Name', 'r2')];\n"


def variables(text: str) -> dict:
    return load_source(textwrap.dedent(text) + NETWORK, "x.net").variables


def error_of(text: str):
    with pytest.raises(NetspecError) as caught:
        load_source(textwrap.dedent(text), "x.net")
    return caught.value.diagnostics[-1]


def names(value: LayerArray) -> list[str]:
    return [layer.name for layer in value.layers]


@pytest.mark.parametrize("kind", [Matrix, Cell, Char, LayerArray])
def test_each_container_defines_what_the_protocol_leaves_open(kind: type[Container]):
    for method in ("numel", "shape", "elements", "rebuilt"):
        assert getattr(kind, method) is not getattr(Container, method), f"{kind.__name__}.{method}"


def test_the_containers_are_the_four_array_kinds():
    assert set(Container.__subclasses__()) == {Matrix, Cell, Char, LayerArray}


def test_a_selection_keeps_a_logical_matrix_logical_and_a_store_makes_it_numeric():
    mask = Matrix(1, 3, [1.0, 0.0, 1.0], logical=True)
    assert mask.take([0, 2], column=False) == Matrix(1, 2, [1.0, 1.0], logical=True)
    assert mask.take_grid([0], [1]) == Matrix(1, 1, [0.0], logical=True)
    assert mask.rebuilt(1, 1, [5.0]) == Matrix(1, 1, [5.0])


def test_stores_and_deletions_leave_the_original_value_unchanged():
    vs = variables("""
        x = [1 2 3];      y = x;  y(5) = 9;   z = x;  z(2) = [];
        c = {'a', 'b'};   d = c;  d{4} = 'q'; e = c;  e(1) = [];
        s = 'abc';        t = s;  t(2) = [];
        """)
    assert vs["x"] == Matrix(1, 3, [1.0, 2.0, 3.0])
    assert vs["y"] == Matrix(1, 5, [1.0, 2.0, 3.0, 0.0, 9.0])
    assert vs["z"] == Matrix(1, 2, [1.0, 3.0])
    assert vs["c"] == Cell(1, 2, [Char("a"), Char("b")])
    assert vs["d"] == Cell(1, 4, [Char("a"), Char("b"), Matrix.empty(), Char("q")])
    assert vs["e"] == Cell(1, 1, [Char("b")])
    assert (vs["s"], vs["t"]) == (Char("abc"), Char("ac"))


def test_a_deletion_from_a_logical_array_keeps_it_logical():
    assert variables("m = [true false true];\nm(2) = [];\n")["m"] == Matrix(1, 2, [1.0, 1.0], logical=True)


def test_a_linear_deletion_from_a_cell_matrix_gives_a_row_as_in_matlab():
    vs = variables("c = {1 2; 3 4};\nc(2) = [];\nn = size(c);\n")
    assert vs["n"] == Matrix(1, 2, [1.0, 3.0])
    assert [item.data[0] for item in vs["c"].items] == [1.0, 2.0, 4.0]


def test_whole_rows_and_columns_are_deleted_from_text_and_layer_arrays_too():
    vs = variables("""
        s = 'abc';
        s(:, 2) = [];
        arr = [reluLayer('Name', 'a'); reluLayer('Name', 'b'); reluLayer('Name', 'c')];
        arr(2, :) = [];
        """)
    assert vs["s"] == Char("ac")
    assert names(vs["arr"]) == ["a", "c"]


def test_an_empty_layer_array_is_a_column_with_no_rows():
    vs = variables("arr = reluLayer;\narr(1) = [];\nn = size(arr);\n")
    assert vs["n"] == Matrix(1, 2, [0.0, 1.0])
    assert size_of(vs["arr"]) == (0, 1)


@pytest.mark.parametrize("store", ["layers([3 3]) = [reluLayer; reluLayer];", "layers([1 3]) = [reluLayer; reluLayer];",
                                   "layers(3, 1) = reluLayer;"])
def test_a_store_that_would_leave_a_gap_in_a_layer_array_is_refused(store: str):
    diagnostic = error_of(f"layers = imageInputLayer([8 8 1]);\n{store}\n")
    assert diagnostic.code == "E137" and diagnostic.message == "a layer array cannot have gaps"
    assert diagnostic.span.line == 2


def test_a_store_that_fills_every_new_position_of_a_layer_array_is_kept():
    vs = variables("arr = reluLayer('Name', 'a');\narr([3 2]) = [reluLayer('Name', 'c'); reluLayer('Name', 'b')];\n")
    assert names(vs["arr"]) == ["a", "b", "c"]


def test_for_walks_the_columns_of_each_kind_of_array():
    vs = variables("""
        m = [];  for x = [1 2; 3 4], m(end+1) = sum(x); end
        c = {};  for x = {'a', 'b'; 'c', 'd'}, c{end+1} = x{2}; end
        t = '';  for x = 'ab', t = [x t]; end
        u = '';  for x = "cd", u = [x u]; end
        k = {};  for x = [reluLayer('Name', 'p'); reluLayer('Name', 'q')], k{end+1} = x.Name; end
        e = 0;   for x = zeros(0, 3), e = e + 1; end
        """)
    assert vs["m"] == Matrix(1, 2, [4.0, 6.0])
    assert vs["c"] == Cell(1, 2, [Char("c"), Char("d")])
    assert (vs["t"], vs["u"]) == (Char("ba"), Char("dc"))
    assert vs["k"] == Cell(1, 2, [Char("p"), Char("q")])
    assert vs["e"] == Matrix.scalar(0.0)


def test_transposing_each_kind_of_array():
    vs = variables("m = [1 2; 3 4]';\nc = {1, 2}';\nn = size(c);\ns = 'ab';\nt = s';\nl = reluLayer';\n")
    assert vs["m"] == Matrix(2, 2, [1.0, 2.0, 3.0, 4.0])
    assert vs["n"] == Matrix(1, 2, [2.0, 1.0])
    assert vs["t"] == Cell(2, 1, [Char("a"), Char("b")])
    assert len(vs["l"]) == 1
