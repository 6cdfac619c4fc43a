"""The netspec language: grammar, parser and interpreter (MATLAB network definitions -> IR)."""

from __future__ import annotations

import re
from pathlib import Path

from .. import collector
from ..diagnostics import Diagnostic, NetspecError, Severity, SourceMap, error
from .interpreter import Interpreter, Limits, LoadResult
from .parser import parse
from .values import Value

__all__ = ["load_file", "load_source", "parse_bindings", "parse", "Interpreter", "Limits", "LoadResult"]

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
    """Evaluate a `.net` text and build its network; errors raise `NetspecError`."""
    interpreter = Interpreter(bindings=bindings, limits=limits, sources=sources)
    try:
        try:
            with collector.paused():
                variables = interpreter.run_source(text, file)
                network = interpreter.network(variables, net, file)
        except RecursionError:
            raise error("E505", f"{file} nests expressions or calls too deeply for netspec",
                        hint="split deeply nested expressions into several assignments") from None
        except MemoryError:
            raise error("E506", f"{file} needs more memory than netspec allows",
                        hint="check the loops and arrays that grow") from None
    except NetspecError as exc:
        exc.diagnostics = [*interpreter.diagnostics, *exc.diagnostics]
        exc.sources = interpreter.sources  # type: ignore[attr-defined]
        raise
    return LoadResult(network, variables, interpreter.diagnostics, interpreter.sources)


def load_file(path: str | Path, *, net: str | None = None, bindings: dict[str, Value] | None = None,
              limits: Limits = Limits(), sources: SourceMap | None = None) -> LoadResult:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("E001", f"no such file: {path}", hint="check the path") from None
    except IsADirectoryError:
        raise error("E001", f"{path} is a folder, not a .net file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error("E001", f"cannot read {path}: {exc}", hint="a .net file is UTF-8 text") from None
    return load_source(text, str(path), net=net, bindings=bindings, limits=limits, sources=sources)


def errors_only(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.error]
