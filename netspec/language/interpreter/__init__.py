"""The netspec interpreter: walks the parse tree of a `.net` or `.m` file and evaluates it.

It is a tree-walking interpreter in the spirit of lark's `Interpreter` (top-down, so it
controls loops, branches and function calls itself) with one method per node kind:
`_stmt_<kind>` runs a statement, `_e_<kind>` evaluates an expression. It never calls
Python's eval/exec, reads no file but the spec files a spec imports or calls (within its
folder tree and the `--path` folders), and bounds every loop, recursion and array size.

`Interpreter` is one object per load, assembled from one part per thing it evaluates:

- `state.py`: limits and budgets (steps, work, layers), warnings, scopes, spans;
- `files.py`: reading, parsing and running files (scripts, function files), `import`,
  the zoo's architectures;
- `statements.py`: assignments, `if`/`switch`, loops, `try`/`catch`, `break`/`continue`/`return`;
- `expressions.py`: literals, operators, ranges, `[...]` and `{...}`;
- `indexing.py`: `x(i)`, `c{i}`, `s.f`, `end`, indexed and field assignment, deletion;
- `calls.py`: the function table, user and anonymous functions, the library and builtins;
- `paths.py`: the path (the file's folder, `--path`, `addpath`), `exist`, `genpath`, `run`;
- `arguments.py`: a call's workspace: parameters, `varargin`, `nargin`, `arguments` blocks;
- `network.py`: which variable holds the file's network, and the calls it is handed to.

A file whose first statement is `function` is a function file: `files.py` calls its first
function, with the caller's arguments or with its parameters unset (see `arguments.py`).
"""

from __future__ import annotations

from .arguments import Arguments
from .calls import Calls
from .expressions import Expressions
from .files import Files
from .indexing import Indexing
from .network import Networks
from .paths import Paths
from .state import NETWORK_VARIABLES, Limits, LoadResult, NetworkChoice, State
from .statements import Statements

__all__ = ["Interpreter", "Limits", "LoadResult", "NetworkChoice", "NETWORK_VARIABLES"]


class Interpreter(Files, Paths, Networks, Arguments, Statements, Expressions, Indexing, Calls, State):
    """Evaluates `.net` files. One instance per load; imports and zoo files share it."""


def _handlers(prefix: str) -> dict:
    """Node kind -> the method that handles it, from the methods named `<prefix><kind>`."""
    return {name[len(prefix):]: getattr(Interpreter, name) for name in dir(Interpreter) if name.startswith(prefix)}


Interpreter._STATEMENTS = _handlers("_stmt_")
Interpreter._EXPRESSIONS = _handlers("_e_")
Interpreter._SCOPED = _handlers("_scoped_")
