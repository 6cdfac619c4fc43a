"""Reading and running spec files: the entry points, `import`, the built-in architectures
(the zoo's own `.net` files), and the network a file's variables define.

Function files (a file whose first statement is `function`) and the files that path lookup
finds are read here too (see the package docstring).
"""

from __future__ import annotations

from pathlib import Path

from ...diagnostics import Span, error, suggest
from ...ir import Network
from .. import graphs
from ..library import ZOO, ZOO_FOLDER
from ..parser import parse
from ..source_files import read_source
from ..spans import node_span, register_text
from ..tree import Tree
from ..values import Graph, LayerArray, Opaque, Value, type_name
from .state import NETWORK_VARIABLES, Scope, State

__all__ = ["Files"]

_ZOO_CACHE: dict[str, Graph] = {}


class Files(State):
    """Spec files in and the network out; `import`."""

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
        scope = Scope(dict(self.bindings), pinned=frozenset(self.bindings), sites={})
        previous, self.file = self.file, file
        try:
            self._hoist_functions(tree.children, file)
            self._run_body(tree.children, scope)
            return scope.variables
        finally:
            self.file = previous
            self.sites = scope.sites

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
