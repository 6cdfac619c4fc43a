"""The netspec language: grammar, parser and interpreter (MATLAB network definitions -> IR)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from .. import collector
from ..diagnostics import Diagnostic, NetspecError, Severity, SourceMap, error
from .interpreter import Interpreter, Limits, LoadResult, NetworkChoice
from .parser import parse
from .values import Value

__all__ = ["load_file", "load_source", "parse_bindings", "parse", "Interpreter", "Limits", "LoadResult",
           "NetworkChoice"]

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def parse_bindings(assignments: list[str] | None, sources: SourceMap | None = None) -> dict[str, Value]:
    """`--set NAME=VALUE` pairs, each VALUE read as a netspec expression (`4`, `[64 64]`, `'adam'`)."""
    bindings: dict[str, Value] = {}
    for text in assignments or []:
        name, sep, expression = text.partition("=")
        name = name.strip()
        if not sep or not _IDENTIFIER.match(name):
            raise error("E010", f"--set expects NAME=VALUE, got '{text}'",
                        hint="for example --set numClasses=4 or --set inputSize=[64 64]")
        if not expression.strip():
            raise error("E010", f"--set {name}= has no value", hint=f"for example --set {name}=4")
        interpreter = Interpreter(sources=sources)
        variables = interpreter.run_source(f"{name} = {expression}\n", f"--set {name}")
        bindings[name] = variables[name]
    return bindings


def load_source(text: str, file: str = "<string>", *, net: str | None = None,
                bindings: dict[str, Value] | None = None, limits: Limits = Limits(),
                sources: SourceMap | None = None) -> LoadResult:
    """Evaluate a `.net` text and build its network; errors raise `NetspecError`.

    The text is the caller's: only the files it imports count against `limits.source_bytes`."""
    return _load(lambda interpreter: interpreter.run_source(text, file), file, net, bindings, limits, sources)


def load_file(path: str | Path, *, net: str | None = None, bindings: dict[str, Value] | None = None,
              arguments: str | None = None, limits: Limits = Limits(),
              sources: SourceMap | None = None) -> LoadResult:
    """Read a `.net` or `.m` file (a regular file, within `limits.source_bytes` with the files it
    imports and calls) and load it.

    A function file's first function is called with `arguments`, MATLAB expressions separated by
    commas (`"256, [64 64], 'Name', 3"`), or with its parameters unset; `bindings` bind its
    parameters and variables as they bind a script's variables. Functions the file does not
    define are looked up as `NAME.m`/`NAME.net` in its folder, `limits.search_folders` and the
    folders its `addpath` calls add inside its folder tree.
    """
    return _load(lambda interpreter: interpreter.run_file(Path(path), arguments), str(path), net, bindings,
                 limits, sources)


def _load(run: Callable[[Interpreter], dict[str, Value]], file: str, net: str | None,
          bindings: dict[str, Value] | None, limits: Limits, sources: SourceMap | None) -> LoadResult:
    """One interpreter, so one budget, for the whole load; the cyclic collector only runs rarely
    meanwhile (see `collector`)."""
    interpreter = Interpreter(bindings=bindings, limits=limits, sources=sources)
    try:
        try:
            with collector.rarely():
                variables = run(interpreter)
                network, choice = interpreter.network(variables, net, file)
        except RecursionError:
            raise error("E505", f"{file} nests expressions, blocks or calls too deeply for netspec",
                        interpreter.running_span(), label="nested too deeply within this statement",
                        hint="split deeply nested expressions into several assignments") from None
        except MemoryError:
            raise error("E506", f"{file} needs more memory than netspec allows",
                        hint="check the loops and arrays that grow") from None
    except NetspecError as exc:
        exc.diagnostics = [*interpreter.findings(), *exc.diagnostics]
        exc.sources = interpreter.sources  # type: ignore[attr-defined]
        raise
    return LoadResult(network, variables, interpreter.findings(), interpreter.sources, choice)


def errors_only(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.error]
