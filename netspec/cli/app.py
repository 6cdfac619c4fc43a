"""The `netspec` command line: the typer app, its commands and `main`, which turns what
escapes a command into an exit code.

Exit codes: 0 ok, 1 the input has errors (or a program or package the command needs is not
installed), 2 the command line is wrong, 3 a netspec bug.
"""

from __future__ import annotations

import os
import sys

import typer

from .. import collector
from ..diagnostics import NetspecError
from ..text import printable
from . import compare_commands, run_commands, spec_commands, visualize_commands
from .output import Output

__all__ = ["app", "main"]

TYPER_SETTINGS = {"add_completion": False, "rich_markup_mode": None, "pretty_exceptions_enable": False}
app = typer.Typer(**TYPER_SETTINGS, no_args_is_help=True,
                  help="Write networks the MATLAB way; check, analyze, train and export them.")

app.command()(spec_commands.check)
app.command("parse")(spec_commands.parse_command)
app.command()(spec_commands.analyze)
app.command()(spec_commands.graph)
app.command("train")(run_commands.train_command)
app.command()(run_commands.evaluate)
app.command()(run_commands.predict)
app.command()(run_commands.export)
app.command()(spec_commands.layers)
app.command()(spec_commands.schema)
app.command()(spec_commands.explain)
app.command()(compare_commands.diff)
app.command()(compare_commands.profile)

visualize_app = typer.Typer(**TYPER_SETTINGS, no_args_is_help=True)
for command in (visualize_commands.filters, visualize_commands.activations, visualize_commands.gradcam,
                visualize_commands.dream):
    visualize_app.command()(command)
app.add_typer(visualize_app, name="visualize",
              help="Look inside a trained network: filters, activations, Grad-CAM, deep dream (PNG).")

OPTIONAL_PACKAGES = {"onnx": "onnx", "onnxruntime": "onnxruntime", "torch": "torch", "PIL": "pillow",
                     "matplotlib": "matplotlib", "numpy": "numpy"}
"""Module netspec imports inside a command -> the package that installs it (`pip install ...`)."""


def _join_input_size(argv: list[str]) -> list[str]:
    """Let `--input-size H W C` take up to four words (T H W C of an image sequence), as the option is
    documented."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        out.append(argv[i])
        if argv[i] == "--input-size":
            words = []
            # any script's digits join (not only is_whole_number's), so the option names the word it refuses
            while i + 1 < len(argv) and len(words) < 4 and (argv[i + 1].isdigit() or argv[i + 1].isidentifier()):
                i += 1
                words.append(argv[i])
            if words:
                out.append(" ".join(words))
        i += 1
    return out


def _invoked(argv: list[str]) -> tuple[typer.Typer, dict]:
    """The app to run: only the named command's, when argv names one.

    typer builds every command's parameters before it dispatches; for `netspec analyze`
    that was a tenth of the process. The command alone, run as `netspec NAME`, reads its
    arguments, help and errors exactly as it does as a sub-command.
    """
    name = argv[0] if argv else None
    for info in app.registered_commands:
        if name == (info.name or info.callback.__name__.lower().replace("_", "-")):
            single = typer.Typer(**TYPER_SETTINGS)
            single.registered_commands.append(info)
            return single, {"args": argv[1:], "prog_name": f"netspec {name}"}
    return app, {}


def _missing_package(exc: Exception) -> str | None:
    """The package to install when `exc` says an optional one is absent; None for anything else."""
    if not isinstance(exc, ModuleNotFoundError):
        return None
    return OPTIONAL_PACKAGES.get((exc.name or "").split(".")[0])


SHORT_COMMANDS = frozenset({"check", "parse", "analyze", "graph", "layers", "schema", "explain", "diff"})
"""Commands that end the process as soon as they are done (no torch, no worker processes)."""


def main() -> None:
    sys.argv[1:] = _join_input_size(sys.argv[1:])
    out = Output()
    try:
        runnable, how = _invoked(sys.argv[1:])
        runnable(**how)
    except NetspecError as exc:  # a stage raised outside a command's own handling
        out.diagnostics(exc.diagnostics, getattr(exc, "sources", None))
        sys.exit(1)
    except Exception as exc:
        package = _missing_package(exc)
        if package is not None:  # the installation lacks what this command needs: not a bug
            out.error(f"`netspec {sys.argv[1]}` needs the Python package '{package}', which is not installed\n"
                      f"install it with: pip install {package}")
            sys.exit(1)
        if os.environ.get("NETSPEC_DEBUG"):
            raise
        out.error(f"internal error: {type(exc).__name__}: {printable(str(exc))}\n"
                  "this is a bug in netspec; set NETSPEC_DEBUG=1 to see the traceback and please report it")
        sys.exit(3)
    finally:
        if sys.argv[1:2] and sys.argv[1] in SHORT_COMMANDS:
            collector.skip_final_collection()
