"""What one load keeps while it runs: its limits and budgets, warnings, scopes and spans.

Every part of the interpreter (see the package docstring) works on this state; nothing
here evaluates a node.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ...diagnostics import Diagnostic, NetspecError, Severity, SourceMap, Span, error
from ...ir import Network
from ..operators import OperatorLimit
from ..spans import node_span
from ..tree import Token, Tree
from ..values import MAX_ELEMENTS, OptionsValue, Value, element_count

__all__ = ["State", "Limits", "LoadResult", "NetworkChoice", "Handoff", "Function", "Declaration", "Scope",
           "SharedWorkspace", "EndContext", "Break", "Continue", "Return", "NETWORK_VARIABLES", "MAX_WARNINGS_PER_CODE",
           "WORK_HINT", "SIZE_HINT", "token_text", "is_function_file"]

NETWORK_VARIABLES = ("lgraph", "net", "layers")
"""Where a file's network is found when `--net` does not say (MATLAB scripts' habits)."""

MAX_WARNINGS_PER_CODE = 100
"""Warnings of one code a load keeps (a warning in a loop could otherwise be repeated a million times)."""

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
    """Folders (and their trees) `import` may read besides the top-level file's own tree; a
    function no file defines is looked up in them (`NAME.m`, `NAME.net`) after the file's folder."""
    source_bytes: int = 2 * 1024 * 1024
    """Bytes of spec files read: the file and the files it imports (each once), together.
    The command line's `--max-file-size` sets it."""


@dataclass
class Declaration:
    """One line of an `arguments` block: `name (size) class {validators} = default`, or a
    name-value argument `opts.Name ...` (then `field` is `Name`)."""

    name: str
    field: str | None
    size: list[int | None] | None
    """The declared size, None for `:`; None when the line gives none."""
    kind: str | None
    """The declared class (`double`, `char`...), None when the line gives none."""
    validators: list[Tree]
    default: Tree | None
    node: Tree


@dataclass
class Function:
    name: str
    params: list[str]
    outputs: list[str]
    body: Tree
    file: str
    declarations: list[Declaration] = field(default_factory=list)
    """Its `arguments` blocks' input declarations, in order."""
    nested: list[Function] = field(default_factory=list)
    """The functions defined in its body (nested functions), callable from it and from each other."""
    shared: frozenset[str] = frozenset()
    """A nested function's names that the functions around it use too: MATLAB keeps those in their
    workspace (its parameters and outputs stay its own). Empty for a function that is not nested."""

    @property
    def options(self) -> str | None:
        """The parameter that collects name-value arguments (`opts` of `opts.Name`), if any."""
        return next((d.name for d in self.declarations if d.field is not None), None)


@dataclass(frozen=True)
class NetworkChoice:
    """Which variable holds the file's network, and why netspec chose it."""

    variable: str
    reason: str
    """Why, as `check` prints it after the name: "given to trainNetwork at line 52"."""

    def describe(self) -> str:
        return f"{self.variable} ({self.reason})"


@dataclass(frozen=True)
class Handoff:
    """A network given to trainNetwork, analyzeNetwork, plot...: the last one is the file's network."""

    function: str
    variable: str | None
    """The variable passed, None for an expression (`trainNetwork(X, [a; b], opts)`)."""
    value: Value
    node: Tree
    file: str


@dataclass
class LoadResult:
    network: Network | None
    variables: dict[str, Value]
    diagnostics: list[Diagnostic]
    sources: SourceMap
    choice: NetworkChoice | None = None
    """The variable the network was taken from and why (None when the caller gave no file to choose in)."""


class Break(Exception):
    pass


class Continue(Exception):
    pass


class Return(Exception):
    pass


class SharedWorkspace(MutableMapping):
    """A nested function's workspace: its `shared` names are read and written in the workspace of the
    call of the function around it (`outer`), every other name in its own."""

    __slots__ = ("own", "outer", "shared")

    def __init__(self, own: dict[str, Value], outer: MutableMapping[str, Value], shared: frozenset[str]) -> None:
        self.own, self.outer, self.shared = own, outer, shared

    def _home(self, name: str) -> MutableMapping[str, Value]:
        return self.outer if name in self.shared else self.own

    def __getitem__(self, name: str) -> Value:
        return self._home(name)[name]

    def __setitem__(self, name: str, value: Value) -> None:
        self._home(name)[name] = value

    def __delitem__(self, name: str) -> None:
        del self._home(name)[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._home(name)

    def get(self, name: str, default: Value | None = None) -> Value | None:  # type: ignore[override]
        return self._home(name).get(name, default)

    def __iter__(self) -> Iterator[str]:
        yield from self.own
        yield from (name for name in self.outer if name in self.shared and name not in self.own)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class Scope:
    variables: dict[str, Value] | SharedWorkspace
    pinned: frozenset[str] = frozenset()
    """Variables bound by the command line (`--set`): the file's assignments to them do nothing."""
    function: str | None = None
    sites: dict[str, tuple[Tree, str]] | None = None
    """The top level of the file loaded (a script's, or its entry function's) and of the files it
    imports: the statement that last assigned each variable, and its file, in the order of the last
    assignments.

    A node, not a span: the span is worked out only if a diagnostic points there."""
    bindable: bool = False
    """The command line's bindings apply here (the loaded script's top level, or its entry function):
    an unknown value assigned here is named after its variable, which `--set` can bind."""
    unset: frozenset[str] = frozenset()
    """Parameters no argument gave and no default set."""
    entry: bool = False
    """The entry function of a function file: an unset parameter is an unknown value to bind."""
    nested: dict[str, tuple[Function, Scope]] = field(default_factory=dict)
    """The nested functions callable here, each with the workspace of the call it is nested in."""


@dataclass
class EndContext:
    """What `end` means inside x(...): the array indexed, the index's position and the count of indices."""

    value: Value
    position: int
    count: int


def token_text(node: Tree | Token) -> str:
    return str(node.children[0]) if isinstance(node, Tree) else str(node)


def is_function_file(tree: Tree) -> bool:
    """MATLAB's rule: a file whose first statement is `function` is a function file."""
    return bool(tree.children) and tree.children[0].data == "function_def"


class State:
    """The state of one load, and the budgets every evaluation charges.

    Each part of the interpreter is a class on this state, and `Interpreter` combines them:
    a part calls another's methods through `self` (a statement evaluates with `self._eval`)."""

    _STATEMENTS: dict[str, Callable]
    """Statement kind -> the `_stmt_<kind>` method that runs it (filled in by `Interpreter`)."""
    _EXPRESSIONS: dict[str, Callable]
    """Expression kind -> the `_e_<kind>` method that evaluates it (filled in by `Interpreter`)."""

    def __init__(self, bindings: dict[str, Value] | None = None, limits: Limits = Limits(),
                 sources: SourceMap | None = None) -> None:
        self.bindings = dict(bindings or {})
        self.limits = limits
        self.sources = sources or SourceMap()
        self.diagnostics: list[Diagnostic] = []
        self.functions: dict[str, Function] = {}
        """The functions of the loaded file and the files it imports."""
        self._file_functions: dict[str, dict[str, Function]] = {}
        """The functions of each file found on the path: a file's functions see only each other."""
        self._main_functions: dict[str, Function | None] = {}
        """The first function of each file found on the path; None for a script."""
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
        self._trees: dict[str, Tree | None] = {}
        """The parse tree of each file read (None for a classdef file): a file imported or called
        again is neither read nor parsed again."""
        self._class_sources: dict[str, str] = {}
        """The text of each classdef file read."""
        self._class_constants: dict[str, Value | None] = {}
        """What each classdef file read stands for: its constant properties (a struct), or None (not read)."""
        self.root_folder: Path | None = None
        """The folder of the file loaded (none for text): the path's first folder and the tree
        `addpath` may add folders from (see `paths.py`)."""
        self.added_folders: list[Path] = []
        """The folders `addpath` added, in order."""
        self._listings: dict[Path, dict[str, Path]] = {}
        self._path_names: dict[str, dict[str, Path]] = {}
        """For each file that called a function: the functions on its path (see `Paths._on_path`)."""
        self._import_paths: dict[tuple[str, str], Path] = {}
        """The file each `import "target"` of each file reads (see `_import_path`)."""
        self._ends: list[EndContext] = []
        self._warned_unknown: set[str] = set()
        self._warning_counts: dict[str, int] = {}
        self._repeats: dict[tuple[str, str, Span | None, str | None], int] = {}
        """How many times each distinct warning came (a statement in a loop raises it again)."""
        self._spans: dict[tuple[int, str], tuple[Tree | Token, Span | None]] = {}
        self.sites: dict[str, tuple[Tree, str]] = {}
        """Where each variable of the last file run was last assigned (see `assignment_span`)."""
        self._indexed: set[int] = set()
        """Calls of unknown names with `end` in their parentheses (`net(1:end-3)`): indexing, not calls."""
        self.loaded: Span | None = None
        """The last `load` without outputs (`load net`): it defines variables netspec cannot name."""
        self.skipped = 0
        """Branches and loops skipped because their condition or range was unknown, so far."""
        self.handoff: Handoff | None = None
        """The last network given to trainNetwork, analyzeNetwork, plot... (see `Handoff`)."""
        self.entry: Function | None = None
        """The entry function of a function file loaded (its first function)."""

    def running_span(self) -> Span | None:
        return node_span(self.running, self.running_file) if self.running is not None else None

    def assignment_span(self, name: str) -> Span | None:
        """The statement that last assigned `name` at the top level of the last file run."""
        site = self.sites.get(name)
        return node_span(site[0], site[1]) if site is not None else None

    def warn(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        """Keep a warning; the same warning again (a loop) and, past MAX_WARNINGS_PER_CODE of one
        code, other ones are only counted (see `findings`)."""
        key = (code, message, span, hint)
        if key in self._repeats:
            self._repeats[key] += 1
            return
        self._repeats[key] = 1
        if self._keeps_warning(code):
            self.diagnostics.append(Diagnostic(severity=Severity.warning, code=code, message=message, span=span,
                                               hint=hint))
        self._warning_counts[code] = self._warning_counts.get(code, 0) + 1

    def _keeps_warning(self, code: str) -> bool:
        return self._warning_counts.get(code, 0) < MAX_WARNINGS_PER_CODE

    def findings(self) -> list[Diagnostic]:
        """The warnings kept (each once, with how many times it came), then a note for each code that
        had more than MAX_WARNINGS_PER_CODE distinct ones."""
        kept = [self._with_repeats(d) if d.severity is Severity.warning else d for d in self.diagnostics]
        notes = [Diagnostic(severity=Severity.note, code=code,
                            message=f"… and {count - MAX_WARNINGS_PER_CODE:,} more {code} warnings "
                                    f"(netspec shows the first {MAX_WARNINGS_PER_CODE} of each code)")
                 for code, count in self._warning_counts.items() if count > MAX_WARNINGS_PER_CODE]
        return [*kept, *notes]

    def _with_repeats(self, warning: Diagnostic) -> Diagnostic:
        times = self._repeats.get((warning.code, warning.message, warning.span, warning.hint), 1)
        if times == 1:
            return warning
        return warning.model_copy(update={"notes": [*warning.notes, f"this came {times:,} times (the statement "
                                                                     "ran again); shown once"]})

    def count_layers(self, count: int, span: Span | None) -> None:
        self.layer_count += count
        if self.layer_count > self.limits.layers:
            raise error("E503", f"more than {self.limits.layers:,} layers were created", span,
                        hint="netspec bounds the size of a network; check the loop that builds it")

    def _tick(self, node: Tree) -> None:
        self.steps += 1
        self.running, self.running_file = node, self.file
        if self.steps > self.limits.steps:
            raise error("E501", f"the spec ran more than {self.limits.steps:,} steps", node_span(node, self.file),
                        label="still running here",
                        hint="netspec bounds loops so a spec always ends; check this loop's bounds")

    def _charge(self, value: Value, node: Tree) -> Value:
        """Count the elements an operation produced against the work budget."""
        self._spend(element_count(value), node)
        return value

    def _spend(self, elements: int, node: Tree) -> None:
        """Count `elements` written against the work budget."""
        self.work += elements
        if self.work > self.limits.work:
            raise error("E501", f"the spec computed more than {self.limits.work:,} array elements",
                        node_span(node, self.file), label="still computing here", hint=WORK_HINT)

    def _limit_error(self, exc: OperatorLimit, prefix: str, node: Tree) -> NetspecError:
        return error(exc.code, f"{prefix}{exc}", node_span(node, self.file),
                     hint=WORK_HINT if exc.code == "E501" else SIZE_HINT)

    def _where(self, node: Tree | Token) -> Callable[[], Span | None]:
        file = self.file
        return lambda: self._span_of(node, file)

    def _span_of(self, node: Tree | Token, file: str) -> Span | None:
        """A node's span, remembered: a loop body's nodes are asked for again on every pass."""
        key = (id(node), file)
        cached = self._spans.get(key)
        if cached is None or cached[0] is not node:
            cached = self._spans[key] = (node, node_span(node, file))
        return cached[1]
