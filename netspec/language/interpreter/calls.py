"""Calls and the function table: a file's functions (hoisted, as MATLAB scripts allow),
user functions and anonymous functions, the library (layer constructors, graph editing,
trainingOptions), the builtins, and what an unknown name or function becomes.

`arguments` blocks (checked when `_call_user` binds the arguments) and path lookup (a name
no table knows, looked up as a file of the spec's folder before it is unknown) belong here
(see the package docstring).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from ...diagnostics import NetspecError, Span, error, suggest
from ..builtins import BUILTINS, DATA_FUNCTIONS, NO_OP_FUNCTIONS, Arg, BuiltinError, sized_array
from ..library import LIBRARY
from ..operators import OperatorError, OperatorLimit
from ..spans import node_span
from ..tree import Token, Tree
from ..values import Char, CSList, FunctionHandle, Matrix, Opaque, Value
from .state import Function, Scope, State, token_text

__all__ = ["Calls"]

_LIBRARY_BY_LOWER_CASE = {name.lower(): name for name in LIBRARY}

_CONVERSIONS = frozenset({"single", "double"})
"""Builtins whose result has their argument's size and values."""


class Calls(State):
    """Calls by name, by handle and by `x(...)` on a name that is no variable; the function table."""

    def _hoist_functions(self, statements: list[Tree], file: str) -> None:
        """MATLAB scripts may call local functions defined further down the file.

        Each run of a file hoists them again (a file imported twice defines them twice, alike)."""
        defined: set[str] = set()
        for statement in statements:
            if isinstance(statement, Tree) and statement.data == "function_def":
                function = self._function_def(statement, file)
                if function.name in defined:
                    raise error("E112", f"function `{function.name}` is defined twice", node_span(statement, file),
                                hint="rename one of the two definitions")
                defined.add(function.name)
                self.functions[function.name] = function

    def _function_def(self, node: Tree, file: str) -> Function:
        outputs: list[str] = []
        params: list[str] = []
        name = ""
        body = node.children[-1]
        for child in node.children[:-1]:
            if isinstance(child, Token):
                name = str(child)
            elif child.data == "single_output":
                outputs = [str(child.children[0])]
            elif child.data == "multi_output":
                outputs = [str(t) for t in child.children]
            elif child.data == "function_params":
                params = [str(t) for t in child.children]
        return Function(name, params, outputs, body, file)

    def _e_call(self, node: Tree, scope: Scope) -> Value:
        return self._first(self._eval_call(node, scope, 1), node)

    def _first(self, values, node: Tree) -> Value:
        if isinstance(values, list):
            if not values:
                raise error("E127", "this call returns no value", node_span(node, self.file))
            return values[0]
        return values

    def _eval_multi(self, node: Tree, scope: Scope, nargout: int) -> list[Value]:
        if node.data == "call":
            values = self._eval_call(node, scope, nargout)
        elif node.data == "name" and token_text(node) not in scope.variables:
            values = self._call_function(token_text(node), [], nargout, node, scope)
        else:
            value = self._eval(node, scope)
            values = value.items if isinstance(value, CSList) else [value]
        if not isinstance(values, list):
            values = [values]
        if len(values) < nargout:
            raise error("E128", f"expected {nargout} outputs, the right side gives {len(values)}",
                        node_span(node, self.file))
        return values

    def _eval_call(self, node: Tree, scope: Scope, nargout: int):
        target = node.children[0]
        args_node = node.children[1] if len(node.children) > 1 else None
        if target.data == "name":
            name = token_text(target)
            if name not in scope.variables:
                args = self._args(args_node, scope)
                return self._call_function(name, args, nargout, node, scope)
        qualified = self._qualified_name(target, scope) if target.data == "field" else None
        if qualified is not None:
            return self._call_function(qualified, self._args(args_node, scope), nargout, node, scope)
        value = self._eval(target, scope)
        if isinstance(value, FunctionHandle):
            args = self._args(args_node, scope)
            return self._call_handle(value, args, nargout, node, scope)
        indices = self._index_args(args_node, value, scope)
        if isinstance(value, Opaque):
            return value
        return self._select(value, indices, node)

    @staticmethod
    def _qualified_name(target: Tree, scope: Scope) -> str | None:
        """`nnet.shufflenet.layer.ChannelShufflingLayer`: a package-qualified library name whose
        first part is no variable (what MATLAB's pretrained networks and their exports call)."""
        parts: list[str] = []
        while target.data == "field":
            parts.append(str(target.children[1]))
            target = target.children[0]
        if target.data != "name" or token_text(target) in scope.variables:
            return None
        name = ".".join([token_text(target), *reversed(parts)])
        return name if name in LIBRARY else None

    def _args(self, args_node: Tree | None, scope: Scope) -> list[Arg]:
        """A call's arguments, evaluated; a comma-separated list (`layers.Name`) gives one each."""
        if args_node is None:
            return []
        result: list[Arg] = []
        for child in args_node.children:
            if child.data == "kwarg":
                name, expr = child.children
                result.append(Arg(self._eval(expr, scope), self._where(name), keyword=str(name)))
            elif child.data == "colon_all":
                result.append(Arg(Char(":"), self._where(child)))
            else:
                value = self._eval(child, scope)
                span = self._where(child)
                if isinstance(value, CSList):
                    result.extend(Arg(item, span) for item in value.items)
                else:
                    result.append(Arg(value, span))
        return result

    def _call_function(self, name: str, args: list[Arg], nargout: int, node: Tree, scope: Scope):
        """A call by name: the file's functions first, then the library, the builtins, MATLAB's
        functions netspec ignores, a miscapitalised library name; else the result is unknown."""
        function = self.functions.get(name)
        if function is not None:
            return self._call_user(function, args, nargout, node)
        implementation = LIBRARY.get(name)
        if implementation is not None:
            span = self._span_of(node, self.file)
            return self._call_builtin(name, lambda: implementation(self, args, nargout, span), args, node)
        simple = BUILTINS.get(name)
        if simple is not None:
            for arg in args:
                if isinstance(arg.value, Opaque):  # only a conversion keeps a known size
                    return arg.value if name in _CONVERSIONS else replace(arg.value, size=None, values=None)
            return self._call_builtin(name, lambda: simple(args, nargout), args, node)
        span = node_span(node, self.file)
        if name in NO_OP_FUNCTIONS or name in DATA_FUNCTIONS:
            return [Opaque(name, span, size=sized_array(name, args))] * max(nargout, 1)
        # MATLAB is case-sensitive, but real files write ClassificationLayer
        proper = _LIBRARY_BY_LOWER_CASE.get(name.lower())
        if proper is not None:
            self.warn("W104", f"`{name}` is spelled `{proper}` in MATLAB; netspec reads it as `{proper}`", span,
                      hint=f"write `{proper}`")
            implementation = LIBRARY[proper]
            return self._call_builtin(proper, lambda: implementation(self, args, nargout, span), args, node)
        return self._unknown(name, nargout, node, span)

    def _unknown(self, name: str, nargout: int, node: Tree, span: Span | None) -> list[Value]:
        """What a name no table knows gives: unknown values, and a warning the first time."""
        bare = isinstance(node, Tree) and node.data == "name"
        if name not in self._warned_unknown:
            self._warned_unknown.add(name)
            if bare:
                hint = f"if it is a value the network needs, bind it: --set {name}=VALUE"
                self.warn("W105", f"unknown variable or function `{name}`: netspec treats it as unknown", span,
                          hint=hint)
            else:
                guess = self._function_like(name) if self._keeps_warning("W105") else None
                self.warn("W105", f"unknown function `{name}`: netspec treats its result as unknown", span,
                          hint=f"did you mean `{guess}`?" if guess else
                          "fine for data loading or plotting; a network that depends on it needs --set NAME=VALUE")
        return [Opaque(name, span, unknown_function=not bare)] * max(nargout, 1)

    def _function_like(self, name: str) -> str | None:
        """The known function an unknown `name` is probably a typo of (asked only for a message)."""
        return suggest(name, [*LIBRARY, *BUILTINS, *self.functions])

    def _call_builtin(self, name: str, run: Callable, args: list[Arg], node: Tree):
        try:
            result = run()
            for value in result if isinstance(result, list) else [result]:
                self._charge(value, node)
            return result
        except BuiltinError as exc:
            span = args[exc.arg].span if exc.arg is not None and exc.arg < len(args) else node_span(node, self.file)
            raise error(exc.code, f"{name}: {exc}", span, hint=exc.hint) from None
        except OperatorLimit as exc:
            raise self._limit_error(exc, f"{name}: ", node) from None
        except OperatorError as exc:
            raise error("E141", f"{name}: {exc}", node_span(node, self.file)) from None

    def _call_user(self, function: Function, args: list[Arg], nargout: int, node: Tree):
        span = self._where(node)
        if any(a.keyword for a in args):
            raise error("E142", f"`{function.name}` takes positional arguments only", span())
        if len(args) > len(function.params):
            raise error("E143", f"`{function.name}` takes {len(function.params)} argument"
                        f"{'s' if len(function.params) != 1 else ''}, got {len(args)}", span(),
                        hint=f"its definition is function {function.name}({', '.join(function.params)})")
        if self.depth >= self.limits.recursion:
            raise error("E504", f"calls nest more than {self.limits.recursion} deep (runaway recursion?)", span())
        self._tick(node)  # a call is a step too: call-heavy recursion costs more per statement
        variables: dict[str, Value] = {p: a.value for p, a in zip(function.params, args)}
        variables["nargin"] = Matrix.scalar(float(len(args)))
        variables["nargout"] = Matrix.scalar(float(nargout))
        inner = Scope(variables, function=function.name)
        self.depth += 1
        previous, self.file = self.file, function.file
        try:
            self._run_body(function.body.children, inner)
        finally:
            self.depth -= 1
            self.file = previous
        results = []
        for i, output in enumerate(function.outputs[:max(nargout, 1)]):
            if output not in inner.variables:
                if i >= nargout and nargout == 0:
                    break
                raise error("E144", f"`{function.name}` did not set its output `{output}`", span(),
                            hint=f"assign {output} = ... in the body of {function.name}")
            results.append(inner.variables[output])
        return results

    def _call_handle(self, handle: FunctionHandle, args: list[Arg], nargout: int, node: Tree, scope: Scope):
        if handle.name is not None:
            return self._call_function(handle.name, args, nargout, node, scope)
        if self.depth >= self.limits.recursion:
            raise error("E504", "calls nest too deep", node_span(node, self.file))
        inner = Scope({**handle.captured, **{p: a.value for p, a in zip(handle.params, args)}})
        self.depth += 1
        try:
            return [self._eval(handle.body, inner)]
        finally:
            self.depth -= 1

    def call_handle(self, handle: FunctionHandle, args: list[Arg], nargout: int = 1) -> list[Value]:
        """A function handle called by a library function (blockedNetwork calls its block function)."""
        result = self._call_handle(handle, args, nargout, self.running, Scope({}))
        return result if isinstance(result, list) else [result]

    def _opaque_error(self, value: Opaque, what: str) -> NetspecError:
        guess = self._function_like(value.origin) if value.unknown_function else None
        if guess is not None:
            return error("E406", f"{what} depends on `{value.origin}`, which is not a function netspec knows",
                         value.span, label="unknown function", hint=f"did you mean `{guess}`?")
        if value.free_name:
            # `n = numClasses * 2`: `n` only carries the unknown; `numClasses` is what is missing
            notes = ([f"`{value.variable}` gets its value from `{value.origin}`"]
                     if value.variable not in (None, value.origin) else [])
            return error("E407", f"{what} depends on `{value.origin}`, which is never defined", value.span,
                         label="undefined", notes=notes,
                         hint=f"define it in the file, or bind it: --set {value.origin}=VALUE")
        variable = value.variable
        notes = [f"`{value.origin}` is not something netspec evaluates (data loading, plotting, ...)"]
        hint = (f"give it a value on the command line: --set {variable}=VALUE" if variable
                else "assign the unknown value to a variable, then bind it with --set NAME=VALUE")
        subject = f"`{variable}`" if variable else f"`{value.origin}`"
        return error("E405", f"{what} depends on {subject}, which netspec cannot compute", value.span,
                     label="unknown value", notes=notes, hint=hint)
