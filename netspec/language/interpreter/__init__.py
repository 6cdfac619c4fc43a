"""The netspec interpreter: walks the parse tree of a `.net` file and evaluates it.

It is a tree-walking interpreter in the spirit of lark's `Interpreter` (top-down, so it
controls loops, branches and function calls itself) with one method per node kind:
`_stmt_<kind>` runs a statement, `_e_<kind>` evaluates an expression. It never calls
Python's eval/exec, reads no file but the `.net` files a spec imports, and bounds every
loop, recursion and array size.

`Interpreter` is one object per load, assembled from one part per thing it evaluates:

- `state.py`: limits and budgets (steps, work, layers), warnings, scopes, spans;
- `files.py`: reading, parsing and running files, `import`, the zoo's architectures,
  the network a file defines;
- `statements.py`: assignments, `if`/`switch`, loops, `break`/`continue`/`return`;
- `expressions.py`: literals, operators, ranges, `[...]` and `{...}`;
- `indexing.py`: `x(i)`, `c{i}`, `s.f`, `end`, indexed and field assignment, deletion;
- `calls.py`: the function table, user and anonymous functions, the library and builtins.

Where the next features go:

- function files (a file whose first statement is `function`): `files.py` reads and parses
  them, `calls.py` registers their functions (`_hoist_functions`);
- path lookup of helper functions in the spec's folder: `calls.py`'s `_call_function`, for a
  name no table knows, before it becomes unknown; the file is read through `files.py`;
- `arguments` blocks: parsed with the definition (`_function_def`) and checked where
  `calls.py`'s `_call_user` binds the arguments;
- `try`/`catch`: a `_stmt_try_stmt` in `statements.py`, catching user errors only (the
  budgets' E5xx errors must still end the load).
"""

from __future__ import annotations

from .calls import Calls
from .expressions import Expressions
from .files import Files
from .indexing import Indexing
from .state import NETWORK_VARIABLES, Limits, LoadResult, State
from .statements import Statements

__all__ = ["Interpreter", "Limits", "LoadResult", "NETWORK_VARIABLES"]


class Interpreter(Files, Statements, Expressions, Indexing, Calls, State):
    """Evaluates `.net` files. One instance per load; imports and zoo files share it."""


def _handlers(prefix: str) -> dict:
    """Node kind -> the method that handles it, from the methods named `<prefix><kind>`."""
    return {name[len(prefix):]: getattr(Interpreter, name) for name in dir(Interpreter) if name.startswith(prefix)}


Interpreter._STATEMENTS = _handlers("_stmt_")
Interpreter._EXPRESSIONS = _handlers("_e_")
