"""The numeric and string helpers real network files use (`sprintf`, `floor`, `numel`...).

Each builtin takes the interpreter's evaluated `Arg`s and returns a value (or a list
of values for multiple outputs). Layer constructors and graph functions live in
`library.py`; both register here through `@builtin`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from ..diagnostics import Span
from .values import (MAX_ELEMENTS, Cell, Char, CSList, FunctionHandle, Graph, LayerArray, Matrix,
                     Opaque, OptionsValue, Str, Struct, SymbolicSize, Value, format_number, numel, size_of,
                     type_name)

__all__ = ["Arg", "BUILTINS", "builtin", "BuiltinError", "Unmodelled", "as_text", "as_int", "partial_matches",
           "NO_OP_FUNCTIONS", "DATA_FUNCTIONS", "is_character_code", "MAX_PRECISION"]


@dataclass(slots=True)
class Arg:
    """An evaluated argument; its source location is worked out only if a message needs it."""

    value: Value
    where: "Span | Callable[[], Span | None] | None"
    keyword: str | None = None  # set for `Name=Value` arguments

    @property
    def span(self) -> Span | None:
        return self.where() if callable(self.where) else self.where


class BuiltinError(Exception):
    """A builtin rejected its arguments; `arg` is the index of the culprit, if known."""

    def __init__(self, message: str, arg: int | None = None, hint: str | None = None, code: str = "E141"):
        super().__init__(message)
        self.arg = arg
        self.hint = hint
        self.code = code


class Unmodelled(BuiltinError):
    """A value MATLAB computes and netspec does not hold (an array of more than two dimensions):
    the result is unknown, which stops the file only if the network needs it."""


Builtin = Callable[..., "Value | list[Value]"]
BUILTINS: dict[str, Builtin] = {}

NO_OP_FUNCTIONS = frozenset("""
disp display fprintf printf figure plot subplot imshow clc close clear clf hold title xlabel ylabel
zlabel legend drawnow axis grid save load rng tic toc analyzeNetwork deepNetworkDesigner plotconfusion
confusionchart montage imwrite imagesc colorbar colormap warning format pause keyboard beep
set print savefig saveas exportgraphics diary more global persistent rmpath
""".split())
"""MATLAB functions with only side effects (display, files, plots): silently ignored."""

DATA_FUNCTIONS = frozenset("""
imageDatastore augmentedImageDatastore imageDataAugmenter augmentedImageSource splitEachLabel
countEachLabel readimage readall read imread imresize categories randperm rand randn randi classify
predict activations minibatchpredict deepDreamImage toolboxdir dir datastore transform combine
arrayDatastore cd unique countcats numpartitions shuffle imageDatastoreFromFiles digitTrain4DArrayData
digitTest4DArrayData
""".split())
"""MATLAB's data and inference functions: their results are unknown values (no warning);
a network that depends on one fails with a --set hint."""


def builtin(*names: str):
    def register(fn: Builtin) -> Builtin:
        for name in names:
            BUILTINS[name] = fn
        return fn
    return register


# -- conversions ---------------------------------------------------------------------

def partial_matches(key: str, targets: "dict[str, object]") -> list[str]:
    """The keys (lower-case option names, each naming a target) that `key` names as MATLAB's
    name-value parsing matches names (inputParser's PartialMatching, `arguments` blocks): itself if
    it is one, else each key it begins, one per target (an alias adds no ambiguity). Two or more
    is MATLAB's "ambiguous" error; none, an unknown name."""
    if key in targets:
        return [key]
    found: dict[object, str] = {}
    for candidate, target in targets.items():
        if key and candidate.startswith(key):
            found.setdefault(target, candidate)
    return sorted(found.values())


def as_text(arg: Arg, index: int, what: str = "text") -> str:
    value = arg.value
    if isinstance(value, (Char, Str)):
        return value.text
    raise BuiltinError(f"expected {what}, got a {type_name(value)}", index)


def as_number(arg: Arg, index: int) -> float:
    value = arg.value
    if isinstance(value, Matrix) and value.is_scalar():
        return value.data[0]
    raise BuiltinError(f"expected a number, got a {type_name(value)}", index)


def as_int(arg: Arg, index: int) -> int:
    x = as_number(arg, index)
    if not float(x).is_integer():
        raise BuiltinError(f"expected a whole number, got {format_number(x)}", index)
    return int(x)


def _numbers(arg: Arg, index: int) -> Matrix:
    value = arg.value
    if isinstance(value, Matrix):
        return value
    raise BuiltinError(f"expected numbers, got a {type_name(value)}", index)


def _map(fn: Callable[[float], float]) -> Builtin:
    def apply(args: list[Arg], nargout: int) -> Value:
        _arity(args, 1, 1)
        m = _numbers(args[0], 0)
        return Matrix(m.rows, m.cols, [fn(x) for x in m.data])
    return apply


def _arity(args: list[Arg], low: int, high: int | None) -> None:
    if len(args) < low or (high is not None and len(args) > high):
        want = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
        raise BuiltinError(f"takes {want} argument{'s' if high != 1 else ''}, got {len(args)}")


def _round_half_away(x: float) -> float:
    return math.copysign(math.floor(abs(x) + 0.5), x) if math.isfinite(x) else x


for _name, _fn in {
    "floor": lambda x: float(math.floor(x)) if math.isfinite(x) else x,
    "ceil": lambda x: float(math.ceil(x)) if math.isfinite(x) else x,
    "fix": lambda x: float(math.trunc(x)) if math.isfinite(x) else x,
    "abs": abs,
    "sqrt": lambda x: math.sqrt(x) if x >= 0 else math.nan,
    "exp": lambda x: math.exp(min(x, 709.0)),
    "log": lambda x: math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan),
    "log2": lambda x: math.log2(x) if x > 0 else (-math.inf if x == 0 else math.nan),
    "log10": lambda x: math.log10(x) if x > 0 else (-math.inf if x == 0 else math.nan),
    "sign": lambda x: float((x > 0) - (x < 0)),
}.items():
    BUILTINS[_name] = _map(_fn)


@builtin("round")
def _round(args: list[Arg], nargout: int) -> Value:
    """round(X) and round(X, N): to N digits after the point (before it when N < 0), halves away from zero."""
    _arity(args, 1, 2)
    m = _numbers(args[0], 0)
    if len(args) == 1:
        return Matrix(m.rows, m.cols, [_round_half_away(x) for x in m.data])
    digits = as_int(args[1], 1)
    if abs(digits) > 300:
        raise BuiltinError("the number of digits must be between -300 and 300", 1)
    scale = 10.0 ** abs(digits)
    if digits >= 0:
        return Matrix(m.rows, m.cols, [_round_half_away(x * scale) / scale for x in m.data])
    return Matrix(m.rows, m.cols, [_round_half_away(x / scale) * scale for x in m.data])


def _binary_map(name: str, fn: Callable[[float, float], float]) -> Builtin:
    def apply(args: list[Arg], nargout: int) -> Value:
        from .operators import _broadcast
        _arity(args, 2, 2)
        return _broadcast(_numbers(args[0], 0), _numbers(args[1], 1), name, fn)
    return apply


def _finite_mod(rounding: Callable[[float], float]) -> Callable[[float, float], float]:
    def mod(x: float, y: float) -> float:
        if not (math.isfinite(x) and math.isfinite(y)):
            return math.nan if not math.isfinite(x) or math.isnan(y) else x
        return x if y == 0 else x - rounding(x / y) * y
    return mod


BUILTINS["mod"] = _binary_map("mod", _finite_mod(math.floor))
BUILTINS["rem"] = _binary_map("rem", lambda x, y: math.nan if y == 0 else _finite_mod(math.trunc)(x, y))


def _columns(m: Matrix) -> list[list[float]]:
    """What MATLAB's reductions reduce: a vector whole, a matrix column by column."""
    if m.is_vector():
        return [list(m.data)]
    return [m.data[c * m.rows:(c + 1) * m.rows] for c in range(m.cols)]


def _reduced(m: Matrix, values: list[float]) -> Matrix:
    return Matrix.scalar(values[0]) if m.is_vector() else Matrix.row(values)


def _extreme(pick: Callable, name: str) -> Builtin:
    """max/min: of two arrays element by element, or along a dimension (the first that is not 1,
    or `max(A, [], dim)` / `max(A, [], 'all')`), with the index as a second output."""
    def apply(args: list[Arg], nargout: int) -> Value | list[Value]:
        _arity(args, 1, 3)
        if len(args) == 2:
            from .operators import _broadcast
            return _broadcast(_numbers(args[0], 0), _numbers(args[1], 1), name,
                              lambda x, y: pick((x, y)))
        if len(args) == 3 and numel(args[1].value) != 0:
            raise BuiltinError(f"the second argument of {name}(A, B, dim) must be []", 1)
        if not _numbers(args[0], 0).data and len(args) == 1:
            return [Matrix.empty(), Matrix.empty()] if nargout > 1 else Matrix.empty()
        _, slices, rows, cols = _reduction_slices([args[0], *args[2:]], name)
        values = [float(pick(part)) if part else math.nan for part in slices]
        if nargout > 1:
            indices = [float(part.index(value) + 1) if part else math.nan for part, value in zip(slices, values)]
            return [Matrix(rows, cols, values), Matrix(rows, cols, indices)]
        return Matrix(rows, cols, values)
    return apply


BUILTINS["max"] = _extreme(max, "max")
BUILTINS["min"] = _extreme(min, "min")


@builtin("sum")
def _sum(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    m = _numbers(args[0], 0)
    return _reduced(m, [float(sum(column)) for column in _columns(m)]) if m.data else Matrix.scalar(0.0)


def _reduction_slices(args: list[Arg], name: str) -> tuple[Matrix, list[list[float]], int, int]:
    """What `mean`/`std`/`var` reduce, as MATLAB does: along the first dimension that is not 1 (a
    vector whole, a matrix column by column), along `dim`, or 'all'; 'omitnan' drops NaNs. Gives
    (the array, the slices, the result's rows and cols)."""
    if isinstance(args[0].value, SymbolicSize):  # `[data{:}]` of unknown data: its values are unknown too
        raise Unmodelled(f"{name} of values netspec does not know")
    m = _numbers(args[0], 0)
    flags = {as_text(a, i).lower() for i, a in enumerate(args[1:], 1) if isinstance(a.value, (Char, Str))}
    unknown = flags - {"all", "omitnan", "includenan", "omitmissing", "includemissing", "default", "double"}
    if unknown:
        raise BuiltinError(f"{name}: unknown option '{sorted(unknown)[0]}'")
    dims = [as_int(a, i) for i, a in enumerate(args[1:], 1) if not isinstance(a.value, (Char, Str))]
    if len(dims) > 1 or any(d < 1 for d in dims):
        raise BuiltinError(f"{name}: the dimension is one positive whole number")
    if "all" in flags or (not dims and m.rows == 0 and m.cols == 0):
        slices, rows, cols = [list(m.data)], 1, 1  # mean([]) is NaN, as in MATLAB
    else:
        dim = dims[0] if dims else (1 if m.rows != 1 else 2)
        if dim == 1:
            slices, rows, cols = [m.data[c * m.rows:(c + 1) * m.rows] for c in range(m.cols)], 1, m.cols
        elif dim == 2:
            slices, rows, cols = [m.data[r::m.rows] if m.rows else [] for r in range(m.rows)], m.rows, 1
        else:
            slices, rows, cols = [[x] for x in m.data], m.rows, m.cols
    if flags & {"omitnan", "omitmissing"}:
        slices = [[x for x in part if not math.isnan(x)] for part in slices]
    return m, slices, rows, cols


def _mean_of(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def _variance(values: list[float], weight: int) -> float:
    """MATLAB's var: normalized by N-1 (weight 0; 0 for one value) or by N (weight 1)."""
    if not values:
        return math.nan
    mean = _mean_of(values)
    count = len(values) - 1 if weight == 0 and len(values) > 1 else len(values)
    return math.fsum((x - mean) ** 2 for x in values) / count


@builtin("mean")
def _mean(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 4)
    _, slices, rows, cols = _reduction_slices(args, "mean")
    return Matrix(rows, cols, [_mean_of(part) for part in slices])


def _spread(name: str, root: bool) -> Builtin:
    """`std(x, w, dim)` / `var(x, w, dim)`: w is 0 (N-1, the default, also `[]`) or 1 (N); a second
    output is the mean (`[S, M] = std(x)`)."""
    def apply(args: list[Arg], nargout: int) -> Value:
        _arity(args, 1, 4)
        weight = 0
        if len(args) > 1 and not isinstance(args[1].value, (Char, Str)):
            given = args[1].value
            weight = 0 if isinstance(given, Matrix) and given.numel == 0 else as_int(args[1], 1)
            if weight not in (0, 1):
                raise BuiltinError(f"{name}: the weight is 0 or 1 (netspec takes no weight vectors)", 1)
            args = [args[0], *args[2:]]
        _, slices, rows, cols = _reduction_slices(args, name)
        values = [_variance(part, weight) for part in slices]
        spread = Matrix(rows, cols, [math.sqrt(v) for v in values] if root else values)
        return [spread, Matrix(rows, cols, [_mean_of(part) for part in slices])] if nargout > 1 else spread
    return apply


BUILTINS["std"] = _spread("std", True)
BUILTINS["var"] = _spread("var", False)


@builtin("prod")
def _prod(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    m = _numbers(args[0], 0)
    return _reduced(m, [float(math.prod(column)) for column in _columns(m)]) if m.data else Matrix.scalar(1.0)


@builtin("numel")
def _numel(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    return Matrix.scalar(float(numel(args[0].value)))


@builtin("length")
def _length(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    rows, cols = size_of(args[0].value)
    return Matrix.scalar(float(0 if rows * cols == 0 else max(rows, cols)))


@builtin("size")
def _size(args: list[Arg], nargout: int) -> Value | list[Value]:
    _arity(args, 1, 2)
    rows, cols = size_of(args[0].value)
    if len(args) == 2:
        dim = as_int(args[1], 1)
        return Matrix.scalar(float(rows if dim == 1 else cols if dim == 2 else 1))
    if nargout > 1:
        return [Matrix.scalar(float(rows)), Matrix.scalar(float(cols))] + [Matrix.scalar(1.0)] * (nargout - 2)
    return Matrix.row([float(rows), float(cols)])


@builtin("height")
def _height(args: list[Arg], nargout: int) -> Value:
    """MATLAB's height: the rows of an array or table (size(x, 1))."""
    _arity(args, 1, 1)
    return Matrix.scalar(float(size_of(args[0].value)[0]))


@builtin("width")
def _width(args: list[Arg], nargout: int) -> Value:
    """MATLAB's width: the columns of an array, the variables of a table (size(x, 2))."""
    _arity(args, 1, 1)
    return Matrix.scalar(float(size_of(args[0].value)[1]))


def size_query(name: str, size: tuple[int, ...], args: list[Arg], nargout: int) -> Value | list[Value] | None:
    """`size`, `numel` or `ndims` of an array netspec does not hold but knows the size of
    (`zeros(28,28,1,n)`), as MATLAB answers them; None for any other function."""
    if name == "numel" and len(args) == 1:
        return Matrix.scalar(float(math.prod(size)))
    if name == "ndims" and len(args) == 1:
        return Matrix.scalar(float(len(size)))
    if name != "size":
        return None
    _arity(args, 1, 2)
    if len(args) == 2:
        dim = as_int(args[1], 1)
        return Matrix.scalar(float(size[dim - 1] if 1 <= dim <= len(size) else 1))
    if nargout > 1:  # the last output is the product of the dimensions left, as in MATLAB
        dims = list(size) + [1] * max(0, nargout - len(size))
        last = Matrix.scalar(float(math.prod(dims[nargout - 1:])))
        return [Matrix.scalar(float(d)) for d in dims[:nargout - 1]] + [last]
    return Matrix.row([float(d) for d in size])


@builtin("isempty")
def _isempty(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    return Matrix.scalar(float(numel(args[0].value) == 0), logical=True)


@builtin("isscalar")
def _isscalar(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    return Matrix.scalar(float(size_of(args[0].value) == (1, 1)), logical=True)


@builtin("isvector")
def _isvector(args: list[Arg], nargout: int) -> Value:
    """A vector is 1-by-N or N-by-1, N nonnegative (MATLAB: a 1x0 array is one, a 0x0 array is not)."""
    _arity(args, 1, 1)
    return Matrix.scalar(float(1 in size_of(args[0].value)), logical=True)


@builtin("isnan")
def _isnan(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    value = args[0].value
    if isinstance(value, Char):
        return Matrix(*value.shape(), [0.0] * len(value.text), logical=True)
    m = _numbers(args[0], 0)
    return Matrix(m.rows, m.cols, [float(math.isnan(x)) for x in m.data], logical=True)


@builtin("find")
def _find(args: list[Arg], nargout: int) -> Value | list[Value]:
    """MATLAB's find: the linear (column-major, 1-based) indices of the nonzero elements, a row for a
    row input and a column otherwise; `find(X, n)` the first n, `find(X, n, 'last')` the last n;
    with two or three outputs the row and column subscripts (and the values)."""
    _arity(args, 1, 3)
    value = args[0].value
    m = Matrix.row([float(ord(c)) for c in value.text]) if isinstance(value, Char) else _numbers(args[0], 0)
    found = [i for i, x in enumerate(m.data) if x != 0]
    if len(args) >= 2:
        count = as_int(args[1], 1)
        if count < 1:
            raise BuiltinError(f"the number of indices to find must be a positive whole number, not {count}", 1)
        direction = as_text(args[2], 2, "'first' or 'last'").lower() if len(args) == 3 else "first"
        if direction not in ("first", "last"):
            raise BuiltinError(f"the direction must be 'first' or 'last', not '{direction}'", 2)
        found = found[:count] if direction == "first" else found[-count:]
    row = m.rows == 1 and m.cols != 1 or m.is_scalar()

    def shaped(values: list[float], logical: bool = False) -> Matrix:
        if m.rows == 0 and m.cols == 0 and not values:
            return Matrix(0, 0, [], logical)
        return Matrix(1, len(values), values, logical) if row else Matrix(len(values), 1, values, logical)
    if nargout < 2:
        return shaped([float(i + 1) for i in found])
    rows = m.rows or 1
    subscripts = [shaped([float(i % rows + 1) for i in found]), shaped([float(i // rows + 1) for i in found])]
    return subscripts + [shaped([m.data[i] for i in found], m.logical)] if nargout > 2 else subscripts


def _size_arguments(args: list[Arg]) -> list[int]:
    """MATLAB's size arguments: `(n)`, `(m, n, ...)` or `([m n ...])`, as a size of at least two
    dimensions; a class name after them (`'single'`, `'like', x`) changes nothing netspec keeps."""
    numeric = next((args[:i] for i, a in enumerate(args) if isinstance(a.value, (Char, Str))), args)
    if len(numeric) == 1 and isinstance(numeric[0].value, Matrix) and not numeric[0].value.is_scalar():
        dims = [as_int(Arg(Matrix.scalar(x), numeric[0].where), 0) for x in numeric[0].value.data]
    else:
        dims = [as_int(a, i) for i, a in enumerate(numeric)] or [1]
    dims = [max(d, 0) for d in dims]
    if len(dims) == 1:
        dims = [dims[0], dims[0]]
    while len(dims) > 2 and dims[-1] == 1:
        dims.pop()
    return dims


def _dimensions(args: list[Arg]) -> tuple[int, int]:
    """A size of two dimensions (`repmat`'s copies): trailing dimensions must be 1."""
    dims = _size_arguments(args)
    if len(dims) > 2:
        raise Unmodelled(f"netspec's arrays have two dimensions, not {len(dims)}", len(args) - 1)
    return dims[0], dims[1]


def sized_array(name: str, args: list[Arg]) -> tuple[int, ...] | None:
    """The size of `rand(...)`/`randn(...)` (random values: only the size is known), None when
    the call's arguments are not a size netspec can read (the result stays merely unknown)."""
    if name not in ("rand", "randn") or any(not isinstance(a.value, (Matrix, Char, Str)) for a in args):
        return None
    try:
        dims = _size_arguments(args)
    except BuiltinError:
        return None
    return tuple(dims) if math.prod(dims) <= MAX_ELEMENTS else None


def _filled(fill: float) -> Builtin:
    """`zeros`/`ones`: a matrix; with more than two dimensions (a layer's `zeros(1,1,32)` bias),
    which netspec's arrays do not have, an unknown value that keeps its size and numbers."""
    def apply(args: list[Arg], nargout: int) -> Value:
        dims = _size_arguments(args)
        origin = f"{'zeros' if fill == 0 else 'ones'}({','.join(map(str, dims))})"
        if len(dims) > 2 and math.prod(dims) > MAX_ELEMENTS:  # a data buffer: its size is all a network may use
            return Opaque(origin, None, size=tuple(dims))
        if math.prod(dims) > MAX_ELEMENTS:
            raise BuiltinError(f"an array of {'x'.join(map(str, dims))} elements is larger than netspec allows "
                               f"({MAX_ELEMENTS:,})", code="E502")
        if len(dims) > 2:
            return Opaque(origin, None, size=tuple(dims), values=[fill] * math.prod(dims))
        rows, cols = dims
        return Matrix(rows, cols, [fill] * (rows * cols))
    return apply


@builtin("reshape")
def _reshape(args: list[Arg], nargout: int) -> Value:
    """`reshape(A, m, n, ...)` or `reshape(A, [m n ...])`, one size may be `[]` (worked out). More
    than two dimensions give a value that keeps its size and numbers (a layer's given weights)."""
    _arity(args, 2, 64)
    source = _numbers(args[0], 0)
    if len(args) == 2:
        sizes = _numbers(args[1], 1).data
        dims: list[int | None] = [as_int(Arg(Matrix.scalar(x), args[1].where), 1) for x in sizes]
    else:
        dims = [None if isinstance(a.value, Matrix) and a.value.numel == 0 else as_int(a, i)
                for i, a in enumerate(args[1:], 1)]
    known = math.prod(d for d in dims if d is not None)
    if dims.count(None) == 1 and known and source.numel % known == 0:
        dims[dims.index(None)] = source.numel // known
    if None in dims or math.prod(dims) != source.numel or len(dims) < 2:  # type: ignore[arg-type]
        shown = "x".join("[]" if d is None else str(d) for d in dims)
        raise BuiltinError(f"cannot reshape {source.numel} elements into {shown}", 1)
    while len(dims) > 2 and dims[-1] == 1:
        dims.pop()
    if len(dims) == 2:
        return Matrix(dims[0], dims[1], list(source.data), source.logical)  # type: ignore[arg-type]
    return Opaque("reshape", None, size=tuple(dims), values=list(source.data))  # type: ignore[arg-type]


BUILTINS["zeros"] = _filled(0.0)
BUILTINS["ones"] = _filled(1.0)


@builtin("true")
def _true(args: list[Arg], nargout: int) -> Value:
    return Matrix.scalar(1.0, logical=True)


@builtin("false")
def _false(args: list[Arg], nargout: int) -> Value:
    return Matrix.scalar(0.0, logical=True)


for _name, _constant in {"pi": math.pi, "Inf": math.inf, "inf": math.inf, "NaN": math.nan,
                         "nan": math.nan, "eps": 2.220446049250313e-16}.items():
    BUILTINS[_name] = (lambda c: lambda args, nargout: Matrix.scalar(c))(_constant)
# an `spmd` body runs once, on the client, as MATLAB runs it without a parallel pool
for _name in ("labindex", "numlabs", "spmdIndex", "spmdSize"):
    BUILTINS[_name] = lambda args, nargout: Matrix.scalar(1.0)


@builtin("logical")
def _logical(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    m = _numbers(args[0], 0)
    return Matrix(m.rows, m.cols, [float(bool(x)) for x in m.data], logical=True)


@builtin("double", "single")
def _double(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    value = args[0].value
    if isinstance(value, (Char, Str)):
        return Matrix.row([float(ord(c)) for c in value.text])
    m = _numbers(args[0], 0)
    return Matrix(m.rows, m.cols, list(m.data))


def _integer(low: float, high: float) -> Builtin:
    """MATLAB's integer conversions round half away from zero and saturate."""
    def apply(args: list[Arg], nargout: int) -> Value:
        _arity(args, 1, 1)
        m = _numbers(args[0], 0)
        return Matrix(m.rows, m.cols, [0.0 if math.isnan(x) else min(max(_round_half_away(x), low), high)
                                       for x in m.data])
    return apply


for _name, _bits in {"int8": 8, "int16": 16, "int32": 32, "int64": 64}.items():
    BUILTINS[_name] = _integer(-(2.0 ** (_bits - 1)), 2.0 ** (_bits - 1) - 1)
for _name, _bits in {"uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}.items():
    BUILTINS[_name] = _integer(0.0, 2.0 ** _bits - 1)


# -- strings ---------------------------------------------------------------------------

@builtin("num2str", "int2str")
def _num2str(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 2)
    value = args[0].value
    if isinstance(value, (Char, Str)):
        return Char(value.text)
    m = _numbers(args[0], 0)
    if len(args) == 2:
        if isinstance(args[1].value, (Char, Str)):
            return Char(_sprintf(args[1].value.text, m.data))
        digits = as_int(args[1], 1)
        if not 0 < digits <= MAX_PRECISION:
            raise BuiltinError(f"the number of significant digits must be 1 to {MAX_PRECISION}, not {digits}", 1)
        return Char("  ".join(f"{x:.{digits}g}" if math.isfinite(x) else format_number(x) for x in m.data))
    return Char("  ".join(format_number(x) for x in m.data))


@builtin("string")
def _string(args: list[Arg], nargout: int) -> Value:
    """MATLAB's string: text or a number as a string; a cell array of text as a string array (netspec
    holds a string array as a cell array of strings, as `["a" "b"]` makes)."""
    _arity(args, 1, 1)
    value = args[0].value
    if isinstance(value, (Char, Str)):
        return Str(value.text)
    if isinstance(value, Cell):
        _known_cells(args)
        texts = _texts(value)
        if texts is None:
            raise BuiltinError("string converts a cell array of text only", 0)
        return Cell(value.rows, value.cols, [Str(text) for text in texts])
    if isinstance(value, Matrix) and not value.is_scalar():
        return Cell(value.rows, value.cols, [Str(format_number(x)) for x in value.data])
    return Str(format_number(as_number(args[0], 0)))


@builtin("char")
def _char(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    value = args[0].value
    if isinstance(value, (Char, Str)):
        return Char(value.text)
    m = _numbers(args[0], 0)
    return Char("".join(_character(x, 0) for x in m.data))


def is_character_code(x: float) -> bool:
    """A Unicode code point text can hold: lone surrogates (U+D800-DFFF) cannot be written out."""
    return math.isfinite(x) and 0 <= x < 0x110000 and not 0xD800 <= x < 0xE000


def _character(x: float, index: int) -> str:
    if not is_character_code(x):
        raise BuiltinError(f"{format_number(x)} is not a character code", index)
    return chr(int(x))


@builtin("str2double", "str2num")
def _str2double(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    text = as_text(args[0], 0)
    try:
        return Matrix.scalar(float(text.strip()))
    except ValueError:
        return Matrix.scalar(math.nan)


@builtin("strcat")
def _strcat(args: list[Arg], nargout: int) -> Value:
    """MATLAB's strcat: drops trailing blanks of char arguments, and works per cell."""
    cells = [arg.value for arg in args if isinstance(arg.value, Cell)]
    if cells:
        count = cells[0].numel
        if any(c.numel != count for c in cells):
            raise BuiltinError("strcat: cell arrays must have the same number of elements")
        items = []
        for k in range(count):
            parts = [Arg(a.value.items[k], a.where) if isinstance(a.value, Cell) else a for a in args]
            items.append(_strcat(parts, 1))
        return Cell(cells[0].rows, cells[0].cols, items)
    parts, any_string = [], False
    for i, arg in enumerate(args):
        value = arg.value
        if isinstance(value, Str):
            any_string = True
            parts.append(value.text)
        elif isinstance(value, Char):
            parts.append(value.text.rstrip(" \t\n"))
        else:
            raise BuiltinError(f"expected text, got a {type_name(value)}", i)
    text = "".join(parts)
    return Str(text) if any_string else Char(text)


@builtin("append")
def _append(args: list[Arg], nargout: int) -> Value:
    """MATLAB's append: joins texts as they are (no blanks dropped, unlike strcat); a string makes
    the result a string, a cell array of char vectors makes it one, element by element."""
    cells = [arg.value for arg in args if isinstance(arg.value, Cell)]
    if cells:
        count = max(c.numel for c in cells)
        shaped = next(c for c in cells if c.numel == count)
        if any(c.numel not in (1, count) for c in cells):
            raise BuiltinError("append: the arrays must have the same number of elements")
        items = [_append([Arg(a.value.items[k if a.value.numel > 1 else 0], a.where) if isinstance(a.value, Cell)
                          else a for a in args], 1) for k in range(count)]
        return Cell(shaped.rows, shaped.cols, items)
    for i, arg in enumerate(args):
        if not isinstance(arg.value, (Char, Str)):
            raise BuiltinError(f"append: expected text, got a {type_name(arg.value)}", i)
    text = "".join(arg.value.text for arg in args)  # type: ignore[union-attr]
    if len(text) > MAX_ELEMENTS:
        raise BuiltinError(f"the text would have {len(text):,} characters, more than netspec allows", code="E502")
    return Str(text) if any(isinstance(arg.value, Str) for arg in args) else Char(text)


def _known_cells(args: list[Arg]) -> None:
    """A cell array argument holding an unknown value (`{files.name}` of unknown files) makes the
    result unknown (the interpreter does the same for unknown arguments themselves)."""
    for arg in args:
        if isinstance(arg.value, Cell) and any(isinstance(item, Opaque) for item in arg.value.items):
            raise Unmodelled("a cell array it was given holds values netspec cannot compute")


def _texts(value: Value) -> list[str] | None:
    """The texts of a char row, a string or a cell array of them (MATLAB's cellstr); None otherwise."""
    if isinstance(value, (Char, Str)):
        return [value.text]
    if isinstance(value, Cell) and all(isinstance(item, (Char, Str)) for item in value.items):
        return [item.text for item in value.items]
    return None


def _per_text(fn: Callable[[str], str]) -> Builtin:
    """A text function that also works on each text of a cell array (`upper`, `lower`)."""
    def apply(args: list[Arg], nargout: int) -> Value:
        _arity(args, 1, 1)
        _known_cells(args)
        value = args[0].value
        if isinstance(value, Cell) and _texts(value) is not None:
            return Cell(value.rows, value.cols, [type(item)(fn(item.text)) for item in value.items])
        return type(value)(fn(as_text(args[0], 0)))  # type: ignore[call-arg]
    return apply


BUILTINS["upper"] = _per_text(str.upper)
BUILTINS["lower"] = _per_text(str.lower)


def _logical_like(value: Value, results: list[bool]) -> Matrix:
    """One logical per text of `value`: a scalar for text, the cell array's shape for a cell array."""
    rows, cols = value.shape() if isinstance(value, Cell) else (1, 1)
    return Matrix(rows, cols, [float(r) for r in results], logical=True)


def _compare_texts(args: list[Arg], same: Callable[[str, str], bool]) -> Value:
    """strcmp's rules: text against text is one logical; a cell array against text compares each of its
    texts; two cell arrays of one size compare element by element; anything that is not text is unequal."""
    _arity(args, 2, 2)
    a, b = args[0].value, args[1].value
    if isinstance(a, Cell) and isinstance(b, Cell):
        if a.shape() != b.shape() and a.numel != 1 and b.numel != 1:
            raise BuiltinError(f"the cell arrays must have the same size, not {a.rows}x{a.cols} and "
                               f"{b.rows}x{b.cols}", 1)
    cell = a if isinstance(a, Cell) and a.numel != 1 or not isinstance(b, Cell) else b
    other = b if cell is a else a
    items = cell.items if isinstance(cell, Cell) else [cell]
    others = other.items if isinstance(other, Cell) and other.numel == len(items) else [other] * len(items)
    return _logical_like(cell, [isinstance(x, (Char, Str)) and isinstance(y, (Char, Str)) and same(x.text, y.text)
                                for x, y in zip(items, others)])


@builtin("strcmp")
def _strcmp(args: list[Arg], nargout: int) -> Value:
    return _compare_texts(args, lambda x, y: x == y)


@builtin("strcmpi")
def _strcmpi(args: list[Arg], nargout: int) -> Value:
    return _compare_texts(args, lambda x, y: x.lower() == y.lower())


@builtin("isequal")
def _isequal(args: list[Arg], nargout: int) -> Value:
    _arity(args, 2, 2)
    a, b = args[0].value, args[1].value
    if isinstance(a, (Char, Str)) and isinstance(b, (Char, Str)):
        return Matrix.scalar(float(a.text == b.text), logical=True)
    return Matrix.scalar(float(a == b), logical=True)


def _text_test(test: Callable[[str, str], bool]) -> Builtin:
    """contains, startsWith, endsWith: whether each text of the first argument has one of the patterns
    (text or a cell array of texts); 'IgnoreCase', true compares without case."""
    def apply(args: list[Arg], nargout: int) -> Value:
        if len(args) not in (2, 4):
            raise BuiltinError(f"takes a text, a pattern and optionally 'IgnoreCase', true; got {len(args)} arguments")
        _known_cells(args)
        texts, patterns = _texts(args[0].value), _texts(args[1].value)
        if texts is None:
            raise BuiltinError(f"expected text or a cell array of text, got a {type_name(args[0].value)}", 0)
        if patterns is None:
            raise BuiltinError(f"expected a pattern (text or a cell array of text), got a "
                               f"{type_name(args[1].value)}", 1)
        if len(args) == 4:
            if as_text(args[2], 2, "'IgnoreCase'").lower() != "ignorecase":
                raise BuiltinError(f"unknown option '{as_text(args[2], 2)}': the only option is 'IgnoreCase'", 2)
            if _truth(args[3], 3):
                texts, patterns = [t.lower() for t in texts], [p.lower() for p in patterns]
        return _logical_like(args[0].value, [any(test(t, p) for p in patterns) for t in texts])
    return apply


def _truth(arg: Arg, index: int) -> bool:
    return bool(as_number(arg, index))


BUILTINS["contains"] = _text_test(lambda text, pattern: pattern in text)
BUILTINS["startsWith"] = _text_test(str.startswith)
BUILTINS["endsWith"] = _text_test(str.endswith)


def _codes(value: Matrix | Char) -> list[float]:
    return [float(ord(c)) for c in value.text] if isinstance(value, Char) else value.data


@builtin("ismember")
def _ismember(args: list[Arg], nargout: int) -> Value | list[Value]:
    """MATLAB's ismember(A, S): for each element of A (each text, when A is text and S a cell array of
    text), whether S holds it, and (second output) the lowest index in S that holds it, 0 if none."""
    _arity(args, 2, 2)
    _known_cells(args)
    a, s = args[0].value, args[1].value
    if isinstance(a, (Matrix, Char)) and isinstance(s, (Matrix, Char)):  # characters compare by their codes
        wanted, pool, (rows, cols) = _codes(a), _codes(s), a.shape()
    elif _texts(a) is not None and _texts(s) is not None:  # a text is one element, a cell array's texts each one
        wanted, pool, (rows, cols) = _texts(a), _texts(s), a.shape() if isinstance(a, Cell) else (1, 1)
    else:
        bad = 1 if isinstance(a, (Matrix, Char)) or _texts(a) is not None else 0
        raise BuiltinError(f"compares numbers or text, not a {type_name(args[bad].value)}", bad)
    first: dict = {}
    for index, x in enumerate(pool):
        first.setdefault(x, index + 1)
    found = Matrix(rows, cols, [float(x in first) for x in wanted], logical=True)
    if nargout > 1:
        return [found, Matrix(rows, cols, [float(first.get(x, 0)) for x in wanted])]
    return found


_REGEXP_OUTPUTS = frozenset({"start", "end", "match"})
_NESTED_QUANTIFIER = re.compile(r"\)[*+?{]|\\\d")
"""A quantified group or a back-reference: patterns whose matching can take exponential time."""
_UNBOUNDED = re.compile(r"(?<!\\)(?:[*+]|\{\d*,\})")
MAX_REGEXP_TEXT = 256
MAX_UNBOUNDED = 1
"""regexp is modelled on short texts (names) with one unbounded repeat at most: about 256^2 steps."""


def _slow_pattern(pattern: str, text: str) -> bool:
    return bool(_NESTED_QUANTIFIER.search(pattern)) or len(_UNBOUNDED.findall(pattern)) > MAX_UNBOUNDED \
        or len(text) > MAX_REGEXP_TEXT


def _regexp(ignore_case: bool) -> Builtin:
    """MATLAB's regexp (regexpi: without case) for one text: regexp(str, expression, options...)
    gives the start indices, or 'start', 'end', 'match' in the order asked; all matches or the first
    ('once'). Patterns that could take exponential time, and the outputs netspec does not model
    ('tokens', 'names', 'split'), leave the result unknown."""
    def apply(args: list[Arg], nargout: int) -> Value | list[Value]:
        if len(args) < 2:
            raise BuiltinError(f"takes a text, an expression and options; got {len(args)} arguments")
        text, pattern = as_text(args[0], 0), as_text(args[1], 1, "an expression")
        options = [as_text(arg, i + 2, "an option").lower() for i, arg in enumerate(args[2:])]
        unknown = [o for o in options if o not in _REGEXP_OUTPUTS | {"once", "ignorecase", "matchcase"}]
        if unknown or _slow_pattern(pattern, text):
            raise Unmodelled("regexp with this expression or option is not modelled")
        caseless = "ignorecase" in options or (ignore_case and "matchcase" not in options)
        try:
            compiled = re.compile(re.sub(r"\(\?<(?![=!])", "(?P<", pattern), re.IGNORECASE if caseless else 0)
        except re.error as exc:
            raise BuiltinError(f"invalid expression: {exc}", 1) from None
        once = "once" in options
        matches = [m for m in ([compiled.search(text)] if once else compiled.finditer(text)) if m is not None]
        outputs = [o for o in options if o in _REGEXP_OUTPUTS] or ["start"]
        results = [_regexp_output(kind, matches, once) for kind in outputs]
        return results if nargout > 1 else results[0]
    return apply


def _regexp_output(kind: str, matches: list[re.Match], once: bool) -> Value:
    """One of regexp's outputs: 1-based start or end indices, or the matched texts."""
    if kind == "match":
        if once:
            return Char(matches[0].group(0)) if matches else Char("")
        return Cell.row([Char(m.group(0)) for m in matches])
    positions = [float(m.start() + 1 if kind == "start" else m.end()) for m in matches]
    return Matrix.row(positions) if positions or not once else Matrix.empty()


BUILTINS["regexp"] = _regexp(ignore_case=False)
BUILTINS["regexpi"] = _regexp(ignore_case=True)


@builtin("strrep")
def _strrep(args: list[Arg], nargout: int) -> Value:
    _arity(args, 3, 3)
    text = as_text(args[0], 0).replace(as_text(args[1], 1), as_text(args[2], 2))
    return Str(text) if isinstance(args[0].value, Str) else Char(text)


@builtin("isnumeric")
def _isnumeric(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    return Matrix.scalar(float(isinstance(args[0].value, Matrix) and not args[0].value.logical), logical=True)


def _is(*kinds: type, test: Callable[[Value], bool] = lambda value: True) -> Builtin:
    """MATLAB's class tests (`ischar`, `iscell`...): true for a value of one of `kinds` that passes `test`."""
    def apply(args: list[Arg], nargout: int) -> Value:
        _arity(args, 1, 1)
        value = args[0].value
        return Matrix.scalar(float(isinstance(value, kinds) and test(value)), logical=True)
    return apply


BUILTINS["ischar"] = _is(Char)
BUILTINS["isstring"] = _is(Str)
BUILTINS["iscell"] = _is(Cell)
BUILTINS["isstruct"] = _is(Struct)
BUILTINS["islogical"] = _is(Matrix, test=lambda value: value.logical)


@builtin("error")
def _error(args: list[Arg], nargout: int) -> Value:
    """MATLAB stops the run where error(...) is reached (a `try` catches it): error(msg),
    error(msg, A...) and error(identifier, msg, A...); the message is shown as written."""
    _arity(args, 1, None)
    if not isinstance(args[0].value, (Char, Str)):
        raise BuiltinError("MATLAB stops here too", code="E149", hint=_ERROR_HINT)
    identifier = re.fullmatch(r"[A-Za-z]\w*(:[A-Za-z]\w*)+", as_text(args[0], 0)) is not None
    start = 1 if identifier and len(args) > 1 and isinstance(args[1].value, (Char, Str)) else 0
    message = as_text(args[start], start)
    if len(args) > start + 1:
        try:
            message = as_text(Arg(BUILTINS["sprintf"](args[start:], 1), None), 0)
        except BuiltinError:
            pass  # the message as written, its format unfilled
    raise BuiltinError(f"'{message}' (MATLAB stops here too)", code="E149", hint=_ERROR_HINT)


_ERROR_HINT = "check what leads here: values given with --set or --args, or a condition on data"


@builtin("isfield")
def _isfield(args: list[Arg], nargout: int) -> Value:
    _arity(args, 2, 2)
    value, names = args[0].value, args[1].value
    fields = value.fields if isinstance(value, Struct) else {}
    if isinstance(names, Cell):  # isfield(s, {'a', 'b'}): one logical per name (false for what is no text)
        return _logical_like(names, [isinstance(n, (Char, Str)) and n.text in fields for n in names.items])
    return Matrix.scalar(float(as_text(args[1], 1) in fields), logical=True)


@builtin("cell")
def _cell(args: list[Arg], nargout: int) -> Value:
    """MATLAB's cell(n), cell(m, n, ...) or cell([m n ...]): empty arrays; `cell(1:6)` is a size vector,
    1x2x3x4x5x6, more dimensions than netspec's arrays have (an unknown value)."""
    dims = _size_arguments(args) if args else [0, 0]
    if math.prod(dims) > MAX_ELEMENTS:
        raise BuiltinError(f"a cell array of {'x'.join(map(str, dims))} elements is larger than netspec allows "
                           f"({MAX_ELEMENTS:,})", code="E502")
    if len(dims) > 2:
        raise Unmodelled(f"netspec's arrays have two dimensions, not {len(dims)}")
    rows, cols = dims
    return Cell(rows, cols, [Matrix.empty() for _ in range(rows * cols)])


@builtin("struct")
def _struct(args: list[Arg], nargout: int) -> Value:
    if len(args) % 2:
        raise BuiltinError("struct takes name-value pairs")
    return Struct({as_text(args[i], i): args[i + 1].value for i in range(0, len(args), 2)})


@builtin("sprintf")
def _sprintf_builtin(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, None)
    fmt = as_text(args[0], 0, "a format")
    values: list[object] = []
    for i, arg in enumerate(args[1:], start=1):
        value = arg.value
        if isinstance(value, Matrix):
            values.extend(value.data)
        elif isinstance(value, (Char, Str)):
            values.append(value.text)
        elif isinstance(value, Opaque):
            return value
        else:
            raise BuiltinError(f"sprintf cannot format a {type_name(value)}", i)
    text = _sprintf(fmt, values)
    return Str(text) if isinstance(args[0].value, Str) else Char(text)


# [0-9], not \d: \d also matches other scripts' digits, which Python's % formatting refuses
_FORMAT = re.compile(r"%(?P<flags>[-+ 0#]*)(?P<width>[0-9]+|\*)?(?:\.(?P<precision>[0-9]+))?(?P<conv>[diuoxXfeEgGcs%])")
MAX_PRECISION = 1000
"""The largest field width, precision or number of significant digits a conversion may ask for."""
_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\\\": "\\", "\\r": "\r", "\\a": "\a", "%%": "%"}


@lru_cache(maxsize=256)
def _compile_format(fmt: str) -> tuple[str, tuple[re.Match, ...]]:
    fmt = re.sub(r"\\[ntr\\a]", lambda m: _ESCAPES[m.group(0)], fmt)
    return fmt, tuple(_FORMAT.finditer(fmt))


def _sprintf(fmt: str, values: list[object]) -> str:
    """MATLAB's sprintf: the format is reused until every value has been printed."""
    fmt, matches = _compile_format(fmt)
    if all(m.group("conv") == "%" for m in matches):
        return fmt.replace("%%", "%")
    out: list[str] = []
    position = 0
    while True:
        pieces, last = [], 0
        for m in matches:
            pieces.append(fmt[last:m.start()])
            last = m.end()
            conv = m.group("conv")
            if conv == "%":
                pieces.append("%")
                continue
            if position >= len(values):
                if position == 0:
                    pieces.append("")
                    continue
                out.append("".join(pieces))
                return "".join(out)
            value = values[position]
            position += 1
            pieces.append(_format_one(m, value))
        pieces.append(fmt[last:])
        out.append("".join(pieces))
        if position >= len(values) or len(out) > 10_000:
            return "".join(out)


def _format_one(m: re.Match, value: object) -> str:
    """One conversion, as MATLAB prints it; `*` widths are ignored (netspec takes no width argument)."""
    flags, precision, conv = m.group("flags"), m.group("precision"), m.group("conv")
    width = m.group("width") if m.group("width") not in (None, "*") else ""
    if (width and int(width) > MAX_PRECISION) or (precision is not None and int(precision) > MAX_PRECISION):
        raise BuiltinError(f"field widths and precisions are limited to {MAX_PRECISION}", code="E502")
    spec = "%" + flags + width + (f".{precision}" if precision is not None else "")
    if conv == "s":
        text = value if isinstance(value, str) else format_number(float(value))  # type: ignore[arg-type]
        return (spec + "s") % text
    if isinstance(value, str):
        return value
    x = float(value)  # type: ignore[arg-type]
    if conv == "c":
        return _character(x, 1)
    if not math.isfinite(x):  # MATLAB writes NaN, Inf and -Inf whatever the conversion
        return ("%" + flags + width + "s") % format_number(x)
    if conv in "diuoxX":
        if not x.is_integer():  # MATLAB switches a whole-number conversion of a fraction to %e
            return ("%" + flags + width + "e") % x
        return (spec + ("d" if conv in "iu" else conv)) % int(x)
    return (spec + conv) % x


# -- file names ----------------------------------------------------------------------------

def _like(arg: Arg, text: str) -> Value:
    """Text of the kind `arg` is: a string for a string, else a char row."""
    return Str(text) if isinstance(arg.value, Str) else Char(text)


@builtin("fileparts")
def _fileparts(args: list[Arg], nargout: int) -> list[Value]:
    """MATLAB's fileparts: [folder, name, extension]; the extension starts at the name's last '.', and
    '/' or '\\' separate folders (files written on Windows use the latter)."""
    _arity(args, 1, 1)
    text = as_text(args[0], 0, "a file name")
    cut = max(text.rfind("/"), text.rfind("\\"))
    folder, name = (text[:cut] or text[:1], text[cut + 1:]) if cut >= 0 else ("", text)
    dot = name.rfind(".")
    name, extension = (name[:dot], name[dot:]) if dot >= 0 else (name, "")
    return [_like(args[0], part) for part in (folder, name, extension)][:max(nargout, 1)]


@builtin("fullfile")
def _fullfile(args: list[Arg], nargout: int) -> Value:
    """MATLAB's fullfile: the parts joined by '/', empty parts left out and doubled separators made one;
    a cell array of names gives a cell array of paths."""
    _known_cells(args)
    cells = [arg.value for arg in args if isinstance(arg.value, Cell)]
    if cells:
        shape = cells[0]
        items = [_fullfile([Arg(a.value.items[k], a.where) if isinstance(a.value, Cell) else a for a in args], 1)
                 for k in range(shape.numel)]
        return Cell(shape.rows, shape.cols, items)
    parts = [as_text(arg, i, "a folder or file name") for i, arg in enumerate(args)]
    joined = re.sub(r"/{2,}", "/", "/".join(part for part in parts if part))
    return Str(joined) if any(isinstance(arg.value, Str) for arg in args) else Char(joined)


# -- cells and lists -------------------------------------------------------------------

def expand(values: list[Value]) -> list[Value]:
    """Flatten comma-separated lists (`layers.Name`) into separate values."""
    out: list[Value] = []
    for value in values:
        if isinstance(value, CSList):
            out.extend(value.items)
        else:
            out.append(value)
    return out


_NETWORK_CLASSES = {"layerGraph": "nnet.cnn.LayerGraph", "dlnetwork": "dlnetwork",
                    "SeriesNetwork": "SeriesNetwork", "DAGNetwork": "DAGNetwork"}
_SOLVER_CLASSES = {"sgdm": "SGDM", "adam": "ADAM", "rmsprop": "RMSProp"}
_CLASS_NAMES = {Char: "char", Str: "string", Cell: "cell", Struct: "struct", FunctionHandle: "function_handle"}
_SUPERCLASSES = {"double": ("numeric", "float"), "logical": (), "char": (), "string": (), "cell": (), "struct": (),
                 "function_handle": ()}
"""The groups `isa` tests besides the class itself: MATLAB's 'numeric', 'float' and 'integer'
(netspec's numbers are all doubles: none is an integer class)."""


def matlab_class(value: Value) -> str:
    """What MATLAB's class(value) says: a layer array of one kind of layer is that layer's class, a
    mixed one `nnet.cnn.layer.Layer`; a network by the function that made it."""
    if isinstance(value, Matrix):
        return "logical" if value.logical else "double"
    if isinstance(value, LayerArray):
        kinds = {layer.matlab_class for layer in value.layers}
        return kinds.pop() if len(kinds) == 1 else "nnet.cnn.layer.Layer"
    if isinstance(value, Graph):
        return _NETWORK_CLASSES.get(value.kind, "nnet.cnn.LayerGraph")
    if isinstance(value, OptionsValue):
        return f"nnet.cnn.TrainingOptions{_SOLVER_CLASSES[value.options.solver]}"
    return _CLASS_NAMES.get(type(value), type_name(value))


@builtin("class")
def _class(args: list[Arg], nargout: int) -> Value:
    _arity(args, 1, 1)
    return Char(matlab_class(args[0].value))


@builtin("isa")
def _isa(args: list[Arg], nargout: int) -> Value:
    """MATLAB's isa(x, className): x's class, or a class or group it belongs to (every layer is an
    `nnet.cnn.layer.Layer`, every training options object an `nnet.cnn.TrainingOptions`)."""
    _arity(args, 2, 2)
    name = as_text(args[1], 1, "a class name")
    own = matlab_class(args[0].value)
    groups = _SUPERCLASSES.get(own, ())
    if own.startswith("nnet.cnn.layer.") or isinstance(args[0].value, LayerArray):
        groups = ("nnet.cnn.layer.Layer",)
    elif own.startswith("nnet.cnn.TrainingOptions"):
        groups = ("nnet.cnn.TrainingOptions",)
    return Matrix.scalar(float(name == own or name in groups), logical=True)
