"""Reading and running spec files: the file a load starts from (a script, or a function file
whose first function is called), `import`, and the built-in architectures (the zoo's own
`.net` files). The files that path lookup finds are read here too (see `paths.py`).
"""

from __future__ import annotations

import re
from pathlib import Path

from ...diagnostics import Span, error
from .. import graphs
from ..library import ZOO, ZOO_FOLDER
from ..parser import parse
from ..source_files import read_source
from ..spans import node_span, register_text
from ..tree import Tree
from ..values import Graph, LayerArray, Struct, Value
from .state import NETWORK_VARIABLES, Scope, State, is_function_file

__all__ = ["Files"]

_ZOO_CACHE: dict[str, Graph] = {}

_CLASSDEF = re.compile(r"classdef\b")


def _defines_class(text: str) -> bool:
    """A file whose first line of code (after blank and comment lines) starts with `classdef`."""
    for line in text.split("\n"):
        code = line.strip()
        if code and not code.startswith("%"):
            return _CLASSDEF.match(code) is not None
    return False

_CLASS_LINE = re.compile(r"classdef\s+(\([^)]*\)\s*)?\w+$")
"""A class of its own: one with a superclass (a custom layer `< nnet.layer.Layer`) has more than constants."""
_PROPERTIES_LINE = re.compile(r"properties\s*\(([^)]*)\)$", re.IGNORECASE)
_CONSTANT = re.compile(r"\bconstant\b(?!\s*=\s*false)", re.IGNORECASE)


def constants_script(text: str) -> str | None:
    """A classdef text made only of `properties (Constant)` blocks (one at least, no superclass), as a
    script that assigns them (the other lines blank, so that lines keep their numbers); None for a class
    with anything else."""
    lines, script, state, blocks = text.split("\n"), [], "start", 0
    for line in lines:
        code = line.split("%", 1)[0].strip()  # for the structure only: a kept line is kept whole
        kept = ""
        if not code:
            pass
        elif state == "start" and _CLASS_LINE.match(code):
            state = "class"
        elif state == "class" and code == "end":
            state = "done"
        elif state == "class" and (match := _PROPERTIES_LINE.match(code)) and _CONSTANT.search(match.group(1)):
            state, blocks = "block", blocks + 1
        elif state == "block" and code == "end":
            state = "class"
        elif state == "block":
            kept = line
        else:
            return None
        script.append(kept)
    return "\n".join(script) if state == "done" and blocks else None


ARGUMENTS_FILE = "--args"
"""The name the arguments of an entry function are read under (their diagnostics point there)."""


class Files(State):
    """Spec files in; `import`; the zoo."""

    def run_file(self, path: Path, arguments: str | None = None) -> dict[str, Value]:
        """Run the file a load starts from, read within `Limits.source_bytes`: a script, or a
        function file's first function, called with `arguments` (MATLAB expressions separated
        by commas) or with its parameters unset. Returns the script's variables or the
        function's workspace."""
        tree, file = self._read(path, None)
        if tree is None:
            raise self._classdef_error(file)
        self.root_folder = Path(file).parent.resolve()
        if is_function_file(tree):
            return self._run_entry(tree, file, arguments)
        if arguments is not None:
            raise error("E011", f"arguments are given, but {file} is a script, not a function file",
                        hint="arguments go to a function file's first function; a script reads none")
        return self._run_tree(tree, file, bindable=True)

    def run_source(self, text: str, file: str = "<string>") -> dict[str, Value]:
        return self._run_tree(self._parse(text, file), file, bindable=True)

    def _read(self, path: Path, span: Span | None) -> tuple[Tree | None, str]:
        """A spec file's parse tree (None for a classdef file) and its name, read and parsed once
        per load; reading errors are located at `span`. A file that is not UTF-8 is warned of."""
        file = str(path)
        if file in self._trees:
            return self._trees[file], file
        source = read_source(path, self.source_bytes, self.limits.source_bytes, span)
        self.source_bytes += source.size
        tree = None if _defines_class(source.text) else self._parse(source.text, file)
        self._trees[file] = tree
        if tree is None:
            self.sources.add(file, source.text)
            self._class_sources[file] = source.text
        if source.encoding is not None:
            self.warn("W001", f"{file} is not UTF-8: netspec read it as {source.encoding}",
                      Span(file=file, line=1, column=1, end_line=1, end_column=1),
                      hint="save it as UTF-8 (MATLAB's default since R2020a) to be sure of its text")
        return tree, file

    def class_constants(self, file: str) -> Value | None:
        """A classdef file that holds only constant properties (`properties (Constant)`), as MATLAB
        reads `Name.prop`: a struct of their values. None for any other class (one with methods or
        other properties), which netspec does not read."""
        if file not in self._class_constants:
            self._class_constants[file] = None  # a constant that reads its own class is not read
            script = constants_script(self._class_sources[file])
            if script is not None:
                register_text(file, script + "\n")
                scope = Scope({}, pinned=frozenset(), sites={}, bindable=False)
                previous, self.file = self.file, file
                try:
                    self._run_body(parse(script, file).children, scope)
                finally:
                    self.file = previous
                self._class_constants[file] = Struct(scope.variables)
        return self._class_constants[file]

    def _classdef_error(self, file: str):
        return error("E004", f"{file} defines a class (classdef): netspec reads scripts and functions, not "
                     "classes", Span(file=file, line=1, column=1, end_line=1, end_column=1),
                     hint="point netspec at the script or function that builds the network")

    def _parse(self, text: str, file: str) -> Tree:
        self.sources.add(file, text)
        register_text(file, text if text.endswith("\n") else text + "\n")
        return parse(text, file)

    def _run_tree(self, tree: Tree, file: str, bindable: bool = False) -> dict[str, Value]:
        """A script's statements, its functions hoisted first; the command line's bindings are its
        variables when it is the file loaded (`bindable`)."""
        bindings = self.bindings if bindable else {}
        scope = Scope(dict(bindings), pinned=frozenset(bindings), sites={}, bindable=bindable)
        previous, self.file = self.file, file
        try:
            self._hoist_functions(tree.children, file)
            self._run_body(tree.children, scope)
            return scope.variables
        finally:
            self.file = previous
            self.sites = scope.sites

    def _run_entry(self, tree: Tree, file: str, arguments: str | None) -> dict[str, Value]:
        """A function file loaded: its first function called as MATLAB's command line would
        call it, its workspace kept (its variables are the file's, for `--net` and diagnostics)."""
        previous, self.file = self.file, file
        scope = None
        try:
            entry = self._hoist_functions(tree.children, file)[0]
            stray = next((s for s in tree.children if s.data != "function_def"), None)
            if stray is not None:
                raise error("E146", "this statement is outside every function of a function file",
                            node_span(stray, file), label="after the `end` of a function",
                            hint="a file that starts with `function` holds functions only; put script code "
                                 "first to make the file a script")
            args = self._entry_arguments(entry.name, arguments)
            self.entry = entry
            self._tick(tree.children[0])
            scope = self._call_scope(entry, args, len(entry.outputs), self._where(tree.children[0]), entry=True)
            self._nest(entry, scope, None)
            self._run_body(entry.body.children, scope)
            return scope.variables
        finally:
            self.file = previous
            if scope is not None:
                self.sites = scope.sites or {}

    def _entry_arguments(self, name: str, text: str | None) -> list:
        """The arguments text, read as the argument list of a call (`256, [64 64], 'Name', 3`)."""
        if text is None:
            return []
        call = f"{name}({text})"
        tree = self._parse(call, ARGUMENTS_FILE)
        statement = tree.children[0] if len(tree.children) == 1 else None
        expression = statement.children[0] if statement is not None and statement.data == "expr_stmt" else None
        if expression is None or expression.data != "call" or expression.children[0].data != "name":
            raise error("E011", f"the arguments '{text}' are not a list of values",
                        Span(file=ARGUMENTS_FILE, line=1, column=1, end_line=1, end_column=len(call) + 1),
                        hint="separate the arguments with commas: --args \"10, [224 224 3], 'Name', 'x'\"")
        previous, self.file = self.file, ARGUMENTS_FILE
        try:
            return self._args(expression.children[1] if len(expression.children) > 1 else None, Scope({}))
        finally:
            self.file = previous

    def _stmt_import_file(self, node: Tree, scope: Scope) -> None:
        token = node.children[0]
        target = str(token)[1:-1]
        span = node_span(token, self.file)
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
        try:
            tree, file = self._read(path, span)
            if tree is None:
                raise self._classdef_error(file)
            variables = self._run_tree(tree, file)
            sites = self.sites  # the imported file's
        finally:
            self.import_stack.pop()
        for name, value in variables.items():
            if name not in scope.pinned:
                scope.variables[name] = value
                if scope.sites is not None:
                    scope.sites.pop(name, None)
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

    def _stmt_import_package(self, node: Tree, scope: Scope) -> None:
        parts = [str(t) for t in node.children]
        hint = (f'to import a file, quote it: import "{".".join(parts)}"'
                if parts and parts[-1] in ("net", "m") else None)
        self.warn("W103", "MATLAB package imports are ignored", node_span(node, self.file), hint=hint)

    def zoo_network(self, name: str, span: Span | None) -> Value:
        """A built-in architecture (`resnet18`...): its `.net` file run once per process, by an
        interpreter of its own (the spec's variables and functions do not leak into it)."""
        cached = _ZOO_CACHE.get(name)
        if cached is None:
            text = (ZOO_FOLDER / ZOO[name]).read_text(encoding="utf-8")
            inner = type(self)(limits=self.limits, sources=self.sources)
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
