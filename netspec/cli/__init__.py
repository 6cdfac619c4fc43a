"""The `netspec` command line (typer).

`app` wires the commands and `main` maps what escapes them to exit codes (`app.py`); every
command prints through one `Output` (`output.py`): results on stdout, diagnostics and "wrote …"
lines on stderr, `--format json` (or `--json`) with a published schema (`reports.py`). Options
several commands share are defined once (`options.py`); the commands live by group:
`spec_commands.py` (check, parse, analyze, graph, layers, schema), `run_commands.py` (train,
evaluate, predict, export), `visualize_commands.py` (visualize ...).

Only the language, IR and analysis are imported at start-up; torch and onnx load inside the
commands that need them.
"""

import os

# pydantic scans every installed distribution for plugins at the first model; the CLI uses none
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from .app import _invoked, app, main  # noqa: E402

__all__ = ["app", "main"]
