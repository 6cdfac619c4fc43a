"""How a call's arguments become the called function's workspace, as MATLAB binds them:
positional parameters, `varargin`, `nargin`/`nargout`, and the `arguments` blocks' defaults,
name-value arguments (`opts.Name`) and validation (size, class, `mustBe...` functions).

A parameter that no argument gives and no default sets is left unset: `exist('x', 'var')`
is false for it, and reading it is MATLAB's "not enough input arguments" (E145), except in
the entry function of a function file, which netspec calls itself: there it is an unknown
value that `--set` binds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ...diagnostics import NetspecError, Span, error, suggest
from ..builtins import Arg, partial_matches
from ..spans import node_span
from ..tree import Token, Tree
from ..validators import CLASS_CHECKS, VALIDATORS
from ..values import Cell, Char, Container, Matrix, Opaque, Str, Struct, Value, size_of, type_name
from .state import Declaration, Function, Scope, State, token_text

__all__ = ["Arguments"]

_NUMERIC_CLASSES = frozenset("double single int8 int16 int32 int64 uint8 uint16 uint32 uint64".split())
_UNCHECKED_BLOCKS = frozenset({"output", "repeating"})
"""`arguments (Output)` declares outputs; `(Repeating)` arguments are taken as given."""

Where = Callable[[], "Span | None"]

IGNORED = "~"
"""A parameter written `~` (`function w = width(~, k)`): it takes its argument and binds no name."""


class Arguments(State):
    """A function's declared arguments, and the workspace each call of it starts with."""

    def _declarations(self, blocks: list[Tree], file: str) -> list[Declaration]:
        """The input declarations of a function's `arguments` blocks, in order."""
        declarations = []
        for block in blocks:
            kind = next((token_text(c) for c in block.children if isinstance(c, Tree) and c.data == "arguments_kind"),
                        None)
            if kind is None or kind.lower() not in _UNCHECKED_BLOCKS:
                declarations += [_declaration(node) for node in block.children
                                 if isinstance(node, Tree) and node.data == "argument"]
        return declarations

    def _call_scope(self, function: Function, args: list[Arg], nargout: int, span: Where, *,
                    entry: bool = False) -> Scope:
        """The workspace a call of `function` starts with. The entry function of a function file
        (`entry`) also takes the command line's bindings, which win over its arguments."""
        params = function.params
        variadic = bool(params) and params[-1] == "varargin"
        options = function.options
        fixed = [p for p in (params[:-1] if variadic else params) if p != options]
        positional = [a for a in args if a.keyword is None]
        named = [(str(a.keyword), a) for a in args if a.keyword is not None]
        extra, positional = positional[len(fixed):], positional[:len(fixed)]
        variables: dict[str, Value] = {p: a.value for p, a in zip(fixed, positional) if p != IGNORED}
        if options is not None:
            named = self._pairs(function, extra, span) + named
        elif variadic:
            spread = [a.value for a in extra] + [v for key, a in named for v in (Char(key), a.value)]
            variables["varargin"] = Cell.row(spread)
        elif named:
            raise error("E142", f"`{function.name}` takes positional arguments only", span())
        elif extra:
            raise error("E143", f"`{function.name}` takes {len(params)} argument"
                        f"{'s' if len(params) != 1 else ''}, got {len(args)}", span(),
                        hint=f"its definition is function {function.name}({', '.join(params)})")
        variables["nargin"] = Matrix.scalar(float(sum(2 if a.keyword else 1 for a in args)))
        variables["nargout"] = Matrix.scalar(float(nargout))
        pinned: frozenset[str] = frozenset()
        if entry:
            variables.update(self.bindings)
            pinned = frozenset(self.bindings)
        scope = Scope(variables, pinned, function=function.name, sites={} if entry else None, bindable=entry,
                      unset=frozenset(p for p in fixed if p not in variables and p != IGNORED), entry=entry)
        if function.declarations:
            given = dict(zip(fixed, positional))
            self._apply_declarations(function, scope, given, named, span)
        return scope

    def _pairs(self, function: Function, extra: list[Arg], span: Where) -> list[tuple[str, Arg]]:
        """Trailing `'Name', value` arguments of a function with name-value arguments."""
        names, values = extra[0::2], extra[1::2]
        for name in names:
            if not isinstance(name.value, (Char, Str)):
                raise error("E148", f"`{function.name}` expects an argument name here, got a {type_name(name.value)}",
                            name.span or span(), hint="name-value arguments come in pairs: 'Name', value")
        if len(values) < len(names):
            raise error("E148", f"the name '{names[-1].value.text}' has no value", names[-1].span or span(),
                        hint="name-value arguments come in pairs: 'Name', value")
        return [(name.value.text, value) for name, value in zip(names, values)]

    def _apply_declarations(self, function: Function, scope: Scope, given: dict[str, Arg],
                            named: list[tuple[str, Arg]], span: Where) -> None:
        """Defaults, name-value arguments and validation, in declaration order (a default may use
        the arguments declared before it)."""
        remaining = self._named_fields(function, named, span)
        for declaration in function.declarations:
            if declaration.name in scope.pinned:
                continue
            if declaration.field is None:
                argument = given.get(declaration.name)
            else:
                argument = remaining.pop(declaration.field.lower(), (None, None))[1]
            if argument is not None:
                value, where = argument.value, _where_of(argument)
            elif declaration.default is not None:
                value, where = self._eval(declaration.default, scope), self._where(declaration.default)
            else:
                continue
            self._declare(function, declaration, value, where, scope)
        options = function.options
        if options is not None and options not in scope.pinned and options not in scope.variables:
            scope.variables[options] = Struct({})
        if remaining:
            key, argument = next(iter(remaining.values()))
            known = [d.field for d in function.declarations if d.field is not None]
            guess = suggest(key, known)
            raise error("E148", f"`{function.name}` has no name-value argument '{key}'", argument.span or span(),
                        hint=f"did you mean '{guess}'?" if guess else f"it takes {', '.join(known)}")

    def _named_fields(self, function: Function, named: list[tuple[str, Arg]],
                      span: Where) -> dict[str, tuple[str, Arg]]:
        """Each given name-value argument under the declared name it matches, as MATLAB matches
        them: case-insensitive, or an unambiguous prefix (`'Wid'` for Width). An unknown name stays
        under its own (lower-case) name, for the error after the defaults; an ambiguous one is E148."""
        declared = {d.field.lower(): d.field for d in function.declarations if d.field is not None}
        remaining: dict[str, tuple[str, Arg]] = {}
        for key, arg in named:
            found = partial_matches(key.lower(), declared)
            if len(found) > 1:
                shown = ", ".join(declared[k] for k in found)
                raise error("E148", f"`{function.name}`: the name '{key}' is ambiguous, it matches {shown}",
                            arg.span or span(), hint="write enough of the name to tell them apart")
            remaining[found[0] if found else key.lower()] = (key, arg)
        return remaining

    def _declare(self, function: Function, declaration: Declaration, value: Value, where: Where,
                 scope: Scope) -> None:
        """Convert and check one argument's value, then set it (validators see it set)."""
        known = not isinstance(value, Opaque)
        if known:
            value = self._sized(function, declaration, self._converted(function, declaration, value, where), where)
        if declaration.field is None:
            scope.variables[declaration.name] = value
            scope.unset = scope.unset - {declaration.name}
        else:
            options = scope.variables.get(declaration.name)
            fields = options.fields if isinstance(options, Struct) else {}
            scope.variables[declaration.name] = Struct({**fields, declaration.field: value})
        if known:
            for validator in declaration.validators:
                self._validate(function, declaration, validator, value, where, scope)

    def _converted(self, function: Function, declaration: Declaration, value: Value, where: Where) -> Value:
        """The value as the declared class (text to char or string, logical to double...)."""
        kind = declaration.kind
        check = CLASS_CHECKS.get(kind or "")
        if check is None:
            return value
        if not check(value):
            raise self._argument_error(function, declaration, f"be of class {kind}, not a {type_name(value)}", where)
        if kind == "char" and isinstance(value, Str):
            return Char(value.text)
        if kind == "string" and isinstance(value, Char):
            return Str(value.text)
        if isinstance(value, Matrix) and value.logical != (kind == "logical"):
            data = [float(x != 0) for x in value.data] if kind == "logical" else value.data
            return Matrix(value.rows, value.cols, data, kind == "logical")
        return value

    def _sized(self, function: Function, declaration: Declaration, value: Value, where: Where) -> Value:
        """The value in the declared size: a scalar fills a fixed size, a vector turns to the
        declared orientation (MATLAB's conversions); any other size is an error."""
        size = declaration.size
        if size is None or len(size) < 2 or any(d not in (None, 1) for d in size[2:]) \
                or not isinstance(value, (Container, Str)):
            return value
        want_rows, want_cols = size[0], size[1]
        rows, cols = size_of(value)
        if rows * cols == 0 and None in (want_rows, want_cols):
            return value  # `name (1,:) char = ''`: an empty value fits a size with a free dimension

        def fits(r: int, c: int) -> bool:
            return want_rows in (None, r) and want_cols in (None, c)

        if fits(rows, cols):
            return value
        if isinstance(value, Matrix) and value.is_scalar() and want_rows is not None and want_cols is not None \
                and want_rows * want_cols <= self.limits.elements:
            return Matrix(want_rows, want_cols, value.data * (want_rows * want_cols), value.logical)
        if (rows == 1 or cols == 1) and fits(cols, rows) and isinstance(value, Container):
            return value.transposed()
        wanted = "-by-".join(":" if d is None else str(d) for d in size)
        raise self._argument_error(function, declaration, f"be {wanted}, not {rows}-by-{cols}", where)

    def _validate(self, function: Function, declaration: Declaration, validator: Tree, value: Value,
                  where: Where, scope: Scope) -> None:
        """One `{mustBe...}` validator: a bare name is called with the value, a call as written
        (`mustBeMember(x, [1 2])`, with the argument set). Validators netspec does not know
        (`mustBeFile`, the file's own) are not run: they cannot change the network."""
        if validator.data == "name":
            check, values = VALIDATORS.get(token_text(validator)), [value]
        elif validator.data == "call" and validator.children[0].data == "name":
            check = VALIDATORS.get(token_text(validator.children[0]))
            values = [a.value for a in self._args(validator.children[1] if len(validator.children) > 1 else None,
                                                  scope)] if check is not None else []
        else:
            return
        if check is None or not values or any(isinstance(v, Opaque) for v in values):
            return
        problem = check(*values)
        if problem is not None:
            raise self._argument_error(function, declaration, problem, where)

    def _argument_error(self, function: Function, declaration: Declaration, problem: str,
                        where: Where) -> NetspecError:
        name = declaration.name if declaration.field is None else f"{declaration.name}.{declaration.field}"
        declared = node_span(declaration.node, function.file)
        notes = [f"declared in the arguments block of `{function.name}` "
                 f"({Path(function.file).name}, line {declared.line})"] if declared is not None else []
        return error("E147", f"argument `{name}` of `{function.name}` must {problem}", where(),
                     label="this value", notes=notes)

    def _unset_parameter(self, name: str, node: Tree, scope: Scope) -> Value:
        """A parameter no argument gave, read: unknown in the entry function, else MATLAB's error."""
        span = node_span(node, self.file)
        if scope.entry:
            return Opaque(name, span, variable=name, parameter=name, parameter_of=scope.function)
        raise error("E145", f"`{scope.function}` uses its parameter `{name}`, which the call does not give", span,
                    label="not given", hint="pass it in the call, or give it a default (an arguments block, "
                                            "`if nargin < N` or `exist('NAME', 'var')`)")


def _declaration(node: Tree) -> Declaration:
    """One `argument` node of the grammar as a Declaration."""
    rest = list(node.children[1:])
    field = str(rest.pop(0)) if rest and isinstance(rest[0], Token) else None
    size: list[int | None] | None = None
    kind: str | None = None
    validators: list[Tree] = []
    default: Tree | None = None
    for child in rest:
        if child.data == "argument_size":
            size = [None if isinstance(d, Tree) else int(float(d)) for d in child.children]
        elif child.data == "argument_class":
            kind = ".".join(str(t) for t in child.children)
        elif child.data == "argument_validators":
            validators = [element for row in child.children[0].children for element in row.children]
        else:
            default = child
    return Declaration(str(node.children[0]), field, size, kind, validators, default, node)


def _where_of(argument: Arg) -> Where:
    return lambda: argument.span
