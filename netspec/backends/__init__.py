"""Backends: each maps the IR to one target (`graphviz`, ...), loaded on first use.

`netspec.backends.graphviz` imports only when touched, as sqlglot loads its dialects,
so the command line starts without the heavy dependencies of the other backends.
"""

from __future__ import annotations

import importlib
from types import ModuleType

MIN_OPSET = 17
"""The oldest ONNX opset netspec exports (the CLI checks it without importing onnx)."""


def __getattr__(name: str) -> ModuleType:
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
