"""Calls and the function table: a file's functions (hoisted, as MATLAB scripts allow),
user functions and anonymous functions, the library (layer constructors, graph editing,
trainingOptions), the builtins, and what an unknown name or function becomes.

A call by name is looked up in MATLAB's order (`_call_function`): the calling file's own
functions, the functions that work on the caller's workspace or the path (`paths.py`), the
files on the path, then the library and builtins. How a call's arguments become its
workspace (`arguments` blocks, `varargin`, `nargin`) is in `arguments.py`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from ...diagnostics import NetspecError, Span, error, suggest
from ..builtins import (BUILTINS, DATA_FUNCTIONS, NO_OP_FUNCTIONS, Arg, BuiltinError, Unmodelled, size_query,
                        sized_array)
from ..library import LIBRARY, NETWORK_POSITIONS, ZOO
from ..operators import OperatorError, OperatorLimit
from ..spans import node_span
from ..tree import Token, Tree
from ..values import Cell, Char, CSList, FunctionHandle, Opaque, Value
from .arguments import IGNORED
from .state import EndContext, Function, Scope, SharedWorkspace, State, is_function_file, token_text

__all__ = ["Calls"]

_LIBRARY_BY_LOWER_CASE = {name.lower(): name for name in LIBRARY}

UNMODELLED_TOOLBOX = {
    "pretrainedEncoderNetwork": "a toolbox function netspec does not model: MATLAB cuts a pretrained network at its "
                                "depth-th downsampling and its features' sizes come from running it; build the encoder "
                                "from layers (blockedNetwork), or use unet(imageSize, numClasses)",
}
"""Toolbox functions real files call that netspec does not model, and what to use instead."""

_DERIVING = frozenset("size numel length height width ndims isempty isscalar isvector class isa".split())
"""Builtins whose result from unknown data is not that data: binding its variable to a number
would not give the result (`numel(YTrain)`), so the result names no variable. (Layers with an
unknown part keep naming it: binding it gives their size too.)"""

_OWN_NAMES = frozenset({"nargin", "nargout", "varargin", "varargout"})
"""Names every call has its own of, nested or not."""

_CONVERSIONS = frozenset({"single", "double"})
"""Builtins whose result has their argument's size and values."""


class Calls(State):
    """Calls by name, by handle and by `x(...)` on a name that is no variable; the function table."""

    _SCOPED: dict[str, Callable]
    """Functions that read the caller's workspace or the path (`exist`, `addpath`...): name ->
    method taking (args, nargout, node, scope); filled in by `paths.py`."""

    def _hoist_functions(self, statements: list[Tree], file: str, table: dict[str, Function] | None = None,
                         defined: list[Function] | None = None, enclosing: frozenset[str] = frozenset()
                         ) -> list[Function]:
        """MATLAB scripts may call local functions defined further down the file: a file's
        functions go into `table` (the load's own, `self.functions`, unless a table is given)
        before it runs. Returns them in order (appended to `defined`, when given).

        Each run of a file hoists them again (a file imported twice defines them twice, alike)."""
        table = self.functions if table is None else table
        defined = [] if defined is None else defined
        for statement in statements:
            if isinstance(statement, Tree) and statement.data == "function_def":
                function = self._function_def(statement, file, enclosing)
                if any(f.name == function.name for f in defined):
                    raise error("E112", f"function `{function.name}` is defined twice", node_span(statement, file),
                                hint="rename one of the two definitions")
                defined.append(function)
                table[function.name] = function
        return defined

    def _function_def(self, node: Tree, file: str, enclosing: frozenset[str] = frozenset()) -> Function:
        """A definition as a `Function`; `enclosing`, for a nested one, is what the functions around
        it use (their names, parameters and outputs)."""
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
        blocks = [s for s in body.children if s.data == "arguments_block"]
        inner = [s for s in body.children if s.data == "function_def"]
        if blocks or inner:
            body = Tree("body", [s for s in body.children if s.data not in ("arguments_block", "function_def")])
        function = Function(name, params, outputs, body, file, self._declarations(blocks, file))
        if enclosing:
            function.shared = enclosing - {*params, *outputs, *_OWN_NAMES}
        if inner:
            around = enclosing | _used_names(body.children) | {*params, *outputs}
            self._hoist_functions(inner, file, {}, function.nested, around)
        return function

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
        elif node.data == "name" and self._is_call(token_text(node), scope):
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

    @staticmethod
    def _is_call(name: str, scope: Scope) -> bool:
        """A bare `name` calls a function: it is no variable, nor a parameter left unset."""
        return name not in scope.variables and name not in scope.unset

    def _eval_call(self, node: Tree, scope: Scope, nargout: int):
        target = node.children[0]
        args_node = node.children[1] if len(node.children) > 1 else None
        if target.data == "name":
            name = token_text(target)
            if self._is_call(name, scope):
                args = self._name_call_args(name, args_node, node, scope)
                return self._call_function(name, args, nargout, node, scope)
        qualified = self._qualified_name(target, scope) if target.data == "field" else None
        if qualified is not None:
            return self._call_function(qualified, self._args(args_node, scope), nargout, node, scope)
        package = self._package_function(target, scope) if target.data == "field" else None
        if package is not None and not self._indexes_with_end(package, args_node, node, scope):
            return self._unknown(package, nargout, node, node_span(node, self.file))
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

    def _package_function(self, target: Tree, scope: Scope) -> str | None:
        """`mypkg.loader` of `[a, b] = mypkg.loader(...)`: a package function netspec does not read
        (its first part is no variable, parameter or function, and no `load` may have made it a
        struct): a call of an unknown function, whose outputs are as many as asked for."""
        parts: list[str] = []
        while target.data == "field":
            parts.append(str(target.children[1]))
            target = target.children[0]
        if target.data != "name" or self.loaded is not None:
            return None
        root = token_text(target)
        if not self._is_call(root, scope) or self._knows(root) or root in NO_OP_FUNCTIONS or root in DATA_FUNCTIONS:
            return None
        return ".".join([root, *reversed(parts)])

    def _indexes_with_end(self, name: str, args_node: Tree | None, node: Tree, scope: Scope) -> bool:
        """Whether `end` stands in the parentheses after `name` (`IS.time(end)`): indexing of an
        undefined struct, not a call. The arguments are evaluated, for what they read and warn about."""
        if args_node is None:
            return False
        self._name_call_args(name, args_node, node, scope)  # notes a call with `end` in `_indexed`
        return id(node) in self._indexed

    def _name_call_args(self, name: str, args_node: Tree | None, node: Tree, scope: Scope) -> list[Arg]:
        """The arguments of `name(...)`. For a name netspec knows nothing of, `end` inside them
        is unknown: `name` is then most likely a variable MATLAB has (`load net; net(1:end-3)`)."""
        if args_node is None or self._knows(name) or name in scope.nested:
            return self._args(args_node, scope)
        marker = Opaque(name, node_span(node, self.file), free_name=True)
        self._ends.append(EndContext(marker, 0, 1))
        try:
            args = self._args(args_node, scope)
        finally:
            self._ends.pop()
        if any(arg.value is marker for arg in args):
            self._indexed.add(id(node))
        return args

    def _knows(self, name: str) -> bool:
        """A function netspec runs or knows the result of (not an unknown, data or no-op function)."""
        return (name in self._file_functions.get(self.file, self.functions) or name in self._SCOPED
                or name in self._on_path() or name in LIBRARY or name in BUILTINS)

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
        """A call by name, in MATLAB's order: the calling file's functions, the functions that read
        the caller's workspace or the path, the files on the path, then the library, the builtins,
        MATLAB's functions netspec ignores, a miscapitalised library name; else the result is unknown."""
        nested = scope.nested.get(name)
        if nested is not None:
            return self._call_user(nested[0], args, nargout, node, parent=nested[1])
        function = self._file_functions.get(self.file, self.functions).get(name)
        if function is not None:
            return self._call_user(function, args, nargout, node)
        if name in NETWORK_POSITIONS:
            self._record_handoff(name, args, node)
        scoped = self._SCOPED.get(name)
        if scoped is not None:
            return scoped(self, args, nargout, node, scope)
        path = self._on_path().get(name)
        if path is not None:
            result = self._call_path_file(name, path, args, nargout, node, scope)
            if result is not None:
                return result
        implementation = LIBRARY.get(name)
        if implementation is not None:
            span = self._span_of(node, self.file)
            return self._call_builtin(name, lambda: implementation(self, args, nargout, span), args, node)
        simple = BUILTINS.get(name)
        if simple is not None:
            unknown = next((arg.value for arg in args if isinstance(arg.value, Opaque)), None)
            if unknown is not None and args[0].value is unknown and unknown.size is not None \
                    and not any(isinstance(arg.value, Opaque) for arg in args[1:]) \
                    and (sized := size_query(name, unknown.size, args, nargout)) is not None:
                return sized  # `size(zeros(28,28,1,n))`: the size is known though the array is not held
            if unknown is not None:
                if name in _DERIVING and not unknown.structural:
                    unknown = replace(unknown, variable=None)
                if name not in _CONVERSIONS:  # only a conversion keeps a known size
                    unknown = replace(unknown, size=None, values=None)
                return [unknown] * nargout if nargout > 1 else unknown
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

    def _call_path_file(self, name: str, path: Path, args: list[Arg], nargout: int, node: Tree, scope: Scope):
        """A call of `NAME.m` (or `NAME.net`) found on the path: its first function, or the script run
        in the caller's workspace. None for a script called with arguments or outputs, which MATLAB
        cannot run: the name is then looked up further (a folder's `alexnet.m` script does not hide
        the toolbox's `alexnet`)."""
        span = self._span_of(node, self.file)
        tree, file = self._read(path, span)
        if tree is None:  # a classdef file: its constants, or an unknown class that says so if the network needs it
            constants = self.class_constants(file)
            return [constants if constants is not None else Opaque(name, span, class_file=file)] * max(nargout, 1)
        table = self._file_functions.get(file)
        if table is None:
            table = self._file_functions[file] = {}
            functions = self._hoist_functions(tree.children, file, table)
            self._main_functions[file] = functions[0] if is_function_file(tree) else None
        main = self._main_functions[file]
        if main is not None:
            return self._call_user(main, args, nargout, node)
        if args or nargout:
            return None
        self._run_script(tree, file, node, scope)
        return []

    def _run_script(self, tree: Tree, file: str, node: Tree, scope: Scope) -> None:
        """A script on the path, run in the caller's workspace (as MATLAB runs it)."""
        if self.depth >= self.limits.recursion:
            raise error("E504", f"calls nest more than {self.limits.recursion} deep (runaway recursion?)",
                        node_span(node, self.file))
        self._tick(node)
        self.depth += 1
        previous, self.file = self.file, file
        try:
            self._run_body([s for s in tree.children if s.data != "function_def"], scope)
        finally:
            self.depth -= 1
            self.file = previous

    def _unknown(self, name: str, nargout: int, node: Tree, span: Span | None) -> list[Value]:
        """What a name no table knows gives: unknown values, and a warning the first time. After
        a `load` without outputs, a bare name or one indexed with `end` is most likely a variable
        it loaded."""
        bare = isinstance(node, Tree) and node.data == "name"
        if self.loaded is not None and (bare or id(node) in self._indexed):
            if name not in self._warned_unknown:
                self._warned_unknown.add(name)
                self.warn("W105", f"`{name}` is never defined: perhaps `load` at line {self.loaded.line} loads it; "
                          "netspec treats it as unknown", span, hint="netspec reads no data files: if the network "
                          f"needs it, bind it: --set {name}=VALUE")
            reason = f"perhaps `load` at line {self.loaded.line} loads it (netspec reads no data files)"
            stand_in = _pretrained_stand_in(Path(self.file).stem, indexed=not bare)
            return [Opaque(name, span, variable=name, reason=reason, stand_in=stand_in)] * max(nargout, 1)
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
        """The known function an unknown `name` is probably a typo of (asked only for a message); a
        package's function is compared with package functions only (`mypkg.width` is no typo of `width`)."""
        dotted = "." in name
        return suggest(name, [known for known in [*LIBRARY, *BUILTINS, *self.functions] if ("." in known) == dotted])

    def _call_builtin(self, name: str, run: Callable, args: list[Arg], node: Tree):
        try:
            result = run()
            for value in result if isinstance(result, list) else [result]:
                self._charge(value, node)
            return result
        except Unmodelled as exc:  # `zeros(28, 28, 1, n)`: fine for data; the network may not need it
            return Opaque(name, node_span(node, self.file), reason=str(exc))
        except BuiltinError as exc:
            span = args[exc.arg].span if exc.arg is not None and exc.arg < len(args) else node_span(node, self.file)
            raise error(exc.code, f"{name}: {exc}", span, hint=exc.hint) from None
        except OperatorLimit as exc:
            raise self._limit_error(exc, f"{name}: ", node) from None
        except OperatorError as exc:
            raise error("E141", f"{name}: {exc}", node_span(node, self.file)) from None

    def _call_user(self, function: Function, args: list[Arg], nargout: int, node: Tree,
                   parent: Scope | None = None):
        """A call of a user function; `parent` is the workspace of the call a nested function is nested in."""
        span = self._where(node)
        if self.depth >= self.limits.recursion:
            raise error("E504", f"calls nest more than {self.limits.recursion} deep (runaway recursion?)", span())
        self._tick(node)  # a call is a step too: call-heavy recursion costs more per statement
        self.depth += 1
        previous, self.file = self.file, function.file
        skipped = self.skipped
        try:
            inner = self._call_scope(function, args, nargout, span)
            self._nest(function, inner, parent)
            self._run_body(function.body.children, inner)
        finally:
            self.depth -= 1
            self.file = previous
        return self._outputs(function, inner, nargout, span, uncertain=self.skipped != skipped)

    @staticmethod
    def _nest(function: Function, scope: Scope, parent: Scope | None) -> None:
        """A call's workspace as nested functions see it: a nested function shares its `shared` names
        with the call it is nested in (`parent`) and calls what that call can; the functions nested
        in `function` are callable from this call, and share its workspace."""
        if parent is not None:
            scope.variables = SharedWorkspace(scope.variables, parent.variables, function.shared)
            scope.pinned = scope.pinned | (parent.pinned & function.shared)
            scope.nested = parent.nested
        if function.nested:
            scope.nested = {**scope.nested, **{f.name: (f, scope) for f in function.nested}}

    def _outputs(self, function: Function, inner: Scope, nargout: int, span: Callable[[], Span | None],
                 uncertain: bool = False) -> list:
        """The values a call returns: its first `nargout` outputs (at least the first, if set);
        `varargout` gives the rest of them. An output left unset where netspec skipped a branch or
        loop it could not decide (`uncertain`) is unknown: MATLAB may well have set it."""
        names = function.outputs
        if names and names[-1] == "varargout":
            spread = inner.variables.get("varargout")
            extra = spread.items if isinstance(spread, Cell) else []
            names = names[:-1]
        else:
            extra = []
        results = []
        for i, output in enumerate(names[:max(nargout, 1)]):
            if output not in inner.variables:
                if i >= nargout and nargout == 0:
                    break
                if uncertain:
                    results.append(Opaque(output, span()))
                    continue
                raise error("E144", f"`{function.name}` did not set its output `{output}`", span(),
                            hint=f"assign {output} = ... in the body of {function.name}")
            results.append(inner.variables[output])
        return results + list(extra[:max(nargout - len(results), 0)])

    def _call_handle(self, handle: FunctionHandle, args: list[Arg], nargout: int, node: Tree, scope: Scope):
        if handle.name in handle.nested:  # a nested function, in the workspace it shares
            function, parent = handle.nested[handle.name]
            return self._call_user(function, args, nargout, node, parent=parent)
        if handle.name is not None:
            return self._call_function(handle.name, args, nargout, node, scope)
        if self.depth >= self.limits.recursion:
            raise error("E504", "calls nest too deep", node_span(node, self.file))
        given = {p: a.value for p, a in zip(handle.params, args) if p != IGNORED}
        inner = Scope({**handle.captured, **given}, nested=handle.nested)
        self.depth += 1
        try:
            return [self._eval(handle.body, inner)]
        finally:
            self.depth -= 1

    def call_handle(self, handle: FunctionHandle, args: list[Arg], nargout: int = 1) -> list[Value]:
        """A function handle called by a library function (blockedNetwork calls its block function,
        arrayfun its function once per element): each call is a step."""
        self._tick(self.running)
        result = self._call_handle(handle, args, nargout, self.running, Scope({}))
        return result if isinstance(result, list) else [result]

    def _opaque_error(self, value: Opaque, what: str, network: str | None = None) -> NetspecError:
        """The error for `what` (`the network `net``, `an index`) needing an unknown value: it names
        the variable `--set` can bind, else where the value comes from. Never a variable that holds
        the network itself (the unknown `network` unless it is layers with an unknown number in
        them): a number bound to it cannot be a network."""
        standing_for_network = value.network or (network is not None and not value.structural)
        if standing_for_network:
            value = replace(value, variable=None)
        guess = self._function_like(value.origin) if value.unknown_function else None
        if value.class_file is not None:
            return error("E409", f"{what} depends on `{value.origin}`, a class defined in "
                         f"{Path(value.class_file).name} (classdef), which netspec does not read", value.span,
                         label="a class", hint="netspec reads no classes: a custom layer cannot be analyzed, "
                         "trained or exported, and a value kept in a class can be bound with --set NAME=VALUE once "
                         "assigned to a variable")
        if value.unknown_function and value.variable is None:
            return error("E406", f"{what} depends on `{value.origin}`, which is not a function netspec knows",
                         value.span, label="unknown function",
                         hint=UNMODELLED_TOOLBOX.get(value.origin) or (f"did you mean `{guess}`?" if guess else
                         _missing_file_hint(value.origin)))
        if value.free_name:
            # `n = numClasses * 2`: `n` only carries the unknown; `numClasses` is what is missing
            notes = ([f"`{value.variable}` gets its value from `{value.origin}`"]
                     if value.variable not in (None, value.origin) else [])
            return error("E407", f"{what} depends on `{value.origin}`, which is never defined", value.span,
                         label="undefined", notes=notes,
                         hint="define it in the file" if standing_for_network else
                         f"define it in the file, or bind it: --set {value.origin}=VALUE")
        variable = value.variable
        subject = f"`{variable}`" if variable else f"`{value.origin}`"
        if value.parameter is not None:
            notes = ([f"`{variable}` gets its value from `{value.parameter}`"]
                     if variable not in (None, value.parameter) else [])
            notes.append(f"`{value.parameter}` is a parameter of `{value.parameter_of}`, which no argument gives")
            bind = f"{value.set_option(variable)}, or " if variable else ""
            if standing_for_network:
                notes.append("it is a network: --set binds numbers and text, not layers")
            return error("E405", f"{what} depends on {subject}, which netspec cannot compute", value.span,
                         label="a parameter no argument gives", notes=notes,
                         hint=f"bind it: {bind}give `{value.parameter_of}`'s arguments with --args")
        if value.reason is not None:
            hint = f"bind it: {value.set_option(variable)}" if variable else _BUILT_HERE if standing_for_network \
                else _ASSIGN_TO_BIND
            if standing_for_network and value.stand_in is not None:
                hint = (f"MATLAB needs that file too; if it holds what `{value.stand_in}` gives, bind that: "
                        f"--set \"{value.origin}={value.stand_in}\"")
            return error("E405", f"{what} depends on {subject}, which netspec cannot compute: {value.reason}",
                         value.span, label="not computed", hint=hint)
        notes = [(f"`{value.origin}` is a function netspec does not know"
                  + (f" (did you mean `{guess}`?)" if guess else "")) if value.unknown_function else
                 f"`{value.origin}` is not something netspec evaluates (data loading, plotting, ...)"]
        if variable:
            hint = f"give it a value on the command line: {value.set_option(variable)}"
        elif standing_for_network:
            hint = _BUILT_HERE
        else:
            hint = _ASSIGN_TO_BIND
        return error("E405", f"{what} depends on {subject}, which netspec cannot compute", value.span,
                     label="unknown value", notes=notes, hint=hint)


def _used_names(statements: list) -> set[str]:
    """The names a function's own code uses (not its nested functions', nor an anonymous function's
    parameters): MATLAB shares a variable of a nested function with the functions around it that use it."""
    names: set[str] = set()
    stack = list(statements)
    while stack:
        node = stack.pop()
        if not isinstance(node, Tree) or node.data == "function_def":
            continue
        if node.data == "name":
            names.add(token_text(node))
        elif node.data == "anon_fn":
            names |= _used_names(node.children[-1:]) - {str(t) for t in node.children[:-1]}
            continue
        elif node.data in ("for_stmt", "parfor_stmt") or (node.data == "catch_clause" and isinstance(
                node.children[0], Token)):
            names.add(str(node.children[0]))
        stack.extend(node.children)
    return names


_BUILT_HERE = "netspec reads networks the file builds from layers, not networks loaded or computed elsewhere"
_ASSIGN_TO_BIND = "assign the unknown value to a variable, then bind it with --set NAME=VALUE"


def _missing_file_hint(name: str) -> str:
    """Where an unknown function's file may be: another folder, or a package netspec does not read."""
    if "." in name:
        package, _, function = name.rpartition(".")
        folder = "+" + package.split(".")[0]
        return (f"`{name}` is the function `{function}` of the MATLAB package `{package}` (a `{folder}` folder), "
                "which netspec does not read; assign what it gives to a variable, then bind that with --set NAME=VALUE")
    return f"if `{name}.m` is in another folder, pass it with --path DIR"


_ZOO_STEMS = {name: name.removesuffix("net") or name for name in ZOO}
"""A pretrained network's name as file names abbreviate it (`alex`, `google`, `resnet50`, `vgg16`)."""


def _pretrained_stand_in(file_stem: str, indexed: bool) -> str | None:
    """The pretrained network a file named after it (`alextest.m`) most likely loads from a .mat
    file, as a binding: its layers where the file indexes what it loaded (`net(1:end-3)`)."""
    stem = file_stem.lower()
    name = next((name for name, short in sorted(_ZOO_STEMS.items(), key=lambda item: -len(item[1]))
                 if short in stem), None)
    if name is None:
        return None
    return f"{name}().Layers" if indexed else name
