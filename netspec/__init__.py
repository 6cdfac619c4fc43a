"""netspec: MATLAB-style network definitions, analyzed, drawn, trained and exported.

The library mirrors the command line: `load("x.net") -> Network`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .diagnostics import Diagnostic, NetspecError, Span

__all__ = ["load", "NetspecError", "Diagnostic", "Span", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """The package imports its parts on first use, so `netspec check` starts fast."""
    if name in ("Diagnostic", "NetspecError", "Span"):
        from . import diagnostics

        return getattr(diagnostics, name)
    raise AttributeError(f"module 'netspec' has no attribute {name!r}")


def load(path: str | Path, *, net: str | None = None, set: dict[str, str] | None = None):
    """Read a `.net` (or `.m`) file and return its `netspec.ir.Network`.

    `net` picks the variable holding the network; `set` binds variables as the CLI's
    `--set NAME=VALUE` does. Raises `NetspecError` with located diagnostics.
    """
    from .language import load_file, parse_bindings

    bindings = parse_bindings([f"{k}={v}" for k, v in (set or {}).items()])
    return load_file(path, net=net, bindings=bindings).network
