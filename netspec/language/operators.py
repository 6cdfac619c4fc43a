"""MATLAB operators: precedence of a flat operator chain, and their meaning on values."""

from __future__ import annotations

import math
import operator
from typing import Callable

from .values import MAX_ELEMENTS, Cell, Char, Matrix, Str, Value, format_number, type_name

__all__ = ["PRECEDENCE", "order_chain", "binary", "unary", "OperatorError", "OperatorLimit", "truth"]

# Binary operators by MATLAB precedence (higher binds tighter). Unary +, -, ~ sit
# between `^` (12) and `*` (10): -2^2 is -4, 2^-1 is 0.5.
PRECEDENCE: dict[str, int] = {
    "||": 1, "&&": 2, "|": 3, "&": 4,
    "==": 5, "~=": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5,
    ":": 6, "+": 8, "-": 8,
    "*": 10, "/": 10, ".*": 10, "./": 10, "\\": 10, ".\\": 10,
    "^": 12, ".^": 12,
}
UNARY_PRECEDENCE = 11


class OperatorError(Exception):
    """An operator applied to values it does not accept; the interpreter adds the location."""


class OperatorLimit(OperatorError):
    """An operation whose work or result is beyond netspec's bounds, not a wrong operand.

    `code` is the limit's diagnostic code: E501 (work) or E502 (array size).
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def order_chain(operands: list, ops: list[str], make_binary: Callable, make_unary: Callable,
                unary_parts: Callable) -> object:
    """Precedence climbing over `operands[0] ops[0] operands[1] ...` (all left-associative).

    `unary_parts(operand)` returns (prefix operators, base) so a unary minus applies
    after any `^` that follows its operand, as MATLAB's grammar says.
    """
    return _Chain(operands, ops, make_binary, make_unary, unary_parts).parse(0)


class _Chain:
    """`order_chain`'s state. A class rather than two nested functions calling each other:
    such functions are a reference cycle, left for the cyclic collector, on every evaluation."""

    __slots__ = ("operands", "ops", "make_binary", "make_unary", "unary_parts", "position")

    def __init__(self, operands: list, ops: list[str], make_binary: Callable, make_unary: Callable,
                 unary_parts: Callable) -> None:
        self.operands, self.ops = operands, ops
        self.make_binary, self.make_unary, self.unary_parts = make_binary, make_unary, unary_parts
        self.position = 0

    def parse(self, min_precedence: int):
        ops = self.ops
        left = self.primary()
        while self.position < len(ops) and PRECEDENCE[ops[self.position]] >= min_precedence:
            op = ops[self.position]
            self.position += 1
            right = self.parse(PRECEDENCE[op] + 1)
            left = self.make_binary(op, left, right)
        return left

    def primary(self):
        ops = self.ops
        prefixes, base = self.unary_parts(self.operands[self.position])
        if not prefixes:
            return base
        # the unary operators bind looser than a following `^`
        value = base
        while self.position < len(ops) and PRECEDENCE[ops[self.position]] > UNARY_PRECEDENCE:
            op = ops[self.position]
            self.position += 1
            right = self.parse(PRECEDENCE[op] + 1)
            value = self.make_binary(op, value, right)
        for prefix in reversed(prefixes):
            value = self.make_unary(prefix, value)
        return value


# -- arithmetic on values ----------------------------------------------------------

def _numeric(value: Value, op: str) -> Matrix:
    if isinstance(value, Matrix):
        return value
    if isinstance(value, Char):
        return Matrix(1 if value.text else 0, len(value.text), [float(ord(c)) for c in value.text])
    raise OperatorError(f"operator `{op}` is not defined for a {type_name(value)}")


def _broadcast(a: Matrix, b: Matrix, op: str, fn: Callable[[float, float], float],
               logical: bool = False) -> Matrix:
    if a.is_scalar():
        x = a.data[0]
        return Matrix(b.rows, b.cols, [fn(x, y) for y in b.data], logical)
    if b.is_scalar():
        y = b.data[0]
        return Matrix(a.rows, a.cols, [fn(x, y) for x in a.data], logical)
    if a.rows != b.rows or a.cols != b.cols:
        return _expand(a, b, op, fn, logical)
    return Matrix(a.rows, a.cols, [fn(x, y) for x, y in zip(a.data, b.data)], logical)


def _expand(a: Matrix, b: Matrix, op: str, fn: Callable[[float, float], float], logical: bool) -> Matrix:
    """MATLAB's implicit expansion: a dimension of size 1 stretches to the other operand's.

    `[1 2 3] + [10; 20]` is 2x3. Sizes are compatible when each dimension is equal or 1.
    """
    def extent(m: int, n: int) -> int | None:
        return m if m == n or n == 1 else n if m == 1 else None

    rows, cols = extent(a.rows, b.rows), extent(a.cols, b.cols)
    if rows is None or cols is None:
        raise OperatorError(f"sizes do not agree for `{op}`: {a.rows}x{a.cols} and {b.rows}x{b.cols}")
    if rows * cols > MAX_ELEMENTS:
        raise OperatorLimit(f"`{op}` of {a.rows}x{a.cols} and {b.rows}x{b.cols} would give {rows}x{cols} "
                            f"elements, more than netspec allows ({MAX_ELEMENTS:,})", "E502")
    # column-major: element (r, c) of an operand is data[c * rows + r], pinned to 0 along a size-1 axis
    a_data, b_data = a.data, b.data
    a_rows, b_rows = a.rows, b.rows
    a_col, b_col = a.cols > 1, b.cols > 1
    a_row, b_row = a.rows > 1, b.rows > 1
    data = [fn(a_data[(c * a_rows if a_col else 0) + (r if a_row else 0)],
               b_data[(c * b_rows if b_col else 0) + (r if b_row else 0)])
            for c in range(cols) for r in range(rows)]
    return Matrix(rows, cols, data, logical)


def _div(x: float, y: float) -> float:
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1, y)
    return x / y


def _pow(x: float, y: float) -> float:
    try:
        result = x ** y
    except OverflowError:
        return math.inf
    except ZeroDivisionError:
        return math.inf
    if isinstance(result, complex):
        raise OperatorError("negative number to a fractional power gives a complex number")
    return float(result)


def _mtimes(a: Matrix, b: Matrix) -> Matrix:
    if a.is_scalar() or b.is_scalar():
        return _broadcast(a, b, "*", operator.mul)
    if a.cols != b.rows:
        raise OperatorError(f"inner dimensions must agree for `*`: {a.rows}x{a.cols} and {b.rows}x{b.cols}")
    if a.rows * b.cols > MAX_ELEMENTS:
        raise OperatorLimit(f"the product {a.rows}x{a.cols} * {b.rows}x{b.cols} would have {a.rows * b.cols:,} "
                            f"elements, more than netspec allows ({MAX_ELEMENTS:,})", "E502")
    if a.rows * a.cols * b.cols > 20 * MAX_ELEMENTS:
        raise OperatorLimit(f"the product {a.rows}x{a.cols} * {b.rows}x{b.cols} is more work than netspec allows",
                            "E501")
    # column-major: row r of `a` is data[r::rows], column c of `b` a contiguous slice
    a_rows = [a.data[r::a.rows] for r in range(a.rows)]
    data: list[float] = []
    for c in range(b.cols):
        column = b.data[c * b.rows:(c + 1) * b.rows]
        data.extend(sum(map(operator.mul, row, column)) for row in a_rows)
    return Matrix(a.rows, b.cols, data)


ELEMENTWISE: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, ".*": operator.mul, "./": _div, ".^": _pow,
    ".\\": lambda x, y: _div(y, x),
}
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "~=": operator.ne, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}


def _text(value: Value) -> str:
    if isinstance(value, (Str, Char)):
        return value.text
    if isinstance(value, Matrix) and value.is_scalar():
        return format_number(value.data[0])
    raise OperatorError(f"cannot join a {type_name(value)} to a string")


def is_string_array(value: Value) -> bool:
    """A string array as netspec holds one: a non-empty cell array of strings (`["a" "b"]`, `string(c)`)."""
    return isinstance(value, Cell) and value.numel > 0 and all(isinstance(item, Str) for item in value.items)


def _string_grid(value: Value) -> Matrix:
    """A string operand laid out as an array of texts, so that `_broadcast` expands it as MATLAB
    expands a string array (a char row or a number is one text)."""
    if isinstance(value, Cell):
        return Matrix(value.rows, value.cols, [item.text for item in value.items])  # type: ignore[misc]
    if isinstance(value, Matrix) and not value.is_scalar():  # MATLAB's string(x): one text per number
        texts = [("true" if x else "false") if value.logical else format_number(x) for x in value.data]
        return Matrix(value.rows, value.cols, texts)  # type: ignore[arg-type]
    return Matrix.scalar(_text(value))  # type: ignore[arg-type]


def _string_with_array(left: Value, right: Value) -> bool:
    """A string (or string array) with an array of numbers: MATLAB converts each number to text,
    so `"Observation " + (1:5)` is a 1x5 string array."""
    texts = [v for v in (left, right) if isinstance(v, Str) or is_string_array(v)]
    numbers = [v for v in (left, right) if isinstance(v, Matrix) and not v.is_scalar()]
    return bool(texts) and bool(numbers)


_STRING_ARRAY_CHARACTERS = 16 * MAX_ELEMENTS
"""The most characters a string array built by `+` may hold in all (its texts are copies)."""


def _string_array_operation(op: str, left: Value, right: Value) -> Value:
    """`==`, `~=` and `+` with a string array: element by element, a 1x1 operand against every element."""
    a, b = _string_grid(left), _string_grid(right)
    if op == "+":
        longest = max(map(len, a.data), default=0) + max(map(len, b.data), default=0)  # type: ignore[arg-type]
        if max(a.numel, b.numel) * longest > _STRING_ARRAY_CHARACTERS:
            raise OperatorLimit(f"the string array would hold more than {_STRING_ARRAY_CHARACTERS:,} characters, "
                                "more than netspec allows", "E502")
        joined = _broadcast(a, b, op, lambda x, y: x + y)  # type: ignore[operator]
        return Cell(joined.rows, joined.cols, [Str(text) for text in joined.data])  # type: ignore[arg-type]
    if op in ("==", "~=", "!="):
        return _broadcast(a, b, op, lambda x, y: float((x == y) == (op == "==")), logical=True)
    raise OperatorError(f"operator `{op}` is not defined for strings")


def binary(op: str, left: Value, right: Value) -> Value:
    """`left op right` with MATLAB semantics for numbers, logicals, chars and strings."""
    if is_string_array(left) or is_string_array(right) or _string_with_array(left, right):
        return _string_array_operation(op, left, right)
    if isinstance(left, Str) or isinstance(right, Str):
        if op == "+":
            text = _text(left) + _text(right)
            if len(text) > MAX_ELEMENTS:
                raise OperatorLimit(f"the string would have {len(text):,} characters, more than netspec allows",
                                    "E502")
            return Str(text)
        if op in ("==", "~=", "!="):
            equal = _text(left) == _text(right)
            return Matrix.scalar(float(equal if op == "==" else not equal), logical=True)
        raise OperatorError(f"operator `{op}` is not defined for strings")
    a, b = _numeric(left, op), _numeric(right, op)
    if op in ELEMENTWISE:
        return _broadcast(a, b, op, ELEMENTWISE[op])
    if op in COMPARISONS:
        fn = COMPARISONS[op]
        return _broadcast(a, b, op, lambda x, y: float(fn(x, y)), logical=True)
    if op in ("&", "|"):
        fn2 = (lambda x, y: float(bool(x) and bool(y))) if op == "&" else (lambda x, y: float(bool(x) or bool(y)))
        return _broadcast(a, b, op, fn2, logical=True)
    if op == "*":
        return _mtimes(a, b)
    if op == "/":
        if not b.is_scalar():
            raise OperatorError("`/` by a matrix (mrdivide) is not supported; use `./`")
        return _broadcast(a, b, op, _div)
    if op == "\\":
        if not a.is_scalar():
            raise OperatorError("`\\` with a matrix (mldivide) is not supported; use `.\\`")
        return _broadcast(a, b, op, lambda x, y: _div(y, x))
    if op == "^":
        if not (a.is_scalar() and b.is_scalar()):
            raise OperatorError("`^` of a matrix is not supported; use `.^` for element-wise power")
        return Matrix.scalar(_pow(a.data[0], b.data[0]))
    raise OperatorError(f"unknown operator `{op}`")


def unary(op: str, value: Value) -> Value:
    a = _numeric(value, op)
    if op == "-":
        return Matrix(a.rows, a.cols, [-x for x in a.data])
    if op == "+":
        return Matrix(a.rows, a.cols, list(a.data), a.logical)
    return Matrix(a.rows, a.cols, [float(not x) for x in a.data], logical=True)


def truth(value: Value) -> bool:
    """MATLAB's `if` rule: true when non-empty and every element is non-zero."""
    if isinstance(value, Matrix):
        return value.numel > 0 and all(x != 0 and not math.isnan(x) for x in value.data)
    if isinstance(value, (Char, Str)):
        return bool(value.text) and all(ord(c) != 0 for c in value.text)
    raise OperatorError(f"a {type_name(value)} cannot be used as a condition")
