"""Run-time values of the netspec language (a small, safe model of MATLAB's).

Numbers are 2-D column-major arrays (`Matrix`), text is `Char` ('single quotes',
a char row) or `Str` ("double quotes", a string scalar), `Cell` holds anything,
layers live in `LayerArray`s (a single layer is a 1-element array, as in MATLAB),
graphs and networks are `Graph`s, and whatever netspec cannot compute (data
loading, plotting) is an `Opaque` that remembers where it came from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from ..diagnostics import Span
from ..ir import Connection, Layer, TrainingOptions
from .tree import Tree

__all__ = ["Value", "Container", "Matrix", "Char", "Str", "Cell", "LayerArray", "Graph", "Opaque",
           "FunctionHandle", "Struct", "Table", "OptionsValue", "CSList", "SymbolicSize", "type_name", "numel", "size_of",
           "element_count", "MAX_ELEMENTS"]

MAX_ELEMENTS = 1_000_000
"""No array, string or cell may hold more elements than this (a hostile spec ends fast)."""


class Container:
    """An array of elements in column-major order: what `x(i)`, `x(i) = v`, `x(i) = []` and
    `for` work on, whatever the kind of array.

    Values never change: a selection, a store or a deletion makes a new value (MATLAB's value
    semantics). `Matrix`, `Cell`, `Char` and `LayerArray` are containers; a `Str` is one string
    (a 1x1 value), and structs, graphs and training options are scalars with fields.
    """

    __slots__ = ()

    @property
    def numel(self) -> int:
        raise NotImplementedError

    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        raise NotImplementedError

    def elements(self) -> Sequence:
        """The elements, column-major (not to be changed in place)."""
        raise NotImplementedError

    def rebuilt(self, rows: int, cols: int, elements: list) -> Container:
        """A new array of this kind holding `elements` (which it takes over) as rows x cols:
        the result of a store (a matrix's is numeric, even where this one is logical)."""
        raise NotImplementedError

    def selection(self, rows: int, cols: int, elements: list) -> Container:
        """Elements taken from this array, as rows x cols: an array of its kind and flags."""
        return self.rebuilt(rows, cols, elements)

    def gap_filler(self) -> object | None:
        """What a store writes where it grows the array without setting a value (MATLAB fills
        with zeros, a cell with []); None when the array cannot have gaps."""
        return None

    def stored_elements(self, value: Value) -> Sequence | None:
        """The elements `x(i) = value` writes into this array, None if it cannot hold `value`."""
        return None

    def take(self, positions: list[int], column: bool) -> Container:
        """The elements at `positions` (0-based, linear), as a column or a row."""
        elements = self.elements()
        picked = [elements[i] for i in positions]
        return self.selection(len(picked), 1, picked) if column else self.selection(1, len(picked), picked)

    def take_grid(self, row_positions: list[int], col_positions: list[int]) -> Container:
        """The elements where the rows and columns at these positions (0-based) cross."""
        elements, rows = self.elements(), self.shape()[0]
        picked = [elements[c * rows + r] for c in col_positions for r in row_positions]
        return self.selection(len(row_positions), len(col_positions), picked)

    def columns(self) -> Iterator[Value]:
        """What `for x = array` assigns to x on each pass: the array's columns."""
        (rows, cols), elements = self.shape(), self.elements()
        for c in range(cols):
            yield self.selection(rows, 1, elements[c * rows:(c + 1) * rows])

    def transposed(self) -> Value:
        rows, cols = self.shape()
        elements = self.elements()
        return self.selection(cols, rows, [elements[c * rows + r] for r in range(rows) for c in range(cols)])


@dataclass(slots=True)
class Matrix(Container):
    """A numeric or logical 2-D array, column-major like MATLAB."""

    rows: int
    cols: int
    data: list[float]
    logical: bool = False

    @staticmethod
    def scalar(value: float, logical: bool = False) -> "Matrix":
        return Matrix(1, 1, [value], logical)

    @staticmethod
    def row(values: list[float], logical: bool = False) -> "Matrix":
        return Matrix(1 if values else 0, len(values), list(values), logical)

    @staticmethod
    def empty() -> "Matrix":
        return Matrix(0, 0, [])

    @property
    def numel(self) -> int:
        return self.rows * self.cols

    def is_scalar(self) -> bool:
        return self.rows == 1 and self.cols == 1

    def is_vector(self) -> bool:
        return self.rows == 1 or self.cols == 1

    def at(self, r: int, c: int) -> float:
        return self.data[c * self.rows + r]

    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols

    def elements(self) -> list[float]:
        return self.data

    def rebuilt(self, rows: int, cols: int, elements: list) -> Matrix:
        return Matrix(rows, cols, elements)

    def selection(self, rows: int, cols: int, elements: list) -> Matrix:
        return Matrix(rows, cols, elements, self.logical)

    def gap_filler(self) -> float:
        return 0.0

    def stored_elements(self, value: Value) -> list[float] | None:
        return value.data if isinstance(value, Matrix) else None

    def columns(self) -> Iterator[Value]:
        return Container.columns(self) if self.rows else iter(())  # an empty matrix runs no pass


@dataclass(slots=True)
class Char(Container):
    """A char row vector: 'text' (netspec has no char matrices: its shape is its length)."""

    text: str

    @property
    def numel(self) -> int:
        return len(self.text)

    def shape(self) -> tuple[int, int]:
        return (1 if self.text else 0), len(self.text)

    def elements(self) -> str:
        return self.text

    def rebuilt(self, rows: int, cols: int, elements: list) -> Char:
        return Char("".join(elements))

    def transposed(self) -> Value:
        """A column of characters would be a char matrix: it is a cell column of characters."""
        return self if len(self.text) <= 1 else Cell(len(self.text), 1, [Char(c) for c in self.text])


@dataclass(slots=True)
class Str:
    """A string scalar: "text" (`+` concatenates, as in MATLAB)."""

    text: str


@dataclass(slots=True)
class Cell(Container):
    rows: int
    cols: int
    items: list["Value"]  # column-major

    @staticmethod
    def row(items: list["Value"]) -> "Cell":
        return Cell(1 if items else 0, len(items), list(items))

    @property
    def numel(self) -> int:
        return self.rows * self.cols

    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols

    def elements(self) -> list[Value]:
        return self.items

    def rebuilt(self, rows: int, cols: int, elements: list) -> Cell:
        return Cell(rows, cols, elements)

    def gap_filler(self) -> Matrix:
        return Matrix.empty()

    def stored_elements(self, value: Value) -> list[Value] | None:
        """`c(i) = {a, b}` stores a and b; `c(i) = x` stores x; a layer array is no cell element."""
        if isinstance(value, Cell):
            return value.items
        return None if isinstance(value, LayerArray) else [value]


class LayerArray(Container):
    """An array of layers (each layer carries the span it was written at), a column in MATLAB.

    Deep networks are built a block at a time (`layers = [layers; block(i)]`,
    `layers(end+1) = ...`), and copying the array at every step made n layers cost O(n²).
    So arrays share append-only lists: an array is the first `len(self)` layers of its
    list, and `grown` appends in place when nothing was appended after this array (the
    array it replaces is then garbage), copying only when an older array grows again.
    """

    __slots__ = ("_items", "_count")

    def __init__(self, layers: list[Layer]) -> None:
        """An array that owns `layers` (the caller does not change the list afterwards)."""
        self._items = layers
        self._count = len(layers)

    def __len__(self) -> int:
        return self._count

    @property
    def numel(self) -> int:
        return self._count

    def shape(self) -> tuple[int, int]:
        """A column, as in MATLAB (an empty layer array is 0x1)."""
        return self._count, 1

    def elements(self) -> list[Layer]:
        return self.layers

    def rebuilt(self, rows: int, cols: int, elements: list) -> LayerArray:
        return LayerArray(elements)

    def stored_elements(self, value: Value) -> list[Layer] | None:
        return value.layers if isinstance(value, LayerArray) else None

    def columns(self) -> Iterator[Value]:
        """One layer per pass (netspec's loops walk a network's layers)."""
        return (LayerArray([layer]) for layer in self.layers)

    def transposed(self) -> LayerArray:
        """Itself: netspec keeps a layer array as a list, whichever way it is written."""
        return self

    @property
    def layers(self) -> list[Layer]:
        """Its layers (not to be changed in place)."""
        return self._items if len(self._items) == self._count else self._items[:self._count]

    def is_latest(self) -> bool:
        """Nothing was appended after this array: growing it writes only the new layers."""
        return len(self._items) == self._count

    def grown(self, layers: Iterable[Layer]) -> LayerArray:
        """This array followed by `layers` (this array itself is unchanged)."""
        items = self._items if self.is_latest() else self._items[:self._count]
        items.extend(layers)
        return LayerArray(items)


class Graph:
    """A layerGraph, dlnetwork or (pretrained-architecture) network: layers plus connections.

    Graphs are edited one call at a time (`lgraph = connectLayers(lgraph, ...)`, thousands
    of times for a deep ResNet) and each call returns a new graph; copying the graph at
    every call made n layers cost O(n²). So, like `LayerArray`s, graphs share append-only
    storage: a graph is the first layers and connections of its storage, and `grown`
    appends in place when nothing was appended after it.
    """

    __slots__ = ("_layers", "_connections", "_inputs", "_layer_count", "_connection_count", "kind")

    def __init__(self, layers: dict[str, Layer], connections: list[Connection], kind: str = "layerGraph") -> None:
        """A graph that owns `layers` and `connections` (the caller does not change them afterwards)."""
        self._layers = layers
        self._connections = connections
        self._inputs: dict[tuple[str, str], int] = {}
        """(layer, input port) -> position of the first connection into it."""
        for position, edge in enumerate(connections):
            self._inputs.setdefault((edge.destination, edge.destination_port), position)
        self._layer_count = len(layers)
        self._connection_count = len(connections)
        self.kind = kind

    @property
    def layers(self) -> dict[str, Layer]:
        """Its layers by name, in the order they were added (not to be changed in place)."""
        if len(self._layers) == self._layer_count:
            return self._layers
        return dict(islice(self._layers.items(), self._layer_count))

    @property
    def connections(self) -> list[Connection]:
        """Its connections, in the order they were made (not to be changed in place)."""
        if len(self._connections) == self._connection_count:
            return self._connections
        return self._connections[:self._connection_count]

    def source_of(self, layer: str, port: str) -> Connection | None:
        """The connection into `layer`'s input `port`, if it has one."""
        position = self._inputs.get((layer, port))
        return self._connections[position] if position is not None and position < self._connection_count else None

    def grown(self, layers: Iterable[Layer] = (), connections: Iterable[Connection] = ()) -> Graph:
        """This graph with `layers` (named, none of them in the graph) and `connections` added;
        this graph itself is unchanged."""
        if len(self._layers) != self._layer_count or len(self._connections) != self._connection_count:
            return self.copy().grown(layers, connections)
        for layer in layers:
            self._layers[layer.name] = layer
        for edge in connections:
            self._inputs.setdefault((edge.destination, edge.destination_port), len(self._connections))
            self._connections.append(edge)
        result = object.__new__(Graph)
        result._layers, result._connections, result._inputs = self._layers, self._connections, self._inputs
        result._layer_count, result._connection_count = len(self._layers), len(self._connections)
        result.kind = self.kind
        return result

    def copy(self, kind: str | None = None) -> Graph:
        """A graph with storage of its own."""
        return Graph(dict(self.layers), list(self.connections), kind or self.kind)


@dataclass(slots=True)
class Opaque:
    """A value netspec does not compute (an unknown function's result, data, plots)."""

    origin: str
    span: Span | None
    variable: str | None = None
    """The variable it was last assigned to: the one to bind with --set."""
    structural: bool = False
    """True once it stands for layers: then `variable` keeps naming the number to --set."""
    free_name: bool = False
    """An undefined bare name (`H`): usable as a symbol in an input layer's size."""
    unknown_function: bool = False
    """The result of a function netspec does not know: an error about it may suggest a known one."""
    parameter: str | None = None
    """The parameter of the entry function, no argument gave, that it comes from."""
    parameter_of: str | None = None
    """The entry function of `parameter`."""
    reason: str | None = None
    """Why netspec does not compute it, when that is not that it is data (`a 4-D array`)."""
    class_file: str | None = None
    """The classdef file of a class a call constructs (a custom layer netspec does not read)."""
    network: bool = False
    """It is itself a network or layers (a network parameter, layers with an unknown part): its
    variable is no number to bind."""
    size: tuple[int, ...] | None = None
    """Its size when that much is known (`randn(5,5,3,32)`, `zeros(1,1,32)`): a layer's given
    learnables are checked against it."""
    values: list[float] | None = None
    """The numbers, column-major, of an array of more than two dimensions, which netspec's arrays
    do not have (`zeros(1,1,32)`, `reshape(w, 3, 3, 1, 8)`): a layer's given learnables."""

    stand_in: str | None = None
    """A MATLAB expression a user could bind in its place (`alexnet().Layers` for what `load net`
    gives a file named after AlexNet), when netspec can guess one."""
    several: bool = False
    """It stands for a comma-separated list of values, how many not known (`c{idx}`, `idx` unknown):
    a cell or array built of it (`{c{idx}}`) has an unknown size, not one element."""
    compared_with: tuple[str, ...] = ()
    """Texts a condition netspec could not decide compares it with (`strcmp(poolType, 'max')`):
    values that run a branch, for the `--set` a message suggests."""

    def set_option(self, name: str) -> str:
        """`--set NAME=VALUE` for it: with a text the code compares it with as the value when there is
        one (quoted for a shell), since a number bound to a name compared with text runs no branch."""
        if self.compared_with:
            text = self.compared_with[0].replace("'", "''")
            return f"--set \"{name}='{text}'\""
        return f"--set {name}=VALUE"

    def stands_for_layers(self) -> bool:
        """Layers or a network netspec could not build (not data): one a network may be."""
        return self.structural or self.network or self.class_file is not None

    def describe(self) -> str:
        return f"`{self.origin}`"

    def binding(self) -> str | None:
        """The name `--set NAME=VALUE` should bind: an undefined name itself, else its variable."""
        return self.origin if self.free_name else self.variable


@dataclass(slots=True)
class SymbolicSize:
    """`[H W 3]` with H and W unbound: a size whose entries may be symbol names.

    Only input layers take it; the analysis then gives shapes and costs as formulas.
    """

    items: list[float | str]


@dataclass(slots=True)
class FunctionHandle:
    """`@name` or `@(x) expr`: kept as data; netspec never calls user callbacks it cannot see."""

    name: str | None = None
    params: list[str] = field(default_factory=list)
    body: Tree | None = None
    captured: dict[str, "Value"] = field(default_factory=dict)
    """What an anonymous function's body sees besides its parameters: the variables of the scope
    it was made in, as they were then (MATLAB captures them)."""
    nested: dict[str, tuple] = field(default_factory=dict, compare=False, repr=False)
    """The nested functions callable where it was made, each with the workspace it shares (so a
    handle to one, or an anonymous function calling one, works wherever it is called)."""


@dataclass(slots=True)
class Struct:
    fields: dict[str, "Value"]


@dataclass(slots=True)
class Table:
    """A MATLAB table, as far as network code uses one: a layer graph's `Connections` (variables
    Source and Destination). `t.Var` is a variable's column, `height(t)` and `size(t, 1)` its rows."""

    variables: dict[str, "Value"]
    """Each variable's column (a cell column of text), in the table's order."""
    rows: int

    def shape(self) -> tuple[int, int]:
        return self.rows, len(self.variables)


@dataclass(slots=True)
class OptionsValue:
    options: TrainingOptions


@dataclass(slots=True)
class CSList:
    """A comma-separated list (`layers.Name` of several layers), expanded inside `{}` and calls."""

    items: list["Value"]


Value = (Matrix | Char | Str | Cell | LayerArray | Graph | Opaque | FunctionHandle | Struct | Table | OptionsValue | CSList
         | SymbolicSize)


def type_name(value: Value) -> str:
    """What a MATLAB user would call the value's type, for error messages."""
    if isinstance(value, Matrix):
        if value.logical:
            return "logical"
        if value.is_scalar():
            return "number"
        return f"{value.rows}x{value.cols} numeric array"
    return {
        Char: "char array", Str: "string", Cell: "cell array", LayerArray: "layer array",
        Graph: "layer graph", Opaque: "unknown value", FunctionHandle: "function handle",
        Struct: "struct", Table: "table", OptionsValue: "training options", CSList: "list", SymbolicSize: "symbolic size",
    }.get(type(value), type(value).__name__)


def numel(value: Value) -> int:
    """MATLAB's numel: a container's element count (a table's rows times variables); any other value
    is one element."""
    if isinstance(value, Table):
        return value.rows * len(value.variables)
    return value.numel if isinstance(value, Container) else 1


def size_of(value: Value) -> tuple[int, int]:
    """MATLAB's size: a container's or a table's shape; any other value is 1x1."""
    return value.shape() if isinstance(value, (Container, Table)) else (1, 1)


def element_count(value: Value) -> int:
    """The elements a value holds, as the work budget counts them (a string's characters too)."""
    if isinstance(value, Container):
        return value.numel
    return len(value.text) if isinstance(value, Str) else 1


def format_number(x: float) -> str:
    """MATLAB's short display of a number (num2str / string concatenation)."""
    if isinstance(x, bool):
        return "1" if x else "0"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if math.isnan(x):
        return "NaN"
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.5g}"
