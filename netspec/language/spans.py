"""Source spans of parse-tree nodes, worked out from their tokens on demand.

lark's `propagate_positions` would stamp every node while parsing, which costs more
than the parse itself on large files; netspec needs a node's span only for a
diagnostic or a layer's location, so it is computed here from the node's first and
last tokens (plus the closing brackets the tree does not keep).
"""

from __future__ import annotations

from ..diagnostics import Span
from .tree import Token, Tree

__all__ = ["node_span", "register_text"]

_TEXTS: dict[str, str] = {}
"""The text of the files read most recently (the brackets a span reaches back or forward to)."""
KEPT_TEXTS = 64
"""Files whose text stays here: a process that loads thousands of specs (a notebook, a fuzzer)
must not keep them all; a load reads at most `Limits.source_bytes` of them anyway."""
_CLOSED_BY = {"call": ")", "paren": ")", "matrix": "]", "cell_array": "}", "brace_index": "}",
              "function_params": ")", "multi_output": "]", "anon_fn": None, "dynamic_field": ")"}


def register_text(file: str, text: str) -> None:
    _TEXTS.pop(file, None)
    _TEXTS[file] = text
    while len(_TEXTS) > KEPT_TEXTS:
        del _TEXTS[next(iter(_TEXTS))]


_OPENED_BY = {"matrix": "[", "cell_array": "{", "paren": "(", "function_handle": "@", "anon_fn": "@",
              "for_stmt": "for", "while_stmt": "while", "if_stmt": "if", "switch_stmt": "switch", "try_stmt": "try",
              "function_def": "function", "import_file": "import", "import_package": "import"}
"""What the tree drops before a node's first kept token: its opening bracket or keyword."""


def _first_token(node: Tree | Token) -> tuple[Token | None, list[str]]:
    """The first token under `node`, and the openers (outermost first) written before it."""
    openers: list[str] = []
    probe = node
    while isinstance(probe, Tree):  # the usual case: straight down the first children
        opener = _OPENED_BY.get(probe.data)
        if opener is not None:
            openers.append(opener)
        if not probe.children:
            return _first_token_searching(node)
        probe = probe.children[0]
    return probe, openers


def _first_token_searching(node: Tree | Token) -> tuple[Token | None, list[str]]:
    """`_first_token` past subtrees that hold no token (`[]`, `f()`)."""
    openers: list[str] = []
    while isinstance(node, Tree):
        if node.data in _OPENED_BY:
            openers.append(_OPENED_BY[node.data])
        for child in node.children:
            token, inner = _first_token_searching(child)
            if token is not None:
                return token, openers + inner
        return None, openers
    return node, openers


def _back_over(text: str, position: int, openers: list[str]) -> int:
    """Move `position` back over the openers (innermost first), skipping blanks between them."""
    for opener in reversed(openers):
        probe = position
        while probe > 0 and text[probe - 1] in " \t":
            probe -= 1
        if text[max(probe - len(opener), 0):probe] != opener:
            break
        position = probe - len(opener)
    return position


def _last_token(node: Tree | Token) -> tuple[Token | None, int]:
    """The last token under `node` and how many closing brackets follow it inside `node`."""
    closers = 0
    probe = node
    while isinstance(probe, Tree):  # the usual case: straight down the last children
        if _CLOSED_BY.get(probe.data):
            closers += 1
        if not probe.children:
            return _last_token_searching(node)
        probe = probe.children[-1]
    return probe, closers


def _last_token_searching(node: Tree | Token) -> tuple[Token | None, int]:
    """`_last_token` past subtrees that hold no token."""
    closers = 0
    while isinstance(node, Tree):
        if _CLOSED_BY.get(node.data):
            closers += 1
        for child in reversed(node.children):
            token, inner = _last_token_searching(child)
            if token is not None:
                return token, closers + inner
        return None, closers
    return node, closers


def node_span(node: Tree | Token, file: str) -> Span | None:
    first, openers = _first_token(node)
    if first is None or first.line is None:
        return None
    line, column = first.line, first.column
    last, closers = _last_token(node)
    assert last is not None
    end_line, end_column, end_pos = last.end_line, last.end_column, last.end_pos
    text = _TEXTS.get(file)
    if text is not None and openers and first.start_pos is not None:
        start = _back_over(text, first.start_pos, openers)
        if start != first.start_pos:
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1) + 1
    if text is not None and closers and end_pos is not None:
        position = end_pos
        while closers and position < len(text):
            char = text[position]
            if char in ")]}":
                closers -= 1
                end_column += position + 1 - end_pos
                end_pos = position + 1
            elif char == "\n":
                break
            position += 1
    return Span(file=file, line=line, column=column, end_line=end_line, end_column=end_column)
