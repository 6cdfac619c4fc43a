"""MATLAB's Deep Learning Toolbox as the language sees it: layer constructors (driven
by the IR's class metadata, so no layer needs code here), `trainingOptions`, the
layerGraph functions, and the pretrained-architecture functions (`alexnet`, ...)."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, PositiveInt, ValidationError

from ..diagnostics import Span, error, suggest
from ..ir import CONSTRUCTORS, Convolution2dLayer, FullyConnectedLayer, Layer, TrainingOptions, option_key
from ..ir.base import Lower, NotSupported
from ..ir.learnable import Learnable, format_size
from . import graphs
from .builtins import Arg, BuiltinError, Unmodelled, as_text, partial_matches
from .values import (Cell, Char, Container, FunctionHandle, Graph, LayerArray, Matrix, Opaque, OptionsValue, Str,
                     SymbolicSize, Table, Value, size_of, type_name)

if TYPE_CHECKING:
    from .interpreter import Interpreter

__all__ = ["LIBRARY", "to_python", "from_python", "layer_property", "graph_property", "ZOO",
           "IGNORED_TRAINING_OPTIONS", "NETWORK_POSITIONS", "network_argument", "learnable_value"]

Library = Callable[["Interpreter", list[Arg], int, Span | None], "Value | list[Value]"]
LIBRARY: dict[str, Library] = {}

IGNORED_TRAINING_OPTIONS = frozenset(option_key(name) for name in """
DispatchInBackground WorkerLoad OutputFcn
Acceleration Metrics ObjectiveMetricName InputDataFormats TargetDataFormats PreprocessingEnvironment
CheckpointFrequency LearnRateScheduleSettings
""".split())
"""trainingOptions names MATLAB has that netspec accepts and ignores (with a warning)."""


def library(*names: str):
    def register(fn: Library) -> Library:
        for name in names:
            LIBRARY[name] = fn
        return fn
    return register


# -- value conversions ----------------------------------------------------------------

def to_python(value: Value) -> Any:
    """A language value as a plain Python value for the IR's pydantic validation."""
    if isinstance(value, Matrix):
        if value.is_scalar():
            x = value.data[0]
            if value.logical:
                return bool(x)
            return int(x) if float(x).is_integer() and math.isfinite(x) else x
        if value.rows > 1 and value.cols > 1:
            raise BuiltinError(f"expected a number or a vector, got a {value.rows}x{value.cols} matrix")
        return [int(x) if float(x).is_integer() and math.isfinite(x) else x for x in value.data]
    if isinstance(value, (Char, Str)):
        return value.text
    if isinstance(value, Cell):
        return [to_python(item) for item in value.items]
    if isinstance(value, SymbolicSize):
        return [item if isinstance(item, str) else int(item) if float(item).is_integer() else item
                for item in value.items]
    raise BuiltinError(f"expected a number or text, got a {type_name(value)}")


def from_python(value: Any) -> Value:
    if value is None:
        return Matrix.empty()
    if isinstance(value, bool):
        return Matrix.scalar(float(value), logical=True)
    if isinstance(value, (int, float)):
        return Matrix.scalar(float(value))
    if isinstance(value, str):
        return Char(value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
            return Matrix.row([float(x) for x in value])
        return Cell.row([from_python(x) for x in value])
    return Opaque(type(value).__name__, None)


def layer_property(layer: Layer, name: str) -> Value | None:
    """`layer.FilterSize`, `layer.Name`, `layer.InputNames`... (None if no such property)."""
    key = option_key(name)
    special = {
        "inputnames": lambda: Cell.row([Char(p) for p in layer.input_names]),
        "outputnames": lambda: Cell.row([Char(p) for p in layer.output_names]),
        "numinputs": lambda: Matrix.scalar(float(len(layer.input_names))),
        "numoutputs": lambda: Matrix.scalar(float(len(layer.output_names))),
        "classnames": lambda: from_python(getattr(layer, "classes", None)),
    }
    if key in special:
        return special[key]()
    field = type(layer).option_fields().get(key)
    if field is None:
        return None
    if field in type(layer).learnable_options:
        return _learnable_property(layer, name, getattr(layer, field))
    return from_python(getattr(layer, field))


def layer_properties(layer: Layer) -> list[str]:
    """MATLAB's properties(layer): its options' names, then its ports' (`NumInputs`, `InputNames`, ...)."""
    options = [type(layer).matlab_option(field) for field in type(layer).model_fields if field not in ("kind", "span")]
    return [*options, "NumInputs", "InputNames", "NumOutputs", "OutputNames"]


@library("properties")
def _properties(ctx, args, nargout, span):
    """MATLAB's properties(x) of a layer: a cell column of its property names."""
    if len(args) != 1 or not isinstance(args[0].value, LayerArray) or len(args[0].value) != 1:
        raise error("E205", "netspec knows the properties of one layer only", args[0].span if args else span)
    names = layer_properties(args[0].value.layers[0])
    return Cell(len(names), 1, [Char(name) for name in names])


def _learnable_property(layer: Layer, name: str, given: Learnable | None) -> Value:
    """`layer.Weights`: the given matrix when netspec holds its numbers, else an unknown value
    of the given size (after training, MATLAB's values are the trained ones)."""
    if given is None:
        return Opaque(f"{layer.name or layer.matlab}.{name}", None)
    if given.known and given.size is not None and len(given.size) == 2:
        return Matrix(given.size[0], given.size[1], list(given.numbers()))
    return Opaque(f"{layer.name or layer.matlab}.{name}", given.span, size=given.size,
                  values=list(given.numbers()) if given.known else None)


def learnable_value(ctx: "Interpreter", cls: type[Layer], field: str, value: Value,
                    span: Span | None) -> Learnable | None:
    """A 'Weights'/'Bias'/... value as the IR keeps it (None for `[]`, MATLAB's "not set"),
    with a note when its numbers are unknown: the layer's initializer gives them instead."""
    option = cls.matlab_option(field)
    if isinstance(value, Matrix) and not value.logical:
        if value.numel == 0:
            return None
        return Learnable.of((value.rows, value.cols), value.data, span)
    if not isinstance(value, Opaque):
        raise error("E205", f"invalid {option} for {cls.matlab}: expected numbers, got a {type_name(value)}",
                    span, label="not numbers")
    if value.size is not None and value.values is not None:
        return Learnable.of(value.size, value.values, span)
    origin = value.variable or value.origin
    result = Learnable(size=value.size, origin=origin, span=span)
    if not result.known:
        sized = f" (a {format_size(value.size)} array)" if value.size is not None else ""
        ctx.warn("W203", f"the values of {option} of {cls.matlab} come from `{origin}`{sized}, which netspec "
                 "does not compute: training and export start from the layer's initializer", span,
                 hint=f"write the numbers, or leave {option} out to say the initializer is meant")
    return result


def graph_property(graph: Graph, name: str) -> Value | None:
    key = option_key(name)
    if key == "layers":
        return LayerArray(list(graph.layers.values()))
    if key == "inputnames":
        return Cell.row([Char(n) for n, layer in graph.layers.items() if not layer.input_names])
    if key == "outputnames":
        connected = {e.source for e in graph.connections}
        return Cell.row([Char(n) for n, layer in graph.layers.items()
                         if not layer.output_names or n not in connected])
    if key == "connections":
        return _connections_table(graph)
    return None


def _connections_table(graph: Graph) -> Table:
    """`lgraph.Connections` as MATLAB gives it: a table of Source and Destination, each a cell column
    of text, with the port after a slash where the layer has more than one (`add/in2`, `pool/indices`)."""
    layers = graph.layers

    def end(name: str, port: str, ports: list[str]) -> Char:
        return Char(name if len(ports) == 1 else f"{name}/{port}")

    edges = graph.connections
    sources = [end(e.source, e.source_port, layers[e.source].output_names) for e in edges]
    destinations = [end(e.destination, e.destination_port, layers[e.destination].input_names) for e in edges]
    return Table({"Source": Cell(len(edges), 1, sources), "Destination": Cell(len(edges), 1, destinations)},
                 len(edges))


# -- name-value arguments ---------------------------------------------------------------

def _is_option_name(value: Value, fields: dict[str, str], extra: frozenset[str]) -> bool:
    if not isinstance(value, (Char, Str)):
        return False
    return bool(partial_matches(option_key(value.text), _option_targets(fields, extra)))


def _option_targets(fields: dict[str, str], extra: frozenset[str]) -> dict[str, str]:
    """Every option name a call may give (the fields' keys and the names netspec ignores), each
    naming what it sets: what a prefix is matched against."""
    return {**fields, **{key: key for key in extra}}


def _option_of(model: Any, what: str, name_arg: Arg, name_text: str, fields: dict[str, str],
               extra: frozenset[str]) -> str:
    """The option key a name gives, matched as MATLAB's name-value parsing matches it (an unambiguous
    case-insensitive prefix, `'MaxEpoch'` for MaxEpochs); an unknown or ambiguous name is E204."""
    found = partial_matches(option_key(name_text), _option_targets(fields, extra))
    if len(found) == 1:
        return found[0]
    shown = [_matlab(model, fields[key]) if key in fields else key for key in found]
    if found:
        raise error("E204", f"ambiguous option '{name_text}' for {what}: it matches {_listed(shown)}",
                    name_arg.span, label="more than one option begins so",
                    hint="write enough of the name to tell them apart")
    known = [_matlab(model, f) for f in fields.values()]
    guess = suggest(name_text, known)
    raise error("E204", f"unknown option '{name_text}' for {what}", name_arg.span,
                label="not an option of this function",
                hint=f"did you mean '{guess}'?" if guess else f"{what} takes: {', '.join(sorted(known))}")


def _listed(names: list[str]) -> str:
    """'A', 'B' and 'C'."""
    return ", ".join(f"'{n}'" for n in names[:-1]) + f" and '{names[-1]}'" if len(names) > 1 else f"'{names[0]}'"


def _bind(ctx: "Interpreter", model: Any, what: str, args: list[Arg], positional_names: tuple[str, ...],
          required: int, ignored: frozenset[str], call_span: Span | None,
          unknown_is_warning: frozenset[str] = frozenset()):
    """Positional arguments, then 'Name',Value pairs (or Name=Value): field -> argument."""
    fields = model.option_fields() if hasattr(model, "option_fields") else \
        {option_key(f): f for f in model.model_fields if f != "span"}
    values: dict[str, Arg] = {}
    i = 0
    positional: list[Arg] = []
    not_fields = ignored | unknown_is_warning
    while i < len(args) and args[i].keyword is None and len(positional) < len(positional_names):
        if _is_option_name(args[i].value, fields, not_fields) and len(positional) >= required:
            break
        positional.append(args[i])
        i += 1
    if len(positional) < required:
        missing = ", ".join(model.matlab_option(f) if hasattr(model, "matlab_option") else f
                            for f in positional_names[len(positional):required])
        signature = ", ".join(_matlab(model, f) for f in positional_names[:required])
        raise error("E201", f"{what} needs {required} positional argument{'s' if required != 1 else ''}, "
                    f"got {len(positional)}", call_span, label=f"missing {missing}",
                    hint=f"call it as {what}({signature}, Name, Value, ...)")
    for name, arg in zip(positional_names, positional):
        values[name] = arg
    rest = args[i:]
    j = 0
    while j < len(rest):
        arg = rest[j]
        if arg.keyword is not None:
            name_text, value_arg, name_arg = arg.keyword, arg, arg
            j += 1
        else:
            if not isinstance(arg.value, (Char, Str)):
                if len(positional) == len(positional_names):
                    raise error("E201", f"{what} takes at most {len(positional_names)} positional "
                                f"argument{'s' if len(positional_names) != 1 else ''}", arg.span,
                                label="unexpected argument",
                                hint="options are given as 'Name',Value pairs after the positional arguments")
                raise error("E202", f"expected an option name for {what}, got a {type_name(arg.value)}", arg.span,
                            label="not an option name", hint="options are given as 'Name',Value pairs")
            name_text, name_arg = arg.value.text, arg
            if j + 1 >= len(rest):
                raise error("E203", f"option '{name_text}' of {what} has no value", arg.span,
                            label="a value must follow", hint=f"write '{name_text}', VALUE")
            value_arg = rest[j + 1]
            j += 2
        key = _option_of(model, what, name_arg, name_text, fields, not_fields)
        if key in not_fields:
            ctx.warn("W201", f"netspec ignores option '{name_text}' of {what}", name_arg.span)
            continue
        if fields[key].endswith("_initializer") and isinstance(value_arg.value, FunctionHandle):
            default = model.model_fields[fields[key]].default
            ctx.warn("W203", f"{_matlab(model, fields[key])} of {what} is a function of your own, which netspec "
                     f"does not run: training and export start from '{default}' instead", value_arg.span)
            continue
        values[fields[key]] = value_arg
    return values


def _matlab(model: Any, field: str) -> str:
    return model.matlab_option(field) if hasattr(model, "matlab_option") else \
        "".join(p[:1].upper() + p[1:] for p in field.split("_"))


def _accepts_text(annotation: Any) -> bool:
    """Whether a field takes text (MATLAB rejects '10' where a number is due; pydantic would not)."""
    if annotation is str:
        return True
    if get_origin(annotation) is Literal:
        return any(isinstance(a, str) for a in get_args(annotation))
    return any(_accepts_text(a) for a in get_args(annotation))


@lru_cache(maxsize=None)
def _numeric_fields(model: Any) -> frozenset[str]:
    """The fields of a model that take no text, worked out once per class (every layer asks)."""
    return frozenset(name for name, info in model.model_fields.items() if not _accepts_text(info.annotation))


def _validate(model: Any, what: str, bound: dict[str, Arg], extra: dict[str, Any], call_span: Span | None):
    data: dict[str, Any] = dict(extra)
    numeric = _numeric_fields(model)
    for field, arg in bound.items():
        if isinstance(arg.value, (Char, Str)) and field in numeric:
            raise error("E205", f"invalid {_matlab(model, field)} for {what}: expected a number, got text "
                        f"'{arg.value.text}'", arg.span, label="text, not a number",
                        hint=f"write the number without quotes: {arg.value.text}" if
                        arg.value.text.strip().lstrip("-").replace(".", "", 1).isdigit() else None)
        try:
            data[field] = to_python(arg.value)
        except BuiltinError as exc:
            raise error("E205", f"invalid {_matlab(model, field)} for {what}: {exc}", arg.span,
                        label="wrong type") from None
    try:
        return model(**data)
    except ValidationError as exc:
        raise _invalid(model, what, bound, exc, call_span) from None


def _invalid(model: Any, what: str, bound: dict[str, Arg], exc: ValidationError, call_span: Span | None):
    """The error for the first thing pydantic refused: a value netspec does not read yet (E208), else
    an invalid value (E206), with `--set` for the symbols of a size where the option takes numbers."""
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else None
    arg = bound.get(field) if field else None
    name = _matlab(model, field) if field and field in getattr(model, "model_fields", {}) else what
    span = arg.span if arg is not None else call_span
    shown = f" (got {_show(arg.value)})" if arg is not None else ""
    if isinstance(first.get("ctx", {}).get("error"), NotSupported):
        given = f"{name} {_show(arg.value)}" if arg is not None else name
        return error("E208", f"{given} of {what}: {first['ctx']['error']}", span, label="not read by netspec yet",
                     hint=_NOT_READ_HINTS.get(what))
    message = "expected a vector of numbers" if first["type"] in ("tuple_type", "list_type") \
        else _pydantic_message(first)
    hint = None
    if first["type"] == "literal_error":
        hint = f"allowed: {first.get('ctx', {}).get('expected', '')}"
    if arg is not None and isinstance(arg.value, SymbolicSize):
        symbols = [item for item in arg.value.items if isinstance(item, str)]
        message = f"it takes numbers, not the symbol{'s' if len(symbols) > 1 else ''} " \
                  + ", ".join(f"`{symbol}`" for symbol in symbols)
        hint = "bind it: " + " ".join(f"--set {symbol}=VALUE" for symbol in symbols)
        return error("E206", f"invalid {name} for {what}: {message}", span, label="unknown size", hint=hint)
    return error("E206", f"invalid {name} for {what}: {message}{shown}", span, label="invalid value", hint=hint)


def _pydantic_message(first: dict[str, Any]) -> str:
    """A pydantic error's message as a clause of netspec's (lower-case, without 'Value error, ')."""
    message = first["msg"]
    message = message[:1].lower() + message[1:]
    return message.removeprefix("value error, ")


_NOT_READ_HINTS = {"sequenceInputLayer": "netspec reads vector sequences, sequenceInputLayer(C), and sequences of "
                                         "2-D images, sequenceInputLayer([H W C])"}
"""What netspec does read, for a constructor given a value it does not read yet (E208)."""


def _show(value: Value) -> str:
    if isinstance(value, Matrix):
        if value.is_scalar():
            from .values import format_number
            return format_number(value.data[0])
        return "[" + " ".join(str(to_python(Matrix.scalar(x))) for x in value.data[:8]) + (" …" if value.numel > 8 else "") + "]"
    if isinstance(value, (Char, Str)):
        return f"'{value.text}'"
    return f"a {type_name(value)}"


def _opaque_argument(args: list[Arg]) -> Opaque | None:
    for arg in args:
        if isinstance(arg.value, Opaque):
            return arg.value
    return None


def _unknown_statistics(ctx: "Interpreter", cls: type[Layer], bound: dict[str, Arg]) -> list[Arg]:
    """Takes out of `bound` the options that come from the training data (an input layer's 'Mean',
    an output layer's 'Classes') when netspec cannot compute them, with a note: MATLAB computes the
    statistics from the training data when they are not given, and neither shapes the network."""
    taken = []
    for field in (*cls.data_statistics, *cls.data_labels):
        if field in bound and isinstance(bound[field].value, Opaque):
            option = bound.pop(field)
            taken.append(option)
            origin = f"{cls.matlab_option(field)} of {cls.matlab} comes from " \
                     f"`{option.value.variable or option.value.origin}`, which netspec does not compute"
            if field in cls.data_statistics:
                ctx.warn("W204", f"{origin}: it is left unset, so `netspec train` computes it from the training "
                         "data", option.span, hint="write the numbers, or bind the variable with --set")
            else:
                ctx.warn("W205", f"{origin}: it is left unset ({_UNSET_LABELS[field]}); the network is analyzed "
                         "all the same", option.span, hint="write the values, or bind the variable with --set")
    return taken


_UNSET_LABELS = {"classes": "the classes are the training labels' categories",
                 "class_weights": "every class weighs the same in the loss"}
"""What an output layer's label option left unset means."""


def construct_layer(ctx: "Interpreter", cls: type[Layer], args: list[Arg], call_span: Span | None) -> Value:
    bound = _bind(ctx, cls, cls.matlab, args, cls.positional, cls.required, cls.ignored_options, call_span)
    given = {field: bound.pop(field) for field in cls.learnable_options if field in bound}
    left_to_training = _unknown_statistics(ctx, cls, bound)
    unknown = _opaque_argument([arg for arg in args if not any(arg is g for g in [*given.values(), *left_to_training])])
    if unknown is not None:  # learnables may be unknown: their layer is not
        return replace(unknown, structural=True)
    ctx.count_layers(1, call_span)
    extra: dict[str, Any] = {"span": call_span}
    for field, arg in given.items():
        extra[field] = learnable_value(ctx, cls, field, arg.value, arg.span)
    layer = _validate(cls, cls.matlab, bound, extra, call_span)
    symbols = {item for arg in args if isinstance(arg.value, SymbolicSize) for item in arg.value.items
               if isinstance(item, str)}
    if symbols:  # `imageInputLayer([H W 3])`: H and W were meant as symbols, not as unknown functions
        ctx.diagnostics[:] = [d for d in ctx.diagnostics
                              if not (d.code == "W105" and any(f"`{s}`" in d.message for s in symbols))]
    return LayerArray([layer])


def _make_constructor(cls: type[Layer]) -> Library:
    def construct(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value:
        return construct_layer(ctx, cls, args, span)
    return construct


for _name, _cls in CONSTRUCTORS.items():
    LIBRARY[_name] = _make_constructor(_cls)


# -- training options ---------------------------------------------------------------------

@library("trainingOptions")
def _training_options(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value:
    bound = _bind(ctx, TrainingOptions, "trainingOptions", args, ("solver",), 1, frozenset(), span,
                  unknown_is_warning=IGNORED_TRAINING_OPTIONS)
    extra: dict[str, Any] = {"span": span}
    validation = bound.pop("validation_data", None)
    if validation is not None:
        value = validation.value
        extra["validation_data"] = value.variable or value.origin if isinstance(value, Opaque) else type_name(value)
    for field, arg in list(bound.items()):
        if isinstance(arg.value, Opaque):
            ctx.warn("W202", f"trainingOptions '{_matlab(TrainingOptions, field)}' depends on "
                     f"{arg.value.describe()}, which netspec cannot compute; using the default", arg.span,
                     hint=f"bind it with --set {arg.value.binding()}=VALUE" if arg.value.binding() else None)
            del bound[field]
    if "solver" not in bound:  # an unknown solver: MATLAB's most common, as the warning says
        bound["solver"] = Arg(Char("sgdm"), span)
    solver = bound.get("solver")
    if solver is not None and isinstance(solver.value, (Char, Str)):
        from ..ir.training import SOLVER_ONLY
        for field, only in SOLVER_ONLY.items():
            if field in bound and solver.value.text.lower() != only:
                raise error("E207", f"'{_matlab(TrainingOptions, field)}' applies only to solver '{only}'",
                            bound[field].span, label=f"not an option of '{solver.value.text}'")
    options = _validate(TrainingOptions, "trainingOptions", bound, extra, span)
    value = OptionsValue(options)
    ctx.training = value
    return value


# -- graphs -------------------------------------------------------------------------------

def _layers_arg(args: list[Arg], index: int, what: str) -> LayerArray:
    value = args[index].value
    if isinstance(value, LayerArray):
        if not value.layers:
            raise BuiltinError(f"{what} got an empty layer array", index)
        return value
    raise BuiltinError(f"expected a layer array, got a {type_name(value)}", index)


def _graph_arg(args: list[Arg], index: int) -> Graph:
    value = args[index].value
    if isinstance(value, Graph):
        return value
    if isinstance(value, LayerArray):
        return graphs.graph_from_array(value)
    raise BuiltinError(f"expected a layer graph, got a {type_name(value)}", index)


def _need(args: list[Arg], count: int, what: str) -> None:
    if len(args) < count:
        raise BuiltinError(f"{what} needs {count} arguments, got {len(args)}")


def _opaque_passthrough(*layered: int) -> Callable[[Library], Library]:
    """Graph functions of unknown values give unknown values (the network may not need them).

    An unknown graph or layers (the arguments at the `layered` positions) is itself a network
    (no number to bind), unless it is layers with an unknown number in them; an unknown layer
    name stands for a part of the graph whose variable names the text to bind."""
    def decorate(fn: Library) -> Library:
        def wrapped(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value:
            position, unknown = next(((i, a.value) for i, a in enumerate(args) if isinstance(a.value, Opaque)),
                                     (None, None))
            if unknown is None:
                return fn(ctx, args, nargout, span)
            if position in layered and not unknown.structural:
                return replace(unknown, network=True)
            return replace(unknown, structural=True)
        return wrapped
    return decorate


@library("layerGraph")
@_opaque_passthrough(0)
def _layer_graph(ctx, args, nargout, span):
    if not args:
        return Graph({}, [])
    value = args[0].value
    if isinstance(value, Graph):
        return value.copy("layerGraph")
    return graphs.graph_from_array(_layers_arg(args, 0, "layerGraph"))


@library("dlnetwork")
@_opaque_passthrough(0)
def _dlnetwork(ctx, args, nargout, span):
    value = args[0].value if args else None
    if isinstance(value, (Char, Str)) or value is None:
        return Graph({}, [], "dlnetwork")
    if isinstance(value, Graph):
        return value.copy("dlnetwork")
    return graphs.graph_from_array(_layers_arg(args, 0, "dlnetwork"), "dlnetwork")


NETWORK_POSITIONS = {"trainNetwork": -2, "trainnet": -3, "assembleNetwork": 0, "SeriesNetwork": 0,
                     "DAGNetwork": 0, "dlnetwork": 0, "analyzeNetwork": 0, "plot": 0}
"""The functions a network is handed to, and where its argument is: `trainNetwork(X, Y, layers,
options)`, `trainnet(X, Y, net, lossFcn, options)`, `plot(lgraph)`..."""


def network_argument(name: str, args: list[Arg]) -> int | None:
    """Which of the arguments of a call to `name` (one of NETWORK_POSITIONS) is the network: the
    first layer array or graph, else an unknown value where the network goes (the network is
    then unknown; `plot` of an unknown value that is not layers is taken to be of data)."""
    for index, arg in enumerate(args):
        if isinstance(arg.value, (LayerArray, Graph)):
            return index
    position = NETWORK_POSITIONS[name]
    if -len(args) <= position < len(args):
        value = args[position].value
        if isinstance(value, Opaque) and (name != "plot" or value.stands_for_layers()):
            return position % len(args)
    return None


def _trained(name: str) -> Library:
    def train(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value | list[Value]:
        """Training happens in `netspec train`; here the result is the network it trains (and an
        unknown training record: `[net, info] = trainNetwork(...)`)."""
        index = network_argument(name, args)
        if index is None:
            raise BuiltinError("expected layers among the arguments")
        value = args[index].value
        if isinstance(value, LayerArray):
            result: Value = graphs.graph_from_array(value, "SeriesNetwork")
        elif isinstance(value, Graph):
            result = value.copy("DAGNetwork")
        elif value.structural:  # layers with an unknown part: `net = trainNetwork(...)` keeps naming what to bind
            result = value
        else:
            result = replace(value, network=True)
        return [result, Opaque(name, span)] if nargout > 1 else result
    return train


for _trainer in ("trainNetwork", "assembleNetwork", "SeriesNetwork", "DAGNetwork", "trainnet"):
    LIBRARY[_trainer] = _trained(_trainer)


@library("addLayers")
@_opaque_passthrough(0, 1)
def _add_layers(ctx, args, nargout, span):
    _need(args, 2, "addLayers")
    graph = _graph_arg(args, 0)
    array = _layers_arg(args, 1, "addLayers")
    ctx.count_layers(0, span)
    return graphs.add_layers(graph, array)


@library("connectLayers")
@_opaque_passthrough(0)
def _connect_layers(ctx, args, nargout, span):
    _need(args, 3, "connectLayers")
    graph = _graph_arg(args, 0)
    return graphs.connect(graph, as_text(args[1], 1, "a layer name"), as_text(args[2], 2, "a layer name"),
                          (args[1].span, args[2].span))


@library("disconnectLayers")
@_opaque_passthrough(0)
def _disconnect_layers(ctx, args, nargout, span):
    _need(args, 3, "disconnectLayers")
    graph = _graph_arg(args, 0)
    return graphs.disconnect(graph, as_text(args[1], 1, "a layer name"), as_text(args[2], 2, "a layer name"),
                             (args[1].span, args[2].span))


@library("removeLayers")
@_opaque_passthrough(0)
def _remove_layers(ctx, args, nargout, span):
    _need(args, 2, "removeLayers")
    graph = _graph_arg(args, 0)
    value = args[1].value
    if isinstance(value, Cell):
        names = [as_text(Arg(item, args[1].span), 1, "a layer name") for item in value.items]
    else:
        names = [as_text(args[1], 1, "a layer name")]
    return graphs.remove_layers(graph, names, args[1].span)


@library("replaceLayer")
@_opaque_passthrough(0, 2)
def _replace_layer(ctx, args, nargout, span):
    _need(args, 3, "replaceLayer")
    graph = _graph_arg(args, 0)
    return graphs.replace_layer(graph, as_text(args[1], 1, "a layer name"),
                                _layers_arg(args, 2, "replaceLayer"), args[1].span)


@library("deal")
def _deal(ctx, args, nargout, span):
    """MATLAB's deal: `[a, b] = deal(x, y)` gives each output its input, `[a, b] = deal(x)` copies x
    to each (values of any kind, unknown ones too, hence a library function)."""
    outputs = max(nargout, 1)
    if not args:
        raise BuiltinError("deal needs at least one argument")
    if len(args) == 1:
        return [args[0].value] * outputs if outputs > 1 else args[0].value
    if len(args) != outputs:
        raise BuiltinError(f"deal: {len(args)} inputs need {len(args)} outputs, got {outputs}",
                           hint="give one output per input, or a single input to copy to every output")
    return [arg.value for arg in args]


# -- learn-rate and L2 factors of a layer's learnables -----------------------------------------

_FACTORS = {"setL2Factor": "l2", "getL2Factor": "l2", "setLearnRateFactor": "learn_rate",
            "getLearnRateFactor": "learn_rate"}


def _factor_field(layer: Layer, parameter: str, kind: str, index: int) -> str:
    """The option that holds a learnable's factor, as MATLAB maps the learnable's name to it
    ('Weights' -> WeightL2Factor of a convolution, 'InputWeights' -> InputWeightsL2Factor)."""
    suffix = f"_{kind}_factor"
    names: dict[str, str] = {}
    for field in type(layer).model_fields:
        if field.endswith(suffix):
            learnable = field.removesuffix(suffix)
            names[option_key("weights" if learnable == "weight" else learnable)] = field
    field = names.get(option_key(parameter))
    if field is None:
        shown = [type(layer).matlab_option("weights" if f.startswith("weight_") else f.removesuffix(suffix))
                 for f in names.values()]
        raise BuiltinError(f"{layer.matlab} has no learnable parameter '{parameter}'", index,
                           hint=f"its learnable parameters: {', '.join(shown)}" if shown else
                           f"{layer.matlab} has no learnable parameters")
    return field


def _factor_layer(args: list[Arg], what: str) -> tuple[Graph | None, Layer, int]:
    """(the network, or None for a layer; the layer; the index of the parameter name argument):
    `fn(layer, parameterName, ...)` or `fn(net, layerName, parameterName, ...)`."""
    first = args[0].value if args else None
    if isinstance(first, LayerArray):
        if len(first.layers) != 1:
            raise BuiltinError(f"{what} takes one layer, got {len(first.layers)}", 0,
                               hint="index one layer: layers(2)")
        return None, first.layers[0], 1
    if isinstance(first, Graph):
        name = as_text(args[1], 1, "a layer name") if len(args) > 1 else ""
        if name not in first.layers:
            guess = suggest(name, first.layers)
            raise BuiltinError(f"no layer named '{name}' in the network", 1,
                               hint=f"did you mean '{guess}'?" if guess else None)
        return first, first.layers[name], 2
    raise BuiltinError(f"expected a layer or a network, got a {type_name(first) if args else 'nothing'}", 0)


def _learnable_factor(what: str) -> Library:
    @_opaque_passthrough(0)
    def apply(ctx, args, nargout, span):
        return _factor_call(what, args)
    return apply


def _factor_call(what: str, args: list[Arg]) -> Value:
    """MATLAB's setL2Factor/setLearnRateFactor (a copy of the layer, or of the network, with the factor
    option set, as `layer.WeightL2Factor = f` sets it) and getL2Factor/getLearnRateFactor."""
    kind = _FACTORS[what]
    graph, layer, at = _factor_layer(args, what)
    setting = what.startswith("set")
    _need(args, at + 1 + setting, what)
    if len(args) > at + 1 + setting:
        raise BuiltinError(f"{what} takes {at + 1 + setting} arguments, got {len(args)}")
    field = _factor_field(layer, as_text(args[at], at, "a parameter name"), kind, at)
    if not setting:
        return from_python(getattr(layer, field))
    factor = args[at + 1].value
    if isinstance(factor, Opaque):
        return replace(factor, structural=True)
    updated = layer.model_copy()
    try:
        setattr(updated, field, to_python(factor))
    except ValidationError as exc:
        raise BuiltinError(f"invalid {type(layer).matlab_option(field)} for {layer.matlab}: "
                           f"{_pydantic_message(exc.errors()[0])}", at + 1) from None
    if graph is None:
        return LayerArray([updated])
    return graphs.replace_layer(graph, layer.name, LayerArray([updated]), args[1].span)


for _name in _FACTORS:
    LIBRARY[_name] = _learnable_factor(_name)


# -- functions of the file and of function handles ------------------------------------------

def _file_of(ctx: "Interpreter") -> Path | None:
    """The file running, as it was given (None for text that is no file)."""
    return None if ctx.file.startswith("<") else Path(ctx.file)


@library("mfilename")
def _mfilename(ctx, args, nargout, span):
    """MATLAB's mfilename: the running file's name without its extension; 'fullpath' gives it with its
    folder (as netspec was given it); '' for text that is no file."""
    option = as_text(args[0], 0, "'fullpath' or 'class'").lower() if args else ""
    if option not in ("", "fullpath", "class"):
        raise BuiltinError(f"the option must be 'fullpath' or 'class', not '{option}'", 0)
    file = _file_of(ctx)
    if file is None or option == "class":
        return Char("")
    return Char(file.with_suffix("").as_posix() if option == "fullpath" else file.stem)


@library("pwd")
def _pwd(ctx, args, nargout, span):
    """The current folder, taken to be the folder of the file run (as netspec was given it): MATLAB
    runs a script from its own folder when it is opened there."""
    file = _file_of(ctx)
    return Char(file.parent.as_posix()) if file is not None else Opaque("pwd", span)


_APPLY_OPTIONS = {"uniformoutput": "uniformoutput", "errorhandler": "errorhandler"}


def _apply_option(value: Value) -> str | None:
    """The cellfun/arrayfun option a name gives, prefixes included (MATLAB code often writes 'Uni', 0)."""
    if not isinstance(value, (Char, Str)):
        return None
    found = partial_matches(option_key(value.text), _APPLY_OPTIONS)
    return found[0] if len(found) == 1 else None


def _uniform_option(args: list[Arg]) -> tuple[list[Arg], bool]:
    """The arguments before the options, and 'UniformOutput' (true by default); 'ErrorHandler' is
    accepted and unused: a function that fails stops the file."""
    start = next((i for i, arg in enumerate(args) if i >= 2 and _apply_option(arg.value)), len(args))
    uniform = True
    for index in range(start, len(args), 2):
        name = args[index].value
        option = _apply_option(name)
        if option is None:
            raise BuiltinError("the options are 'UniformOutput' and 'ErrorHandler'", index)
        if index + 1 == len(args):
            raise BuiltinError(f"option '{name.text}' has no value", index)
        flag = args[index + 1].value
        if option == "uniformoutput":
            if not isinstance(flag, Matrix) or not flag.is_scalar():
                raise BuiltinError("'UniformOutput' must be true or false", index + 1)
            uniform = bool(flag.data[0])
    return args[:start], uniform


def _elements(value: Value) -> list[Value]:
    """What arrayfun passes to its function: each element of an array as a 1x1 array of its kind."""
    if not isinstance(value, Container):
        return [value]
    return [value.selection(1, 1, [element]) for element in value.elements()]


def _uniform(results: list[Value], rows: int, cols: int, output: int) -> Value:
    """'UniformOutput', true: the results, each a number, logical or character, as one array."""
    for index, value in enumerate(results):
        if not (isinstance(value, (Matrix, Char)) and value.numel == 1):
            raise BuiltinError(f"the function returned a {type_name(value)} for element {index + 1} (output "
                               f"{output + 1}), not a single number, logical or character",
                               hint="pass 'UniformOutput', false to collect the results in a cell array")
    if results and all(isinstance(value, Char) for value in results):
        if rows != 1:
            raise Unmodelled("netspec has no char matrices: a column of characters")
        return Char("".join(value.text for value in results))
    data = [value.data[0] if isinstance(value, Matrix) else float(ord(value.text)) for value in results]
    logical = bool(results) and all(isinstance(value, Matrix) and value.logical for value in results)
    return Matrix(rows, cols, data, logical)


def _apply(ctx: "Interpreter", args: list[Arg], nargout: int,
           elements: Callable[[Value], list[Value]]) -> Value | list[Value]:
    """arrayfun and cellfun: the function applied to the elements of the arrays at each position."""
    args, uniform = _uniform_option(args)
    if len(args) < 2:
        raise BuiltinError(f"needs a function and an array, got {len(args)} argument(s)")
    handle = args[0].value
    if isinstance(handle, (Char, Str)):  # cellfun('isempty', C): the function by its name
        handle = FunctionHandle(name=handle.text)
    if not isinstance(handle, FunctionHandle):
        raise BuiltinError(f"expected a function handle, got a {type_name(handle)}", 0)
    unknown = _opaque_argument(args[1:])
    if unknown is not None:
        return [unknown] * nargout if nargout > 1 else unknown
    arrays = [elements(arg.value) for arg in args[1:]]
    rows, cols = size_of(args[1].value)
    for index, (array, arg) in enumerate(zip(arrays[1:], args[2:]), start=2):
        if size_of(arg.value) != (rows, cols):
            raise BuiltinError(f"all arrays must have the same size: argument 2 is {rows}x{cols}, argument "
                               f"{index + 1} is {'x'.join(map(str, size_of(arg.value)))}", index)
    outputs = max(nargout, 1)
    results: list[list[Value]] = [[] for _ in range(outputs)]
    for position in range(len(arrays[0])):
        values = ctx.call_handle(handle, [Arg(array[position], arg.where) for array, arg in zip(arrays, args[1:])],
                                 outputs)
        if len(values) < outputs:
            raise BuiltinError(f"the function gives {len(values)} output(s) for element {position + 1}, "
                               f"{outputs} wanted")
        for output in range(outputs):
            results[output].append(values[output])
    unknown = next((value for column in results for value in column if isinstance(value, Opaque)), None)
    if unknown is not None:
        return [unknown] * nargout if nargout > 1 else unknown
    gathered = [_uniform(column, rows, cols, output) if uniform else Cell(rows, cols, column)
                for output, column in enumerate(results)]
    return gathered if nargout > 1 else gathered[0]


@library("arrayfun")
def _arrayfun(ctx, args, nargout, span):
    """MATLAB's arrayfun(func, A1, ..., An): func of the elements at each position (a layer array's
    elements are its layers); 'UniformOutput', false collects the results in a cell array."""
    return _apply(ctx, args, nargout, _elements)


def _cell_items(value: Value) -> list[Value]:
    if not isinstance(value, Cell):
        raise BuiltinError(f"works on cell arrays, not on a {type_name(value)}",
                           hint="use arrayfun for other arrays")
    return list(value.items)


@library("cellfun")
def _cellfun(ctx, args, nargout, span):
    """MATLAB's cellfun(func, C1, ..., Cn): func of the cells' contents at each position."""
    return _apply(ctx, args, nargout, _cell_items)


# -- pretrained architectures (without weights) --------------------------------------------

ZOO_FOLDER = Path(__file__).resolve().parents[1] / "zoo"
ZOO: dict[str, str] = {name[: -len(".net")]: name for name in sorted(os.listdir(ZOO_FOLDER)) if name.endswith(".net")}
"""MATLAB's pretrained-network functions netspec ships as architectures: name -> file in ZOO_FOLDER."""


def _zoo_function(name: str) -> Library:
    def architecture(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value:
        return ctx.zoo_network(name, span)
    return architecture


for _zoo_name in ZOO:
    LIBRARY[_zoo_name] = _zoo_function(_zoo_name)


MATLAB_ONLY_PRETRAINED = frozenset({"googlenet-places365", "inceptionresnetv2", "nasnetmobile", "nasnetlarge",
                                    "darknet19"}) - set(ZOO)
"""Names imagePretrainedNetwork takes in MATLAB whose architecture netspec does not ship (no
"did you mean" for them: the user meant that network)."""


class PretrainedOptions(BaseModel):
    """imagePretrainedNetwork's arguments (R2024a): the network name (default "squeezenet"), the
    weights (netspec has none either way), and NumClasses, which replaces the learnable layer of
    the classification head by one with that many outputs (NumResponses, its regression
    counterpart, is refused)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "squeezenet"
    weights: Annotated[Literal["pretrained", "none"], Lower] = "pretrained"
    num_classes: PositiveInt | None = None
    num_responses: PositiveInt | None = None


@library("imagePretrainedNetwork")
def _image_pretrained_network(ctx, args, nargout, span):
    bound = _bind(ctx, PretrainedOptions, "imagePretrainedNetwork", args, ("name",), 0, frozenset(), span)
    if "num_responses" in bound:
        where = next(i for i, arg in enumerate(args) if arg is bound["num_responses"])
        raise BuiltinError("netspec does not build NumResponses' regression head", where,
                           hint="use NumClasses, or replace the head with replaceLayer and a regressionLayer")
    classes = bound.get("num_classes")
    if classes is not None and isinstance(classes.value, Opaque):  # NumClasses=numel(categories(...))
        network: Value = replace(classes.value, structural=True)
    else:
        options = _validate(PretrainedOptions, "imagePretrainedNetwork", bound, {}, span)
        if options.name in MATLAB_ONLY_PRETRAINED:
            raise BuiltinError(f"netspec does not ship MATLAB's '{options.name}' architecture", 0,
                               hint=f"available: {', '.join(sorted(ZOO))}")
        if options.name not in ZOO:
            guess = suggest(options.name, ZOO)
            raise BuiltinError(f"netspec has no architecture '{options.name}'", 0,
                               hint=f"did you mean '{guess}'?" if guess else f"available: {', '.join(sorted(ZOO))}")
        network = ctx.zoo_network(options.name, span)
        if options.num_classes is not None:
            network = _with_classes(network, options.num_classes)
    return [network, Opaque("classNames", span)] if nargout > 1 else network


def _with_classes(graph: Graph, classes: int) -> Graph:
    """The graph with its classification head's learnable layer (the fully connected layer or
    convolution the output reads through softmax, pooling, ...) giving `classes` outputs."""
    name = next(n for n, layer in reversed(graph.layers.items()) if not layer.output_names)
    while not isinstance(graph.layers[name], (FullyConnectedLayer, Convolution2dLayer)):
        name = graph.source_of(name, graph.layers[name].input_names[0]).source
    head = graph.layers[name].model_copy()
    setattr(head, "output_size" if isinstance(head, FullyConnectedLayer) else "num_filters", classes)
    return Graph({**graph.layers, name: head}, list(graph.connections), graph.kind)


from . import toolbox  # noqa: E402,F401  (registers repmat, blockedNetwork, unetLayers, ...: they use the above)
