"""MATLAB's argument validation functions (`mustBePositive`, `mustBeMember`...), as the
`arguments` blocks of function files use them: `n (1,1) double {mustBeInteger, mustBePositive}`.

Each takes the value (and the validator's other arguments) and returns what is wrong, in
MATLAB's words after "must", or None when the value passes. A value netspec does not compute
is never checked (the interpreter does not call them with one).
"""

from __future__ import annotations

import math
from typing import Callable

from .values import Cell, Char, Matrix, Str, Value, format_number, numel, size_of

__all__ = ["VALIDATORS", "CLASS_CHECKS"]

Validator = Callable[..., "str | None"]
VALIDATORS: dict[str, Validator] = {}


def _validator(name: str):
    def register(fn: Validator) -> Validator:
        VALIDATORS[name] = fn
        return fn
    return register


def _numbers(value: Value) -> list[float] | None:
    return value.data if isinstance(value, Matrix) else None


def _every(test: Callable[[float], bool], wanted: str) -> Validator:
    """A validator of numbers each of which must pass `test`."""
    def check(value: Value, *_: Value) -> str | None:
        numbers = _numbers(value)
        if numbers is None:
            return "be numeric"
        return None if all(test(x) for x in numbers) else wanted
    return check


for _name, _test, _wanted in (
    ("mustBePositive", lambda x: x > 0, "be positive"),
    ("mustBeNonnegative", lambda x: x >= 0, "be nonnegative"),
    ("mustBeNegative", lambda x: x < 0, "be negative"),
    ("mustBeNonpositive", lambda x: x <= 0, "be nonpositive"),
    ("mustBeNonzero", lambda x: x != 0, "be nonzero"),
    ("mustBeInteger", lambda x: math.isfinite(x) and float(x).is_integer(), "be integer"),
    ("mustBeFinite", math.isfinite, "be finite"),
    ("mustBeReal", lambda x: True, "be real"),
    ("mustBeNumeric", lambda x: True, "be numeric"),
):
    VALIDATORS[_name] = _every(_test, _wanted)


@_validator("mustBeNumericOrLogical")
def _numeric_or_logical(value: Value, *_: Value) -> str | None:
    return None if isinstance(value, Matrix) else "be numeric or logical"


@_validator("mustBeNonempty")
def _nonempty(value: Value, *_: Value) -> str | None:
    return "be nonempty" if numel(value) == 0 else None


@_validator("mustBeText")
def _text(value: Value, *_: Value) -> str | None:
    if isinstance(value, (Char, Str)) or (isinstance(value, Cell) and all(isinstance(i, Char) for i in value.items)):
        return None
    return "be a character vector, a string array or a cell array of character vectors"


@_validator("mustBeTextScalar")
def _text_scalar(value: Value, *_: Value) -> str | None:
    return None if isinstance(value, (Char, Str)) else "be a character vector or a string scalar"


@_validator("mustBeNonzeroLengthText")
def _nonzero_length_text(value: Value, *_: Value) -> str | None:
    return None if isinstance(value, (Char, Str)) and value.text else "be text with one or more characters"


@_validator("mustBeScalarOrEmpty")
def _scalar_or_empty(value: Value, *_: Value) -> str | None:
    return None if numel(value) <= 1 else "be a scalar or empty"


@_validator("mustBeVector")
def _vector(value: Value, *_: Value) -> str | None:
    rows, cols = size_of(value)
    return None if rows == 1 or cols == 1 else "be a 1-by-n or n-by-1 vector"


@_validator("mustBeMember")
def _member(value: Value, members: Value | None = None, *_: Value) -> str | None:
    if members is None:
        return None
    allowed = _elements(members)
    if all(item in allowed for item in _elements(value)):
        return None
    shown = ", ".join(f"'{a}'" if isinstance(a, str) else format_number(a) for a in allowed[:8])
    return f"be a member of this set: {shown}"


def _elements(value: Value) -> list:
    """The members of a value, as mustBeMember compares them: numbers, or texts."""
    if isinstance(value, Matrix):
        return list(value.data)
    if isinstance(value, (Char, Str)):
        return [value.text]
    if isinstance(value, Cell):
        return [item.text if isinstance(item, (Char, Str)) else item for item in value.items]
    return [value]


def _compared(test: Callable[[float, float], bool], wanted: str) -> Validator:
    def check(value: Value, bound: Value | None = None, *_: Value) -> str | None:
        numbers, limit = _numbers(value), _numbers(bound) if bound is not None else None
        if numbers is None:
            return "be numeric"
        if not limit:
            return None
        return None if all(test(x, limit[0]) for x in numbers) else f"{wanted} {format_number(limit[0])}"
    return check


for _name, _compare, _wanted in (
    ("mustBeGreaterThan", lambda x, c: x > c, "be greater than"),
    ("mustBeGreaterThanOrEqual", lambda x, c: x >= c, "be greater than or equal to"),
    ("mustBeLessThan", lambda x, c: x < c, "be less than"),
    ("mustBeLessThanOrEqual", lambda x, c: x <= c, "be less than or equal to"),
):
    VALIDATORS[_name] = _compared(_compare, _wanted)


@_validator("mustBeInRange")
def _in_range(value: Value, lower: Value | None = None, upper: Value | None = None, *_: Value) -> str | None:
    numbers = _numbers(value)
    low, high = (_numbers(lower) if lower is not None else None), (_numbers(upper) if upper is not None else None)
    if numbers is None:
        return "be numeric"
    if not low or not high:
        return None
    if all(low[0] <= x <= high[0] for x in numbers):
        return None
    return f"be in the range {format_number(low[0])} to {format_number(high[0])}"


CLASS_CHECKS: dict[str, Callable[[Value], bool]] = {
    **{name: (lambda value: isinstance(value, Matrix)) for name in
       "double single int8 int16 int32 int64 uint8 uint16 uint32 uint64 logical".split()},
    "char": lambda value: isinstance(value, (Char, Str)),
    "string": lambda value: isinstance(value, (Char, Str)),
    "cell": lambda value: isinstance(value, Cell),
}
"""The classes an `arguments` declaration may name that netspec checks: whether a value is of the
class or converts to it as MATLAB converts it (any other class is taken on trust)."""
