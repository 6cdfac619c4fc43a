"""The netspec interpreter: walks the parse tree of a `.net` file and evaluates it.

It is a tree-walking interpreter in the spirit of lark's `Interpreter` (top-down, so it
controls loops, branches and function calls itself) with one method per node kind.
It never calls Python's eval/exec, reads no file but the `.net` files a spec imports,
and bounds every loop, recursion and array size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from pydantic import ValidationError

from ..diagnostics import Diagnostic, NetspecError, Severity, SourceMap, Span, error, suggest
from ..ir import Network, option_key
from . import graphs
from .builtins import (BUILTINS, DATA_FUNCTIONS, NO_OP_FUNCTIONS, Arg, BuiltinError, expand, is_character_code,
                       numel, size_of)
from .library import LIBRARY, ZOO, ZOO_FOLDER, from_python, graph_property, layer_property, to_python
from .operators import OperatorError, OperatorLimit, binary, order_chain, truth, unary
from .parser import parse
from .source_files import read_source
from .spans import node_span, register_text
from .tree import Token, Tree
from .values import (MAX_ELEMENTS, Cell, Char, CSList, FunctionHandle, Graph, LayerArray, Matrix, Opaque,
                     OptionsValue, Str, Struct, SymbolicSize, Value, type_name)

__all__ = ["Interpreter", "Limits", "LoadResult", "NETWORK_VARIABLES"]

NETWORK_VARIABLES = ("lgraph", "net", "layers")
"""Where a file's network is found when `--net` does not say (MATLAB scripts' habits)."""

MAX_WARNINGS_PER_CODE = 100
"""Warnings of one code a load keeps (a warning in a loop could otherwise be repeated a million times)."""
_LIBRARY_BY_LOWER_CASE = {name.lower(): name for name in LIBRARY}
_NOT_PLAIN_BINARY = frozenset({"&&", "||", ":"})
"""Operators a chain of one operator still evaluates in full: short-circuits, and ranges."""

WORK_HINT = "netspec bounds the work a spec may do; network definitions need little"
SIZE_HINT = "netspec bounds array sizes; check the loop or call that makes this array"


@dataclass(frozen=True)
class Limits:
    """Bounds that make a hostile spec end fast with a clear error.

    One load (the file, everything it imports, however often) shares each budget.
    """

    steps: int = 500_000
    """Statements, loop passes and function calls run."""
    work: int = 20_000_000
    """Array elements produced by operators, concatenation and builtins, all together."""
    recursion: int = 64
    layers: int = 200_000
    imports: int = 16
    elements: int = MAX_ELEMENTS
    search_folders: tuple[Path, ...] = ()
    """Folders (and their trees) `import` may read besides the top-level file's own tree."""
    source_bytes: int = 2 * 1024 * 1024
    """Bytes of spec files read: the file and the files it imports (each once), together.
    The command line's `--max-file-size` sets it."""


@dataclass
class Function:
    name: str
    params: list[str]
    outputs: list[str]
    body: Tree
    file: str


@dataclass
class LoadResult:
    network: Network | None
    variables: dict[str, Value]
    diagnostics: list[Diagnostic]
    sources: SourceMap


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Return(Exception):
    pass


@dataclass
class _Scope:
    variables: dict[str, Value]
    pinned: frozenset[str] = frozenset()
    function: str | None = None
    sites: dict[str, tuple[Tree, str]] | None = None
    """A file's top level only: the statement that last assigned each variable, and its file.

    A node, not a span: the span is worked out only if a diagnostic points there."""


@dataclass
class _EndContext:
    value: Value
    position: int
    count: int


_ZOO_CACHE: dict[str, Graph] = {}


def _span(node: Tree | Token, file: str) -> Span | None:
    return node_span(node, file)


def _token_text(node: Tree | Token) -> str:
    return str(node.children[0]) if isinstance(node, Tree) else str(node)


class Interpreter:
    """Evaluates `.net` files. One instance per load; imports and zoo files share it."""

    def __init__(self, bindings: dict[str, Value] | None = None, limits: Limits = Limits(),
                 sources: SourceMap | None = None) -> None:
        self.bindings = dict(bindings or {})
        self.limits = limits
        self.sources = sources or SourceMap()
        self.diagnostics: list[Diagnostic] = []
        self.functions: dict[str, Function] = {}
        self.training: OptionsValue | None = None
        self.steps = 0
        self.running: Tree | None = None
        self.running_file = "<string>"
        """The statement, loop pass or call that ran last, and its file: where a RecursionError
        (a spec nested more deeply than Python's stack allows) is reported."""
        self.work = 0
        self.layer_count = 0
        self.depth = 0
        self.file = "<string>"
        self.import_stack: list[str] = []
        self.root_file: str | None = None  # the file that started a chain of imports
        self.import_folders: list[Path] = []
        """Where the chain's imports may read: the root file's folder (the working folder for text
        that is no file) and `Limits.search_folders`, each with the folders below it."""
        self.source_bytes = 0
        """Bytes of spec files read so far (see `Limits.source_bytes`)."""
        self._trees: dict[str, Tree] = {}
        """The parse tree of each file read: a file imported again is neither read nor parsed again."""
        self._import_paths: dict[tuple[str, str], Path] = {}
        """The file each `import "target"` of each file reads (see `_import_path`)."""
        self._ends: list[_EndContext] = []
        self._warned_unknown: set[str] = set()
        self._warning_counts: dict[str, int] = {}
        self._spans: dict[tuple[int, str], tuple[Tree | Token, Span | None]] = {}
        self.sites: dict[str, tuple[Tree, str]] = {}
        """Where each variable of the last file run was last assigned (see `assignment_span`)."""

    # -- entry points ---------------------------------------------------------------------
    def run_file(self, path: Path, span: Span | None = None) -> dict[str, Value]:
        """Run a spec file, read within `Limits.source_bytes`; errors reading it are located at `span`."""
        file = str(path)
        tree = self._trees.get(file)
        if tree is None:
            text, size = read_source(path, self.source_bytes, self.limits.source_bytes, span)
            self.source_bytes += size
            tree = self._trees[file] = self._parse(text, file)
        return self._run_tree(tree, file)

    def run_source(self, text: str, file: str = "<string>") -> dict[str, Value]:
        return self._run_tree(self._parse(text, file), file)

    def _parse(self, text: str, file: str) -> Tree:
        self.sources.add(file, text)
        register_text(file, text if text.endswith("\n") else text + "\n")
        return parse(text, file)

    def _run_tree(self, tree: Tree, file: str) -> dict[str, Value]:
        scope = _Scope(dict(self.bindings), pinned=frozenset(self.bindings), sites={})
        previous, self.file = self.file, file
        try:
            self._hoist_functions(tree.children, file)
            try:
                self._block(tree.children, scope)
            except _Return:
                pass
            except (_Break, _Continue):
                pass
            return scope.variables
        finally:
            self.file = previous
            self.sites = scope.sites

    def running_span(self) -> Span | None:
        return _span(self.running, self.running_file) if self.running is not None else None

    def assignment_span(self, name: str) -> Span | None:
        """The statement that last assigned `name` at the top level of the last file run."""
        site = self.sites.get(name)
        return _span(site[0], site[1]) if site is not None else None

    def network(self, variables: dict[str, Value], name: str | None, source: str | None) -> Network:
        """The IR of the file's network: `--net NAME`, else lgraph, net or layers."""
        if name is not None:
            if name not in variables:
                guess = suggest(name, [k for k, v in variables.items() if isinstance(v, (LayerArray, Graph, Opaque))])
                raise error("E401", f"no variable '{name}' in {source}",
                            hint=f"did you mean '{guess}'?" if guess else "the file assigns no such variable")
            chosen = name
        else:
            chosen = next((n for n in NETWORK_VARIABLES if n in variables), None)
            if chosen is None:
                candidates = [k for k, v in variables.items() if isinstance(v, (LayerArray, Graph))]
                hint = (f"pick one with --net {candidates[0]}" if candidates
                        else "assign the layers to a variable named `layers` or `lgraph`")
                raise error("E402", f"{source} defines no network (no variable named {', '.join(NETWORK_VARIABLES)})",
                            hint=hint)
        value = variables[chosen]
        if isinstance(value, Opaque):
            raise self._opaque_error(value, f"the network `{chosen}`")
        if isinstance(value, LayerArray) and not value.layers:
            raise error("E403", f"the network `{chosen}` has no layers", self.assignment_span(chosen),
                        label=f"`{chosen}` is last set here")
        if not isinstance(value, (LayerArray, Graph)):
            raise error("E404", f"`{chosen}` is a {type_name(value)}, not a network", self.assignment_span(chosen),
                        label=f"`{chosen}` is last set here, to a {type_name(value)}",
                        hint="pass --net NAME to choose the variable that holds the layers")
        training = self.training.options if self.training else None
        return graphs.to_network(value, chosen, training, source)

    def warn(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        """Keep a warning; past MAX_WARNINGS_PER_CODE of one code, only count it (see `findings`)."""
        if self._keeps_warning(code):
            self.diagnostics.append(Diagnostic(severity=Severity.warning, code=code, message=message, span=span,
                                               hint=hint))
        self._warning_counts[code] = self._warning_counts.get(code, 0) + 1

    def _keeps_warning(self, code: str) -> bool:
        return self._warning_counts.get(code, 0) < MAX_WARNINGS_PER_CODE

    def findings(self) -> list[Diagnostic]:
        """The warnings kept, then a note for each code that had more than MAX_WARNINGS_PER_CODE."""
        notes = [Diagnostic(severity=Severity.note, code=code,
                            message=f"… and {count - MAX_WARNINGS_PER_CODE:,} more {code} warnings "
                                    f"(netspec shows the first {MAX_WARNINGS_PER_CODE} of each code)")
                 for code, count in self._warning_counts.items() if count > MAX_WARNINGS_PER_CODE]
        return [*self.diagnostics, *notes]

    def count_layers(self, count: int, span: Span | None) -> None:
        self.layer_count += count
        if self.layer_count > self.limits.layers:
            raise error("E503", f"more than {self.limits.layers:,} layers were created", span,
                        hint="netspec bounds the size of a network; check the loop that builds it")

    # -- statements -----------------------------------------------------------------------
    def _hoist_functions(self, statements: list[Tree], file: str) -> None:
        """MATLAB scripts may call local functions defined further down the file.

        Each run of a file hoists them again (a file imported twice defines them twice, alike)."""
        defined: set[str] = set()
        for statement in statements:
            if isinstance(statement, Tree) and statement.data == "function_def":
                function = self._function_def(statement, file)
                if function.name in defined:
                    raise error("E112", f"function `{function.name}` is defined twice", _span(statement, file),
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

    def _block(self, statements: list, scope: _Scope) -> None:
        for statement in statements:
            self._tick(statement)
            method = self._STATEMENTS.get(statement.data)
            method(self, statement, scope)

    def _charge(self, value: Value, node: Tree) -> Value:
        """Count the elements an operation produced against the work budget."""
        size = value.numel if isinstance(value, (Matrix, Cell)) else len(value.text) \
            if isinstance(value, (Char, Str)) else len(value) if isinstance(value, LayerArray) else 1
        self._spend(size, node)
        return value

    def _spend(self, elements: int, node: Tree) -> None:
        """Count `elements` written against the work budget."""
        self.work += elements
        if self.work > self.limits.work:
            raise error("E501", f"the spec computed more than {self.limits.work:,} array elements",
                        _span(node, self.file), label="still computing here", hint=WORK_HINT)

    def _tick(self, node: Tree) -> None:
        self.steps += 1
        self.running, self.running_file = node, self.file
        if self.steps > self.limits.steps:
            raise error("E501", f"the spec ran more than {self.limits.steps:,} steps", _span(node, self.file),
                        label="still running here",
                        hint="netspec bounds loops so a spec always ends; check this loop's bounds")

    def _stmt_assign(self, node: Tree, scope: _Scope) -> None:
        target, rhs = node.children
        if isinstance(target, Tree) and target.data == "matrix":
            self._multi_assign(node, target, rhs, scope)
            return
        root, steps = self._lvalue(target)
        if root in scope.pinned:
            return  # bound by --set: the command line wins over the file
        if scope.sites is not None:
            scope.sites[root] = (node, self.file)
        if rhs.data == "matrix" and not rhs.children and steps and steps[-1][0] == "paren":
            self._delete(root, steps, scope, target)
            return
        value = self._eval(rhs, scope)
        if isinstance(value, CSList):
            value = value.items[0] if value.items else Matrix.empty()
        if isinstance(value, Opaque) and not steps and not value.structural:
            value = replace(value, variable=root)  # --set binds the nearest variable
        if not steps:
            scope.variables[root] = value
            return
        current = scope.variables.get(root)
        scope.variables[root] = self._assign_path(current, steps, value, target, scope)

    def _multi_assign(self, node: Tree, target: Tree, rhs: Tree, scope: _Scope) -> None:
        names: list[str | None] = []
        for row in target.children:
            for element in row.children:
                if element.data == "placeholder":
                    names.append(None)
                elif element.data == "name":
                    names.append(_token_text(element))
                else:
                    raise error("E113", "only variable names can receive multiple outputs", _span(element, self.file),
                                hint="write [a, b] = f(...)")
        values = self._eval_multi(rhs, scope, len(names))
        for name, value in zip(names, values):
            if name is not None and name not in scope.pinned:
                if isinstance(value, Opaque) and not value.structural:
                    value = replace(value, variable=name)
                scope.variables[name] = value
                if scope.sites is not None:
                    scope.sites[name] = (node, self.file)

    def _stmt_expr_stmt(self, node: Tree, scope: _Scope) -> None:
        expr = node.children[0]
        if expr.data == "name":
            name = _token_text(expr)
            if name not in scope.variables:
                self._call_function(name, [], 0, expr, scope)
            return
        if expr.data == "call" and expr.children[0].data == "name" \
                and _token_text(expr.children[0]) not in scope.variables:
            args = self._args(expr.children[1] if len(expr.children) > 1 else None, scope, None)
            self._call_function(_token_text(expr.children[0]), args, 0, expr, scope)
            return
        self._eval(expr, scope)

    def _stmt_command(self, node: Tree, scope: _Scope) -> None:
        name = str(node.children[0])
        args = [Arg(Char(str(word)), _span(word, self.file)) for word in node.children[1:]]
        self._call_function(name, args, 0, node, scope)

    def _stmt_for_stmt(self, node: Tree, scope: _Scope) -> None:
        variable, iterable_node, body = node.children
        name = str(variable)
        iterable = self._eval(iterable_node, scope)
        if isinstance(iterable, Opaque):
            self.warn("W101", f"the loop over {iterable.describe()} is skipped: netspec cannot compute its range",
                      _span(iterable_node, self.file),
                      hint=f"bind it with --set {iterable.binding()}=VALUE" if iterable.binding() else None)
            return
        if scope.sites is not None and name not in scope.pinned and numel(iterable):
            scope.sites[name] = (node, self.file)
        for item in self._iterate(iterable, iterable_node):
            self._tick(node)
            if name not in scope.pinned:
                scope.variables[name] = item
            try:
                self._block(body.children, scope)
            except _Break:
                break
            except _Continue:
                continue

    def _iterate(self, value: Value, node: Tree):
        if isinstance(value, Matrix):
            if value.rows <= 1:
                for x in value.data:
                    yield Matrix.scalar(x, value.logical)
            else:
                for c in range(value.cols):
                    yield Matrix(value.rows, 1, value.data[c * value.rows:(c + 1) * value.rows], value.logical)
        elif isinstance(value, Cell):
            for c in range(value.cols):
                yield Cell(value.rows, 1, value.items[c * value.rows:(c + 1) * value.rows])
        elif isinstance(value, LayerArray):
            for layer in value.layers:
                yield LayerArray([layer])
        elif isinstance(value, (Char, Str)):
            for ch in value.text:
                yield Char(ch)
        else:
            raise error("E114", f"cannot loop over a {type_name(value)}", _span(node, self.file))

    def _stmt_while_stmt(self, node: Tree, scope: _Scope) -> None:
        condition, body = node.children
        while self._condition(condition, scope, "while"):
            self._tick(node)
            try:
                self._block(body.children, scope)
            except _Break:
                break
            except _Continue:
                continue

    def _condition(self, node: Tree, scope: _Scope, keyword: str) -> bool:
        value = self._eval(node, scope)
        if isinstance(value, Opaque):
            self.warn("W102", f"this `{keyword}` depends on {value.describe()}, which netspec cannot compute; "
                      "treated as false", _span(node, self.file),
                      hint=f"bind it with --set {value.binding()}=VALUE" if value.binding() else None)
            return False
        try:
            return truth(value)
        except OperatorError as exc:
            raise error("E115", str(exc), _span(node, self.file)) from None

    def _stmt_if_stmt(self, node: Tree, scope: _Scope) -> None:
        children = node.children
        if self._condition(children[0], scope, "if"):
            self._block(children[1].children, scope)
            return
        for clause in children[2:]:
            if clause.data == "elseif_clause":
                if self._condition(clause.children[0], scope, "elseif"):
                    self._block(clause.children[1].children, scope)
                    return
            else:
                self._block(clause.children[-1].children, scope)
                return

    def _stmt_switch_stmt(self, node: Tree, scope: _Scope) -> None:
        subject = self._eval(node.children[0], scope)
        for clause in node.children[1:]:
            if clause.data == "otherwise_clause":
                self._block(clause.children[-1].children, scope)
                return
            candidates = self._eval(clause.children[0], scope)
            options = candidates.items if isinstance(candidates, Cell) else [candidates]
            if any(self._switch_match(subject, option) for option in options):
                self._block(clause.children[1].children, scope)
                return

    @staticmethod
    def _switch_match(subject: Value, option: Value) -> bool:
        if isinstance(subject, (Char, Str)) and isinstance(option, (Char, Str)):
            return subject.text == option.text
        if isinstance(subject, Matrix) and isinstance(option, Matrix) and subject.is_scalar() and option.is_scalar():
            return subject.data[0] == option.data[0]
        return False

    def _stmt_function_def(self, node: Tree, scope: _Scope) -> None:
        if scope.function is not None:
            raise error("E116", "functions cannot be defined inside functions", _span(node, self.file),
                        hint="move this definition to the end of the file")

    def _stmt_import_file(self, node: Tree, scope: _Scope) -> None:
        token = node.children[0]
        target = str(token)[1:-1]
        span = _span(token, self.file)
        path = self._import_paths.get((self.file, target))
        if path is None:
            path = self._import_paths[self.file, target] = self._import_path(target, span)
        key = str(path)
        chain = [self.root_file, *self.import_stack]
        if key in chain:
            raise error("E602", f"'{target}' is already being imported (an import cycle)", span,
                        notes=[" -> ".join(Path(p).name for p in [*chain, key])])
        if len(self.import_stack) >= self.limits.imports:
            raise error("E603", "imports are nested too deeply", span)
        self.import_stack.append(key)
        saved_bindings, self.bindings = self.bindings, {}
        try:
            variables = self.run_file(path, span)
            sites = self.sites  # the imported file's
        finally:
            self.bindings = saved_bindings
            self.import_stack.pop()
        for name, value in variables.items():
            if name not in scope.pinned:
                scope.variables[name] = value
                if scope.sites is not None:
                    scope.sites[name] = sites.get(name, (node, self.file))

    def _import_path(self, target: str, span: Span | None) -> Path:
        """The file `import "target"` in the current file reads, once checked (asked once per load:
        resolving a path costs system calls, and a loop may import the same file a million times)."""
        base = Path(self.file).parent if self.file not in ("<string>",) else Path.cwd()
        path = self._resolve_import(base, target, span)
        if path.suffix not in (".net", ".m"):
            raise error("E601", f"import reads only .net and .m files, not '{target}'", span,
                        hint="netspec imports other network definitions, nothing else")
        if not self.import_stack:  # an import of the top-level file: it roots the chain
            self.root_file = str(Path(self.file).resolve())
            self.import_folders = [base.resolve(), *(Path(extra).resolve() for extra in self.limits.search_folders)]
        if not any(path.is_relative_to(folder) for folder in self.import_folders):
            raise error("E605", f"cannot import '{target}': it is outside the spec's folder", span,
                        hint=f"a spec imports files from {self.import_folders[0]} and the folders below it")
        try:
            found = path.exists()  # what kind of file it is, `read_source` says
        except OSError as exc:  # a name too long for the OS
            raise error("E604", f"cannot import '{target}': {exc.strerror}", span) from None
        if not found:
            raise error("E604", f"cannot import '{target}': no such file", span,
                        hint=f"the path is relative to {base}")
        return path

    @staticmethod
    def _resolve_import(base: Path, target: str, span: Span | None) -> Path:
        """The file an import names, symlinks resolved; a located error for a name the OS refuses."""
        if "\0" in target:
            raise error("E604", f"cannot import '{target}': a file name cannot hold a NUL character", span)
        try:
            return (base / target).resolve()
        except RuntimeError:  # pathlib's report of a symlink loop
            raise error("E604", f"cannot import '{target}': its symbolic links form a loop", span) from None

    def _stmt_import_package(self, node: Tree, scope: _Scope) -> None:
        parts = [str(t) for t in node.children]
        hint = (f'to import a file, quote it: import "{".".join(parts)}"'
                if parts and parts[-1] in ("net", "m") else None)
        self.warn("W103", "MATLAB package imports are ignored", _span(node, self.file), hint=hint)

    def _stmt_break_stmt(self, node: Tree, scope: _Scope) -> None:
        raise _Break()

    def _stmt_continue_stmt(self, node: Tree, scope: _Scope) -> None:
        raise _Continue()

    def _stmt_return_stmt(self, node: Tree, scope: _Scope) -> None:
        raise _Return()

    _STATEMENTS: dict[str, Callable] = {}

    # -- expressions ------------------------------------------------------------------------
    def _eval(self, node: Tree, scope: _Scope) -> Value:
        return self._EXPRESSIONS[node.data](self, node, scope)

    def _e_number(self, node: Tree, scope: _Scope) -> Value:
        return Matrix.scalar(float(node.children[0]))

    def _e_char_string(self, node: Tree, scope: _Scope) -> Value:
        return Char(str(node.children[0])[1:-1].replace("''", "'"))

    def _e_string(self, node: Tree, scope: _Scope) -> Value:
        return Str(str(node.children[0])[1:-1].replace('""', '"'))

    def _e_name(self, node: Tree, scope: _Scope) -> Value:
        name = _token_text(node)
        value = scope.variables.get(name)
        if value is not None:
            return value
        result = self._first(self._call_function(name, [], 1, node, scope), node)
        if isinstance(result, Opaque) and result.origin == name and name not in self.functions:
            return replace(result, free_name=True)
        return result

    def _e_paren(self, node: Tree, scope: _Scope) -> Value:
        value = self._eval(node.children[0], scope)
        return value.items[0] if isinstance(value, CSList) and value.items else value

    def _e_end_index(self, node: Tree, scope: _Scope) -> Value:
        if not self._ends:
            raise error("E117", "`end` is used outside of indexing", _span(node, self.file),
                        hint="`end` means the last index only inside x(...) or c{...}")
        context = self._ends[-1]
        rows, cols = size_of(context.value)
        if context.count == 1:
            extent = numel(context.value)
        elif context.position == 0:
            extent = rows
        elif context.position == 1:
            extent = cols
        else:
            extent = 1
        return Matrix.scalar(float(extent))

    def _e_placeholder(self, node: Tree, scope: _Scope) -> Value:
        raise error("E118", "`~` stands for an ignored output only on the left of `=`", _span(node, self.file))

    def _e_function_handle(self, node: Tree, scope: _Scope) -> Value:
        return FunctionHandle(name=str(node.children[0]))

    def _e_anon_fn(self, node: Tree, scope: _Scope) -> Value:
        params = [str(t) for t in node.children[:-1] if isinstance(t, Token)]
        return FunctionHandle(params=params, body=node.children[-1])

    def _e_transpose(self, node: Tree, scope: _Scope) -> Value:
        value = self._eval(node.children[0], scope)
        if isinstance(value, Matrix):
            data = [value.data[c * value.rows + r] for r in range(value.rows) for c in range(value.cols)]
            return Matrix(value.cols, value.rows, data, value.logical)
        if isinstance(value, (LayerArray, Opaque, Str)):
            return value
        if isinstance(value, Cell):
            items = [value.items[c * value.rows + r] for r in range(value.rows) for c in range(value.cols)]
            return Cell(value.cols, value.rows, items)
        if isinstance(value, Char):
            return value if len(value.text) <= 1 else Cell(len(value.text), 1, [Char(c) for c in value.text])
        raise error("E119", f"cannot transpose a {type_name(value)}", _span(node, self.file))

    def _e_unop(self, node: Tree, scope: _Scope) -> Value:
        op, operand = node.children
        value = self._eval(operand, scope)
        return self._apply_unary(str(op), value, node)

    def _apply_unary(self, op: str, value: Value, node: Tree) -> Value:
        if isinstance(value, Opaque):
            return value
        try:
            return unary("~" if op == "!" else op, value)
        except OperatorError as exc:
            raise error("E120", str(exc), _span(node, self.file)) from None

    def _e_chain(self, node: Tree, scope: _Scope) -> Value:
        children = node.children
        if len(children) == 3 and children[1] not in _NOT_PLAIN_BINARY and children[0].data != "unop" \
                and children[2].data != "unop":  # `n - 1`, `i < 2`: no precedence to work out
            left, right = self._eval_operand(children[0], scope)[1], self._eval_operand(children[2], scope)[1]
            return self._apply_binary(str(children[1]), left, right, node)
        operands = children[0::2]
        ops = [str(t) for t in children[1::2]]
        if any(op in ("&&", "||") for op in ops):
            return self._eval_lazy_chain(operands, ops, node, scope)
        values = [self._eval_operand(o, scope) for o in operands]
        result = order_chain(values, ops, lambda op, a, b: self._chain_binary(op, a, b, node),
                             lambda op, v: self._apply_unary(op, self._settle(v, node), node), lambda item: item)
        return self._settle(result, node)

    def _chain_binary(self, op: str, left, right, node: Tree):
        if op == ":":
            left, right = self._operand(left, node), self._operand(right, node)
            if isinstance(left, _PendingRange) and not left.extended:
                return _PendingRange(left.start, right, step=left.stop, extended=True)
            return _PendingRange(self._settle(left, node), right)
        return self._apply_binary(op, self._settle(left, node), self._settle(right, node), node)

    def _operand(self, item, node: Tree):
        return self._apply_prefixes(item, node) if isinstance(item, tuple) else item

    def _settle(self, item, node: Tree) -> Value:
        """Turn a chain intermediate (prefixed operand, pending range) into a value."""
        item = self._operand(item, node)
        if isinstance(item, _PendingRange):
            return self._range(item.start, item.step, self._settle(item.stop, node), node)
        return item

    def _eval_operand(self, operand: Tree, scope: _Scope):
        """Evaluate an operand, keeping its prefix operators apart (see order_chain)."""
        prefixes = []
        while operand.data == "unop":
            prefixes.append(str(operand.children[0]))
            operand = operand.children[1]
        value = self._eval(operand, scope)
        if isinstance(value, CSList):
            value = value.items[0] if value.items else Matrix.empty()
        return (prefixes, value)

    def _eval_lazy_chain(self, operands: list, ops: list[str], node: Tree, scope: _Scope) -> Value:
        """`&&`/`||` short-circuit: build the tree first, evaluate it lazily."""
        tree = order_chain(operands, ops, lambda op, a, b: ("bin", op, a, b), lambda op, v: ("un", op, v),
                           self._split_unary)
        return self._run_lazy(tree, node, scope)

    def _run_lazy(self, item, node: Tree, scope: _Scope) -> Value:
        """One node of `_eval_lazy_chain`'s tree (a method: a nested function calling itself is a
        reference cycle, left for the cyclic collector)."""
        if isinstance(item, Tree):
            return self._eval(item, scope)
        kind = item[0]
        if kind == "un":
            return self._apply_unary(item[1], self._run_lazy(item[2], node, scope), node)
        op, left, right = item[1], item[2], item[3]
        if op in ("&&", "||"):
            a = self._run_lazy(left, node, scope)
            if isinstance(a, Opaque):
                return a
            truth_a = self._truth(a, node)
            if op == "&&" and not truth_a:
                return Matrix.scalar(0.0, logical=True)
            if op == "||" and truth_a:
                return Matrix.scalar(1.0, logical=True)
            b = self._run_lazy(right, node, scope)
            if isinstance(b, Opaque):
                return b
            return Matrix.scalar(float(self._truth(b, node)), logical=True)
        return self._apply_binary(op, self._run_lazy(left, node, scope), self._run_lazy(right, node, scope), node)

    @staticmethod
    def _split_unary(operand: Tree):
        prefixes = []
        while operand.data == "unop":
            prefixes.append(str(operand.children[0]))
            operand = operand.children[1]
        return prefixes, operand

    def _truth(self, value: Value, node: Tree) -> bool:
        try:
            return truth(value)
        except OperatorError as exc:
            raise error("E115", str(exc), _span(node, self.file)) from None

    def _apply_binary(self, op: str, left: Value, right: Value, node: Tree) -> Value:
        if op == ":":
            return self._range(left, None, right, node)
        if isinstance(left, Opaque):
            return left
        if isinstance(right, Opaque):
            return right
        if isinstance(left, Matrix) and left.numel == 0 and isinstance(right, Matrix) and right.numel == 0 \
                and op not in ("+", "-"):
            return Matrix.empty()
        if op == "*" and isinstance(left, Matrix) and isinstance(right, Matrix) \
                and not (left.is_scalar() or right.is_scalar()) and left.cols == right.rows:
            self._charge_product(left, right, node)
        try:
            return self._charge(binary(op, left, right), node)
        except OperatorLimit as exc:
            raise self._limit_error(exc, "", node) from None
        except OperatorError as exc:
            raise error("E120", str(exc), _span(node, self.file)) from None

    def _charge_product(self, left: Matrix, right: Matrix, node: Tree) -> None:
        """Count a matrix product's multiply-adds against the work budget before doing them."""
        cost = left.rows * left.cols * right.cols
        if cost > self.limits.work:
            raise error("E501", f"the product {left.rows}x{left.cols} * {right.rows}x{right.cols} is more work "
                        f"than netspec allows ({cost:,} multiply-adds, the limit is {self.limits.work:,})",
                        _span(node, self.file), label="too much work", hint=WORK_HINT)
        self.work += cost
        if self.work > self.limits.work:
            self._charge(Matrix.empty(), node)

    def _limit_error(self, exc: OperatorLimit, prefix: str, node: Tree) -> NetspecError:
        return error(exc.code, f"{prefix}{exc}", _span(node, self.file),
                     hint=WORK_HINT if exc.code == "E501" else SIZE_HINT)

    def _apply_prefixes(self, item, node: Tree) -> Value:
        prefixes, value = item
        for prefix in reversed(prefixes):
            value = self._apply_unary(prefix, value, node)
        return value

    def _range(self, start: Value, step: Value | None, stop: Value, node: Tree) -> Value:
        for part in (start, step, stop):
            if isinstance(part, Opaque):
                return part
        numbers = []
        for part in (start, step, stop):
            if part is None:
                numbers.append(1.0)
                continue
            if not isinstance(part, Matrix) or part.numel == 0:
                return Matrix(1, 0, [])
            numbers.append(part.data[0])
        a, s, b = numbers
        if math.isnan(a) or math.isnan(b) or math.isnan(s):
            return Matrix.scalar(math.nan)  # MATLAB: a NaN operand gives NaN
        if s == 0 or (s > 0 and a > b) or (s < 0 and a < b):
            return Matrix(1, 0, [])
        span = (b - a) / s
        if not math.isfinite(span) or span > self.limits.elements:
            raise error("E502", f"the range {a:g}:{s:g}:{b:g} has more elements than netspec allows "
                        f"({self.limits.elements:,})", _span(node, self.file))
        count = int(math.floor(span + 1e-10)) + 1
        if count > self.limits.elements:
            raise error("E502", f"the range has {count:,} elements, more than netspec allows "
                        f"({self.limits.elements:,})", _span(node, self.file))
        self.work += count
        if self.work > self.limits.work:
            self._charge(Matrix.empty(), node)
        if count == 1:
            return Matrix.scalar(a)  # `1:Inf:10` is 1, not 1 + 0*Inf
        return Matrix.row([a + i * s for i in range(count)])

    def _e_matrix(self, node: Tree, scope: _Scope) -> Value:
        if all(element.data == "number" for row in node.children for element in row.children):
            # numbers written out (`[1 16 1 1; 6 24 2 2]`, or half a million on one line): one row
            # of floats per row, rather than a scalar Matrix per number first
            rows = [[Matrix.row([float(element.children[0]) for element in row.children])] for row in node.children]
        else:
            rows = [expand([self._eval(e, scope) for e in row.children]) for row in node.children]
        return self._concatenate(rows, node)

    def _element_node(self, node: Tree, rows: list[list[Value]], value: Value) -> Tree | None:
        """The element of the array `node` (evaluated to `rows`) that gave `value`.

        Only for a diagnostic: the element is found by identity; None when a comma-separated
        list (`layers.Name`) changed the count of its row, so its node is not known.
        """
        if node.data in ("matrix", "cell_array"):
            for row, row_node in zip(rows, node.children):
                for position, item in enumerate(row):
                    if item is value:
                        return row_node.children[position] if len(row) == len(row_node.children) else None
        return None

    def _element_span(self, node: Tree, rows: list[list[Value]], value: Value) -> Span | None:
        """Where the element `value` of the array `node` is written, else the whole array."""
        return _span(self._element_node(node, rows, value) or node, self.file)

    def _concatenate(self, rows: list[list[Value]], node: Tree) -> Value:
        """MATLAB's [a b; c d]: numbers into a matrix, text joined, layer arrays spliced."""
        result = self._concatenate_values(rows, node)
        if not isinstance(result, LayerArray):  # a layer array counts its own work (_concatenate_layers)
            self._charge(result, node)
        size = (len(result) if isinstance(result, LayerArray) else
                len(result.text) if isinstance(result, (Char, Str)) else
                result.numel if isinstance(result, (Matrix, Cell)) else 0)
        limit = self.limits.layers if isinstance(result, LayerArray) else self.limits.elements
        if size > limit:
            raise error("E502", f"the array has {size:,} elements, more than netspec allows ({limit:,})",
                        _span(node, self.file), hint="netspec bounds array sizes; check the loop that grows it")
        return result

    def _concatenate_values(self, rows: list[list[Value]], node: Tree) -> Value:
        flat = [v for row in rows for v in row]
        if len(rows) == 1 and any(isinstance(v, Opaque) and v.free_name for v in flat) and all(
                (isinstance(v, Opaque) and v.free_name) or (isinstance(v, Matrix) and v.is_scalar()) for v in flat):
            return SymbolicSize([v.origin if isinstance(v, Opaque) else v.data[0] for v in flat])
        for value in flat:
            if isinstance(value, Opaque):
                return value
        if not flat:
            return Matrix.empty()
        if any(isinstance(v, (LayerArray, Graph)) for v in flat):
            return self._concatenate_layers(flat, rows, node)
        if any(isinstance(v, Cell) for v in flat):
            return self._concat_cells(rows, node)
        if any(isinstance(v, Str) for v in flat):
            texts = [self._text_of(v, node, rows) for v in flat]
            return Str("".join(texts)) if len(texts) == 1 else Cell.row([Str(t) for t in texts]) \
                if all(isinstance(v, Str) for v in flat) else Str("".join(texts))
        if any(isinstance(v, Char) for v in flat):
            row_texts = []
            for row in rows:
                row_texts.append("".join(self._text_of(v, node, rows) for v in row))
            row_texts = [t for t in row_texts if t]
            if len(row_texts) > 1:
                raise error("E122", "netspec does not support char matrices (text stacked in rows)",
                            _span(node, self.file), hint="use a cell array {'ab'; 'cd'} for a list of names")
            return Char(row_texts[0] if row_texts else "")
        return self._concat_numbers(rows, node)

    def _concatenate_layers(self, flat: list[Value], rows: list[list[Value]], node: Tree) -> LayerArray:
        """Layer arrays spliced. `[layers; block]` grows `layers` where it is stored (see
        `LayerArray`), so only the layers written count as work, not the whole array again."""
        arrays = []
        for value in flat:
            if isinstance(value, LayerArray):
                arrays.append(value)
            elif not (isinstance(value, Matrix) and value.numel == 0):
                element = self._element_node(node, rows, value)
                raise error("E121", f"cannot put a {type_name(value)} in a layer array",
                            _span(element or node, self.file), label="not a layer" if element else None,
                            hint="a layer array holds layers only; a layer graph is combined with addLayers")
        first, more = arrays[0], [layer for array in arrays[1:] for layer in array.layers]
        self._spend(len(more) if first.is_latest() else len(first) + len(more), node)
        return first.grown(more)

    def _text_of(self, value: Value, node: Tree, rows: list[list[Value]]) -> str:
        if isinstance(value, (Char, Str)):
            return value.text
        if isinstance(value, Matrix):
            return "".join(chr(int(x)) for x in value.data if is_character_code(x))
        raise error("E121", f"cannot join a {type_name(value)} with text", self._element_span(node, rows, value))

    def _concat_numbers(self, rows: list[list[Value]], node: Tree) -> Matrix:
        blocks: list[Matrix] = []
        for row in rows:
            parts = []
            for value in row:
                if not isinstance(value, Matrix):
                    raise error("E121", f"cannot put a {type_name(value)} in a numeric array",
                                self._element_span(node, rows, value))
                if value.numel:
                    parts.append(value)
            if not parts:
                continue
            height = parts[0].rows
            if any(p.rows != height for p in parts):
                raise error("E123", "dimensions of arrays being concatenated are not consistent",
                            _span(node, self.file), hint="every element of a row must have the same number of rows")
            data: list[float] = []
            for p in parts:
                data.extend(p.data)
            blocks.append(Matrix(height, sum(p.cols for p in parts), data, all(p.logical for p in parts)))
        if not blocks:
            return Matrix.empty()
        if len(blocks) == 1:
            result = blocks[0]
        else:
            width = blocks[0].cols
            if any(b.cols != width for b in blocks):
                raise error("E123", "dimensions of arrays being concatenated are not consistent",
                            _span(node, self.file), hint="every row must have the same number of columns")
            height = sum(b.rows for b in blocks)
            data = [0.0] * (height * width)
            offset = 0
            for b in blocks:
                for c in range(width):
                    for r in range(b.rows):
                        data[c * height + offset + r] = b.data[c * b.rows + r]
                offset += b.rows
            result = Matrix(height, width, data, all(b.logical for b in blocks))
        if result.numel > self.limits.elements:
            raise error("E502", "array too large", _span(node, self.file))
        return result

    def _concat_cells(self, rows: list[list[Value]], node: Tree) -> Cell:
        grid: list[list[Value]] = []
        for row in rows:
            items: list[Value] = []
            for value in row:
                if isinstance(value, Cell):
                    items.extend(value.items)
                elif isinstance(value, Matrix) and value.numel == 0:
                    continue
                else:
                    items.append(value)
            if items:
                grid.append(items)
        return self._cell_grid(grid, node)

    def _cell_grid(self, grid: list[list[Value]], node: Tree) -> Cell:
        if not grid:
            return Cell(0, 0, [])
        width = len(grid[0])
        if any(len(r) != width for r in grid):
            raise error("E123", "rows of a cell array must have the same number of elements", _span(node, self.file))
        items = [grid[r][c] for c in range(width) for r in range(len(grid))]
        return Cell(len(grid), width, items)

    def _e_cell_array(self, node: Tree, scope: _Scope) -> Value:
        grid = [expand([self._eval(e, scope) for e in row.children]) for row in node.children]
        return self._cell_grid([r for r in grid if r], node)

    def _e_field(self, node: Tree, scope: _Scope) -> Value:
        target, name_token = node.children
        value = self._eval(target, scope)
        return self._get_field(value, str(name_token), node)

    def _e_dynamic_field(self, node: Tree, scope: _Scope) -> Value:
        value = self._eval(node.children[0], scope)
        key = self._eval(node.children[1], scope)
        if not isinstance(key, (Char, Str)):
            raise error("E124", "a dynamic field name must be text", _span(node.children[1], self.file))
        return self._get_field(value, key.text, node)

    def _get_field(self, value: Value, name: str, node: Tree) -> Value:
        if isinstance(value, Opaque):
            return Opaque(f"{value.origin}.{name}", value.span, value.variable)
        if isinstance(value, Struct):
            if name in value.fields:
                return value.fields[name]
            guess = suggest(name, value.fields)
            raise error("E125", f"the struct has no field '{name}'", _span(node, self.file),
                        hint=f"did you mean '{guess}'?" if guess else None)
        if isinstance(value, Graph):
            result = graph_property(value, name)
            if result is not None:
                return result
            raise error("E125", f"a {value.kind} has no property '{name}'", _span(node, self.file),
                        hint="it has Layers, Connections, InputNames and OutputNames")
        if isinstance(value, LayerArray):
            results = []
            for layer in value.layers:
                result = layer_property(layer, name)
                if result is None:
                    fields = [type(layer).matlab_option(f) for f in type(layer).option_fields().values()]
                    guess = suggest(name, fields)
                    raise error("E125", f"{layer.matlab} has no property '{name}'", _span(node, self.file),
                                hint=f"did you mean '{guess}'?" if guess else None)
                results.append(result)
            return results[0] if len(results) == 1 else CSList(results)
        if isinstance(value, OptionsValue):
            fname = {option_key(f): f for f in type(value.options).model_fields}.get(option_key(name))
            if fname is not None and fname != "span":
                return from_python(getattr(value.options, fname))
        raise error("E125", f"a {type_name(value)} has no property '{name}'", _span(node, self.file))

    def _e_brace_index(self, node: Tree, scope: _Scope) -> Value:
        target = self._eval(node.children[0], scope)
        indices = self._index_args(node.children[1] if len(node.children) > 1 else None, target, scope)
        if isinstance(target, Opaque):
            return target
        if not isinstance(target, Cell):
            raise error("E126", f"brace indexing needs a cell array, not a {type_name(target)}",
                        _span(node, self.file), hint="use parentheses to index arrays")
        selected = self._select(target, indices, node)
        return selected.items[0] if len(selected.items) == 1 else CSList(list(selected.items))

    def _e_call(self, node: Tree, scope: _Scope) -> Value:
        return self._first(self._eval_call(node, scope, 1), node)

    def _first(self, values, node: Tree) -> Value:
        if isinstance(values, list):
            if not values:
                raise error("E127", "this call returns no value", _span(node, self.file))
            return values[0]
        return values

    def _eval_multi(self, node: Tree, scope: _Scope, nargout: int) -> list[Value]:
        if node.data == "call":
            values = self._eval_call(node, scope, nargout)
        elif node.data == "name" and _token_text(node) not in scope.variables:
            values = self._call_function(_token_text(node), [], nargout, node, scope)
        else:
            value = self._eval(node, scope)
            values = value.items if isinstance(value, CSList) else [value]
        if not isinstance(values, list):
            values = [values]
        if len(values) < nargout:
            raise error("E128", f"expected {nargout} outputs, the right side gives {len(values)}", _span(node, self.file))
        return values

    def _eval_call(self, node: Tree, scope: _Scope, nargout: int):
        target = node.children[0]
        args_node = node.children[1] if len(node.children) > 1 else None
        if target.data == "name":
            name = _token_text(target)
            if name not in scope.variables:
                args = self._args(args_node, scope, None)
                return self._call_function(name, args, nargout, node, scope)
        value = self._eval(target, scope)
        if isinstance(value, FunctionHandle):
            args = self._args(args_node, scope, None)
            return self._call_handle(value, args, nargout, node, scope)
        indices = self._index_args(args_node, value, scope)
        if isinstance(value, Opaque):
            return value
        return self._select(value, indices, node)

    # -- arguments and indexing --------------------------------------------------------------
    def _args(self, args_node: Tree | None, scope: _Scope, end_value: Value | None) -> list[Arg]:
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

    def _where(self, node: Tree | Token) -> Callable[[], Span | None]:
        file = self.file
        return lambda: self._span_of(node, file)

    def _span_of(self, node: Tree | Token, file: str) -> Span | None:
        """A node's span, remembered: a loop body's nodes are asked for again on every pass."""
        key = (id(node), file)
        cached = self._spans.get(key)
        if cached is None or cached[0] is not node:
            cached = self._spans[key] = (node, _span(node, file))
        return cached[1]

    def _index_args(self, args_node: Tree | None, target: Value, scope: _Scope) -> list:
        if args_node is None:
            return []
        children = args_node.children
        indices = []
        for position, child in enumerate(children):
            if child.data == "colon_all":
                indices.append(None)
                continue
            if child.data == "kwarg":
                raise error("E129", "Name=Value is not an index", _span(child, self.file))
            self._ends.append(_EndContext(target, position, len(children)))
            try:
                value = self._eval(child, scope)
            finally:
                self._ends.pop()
            if isinstance(value, CSList):
                value = value.items[0] if value.items else Matrix.empty()
            indices.append((value, child))
        return indices

    def _positions(self, spec, extent: int, node: Tree, growing: bool = False) -> list[int]:
        """0-based positions for one index (None = `:`); bounds are checked when reading."""
        if spec is None:
            return list(range(extent))
        value, child = spec
        if isinstance(value, Opaque):
            raise self._opaque_error(value, "an index")
        if not isinstance(value, Matrix):
            if isinstance(value, (Char, Str)):
                raise error("E130", f"cannot index with text '{value.text}'", _span(child, self.file),
                            hint="index with numbers, or use a struct field")
            raise error("E130", f"cannot index with a {type_name(value)}", _span(child, self.file))
        if value.logical:
            if len(value.data) > extent and any(value.data[extent:]):
                raise error("E131", f"logical index has {len(value.data)} elements but the array has {extent}",
                            _span(child, self.file))
            return [i for i, x in enumerate(value.data) if x]
        positions = []
        for x in value.data:
            if not float(x).is_integer() or x < 1:
                shown = int(x) if float(x).is_integer() else x
                raise error("E131", f"index must be a positive whole number, got {shown}", _span(child, self.file),
                            hint="MATLAB indices start at 1")
            if not growing and x > extent:
                raise error("E131", f"index {int(x)} is out of bounds: the array has {extent} element"
                            f"{'s' if extent != 1 else ''}", _span(child, self.file),
                            hint="`end` is the last index")
            if x > self.limits.elements:
                raise error("E502", "index too large", _span(child, self.file))
            positions.append(int(x) - 1)
        return positions

    def _select(self, value: Value, indices: list, node: Tree) -> Value:
        if isinstance(value, Graph):
            raise error("E132", f"cannot index a {value.kind}", _span(node, self.file),
                        hint="use .Layers to get its layers, e.g. net.Layers(1:22)")
        if isinstance(value, (Struct, OptionsValue, FunctionHandle)):
            if all(spec is not None and isinstance(spec[0], Matrix) and spec[0].data == [1.0] for spec in indices):
                return value
            raise error("E132", f"cannot index a {type_name(value)}", _span(node, self.file))
        if isinstance(value, Str):
            return value
        if not indices:
            return value
        rows, cols = size_of(value)
        if len(indices) == 1:
            positions = self._positions(indices[0], numel(value), node)
            spec = indices[0]
            shape_rows = (spec is None) or (isinstance(spec[0], Matrix) and spec[0].cols == 1 and spec[0].rows > 1)
            return self._take(value, positions, column=(rows > 1 and cols == 1) or (shape_rows and not (rows == 1)))
        if len(indices) >= 2:
            for extra in indices[2:]:
                if self._positions(extra, 1, node) != [0]:
                    raise error("E131", "index out of bounds in dimension 3", _span(node, self.file))
            row_pos = self._positions(indices[0], rows, node)
            col_pos = self._positions(indices[1], cols, node)
            linear = [c * rows + r for c in col_pos for r in row_pos]
            if isinstance(value, Matrix):
                return Matrix(len(row_pos), len(col_pos), [value.data[i] for i in linear], value.logical)
            if isinstance(value, Cell):
                return Cell(len(row_pos), len(col_pos), [value.items[i] for i in linear])
            return self._take(value, linear, column=len(row_pos) > 1)
        return value

    @staticmethod
    def _take(value: Value, positions: list[int], column: bool) -> Value:
        if isinstance(value, Matrix):
            data = [value.data[i] for i in positions]
            return Matrix(len(data), 1, data, value.logical) if column else Matrix(1 if data else 1, len(data), data, value.logical)
        if isinstance(value, Char):
            return Char("".join(value.text[i] for i in positions))
        if isinstance(value, Cell):
            items = [value.items[i] for i in positions]
            return Cell(len(items), 1, items) if column else Cell(1, len(items), items)
        if isinstance(value, LayerArray):
            return LayerArray([value.layers[i] for i in positions])
        return value

    # -- assignment targets ------------------------------------------------------------------------
    def _lvalue(self, node: Tree) -> tuple[str, list]:
        steps: list = []
        while True:
            if node.data == "name":
                return _token_text(node), list(reversed(steps))
            if node.data == "call":
                steps.append(("paren", node.children[1] if len(node.children) > 1 else None, node))
            elif node.data == "brace_index":
                steps.append(("brace", node.children[1] if len(node.children) > 1 else None, node))
            elif node.data == "field":
                steps.append(("field", str(node.children[1]), node))
            else:
                raise error("E133", "cannot assign to this expression", _span(node, self.file),
                            hint="the left of `=` is a variable, x(i), c{i} or s.field")
            node = node.children[0]

    def _assign_path(self, current: Value | None, steps: list, value: Value, node: Tree, scope: _Scope) -> Value:
        kind, detail, step_node = steps[0]
        rest = steps[1:]
        if isinstance(current, Opaque):
            return current
        if kind == "field":
            return self._set_field(current, detail, rest, value, step_node, scope)
        container = current if current is not None else self._empty_like(value if not rest else None, kind)
        indices = self._index_args(detail, container, scope)
        if rest:
            child = self._select(container, indices, step_node)
            if kind == "brace" and isinstance(child, Cell) and len(child.items) == 1:
                child = child.items[0]
            new_child = self._assign_path(child, rest, value, node, scope)
            if kind == "brace":
                return self._set_cell_item(container, indices, new_child, step_node)
            return self._set_index(container, indices, new_child, step_node)
        if kind == "brace":
            return self._set_cell_item(container, indices, value, step_node)
        return self._set_index(container, indices, value, step_node)

    @staticmethod
    def _empty_like(value: Value | None, kind: str) -> Value:
        if kind == "brace" or isinstance(value, Cell):
            return Cell(0, 0, [])
        if isinstance(value, LayerArray):
            return LayerArray([])
        return Matrix.empty()

    def _set_field(self, current: Value | None, name: str, rest: list, value: Value, node: Tree,
                   scope: _Scope) -> Value:
        if current is None or (isinstance(current, Matrix) and current.numel == 0):
            current = Struct({})
        if isinstance(current, Struct):
            child = current.fields.get(name)
            new_value = self._assign_path(child, rest, value, node, scope) if rest else value
            return Struct({**current.fields, name: new_value})
        if isinstance(current, LayerArray):
            if len(current.layers) != 1:
                raise error("E134", "set a property on one layer at a time: layers(i).Name = ...",
                            _span(node, self.file))
            layer = current.layers[0]
            field = type(layer).option_fields().get(name.replace("_", "").lower())
            if field is None or field == "kind":
                guess = suggest(name, [type(layer).matlab_option(f) for f in type(layer).option_fields().values()])
                raise error("E125", f"{layer.matlab} has no property '{name}'", _span(node, self.file),
                            hint=f"did you mean '{guess}'?" if guess else None)
            if rest:
                raise error("E133", "cannot assign inside a layer property", _span(node, self.file))
            if isinstance(value, Opaque):
                return value
            updated = layer.model_copy()
            try:
                setattr(updated, field, to_python(value))
            except ValidationError as exc:
                message = exc.errors()[0]["msg"]
                message = message[:1].lower() + message[1:]
                raise error("E206", f"invalid {name} for {layer.matlab}: {message.removeprefix('value error, ')}",
                            _span(node, self.file)) from None
            except BuiltinError as exc:
                raise error("E206", f"invalid {name} for {layer.matlab}: {exc}", _span(node, self.file)) from None
            return LayerArray([updated])
        raise error("E135", f"cannot set field '{name}' of a {type_name(current)}", _span(node, self.file))

    def _set_cell_item(self, container: Value, indices: list, value: Value, node: Tree) -> Value:
        if isinstance(container, Matrix) and container.numel == 0:
            container = Cell(0, 0, [])
        if not isinstance(container, Cell):
            raise error("E126", f"brace assignment needs a cell array, not a {type_name(container)}",
                        _span(node, self.file))
        return self._store(container, indices, [value], node)

    def _set_index(self, container: Value, indices: list, value: Value, node: Tree) -> Value:
        if isinstance(container, LayerArray) or isinstance(value, LayerArray):
            if isinstance(container, Matrix) and container.numel == 0:
                container = LayerArray([])
            if not isinstance(container, LayerArray) or not isinstance(value, LayerArray):
                raise error("E136", f"cannot store a {type_name(value)} in a {type_name(container)}",
                            _span(node, self.file))
            return self._store(container, indices, value.layers, node)
        if isinstance(container, Cell):
            items = value.items if isinstance(value, Cell) else [value]
            return self._store(container, indices, items, node)
        if isinstance(container, Matrix) and isinstance(value, Matrix):
            return self._store(container, indices, value.data, node)
        if isinstance(container, Matrix) and container.numel == 0 and isinstance(value, Cell):
            return self._store(Cell(0, 0, []), indices, value.items, node)
        raise error("E136", f"cannot store a {type_name(value)} in a {type_name(container)}", _span(node, self.file))

    def _store(self, container, indices: list, items: list, node: Tree):
        """Indexed assignment with MATLAB's growth rule (new elements are zeros / empty)."""
        if isinstance(container, LayerArray):
            appended = self._appended(container, indices, items, node)
            if appended is not None:
                return appended
            data: list = list(container.layers)
            rows, cols = len(data), 1
        elif isinstance(container, Cell):
            data, rows, cols = list(container.items), container.rows, container.cols
        else:
            data, rows, cols = list(container.data), container.rows, container.cols
        filler = Matrix.empty() if isinstance(container, Cell) else 0.0
        if len(indices) == 1:
            positions = self._positions(indices[0], len(data), node, growing=True)
            needed = max(positions, default=-1) + 1
            if needed > len(data):
                if isinstance(container, LayerArray) and needed > len(data) + len(positions):
                    raise error("E137", "a layer array cannot have gaps", _span(node, self.file),
                                hint="append with layers(end+1) = ...")
                data.extend([filler] * (needed - len(data)))
                if rows <= 1:
                    rows, cols = (1 if data else 0), len(data)
                else:
                    rows = len(data)
            targets = positions
        else:
            row_pos = self._positions(indices[0], rows, node, growing=True)
            col_pos = self._positions(indices[1], cols, node, growing=True)
            new_rows, new_cols = max(rows, max(row_pos, default=-1) + 1), max(cols, max(col_pos, default=-1) + 1)
            if new_rows * new_cols > self.limits.elements:
                raise error("E502", f"the array would have {new_rows:,}x{new_cols:,} elements, more than netspec "
                            f"allows ({self.limits.elements:,})", _span(node, self.file), hint=SIZE_HINT)
            if (new_rows, new_cols) != (rows, cols):
                grown = [filler] * (new_rows * new_cols)
                for c in range(cols):
                    for r in range(rows):
                        grown[c * new_rows + r] = data[c * rows + r]
                data, rows, cols = grown, new_rows, new_cols
            targets = [c * rows + r for c in col_pos for r in row_pos]
        if len(data) > self.limits.elements:
            raise error("E502", "array too large", _span(node, self.file))
        self._spend(len(data), node)  # the stored value is a new array: `x(n) = v` in a loop copies x each time
        if len(items) == 1:
            for t in targets:
                data[t] = items[0]
        elif len(items) == len(targets):
            for t, item in zip(targets, items):
                data[t] = item
        else:
            raise error("E138", f"cannot assign {len(items)} elements to {len(targets)} positions",
                        _span(node, self.file))
        if isinstance(container, LayerArray):
            return LayerArray(data)
        if isinstance(container, Cell):
            return Cell(rows, cols, data)
        return Matrix(rows, cols, data)

    def _appended(self, container: LayerArray, indices: list, items: list, node: Tree) -> LayerArray | None:
        """`layers(end+1) = layer`: the array grown where it is stored (see `LayerArray`), not copied."""
        if len(indices) != 1:
            return None
        count = len(container)
        if self._positions(indices[0], count, node, growing=True) != list(range(count, count + len(items))):
            return None
        return container.grown(items)

    def _delete(self, root: str, steps: list, scope: _Scope, node: Tree) -> None:
        """`x(idx) = []` removes elements (a common way to drop a network's last layers)."""
        path, (_, detail, step_node) = steps[:-1], steps[-1]
        if path:
            raise error("E139", "element deletion works on a variable, e.g. layers(end-2:end) = []",
                        _span(node, self.file))
        container = scope.variables.get(root)
        if container is None:
            raise error("E140", f"undefined variable '{root}'", _span(node, self.file))
        if isinstance(container, Opaque):
            return
        indices = self._index_args(detail, container, scope)
        if len(indices) != 1:
            rows, cols = size_of(container)
            if len(indices) == 2 and isinstance(container, (Matrix, Cell)):
                if indices[0] is None:
                    gone = set(self._positions(indices[1], cols, step_node))
                    keep = [c for c in range(cols) if c not in gone]
                    picked = [(r, c) for c in keep for r in range(rows)]
                    new_rows, new_cols = rows, len(keep)
                elif indices[1] is None:
                    gone = set(self._positions(indices[0], rows, step_node))
                    keep = [r for r in range(rows) if r not in gone]
                    picked = [(r, c) for c in range(cols) for r in keep]
                    new_rows, new_cols = len(keep), cols
                else:
                    raise error("E139", "delete whole rows or columns: x(i,:) = [] or x(:,j) = []",
                                _span(node, self.file))
                source = container.data if isinstance(container, Matrix) else container.items
                data = [source[c * rows + r] for r, c in picked]
                scope.variables[root] = Matrix(new_rows, new_cols, data) if isinstance(container, Matrix) \
                    else Cell(new_rows, new_cols, data)
                return
            raise error("E139", "delete with a single index", _span(node, self.file))
        gone = set(self._positions(indices[0], numel(container), step_node))
        if isinstance(container, LayerArray):
            scope.variables[root] = LayerArray([l for i, l in enumerate(container.layers) if i not in gone])
        elif isinstance(container, Cell):
            items = [x for i, x in enumerate(container.items) if i not in gone]
            scope.variables[root] = Cell(1, len(items), items) if container.rows <= 1 else Cell(len(items), 1, items)
        elif isinstance(container, Matrix):
            data = [x for i, x in enumerate(container.data) if i not in gone]
            scope.variables[root] = Matrix(len(data), 1, data) if container.cols == 1 and container.rows > 1 \
                else Matrix(1, len(data), data)
        elif isinstance(container, Char):
            scope.variables[root] = Char("".join(c for i, c in enumerate(container.text) if i not in gone))
        else:
            raise error("E139", f"cannot delete elements of a {type_name(container)}", _span(node, self.file))

    # -- function calls -------------------------------------------------------------------------
    def _call_function(self, name: str, args: list[Arg], nargout: int, node: Tree, scope: _Scope):
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
                if isinstance(arg.value, Opaque):
                    return arg.value
            return self._call_builtin(name, lambda: simple(args, nargout), args, node)
        span = _span(node, self.file)
        if name in NO_OP_FUNCTIONS or name in DATA_FUNCTIONS:
            return [Opaque(name, span)] * max(nargout, 1)
        # MATLAB is case-sensitive, but real files write ClassificationLayer
        proper = _LIBRARY_BY_LOWER_CASE.get(name.lower())
        if proper is not None:
            self.warn("W104", f"`{name}` is spelled `{proper}` in MATLAB; netspec reads it as `{proper}`", span,
                      hint=f"write `{proper}`")
            implementation = LIBRARY[proper]
            return self._call_builtin(proper, lambda: implementation(self, args, nargout, span), args, node)
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
            span = args[exc.arg].span if exc.arg is not None and exc.arg < len(args) else _span(node, self.file)
            raise error(exc.code, f"{name}: {exc}", span, hint=exc.hint) from None
        except OperatorLimit as exc:
            raise self._limit_error(exc, f"{name}: ", node) from None
        except OperatorError as exc:
            raise error("E141", f"{name}: {exc}", _span(node, self.file)) from None

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
        inner = _Scope(variables, function=function.name)
        self.depth += 1
        previous, self.file = self.file, function.file
        try:
            self._block(function.body.children, inner)
        except _Return:
            pass
        except (_Break, _Continue):
            pass
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

    def _call_handle(self, handle: FunctionHandle, args: list[Arg], nargout: int, node: Tree, scope: _Scope):
        if handle.name is not None:
            return self._call_function(handle.name, args, nargout, node, scope)
        if self.depth >= self.limits.recursion:
            raise error("E504", "calls nest too deep", _span(node, self.file))
        inner = _Scope({**scope.variables, **{p: a.value for p, a in zip(handle.params, args)}})
        self.depth += 1
        try:
            return [self._eval(handle.body, inner)]
        finally:
            self.depth -= 1

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
        notes = [f"`{value.origin}` is never defined" if value.free_name else
                 f"`{value.origin}` is not something netspec evaluates (data loading, plotting, ...)"]
        hint = (f"give it a value on the command line: --set {variable}=VALUE" if variable
                else "assign the unknown value to a variable, then bind it with --set NAME=VALUE")
        subject = f"`{variable}`" if variable else f"`{value.origin}`"
        return error("E405", f"{what} depends on {subject}, which netspec cannot compute", value.span,
                     label="unknown value", notes=notes, hint=hint)

    # -- pretrained architectures -------------------------------------------------------------------
    def zoo_network(self, name: str, span: Span | None) -> Value:
        cached = _ZOO_CACHE.get(name)
        if cached is None:
            text = (ZOO_FOLDER / ZOO[name]).read_text(encoding="utf-8")
            inner = Interpreter(limits=self.limits, sources=self.sources)
            variables = inner.run_source(text, f"<netspec zoo>/{ZOO[name]}")
            network_value = next((variables[n] for n in NETWORK_VARIABLES if n in variables), None)
            if isinstance(network_value, LayerArray):
                network_value = graphs.graph_from_array(network_value, "SeriesNetwork")
            if not isinstance(network_value, Graph):
                raise error("E700", f"the built-in architecture '{name}' defines no network", span)
            kind = "SeriesNetwork" if network_value.kind == "SeriesNetwork" else "DAGNetwork"
            cached = network_value.copy(kind)
            _ZOO_CACHE[name] = cached
        self.count_layers(len(cached.layers), span)
        return cached.copy()


@dataclass
class _PendingRange:
    """`a:b` inside an operator chain: a following `:c` makes it `a:b:c` (step b)."""

    start: Value
    stop: Value
    step: Value | None = None
    extended: bool = False


Interpreter._STATEMENTS = {
    name[len("_stmt_"):]: method for name, method in vars(Interpreter).items() if name.startswith("_stmt_")
}
Interpreter._EXPRESSIONS = {
    name[len("_e_"):]: method for name, method in vars(Interpreter).items() if name.startswith("_e_")
}
